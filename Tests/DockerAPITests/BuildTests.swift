import Foundation
import TestSupport
import Testing

/// `POST /build` driven by the docker CLI's legacy builder (DOCKER_BUILDKIT=0: no buildx here)
/// and by curl: the context streamed in, the legacy builder's messages, failures and their exit
/// codes, the images run by the CLI over the same root.
@Suite(.enabled(if: APIEnv.ready, "needs root, the built berth, the docker CLI, curl and umoci"))
struct APIBuildTests {
    /// A context directory with `files` (path → content).
    func context(_ server: APIServer, _ files: [String: String]) throws -> String {
        let directory = server.base + "/ctx-\(UInt32.random(in: 0...UInt32.max))"
        for (path, content) in files {
            let url = URL(fileURLWithPath: directory + "/" + path)
            try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            try content.write(to: url, atomically: true, encoding: .utf8)
        }
        return directory
    }

    func build(_ server: APIServer, _ arguments: [String]) throws -> Output {
        try server.docker(["build"] + arguments, environment: ["DOCKER_BUILDKIT": "0"])
    }

    @Test func legacyBuildShowsStepsAndTheImageRuns() throws {
        let server = try APIServer()
        defer { server.stop() }
        let directory = try context(server, [
            "Dockerfile": """
                FROM busybox:test
                COPY greeting.txt /greeting.txt
                RUN echo built-by-run > /from-run && echo hello from the step
                ENV MODE=api
                CMD ["cat", "/greeting.txt"]
                """,
            "greeting.txt": "hello over the API\n",
        ])
        let built = try build(server, ["-t", "api-built:1", "-t", "api-built:latest", directory])
        try #require(built.status == 0, "\(built.stdout)\(built.stderr)")
        let out = built.stdout
        #expect(out.contains("Step 1/5 : FROM busybox:test\n ---> "), "\(out)")
        #expect(out.contains("Step 2/5 : COPY greeting.txt /greeting.txt\n ---> "), "\(out)")
        #expect(out.contains("Step 3/5 : RUN echo built-by-run > /from-run && echo hello from the step\n ---> Running in "), "\(out)")
        #expect(out.contains("\nhello from the step\n ---> Removed intermediate container "), "\(out)")
        #expect(out.contains("Step 5/5 : CMD [\"cat\", \"/greeting.txt\"]\n ---> "), "\(out)")
        let id = try server.dockerOK("image", "inspect", "--format", "{{.Id}}", "api-built:1").trimmingCharacters(in: .whitespacesAndNewlines)
        let short = String(id.dropFirst("sha256:".count).prefix(12))
        // The last step's ID is the image's.
        #expect(out.contains(" ---> \(short)\nSuccessfully built \(short)\n"), "\(out)")
        #expect(out.hasSuffix("Successfully tagged api-built:1\nSuccessfully tagged api-built:latest\n"), "\(out)")
        // The CLI over the same root runs what the server built.
        let ran = try server.berth(["run", "--rm", "api-built:1"])
        #expect(ran.status == 0 && ran.stdout == "hello over the API\n", "\(ran)")
        #expect(try server.berth(["run", "--rm", "api-built:1", "cat", "/from-run"]).stdout == "built-by-run\n")
        #expect(try server.dockerOK("image", "inspect", "--format", "{{json .Config.Env}}", "api-built:1").contains("MODE=api"))

        // Again: every step from the cache, the same image.
        let again = try build(server, ["-t", "api-built:2", directory])
        try #require(again.status == 0, "\(again.stderr)")
        #expect(again.stdout.components(separatedBy: " ---> Using cache\n").count - 1 == 4, "\(again.stdout)")
        #expect(!again.stdout.contains("Running in"), "\(again.stdout)")
        #expect(again.stdout.contains("Successfully built \(short)\n"), "\(again.stdout)")
    }

