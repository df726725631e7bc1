import ContainerSpec
import Foundation
import LinuxSys
import OCI
import TestSupport
import Testing

/// A scratch rootfs with /etc/passwd and /etc/group, removed when the value goes away.
final class FixtureRoot {
    let directory: String
    var rootfs: String { directory + "/rootfs" }

    init(passwd: String? = FixtureRoot.passwd, group: String? = FixtureRoot.group) throws {
        directory = NSTemporaryDirectory() + "berth-spec-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        try FileManager.default.createDirectory(atPath: directory + "/rootfs/etc", withIntermediateDirectories: true)
        if let passwd { try passwd.write(toFile: rootfs + "/etc/passwd", atomically: false, encoding: .utf8) }
        if let group { try group.write(toFile: rootfs + "/etc/group", atomically: false, encoding: .utf8) }
    }

    deinit { try? FileManager.default.removeItem(atPath: directory) }

    static let passwd = """
        root:x:0:0:root:/root:/bin/sh
        daemon:x:1:1:daemon:/usr/sbin:/bin/false
        # a comment line
        app:x:1000:1000:app:/home/app:/bin/sh
        """
    static let group = """
        root:x:0:
        daemon:x:1:
        app:x:1000:
        audio:x:29:app
        video:x:44:other,app
        staff:x:50:
        """
}

/// A fixed machine, so the tests do not depend on the one they run on.
let testHost = HostInfo(architecture: "amd64", kernel: (6, 1), cgroupV2: false,
                        allCapabilities: Array(Capability.names.prefix(41)), hostname: "testhost", cpuCount: 4,
                        swapLimit: true, sysctls: ["net.ipv4.ping_group_range", "net.ipv4.ip_unprivileged_port_start"])

let testID = "0123456789ab" + String(repeating: "f", count: 52)

func busyboxConfig() -> ContainerConfig {
    var config = ContainerConfig()
    config.cmd = ["sh"]
    config.env = ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"]
    return config
}

func input(_ root: FixtureRoot, image: ContainerConfig? = busyboxConfig(), _ change: (inout RunOptions) -> Void = { _ in }) -> SpecInput {
    var options = RunOptions()
    change(&options)
    return SpecInput(containerID: testID, image: image, options: options, rootfs: root.rootfs,
                     cgroupsPath: "/berth/" + testID, defaultSeccompProfile: nil, host: testHost)
}

/// The message of the EngineError the body throws (another error's description), nil when none.
func errorMessage(_ body: () throws -> Void) -> String? {
    do { try body() } catch let error as EngineError { return error.message } catch { return "\(error)" }
    return nil
}

@Suite("SpecBuilderTests")
struct SpecBuilderTests {
    /// Paths Docker 28 masks that the older peers on these machines (dockerd 20.10, Podman 4.3) do not.
    static let newerDockerMasks: Set<String> = ["/proc/interrupts", "/sys/devices/virtual/powercap"]

    // MARK: - Entrypoint and Cmd (docs.docker.com "Understand how CMD and ENTRYPOINT interact", and
    // the daemon's merge: a user entrypoint drops the image's Cmd, `--entrypoint ""` resets it)

    struct CommandCase: CustomTestStringConvertible, Sendable {
        var imageEntrypoint: [String]?
        var imageCmd: [String]?
        var entrypoint: [String]?
        var command: [String]?
        var expected: [String]?
        var testDescription: String { "ep=\(imageEntrypoint ?? []) cmd=\(imageCmd ?? []) --entrypoint=\(entrypoint.map { "\($0)" } ?? "-") args=\(command ?? [])" }
    }

    static let commandCases: [CommandCase] = [
        CommandCase(imageCmd: ["sh"], expected: ["sh"]),
        CommandCase(imageCmd: ["sh"], command: ["echo", "hi"], expected: ["echo", "hi"]),
        CommandCase(imageEntrypoint: ["/ep", "-x"], imageCmd: ["a"], expected: ["/ep", "-x", "a"]),
        CommandCase(imageEntrypoint: ["/ep"], imageCmd: ["a"], command: ["b", "c"], expected: ["/ep", "b", "c"]),
        CommandCase(imageEntrypoint: ["/ep"], imageCmd: ["a"], entrypoint: ["/x"], expected: ["/x"]),
        CommandCase(imageEntrypoint: ["/ep"], imageCmd: ["a"], entrypoint: ["/x"], command: ["y"], expected: ["/x", "y"]),
        CommandCase(imageEntrypoint: ["/ep"], expected: ["/ep"]),
        CommandCase(imageCmd: ["sh"], entrypoint: [""], expected: nil),
        CommandCase(imageEntrypoint: ["/ep"], imageCmd: ["a"], entrypoint: [""], command: ["ls", "-l"], expected: ["ls", "-l"]),
        CommandCase(imageEntrypoint: ["/ep"], imageCmd: ["a"], entrypoint: [], expected: ["a"]),
        CommandCase(expected: nil),
        CommandCase(imageEntrypoint: [], imageCmd: [], command: [], expected: nil),
    ]

    @Test(arguments: commandCases)
    func entrypointAndCmd(_ c: CommandCase) throws {
        let root = try FixtureRoot()
        var image = ContainerConfig()
        image.entrypoint = c.imageEntrypoint
        image.cmd = c.imageCmd
        let spec = input(root, image: image) {
            $0.entrypoint = c.entrypoint
            $0.command = c.command
        }
        if let expected = c.expected {
            #expect(try SpecBuilder.build(spec).process?.args == expected)
        } else {
            #expect(errorMessage { _ = try SpecBuilder.build(spec) } == "No command specified")
        }
    }

    @Test func initPrefixesArgsAndBindsTheBinary() throws {
        let root = try FixtureRoot()
        var spec = input(root) { $0.initProcess = true; $0.command = ["sleep", "1"] }
        spec.initBinary = "/usr/bin/tini-static"
        let built = try SpecBuilder.build(spec)
        #expect(built.process?.args == ["/sbin/docker-init", "--", "sleep", "1"])
        let mount = built.mounts?.first { $0.destination == "/sbin/docker-init" }
        #expect(mount == Mount(destination: "/sbin/docker-init", type: "bind", source: "/usr/bin/tini-static", options: ["bind", "ro"]))
        spec.initBinary = nil
        #expect(errorMessage { _ = try SpecBuilder.build(spec) } != nil)
    }

    // MARK: - The merged config

    @Test func environmentMerge() throws {
        let root = try FixtureRoot()
        var image = busyboxConfig()
        image.env = ["PATH=/img/bin", "A=1", "B=2"]
        let spec = input(root, image: image) { $0.env = ["B=3", "C=4"]; $0.tty = true }
        #expect(SpecBuilder.effectiveConfig(spec).env == ["B=3", "C=4", "PATH=/img/bin", "A=1"])
        #expect(try SpecBuilder.build(spec).process?.env
            == ["PATH=/img/bin", "HOSTNAME=0123456789ab", "TERM=xterm", "B=3", "C=4", "A=1"])

