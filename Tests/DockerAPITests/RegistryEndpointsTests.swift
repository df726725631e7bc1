import Foundation
import TestSupport
import Testing

/// `GET /images/search` and `POST /auth` against `berth serve`, with the docker CLI and curl: the
/// registry's search (a stand-in that has one, and Debian's docker-registry, which has none) and
/// credentials checked against a registry with Basic auth.
@Suite(.enabled(if: APIEnv.registryReady), .serialized)
struct RegistryEndpointsTests {
    /// Results as the registry sends them (Docker's JSON keys, in its order), filtered; the docker
    /// CLI's table from them; the limit passed on.
    @Test func searchShowsTheRegistrysResults() throws {
        let server = try APIServer(loadBusybox: false)
        defer { server.stop() }
        let requests = server.base + "/requests.log"
        let search = try #require(try SearchServer.start(in: server.base), "the search server did not start")
        defer { search.stop() }
        let port = search.port

        let all = try server.curl(["/v1.51/images/search?term=127.0.0.1:\(port)/busybox&limit=7"])
        #expect(all.stdout.hasPrefix(#"[{"star_count":3,"is_official":false,"name":"team/tool","is_automated":false,"description":"a tool"},"#), "\(all.stdout)")
        let filters = "%7B%22stars%22%3A%5B%223%22%5D%2C%22is-official%22%3A%5B%22true%22%5D%7D"
        let filtered = try JSONSerialization.jsonObject(with: Data(try server.curl(["/v1.51/images/search?term=127.0.0.1:\(port)/busybox&filters=\(filters)"]).stdout.utf8)) as? [[String: Any]]
        #expect(filtered?.map { $0["name"] as? String } == ["busybox"])
        let table = try server.dockerOK("search", "--format", "{{.Name}} {{.StarCount}} {{.IsOfficial}}", "127.0.0.1:\(port)/busybox")
        // In the registry's order: the docker CLI 28 does not sort them.
        #expect(table == "team/tool 3 \nbusybox 3100 [OK]\nsomeone/busybox 0 \n", "\(table)")
        // Its default table, byte for byte as against dockerd 20.10 (and as `berth search` prints it).
        let plain = try server.dockerOK("search", "127.0.0.1:\(port)/busybox")
        #expect(plain == """
            NAME              DESCRIPTION                                     STARS     OFFICIAL
            team/tool         a tool                                          3         
            busybox           Busybox base image, with all the small tools…   3100      [OK]
            someone/busybox                                                   0         

            """, "\(plain)")
        let asked = ((try? String(contentsOfFile: requests, encoding: .utf8)) ?? "").split(separator: "\n")
        #expect(asked.first == "/v1/search?q=busybox&n=7", "\(asked)")

        let outOfRange = try server.request("GET", "/v1.51/images/search?term=127.0.0.1:\(port)/busybox&limit=500")
        #expect(outOfRange.status == 400 && outOfRange.body.contains("limit 500 is outside the range of [1, 100]"), "\(outOfRange)")
        #expect(try server.request("GET", "/images/search").status == 400)
    }

    /// A registry without the search API: dockerd's "Unexpected status code 404" (a 500), the
    /// registry named; the docker CLI prints it and fails.
    @Test func searchOfARegistryWithoutSearch() throws {
        let server = try APIServer(loadBusybox: false)
        defer { server.stop() }
        let registry = try TestRegistry()
        defer { registry.stop() }
        let answer = try server.request("GET", "/v1.51/images/search?term=\(registry.address)/busybox")
        #expect(answer.status == 500, "\(answer)")
        #expect(answer.body.hasPrefix(#"{"message":"Unexpected status code 404: "#) && answer.body.contains(registry.address), "\(answer.body)")
        let cli = try server.docker(["search", "\(registry.address)/busybox"])
        #expect(cli.status == 1)
        #expect(cli.stderr.contains("Error response from daemon: Unexpected status code 404"), "\(cli.stderr)")
    }

    /// `docker login` against a registry with Basic auth: the right password logs in, a wrong one
    /// is dockerd's 401 with its words and the CLI fails.
    @Test func authChecksTheCredentials() throws {
        let server = try APIServer(loadBusybox: false)
        defer { server.stop() }
        let registry = try TestRegistry(htpasswd: ("alice", "s3cret"))
        defer { registry.stop() }
        let good = try server.docker(["login", "-u", "alice", "--password-stdin", registry.address], stdin: "s3cret\n")
        #expect(good.status == 0, "\(good.stderr)")
        #expect(good.stdout.contains("Login Succeeded"), "\(good.stdout)")
        let bad = try server.docker(["login", "-u", "alice", "--password-stdin", registry.address], stdin: "wrong\n")
        #expect(bad.status == 1)
        let words = "login attempt to http://\(registry.address)/v2/ failed with status: 401 Unauthorized"
        #expect(bad.stderr.contains(words), "\(bad.stderr)")
        let body = #"{"username":"alice","password":"wrong","serveraddress":"http://\#(registry.address)/v2/"}"#
        let refused = try server.request("POST", "/v1.51/auth", ["-H", "Content-Type: application/json", "-d", body])
        #expect(refused.status == 401 && refused.body.contains(words), "\(refused)")
        let auth = Data("alice:s3cret".utf8).base64EncodedString()
        let taken = try server.request("POST", "/v1.51/auth", ["-H", "Content-Type: application/json", "-d", #"{"auth":"\#(auth)","serveraddress":"\#(registry.address)"}"#])
        #expect(taken.status == 200 && taken.body == #"{"IdentityToken":"","Status":"Login Succeeded"}"# + "\n", "\(taken)")
        let notJSON = try server.request("POST", "/v1.51/auth", ["-H", "Content-Type: application/json", "-d", "[]"])
        #expect(notJSON.status == 500 && notJSON.body.contains("json: cannot unmarshal array into Go value of type registry.AuthConfig"), "\(notJSON)")
    }
}
