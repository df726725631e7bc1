import ContainerNetwork
@testable import DockerModel
import Supervisor
import Testing
import TextTemplate

/// DockerModel values against Docker's documented JSON: member names, order, and which members
/// are `null`, `[]`, `{}` or left out.
@Suite struct EncodingTests {
    func json(_ value: some Encodable) throws -> String { try TemplateValueEncoder().encode(value).json() }

    @Test func encoderKeepsTheOrderEncodeWroteAndNulls() throws {
        struct Sample: Encodable {
            func encode(to encoder: any Encoder) throws {
                var c = encoder.container(keyedBy: AnyKey.self)
                try c.encode("z", forKey: AnyKey("Zed"))
                try c.encode([String]?.none, forKey: AnyKey("Nil"))
                try c.encodeIfPresent(Int?.none, forKey: AnyKey("Omitted"))
                try c.encode(Empty(), forKey: AnyKey("Empty"))
                try c.encode([Int](), forKey: AnyKey("List"))
                try c.encode(SortedMap(["b": 2, "a": 1]), forKey: AnyKey("Map"))
                try c.encode(3.5, forKey: AnyKey("Double"))
            }
        }
        #expect(try json(Sample()) == #"{"Zed":"z","Nil":null,"Empty":{},"List":[],"Map":{"a":1,"b":2},"Double":3.5}"#)
    }

    @Test func volumeInspect() throws {
        let volume = VolumeInspect(name: "data", driver: "local", mountpoint: "/var/lib/berth/volumes/data/_data",
                                   createdAt: "2024-01-01T00:00:00Z", labels: nil, options: nil)
        #expect(try json(volume) == #"{"CreatedAt":"2024-01-01T00:00:00Z","Driver":"local","Labels":null,"Mountpoint":"/var/lib/berth/volumes/data/_data","Name":"data","Options":null,"Scope":"local"}"#)
        let labelled = VolumeInspect(name: "v", driver: "local", mountpoint: "/m", createdAt: "t", labels: ["z": "1", "a": "2"], options: [:])
        #expect(try json(labelled).contains(#""Labels":{"a":"2","z":"1"}"#))
        #expect(try json(labelled).contains(#""Options":{}"#))
    }

    @Test func volumeRowIsTheCLIsStrings() throws {
        let row = VolumeRow(name: "v", driver: "local", mountpoint: "/m", labels: ["b": "2", "a": "1"])
        #expect(try json(row) == #"{"Availability":"N/A","Driver":"local","Group":"N/A","Labels":"a=1,b=2","Links":"N/A","Mountpoint":"/m","Name":"v","Scope":"local","Size":"N/A","Status":"N/A"}"#)
    }

    @Test func networkInspect() throws {
        let network = BridgeNetwork(id: String(repeating: "a", count: 64), name: "front", bridge: "br-aaaaaaaaaaaa",
                                    subnet: "10.89.1.0/24", gateway: "10.89.1.1", internal: false, labels: [:], created: "2024-01-01T00:00:00Z", ipamDirectory: "/tmp")
        let text = try json(NetworkInspect(network, members: []))
        #expect(text.hasPrefix(#"{"Name":"front","Id":"aaaa"#))
        #expect(text.contains(#""IPAM":{"Driver":"default","Options":{},"Config":[{"Subnet":"10.89.1.0/24","Gateway":"10.89.1.1"}]}"#))
        #expect(text.contains(#""Internal":false,"Attachable":false,"Ingress":false,"ConfigFrom":{"Network":""},"ConfigOnly":false,"Containers":{}"#))
        // Only the options given at create, as dockerd: Compose 1.29 recreates a network whose
        // Options differ from its file's (and refuses to while containers use it).
        #expect(text.hasSuffix(#""Options":{},"Labels":{}}"#))
        var bridge = network
        bridge.name = "bridge"
        bridge.bridge = "berth0"
        #expect(try json(NetworkInspect(bridge, members: [])).hasSuffix(#""Options":{"com.docker.network.bridge.default_bridge":"true","com.docker.network.bridge.enable_icc":"true","com.docker.network.bridge.enable_ip_masquerade":"true","com.docker.network.bridge.host_binding_ipv4":"0.0.0.0","com.docker.network.bridge.name":"berth0","com.docker.network.driver.mtu":"1500"},"Labels":{}}"#))
    }

    @Test func networkRow() throws {
        let row = NetworkRow(name: "bridge", id: "0123456789ab", driver: "bridge", labels: [:], created: "t", internal: true)
        #expect(try json(row) == #"{"CreatedAt":"t","Driver":"bridge","ID":"0123456789ab","IPv6":"false","Internal":"true","Labels":"","Name":"bridge","Scope":"local"}"#)
    }

