@testable import BerthCLI
import Builder
import ContainerSpec
import DockerModel
import Engine
import OCI
import GoCompat
import Testing

/// The other request bodies (exec, update, networks, volumes) and the build query, from what the
/// docker CLI and docker-py sent.
@Suite struct RequestBodyTests {
    static func failure<T>(_ body: () throws(EngineError) -> T) -> String? {
        do { _ = try body(); return nil } catch { return error.message }
    }

    static func bytes(_ text: String) -> [UInt8] { Array(text.utf8) }

    // MARK: exec

    @Test func execCreate() throws {
        let detached = try ExecCreateRequest(body: CapturedBodies.body("cli-exec")).execRequest()
        #expect(detached.command == ["sh", "-c", "sleep 1"] && detached.env == ["A=1"] && detached.user == "root")
        #expect(detached.workdir == "/tmp" && detached.privileged && !detached.tty && !detached.interactive && !detached.detach)
        let interactive = try ExecCreateRequest(body: CapturedBodies.body("cli-execit")).execRequest()
        #expect(interactive.interactive && interactive.user == nil && interactive.workdir == nil)
        let tty = try ExecCreateRequest(body: CapturedBodies.body("cli-ttyexec"))
        #expect(try tty.execRequest().tty && tty.execRequest().consoleSize == nil && tty.detachKeys == "")
        let py = try ExecCreateRequest(body: CapturedBodies.body("py-exec")).execRequest()
        #expect(py.command == ["ls", "-l"] && py.tty && py.privileged && py.env == ["A=1"])
        let sized = try ExecCreateRequest(body: Self.bytes(#"{"Cmd":["sh"],"Tty":true,"ConsoleSize":[30,100]}"#)).execRequest()
        #expect(sized.consoleSize! == (30, 100))
    }

    @Test func execCreateRefusals() {
        #expect(Self.failure { () throws(EngineError) in try ExecCreateRequest(body: []).execRequest() } == "No exec command specified")
        #expect(Self.failure { () throws(EngineError) in try ExecCreateRequest(body: Self.bytes(" ")).execRequest() }
            == "invalid JSON: got EOF while reading request body")
        #expect(Self.failure { () throws(EngineError) in try ExecCreateRequest(body: Self.bytes(#"{"Cmd":[]}"#)).execRequest() }
            == "No exec command specified")
        #expect(Self.failure { () throws(EngineError) in try ExecCreateRequest(body: Self.bytes(#"{"Cmd":"ls"}"#)) }
            == "invalid JSON: json: cannot unmarshal string into Go struct field ExecOptions.Cmd of type []string")
    }

    @Test func execStart() throws {
        #expect(try ExecStartRequest(body: CapturedBodies.body("cli-exec-start")).detach == true)
        let tty = try ExecStartRequest(body: CapturedBodies.body("cli-ttyexec-start"))
        #expect(tty.tty == true && tty.ttySize == nil)
        #expect(try ExecStartRequest(body: Self.bytes(#"{"Tty":true,"ConsoleSize":[24,80]}"#)).ttySize! == (24, 80))
        #expect(try ExecStartRequest(body: Self.bytes(#"{"ConsoleSize":[24,80]}"#)).ttySize == nil)
        #expect(try ExecStartRequest(body: []).detach == nil)
    }

    // MARK: update: the same change as `berth update`'s flags

    static func cliUpdate(_ flags: [String]) throws -> Engine.ResourceUpdate {
        try Update.parse(flags + ["c"]).change()
    }

    @Test func updateMatchesTheCLI() throws {
        #expect(try ContainerUpdateRequest(body: CapturedBodies.body("cli-update")).resourceUpdate() == Self.cliUpdate([
            "-m", "128m", "--memory-swap", "256m", "--cpus", "0.5", "--restart", "on-failure:2", "--pids-limit", "100", "-c", "100",
            "--cpuset-cpus", "0-1",
        ]))
        #expect(try ContainerUpdateRequest(body: CapturedBodies.body("cli-updatemin")).resourceUpdate() == Self.cliUpdate(["--restart", "always"]))
        #expect(try ContainerUpdateRequest(body: CapturedBodies.body("py-update")).resourceUpdate()
            == Self.cliUpdate(["-m", "128m", "--memory-swap", "256m", "-c", "100", "--restart", "always"]))
        #expect(try Self.cliUpdate(["--restart", "always"]) != Engine.ResourceUpdate())
    }

    @Test func updateRefusals() {
        #expect(Self.failure { () throws(EngineError) in
            try ContainerUpdateRequest(body: Self.bytes(#"{"RestartPolicy":{"Name":"bogus"}}"#)).resourceUpdate()
        } == "invalid restart policy: unknown policy 'bogus'; use one of 'no', 'always', 'on-failure', or 'unless-stopped'")
        #expect(Self.failure { () throws(EngineError) in
            try ContainerUpdateRequest(body: Self.bytes(#"{"BlkioWeight":500}"#)).resourceUpdate()
        } == #"BlkioWeight "500" is not supported"#)
        #expect(Self.failure { () throws(EngineError) in
            try ContainerUpdateRequest(body: Self.bytes(#"{"CpuShares":-5}"#)).resourceUpdate()
        } == "invalid CPU shares (-5): value must be a positive integer")
        #expect(Self.failure { () throws(EngineError) in try ContainerUpdateRequest(body: Self.bytes(#"{"Memory":"1g"}"#)) }
            == "invalid JSON: json: cannot unmarshal string into Go struct field UpdateConfig.Memory of type int64")
    }

    // MARK: networks

    @Test func networkCreate() throws {
        let plain = try NetworkCreateRequest(body: CapturedBodies.body("cli-netplain")).createOptions()
        #expect(plain.name == "n6" && plain.driver == "bridge" && plain.subnet == nil && !plain.internal && plain.labels.isEmpty)
        let py = try NetworkCreateRequest(body: CapturedBodies.body("py-network-create")).createOptions()
        #expect(py.name == "n7" && py.subnet == "10.6.0.0/16" && py.gateway == "10.6.0.1" && py.internal && py.labels == ["a": "b"])
        // The CLI's line asked for --ip-range (taken) and a bridge option (refused, by name).
        var withRange = try GoJSON.decode(NetworkCreateRequest.self, from: try JSONParser.parse(CapturedBodies.body("cli-netcreate")))
        #expect(Self.failure { () throws(EngineError) in try withRange.createOptions() } == #"Options "com.docker.network.bridge.name" is not supported"#)
        withRange.options = nil
        let ranged = try withRange.createOptions()
        #expect(ranged.subnet == "10.5.0.0/16" && ranged.ipRange == "10.5.1.0/24" && ranged.gateway == "10.5.0.1" && ranged.attachable)
    }

    static let networkRefusals: [(String, String)] = [
        (#"{"Name":"n","IPAM":{"Config":[{"Subnet":"10.1.0.0/16"},{"Subnet":"10.2.0.0/16"}]}}"#, "only one IPv4 subnet is supported for now"),
        (#"{"Name":"n","IPAM":{"Config":[{"Gateway":"10.1.0.1"}]}}"#, "every ip-range or gateway must have a corresponding subnet"),
        (#"{"Name":"n","EnableIPv6":true}"#, #"EnableIPv6 "true" is not supported"#),
        (#"{"Name":"n","Options":{"com.docker.network.bridge.name":"br5"}}"#, #"Options "com.docker.network.bridge.name" is not supported"#),
        (#"{"Name":"n","Ingress":true}"#, #"Ingress "true" is not supported"#),
        (#"{"Name":"n","IPAM":{"Driver":"dhcp"}}"#, #"IPAM.Driver "dhcp" is not supported"#),
        (#"{"Name":"n","Internal":"yes"}"#, "invalid JSON: json: cannot unmarshal string into Go struct field CreateRequest.Internal of type bool"),
    ]

    @Test(arguments: networkRefusals)
    func networkCreateRefusals(_ body: String, _ message: String) {
        #expect(Self.failure { () throws(EngineError) in try NetworkCreateRequest(body: Self.bytes(body)).createOptions() } == message)
    }

    @Test func networkConnectAndDisconnect() throws {
        let cli = try NetworkConnectRequest(body: CapturedBodies.body("cli-netconnect"))
        #expect(cli.container == "c")
        #expect(try cli.attachment(network: "n5") == .init(network: "n5", aliases: ["a"], ipv4: "10.5.0.9"))
        let py = try NetworkConnectRequest(body: CapturedBodies.body("py-network-connect"))
        #expect(try py.attachment(network: "n7") == .init(network: "n7", aliases: ["a"], ipv4: "10.6.0.9"))
        #expect(try NetworkConnectRequest(body: Self.bytes(#"{"Container":"c"}"#)).attachment(network: "n") == .init(network: "n", aliases: [], ipv4: nil))
        #expect(Self.failure { () throws(EngineError) in
            try NetworkConnectRequest(body: Self.bytes(#"{"Container":"c","EndpointConfig":{"Links":["a:b"]}}"#)).attachment(network: "n")
        } == #"EndpointSettings.Links "a:b" is not supported"#)
        #expect(Self.failure { () throws(EngineError) in
            try NetworkConnectRequest(body: Self.bytes(#"{"Container":"c","EndpointConfig":{"IPAMConfig":{"IPv4Address":"10.0.0"}}}"#)).attachment(network: "n")
        } == "invalid IPv4 address: 10.0.0")
        for label in ["cli-netdisconnect", "py-network-disconnect"] {
            let request = try NetworkDisconnectRequest(body: CapturedBodies.body(label))
            #expect(request.container == "c" && request.force == true)
        }
    }

    // MARK: volumes

    @Test func volumeCreate() throws {
        let cli = try VolumeCreateRequest(body: CapturedBodies.body("cli-volcreate"))
        #expect(cli.name == "v1" && cli.driverName == "local" && cli.labels == ["a": "b"])
        #expect(cli.driverOpts == ["type": "tmpfs", "device": "tmpfs", "o": "size=1m"])
        let plain = try VolumeCreateRequest(body: CapturedBodies.body("cli-volplain"))
        #expect(plain.name == nil && plain.driverName == "local")
        let py = try VolumeCreateRequest(body: CapturedBodies.body("py-volume"))
        #expect(py.name == "v9" && py.driverOpts == ["type": "tmpfs", "device": "tmpfs"] && py.labels == ["k": "v"])
        #expect(try VolumeCreateRequest(body: []).driverName == "local")
        #expect(Self.failure { () throws(EngineError) in try VolumeCreateRequest(body: Self.bytes(#"{"Name":"v","ClusterVolumeSpec":{}}"#)) }
            == #"ClusterVolumeSpec "{}" is not supported"#)
        #expect(Self.failure { () throws(EngineError) in try VolumeCreateRequest(body: Self.bytes(#"{"Labels":[]}"#)) }
            == "invalid JSON: json: cannot unmarshal array into Go struct field CreateOptions.Labels of type map[string]string")
    }

    // MARK: build

    /// A captured query string as (name, value) pairs, `+` a space as in a form.
    static func query(_ text: String) -> [(name: String, value: String)] {
        text.split(separator: "&").map { pair in
            let parts = pair.split(separator: "=", maxSplits: 1).map { String($0).replacingPercents() }
            return (parts[0], parts.count > 1 ? parts[1].split(separator: "+", omittingEmptySubsequences: false).joined(separator: " ") : "")
        }
    }

    @Test func buildQueryFromTheCLI() throws {
        let request = try BuildRequest(query: Self.query(
            "buildargs=%7B%22FROM_CALLER%22%3A%22yes%22%2C%22NOPE%22%3Anull%2C%22X%22%3A%221%22%7D&dockerfile=Dockerfile.alt&labels=%7B%22l%22%3A%22v%22%7D&networkmode=host&nocache=1&platform=linux%2Famd64&pull=1&q=1&t=a%3A1&t=b&target=s&version=1"))
        #expect(request.tags.map(\.description) == ["docker.io/library/a:1", "docker.io/library/b:latest"])
        #expect(request.dockerfile == "Dockerfile.alt" && request.target == "s" && request.network == "host")
        #expect(request.buildArgs == ["FROM_CALLER": "yes", "X": "1"] && request.labels == ["l": "v"])
        #expect(request.noCache && request.pull && request.quiet && request.platform?.architecture == "amd64")
        let plain = try BuildRequest(query: Self.query("dockerfile=Dockerfile&version=1"))
        #expect(plain.tags.isEmpty && !plain.noCache && !plain.quiet && plain.network == "default" && plain.platform == nil)

        let options = BuildOptions(request: request, contextDirectory: "/ctx")
        #expect(options.dockerfilePath == "/ctx/Dockerfile.alt" && options.network == .host && options.noCache && options.quiet)
        #expect(options.tags == request.tags && options.buildArgs == request.buildArgs && options.platform.architecture == "amd64")
    }

    @Test func buildQueryFromDockerPy() throws {
        // docker-py writes its booleans as Python does, and sends resource limits the builder has no place for.
        let query = "t=py%3A1&q=False&nocache=True&rm=True&forcerm=True&pull=True&buildargs=%7B%22X%22%3A+%221%22%7D&labels=%7B%22l%22%3A+%22v%22%7D&target=s&networkmode=host&platform=linux%2Famd64"
        let request = try BuildRequest(query: Self.query(query))
        #expect(!request.quiet && request.noCache && request.pull && request.buildArgs == ["X": "1"] && request.labels == ["l": "v"])
        #expect(Self.failure { () throws(EngineError) in try BuildRequest(query: Self.query(query + "&memory=134217728")) }
            == #"memory "134217728" is not supported"#)
    }

    static let buildRefusals: [(String, String)] = [
        ("shmsize=67108864", #"shmsize "67108864" is not supported"#),
        ("memory=x", #"strconv.ParseInt: parsing "x": invalid syntax"#),
        ("extrahosts=a%3A1.2.3.4", #"extrahosts "a:1.2.3.4" is not supported"#),
        ("ulimits=%5B%7B%22Name%22%3A%22nofile%22%2C%22Hard%22%3A6%2C%22Soft%22%3A5%7D%5D", #"ulimits "nofile" is not supported"#),
        ("buildargs=%7B%22X%22%3A1%7D", "error reading build args: json: cannot unmarshal number into Go value of type string"),
        ("buildargs=%7B", "error reading build args: unexpected end of JSON input"),
        ("labels=%5B%5D", "error reading labels: json: cannot unmarshal array into Go value of type map[string]string"),
        ("t=Bad%3Atag", #"invalid reference "Bad:tag": repository name must be lowercase"#),
        ("t=a%40sha256%3A" + String(repeating: "0", count: 64), "build tag cannot contain a digest"),
        ("dockerfile=..%2FDockerfile", "Cannot locate specified Dockerfile: ../Dockerfile"),
        ("networkmode=n1", #"invalid networkmode "n1": network mode must be default, none or host"#),
        ("version=2", #"version (BuildKit) "2" is not supported"#),
        ("squash=1", #"squash "1" is not supported"#),
    ]

    @Test(arguments: buildRefusals)
    func buildQueryRefusals(_ query: String, _ message: String) {
        #expect(Self.failure { () throws(EngineError) in try BuildRequest(query: Self.query(query)) } == message)
    }

    @Test func buildQueryZeroesAreNotLimits() throws {
        // The CLI and docker-py send some limits as 0 / empty when not set.
        _ = try BuildRequest(query: Self.query("memory=0&shmsize=&cpusetcpus=&ulimits=%5B%5D&rm=1&forcerm=0&cachefrom=%5B%5D"))
    }
}
