import AsyncHTTPClient
import NIOCore
import NIOHTTP1
import OCI

/// How `pushBlob` got the blob into the repository.
public enum BlobPushResult: Sendable, Equatable {
    /// The repository already had it.
    case existed
    /// Mounted from another repository of the same registry, without sending its bytes.
    case mounted
    /// Its bytes were uploaded.
    case uploaded
}

extension RegistryClient {
    /// Puts the blob in `file` (which must be `descriptor.size` bytes) into `ref`'s repository:
    /// nothing when the repository has it; a cross-repository mount from `mountFrom` (a repository of the
    /// same registry) when given and the registry agrees (201; a 202 falls back to uploading); else an
    /// upload — one monolithic PUT up to `chunkSize` bytes, or PATCHes of `chunkSize` bytes with
    /// Content-Range, each to the Location the previous answer gave, then PUT ?digest=. The registry
    /// checks the digest; the file is streamed, never read whole.
    public func pushBlob(_ ref: ImageReference, _ descriptor: Descriptor, file: String, mountFrom: String? = nil,
                         chunkSize: Int = 8 << 20) async throws -> BlobPushResult {
        let digest = descriptor.digest
        let operation = "push blob \(digest) to \(ref.name)"
        guard chunkSize > 0 else { throw RegistryError(.local, operation: operation, detail: "chunk size \(chunkSize) is not positive") }
        let source: ReadOnlyFile
        do { source = try ReadOnlyFile(path: file) } catch {
            throw RegistryError(.local, operation: operation, detail: error.description)
        }
        guard source.size == descriptor.size else {
            throw RegistryError(.local, operation: operation, detail: "\(file) is \(source.size) bytes but the descriptor says \(descriptor.size)")
        }
        let mount = mountFrom.flatMap { $0 == ref.repository || $0.isEmpty ? nil : $0 }
        var scope = [Self.pushScope(ref.repository)]
        if let mount { scope.append(Self.pullScope(mount)) }

        if try await blobExists(ref, digest, scope: scope, operation: operation) { return .existed }

        let uploads = "\(baseURL(ref.registry))/v2/\(ref.repository)/blobs/uploads/"
        var start = Call(operation: operation, method: .POST, url: uploads, idempotent: true, registry: ref.registry, scope: scope)
        if let mount {
            start.url += "?mount=\(Self.percentEncoded(digest.description))&from=\(Self.percentEncoded(mount))"
        }
        start.headers.add(name: "Content-Length", value: "0")
        let started = try await send(start)
        if mount != nil, started.status == .created {
            _ = await errorBody(started)
            return .mounted
        }
        guard started.status == .accepted else { throw await failure(started, start) }
        _ = await errorBody(started)
        var location = try uploadLocation(started, start)

        let size = descriptor.size
        if size <= Int64(chunkSize) {
            let put = try await uploadRequest(.PUT, Self.appendingQuery(location, "digest=\(Self.percentEncoded(digest.description))"),
                                              source, 0..<size, ref: ref, scope: scope, operation: operation, contentRange: false)
            try await finish(put.0, put.1, digest)
            return .uploaded
        }

        var offset: Int64 = 0
        while offset < size {
            let end = min(offset + Int64(chunkSize), size)
            let (response, call) = try await uploadRequest(.PATCH, location, source, offset..<end, ref: ref, scope: scope,
                                                           operation: operation, contentRange: true)
            guard response.status == .accepted || response.status == .noContent else { throw await failure(response, call) }
            _ = await errorBody(response)
            if let range = response.headers.first(name: "Range"), let received = Self.uploadedRange(range), received != end - 1 {
                throw RegistryError(.invalidResponse, operation: operation, request: call.summary, status: Int(response.status.code),
                                    detail: "after sending bytes up to \(end - 1) the registry has \(range)")
            }
            location = try uploadLocation(response, call)
            offset = end
        }
        var put = Call(operation: operation, method: .PUT,
                       url: Self.appendingQuery(location, "digest=\(Self.percentEncoded(digest.description))"),
                       idempotent: false, registry: registry(for: location, ref), scope: scope)
        put.headers.add(name: "Content-Length", value: "0")
        let response = try await send(put)
        try await finish(response, put, digest)
        return .uploaded
    }

