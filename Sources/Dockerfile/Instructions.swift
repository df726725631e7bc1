import GoCompat

/// The instructions as typed values. Strings are kept as written (quotes included where Docker keeps
/// them until expansion); `Instruction.expanded(with:)` applies the variable substitution the builder
/// does when it reaches the instruction.

/// RUN, CMD, ENTRYPOINT, HEALTHCHECK CMD: exec form (a JSON array, run as is) or shell form (a string
/// given to the stage's SHELL, by default `/bin/sh -c`).
public enum CommandLine: Equatable, Sendable {
    case exec([String])
    case shell(String)

    /// The argv the image config records: shell form is prefixed with the shell.
    public func argv(shell: [String] = ["/bin/sh", "-c"]) -> [String] {
        switch self {
        case .exec(let args): return args
        case .shell(let text): return shell + [text]
        }
    }
}

public struct KeyValue: Equatable, Sendable {
    public var key: String
    public var value: String
    public init(_ key: String, _ value: String) {
        self.key = key
        self.value = value
    }
}

/// `ARG name` or `ARG name=default`.
public struct ArgDeclaration: Equatable, Sendable {
    public var name: String
    /// Unexpanded; nil when the ARG gives none (it then takes a --build-arg or the global value).
    public var defaultValue: String?
    public init(_ name: String, _ defaultValue: String? = nil) {
        self.name = name
        self.defaultValue = defaultValue
    }
}

public struct FromInstruction: Equatable, Sendable {
    /// The image reference, a stage name or `scratch`; may contain `$ARG`s of the global scope.
    public var image: String
    /// `AS name`, lowercased as Docker does (stage names are case-insensitive).
    public var stageName: String?
    public var platform: String?

    public init(image: String, stageName: String? = nil, platform: String? = nil) {
        self.image = image
        self.stageName = stageName
        self.platform = platform
    }
}

/// A build step's network (`RUN --network=`, `build --network`): BuildKit's three, unlike a
/// container's (`ContainerSpec.NetworkMode`: also named networks and `container:`).
public enum RunNetworkMode: String, Equatable, Sendable {
    case `default`, none, host
}

/// `RUN --mount=...`
public struct RunMount: Equatable, Sendable {
    public enum Kind: String, Equatable, Sendable { case bind, cache, tmpfs, secret, ssh }
    public enum Sharing: String, Equatable, Sendable { case shared, `private`, locked }

    public var type: Kind = .bind
    /// `from=`: a stage name or index, or an image; bind/cache only.
    public var from: String?
    public var source: String?
    public var target: String?
    /// Docker's default: bind, secret and ssh are read-only, cache and tmpfs writable.
    public var readOnly = true
    /// Cache id; when nil BuildKit uses the target path.
    public var id: String?
    /// Cache sharing; when nil, `shared`.
    public var sharing: Sharing?
    /// File mode, octal in the Dockerfile (`mode=0755`).
    public var mode: UInt32?
    public var uid: UInt32?
    public var gid: UInt32?
    /// tmpfs size in bytes (`size=64m`).
    public var size: Int64?
    /// secret/ssh: fail when missing.
    public var required = false
    /// secret: expose as this environment variable instead of a file.
    public var env: String?
    public init() {}
}

public struct RunInstruction: Equatable, Sendable {
    public var command: CommandLine
    /// Heredocs in the shell form, in the order they appear.
    public var heredocs: [Heredoc] = []
    public var mounts: [RunMount] = []
    /// The `--mount` values as written, for re-parsing after expansion.
    public var mountSpecs: [String] = []
    public var network: RunNetworkMode?
    /// `--security=insecure|sandbox`
    public var security: String?

    public init(command: CommandLine, heredocs: [Heredoc] = []) {
        self.command = command
        self.heredocs = heredocs
    }