        // No PATH in the image (scratch, import): Docker's default PATH; no TERM without -t.
        let bare = input(root, image: ContainerConfig()) { $0.command = ["/x"]; $0.hostname = "web" }
        #expect(try SpecBuilder.build(bare).process?.env
            == ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "HOSTNAME=web"])
        #expect(try SpecBuilder.build(bare).hostname == "web")
        #expect(try SpecBuilder.build(input(root)).hostname == "0123456789ab")
        #expect(try SpecBuilder.build(input(root) { $0.network = .host }).hostname == "testhost")
    }

    @Test func configFieldsMerge() throws {
        let root = try FixtureRoot()
        var image = busyboxConfig()
        image.labels = ["a": "image", "b": "image"]
        image.workingDir = "/srv"
        image.user = "daemon"
        image.stopSignal = "SIGQUIT"
        image.volumes = ["/data": EmptyObject()]
        image.exposedPorts = ["80/tcp": EmptyObject()]
        image.healthcheck = try decodeJSON(HealthConfig.self, Array(#"{"Test":["CMD","true"],"Interval":5000000000,"Retries":3}"#.utf8))

        let plain = SpecBuilder.effectiveConfig(input(root, image: image))
        #expect(plain.labels == ["a": "image", "b": "image"])
        #expect(plain.workingDir == "/srv" && plain.user == "daemon" && plain.stopSignal == "SIGQUIT")
        #expect(plain.volumes == ["/data": EmptyObject()] && plain.exposedPorts == ["80/tcp": EmptyObject()])
        #expect(plain.healthcheck == image.healthcheck)

        let changed = SpecBuilder.effectiveConfig(input(root, image: image) {
            $0.labels = ["b": "user", "c": "user"]
            $0.workingDir = "/w"
            $0.user = "app"
            $0.stopSignal = "SIGTERM"
            $0.health.interval = 10_000_000_000
        })
        #expect(changed.labels == ["a": "image", "b": "user", "c": "user"])
        #expect(changed.workingDir == "/w" && changed.user == "app" && changed.stopSignal == "SIGTERM")
        #expect(changed.healthcheck?.test == ["CMD", "true"])
        #expect(changed.healthcheck?.interval == 10_000_000_000)
        #expect(changed.healthcheck?.retries == 3)

        #expect(SpecBuilder.effectiveConfig(input(root, image: image) { $0.noHealthcheck = true }).healthcheck?.test == ["NONE"])
        let fresh = SpecBuilder.effectiveConfig(input(root) { $0.health.test = ["CMD-SHELL", "curl x"] })
        #expect(fresh.healthcheck?.test == ["CMD-SHELL", "curl x"])
        #expect(SpecBuilder.effectiveConfig(input(root)).healthcheck == nil)
    }

    @Test func workingDirectory() throws {
        let root = try FixtureRoot()
        #expect(try SpecBuilder.build(input(root)).process?.cwd == "/")
        #expect(try SpecBuilder.build(input(root) { $0.workingDir = "/a/b/../c/" }).process?.cwd == "/a/c")
        #expect(errorMessage { _ = try SpecBuilder.build(input(root) { $0.workingDir = "rel" }) }
            == "the working directory 'rel' is invalid, it needs to be an absolute path")
        var image = busyboxConfig()
        image.volumes = ["/data": EmptyObject()]
        #expect(SpecBuilder.pathsToCreate(input(root, image: image) { $0.workingDir = "/srv/app" }) == ["/srv/app", "/data"])
        #expect(SpecBuilder.pathsToCreate(input(root)) == [])
    }

    // MARK: - Users

    struct UserCase: CustomTestStringConvertible, Sendable {
        var spec: String
        var groupAdd: [String] = []
        var uid: UInt32 = 0
        var gid: UInt32 = 0
        var gids: [UInt32] = []
        var error: String? = nil
        var testDescription: String { "-u \(spec.isEmpty ? "''" : spec) --group-add \(groupAdd)" }
    }

    static let userCases: [UserCase] = [
        UserCase(spec: "", gids: [0]),
        UserCase(spec: "root", gids: [0]),
        UserCase(spec: "app", uid: 1000, gid: 1000, gids: [1000, 29, 44]),
        UserCase(spec: "1000", uid: 1000, gid: 1000, gids: [1000, 29, 44]),
        UserCase(spec: "4242", uid: 4242, gid: 0, gids: [0]),
        UserCase(spec: "app:staff", uid: 1000, gid: 50, gids: [50]),
        UserCase(spec: "app:777", uid: 1000, gid: 777, gids: [777]),
        UserCase(spec: "4242:4343", uid: 4242, gid: 4343, gids: [4343]),
        UserCase(spec: "daemon", groupAdd: ["staff", "99"], uid: 1, gid: 1, gids: [1, 50, 99]),
        UserCase(spec: "nobody", error: "unable to find user nobody: no matching entries in passwd file"),
        UserCase(spec: "app:nogroup", error: "unable to find group nogroup: no matching entries in group file"),
        UserCase(spec: "", groupAdd: ["nogroup"], error: "Unable to find group nogroup: no matching entries in group file"),
        UserCase(spec: "99999999999", error: "uids and gids must be in range 0-2147483647"),
    ]

    @Test(arguments: userCases)
    func users(_ c: UserCase) throws {
        let root = try FixtureRoot()
        let spec = input(root) { $0.user = c.spec; $0.groupAdd = c.groupAdd }
        if let expected = c.error {
            #expect(errorMessage { _ = try SpecBuilder.build(spec) } == expected)
        } else {
            let user = try SpecBuilder.build(spec).process?.user
            #expect(user?.uid == c.uid)
            #expect(user?.gid == c.gid)
            #expect(user?.additionalGids == c.gids)
        }
    }

    @Test func usersWithoutFiles() throws {
        let root = try FixtureRoot(passwd: nil, group: nil)
        #expect(try SpecBuilder.build(input(root) { $0.user = "123:456" }).process?.user
            == User(uid: 123, gid: 456, additionalGids: [456]))
        #expect(errorMessage { _ = try SpecBuilder.build(input(root) { $0.user = "app" }) }
            == "unable to find user app: no matching entries in passwd file")
    }

    /// A hostile image: /etc/passwd a symlink to an absolute host path (and /etc/group climbing out
    /// with ..) must resolve inside the rootfs, never to the host's files.
    @Test func hostileSymlinksStayInsideTheRoot() throws {
        let root = try FixtureRoot(passwd: nil, group: nil)
        let hostFile = root.directory + "/host-passwd"
        try "evil:x:4321:4321::/:/bin/sh\n".write(toFile: hostFile, atomically: false, encoding: .utf8)
        try "evil:x:4321:evil\n".write(toFile: root.directory + "/host-group", atomically: false, encoding: .utf8)
        try FileManager.default.createSymbolicLink(atPath: root.rootfs + "/etc/passwd", withDestinationPath: hostFile)
        try FileManager.default.createSymbolicLink(atPath: root.rootfs + "/etc/group",
                                                   withDestinationPath: "../../../../../../../.." + root.directory + "/host-group")
        #expect(errorMessage { _ = try SpecBuilder.build(input(root) { $0.user = "evil" }) }
            == "unable to find user evil: no matching entries in passwd file")
        #expect(errorMessage { _ = try SpecBuilder.build(input(root) { $0.user = "0:evil" }) }
            == "unable to find group evil: no matching entries in group file")
        // The same link pointing at a file the rootfs has is followed inside it.
        try FileManager.default.createDirectory(atPath: root.rootfs + root.directory, withIntermediateDirectories: true)
        try "inside:x:77:77::/:/bin/sh\n".write(toFile: root.rootfs + hostFile, atomically: false, encoding: .utf8)
        #expect(try SpecBuilder.build(input(root) { $0.user = "inside" }).process?.user.uid == 77)
    }

    @Test func aFifoPasswdIsRefusedNotWaitedOn() throws {
        let root = try FixtureRoot(passwd: nil)
        #expect(mkfifo(root.rootfs + "/etc/passwd", 0o644) == 0)
        #expect(errorMessage { _ = try SpecBuilder.build(input(root) { $0.user = "app" }) } == "/etc/passwd of the image is not a regular file")
    }

    // MARK: - Capabilities

    static let dockerDefaults = ["CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FSETID", "CAP_FOWNER", "CAP_MKNOD", "CAP_NET_RAW",
                                 "CAP_SETGID", "CAP_SETUID", "CAP_SETFCAP", "CAP_SETPCAP", "CAP_NET_BIND_SERVICE",
                                 "CAP_SYS_CHROOT", "CAP_KILL", "CAP_AUDIT_WRITE"]

    @Test func capabilities() throws {
        let root = try FixtureRoot()
        func caps(_ change: @escaping (inout RunOptions) -> Void) throws(EngineError) -> Capabilities? {
            try SpecBuilder.build(input(root, change)).process?.capabilities
        }
        let defaults = try caps { _ in }
        #expect(defaults == Capabilities(bounding: Self.dockerDefaults, effective: Self.dockerDefaults, permitted: Self.dockerDefaults))
        // Not root: the bounding set only, no ambient (Docker after CVE-2022-24769).
        #expect(try caps { $0.user = "1000" } == Capabilities(bounding: Self.dockerDefaults))

        let tweaked = try caps { $0.capAdd = ["sys_admin", "CAP_NET_ADMIN"]; $0.capDrop = ["chown", "Cap_Kill"] }
        #expect(tweaked?.bounding == Self.dockerDefaults.filter { $0 != "CAP_CHOWN" && $0 != "CAP_KILL" } + ["CAP_SYS_ADMIN", "CAP_NET_ADMIN"])
        let allButRaw = try caps { $0.capAdd = ["ALL"]; $0.capDrop = ["NET_RAW"] }
        #expect(allButRaw?.bounding == Array(Capability.names.prefix(41)).filter { $0 != "CAP_NET_RAW" })
        #expect(try caps { $0.capDrop = ["all"]; $0.capAdd = ["chown"] }?.bounding == ["CAP_CHOWN"])
        #expect(try caps { $0.capDrop = ["ALL"] }?.bounding == [])
        #expect(errorMessage { _ = try caps { $0.capAdd = ["FLY"] } } == "unknown capability: \"CAP_FLY\"")
    }

    @Test func privileged() throws {
        let root = try FixtureRoot()
        let spec = try SpecBuilder.build(input(root) { $0.privileged = true; $0.capDrop = ["ALL"] })
        #expect(spec.process?.capabilities?.bounding == Array(Capability.names.prefix(41)))
        #expect(spec.linux?.maskedPaths == nil && spec.linux?.readonlyPaths == nil)
        #expect(spec.linux?.seccomp == nil)
        #expect(spec.linux?.resources?.devices == [DeviceRule(allow: true, access: "rwm")])
        #expect(spec.linux?.devices?.contains { $0.path == "/dev/null" && $0.major == 1 && $0.minor == 3 } == true)
        #expect(spec.linux?.devices?.contains { $0.path.hasPrefix("/dev/pts/") || $0.path == "/dev/console" } == false)
        #expect(spec.mounts?.first { $0.destination == "/sys" }?.options == ["nosuid", "noexec", "nodev"])
        #expect(spec.mounts?.first { $0.destination == "/sys/fs/cgroup" }?.options == ["nosuid", "noexec", "nodev"])

        let normal = try SpecBuilder.build(input(root))
        #expect(normal.linux?.maskedPaths == SpecBuilder.maskedPaths)
        #expect(normal.linux?.readonlyPaths == ["/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"])
        #expect(normal.linux?.resources?.devices == SpecBuilder.defaultDeviceRules)
        #expect(normal.linux?.devices == nil)
        #expect(normal.process?.noNewPrivileges == nil && normal.process?.oomScoreAdj == 0)
        #expect(normal.process?.rlimits == nil)
        #expect(normal.process?.terminal == nil && normal.root == Root(path: root.rootfs))
        #expect(normal.linux?.cgroupsPath == "/berth/" + testID)
        #expect(try SpecBuilder.build(input(root) { $0.noNewPrivileges = true; $0.oomScoreAdj = 500; $0.tty = true }).process.map {
            ($0.noNewPrivileges, $0.oomScoreAdj, $0.terminal)
        }.map { $0 == (true, 500, true) } == true)
    }

    @Test func devices() throws {
        let root = try FixtureRoot()
        let spec = try SpecBuilder.build(input(root) {
            $0.devices = [DeviceRequest(hostPath: "/dev/null", containerPath: "/dev/mynull", permissions: "rw")]
        })
        let device = try #require(spec.linux?.devices?.first)
        #expect(device.type == "c" && device.path == "/dev/mynull" && device.major == 1 && device.minor == 3)
        // The host node's mode and owner, as Docker copies them (some sandboxes own /dev by nobody).
        var host = stat()
        #expect(stat("/dev/null", &host) == 0)
        #expect(device.fileMode == 0o666 && device.uid == host.st_uid && device.gid == host.st_gid)
        #expect(spec.linux?.resources?.devices?.last == DeviceRule(allow: true, type: "c", major: 1, minor: 3, access: "rw"))
        #expect(errorMessage { _ = try SpecBuilder.build(input(root) { $0.devices = [DeviceRequest(hostPath: "/dev/nope", containerPath: "/dev/nope")] }) }
            == "error gathering device information while adding custom device \"/dev/nope\": no such file or directory")
        #expect(errorMessage { _ = try SpecBuilder.build(input(root) { $0.devices = [DeviceRequest(hostPath: "/etc/passwd", containerPath: "/dev/x")] }) }
            == "error gathering device information while adding custom device \"/etc/passwd\": not a device node")
    }

    // MARK: - Resources and limits

    @Test func resources() throws {
        let root = try FixtureRoot()
        func res(_ change: @escaping (inout RunOptions) -> Void) throws(EngineError) -> Resources? {
            try SpecBuilder.build(input(root, change)).linux?.resources
        }
        #expect(try res { _ in }?.memory == nil)
        #expect(try res { _ in }?.cpu == nil)
        #expect(try res { _ in }?.pids == nil)
        #expect(try res { $0.memory = 64 << 20 }?.memory == MemoryLimits(limit: 64 << 20, swap: 128 << 20))
        #expect(try res { $0.memory = 64 << 20; $0.memorySwap = -1 }?.memory == MemoryLimits(limit: 64 << 20, swap: -1))
        #expect(try res { $0.memory = 64 << 20; $0.memorySwap = 100 << 20; $0.memoryReservation = 32 << 20 }?.memory
            == MemoryLimits(limit: 64 << 20, reservation: 32 << 20, swap: 100 << 20))
        #expect(try res { $0.nanoCPUs = 1_500_000_000 }?.cpu == CPULimits(quota: 150_000, period: 100_000))
        #expect(try res { $0.cpuShares = 512; $0.cpusetCpus = "0-1,3"; $0.cpusetMems = "0" }?.cpu
            == CPULimits(shares: 512, cpus: "0-1,3", mems: "0"))
        #expect(try res { $0.cpuPeriod = 50_000; $0.cpuQuota = 25_000 }?.cpu == CPULimits(quota: 25_000, period: 50_000))
        #expect(try res { $0.pidsLimit = 100 }?.pids == PidsLimit(limit: 100))
        #expect(try res { $0.pidsLimit = 0 }?.pids == PidsLimit(limit: -1))

        var noSwap = input(root) { $0.memory = 64 << 20 }
        noSwap.host.swapLimit = false
        #expect(try SpecBuilder.build(noSwap).linux?.resources?.memory == MemoryLimits(limit: 64 << 20))

        let errors: [(String, (inout RunOptions) -> Void)] = [
            ("You should always set the Memory limit when using Memoryswap limit, see usage", { $0.memorySwap = 100 << 20 }),
            ("Minimum memory limit allowed is 6MB", { $0.memory = 1 << 20 }),
            ("Minimum memoryswap limit should be larger than memory limit, see usage", { $0.memory = 64 << 20; $0.memorySwap = 32 << 20 }),
            ("Minimum memory limit can not be less than memory reservation limit, see usage", { $0.memory = 64 << 20; $0.memoryReservation = 128 << 20 }),
            ("Conflicting options: Nano CPUs and CPU Period cannot both be set", { $0.nanoCPUs = 1_000_000_000; $0.cpuPeriod = 10_000 }),
            ("Range of CPUs is from 0.01 to 4.00, as there are only 4 CPUs available", { $0.nanoCPUs = 5_000_000_000 }),
            ("Invalid value 1-x for cpuset cpus", { $0.cpusetCpus = "1-x" }),
        ]
        for (message, change) in errors {
            #expect(errorMessage { _ = try SpecBuilder.build(input(root, change)) } == message)
        }
    }

    @Test func ulimits() throws {
        let root = try FixtureRoot()
        let spec = try SpecBuilder.build(input(root) {
            $0.ulimits = [Ulimit(name: "nofile", soft: 1024, hard: 2048), Ulimit(name: "core", soft: -1, hard: -1)]
        })
        #expect(spec.process?.rlimits == [Rlimit(type: "RLIMIT_NOFILE", hard: 2048, soft: 1024),
                                          Rlimit(type: "RLIMIT_CORE", hard: UInt64.max, soft: UInt64.max)])
        #expect(errorMessage { _ = try SpecBuilder.build(input(root) { $0.ulimits = [Ulimit(name: "bogus", soft: 1, hard: 1)] }) }
            == "invalid ulimit type: bogus")
    }

    // MARK: - Namespaces and sysctls

    @Test func namespacesAndSysctls() throws {
        let root = try FixtureRoot()
        let normal = try SpecBuilder.build(input(root))
        #expect(normal.linux?.namespaces?.map(\.type) == [.mount, .network, .uts, .pid, .ipc])
        #expect(normal.linux?.sysctl == ["net.ipv4.ping_group_range": "0 2147483647", "net.ipv4.ip_unprivileged_port_start": "0"])
        let host = try SpecBuilder.build(input(root) { $0.network = .host })
        #expect(host.linux?.namespaces?.map(\.type) == [.mount, .uts, .pid, .ipc])
        #expect(host.linux?.sysctl == nil)
        var v2 = input(root)
        v2.host.cgroupV2 = true
        #expect(try SpecBuilder.build(v2).linux?.namespaces?.map(\.type) == [.mount, .network, .uts, .pid, .ipc, .cgroup])
        var joined = input(root) { $0.network = .container("web") }
        #expect(errorMessage { _ = try SpecBuilder.build(joined) } != nil)
        joined.networkNamespacePath = "/proc/42/ns/net"
        #expect(try SpecBuilder.build(joined).linux?.namespaces?[1] == Namespace(type: .network, path: "/proc/42/ns/net"))

        let custom = try SpecBuilder.build(input(root) { $0.sysctls = ["kernel.shmmax": "1000", "net.core.somaxconn": "1024", "fs.mqueue.msg_max": "20"] })
        #expect(custom.linux?.sysctl?["kernel.shmmax"] == "1000" && custom.linux?.sysctl?["net.core.somaxconn"] == "1024")
        #expect(custom.linux?.sysctl?["fs.mqueue.msg_max"] == "20")
        #expect(errorMessage { _ = try SpecBuilder.build(input(root) { $0.network = .host; $0.sysctls = ["net.core.somaxconn": "1"] }) }
            == "sysctl 'net.core.somaxconn' not allowed in host network namespace")
        #expect(errorMessage { _ = try SpecBuilder.build(input(root) { $0.sysctls = ["kernel.hostname": "x"] }) }?
            .hasSuffix("sysctl 'kernel.hostname=x' is not whitelisted") == true)
    }

    // MARK: - Mounts

    @Test func defaultMountsAreDockers() throws {
        let root = try FixtureRoot()
        let mounts = try #require(try SpecBuilder.build(input(root) { $0.shmSize = 128 << 20 }).mounts)
        #expect(mounts.map(\.destination) == ["/proc", "/dev", "/dev/pts", "/sys", "/sys/fs/cgroup", "/dev/mqueue", "/dev/shm"])
        #expect(mounts.last == Mount(destination: "/dev/shm", type: "tmpfs", source: "shm",
                                     options: ["nosuid", "noexec", "nodev", "mode=1777", "size=134217728"]))
        #expect(try SpecBuilder.build(input(root)).mounts?.last?.options?.last == "size=67108864")
    }

    @Test func userMountsOrderAndOptions() throws {
        let root = try FixtureRoot()
        var image = busyboxConfig()
        image.volumes = ["/anon": EmptyObject(), "/data": EmptyObject()]
        var spec = input(root, image: image) {
            $0.mounts = [
                MountRequest(kind: .bind, source: "/srv/data", target: "/data", readOnly: true),
                MountRequest(kind: .volume, source: "named", target: "/vol/sub"),
                MountRequest(kind: .tmpfs, source: nil, target: "/run", options: ["size=1m", "exec"]),
                MountRequest(kind: .volume, source: nil, target: "/vol/", readOnly: true),
                MountRequest(kind: .bind, source: "/srv/shared", target: "/shared", options: ["rshared"]),
            ]
        }
        spec.volumeSources = ["/vol/sub": "/v/named", "/vol": "/v/anon1", "/anon": "/v/anon2"]
        spec.etcFiles = ["/etc/hosts": "/c/hosts", "/etc/resolv.conf": "/c/resolv.conf", "/etc/hostname": "/c/hostname"]
        let built = try SpecBuilder.build(spec)
        let user = try #require(built.mounts?.dropFirst(7).map { $0 })
        #expect(user.map(\.destination) == ["/data", "/run", "/vol", "/shared", "/anon", "/vol/sub",
                                            "/etc/resolv.conf", "/etc/hostname", "/etc/hosts"])
        #expect(user[0] == Mount(destination: "/data", type: "bind", source: "/srv/data", options: ["rbind", "ro", "rro", "rprivate"]))
        #expect(user[1] == Mount(destination: "/run", type: "tmpfs", source: "tmpfs", options: ["nosuid", "nodev", "rprivate", "size=1m", "exec"]))
        #expect(user[2] == Mount(destination: "/vol", type: "bind", source: "/v/anon1", options: ["rbind", "ro", "rro"]))
        #expect(user[3].options == ["rbind", "rshared"])
        #expect(user[4] == Mount(destination: "/anon", type: "bind", source: "/v/anon2", options: ["rbind"]))
        #expect(user[5] == Mount(destination: "/vol/sub", type: "bind", source: "/v/named", options: ["rbind"]))
        #expect(user[6] == Mount(destination: "/etc/resolv.conf", type: "bind", source: "/c/resolv.conf", options: ["rbind", "rprivate"]))
        #expect(built.linux?.rootfsPropagation == "shared")
        // Parents always before children, whatever the input order.
        let all = try #require(built.mounts).map(\.destination)
        for (i, early) in all.enumerated() {
            for late in all[(i + 1)...] { #expect(!early.hasPrefix(late + "/"), "\(late) is mounted after its child \(early)") }
        }
    }

    @Test func userMountsReplaceDefaultsAndEtcFiles() throws {
        let root = try FixtureRoot()
        var spec = input(root) {
            $0.mounts = [MountRequest(kind: .bind, source: "/my/hosts", target: "/etc/hosts"),
                         MountRequest(kind: .tmpfs, source: nil, target: "/dev/shm")]
        }
        spec.etcFiles = ["/etc/hosts": "/c/hosts", "/etc/hostname": "/c/hostname"]
        let mounts = try #require(try SpecBuilder.build(spec).mounts)
        #expect(mounts.filter { $0.destination == "/etc/hosts" }.map(\.source) == ["/my/hosts"])
        #expect(mounts.filter { $0.destination == "/dev/shm" }.map(\.type) == ["tmpfs"])
        #expect(mounts.first { $0.destination == "/dev/shm" }?.source == "tmpfs")
        let dev = try #require(try SpecBuilder.build(input(root) { $0.mounts = [MountRequest(kind: .bind, source: "/dev", target: "/dev")] }).mounts)
        #expect(!dev.contains { $0.destination.hasPrefix("/dev/") })
    }

    @Test func mountErrors() throws {
        let root = try FixtureRoot()
        func message(_ mounts: [MountRequest]) -> String? {
            var spec = input(root) { $0.mounts = mounts }
            spec.volumeSources = ["/data": "/v/x"]
            return errorMessage { _ = try SpecBuilder.build(spec) }
        }
        #expect(message([MountRequest(kind: .bind, source: "/a", target: "/data"),
                         MountRequest(kind: .volume, source: "v", target: "/data/")]) == "Duplicate mount point: /data")
        #expect(message([MountRequest(kind: .bind, source: "/a", target: "data")])?.contains("mount path must be absolute") == true)
        #expect(message([MountRequest(kind: .bind, source: "rel", target: "/x")])?.contains("mount path must be absolute") == true)
        #expect(message([MountRequest(kind: .tmpfs, source: nil, target: "/x", options: ["bogus"])]) == "Invalid tmpfs option bogus")
        #expect(message([MountRequest(kind: .volume, source: "v", target: "/nosource")]) != nil)
    }

    @Test func readOnlyRootfs() throws {
        let root = try FixtureRoot()
        var spec = input(root) { $0.readOnlyRootfs = true; $0.mounts = [MountRequest(kind: .bind, source: "/a", target: "/a")] }
        spec.etcFiles = ["/etc/hosts": "/c/hosts"]
        let built = try SpecBuilder.build(spec)
        #expect(built.root == Root(path: root.rootfs, readonly: true))
        let options = Dictionary(uniqueKeysWithValues: (built.mounts ?? []).map { ($0.destination, $0.options ?? []) })
        #expect(options["/etc/hosts"] == ["rbind", "ro", "rprivate"])
        #expect(options["/a"] == ["rbind", "rprivate"])
        #expect(options["/dev/shm"]?.contains("ro") == false && options["/proc"]?.contains("ro") == false)
        #expect(options["/sys"]?.contains("ro") == true)
    }

    // MARK: - Seccomp

    static let profileJSON = """
        {
          "defaultAction": "SCMP_ACT_ERRNO", "defaultErrnoRet": 38,
          "archMap": [
            {"architecture": "SCMP_ARCH_X86_64", "subArchitectures": ["SCMP_ARCH_X86", "SCMP_ARCH_X32"]},
            {"architecture": "SCMP_ARCH_AARCH64", "subArchitectures": ["SCMP_ARCH_ARM"]}
          ],
          "syscalls": [
            {"names": ["read", "write"], "action": "SCMP_ACT_ALLOW", "args": [], "comment": "", "includes": {}, "excludes": {}},
            {"names": ["chroot"], "action": "SCMP_ACT_ALLOW", "includes": {"caps": ["CAP_SYS_CHROOT"]}},
            {"names": ["chroot"], "action": "SCMP_ACT_ERRNO", "errnoRet": 1, "excludes": {"caps": ["CAP_SYS_CHROOT"]}},
            {"names": ["bpf"], "action": "SCMP_ACT_ALLOW", "includes": {"caps": ["CAP_SYS_ADMIN", "CAP_BPF"]}},
            {"names": ["arch_prctl"], "action": "SCMP_ACT_ALLOW", "includes": {"arches": ["amd64", "x32"]}},
            {"names": ["sync_file_range2"], "action": "SCMP_ACT_ALLOW", "includes": {"arches": ["ppc64le"]}},
            {"names": ["modify_ldt"], "action": "SCMP_ACT_ALLOW", "excludes": {"arches": ["arm64"]}},
            {"names": ["ptrace"], "action": "SCMP_ACT_ALLOW", "includes": {"minKernel": "4.8"}},
            {"names": ["old_thing"], "action": "SCMP_ACT_ALLOW", "excludes": {"minKernel": "5.0"}},
            {"name": "personality", "action": "SCMP_ACT_ALLOW", "args": [{"index": 0, "value": 8, "valueTwo": 0, "op": "SCMP_CMP_EQ"}]}
          ]
        }
        """

    @Test func seccompConversion() throws {
        let profile = try SeccompProfile.decode(Array(Self.profileJSON.utf8), source: "test.json")
        func names(_ arch: String, _ kernel: (Int, Int), _ caps: [String]) throws(EngineError) -> [String] {
            (try profile.converted(architecture: arch, kernel: kernel, capabilities: caps)?.syscalls ?? []).map {
                $0.names.joined(separator: ",") + ($0.action == "SCMP_ACT_ERRNO" ? "!" : "")
            }
        }
        let amd64 = try #require(try profile.converted(architecture: "amd64", kernel: (6, 1), capabilities: Self.dockerDefaults))
        #expect(amd64.defaultAction == "SCMP_ACT_ERRNO" && amd64.defaultErrnoRet == 38)
        #expect(amd64.architectures == ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"])
        #expect(amd64.syscalls?.last == SeccompSyscall(names: ["personality"], action: "SCMP_ACT_ALLOW",
                                                       args: [SeccompArg(index: 0, value: 8, valueTwo: 0, op: "SCMP_CMP_EQ")]))
        #expect(try names("amd64", (6, 1), Self.dockerDefaults) == ["read,write", "chroot", "arch_prctl", "modify_ldt", "ptrace", "personality"])
        #expect(try names("amd64", (4, 4), ["CAP_SYS_ADMIN", "CAP_BPF"])
            == ["read,write", "chroot!", "bpf", "arch_prctl", "modify_ldt", "old_thing", "personality"])
        #expect(try names("arm64", (6, 1), ["CAP_SYS_ADMIN"]) == ["read,write", "chroot!", "ptrace", "personality"])
        #expect(try profile.converted(architecture: "arm64", kernel: (6, 1), capabilities: [])?.architectures
            == ["SCMP_ARCH_AARCH64", "SCMP_ARCH_ARM"])

        let both = #"{"defaultAction":"SCMP_ACT_ALLOW","architectures":["SCMP_ARCH_X86"],"archMap":[{"architecture":"SCMP_ARCH_X86_64"}]}"#
        #expect(errorMessage { _ = try SeccompProfile.decode(Array(both.utf8), source: "x").converted(architecture: "amd64", kernel: (6, 1), capabilities: []) }?
            .hasPrefix("'architectures' and 'archMap'") == true)
        #expect(errorMessage { _ = try SeccompProfile.decode(Array("{".utf8), source: "broken.json") }?.hasPrefix("Decoding seccomp profile broken.json failed") == true)
        let empty = try SeccompProfile.decode(Array("{}".utf8), source: "empty")
        #expect(try empty.converted(architecture: "amd64", kernel: (6, 1), capabilities: []) == nil)
    }

    @Test func seccompChoice() throws {
        let root = try FixtureRoot()
        let file = root.directory + "/profile.json"
        try Self.profileJSON.write(toFile: file, atomically: false, encoding: .utf8)
        var spec = input(root) { $0.seccomp = .profile(path: file); $0.capDrop = ["SYS_CHROOT"] }
        #expect(try SpecBuilder.build(spec).linux?.seccomp?.syscalls?.contains { $0.names == ["chroot"] && $0.action == "SCMP_ACT_ERRNO" } == true)
        spec.options.seccomp = .unconfined
        #expect(try SpecBuilder.build(spec).linux?.seccomp == nil)
        spec.options.seccomp = nil
        // No override: the built-in Docker 28 profile, for the container's bounding set.
        spec.defaultSeccompProfile = nil
        let builtIn = try SeccompProfile.dockerDefault.converted(architecture: testHost.architecture, kernel: testHost.kernel,
                                                                 capabilities: Self.dockerDefaults.filter { $0 != "CAP_SYS_CHROOT" })
        #expect(builtIn != nil)
        #expect(try SpecBuilder.build(spec).linux?.seccomp == builtIn)
        #expect(builtIn?.syscalls?.contains { $0.names.contains("chroot") } == false)
        // The operator's override replaces it; a missing override is refused, never "no filter".
        spec.defaultSeccompProfile = file
        #expect(try SpecBuilder.build(spec).linux?.seccomp?.syscalls?.contains { $0.names == ["chroot"] && $0.action == "SCMP_ACT_ERRNO" } == true)
        // `seccomp=builtin` asks for Docker's own profile past the override, as dockerd does.
        spec.options.seccomp = .builtin
        #expect(try SpecBuilder.build(spec).linux?.seccomp == builtIn)
        spec.options.seccomp = nil
        spec.defaultSeccompProfile = root.directory + "/no-such-override.json"
        #expect(errorMessage { _ = try SpecBuilder.build(spec) }?.contains("\(root.directory)/no-such-override.json") == true)
        spec.options.privileged = true
        #expect(try SpecBuilder.build(spec).linux?.seccomp == nil)
        spec = input(root) { $0.seccomp = .profile(path: root.directory + "/missing.json") }
        #expect(errorMessage { _ = try SpecBuilder.build(spec) }?.hasPrefix("opening seccomp profile (\(root.directory)/missing.json) failed") == true)
    }

    /// The built-in profile (Docker 28's default) converts for this machine.
    @Test func defaultProfileConverts() throws {
        let seccomp = try #require(try SeccompProfile.dockerDefault.converted(architecture: HostInfo.current.architecture,
                                                                              kernel: HostInfo.current.kernel,
                                                                              capabilities: Self.dockerDefaults))
        #expect(seccomp.defaultAction == "SCMP_ACT_ERRNO")
        #expect(seccomp.syscalls?.contains { $0.names.contains("chroot") && $0.action == "SCMP_ACT_ALLOW" } == true)
        #expect(seccomp.syscalls?.contains { $0.names.contains("bpf") && $0.action == "SCMP_ACT_ALLOW" } == false)
        #expect(seccomp.syscalls?.contains { $0.names.contains("read") && $0.action == "SCMP_ACT_ALLOW" } == true)
        if HostInfo.current.architecture == "amd64" {
            #expect(seccomp.architectures == ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"])
        }
    }
}

