import ContainerSpec
import Foundation
import Kube
import Testing
import TestSupport

/// kill -9 of a writing process at any moment loses no acknowledged change: the writer
/// (Tests/KubeStoreWriter) prints each change once the store returned it, and every printed change
/// must be in the store after the kill; the store opens again and its revision goes on.
struct DurabilityTests {
    @Test func killNineLosesNoAcknowledgedWrite() throws {
        // Built beside the test binary.
        let tests = try FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")
        let writer = URL(fileURLWithPath: tests).deletingLastPathComponent().appendingPathComponent("kube-store-writer").path
        try #require(FileManager.default.isExecutableFile(atPath: writer), "build the kube-store-writer target (\(writer))")
        let root = NSTemporaryDirectory() + "berth-kube-kill-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        defer { try? FileManager.default.removeItem(atPath: root) }
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        let log = root + "/acknowledged"

        // Three runs, each killed at another moment, each reopening what the last one left.
        for run in 1...3 {
            let pid = try spawn([writer, root + "/state"], stdout: log, stderr: root + "/writer-\(run).err", append: true)
            let want = 120 * run + Int.random(in: 0..<40)
            let deadline = Date().addingTimeInterval(60)
            while Self.acknowledged(log).count < want && Date() < deadline { usleep(2_000) }
            kill(pid, SIGKILL)
            var status: Int32 = 0
            while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
            let errors = (try? String(contentsOfFile: root + "/writer-\(run).err", encoding: .utf8)) ?? ""
            #expect(exitStatus(status) == 128 + SIGKILL, "run \(run) ended by itself: \(errors)")
        }

        let lines = Self.acknowledged(log)
        #expect(lines.count >= 360)
        let store = try ObjectStore.open(root: root + "/state")
        var newest: UInt64 = 0
        var counted = 0
        var creates = 0
        for line in lines {
            let fields = line.split(separator: " ").map(String.init)
            try #require(fields.count == 3, "\(line)")
            let version = try #require(UInt64(fields[2]))
            newest = max(newest, version)
            if fields[0] == "create" {
                creates += 1
                let object = try store.get(ObjectKey(Resource("configmaps"), namespace: "kill-test", name: fields[1]))
                #expect(object.resourceVersion == version, "\(fields[1])")
            } else {
                counted = max(counted, Int(fields[1]) ?? 0)
            }
        }
        let counter = try store.get(ObjectKey(Resource("configmaps"), namespace: "kill-test", name: "counter"))
        // At most the one update that committed before its line was printed is beyond the log.
        let stored = Int(try counter.value()[member: "data"]?[member: "value"]?.stringValue ?? "") ?? -1
        #expect(stored == counted || stored == counted + 1, "counter \(stored), acknowledged \(counted)")
        #expect(try store.list(Resource("configmaps"), namespace: "kill-test").items.count - 1 >= creates)
        // The store goes on after the newest acknowledged revision.
        let after = try store.create(Resource("configmaps"), object("after", namespace: "kill-test"))
        #expect(after.resourceVersion > newest)
        // And its change log still serves watches from before the kills.
        let watch = try store.watch(Resource("configmaps"), namespace: "kill-test", from: newest - 10)
        var last: UInt64 = newest - 10
        while let event = try watch.next(timeoutSeconds: 0.1) {
            #expect(event.object.resourceVersion > last)
            last = event.object.resourceVersion
        }
        #expect(last == after.resourceVersion)
    }

    /// The complete lines the writer printed (a line cut by the kill is not an acknowledgement).
    static func acknowledged(_ path: String) -> [String] {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { return [] }
        var lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        lines.removeLast() // after the last newline: empty, or a cut line
        return lines.filter { !$0.isEmpty }
    }
}
