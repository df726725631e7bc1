/// The image-config side effects of the instructions that do not touch the filesystem, applied as
/// Docker applies them. The builder keeps one per stage (seeded from the base image's config) and
/// runs RUN/COPY/ADD itself.
public struct ImageConfigState: Equatable, Sendable {
    public var env: [String] = []
    public var labels: [String: String] = [:]
    public var cmd: [String]?
    public var entrypoint: [String]?
    public var workingDir = ""
    public var user = ""
    /// `80/tcp`, `53/udp`.
    public var exposedPorts: Set<String> = []
    public var volumes: Set<String> = []
    public var healthcheck: Healthcheck?
    public var stopSignal: String?
    /// What shell-form commands run under; SHELL changes it for the rest of the stage.
    public var shell: [String] = ["/bin/sh", "-c"]
    public var onBuild: [String] = []
    public var author: String?
    /// CMD was set in this stage; an ENTRYPOINT then no longer clears it.
    public private(set) var cmdSetInStage = false

    public init() {}

    /// Applies one *expanded* instruction. ENV and ARG also update `scope`, whose environment is what
    /// the next instruction expands with.
    public mutating func apply(_ instruction: Instruction, scope: inout StageScope) throws(DockerfileError) {
        switch instruction {
        case .env(let pairs):
            scope.setEnv(pairs)
            env = scope.configEnv
        case .arg(let decls):
            for d in decls { try scope.declare(d) }
        case .label(let pairs):
            for kv in pairs { labels[kv.key] = kv.value }
        case .cmd(let line):
            cmd = line.argv(shell: shell)
            cmdSetInStage = true
        case .entrypoint(let line):
            let argv = line.argv(shell: shell)
            entrypoint = argv.isEmpty ? nil : argv
            // A new ENTRYPOINT drops the CMD inherited from the base image (its arguments were meant
            // for the old entrypoint), unless this stage set CMD itself.
            if !cmdSetInStage { cmd = nil }
        case .workdir(let path):
            workingDir = resolveWorkdir(path, current: workingDir)
        case .user(let u):
            user = u
        case .expose(let specs):
            for spec in specs { exposedPorts.formUnion(try parseExposedPorts(spec)) }
        case .volume(let v):
            volumes.formUnion(v)
        case .healthcheck(var check):
            // NONE disables; CMD with unset fields keeps nothing from an earlier check (Docker replaces it).
            if check.test == ["NONE"] { check = Healthcheck(test: ["NONE"]) }
            healthcheck = check
        case .shell(let s):
            shell = s
        case .stopSignal(let s):
            stopSignal = s
        case .onbuild(let expression, _):
            onBuild.append(expression)
        case .maintainer(let m):
            author = m
        case .from, .run, .copy, .add:
            break
        }
    }
}

/// WORKDIR: relative paths are relative to the previous WORKDIR (or `/`); the result is cleaned.
public func resolveWorkdir(_ path: String, current: String) -> String {
    if path.hasPrefix("/") { return cleanPath(path) }
    return cleanPath("/" + (current.isEmpty ? "" : current + "/") + path)
}

/// One EXPOSE word → its port keys: `80` → `80/tcp`, `53/UDP` → `53/udp`, `8000-8002` → three.
public func parseExposedPorts(_ spec: String) throws(DockerfileError) -> [String] {
    var port = spec
    var proto = "tcp"
    if let slash = spec.lastIndex(of: "/") {
        port = String(spec[..<slash])
        proto = spec[spec.index(after: slash)...].lowercased()
        if proto.isEmpty { proto = "tcp" }
    }
    let bounds = port.split(separator: "-", omittingEmptySubsequences: false)
    guard bounds.count <= 2, let lo = UInt16(bounds[0]), let hi = UInt16(bounds.count == 2 ? bounds[1] : bounds[0]) else {
        throw DockerfileError("invalid containerPort: \(port)")
    }
    guard lo <= hi else { throw DockerfileError("invalid range specified for container port: \(port)") }
    return (lo...hi).map { "\($0)/\(proto)" }
}
