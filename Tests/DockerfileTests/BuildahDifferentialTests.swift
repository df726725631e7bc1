import Dockerfile
import Foundation
import Testing

/// The same small Dockerfiles (FROM scratch, local files only, no network) built by buildah and
/// interpreted by us; the image configs must agree. Left out where buildah 1.28 is not Docker:
/// EXPOSE ranges (Docker expands `9000-9001` into two ports, buildah keeps one key) and SHELL before a
/// shell-form ENTRYPOINT/CMD (Docker uses the SHELL, buildah still uses /bin/sh -c).
let buildahPath = ["/usr/bin/buildah", "/usr/local/bin/buildah"].first { FileManager.default.isExecutableFile(atPath: $0) }

@Suite(.enabled(if: buildahPath != nil && getuid() == 0, "buildah (as root) is not available"), .serialized)
struct BuildahDifferentialTests {
    static let dockerfiles = [
        """
        ARG GREETING=hi
        FROM scratch
        ARG GREETING
        ENV A=1 B="two words" C=${GREETING:-none}
        ENV D $A-$B
        LABEL "com.x"="a b" v=${GREETING} w='$A'
        WORKDIR /app
        WORKDIR sub/../other
        USER 1000:1000
        EXPOSE 80 53/udp 8080/tcp
        COPY hello.txt /hello.txt
        HEALTHCHECK --interval=30s --timeout=2s --start-period=1m --retries=4 CMD ["/bin/check"]
        STOPSIGNAL SIGINT
        CMD echo $A
        ENTRYPOINT ["/entry"]
        """,
        """
        FROM scratch AS first
        ENV X=first
        FROM scratch
        ARG V=default
        ENV P=${V}-${UNSET:-fallback} Q=\\$V R="${V:+set}"
        LABEL a=1
        LABEL a=2 b="x\\"y"
        ENTRYPOINT exec app
        HEALTHCHECK CMD probe --quick
        COPY --from=first / /
        WORKDIR rel
        """,
    ]

    func shell(_ args: [String]) throws -> String {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: args[0])
        p.arguments = Array(args.dropFirst())
        let out = Pipe()
        p.standardOutput = out
        p.standardError = FileHandle.nullDevice
        try p.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        guard p.terminationStatus == 0 else { throw DockerfileError("\(args) failed") }
        return String(decoding: data, as: UTF8.self)
    }

    @Test(arguments: dockerfiles.indices)
    func configMatchesBuildah(index: Int) throws {
        guard let buildah = buildahPath else { return }
        let text = Self.dockerfiles[index]
        let dir = NSTemporaryDirectory() + "berth-df-\(getpid())-\(index)"
        try FileManager.default.createDirectory(atPath: dir + "/ctx", withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try text.write(toFile: dir + "/ctx/Dockerfile", atomically: true, encoding: .utf8)
        try "hello\n".write(toFile: dir + "/ctx/hello.txt", atomically: true, encoding: .utf8)
        let store = ["--root", dir + "/root", "--runroot", dir + "/run", "--storage-driver", "vfs"]
        _ = try shell([buildah] + store + ["bud", "--format", "docker", "-t", "dftest", dir + "/ctx"])
        let json = try shell([buildah] + store + ["inspect", "--type", "image", "dftest"])
        let root = try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any]
        let docker = (root?["Docker"] as? [String: Any])?["config"] as? [String: Any] ?? [:]

        // Ours: the last stage, from scratch with the default PATH both builders give scratch.
        let plan = try BuildPlan(try Dockerfile(parsing: text))
        var scope = plan.scope(baseEnv: ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"])
        var config = ImageConfigState()
        config.env = scope.configEnv
        for line in plan.stages[plan.target].instructions {
            let instruction = try line.expanded(with: scope.expander)
            try config.apply(instruction, scope: &scope)
        }

        #expect(docker["Env"] as? [String] == config.env)
        var labels = docker["Labels"] as? [String: String] ?? [:]
        labels.removeValue(forKey: "io.buildah.version")
        #expect(labels == config.labels)
        // buildah writes `[]` where Docker writes null; both mean "none".
        func none(_ v: Any?) -> [String]? { (v as? [String]).flatMap { $0.isEmpty ? nil : $0 } }
        #expect(none(docker["Cmd"]) == config.cmd)
        #expect(none(docker["Entrypoint"]) == config.entrypoint)
        #expect((docker["WorkingDir"] as? String ?? "") == config.workingDir)
        #expect((docker["User"] as? String ?? "") == config.user)
        #expect(Set((docker["ExposedPorts"] as? [String: Any] ?? [:]).keys) == config.exposedPorts)
        #expect(docker["StopSignal"] as? String == config.stopSignal)
        let health = docker["Healthcheck"] as? [String: Any]
        #expect(health?["Test"] as? [String] == config.healthcheck?.test)
        #expect((health?["Interval"] as? NSNumber)?.int64Value ?? 0 == config.healthcheck?.interval ?? 0)
        #expect((health?["Timeout"] as? NSNumber)?.int64Value ?? 0 == config.healthcheck?.timeout ?? 0)
        #expect((health?["StartPeriod"] as? NSNumber)?.int64Value ?? 0 == config.healthcheck?.startPeriod ?? 0)
        #expect((health?["Retries"] as? NSNumber)?.intValue ?? 0 == config.healthcheck?.retries ?? 0)
    }
}
