import Foundation
import TestSupport
import Testing

/// The image endpoints of `berth serve`, driven by the docker CLI 28 and checked with curl for
/// Docker's exact JSON shapes.
@Suite(.enabled(if: APIEnv.ready, "needs root, the built berth, the docker CLI, curl and umoci"))
struct ImagesTests {
    @Test func listShowsImagesWithDockersShapes() throws {
        let server = try APIServer()
        defer { server.stop() }
        // The test image came in untagged and was tagged busybox:test; loading it again changes nothing.
        let loaded = try server.docker(["load", "-i", APIEnv.busyboxLayout + ".tar"])
        #expect(loaded.status == 0 && loaded.stdout.hasPrefix("Loaded image ID: sha256:"), "\(loaded)")
        let table = try server.dockerOK("images")
        #expect(table.hasPrefix("REPOSITORY"), "\(table)")
        #expect(table.contains("busybox ") && table.contains(" test "), "\(table)")

        let list = try #require(try server.json("/v1.51/images/json") as? [[String: Any]])
        #expect(list.count == 1, "one image, loaded twice: \(list)")
        let image = try #require(list.first)
        #expect((image["Id"] as? String)?.hasPrefix("sha256:") == true)
        #expect(image["RepoTags"] as? [String] == ["busybox:test"])
        #expect(image["RepoDigests"] as? [String] == [])
        #expect(image["Created"] is Int, "Created is a Unix integer: \(image)")
        #expect(image["SharedSize"] as? Int == -1 && image["Containers"] as? Int == -1)
        let raw = try server.curl(["/v1.51/images/json"]).stdout
        #expect(raw.hasPrefix(#"[{"Containers":-1,"Created":0,"Id":"sha256:"#), "\(raw)")
        #expect(raw.contains(#""Labels":null,"ParentId":"","RepoDigests":[],"RepoTags":["busybox:test"],"SharedSize":-1,"Size":"#), "\(raw)")

        // Untagged: [] not null.
        try server.dockerOK("rmi", "busybox:test")
        try server.dockerOK("load", "-i", APIEnv.busyboxLayout + ".tar")
        let untagged = try server.curl(["/images/json"]).stdout
        #expect(untagged.contains(#""RepoDigests":[],"RepoTags":[]"#), "\(untagged)")
        let dangling = try #require(try server.json("/images/json?filters=%7B%22dangling%22%3A%5B%22true%22%5D%7D") as? [[String: Any]])
        #expect(dangling.count == 1)
        let notDangling = try #require(try server.json("/images/json?filters=%7B%22dangling%22%3A%5B%22false%22%5D%7D") as? [[String: Any]])
        #expect(notDangling.isEmpty)
        let bad = try server.request("GET", "/images/json?filters=%7B%22bogus%22%3A%5B%22x%22%5D%7D")
        #expect(bad.status == 400 && bad.body.contains("invalid filter 'bogus'"), "\(bad)")
    }

    @Test func referenceFilterShowsOnlyMatchingNamesAndSharedSize() throws {
        let server = try APIServer()
        defer { server.stop() }
        try server.dockerOK("tag", "busybox:test", "other/name:1")
        let listed = try #require(try server.json("/images/json?shared-size=1&filters=%7B%22reference%22%3A%5B%22other%2F%2A%22%5D%7D") as? [[String: Any]])
        #expect(listed.count == 1)
        #expect(listed.first?["RepoTags"] as? [String] == ["other/name:1"], "\(listed)")
        #expect(listed.first?["SharedSize"] as? Int == 0, "one image: nothing shared")
        let quiet = try server.dockerOK("images", "-q", "other/name")
        #expect(quiet.split(separator: "\n").count == 1)
        let none = try server.dockerOK("images", "-q", "nosuch")
        #expect(none.isEmpty)
    }

