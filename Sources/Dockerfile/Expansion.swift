/// Variable substitution as the builder applies it when it reaches an instruction.

/// The lexer plus the environment it substitutes from (the stage's ENV and ARG values at that point).
public struct Expander: Sendable {
    public var lexer: ShellLexer
    public var environment: [String: String]

    public init(escape: Unicode.Scalar = "\\", environment: [String: String]) {
        self.lexer = ShellLexer(escape: escape)
        self.environment = environment
    }

    /// A word of ADD COPY ENV EXPOSE LABEL STOPSIGNAL USER VOLUME WORKDIR, an ARG default, a flag value.
    public func word(_ s: String) throws(DockerfileError) -> String {
        try lexer.processWord(s, environment: environment)
    }

    /// A heredoc body for COPY/ADD: `$VAR` substituted, quotes left alone (they belong to the file),
    /// and always with `\` as the escape character, whatever the Dockerfile's escape directive.
    public func heredocBody(_ s: String) throws(DockerfileError) -> String {
        var raw = ShellLexer(escape: "\\")
        raw.skipProcessQuotes = true
        return try raw.processWord(s, environment: environment)
    }
}

extension Instruction {
    /// The instruction with Docker's substitution applied to the parts Docker substitutes:
    /// ADD/COPY (sources, destination, --from, --chown, --chmod, --exclude, --checksum, unquoted heredoc
    /// bodies), ENV and LABEL (keys and values), EXPOSE, STOPSIGNAL, USER, VOLUME, WORKDIR and the
    /// values of RUN --mount. RUN, CMD, ENTRYPOINT, SHELL, HEALTHCHECK are left to the shell; ONBUILD
    /// is expanded when the trigger runs in the child build; ARG defaults are expanded by `StageScope`
    /// and FROM by `BuildPlan` (with the global scope, not the stage's).
    public func expanded(with e: Expander) throws(DockerfileError) -> Instruction {
        func words(_ list: [String]) throws(DockerfileError) -> [String] {
            var out: [String] = []
            for w in list { out.append(try e.word(w)) }
            return out
        }
        func optional(_ s: String?) throws(DockerfileError) -> String? {
            guard let s else { return nil }
            return try e.word(s)
        }
        func pairs(_ list: [KeyValue]) throws(DockerfileError) -> [KeyValue] {
            var out: [KeyValue] = []
            for kv in list { out.append(KeyValue(try e.word(kv.key), try e.word(kv.value))) }
            return out
        }
        func copy(_ c: CopyInstruction) throws(DockerfileError) -> CopyInstruction {
            var c = c
            var sources: [CopySource] = []
            for s in c.sources {
                switch s {
                case .path(let p): sources.append(.path(try e.word(p)))
                case .heredoc(var doc):
                    if doc.expand {
                        doc.rawContent = try e.heredocBody(doc.rawContent)
                    }
                    sources.append(.heredoc(doc))
                }
            }
            c.sources = sources
            c.destination = try e.word(c.destination)
            c.from = try optional(c.from)
            c.chown = try optional(c.chown)
            c.chmod = try optional(c.chmod)
            c.checksum = try optional(c.checksum)
            c.exclude = try words(c.exclude)
            return c
        }
        switch self {
        case .copy(let c): return .copy(try copy(c))
        case .add(let c): return .add(try copy(c))
        case .env(let kv): return .env(try pairs(kv))
        case .label(let kv): return .label(try pairs(kv))
        case .expose(let ports): return .expose(try words(ports))
        case .stopSignal(let s): return .stopSignal(try e.word(s))
        case .user(let s): return .user(try e.word(s))
        case .workdir(let s): return .workdir(try e.word(s))
        case .volume(let v): return .volume(try words(v))
        case .run(var run):
            var mounts: [RunMount] = []
            for spec in run.mountSpecs {
                // Each field value is expanded on its own, then the mount is parsed again.
                let fields = try parseCSVRecord(spec)
                var expanded: [String] = []
                for f in fields {
                    if let eq = f.firstIndex(of: "=") {
                        expanded.append(String(f[...eq]) + (try e.word(String(f[f.index(after: eq)...]))))
                    } else {
                        expanded.append(f)
                    }
                }
                mounts.append(try RunMount.parse(csvJoin(expanded)))
            }
            run.mounts = mounts
            return .run(run)
        default:
            return self
        }
    }
}

func csvJoin(_ fields: [String]) -> String {
    fields.map { f in
        f.contains(",") || f.contains("\"") ? "\"" + f.replacing("\"", with: "\"\"") + "\"" : f
    }.joined(separator: ",")
}

extension InstructionLine {
    /// `expanded(with:)` with errors placed at this instruction's line.
    public func expanded(with e: Expander, file: String = "Dockerfile") throws(DockerfileError) -> Instruction {
        do {
            return try instruction.expanded(with: e)
        } catch {
            throw error.located(file: file, line: line, instruction: keyword)
        }
    }
}
