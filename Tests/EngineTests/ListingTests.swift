import Foundation
import TestSupport
import Testing

/// What `ps` and `inspect` show about a running container beyond its state: the PORTS, MOUNTS and
/// LOCAL VOLUMES columns, sizes (`ps -s`, `inspect -s`), `--expose`; and the CLI's usage errors.
@Suite(.enabled(if: EngineEnv.ready && FileManager.default.isExecutableFile(atPath: "/usr/lib/cni/bridge")), .serialized)
struct ListingTests {
    /// Two consecutive host ports nobody listens on, from the kernel's pick.
    func freePortPair() -> Int {
        for _ in 0..<20 {
            let port = NetworkTests.freePort()
            if port < 65535, (try? sh(["/bin/sh", "-c", "ss -Hltn 'sport = :\(port + 1)' | grep -q ."]))?.status == 1 { return port }
        }
        return 45001
    }

    /// Docker's PORTS: unpublished exposed ports and published ports whose host and container
    /// numbers match are folded into ranges; a remapped port is listed alone, last; a stopped
    /// container shows none. MOUNTS: a volume's name, a bind's host path, 15 characters unless
    /// --no-trunc; LOCAL VOLUMES counts the volumes.
    @Test func portsMountsAndLocalVolumesColumns() throws {
        let berth = try BerthEngine()
        defer { berth.remove() }
        let port = freePortPair()
        let hostDir = berth.base + "/shared-host-dir"
        try FileManager.default.createDirectory(atPath: hostDir, withIntermediateDirectories: true)
        try berth.call("run", "-d", "--name", "web", "--expose", "7000-7002", "-p", "127.0.0.1::80",
                       "-p", "127.0.0.1:\(port):\(port)", "-p", "127.0.0.1:\(port + 1):\(port + 1)",
                       "-v", hostDir + ":/h:ro", "-v", "listingvol:/d", "busybox:test", "sleep", "600")
        let remapped = try berth.call("port", "web", "80/tcp").trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(remapped.hasPrefix("127.0.0.1:"), "\(remapped)")
        let ports = try berth.call("ps", "--format", "{{.Ports}}").trimmingCharacters(in: .newlines)
        #expect(ports == "7000-7002/tcp, 127.0.0.1:\(port)-\(port + 1)->\(port)-\(port + 1)/tcp, \(remapped)->80/tcp", "\(ports)")
        // Docker's CLI adds every -p's container port and --expose to ExposedPorts.
        let exposed = try berth.inspect("web", "{{json .Config.ExposedPorts}}")
        for key in ["80/tcp", "\(port)/tcp", "\(port + 1)/tcp", "7000/tcp", "7001/tcp", "7002/tcp"] {
            #expect(exposed.contains("\"\(key)\":{}"), "\(exposed)")
        }
        let truncated = String(hostDir.prefix(14)) + "…"
        let mounts = try berth.call("ps", "--format", "{{.Mounts}}|{{.LocalVolumes}}").trimmingCharacters(in: .newlines)
        #expect(mounts == "\(truncated),listingvol|1", "\(mounts)")
        let full = try berth.call("ps", "--no-trunc", "--format", "{{.Mounts}}").trimmingCharacters(in: .newlines)
        #expect(full == "\(hostDir),listingvol", "\(full)")
        // The default table has the PORTS column filled.
        let table = try berth.call("ps")
        #expect(table.contains("7000-7002/tcp, 127.0.0.1:"), "\(table)")
        try berth.call("stop", "-t", "0", "web")
        #expect(try berth.call("ps", "-a", "--format", "[{{.Ports}}]") == "[]\n")
        let bad = try berth.callAnyway(["run", "--expose", "70000", "busybox:test", "true"])
        #expect(bad.status == 125 && bad.stderr.contains("--expose"), "\(bad.status) \(bad.stderr)")
    }