// MARK: - Against a config.json that Docker 20.10.24 wrote on this kind of machine

extension SpecBuilderTests {
    /// Tests/Scripts/engines/observed/docker-config.json: `docker run` of busybox `sh -c …` with default flags,
    /// as dockerd handed it to the runtime. Docker's zero-valued resources (shares 0, weight 0,
    /// disableOOMKiller false) are "unset" and left out here; its seccomp profile is its own build's
    /// (ours comes from containers-common), and its libnetwork hook and root path are its own.
    @Test func matchesWhatDockerWrote() throws {
        let observed = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().path + "/Tests/Scripts/engines/observed/docker-config.json"
        let docker = try Spec.decode(try FS.readFile(observed))
        let root = try FixtureRoot()
        let hostname = try #require(docker.hostname)
        var spec = input(root) { $0.command = docker.process?.args; $0.network = .default }
        spec.containerID = hostname + String(repeating: "0", count: 52)
        let sources = Dictionary(uniqueKeysWithValues: (docker.mounts ?? []).filter { $0.type == "bind" }.map { ($0.destination, $0.source ?? "") })
        spec.etcFiles = sources
        spec.cgroupsPath = docker.linux?.cgroupsPath ?? ""
        let ours = try SpecBuilder.build(spec)

        #expect(ours.process?.args == docker.process?.args)
        #expect(ours.process?.env == docker.process?.env)
        #expect(ours.process?.user == docker.process?.user)
        #expect(ours.process?.cwd == docker.process?.cwd)
        #expect(ours.process?.capabilities == docker.process?.capabilities)
        #expect(ours.process?.oomScoreAdj == docker.process?.oomScoreAdj)
        #expect(ours.process?.rlimits == docker.process?.rlimits && ours.process?.terminal == docker.process?.terminal)
        #expect(ours.hostname == docker.hostname)
        #expect(ours.mounts == docker.mounts)
        #expect(ours.linux?.namespaces == docker.linux?.namespaces)
        // The dockerd here (20.10) predates Docker 28's two added masks, which Berth has.
        #expect(ours.linux?.maskedPaths?.filter { !Self.newerDockerMasks.contains($0) } == docker.linux?.maskedPaths)
        #expect(ours.linux?.readonlyPaths == docker.linux?.readonlyPaths)
        #expect(ours.linux?.resources?.devices == docker.linux?.resources?.devices)
        #expect(ours.linux?.sysctl == docker.linux?.sysctl)
        #expect(ours.linux?.cgroupsPath == docker.linux?.cgroupsPath)
    }
}

