import Foundation
import TestSupport
import Testing

/// Basic auth (htpasswd) and Bearer tokens (a token server of the tests' own), logins kept in a
/// Docker-compatible config.json, and platform choice from an image index.
@Suite(.enabled(if: ImageEnv.ready, "needs root, a built berth, docker-registry, skopeo and umoci"))
struct AuthAndPlatformTests {
    @Test func basicAuthThroughLogin() throws {
        let registry = try LocalRegistry(.basic("alice", "s3cret"))
        defer { registry.stop() }
        let berth = try BerthCLI()
        defer { berth.remove() }
        try registry.pushBusybox("private/busybox:latest", credentials: "alice:s3cret")

        // Without credentials the registry says no, and berth says what it said.
        let anonymous = try berth.callAnyway(["pull", "\(registry.address)/private/busybox"])
        #expect(anonymous.status != 0)
        #expect(anonymous.stderr.lowercased().contains("unauthorized"), "\(anonymous.stderr)")

        let wrong = try berth.callAnyway(["login", "-u", "alice", "--password-stdin", registry.address], stdin: "wrong\n")
        #expect(wrong.status != 0)
        #expect(wrong.stderr.lowercased().contains("unauthorized"), "\(wrong.stderr)")
        let savedAfterFailure = (try? String(contentsOfFile: berth.dockerConfig + "/config.json", encoding: .utf8)) ?? ""
        #expect(!savedAfterFailure.contains(registry.address))

        #expect(try berth.call("login", "-u", "alice", "--password-stdin", registry.address, stdin: "s3cret\n") == "Login Succeeded\n")
        let saved = try String(contentsOfFile: berth.dockerConfig + "/config.json", encoding: .utf8)
        #expect(saved.contains(Data("alice:s3cret".utf8).base64EncodedString()))

        try berth.call("pull", "\(registry.address)/private/busybox")
        try berth.call("tag", "\(registry.address)/private/busybox", "\(registry.address)/private/again:1")
        try berth.call("push", "\(registry.address)/private/again:1")
        #expect(try registry.skopeoDigest("private/again:1", credentials: "alice:s3cret").hasPrefix("sha256:"))

        #expect(try berth.call("logout", registry.address) == "Removing login credentials for \(registry.address)\n")
        let after = try berth.callAnyway(["pull", "\(registry.address)/private/again:1"])
        #expect(after.status != 0)
    }

    @Test func bearerTokensAreFetchedOncePerScope() throws {
        let registry = try LocalRegistry(.token("bob", "pa55"))
        defer { registry.stop() }
        let berth = try BerthCLI()
        defer { berth.remove() }
        try registry.pushBusybox("team/busybox:latest", credentials: "bob:pa55")

        let anonymous = try berth.callAnyway(["pull", "\(registry.address)/team/busybox"])
        #expect(anonymous.status != 0)
        #expect(anonymous.stderr.lowercased().contains("unauthorized") || anonymous.stderr.lowercased().contains("denied"), "\(anonymous.stderr)")

        try berth.call("login", "-u", "bob", "--password-stdin", registry.address, stdin: "pa55")
        let before = registry.tokenRequests
        try berth.call("pull", "\(registry.address)/team/busybox")
        // Manifest, config and layer all go with one token for repository:team/busybox:pull.
        #expect(registry.tokenRequests - before <= 1, "token requests: \(registry.tokenRequests - before)")

        try berth.call("tag", "\(registry.address)/team/busybox", "\(registry.address)/team/copy:2")
        try berth.call("push", "\(registry.address)/team/copy:2")
        #expect(try registry.skopeoDigest("team/copy:2", credentials: "bob:pa55") == (try registry.skopeoDigest("team/busybox:latest", credentials: "bob:pa55")))
    }

    @Test func indexGivesThisMachinesPlatformAndSkipsAttestations() throws {
        let registry = try LocalRegistry()
        defer { registry.stop() }
        let berth = try BerthCLI()
        defer { berth.remove() }
        let layout = try ImageEnv.temporaryDirectory("multi")
        defer { try? FileManager.default.removeItem(atPath: layout) }
        let made = try sh(["/bin/bash", ImageEnv.packageRoot + "/Tests/Scripts/registry/make-multiplatform-index.sh", layout + "/oci",
                           "\(registry.address)/multi:latest"])
        try #require(made.status == 0, "\(made.stderr)")
        let indexDigest = trimmed(made.stdout.split(separator: "\n").last.map(String.init) ?? "")

        let out = try berth.call("pull", "\(registry.address)/multi:latest")
        #expect(out.contains("Digest: \(indexDigest)"), "\(out)")
        let arch = trimmed(try berth.call("image", "inspect", "--format", "{{.Os}}/{{.Architecture}}", "\(registry.address)/multi"))
        #expect(arch == "linux/amd64")
        let snapshot = berth.root + "/snapshots/" + (berth.snapshots.first ?? "")
        #expect(FileManager.default.fileExists(atPath: snapshot + "/bin/busybox"))

        let other = try BerthCLI()
        defer { other.remove() }
        try other.call("pull", "--platform", "linux/arm64", "\(registry.address)/multi:latest")
        #expect(trimmed(try other.call("image", "inspect", "--format", "{{.Architecture}} {{.Variant}}", "\(registry.address)/multi")) == "arm64 v8")
        let armSnapshot = other.root + "/snapshots/" + (other.snapshots.first ?? "")
        #expect((try? String(contentsOfFile: armSnapshot + "/platform", encoding: .utf8)) == "arm64\n")

        let none = try berth.callAnyway(["pull", "--platform", "linux/s390x", "\(registry.address)/multi:latest"])
        #expect(none.status != 0)
        #expect(none.stderr.contains("no matching manifest for linux/s390x"), "\(none.stderr)")
    }
}
