import Foundation
import TestSupport
import Testing

/// `berth build` end to end: real RUN containers, layers from overlay upper directories, the
/// cache, and the images run by berth (and checked by skopeo and Podman).
@Suite(.enabled(if: EngineEnv.ready, "needs root, the built berth and umoci"))
struct BuildTests {
    /// A context directory with `files` (path → content) written in it.
    func makeContext(_ berth: BerthEngine, _ files: [String: String]) throws -> String {
        let dir = berth.base + "/ctx-\(UInt32.random(in: 0...UInt32.max))"
        for (path, content) in files {
            let url = URL(fileURLWithPath: dir + "/" + path)
            try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            try content.write(to: url, atomically: true, encoding: .utf8)
        }
        return dir
    }

    func build(_ berth: BerthEngine, _ context: String, _ flags: [String] = []) throws -> Output {
        try berth.callAnyway(["build"] + flags + [context])
    }

    @Test func multiStageBuildRunsAndTheImageRuns() throws {
        let berth = try BerthEngine()
        defer { berth.remove() }
        let context = try makeContext(berth, [
            "Dockerfile": """
                FROM busybox:test AS build
                RUN mkdir /out && echo "hello from the build stage" > /out/greeting
                RUN echo scratch-file > /tmp-file
                FROM busybox:test
                COPY --from=build /out/greeting /srv/greeting
                ENV GREETING_FILE=/srv/greeting
                CMD ["sh", "-c", "cat $GREETING_FILE"]
                """,
        ])
        let built = try build(berth, context, ["-t", "app:1"])
        try #require(built.status == 0, "build: \(built.stderr)")
        #expect(built.stderr.contains("[build 2/3] RUN mkdir /out"))
        #expect(try berth.call("run", "--rm", "app:1") == "hello from the build stage\n")
        // Only the final stage's files: the build stage's extra file is not in it.
        #expect(try berth.callAnyway(["run", "--rm", "app:1", "ls", "/tmp-file"]).status != 0)
        #expect(try berth.call("image", "inspect", "--format", "{{json .Config.Cmd}}", "app:1") == "[\"sh\",\"-c\",\"cat $GREETING_FILE\"]\n")
        let layers = try berth.call("image", "inspect", "--format", "{{len .RootFS.Layers}}", "app:1")
        let baseLayers = try berth.call("image", "inspect", "--format", "{{len .RootFS.Layers}}", "busybox:test")
        #expect(Int(layers.trimmingCharacters(in: .whitespacesAndNewlines)) == Int(baseLayers.trimmingCharacters(in: .whitespacesAndNewlines))! + 1)
    }

