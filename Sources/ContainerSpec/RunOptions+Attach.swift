import Glibc
import LinuxSys

// MARK: -a/--attach, --platform, --cidfile

extension RunOptions.Parse {
    /// `-a stdin|stdout|stderr` (any case).
    public static func attach(_ text: String) throws(EngineError) -> StandardStream {
        guard let stream = StandardStream(rawValue: text.lowercased()) else {
            throw .invalid("valid streams are STDIN, STDOUT and STDERR")
        }
        return stream
    }

    /// `--platform os[/arch[/variant]]` (containerd's platforms.Parse): a lone OS takes this
    /// machine's architecture, a lone architecture Linux; names normalized (`x86_64` → `amd64`,
    /// `aarch64` → `arm64`). Returns "os/arch[/variant]".
    public static func platform(_ text: String) throws(EngineError) -> String {
        let prefix = "error parsing specified platform: "
        let invalid = EngineError.invalid(prefix + "\(goQuote(text)): unknown operating system or architecture: invalid argument")
        let parts = text.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        guard parts.count <= 3 else { throw .invalid(prefix + "\(goQuote(text)): cannot parse platform specifier: invalid argument") }
        // containerd's component patterns: the OS may carry a "(version)".
        let word: (UInt8) -> Bool = { isAlphanumeric($0) || $0 == 0x5F || $0 == 0x2D }
        let osAndVersion = parts[0].split(separator: "(", maxSplits: 1, omittingEmptySubsequences: false)
        guard !osAndVersion[0].isEmpty, osAndVersion[0].utf8.allSatisfy(word),
              osAndVersion.count == 1 || (osAndVersion[1].hasSuffix(")") && osAndVersion[1].dropLast().utf8.allSatisfy { word($0) || $0 == 0x2E }) else {
            throw .invalid(prefix + "\(goQuote(parts[0])) is an invalid OS component of \(goQuote(text)): OSAndVersion specifier component must match "
                           + #""^([A-Za-z0-9_-]+)(?:\\(([A-Za-z0-9_.-]*)\\))?$": invalid argument"#)
        }
        for part in parts.dropFirst() where part.isEmpty || !part.utf8.allSatisfy({ word($0) || $0 == 0x2E }) {
            throw .invalid(prefix + "\(goQuote(part)) is an invalid component of \(goQuote(text)): platform specifier component must match "
                           + #""^[A-Za-z0-9_.-]+$": invalid argument"#)
        }
        var os: String
        var arch: String
        var variant: String?
        if parts.count == 1 {
            let word = parts[0].lowercased()
            if knownOperatingSystems.contains(word) {
                os = word
                arch = HostInfo.current.architecture
            } else if let normalized = normalizeArchitecture(word, variant: nil), knownArchitectures.contains(normalized.arch) {
                os = "linux"
                (arch, variant) = normalized
            } else {
                throw invalid
            }
        } else {
            os = parts[0].lowercased()
            if os == "macos" { os = "darwin" }
            guard let normalized = normalizeArchitecture(parts[1].lowercased(), variant: parts.count == 3 ? parts[2].lowercased() : nil) else { throw invalid }
            (arch, variant) = normalized
        }
        return [os, arch, variant].compactMap { $0 }.joined(separator: "/")
    }

    static let knownOperatingSystems: Set<String> = [
        "aix", "android", "darwin", "dragonfly", "freebsd", "hurd", "illumos", "ios", "js", "linux", "nacl", "netbsd",
        "openbsd", "plan9", "solaris", "windows", "zos",
    ]
    static let knownArchitectures: Set<String> = [
        "386", "amd64", "amd64p32", "arm", "armbe", "arm64", "arm64be", "ppc64", "ppc64le", "loong64", "mips", "mipsle",
        "mips64", "mips64le", "mips64p32", "mips64p32le", "ppc", "riscv", "riscv64", "s390", "s390x", "sparc", "sparc64", "wasm",
    ]

    /// containerd's normalizeArch.
    static func normalizeArchitecture(_ arch: String, variant: String?) -> (arch: String, variant: String?)? {
        switch arch {
        case "i386": return ("386", nil)
        case "x86_64", "x86-64", "amd64": return ("amd64", variant == "v1" ? nil : variant)
        case "aarch64", "arm64": return ("arm64", variant == "8" || variant == "v8" ? nil : variant)
        case "armhf": return ("arm", "v7")
        case "armel": return ("arm", "v6")
        case "arm":
            switch variant {
            case nil, "7", "v7": return ("arm", "v7")
            case "5", "6", "8": return ("arm", "v" + (variant ?? ""))
            default: return ("arm", variant)
            }
        default: return (arch, variant)
        }
    }
}

extension RunOptions {
    /// Docker's Config.AttachStdin: as `-a` says (the CLI adds stdin to it for `-i`), else `-i`;
    /// never with `-d`.
    public var attachesStdin: Bool { !detach && (attach?.contains(.stdin) ?? interactive) }
    /// Docker's Config.AttachStdout / AttachStderr: as `-a` says, both when it is not given; never with `-d`.
    public var attachesStdout: Bool { !detach && (attach?.contains(.stdout) ?? true) }
    public var attachesStderr: Bool { !detach && (attach?.contains(.stderr) ?? true) }
    /// Docker's Config.StdinOnce: given by an API client, else `-i` without `-d`.
    public var closesStdinAfterAttach: Bool { stdinOnce ?? (interactive && !detach) }

    /// The streams Config.AttachStdin/AttachStdout/AttachStderr name, as `detach` and `attach`
    /// hold them: nothing attached is `-d`'s; the default streams for `interactive` are no `-a`;
    /// others are `-a`'s list, in Docker's order.
    public mutating func setAttachedStreams(stdin: Bool, stdout: Bool, stderr: Bool) {
        let streams = [(stdin, StandardStream.stdin), (stdout, .stdout), (stderr, .stderr)].filter(\.0).map(\.1)
        detach = streams.isEmpty
        let defaults: [StandardStream] = interactive ? [.stdin, .stdout, .stderr] : [.stdout, .stderr]
        attach = streams.isEmpty || streams == defaults ? nil : streams
    }

    /// `-a` with `-d`, refused by Docker's CLI.
    public func checkAttachAndDetach() throws(EngineError) {
        if detach, !(attach ?? []).isEmpty { throw .invalid("conflicting options: cannot specify both --attach and --detach") }
    }

    /// Whether an image made for `os/arch[/variant]` runs where `--platform` asked (the variant
    /// only when both name one); nil platform: any image.
    public func platformMatches(os: String, architecture: String, variant: String?) -> Bool {
        guard let platform else { return true }
        let wanted = platform.split(separator: "/").map(String.init)
        guard wanted.count >= 2, wanted[0] == os.lowercased(),
              let actual = Parse.normalizeArchitecture(architecture.lowercased(), variant: variant?.lowercased()),
              actual.arch == wanted[1] else { return false }
        if wanted.count == 3, let actualVariant = actual.variant { return wanted[2] == actualVariant }
        return true
    }
}

/// `--cidfile FILE` as Docker's CLI keeps it: made before the container (refused if it is there
/// already), the ID written into it once the container exists, and removed again when creating
/// failed. The client's business: a daemon records the path and never writes it.
public final class ContainerIDFile {
    let path: String?
    var fd: Int32 = -1
    var written = false

    /// Makes the file (nil: no `--cidfile`).
    public init(path: String?) throws(EngineError) {
        self.path = path
        guard let path, !path.isEmpty else { return }
        if (try? FS.lstat(path)) != nil {
            throw .invalid("container ID file found, make sure the other container isn't running or delete \(path)")
        }
        do { fd = try FS.open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode: 0o644) } catch {
            throw .system("failed to create the container ID file", error)
        }
    }

    /// Writes the ID (no newline, as Docker).
    public func write(_ id: String) throws(EngineError) {
        guard fd >= 0 else { return }
        do { try FS.write(fd, Array(id.utf8)) } catch { throw .system("failed to write the container ID to the file", error) }
        written = true
    }

    /// Closes it, and removes it unless an ID was written (also when dropped).
    public func close() {
        guard fd >= 0 else { return }
        FS.close(fd)
        fd = -1
        if !written, let path { _ = unlink(path) }
    }

    deinit { close() }
}
