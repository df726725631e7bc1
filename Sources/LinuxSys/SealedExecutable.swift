import CLinuxSys
import Glibc

/// runc's CVE-2019-5736, and why every Berth process that enters a container runs from a sealed
/// binary.
///
/// A process that enters a container (a container's init, an exec'd process, a health probe) is a
/// clone of the Berth program that made it, and stays that program until it execs the container's
/// command. A container can make that exec run our program again: `#!/proc/self/exe` as the first
/// line of the command resolves the interpreter while the process is still ours. Our binary then
/// runs inside the container, dumpable, and a process there opens `/proc/PID/exe` and writes the
/// host's file as soon as it is no longer busy: the next `berth` on the host runs the container's
/// code as root.
///
/// So the program re-executes itself first from a copy nothing can write: a private read-only
/// bind mount of its own file (no copy: the same inode, on a detached mount that only this process
/// holds), or, where mounts are not allowed (a rootless runtime), a write-sealed memfd copy.
/// `/proc/PID/exe` then names that, and opening it for writing fails (EROFS, or EPERM on the seals).
public enum SealedExecutable {
    /// The path the program was started as, carried across the re-exec (the sealed copy's own
    /// path says nothing about where the program is installed, and its siblings are found there).
    public static let pathVariable = "BERTH_EXECUTABLE"

    /// Whether the running program's file cannot be written through `/proc/self/exe`.
    public static var isRunningSealed: Bool {
        guard let fd = try? FS.openOwned("/proc/self/exe", O_RDONLY) else { return false }
        return isSealed(fd.raw)
    }

    /// A read-only mount, or a memfd whose content is sealed.
    public static func isSealed(_ fd: Int32) -> Bool {
        var fs = statvfs()
        if fstatvfs(fd, &fs) == 0, fs.f_flag & UInt(ST_RDONLY) != 0 { return true }
        let seals = fcntl(fd, BERTH_F_GET_SEALS)
        return seals >= 0 && seals & BERTH_F_SEAL_WRITE != 0
    }

    /// Where the running program was installed: the path it was started as, or what it says it
    /// was started as before a re-exec (checked to be the same file when it can be).
    public static var installedPath: String? {
        if let carried = getenv(pathVariable).map({ String(cString: $0) }), carried.hasPrefix("/") {
            var carriedStat = stat()
            var selfStat = stat()
            guard stat(carried, &carriedStat) == 0, stat("/proc/self/exe", &selfStat) == 0 else { return nil }
            // A bind mount keeps the inode; a memfd copy has its own, so only its seals vouch for it.
            if carriedStat.st_ino == selfStat.st_ino && carriedStat.st_dev == selfStat.st_dev { return carried }
            if isRunningSealed { return carried }
        }
        guard let path = try? FS.readlink("/proc/self/exe"), path.hasPrefix("/") else { return nil }
        return path
    }

    /// An fd that executes `path` and cannot be written through: a detached read-only bind mount
    /// of it, or a sealed memfd copy when this process may not make mounts. Close-on-exec.
    public static func open(_ path: String) throws(SysError) -> Int32 {
        let tree = berth_open_tree(AT_FDCWD, path, BERTH_OPEN_TREE_CLONE | BERTH_OPEN_TREE_CLOEXEC)
        if tree >= 0 {
            let attributes = BERTH_MOUNT_ATTR_RDONLY | BERTH_MOUNT_ATTR_NOSUID | BERTH_MOUNT_ATTR_NODEV
            if berth_mount_setattr(tree, "", UInt32(BERTH_AT_EMPTY_PATH), attributes, 0, 0, 0) == 0 { return tree }
            _ = Glibc.close(tree)
        }
        return try sealedCopy(path)
    }

    /// A memfd holding a copy of `path`, sealed against every change.
    static func sealedCopy(_ path: String) throws(SysError) -> Int32 {
        let source = try FS.openOwned(path, O_RDONLY)
        let copy = FileDescriptor(adopting: try sys("memfd_create", "copy of \(path)") { berth_memfd_sealable("berth-sealed") })
        try sys("copy", "\(path) into a sealed memfd") { berth_copy_file(source.raw, copy.raw) }
        let seals = BERTH_F_SEAL_SEAL | BERTH_F_SEAL_SHRINK | BERTH_F_SEAL_GROW | BERTH_F_SEAL_WRITE
        try sys("seal", "copy of \(path)") { fcntl(copy.raw, BERTH_F_ADD_SEALS, seals) }
        return copy.take()
    }

    /// execveat(fd, "") names the process after the fd ("14" in `ps`, `top`, `pgrep`): give it back
    /// the program's name (the kernel keeps the first 15 bytes).
    static func restoreCommandName(_ arguments: [String]) {
        guard let path = installedPath ?? arguments.first else { return }
        let name = path.split(separator: "/").last.map(String.init) ?? path
        try? FS.writeFile("/proc/self/comm", name)
    }

    /// Re-executes the running program, with the same arguments and environment, from a sealed
    /// copy of itself, unless it already runs from one. Returns only if it already does; throws
    /// when no sealed copy can be made (the caller must then not enter a container).
    public static func reexecIfNeeded(_ arguments: [String] = CommandLine.arguments) throws(SysError) {
        if isRunningSealed {
            restoreCommandName(arguments)
            return
        }
        let installed = installedPath
        let sealed = try open("/proc/self/exe")
        let fd = FileDescriptor(adopting: sealed)
        if let installed { setenv(pathVariable, installed, 1) }
        var cArgs = arguments.map { strdup($0) } + [nil]
        defer { for arg in cArgs { free(arg) } }
        _ = berth_execveat(fd.raw, &cArgs, environ)
        throw SysError("execveat", "sealed copy of \(installed ?? "/proc/self/exe")")
    }

    /// Starts `binary` from a sealed copy of it (a program that enters a container: the
    /// supervisor, `berth-runtime exec`), told where it is installed so it finds its siblings.
    public static func spawn(_ binary: String, _ argv: [String], keep: [(fd: Int32, as: Int32)],
                             newSession: Bool) throws(SysError) -> pid_t {
        let sealed = try open(binary)
        defer { FS.close(sealed) }
        return try ProcessSys.spawn(argv, keep: keep, newSession: newSession, executable: sealed,
                                    environment: environment(setting: pathVariable, to: binary))
    }

    /// Our environment with `name` set to `value`.
    static func environment(setting name: String, to value: String) -> [String] {
        var entries: [String] = []
        var cursor = environ
        while let entry = cursor.pointee {
            let text = String(cString: entry)
            if !text.hasPrefix(name + "=") { entries.append(text) }
            cursor += 1
        }
        return entries + [name + "=" + value]
    }
}