    /// The script a shell runs for a shell-form RUN with heredocs: the command line followed by each
    /// body and its terminator, so the shell itself feeds them (`<<-` tab stripping included).
    public var shellScript: String? {
        guard case .shell(let line) = command else { return nil }
        var script = line
        for doc in heredocs { script += "\n" + doc.rawContent + doc.name }
        return script
    }
}

public enum CopySource: Equatable, Sendable {
    case path(String)
    /// `COPY <<EOF /dest`: a file named after the delimiter, with the heredoc's content.
    case heredoc(Heredoc)
}

/// COPY and ADD (ADD also fetches URLs and unpacks local archives; the builder decides that).
public struct CopyInstruction: Equatable, Sendable {
    public var sources: [CopySource]
    public var destination: String
    public var from: String?
    public var chown: String?
    public var chmod: String?
    public var link = false
    public var exclude: [String] = []
    /// COPY --parents
    public var parents = false
    /// ADD --checksum
    public var checksum: String?
    /// ADD --keep-git-dir
    public var keepGitDir = false
    /// ADD --unpack (nil: ADD's default, unpack local archives only)
    public var unpack: Bool?
    public var isJSON = false

    public init(sources: [CopySource], destination: String) {
        self.sources = sources
        self.destination = destination
    }
}

public struct Healthcheck: Equatable, Sendable {
    /// `["NONE"]`, `["CMD", argv...]` or `["CMD-SHELL", script]`, as in the image config.
    public var test: [String]
    /// Durations in nanoseconds; 0 means "use the default" (as in Docker's config).
    public var interval: Int64 = 0
    public var timeout: Int64 = 0
    public var startPeriod: Int64 = 0
    public var startInterval: Int64 = 0
    public var retries = 0

    public init(test: [String]) { self.test = test }
}

public indirect enum Instruction: Equatable, Sendable {
    case from(FromInstruction)
    case run(RunInstruction)
    case copy(CopyInstruction)
    case add(CopyInstruction)
    case env([KeyValue])
    case arg([ArgDeclaration])
    case workdir(String)
    case user(String)
    /// Port specs as written (`80`, `53/udp`, `8000-8010`), sorted as BuildKit sorts them.
    case expose([String])
    case label([KeyValue])
    case entrypoint(CommandLine)
    case cmd(CommandLine)
    case volume([String])
    case healthcheck(Healthcheck)
    case shell([String])
    case stopSignal(String)
    /// The trigger text stored in the image for a later build, and its parse when it parses.
    case onbuild(expression: String, trigger: Instruction?)
    case maintainer(String)
}

/// An instruction with where it came from.
public struct InstructionLine: Equatable, Sendable {
    public var instruction: Instruction
    /// The keyword as written (`run`, `RUN`).
    public var keyword: String
    public var line: Int
    public var endLine: Int
    /// The logical line after continuations were joined.
    public var source: String
}

/// A parsed Dockerfile.
public struct Dockerfile: Equatable, Sendable {
    public var fileName: String
    public var directives: Directives
    public var instructions: [InstructionLine]
    /// Non-fatal findings (empty continuation lines), worded as BuildKit words them.
    public var warnings: [String]

    /// Parses and interprets every instruction; the first problem is thrown with its line.
    public init(parsing text: String, fileName: String = "Dockerfile") throws(DockerfileError) {
        let parsed = try Parser.parse(text, file: fileName)
        self.fileName = fileName
        self.directives = parsed.directives
        self.warnings = parsed.warnings
        var lines: [InstructionLine] = []
        var sawFrom = false
        for node in parsed.nodes {
            let instruction = try Instruction.interpret(node, file: fileName)
            if case .from = instruction { sawFrom = true }
            if !sawFrom {
                guard case .arg = instruction else {
                    throw DockerfileError(file: fileName, line: node.startLine, instruction: node.keyword,
                                          "no build stage in current context")
                }
            }
            lines.append(InstructionLine(instruction: instruction, keyword: node.keyword, line: node.startLine,
                                         endLine: node.endLine, source: node.original))
        }
        self.instructions = lines
    }
}

