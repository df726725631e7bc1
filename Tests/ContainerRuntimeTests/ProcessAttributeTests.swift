import Foundation
import OCI
import TestSupport
import Testing

/// personality, ioPriority, scheduler, execCPUAffinity, memoryPolicy and idmapped mounts, seen from
/// inside the container.
@Suite(.enabled(if: Env.canRunContainers, "needs root, busybox-static and a built berth-runtime"))
struct ProcessAttributeTests {
    static let probe = """
        uname -m
        cut -d' ' -f19,41 /proc/self/stat
        grep Cpus_allowed_list /proc/self/status | cut -f2
        head -1 /proc/self/numa_maps | cut -d' ' -f2
        """

    func configuredBundle() throws -> TestBundle {
        let bundle = try TestBundle()
        bundle.spec.linux?.personality = try decodeJSON(Personality.self, Array(#"{"domain":"LINUX32"}"#.utf8))
        bundle.spec.process?.ioPriority = try decodeJSON(IOPriority.self, Array(#"{"class":"IOPRIO_CLASS_IDLE","priority":0}"#.utf8))
        bundle.spec.process?.scheduler = try decodeJSON(Scheduler.self, Array(#"{"policy":"SCHED_BATCH","nice":7}"#.utf8))
        bundle.spec.process?.execCPUAffinity = try decodeJSON(CPUAffinity.self, Array(#"{"initial":"0","final":"0"}"#.utf8))
        bundle.spec.linux?.memoryPolicy = try decodeJSON(MemoryPolicy.self, Array(#"{"mode":"MPOL_BIND","nodes":"0"}"#.utf8))
        return bundle
    }

    @Test func initAndExecGetTheAttributes() throws {
        let bundle = try configuredBundle()
        try bundle.shell(Self.probe)
        let berth = RuntimeCLI.berth(bundle)
        let run = try berth.run(Env.uniqueID("attr"), bundle: bundle)
        #expect(run.status == 0, "\(run.stderr)")
        // i686 under LINUX32; nice 7 and policy 3 (SCHED_BATCH); one CPU; the bind policy on node 0.
        #expect(run.stdout == "i686\n7 3\n0\nbind:0\n")
        try bundle.shell("ionice")
        let ionice = try berth.run(Env.uniqueID("io"), bundle: bundle)
        #expect(ionice.stdout == "idle\n", "\(ionice.stderr)")

        bundle.spec.process?.args = ["/bin/sleep", "100"]
        try bundle.write()
        let id = try berth.launch(bundle, prefix: "attrx", started: true)
        defer { _ = try? berth("delete", "-f", id) }
        let exec = try berth("exec", id, "sh", "-c", Self.probe)
        #expect(exec.stdout == "i686\n7 3\n0\nbind:0\n", "\(exec.stderr)")
    }

    @Test(arguments: [
        (#"{"domain":"LINUX99"}"#, "personality", "linux.personality.domain"),
        (#"{"policy":"SCHED_FAST"}"#, "scheduler", "process.scheduler.policy"),
        (#"{"class":"IOPRIO_CLASS_TOP"}"#, "ioPriority", "process.ioPriority.class"),
        (#"{"final":"1-0"}"#, "execCPUAffinity", "process.execCPUAffinity.final"),
        (#"{"mode":"MPOL_EVERYWHERE"}"#, "memoryPolicy", "linux.memoryPolicy.mode"),
    ])
    func badValuesAreRefusedWithTheirPath(_ json: String, _ field: String, _ path: String) throws {
        let bundle = try TestBundle()
        let bytes = Array(json.utf8)
        switch field {
        case "personality": bundle.spec.linux?.personality = try decodeJSON(Personality.self, bytes)
        case "scheduler": bundle.spec.process?.scheduler = try decodeJSON(Scheduler.self, bytes)
        case "ioPriority": bundle.spec.process?.ioPriority = try decodeJSON(IOPriority.self, bytes)
        case "execCPUAffinity": bundle.spec.process?.execCPUAffinity = try decodeJSON(CPUAffinity.self, bytes)
        default: bundle.spec.linux?.memoryPolicy = try decodeJSON(MemoryPolicy.self, bytes)
        }
        try bundle.write()
        let result = try RuntimeCLI.berth(bundle).run(Env.uniqueID("badattr"), bundle: bundle)
        #expect(result.status == 1)
        #expect(result.stderr.contains(path), "\(result.stderr)")
    }

    /// A host directory owned by root, bind-mounted with the mapping 0 -> 1000, shows its files as
    /// 1000 inside (the reading crun 1.8 gives the same mount here), and `ridmap` reaches submounts.
    @Test func idmappedMountShowsMappedOwners() throws {
        let bundle = try TestBundle()
        let source = bundle.directory + "/shared"
        try FileManager.default.createDirectory(atPath: source, withIntermediateDirectories: true)
        try "x".write(toFile: source + "/file", atomically: true, encoding: .utf8)
        _ = try sh(["/bin/chown", "-R", "0:0", source])
        var mount = Mount(destination: "/data", type: "bind", source: source, options: ["bind", "idmap"])
        mount.uidMappings = [IDMapping(containerID: 0, hostID: 1000, size: 1)]
        mount.gidMappings = [IDMapping(containerID: 0, hostID: 2000, size: 1)]
        bundle.spec.mounts?.append(mount)
        try bundle.shell("stat -c '%u:%g' /data/file; touch /data/new 2>&1 | head -c 0; echo ok")
        let result = try RuntimeCLI.berth(bundle).run(Env.uniqueID("idmap"), bundle: bundle)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout == "1000:2000\nok\n")
        // On the host the file is still root's.
        let st = try FileManager.default.attributesOfItem(atPath: source + "/file")
        #expect((st[.ownerAccountID] as? NSNumber)?.intValue == 0)
    }

    @Test func idmapWithoutMappingsIsRefused() throws {
        let bundle = try TestBundle()
        bundle.spec.mounts?.append(Mount(destination: "/data", type: "bind", source: "/tmp", options: ["bind", "idmap"]))
        try bundle.write()
        let result = try RuntimeCLI.berth(bundle).run(Env.uniqueID("idmapbad"), bundle: bundle)
        #expect(result.status == 1)
        #expect(result.stderr.contains("uidMappings"), "\(result.stderr)")
    }
}
