import CLinuxSys
import Glibc
import LinuxSys
import OCI

/// Builds the container's filesystem view inside its new mount namespace, before pivot_root:
/// the rootfs bind, every configured mount, /dev, masked and read-only paths.
///
/// Every destination is resolved inside the rootfs with `InRoot` and mounted on through
/// `/proc/self/fd/N` of that fd (the host's procfs, still visible before pivot_root), so a symlink in
/// the image can never redirect a mount outside the container (runc CVE-2021-30465).
struct Rootfs {
    let spec: Spec
    let rootfs: String
    let bundle: String
    let cgroup: Cgroup?
    let newCgroupNamespace: Bool
    /// A verified O_PATH fd of the host's /dev/null, used to mask files (runc CVE-2025-31133).
    let devNullFD: Int32
    /// The init's private procfs (its own pid namespace), for the helpers of idmapped mounts.
    var procFD: Int32 = -1

    private var root: InRoot!

    init(spec: Spec, rootfs: String, bundle: String, cgroup: Cgroup?, newCgroupNamespace: Bool, devNullFD: Int32) {
        self.spec = spec
        self.rootfs = rootfs
        self.bundle = bundle
        self.cgroup = cgroup
        self.newCgroupNamespace = newCgroupNamespace
        self.devNullFD = devNullFD
    }

    // MARK: - Root and propagation

    /// Makes host mounts stop propagating in, binds the rootfs onto itself (pivot_root needs a
    /// mount point), and mounts everything the config lists.
    mutating func prepare() throws(RuntimeError) {
        let propagation = spec.linux?.rootfsPropagation ?? ""
        let rootFlags = MountOptions([propagation.isEmpty ? "rslave" : propagation]).propagation.first ?? UInt(MS_SLAVE | MS_REC)
        do {
            try MountSys.mount(source: nil, target: "/", type: nil, flags: rootFlags, data: nil, describe: "/ (propagation)")
            // pivot_root refuses (EINVAL) a shared parent of the new root: the parent goes private
            // (as runc 1.1, whose new root then is private whatever rootfsPropagation says).
            if let parent = Self.mountPoint(containing: rootfs), parent.shared {
                try MountSys.mount(source: nil, target: parent.point, type: nil, flags: UInt(MS_PRIVATE), data: nil,
                                   describe: "\(parent.point) (parent of the rootfs, private for pivot_root)")
            }
            try MountSys.mount(source: rootfs, target: rootfs, type: nil, flags: UInt(MS_BIND | MS_REC), data: nil,
                               describe: "rootfs \(rootfs)")
        } catch {
            throw error.context("prepare rootfs")
        }
        let rootFD: Int32
        do { rootFD = try FS.open(rootfs, O_RDONLY | O_DIRECTORY) } catch { throw error.context("open rootfs") }
        root = InRoot(rootFD: rootFD, rootPath: rootfs)

        var mountedDev = false
        for (index, mount) in (spec.mounts ?? []).enumerated() {
            do {
                try apply(mount)
            } catch {
                throw RuntimeError("mounts[\(index)] (\(mount.type ?? "bind") on \(mount.destination)): \(error.message)")
            }
            if FS.clean("/" + mount.destination) == "/dev" && !MountOptions(mount.options ?? []).isBind { mountedDev = true }
        }
        try createDevices(populateDefaults: mountedDev)
        if mountedDev { try createDevLinks() }
    }

    // MARK: - Mounts

    private func apply(_ mount: Mount) throws(RuntimeError) {
        let destination = FS.clean("/" + mount.destination)
        let options = MountOptions(mount.options ?? [])
        let type = mount.type ?? ""
        if options.idmap {
            try idmappedBind(mount, destination: destination, options: options)
            return
        }
        if options.isBind || type == "bind" {
            try bind(mount, destination: destination, options: options)
            return
        }
        if type == "cgroup" || type == "cgroup2" {
            try mountCgroups(destination: destination, options: options)
            return
        }
        let target = try directory(destination)
        defer { FS.close(target) }
        do {
            try MountSys.mount(source: mount.source ?? type, target: InRoot.procPath(target), type: type,
                               flags: options.flags & ~UInt(MS_REMOUNT), data: options.dataString,
                               describe: root.describe(destination))
        } catch {
            throw error.context("mount \(type)")
        }
        if options.copyUp { try copyUp(destination) }
        try finish(destination, options: options)
    }