// MARK: - interpretation (BuildKit's instructions.ParseInstruction)

let allInstructionNames = [
    "ADD", "ARG", "CMD", "COPY", "ENTRYPOINT", "ENV", "EXPOSE", "FROM", "HEALTHCHECK", "LABEL",
    "MAINTAINER", "ONBUILD", "RUN", "SHELL", "STOPSIGNAL", "USER", "VOLUME", "WORKDIR",
]

/// The builder flags an instruction accepts, and their values once checked (BuildKit's BFlags).
struct Flags {
    enum Kind { case bool, string, strings }
    var declared: [String: Kind] = [:]
    var bools: [String: Bool] = [:]
    var strings: [String: String] = [:]
    var lists: [String: [String]] = [:]

    init(_ decl: [(String, Kind)]) {
        for (name, kind) in decl { declared[name] = kind }
    }

    mutating func parse(_ args: [String]) throws(DockerfileError) {
        var used: Set<String> = []
        for arg in args {
            guard arg.hasPrefix("--") else { throw DockerfileError("Arg should start with -- : \(arg)") }
            if arg == "--" { return }
            var name = String(arg.dropFirst(2))
            var value: String? = nil
            if let eq = name.firstIndex(of: "=") {
                value = String(name[name.index(after: eq)...])
                name = String(name[..<eq])
            }
            guard let kind = declared[name] else { throw DockerfileError("Unknown flag: \(name)") }
            if used.contains(name) && kind != .strings { throw DockerfileError("Duplicate flag specified: \(name)") }
            used.insert(name)
            switch kind {
            case .bool:
                if let value, value.isEmpty { throw DockerfileError("Missing a value on flag: \(name)") }
                switch (value ?? "true").lowercased() {
                case "true": bools[name] = true
                case "false": bools[name] = false
                default: throw DockerfileError("Expecting boolean value for flag \(name), not: \(value ?? "")")
                }
            case .string:
                guard let value else { throw DockerfileError("Missing a value on flag: \(name)") }
                strings[name] = value
            case .strings:
                guard let value else { throw DockerfileError("Missing a value on flag: \(name)") }
                lists[name, default: []].append(value)
            }
        }
    }
}

extension Instruction {
    static func interpret(_ node: Node, file: String) throws(DockerfileError) -> Instruction {
        do {
            return try interpretUnlocated(node)
        } catch {
            throw error.located(file: file, line: node.startLine, instruction: node.keyword)
        }
    }

