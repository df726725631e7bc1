import CLinuxSys
import Glibc
import LinuxSys
import OCI

/// The scratch space of one build step under `<runroot>/build/<pid>-<id>`: its overlay mounts and
/// the container's bundle. Removed when the step ends; a killed build's are removed by the next
/// build (the pid in the name is gone).
final class BuildWorkspace {
    let id: String
    let path: String
    let runtimeRoot: String
    var mounts: [String] = []

    init(runRoot: String) throws(BuildError) {
        var random = SystemRandomNumberGenerator()
        id = (0..<4).map { _ in
            let hex = String(random.next(), radix: 16)
            return String(repeating: "0", count: 16 - hex.count) + hex
        }.joined()
        let base = runRoot + "/build"
        path = base + "/\(getpid())-\(id.prefix(12))"
        runtimeRoot = base + "/runtime"
        Self.removeStale(base)
        do { try FS.mkdirAll(path + "/rootfs", mode: 0o700) } catch { throw BuildError("create \(path)", error) }
    }

    /// Workspaces of builds that are no longer running.
    static func removeStale(_ base: String) {
        for name in (try? FS.list(path: base)) ?? [] {
            guard let dash = name.firstIndex(of: "-"), let pid = Int32(name[..<dash]) else { continue }
            if kill(pid, 0) == 0 || errno == EPERM { continue }
            unmountAll(under: base + "/" + name)
            FS.removeAll(base + "/" + name)
        }
    }

    static func unmountAll(under directory: String) {
        guard let text = try? FS.readText("/proc/self/mountinfo") else { return }
        let targets = text.split(separator: "\n").compactMap { line -> String? in
            let fields = line.split(separator: " ")
            guard fields.count > 4 else { return nil }
            let target = String(fields[4])
            return target == directory || target.hasPrefix(directory + "/") ? target : nil
        }
        for target in targets.sorted(by: >) { try? MountSys.umount(target, flags: Int32(MNT_DETACH)) }
    }

    func mountOverlay(lower: [String], upper: String, work: String, at target: String) throws(BuildError) {
        let empty = path + "/empty"
        _ = try? FS.mkdirAll(empty, mode: 0o755)
        let stack = lower.isEmpty ? [empty] : Array(lower.reversed())
        let data = "lowerdir=\(stack.joined(separator: ":")),upperdir=\(upper),workdir=\(work)"
        guard data.utf8.count < 4000 else { throw BuildError("too many layers for one overlay mount (\(lower.count))") }
        do { try MountSys.mount(source: "overlay", target: target, type: "overlay", flags: 0, data: data) } catch {
            throw BuildError("mount the build container's root", error)
        }
        mounts.append(target)
    }

    /// An overlay of `lower` without an upper directory: read-only by construction.
    func mountReadOnly(_ lower: [String]) throws(BuildError) -> String {
        let target = path + "/view\(mounts.count)"
        let empty = path + "/empty"
        do {
            try FS.mkdirAll(target, mode: 0o700)
            try FS.mkdirAll(empty, mode: 0o755)
        } catch { throw BuildError("create \(target)", error) }
        // Overlayfs wants two lower directories when there is no upper one.
        let stack = Array(lower.reversed()) + [empty] + (lower.isEmpty ? [empty + "2"] : [])
        if lower.isEmpty { _ = try? FS.mkdirAll(empty + "2", mode: 0o755) }
        let data = "lowerdir=\(stack.joined(separator: ":"))"
        guard data.utf8.count < 4000 else { throw BuildError("too many layers for one overlay mount (\(lower.count))") }
        do { try MountSys.mount(source: "overlay", target: target, type: "overlay", flags: UInt(MS_RDONLY), data: data) } catch {
            throw BuildError("mount a read-only view of \(lower.count) layers", error)
        }
        mounts.append(target)
        return target
    }

    func unmount(_ target: String) {
        try? MountSys.umount(target, flags: Int32(MNT_DETACH))
        mounts.removeAll { $0 == target }
    }

    func remove() {
        for target in mounts.reversed() { try? MountSys.umount(target, flags: Int32(MNT_DETACH)) }
        mounts = []
        Self.unmountAll(under: path)
        FS.removeAll(path)
    }

    // MARK: - Mount points