    /// Bind mounts: the source is a host path (relative ones are taken from the bundle), the target
    /// is created as a directory or an empty file to match it.
    private func bind(_ mount: Mount, destination: String, options: MountOptions) throws(RuntimeError) {
        guard var source = mount.source, !source.isEmpty else {
            throw RuntimeError("a bind mount needs a source")
        }
        if !source.hasPrefix("/") { source = bundle + "/" + source }
        let sourceStat: stat
        do { sourceStat = try FS.stat(source) } catch { throw error.context("bind source") }
        let target = FS.isDirectory(sourceStat) ? try directory(destination) : try file(destination)
        defer { FS.close(target) }
        if let tree = Self.handedOverTree(source), berth_attach_tree(tree, target) == 0 {
            // Attached as the caller cloned it: what it checked is what is mounted.
        } else {
            do {
                try MountSys.mount(source: source, target: InRoot.procPath(target), type: nil,
                                   flags: UInt(MS_BIND) | (options.isRecursiveBind ? UInt(MS_REC) : 0), data: nil,
                                   describe: root.describe(destination))
            } catch {
                throw error.context("bind \(source)")
            }
        }
        let remountable = UInt(MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_NOATIME | MS_NODIRATIME | MS_RELATIME | MS_STRICTATIME | MS_SYNCHRONOUS)
        if options.flags & remountable != 0 {
            try remount(destination, flags: options.flags & remountable, cleared: options.clearedFlags)
        }
        try finish(destination, options: options)
    }

    /// A bind source `/proc/self/fd/N` whose fd the caller handed over: a detached mount tree
    /// (open_tree OPEN_TREE_CLONE) made from a path it resolved safely (berth build's RUN binds,
    /// resolved inside their root). mount(2) would resolve the name again, and a bind from a mount
    /// of another namespace is refused, so such a tree is attached with move_mount; any other fd
    /// falls back to the mount by path.
    static func handedOverTree(_ source: String) -> Int32? {
        guard source.hasPrefix("/proc/self/fd/"), let fd = Int32(source.dropFirst("/proc/self/fd/".count)), fd > 2 else { return nil }
        return fd
    }

    /// `idmap`/`ridmap` binds: the source's ids are shown through the mount's own uid and gid mappings
    /// (or, without them, the container's), by a user namespace made just for the mount.
    private func idmappedBind(_ mount: Mount, destination: String, options: MountOptions) throws(RuntimeError) {
        guard var source = mount.source, !source.isEmpty else { throw RuntimeError("a bind mount needs a source") }
        if !source.hasPrefix("/") { source = bundle + "/" + source }
        let uids = mount.uidMappings ?? spec.linux?.uidMappings ?? []
        let gids = mount.gidMappings ?? spec.linux?.gidMappings ?? []
        guard !uids.isEmpty, !gids.isEmpty else {
            throw RuntimeError("an idmapped mount needs uidMappings and gidMappings (on the mount or in linux)")
        }
        let sourceStat: stat
        do { sourceStat = try FS.stat(source) } catch { throw error.context("bind source") }
        let target = FS.isDirectory(sourceStat) ? try directory(destination) : try file(destination)
        defer { FS.close(target) }
        let userns = try IDMapNamespace.make(uids: uids, gids: gids, proc: procFD)
        defer { FS.close(userns) }
        let recursive = (mount.options ?? []).contains("ridmap") || options.isRecursiveBind
        do {
            try sys("mount_setattr(MOUNT_ATTR_IDMAP)", source) { berth_bind_idmapped(source, recursive ? 1 : 0, userns, target) }
        } catch {
            if error.errno == EINVAL {
                throw RuntimeError("idmapped bind of \(source): this kernel or the source's filesystem does not support idmapped mounts")
            }
            throw error.context("idmapped bind")
        }
        let remountable = UInt(MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_NOATIME | MS_NODIRATIME | MS_RELATIME | MS_STRICTATIME)
        if options.flags & remountable != 0 {
            try remount(destination, flags: options.flags & remountable, cleared: options.clearedFlags)
        }
        try finish(destination, options: options)
    }

