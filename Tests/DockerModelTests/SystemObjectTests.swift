@testable import DockerModel
import Testing
import TextTemplate

/// The list and system objects (`GET /containers/json`, `/images/json`, `/info`, `/system/df`)
/// against Docker's API 1.50 shapes: names, order, and which members are null, `[]` or left out.
@Suite struct SystemObjectTests {
    func json(_ value: some Encodable) throws -> String { try TemplateValueEncoder().encode(value).json() }

    func summary(sizes: Bool) -> ContainerSummary {
        ContainerSummary(
            id: "c0ffee", names: ["/web"], image: "busybox", imageID: "sha256:ab", command: "sleep 60", created: 1_700_000_000,
            ports: [.init(ip: "0.0.0.0", privatePort: 80, publicPort: 8080, type: "tcp"), .init(ip: "", privatePort: 53, publicPort: 0, type: "udp")],
            sizeRw: sizes ? 1024 : nil, sizeRootFs: sizes ? 4096 : nil, labels: ["b": "2", "a": "1"], state: "running", status: "Up 2 seconds",
            networkMode: "default", networks: OrderedMap([("bridge", EndpointSettings(networkID: "n"))]), mounts: [])
    }

    @Test func containerSummary() throws {
        #expect(try json(summary(sizes: false)) == #"{"Id":"c0ffee","Names":["/web"],"Image":"busybox","ImageID":"sha256:ab","Command":"sleep 60","Created":1700000000,"Ports":[{"IP":"0.0.0.0","PrivatePort":80,"PublicPort":8080,"Type":"tcp"},{"PrivatePort":53,"Type":"udp"}],"Labels":{"a":"1","b":"2"},"State":"running","Status":"Up 2 seconds","HostConfig":{"NetworkMode":"default"},"NetworkSettings":{"Networks":{"bridge":{"NetworkID":"n"}}},"Mounts":[]}"#)
        #expect(try json(summary(sizes: true)).contains(#""Ports":[{"IP":"0.0.0.0","PrivatePort":80,"PublicPort":8080,"Type":"tcp"},{"PrivatePort":53,"Type":"udp"}],"SizeRw":1024,"SizeRootFs":4096,"Labels""#))
        var bare = summary(sizes: false)
        bare.ports = []
        bare.labels = [:]
        #expect(try json(bare).contains(#""Ports":[],"Labels":{},"#))
    }

    @Test func imageSummary() throws {
        let image = ImageSummary(id: "sha256:ab", repoTags: ["busybox:latest"], repoDigests: ["busybox@sha256:cd"], created: 1_700_000_000,
                                 size: 4_261_000, labels: nil)
        #expect(try json(image) == #"{"Containers":-1,"Created":1700000000,"Id":"sha256:ab","Labels":null,"ParentId":"","RepoDigests":["busybox@sha256:cd"],"RepoTags":["busybox:latest"],"SharedSize":-1,"Size":4261000}"#)
        let untagged = ImageSummary(id: "sha256:ef", repoTags: [], repoDigests: [], created: 0, size: 0, sharedSize: 0, labels: ["k": "v"], containers: 2)
        #expect(try json(untagged) == #"{"Containers":2,"Created":0,"Id":"sha256:ef","Labels":{"k":"v"},"ParentId":"","RepoDigests":[],"RepoTags":[],"SharedSize":0,"Size":0}"#)
        #expect(familiarNames(["docker.io/library/busybox:latest", "ghcr.io/a/b:1", "::bad::"]) == ["busybox:latest", "ghcr.io/a/b:1"])
    }

    @Test func volumeUsageDataOnlyInDf() throws {
        var volume = VolumeInspect(name: "v", driver: "local", mountpoint: "/m", createdAt: "t", labels: nil, options: nil)
        #expect(!(try json(volume)).contains("UsageData"))
        volume.usageData = .init(size: 2_097_152, refCount: 1)
        #expect(try json(volume).hasSuffix(#""Scope":"local","UsageData":{"RefCount":1,"Size":2097152}}"#))
        let row = VolumeRow(volume)
        // go-units' HumanSize, four significant digits, as `docker system df -v` prints LINKS and SIZE.
        #expect(row.links == "1" && row.size == "2.097MB")
    }

