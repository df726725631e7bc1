import Foundation
import TestSupport
import Testing

/// `--pid`, `--ipc`, `--uts`, `--userns`: which namespaces the container's processes are in, seen
/// from inside it (the /proc/PID/ns inodes), and Docker's refusals.
@Suite(.enabled(if: EngineEnv.ready), .serialized)
struct NamespaceFlagTests {
    /// This process's namespace of a kind, as `readlink /proc/self/ns/KIND` prints it.
    static func hostNamespace(_ kind: String) throws -> String {
        try FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/ns/" + kind)
    }

    @Test func pidHostSeesTheHostsInit() throws {
        let berth = try BerthEngine()
        defer { berth.remove() }
        let hostInit = try String(contentsOfFile: "/proc/1/comm", encoding: .utf8)
        let ns = "readlink /proc/self/ns/pid; cat /proc/1/comm; true"
        #expect(try berth.call("run", "--rm", "--pid", "host", "busybox:test", "sh", "-c", ns) == "\(try Self.hostNamespace("pid"))\n\(hostInit)")
        // Without it: a namespace of its own, whose init is the container's process.
        let own = try berth.call("run", "--rm", "busybox:test", "sh", "-c", ns)
        let hostPID = try Self.hostNamespace("pid")
        #expect(own.hasSuffix("\nsh\n") && !own.hasPrefix(hostPID), "\(own)")
        #expect(try berth.inspect(try berth.call("create", "--pid", "host", "busybox:test").trimmingCharacters(in: .whitespacesAndNewlines),
                                  "{{.HostConfig.PidMode}}") == "host")
    }

    @Test func pidContainerJoinsARunningContainer() throws {
        let berth = try BerthEngine()
        defer { berth.remove() }
        try berth.call("run", "-d", "--name", "donor", "busybox:test", "sleep", "300")
        let donorNS = try berth.call("exec", "donor", "readlink", "/proc/self/ns/pid")
        let joined = try berth.call("run", "--rm", "--pid", "container:donor", "busybox:test", "sh", "-c", "readlink /proc/self/ns/pid; cat /proc/1/comm")
        #expect(joined == donorNS + "sleep\n")

        // A container that does not run cannot be joined: Docker's words, 125, and the run's container is left created.
        try berth.call("run", "--name", "ended", "busybox:test", "true")
        let id = try berth.inspect("ended", "{{.Id}}")
        let refused = try berth.callAnyway(["run", "--pid", "container:ended", "busybox:test", "true"])
        #expect(refused.status == 125)
        #expect(refused.stderr == "berth: Error response from daemon: container \(id) is not running\n")
        let missing = try berth.callAnyway(["create", "--pid", "container:nosuch", "busybox:test"])
        #expect(missing.status == 125 && missing.stderr.contains("No such container: nosuch"), "\(missing.stderr)")
        let bad = try berth.callAnyway(["create", "--pid", "bogus", "busybox:test"])
        #expect(bad.status == 125 && bad.stderr == "berth: --pid: invalid PID mode\n", "\(bad.stderr)")
    }

    @Test func ipcShareableContainerAndHost() throws {
        let berth = try BerthEngine()
        defer { berth.remove() }
        try berth.call("run", "-d", "--name", "shared", "--ipc", "shareable", "busybox:test", "sh", "-c", "echo hi > /dev/shm/f; sleep 300")
        let donorNS = try berth.call("exec", "shared", "readlink", "/proc/self/ns/ipc")
        // The same namespace and the same /dev/shm.
        let joined = try berth.call("run", "--rm", "--ipc", "container:shared", "busybox:test", "sh", "-c", "readlink /proc/self/ns/ipc; cat /dev/shm/f")
        #expect(joined == donorNS + "hi\n")
        #expect(donorNS != (try Self.hostNamespace("ipc")) + "\n")
        #expect(try berth.inspect("shared", "{{.HostConfig.IpcMode}}") == "shareable")

        // A private one (Docker's default) cannot be joined.
        try berth.call("run", "-d", "--name", "private", "busybox:test", "sleep", "300")
        let id = try berth.inspect("private", "{{.Id}}")
        #expect(try berth.inspect("private", "{{.HostConfig.IpcMode}}") == "private")
        let refused = try berth.callAnyway(["run", "--rm", "--ipc", "container:private", "busybox:test", "true"])
        #expect(refused.status == 125)
        #expect(refused.stderr == "berth: Error response from daemon: can't join IPC of container \(id): non-shareable IPC (hint: use IpcMode:shareable for the donor container)\n")

        // The host's, with its /dev/shm; none at all with `none`.
        let host = try berth.call("run", "--rm", "--ipc", "host", "busybox:test", "sh", "-c", "readlink /proc/self/ns/ipc; grep -c ' /dev/shm ' /proc/mounts")
        #expect(host == (try Self.hostNamespace("ipc")) + "\n1\n")
        let none = try berth.callAnyway(["run", "--rm", "--ipc", "none", "busybox:test", "ls", "/dev/shm"])
        #expect(none.status == 1 && none.stderr.contains("No such file or directory"), "\(none.stderr)")

        // The shareable container's /dev/shm goes with it: nothing of it stays mounted on the host.
        try berth.call("rm", "-f", "shared")
        #expect(!berth.mounts.contains { $0.hasSuffix("/shm") }, "\(berth.mounts)")
    }

    @Test func utsAndUsernsHost() throws {
        let berth = try BerthEngine()
        defer { berth.remove() }
        let hostname = try String(contentsOfFile: "/proc/sys/kernel/hostname", encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
        let hostUTS = try Self.hostNamespace("uts")
        let out = try berth.call("run", "--rm", "--uts", "host", "busybox:test", "sh", "-c", "readlink /proc/self/ns/uts; hostname")
        #expect(out == "\(hostUTS)\n\(hostname)\n")
        let conflict = try berth.callAnyway(["run", "--rm", "--uts", "host", "-h", "foo", "busybox:test", "true"])
        #expect(conflict.status == 125 && conflict.stderr == "berth: Error response from daemon: conflicting options: hostname and the UTS mode\n")
        // Nothing is remapped here, with or without it.
        #expect(try berth.call("run", "--rm", "--userns", "host", "busybox:test", "cat", "/proc/self/uid_map")
                == (try String(contentsOfFile: "/proc/self/uid_map", encoding: .utf8)))
        let id = try berth.call("create", "--uts", "host", "--userns", "host", "busybox:test").trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(try berth.inspect(id, "{{.HostConfig.UTSMode}} {{.HostConfig.UsernsMode}} {{.HostConfig.PidMode}}|") == "host host |")
    }
}
