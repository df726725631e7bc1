import Foundation
import TestSupport
import Testing

/// The network endpoints, driven by the docker CLI's network verbs and by curl for the JSON.
@Suite(.enabled(if: APIEnv.ready), .serialized)
struct NetworksTests {
    /// create (subnet, gateway, ip-range, label, attachable), ls, inspect, connect with an alias and
    /// an address, rm refused while in use (Docker's 403), disconnect, rm, prune.
    @Test func networkVerbsOfTheDockerCLI() throws {
        let server = try APIServer()
        defer { server.stop() }
        let created = try server.docker(["network", "create", "--subnet", "10.213.7.0/24", "--gateway", "10.213.7.1",
                                         "--ip-range", "10.213.7.128/25", "--label", "team=a", "--attachable", "front"])
        try #require(created.status == 0, "\(created.stderr)")
        let id = created.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(id.count == 64 && id.allSatisfy(\.isHexDigit), "\(id)")

        let again = try server.docker(["network", "create", "front"])
        #expect(again.status == 1)
        #expect(again.stderr.contains("network with name front already exists"), "\(again.stderr)")

        let listed = try server.docker(["network", "ls", "--format", "{{.Name}} {{.Driver}} {{.Scope}}"])
        #expect(listed.stdout == "bridge bridge local\nfront bridge local\nhost host local\nnone null local\n", "\(listed.stderr)")
        let filtered = try server.docker(["network", "ls", "-q", "--no-trunc", "--filter", "label=team=a"])
        #expect(filtered.stdout == id + "\n")

        let format = "{{.Name}} {{.Driver}} {{(index .IPAM.Config 0).Subnet}} {{(index .IPAM.Config 0).IPRange}} "
            + "{{(index .IPAM.Config 0).Gateway}} {{.Labels.team}} {{.Attachable}} {{.Internal}}"
        #expect(try server.docker(["network", "inspect", "-f", format, "front"]).stdout
                == "front bridge 10.213.7.0/24 10.213.7.128/25 10.213.7.1 a true false\n")

        try server.sleeper("box")
        let connected = try server.docker(["network", "connect", "--alias", "web", "--ip", "10.213.7.200", "front", "box"])
        #expect(connected.status == 0, "\(connected.stderr)")
        let members = try server.docker(["network", "inspect", "-f", "{{range .Containers}}{{.Name}} {{.IPv4Address}}{{end}}", "front"])
        #expect(members.stdout == "box 10.213.7.200/24\n", "\(members.stderr)")
        // The container sees its new interface; the alias is recorded.
        #expect(try server.berthOK("exec", "box", "ip", "addr", "show", "eth1").contains("10.213.7.200/24"))
        #expect(try server.berthOK("inspect", "-f", "{{json .NetworkSettings.Networks.front.Aliases}}", "box").contains("\"web\""))

        let inUse = try server.docker(["network", "rm", "front"])
        #expect(inUse.status == 1)
        #expect(inUse.stderr.contains("error while removing network: network front id \(id) has active endpoints"), "\(inUse.stderr)")
        #expect(try server.request("DELETE", "/networks/front").status == 403)

        #expect(try server.docker(["network", "disconnect", "front", "box"]).status == 0)
        #expect(try server.docker(["network", "inspect", "-f", "{{len .Containers}}", "front"]).stdout == "0\n")
        let removed = try server.docker(["network", "rm", "front"])
        #expect(removed.status == 0 && removed.stdout == "front\n", "\(removed.stderr)")
        #expect(try server.docker(["network", "inspect", "front"]).status == 1)

        try server.docker(["network", "create", "--label", "keep=no", "spare"])
        try server.docker(["network", "create", "used"])
        try server.berthOK("network", "connect", "used", "box")
        let pruned = try server.docker(["network", "prune", "-f"])
        #expect(pruned.stdout == "Deleted Networks:\nspare\n\n", "\(pruned.stderr)")
        #expect(try server.docker(["network", "ls", "-q", "--filter", "name=used"]).stdout.count == 13)
    }

    /// The JSON: create's 201 `{"Id","Warning"}`, inspect's members in Docker's order, the list
    /// with empty Containers and the predefined networks, Go's errors for a body of the wrong types.
    @Test func networkJSON() throws {
        let server = try APIServer()
        defer { server.stop() }
        let created = try server.request("POST", "/networks/create", json: #"""
            {"Name":"back","Driver":"bridge","Internal":true,"Labels":{"b":"2","a":"1"},
             "IPAM":{"Driver":"default","Config":[{"Subnet":"10.213.9.0/24","Gateway":"10.213.9.254"}]},"Options":{}}
            """#)
        #expect(created.status == 201)
        let id = try #require(try server.object(created.body)["Id"] as? String)
        #expect(created.body == "{\"Id\":\"\(id)\",\"Warning\":\"\"}\n")

        let inspected = try server.request("GET", "/networks/" + String(id.prefix(12)))
        #expect(inspected.status == 200)
        #expect(inspected.body.hasPrefix("{\"Name\":\"back\",\"Id\":\"\(id)\",\"Created\":\""), "\(inspected.body)")
        #expect(inspected.body.contains(#""Scope":"local","Driver":"bridge","EnableIPv4":true,"EnableIPv6":false,"IPAM":{"Driver":"default","Options":{},"Config":[{"Subnet":"10.213.9.0/24","Gateway":"10.213.9.254"}]},"Internal":true,"Attachable":false,"Ingress":false,"ConfigFrom":{"Network":""},"ConfigOnly":false,"Containers":{},"Options":{},"Labels":{"a":"1","b":"2"}}"#),
                "\(inspected.body)")

        let host = try server.request("GET", "/networks/host")
        #expect(host.body.contains(#""Driver":"host","EnableIPv4":true,"EnableIPv6":false,"IPAM":{"Driver":"default","Options":null,"Config":null}"#), "\(host.body)")

        let list = try server.request("GET", "/networks?filters=" + "{\"driver\":[\"bridge\"]}".addingPercentEncoding(withAllowedCharacters: .alphanumerics)!)
        let names = try #require(try JSONSerialization.jsonObject(with: Data(list.body.utf8)) as? [[String: Any]]).map { $0["Name"] as? String ?? "" }
        #expect(names == ["back", "bridge"])

        let wrongType = try server.request("POST", "/networks/create", json: #"{"Name":"x","Internal":"yes"}"#)
        #expect(wrongType.status == 400)
        #expect(wrongType.body.contains("cannot unmarshal string into Go struct field CreateRequest.Internal of type bool"), "\(wrongType.body)")
        let duplicate = try server.request("POST", "/networks/create", json: #"{"Name":"back"}"#)
        #expect(duplicate.status == 409)
        #expect(try server.request("DELETE", "/networks/none").status == 403)
        #expect(try server.request("GET", "/networks/nosuch").status == 404)
        #expect(try server.request("DELETE", "/networks/back").status == 204)
        #expect(try server.request("POST", "/networks/prune").body == "{\"NetworksDeleted\":null}\n")
    }
}
