import Archive
import ContainerSpec
import Glibc
import HTTPServer
import LinuxSys

/// A build's context as it arrives in the body: a tar, plain, gzip or zstd (unpacked in-process
/// as it streams), or bzip2 or xz (through the system's `bzip2`/`xz`, as dockerd runs `xz`),
/// into a directory under the engine's root. Never held whole in memory.
enum BuildContextReceiver {
    static func receive(_ body: RequestBody, into directory: String) throws {
        let fd: Int32
        do { fd = try FS.open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC) } catch {
            throw EngineError.system("open the build context directory", error)
        }
        defer { FS.close(fd) }
        let reader = BodyReader(body)
        let extractor = TarExtractor(directoryFD: fd, path: directory, owner: nil)
        do {
            let magic = try reader.peek(6)
            if let tool = externalDecompressor(magic) {
                try extractThrough(tool, reader, extractor)
            } else {
                try extractor.extract(read: reader.read)
            }
        } catch let error as EngineError {
            body.drain()
            throw error
        } catch {
            body.drain()
            throw EngineError.invalid("the build context is not a readable tar archive (plain, gzip, zstd, bzip2 or xz): \(error)")
        }
    }

    /// The decompressor for bzip2 (`BZh`) and xz (`FD 37 7A 58 5A 00`) streams.
    static func externalDecompressor(_ magic: [UInt8]) -> String? {
        if magic.starts(with: [0x42, 0x5a, 0x68]) { return "/usr/bin/bzip2" }
        if magic.starts(with: [0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]) { return "/usr/bin/xz" }
        return nil
    }

    /// `tool -d -c -q` between the body (fed by a thread of its own) and the extractor.
    static func extractThrough(_ tool: String, _ reader: BodyReader, _ extractor: TarExtractor) throws {
        guard FS.exists(tool) else {
            throw EngineError.invalid("the build context is compressed with \(tool.split(separator: "/").last ?? ""), which is not installed here")
        }
        let input: [Int32], output: [Int32]
        do {
            let first = try FS.pipe()
            let second = try FS.pipe()
            input = [first.read.take(), first.write.take()]
            output = [second.read.take(), second.write.take()]
        } catch {
            throw EngineError.system("pipe for the context's decompressor", error)
        }
        let pid: pid_t
        do {
            pid = try ProcessSys.spawn([tool, "-d", "-c", "-q"], keep: [(input[0], 0), (output[1], 1)], newSession: false)
        } catch {
            for fd in input + output { close(fd) }
            throw EngineError.system("start \(tool)", error)
        }
        close(input[0])
        close(output[1])
        let fed = Completion()
        let writeEnd = input[1]
        let feeder = UncheckedBox(reader)
        Threads.detach {
            var buffer = [UInt8](repeating: 0, count: 1 << 16)
            while let count = try? buffer.withUnsafeMutableBytes({ try feeder.value.read($0) }), count > 0 {
                guard (try? buffer.withUnsafeBytes({ try FS.writeAll(writeEnd, UnsafeRawBufferPointer(rebasing: $0[0..<count])) })) != nil else { break }
            }
            close(writeEnd)
            fed.signal()
        }
        let readEnd = output[0]
        var failure: (any Error)?
        do {
            try extractor.extract { buffer in try FS.readSome(readEnd, into: buffer) }
        } catch {
            failure = error
        }
        // Closing our end stops the decompressor (EPIPE), which stops the feeder.
        close(readEnd)
        if failure != nil { kill(pid, SIGKILL) }
        let exit = try? ProcessSys.wait(pid)
        fed.wait()
        if let failure { throw failure }
        guard exit == .exited(0) else {
            throw EngineError.invalid("the build context is not a readable \(tool.split(separator: "/").last ?? "") stream")
        }
    }

    /// Context directories of servers that are gone (killed in the middle of a build).
    static func removeStale(_ contexts: String) {
        for name in (try? FS.list(path: contexts)) ?? [] {
            guard let pid = name.split(separator: "-").first.flatMap({ pid_t($0) }) else { continue }
            if pid != ProcessSys.currentPID && kill(pid, 0) != 0 && errno == ESRCH { FS.removeAll(contexts + "/" + name) }
        }
    }
}

/// A one-time event one thread waits for and another signals.
final class Completion: @unchecked Sendable {
    private let lock = ConditionLock()
    private var done = false

    func signal() {
        lock.withLock {
            done = true
            lock.broadcast()
        }
    }

    func wait() {
        lock.withLock { while !done { lock.wait() } }
    }
}