    @Test func tagInspectHistoryAndRemove() throws {
        let server = try APIServer()
        defer { server.stop() }
        let tagged = try server.request("POST", "/v1.51/images/busybox:test/tag?repo=example.com/team/app&tag=v2")
        #expect(tagged.status == 201 && tagged.body.isEmpty, "\(tagged)")
        let id = try server.dockerOK("image", "inspect", "--format", "{{.Id}}", "example.com/team/app:v2")
        #expect(id == (try server.dockerOK("image", "inspect", "--format", "{{.Id}}", "busybox:test")))
        let inspect = try #require(try server.json("/images/example.com/team/app:v2/json") as? [String: Any])
        #expect(Set(inspect["RepoTags"] as? [String] ?? []) == ["busybox:test", "example.com/team/app:v2"])
        #expect((inspect["Config"] as? [String: Any])?["Cmd"] as? [String] == ["sh"])
        #expect(inspect["Created"] is String, "RFC 3339 in inspect")

        let history = try #require(try server.json("/images/busybox:test/history") as? [[String: Any]])
        #expect(history.first?["Id"] as? String == id.trimmingCharacters(in: .whitespacesAndNewlines))
        #expect(history.first?["Created"] is Int && history.first?["Size"] is Int)
        let rawHistory = try server.curl(["/images/busybox:test/history"]).stdout
        #expect(rawHistory.hasPrefix(#"[{"Comment":"","Created":0,"CreatedBy":"make-busybox-image.sh","Id":"sha256:"#), "\(rawHistory)")
        #expect(Set(history.first?["Tags"] as? [String] ?? []) == ["busybox:test", "example.com/team/app:v2"])
        let historyTable = try server.dockerOK("history", "busybox:test")
        #expect(historyTable.hasPrefix("IMAGE"), "\(historyTable)")

        let missing = try server.docker(["image", "inspect", "nosuch:1"])
        #expect(missing.status == 1 && missing.stderr.contains("No such image"), "\(missing.stderr)")
        let missingAPI = try server.request("GET", "/images/nosuch:1/json")
        #expect(missingAPI.status == 404 && missingAPI.body.hasPrefix(#"{"message":"No such image: nosuch:1"#), "\(missingAPI)")

        let untag = try server.dockerOK("rmi", "example.com/team/app:v2")
        #expect(untag == "Untagged: example.com/team/app:v2\n")
        let deleted = try server.request("DELETE", "/images/busybox:test")
        #expect(deleted.status == 200, "\(deleted)")
        #expect(deleted.body.hasPrefix(#"[{"Untagged":"busybox:test"},{"Deleted":"sha256:"#), "\(deleted.body)")
        let again = try server.docker(["rmi", "busybox:test"])
        #expect(again.status == 1 && again.stderr.contains("Error response from daemon: No such image: busybox:test"), "\(again.stderr)")
        #expect(try server.dockerOK("images", "-q").isEmpty)
    }

    @Test func removingAnImageAContainerUsesIsAConflict() throws {
        let server = try APIServer()
        defer { server.stop() }
        try #require(try server.berth(["create", "--name", "user", "busybox:test", "true"]).status == 0)
        let id = try server.dockerOK("image", "inspect", "--format", "{{.Id}}", "busybox:test").trimmingCharacters(in: .whitespacesAndNewlines)
        let refused = try server.request("DELETE", "/images/\(id)")
        #expect(refused.status == 409 && refused.body.contains("image is being used by stopped container"), "\(refused)")
        // Pruning keeps it too.
        let pruned = try server.request("POST", "/images/prune?filters=%7B%22dangling%22%3A%5B%22false%22%5D%7D")
        #expect(pruned.status == 200 && pruned.body.hasPrefix(#"{"ImagesDeleted":null,"SpaceReclaimed":"#), "\(pruned)")
        #expect(try server.dockerOK("images", "-q").split(separator: "\n").count == 1)
    }

    @Test func pruneRemovesDanglingImages() throws {
        let server = try APIServer()
        defer { server.stop() }
        // Nothing dangling yet.
        let nothing = try server.dockerOK("image", "prune", "-f")
        #expect(nothing == "Total reclaimed space: 0B\n", "\(nothing)")
        try server.dockerOK("rmi", "busybox:test")
        try server.dockerOK("load", "-i", APIEnv.busyboxLayout + ".tar")
        let output = try server.dockerOK("image", "prune", "-f")
        #expect(output.hasPrefix("Deleted Images:\ndeleted: sha256:"), "\(output)")
        #expect(output.contains("Total reclaimed space: ") && !output.contains("space: 0B"), "\(output)")
        #expect(try server.dockerOK("images", "-aq").isEmpty)
    }

