import ContainerSpec
import OCI
import Testing

/// RunOptions + an image's config → the OCI spec, table by table. Pure: a scratch rootfs with
/// /etc/passwd and /etc/group, no root, no runtime.
struct SpecFromOptionsTests {
    static func spec(image: ContainerConfig? = busyboxConfig(), _ change: (inout RunOptions) -> Void) throws -> Spec {
        let root = try FixtureRoot()
        return try SpecBuilder.build(input(root, image: image, change))
    }

    static func image(entrypoint: [String]?, cmd: [String]?, env: [String]? = nil, user: String? = nil, workdir: String? = nil) -> ContainerConfig {
        var config = ContainerConfig()
        config.entrypoint = entrypoint
        config.cmd = cmd
        config.env = env
        config.user = user
        config.workingDir = workdir
        return config
    }

    // Docker's rules: a given entrypoint drops the image's Cmd unless a command is given;
    // `--entrypoint ""` ([""]) clears the image's entrypoint.
    @Test(arguments: [
        (nil, ["sh"], nil, nil, ["sh"]),
        (["/ep"], ["a"], nil, nil, ["/ep", "a"]),
        (["/ep"], ["a"], nil, ["ls", "-l"], ["/ep", "ls", "-l"]),
        (["/ep"], ["a"], ["/new"], nil, ["/new"]),
        (["/ep"], ["a"], ["/new"], ["x"], ["/new", "x"]),
        (["/ep"], ["a"], [""], ["echo", "hi"], ["echo", "hi"]),
    ] as [([String]?, [String]?, [String]?, [String]?, [String])])
    func argv(imageEntrypoint: [String]?, imageCmd: [String]?, entrypoint: [String]?, command: [String]?, args: [String]) throws {
        let spec = try Self.spec(image: Self.image(entrypoint: imageEntrypoint, cmd: imageCmd)) {
            $0.entrypoint = entrypoint
            $0.command = command
        }
        #expect(spec.process?.args == args)
    }

    @Test func noCommandAtAll() throws {
        let root = try FixtureRoot()
        #expect(errorMessage { _ = try SpecBuilder.build(input(root, image: Self.image(entrypoint: nil, cmd: nil))) } == "No command specified")
        // `--entrypoint ""` counts as given, so the image's Cmd goes too.
        #expect(errorMessage { _ = try SpecBuilder.build(input(root, image: Self.image(entrypoint: nil, cmd: ["sh"])) { $0.entrypoint = [""] }) }
            == "No command specified")
    }

    // PATH and HOSTNAME first (TERM with -t), replaced in place or extended by the merged Env:
    // the user's entries, then the image's whose keys the user did not set.
    @Test(arguments: [
        ([], [], false, [SpecBuilder.defaultPath, "HOSTNAME=0123456789ab"]),
        (["PATH=/img", "A=image", "C=3"], ["A=run", "B=2"], false, ["PATH=/img", "HOSTNAME=0123456789ab", "A=run", "B=2", "C=3"]),
        (["A=image"], ["HOSTNAME=mine"], true, [SpecBuilder.defaultPath, "HOSTNAME=mine", "TERM=xterm", "A=image"]),
    ] as [([String], [String], Bool, [String])])
    func environment(image: [String], user: [String], tty: Bool, env: [String]) throws {
        let spec = try Self.spec(image: Self.image(entrypoint: nil, cmd: ["sh"], env: image)) {
            $0.env = user
            $0.tty = tty
        }
        #expect(spec.process?.env == env)
    }

    @Test(arguments: [
        (nil, nil, 0, 0),
        ("app", nil, 1000, 1000),
        ("1:2", nil, 1, 2),
        (nil, "daemon", 1, 1),
        ("app", "daemon", 1000, 1000),
        ("0:audio", nil, 0, 29),
    ] as [(String?, String?, UInt32, UInt32)])
    func user(flag: String?, image: String?, uid: UInt32, gid: UInt32) throws {
        let spec = try Self.spec(image: Self.image(entrypoint: nil, cmd: ["sh"], user: image)) { $0.user = flag }
        #expect(spec.process?.user.uid == uid)
        #expect(spec.process?.user.gid == gid)
    }

    @Test(arguments: [(nil, nil, "/"), ("/srv", nil, "/srv"), (nil, "/img", "/img"), ("/srv", "/img", "/srv")] as [(String?, String?, String)])
    func workingDirectory(flag: String?, image: String?, cwd: String) throws {
        let spec = try Self.spec(image: Self.image(entrypoint: nil, cmd: ["sh"], workdir: image)) { $0.workingDir = flag }
        #expect(spec.process?.cwd == cwd)
    }

    @Test(arguments: [(64 << 20, 67_108_864), (6 << 20, 6_291_456)] as [(Int64, Int64)])
    func memoryLimit(memory: Int64, limit: Int64) throws {
        let spec = try Self.spec { $0.memory = memory }
        #expect(spec.linux?.resources?.memory?.limit == limit)
    }

    @Test(arguments: [(1_500_000_000, 150_000), (500_000_000, 50_000), (2_000_000_000, 200_000)] as [(Int64, Int64)])
    func nanoCPUs(nano: Int64, quota: Int64) throws {
        let spec = try Self.spec { $0.nanoCPUs = nano }
        #expect(spec.linux?.resources?.cpu?.quota == quota)
        #expect(spec.linux?.resources?.cpu?.period == 100_000)
    }

    @Test(arguments: [false, true])
    func readOnlyRootfs(readOnly: Bool) throws {
        let spec = try Self.spec { $0.readOnlyRootfs = readOnly }
        #expect((spec.root?.readonly ?? false) == readOnly)
    }

    @Test(arguments: [
        ([], [], "CAP_NET_ADMIN", false),
        (["CAP_NET_ADMIN"], [], "CAP_NET_ADMIN", true),
        ([], ["CAP_CHOWN"], "CAP_CHOWN", false),
        ([], [], "CAP_CHOWN", true),
        (["ALL"], [], "CAP_SYS_ADMIN", true),
        ([], ["ALL"], "CAP_KILL", false),
    ] as [([String], [String], String, Bool)])
    func capabilities(add: [String], drop: [String], capability: String, present: Bool) throws {
        let spec = try Self.spec {
            $0.capAdd = add
            $0.capDrop = drop
        }
        #expect((spec.process?.capabilities?.bounding ?? []).contains(capability) == present)
    }

    @Test func privilegedGetsEveryCapability() throws {
        let spec = try Self.spec { $0.privileged = true }
        #expect(Set(spec.process?.capabilities?.bounding ?? []) == Set(testHost.allCapabilities))
    }

    @Test(arguments: [(["size=1m"], false), ([], true)] as [([String], Bool)])
    func tmpfsMount(options: [String], readOnly: Bool) throws {
        let spec = try Self.spec {
            $0.mounts = [MountRequest(kind: .tmpfs, source: nil, target: "/scratch", readOnly: readOnly, options: options)]
        }
        let mount = try #require(spec.mounts?.first { $0.destination == "/scratch" })
        #expect(mount.type == "tmpfs")
        for option in options { #expect(mount.options?.contains(option) == true) }
        #expect(mount.options?.contains("ro") == readOnly)
    }
}