    private static func interpretUnlocated(_ node: Node) throws(DockerfileError) -> Instruction {
        let args = node.args
        let name = node.keyword.uppercased()
        func parseFlags(_ decl: [(String, Flags.Kind)]) throws(DockerfileError) -> Flags {
            var flags = Flags(decl)
            try flags.parse(node.flags)
            return flags
        }
        func exactlyOne() throws(DockerfileError) -> String {
            guard args.count == 1 else { throw DockerfileError("\(name) requires exactly one argument") }
            return args[0]
        }
        func atLeastOne() throws(DockerfileError) {
            if args.isEmpty { throw DockerfileError("\(name) requires at least one argument") }
        }
        func keyValues() throws(DockerfileError) -> [KeyValue] {
            try atLeastOne()
            guard args.count % 2 == 0 else { throw DockerfileError("Bad input to \(name), too many arguments") }
            var pairs: [KeyValue] = []
            var i = 0
            while i < args.count {
                if args[i].isEmpty { throw DockerfileError("\(name) names can not be blank") }
                pairs.append(KeyValue(args[i], args[i + 1]))
                i += 2
            }
            return pairs
        }
        func commandLine() -> CommandLine {
            node.isJSON ? .exec(args) : .shell(args.joined(separator: " "))
        }

        switch node.keyword.lowercased() {
        case "from":
            let flags = try parseFlags([("platform", .string)])
            var stage: String? = nil
            if args.count == 3 && args[1].lowercased() == "as" {
                let lowered = args[2].lowercased()
                guard isValidStageName(lowered) else {
                    throw DockerfileError("invalid name for build stage: \"\(args[2])\", name can't start with a number or contain symbols")
                }
                stage = lowered
            } else if args.count != 1 {
                throw DockerfileError("FROM requires either one or three arguments")
            }
            return .from(FromInstruction(image: args[0], stageName: stage, platform: flags.strings["platform"]))

        case "run":
            let flags = try parseFlags([("mount", .strings), ("network", .string), ("security", .string)])
            var run = RunInstruction(command: commandLine())
            run.heredocs = node.heredocs
            run.mountSpecs = flags.lists["mount"] ?? []
            for spec in run.mountSpecs { run.mounts.append(try RunMount.parse(spec)) }
            if let net = flags.strings["network"] {
                guard let mode = RunNetworkMode(rawValue: net) else {
                    throw DockerfileError("unsupported network mode \"\(net)\"")
                }
                run.network = mode
            }
            if let sec = flags.strings["security"] {
                guard sec == "insecure" || sec == "sandbox" else {
                    throw DockerfileError("unsupported security mode \"\(sec)\"")
                }
                run.security = sec
            }
            return .run(run)

        case "copy", "add":
            let isAdd = name == "ADD"
            guard args.count >= 2 else {
                throw DockerfileError("\(name) requires at least two arguments, but only one was provided. Destination could not be determined")
            }
            let flags = isAdd
                ? try parseFlags([("chown", .string), ("chmod", .string), ("link", .bool), ("exclude", .strings),
                                  ("checksum", .string), ("keep-git-dir", .bool), ("unpack", .bool)])
                : try parseFlags([("chown", .string), ("chmod", .string), ("link", .bool), ("exclude", .strings),
                                  ("from", .string), ("parents", .bool)])
            let destination = args[args.count - 1]
            if Parser.parseHeredoc(destination) != nil {
                throw DockerfileError("\(name) cannot accept a heredoc as a destination")
            }
            var sources: [CopySource] = []
            for src in args.dropLast() {
                if !node.isJSON, let doc = Parser.parseHeredoc(src) {
                    let body = node.heredocs.first { $0.name == doc.name }
                    sources.append(.heredoc(body ?? doc))
                } else {
                    sources.append(.path(src))
                }
            }
            var copy = CopyInstruction(sources: sources, destination: destination)
            copy.from = flags.strings["from"]
            copy.chown = flags.strings["chown"]
            copy.chmod = flags.strings["chmod"]
            copy.link = flags.bools["link"] ?? false
            copy.exclude = flags.lists["exclude"] ?? []
            copy.parents = flags.bools["parents"] ?? false
            copy.checksum = flags.strings["checksum"]
            copy.keepGitDir = flags.bools["keep-git-dir"] ?? false
            copy.unpack = flags.bools["unpack"]
            copy.isJSON = node.isJSON
            return isAdd ? .add(copy) : .copy(copy)

        case "env":
            _ = try parseFlags([])
            return .env(try keyValues())

        case "label":
            _ = try parseFlags([])
            return .label(try keyValues())

        case "arg":
            try atLeastOne()
            var decls: [ArgDeclaration] = []
            for word in args {
                if let eq = word.firstIndex(of: "=") {
                    let key = String(word[..<eq])
                    if key.isEmpty { throw DockerfileError("ARG names can not be blank") }
                    decls.append(ArgDeclaration(key, String(word[word.index(after: eq)...])))
                } else {
                    decls.append(ArgDeclaration(word))
                }
            }
            return .arg(decls)

        case "workdir":
            let path = try exactlyOne()
            _ = try parseFlags([])
            return .workdir(path)

        case "user":
            let user = try exactlyOne()
            _ = try parseFlags([])
            return .user(user)

        case "maintainer":
            let who = try exactlyOne()
            _ = try parseFlags([])
            return .maintainer(who)

        case "stopsignal":
            return .stopSignal(try exactlyOne())

        case "expose":
            try atLeastOne()
            _ = try parseFlags([])
            return .expose(args.sorted())

        case "volume":
            try atLeastOne()
            _ = try parseFlags([])
            var volumes: [String] = []
            for v in args {
                let t = trimmed(v)
                if t.isEmpty { throw DockerfileError("VOLUME specified can not be an empty string") }
                volumes.append(t)
            }
            return .volume(volumes)

        case "cmd":
            _ = try parseFlags([])
            return .cmd(commandLine())

        case "entrypoint":
            _ = try parseFlags([])
            return .entrypoint(commandLine())

        case "shell":
            _ = try parseFlags([])
            if args.isEmpty { throw DockerfileError("SHELL requires at least one argument") }
            guard node.isJSON else { throw DockerfileError("SHELL requires the arguments to be in JSON form") }
            return .shell(args)

        case "healthcheck":
            try atLeastOne()
            let type = args[0].uppercased()
            let rest = Array(args.dropFirst())
            if type == "NONE" {
                if !rest.isEmpty { throw DockerfileError("HEALTHCHECK NONE takes no arguments") }
                return .healthcheck(Healthcheck(test: ["NONE"]))
            }
            let flags = try parseFlags([("interval", .string), ("timeout", .string), ("start-period", .string),
                                        ("start-interval", .string), ("retries", .string)])
            guard type == "CMD" else { throw DockerfileError("Unknown type \"\(type)\" in HEALTHCHECK (try CMD)") }
            if rest.isEmpty { throw DockerfileError("Missing command after HEALTHCHECK CMD") }
            var check = Healthcheck(test: node.isJSON ? ["CMD"] + rest : ["CMD-SHELL", rest.joined(separator: " ")])
            func interval(_ flag: String) throws(DockerfileError) -> Int64 {
                guard let text = flags.strings[flag], !text.isEmpty else { return 0 }
                let d = try parseGoDuration(text)
                // 0 means "inherit the default"; anything else must be at least 1ms.
                if d != 0 && d < 1_000_000 { throw DockerfileError("Interval \"\(flag)\" cannot be less than 1ms") }
                return d
            }
            check.interval = try interval("interval")
            check.timeout = try interval("timeout")
            check.startPeriod = try interval("start-period")
            check.startInterval = try interval("start-interval")
            if let r = flags.strings["retries"], !r.isEmpty {
                guard let n = Int32(r) else { throw DockerfileError("strconv.ParseInt: parsing \"\(r)\": invalid syntax") }
                if n < 1 { throw DockerfileError("--retries must be at least 1 (not \(n))") }
                check.retries = Int(n)
            }
            return .healthcheck(check)

        case "onbuild":
            try atLeastOne()
            _ = try parseFlags([])
            let trigger = args[0].uppercased()
            switch trigger {
            case "ONBUILD": throw DockerfileError("Chaining ONBUILD via `ONBUILD ONBUILD` isn't allowed")
            case "MAINTAINER", "FROM": throw DockerfileError("\(trigger) isn't allowed as an ONBUILD trigger")
            default: break
            }
            // What is stored in the image is the text after ONBUILD (plus any heredoc bodies).
            var expression = dropOnbuildKeyword(node.original)
            for doc in node.heredocs { expression += "\n" + doc.rawContent + doc.name }
            var parsedTrigger: Instruction? = nil
            if var child = node.child.first {
                child.heredocs = node.heredocs
                parsedTrigger = try? interpretUnlocated(child)
            }
            return .onbuild(expression: expression, trigger: parsedTrigger)

        default:
            var message = "unknown instruction: \(node.keyword)"
            if let suggestion = suggest(node.keyword.uppercased(), among: allInstructionNames) {
                message += " (did you mean \(suggestion.lowercased())?)"
            }
            throw DockerfileError(message)
        }
    }
}

