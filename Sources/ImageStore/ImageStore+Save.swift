import Archive
import Glibc
import LinuxSys
import OCI

/// The two archive formats `save` writes and `load` reads.
public enum ArchiveFormat: String, Sendable {
    /// Docker's `docker save` format: `manifest.json` naming each image's config and uncompressed
    /// layers, laid out as an OCI image layout too (as Docker 25 writes it), so both kinds of
    /// reader find what they need.
    case dockerArchive = "docker-archive"
    /// An OCI image layout with the blobs exactly as stored (same manifest digests as the registry's).
    case ociArchive = "oci-archive"
}

extension ImageStore {
    /// Writes the named images as one tar stream to `sink`.
    public func save(_ names: [String], format: ArchiveFormat, sink: @escaping (UnsafeRawBufferPointer) throws -> Void) throws {
        var images: [(Image, [ImageReference])] = []
        for name in names {
            let record = try resolve(name)
            let image = try load(record)
            // The names to record: the one given (if it is a tag), else every tag of the image.
            var tags: [ImageReference] = []
            if let reference = try? ImageReference(parsing: name), record.tags.contains(reference.description) {
                tags = [reference]
            } else if (try? ImageReference(parsing: name)).map({ record.repoDigests.contains($0.description) }) != true {
                tags = record.tags.compactMap { try? ImageReference(parsing: $0) }
            }
            if let index = images.firstIndex(where: { $0.0.id == image.id }) {
                images[index].1 += tags.filter { !images[index].1.contains($0) }
            } else {
                images.append((image, tags))
            }
        }
        let tar = TarWriter(sink: sink)
        try writeDirectory("blobs/", to: tar)
        try writeDirectory("blobs/sha256/", to: tar)
        var written = Set<Digest>()
        var indexEntries: [Descriptor] = []
        var dockerManifest: [DockerArchiveEntry] = []
        let sizes = try layerTarSizes()

        for (image, tags) in images {
            try writeBlob(image.id, to: tar, written: &written)
            var layers: [Descriptor] = []
            switch format {
            case .ociArchive:
                for layer in image.manifest.layers { try writeBlob(layer.digest, to: tar, written: &written) }
                layers = image.manifest.layers
                try writeBlob(image.record.manifestDigest, to: tar, written: &written)
                let manifestSize = content.size(image.record.manifestDigest) ?? 0
                for tag in tags.isEmpty ? [nil] : tags.map(Optional.some) {
                    indexEntries.append(Descriptor(mediaType: image.record.manifestMediaType, digest: image.record.manifestDigest,
                                                   size: manifestSize, annotations: tag.map(Self.nameAnnotations)))
                }
            case .dockerArchive:
                for (layer, diffID) in zip(image.manifest.layers, image.config.rootfs.diffIDs) {
                    let size = try sizes[diffID] ?? uncompressedSize(of: layer.digest)
                    if written.insert(diffID).inserted {
                        try writeUncompressedLayer(layer.digest, diffID: diffID, size: size, to: tar)
                    }
                    layers.append(Descriptor(mediaType: MediaType.ociLayer, digest: diffID, size: size))
                }
                let manifest = ImageManifest(
                    config: Descriptor(mediaType: MediaType.ociConfig, digest: image.id, size: Int64(image.configBytes.count)),
                    layers: layers)
                let bytes = try encodeCanonical(manifest)
                let digest = sha256Digest(bytes)
                if written.insert(digest).inserted { try writeFile("blobs/sha256/\(digest.hex)", bytes, to: tar) }
                for tag in tags.isEmpty ? [nil] : tags.map(Optional.some) {
                    indexEntries.append(Descriptor(mediaType: MediaType.ociManifest, digest: digest, size: Int64(bytes.count),
                                                   annotations: tag.map(Self.nameAnnotations)))
                }
                dockerManifest.append(DockerArchiveEntry(
                    config: "blobs/sha256/\(image.id.hex)", repoTags: tags.map(\.familiar),
                    layers: layers.map { "blobs/sha256/\($0.digest.hex)" }))
            }
        }
        try writeFile("oci-layout", Array(#"{"imageLayoutVersion":"1.0.0"}"#.utf8), to: tar)
        try writeFile("index.json", try encodeCanonical(ImageIndex(manifests: indexEntries)), to: tar)
        if format == .dockerArchive {
            try writeFile("manifest.json", try encodeCanonical(dockerManifest), to: tar)
        }
        try tar.finish()
    }

    static func nameAnnotations(_ reference: ImageReference) -> [String: String] {
        ["io.containerd.image.name": reference.description, "org.opencontainers.image.ref.name": reference.tag ?? "latest"]
    }

    func writeDirectory(_ path: String, to tar: TarWriter) throws {
        try tar.writeHeader(TarHeader(path: path, type: .directory, mode: 0o755))
    }

    func writeFile(_ path: String, _ bytes: [UInt8], to tar: TarWriter) throws {
        try tar.write(TarHeader(path: path, type: .file, mode: 0o644, size: Int64(bytes.count)), data: bytes)
    }

    func writeBlob(_ digest: Digest, to tar: TarWriter, written: inout Set<Digest>) throws {
        guard written.insert(digest).inserted else { return }
        guard let size = content.size(digest) else { throw ImageStoreError("blob \(digest) is not in the store") }
        try tar.writeHeader(TarHeader(path: "blobs/\(digest.algorithm.rawValue)/\(digest.hex)", type: .file, mode: 0o644, size: size))
        try streamFile(content.path(digest)) { chunk in try tar.writeData(chunk) }
    }

    func writeUncompressedLayer(_ blob: Digest, diffID: Digest, size: Int64, to tar: TarWriter) throws {
        try tar.writeHeader(TarHeader(path: "blobs/sha256/\(diffID.hex)", type: .file, mode: 0o644, size: size))
        let decompressor = try Decompressor(try compression(of: blob))
        try streamFile(content.path(blob)) { chunk in
            try decompressor.decompress(chunk) { out in try tar.writeData(out) }
        }
        try decompressor.finish()
    }

    func compression(of blob: Digest) throws -> Compression {
        let fd = try FS.open(content.path(blob), O_RDONLY)
        defer { FS.close(fd) }
        var head = [UInt8](repeating: 0, count: 4)
        let n = head.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, 4) }
        return Compression.detect(head.prefix(max(0, n)))
    }

    func uncompressedSize(of blob: Digest) throws -> Int64 {
        let decompressor = try Decompressor(try compression(of: blob))
        var total: Int64 = 0
        try streamFile(content.path(blob)) { chunk in try decompressor.decompress(chunk) { total += Int64($0.count) } }
        try decompressor.finish()
        return total
    }

    func streamFile(_ path: String, _ body: (UnsafeRawBufferPointer) throws -> Void) throws {
        let fd = try FS.open(path, O_RDONLY)
        defer { FS.close(fd) }
        var buffer = [UInt8](repeating: 0, count: 1 << 20)
        while true {
            let n = try buffer.withUnsafeMutableBytes { raw throws(SysError) in
                try sys("read", path) { Glibc.read(fd, raw.baseAddress!, raw.count) }
            }
            if n == 0 { return }
            try buffer.withUnsafeBytes { raw in try body(UnsafeRawBufferPointer(rebasing: raw[0..<n])) }
        }
    }
}

/// One image in Docker's `manifest.json`.
struct DockerArchiveEntry: Codable {
    var config: String
    var repoTags: [String]?
    var layers: [String]

    enum CodingKeys: String, CodingKey {
        case config = "Config", repoTags = "RepoTags", layers = "Layers"
    }
}
