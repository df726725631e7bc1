import Foundation
import TestSupport
import Testing

/// What an engine without a daemon must still get right: images in use are kept, containers come
/// back after a host restart, and pid 1 inside does its job (`--init`, signals from the CLI).
@Suite(.enabled(if: EngineEnv.ready), .serialized)
struct EngineAdminTests {
    @Test func imagesUsedByContainersAreKept() throws {
        let berth = try BerthEngine()
        defer { berth.remove() }
        let imageID = try berth.call("images", "-q", "--no-trunc", "busybox:test").trimmingCharacters(in: .whitespacesAndNewlines)
        let short = String(imageID.dropFirst(7).prefix(12))
        try berth.call("tag", "busybox:test", "other:tag")
        let running = try berth.call("run", "-d", "--name", "up", "busybox:test", "sleep", "600").trimmingCharacters(in: .whitespacesAndNewlines)

        // Another name may go; the image stays.
        #expect(try berth.call("rmi", "other:tag") == "Untagged: other:tag\n")
        // Its last name may not, while a container uses it (Docker's message and status).
        let lastName = try berth.callAnyway(["rmi", "busybox:test"])
        #expect(lastName.status == 1)
        #expect(lastName.stderr.contains("conflict: unable to remove repository reference \"busybox:test\" (must force) - container \(running.prefix(12)) is using its referenced image \(short)"), "\(lastName.stderr)")
        // By ID, not even with -f while it runs.
        let byID = try berth.callAnyway(["rmi", "-f", imageID])
        #expect(byID.status == 1)
        #expect(byID.stderr.contains("conflict: unable to delete \(short) (cannot be forced) - image is being used by running container \(running.prefix(12))"), "\(byID.stderr)")
        // Prune of every unused image keeps it.
        try berth.call("image", "prune", "-a", "-f")
        #expect(try berth.call("images", "-q", "--no-trunc").contains(imageID))
        #expect(try berth.inspect("up", "{{.State.Status}}") == "running")

        // Stopped: by ID it must be forced, and -f only untags it; the container still starts.
        try berth.call("stop", "-t", "0", "up")
        let stopped = try berth.callAnyway(["rmi", imageID])
        #expect(stopped.status == 1 && stopped.stderr.contains("(must be forced) - image is being used by stopped container \(running.prefix(12))"), "\(stopped.stderr)")
        #expect(try berth.call("rmi", "-f", imageID) == "Untagged: busybox:test\n")
        #expect(try berth.call("images", "-q", "--no-trunc").contains(imageID))
        try berth.call("start", "up")
        #expect(try berth.inspect("up", "{{.State.Status}}") == "running")

        // Once no container uses it, it goes.
        try berth.call("rm", "-f", "up")
        #expect(try berth.call("rmi", imageID) == "Deleted: \(imageID)\n")
        #expect(try berth.call("images", "-q").isEmpty)
    }

    /// A host restart, as far as a test can make one: every supervisor and container killed -9,
    /// their mounts gone, the run directory (tmpfs /run) emptied.
    func simulateHostRestart(_ berth: BerthEngine) throws {
        try sh(["/bin/sh", "-c", """
            killed=""
            # The supervisor first, then its children (read before): killed the other way round, a
            # supervisor that sees its container end restarts it (always, unless-stopped) if the
            # shell is descheduled for its 100 ms backoff on a loaded machine.
            for p in $(pgrep -f 'berth-supervisor \(berth.runRoot)/'); do
              children=$(cat /proc/$p/task/$p/children 2>/dev/null)
              kill -9 $p
              killed="$killed $p"
              for c in $children; do kill -9 $c; killed="$killed $c"; done
            done
            # Until every killed process is gone (not even a zombie waiting for init): a loaded
            # machine takes longer than a fixed pause.
            for _ in $(seq 1 100); do
              left=""
              for k in $killed; do [ -e /proc/$k ] && [ "$(cut -d' ' -f3 /proc/$k/stat 2>/dev/null)" != Z ] && left="$left $k"; done
              [ -z "$left" ] && break
              sleep 0.05
            done
            sleep 0.3
            grep -o ' \(berth.base)[^ ]*' /proc/self/mountinfo | sort -r | xargs -r -n1 umount -l
            rm -rf \(berth.runRoot)
            """])
    }

    /// `rm` moves the container's directory into `<root>/trash` and the CLI deletes it before it
    /// returns; what a server killed mid-deletion left there goes with the next `system boot`.
    @Test func removalGoesThroughTheTrash() throws {
        let berth = try BerthEngine()
        defer { berth.remove() }
        let id = try berth.call("run", "-d", "busybox:test", "sh", "-c", "mkdir /many && for i in $(seq 300); do echo $i > /many/$i; done; sleep 600")
            .trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(FileManager.default.fileExists(atPath: berth.root + "/containers/" + id))
        try berth.call("rm", "-f", id)
        #expect(!FileManager.default.fileExists(atPath: berth.root + "/containers/" + id))
        #expect(((try? FileManager.default.contentsOfDirectory(atPath: berth.root + "/trash")) ?? []).isEmpty)

        let leftover = berth.root + "/trash/" + id + ".killed/upper/many"
        try FileManager.default.createDirectory(atPath: leftover, withIntermediateDirectories: true)
        try "x".write(toFile: leftover + "/1", atomically: false, encoding: .utf8)
        try FileManager.default.createSymbolicLink(atPath: leftover + "/etc", withDestinationPath: "/etc")
        #expect(try berth.call("system", "boot").isEmpty)
        #expect(try FileManager.default.contentsOfDirectory(atPath: berth.root + "/trash").isEmpty)
        // A symlink in the trash is removed, never followed.
        #expect(FileManager.default.fileExists(atPath: "/etc/passwd"))
    }