    @Test func dataUsageAndItsRows() throws {
        var stopped = summary(sizes: true)
        stopped.state = "exited"
        stopped.sizeRw = 1_000_000
        let used = ImageSummary(id: "sha256:ab", repoTags: [], repoDigests: [], created: 0, size: 4_000_000, sharedSize: 0, labels: nil, containers: 2)
        let unused = ImageSummary(id: "sha256:cd", repoTags: [], repoDigests: [], created: 0, size: 1_000_000, sharedSize: 0, labels: nil, containers: 0)
        var volume = VolumeInspect(name: "v", driver: "local", mountpoint: "/m", createdAt: "t", labels: nil, options: nil)
        volume.usageData = .init(size: 2_000_000, refCount: 0)
        let usage = SystemDataUsage(layersSize: 5_000_000, images: [used, unused], containers: [summary(sizes: true), stopped], volumes: [volume])
        let text = try json(usage)
        #expect(text.hasPrefix(#"{"LayersSize":5000000,"Images":[{"Containers":2,"Created":0,"Id":"sha256:ab""#))
        #expect(text.hasSuffix(#""BuildCache":[]}"#))
        #expect(!text.contains("BuilderSize"))
        #expect(usage.rows == [
            DiskUsageRow(type: "Images", totalCount: 2, active: 1, size: "5MB", reclaimable: "1MB (20%)"),
            // go-units' HumanSize (four significant digits), as the docker CLI prints `system df`.
            DiskUsageRow(type: "Containers", totalCount: 2, active: 1, size: "1.001MB", reclaimable: "1MB (99%)"),
            DiskUsageRow(type: "Local Volumes", totalCount: 1, active: 0, size: "2MB", reclaimable: "2MB (100%)"),
            DiskUsageRow(type: "Build Cache", totalCount: 0, active: 0, size: "0B", reclaimable: "0B"),
        ])
        #expect(try json(usage.rows[3]) == #"{"Active":"0","Reclaimable":"0B","Size":"0B","TotalCount":"0","Type":"Build Cache"}"#)
    }

    /// Docker 28's `GET /info` members (API 1.50), in order; KernelMemoryTCP only on cgroup v1 hosts
    /// that have it. (Checked against a real dockerd's `info --format '{{json .}}'`: the same names and
    /// order, less the fields later APIs dropped.)
    static let infoKeys = [
        "ID", "Containers", "ContainersRunning", "ContainersPaused", "ContainersStopped", "Images", "Driver", "DriverStatus",
        "Plugins", "MemoryLimit", "SwapLimit", "KernelMemoryTCP", "CpuCfsPeriod", "CpuCfsQuota", "CPUShares", "CPUSet", "PidsLimit",
        "IPv4Forwarding", "Debug", "NFd", "OomKillDisable", "NGoroutines", "SystemTime", "LoggingDriver", "CgroupDriver",
        "CgroupVersion", "NEventsListener", "KernelVersion", "OperatingSystem", "OSVersion", "OSType", "Architecture",
        "IndexServerAddress", "RegistryConfig", "NCPU", "MemTotal", "GenericResources", "DockerRootDir", "HttpProxy", "HttpsProxy",
        "NoProxy", "Name", "Labels", "ExperimentalBuild", "ServerVersion", "Runtimes", "DefaultRuntime", "Swarm",
        "LiveRestoreEnabled", "Isolation", "InitBinary", "ContainerdCommit", "RuncCommit", "InitCommit", "SecurityOptions",
        "CDISpecDirs", "Warnings",
    ]

    @Test func systemInfoFromTheHost() throws {
        let host = HostFacts.current()
        #expect(!host.kernelVersion.isEmpty && !host.architecture.isEmpty && host.ncpu > 0 && host.memTotal > 0)
        #expect(["1", "2"].contains(host.cgroupVersion))
        let info = SystemInfo(id: "id", running: 1, paused: 2, stopped: 3, images: 4, rootDir: "/tmp", serverVersion: "9.9",
                              runtimePath: "/bin/berth-runtime", host: host)
        let value = try TemplateValueEncoder().encode(info)
        guard case .object(let members, _) = value else { Issue.record("not an object"); return }
        #expect(members.map(\.key) == Self.infoKeys.filter { $0 != "KernelMemoryTCP" || host.kernelMemoryTCP })
        #expect(info.containers == 6)
        let text = value.json()
        #expect(text.contains(#""Plugins":{"Volume":["local"],"Network":["bridge","host","null"],"Authorization":null,"Log":["json-file"]}"#))
        #expect(text.contains(#""GenericResources":null"#))
        #expect(text.contains(#""Labels":[],"ExperimentalBuild":false,"ServerVersion":"9.9","Runtimes":{"berth-runtime":{"path":"/bin/berth-runtime"}},"DefaultRuntime":"berth-runtime","Swarm":{"NodeID":"","NodeAddr":"","LocalNodeState":"inactive","ControlAvailable":false,"Error":"","RemoteManagers":null}"#))
        #expect(text.contains(#""ContainerdCommit":{"ID":""},"RuncCommit":{"ID":"9.9"},"InitCommit":{"ID":""}"#))
        #expect(text.hasSuffix(#""CDISpecDirs":[],"Warnings":null}"#))
        #expect(text.contains(#""RegistryConfig":{"IndexConfigs":{"docker.io":{"Mirrors":[],"Name":"docker.io","Official":true,"Secure":true}},"InsecureRegistryCIDRs":["::1/128","127.0.0.0/8"],"Mirrors":[]}"#))
    }

    @Test func binarySizes() {
        #expect(humanBinarySize(25_275_973_632) == "23.54GiB")
        #expect(humanBinarySize(1536) == "1.5KiB")
        #expect(humanBinarySize(512) == "512B")
    }
}
