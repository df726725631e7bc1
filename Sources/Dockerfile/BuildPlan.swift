/// Stages, ARG scoping and which stages a build needs.
///
/// Docker's ARG model in four rules:
/// 1. ARGs before the first FROM are *global*: they can be used in FROM lines (image and --platform)
///    and nowhere else until a stage redeclares them with a bare `ARG NAME`.
/// 2. Inside a stage, `ARG NAME[=default]` makes NAME visible from that line on; its value is the
///    `--build-arg` if given, else the default (expanded), else the global value, else unset.
/// 3. ENV always wins over an ARG of the same name; ARG values are in RUN's environment but never in
///    the image config.
/// 4. The proxy variables are "predefined": a `--build-arg HTTP_PROXY=...` reaches RUN without any ARG
///    line. The platform args (TARGETPLATFORM, BUILDARCH…) are automatic in the global scope and need a
///    bare `ARG TARGETARCH` to be seen inside a stage.

/// `os/arch[/variant]`.
public struct Platform: Equatable, Hashable, Sendable, CustomStringConvertible {
    public var os: String
    public var architecture: String
    public var variant: String?

    public init(os: String = "linux", architecture: String, variant: String? = nil) {
        self.os = os
        self.architecture = architecture
        self.variant = variant
    }

    /// Parses `linux/arm64/v8`, `linux/amd64`; a lone `arm64` means linux.
    public init?(parsing text: String) {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false).map { $0.lowercased() }
        switch parts.count {
        case 1 where !parts[0].isEmpty: self.init(architecture: parts[0])
        case 2 where !parts[0].isEmpty && !parts[1].isEmpty: self.init(os: parts[0], architecture: parts[1])
        case 3 where !parts[0].isEmpty && !parts[1].isEmpty && !parts[2].isEmpty:
            self.init(os: parts[0], architecture: parts[1], variant: parts[2])
        default: return nil
        }
    }

    public var description: String {
        variant.map { "\(os)/\(architecture)/\($0)" } ?? "\(os)/\(architecture)"
    }
}

/// Build args Docker knows without an ARG line (they reach RUN, and are left out of the image history).
public let predefinedArgs: Set<String> = [
    "HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy", "FTP_PROXY", "ftp_proxy",
    "NO_PROXY", "no_proxy", "ALL_PROXY", "all_proxy",
]

/// The automatic platform args of the global scope.
public func platformArgs(target: Platform, build: Platform) -> [String: String] {
    [
        "TARGETPLATFORM": target.description, "TARGETOS": target.os, "TARGETARCH": target.architecture,
        "TARGETVARIANT": target.variant ?? "",
        "BUILDPLATFORM": build.description, "BUILDOS": build.os, "BUILDARCH": build.architecture,
        "BUILDVARIANT": build.variant ?? "",
    ]
}

/// The variables visible at one point of one stage. The builder keeps one per stage, calls
/// `declare` on ARG, `setEnv` on ENV, and hands `expander` to `InstructionLine.expanded(with:)`.
public struct StageScope: Equatable, Sendable {
    public let buildArgs: [String: String]
    /// The global ARG values (automatic platform args included), usable by bare redeclaration.
    public let globals: [String: String]
    public var escape: Unicode.Scalar
    /// ENV in order (the base image's first), as the config will record it.
    public private(set) var env: [KeyValue] = []
    /// Declared ARGs in order; nil value = declared but unset.
    public private(set) var args: [(name: String, value: String?)] = []
    /// Build args this stage used (to report the unused ones as Docker does).
    public private(set) var consumed: Set<String> = []

    public init(buildArgs: [String: String], globals: [String: String], baseEnv: [String] = [], escape: Unicode.Scalar = "\\") {
        self.buildArgs = buildArgs
        self.globals = globals
        self.escape = escape
        for entry in baseEnv {
            if let eq = entry.firstIndex(of: "=") {
                env.append(KeyValue(String(entry[..<eq]), String(entry[entry.index(after: eq)...])))
            } else {
                env.append(KeyValue(entry, ""))
            }
        }
    }

    public static func == (a: StageScope, b: StageScope) -> Bool {
        a.buildArgs == b.buildArgs && a.globals == b.globals && a.env == b.env && a.consumed == b.consumed
            && a.args.map(\.name) == b.args.map(\.name) && a.args.map(\.value) == b.args.map(\.value)
    }

    /// What `$NAME` sees: declared ARGs, overridden by ENV.
    public var expansionEnvironment: [String: String] {
        var out: [String: String] = [:]
        for (name, value) in args { if let value { out[name] = value } }
        for kv in env { out[kv.key] = kv.value }
        return out
    }

    public var expander: Expander { Expander(escape: escape, environment: expansionEnvironment) }

