import Foundation
import TestSupport
import Testing

/// The store itself: save/load against skopeo, removal that keeps shared layers, listings, and
/// bad input — corrupted and truncated blobs, hostile tars, a kill -9 mid-pull — that must leave
/// every image already stored intact.
@Suite(.enabled(if: ImageEnv.ready, "needs root, a built berth, docker-registry, skopeo and umoci"))
struct StoreTests {
    /// busybox plus one more layer on top, made with umoci: two images sharing their first layer.
    static func pushTwoLayerImage(_ registry: LocalRegistry, as repository: String) throws {
        let work = try ImageEnv.temporaryDirectory("two")
        defer { try? FileManager.default.removeItem(atPath: work) }
        #expect(try sh(["/bin/cp", "-a", ImageEnv.busyboxLayout, work + "/layout"]).status == 0)
        let unpack = try sh(["/usr/bin/umoci", "unpack", "--image", work + "/layout:latest", work + "/bundle"])
        try #require(unpack.status == 0, "\(unpack.stderr)")
        try "second layer\n".write(toFile: work + "/bundle/rootfs/etc/second", atomically: true, encoding: .utf8)
        let repack = try sh(["/usr/bin/umoci", "repack", "--image", work + "/layout:two", work + "/bundle"])
        try #require(repack.status == 0, "\(repack.stderr)")
        let copy = try sh(["/usr/bin/skopeo", "copy", "--dest-tls-verify=false", "oci:\(work)/layout:two", "docker://\(registry.address)/\(repository)"])
        try #require(copy.status == 0, "\(copy.stderr)")
    }

    @Test func saveIsReadBySkopeoAndLoadRestoresTheSameImage() throws {
        let registry = try LocalRegistry()
        defer { registry.stop() }
        let berth = try BerthCLI()
        defer { berth.remove() }
        try Self.pushTwoLayerImage(registry, as: "two:latest")
        let name = "\(registry.address)/two:latest"
        try berth.call("pull", name)
        let id = trimmed(try berth.call("image", "inspect", "-f", "{{.Id}}", name))

        for format in ["docker-archive", "oci-archive"] {
            let archive = berth.root + "/saved-\(format).tar"
            try berth.call("save", "--format", format, "-o", archive, name)
            let skopeoName = format == "docker-archive" ? "docker-archive:\(archive)" : "oci-archive:\(archive)"
            let inspect = try sh(["/usr/bin/skopeo", "inspect", "--config", skopeoName])
            #expect(inspect.status == 0, "skopeo inspect \(skopeoName): \(inspect.stderr)")
            // skopeo's config digest (the image ID) is berth's.
            let raw = try sh(["/usr/bin/skopeo", "inspect", "--config", "--raw", skopeoName])
            try raw.stdout.write(toFile: archive + ".config", atomically: true, encoding: .utf8)
            #expect("sha256:" + (try sha256Hex(ofFile: archive + ".config")) == id, "\(format)")

            let fresh = try BerthCLI()
            defer { fresh.remove() }
            let loaded = try fresh.call("load", "-i", archive)
            #expect(loaded == "Loaded image: \(name)\n", "\(format): \(loaded)")
            #expect(trimmed(try fresh.call("images", "-q", "--no-trunc")) == id)
            #expect(fresh.snapshots.contains { FileManager.default.fileExists(atPath: fresh.root + "/snapshots/" + $0 + "/bin/busybox") })
            #expect(fresh.snapshots == berth.snapshots)
        }
        // A tar from stdout loads from stdin.
        let piped = try sh(["/bin/sh", "-c", "'\(ImageEnv.berth)' --root '\(berth.root)' save '\(name)' | '\(ImageEnv.berth)' --root '\(berth.root)-2' load"])
        defer { try? FileManager.default.removeItem(atPath: berth.root + "-2") }
        #expect(piped.stdout == "Loaded image: \(name)\n", "\(piped.stderr)")
    }

