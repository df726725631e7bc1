import ContainerSpec
import Glibc
import LinuxSys

// A container's init layer, as Docker has one: a layer of its own between the image's and the
// container's upper directory, holding the mount points the engine needs in every container
// (/etc/hosts and its siblings, /proc, /sys, /dev; Docker's /etc/mtab link too). Without it the runtime creates them in the
// upper directory, and `diff`, `commit` and `export`, which read that directory as the
// container's own changes, would show and keep them.

extension Engine {
    /// What an init layer entry is.
    enum InitEntry {
        /// Made where the image has no directory.
        case directory
        /// Empty, 0755 (as Docker makes them), in place of whatever file the image has there.
        case file
        /// In place of whatever file the image has there.
        case symlink(String)
    }

    /// What the init layer holds (paths from the root): Docker's, but /.dockerenv.
    static let initLayerEntries: [(path: String, kind: InitEntry)] = [
        ("dev/pts", .directory), ("dev/shm", .directory), ("proc", .directory), ("sys", .directory),
        ("etc/resolv.conf", .file), ("etc/hosts", .file), ("etc/hostname", .file), ("dev/console", .file),
        ("etc/mtab", .symlink("/proc/mounts")),
    ]

    func initLayerPath(_ id: String) -> String { containerDirectory(id) + "/init" }

    /// The container's init layer, made the first time its rootfs is mounted. `layers` are the
    /// image's snapshots, lowest first. The directories that hold an entry keep the image's mode
    /// and owner where the image has them; a path the image blocks (a symlink or a file where a
    /// directory would go) is left to the runtime, as it was before there was an init layer.
    func prepareInitLayer(_ container: Container, layers: [String]) throws(EngineError) -> String {
        let target = initLayerPath(container.id)
        if FS.exists(target) { return target }
        let view = try LayerView(layers: layers.reversed())
        // Made aside and renamed: a layer is there whole or not at all (a second CLI may be at it too).
        let temporary = target + ".tmp-\(ProcessSys.currentPID)"
        FS.removeAll(temporary)
        do {
            try makeDirectory(temporary, mode: 0o755, owner: nil)
            entries: for (path, kind) in Self.initLayerEntries {
                let components = path.split(separator: "/").map(String.init)
                if let existing = view.entry(components), LayerView.isDirectory(existing.status) { continue }
                for depth in 1..<components.count {
                    let parent = Array(components[0..<depth])
                    let location = temporary + "/" + parent.joined(separator: "/")
                    if FS.exists(location) { continue }
                    if let above = view.entry(parent) {
                        guard LayerView.isDirectory(above.status) else { continue entries }
                        try makeDirectory(location, mode: above.status.st_mode & 0o7777, owner: (above.status.st_uid, above.status.st_gid))
                    } else {
                        try makeDirectory(location, mode: 0o755, owner: nil)
                    }
                }
                let location = temporary + "/" + path
                switch kind {
                case .directory:
                    try makeDirectory(location, mode: 0o755, owner: nil)
                case .file:
                    let fd = try FS.open(location, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode: 0o755)
                    defer { FS.close(fd) }
                    try sys("fchmod", location) { fchmod(fd, 0o755) }
                case .symlink(let target):
                    try sys("symlink", location) { symlink(target, location) }
                }
            }
            try sys("rename", temporary) { Glibc.rename(temporary, target) }
        } catch {
            FS.removeAll(temporary)
            // Another CLI made it meanwhile.
            if FS.exists(target) { return target }
            throw .system("make the init layer of \(container.name)", error)
        }
        return target
    }

    private func makeDirectory(_ path: String, mode: mode_t, owner: (uid_t, gid_t)?) throws(SysError) {
        try FS.mkdir(path, mode: mode)
        if let owner { try sys("chown", path) { lchown(path, owner.0, owner.1) } }
        try sys("chmod", path) { chmod(path, mode) }
    }
}