    /// PUT (monolithic) or PATCH (one chunk) of `range` of the file to an upload session.
    private func uploadRequest(_ method: HTTPMethod, _ url: String, _ source: ReadOnlyFile, _ range: Range<Int64>, ref: ImageReference,
                               scope: [String], operation: String, contentRange: Bool) async throws -> (HTTPClientResponse, Call) {
        var call = Call(operation: operation, method: method, url: url, idempotent: false, registry: registry(for: url, ref), scope: scope)
        call.headers.add(name: "Content-Type", value: "application/octet-stream")
        if contentRange { call.headers.add(name: "Content-Range", value: "\(range.lowerBound)-\(range.upperBound - 1)") }
        let length = range.upperBound - range.lowerBound
        call.body = { .stream(FileChunks(file: source, range: range), length: .known(length)) }
        // The deadline runs until the answer, so it covers sending the body: allow for a slow link.
        call.timeout = .seconds(60 + length / 65_536)
        return (try await send(call), call)
    }

    /// Registry credentials go only to the registry's own origin.
    private func registry(for url: String, _ ref: ImageReference) -> String? {
        Self.origin(url) == Self.origin(baseURL(ref.registry)) ? ref.registry : nil
    }

    private func uploadLocation(_ response: HTTPClientResponse, _ call: Call) throws -> String {
        guard let location = response.headers.first(name: "Location"), !location.isEmpty else {
            throw RegistryError(.invalidResponse, operation: call.operation, request: call.summary, status: Int(response.status.code),
                                detail: "the registry gave no Location for the upload")
        }
        return Self.resolve(location, against: call.url)
    }

    private func finish(_ response: HTTPClientResponse, _ call: Call, _ digest: Digest) async throws {
        guard response.status == .created else { throw await failure(response, call) }
        _ = await errorBody(response)
        if let announced = response.headers.first(name: "Docker-Content-Digest"), let stored = try? Digest(announced),
           stored.algorithm == digest.algorithm, stored != digest {
            throw RegistryError(.digestMismatch, operation: call.operation, request: call.summary, status: 201,
                                detail: "the registry stored the blob as \(stored)")
        }
    }

    /// The last byte of an upload's `Range: 0-END` header.
    static func uploadedRange(_ value: String) -> Int64? {
        let text = value.hasPrefix("bytes=") ? String(value.dropFirst(6)) : value
        let bounds = text.split(separator: "-")
        guard bounds.count == 2 else { return nil }
        return Int64(bounds[1])
    }

    /// PUT a manifest (or index) under `reference` (a tag, or its digest); returns its digest, which is
    /// the digest of `bytes` exactly as given.
    public func pushManifest(_ ref: ImageReference, reference: String, bytes: [UInt8], mediaType: String) async throws -> Digest {
        let operation = "push manifest \(ref.name)\(reference.contains(":") ? "@" : ":")\(reference)"
        let expected: Digest? = reference.contains(":") ? try? Digest(reference) : nil
        var call = Call(operation: operation, method: .PUT, url: manifestURL(ref, reference), idempotent: true,
                        registry: ref.registry, scope: [Self.pushScope(ref.repository)])
        let digest = try Self.checkedDigest(of: bytes, expected: expected, announced: nil, call)
        call.headers.add(name: "Content-Type", value: mediaType)
        let body = ByteBuffer(bytes: bytes)
        call.body = { .bytes(body) }
        let response = try await send(call)
        guard response.status == .created || response.status == .ok || response.status == .accepted else {
            throw await failure(response, call)
        }
        _ = await errorBody(response)
        if let announced = response.headers.first(name: "Docker-Content-Digest"), let stored = try? Digest(announced),
           stored.algorithm == digest.algorithm, stored != digest {
            throw RegistryError(.digestMismatch, operation: operation, request: call.summary, status: Int(response.status.code),
                                detail: "the registry stored the manifest as \(stored), but its bytes hash to \(digest)")
        }
        return digest
    }
}

/// A byte range of a file as a stream of buffers for an upload body, read as the upload asks for it.
struct FileChunks: AsyncSequence, Sendable {
    typealias Element = ByteBuffer
    let file: ReadOnlyFile
    let range: Range<Int64>
    static let pieceSize = 1 << 20

    struct AsyncIterator: AsyncIteratorProtocol {
        let file: ReadOnlyFile
        var position: Int64
        let end: Int64

        mutating func next() async throws -> ByteBuffer? {
            guard position < end else { return nil }
            let count = Int(Swift.min(Int64(FileChunks.pieceSize), end - position))
            let bytes = try file.read(at: position, count: count)
            guard bytes.count == count else {
                throw LocalFileError(operation: "read (the file shrank while being uploaded)", path: file.path, errno: 5)
            }
            position += Int64(count)
            return ByteBuffer(bytes: bytes)
        }
    }

    func makeAsyncIterator() -> AsyncIterator { AsyncIterator(file: file, position: range.lowerBound, end: range.upperBound) }
}
