import Dockerfile
import Testing

@Suite struct ArgScopeTests {
    static let text = """
        ARG BASE=alpine
        ARG VERSION=3.19
        ARG ONLY_GLOBAL=g
        FROM ${BASE}:${VERSION} AS build
        ARG VERSION
        ARG LOCAL=l-$VERSION
        ENV FROM_ENV=$ONLY_GLOBAL
        RUN true
        FROM --platform=$BUILDPLATFORM scratch AS final
        ARG TARGETARCH
        ARG HTTP_PROXY
        ENV LOCAL=env-wins
        ARG LOCAL=arg-loses
        COPY --from=build /out /out
        """

    /// Runs the config side of a stage to see what each instruction expands to.
    func run(_ plan: BuildPlan, stage: Int) throws -> (StageScope, ImageConfigState) {
        var scope = plan.scope()
        var config = ImageConfigState()
        for line in plan.stages[stage].instructions {
            let instruction: Instruction
            if case .arg = line.instruction { instruction = line.instruction } else { instruction = try line.expanded(with: scope.expander) }
            try config.apply(instruction, scope: &scope)
        }
        return (scope, config)
    }

    @Test func globalArgsReachFromOnlyAndRedeclarationBringsThemIn() throws {
        let plan = try BuildPlan(try Dockerfile(parsing: Self.text), buildArgs: ["VERSION": "3.20", "UNUSED": "1"],
                                 targetPlatform: Platform(architecture: "arm64", variant: "v8"),
                                 buildPlatform: Platform(architecture: "amd64"))
        #expect(plan.stages[0].baseName == "alpine:3.20")
        #expect(plan.stages[0].base == .image("alpine:3.20"))
        #expect(plan.stages[1].platform == "linux/amd64")
        #expect(plan.stages[1].base == .scratch)
        #expect(plan.unusedBuildArgs == ["UNUSED"])
        let (scope0, config0) = try run(plan, stage: 0)
        #expect(scope0.expansionEnvironment["VERSION"] == "3.20")
        #expect(scope0.expansionEnvironment["LOCAL"] == "l-3.20")
        // ONLY_GLOBAL was not redeclared in the stage: it expands to nothing there.
        #expect(config0.env == ["FROM_ENV="])
        #expect(scope0.runEnvironment.contains("LOCAL=l-3.20"))
        #expect(!config0.env.contains { $0.hasPrefix("LOCAL") }, "ARG values are not in the image config")

        let (scope1, config1) = try run(plan, stage: 1)
        #expect(scope1.expansionEnvironment["TARGETARCH"] == "arm64")
        #expect(scope1.expansionEnvironment["TARGETPLATFORM"] == nil, "automatic args need ARG inside a stage")
        #expect(scope1.expansionEnvironment["LOCAL"] == "env-wins")
        #expect(config1.env == ["LOCAL=env-wins"])
    }

    @Test func predefinedProxyArgsReachRunWithoutDeclaration() throws {
        let plan = try BuildPlan(try Dockerfile(parsing: "FROM scratch\nRUN true\n"), buildArgs: ["https_proxy": "http://p:3128"])
        let scope = plan.scope(baseEnv: ["PATH=/bin"])
        #expect(scope.runEnvironment == ["PATH=/bin", "https_proxy=http://p:3128"])
        #expect(scope.expansionEnvironment["https_proxy"] == nil)
        #expect(plan.unusedBuildArgs.isEmpty)
    }

    @Test func buildArgOverridesDefaultAndGlobal() throws {
        let text = "ARG V=global\nFROM scratch\nARG V\nARG W=$V-w\nFROM scratch\nARG V=stage\n"
        let plan = try BuildPlan(try Dockerfile(parsing: text))
        var s0 = plan.scope()
        for l in plan.stages[0].instructions { if case .arg(let d) = l.instruction { for x in d { try s0.declare(x) } } }
        #expect(s0.expansionEnvironment == ["V": "global", "W": "global-w"])
        var s1 = plan.scope()
        for l in plan.stages[1].instructions { if case .arg(let d) = l.instruction { for x in d { try s1.declare(x) } } }
        #expect(s1.expansionEnvironment == ["V": "stage"])
        let given = try BuildPlan(try Dockerfile(parsing: text), buildArgs: ["V": "cli"])
        var s2 = given.scope()
        for l in given.stages[1].instructions { if case .arg(let d) = l.instruction { for x in d { try s2.declare(x) } } }
        #expect(s2.expansionEnvironment == ["V": "cli"])
    }