/// `^[a-z][a-z0-9-_\.]*$`
func isValidStageName(_ s: String) -> Bool {
    guard let first = s.unicodeScalars.first, ("a"..."z").contains(first) else { return false }
    return s.unicodeScalars.allSatisfy { ("a"..."z").contains($0) || ("0"..."9").contains($0) || "-_.".unicodeScalars.contains($0) }
}

/// `(?i)^\s*ONBUILD\s*` removed.
func dropOnbuildKeyword(_ s: String) -> String {
    let t = trimmedLeft(s)
    guard t.count >= 7, t.prefix(7).uppercased() == "ONBUILD" else { return s }
    return trimmedLeft(String(t.dropFirst(7)))
}

/// The closest instruction name when the typo is small (BuildKit adds "did you mean ...?").
func suggest(_ word: String, among names: [String]) -> String? {
    var best: (String, Int)? = nil
    for name in names {
        let d = editDistance(Array(word.unicodeScalars), Array(name.unicodeScalars))
        if let current = best, current.1 <= d { continue }
        best = (name, d)
    }
    guard let (name, distance) = best, distance > 0, distance <= max(1, name.count / 3) else { return nil }
    return name
}

func editDistance(_ a: [Unicode.Scalar], _ b: [Unicode.Scalar]) -> Int {
    if a.isEmpty { return b.count }
    var previous = Array(0...b.count)
    for i in 1...a.count {
        var current = [i] + Array(repeating: 0, count: b.count)
        for j in 1...max(b.count, 1) where j <= b.count {
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
        }
        previous = current
    }
    return previous[b.count]
}