    /// RUN's environment, `KEY=value`: ENV, then ARG values not shadowed by ENV, then the predefined
    /// proxy args given with --build-arg but not declared.
    public var runEnvironment: [String] {
        var out = env.map { "\($0.key)=\($0.value)" }
        let envKeys = Set(env.map(\.key))
        var seen = envKeys
        for (name, value) in args.reversed() where !seen.contains(name) {
            seen.insert(name)
            if let value { out.append("\(name)=\(value)") }
        }
        for name in predefinedArgs.sorted() where !seen.contains(name) {
            if let value = buildArgs[name] { out.append("\(name)=\(value)") }
        }
        return out
    }

    /// `ARG name[=default]` inside a stage.
    public mutating func declare(_ decl: ArgDeclaration) throws(DockerfileError) {
        var value: String? = nil
        if let given = buildArgs[decl.name] {
            value = given
            consumed.insert(decl.name)
        } else if let def = decl.defaultValue {
            value = try expander.word(def)
        } else if let global = globals[decl.name] {
            value = global
        }
        args.removeAll { $0.name == decl.name }
        args.append((decl.name, value))
    }

    /// ENV with already expanded pairs (later keys replace earlier ones in place, as in Docker).
    public mutating func setEnv(_ pairs: [KeyValue]) {
        for kv in pairs {
            if let i = env.firstIndex(where: { $0.key == kv.key }) {
                env[i].value = kv.value
            } else {
                env.append(kv)
            }
        }
    }

    /// The whole env as the image config records it.
    public var configEnv: [String] { env.map { "\($0.key)=\($0.value)" } }
}

/// What a stage starts from.
public enum StageBase: Equatable, Sendable {
    case scratch
    case image(String)
    /// Another stage of this file, by index.
    case stage(Int)
}

public struct Stage: Equatable, Sendable {
    public var index: Int
    /// `AS name`, lowercased.
    public var name: String?
    /// The FROM line as parsed.
    public var fromLine: InstructionLine
    /// The base after global-ARG expansion.
    public var baseName: String
    public var base: StageBase
    /// `--platform` after expansion.
    public var platform: String?
    /// The instructions after FROM.
    public var instructions: [InstructionLine]
    /// Stages this one needs: its base, COPY --from and RUN --mount from= of stages (indices, sorted).
    public var dependencies: [Int]
    /// `COPY --from` / `--mount from=` values that are not stages: images to pull.
    public var imageReferences: [String]
}

public struct BuildPlan: Equatable, Sendable {
    public var stages: [Stage]
    /// The stage built: `--target`, else the last one.
    public var target: Int
    /// Stages to build, in file order: the target and what it needs, transitively. The rest are skipped,
    /// as BuildKit skips them (the classic builder built every stage).
    public var required: [Int]
    /// Global ARG values (platform args included) after --build-arg overrides.
    public var globals: [String: String]
    /// `--build-arg`s no ARG consumed (Docker warns "One or more build-args [...] were not consumed").
    public var unusedBuildArgs: [String]
    public var escape: Unicode.Scalar
    public var buildArgs: [String: String]

