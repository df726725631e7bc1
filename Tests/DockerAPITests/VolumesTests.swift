import Foundation
import TestSupport
import Testing

/// The volume endpoints, driven by the docker CLI's volume verbs and by curl for the JSON.
@Suite(.enabled(if: APIEnv.ready), .serialized)
struct VolumesTests {
    /// create, ls (with filters), inspect, rm refused while a container uses it (409), prune of
    /// anonymous volumes only, then of named ones with `-a`.
    @Test func volumeVerbsOfTheDockerCLI() throws {
        let server = try APIServer()
        defer { server.stop() }
        #expect(try server.docker(["volume", "create", "--label", "team=a", "data"]).stdout == "data\n")
        #expect(try server.docker(["volume", "create", "spare"]).stdout == "spare\n")
        // An anonymous volume, left behind by its container.
        try server.berthOK("create", "--name", "gone", "-v", "/anon", "busybox:test")
        try server.berthOK("rm", "gone")
        let anonymous = try server.berthOK("volume", "ls", "-q").split(separator: "\n").map(String.init).first { $0.count == 64 } ?? ""
        #expect(anonymous.count == 64)
        try server.sleeper("box", ["-v", "data:/data"])

        let all = try server.docker(["volume", "ls", "--format", "{{.Driver}} {{.Name}}"])
        #expect(Set(all.stdout.split(separator: "\n")) == ["local data", "local spare", "local \(anonymous)"], "\(all.stderr)")
        #expect(try server.docker(["volume", "ls", "-q", "--filter", "label=team=a"]).stdout == "data\n")
        #expect(try server.docker(["volume", "ls", "-q", "--filter", "dangling=false"]).stdout == "data\n")
        #expect(try server.docker(["volume", "ls", "-q", "--filter", "name=^sp"]).stdout == "spare\n")
        let inspected = try server.docker(["volume", "inspect", "-f", "{{.Name}} {{.Driver}} {{.Labels.team}} {{.Mountpoint}} {{.Scope}}", "data"])
        #expect(inspected.stdout == "data local a \(server.root)/volumes/data/_data local\n", "\(inspected.stderr)")

        let inUse = try server.docker(["volume", "rm", "data"])
        #expect(inUse.status == 1)
        #expect(inUse.stderr.contains("remove data: volume is in use"), "\(inUse.stderr)")
        #expect(try server.request("DELETE", "/volumes/data").status == 409)
        #expect(try server.request("DELETE", "/volumes/nosuch").status == 404)
        #expect(try server.request("DELETE", "/volumes/nosuch?force=1").status == 204)

        // Docker 23+: prune takes anonymous volumes only; -a the named ones too.
        let pruned = try server.docker(["volume", "prune", "-f"])
        #expect(pruned.stdout.hasPrefix("Deleted Volumes:\n\(anonymous)\n"), "\(pruned.stdout)\(pruned.stderr)")
        #expect(try server.docker(["volume", "ls", "-q"]).stdout == "data\nspare\n")
        let prunedAll = try server.docker(["volume", "prune", "-af"])
        #expect(prunedAll.stdout.hasPrefix("Deleted Volumes:\nspare\n"), "\(prunedAll.stdout)\(prunedAll.stderr)")
        #expect(try server.docker(["volume", "ls", "-q"]).stdout == "data\n")
        #expect(try server.docker(["volume", "rm", "spare"]).status == 1)
    }

    /// The JSON: create's 201 with the volume, inspect, the list's `Volumes`/`Warnings`, Go's
    /// errors for a body of the wrong types.
    @Test func volumeJSON() throws {
        let server = try APIServer()
        defer { server.stop() }
        let created = try server.request("POST", "/volumes/create", json: #"{"Name":"v1","Labels":{"z":"1","a":"2"},"DriverOpts":{}}"#)
        #expect(created.status == 201)
        let createdAt = try #require(try server.object(created.body)["CreatedAt"] as? String)
        let expected = "{\"CreatedAt\":\"\(createdAt)\",\"Driver\":\"local\",\"Labels\":{\"a\":\"2\",\"z\":\"1\"},\"Mountpoint\":\"\(server.root)/volumes/v1/_data\",\"Name\":\"v1\",\"Options\":{},\"Scope\":\"local\"}\n"
        #expect(created.body == expected)
        #expect(try server.request("GET", "/volumes/v1").body == expected)
        #expect(try server.request("GET", "/volumes").body == "{\"Volumes\":[\(expected.dropLast())],\"Warnings\":null}\n")
        let dangling = "{\"dangling\":[\"false\"]}".addingPercentEncoding(withAllowedCharacters: .alphanumerics)!
        #expect(try server.request("GET", "/volumes?filters=" + dangling).body == "{\"Volumes\":[],\"Warnings\":null}\n")

        let missing = try server.request("GET", "/volumes/nosuch")
        #expect(missing.status == 404)
        #expect(missing.body == "{\"message\":\"get nosuch: no such volume\"}\n")
        let wrongType = try server.request("POST", "/volumes/create", json: #"{"Name":7}"#)
        #expect(wrongType.status == 400)
        #expect(wrongType.body.contains("cannot unmarshal number into Go struct field CreateOptions.Name of type string"), "\(wrongType.body)")
        // API 1.41 prunes named volumes too (Docker's rule before 1.42).
        let oldPrune = try server.request("POST", "/v1.41/volumes/prune")
        #expect(oldPrune.body.hasPrefix("{\"VolumesDeleted\":[\"v1\"],\"SpaceReclaimed\":"), "\(oldPrune.body)")
    }
}
