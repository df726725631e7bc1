import Foundation

/// Tests/Scripts/registry/search-server.py: a registry's `/v1/search` answering fixed results and
/// logging each query to `requests`. Started through `sh` (which gives it the default signal mask);
/// `stop()` kills it.
public struct SearchServer: Sendable {
    public let pid: Int32
    public let port: Int

    /// Starts it with its port file and request log under `directory`; nil if it did not come up.
    public static func start(in directory: String) throws -> SearchServer? {
        let requests = directory + "/requests.log", portFile = directory + "/search-port"
        let script = packageRoot + "/Tests/Scripts/registry/search-server.py"
        let started = try sh(["/bin/sh", "-c", "/usr/bin/python3 \"$0\" \"$1\" \"$2\" >/dev/null 2>&1 & echo $!", script, requests, portFile])
        guard let pid = Int32(started.stdout.trimmingCharacters(in: .whitespacesAndNewlines)) else { return nil }
        for _ in 0..<100 where !FileManager.default.fileExists(atPath: portFile) { usleep(50_000) }
        let text = ((try? String(contentsOfFile: portFile, encoding: .utf8)) ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
        guard let port = Int(text) else {
            kill(pid, SIGKILL)
            return nil
        }
        return SearchServer(pid: pid, port: port)
    }

    public func stop() { kill(pid, SIGKILL) }
}