// MARK: - Real containers: the spec runs under berth-runtime, and matches Podman's where they agree

/// The berth-runtime built beside this test binary (or $BERTH_RUNTIME).
enum SpecRuntimeEnv {
    static let berthRuntime: String = {
        if let path = ProcessInfo.processInfo.environment["BERTH_RUNTIME"] { return path }
        let exe = (try? FS.readlink("/proc/self/exe")) ?? ""
        var url = URL(fileURLWithPath: exe).deletingLastPathComponent()
        // Linux test runners live in debug/ itself or in debug/X.xctest/.
        for _ in 0..<3 {
            if FileManager.default.isExecutableFile(atPath: url.path + "/berth-runtime") { return url.path + "/berth-runtime" }
            url.deleteLastPathComponent()
        }
        return ""
    }()
    static var isRoot: Bool { getuid() == 0 }
    static var canRun: Bool {
        isRoot && !berthRuntime.isEmpty && FileManager.default.fileExists(atPath: "/usr/bin/busybox")
    }
    static var hasPodman: Bool {
        isRoot && ["/usr/bin/podman", "/usr/bin/umoci"].allSatisfy { FileManager.default.isExecutableFile(atPath: $0) }
    }
}

extension SpecBuilderTests {
    /// A busybox rootfs with root and app (1000) users.
    static func busyboxRoot() throws -> FixtureRoot {
        let root = try FixtureRoot()
        try FileManager.default.createDirectory(atPath: root.rootfs + "/bin", withIntermediateDirectories: true)
        _ = try sh(["/bin/cp", "/usr/bin/busybox", root.rootfs + "/bin/busybox"])
        for applet in ["sh", "grep", "id", "hostname", "cat", "touch", "echo"] {
            try FileManager.default.createSymbolicLink(atPath: root.rootfs + "/bin/" + applet, withDestinationPath: "busybox")
        }
        return root
    }