    @Test func aFailingStepEndsTheBuildWithItsExitCode() throws {
        let server = try APIServer()
        defer { server.stop() }
        let directory = try context(server, ["Dockerfile": "FROM busybox:test\nRUN echo before-failing\nRUN exit 3\nRUN echo never\n"])
        let failed = try build(server, ["-t", "never:1", directory])
        #expect(failed.status == 3, "docker build exits with the step's status: \(failed.status) \(failed.stderr)")
        #expect(failed.stderr.contains("The command '/bin/sh -c exit 3' returned a non-zero code: 3"), "\(failed.stderr)")
        #expect(failed.stdout.contains("Step 3/4 : RUN exit 3\n ---> Running in "), "\(failed.stdout)")
        #expect(!failed.stdout.contains("Step 4/4"), "\(failed.stdout)")
        #expect(try server.docker(["image", "inspect", "never:1"]).status == 1)

        // The raw stream's last line, as dockerd ends it.
        let tarball = server.base + "/fail.tar"
        try #require(try sh(["/bin/tar", "-C", directory, "-cf", tarball, "."]).status == 0)
        let raw = try server.curl(["-X", "POST", "-H", "Content-Type: application/x-tar", "--data-binary", "@" + tarball, "/v1.51/build?t=never:1"])
        let last = try #require(raw.stdout.split(separator: "\n").last.map(String.init))
        #expect(last == #"{"errorDetail":{"code":3,"message":"The command '/bin/sh -c exit 3' returned a non-zero code: 3"},"error":"The command '/bin/sh -c exit 3' returned a non-zero code: 3"}"#,
                "\(raw.stdout)")
        // A Dockerfile error is an error status before any message.
        let broken = try context(server, ["Dockerfile": "FROM busybox:test\nNOSUCH instruction\n"])
        let brokenBuild = try build(server, [broken])
        #expect(brokenBuild.status == 1 && brokenBuild.stderr.contains("Error response from daemon"), "\(brokenBuild.stderr)")
    }

    @Test func gzipContextQueryParametersAndTheRawStream() throws {
        let server = try APIServer()
        defer { server.stop() }
        let directory = try context(server, [
            "build/Custom.dockerfile": """
                FROM busybox:test
                ARG WHO=nobody
                RUN echo "hello $WHO" > /who
                """,
            ".dockerignore": "secret\n",
            "secret": "no\n",
        ])
        let tarball = server.base + "/ctx.tar.gz"
        try #require(try sh(["/bin/tar", "-C", directory, "-czf", tarball, "."]).status == 0)
        func post(_ query: String) throws -> String {
            try server.curl(["-X", "POST", "-H", "Content-Type: application/x-tar", "--data-binary", "@" + tarball, "/v1.51/build?" + query]).stdout
        }
        let buildargs = "%7B%22WHO%22%3A%22api%22%7D"      // {"WHO":"api"}
        let labels = "%7B%22team%22%3A%22berth%22%7D"       // {"team":"berth"}
        let output = try post("dockerfile=build%2FCustom.dockerfile&t=raw:1&buildargs=\(buildargs)&labels=\(labels)&rm=1")
        let messages = jsonLines(output)
        // The step line and its end are two messages, as dockerd sends them.
        #expect(output.hasPrefix(#"{"stream":"Step 1/3 : FROM busybox:test"}"# + "\n" + #"{"stream":"\n"}"# + "\n" + #"{"stream":" ---\u003e "#),
                "\(output)")
        let aux = try #require(messages.compactMap { $0["aux"] as? [String: Any] }.last)
        let id = try #require(aux["ID"] as? String)
        #expect(id.hasPrefix("sha256:"))
        #expect(output.contains(#"{"stream":"Successfully built \#(id.dropFirst(7).prefix(12))\n"}"#), "\(output)")
        #expect(output.hasSuffix(#"{"stream":"Successfully tagged raw:1\n"}"# + "\n"), "\(output)")
        #expect(try server.berth(["run", "--rm", "raw:1", "cat", "/who"]).stdout == "hello api\n")
        #expect(try server.dockerOK("image", "inspect", "--format", "{{.Config.Labels.team}}", "raw:1") == "berth\n")

        // q=1: only the ID (the same build, all cached: the same image).
        let quiet = try post("dockerfile=build%2FCustom.dockerfile&q=1&buildargs=\(buildargs)&labels=\(labels)")
        #expect(quiet == #"{"stream":"\#(id)\n"}"# + "\n", "\(quiet)")

        // Bad input: answered before any message.
        let missing = try server.request("POST", "/build?dockerfile=Nope", ["-H", "Content-Type: application/x-tar", "--data-binary", "@" + tarball])
        #expect(missing.status == 400 && missing.body.contains("Cannot locate specified Dockerfile: Nope"), "\(missing)")
        let badTag = try server.request("POST", "/build?t=Bad%20Tag", ["--data-binary", "@" + tarball])
        #expect(badTag.status == 400, "\(badTag)")
        let notTar = try server.request("POST", "/build", ["--data-binary", "certainly not a tar archive, this"])
        #expect(notTar.status == 400, "\(notTar)")
        let buildkit = try server.request("POST", "/build?version=2", ["--data-binary", "@" + tarball])
        #expect(buildkit.status == 400 && buildkit.body.contains("DOCKER_BUILDKIT=0"), "\(buildkit)")

        let pruned = try server.request("POST", "/v1.51/build/prune")
        #expect(pruned.status == 200 && pruned.body.hasPrefix(#"{"CachesDeleted":null,"SpaceReclaimed":"#), "\(pruned)")
    }

    @Test(arguments: ["-cjf", "-cJf", "-cf"])
    func compressedContextsAsDockerTakesThem(_ flags: String) throws {
        let server = try APIServer()
        defer { server.stop() }
        // Big enough that cutting the archive in half cuts the file, not the padding after it.
        let data = "compressed \(flags)\n" + String(repeating: "padding line\n", count: 10_000)
        let directory = try context(server, ["Dockerfile": "FROM busybox:test\nCOPY data /data\n", "data": data])
        let tarball = server.base + "/ctx.tar"
        try #require(try sh(["/bin/tar", "-C", directory, flags, tarball, "."]).status == 0)
        let output = try server.curl(["-X", "POST", "--data-binary", "@" + tarball, "/build?t=packed:1"]).stdout
        #expect(output.contains("Successfully tagged packed:1"), "\(output)")
        #expect(try server.berth(["run", "--rm", "packed:1", "head", "-n1", "/data"]).stdout == "compressed \(flags)\n")
        // Cut short: a clear error, nothing left behind.
        let bytes = try Data(contentsOf: URL(fileURLWithPath: tarball))
        try bytes.prefix(bytes.count / 2).write(to: URL(fileURLWithPath: tarball + ".cut"))
        let cut = try server.request("POST", "/build", ["--data-binary", "@" + tarball + ".cut"])
        #expect(cut.status == 400, "\(cut)")
        #expect(((try? FileManager.default.contentsOfDirectory(atPath: server.root + "/build-contexts")) ?? []).isEmpty)
    }

    @Test func aClientThatGoesAwayLeavesTheServerServing() throws {
        let server = try APIServer()
        defer { server.stop() }
        let directory = try context(server, ["Dockerfile": "FROM busybox:test\nRUN sleep 2 && echo slept > /slept\n"])
        let tarball = server.base + "/ctx.tar"
        try #require(try sh(["/bin/tar", "-C", directory, "-cf", tarball, "."]).status == 0)
        let cut = try server.curl(["--max-time", "1", "-X", "POST", "--data-binary", "@" + tarball, "/build?t=left:1"])
        #expect(cut.status == 28, "curl timed out: \(cut)")
        #expect(try server.curl(["/_ping"]).stdout == "OK")
        #expect(try server.dockerOK("images", "-q").split(separator: "\n").count >= 1)
        // The build runs to its end; then its context directory is gone.
        var left: [String] = ["?"]
        for _ in 0..<100 {
            left = (try? FileManager.default.contentsOfDirectory(atPath: server.root + "/build-contexts")) ?? []
            if left.isEmpty { break }
            usleep(100_000)
        }
        #expect(left.isEmpty, "\(left)")
    }

    @Test(.enabled(if: APIEnv.registryReady, "needs docker-registry and skopeo"))
    func aMissingBaseImageIsPulledWithTheClientsCredentials() throws {
        let server = try APIServer(loadBusybox: false)
        defer { server.stop() }
        let registry = try TestRegistry(htpasswd: ("bob", "hunter2"))
        defer { registry.stop() }
        let directory = try context(server, ["Dockerfile": "FROM \(registry.address)/busybox\nRUN echo pulled-base > /x\n"])
        let anonymous = try build(server, [directory])
        #expect(anonymous.status != 0, "\(anonymous.stdout)")
        let login = try server.docker(["login", registry.address, "-u", "bob", "--password-stdin"], stdin: "hunter2\n")
        try #require(login.status == 0, "\(login.stderr)")
        let built = try build(server, ["-t", "on-pulled:1", directory])
        try #require(built.status == 0, "\(built.stdout)\(built.stderr)")
        #expect(built.stdout.contains("Status: Downloaded newer image for \(registry.address)/busybox:latest"), "\(built.stdout)")
        #expect(try server.berth(["run", "--rm", "on-pulled:1", "cat", "/x"]).stdout == "pulled-base\n")
    }
}