    @Test func eventRowUsesGoFieldNames() throws {
        let event = EventMessage(container: "c0ffee", action: "start", attributes: ["name": "web", "image": "alpine"], timeNano: 1_700_000_000_123_456_789)
        #expect(try json(EventRow(event)) == #"{"Status":"start","ID":"c0ffee","From":"alpine","Type":"container","Action":"start","Actor":{"ID":"c0ffee","Attributes":{"image":"alpine","name":"web"}},"Scope":"local","Time":1700000000,"TimeNano":1700000000123456789}"#)
    }

    @Test func mountPointLeavesNameAndDriverOutForBinds() throws {
        let bind = MountPoint(type: "bind", source: "/src", destination: "/dst", mode: "", rw: true, propagation: "rprivate")
        #expect(try json(bind) == #"{"Type":"bind","Source":"/src","Destination":"/dst","Mode":"","RW":true,"Propagation":"rprivate"}"#)
        let volume = MountPoint(type: "volume", name: "v", source: "/s", destination: "/d", driver: "local", mode: "z", rw: false, propagation: "")
        #expect(try json(volume) == #"{"Type":"volume","Name":"v","Source":"/s","Destination":"/d","Driver":"local","Mode":"z","RW":false,"Propagation":""}"#)
    }

    @Test func endpointSettings() throws {
        #expect(try json(EndpointSettings(networkID: "n")) == #"{"NetworkID":"n"}"#)
        let endpoint = EndpointSettings(ipamIPv4Address: nil, aliases: nil, networkID: "n", endpointID: "e", gateway: "10.0.0.1",
                                        ipAddress: "10.0.0.2", ipPrefixLen: 24, macAddress: "02:00:00:00:00:01")
        #expect(try json(endpoint) == #"{"IPAMConfig":null,"Links":null,"Aliases":null,"NetworkID":"n","EndpointID":"e","Gateway":"10.0.0.1","IPAddress":"10.0.0.2","IPPrefixLen":24,"IPv6Gateway":"","GlobalIPv6Address":"","GlobalIPv6PrefixLen":0,"MacAddress":"02:00:00:00:00:01","DriverOpts":null}"#)
    }

    @Test func containerStateAndPorts() throws {
        let state = ContainerInspect.State(status: "exited", running: false, paused: false, restarting: false, oomKilled: false,
                                           pid: 0, exitCode: 3, error: "", startedAt: "s", finishedAt: "f")
        #expect(try json(state) == #"{"Status":"exited","Running":false,"Paused":false,"Restarting":false,"OOMKilled":false,"Dead":false,"Pid":0,"ExitCode":3,"Error":"","StartedAt":"s","FinishedAt":"f"}"#)
        // Exposed but not published: null; published: the bindings.
        let ports = OrderedMap<[ContainerInspect.PortBinding]?>([("80/tcp", [.init(hostIP: "0.0.0.0", hostPort: "8080")]), ("443/tcp", nil)])
        #expect(try json(ports) == #"{"80/tcp":[{"HostIp":"0.0.0.0","HostPort":"8080"}],"443/tcp":null}"#)
        let bindings = ContainerInspect.portBindings([PortMapping(hostIP: "", hostPort: 0, containerPort: 80, proto: "tcp")])
        #expect(try json(bindings) == #"{"80/tcp":[{"HostIp":"","HostPort":""}]}"#)
    }

    @Test func execInspect() throws {
        let exec = ExecInspect(id: "e1", running: true, exitCode: nil,
                               processConfig: .init(privileged: false, user: "", tty: false, entrypoint: "sh", arguments: ["-c", "true"]),
                               openStdin: false, openStderr: true, openStdout: true, canRemove: false, containerID: "c1", detachKeys: "", pid: 42)
        #expect(try json(exec) == #"{"ID":"e1","Running":true,"ExitCode":null,"ProcessConfig":{"tty":false,"entrypoint":"sh","arguments":["-c","true"],"privileged":false},"OpenStdin":false,"OpenStderr":true,"OpenStdout":true,"CanRemove":false,"ContainerID":"c1","DetachKeys":"","Pid":42}"#)
    }

    @Test func versionOmitsEmptyKernelAndExperimental() throws {
        let version = SystemVersion(platform: .init(name: "Berth"), components: [.init(name: "Engine", version: "0.1", details: ["b": "2", "a": "1"])],
                                    version: "0.1", apiVersion: "1.47", minAPIVersion: "1.24", gitCommit: "abc", goVersion: "swift6",
                                    os: "linux", arch: "amd64", kernelVersion: "", buildTime: "t")
        #expect(try json(version) == #"{"Platform":{"Name":"Berth"},"Components":[{"Name":"Engine","Version":"0.1","Details":{"a":"1","b":"2"}}],"Version":"0.1","ApiVersion":"1.47","MinAPIVersion":"1.24","GitCommit":"abc","GoVersion":"swift6","Os":"linux","Arch":"amd64","BuildTime":"t"}"#)
    }
}
