import Dockerfile
import Testing

/// The instruction after `FROM scratch`.
func single(_ text: String) throws -> Instruction {
    let file = try Dockerfile(parsing: "FROM scratch\n" + text)
    return file.instructions[1].instruction
}

func parseError(_ text: String) -> String? {
    do {
        _ = try Dockerfile(parsing: text)
        return nil
    } catch {
        return error.description
    }
}

@Suite struct DirectiveTests {
    @Test func escapeBacktickChangesContinuationAndEscape() throws {
        let file = try Dockerfile(parsing: "# escape=`\nFROM scratch\nRUN dir c:\\ `\n  && echo hi\nENV A=x`$y\n")
        #expect(file.directives.escape == "`")
        #expect(file.instructions[1].instruction == .run(RunInstruction(command: .shell("dir c:\\   && echo hi"))))
        let env = try file.instructions[2].expanded(with: Expander(escape: "`", environment: ["y": "no"]))
        #expect(env == .env([KeyValue("A", "x$y")]))
    }

    @Test(arguments: [
        ("# syntax=docker/dockerfile:1\n# escape=`\nFROM scratch\n", "`", "docker/dockerfile:1"),
        ("#ESCAPE = `\nFROM scratch\n", "`", nil),
        ("# check=skip=all\n#escape=\\\nFROM scratch\n", "\\", nil),
        // Not at the top any more: a comment, a blank line or an unknown key ends the directives.
        ("# hello\n# escape=`\nFROM scratch\n", "\\", nil),
        ("\n# escape=`\nFROM scratch\n", "\\", nil),
        ("# foo=bar\n# escape=`\nFROM scratch\n", "\\", nil),
        ("FROM scratch\n# escape=`\n", "\\", nil),
    ] as [(String, String, String?)])
    func directivePlacement(text: String, escape: String, syntax: String?) throws {
        let file = try Dockerfile(parsing: text)
        #expect(String(Character(file.directives.escape)) == escape)
        #expect(file.directives.syntax == syntax)
    }

    @Test func directiveErrors() {
        #expect(parseError("# escape=x\nFROM scratch\n") == "Dockerfile:1: invalid escape token 'x' does not match ` or \\")
        #expect(parseError("# escape=`\n# escape=`\nFROM scratch\n") == "Dockerfile:2: only one escape parser directive can be used")
    }
}

@Suite struct LineTests {
    @Test func continuationsSkipCommentsAndBlankLines() throws {
        let file = try Dockerfile(parsing: """
            FROM scratch
            RUN echo a \\
            # a comment inside is dropped
              b \\

              c
            # trailing
            USER x
            """)
        #expect(file.instructions[1].instruction == .run(RunInstruction(command: .shell("echo a   b   c"))))
        #expect(file.instructions[1].line == 2)
        #expect(file.instructions[2].line == 8)
        #expect(file.warnings.first?.hasPrefix("[WARNING]: Empty continuation line found in:") == true)
    }

    @Test func escapedEscapeIsNotAContinuation() throws {
        let file = try Dockerfile(parsing: "FROM scratch\nRUN echo \\\\\nUSER x\n")
        #expect(file.instructions[1].instruction == .run(RunInstruction(command: .shell("echo \\\\"))))
        #expect(file.instructions.count == 3)
    }

    @Test func keywordsAreCaseInsensitiveAndCRLFWorks() throws {
        let file = try Dockerfile(parsing: "from scratch\r\nrUn echo hi\r\nEnv A=1\r\n")
        #expect(file.instructions[1].keyword == "rUn")
        #expect(file.instructions[1].instruction == .run(RunInstruction(command: .shell("echo hi"))))
        #expect(file.instructions[2].instruction == .env([KeyValue("A", "1")]))
    }

    @Test func trailingContinuationAtEndOfFile() throws {
        #expect(try single("RUN echo hi \\") == .run(RunInstruction(command: .shell("echo hi"))))
    }
}