    /// An image whose config exposes the key "/" (the fuzzing campaign's crash 10: `ps` indexed the
    /// empty split of it); the other exposed port is still listed.
    @Test func psSurvivesAnImageExposingASlash() throws {
        let berth = try BerthEngine()
        defer { berth.remove() }
        let layout = berth.base + "/exposes"
        try #require(try sh(["/bin/cp", "-r", EngineEnv.busyboxLayout, layout]).status == 0)
        for port in ["/", "80/tcp"] {
            let tagged = try sh(["/usr/bin/umoci", "config", "--image", layout + (port == "/" ? ":latest" : ":exposes"),
                                 "--tag", "exposes", "--config.exposedports", port])
            try #require(tagged.status == 0, "umoci: \(tagged.stderr)")
        }
        try #require(try sh(["/bin/tar", "-C", layout, "-cf", layout + ".tar", "."]).status == 0)
        let loaded = try berth.call("load", "-i", layout + ".tar")
        let image = try #require(loaded.split(separator: "\n").last?.split(separator: " ").last.map(String.init))
        try berth.call("run", "-d", "--name", "slash", "--network", "none", image, "sleep", "600")
        #expect(try berth.call("ps", "--format", "{{.Ports}}") == "80/tcp\n")
    }

    /// `ps -s` and `inspect -s`: the container's own changes (its overlay upper directory), and
    /// with the image's size the "virtual" total; plain inspect has no size fields, as Docker's.
    @Test func sizesOfTheWritableLayer() throws {
        let berth = try BerthEngine()
        defer { berth.remove() }
        try berth.call("run", "-d", "--name", "grow", "--network", "none", "busybox:test", "sleep", "600")
        let before = try berth.inspect("grow", "{{.SizeRw}} {{.SizeRootFs}}")
        #expect(before == "<no value> <no value>", "\(before)")
        try berth.call("exec", "grow", "dd", "if=/dev/zero", "of=/blob", "bs=1024", "count=100")
        let sizes = try berth.call("inspect", "-s", "--format", "{{.SizeRw}} {{.SizeRootFs}}", "grow")
            .split(separator: " ").compactMap { Int($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
        try #require(sizes.count == 2)
        let imageSize = try #require(Int(try berth.call("image", "inspect", "--format", "{{.Size}}", "busybox:test").trimmingCharacters(in: .whitespacesAndNewlines)))
        #expect(sizes[0] >= 102_400 && sizes[0] < 110_000, "\(sizes)")
        #expect(sizes[1] == sizes[0] + imageSize, "\(sizes) image \(imageSize)")
        let column = try berth.call("ps", "-s", "--format", "{{.Size}}")
        #expect(column.hasPrefix("102kB (virtual ") || column.hasPrefix("103kB (virtual "), "\(column)")
        #expect(try berth.call("container", "inspect", "-s", "--format", "{{.SizeRw}}", "grow") == "\(sizes[0])\n")
    }

    /// Usage errors exit as Docker's CLI: an unknown flag or a flag without its value 125, a
    /// missing argument 1 — the same statuses as Docker's client, which needs no daemon for these.
    @Test func usageErrorsExitAsDocker() throws {
        let berth = try BerthEngine()
        defer { berth.remove() }
        let cases: [([String], Int32)] = [(["ps", "--bogus"], 125), (["run"], 1), (["images", "--nope"], 125),
                                          (["volume", "create", "--bogus"], 125), (["logs"], 1), (["run", "-m"], 125)]
        for (arguments, status) in cases {
            let ours = try berth.callAnyway(arguments)
            #expect(ours.status == status, "\(arguments): \(ours.status) \(ours.stderr)")
            #expect(!ours.stderr.isEmpty, "\(arguments)")
            if let docker = executable("docker") {
                let theirs = try sh([docker, "--host", "unix://" + berth.base + "/no-daemon.sock"] + arguments)
                #expect(theirs.status == ours.status, "\(arguments): docker \(theirs.status) \(theirs.stderr)")
            }
        }
        // --help is no error.
        #expect(try berth.callAnyway(["ps", "--help"]).status == 0)
    }

    /// --security-opt values that shape the spec: systempaths=unconfined (no masked or read-only
    /// /proc paths, as Docker), Podman's mask= and unmask=, writable-cgroups, proc-opts; the same
    /// observations as Podman's container for the ones Podman knows.
    @Test func securityOptionsShapeTheMounts() throws {
        let berth = try BerthEngine()
        defer { berth.remove() }
        // A masked file is /dev/null bound over it (a character device 1,3); a masked directory an empty read-only tmpfs.
        let probe = ["sh", "-c", "stat -c %F /proc/timer_list; grep -c ' /proc/sys proc ro,' /proc/mounts; stat -c %F /etc/hostname"]
        func run(_ engine: (_ arguments: [String]) throws -> Output, _ options: [String]) throws -> String {
            let result = try engine(["run", "--rm", "--network", "none"] + options + ["busybox:test"] + probe)
            #expect(result.status <= 1, "\(options): \(result.stderr)")
            return result.stdout
        }
        let ours = { (arguments: [String]) throws -> Output in try berth.callAnyway(arguments) }
        #expect(try run(ours, []) == "character special file\n1\nregular file\n")
        #expect(try run(ours, ["--security-opt", "systempaths=unconfined"]) == "regular empty file\n0\nregular file\n")
        #expect(try run(ours, ["--security-opt", "unmask=/proc/timer_list"]) == "regular empty file\n1\nregular file\n")
        #expect(try run(ours, ["--security-opt", "unmask=ALL"]) == "regular empty file\n0\nregular file\n")
        #expect(try run(ours, ["--security-opt", "mask=/etc/hostname"]) == "character special file\n1\ncharacter special file\n")
        let cgroup = try berth.callAnyway(["run", "--rm", "--network", "none", "--security-opt", "writable-cgroups=true", "busybox:test",
                                           "sh", "-c", "grep -E ' /sys/fs/cgroup[^ ]* cgroup2? ' /proc/mounts | grep -c ' ro,'"])
        #expect(cgroup.stdout == "0\n", "\(cgroup.stdout) \(cgroup.stderr)")
        let proc = try berth.call("run", "--rm", "--network", "none", "--security-opt", "proc-opts=hidepid=2", "busybox:test",
                                  "sh", "-c", "grep '^proc /proc ' /proc/mounts")
        #expect(proc.contains("hidepid=") , "\(proc)")
        let bad = try berth.callAnyway(["run", "--rm", "--security-opt", "systempaths=yes", "busybox:test", "true"])
        #expect(bad.status == 125 && bad.stderr.contains("systempaths=yes"), "\(bad.stderr)")
        guard EngineEnv.hasPodman else { return }
        let podman = try PodmanPeer()
        defer { podman.remove() }
        let theirs = { (arguments: [String]) throws -> Output in
            try podman.callAnyway(["run", "--ulimit", "nofile=1024:1024", "--ulimit", "nproc=1024:1024"] + arguments.dropFirst())
        }
        for options in [[], ["--security-opt", "unmask=/proc/timer_list"], ["--security-opt", "mask=/etc/hostname"], ["--security-opt", "unmask=ALL"]] {
            #expect(try run(ours, options) == run(theirs, options), "\(options)")
        }
    }

    /// The rest of Docker's ps filters — before, since, volume, network, publish, expose — and
    /// prune's until and label!=.
    @Test func psAndPruneFilters() throws {
        let berth = try BerthEngine()
        defer { berth.remove() }
        try berth.call("create", "--name", "ca", "-v", "vol1:/data", "--expose", "8080", "--label", "tier=web", "busybox:test", "true")
        usleep(20_000)
        let afterA = EventsTests.stamp()
        usleep(20_000)
        try berth.call("create", "--name", "cb", "--network", "none", "busybox:test", "true")
        try berth.call("create", "--name", "cc", "-p", "127.0.0.1::9000", "-v", berth.base + ":/host", "busybox:test", "true")
        func names(_ filters: String...) throws -> String {
            try berth.call(["ps", "-a", "--format", "{{.Names}}"] + filters.flatMap { ["--filter", $0] })
                .split(separator: "\n").joined(separator: " ")
        }
        #expect(try names("before=cc") == "cb ca")
        #expect(try names("since=ca") == "cc cb")
        #expect(try names("since=ca", "before=cc") == "cb")
        #expect(try names("volume=vol1") == "ca")
        #expect(try names("volume=/data") == "ca")
        #expect(try names("volume=" + berth.base) == "cc")
        #expect(try names("network=none") == "cb")
        #expect(try names("network=bridge") == "cc ca")
        // dockerd matches publish=/expose= against the ports a running container lists: the host
        // port for publish= (random ones too), tcp when no protocol is given; never a stopped one.
        #expect(try names("expose=8080") == "", "ca does not run")
        #expect(try names("publish=9000") == "")
        try berth.call("run", "-d", "--name", "rd", "--expose", "8080", "busybox:test", "sleep", "60")
        try berth.call("run", "-d", "--name", "re", "-p", "127.0.0.1::9000", "-p", "127.0.0.1::53/udp", "busybox:test", "sleep", "60")
        func hostPort(_ port: String) throws -> String {
            String(try berth.call("port", "re", port).split(separator: "\n").first?.split(separator: ":").last ?? "")
        }
        let tcp = try hostPort("9000/tcp"), udp = try hostPort("53/udp")
        #expect(!tcp.isEmpty && !udp.isEmpty)
        #expect(try names("expose=8080") == "rd")
        #expect(try names("expose=8000-8100/tcp") == "rd")
        #expect(try names("expose=8080/udp") == "")
        #expect(try names("publish=\(tcp)") == "re")
        #expect(try names("publish=\(tcp)/tcp") == "re")
        #expect(try names("publish=\(tcp)-\(tcp)") == "re")
        #expect(try names("publish=\(udp)") == "", "no protocol: tcp")
        #expect(try names("publish=\(udp)/udp") == "re")
        #expect(try names("publish=9000") == "", "the container port is not the published one")
        #expect(try names("expose=9000") == "re", "a published port is exposed too")
        #expect(try names("expose=53/udp") == "re")
        #expect(try names("publish=\(tcp)", "expose=8080") == "re rd", "publish= and expose= are one OR")
        let colon = try berth.callAnyway(["ps", "--filter", "publish=\(tcp):9000"])
        #expect(colon.status != 0 && colon.stderr.contains("filter for 'publish' should not contain ':'"), "\(colon.stderr)")
        try berth.call("rm", "-f", "rd", "re")
        let unknown = try berth.callAnyway(["ps", "--filter", "before=nosuch"])
        #expect(unknown.status != 0 && unknown.stderr.contains("nosuch"), "\(unknown.stderr)")
        let untilInPs = try berth.callAnyway(["ps", "--filter", "until=1h"])
        #expect(untilInPs.status != 0 && untilInPs.stderr.contains("until"), "\(untilInPs.stderr)")
        // Prune: created before the time (a only), then everything but tier=web.
        let pruned = try berth.call("container", "prune", "-f", "--filter", "until=" + afterA)
        #expect(pruned.contains("Deleted Containers:"), "\(pruned)")
        #expect(try names() == "cc cb")
        try berth.call("create", "--name", "cd", "--label", "tier=web", "busybox:test", "true")
        try berth.call("container", "prune", "-f", "--filter", "label!=tier=web")
        #expect(try names() == "cd")
    }

    /// HostConfig fields scripts read back, in Docker's shapes: Devices, Sysctls, GroupAdd, OomScoreAdj.
    @Test func inspectHostConfigFields() throws {
        let berth = try BerthEngine()
        defer { berth.remove() }
        try berth.call("create", "--name", "hc", "--network", "none", "--device", "/dev/zero:/dev/myzero:r", "--sysctl", "kernel.msgmax=8192",
                       "--group-add", "10", "--oom-score-adj", "100", "busybox:test", "true")
        #expect(try berth.inspect("hc", "{{json .HostConfig.Devices}}") == #"[{"PathOnHost":"/dev/zero","PathInContainer":"/dev/myzero","CgroupPermissions":"r"}]"#)
        #expect(try berth.inspect("hc", "{{json .HostConfig.Sysctls}} {{json .HostConfig.GroupAdd}} {{.HostConfig.OomScoreAdj}}")
                == #"{"kernel.msgmax":"8192"} ["10"] 100"#)
        try berth.call("create", "--name", "bare", "--network", "none", "busybox:test", "true")
        #expect(try berth.inspect("bare", "{{json .HostConfig.Devices}} {{json .HostConfig.Sysctls}} {{json .HostConfig.GroupAdd}} {{.HostConfig.OomScoreAdj}}")
                == "[] null null 0")
    }
}