    @Test func removalKeepsSharedLayersAndPruneCollects() throws {
        let registry = try LocalRegistry()
        defer { registry.stop() }
        let berth = try BerthCLI()
        defer { berth.remove() }
        try registry.pushBusybox("one:latest")
        try Self.pushTwoLayerImage(registry, as: "two:latest")
        try berth.call("pull", "\(registry.address)/one")
        let oneSnapshots = berth.snapshots
        let oneBlobs = berth.blobs
        try berth.call("pull", "\(registry.address)/two")
        #expect(berth.snapshots.count == 2)
        #expect(oneSnapshots.isSubset(of: berth.snapshots))

        let removed = try berth.call("rmi", "\(registry.address)/two")
        #expect(removed.contains("Untagged: \(registry.address)/two:latest"))
        #expect(removed.contains("Deleted: sha256:"))
        #expect(berth.snapshots == oneSnapshots)
        #expect(berth.blobs == oneBlobs)
        #expect(trimmed(try berth.call("images", "--format", "{{.Repository}}:{{.Tag}}")) == "\(registry.address)/one:latest")

        // A second tag keeps the image; removing by ID needs -f once two repositories name it.
        try berth.call("tag", "\(registry.address)/one", "other/name:x")
        #expect(try berth.call("rmi", "other/name:x") == "Untagged: other/name:x\n")
        try berth.call("tag", "\(registry.address)/one", "other/name:x")
        let id = trimmed(try berth.call("images", "-q"))
        let refused = try berth.callAnyway(["rmi", id])
        #expect(refused.status != 0)
        #expect(refused.stderr.contains("must be forced"))
        #expect(try berth.call("rmi", "-f", id).contains("Deleted: sha256:"))
        #expect(berth.snapshots.isEmpty)
        #expect(berth.blobs.isEmpty)

        let missing = try berth.callAnyway(["rmi", "nothing:here"])
        #expect(missing.status == 1)
        #expect(missing.stderr.contains("No such image: nothing:here"))

        // prune: dangling only, then -a.
        try berth.call("pull", "\(registry.address)/one")
        try berth.call("pull", "\(registry.address)/two")
        #expect(try berth.call("image", "prune", "-f") == "Total reclaimed space: 0B\n")
        let all = try berth.call("image", "prune", "-a", "-f")
        #expect(all.contains("Deleted Images:"))
        #expect(berth.snapshots.isEmpty && berth.blobs.isEmpty)
    }

    @Test func listingsFormatsAndFilters() throws {
        let registry = try LocalRegistry()
        defer { registry.stop() }
        let berth = try BerthCLI()
        defer { berth.remove() }
        try registry.pushBusybox("list/busybox:latest")
        try berth.call("pull", "\(registry.address)/list/busybox")
        try berth.call("tag", "\(registry.address)/list/busybox", "mine:1")
        let table = try berth.call("images")
        let lines = table.split(separator: "\n")
        #expect(lines.first?.hasPrefix("REPOSITORY") == true && lines.first?.contains("IMAGE ID") == true, "\(table)")
        #expect(lines.count == 3)
        let digest = try registry.skopeoDigest("list/busybox:latest")
        #expect(try berth.call("images", "--digests").contains(digest))
        #expect(try berth.call("images", "--format", "{{.Repository}}", "--filter", "reference=mine") == "mine\n")
        #expect(try berth.call("images", "mine") .split(separator: "\n").count == 2)
        #expect(try berth.call("images", "--filter", "dangling=true", "-q") == "")
        let json = try berth.call("images", "--format", "json")
        #expect(json.split(separator: "\n").count == 2 && json.contains("\"Repository\":\"mine\""), "\(json)")
        #expect(try berth.call("images", "--format", "{{.ID}}", "--filter", "label=nope") == "")
        // The management-command spellings take the same options.
        #expect(try berth.call("image", "ls", "--format", "{{.Repository}}", "mine") == "mine\n")
        let history = try berth.call("history", "mine:1")
        #expect(history.hasPrefix("IMAGE"), "\(history)")
        let bad = try berth.callAnyway(["images", "--format", "{{.Nope"])
        #expect(bad.status != 0)
        let badFilter = try berth.callAnyway(["images", "--filter", "colour=blue"])
        #expect(badFilter.status != 0 && badFilter.stderr.contains("colour"))
    }

    /// Registry storage keeps each blob at docker/registry/v2/blobs/sha256/<2>/<hex>/data.
    static func blobFile(_ registry: LocalRegistry, _ digest: String) -> String {
        let hex = String(digest.dropFirst("sha256:".count))
        return "\(registry.directory)/storage/docker/registry/v2/blobs/sha256/\(hex.prefix(2))/\(hex)/data"
    }

    static func layerDigest(_ registry: LocalRegistry, _ repository: String) throws -> String {
        let raw = try sh(["/usr/bin/skopeo", "inspect", "--tls-verify=false", "--raw", "docker://\(registry.address)/\(repository)"])
        let object = try JSONSerialization.jsonObject(with: Data(raw.stdout.utf8)) as? [String: Any]
        let layers = object?["layers"] as? [[String: Any]]
        return try #require(layers?.last?["digest"] as? String)
    }

