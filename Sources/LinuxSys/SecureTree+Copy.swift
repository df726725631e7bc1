import CLinuxSys
import Glibc

extension SecureTree {
    /// How `copy` treats what it meets; each caller's own rules (tmpcopyup, volume copy-up, a
    /// build's COPY) are a set of these.
    public struct CopyOptions {
        /// Entries in name order (a build's layer must not depend on directory order).
        public var sorted = false
        /// An entry that cannot be looked at (gone meanwhile) is left out rather than failing the copy.
        public var skipUnreadable = false
        /// A directory that already exists in the target is copied into (else: EEXIST fails).
        public var mergeDirectories = true
        /// The mode a new directory is made with before its contents; nil: the source's.
        public var directoryCreationMode: mode_t? = nil
        public enum Existing {
            /// Open with O_TRUNC (a file there is overwritten in place; a link there fails, O_NOFOLLOW).
            case truncate
            /// Remove what is there (a file, link or empty directory) and create anew.
            case replace
            /// O_EXCL: anything there fails the copy.
            case fail
        }
        public var existingFile: Existing = .fail
        /// Files that share an inode stay linked in the copy (linked by fd, never by a path).
        public var hardLinks = false
        /// Every entry's owner; nil: the source's.
        public var owner: (uid: uid_t, gid: gid_t)? = nil
        /// Directories' and regular files' mode; nil: the source's.
        public var mode: mode_t? = nil
        /// Copy access and modification times (directories, files, links).
        public var times = true
        /// Also set the times of devices and fifos.
        public var specialFileTimes = false
        /// chmod devices and fifos after mknod (mknod's own mode is cut by the umask).
        public var chmodSpecialFiles = true
        /// Sockets are made again with mknod (else left out: they mean nothing once copied).
        public var sockets = false
        /// Steps whose failure leaves the entry as it is rather than failing the copy.
        public var tolerated: Set<Failure.Step> = [.times]
        /// Which entries to copy, by path relative to the source; an excluded directory is still
        /// made, and entered, when something below it is included.
        public var filter: ((String) -> Bool)? = nil

        public init() {}
    }

    /// Copies everything below the directory `source` into the directory `target` (the two
    /// directories themselves are the caller's). Paths in failures are relative to `source`.
    public static func copy(contentsOf source: Int32, into target: Int32, options: CopyOptions) throws(Failure) {
        var copier = Copier(options: options)
        defer { copier.closeAll() }
        try copier.copyChildren(source, into: target, prefix: "")
    }

    /// Copies one entry (not a directory) `name` of `source` to `targetName` in `target`.
    public static func copy(entry name: String, in source: Int32, to targetName: String, in target: Int32,
                            options: CopyOptions) throws(Failure) {
        var st = stat()
        guard fstatat(source, name, &st, AT_SYMLINK_NOFOLLOW) == 0 else { throw Failure(.stat, targetName, onSource: true) }
        var copier = Copier(options: options)
        defer { copier.closeAll() }
        try copier.copyEntry(Entry(parent: source, name: name, path: targetName, status: st), to: target, as: targetName)
    }

    private struct Copier {
        let options: CopyOptions
        /// An fd of the first copy of each multiply-linked file, to link later names to.
        var links: [FileKey: Int32] = [:]
        /// Past this many, further links are copied as separate files rather than holding more fds.
        static let maximumLinkFDs = 512

        init(options: CopyOptions) {
            self.options = options
        }

        func closeAll() {
            for fd in links.values { _ = Glibc.close(fd) }
        }

        private func check(_ step: Failure.Step, _ path: String, _ ok: Bool) throws(Failure) {
            if !ok && !options.tolerated.contains(step) { throw Failure(step, path, onSource: false) }
        }

        mutating func copyChildren(_ source: Int32, into target: Int32, prefix: String) throws(Failure) {
            var names: [String]
            do { names = try FS.list(source) } catch {
                throw Failure(.list, prefix.isEmpty ? "" : String(prefix.dropLast()), onSource: true, errno: error.errno)
            }
            if options.sorted { names.sort() }
            for name in names {
                let path = prefix + name
                var st = stat()
                guard fstatat(source, name, &st, AT_SYMLINK_NOFOLLOW) == 0 else {
                    if options.skipUnreadable || options.tolerated.contains(.stat) { continue }
                    throw Failure(.stat, path, onSource: true)
                }
                let entry = Entry(parent: source, name: name, path: path, status: st)
                if entry.kind == .directory {
                    try copyDirectory(entry, into: target)
                } else {
                    if let filter = options.filter, !filter(path) { continue }
                    try copyEntry(entry, to: target, as: name)
                }
            }
        }

