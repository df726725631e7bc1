import CLinuxSys
import Glibc
import LinuxSys

/// A network namespace that outlives any process in it: bind-mounted on a file, as `ip netns add`
/// and Podman keep them. The container joins it by path, so its restarts keep the same address,
/// and CNI plugins enter it by path to set up and remove interfaces.
public enum NetworkNamespace {
    /// Creates a new namespace bound at `path`, with its `lo` up (what the CNI loopback plugin
    /// would do, without starting a process). The calling thread enters the new namespace only for
    /// that and the bind mount, and goes back to its own before returning.
    public static func create(at path: String) throws(NetworkError) {
        let original: Int32
        do { original = try FS.open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC) } catch {
            throw NetworkError("open this thread's network namespace", error)
        }
        defer { FS.close(original) }
        do {
            let fd = try FS.open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode: 0o444)
            FS.close(fd)
        } catch {
            throw NetworkError("create the network namespace file", error)
        }
        guard berth_unshare(CLONE_NEWNET) == 0 else {
            let error = SysError("unshare", "CLONE_NEWNET")
            _ = unlink(path)
            throw NetworkError("create a network namespace", error)
        }
        // No IPv6 in it (set before lo is up), as dockerd leaves a namespace on networks without
        // IPv6 (Berth's bridges have none): no ::1, no link-local address, so glibc does not sort a
        // name's addresses by prefix and a service's replicas all get their turn. A `--sysctl`
        // applied later overrides it. /proc/sys/net is this thread's namespace; a kernel without
        // IPv6 has no such file.
        for scope in ["all", "default"] {
            try? FS.writeFile("/proc/sys/net/ipv6/conf/\(scope)/disable_ipv6", "1")
        }
        var failure: (String, SysError)?
        // A socket made here belongs to the new namespace: its ioctl acts on the new `lo`.
        if berth_interface_up("lo") != 0 {
            failure = ("bring up lo in the network namespace at \(path)", SysError("ioctl", "SIOCSIFFLAGS lo"))
        } else {
            do {
                try MountSys.mount(source: "/proc/thread-self/ns/net", target: path, type: nil, flags: UInt(MS_BIND), data: nil)
            } catch {
                failure = ("bind the network namespace at \(path)", error)
            }
        }
        // Back to where we were; without this the thread would stay in the empty namespace.
        guard berth_setns(original, CLONE_NEWNET) == 0 else {
            // Not an error to report and carry on from: every later plugin and iptables call of
            // this thread would act inside the container's namespace. Stop here.
            let message = "berth: cannot return to the host's network namespace: \(SysError("setns"))\n"
            _ = message.withCString { write(2, $0, strlen($0)) }
            abort()
        }
        if let (what, error) = failure {
            _ = unlink(path)
            throw NetworkError(what, error)
        }
    }

    /// Unmounts and removes it; the kernel frees the namespace once nothing else holds it.
    public static func remove(at path: String) {
        _ = umount2(path, Int32(MNT_DETACH))
        _ = unlink(path)
    }

    public static func exists(at path: String) -> Bool { access(path, F_OK) == 0 }
}
