import Glibc
import LinuxSys

/// Where the runtime keeps its compiled seccomp programs (see PreparedSeccomp): a directory of its
/// own, never under `--root`. The caller owns its root (containerd's shim passes
/// /run/containerd/runc/k8s.io, dockerd /run/docker/runtime-runc/moby) and may list or remove what
/// is in it; and a program keyed by its whole profile serves every root alike, so one cache is
/// shared by all of them.
///
/// The runtime installs a cached program in containers without checking it again, so whoever can
/// write the directory could switch seccomp off for every container: it is used only when it is a
/// real directory (not a symlink) owned by this user that no one else can write, and it sits
/// straight in a directory others cannot rename it in (/run, $XDG_RUNTIME_DIR, sticky /tmp).
/// Otherwise programs are compiled each time. On tmpfs: emptied at boot, which the kernel release
/// in the key would make stale anyway.
enum SeccompCache {
    /// The cache directory for this user, made (0700) if missing; nil when none can be trusted.
    static func directory() -> String? {
        let runtimeDir = getenv("XDG_RUNTIME_DIR").map { String(cString: $0) }
        for path in candidates(euid: geteuid(), runtimeDir: runtimeDir) {
            if Glibc.mkdir(path, 0o700) != 0 && errno != EEXIST { continue }
            if isTrusted(path, euid: geteuid()) { return path }
        }
        return nil
    }

    /// /run/berth-runtime-seccomp for root; then, for an ordinary user or a root in a user
    /// namespace that cannot write /run (rootless Podman), one under $XDG_RUNTIME_DIR, as the default
    /// --root; last a name of its own in /tmp.
    static func candidates(euid: uid_t, runtimeDir: String?) -> [String] {
        var paths: [String] = []
        if euid == 0 { paths.append("/run/berth-runtime-seccomp") }
        if let runtimeDir, runtimeDir.hasPrefix("/") { paths.append(runtimeDir + "/berth-runtime-seccomp") }
        paths.append("/tmp/berth-runtime-seccomp-\(euid)")
        return paths
    }

    /// A directory, not a symlink, owned by `euid`, that neither group nor others can write.
    static func isTrusted(_ path: String, euid: uid_t) -> Bool {
        guard let st = try? FS.lstat(path) else { return false }
        return FS.isDirectory(st) && st.st_uid == euid && st.st_mode & 0o022 == 0
    }
}