    /// Changes a bind mount's flags. The fd is opened again because the one used to mount still
    /// names the directory underneath; flags the kernel locks (such as nodev from the source) are kept.
    private func remount(_ destination: String, flags: UInt, cleared: UInt = 0) throws(RuntimeError) {
        let fd = try open(destination)
        defer { FS.close(fd) }
        let path = InRoot.procPath(fd)
        let locked = MountSys.lockedFlags(path) & ~cleared & ~UInt(MS_RDONLY)
        do {
            try MountSys.mount(source: nil, target: path, type: nil,
                               flags: UInt(MS_BIND | MS_REMOUNT) | flags | locked, data: nil,
                               describe: root.describe(destination))
        } catch {
            throw error.context("remount")
        }
    }

    /// Propagation changes and recursive (`rro`-style) attributes, which need calls of their own.
    private func finish(_ destination: String, options: MountOptions) throws(RuntimeError) {
        guard !options.propagation.isEmpty || options.recursiveSet != 0 || options.recursiveClear != 0 else { return }
        let fd = try open(destination)
        defer { FS.close(fd) }
        for propagation in options.propagation {
            do {
                try MountSys.mount(source: nil, target: InRoot.procPath(fd), type: nil, flags: propagation, data: nil,
                                   describe: root.describe(destination))
            } catch {
                throw error.context("set propagation")
            }
        }
        if options.recursiveSet != 0 || options.recursiveClear != 0 {
            let result = berth_mount_setattr(fd, "", UInt32(BERTH_AT_EMPTY_PATH | BERTH_AT_RECURSIVE), options.recursiveSet,
                                             options.recursiveClear, 0, 0)
            if result != 0 {
                throw SysError("mount_setattr", root.describe(destination)).context("set recursive mount attributes")
            }
        }
    }

    /// The cgroup filesystem as the container should see it: the v2 tree, or on v1 and hybrid hosts a
    /// tmpfs holding one mount per hierarchy. With a cgroup namespace the kernel shows the container's
    /// cgroup as the root; without one, the container's own directories are bound in.
    private func mountCgroups(destination: String, options: MountOptions) throws(RuntimeError) {
        guard let cgroup, !cgroup.hierarchies.isEmpty else { return }
        let flags = options.flags & ~UInt(MS_RDONLY)
        if CgroupHierarchy.isUnifiedOnly(cgroup.hierarchies) {
            try mountOneCgroup(at: destination, hierarchy: cgroup.hierarchies[0], path: cgroup.paths[0], flags: flags)
        } else {
            let target = try directory(destination)
            do {
                try MountSys.mount(source: "tmpfs", target: InRoot.procPath(target), type: "tmpfs", flags: flags,
                                   data: "mode=755", describe: root.describe(destination))
            } catch {
                FS.close(target)
                throw error.context("mount cgroup tmpfs")
            }
            FS.close(target)
            // On hybrid hosts the v2 tree is left out, as runc and Docker leave it out.
            for (hierarchy, path) in zip(cgroup.hierarchies, cgroup.paths) where !hierarchy.isV2 {
                let name = hierarchy.controllers.map { $0.hasPrefix("name=") ? String($0.dropFirst(5)) : $0 }.joined(separator: ",")
                try mountOneCgroup(at: destination + "/" + name, hierarchy: hierarchy, path: path, flags: flags)
                // Co-mounted controllers (cpu,cpuacct) are also reachable under each name.
                if name.contains(",") {
                    let parent = try open(destination)
                    for alias in name.split(separator: ",") { _ = symlinkat(name, parent, String(alias)) }
                    FS.close(parent)
                }
            }
        }
        if options.flags & UInt(MS_RDONLY) != 0 {
            if !CgroupHierarchy.isUnifiedOnly(cgroup.hierarchies) {
                // The tmpfs itself and every hierarchy below it.
                let fd = try open(destination)
                defer { FS.close(fd) }
                let result = berth_mount_setattr(fd, "", UInt32(BERTH_AT_EMPTY_PATH | BERTH_AT_RECURSIVE), MountOptions.attrRdonly, 0, 0, 0)
                if result != 0 {
                    throw SysError("mount_setattr", root.describe(destination)).context("make cgroup mounts read-only")
                }
            } else {
                try remount(destination, flags: flags | UInt(MS_RDONLY))
            }
        }
    }