    @Test func saveThenLoadRoundTrips() throws {
        let server = try APIServer()
        defer { server.stop() }
        try server.dockerOK("tag", "busybox:test", "saved:1")
        let archive = server.base + "/saved.tar"
        try server.dockerOK("save", "-o", archive, "saved:1")
        let listing = try sh(["/bin/tar", "-tf", archive])
        #expect(listing.stdout.contains("manifest.json"), "\(listing.stdout)")
        try server.dockerOK("rmi", "saved:1", "busybox:test")
        let loaded = try server.dockerOK("load", "-i", "\(archive)")
        #expect(loaded == "Loaded image: saved:1\n", "\(loaded)")
        #expect(try server.dockerOK("images", "--format", "{{.Repository}}:{{.Tag}}") == "saved:1\n")
        // `docker save | docker load` through pipes, and the raw answers.
        let piped = try sh(["/bin/sh", "-c", "'\(APIEnv.docker)' save saved:1 | '\(APIEnv.docker)' load"],
                           environment: ProcessInfo.processInfo.environment.merging(["DOCKER_HOST": "unix://" + server.socket]) { $1 })
        #expect(piped.status == 0 && piped.stdout == "Loaded image: saved:1\n", "\(piped)")
        let missing = try server.request("GET", "/images/get?names=nosuch")
        #expect(missing.status == 404, "\(missing)")
        let garbage = try server.request("POST", "/images/load", ["--data-binary", "not a tar"])
        #expect(garbage.status == 200 && garbage.body.contains(#""errorDetail":{"message":"#), "\(garbage)")
    }

    @Test(.enabled(if: APIEnv.registryReady, "needs docker-registry and skopeo"))
    func pullFromALocalRegistryStreamsDockersMessages() throws {
        let server = try APIServer(loadBusybox: false)
        defer { server.stop() }
        let registry = try TestRegistry()
        defer { registry.stop() }
        let pulled = try server.docker(["pull", "\(registry.address)/busybox"])
        try #require(pulled.status == 0, "\(pulled.stderr)")
        #expect(pulled.stdout.contains("latest: Pulling from busybox\n"), "\(pulled.stdout)")
        #expect(pulled.stdout.contains(": Pull complete\n") && pulled.stdout.contains("\nDigest: sha256:"), "\(pulled.stdout)")
        #expect(pulled.stdout.contains("Status: Downloaded newer image for \(registry.address)/busybox:latest\n"), "\(pulled.stdout)")
        #expect(pulled.stdout.hasSuffix("\(registry.address)/busybox:latest\n"))
        let again = try server.dockerOK("pull", "\(registry.address)/busybox:latest")
        #expect(again.contains("Status: Image is up to date for \(registry.address)/busybox:latest"), "\(again)")
        let digests = try server.dockerOK("images", "--digests", "--format", "{{.Digest}}")
        #expect(digests.hasPrefix("sha256:"), "\(digests)")

        // The raw stream: dockerd's message shapes, one JSON value per line.
        try server.dockerOK("rmi", "\(registry.address)/busybox:latest")
        let raw = try server.curl(["-X", "POST", "/v1.51/images/create?fromImage=\(registry.address)%2Fbusybox&tag=latest"])
        let lines = raw.stdout.split(separator: "\n").map(String.init)
        #expect(lines.first == #"{"status":"Pulling from busybox","id":"latest"}"#, "\(raw.stdout)")
        #expect(lines.contains { $0.hasPrefix(#"{"status":"Pulling fs layer","progressDetail":{},"id":""#) }, "\(raw.stdout)")
        #expect(lines.contains { $0.hasPrefix(#"{"status":"Downloading","progressDetail":{"current":"#) && $0.contains(#""progress":"["#) })
        #expect(lines.contains { $0.hasPrefix(#"{"status":"Pull complete","progressDetail":{},"id":""#) })
        #expect(lines.contains { $0.hasPrefix(#"{"status":"Digest: sha256:"#) })
        #expect(lines.last == #"{"status":"Status: Downloaded newer image for \#(registry.address)/busybox:latest"}"#, "\(raw.stdout)")

        // Failures: before any message an error status; the CLI says so and exits 1.
        let missing = try server.docker(["pull", "\(registry.address)/nosuch:1"])
        #expect(missing.status == 1 && missing.stderr.contains("Error response from daemon"), "\(missing.stderr)")
        let status = try server.request("POST", "/images/create?fromImage=\(registry.address)%2Fnosuch&tag=1")
        #expect(status.status == 404 && status.body.hasPrefix(#"{"message":"#), "\(status)")
        let bad = try server.request("POST", "/images/create?fromImage=Bad%20Name&tag=1")
        #expect(bad.status == 400, "\(bad)")
    }

