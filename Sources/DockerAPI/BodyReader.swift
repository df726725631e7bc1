import ContainerSpec
import HTTPServer

/// A request body as the `read` closures of the archive readers take it (fill the buffer, return
/// the count, 0 at the end): the body streams through, never held whole. The first read returns
/// at least 4 bytes when the body has them, so a compression's magic number is seen at once.
final class BodyReader: @unchecked Sendable {
    private let body: RequestBody
    private var chunk: [UInt8] = []
    private var offset = 0
    private var first = true
    /// Bytes read so far.
    private(set) var count: Int64 = 0

    init(_ body: RequestBody) { self.body = body }

    /// The next `count` bytes (fewer at the end of the body) without consuming them.
    func peek(_ count: Int) throws -> [UInt8] {
        while chunk.count - offset < count {
            let next: [UInt8]?
            do { next = try body.next() } catch {
                throw EngineError.invalid("the client went away before sending the whole request body")
            }
            guard let next else { break }
            chunk = Array(chunk[offset...]) + next
            offset = 0
        }
        return Array(chunk[offset..<min(chunk.count, offset + count)])
    }

    func read(_ buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        var filled = 0
        while filled < buffer.count {
            if offset == chunk.count {
                // Return what we have rather than wait for more, except to complete the first 4 bytes.
                if filled > 0 && !(first && filled < 4) { break }
                let next: [UInt8]?
                do { next = try body.next() } catch {
                    throw EngineError.invalid("the client went away before sending the whole request body")
                }
                guard let next else { break }
                chunk = next
                offset = 0
                continue
            }
            let n = min(buffer.count - filled, chunk.count - offset)
            chunk.withUnsafeBytes { source in
                (buffer.baseAddress! + filled).copyMemory(from: source.baseAddress! + offset, byteCount: n)
            }
            offset += n
            filled += n
        }
        first = false
        count += Int64(filled)
        return filled
    }
}
