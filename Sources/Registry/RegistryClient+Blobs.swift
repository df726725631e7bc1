import AsyncHTTPClient
import NIOCore
import NIOHTTP1
import OCI

extension RegistryClient {
    /// GET a blob from byte `offset` on, calling `onChunk` with each piece in order as it arrives; never
    /// holds the blob in memory. Redirects (to a registry's storage) are followed without credentials
    /// for other hosts. A connection cut in the middle is resumed with a Range request from the bytes
    /// already delivered, so `onChunk` never sees a byte twice; a server that answers a Range with 200
    /// is read from the start and the bytes before the offset are skipped.
    ///
    /// The bytes delivered add up to exactly `descriptor.size - offset`, or this throws. Their digest is
    /// the caller's to check (the image store verifies what it writes).
    public func fetchBlob(_ ref: ImageReference, _ descriptor: Descriptor, from offset: Int64 = 0,
                          onChunk: (ByteBuffer) async throws -> Void) async throws {
        let operation = "pull blob \(descriptor.digest) from \(ref.name)"
        let size = descriptor.size
        guard offset >= 0, offset <= size else {
            throw RegistryError(.local, operation: operation, detail: "offset \(offset) is outside the blob's \(size) bytes")
        }
        var position = offset
        var failuresWithoutProgress = 0
        while position < size {
            let start = position
            let (response, call) = try await blobResponse(ref, descriptor.digest, from: start, operation: operation)
            var skip: Int64
            switch response.status {
            case .ok:
                skip = start
            case .partialContent:
                guard let range = Self.contentRange(response.headers.first(name: "Content-Range")), range.start == start else {
                    _ = await errorBody(response)
                    throw RegistryError(.invalidResponse, operation: operation, request: call.summary, status: 206,
                                        detail: "asked for bytes from \(start), got Content-Range \(response.headers.first(name: "Content-Range") ?? "none")")
                }
                skip = 0
            default:
                throw await failure(response, call)
            }

            var cut: (any Error)?
            var iterator = response.body.makeAsyncIterator()
            while true {
                let next: ByteBuffer?
                do { next = try await iterator.next() } catch {
                    if Task.isCancelled { throw CancellationError() }
                    cut = error
                    break
                }
                guard var chunk = next else { break }
                if skip > 0 {
                    let dropped = Int(min(skip, Int64(chunk.readableBytes)))
                    chunk.moveReaderIndex(forwardBy: dropped)
                    skip -= Int64(dropped)
                }
                guard chunk.readableBytes > 0 else { continue }
                guard Int64(chunk.readableBytes) <= size - position else {
                    throw RegistryError(.invalidResponse, operation: operation, request: call.summary, status: Int(response.status.code),
                                        detail: "the registry sent more than the \(size) bytes the descriptor gives")
                }
                position += Int64(chunk.readableBytes)
                try await onChunk(chunk)
            }
            if position == size { return }
            // Cut short, by an error or a body that ended early: resume from `position`.
            failuresWithoutProgress = position > start ? 1 : failuresWithoutProgress + 1
            guard failuresWithoutProgress < maxAttempts else {
                throw RegistryError(.transport, operation: operation, request: call.summary, status: Int(response.status.code),
                                    detail: "the download stopped at byte \(position) of \(size)"
                                        + (cut.map { ": \(Self.describe($0))" } ?? " (the body ended early)"))
            }
            try await Task.sleep(for: retryDelay * (1 << (failuresWithoutProgress - 1)))
        }
    }

    /// The response to GET blob from `start`, after following redirects the HTTP client left to us.
    private func blobResponse(_ ref: ImageReference, _ digest: Digest, from start: Int64,
                              operation: String) async throws -> (HTTPClientResponse, Call) {
        var call = Call(operation: operation, method: .GET, url: blobURL(ref, digest), idempotent: true,
                        registry: ref.registry, scope: [Self.pullScope(ref.repository)])
        if start > 0 { call.headers.add(name: "Range", value: "bytes=\(start)-") }
        let registryOrigin = Self.origin(call.url)
        for _ in 0..<10 {
            let response = try await send(call)
            guard [301, 302, 303, 307, 308].contains(response.status.code),
                  let location = response.headers.first(name: "Location") else { return (response, call) }
            _ = await errorBody(response)
            call.url = Self.resolve(location, against: call.url)
            if Self.origin(call.url) != registryOrigin { call.registry = nil }
        }
        throw RegistryError(.invalidResponse, operation: operation, request: call.summary, detail: "more than 10 redirects")
    }

    /// `bytes START-END/TOTAL` (TOTAL may be `*`).
    static func contentRange(_ value: String?) -> (start: Int64, end: Int64)? {
        guard let value else { return nil }
        let text = value.trimming(" \t")
        guard text.hasPrefix("bytes ") else { return nil }
        let range = text.dropFirst("bytes ".count).split(separator: "/").first ?? ""
        let bounds = range.split(separator: "-")
        guard bounds.count == 2, let start = Int64(bounds[0]), let end = Int64(bounds[1]), start <= end else { return nil }
        return (start, end)
    }

    /// HEAD the blob: whether the repository has it.
    public func blobExists(_ ref: ImageReference, _ digest: Digest) async throws -> Bool {
        try await blobExists(ref, digest, scope: [Self.pullScope(ref.repository)], operation: "check blob \(digest) in \(ref.name)")
    }

    func blobExists(_ ref: ImageReference, _ digest: Digest, scope: [String], operation: String) async throws -> Bool {
        var call = Call(operation: operation, method: .HEAD, url: blobURL(ref, digest), idempotent: true,
                        registry: ref.registry, scope: scope)
        var response = try await send(call)
        // A registry may redirect even a HEAD to its storage.
        var hops = 0
        while [301, 302, 303, 307, 308].contains(response.status.code), hops < 10, let location = response.headers.first(name: "Location") {
            let origin = Self.origin(call.url)
            call.url = Self.resolve(location, against: call.url)
            if Self.origin(call.url) != origin { call.registry = nil }
            response = try await send(call)
            hops += 1
        }
        switch response.status {
        case .ok: return true
        case .notFound: return false
        default: throw await failure(response, call)
        }
    }
}