    @Test(.enabled(if: APIEnv.registryReady, "needs docker-registry and skopeo"))
    func pushWithCredentialsFromLogin() throws {
        let server = try APIServer()
        defer { server.stop() }
        let registry = try TestRegistry(htpasswd: ("alice", "s3cret"))
        defer { registry.stop() }
        let target = "\(registry.address)/copy:v1"
        try server.dockerOK("tag", "busybox:test", "\(target)")
        // No credentials: the registry refuses, the stream says so, the CLI exits 1.
        let refused = try server.docker(["push", target])
        #expect(refused.status == 1, "\(refused.stdout)\(refused.stderr)")
        let login = try server.docker(["login", registry.address, "-u", "alice", "--password-stdin"], stdin: "s3cret\n")
        #expect(login.status == 0 && login.stdout.contains("Login Succeeded"), "\(login.stdout)\(login.stderr)")
        let pushed = try server.docker(["push", target])
        try #require(pushed.status == 0, "\(pushed.stdout)\(pushed.stderr)")
        #expect(pushed.stdout.hasPrefix("The push refers to repository [\(registry.address)/copy]\n"), "\(pushed.stdout)")
        #expect(pushed.stdout.contains(": Pushed\n"), "\(pushed.stdout)")
        let digestLine = try #require(pushed.stdout.split(separator: "\n").last.map(String.init))
        #expect(digestLine.hasPrefix("v1: digest: sha256:") && digestLine.contains(" size: "), "\(pushed.stdout)")
        #expect(try registry.tags("copy", credentials: ("alice", "s3cret")) == ["v1"])

        // The raw stream ends with the digest status and the aux result.
        let auth = Data(#"{"username":"alice","password":"s3cret","serveraddress":"\#(registry.address)"}"#.utf8).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
        let raw = try server.curl(["-X", "POST", "-H", "X-Registry-Auth: \(auth)", "/v1.51/images/\(registry.address)/copy/push?tag=v1"])
        let lines = raw.stdout.split(separator: "\n").map(String.init)
        #expect(lines.first == #"{"status":"The push refers to repository [\#(registry.address)/copy]"}"#, "\(raw.stdout)")
        #expect(lines.contains { $0.hasPrefix(#"{"status":"Layer already exists","progressDetail":{},"id":""#) }, "\(raw.stdout)")
        let aux = try #require(jsonLines(raw.stdout).last?["aux"] as? [String: Any])
        #expect(aux["Tag"] as? String == "v1" && (aux["Digest"] as? String)?.hasPrefix("sha256:") == true && aux["Size"] is Int)
        #expect(lines.last?.hasPrefix(#"{"progressDetail":{},"aux":{"Tag":"v1","Digest":"sha256:"#) == true, "\(raw.stdout)")
        let missing = try server.request("POST", "/images/\(registry.address)/nosuch/push?tag=1")
        #expect(missing.status == 404 && missing.body.contains("An image does not exist locally with the tag"), "\(missing)")
    }

    @Test func importMakesAnImageFromATarball() throws {
        let server = try APIServer(loadBusybox: false)
        defer { server.stop() }
        let tree = server.base + "/tree"
        try FileManager.default.createDirectory(atPath: tree + "/etc", withIntermediateDirectories: true)
        try "imported\n".write(toFile: tree + "/etc/marker", atomically: true, encoding: .utf8)
        let tarball = server.base + "/rootfs.tar.gz"
        try #require(try sh(["/bin/tar", "-C", tree, "-czf", tarball, "."]).status == 0)
        let imported = try server.dockerOK("import", "--change", "CMD [\"/bin/true\"]", tarball, "imported:1")
        #expect(imported.hasPrefix("sha256:"), "\(imported)")
        #expect(try server.dockerOK("image", "inspect", "--format", "{{json .Config.Cmd}}", "imported:1") == "[\"/bin/true\"]\n")
    }
}