    /// Builds the spec, writes it as a bundle and runs it with berth-runtime; returns stdout.
    func runInBerthRuntime(_ root: FixtureRoot, _ change: @escaping (inout RunOptions) -> Void) throws -> Output {
        let id = "spec-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        var spec = input(root, change)
        spec.host = .current
        spec.defaultSeccompProfile = nil
        spec.cgroupsPath = "/berth-spec-test/" + id
        try "berth-spec\n".write(toFile: root.directory + "/hostname", atomically: false, encoding: .utf8)
        spec.etcFiles = ["/etc/hostname": root.directory + "/hostname"]
        let built = try SpecBuilder.build(spec)
        try Data(encodePretty(built)).write(to: URL(fileURLWithPath: root.directory + "/config.json"))
        defer {
            // The runtime removes the container's cgroup; the parent is this test's to remove.
            let hierarchies = ["/sys/fs/cgroup"] + ((try? FileManager.default.contentsOfDirectory(atPath: "/sys/fs/cgroup")) ?? []).map { "/sys/fs/cgroup/" + $0 }
            for hierarchy in hierarchies {
                rmdir(hierarchy + "/berth-spec-test/" + id)
                rmdir(hierarchy + "/berth-spec-test")
            }
        }
        return try sh([SpecRuntimeEnv.berthRuntime, "--root", root.directory + "/state", "run", "--bundle", root.directory, id])
    }