    public init(
        _ file: Dockerfile, buildArgs: [String: String] = [:], target: String? = nil,
        targetPlatform: Platform = Platform(architecture: "amd64"), buildPlatform: Platform? = nil
    ) throws(DockerfileError) {
        let escape = file.directives.escape
        self.escape = escape
        self.buildArgs = buildArgs
        var used: Set<String> = []
        // Global scope: automatic platform args, then each ARG before FROM in order.
        var globals = platformArgs(target: targetPlatform, build: buildPlatform ?? targetPlatform)
        var index = 0
        let lines = file.instructions
        while index < lines.count, case .arg(let decls) = lines[index].instruction {
            for decl in decls {
                if let given = buildArgs[decl.name] {
                    globals[decl.name] = given
                    used.insert(decl.name)
                } else if let def = decl.defaultValue {
                    do {
                        globals[decl.name] = try Expander(escape: escape, environment: globals).word(def)
                    } catch {
                        throw error.located(file: file.fileName, line: lines[index].line, instruction: lines[index].keyword)
                    }
                } else {
                    globals.removeValue(forKey: decl.name)  // declared without value: unset unless given
                }
            }
            index += 1
        }
        self.globals = globals

        // Cut the rest into stages.
        var stages: [Stage] = []
        var byName: [String: Int] = [:]
        while index < lines.count {
            let fromLine = lines[index]
            guard case .from(let from) = fromLine.instruction else { break }
            index += 1
            var body: [InstructionLine] = []
            while index < lines.count {
                if case .from = lines[index].instruction { break }
                body.append(lines[index])
                index += 1
            }
            func located(_ e: DockerfileError) -> DockerfileError {
                e.located(file: file.fileName, line: fromLine.line, instruction: fromLine.keyword)
            }
            let global = Expander(escape: escape, environment: globals)
            let baseName: String
            let platform: String?
            do {
                let expanded = try global.lexer.processWithMatches(from.image, environment: globals)
                baseName = expanded.word
                platform = try from.platform.map { (p: String) throws(DockerfileError) -> String in try global.word(p) }
            } catch {
                throw located(error)
            }
            if baseName.isEmpty { throw located(DockerfileError("base name (\(from.image)) should not be blank")) }
            let stageIndex = stages.count
            var base: StageBase = .image(baseName)
            if baseName.lowercased() == "scratch" {
                base = .scratch
            } else if let earlier = byName[baseName.lowercased()] {
                base = .stage(earlier)  // only earlier stages: a FROM cannot look ahead
            }
            if let name = from.stageName {
                if byName[name] != nil { throw located(DockerfileError("duplicate stage name \"\(name)\"")) }
                byName[name] = stageIndex
            }
            stages.append(Stage(index: stageIndex, name: from.stageName, fromLine: fromLine, baseName: baseName,
                                base: base, platform: platform, instructions: body, dependencies: [], imageReferences: []))
        }
        guard !stages.isEmpty else {
            throw DockerfileError(file: file.fileName, line: lines.last?.line ?? 0, "no build stage in current context")
        }

        // Dependencies: evaluate each stage statically (ARG/ENV as written, base image env unknown)
        // to expand the --from values.
        for s in stages.indices {
            var deps: Set<Int> = []
            var images: [String] = []
            if case .stage(let b) = stages[s].base { deps.insert(b) }
            var scope = StageScope(buildArgs: buildArgs, globals: globals, escape: escape)
            func reference(_ raw: String, _ line: InstructionLine) throws(DockerfileError) {
                let value: String
                do { value = try scope.expander.word(raw) } catch {
                    throw error.located(file: file.fileName, line: line.line, instruction: line.keyword)
                }
                if let n = byName[value.lowercased()] {
                    if n == s {
                        throw DockerfileError(file: file.fileName, line: line.line, instruction: line.keyword,
                                              "circular dependency detected on stage: \(value)")
                    }
                    deps.insert(n)
                } else if let n = Int(value), n >= 0 {
                    guard n < s else {
                        throw DockerfileError(file: file.fileName, line: line.line, instruction: line.keyword,
                                              "invalid from flag value \(value): " + (n == s ? "refers to current build stage" : "index out of bounds"))
                    }
                    deps.insert(n)
                } else if !images.contains(value) {
                    images.append(value)  // not a stage: an image reference
                }
            }
            for line in stages[s].instructions {
                switch line.instruction {
                case .arg(let decls):
                    for d in decls { try? scope.declare(d) }
                case .env(let pairs):
                    var expanded: [KeyValue] = []
                    for kv in pairs {
                        let e = scope.expander
                        expanded.append(KeyValue((try? e.word(kv.key)) ?? kv.key, (try? e.word(kv.value)) ?? kv.value))
                    }
                    scope.setEnv(expanded)
                case .copy(let c):
                    if let from = c.from { try reference(from, line) }
                case .run(let r):
                    for spec in r.mountSpecs {
                        for field in (try? parseCSVRecord(spec)) ?? [] where field.lowercased().hasPrefix("from=") {
                            try reference(String(field.dropFirst(5)), line)
                        }
                    }
                default: break
                }
            }
            used.formUnion(scope.consumed)
            stages[s].dependencies = deps.sorted()
            stages[s].imageReferences = images
        }
        self.stages = stages

        // Cycles (A copies from B, B from A).
        var state = Array(repeating: 0, count: stages.count)  // 0 new, 1 visiting, 2 done
        func visit(_ i: Int) throws(DockerfileError) {
            if state[i] == 2 { return }
            if state[i] == 1 {
                throw DockerfileError(file: file.fileName, line: stages[i].fromLine.line,
                                      "circular dependency detected on stage: \(stages[i].name ?? String(i))")
            }
            state[i] = 1
            for d in stages[i].dependencies { try visit(d) }
            state[i] = 2
        }
        for i in stages.indices { try visit(i) }

        if let target {
            guard let t = byName[target.lowercased()] else {
                throw DockerfileError(file: file.fileName, "target stage \"\(target)\" could not be found")
            }
            self.target = t
        } else {
            self.target = stages.count - 1
        }
        var needed: Set<Int> = []
        var work = [self.target]
        while let i = work.popLast() {
            if needed.insert(i).inserted { work.append(contentsOf: stages[i].dependencies) }
        }
        self.required = needed.sorted()
        let declaredAnywhere = Set(lines.flatMap { line -> [String] in
            if case .arg(let d) = line.instruction { return d.map(\.name) }
            return []
        })
        self.unusedBuildArgs = buildArgs.keys.filter {
            !used.contains($0) && !declaredAnywhere.contains($0) && !predefinedArgs.contains($0)
        }.sorted()
    }

    /// A fresh scope for a stage, starting from its base image's environment.
    public func scope(baseEnv: [String] = []) -> StageScope {
        StageScope(buildArgs: buildArgs, globals: globals, baseEnv: baseEnv, escape: escape)
    }
}