    private func mountOneCgroup(at destination: String, hierarchy: CgroupHierarchy, path: String, flags: UInt) throws(RuntimeError) {
        let target = try directory(destination)
        defer { FS.close(target) }
        if newCgroupNamespace {
            let options = hierarchy.isV2 ? nil : hierarchy.controllers.joined(separator: ",")
            do {
                try MountSys.mount(source: "cgroup", target: InRoot.procPath(target), type: hierarchy.isV2 ? "cgroup2" : "cgroup",
                                   flags: flags, data: options, describe: root.describe(destination))
            } catch {
                throw error.context("mount cgroup")
            }
            return
        }
        do {
            try MountSys.mount(source: path, target: InRoot.procPath(target), type: nil, flags: UInt(MS_BIND),
                               data: nil, describe: root.describe(destination))
        } catch {
            throw error.context("bind cgroup")
        }
        if flags != 0 { try remount(destination, flags: flags) }
    }

    /// `tmpcopyup`: the tmpfs starts with a copy of what the image had at that directory.
    private func copyUp(_ destination: String) throws(RuntimeError) {
        // The image's content is still reachable through the rootfs path's underlying directory in a
        // second bind of the rootfs, which is not covered by the new tmpfs.
        // A fresh mkdtemp directory, never a fixed name: a local user could pre-create that as a
        // symlink and have the rootfs bound (and the copy read) wherever it points.
        var template = Array("/tmp/.berth-copyup-XXXXXX".utf8CString)
        guard let made = mkdtemp(&template) else {
            throw RuntimeError("tmpcopyup: creating a scratch directory in /tmp: \(String(cString: strerror(errno)))")
        }
        let scratch = String(cString: made)
        defer { _ = rmdir(scratch) }
        do {
            try MountSys.mount(source: rootfs, target: scratch, type: nil, flags: UInt(MS_BIND), data: nil)
        } catch {
            throw error.context("tmpcopyup")
        }
        defer { _ = umount2(scratch, Int32(MNT_DETACH)) }
        let underlay = InRoot(rootFD: (try? FS.open(scratch, O_RDONLY | O_DIRECTORY)) ?? -1, rootPath: scratch)
        defer { FS.close(underlay.rootFD) }
        guard let from = try? underlay.open(destination, O_RDONLY | O_DIRECTORY) else { return }
        defer { FS.close(from) }
        let to = try open(destination, flags: O_RDONLY | O_DIRECTORY)
        defer { FS.close(to) }
        try TreeCopy.copy(from: from, to: to, describe: root.describe(destination))
    }

    // MARK: - Devices

    /// The devices every container gets when it has its own /dev, and `linux.devices`.
    static let defaultDevices: [Device] = [
        Device(type: "c", path: "/dev/null", major: 1, minor: 3, fileMode: 0o666, uid: 0, gid: 0),
        Device(type: "c", path: "/dev/zero", major: 1, minor: 5, fileMode: 0o666, uid: 0, gid: 0),
        Device(type: "c", path: "/dev/full", major: 1, minor: 7, fileMode: 0o666, uid: 0, gid: 0),
        Device(type: "c", path: "/dev/random", major: 1, minor: 8, fileMode: 0o666, uid: 0, gid: 0),
        Device(type: "c", path: "/dev/urandom", major: 1, minor: 9, fileMode: 0o666, uid: 0, gid: 0),
        Device(type: "c", path: "/dev/tty", major: 5, minor: 0, fileMode: 0o666, uid: 0, gid: 0),
    ]

    private func createDevices(populateDefaults: Bool) throws(RuntimeError) {
        let configured = spec.linux?.devices ?? []
        let defaults = populateDefaults ? Self.defaultDevices.filter { device in !configured.contains { $0.path == device.path } } : []
        for device in defaults + configured {
            try createDevice(device)
        }
    }

