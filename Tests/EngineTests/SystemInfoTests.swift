import Foundation
import TestSupport
import Testing

/// `info` and `system df` on a real engine: the counts and sizes follow what is created, run,
/// stopped and removed, and the JSON has Docker's members.
@Suite(.enabled(if: EngineEnv.ready), .serialized)
struct SystemInfoTests {
    func json(_ text: String) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any], "\(text)")
    }

    func info(_ berth: BerthEngine) throws -> [String: Any] { try json(try berth.call("info", "--format", "{{json .}}")) }

    @Test func infoCountsFollowTheContainers() throws {
        let berth = try BerthEngine()
        defer { berth.remove() }
        var object = try info(berth)
        #expect(object["Containers"] as? Int == 0 && object["Images"] as? Int == 1)
        try berth.call("run", "-d", "--network", "none", "--name", "one", "busybox:test", "sleep", "600")
        try berth.call("run", "-d", "--network", "none", "--name", "two", "busybox:test", "sleep", "600")
        try berth.call("create", "--network", "none", "--name", "three", "busybox:test", "true")
        object = try info(berth)
        #expect(object["Containers"] as? Int == 3 && object["ContainersRunning"] as? Int == 2 && object["ContainersStopped"] as? Int == 1)
        try berth.call("stop", "-t", "0", "two")
        object = try info(berth)
        #expect(object["ContainersRunning"] as? Int == 1 && object["ContainersStopped"] as? Int == 2 && object["ContainersPaused"] as? Int == 0)

        // Docker's members (API 1.50), and the client's part as the docker CLI adds it.
        let documented: Set<String> = [
            "ID", "Containers", "ContainersRunning", "ContainersPaused", "ContainersStopped", "Images", "Driver", "DriverStatus",
            "Plugins", "MemoryLimit", "SwapLimit", "CpuCfsPeriod", "CpuCfsQuota", "CPUShares", "CPUSet", "PidsLimit",
            "IPv4Forwarding", "Debug", "NFd", "OomKillDisable", "NGoroutines", "SystemTime", "LoggingDriver", "CgroupDriver",
            "CgroupVersion", "NEventsListener", "KernelVersion", "OperatingSystem", "OSVersion", "OSType", "Architecture",
            "IndexServerAddress", "RegistryConfig", "NCPU", "MemTotal", "GenericResources", "DockerRootDir", "HttpProxy",
            "HttpsProxy", "NoProxy", "Name", "Labels", "ExperimentalBuild", "ServerVersion", "Runtimes", "DefaultRuntime", "Swarm",
            "LiveRestoreEnabled", "Isolation", "InitBinary", "ContainerdCommit", "RuncCommit", "InitCommit", "SecurityOptions",
            "CDISpecDirs", "Warnings", "ClientInfo",
        ]
        #expect(Set(object.keys).subtracting(["KernelMemoryTCP"]) == documented)
        #expect(object["DockerRootDir"] as? String == berth.root)
        #expect(object["OSType"] as? String == "linux")
        #expect((object["Swarm"] as? [String: Any])?["LocalNodeState"] as? String == "inactive")
        let uname = try sh(["/bin/uname", "-r", "-m"]).stdout.split(separator: " ").map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }
        #expect([object["KernelVersion"] as? String, object["Architecture"] as? String] == uname.map(Optional.some))
        // The ID is made once and kept.
        #expect(try info(berth)["ID"] as? String == object["ID"] as? String)

        let nproc = try sh(["/usr/bin/nproc"]).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(try berth.call("info", "--format", "{{.NCPU}}") == nproc + "\n")
        #expect(try berth.call("system", "info", "--format", "{{.Images}} {{.ContainersRunning}}") == "1 1\n")

        let text = try berth.call("info")
        for line in ["Server:", " Containers: 3", "  Running: 1", "  Paused: 0", "  Stopped: 2", " Images: 1", " Storage Driver: overlay",
                     " Logging Driver: json-file", " Cgroup Driver: cgroupfs", " Default Runtime: berth-runtime", " Security Options:",
                     " OSType: linux", " CPUs: \(nproc)", " Docker Root Dir: \(berth.root)", " Debug Mode: false", " Experimental: false"] {
            #expect(text.contains("\n" + line + "\n"), "\(line) in \(text)")
        }
        let bad = try berth.callAnyway(["info", "--format", "{{.Nope"])
        #expect(bad.status != 0 && bad.stderr.contains("template parsing error"))
    }

    @Test func dfMeasuresImagesContainersAndVolumes() throws {
        let berth = try BerthEngine()
        defer { berth.remove() }
        try berth.call("volume", "create", "dfvol")
        try berth.call("run", "--network", "none", "--name", "writer", "-v", "dfvol:/data", "busybox:test", "sh", "-c",
                       "dd if=/dev/zero of=/big bs=1024 count=1024 2>/dev/null && dd if=/dev/zero of=/data/v bs=1024 count=2048 2>/dev/null")
        let usage = try json(try berth.call("system", "df", "-v", "--format", "json"))
        let images = try #require(usage["Images"] as? [[String: Any]])
        let containers = try #require(usage["Containers"] as? [[String: Any]])
        let volumes = try #require(usage["Volumes"] as? [[String: Any]])
        #expect(images.count == 1 && containers.count == 1 && volumes.count == 1)
        let layers = try #require(usage["LayersSize"] as? Int)
        #expect(layers > 0 && images.first?["Size"] as? Int == layers && images.first?["Containers"] as? Int == 1)
        #expect(images.first?["RepoTags"] as? [String] == ["busybox:test"])
        let writable = try #require(containers.first?["SizeRw"] as? Int)
        #expect((1_048_576..<1_148_576).contains(writable), "\(writable)")
        #expect(containers.first?["SizeRootFs"] as? Int == writable + layers)
        #expect(containers.first?["Names"] as? [String] == ["/writer"] && containers.first?["State"] as? String == "exited")
        let volumeUsage = try #require(volumes.first?["UsageData"] as? [String: Any])
        #expect((2_097_152..<2_197_152).contains(volumeUsage["Size"] as? Int ?? 0), "\(volumeUsage)")
        #expect(volumeUsage["RefCount"] as? Int == 1)
        #expect(usage["BuildCache"] as? [Any] != nil)

        func rows() throws -> [String: [String: Any]] {
            var rows: [String: [String: Any]] = [:]
            for line in try berth.call("system", "df", "--format", "{{json .}}").split(separator: "\n") {
                let row = try json(String(line))
                rows[row["Type"] as? String ?? ""] = row
            }
            return rows
        }
        var summary = try rows()
        #expect(summary["Images"]?["TotalCount"] as? String == "1" && summary["Images"]?["Active"] as? String == "1")
        #expect(summary["Containers"]?["Active"] as? String == "0")
        #expect((summary["Containers"]?["Reclaimable"] as? String)?.hasSuffix("(100%)") == true, "\(summary)")
        // go-units' HumanSize, four significant digits, as the docker CLI prints `system df`: 2097152 is "2.097MB".
        #expect(summary["Local Volumes"]?["Size"] as? String == "2.097MB" && summary["Local Volumes"]?["Reclaimable"] as? String == "0B (0%)")
        #expect(summary["Build Cache"]?["Size"] as? String == "0B")

        let table = try berth.call("system", "df")
        #expect(table.hasPrefix("TYPE            TOTAL     ACTIVE    SIZE      RECLAIMABLE\nImages          1         1"), "\(table)")
        try berth.call("rm", "writer")
        summary = try rows()
        #expect(summary["Containers"]?["TotalCount"] as? String == "0" && summary["Images"]?["Active"] as? String == "0")
        #expect(summary["Local Volumes"]?["Active"] as? String == "0" && summary["Local Volumes"]?["Reclaimable"] as? String == "2.097MB (100%)")
        #expect((summary["Images"]?["Reclaimable"] as? String)?.hasSuffix("(100%)") == true)
        let verbose = try berth.call("system", "df", "-v")
        #expect(verbose.hasPrefix("Images space usage:\n\nREPOSITORY   TAG       IMAGE ID       CREATED"), "\(verbose)")
        #expect(verbose.contains("\nLocal Volumes space usage:\n\nVOLUME NAME   LINKS     SIZE\ndfvol         0         2.097MB\n"), "\(verbose)")
        #expect(verbose.hasSuffix("\nBuild cache usage: 0B\n\nCACHE ID   CACHE TYPE   SIZE      CREATED   LAST USED   USAGE     SHARED\n"))
    }
}