    @Test func systemBootBringsBackAlwaysAndUnlessStopped() throws {
        let berth = try BerthEngine()
        defer { berth.remove() }
        for (name, policy) in [("always", "always"), ("unless", "unless-stopped"), ("stopped", "unless-stopped"), ("never", "no"), ("failure", "on-failure")] {
            try berth.call("run", "-d", "--name", name, "--restart", policy, "busybox:test", "sleep", "600")
        }
        try berth.call("stop", "-t", "0", "stopped")
        try simulateHostRestart(berth)
        for name in ["always", "unless", "never", "failure"] {
            #expect(try berth.inspect(name, "{{.State.Status}}") == "exited", "\(name) still shown running after the restart")
        }
        let booted = try berth.call("system", "boot")
        #expect(Set(booted.split(separator: "\n")) == ["always", "unless"])
        for (name, status) in [("always", "running"), ("unless", "running"), ("stopped", "exited"), ("never", "exited"), ("failure", "exited")] {
            #expect(try berth.inspect(name, "{{.State.Status}}") == status, "\(name)")
        }
        // Again: nothing to do. And they work as any container: logs, stop, rm without leftovers.
        #expect(try berth.call("system", "boot").isEmpty)
        try berth.call("stop", "-t", "0", "always")
        try berth.call("rm", "-f", "always", "unless", "stopped", "never", "failure")
        #expect(berth.mounts.isEmpty)
    }

    /// Zombies (exited children nobody waits for) of the container's processes: `--init` puts tini
    /// at pid 1, which reaps orphans; without it pid 1 here is `sleep`, which does not.
    @Test func initReapsZombies() throws {
        let berth = try BerthEngine()
        defer { berth.remove() }
        let script = "sh -c 'sleep 0.1 &'; sh -c 'sleep 0.1 &'; exec sleep 600"
        try berth.call("run", "-d", "--name", "plain", "busybox:test", "sh", "-c", script)
        try berth.call("run", "-d", "--init", "--name", "tini", "busybox:test", "sh", "-c", script)
        Thread.sleep(forTimeInterval: 1)
        func zombies(_ name: String) throws -> Int {
            let pid = try berth.inspect(name, "{{.State.Pid}}")
            let out = try sh(["/bin/sh", "-c", "for p in $(cat /proc/\(pid)/task/*/children); do sed 's/.*) //' /proc/$p/stat | cut -c1; done"])
            return out.stdout.split(separator: "\n").filter { $0 == "Z" }.count
        }
        #expect(try zombies("plain") == 2)
        #expect(try zombies("tini") == 0)
        // tini runs as pid 1, at Docker's path for it, with the command as its child.
        let tiniPid = try berth.inspect("tini", "{{.State.Pid}}")
        #expect(try String(contentsOfFile: "/proc/\(tiniPid)/cmdline", encoding: .utf8) == "/sbin/docker-init\0--\0sh\0-c\0\(script)\0")
    }

    /// Without -t the CLI forwards the signals it gets to the container (sig-proxy), as Docker and
    /// Podman do: the container's trap runs and its status is `run`'s.
    @Test func signalsAreForwardedWithoutTerminal() throws {
        let berth = try BerthEngine()
        defer { berth.remove() }
        let body = "trap 'echo got TERM; exit 3' TERM; echo ready; while true; do sleep 0.1; done"
        func runAndSignal(_ command: [String]) throws -> Output {
            let quoted = command.map { "'" + $0.replacingOccurrences(of: "'", with: "'\\''") + "'" }.joined(separator: " ")
            let out = EngineEnv.scratch("s") + "/out"
            return try sh(["/bin/sh", "-c", """
                \(quoted) >\(out) 2>&1 </dev/null & p=$!
                for i in $(seq 100); do grep -q ready \(out) && break; sleep 0.1; done
                kill -TERM $p; wait $p; echo "status=$?"; cat \(out)
                """])
        }
        let ours = try runAndSignal([EngineEnv.berth, "--root", berth.root, "--runroot", berth.runRoot, "run", "--rm", "busybox:test", "sh", "-c", body])
        #expect(ours.stdout == "status=3\nready\ngot TERM\n", "\(ours.stdout)\(ours.stderr)")
        if EngineEnv.hasPodman {
            let podman = try PodmanPeer()
            defer { podman.remove() }
            let theirs = try runAndSignal(podman.global + ["run", "--rm", "--ulimit", "nofile=1024:1024", "--ulimit", "nproc=1024:1024", "--network", "none", "busybox:test", "sh", "-c", body])
            #expect(ours.stdout == theirs.stdout, "podman: \(theirs.stdout)\(theirs.stderr)")
        }
    }
}