    private func createDevice(_ device: Device) throws(RuntimeError) {
        let path = FS.clean("/" + device.path)
        let parentPath = String(path.split(separator: "/").dropLast().joined(separator: "/"))
        let name = String(path.split(separator: "/").last ?? "")
        guard !name.isEmpty else { throw RuntimeError("device path \(device.path) has no name") }
        let parent = try directory("/" + parentPath)
        defer { FS.close(parent) }
        _ = unlinkat(parent, name, 0)
        let typeBits: mode_t
        switch device.type {
        case "b": typeBits = S_IFBLK
        case "p": typeBits = S_IFIFO
        default: typeBits = S_IFCHR
        }
        let mode = typeBits | mode_t(device.fileMode ?? 0o666) & 0o7777
        let number = berth_makedev(UInt32(device.major ?? 0), UInt32(device.minor ?? 0))
        if mknodat(parent, name, mode, number) != 0 {
            guard errno == EPERM && device.type != "p" else {
                throw SysError("mknod", root.describe(path)).context("create device")
            }
            // Without CAP_MKNOD (a user namespace) the host's node is bound in instead.
            let target = try file(path)
            defer { FS.close(target) }
            do {
                try MountSys.mount(source: device.path, target: InRoot.procPath(target), type: nil, flags: UInt(MS_BIND),
                                   data: nil, describe: root.describe(path))
            } catch {
                throw error.context("bind device")
            }
            return
        }
        // The node was just made, but the directory is the image's: never follow a name there.
        _ = FS.chmodNoFollow(parent, name, mode & 0o7777)
        if fchownat(parent, name, device.uid ?? 0, device.gid ?? 0, AT_SYMLINK_NOFOLLOW) != 0 {
            throw SysError("chown", root.describe(path)).context("create device")
        }
    }

    private func createDevLinks() throws(RuntimeError) {
        let dev = try directory("/dev")
        defer { FS.close(dev) }
        var links = [("/proc/self/fd", "fd"), ("/proc/self/fd/0", "stdin"), ("/proc/self/fd/1", "stdout"),
                     ("/proc/self/fd/2", "stderr"), ("pts/ptmx", "ptmx")]
        if FS.exists("/proc/kcore") { links.append(("/proc/kcore", "core")) }
        for (target, name) in links {
            if name == "ptmx" { _ = unlinkat(dev, name, 0) }
            if symlinkat(target, dev, name) != 0 && errno != EEXIST {
                throw SysError("symlink", root.describe("/dev/" + name)).context("create /dev links")
            }
        }
    }

    // MARK: - Masked and read-only paths

    /// Hides `linux.maskedPaths` (directories under an empty read-only tmpfs, files under the host's
    /// /dev/null, reached by a verified fd) and makes `linux.readonlyPaths` read-only.
    func protectPaths() throws(RuntimeError) {
        for path in spec.linux?.maskedPaths ?? [] {
            guard let fd = try openIfPresent(path) else { continue }
            defer { FS.close(fd) }
            let isDir = (try? FS.fstat(fd)).map(FS.isDirectory) ?? false
            do {
                if isDir {
                    try MountSys.mount(source: "tmpfs", target: InRoot.procPath(fd), type: "tmpfs", flags: UInt(MS_RDONLY),
                                       data: "size=0,mode=0755", describe: root.describe(path))
                } else {
                    try MountSys.mount(source: InRoot.procPath(devNullFD), target: InRoot.procPath(fd), type: nil,
                                       flags: UInt(MS_BIND), data: nil, describe: root.describe(path))
                }
            } catch {
                throw error.context("mask path")
            }
        }
        for path in spec.linux?.readonlyPaths ?? [] {
            guard let fd = try openIfPresent(path) else { continue }
            do {
                try MountSys.mount(source: InRoot.procPath(fd), target: InRoot.procPath(fd), type: nil,
                                   flags: UInt(MS_BIND | MS_REC), data: nil, describe: root.describe(path))
            } catch {
                FS.close(fd)
                throw error.context("make path read-only")
            }
            FS.close(fd)
            try remount(path, flags: UInt(MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC))
        }
    }