    static let probe = "grep -E '^(CapBnd|CapEff|CapAmb|Seccomp|NoNewPrivs):' /proc/self/status; id; hostname; cat /proc/self/oom_score_adj"

    /// Docker's well-known CapEff for its 14 default capabilities.
    static let dockerCapMask = "00000000a80425fb"

    @Test(.enabled(if: SpecRuntimeEnv.canRun))
    func theSpecRunsUnderBerthRuntime() throws {
        let root = try Self.busyboxRoot()
        let asRoot = try runInBerthRuntime(root) { $0.command = ["sh", "-c", Self.probe] }
        #expect(asRoot.status == 0, "\(asRoot.stderr)")
        #expect(asRoot.stdout.contains("CapBnd:\t\(Self.dockerCapMask)"))
        #expect(asRoot.stdout.contains("CapEff:\t\(Self.dockerCapMask)"))
        #expect(asRoot.stdout.contains("CapAmb:\t0000000000000000"))
        #expect(asRoot.stdout.contains("uid=0(root) gid=0(root) groups=0(root)"))
        #expect(asRoot.stdout.contains("berth-spec\n") || asRoot.stdout.contains("0123456789ab\n"))
        // The built-in default profile compiles with the runtime's libseccomp and is in force.
        #expect(asRoot.stdout.contains("Seccomp:\t2"))
        #expect(asRoot.stdout.hasSuffix("\n0\n"))

        let asApp = try runInBerthRuntime(root) { $0.command = ["sh", "-c", Self.probe]; $0.user = "app"; $0.noNewPrivileges = true }
        #expect(asApp.status == 0, "\(asApp.stderr)")
        #expect(asApp.stdout.contains("CapBnd:\t\(Self.dockerCapMask)"))
        #expect(asApp.stdout.contains("CapEff:\t0000000000000000"))
        #expect(asApp.stdout.contains("NoNewPrivs:\t1"))
        // The kernel keeps supplementary groups sorted.
        #expect(asApp.stdout.contains("uid=1000(app) gid=1000(app) groups=29(audio),44(video),1000(app)"))

        // --read-only with a tmpfs: the root refuses writes, the tmpfs takes them.
        let readOnly = try runInBerthRuntime(root) {
            $0.readOnlyRootfs = true
            $0.mounts = [MountRequest(kind: .tmpfs, source: nil, target: "/run")]
            $0.command = ["sh", "-c", "touch /run/ok && echo tmpfs-ok; touch /nope 2>/dev/null || echo root-ro"]
        }
        #expect(readOnly.stdout == "tmpfs-ok\nroot-ro\n", "\(readOnly.stderr)")
    }