    @Test func undeclaredBuildArgIsNotUsableInFrom() throws {
        let plan = try BuildPlan(try Dockerfile(parsing: "FROM img:${TAG:-latest}\n"), buildArgs: ["TAG": "1"])
        #expect(plan.stages[0].baseName == "img:latest")
        #expect(plan.unusedBuildArgs == ["TAG"])
    }

    @Test func blankBaseIsAnError() {
        #expect(throws: DockerfileError(file: "Dockerfile", line: 2, instruction: "FROM", "base name (${NOPE}) should not be blank")) {
            try BuildPlan(try Dockerfile(parsing: "ARG NOPE\nFROM ${NOPE}\n"))
        }
    }
}

@Suite struct StageGraphTests {
    static let text = """
        FROM alpine AS base
        RUN true
        FROM base AS deps
        RUN true
        FROM golang AS tools
        RUN true
        FROM scratch AS unused
        COPY --from=tools /x /x
        FROM deps AS build
        ARG SRC=tools
        RUN --mount=type=bind,from=$SRC,target=/t --mount=type=cache,target=/c true
        COPY --from=0 /a /a
        COPY --from=busybox:musl /bin/busybox /bin/
        FROM scratch
        COPY --from=BUILD /out /out
        """

    @Test func dependenciesAndPruning() throws {
        let plan = try BuildPlan(try Dockerfile(parsing: Self.text))
        #expect(plan.stages.map(\.name) == ["base", "deps", "tools", "unused", "build", nil])
        #expect(plan.stages[1].base == .stage(0))
        #expect(plan.stages[4].dependencies == [0, 1, 2])
        #expect(plan.stages[4].imageReferences == ["busybox:musl"])
        #expect(plan.stages[5].dependencies == [4])
        #expect(plan.target == 5)
        #expect(plan.required == [0, 1, 2, 4, 5], "the unused stage is skipped")
    }

    @Test func targetSelectsAStage() throws {
        let plan = try BuildPlan(try Dockerfile(parsing: Self.text), target: "Deps")
        #expect(plan.target == 1)
        #expect(plan.required == [0, 1])
        #expect(throws: DockerfileError(file: "Dockerfile", "target stage \"nope\" could not be found")) {
            try BuildPlan(try Dockerfile(parsing: Self.text), target: "nope")
        }
    }

    @Test func badReferences() {
        #expect(throws: DockerfileError(file: "Dockerfile", line: 2, instruction: "COPY", "circular dependency detected on stage: a")) {
            try BuildPlan(try Dockerfile(parsing: "FROM scratch AS a\nCOPY --from=a x y\n"))
        }
        #expect(throws: DockerfileError(file: "Dockerfile", line: 2, instruction: "COPY", "invalid from flag value 0: refers to current build stage")) {
            try BuildPlan(try Dockerfile(parsing: "FROM scratch\nCOPY --from=0 x y\n"))
        }
        #expect(throws: DockerfileError(file: "Dockerfile", line: 2, instruction: "FROM", "duplicate stage name \"a\"")) {
            try BuildPlan(try Dockerfile(parsing: "FROM scratch AS a\nFROM scratch AS A\n"))
        }
    }

    @Test func configSemantics() throws {
        let text = """
            FROM scratch
            WORKDIR /a
            WORKDIR b/../c
            SHELL ["/bin/bash", "-c"]
            CMD echo hi
            ENTRYPOINT ["/init"]
            EXPOSE 80 53/UDP 9000-9001
            LABEL a=1 b=2
            LABEL a=3
            ENV X=1 Y=2
            ENV X=3
            ONBUILD RUN make
            """
        let plan = try BuildPlan(try Dockerfile(parsing: text))
        var scope = plan.scope()
        var config = ImageConfigState()
        config.cmd = ["from-base"]
        for line in plan.stages[0].instructions { try config.apply(try line.expanded(with: scope.expander), scope: &scope) }
        #expect(config.workingDir == "/a/c")
        #expect(config.cmd == ["/bin/bash", "-c", "echo hi"], "CMD set in this stage survives ENTRYPOINT")
        #expect(config.entrypoint == ["/init"])
        #expect(config.exposedPorts == ["80/tcp", "53/udp", "9000/tcp", "9001/tcp"])
        #expect(config.labels == ["a": "3", "b": "2"])
        #expect(config.env == ["X=3", "Y=2"])
        #expect(config.onBuild == ["RUN make"])

        var inherited = ImageConfigState()
        inherited.cmd = ["from-base"]
        var s = plan.scope()
        try inherited.apply(.entrypoint(.exec(["/x"])), scope: &s)
        #expect(inherited.cmd == nil, "a new ENTRYPOINT drops the inherited CMD")
    }
}