    @Test func aSecondBuildIsCachedAndAChangedFileRebuildsFromThere() throws {
        let berth = try BerthEngine()
        defer { berth.remove() }
        let context = try makeContext(berth, [
            "Dockerfile": """
                FROM busybox:test
                RUN echo first > /first
                COPY data.txt /data.txt
                RUN cat /data.txt > /copy-of-data
                """,
            "data.txt": "one\n",
        ])
        let first = try build(berth, context, ["-t", "cached:1", "-q"])
        try #require(first.status == 0, "build: \(first.stderr)")
        let second = try build(berth, context, ["-t", "cached:2"])
        try #require(second.status == 0, "build: \(second.stderr)")
        #expect(second.stderr.components(separatedBy: "CACHED").count - 1 == 3, "\(second.stderr)")
        #expect(try berth.call("images", "-q", "--no-trunc", "cached:1") == berth.call("images", "-q", "--no-trunc", "cached:2"),
                "a fully cached build gives the same image ID")
        // A changed file: its COPY and what follows run again, the RUN before it stays cached.
        try "two\n".write(toFile: context + "/data.txt", atomically: true, encoding: .utf8)
        let third = try build(berth, context, ["-t", "cached:3"])
        try #require(third.status == 0, "build: \(third.stderr)")
        #expect(third.stderr.components(separatedBy: "CACHED").count - 1 == 1, "\(third.stderr)")
        #expect(try berth.call("run", "--rm", "cached:3", "cat", "/copy-of-data") == "two\n")
        // --no-cache runs everything.
        let fourth = try build(berth, context, ["--no-cache", "-t", "cached:4"])
        #expect(fourth.status == 0 && !fourth.stderr.contains("CACHED"), "\(fourth.stderr)")
        // builder prune empties the cache: the next build runs everything again.
        try berth.call("builder", "prune", "-f")
        let fifth = try build(berth, context, ["-t", "cached:5"])
        #expect(fifth.status == 0 && !fifth.stderr.contains("CACHED"), "\(fifth.stderr)")
    }

    @Test func independentStagesBuildSideBySide() throws {
        let berth = try BerthEngine()
        defer { berth.remove() }
        let context = try makeContext(berth, [
            "Dockerfile": """
                FROM busybox:test AS left
                RUN sleep 2 && echo left > /left
                FROM busybox:test AS right
                RUN sleep 2 && echo right > /right
                FROM busybox:test
                COPY --from=left /left /parts/left
                COPY --from=right /right /parts/right
                """,
        ])
        let started = Date()
        let built = try build(berth, context, ["-t", "parallel:1"])
        let elapsed = Date().timeIntervalSince(started)
        try #require(built.status == 0, "build: \(built.stderr)")
        #expect(try berth.call("run", "--rm", "parallel:1", "cat", "/parts/left", "/parts/right") == "left\nright\n")
        // One after the other the two sleeps alone would take 4 s.
        #expect(elapsed < 3.8, "took \(elapsed) s")
    }

    @Test func contextOnStdinDockerfileFlagIidfileAndRunNetworks() throws {
        let berth = try BerthEngine()
        defer { berth.remove() }
        let context = try makeContext(berth, [
            "build/Custom.dockerfile": """
                FROM busybox:test
                COPY payload.txt /payload.txt
                RUN --network=none ls /sys/class/net > /interfaces-none
                RUN ls /sys/class/net > /interfaces-default
                """,
            "payload.txt": "from a tar on stdin\n",
        ])
        // A tar of the context on stdin, the Dockerfile named inside it with -f.
        let tar = berth.base + "/ctx.tar"
        try #require(try sh(["/bin/tar", "-C", context, "-cf", tar, "."]).status == 0)
        let iid = berth.base + "/iid"
        let built = try sh(["/bin/sh", "-c", "\(EngineEnv.berth) --root \(berth.root) --runroot \(berth.runRoot) build -f build/Custom.dockerfile --iidfile \(iid) -t stdin:1 - < \(tar)"])
        try #require(built.status == 0, "build: \(built.stderr)")
        let id = try String(contentsOfFile: iid, encoding: .utf8)
        #expect(id.hasPrefix("sha256:") && id.count == 71, "iidfile: \(id)")
        #expect(try berth.call("images", "-q", "--no-trunc", "stdin:1").trimmingCharacters(in: .whitespacesAndNewlines) == id)
        #expect(try berth.call("run", "--rm", "stdin:1", "cat", "/payload.txt") == "from a tar on stdin\n")
        // --network=none: only lo. The default: a namespace of its own on the default bridge (BuildNetworkTests).
        #expect(try berth.call("run", "--rm", "stdin:1", "cat", "/interfaces-none") == "lo\n")
        #expect(try berth.call("run", "--rm", "stdin:1", "cat", "/interfaces-default") == "eth0\nlo\n")
        // -q prints the ID alone on stdout; --output type=docker writes what `save` writes.
        let archive = berth.base + "/docker.tar"
        let quiet = try berth.callAnyway(["build", "-q", "-f", context + "/build/Custom.dockerfile", "--output", "type=docker,dest=\(archive)", context])
        #expect(quiet.status == 0 && quiet.stdout == id + "\n", "\(quiet.stdout) \(quiet.stderr)")
        let listing = try sh(["/bin/tar", "-tf", archive])
        #expect(listing.stdout.contains("manifest.json"), "\(listing.stdout)")
    }

    /// ADD of a URL, from a server on 127.0.0.1: fetched, named after the URL, mode 0600, not unpacked;
    /// a changed file behind the same URL misses the cache.
    @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/python3")))
    func addOfAURLFetchesIt() throws {
        let berth = try BerthEngine()
        defer { berth.remove() }
        let served = berth.base + "/served"
        try FileManager.default.createDirectory(atPath: served, withIntermediateDirectories: true)
        try "remote one\n".write(toFile: served + "/notes.txt", atomically: true, encoding: .utf8)
        let port = Int.random(in: 20000...40000)
        let server = Process()
        server.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
        server.arguments = ["-m", "http.server", String(port), "--bind", "127.0.0.1", "--directory", served]
        server.standardOutput = FileHandle.nullDevice
        server.standardError = FileHandle.nullDevice
        try server.run()
        // SIGKILL: the server inherits the test runner's blocked signals, SIGTERM among them.
        defer { kill(server.processIdentifier, SIGKILL); server.waitUntilExit() }
        for _ in 0..<50 {
            if try sh(["/usr/bin/curl", "-sf", "-o", "/dev/null", "http://127.0.0.1:\(port)/notes.txt"]).status == 0 { break }
            usleep(100_000)
        }
        let context = try makeContext(berth, [
            "Dockerfile": "FROM busybox:test\nADD http://127.0.0.1:\(port)/notes.txt /srv/\n",
        ])
        let built = try build(berth, context, ["-t", "url:1"])
        try #require(built.status == 0, "build: \(built.stderr)")
        #expect(try berth.call("run", "--rm", "url:1", "cat", "/srv/notes.txt") == "remote one\n")
        #expect(try berth.call("run", "--rm", "url:1", "stat", "-c", "%a %u", "/srv/notes.txt") == "600 0\n")
        try "remote two\n".write(toFile: served + "/notes.txt", atomically: true, encoding: .utf8)
        let again = try build(berth, context, ["-t", "url:2"])
        try #require(again.status == 0, "build: \(again.stderr)")
        #expect(!again.stderr.contains("CACHED"), "\(again.stderr)")
        #expect(try berth.call("run", "--rm", "url:2", "cat", "/srv/notes.txt") == "remote two\n")
        // A URL that answers 404 fails the build with the status.
        let missing = try makeContext(berth, ["Dockerfile": "FROM busybox:test\nADD http://127.0.0.1:\(port)/absent /x\n"])
        let failed = try build(berth, missing, [])
        #expect(failed.status == 1 && failed.stderr.contains("404"), "\(failed.stderr)")
    }

    @Test func dockerignoreWithExceptionsDecidesWhatIsCopied() throws {
        let berth = try BerthEngine()
        defer { berth.remove() }
        let context = try makeContext(berth, [
            "Dockerfile": "FROM busybox:test\nCOPY . /ctx/\n",
            ".dockerignore": "**/*.log\n!keep.log\nsecret/\n",
            "a.txt": "a", "b.log": "b", "keep.log": "k", "sub/deep/c.log": "c", "sub/d.txt": "d", "secret/key": "s",
        ])
        let built = try build(berth, context, ["-t", "ignore:1"])
        try #require(built.status == 0, "build: \(built.stderr)")
        let listing = try berth.call("run", "--rm", "ignore:1", "find", "/ctx", "-type", "f")
        let files = Set(listing.split(separator: "\n").map(String.init))
        #expect(files == ["/ctx/Dockerfile", "/ctx/.dockerignore", "/ctx/a.txt", "/ctx/keep.log", "/ctx/sub/d.txt"])
    }

    @Test func deletionsAreWhiteoutsAndAReplacedDirectoryIsOpaque() throws {
        let berth = try BerthEngine()
        defer { berth.remove() }
        let context = try makeContext(berth, [
            "Dockerfile": """
                FROM busybox:test
                RUN mkdir -p /data/old && echo x > /data/old/file && echo y > /data/keep
                RUN rm /data/keep && rm -rf /data/old && mkdir /data/old && echo new > /data/old/only
                """,
        ])
        let built = try build(berth, context, ["-t", "wh:1"])
        try #require(built.status == 0, "build: \(built.stderr)")
        #expect(try berth.call("run", "--rm", "wh:1", "find", "/data") == "/data\n/data/old\n/data/old/only\n")
        // The last layer as a tar carries Docker's markers.
        let archive = berth.base + "/wh.tar"
        try berth.call("save", "-o", archive, "wh:1")
        let listed = try sh(["/bin/sh", "-c", "mkdir -p \(berth.base)/wh && tar -C \(berth.base)/wh -xf \(archive) && "
            + "for l in $(find \(berth.base)/wh -type f | sort); do tar -tzf $l 2>/dev/null || tar -tf $l 2>/dev/null; done"])
        #expect(listed.stdout.contains("data/.wh.keep"), "\(listed.stdout)")
        #expect(listed.stdout.contains("data/old/.wh..wh..opq"), "\(listed.stdout)")
    }

    @Test func configInstructionsReachTheImageAndRun() throws {
        let berth = try BerthEngine()
        defer { berth.remove() }
        let context = try makeContext(berth, [
            "Dockerfile": """
                FROM busybox:test
                ARG GREETING=hi
                ENV APP_HOME=/app MODE=$GREETING
                LABEL org.example.name="demo app" version=1
                WORKDIR $APP_HOME
                COPY --chown=1000:1000 --chmod=0640 owned.txt ./
                RUN adduser -D -u 1001 builder 2>/dev/null || echo 'builder:x:1001:1001::/home/builder:/bin/sh' >> /etc/passwd
                USER 1001
                RUN touch /tmp/made-by-user && id -u > /tmp/uid
                EXPOSE 8080/tcp 53/udp
                HEALTHCHECK --interval=5s --timeout=2s --retries=4 CMD ["true"]
                STOPSIGNAL SIGINT
                ENTRYPOINT ["sh", "-c"]
                CMD ["echo $MODE $(pwd)"]
                """,
            "owned.txt": "owned\n",
        ])
        let built = try build(berth, context, ["-t", "conf:1", "--build-arg", "GREETING=hello", "--label", "extra=yes"])
        try #require(built.status == 0, "build: \(built.stderr)")
        func field(_ format: String) throws -> String {
            try berth.call("image", "inspect", "--format", format, "conf:1").trimmingCharacters(in: .whitespacesAndNewlines)
        }
        #expect(try field("{{.Config.WorkingDir}}") == "/app")
        #expect(try field("{{.Config.User}}") == "1001")
        #expect(try field("{{json .Config.Entrypoint}}") == "[\"sh\",\"-c\"]")
        #expect(try field("{{json .Config.ExposedPorts}}") == "{\"53/udp\":{},\"8080/tcp\":{}}")
        #expect(try field("{{index .Config.Labels \"org.example.name\"}}") == "demo app")
        #expect(try field("{{index .Config.Labels \"extra\"}}") == "yes")
        #expect(try field("{{.Config.StopSignal}}") == "SIGINT")
        #expect(try field("{{json .Config.Healthcheck.Test}}") == "[\"CMD\",\"true\"]")
        #expect(try field("{{.Config.Healthcheck.Retries}}") == "4")
        #expect(try field("{{json .Config.Env}}").contains("\"MODE=hello\""))
        #expect(try berth.call("run", "--rm", "conf:1") == "hello /app\n")
        #expect(try berth.call("run", "--rm", "--entrypoint", "stat", "conf:1", "-c", "%u:%g %a", "/app/owned.txt") == "1000:1000 640\n")
        #expect(try berth.call("run", "--rm", "--entrypoint", "stat", "conf:1", "-c", "%u", "/tmp/made-by-user") == "1001\n")
    }

    @Test func heredocsForRunAndCopy() throws {
        let berth = try BerthEngine()
        defer { berth.remove() }
        let context = try makeContext(berth, [
            "Dockerfile": """
                FROM busybox:test
                ARG NAME=world
                RUN <<EOF
                echo "line one" > /script-out
                echo "line two" >> /script-out
                EOF
                COPY <<EOT /etc/greeting
                hello $NAME
                EOT
                """,
        ])
        let built = try build(berth, context, ["-t", "here:1"])
        try #require(built.status == 0, "build: \(built.stderr)")
        #expect(try berth.call("run", "--rm", "here:1", "cat", "/script-out") == "line one\nline two\n")
        #expect(try berth.call("run", "--rm", "here:1", "cat", "/etc/greeting") == "hello world\n")
    }

    @Test func cacheMountsPersistAcrossBuilds() throws {
        let berth = try BerthEngine()
        defer { berth.remove() }
        let context = try makeContext(berth, [
            "Dockerfile": """
                FROM busybox:test
                ARG RUNID
                RUN --mount=type=cache,target=/cache echo $RUNID >> /cache/log && cat /cache/log > /seen
                RUN --mount=type=bind,source=data.txt,target=/mnt/data.txt cat /mnt/data.txt > /from-bind
                RUN --mount=type=tmpfs,target=/scratch touch /scratch/x && ls /scratch > /from-tmpfs
                COPY --from=busybox:test /etc/passwd /passwd-from-image
                """,
            "data.txt": "bound\n",
        ])
        try #require(try build(berth, context, ["-t", "cm:1", "--build-arg", "RUNID=a"]).status == 0)
        let second = try build(berth, context, ["-t", "cm:2", "--build-arg", "RUNID=b"])
        try #require(second.status == 0, "\(second.stderr)")
        #expect(try berth.call("run", "--rm", "cm:2", "cat", "/seen") == "a\nb\n")
        // The mount points are not part of the layers.
        #expect(try berth.callAnyway(["run", "--rm", "cm:2", "ls", "-d", "/cache"]).status != 0)
        #expect(try berth.callAnyway(["run", "--rm", "cm:2", "ls", "-d", "/scratch"]).status != 0)
        #expect(try berth.callAnyway(["run", "--rm", "cm:2", "ls", "/mnt/data.txt"]).status != 0)
        #expect(try berth.call("run", "--rm", "cm:2", "cat", "/from-bind") == "bound\n")
        #expect(try berth.call("run", "--rm", "cm:2", "cat", "/from-tmpfs") == "x\n")
        // COPY --from an image (not a stage).
        #expect(try berth.call("run", "--rm", "cm:2", "head", "-c", "5", "/passwd-from-image") == "root:")
    }

    @Test func errorsNameTheLineAndLeaveImagesAlone() throws {
        let berth = try BerthEngine()
        defer { berth.remove() }
        let good = try makeContext(berth, ["Dockerfile": "FROM busybox:test\nRUN echo ok > /ok\n"])
        try #require(try build(berth, good, ["-t", "keep:1"]).status == 0)
        let before = try berth.call("images", "-q", "--no-trunc", "keep:1")

        let syntax = try makeContext(berth, ["Dockerfile": "FROM busybox:test\nRUN echo fine\nCOPY\n"])
        let bad = try build(berth, syntax, ["-t", "keep:1"])
        #expect(bad.status == 1)
        #expect(bad.stderr.contains("Dockerfile:3"), "\(bad.stderr)")
        #expect(bad.stderr.contains("COPY"), "\(bad.stderr)")

        let failing = try makeContext(berth, ["Dockerfile": "FROM busybox:test\nRUN echo partial > /p\nRUN exit 3\n"])
        let failed = try build(berth, failing, ["-t", "keep:1"])
        #expect(failed.status == 1)
        #expect(failed.stderr.contains("did not complete successfully: exit code: 3"), "\(failed.stderr)")

        let missing = try makeContext(berth, ["Dockerfile": "FROM busybox:test\nCOPY nothere /x\n"])
        let notFound = try build(berth, missing, ["-t", "keep:1"])
        #expect(notFound.status == 1 && notFound.stderr.contains("\"/nothere\": not found"), "\(notFound.stderr)")

        #expect(try berth.call("images", "-q", "--no-trunc", "keep:1") == before, "the tag still names the good image")
        #expect(try berth.call("run", "--rm", "keep:1", "cat", "/ok") == "ok\n")
        // Nothing of the failed steps is left mounted.
        #expect(berth.mounts.isEmpty, "\(berth.mounts)")
    }

    @Test(.enabled(if: EngineEnv.hasPodman && FileManager.default.isExecutableFile(atPath: "/usr/bin/skopeo")))
    func builtImagesAreValidForSkopeoAndRunUnderPodman() throws {
        let berth = try BerthEngine()
        defer { berth.remove() }
        let context = try makeContext(berth, [
            "Dockerfile": "FROM busybox:test\nRUN echo built-by-berth > /msg\nCMD [\"cat\", \"/msg\"]\n",
        ])
        let archive = berth.base + "/out.tar"
        let built = try build(berth, context, ["-t", "peer:1", "--output", "type=oci,dest=\(archive)"])
        try #require(built.status == 0, "build: \(built.stderr)")
        let inspected = try sh(["/usr/bin/skopeo", "inspect", "oci-archive:\(archive)"])
        #expect(inspected.status == 0, "skopeo: \(inspected.stderr)")
        let podman = try PodmanPeer()
        defer { podman.remove() }
        let pulled = try podman.callAnyway(["pull", "-q", "oci-archive:\(archive)"])
        try #require(pulled.status == 0, "podman pull: \(pulled.stderr)")
        let ran = try podman.run(["--rm", pulled.stdout.trimmingCharacters(in: .whitespacesAndNewlines)])
        #expect(ran.status == 0 && ran.stdout == "built-by-berth\n", "podman run: \(ran.stderr)")
    }
}