    /// One podman storage with the busybox image, for the differential test.
    final class PodmanStore {
        let directory: String
        var image = ""
        var base: [String] {
            ["/usr/bin/podman", "--root", directory + "/root", "--runroot", directory + "/run", "--tmpdir", directory + "/tmp",
             "--cgroup-manager", "cgroupfs", "--events-backend", "file", "--storage-driver", "overlay"]
        }

        init() throws {
            directory = NSTemporaryDirectory() + "berth-spec-podman-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
            if let failure = BusyboxImage.failure { throw EngineError.system(failure) }
            let pulled = try sh(base + ["pull", "-q", "oci:" + BusyboxImage.layout])
            guard pulled.status == 0 else { throw EngineError.system("podman pull: \(pulled.stderr)") }
            image = pulled.stdout.trimmed(" \n")
        }

        deinit {
            _ = try? sh(base + ["rm", "-af", "-t", "0"])
            _ = try? sh(base + ["rmi", "-af"])
            _ = try? sh(["/bin/umount", "-R", directory + "/root/overlay"])
            try? FileManager.default.removeItem(atPath: directory)
        }

        /// podman create + init; the OCI config it wrote, and the container's id and rootfs.
        func config(_ flags: [String], _ command: [String]) throws -> Spec {
            let created = try sh(base + ["create", "--network", "none", "--ulimit", "nofile=1024:1024", "--ulimit", "nproc=1024:1024"]
                + flags + [image] + command)
            guard created.status == 0 else { throw EngineError.system("podman create: \(created.stderr)") }
            let id = created.stdout.trimmed(" \n")
            let initialised = try sh(base + ["init", id])
            guard initialised.status == 0 else { throw EngineError.system("podman init: \(initialised.stderr)") }
            let path = try sh(base + ["inspect", "--format", "{{.OCIConfigPath}}", id]).stdout.trimmed(" \n")
            return try Spec.decode(try FS.readFile(path))
        }
    }

    struct PodmanCase: CustomTestStringConvertible, Sendable {
        var flags: [String]
        /// Flags that give Podman Docker's defaults where Podman's own differ.
        var podmanOnly: [String] = ["--cap-add", "AUDIT_WRITE,MKNOD,NET_RAW"]
        var command: [String]
        var options: @Sendable (inout RunOptions) -> Void
        var testDescription: String { (flags + command).joined(separator: " ") }
    }

