import Crypto
import Dockerfile
import Glibc
import ImageStore
import LinuxSys

/// The files a build may use: the context directory minus what `.dockerignore` excludes. Walked
/// once; COPY and ADD pick from the list, and their cache keys hash what they picked.
public struct BuildContext: Sendable {
    public struct Entry: Sendable {
        /// Relative to the context root, `/`-separated, no leading `./`.
        public var path: String
        public var mode: mode_t
        public var size: Int64
    }

    public let root: String
    /// Every entry that passes `.dockerignore`, parents before children, in name order.
    public let entries: [Entry]
    let index: [String: Int]

    public init(root: String, ignore: DockerIgnore) throws(BuildError) {
        self.root = root
        var entries: [Entry] = []
        func walk(_ relative: String) throws(BuildError) {
            let directory = relative.isEmpty ? root : root + "/" + relative
            let names: [String]
            do { names = try FS.list(path: directory).sorted() } catch { throw BuildError("read the build context \(directory)", error) }
            for name in names {
                let path = relative.isEmpty ? name : relative + "/" + name
                let status: stat
                do { status = try FS.lstat(root + "/" + path) } catch { throw BuildError("read the build context", error) }
                let isDirectory = FS.isDirectory(status)
                let excluded = ignore.excludes(path, isDirectory: isDirectory)
                if !excluded {
                    entries.append(Entry(path: path, mode: status.st_mode, size: Int64(status.st_size)))
                }
                // An excluded directory is still walked when an exception (`!pattern`) may
                // bring back something inside it.
                if isDirectory && (!excluded || ignore.mustWalk(path)) { try walk(path) }
            }
        }
        try walk("")
        self.entries = entries
        var index: [String: Int] = [:]
        for (position, entry) in entries.enumerated() { index[entry.path] = position }
        self.index = index
    }

    /// Reads `.dockerignore` of the context (absent: nothing is ignored).
    public static func ignoreFile(in root: String) -> DockerIgnore {
        DockerIgnore(text: (try? FS.readText(root + "/.dockerignore")) ?? "")
    }

    public func entry(_ path: String) -> Entry? { index[path].map { entries[$0] } }

    /// The entries a COPY source names: an exact path (a file, or a directory and everything in
    /// it), or a pattern with `*`, `?` and `[...]` matched per path component as Go's
    /// filepath.Match does. `.` or `/` is the whole context.
    public func match(_ source: String) -> [String] {
        let clean = cleanContextPath(source)
        if clean.isEmpty { return [""] }
        if !clean.contains(where: { "*?[".contains($0) }) {
            return entry(clean) != nil ? [clean] : []
        }
        let pattern = clean.split(separator: "/").map(String.init)
        return entries.filter { entry in
            let parts = entry.path.split(separator: "/").map(String.init)
            guard parts.count == pattern.count else { return false }
            return zip(pattern, parts).allSatisfy { fnmatch($0, $1, 0) == 0 }
        }.map(\.path)
    }

    /// Everything at or below `path` (`""`: the whole context), in walk order.
    public func tree(_ path: String) -> [Entry] {
        if path.isEmpty { return entries }
        let prefix = path + "/"
        return entries.filter { $0.path == path || $0.path.hasPrefix(prefix) }
    }

    /// A digest of what `sources` name: paths, types, modes and contents (not owners, which COPY
    /// replaces, nor times, so a fresh checkout of the same files hits the cache).
    public func contentDigest(_ sources: [String]) throws(BuildError) -> String {
        var hasher = SHA256()
        for source in sources {
            for entry in tree(source) {
                hasher.update(data: Array("\(entry.path)\0\(entry.mode)\0".utf8))
                let full = root + "/" + entry.path
                switch entry.mode & S_IFMT {
                case S_IFREG:
                    try hashFile(full, into: &hasher)
                case S_IFLNK:
                    hasher.update(data: Array(((try? FS.readlink(full)) ?? "").utf8))
                default:
                    break
                }
                hasher.update(data: [0])
            }
        }
        return hexString(hasher.finalize())
    }
}

func hashFile(_ path: String, into hasher: inout SHA256) throws(BuildError) {
    let fd: Int32
    do { fd = try FS.open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW) } catch { throw BuildError("read \(path)", error) }
    defer { FS.close(fd) }
    var buffer = [UInt8](repeating: 0, count: 1 << 16)
    while true {
        let count = buffer.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
        if count < 0 {
            if errno == EINTR { continue }
            throw BuildError("read \(path)", SysError("read", path))
        }
        if count == 0 { break }
        buffer.withUnsafeBytes { hasher.update(bufferPointer: UnsafeRawBufferPointer(rebasing: $0[0..<count])) }
    }
}

func sha256Hex(_ text: String) -> String {
    hexString(SHA256.hash(data: Array(text.utf8)))
}

/// A source path as Docker reads it: relative to the context root whatever it starts with, `..`
/// unable to climb above the root, no trailing slash.
func cleanContextPath(_ path: String) -> String {
    var parts: [Substring] = []
    for part in path.split(separator: "/") {
        switch part {
        case ".", "": continue
        case "..": if !parts.isEmpty { parts.removeLast() }
        default: parts.append(part)
        }
    }
    return parts.joined(separator: "/")
}