/// The corpus of Tests/Scripts/build/corpus built by berth, buildah and Docker's legacy builder
/// (Tests/Scripts/build/compare.sh): every case must build with berth and meet its `expect` lines, and
/// where Docker's legacy builder builds it, berth's image must be the same (files, modes, owners,
/// contents, and the config fields people compare). buildah's differences from Docker are in
/// Tests/Scripts/build/corpus/README.md.
@Suite(.enabled(if: EngineEnv.ready && FileManager.default.isExecutableFile(atPath: "/usr/bin/buildah")
                && FileManager.default.isExecutableFile(atPath: "/usr/sbin/dockerd")
                && FileManager.default.isExecutableFile(atPath: "/usr/bin/skopeo"), "needs buildah, dockerd and skopeo"))
struct BuildCorpusTests {
    @Test(.timeLimit(.minutes(20)))
    func corpusMatchesDockersLegacyBuilder() throws {
        let work = EngineEnv.scratch("corpus")
        defer { try? FileManager.default.removeItem(atPath: work) }
        let script = EngineEnv.packageRoot + "/Tests/Scripts/build/compare.sh"
        let result = try sh(["/bin/bash", script], environment: ProcessInfo.processInfo.environment.merging([
            "BERTH": EngineEnv.berth, "WORKDIR": work, "ENGINES": "buildah docker berth",
        ]) { $1 })
        try #require(result.status == 0, "compare.sh: \(result.stderr.suffix(3000))")
        let lines = result.stdout.split(separator: "\n").map(String.init)
        let headerIndex = try #require(lines.firstIndex { $0.hasPrefix("case ") }, "no table in: \(result.stdout)")
        let header = lines[headerIndex].split(separator: " ").map(String.init)
        var cases = 0
        for line in lines[(headerIndex + 1)...] {
            let cells = line.split(separator: " ").map(String.init)
            guard cells.count >= header.count - 1, !line.hasPrefix("built:"), !line.isEmpty else { break }
            // "2 lines" takes two cells: rejoin the comparison columns.
            var row: [String: String] = [:]
            var index = 0
            for (position, name) in header.enumerated() {
                guard index < cells.count else { break }
                if position >= 4, index + 1 < cells.count, cells[index + 1] == "lines" {
                    row[name] = cells[index] + " lines"
                    index += 2
                } else {
                    row[name] = cells[index]
                    index += 1
                }
            }
            cases += 1
            let name = row["case"] ?? "?"
            #expect(row["berth"] == "built", "\(name): berth \(row["berth"] ?? "?") (logs under \(work))")
            if row["docker"] == "built" {
                #expect(row["berth=docker"] == "same", "\(name): berth and Docker's legacy builder differ: \(row["berth=docker"] ?? "?")")
            }
        }
        #expect(cases >= 8, "\(result.stdout)")
    }
}
