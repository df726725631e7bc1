import Foundation
import TestSupport
import Testing

/// An address outside the pod network, routed through the server's namespace: a namespace of
/// its own with 192.0.2.2 and 192.0.2.200, answering HTTP on 8080.
final class OutsideNetwork {
    let holder: pid_t
    let directory: String

    init(server: KubeServer) throws {
        directory = server.base + "/outside"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        try Data("outside".utf8).write(to: URL(fileURLWithPath: directory + "/index.html"))
        let script = """
            while ! ip link show eth0 >/dev/null 2>&1; do sleep 0.05; done
            ip link set lo up && ip addr add 192.0.2.2/24 dev eth0 && ip addr add 192.0.2.200/24 dev eth0 && ip link set eth0 up \
              && ip route add default via 192.0.2.1 || exit 1
            cd \(directory) && exec python3 -m http.server --bind 0.0.0.0 8080
            """
        holder = try TestSupport.spawn(["/usr/bin/unshare", "--net", "--", "/bin/sh", "-c", script], stdout: directory + "/log")
        var mine = stat(), theirs = stat()
        stat("/proc/self/ns/net", &mine)
        for _ in 0..<200 where stat("/proc/\(holder)/ns/net", &theirs) != 0 || theirs.st_ino == mine.st_ino { usleep(10_000) }
        try #require(theirs.st_ino != mine.st_ino, "outside: no network namespace of its own")
        for command in [["ip", "link", "add", "vout0", "type", "veth", "peer", "name", "eth0", "netns", String(holder)],
                        ["ip", "addr", "add", "192.0.2.1/24", "dev", "vout0"], ["ip", "link", "set", "vout0", "up"]] {
            let result = try sh(server.inNetwork + command)
            try #require(result.status == 0, "\(command): \(result.stderr)")
        }
    }

    /// curl from the outside namespace (from `source`): whether it got an answer.
    func reaches(_ url: String, from source: String) throws -> Bool {
        try sh(["/usr/bin/nsenter", "--net=/proc/\(holder)/ns/net", "--", "curl", "-s", "--max-time", "2", "--interface", source, url]).status == 0
    }

    deinit {
        kill(holder, SIGKILL)
        var status: Int32 = 0
        waitpid(holder, &status, 0)
    }
}

