import Foundation
import TestSupport
import Testing

/// Pull and push through Debian's docker-registry, with skopeo and umoci as the peers that made or
/// read the same images: digests must agree byte for byte.
@Suite(.enabled(if: ImageEnv.ready, "needs root, a built berth, docker-registry, skopeo and umoci"))
struct RegistryRoundTripTests {
    @Test func pullsWhatSkopeoPushedWithEqualDigests() throws {
        let registry = try LocalRegistry()
        defer { registry.stop() }
        let berth = try BerthCLI()
        defer { berth.remove() }
        try registry.pushBusybox("tools/busybox:1")
        let manifestDigest = try registry.skopeoDigest("tools/busybox:1")

        let out = try berth.call("pull", "\(registry.address)/tools/busybox:1")
        #expect(out.contains("Digest: \(manifestDigest)"))
        #expect(out.contains("Status: Downloaded newer image for \(registry.address)/tools/busybox:1"))
        #expect(out.hasSuffix("\(registry.address)/tools/busybox:1\n"))

        // The image ID is the digest of the config skopeo reads from the registry.
        let config = try sh(["/usr/bin/skopeo", "inspect", "--tls-verify=false", "--config", "--raw", "docker://\(registry.address)/tools/busybox:1"])
        let configFile = berth.root + "/config.json"
        try config.stdout.write(toFile: configFile, atomically: true, encoding: .utf8)
        let configDigest = try sha256Hex(ofFile: configFile)
        let id = trimmed(try berth.call("image", "inspect", "--format", "{{.Id}}", "\(registry.address)/tools/busybox:1"))
        #expect(id == "sha256:\(configDigest)")
        let repoDigests = trimmed(try berth.call("image", "inspect", "--format", "{{json .RepoDigests}}", "\(registry.address)/tools/busybox:1"))
        #expect(repoDigests == "[\"\(registry.address)/tools/busybox@\(manifestDigest)\"]")

        // The layer is unpacked into a snapshot overlayfs can stack, with busybox and its links.
        #expect(berth.snapshots.count == 1)
        let snapshot = berth.root + "/snapshots/" + (berth.snapshots.first ?? "")
        #expect(FileManager.default.isExecutableFile(atPath: snapshot + "/bin/busybox"))
        #expect((try? FileManager.default.destinationOfSymbolicLink(atPath: snapshot + "/bin/sh")) == "busybox")

        // Pulling again downloads nothing and, as Docker's, lists no layers for an image it has.
        let again = try berth.call("pull", "\(registry.address)/tools/busybox:1")
        #expect(!again.contains("Already exists"))
        #expect(again.contains("Status: Image is up to date for \(registry.address)/tools/busybox:1"))

        // -q prints only the name; by digest works too.
        let quiet = try berth.call("pull", "-q", "\(registry.address)/tools/busybox@\(manifestDigest)")
        #expect(quiet == "\(registry.address)/tools/busybox@\(manifestDigest)\n")
    }