    @Test func corruptedAndTruncatedBlobsAreRefusedAndNothingIsLost() throws {
        let registry = try LocalRegistry()
        defer { registry.stop() }
        let berth = try BerthCLI()
        defer { berth.remove() }
        try registry.pushBusybox("good:latest")
        try berth.call("pull", "\(registry.address)/good")
        let before = (snapshots: berth.snapshots, blobs: berth.blobs, images: try berth.call("images", "-q", "--no-trunc"))

        try Self.pushTwoLayerImage(registry, as: "bad:latest")
        let layer = try Self.layerDigest(registry, "bad:latest")
        let file = Self.blobFile(registry, layer)
        var bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: file)))
        bytes[bytes.count / 2] ^= 0xff
        try Data(bytes).write(to: URL(fileURLWithPath: file))
        let corrupted = try berth.callAnyway(["pull", "\(registry.address)/bad"])
        #expect(corrupted.status != 0)
        #expect(corrupted.stderr.contains(layer), "\(corrupted.stderr)")

        try Data(bytes.prefix(bytes.count / 2)).write(to: URL(fileURLWithPath: file))
        let truncated = try berth.callAnyway(["pull", "\(registry.address)/bad"])
        #expect(truncated.status != 0)
        #expect(!truncated.stderr.isEmpty)

        #expect(berth.snapshots == before.snapshots)
        #expect(berth.blobs.isSuperset(of: before.blobs))
        #expect(try berth.call("images", "-q", "--no-trunc") == before.images)
        #expect((try? FileManager.default.contentsOfDirectory(atPath: berth.root + "/blobs/ingest")) == [])
        #expect((try? FileManager.default.contentsOfDirectory(atPath: berth.root + "/snapshots/ingest")) == [])
        // What a failed pull left (its manifest and config) goes with prune.
        try berth.call("image", "prune", "-f")
        #expect(berth.blobs == before.blobs)
    }

    @Test func hostileTarballsStayInsideTheSnapshot() throws {
        let berth = try BerthCLI()
        defer { berth.remove() }
        let marker = "berth-escape-\(getpid())"
        let tarball = berth.root + "/hostile.tar"
        let script = """
            import io, sys, tarfile
            t = tarfile.open(sys.argv[1], "w")
            def add(name, data=b"x", **kw):
                info = tarfile.TarInfo(name); info.size = len(data)
                for k, v in kw.items(): setattr(info, k, v)
                t.addfile(info, io.BytesIO(data) if info.type == tarfile.REGTYPE else None)
            add("../../../../tmp/\(marker)-dotdot")
            add("/tmp/\(marker)-absolute")
            add("escape", type=tarfile.SYMTYPE, linkname="/tmp")
            add("escape/\(marker)-via-symlink")
            add("rel", type=tarfile.SYMTYPE, linkname="../../../../../../tmp")
            add("rel/\(marker)-via-relative")
            add("hard", type=tarfile.LNKTYPE, linkname="../../../../etc/passwd")
            t.close()
            """
        let made = try sh(["/usr/bin/python3", "-c", script, tarball])
        try #require(made.status == 0, "\(made.stderr)")
        let passwd = try String(contentsOfFile: "/etc/passwd", encoding: .utf8)
        let result = try berth.callAnyway(["import", tarball, "hostile:1"])
        for suffix in ["dotdot", "absolute", "via-symlink", "via-relative"] {
            #expect(!FileManager.default.fileExists(atPath: "/tmp/\(marker)-\(suffix)"), "\(suffix) escaped")
        }
        #expect(try String(contentsOfFile: "/etc/passwd", encoding: .utf8) == passwd)
        if result.status == 0 {
            // Contained: everything landed under the snapshot.
            let snapshot = berth.root + "/snapshots/" + (berth.snapshots.first ?? "")
            #expect(FileManager.default.fileExists(atPath: snapshot + "/tmp/\(marker)-dotdot"))
        } else {
            // Refused, naming the entry from the tar that tried to leave.
            #expect(result.stderr.contains("layer entry") && (result.stderr.contains(marker) || result.stderr.contains("hard")), "\(result.stderr)")
            #expect(berth.snapshots.isEmpty)
        }
    }

    @Test func killedPullLeavesAStoreLaterCommandsTrust() throws {
        let registry = try LocalRegistry(logRequests: true)
        defer { registry.stop() }
        let berth = try BerthCLI()
        defer { berth.remove() }
        try registry.pushBusybox("base:latest")
        try Self.pushTwoLayerImage(registry, as: "two:latest")
        try berth.call("pull", "\(registry.address)/base")
        let baseLayer = try Self.layerDigest(registry, "base:latest")
        let fetchesBefore = registry.log.components(separatedBy: "GET /v2/two/blobs/\(baseLayer)").count

        // kill -9 at several moments of a pull; each time the store must still answer.
        for delay in ["0.05", "0.15", "0.3"] {
            _ = try sh(["/bin/sh", "-c", "'\(ImageEnv.berth)' --root '\(berth.root)' pull '\(registry.address)/two' >/dev/null 2>&1 & pid=$!; sleep \(delay); kill -9 $pid; wait $pid"])
            let images = try berth.callAnyway(["images", "-q"])
            #expect(images.status == 0, "\(images.stderr)")
        }
        let out = try berth.call("pull", "\(registry.address)/two")
        // A killed pull may have finished before the kill: then, as Docker's, it lists no layers.
        #expect(out.contains("Already exists") || out.contains("Status: Image is up to date"), "\(out)")
        // The shared layer was never fetched again for the second image.
        #expect(registry.log.components(separatedBy: "GET /v2/two/blobs/\(baseLayer)").count == fetchesBefore)
        try berth.call("image", "prune", "-f")
        #expect((try? FileManager.default.contentsOfDirectory(atPath: berth.root + "/blobs/ingest")) == [])
        #expect(trimmed(try berth.call("images", "--format", "{{.Repository}}")).split(separator: "\n").count == 2)
    }
}