    // MARK: - pivot_root

    /// Makes the rootfs the process's `/` and detaches the host's tree from this namespace.
    func pivot(noPivot: Bool) throws(RuntimeError) {
        do {
            if noPivot {
                try sys("chdir", rootfs) { chdir(rootfs) }
                try MountSys.mount(source: rootfs, target: "/", type: nil, flags: UInt(MS_MOVE), data: nil, describe: "rootfs onto /")
                try sys("chroot", rootfs) { chroot(".") }
            } else {
                let oldRoot = try FS.open("/", O_RDONLY | O_DIRECTORY)
                defer { FS.close(oldRoot) }
                try sys("chdir", rootfs) { chdir(rootfs) }
                try MountSys.pivotRoot(".", ".")
                // The old root now sits on top of the new one at "."; detach it without
                // propagating the unmount back to the host.
                try sys("fchdir", "old root") { fchdir(oldRoot) }
                try MountSys.mount(source: nil, target: ".", type: nil, flags: UInt(MS_SLAVE | MS_REC), data: nil, describe: "old root")
                try MountSys.umount(".", flags: Int32(MNT_DETACH))
            }
            try sys("chdir", "/") { chdir("/") }
        } catch {
            throw error.context("pivot_root")
        }
        FS.close(root.rootFD)
    }

    /// The mount that holds `path` (the last-mounted of the longest mount points above it in this
    /// namespace's mountinfo) and whether it is shared; read before pivot_root from the host's procfs.
    static func mountPoint(containing path: String) -> (point: String, shared: Bool)? {
        guard let text = try? FS.readText("/proc/self/mountinfo") else { return nil }
        var best: (point: String, shared: Bool)?
        for line in text.split(separator: "\n") {
            let fields = line.split(separator: " ")
            guard fields.count > 6 else { continue }
            let point = unescapeMountinfo(String(fields[4]))
            let within = point == "/" || path == point || path.hasPrefix(point + "/")
            // Optional fields sit between the options and "-"; "shared:N" marks a peer group.
            let shared = fields[6...].prefix { $0 != "-" }.contains { $0.hasPrefix("shared:") }
            if within && point.count >= (best?.point.count ?? -1) { best = (point, shared) }
        }
        return best
    }

    /// mountinfo writes space, tab, newline and backslash as \ooo octal escapes.
    private static func unescapeMountinfo(_ text: String) -> String {
        var bytes: [UInt8] = []
        var input = Array(text.utf8)[...]
        while let byte = input.popFirst() {
            if byte == UInt8(ascii: "\\"), input.count >= 3,
               let value = UInt8(String(decoding: input.prefix(3), as: UTF8.self), radix: 8) {
                bytes.append(value)
                input = input.dropFirst(3)
            } else {
                bytes.append(byte)
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    func makeRootReadonly() throws(RuntimeError) {
        let locked = MountSys.lockedFlags("/")
        do {
            try MountSys.mount(source: nil, target: "/", type: nil, flags: UInt(MS_BIND | MS_REMOUNT | MS_RDONLY) | locked,
                               data: nil, describe: "/ (readonly)")
        } catch {
            throw error.context("make rootfs read-only")
        }
    }

    // MARK: - Resolution inside the rootfs

    private func directory(_ path: String) throws(RuntimeError) -> Int32 {
        do { return try root.mkdirAll(path) } catch { throw error.context("create mount point") }
    }

    private func file(_ path: String) throws(RuntimeError) -> Int32 {
        do { return try root.ensureFile(path) } catch { throw error.context("create mount point") }
    }

    private func open(_ path: String, flags: Int32 = BERTH_O_PATH) throws(RuntimeError) -> Int32 {
        do { return try root.open(path, flags) } catch { throw error.context("open mount point") }
    }

    private func openIfPresent(_ path: String) throws(RuntimeError) -> Int32? {
        do {
            return try root.open(path, BERTH_O_PATH)
        } catch {
            if error.errno == ENOENT || error.errno == ENOTDIR { return nil }
            throw error.context("open")
        }
    }
}