    @Test func pushedImagesAreReadBySkopeoAndRunByPodman() throws {
        let registry = try LocalRegistry()
        defer { registry.stop() }
        let berth = try BerthCLI()
        defer { berth.remove() }
        try registry.pushBusybox("base/busybox:latest")
        try berth.call("pull", "\(registry.address)/base/busybox")
        try berth.call("tag", "\(registry.address)/base/busybox", "\(registry.address)/copy/busybox:v2")

        let out = try berth.call("push", "\(registry.address)/copy/busybox:v2")
        #expect(out.contains("The push refers to repository [\(registry.address)/copy/busybox]"))
        // The layer came from another repository of the same registry: mounted, not uploaded.
        #expect(out.contains("Mounted from base/busybox"))
        let digest = try registry.skopeoDigest("copy/busybox:v2")
        #expect(out.contains("v2: digest: \(digest) size:"))
        #expect(digest == (try registry.skopeoDigest("base/busybox:latest")))

        // A second push finds everything there.
        let again = try berth.call("push", "\(registry.address)/copy/busybox:v2")
        #expect(again.contains("Layer already exists"))

        // skopeo copies it out to an OCI layout; podman runs it.
        let layout = try ImageEnv.temporaryDirectory("layout")
        defer { try? FileManager.default.removeItem(atPath: layout) }
        let copy = try sh(["/usr/bin/skopeo", "copy", "--src-tls-verify=false", "docker://\(registry.address)/copy/busybox:v2", "oci:\(layout):v2"])
        #expect(copy.status == 0, "\(copy.stderr)")
        if ImageEnv.has("podman") {
            let podmanRoot = try ImageEnv.temporaryDirectory("podman")
            defer { try? FileManager.default.removeItem(atPath: podmanRoot) }
            let run = try sh(["/usr/bin/podman", "--root", podmanRoot + "/root", "--runroot", podmanRoot + "/run",
                              "--cgroup-manager", "cgroupfs", "--events-backend", "file", "--storage-driver", "overlay",
                              "run", "--rm", "--network", "none", "--tls-verify=false",
                              // This sandbox cannot raise RLIMIT_NOFILE past its hard limit (no CAP_SYS_RESOURCE).
                              "--ulimit", "nofile=1024:1024", "--ulimit", "nproc=1024:1024",
                              "\(registry.address)/copy/busybox:v2", "echo", "hello from berth's push"])
            #expect(run.status == 0, "\(run.stderr)")
            #expect(run.stdout.contains("hello from berth's push"))
            _ = try? sh(["/usr/bin/podman", "--root", podmanRoot + "/root", "--runroot", podmanRoot + "/run", "rmi", "-af"])
            _ = try? sh(["/bin/umount", "-R", podmanRoot + "/root/overlay"])
        }
    }

    @Test func importedImagesPushAndPullBackWithTheSameIDs() throws {
        let registry = try LocalRegistry()
        defer { registry.stop() }
        let berth = try BerthCLI()
        defer { berth.remove() }
        let rootfs = try ImageEnv.temporaryDirectory("rootfs")
        defer { try? FileManager.default.removeItem(atPath: rootfs) }
        try FileManager.default.createDirectory(atPath: rootfs + "/bin", withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: rootfs + "/etc", withIntermediateDirectories: true)
        try "hello\n".write(toFile: rootfs + "/etc/greeting", atomically: true, encoding: .utf8)
        _ = try sh(["/bin/cp", "/bin/busybox", rootfs + "/bin/busybox"])
        let tarball = rootfs + ".tar"
        defer { unlink(tarball) }
        #expect(try sh(["/bin/tar", "-C", rootfs, "-cf", tarball, "."]).status == 0)

        let id = trimmed(try berth.call("import", "--change", "CMD [\"/bin/busybox\", \"cat\", \"/etc/greeting\"]",
                                        "--change", "ENV GREETING=hi", tarball, "\(registry.address)/imported/app:1"))
        #expect(id.hasPrefix("sha256:"))
        let cmd = trimmed(try berth.call("image", "inspect", "--format", "{{json .Config.Cmd}} {{.Config.Env}}", "\(registry.address)/imported/app:1"))
        #expect(cmd == "[\"/bin/busybox\",\"cat\",\"/etc/greeting\"] [GREETING=hi]")
        try berth.call("push", "\(registry.address)/imported/app:1")

        let other = try BerthCLI()
        defer { other.remove() }
        try other.call("pull", "\(registry.address)/imported/app:1")
        let pulledID = trimmed(try other.call("images", "-q", "--no-trunc"))
        #expect(pulledID == id)
        let snapshot = other.root + "/snapshots/" + (other.snapshots.first ?? "")
        #expect((try? String(contentsOfFile: snapshot + "/etc/greeting", encoding: .utf8)) == "hello\n")
    }
}
