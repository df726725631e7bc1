import CLinuxSys
import Glibc

/// TCP connections made inside another network namespace (a container's or a Pod's). A socket
/// belongs to the namespace it was created in, and setns changes only the calling thread's: a
/// thread of its own enters the namespace, connects, and ends, handing the connected socket back.
public enum NetworkNamespace {
    /// Connects to `port` on the loopback of the namespace at `path` (`/proc/PID/ns/net`): IPv4
    /// first, then IPv6, as a kubelet's port-forward does. Throws the IPv4 failure (ECONNREFUSED…)
    /// when neither answers.
    public static func connectLoopback(namespace path: String, port: UInt16) throws(SysError) -> FileDescriptor {
        let namespaceFD = try FS.open(path, O_RDONLY | O_CLOEXEC)
        defer { FS.close(namespaceFD) }
        final class Outcome: @unchecked Sendable {
            let lock = ConditionLock()
            var done = false
            var fd: Int32 = -1
            var error: SysError?
        }
        let outcome = Outcome()
        let started = Threads.detach {
            var fd: Int32 = -1
            var failure: SysError?
            if berth_setns(namespaceFD, CLONE_NEWNET) != 0 {
                failure = SysError("setns", path)
            } else {
                do throws(SysError) { fd = try connect(port: port, ipv6: false) } catch {
                    failure = error
                    if let six = try? connect(port: port, ipv6: true) {
                        fd = six
                        failure = nil
                    }
                }
            }
            outcome.lock.withLock {
                outcome.fd = fd
                outcome.error = failure
                outcome.done = true
                outcome.lock.broadcast()
            }
            // The thread ends here, and its namespace with it.
        }
        guard started else { throw SysError("pthread_create", "connect in \(path)", errno: EAGAIN) }
        let (fd, failure) = outcome.lock.withLock { () -> (Int32, SysError?) in
            while !outcome.done { outcome.lock.wait() }
            return (outcome.fd, outcome.error)
        }
        if let failure { throw failure }
        return FileDescriptor(adopting: fd)
    }

    private static func connect(port: UInt16, ipv6: Bool) throws(SysError) -> Int32 {
        let fd = socket(ipv6 ? AF_INET6 : AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw SysError("socket", "tcp") }
        var result: Int32
        if ipv6 {
            var address = sockaddr_in6()
            address.sin6_family = sa_family_t(AF_INET6)
            address.sin6_port = port.bigEndian
            address.sin6_addr = in6addr_loopback
            result = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in6>.size)) }
            }
        } else {
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_port = port.bigEndian
            address.sin_addr.s_addr = UInt32(0x7f00_0001).bigEndian
            result = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
            }
        }
        if result != 0 {
            let error = SysError("connect", (ipv6 ? "[::1]:" : "127.0.0.1:") + String(port))
            Glibc.close(fd)
            throw error
        }
        return fd
    }
}