    static let podmanCases: [PodmanCase] = [
        PodmanCase(flags: [], command: ["echo", "hi"], options: { $0.command = ["echo", "hi"] }),
        PodmanCase(flags: ["-u", "1000:1000", "--cap-add", "SYS_ADMIN", "--cap-drop", "CHOWN", "-m", "64m", "--cpus", "1.5",
                           "--pids-limit", "100", "-w", "/tmp", "-e", "FOO=bar", "--read-only", "--tmpfs", "/run"],
                   command: ["echo", "hi"], options: {
                       $0.command = ["echo", "hi"]; $0.user = "1000:1000"; $0.capAdd = ["SYS_ADMIN"]; $0.capDrop = ["CHOWN"]
                       $0.memory = 64 << 20; $0.nanoCPUs = 1_500_000_000; $0.pidsLimit = 100; $0.workingDir = "/tmp"
                       $0.env = ["FOO=bar"]; $0.readOnlyRootfs = true; $0.mounts = [MountRequest(kind: .tmpfs, source: nil, target: "/run")]
                   }),
        PodmanCase(flags: ["--entrypoint", "/bin/echo", "-m", "32m", "--memory-swap", "-1", "--cpu-shares", "512",
                           "--cpuset-cpus", "0", "--pids-limit", "50"],
                   command: ["a", "b"], options: {
                       $0.entrypoint = ["/bin/echo"]; $0.command = ["a", "b"]; $0.memory = 32 << 20; $0.memorySwap = -1
                       $0.cpuShares = 512; $0.cpusetCpus = "0"; $0.pidsLimit = 50
                   }),
        PodmanCase(flags: ["--privileged", "--pids-limit", "10"], podmanOnly: [], command: ["true"],
                   options: { $0.privileged = true; $0.command = ["true"]; $0.pidsLimit = 10 }),
    ]

    /// Ours against Podman's config.json for the same flags. Expected differences, Docker being the
    /// reference: Podman limits pids to 2048 by default; leaves out swap for --memory-swap -1; adds container=podman, TERM=xterm and HOME to the env, /run/.containerenv,
    /// /etc/passwd, /etc/group and (with --read-only) /tmp and /var/tmp tmpfs mounts; masks
    /// /sys/fs/selinux and /sys/dev/block and makes /proc/asound read-only where Docker masks it;
    /// sets ping_group_range "0 0"; puts added capabilities of a non-root user into its effective,
    /// inheritable and ambient sets where Docker gives such a user only the bounding set; leaves
    /// root's additionalGids empty where Docker lists gid 0; and without a containers.conf its
    /// defaults lack AUDIT_WRITE, MKNOD and NET_RAW (added to its flags here).
    @Test(.enabled(if: SpecRuntimeEnv.hasPodman), arguments: podmanCases)
    func matchesPodman(_ c: PodmanCase) throws {
        let podman = try PodmanStore()
        let theirs = try podman.config(c.flags + c.podmanOnly, c.command)
        let rootfs = try #require(theirs.root?.path)
        let id = try #require(theirs.hostname)
        var options = RunOptions()
        c.options(&options)
        options.ulimits = [Ulimit(name: "nofile", soft: 1024, hard: 1024), Ulimit(name: "nproc", soft: 1024, hard: 1024)]
        options.network = .none
        var spec = SpecInput(containerID: id + String(repeating: "0", count: 52), image: busyboxConfig(), options: options,
                             rootfs: rootfs, cgroupsPath: "/x")
        spec.etcFiles = ["/etc/hosts": "/x/hosts", "/etc/hostname": "/x/hostname"]
        let ours = try SpecBuilder.build(spec)

        #expect(ours.process?.args == theirs.process?.args)
        let podmanEnv = Set(theirs.process?.env ?? []).filter { !$0.hasPrefix("container=") && !$0.hasPrefix("HOME=") && $0 != "TERM=xterm" }
        #expect(Set(ours.process?.env ?? []) == podmanEnv)
        #expect(ours.process?.cwd == theirs.process?.cwd)
        #expect(ours.process?.user.uid == theirs.process?.user.uid && ours.process?.user.gid == theirs.process?.user.gid)
        #expect(ours.process?.rlimits == theirs.process?.rlimits)
        #expect(Set(ours.process?.capabilities?.bounding ?? []) == Set(theirs.process?.capabilities?.bounding ?? []))
        if ours.process?.user.uid == 0 {
            #expect(Set(ours.process?.capabilities?.effective ?? []) == Set(theirs.process?.capabilities?.effective ?? []))
            #expect(Set(ours.process?.capabilities?.permitted ?? []) == Set(theirs.process?.capabilities?.permitted ?? []))
        }

        let podmanExtras: Set<String> = ["/run/.containerenv", "/etc/passwd", "/etc/group", "/tmp", "/var/tmp", "/etc/resolv.conf"]
        let ourMounts = Set((ours.mounts ?? []).map(\.destination))
        let theirMounts = Set((theirs.mounts ?? []).map(\.destination))
        #expect(ourMounts == theirMounts.subtracting(podmanExtras), "ours \(ourMounts.sorted()), podman's \(theirMounts.sorted())")
        #expect(ours.root?.readonly == theirs.root?.readonly)
        #expect(Set(ours.linux?.namespaces?.map(\.type) ?? []) == Set(theirs.linux?.namespaces?.map(\.type) ?? []))

        if options.privileged {
            #expect(ours.linux?.maskedPaths == nil && theirs.linux?.maskedPaths == nil)
            #expect(ours.linux?.readonlyPaths == nil && theirs.linux?.readonlyPaths == nil)
            #expect(ours.linux?.resources?.devices == theirs.linux?.resources?.devices)
        } else {
            // Docker 28 masks /proc/interrupts and /sys/devices/virtual/powercap too (Berth follows
            // it, issue 15); Podman 4.3 here does not yet.
            let masked = Set(ours.linux?.maskedPaths ?? []).subtracting(["/proc/asound"]).subtracting(Self.newerDockerMasks)
            #expect(masked == Set(theirs.linux?.maskedPaths ?? []).subtracting(["/sys/fs/selinux", "/sys/dev/block"]))
            #expect(Set(ours.linux?.readonlyPaths ?? []).union(["/proc/asound"]) == Set(theirs.linux?.readonlyPaths ?? []))
        }
        let mine = ours.linux?.resources, their = theirs.linux?.resources
        #expect(mine?.memory?.limit == their?.memory?.limit)
        // Docker hands --memory-swap -1 to the runtime as -1; Podman leaves swap out.
        #expect(mine?.memory?.swap == their?.memory?.swap ?? (options.memorySwap == -1 ? -1 : nil))
        #expect(mine?.cpu?.quota == their?.cpu?.quota && mine?.cpu?.period == their?.cpu?.period)
        #expect(mine?.cpu?.shares == their?.cpu?.shares && mine?.cpu?.cpus == their?.cpu?.cpus)
        // Podman's default is 2048 pids; Docker sets no limit.
        if options.pidsLimit != nil { #expect(mine?.pids == their?.pids) }
    }
}

extension String {
    fileprivate func trimmed(_ set: String) -> String {
        var slice = Substring(self)
        while let first = slice.first, set.contains(first) { slice.removeFirst() }
        while let last = slice.last, set.contains(last) { slice.removeLast() }
        return String(slice)
    }
}