// MARK: - RUN --mount

extension RunMount {
    /// Parses one `--mount` value: CSV fields of `key=value` (or a bare `ro`/`rw`/`readonly`/`required`).
    public static func parse(_ spec: String) throws(DockerfileError) -> RunMount {
        let fields = try parseCSVRecord(spec)
        var m = RunMount()
        var readOnlySet = false
        func parseBool(_ key: String, _ v: String) throws(DockerfileError) -> Bool {
            switch v {
            case "1", "t", "T", "true", "TRUE", "True": return true
            case "0", "f", "F", "false", "FALSE", "False": return false
            default: throw DockerfileError("invalid value for \(key): \(v)")
            }
        }
        for field in fields {
            let key: String
            let value: String?
            if let eq = field.firstIndex(of: "=") {
                key = field[..<eq].lowercased()
                value = String(field[field.index(after: eq)...])
            } else {
                key = field.lowercased()
                value = nil
            }
            guard let value else {
                switch key {
                case "readonly", "ro":
                    m.readOnly = true
                    readOnlySet = true
                    continue
                case "readwrite", "rw":
                    m.readOnly = false
                    readOnlySet = true
                    continue
                case "required":
                    guard m.type == .secret || m.type == .ssh else {
                        throw DockerfileError("unexpected key '\(key)' for mount type '\(m.type.rawValue)'")
                    }
                    m.required = true
                    continue
                default:
                    throw DockerfileError("invalid field '\(field)' must be a key=value pair")
                }
            }
            switch key {
            case "type":
                guard let kind = Kind(rawValue: value.lowercased()) else {
                    throw DockerfileError("unsupported mount type \"\(value)\"")
                }
                m.type = kind
            case "from": m.from = value
            case "source", "src": m.source = value
            case "target", "dst", "destination": m.target = value
            case "readonly", "ro":
                m.readOnly = try parseBool(key, value)
                readOnlySet = true
            case "readwrite", "rw":
                m.readOnly = !(try parseBool(key, value))
                readOnlySet = true
            case "required":
                guard m.type == .secret || m.type == .ssh else {
                    throw DockerfileError("unexpected key '\(key)' for mount type '\(m.type.rawValue)'")
                }
                m.required = try parseBool(key, value)
            case "id": m.id = value
            case "sharing":
                guard let s = Sharing(rawValue: value.lowercased()) else {
                    throw DockerfileError("unsupported sharing value \"\(value)\"")
                }
                m.sharing = s
            case "mode":
                guard let mode = UInt32(value, radix: 8) else { throw DockerfileError("invalid value \(value) for mode") }
                m.mode = mode
            case "uid":
                guard let uid = UInt32(value) else { throw DockerfileError("invalid value \(value) for uid") }
                m.uid = uid
            case "gid":
                guard let gid = UInt32(value) else { throw DockerfileError("invalid value \(value) for gid") }
                m.gid = gid
            case "size":
                guard m.type == .tmpfs else {
                    throw DockerfileError("unexpected key '\(key)' for mount type '\(m.type.rawValue)'")
                }
                guard let bytes = try? GoUnits.ramInBytes(value) else { throw DockerfileError("invalid value \(value) for size") }
                m.size = bytes
            case "env":
                guard m.type == .secret else {
                    throw DockerfileError("unexpected key '\(key)' for mount type '\(m.type.rawValue)'")
                }
                m.env = value
            default:
                throw DockerfileError("unexpected key '\(key)' in '\(field)'")
            }
        }
        // Only cache, secret and ssh mounts create files whose owner and mode can be chosen.
        let fileInfoAllowed = m.type == .secret || m.type == .ssh || m.type == .cache
        if m.mode != nil && !fileInfoAllowed { throw DockerfileError("mode not allowed for \"\(m.type.rawValue)\" type mounts") }
        if m.uid != nil && !fileInfoAllowed { throw DockerfileError("uid not allowed for \"\(m.type.rawValue)\" type mounts") }
        if m.gid != nil && !fileInfoAllowed { throw DockerfileError("gid not allowed for \"\(m.type.rawValue)\" type mounts") }
        if !readOnlySet { m.readOnly = !(m.type == .cache || m.type == .tmpfs) }
        if m.sharing != nil && m.type != .cache {
            throw DockerfileError("invalid cache sharing set for \(m.type.rawValue) mount")
        }
        if m.type == .secret {
            if m.from != nil { throw DockerfileError("secret mount should not have a from") }
            if m.source == nil && m.target == nil && m.id == nil && m.env == nil {
                throw DockerfileError("invalid secret mount. one of source, target required")
            }
            if m.source != nil && m.id != nil { throw DockerfileError("both source and id can't be set") }
        }
        return m
    }
}

/// One record of Go's `encoding/csv`: commas separate, `"..."` quotes a field, `""` is a quote.
func parseCSVRecord(_ s: String) throws(DockerfileError) -> [String] {
    var fields: [String] = []
    var v = Array(s.unicodeScalars)[...]
    while true {
        var field = String.UnicodeScalarView()
        if v.first == "\"" {
            v = v.dropFirst()
            var closed = false
            while let c = v.first {
                v = v.dropFirst()
                if c == "\"" {
                    if v.first == "\"" {
                        field.append("\"")
                        v = v.dropFirst()
                    } else {
                        closed = true
                        break
                    }
                } else {
                    field.append(c)
                }
            }
            guard closed, v.isEmpty || v.first == "," else {
                throw DockerfileError("failed to parse csv mounts: extraneous or missing \" in quoted-field")
            }
        } else {
            while let c = v.first, c != "," {
                if c == "\"" { throw DockerfileError("failed to parse csv mounts: bare \" in non-quoted-field") }
                field.append(c)
                v = v.dropFirst()
            }
        }
        fields.append(String(field))
        guard v.first == "," else { break }
        v = v.dropFirst()
    }
    return fields
}