@Suite struct JSONFormTests {
    @Test(arguments: [
        (#"CMD ["a", "b"]"#, CommandLine.exec(["a", "b"])),
        (#"CMD ["a", 'b']"#, .shell(#"["a", 'b']"#)),
        (#"CMD ["a",]"#, .shell(#"["a",]"#)),
        (#"CMD ["a"] x"#, .shell(#"["a"] x"#)),
        (#"CMD []"#, .exec([])),
        (#"CMD   [ "x\ty", "\u00e9" ]  "#, .exec(["x\ty", "é"])),
        (#"CMD echo ["a"]"#, .shell(#"echo ["a"]"#)),
        (#"CMD [a]"#, .shell("[a]")),
        (#"CMD ["/bin/sh","-c","echo \"q\""]"#, .exec(["/bin/sh", "-c", #"echo "q""#])),
    ])
    func execOrShell(line: String, expected: CommandLine) throws {
        #expect(try single(line) == .cmd(expected))
    }

    @Test func nonStringArrayIsAnError() {
        #expect(parseError("FROM scratch\nCMD [1, 2]\n") == "Dockerfile:2: when using JSON array syntax, arrays must be comprised of strings only")
    }
}

@Suite struct HeredocTests {
    @Test func runHeredoc() throws {
        guard case .run(let run) = try single("RUN <<EOF\necho $HOME\necho two\nEOF\nUSER x") else {
            Issue.record("not a RUN")
            return
        }
        #expect(run.command == .shell("<<EOF"))
        #expect(run.heredocs == [Heredoc(name: "EOF", rawContent: "echo $HOME\necho two\n")])
        #expect(run.shellScript == "<<EOF\necho $HOME\necho two\nEOF")
    }

    @Test func severalHeredocsChompAndQuotes() throws {
        let text = "RUN <<-ONE cat - /dev/fd/3 3<<'TWO'\n\t\tindented\n\tONE\n$literal\nTWO\n"
        guard case .run(let run) = try single(text) else {
            Issue.record("not a RUN")
            return
        }
        #expect(run.heredocs.count == 2)
        #expect(run.heredocs[0].name == "ONE")
        #expect(run.heredocs[0].chomp && run.heredocs[0].expand)
        #expect(run.heredocs[0].content == "indented\n")
        #expect(run.heredocs[1].name == "TWO")
        #expect(run.heredocs[1].fileDescriptor == 3)
        #expect(!run.heredocs[1].expand)
        #expect(run.heredocs[1].content == "$literal\n")
    }

    @Test func copyHeredocIsExpandedUnlessQuoted() throws {
        let file = try Dockerfile(parsing: "FROM scratch\nCOPY <<EOF <<\"RAW\" /dest/\nhello $NAME \"q\"\nEOF\nraw $NAME\nRAW\n")
        let e = Expander(environment: ["NAME": "world"])
        guard case .copy(let c) = try file.instructions[1].expanded(with: e) else {
            Issue.record("not a COPY")
            return
        }
        #expect(c.destination == "/dest/")
        #expect(c.sources == [
            .heredoc(Heredoc(name: "EOF", rawContent: "hello world \"q\"\n")),
            .heredoc(Heredoc(name: "RAW", expand: false, rawContent: "raw $NAME\n")),
        ])
    }

    @Test func heredocErrors() {
        #expect(parseError("FROM scratch\nRUN <<EOF\necho\n") == "Dockerfile:2: unterminated heredoc")
        #expect(parseError("FROM scratch\nCOPY a <<EOF\nx\nEOF\n") == "Dockerfile:2: COPY cannot accept a heredoc as a destination")
    }

    @Test func jsonRunHasNoHeredoc() throws {
        #expect(try single(#"RUN ["cat", "<<EOF"]"#) == .run(RunInstruction(command: .exec(["cat", "<<EOF"]))))
    }
}

@Suite struct InstructionFormTests {
    @Test func from() throws {
        let file = try Dockerfile(parsing: "FROM --platform=$BUILDPLATFORM alpine:3 AS Build\nFROM build as x\n")
        #expect(file.instructions[0].instruction == .from(FromInstruction(image: "alpine:3", stageName: "build", platform: "$BUILDPLATFORM")))
        #expect(file.instructions[1].instruction == .from(FromInstruction(image: "build", stageName: "x", platform: nil)))
    }

    @Test func runFlagsAndMounts() throws {
        let text = "RUN --mount=type=cache,target=/root/.cache,id=pip,sharing=locked,mode=0755,uid=1000 --mount=type=bind,from=build,src=/out,dst=/in,rw --mount=type=tmpfs,target=/tmp,size=64m --network=none --security=insecure make"
        guard case .run(let run) = try single(text) else {
            Issue.record("not a RUN")
            return
        }
        #expect(run.command == .shell("make"))
        #expect(run.network == RunNetworkMode.none)
        #expect(run.security == "insecure")
        var cache = RunMount()
        cache.type = .cache
        cache.target = "/root/.cache"
        cache.id = "pip"
        cache.sharing = .locked
        cache.mode = 0o755
        cache.uid = 1000
        cache.readOnly = false
        var bind = RunMount()
        bind.from = "build"
        bind.source = "/out"
        bind.target = "/in"
        bind.readOnly = false
        var tmp = RunMount()
        tmp.type = .tmpfs
        tmp.target = "/tmp"
        tmp.size = 64 << 20
        tmp.readOnly = false
        #expect(run.mounts == [cache, bind, tmp])
    }

    @Test(arguments: [
        ("RUN --mount=type=nfs,target=/x true", "unsupported mount type \"nfs\""),
        ("RUN --mount=type=bind,target=/x,mode=0700 true", "mode not allowed for \"bind\" type mounts"),
        ("RUN --mount=type=bind,target=/x,sharing=locked true", "invalid cache sharing set for bind mount"),
        ("RUN --mount=type=cache,target=/x,sharing=weird true", "unsupported sharing value \"weird\""),
        ("RUN --mount=type=cache,color=red true", "unexpected key 'color' in 'color=red'"),
        ("RUN --mount=type=cache,target true", "invalid field 'target' must be a key=value pair"),
        ("RUN --network=bridge true", "unsupported network mode \"bridge\""),
        ("RUN --foo=bar true", "Unknown flag: foo"),
        ("COPY --from=a --from=b x y", "Duplicate flag specified: from"),
        ("COPY --from a b", "Missing a value on flag: from"),
        ("COPY --link=maybe a b", "Expecting boolean value for flag link, not: maybe"),
        ("ADD --from=x a b", "Unknown flag: from"),
    ])
    func flagErrors(line: String, message: String) {
        #expect(parseError("FROM scratch\n" + line) == "Dockerfile:2: " + message)
    }

    @Test func copyAndAdd() throws {
        var expected = CopyInstruction(sources: [.path("a"), .path("b c")], destination: "/d/")
        expected.from = "build"
        expected.chown = "1:2"
        expected.chmod = "0644"
        expected.link = true
        expected.exclude = ["*.md"]
        expected.isJSON = true
        #expect(try single(#"COPY --from=build --chown=1:2 --chmod=0644 --link --exclude=*.md ["a", "b c", "/d/"]"#) == .copy(expected))
        var add = CopyInstruction(sources: [.path("https://x/y.tgz")], destination: "/")
        add.checksum = "sha256:abc"
        add.keepGitDir = true
        #expect(try single("ADD --checksum=sha256:abc --keep-git-dir https://x/y.tgz /") == .add(add))
        #expect(try single("COPY -- --weird /d") == .copy(CopyInstruction(sources: [.path("--weird")], destination: "/d")))
    }

    @Test(arguments: [
        ("ENV A=1 B=\"two words\" C='x y' D=\\$E", [("A", "1"), ("B", "two words"), ("C", "x y"), ("D", "$E")]),
        ("ENV LEGACY value with  spaces", [("LEGACY", "value with  spaces")]),
        ("ENV A=", [("A", "")]),
        ("ENV A=a\\ b", [("A", "a b")]),
        ("LABEL \"com.example.x\"=\"a b\" version=1.0", [("com.example.x", "a b"), ("version", "1.0")]),
        ("LABEL legacy value here", [("legacy", "value here")]),
    ])
    func keyValues(line: String, pairs: [(String, String)]) throws {
        let file = try Dockerfile(parsing: "FROM scratch\n" + line)
        let expanded = try file.instructions[1].expanded(with: Expander(environment: [:]))
        let expectedPairs = pairs.map { KeyValue($0.0, $0.1) }
        #expect(expanded == .env(expectedPairs) || expanded == .label(expectedPairs))
    }

    @Test func simpleOnes() throws {
        #expect(try single("ARG A B=2 C=\"x y\"") == .arg([ArgDeclaration("A"), ArgDeclaration("B", "2"), ArgDeclaration("C", "\"x y\"")]))
        #expect(try single("WORKDIR /app dir") == .workdir("/app dir"))
        #expect(try single("USER 1000:1000") == .user("1000:1000"))
        #expect(try single("EXPOSE 8080 53/udp 443") == .expose(["443", "53/udp", "8080"]))
        #expect(try single("ENTRYPOINT [\"/bin/app\", \"-v\"]") == .entrypoint(.exec(["/bin/app", "-v"])))
        #expect(try single("ENTRYPOINT exec app") == .entrypoint(.shell("exec app")))
        #expect(try single("VOLUME [\"/a\", \"/b\"]") == .volume(["/a", "/b"]))
        #expect(try single("VOLUME /a /b") == .volume(["/a", "/b"]))
        #expect(try single("SHELL [\"/bin/bash\", \"-eo\", \"pipefail\", \"-c\"]") == .shell(["/bin/bash", "-eo", "pipefail", "-c"]))
        #expect(try single("STOPSIGNAL SIGTERM") == .stopSignal("SIGTERM"))
        #expect(try single("MAINTAINER Jane <j@x>") == .maintainer("Jane <j@x>"))
    }

    @Test func healthchecks() throws {
        #expect(try single("HEALTHCHECK NONE") == .healthcheck(Healthcheck(test: ["NONE"])))
        var h = Healthcheck(test: ["CMD-SHELL", "curl -f http://localhost/ || exit 1"])
        h.interval = 30_000_000_000
        h.timeout = 1_500_000_000
        h.startPeriod = 90 * 60_000_000_000
        h.startInterval = 300_000_000
        h.retries = 3
        #expect(try single("HEALTHCHECK --interval=30s --timeout=1.5s --start-period=1h30m --start-interval=300ms --retries=3 CMD curl -f http://localhost/ || exit 1") == .healthcheck(h))
        #expect(try single("HEALTHCHECK cmd [\"/bin/check\"]") == .healthcheck(Healthcheck(test: ["CMD", "/bin/check"])))
    }

    @Test func onbuild() throws {
        #expect(try single("ONBUILD RUN echo hi") == .onbuild(expression: "RUN echo hi", trigger: .run(RunInstruction(command: .shell("echo hi")))))
        #expect(try single("onbuild copy --from=x a b") == .onbuild(
            expression: "copy --from=x a b",
            trigger: .copy({ var c = CopyInstruction(sources: [.path("a")], destination: "b"); c.from = "x"; return c }())))
    }

    @Test(arguments: [
        ("FROM scratch\nRUNN x", "Dockerfile:2: unknown instruction: RUNN (did you mean run?)"),
        ("FROM scratch\nFOOBAR x", "Dockerfile:2: unknown instruction: FOOBAR"),
        ("FROM a b", "Dockerfile:1: FROM requires either one or three arguments"),
        ("FROM a AS 1x", "Dockerfile:1: invalid name for build stage: \"1x\", name can't start with a number or contain symbols"),
        ("FROM scratch\n\n\nENV =x", "Dockerfile:4: ENV names can not be blank"),
        ("FROM scratch\nENV A", "Dockerfile:2: ENV must have two arguments"),
        ("FROM scratch\nENV A=1 B", "Dockerfile:2: Syntax error - can't find = in \"B\". Must be of the form: name=value"),
        ("FROM scratch\nENV", "Dockerfile:2: ENV requires at least one argument"),
        ("FROM scratch\nLABEL", "Dockerfile:2: LABEL requires at least one argument"),
        ("FROM scratch\nARG =1", "Dockerfile:2: ARG names can not be blank"),
        ("FROM scratch\nCOPY a", "Dockerfile:2: COPY requires at least two arguments, but only one was provided. Destination could not be determined"),
        ("FROM scratch\nWORKDIR", "Dockerfile:2: WORKDIR requires exactly one argument"),
        ("FROM scratch\nSHELL /bin/sh -c", "Dockerfile:2: SHELL requires the arguments to be in JSON form"),
        ("FROM scratch\nSHELL []", "Dockerfile:2: SHELL requires at least one argument"),
        ("FROM scratch\nHEALTHCHECK NONE x", "Dockerfile:2: HEALTHCHECK NONE takes no arguments"),
        ("FROM scratch\nHEALTHCHECK CMD", "Dockerfile:2: Missing command after HEALTHCHECK CMD"),
        ("FROM scratch\nHEALTHCHECK PING x", "Dockerfile:2: Unknown type \"PING\" in HEALTHCHECK (try CMD)"),
        ("FROM scratch\nHEALTHCHECK --interval=5 CMD x", "Dockerfile:2: time: missing unit in duration \"5\""),
        ("FROM scratch\nHEALTHCHECK --interval=1d CMD x", "Dockerfile:2: time: unknown unit \"d\" in duration \"1d\""),
        ("FROM scratch\nHEALTHCHECK --timeout=10us CMD x", "Dockerfile:2: Interval \"timeout\" cannot be less than 1ms"),
        ("FROM scratch\nHEALTHCHECK --retries=0 CMD x", "Dockerfile:2: --retries must be at least 1 (not 0)"),
        ("FROM scratch\nONBUILD ONBUILD RUN x", "Dockerfile:2: Chaining ONBUILD via `ONBUILD ONBUILD` isn't allowed"),
        ("FROM scratch\nONBUILD FROM x", "Dockerfile:2: FROM isn't allowed as an ONBUILD trigger"),
        ("FROM scratch\nONBUILD MAINTAINER x", "Dockerfile:2: MAINTAINER isn't allowed as an ONBUILD trigger"),
        ("FROM scratch\nVOLUME [\"\"]", "Dockerfile:2: VOLUME specified can not be an empty string"),
        ("RUN x", "Dockerfile:1: no build stage in current context"),
        ("# only a comment\n\n", "Dockerfile:2: file with no instructions"),  // BuildKit reports the last line
    ])
    func errorMessages(text: String, message: String) {
        #expect(parseError(text) == message)
    }

    @Test func expansionErrorsCarryTheLine() throws {
        let file = try Dockerfile(parsing: "FROM scratch\nENV A=1\nWORKDIR ${X:?required}\n")
        #expect(throws: DockerfileError(file: "Dockerfile", line: 3, instruction: "WORKDIR", "failed to process \"${X:?required}\": X: required")) {
            try file.instructions[2].expanded(with: Expander(environment: [:]))
        }
    }
}
