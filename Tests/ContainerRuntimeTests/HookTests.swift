import Foundation
import OCI
import Testing

/// Hooks run at the points and in the namespaces the runtime spec names, with the state on stdin.
@Suite(.enabled(if: Env.canRunContainers, "needs root, busybox-static and a built berth-runtime"))
struct HookTests {
    /// A host-side hook script that appends its phase, its uts hostname and the state's status to a log.
    func hostHook(_ bundle: TestBundle, _ phase: String, log: String) throws -> Hook {
        let script = bundle.directory + "/hook-\(phase).sh"
        let text = """
            #!/bin/sh
            state=$(cat)
            status=$(echo "$state" | sed -n 's/.*"status":"\\([a-z]*\\)".*/\\1/p')
            echo "\(phase) $(hostname) $status" >> \(log)
            """
        try writeExecutable(script, text)
        return Hook(path: script, args: [script, phase])
    }

    @Test func everyHookRunsInOrderInItsNamespace() throws {
        let bundle = try TestBundle(args: ["/bin/sh", "-c", "echo container >> /hooklog/log"])
        let logDir = bundle.directory + "/hooklog"
        try FileManager.default.createDirectory(atPath: logDir, withIntermediateDirectories: true)
        let log = logDir + "/log"
        bundle.spec.hostname = "inside-hooks"
        bundle.spec.mounts?.append(Mount(destination: "/hooklog", type: "bind", source: logDir, options: ["bind"]))
        // Hooks in the container's namespaces are found in the container (startContainer) or were
        // resolved in the runtime's before pivot_root (createContainer): both print the container's hostname.
        let inContainer = Hook(path: "/bin/sh", args: ["sh", "-c", "echo startContainer $(hostname) >> /hooklog/log"])
        let createContainer = try hostHook(bundle, "createContainer", log: log)
        bundle.spec.hooks = Hooks(
            prestart: [try hostHook(bundle, "prestart", log: log)],
            createRuntime: [try hostHook(bundle, "createRuntime", log: log)],
            createContainer: [createContainer],
            startContainer: [inContainer],
            poststart: [try hostHook(bundle, "poststart", log: log)],
            poststop: [try hostHook(bundle, "poststop", log: log)])
        try bundle.write()
        let result = try RuntimeCLI.berth(bundle).run(Env.uniqueID("hooks"), bundle: bundle)
        #expect(result.status == 0, "\(result.stderr)")
        var host = [CChar](repeating: 0, count: 256)
        gethostname(&host, 255)
        let hostname = String(cString: host)
        let lines = try String(contentsOfFile: log, encoding: .utf8).split(separator: "\n").map(String.init)
        #expect(lines.count == 7, "\(lines)")
        guard lines.count == 7 else { return }
        #expect(lines[0] == "prestart \(hostname) creating")
        #expect(lines[1] == "createRuntime \(hostname) creating")
        #expect(lines[2] == "createContainer inside-hooks created")
        // startContainer runs in the container just before its process execs; start returns (and runs
        // poststart) once the init has passed the exec fifo, so under a loaded machine poststart can
        // log before either of them. In the container, the hook comes first.
        #expect(Set(lines[3...5]) == ["startContainer inside-hooks", "container", "poststart \(hostname) running"])
        #expect(lines.firstIndex(of: "startContainer inside-hooks")! < lines.firstIndex(of: "container")!)
        #expect(lines[6] == "poststop \(hostname) stopped")
    }

    @Test func failingCreateRuntimeHookFailsCreateAndLeavesNothing() throws {
        let bundle = try TestBundle(args: ["/bin/sleep", "100"])
        bundle.spec.hooks = Hooks(createRuntime: [Hook(path: "/bin/sh", args: ["sh", "-c", "exit 7"])])
        try bundle.write()
        let berth = RuntimeCLI.berth(bundle)
        let id = Env.uniqueID("hookfail")
        let result = try berth("create", "--bundle", bundle.path, id)
        #expect(result.status == 1)
        #expect(result.stderr.contains("createRuntime hook #0 (/bin/sh) failed: exit status 7"), "\(result.stderr)")
        #expect(try berth("list", "-q").stdout.isEmpty)
    }

    @Test func hookTimeoutKillsTheHookAndFails() throws {
        let bundle = try TestBundle(args: ["/bin/true"])
        bundle.spec.hooks = Hooks(prestart: [Hook(path: "/bin/sleep", args: ["sleep", "30"], timeout: 1)])
        try bundle.write()
        let started = Date()
        let result = try RuntimeCLI.berth(bundle).run(Env.uniqueID("hookslow"), bundle: bundle)
        #expect(result.status == 1)
        #expect(result.stderr.contains("timed out after 1s"), "\(result.stderr)")
        #expect(Date().timeIntervalSince(started) < 10)
    }
}