        mutating func copyDirectory(_ entry: Entry, into target: Int32) throws(Failure) {
            let st = entry.status
            let from = try openDirectory(entry.parent, entry.name, path: entry.path)
            if let filter = options.filter, !filter(entry.path) {
                // Only descend: make the directory if something inside is copied.
                guard SecureTree.contains(from.raw, prefix: entry.path + "/", where: filter) else { return }
            }
            let mode = options.directoryCreationMode ?? (st.st_mode & 0o7777)
            if mkdirat(target, entry.name, mode) != 0 && !(errno == EEXIST && options.mergeDirectories) {
                throw Failure(.mkdir, entry.path, onSource: false)
            }
            let to = try openDirectory(target, entry.name, path: entry.path, onSource: false)
            try copyChildren(from.raw, into: to.raw, prefix: entry.path + "/")
            try check(.chown, entry.path, fchown(to.raw, options.owner?.uid ?? st.st_uid, options.owner?.gid ?? st.st_gid) == 0)
            try check(.chmod, entry.path, fchmod(to.raw, options.mode ?? (st.st_mode & 0o7777)) == 0)
            if options.times {
                var times = [st.st_atim, st.st_mtim]
                try check(.times, entry.path, futimens(to.raw, &times) == 0)
            }
        }

        /// Anything but a directory.
        mutating func copyEntry(_ entry: Entry, to target: Int32, as name: String) throws(Failure) {
            let st = entry.status
            let path = entry.path
            let uid = options.owner?.uid ?? st.st_uid
            let gid = options.owner?.gid ?? st.st_gid
            var times = [st.st_atim, st.st_mtim]
            if options.existingFile == .replace {
                if unlinkat(target, name, 0) != 0 && errno == EISDIR { _ = unlinkat(target, name, AT_REMOVEDIR) }
            }
            if options.hardLinks && entry.kind == .regular && st.st_nlink > 1, let first = links[entry.key] {
                try check(.link, path, linkat(first, "", target, name, BERTH_AT_EMPTY_PATH) == 0)
                return
            }
            switch entry.kind {
            case .directory:
                throw Failure(.create, path, onSource: false, errno: EISDIR)
            case .regular:
                let input = try openFile(entry.parent, entry.name, path: path)
                let flags = O_WRONLY | O_CREAT | O_NOFOLLOW | O_CLOEXEC | (options.existingFile == .truncate ? O_TRUNC : O_EXCL)
                let createMode = options.existingFile == .truncate ? (st.st_mode & 0o7777) : 0o600
                let fd = berth_openat(target, name, flags, createMode)
                guard fd >= 0 else { throw Failure(.create, path, onSource: false) }
                let output = FileDescriptor(adopting: fd)
                try copyData(input.raw, output.raw, path: path)
                try check(.chown, path, fchown(output.raw, uid, gid) == 0)
                try check(.chmod, path, fchmod(output.raw, options.mode ?? (st.st_mode & 0o7777)) == 0)
                if options.times { try check(.times, path, futimens(output.raw, &times) == 0) }
                if options.hardLinks && st.st_nlink > 1 && links.count < Self.maximumLinkFDs {
                    let kept = fcntl(output.raw, F_DUPFD_CLOEXEC, 0)
                    if kept >= 0 { links[entry.key] = kept }
                }
            case .symlink:
                let link: String
                do { link = try readlink(entry.parent, entry.name, path: path) } catch {
                    if options.tolerated.contains(.readlink) { return }
                    throw error
                }
                guard symlinkat(link, target, name) == 0 else {
                    if options.tolerated.contains(.symlink) { break }
                    throw Failure(.symlink, path, onSource: false)
                }
                try check(.chown, path, fchownat(target, name, uid, gid, AT_SYMLINK_NOFOLLOW) == 0)
                if options.times { try check(.times, path, utimensat(target, name, &times, AT_SYMLINK_NOFOLLOW) == 0) }
            case .socket where !options.sockets, .unknown:
                return
            case .characterDevice, .blockDevice, .fifo, .socket:
                try check(.mknod, path, mknodat(target, name, st.st_mode, st.st_rdev) == 0)
                try check(.chown, path, fchownat(target, name, uid, gid, AT_SYMLINK_NOFOLLOW) == 0)
                if options.chmodSpecialFiles { try check(.chmod, path, FS.chmodNoFollow(target, name, st.st_mode & 0o7777) == 0) }
                if options.times && options.specialFileTimes {
                    try check(.times, path, utimensat(target, name, &times, AT_SYMLINK_NOFOLLOW) == 0)
                }
            }
        }

        private func copyData(_ input: Int32, _ output: Int32, path: String) throws(Failure) {
            var buffer = [UInt8](repeating: 0, count: 1 << 17)
            while true {
                let n = buffer.withUnsafeMutableBytes { Glibc.read(input, $0.baseAddress, $0.count) }
                if n < 0 && errno == EINTR { continue }
                if n < 0 { throw Failure(.read, path, onSource: true) }
                if n == 0 { return }
                var offset = 0
                while offset < n {
                    let written = buffer.withUnsafeBytes { Glibc.write(output, $0.baseAddress! + offset, n - offset) }
                    if written < 0 && errno == EINTR { continue }
                    if written < 0 { throw Failure(.write, path, onSource: false) }
                    offset += written
                }
            }
        }
    }
}
