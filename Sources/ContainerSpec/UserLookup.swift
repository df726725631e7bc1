import CLinuxSys
import Glibc
import LinuxSys

/// The ids a `-u` spec resolves to in a container.
public struct ResolvedUser: Sendable, Equatable {
    public var uid: UInt32
    public var gid: UInt32
    /// Docker's list: the primary gid first, then the user's supplementary groups, then `--group-add`.
    public var additionalGids: [UInt32]
    public var home: String

    public init(uid: UInt32, gid: UInt32, additionalGids: [UInt32], home: String = "/") {
        self.uid = uid
        self.gid = gid
        self.additionalGids = additionalGids
        self.home = home
    }
}

/// `-u user[:group]` and `--group-add` resolved against the image's /etc/passwd and /etc/group,
/// with the rules of runc's libcontainer/user that Docker uses: a number is an id whether or not
/// the files name it, a name must be found, the implicit group brings the supplementary groups.
public enum UserLookup {
    static let maxID = 2_147_483_647
    /// More than any real passwd or group file; a bigger one is refused rather than read whole.
    static let maxFileSize = 4 << 20

    /// Resolves against the files of `rootfs`, opened inside it: the rootfs is untrusted, so a
    /// symlink /etc/passwd -> /etc/shadow or -> /host/... resolves to a file of the rootfs itself.
    public static func resolve(_ spec: String, groupAdd: [String], rootfs: String) throws(EngineError) -> ResolvedUser {
        // Read even for the default user: root's supplementary groups come from /etc/group.
        let passwd = try readInRoot(rootfs, "/etc/passwd")
        let group = try readInRoot(rootfs, "/etc/group")
        return try resolve(spec, groupAdd: groupAdd, passwd: passwd, group: group)
    }

    /// Resolves against file contents (nil: the file does not exist).
    public static func resolve(_ spec: String, groupAdd: [String], passwd: String?, group: String?) throws(EngineError) -> ResolvedUser {
        let (userArg, groupArg) = split(spec)
        let uidArg = Int(userArg)
        let gidArg = groupArg.flatMap { Int($0) }
        var uid = 0, gid = 0
        var home = "/"

        let users = parsePasswd(passwd ?? "")
        let matched = users.first { entry in
            if userArg.isEmpty { return entry.uid == 0 }
            if let uidArg { return entry.uid == uidArg }
            return entry.name == userArg
        }
        if let matched {
            uid = matched.uid
            gid = matched.gid
            home = matched.home
        } else if !userArg.isEmpty {
            guard let uidArg else {
                throw .invalid("unable to find user \(userArg): no matching entries in passwd file")
            }
            guard (0...maxID).contains(uidArg) else { throw .invalid("uids and gids must be in range 0-\(maxID)") }
            uid = uidArg
        }

        let groups = parseGroup(group ?? "")
        var supplementary: [Int] = []
        if let groupArg {
            if let found = groups.first(where: { gidArg != nil ? $0.gid == gidArg : $0.name == groupArg }) {
                gid = found.gid
            } else {
                guard let gidArg else {
                    throw .invalid("unable to find group \(groupArg): no matching entries in group file")
                }
                guard (0...maxID).contains(gidArg) else { throw .invalid("uids and gids must be in range 0-\(maxID)") }
                gid = gidArg
            }
        } else if let name = matched?.name {
            supplementary = groups.filter { $0.members.contains(name) }.map(\.gid)
        }

        var additional = [UInt32(gid)] + supplementary.map { UInt32($0) }
        for entry in groupAdd {
            if let found = groups.first(where: { $0.name == entry }) {
                additional.append(UInt32(found.gid))
            } else if let number = Int(entry) {
                guard (0...maxID).contains(number) else { throw .invalid("uids and gids must be in range 0-\(maxID)") }
                additional.append(UInt32(number))
            } else {
                throw .invalid("Unable to find group \(entry): no matching entries in group file")
            }
        }
        return ResolvedUser(uid: UInt32(uid), gid: UInt32(gid), additionalGids: additional, home: home)
    }

    /// "user:group" → ("user", "group"); "user" → ("user", nil).
    static func split(_ spec: String) -> (String, String?) {
        guard let colon = spec.firstIndex(of: ":") else { return (spec, nil) }
        let group = String(spec[spec.index(after: colon)...])
        return (String(spec[..<colon]), group.isEmpty ? nil : group)
    }

    struct PasswdEntry {
        var name: String
        var uid: Int
        var gid: Int
        var home: String
    }

    struct GroupEntry {
        var name: String
        var gid: Int
        var members: [String]
    }

    /// name:password:uid:gid:gecos:home:shell; malformed lines are skipped, as runc skips them.
    static func parsePasswd(_ text: String) -> [PasswdEntry] {
        lines(text).compactMap { line in
            let fields = line.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
            guard fields.count >= 4, let uid = Int(fields[2]), let gid = Int(fields[3]) else { return nil }
            return PasswdEntry(name: fields[0], uid: uid, gid: gid, home: fields.count > 5 ? fields[5] : "/")
        }
    }

    /// name:password:gid:member,member
    static func parseGroup(_ text: String) -> [GroupEntry] {
        lines(text).compactMap { line in
            let fields = line.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
            guard fields.count >= 3, let gid = Int(fields[2]) else { return nil }
            let members = fields.count > 3 ? fields[3].split(separator: ",").map(String.init) : []
            return GroupEntry(name: fields[0], gid: gid, members: members)
        }
    }

    private static func lines(_ text: String) -> [String] {
        text.split(separator: "\n").map { String($0).trimmed(" \t\r") }
            .filter { !$0.isEmpty && !$0.hasPrefix("#") }
    }

    /// A file of the rootfs, opened with every component resolved inside the root. nil when it does
    /// not exist; an error when it is not a regular file (a FIFO would block, a device never end).
    static func readInRoot(_ rootfs: String, _ path: String) throws(EngineError) -> String? {
        let rootFD: Int32
        do { rootFD = try FS.open(rootfs, O_RDONLY | O_DIRECTORY) } catch {
            throw .system("open container rootfs", error)
        }
        defer { FS.close(rootFD) }
        let root = InRoot(rootFD: rootFD, rootPath: rootfs)
        let fd: Int32
        do { fd = try root.open(path, O_RDONLY | O_NONBLOCK | O_NOCTTY) } catch {
            if error.errno == ENOENT || error.errno == ENOTDIR { return nil }
            throw .system("read \(path) of the container", error)
        }
        defer { FS.close(fd) }
        let st: stat
        do { st = try FS.fstat(fd, describe: root.describe(path)) } catch { throw .system("read \(path) of the container", error) }
        guard (st.st_mode & S_IFMT) == S_IFREG else {
            throw .invalid("\(path) of the image is not a regular file")
        }
        guard st.st_size <= maxFileSize else {
            throw .invalid("\(path) of the image is larger than \(maxFileSize >> 20) MiB")
        }
        do {
            return String(decoding: try FS.read(fd, max: maxFileSize), as: UTF8.self)
        } catch {
            throw .system("read \(path) of the container", error)
        }
    }
}
