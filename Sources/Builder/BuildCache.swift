import Glibc
import ImageStore
import LinuxSys
import OCI

/// What a build step produced, by the step's cache key: a key is the parent step's key, the
/// instruction with its arguments expanded (and RUN's environment), and for COPY/ADD the digest
/// of the files copied — so equal keys mean equal results. One small file per key under
/// `<root>/build-cache/`, written atomically; an entry whose layer an image prune collected
/// is a miss.
struct BuildCache {
    struct Entry: Codable {
        /// The step's layer; nil for steps that change only the config.
        var layer: CommittedLayer?
        /// When the step first ran (kept, so a cached build gives the same image ID).
        var created: String
    }

    let directory: String

    init(root: String) {
        directory = root + "/build-cache"
    }

    func lookup(_ key: String, in store: ImageStore) -> Entry? {
        guard let bytes = try? FS.readFile(directory + "/" + key + ".json"),
              let entry = try? JSONTreeDecoder.decode(Entry.self, from: bytes) else { return nil }
        if let layer = entry.layer, !store.has(layer) { return nil }
        return entry
    }

    func store(_ key: String, _ entry: Entry) {
        guard (try? FS.mkdirAll(directory, mode: 0o700)) != nil, let bytes = try? JSONTreeEncoder.encode(entry) else { return }
        try? FS.writeFileAtomically(directory + "/" + key + ".json", bytes, mode: 0o600)
    }

    /// The directory a `RUN --mount=type=cache` gets, by its id (or target), kept across builds.
    func mountDirectory(_ id: String) -> String {
        directory + "/mounts/" + sha256Hex(id)
    }

    /// `builder prune`: every entry and cache mount. Returns what was freed, in bytes.
    func prune() -> Int64 {
        let freed = diskUsage(directory)
        FS.removeAll(directory)
        return freed
    }
}

/// Bytes used by the files below `path` (not following symlinks).
func diskUsage(_ path: String) -> Int64 {
    guard let status = try? FS.lstat(path) else { return 0 }
    if !FS.isDirectory(status) { return Int64(status.st_blocks) * 512 }
    var total = Int64(status.st_blocks) * 512
    for name in (try? FS.list(path: path)) ?? [] { total += diskUsage(path + "/" + name) }
    return total
}
