@testable import BerthCLI
import ContainerNetwork
import ContainerSpec
import DockerModel
import Testing

/// `POST /containers/create` bodies → RunOptions. The oracle is the CLI: the body the docker CLI sent
/// for a flag line must give the RunOptions BerthCLI's RunFlags builds from the same line.
@Suite struct ContainerCreateRequestTests {
    static func failure<T>(_ body: () throws(EngineError) -> T) -> String? {
        do { _ = try body(); return nil } catch { return error.message }
    }

    /// `?name=web&platform=…` as the HTTP layer would hand the values over.
    static func queryValue(_ query: String, _ key: String) -> String? {
        for pair in query.drop(while: { $0 == "?" }).split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1).map(String.init)
            if parts.first == key { return parts.count > 1 ? parts[1].replacingPercents() : "" }
        }
        return nil
    }

    static func create(_ body: String, name: String? = nil, platform: String? = nil, hostCPUs: Int = 2) throws(EngineError) -> ContainerCreate {
        try ContainerCreateRequest(body: Array(body.utf8), name: name, platform: platform).runOptions(hostCPUs: hostCPUs)
    }

    static func cli(_ flags: [String]) throws -> RunOptions {
        try RunFlags.parse(flags).runOptions(environment: ["FROM_CALLER": "yes"], currentDirectory: "/work", hostCPUs: 2)
    }

    /// Orders that carry no meaning: the CLI sends Binds, Tmpfs and PortBindings from maps.
    static func normalised(_ options: RunOptions) -> RunOptions {
        var o = options
        o.mounts.sort { $0.target < $1.target }
        o.networking?.publish.sort { ($0.containerPort, $0.proto, $0.hostIP, $0.hostPort) < ($1.containerPort, $1.proto, $1.hostIP, $1.hostPort) }
        return o
    }

    // MARK: the differential test

    @Test(arguments: CapturedCreates.all)
    func sameAsTheCLI(_ capture: CapturedCreates.Capture) throws {
        let api = try Self.create(capture.body, name: Self.queryValue(capture.query, "name"))
        var cli = try Self.cli(capture.flags)
        cli.command = capture.command
        #expect(Self.normalised(api.options) == Self.normalised(cli))
        #expect(api.image == "busybox")
        #expect(api.moreNetworks.isEmpty && api.warnings.isEmpty)
    }

    /// Inspect's Config.AttachStdin/AttachStdout/AttachStderr, OpenStdin, StdinOnce and Tty are what
    /// the body said, as dockerd keeps them (`docker create -a stdout` shows stderr unattached,
    /// `docker run -d` nothing attached, Compose's stdin_open stdin open but unattached).
    @Test(arguments: CapturedCreates.all.map { ($0.label, $0.body) }
        + CapturedBodies.all.filter { $0.key.hasPrefix("py-") && $0.value.path.contains("/containers/create") }.map { ($0.key, $0.value.body) }
        + [("compose-stdin-open", #"{"Image":"busybox","AttachStdin":false,"AttachStdout":true,"AttachStderr":true,"OpenStdin":true,"StdinOnce":false}"#),
           ("stdin-once-alone", #"{"Image":"busybox","AttachStdout":true,"StdinOnce":true}"#)])
    func inspectShowsTheBodysAttachFields(_ label: String, _ body: String) throws {
        let config = try #require(try ContainerCreateRequest(body: Array(body.utf8)).body.config)
        let o = try Self.create(body).options
        let sent = [config.attachStdin, config.attachStdout, config.attachStderr, config.openStdin, config.stdinOnce, config.tty].map { $0 ?? false }
        let shown = [o.attachesStdin, o.attachesStdout, o.attachesStderr, o.interactive, o.closesStdinAfterAttach, o.tty]
        #expect(shown == sent, "\(label)")
    }

    /// The oracle itself must see the flags: a line whose options are the defaults would prove nothing.
    @Test(arguments: CapturedCreates.all)
    func everyCaptureSetsSomething(_ capture: CapturedCreates.Capture) throws {
        #expect(try Self.cli(capture.flags) != RunOptions())
    }

    @Test func whatTheCLIBodiesCarry() throws {
        let bodies = Dictionary(uniqueKeysWithValues: CapturedCreates.all.map { ($0.label, $0.body) })
        let basic = try Self.create(bodies["basic"]!).options
        #expect(basic.restart == .onFailure(maximumRetries: 3) && basic.memory == 64 << 20 && basic.capAdd == ["CAP_NET_ADMIN"])
        #expect(basic.network == .named("n1") && basic.net.aliases == ["x"] && basic.health.test == ["CMD-SHELL", "true"])
        #expect(basic.net.publish == [PortMapping(hostPort: 8080, containerPort: 80)] && basic.exposedPorts == ["80/tcp"])
        let identity = try Self.create(bodies["identity"]!, name: "web").options
        // `-e UNSET` arrives bare; it is dropped as the CLI drops it.
        #expect(identity.env == ["A=1", "FROM_CALLER=yes"] && identity.entrypoint == [""] && identity.name == "web")
        let mounts = try Self.create(bodies["mounts"]!).options.mounts
        #expect(mounts.contains(MountRequest(kind: .volume, source: nil, target: "/anon")))
        #expect(mounts.contains(MountRequest(kind: .tmpfs, source: nil, target: "/t", options: ["size=67108864", "mode=01777"])))
        let interactive = try Self.create(bodies["interactive"]!)
        #expect(interactive.attachStdin && interactive.stdinOnce && interactive.options.command == ["-c", "x"])
    }

    // MARK: docker-py's bodies (no CLI line to compare with: the expected values are written out)

    @Test func dockerPyContainersCreate() throws {
        let made = try Self.create(CapturedBodies.all["py-create"]!.body, name: "pyc")
        let o = made.options
        #expect(o.name == "pyc" && o.hostname == "box" && o.user == "1:2" && o.workingDir == "/srv")
        #expect(o.env == ["A=1", "B=two words"] && o.labels == ["a": "1"] && o.stopSignal == "SIGINT")
        #expect(o.tty && o.interactive && o.readOnlyRootfs && o.initProcess && o.entrypoint == ["/bin/sh"])
        #expect(o.command == ["sh", "-c", "echo hi"])
        #expect(o.restart == .onFailure(maximumRetries: 3) && o.memory == 64 << 20 && o.shmSize == 1 << 30)
        #expect(o.nanoCPUs == 1_500_000_000 && o.pidsLimit == 50 && o.ulimits == [Ulimit(name: "nofile", soft: 10, hard: 20)])
        #expect(o.capAdd == ["CAP_NET_ADMIN"] && o.groupAdd == ["audio"] && o.noNewPrivileges)
        #expect(o.sysctls == ["net.core.somaxconn": "1024"] && o.devices == [DeviceRequest(hostPath: "/dev/fuse", containerPath: "/dev/fuse")])
        #expect(o.health.test == ["CMD", "true"] && o.health.interval == 30_000_000_000 && o.health.retries == 3 && o.health.timeout == nil)
        #expect(o.net.dns == ["1.1.1.1"] && o.net.extraHosts == ["db:10.0.0.2"])
        #expect(Set(o.net.publish) == [
            PortMapping(hostPort: 8080, containerPort: 80), PortMapping(hostIP: "127.0.0.1", hostPort: 5353, containerPort: 53, proto: "udp"),
            PortMapping(hostPort: 0, containerPort: 90),
        ])
        #expect(o.exposedPorts == ["53/udp", "80/tcp", "90/tcp"])
        // docker-py lists the bind targets in Config.Volumes as well: no anonymous volume for them.
        var bind = MountRequest(kind: .bind, source: "/h", target: "/c", readOnly: true)
        bind.createsMissingSource = true
        #expect(Self.normalised(o).mounts == [
            bind, MountRequest(kind: .volume, source: "data", target: "/data"), MountRequest(kind: .tmpfs, source: nil, target: "/run", options: ["size=64m"]),
            MountRequest(kind: .tmpfs, source: nil, target: "/t", options: ["size=67108864"]),
            MountRequest(kind: .volume, source: "v2", target: "/v2", options: ["nocopy"]),
        ])
        #expect(!made.attachStdin && !made.attachStdout)
    }

    @Test func dockerPyLowLevelCreate() throws {
        let o = try Self.create(CapturedBodies.all["py-api-create"]!.body).options
        #expect(o.network == .named("n1") && o.net.aliases == ["x"] && o.net.ipv4 == "172.30.0.5")
        var bind = MountRequest(kind: .bind, source: "/a", target: "/b")
        bind.createsMissingSource = true
        #expect(Self.normalised(o).mounts == [MountRequest(kind: .volume, source: nil, target: "/anon"), bind])
        // `network=` in containers.create sends NetworkingConfig {"n1": null}: not EndpointsConfig, ignored as dockerd does.
        let network = try Self.create(CapturedBodies.all["py-network"]!.body).options
        #expect(network.network == .named("n1") && network.net.aliases.isEmpty && network.command == ["true"])
    }

    // MARK: Go's decoding rules

    @Test func keysMatchWithoutCaseAndTheLaterWins() throws {
        let o = try Self.create(#"{"image":"busybox","hostconfig":{"memory":67108864,"RESTARTPOLICY":{"name":"always"}},"Labels":{"A":"1"},"Tty":false,"tty":true}"#)
        #expect(o.image == "busybox" && o.options.memory == 64 << 20 && o.options.restart == .always && o.options.tty)
        // Map keys are data: their case stays.
        #expect(o.options.labels == ["A": "1"])
    }

    @Test func unknownFieldsAndNulls() throws {
        let o = try Self.create(#"{"Image":"busybox","Bogus":[1,{}],"Env":null,"HostConfig":{"Nope":{"x":1},"Memory":null},"Labels":{"a":null},"Cmd":"echo hi"}"#)
        #expect(o.options.labels == ["a": ""] && o.options.memory == nil && o.options.env.isEmpty)
        // strslice.StrSlice: one string is a list of one.
        #expect(o.options.command == ["echo hi"])
    }

    static let decodeErrors: [(String, String)] = [
        (#"{"Image":"b","HostConfig":{"Memory":"1g"}}"#, "json: cannot unmarshal string into Go struct field HostConfig.HostConfig.Memory of type int64"),
        (#"{"Image":5}"#, "json: cannot unmarshal number into Go struct field CreateRequest.Image of type string"),
        (#"{"Env":"A=1"}"#, "json: cannot unmarshal string into Go struct field CreateRequest.Env of type []string"),
        (#"{"Env":["A=1",1]}"#, "json: cannot unmarshal number into Go struct field CreateRequest.Env of type string"),
        (#"{"HostConfig":{"Memory":1.5}}"#, "json: cannot unmarshal number 1.5 into Go struct field HostConfig.HostConfig.Memory of type int64"),
        (#"{"HostConfig":{"BlkioWeight":-1}}"#, "json: cannot unmarshal number -1 into Go struct field HostConfig.HostConfig.BlkioWeight of type uint16"),
        (#"{"HostConfig":5}"#, "json: cannot unmarshal number into Go struct field CreateRequest.HostConfig of type container.HostConfig"),
        (#"{"HostConfig":{"Mounts":[{"Target":true}]}}"#, "json: cannot unmarshal bool into Go struct field Mount.HostConfig.Mounts.Target of type string"),
        (#"{"HostConfig":{"Mounts":{}}}"#, "json: cannot unmarshal object into Go struct field HostConfig.HostConfig.Mounts of type []mount.Mount"),
        (#"{"Cmd":5}"#, "json: cannot unmarshal number into Go struct field CreateRequest.Cmd of type string"),
        (#"{"Cmd":[1]}"#, "json: cannot unmarshal array into Go struct field CreateRequest.Cmd of type string"),
        (#"{"Labels":{"a":1}}"#, "json: cannot unmarshal number into Go struct field CreateRequest.Labels of type string"),
        (#"{"ExposedPorts":{"80/tcp":1}}"#, "json: cannot unmarshal number into Go struct field CreateRequest.ExposedPorts of type struct {}"),
        (#"{"HostConfig":{"ConsoleSize":[1,"x"]}}"#, "json: cannot unmarshal string into Go struct field HostConfig.HostConfig.ConsoleSize of type uint"),
        (#"{"NetworkingConfig":{"EndpointsConfig":{"n1":{"Aliases":"x"}}}}"#,
         "json: cannot unmarshal string into Go struct field EndpointSettings.NetworkingConfig.EndpointsConfig.Aliases of type []string"),
        (#"{"Healthcheck":{"Interval":"30s"}}"#, "json: cannot unmarshal string into Go struct field HealthConfig.Healthcheck.Interval of type int64"),
        ("[1]", "json: cannot unmarshal array into Go value of type container.CreateRequest"),
    ]

    @Test(arguments: decodeErrors)
    func wrongTypesInGosWords(_ body: String, _ message: String) {
        #expect(Self.failure { () throws(EngineError) in try Self.create(body) } == "invalid JSON: " + message)
    }

    static let malformed: [(String, String)] = [
        ("", "invalid JSON: got EOF while reading request body"),
        (" \n\t", "invalid JSON: got EOF while reading request body"),
        (#"{"Image":"#, "invalid JSON: unexpected EOF"),
        (#"{"Image" 1}"#, "invalid JSON: invalid character '1' after object key"),
        (#"{"Image":"b",}"#, "invalid JSON: invalid character '}' looking for beginning of object key string"),
        (#"{"Image":"b"} x"#, "unexpected content after JSON"),
        (#"{"Image":"b"}{}"#, "unexpected content after JSON"),
        // Decoder.More is false before a closing bracket: what follows it is never read.
        (#"{"Image":"b"} } x"#, ""),
        ("{}", "config cannot be empty in order to create a container"),
        ("null", "config cannot be empty in order to create a container"),
        (#"{"HostConfig":{"Memory":67108864}}"#, "config cannot be empty in order to create a container"),
    ]

    @Test(arguments: malformed)
    func malformedBodies(_ body: String, _ message: String) {
        let got = Self.failure { () throws(EngineError) in try Self.create(body) }
        #expect(got == (message.isEmpty ? nil : message))
    }

    // MARK: refusals

    @Test func whatRunOptionsCannotHoldIsRefused() {
        #expect(Self.failure { () throws(EngineError) in try Self.create(CapturedBodies.all["cli-unsupported"]!.body) }
            == #"MemorySwappiness "10" is not supported"#)
        #expect(Self.failure { () throws(EngineError) in try Self.create(CapturedBodies.all["cli-gpus"]!.body) }
            == #"could not select device driver "" with capabilities: [[gpu]]"#)
        #expect(Self.failure { () throws(EngineError) in try Self.create(CapturedBodies.all["cli-seccompfile"]!.body) }
            == "a seccomp profile sent in SecurityOpt is not supported; only seccomp=unconfined and seccomp=builtin are")
    }

    static let refused: [(String, String)] = [
        (#""LogConfig":{"Type":"json-file","Config":{"bogus":"1"}}"#, "unknown log opt 'bogus' for json-file log driver"),
        (#""CgroupnsMode":"host""#, #"CgroupnsMode "host" is not supported"#),
        (#""CgroupnsMode":"shared""#, "invalid cgroup namespace mode: shared"),
        (#""MemorySwappiness":10"#, #"MemorySwappiness "10" is not supported"#),
        (#""MemorySwappiness":200"#, "Invalid value: 200, valid memory swappiness range is 0-100"),
        (#""BlkioWeight":300"#, #"BlkioWeight "300" is not supported"#),
        (#""DeviceCgroupRules":["c 1:3 mr"]"#, #"DeviceCgroupRules "c 1:3 mr" is not supported"#),
        (#""StorageOpt":{"size":"1G"}"#, #"StorageOpt "size" is not supported"#),
        (#""Runtime":"kata""#, "unknown or invalid runtime name: kata"),
        (#""Isolation":"hyperv""#, "invalid isolation \"hyperv\": linux only supports 'default'"),
        (#""CpuCount":2"#, "invalid QoS settings: linux does not support CPU count"),
        (#""CgroupParent":"/x""#, #"CgroupParent "/x" is not supported"#),
        (#""MaskedPaths":[]"#, #"MaskedPaths "" is not supported"#),
        (#""Mounts":[{"Type":"image","Source":"busybox","Target":"/i"}]"#, #"Mount.Type "image" is not supported"#),
    ]

    /// The namespace, link and logging fields go where their flags put them (the CLI is the oracle).
    static let mapped: [(String, [String])] = [
        (#""LogConfig":{"Type":"none"}"#, ["--log-driver", "none"]),
        (#""PidMode":"host""#, ["--pid", "host"]),
        (#""PidMode":"container:other""#, ["--pid", "container:other"]),
        (#""IpcMode":"host""#, ["--ipc", "host"]),
        (#""IpcMode":"shareable""#, ["--ipc", "shareable"]),
        (#""UTSMode":"host""#, ["--uts", "host"]),
        (#""UsernsMode":"host""#, ["--userns", "host"]),
        (#""VolumesFrom":["other:ro"]"#, ["--volumes-from", "other:ro"]),
        (#""Links":["other:alias"]"#, ["--link", "other:alias"]),
        (#""OomKillDisable":true"#, ["--oom-kill-disable"]),
    ]

    @Test(arguments: mapped)
    func namespaceLinkAndLogFieldsMapAsTheirFlags(_ field: String, _ flags: [String]) throws {
        let api = try Self.create(#"{"Image":"b","HostConfig":{\#(field)}}"#).options
        // A body that attaches no stream is `-d`'s.
        #expect(api == (try Self.cli(flags + ["-d"])))
    }

    @Test(arguments: refused)
    func refusedHostConfigFields(_ field: String, _ message: String) {
        #expect(Self.failure { () throws(EngineError) in try Self.create(#"{"Image":"b","HostConfig":{\#(field)}}"#) } == message)
    }

    @Test func defaultValuesOfRefusedFieldsPass() throws {
        // What the docker CLI sends when none of those flags is given.
        _ = try Self.create(#"{"Image":"b","MacAddress":"","HostConfig":{"PidMode":"","IpcMode":"private","MemorySwappiness":-1,"OomKillDisable":false,"Runtime":"runc","Isolation":"","CgroupnsMode":"private","ContainerIDFile":"/tmp/cid","KernelMemory":0,"MaskedPaths":null}}"#)
    }

    static let daemonChecks: [(String, String)] = [
        (#"{"Image":"b","HostConfig":{"RestartPolicy":{"Name":"sometimes"}}}"#,
         "invalid restart policy: unknown policy 'sometimes'; use one of 'no', 'always', 'on-failure', or 'unless-stopped'"),
        (#"{"Image":"b","HostConfig":{"RestartPolicy":{"Name":"always","MaximumRetryCount":2}}}"#,
         "invalid restart policy: maximum retry count can only be used with 'on-failure'"),
        (#"{"Image":"b","HostConfig":{"RestartPolicy":{"Name":"on-failure","MaximumRetryCount":-1}}}"#,
         "invalid restart policy: maximum retry count cannot be negative"),
        (#"{"Image":"b","HostConfig":{"AutoRemove":true,"RestartPolicy":{"Name":"always"}}}"#, "can't create 'AutoRemove' container with restart policy"),
        (#"{"Image":"b","HostConfig":{"PortBindings":{"80x/tcp":[{"HostPort":"80"}]}}}"#, #"invalid port specification: "80x""#),
        (#"{"Image":"b","HostConfig":{"PortBindings":{"80/tcp":[{"HostPort":"abc"}]}}}"#, #"invalid port specification: "abc""#),
        (#"{"Image":"b","ExposedPorts":{"70000/tcp":{}}}"#, #"invalid port specification: "70000""#),
        (#"{"Image":"b","HostConfig":{"Memory":1024}}"#, "Minimum memory limit allowed is 6MB"),
        (#"{"Image":"b","HostConfig":{"NanoCpus":5000000000}}"#, "Range of CPUs is from 0.01 to 2.00, as there are only 2 CPUs available"),
        (#"{"Image":"b","Hostname":"h","HostConfig":{"NetworkMode":"container:other"}}"#, "conflicting options: hostname and the network mode"),
        (#"{"Image":"b","HostConfig":{"NetworkMode":"container:"}}"#, "invalid network mode: invalid container format container:<name|id>"),
        (#"{"Image":"b","HostConfig":{"NetworkMode":"container:x","PublishAllPorts":true}}"#,
         "conflicting options: port publishing and the container type network mode"),
        (#"{"Image":"b","NetworkingConfig":{"EndpointsConfig":{"bridge":{"Aliases":["a"]}}}}"#,
         "network-scoped alias is supported only for containers in user defined networks"),
        (#"{"Image":"b","HostConfig":{"Mounts":[{"Type":"bind","Source":"/h"}]}}"#, #"invalid mount config for type "bind": field Target must not be empty"#),
        (#"{"Image":"b","HostConfig":{"Mounts":[{"Type":"bogus","Target":"/t"}]}}"#, #"invalid mount config for type "bogus": mount type unknown"#),
        (#"{"Image":"b","HostConfig":{"Mounts":[{"Type":"bind","Source":"rel","Target":"/t"}]}}"#,
         #"invalid mount config for type "bind": invalid mount path: 'rel' mount path must be absolute"#),
        (#"{"Image":"b","HostConfig":{"Mounts":[{"Type":"tmpfs","Target":"/t","BindOptions":{}}]}}"#,
         #"invalid mount config for type "tmpfs": field BindOptions must not be specified"#),
        (#"{"Image":"b","HostConfig":{"Binds":["/a:/t","/b:/t"]}}"#, "Duplicate mount point: /t"),
        // A bind with no host side is an anonymous volume there, as `-v /a` is.
        (#"{"Image":"b","HostConfig":{"Binds":["/a"]}}"#, ""),
        (#"{"Image":"b","Env":["=x"]}"#, "invalid environment variable: =x"),
        (#"{"Image":"b","HostConfig":{"CapAdd":["NOPE"]}}"#, #"invalid CapAdd: unknown capability: "CAP_NOPE""#),
        (#"{"Image":"b","WorkingDir":"rel"}"#, "the working directory 'rel' is invalid, it needs to be an absolute path"),
        (#"{"Image":"b","Healthcheck":{"Interval":5}}"#, "Interval in Healthcheck cannot be less than 1ms"),
        (#"{"Image":"b","HostConfig":{"Sysctls":{"kernel.hostname":"x"}}}"#, "sysctl 'kernel.hostname=x' is not allowed"),
    ]

    @Test(arguments: daemonChecks)
    func dockerdsChecksInItsWords(_ body: String, _ message: String) {
        #expect(Self.failure { () throws(EngineError) in try Self.create(body) } == (message.isEmpty ? nil : message))
    }

    @Test func nameAndPlatformFromTheQuery() throws {
        #expect(try Self.create(#"{"Image":"b"}"#, name: "/web").options.name == "web")
        #expect(Self.failure { () throws(EngineError) in try Self.create(#"{"Image":"b"}"#, name: "a b") }
            == "Invalid container name (a b), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed")
        #expect(try Self.create(#"{"Image":"b"}"#, platform: "linux/arm64").platform?.architecture == "arm64")
        #expect(try Self.create(#"{"Image":"b"}"#, platform: "").platform == nil)
    }

    @Test func relativeBindsNameVolumes() {
        // dockerd has no current directory: `./x` is a volume name, and an invalid one.
        let message = Self.failure { () throws(EngineError) in try Self.create(#"{"Image":"b","HostConfig":{"Binds":["./x:/y"]}}"#) }
        #expect(message?.hasPrefix(#"create ./x: "./x" includes invalid characters for a local volume name"#) == true)
    }

    @Test func severalNetworks() throws {
        let made = try Self.create(#"""
            {"Image":"b","HostConfig":{"NetworkMode":"n1"},"NetworkingConfig":{"EndpointsConfig":{
              "n1":{"Aliases":["web"]},"n2":{"Aliases":["api"],"IPAMConfig":{"IPv4Address":"10.9.0.5"}},"n3":null}}}
            """#)
        #expect(made.options.network == .named("n1") && made.options.net.aliases == ["web"])
        #expect(made.moreNetworks == [
            .init(network: "n2", aliases: ["api"], ipv4: "10.9.0.5"), .init(network: "n3", aliases: [], ipv4: nil),
        ])
        // The main network's MAC address and links are the container's (`--mac-address`, `--link`);
        // RunOptions has none for the others.
        let main = try Self.create(#"{"Image":"b","HostConfig":{"NetworkMode":"n1","Links":["a:b"]},"NetworkingConfig":{"EndpointsConfig":{"n1":{"MacAddress":"02-42-AC-11-00-02","Links":["a:b","c"]}}}}"#)
        #expect(main.options.macAddress == "02:42:ac:11:00:02" && main.options.links == ["a:b", "c:c"])
        #expect(Self.failure { () throws(EngineError) in
            try Self.create(#"{"Image":"b","HostConfig":{"NetworkMode":"n1"},"NetworkingConfig":{"EndpointsConfig":{"n1":{},"n2":{"MacAddress":"02:42:ac:11:00:02"}}}}"#)
        } == #"MacAddress "02:42:ac:11:00:02" is not supported"#)
    }

    @Test func hostModeDiscardsPortsWithDockersWarning() throws {
        let made = try Self.create(#"{"Image":"b","HostConfig":{"NetworkMode":"host","PortBindings":{"80/tcp":[{"HostPort":"8080"}]}}}"#)
        #expect(made.options.network == .host && made.options.net.publish.isEmpty)
        #expect(made.warnings == ["Published ports are discarded when using host network mode"])
    }

    @Test func mountOptionsTheCLICannotWrite() throws {
        let made = try Self.create(#"""
            {"Image":"b","HostConfig":{"Mounts":[
              {"Type":"bind","Source":"/h,x","Target":"/c","BindOptions":{"CreateMountpoint":true}},
              {"Type":"tmpfs","Target":"/t","TmpfsOptions":{"Options":[["noexec"],["nr_inodes","1k"]]}},
              {"Type":"volume","Source":"vol","Target":"/v","VolumeOptions":{"Subpath":"sub","Labels":{"k":"v"}}}]}}
            """#)
        var bind = MountRequest(kind: .bind, source: "/h,x", target: "/c")
        bind.createsMissingSource = true
        #expect(made.options.mounts == [
            bind, MountRequest(kind: .tmpfs, source: nil, target: "/t", options: ["noexec", "nr_inodes=1k"]),
            MountRequest(kind: .volume, source: "vol", target: "/v", options: ["volume-subpath=sub", "volume-label=k=v"]),
        ])
    }

    @Test func consoleSizeOnlyWithATty() throws {
        #expect(try Self.create(#"{"Image":"b","Tty":true,"HostConfig":{"ConsoleSize":[24,80,5]}}"#).consoleSize! == (24, 80))
        #expect(try Self.create(#"{"Image":"b","HostConfig":{"ConsoleSize":[24,80]}}"#).consoleSize == nil)
        #expect(try Self.create(#"{"Image":"b","Tty":true,"HostConfig":{"ConsoleSize":[0,0]}}"#).consoleSize == nil)
    }
}

extension String {
    /// `%2F` → `/`, `+` kept: enough for the captured queries.
    func replacingPercents() -> String {
        var bytes: [UInt8] = []
        var index = utf8.startIndex
        while index < utf8.endIndex {
            let byte = utf8[index]
            if byte == UInt8(ascii: "%"), let end = utf8.index(index, offsetBy: 3, limitedBy: utf8.endIndex),
               let value = UInt8(String(decoding: utf8[utf8.index(after: index)..<end], as: UTF8.self), radix: 16) {
                bytes.append(value)
                index = end
            } else {
                bytes.append(byte)
                index = utf8.index(after: index)
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}