    /// Creates the spec's mount destinations the rootfs lacks; returns the first missing component
    /// of each (relative, e.g. `proc`, `run/secrets`), to take out of the layer afterwards.
    func makeMountPoints(_ spec: Spec, in rootfs: String) throws(BuildError) -> [String] {
        let rootFD: Int32
        do { rootFD = try FS.open(rootfs, BERTH_O_PATH | O_DIRECTORY | O_CLOEXEC) } catch { throw BuildError("open the build root", error) }
        defer { FS.close(rootFD) }
        let inRoot = InRoot(rootFD: rootFD, rootPath: rootfs)
        var made: [String] = []
        for mount in spec.mounts ?? [] {
            let parts = FS.clean(mount.destination).split(separator: "/").map(String.init)
            guard !parts.isEmpty else { continue }
            var firstMissing: String?
            for count in 1...parts.count {
                let prefix = parts[0..<count].joined(separator: "/")
                if let fd = try? inRoot.open("/" + prefix, BERTH_O_PATH) { FS.close(fd); continue }
                firstMissing = prefix
                break
            }
            guard let firstMissing else { continue }
            let isFile = mount.type == "bind" && mount.source.map { (try? FS.stat($0)).map { !FS.isDirectory($0) } ?? false } == true
            do {
                let fd = isFile ? try inRoot.ensureFile(mount.destination) : try inRoot.mkdirAll(mount.destination)
                FS.close(fd)
            } catch {
                throw BuildError("create the mount point \(mount.destination)", error)
            }
            if !made.contains(firstMissing) { made.append(firstMissing) }
        }
        return made
    }

    /// Takes the mount points made for the run out of the upper directory, where they are still
    /// empty (a directory or file the command itself filled in stays).
    func removeMountPoints(_ made: [String], from upper: String) {
        func removeIfEmpty(_ path: String) -> Bool {
            guard let status = try? FS.lstat(path) else { return true }
            if FS.isDirectory(status) {
                var empty = true
                for name in (try? FS.list(path: path)) ?? [] where !removeIfEmpty(path + "/" + name) { empty = false }
                return empty && rmdir(path) == 0
            }
            if (status.st_mode & S_IFMT) == S_IFREG && status.st_size == 0 { return unlink(path) == 0 }
            return false
        }
        for relative in made.reversed() { _ = removeIfEmpty(upper + "/" + relative) }
    }

    // MARK: - The container

    /// `berth-runtime run` on the bundle; its stdout and stderr come back line by line.
    /// `handing`: fds the runtime gets as 3, 4 … (detached bind-source trees).
    func runContainer(id: String, handing: [Int32] = [], output: (String) -> Void) throws(BuildError) -> Int32 {
        guard let runtime = Self.runtimeBinary() else {
            throw BuildError("berth-runtime not found beside berth or in /usr/local/bin, /usr/bin (or set BERTH_RUNTIME)")
        }
        var fds: [Int32] = [0, 0]
        guard berth_pipe2(&fds, O_CLOEXEC) == 0 else { throw BuildError("pipe", SysError("pipe2")) }
        let pid: pid_t
        do {
            pid = try ProcessSys.spawn([runtime, "--root", runtimeRoot, "run", "--bundle", path, id],
                                       keep: [(fds[1], 1), (fds[1], 2)] + handing.enumerated().map { ($0.element, Int32(3 + $0.offset)) },
                                       newSession: false)
        } catch {
            FS.close(fds[0]); FS.close(fds[1])
            throw BuildError("start \(runtime)", error)
        }
        FS.close(fds[1])
        var pending: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let count = buffer.withUnsafeMutableBytes { Glibc.read(fds[0], $0.baseAddress, $0.count) }
            if count < 0 && errno == EINTR { continue }
            if count <= 0 { break }
            pending += buffer[0..<count]
            while let newline = pending.firstIndex(of: 0x0A) {
                output(String(decoding: pending[..<newline], as: UTF8.self))
                pending.removeSubrange(...newline)
            }
        }
        if !pending.isEmpty { output(String(decoding: pending, as: UTF8.self)) }
        FS.close(fds[0])
        let exit: ProcessSys.Exit
        do { exit = try ProcessSys.wait(pid) } catch { throw BuildError("wait for the build container", error) }
        return exit.shellStatus
    }

    /// BERTH_RUNTIME, else beside berth, else /usr/local/bin or /usr/bin (Engine's lookup).
    static func runtimeBinary() -> String? { Executables.sibling("berth-runtime") }
}
