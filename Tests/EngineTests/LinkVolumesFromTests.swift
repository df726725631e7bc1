import Foundation
import TestSupport
import Testing

/// `--volumes-from` and `--link`, seen from inside the container.
@Suite(.enabled(if: EngineEnv.ready), .serialized)
struct LinkVolumesFromTests {
    @Test func volumesFromCopiesVolumesAndBinds() throws {
        let berth = try BerthEngine()
        defer { berth.remove() }
        let host = EngineEnv.scratch("vf")
        defer { try? FileManager.default.removeItem(atPath: host) }
        try "bound\n".write(toFile: host + "/b", atomically: true, encoding: .utf8)
        try berth.call("run", "--name", "source", "-v", "named:/data", "-v", "/anon", "-v", host + ":/bind:ro", "--tmpfs", "/scratch",
                       "busybox:test", "sh", "-c", "echo n > /data/f; echo a > /anon/f")
        // The named and the anonymous volume, the bind (still read-only), not the tmpfs; writes reach the source's volume.
        let out = try berth.call("run", "--rm", "--volumes-from", "source", "busybox:test", "sh", "-c",
                                 "cat /data/f /anon/f /bind/b; echo w > /data/w; touch /bind/x 2>/dev/null || echo ro; test -e /scratch || echo notmpfs")
        #expect(out == "n\na\nbound\nro\nnotmpfs\n")
        #expect(try berth.call("run", "--rm", "-v", "named:/v", "busybox:test", "cat", "/v/w") == "w\n")
        // `:ro` makes every one read-only; an own mount at the same place wins.
        let readOnly = try berth.callAnyway(["run", "--rm", "--volumes-from", "source:ro", "-v", "other:/anon", "busybox:test", "sh", "-c",
                                             "touch /anon/x && echo own-rw; touch /data/x"])
        #expect(readOnly.status == 1 && readOnly.stdout == "own-rw\n" && readOnly.stderr.contains("/data/x: Read-only file system"), "\(readOnly)")
        // Inspect: VolumesFrom as given, the copies among Mounts but not the container's own Binds.
        let id = try berth.call("create", "--volumes-from", "source:ro", "busybox:test").trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(try berth.inspect(id, "{{json .HostConfig.VolumesFrom}} {{json .HostConfig.Binds}} {{len .Mounts}}") == #"["source:ro"] null 3"#)
        // Docker's refusals.
        let missing = try berth.callAnyway(["create", "--volumes-from", "nosuch", "busybox:test"])
        #expect(missing.status == 125 && missing.stderr == "berth: Error response from daemon: No such container: nosuch\n", "\(missing.stderr)")
        let mode = try berth.callAnyway(["create", "--volumes-from", "source:bogus", "busybox:test"])
        #expect(mode.status == 125 && mode.stderr == "berth: Error response from daemon: invalid mode: bogus\n", "\(mode.stderr)")
    }

    @Test func linkOnTheDefaultBridge() throws {
        let berth = try BerthEngine()
        defer { berth.remove() }
        try berth.call("run", "-d", "--name", "web", "--expose", "80", "--expose", "53/udp", "-e", "FOO=bar", "busybox:test", "sleep", "300")
        let ip = try berth.inspect("web", "{{.NetworkSettings.IPAddress}}")
        let short = String(try berth.inspect("web", "{{.Id}}").prefix(12))
        let out = try berth.call("run", "--rm", "--name", "client", "--link", "web:w", "busybox:test", "sh", "-c",
                                 "grep -w w /etc/hosts; env | grep ^W_ | sort; ping -c1 -W1 w | head -1")
        #expect(out == """
            \(ip)\tw \(short) web
            W_ENV_FOO=bar
            W_NAME=/client/w
            W_PORT=udp://\(ip):53
            W_PORT_53_UDP=udp://\(ip):53
            W_PORT_53_UDP_ADDR=\(ip)
            W_PORT_53_UDP_PORT=53
            W_PORT_53_UDP_PROTO=udp
            W_PORT_80_TCP=tcp://\(ip):80
            W_PORT_80_TCP_ADDR=\(ip)
            W_PORT_80_TCP_PORT=80
            W_PORT_80_TCP_PROTO=tcp
            PING w (\(ip)): 56 data bytes

            """)
        let id = try berth.call("create", "--name", "later", "--link", "web", "busybox:test").trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(try berth.inspect(id, "{{json .HostConfig.Links}}") == #"["/web:/later/web"]"#)

        // Docker's refusals: a linked container that does not exist (at create), that does not run (at start).
        let missing = try berth.callAnyway(["create", "--link", "nosuch", "busybox:test"])
        #expect(missing.status == 125 && missing.stderr == "berth: Error response from daemon: could not get container for nosuch: No such container: nosuch\n")
        try berth.call("stop", "-t", "0", "web")
        let stopped = try berth.callAnyway(["run", "--name", "late", "--link", "web:w", "busybox:test", "true"])
        #expect(stopped.status == 125 && stopped.stderr == "berth: Error response from daemon: Cannot link to a non running container: /web AS /late/w\n", "\(stopped.stderr)")
        let host = try berth.callAnyway(["create", "--network", "host", "--link", "web", "busybox:test"])
        #expect(host.status == 125 && host.stderr.contains("host type networking can't be used with links"), "\(host.stderr)")
    }

    @Test func linkAliasResolvesOnAUserNetwork() throws {
        let berth = try BerthEngine()
        defer { berth.remove() }
        try berth.call("network", "create", "linknet")
        try berth.call("run", "-d", "--name", "db", "--network", "linknet", "busybox:test", "sleep", "300")
        let ip = try berth.inspect("db", "{{.NetworkSettings.Networks.linknet.IPAddress}}")
        let out = try berth.call("run", "--rm", "--network", "linknet", "--link", "db:database", "busybox:test", "sh", "-c",
                                 "ping -c1 -W1 database | head -1; env | grep -c ^DATABASE_ || true")
        // The alias resolves; the legacy variables are the default bridge's only.
        #expect(out == "PING database (\(ip)): 56 data bytes\n0\n")
    }
}
