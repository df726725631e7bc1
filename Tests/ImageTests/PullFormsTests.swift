import Foundation
import TestSupport
import Testing

/// Pull paths beyond the common one: zstd layers, every tag of a repository, and the terminal display.
@Suite(.enabled(if: ImageEnv.ready), .serialized)
struct PullFormsTests {
    /// skopeo recompresses the layer as zstd on push; berth must unpack it to the same diffID, so the
    /// image ID (the config digest) and the files are those of the gzip original.
    @Test func pullsZstdLayers() throws {
        let registry = try LocalRegistry()
        defer { registry.stop() }
        let berth = try BerthCLI()
        defer { berth.remove() }
        let push = try sh(["/usr/bin/skopeo", "copy", "--dest-tls-verify=false", "--dest-compress-format", "zstd",
                           "--dest-compress", "oci:\(ImageEnv.busyboxLayout):latest", "docker://\(registry.address)/z/busybox:zstd"])
        try #require(push.status == 0, "skopeo copy zstd: \(push.stderr)")
        let manifest = try sh(["/usr/bin/skopeo", "inspect", "--tls-verify=false", "--raw", "docker://\(registry.address)/z/busybox:zstd"])
        #expect(manifest.stdout.contains("tar+zstd"), "skopeo did not push a zstd layer: \(manifest.stdout)")

        try registry.pushBusybox("z/busybox:gzip")
        try berth.call("pull", "-q", "\(registry.address)/z/busybox:gzip")
        try berth.call("pull", "-q", "\(registry.address)/z/busybox:zstd")
        let gzipID = trimmed(try berth.call("image", "inspect", "--format", "{{.Id}}", "\(registry.address)/z/busybox:gzip"))
        let zstdID = trimmed(try berth.call("image", "inspect", "--format", "{{.Id}}", "\(registry.address)/z/busybox:zstd"))
        #expect(gzipID == zstdID)
        // One snapshot serves both: the zstd layer's content had the same diffID.
        #expect(berth.snapshots.count == 1)
        let snapshot = berth.root + "/snapshots/" + (berth.snapshots.first ?? "")
        #expect(FileManager.default.isExecutableFile(atPath: snapshot + "/bin/busybox"))
    }

    @Test func pullsEveryTagWithAllTags() throws {
        let registry = try LocalRegistry()
        defer { registry.stop() }
        let berth = try BerthCLI()
        defer { berth.remove() }
        for tag in ["1", "2", "latest"] { try registry.pushBusybox("many/busybox:\(tag)") }
        try registry.pushBusybox("other/busybox:3")

        let out = try berth.call("pull", "--all-tags", "\(registry.address)/many/busybox")
        for tag in ["1", "2", "latest"] { #expect(out.contains("\(tag): Pulling from many/busybox")) }
        #expect(out.hasSuffix("\(registry.address)/many/busybox\n"))
        let tags = trimmed(try berth.call("images", "--format", "{{.Repository}}:{{.Tag}}"))
            .split(separator: "\n").map(String.init).sorted()
        #expect(tags == ["1", "2", "latest"].map { "\(registry.address)/many/busybox:\($0)" })

        // As Docker: a tag or digest with -a is refused, and nothing is pulled.
        for bad in ["\(registry.address)/other/busybox:3", "\(registry.address)/other/busybox:latest",
                    "\(registry.address)/other/busybox@sha256:" + String(repeating: "a", count: 64)] {
            let refused = try berth.callAnyway(["pull", "-a", bad])
            #expect(refused.status != 0)
            #expect(refused.stderr.contains("tag can't be used with --all-tags/-a"), "\(bad): \(refused.stderr)")
        }
        #expect(!(try berth.call("images")).contains("other/busybox"))
    }

    /// On a terminal: one line per layer redrawn in place (cursor movement), with a bar and sizes.
    @Test func showsBarsOnATerminal() throws {
        let registry = try LocalRegistry()
        defer { registry.stop() }
        let berth = try BerthCLI()
        defer { berth.remove() }
        try registry.pushBusybox("tty/busybox:1")
        let command = "DOCKER_CONFIG=\(berth.dockerConfig) exec \(ImageEnv.berth) --root \(berth.root) pull \(registry.address)/tty/busybox:1"
        let result = try sh(["/usr/bin/script", "-qefc", command, "/dev/null"], stdin: "",
                            environment: ["SHELL": "/bin/sh", "PATH": "/usr/bin:/bin", "TERM": "xterm"])
        #expect(result.status == 0, "\(result.stdout)\(result.stderr)")
        let screen = result.stdout
        #expect(screen.contains("\u{1b}["), "no cursor control on a terminal: \(screen.debugDescription)")
        #expect(screen.contains("Downloading  [="), "no bar: \(screen.debugDescription)")
        #expect(screen.contains("/s"))
        #expect(screen.contains("Pull complete"))
        #expect(screen.contains("Status: Downloaded newer image for \(registry.address)/tty/busybox:1"))
        // Not a terminal: plain lines only.
        let plain = try berth.call("pull", "\(registry.address)/tty/busybox:1")
        #expect(!plain.contains("\u{1b}["))
    }
}
