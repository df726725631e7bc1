import Foundation
import TestSupport
import Testing

/// `version`, `search` and `login` as a Docker user meets them: layouts, templates, a registry
/// without search, a registry with one, and the interactive login through a real pty.
@Suite(.enabled(if: EngineEnv.ready))
struct VersionSearchLoginTests {
    static let registryScript = EngineEnv.packageRoot + "/Tests/Scripts/registry/registry.sh"
    static let docker = "/usr/local/bin/docker"

    static func lines(_ text: String) -> [String] { text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init) }

    // MARK: version

    @Test func versionHasDockersLayoutAndTemplates() throws {
        let berth = try BerthEngine(loadBusybox: false)
        defer { berth.remove() }
        let text = try berth.call("version")
        let pattern = #"""
            ^Client:
             Version:           0\.1\.0
             API version:       1\.51
             Go version:        swift[0-9.]+
             Git commit:        [0-9a-f]{7}
             Built:             [A-Z][a-z]{2} [A-Z][a-z]{2} [ 1-3][0-9] [0-9:]{8} [0-9]{4}
             OS/Arch:           linux/(amd64|arm64)
             Context:           default

            Server: Berth
             Engine:
              Version:          0\.1\.0
              API version:      1\.51 \(minimum version 1\.24\)
              Go version:       swift[0-9.]+
              Git commit:       [0-9a-f]{7}
              Built:            [A-Z][a-z]{2} [A-Z][a-z]{2} [ 1-3][0-9] [0-9:]{8} [0-9]{4}
              OS/Arch:          linux/(amd64|arm64)
              Experimental:     false
             berth-runtime:
              Version:          0\.1\.0

            """# + "$"
        #expect(text.range(of: pattern, options: .regularExpression) != nil, "\(text)")

        // The Client part has the docker CLI's own labels and columns (the client prints it with no daemon to ask).
        if FileManager.default.isExecutableFile(atPath: Self.docker) {
            let theirs = try sh([Self.docker, "-H", "unix:///nonexistent/docker.sock", "version"])
            let labels = { (text: String) in Self.lines(text).prefix(8).map { String($0.prefix(20)) } }
            #expect(labels(theirs.stdout) == labels(text), "docker:\n\(theirs.stdout)\nberth:\n\(text)")
        }

        #expect(try berth.call("version", "--format", "{{.Server.ApiVersion}} {{.Server.MinAPIVersion}} {{(index .Server.Components 0).Name}} {{.Client.Context}}")
                == "1.51 1.24 Engine default\n")
        let json = try berth.call("version", "-f", "json")
        let object = try #require(try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any])
        let server = try #require(object["Server"] as? [String: Any])
        #expect(server["ApiVersion"] as? String == "1.51" && server["MinAPIVersion"] as? String == "1.24" && server["Os"] as? String == "linux")
        #expect((server["BuildTime"] as? String)?.range(of: #"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.0{9}\+00:00$"#, options: .regularExpression) != nil)
        let client = try #require(object["Client"] as? [String: Any])
        if FileManager.default.isExecutableFile(atPath: Self.docker) {
            let theirs = try sh([Self.docker, "-H", "unix:///nonexistent/docker.sock", "version", "--format", "{{json .Client}}"])
            let dockerClient = try #require(try JSONSerialization.jsonObject(with: Data(Self.lines(theirs.stdout)[0].utf8)) as? [String: Any])
            #expect(Set(client.keys) == Set(dockerClient.keys), "\(client.keys.sorted()) \(dockerClient.keys.sorted())")
        }

        let bad = try berth.callAnyway(["version", "--format", "{{.Client.Version"])
        #expect(bad.status == 64 && bad.stderr.hasPrefix("template parsing error: "), "\(bad.status) \(bad.stderr)")
    }

    @Test func versionFlagIsDockersOneLine() throws {
        let berth = try BerthEngine(loadBusybox: false)
        defer { berth.remove() }
        let line = try berth.call("--version")
        #expect(line.range(of: #"^Berth version 0\.1\.0, build [0-9a-f]{7}\n$"#, options: .regularExpression) != nil, "\(line)")
        #expect(try berth.call("-v") == line)
        // The build is the executable's GNU build ID, as the linker wrote it.
        let notes = try sh(["/usr/bin/readelf", "-n", EngineEnv.berth]).stdout
        let buildID = try #require(notes.range(of: #"Build ID: [0-9a-f]+"#, options: .regularExpression).map { String(notes[$0].dropFirst(10)) })
        #expect(line.hasSuffix("build \(buildID.prefix(7))\n"))
        #expect(try berth.call("version", "--format", "{{.Client.GitCommit}}") == "\(buildID.prefix(7))\n")
    }

    // MARK: search

    /// A registry that has no search API (Debian's docker-registry): dockerd's words, the registry named, status 1.
    @Test func searchOfARegistryWithoutSearchFailsClearly() throws {
        let berth = try BerthEngine(loadBusybox: false)
        defer { berth.remove() }
        let storage = berth.base + "/registry"
        let started = try sh([Self.registryScript, "start", storage])
        try #require(started.status == 0, "registry.sh: \(started.stderr)")
        defer { _ = try? sh([Self.registryScript, "stop", storage]) }
        let address = started.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        let result = try berth.callAnyway(["search", "\(address)/busybox"])
        #expect(result.status == 1)
        #expect(result.stdout.isEmpty)
        // What dockerd answers `docker search 127.0.0.1:PORT/busybox` with, then which registry and request.
        #expect(result.stderr.hasPrefix("Error response from daemon: Unexpected status code 404"), "\(result.stderr)")
        #expect(result.stderr.contains(address) && result.stderr.contains("/v1/search?q=busybox&n=25"), "\(result.stderr)")

        let limit = try berth.callAnyway(["search", "--limit", "101", "\(address)/busybox"])
        #expect(limit.status == 1 && limit.stderr == "Error response from daemon: limit 101 is outside the range of [1, 100]\n", "\(limit.stderr)")
        let filter = try berth.callAnyway(["search", "--filter", "colour=red", "\(address)/busybox"])
        #expect(filter.status == 1 && filter.stderr == "Error response from daemon: invalid filter 'colour'\n", "\(filter.stderr)")
    }

    /// A registry that answers `/v1/search` (a small server standing in for Docker Hub's index):
    /// the query sent as dockerd sends it, the results filtered and shown as the docker CLI 28 shows
    /// them against dockerd 20.10: in the registry's order (not by stars), the same four columns.
    @Test func searchShowsResultsAsDocker() throws {
        let berth = try BerthEngine(loadBusybox: false)
        defer { berth.remove() }
        let requests = berth.base + "/requests.log"
        let search = try #require(try SearchServer.start(in: berth.base), "the search server did not start")
        defer { search.stop() }
        let port = search.port
        let term = "127.0.0.1:\(port)/busy box"

        let table = try berth.call("search", "--limit", "7", term)
        #expect(table == """
            NAME              DESCRIPTION                                     STARS     OFFICIAL
            team/tool         a tool                                          3         
            busybox           Busybox base image, with all the small tools…   3100      [OK]
            someone/busybox                                                   0         

            """, "\(table)")
        #expect(Self.lines((try? String(contentsOfFile: requests, encoding: .utf8)) ?? "").first == "/v1/search?q=busy+box&n=7")

        #expect(try berth.call("search", "--filter", "stars=3", "--filter", "is-official=false", "--format", "{{.Name}}:{{.StarCount}}:{{.IsOfficial}}", term)
                == "team/tool:3:\n")
        #expect(try berth.call("search", "--no-trunc", "--format", "{{.Description}}", "--filter", "is-official=true", term)
                == "Busybox base image, with all the small tools a container needs and more\n")
        #expect(try berth.call("search", "--format", "json", "--filter", "is-automated=true", term)
                == #"{"Description":"","IsOfficial":"false","Name":"someone/busybox","StarCount":"0"}"# + "\n")
    }

    // MARK: login

    /// `login SERVER` with nothing given asks on the terminal: the username echoed as typed, the
    /// password not; the credentials are checked, stored, and used the next time without asking.
    @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/script")))
    func loginPromptsOnTheTerminal() throws {
        let home = EngineEnv.scratch("h")
        defer { try? FileManager.default.removeItem(atPath: home) }
        let berth = try BerthEngine(environment: ["HOME": home, "DOCKER_CONFIG": home + "/.docker"], loadBusybox: false)
        defer { berth.remove() }
        let storage = berth.base + "/registry"
        let started = try sh([Self.registryScript, "start", storage, "--htpasswd", "bob:s3cret-pw"])
        try #require(started.status == 0, "registry.sh: \(started.stderr)")
        defer { _ = try? sh([Self.registryScript, "stop", storage]) }
        let address = started.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        let command = "HOME=\(home) DOCKER_CONFIG=\(home)/.docker \(EngineEnv.berth) --root \(berth.root) --runroot \(berth.runRoot) login"
        func typed(_ keys: [String], _ arguments: String) throws -> Output {
            let input = keys.map { "sleep 1; printf '\($0)\\r'; " }.joined()
            return try sh(["/bin/sh", "-c", "(\(input)sleep 2) | /usr/bin/script -qefc '\(command) \(arguments)' /dev/null"])
        }

        // A wrong password: refused, nothing stored.
        let wrong = try typed(["bob", "nope"], address)
        #expect(wrong.status == 1, "\(wrong.stdout)")
        #expect(!FileManager.default.fileExists(atPath: home + "/.docker/config.json"))

        let first = try typed(["bob", "s3cret-pw"], address)
        #expect(first.status == 0, "\(first.stdout)")
        #expect(first.stdout.contains("Username: bob\r\nPassword: \r\nLogin Succeeded\r\n"), "\(first.stdout)")
        #expect(!first.stdout.contains("s3cret-pw"), "the password was echoed")
        let config = (try? String(contentsOfFile: home + "/.docker/config.json", encoding: .utf8)) ?? ""
        #expect(config.contains(Data("bob:s3cret-pw".utf8).base64EncodedString()), "\(config)")

        // Stored credentials are tried first, without a prompt (no terminal needed).
        let again = try berth.callAnyway(["login", address])
        #expect(again.status == 0)
        #expect(again.stdout.hasPrefix("Authenticating with existing credentials... [Username: bob]\n"), "\(again.stdout)")
        #expect(again.stdout.hasSuffix("Login Succeeded\n"))

        // The stored name is offered as the default; an empty password is refused.
        let noPassword = try typed(["", ""], "-u bob \(address)")
        #expect(noPassword.status == 1 && noPassword.stdout.contains("Password: \r\nError: Password Required"), "\(noPassword.stdout)")
        _ = try berth.call("logout", address)
        let noName = try typed([""], address)
        #expect(noName.status == 1 && noName.stdout.contains("Username: \r\nError: Non-null Username Required"), "\(noName.stdout)")

        // Without a terminal there is nothing to ask with.
        let piped = try berth.callAnyway(["login", address], stdin: "")
        #expect(piped.status == 1 && piped.stderr == "Error: Cannot perform an interactive login from a non TTY device\n", "\(piped.stderr)")
        let stdinPassword = try berth.callAnyway(["login", "-u", "bob", "--password-stdin", address], stdin: "s3cret-pw\n")
        #expect(stdinPassword.status == 0 && stdinPassword.stdout == "Login Succeeded\n", "\(stdinPassword.stderr)")
        let noUser = try berth.callAnyway(["login", "--password-stdin", address], stdin: "s3cret-pw\n")
        #expect(noUser.status == 1 && noUser.stderr == "Must provide --username with --password-stdin\n", "\(noUser.stderr)")
    }
}
