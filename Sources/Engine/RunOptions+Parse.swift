import ContainerNetwork
import ContainerRuntime
import Glibc
import LinuxSys
import OCI

// Parsers for the values of `docker run` flags, one per flag syntax, and the checks Docker applies
// across flags. Error texts are Docker's (its CLI's for what the CLI checks, the daemon's for the
// rest) so scripts that match on them keep working.

extension RunOptions {
    /// One parser per flag syntax. Pure: no filesystem access except the `*File` readers.
    public enum Parse {}
}

// MARK: sizes and numbers

extension RunOptions.Parse {
    /// `512`, `512k`, `1.5g`, `2GiB`, `1 m`: bytes with binary multiples, as go-units' RAMInBytes
    /// reads them (the number is a float, the suffix b/k/m/g/t/p with an optional `b` or `ib`).
    public static func size(_ text: String) throws(EngineError) -> Int64 {
        let bytes = Array(text.utf8)
        // The number ends at the last digit, dot or space; what follows is the suffix.
        guard let sep = bytes.lastIndex(where: { ($0 >= 0x30 && $0 <= 0x39) || $0 == 0x2E || $0 == 0x20 }) else {
            throw .invalid("invalid size: '\(text)'")
        }
        let number = String(decoding: bytes[..<(bytes[sep] == 0x20 ? sep : sep + 1)], as: UTF8.self)
        let suffix = String(decoding: bytes[(sep + 1)...], as: UTF8.self).lowercased()
        guard var value = goFloat(number) else {
            throw .invalid("strconv.ParseFloat: parsing \(goQuote(number)): invalid syntax")
        }
        guard value >= 0 else { throw .invalid("invalid size: '\(text)'") }
        if !suffix.isEmpty {
            let multipliers: [Character: Double] = ["k": 1024, "m": 1_048_576, "g": 1_073_741_824, "t": 1_099_511_627_776, "p": 1_125_899_906_842_624]
            let chars = Array(suffix)
            var good = chars.count <= 3
            if good, chars[0] == "b" {
                good = chars.count == 1
            } else if good, let multiplier = multipliers[chars[0]] {
                value *= multiplier
                good = chars.count == 1 || (chars.count == 2 && chars[1] == "b") || (chars.count == 3 && chars[1] == "i" && chars[2] == "b")
            } else {
                good = false
            }
            guard good else { throw .invalid("invalid suffix: '\(suffix)'") }
        }
        guard value < 9.2e18 else { throw .invalid("invalid size: '\(text)'") }
        return Int64(value)
    }

    /// `--memory-swap`: a size, or `-1` for unlimited swap.
    public static func memorySwap(_ text: String) throws(EngineError) -> Int64 {
        text == "-1" ? -1 : try size(text)
    }

    /// `--cpus 1.5` → 1_500_000_000 NanoCPUs. Accepts what Go's big.Rat does (`1.5`, `3/2`, `1e-3`);
    /// more than nine decimals is "too precise". The range against the host is `validate`'s.
    public static func nanoCPUs(_ text: String) throws(EngineError) -> Int64 {
        let failed = EngineError.invalid("failed to parse \(text) as a rational number")
        if let slash = text.firstIndex(of: "/") {
            guard let numerator = Int64(text[..<slash]), let denominator = Int64(text[text.index(after: slash)...]),
                  denominator > 0 else { throw failed }
            let (scaled, overflow) = numerator.multipliedReportingOverflow(by: 1_000_000_000)
            if overflow { return numerator < 0 ? Int64.min : Int64.max }
            guard scaled % denominator == 0 else { throw .invalid("value is too precise") }
            return scaled / denominator
        }
        // A decimal with an optional exponent, kept exact: digits × 10^exponent.
        var chars = Substring(text)
        var negative = false
        if let first = chars.first, first == "+" || first == "-" {
            negative = first == "-"
            chars = chars.dropFirst()
        }
        var mantissa = ""
        var exponent = 0
        var seenDot = false
        var index = chars.startIndex
        while index < chars.endIndex, chars[index].isASCII, chars[index].isNumber || chars[index] == "." {
            if chars[index] == "." {
                if seenDot { throw failed }
                seenDot = true
            } else {
                mantissa.append(chars[index])
                if seenDot { exponent -= 1 }
            }
            index = chars.index(after: index)
        }
        guard !mantissa.isEmpty else { throw failed }
        if index < chars.endIndex {
            guard chars[index] == "e" || chars[index] == "E", let power = Int(chars[chars.index(after: index)...]),
                  abs(power) < 10_000 else { throw failed }
            exponent += power
        }
        exponent += 9
        // Digits below a nano must all be zero.
        while exponent < 0 {
            guard let last = mantissa.last else { break }
            guard last == "0" else { throw .invalid("value is too precise") }
            mantissa.removeLast()
            exponent += 1
        }
        if mantissa.isEmpty { return 0 }
        mantissa += String(repeating: "0", count: min(exponent, 40))
        let trimmed = mantissa.drop { $0 == "0" }
        guard trimmed.count <= 18, let magnitude = Int64(trimmed.isEmpty ? "0" : trimmed) else {
            return negative ? Int64.min : Int64.max
        }
        return negative ? -magnitude : magnitude
    }

    /// A whole number as Go's strconv.ParseInt reads it, with its error text.
    public static func integer(_ text: String) throws(EngineError) -> Int64 {
        guard let value = Int64(text) else {
            let reason = goIntegerSyntax(text) ? "value out of range" : "invalid syntax"
            throw .invalid("strconv.ParseInt: parsing \(goQuote(text)): \(reason)")
        }
        return value
    }
}

// MARK: mounts

extension RunOptions.Parse {
    /// `-v`/`--volume`: `/ctr` (anonymous volume), `name:/ctr[:mode]`, `/host:/ctr[:mode]`, with
    /// mode a comma list of `ro|rw`, `z|Z`, one propagation, `nocopy`. A host path starting with `.`
    /// is taken relative to `currentDirectory`, as the Docker CLI does since 23.0.
    public static func volume(_ spec: String, currentDirectory: String) throws(EngineError) -> MountRequest {
        let invalidSpec = "invalid volume specification: '\(spec)'"
        let parts = spec.split(separator: ":", maxSplits: 3, omittingEmptySubsequences: false).map(String.init)
        guard !parts[0].isEmpty else { throw .invalid(invalidSpec) }
        var source: String?
        let target: String
        var mode = ""
        switch parts.count {
        case 1:
            target = parts[0]
        case 2:
            // `/foo:rw` names no target: a volume cannot carry only a mode.
            if validMountMode(parts[1]) { throw .invalid(invalidSpec) }
            source = parts[0]
            target = parts[1]
        case 3:
            source = parts[0]
            target = parts[1]
            mode = parts[2]
        default:
            throw .invalid(invalidSpec)
        }
        guard validMountMode(mode) else { throw .invalid("invalid mode: \(mode)") }
        if let host = source, !host.hasPrefix("/"), host == "." || host == ".." || host.hasPrefix("./") || host.hasPrefix("../") {
            source = FS.clean(currentDirectory + "/" + host)
        }
        let kind: MountRequest.Kind = source?.hasPrefix("/") == true ? .bind : .volume
        let options = mode.split(separator: ",").map(String.init)
        let wrap = { (reason: String) in EngineError.invalid("\(invalidSpec): invalid mount config for type \"\(kind.rawValue)\": \(reason)") }
        if let reason = targetProblem(target) { throw wrap(reason) }
        if kind == .volume, options.contains(where: { propagationModes.contains($0) }) {
            throw wrap("field BindOptions must not be specified")
        }
        if kind == .bind, options.contains(where: { $0.hasPrefix("nocopy") }) {
            throw wrap("field VolumeOptions must not be specified")
        }
        if kind == .volume, let name = source { try volumeName(name) }
        return MountRequest(
            kind: kind, source: kind == .bind ? source.map(FS.clean) : source, target: FS.clean(target),
            readOnly: options.contains("ro"), options: options.filter { $0 != "ro" && $0 != "rw" })
    }

    /// A local volume's name, as Docker's local driver accepts it.
    public static func volumeName(_ name: String) throws(EngineError) {
        if name.utf8.count == 1 {
            throw .invalid("create \(name): volume name is too short, names should be at least two alphanumeric characters")
        }
        let bytes = Array(name.utf8)
        let valid = !bytes.isEmpty && isAlphanumeric(bytes[0])
            && bytes.dropFirst().allSatisfy { isAlphanumeric($0) || $0 == 0x5F || $0 == 0x2E || $0 == 0x2D }
        guard valid else {
            throw .invalid("create \(name): \(goQuote(name)) includes invalid characters for a local volume name, only \"[a-zA-Z0-9][a-zA-Z0-9_.-]\" are allowed. If you intended to pass a host directory, use absolute path")
        }
    }

    /// `--mount type=bind|volume|tmpfs,source=…,target=…,readonly,…` (CSV, fields may be quoted):
    /// the CLI's reading of the fields, then the daemon's checks of the result.
    public static func mount(_ text: String, currentDirectory: String) throws(EngineError) -> MountRequest {
        try mountRequest(try mountFields(text, currentDirectory: currentDirectory))
    }

    /// A `--mount` as the CLI reads it, before the daemon's checks.
    struct MountFields {
        var kind: String
        var source: String?
        var target: String
        var readOnly: Bool
        var bindOptions: [String]
        var volumeOptions: [String]
        var tmpfsOptions: [String]
    }

    static func mountFields(_ text: String, currentDirectory: String) throws(EngineError) -> MountFields {
        var kind = "volume"
        var source: String?
        var target: String?
        var readOnly = false
        var bindOptions: [String] = []
        var volumeOptions: [String] = []
        var tmpfsOptions: [String] = []
        for field in try csvFields(text) {
            let (rawKey, value) = cut(field, "=")
            let key = rawKey.lowercased()
            guard let value else {
                switch key {
                case "readonly", "ro": readOnly = true
                case "volume-nocopy": volumeOptions.append("nocopy")
                case "bind-nonrecursive": bindOptions.append("bind-nonrecursive")
                default: throw .invalid("invalid field '\(field)' must be a key=value pair")
                }
                continue
            }
            switch key {
            case "type":
                kind = value.lowercased()
            case "source", "src":
                source = value
                if value == "." || value.hasPrefix("./") { source = FS.clean(currentDirectory + "/" + value) }
            case "target", "dst", "destination":
                target = value
            case "readonly", "ro":
                guard let flag = goBool(value) else { throw .invalid("invalid value for \(key): \(value)") }
                readOnly = flag
            case "bind-propagation":
                bindOptions.append(value.lowercased())
            case "bind-nonrecursive":
                guard let flag = goBool(value) else { throw .invalid("invalid value for \(key): \(value)") }
                if flag { bindOptions.append("bind-nonrecursive") }
            case "volume-nocopy":
                guard let flag = goBool(value) else { throw .invalid("invalid value for volume-nocopy: \(value)") }
                volumeOptions.append(flag ? "nocopy" : "copy")
            case "volume-subpath", "volume-label", "volume-driver", "volume-opt":
                volumeOptions.append("\(key)=\(value)")
            case "tmpfs-size":
                guard let bytes = try? size(value) else { throw .invalid("invalid value for \(key): \(value)") }
                tmpfsOptions.append("size=\(bytes)")
            case "tmpfs-mode":
                guard let mode = UInt32(value, radix: 8) else { throw .invalid("invalid value for \(key): \(value)") }
                tmpfsOptions.append("mode=0" + String(mode, radix: 8))
            case "consistency":
                break  // macOS-only hint; Docker on Linux ignores it as well
            default:
                throw .invalid("unexpected key '\(key)' in '\(field)'")
            }
        }
        if kind.isEmpty { throw .invalid("type is required") }
        guard let target, !target.isEmpty else { throw .invalid("target is required") }
        if !volumeOptions.isEmpty, kind != "volume" { throw .invalid("cannot mix 'volume-*' options with mount type '\(kind)'") }
        if !bindOptions.isEmpty, kind != "bind" { throw .invalid("cannot mix 'bind-*' options with mount type '\(kind)'") }
        if !tmpfsOptions.isEmpty, kind != "tmpfs" { throw .invalid("cannot mix 'tmpfs-*' options with mount type '\(kind)'") }
        return MountFields(kind: kind, source: source, target: target, readOnly: readOnly, bindOptions: bindOptions,
                           volumeOptions: volumeOptions, tmpfsOptions: tmpfsOptions)
    }

    /// Docker's daemon checks of a `--mount` (volume/mounts' linux parser).
    static func mountRequest(_ fields: MountFields) throws(EngineError) -> MountRequest {
        let (kind, source, target, readOnly) = (fields.kind, fields.source, fields.target, fields.readOnly)
        let (bindOptions, volumeOptions, tmpfsOptions) = (fields.bindOptions, fields.volumeOptions, fields.tmpfsOptions)
        let wrap = { (reason: String) in EngineError.invalid("invalid mount config for type \"\(kind)\": \(reason)") }
        if let reason = targetProblem(target) { throw wrap(reason) }
        switch kind {
        case "bind":
            guard let host = source, !host.isEmpty else { throw wrap("field Source must not be empty") }
            guard host.hasPrefix("/") else { throw wrap("invalid mount path: '\(host)' mount path must be absolute") }
            if let mode = bindOptions.first(where: { $0 != "bind-nonrecursive" }), !propagationModes.contains(mode) {
                throw wrap("invalid propagation mode: \(mode)")
            }
            return MountRequest(kind: .bind, source: FS.clean(host), target: FS.clean(target), readOnly: readOnly, options: bindOptions)
        case "volume":
            let name = source.flatMap { $0.isEmpty ? nil : $0 }
            if name == nil, readOnly { throw wrap("must not set ReadOnly mode when using anonymous volumes") }
            if let name { try volumeName(name) }
            return MountRequest(kind: .volume, source: name, target: FS.clean(target), readOnly: readOnly,
                                options: volumeOptions.filter { $0 != "copy" })
        case "tmpfs":
            if let source, !source.isEmpty { throw wrap("field Source must not be specified") }
            return MountRequest(kind: .tmpfs, source: nil, target: FS.clean(target), readOnly: readOnly, options: tmpfsOptions)
        default:
            throw wrap("mount type unknown")
        }
    }

    /// `--tmpfs /path[:opts]`: the options are mount(8)'s (`size=64m,mode=1777,noexec`), kept as given.
    public static func tmpfs(_ spec: String) throws(EngineError) -> MountRequest {
        let (path, options) = cut(spec, ":")
        if let reason = targetProblem(path) { throw .invalid(reason) }
        let list = (options ?? "").split(separator: ",").map(String.init)
        return MountRequest(kind: .tmpfs, source: nil, target: FS.clean(path), readOnly: list.contains("ro"),
                            options: list.filter { $0 != "ro" && $0 != "rw" })
    }

    static let propagationModes: Set<String> = ["private", "rprivate", "slave", "rslave", "shared", "rshared"]

    /// Docker's check of a `-v` mode list: each of rw/ro, z/Z, propagation, nocopy, consistency at most once.
    static func validMountMode(_ mode: String) -> Bool {
        if mode.isEmpty { return true }
        var counts = [0, 0, 0, 0, 0]
        for option in mode.split(separator: ",", omittingEmptySubsequences: false).map(String.init) {
            switch option {
            case "rw", "ro": counts[0] += 1
            case "z", "Z": counts[1] += 1
            case _ where propagationModes.contains(option): counts[2] += 1
            case "nocopy": counts[3] += 1
            case "consistent", "cached", "delegated": counts[4] += 1
            default: return false
            }
        }
        return counts.allSatisfy { $0 <= 1 }
    }

    /// Why a mount target is refused, in Docker's words, or nil.
    static func targetProblem(_ target: String) -> String? {
        if target.isEmpty { return "field Target must not be empty" }
        if FS.clean(target) == "/" { return "invalid specification: destination can't be '/'" }
        if !target.hasPrefix("/") { return "invalid mount path: '\(target)' mount path must be absolute" }
        return nil
    }

    /// One CSV record as Go's encoding/csv reads it: `"`-quoted fields, `""` inside quotes.
    static func csvFields(_ text: String) throws(EngineError) -> [String] {
        if text.isEmpty { throw .invalid("EOF") }
        var fields: [String] = []
        var field = ""
        var chars = Array(text)[...]
        var column = 0
        while true {
            if chars.first == "\"" {
                chars = chars.dropFirst()
                column += 1
                var closed = false
                while let char = chars.first {
                    chars = chars.dropFirst()
                    column += 1
                    if char == "\"" {
                        if chars.first == "\"" {
                            field.append("\"")
                            chars = chars.dropFirst()
                            column += 1
                        } else {
                            closed = true
                            break
                        }
                    } else {
                        field.append(char)
                    }
                }
                // Go's column: one past the end for a quote never closed, the closing quote's own otherwise.
                if !closed { throw .invalid("parse error on line 1, column \(column + 1): extraneous or missing \" in quoted-field") }
                if chars.first != nil && chars.first != "," {
                    throw .invalid("parse error on line 1, column \(column): extraneous or missing \" in quoted-field")
                }
            } else {
                while let char = chars.first, char != "," {
                    if char == "\"" { throw .invalid("parse error on line 1, column \(column + 1): bare \" in non-quoted-field") }
                    field.append(char)
                    chars = chars.dropFirst()
                    column += 1
                }
            }
            fields.append(field)
            field = ""
            guard chars.first == "," else { break }
            chars = chars.dropFirst()
            column += 1
        }
        return fields
    }
}

// MARK: limits, devices, security

extension RunOptions.Parse {
    /// Docker's `--ulimit` names (go-units); `as` is left out as Docker leaves it out.
    public static let ulimitNames: Set<String> = [
        "core", "cpu", "data", "fsize", "locks", "memlock", "msgqueue", "nice", "nofile", "nproc", "rss",
        "rtprio", "rttime", "sigpending", "stack",
    ]

    /// `--ulimit nofile=1024[:2048]`; -1 means unlimited.
    public static func ulimit(_ text: String) throws(EngineError) -> Ulimit {
        let (name, values) = cut(text, "=")
        guard let values else { throw .invalid("invalid ulimit argument: \(text)") }
        guard ulimitNames.contains(name) else { throw .invalid("invalid ulimit type: \(name)") }
        let parts = values.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
        guard parts.count <= 2 else {
            throw .invalid("too many limit value arguments - \(values), can only have up to two, `soft[:hard]`")
        }
        let hard = parts.count == 2 ? try integer(parts[1]) : nil
        let soft = try integer(parts[0])
        if let hard, hard != -1 {
            if soft == -1 {
                throw .invalid("ulimit soft limit must be less than or equal to hard limit: soft: -1 (unlimited), hard: \(hard)")
            }
            if soft > hard { throw .invalid("ulimit soft limit must be less than or equal to hard limit: \(soft) > \(hard)") }
        }
        return Ulimit(name: name, soft: soft, hard: hard ?? soft)
    }

    /// `--device /dev/host[:/dev/ctr][:rwm]`.
    public static func device(_ text: String) throws(EngineError) -> DeviceRequest {
        let parts = text.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
        guard parts.count <= 3, !parts[0].isEmpty else { throw .invalid("bad format for path: \(text)") }
        var containerPath = parts[0]
        var permissions = "rwm"
        if parts.count == 2 {
            if validDeviceMode(parts[1]) { permissions = parts[1] } else { containerPath = parts[1] }
        } else if parts.count == 3 {
            guard validDeviceMode(parts[2]) else { throw .invalid("bad mode specified: \(parts[2])") }
            containerPath = parts[1]
            permissions = parts[2]
        }
        // Docker checks the container side; a relative host side would be looked up from the
        // engine's directory, which is never what was meant.
        for path in [containerPath, parts[0]] where !path.hasPrefix("/") {
            throw .invalid("\(path) is not an absolute path")
        }
        return DeviceRequest(hostPath: FS.clean(parts[0]), containerPath: FS.clean(containerPath), permissions: permissions)
    }

    static func validDeviceMode(_ mode: String) -> Bool {
        !mode.isEmpty && mode.count <= 3 && Set(mode).count == mode.count && mode.allSatisfy { "rwm".contains($0) }
    }

    /// `--restart no|always|unless-stopped|on-failure[:N]`.
    public static func restart(_ text: String) throws(EngineError) -> RestartPolicy {
        if text.isEmpty { return .no }
        let (name, count) = cut(text, ":")
        if count != nil, name.isEmpty { throw .invalid("invalid restart policy format: no policy provided before colon") }
        var retries: Int?
        if let count, !count.isEmpty {
            guard let value = Int(count) else {
                throw .invalid("invalid restart policy format: maximum retry count must be an integer")
            }
            retries = value
        }
        switch name {
        case "no", "always", "unless-stopped":
            if let retries, retries != 0 {
                throw .invalid("invalid restart policy: maximum retry count can only be used with 'on-failure'" + (retries < 0 ? " and cannot be negative" : ""))
            }
            return name == "no" ? .no : name == "always" ? .always : .unlessStopped
        case "on-failure":
            if let retries, retries < 0 { throw .invalid("invalid restart policy: maximum retry count cannot be negative") }
            // Docker's 0 means "no maximum", as does leaving it out.
            return .onFailure(maximumRetries: retries == 0 ? nil : retries)
        default:
            throw .invalid("invalid restart policy: unknown policy '\(name)'; use one of 'no', 'always', 'on-failure', or 'unless-stopped'")
        }
    }

    /// `--cap-add`/`--cap-drop`: `net_admin`, `CAP_NET_ADMIN` → `CAP_NET_ADMIN`; `ALL` stays `ALL`.
    public static func capability(_ text: String) throws(EngineError) -> String {
        var name = text.trimmingASCIISpaces().uppercased()
        if name == "ALL" { return name }
        if !name.hasPrefix("CAP_") { name = "CAP_" + name }
        guard Capability.names.contains(name) else { throw .invalid("unknown capability: \(goQuote(name))") }
        return name
    }

    /// `--stop-signal`: a name with or without SIG, or a number (1…64). Kept as given when valid.
    public static func stopSignal(_ text: String) throws(EngineError) -> String {
        guard Signals.parse(text) != nil else { throw .invalid("invalid signal: \(text)") }
        return text
    }

    /// `--sysctl KEY=VALUE`, limited to the namespaced keys Docker allows.
    public static func sysctl(_ text: String) throws(EngineError) -> (key: String, value: String) {
        let (key, value) = cut(text, "=")
        let allowed: Set<String> = [
            "kernel.msgmax", "kernel.msgmnb", "kernel.msgmni", "kernel.sem", "kernel.shmall", "kernel.shmmax",
            "kernel.shmmni", "kernel.shm_rmid_forced",
        ]
        guard let value, !key.isEmpty, allowed.contains(key) || key.hasPrefix("net.") || key.hasPrefix("fs.mqueue.") else {
            throw .invalid("sysctl '\(text)' is not allowed")
        }
        return (key, value)
    }

    /// `--network host|none|bridge|default|NAME|container:NAME`.
    public static func network(_ text: String) throws(EngineError) -> NetworkMode {
        switch text {
        case "", "default": return .default
        case "host": return .host
        case "none": return .none
        default:
            if text.hasPrefix("container:") {
                let name = String(text.dropFirst("container:".count))
                guard !name.isEmpty else { throw .invalid("invalid container format container:<name|id>") }
                return .container(name)
            }
            if text.trimmingASCIISpaces().isEmpty { throw .invalid("no name set for network") }
            return .named(text)
        }
    }

    /// `--pull always|missing|never`.
    public static func pull(_ text: String) throws(EngineError) -> PullPolicy {
        if text.isEmpty { return .missing }
        guard let policy = PullPolicy(rawValue: text) else {
            throw .invalid("invalid pull option: '\(text)': must be one of \"always\", \"missing\" or \"never\"")
        }
        return policy
    }
}

// MARK: environment and labels

extension RunOptions.Parse {
    /// `-e KEY=VALUE` as given; a bare `-e KEY` takes the caller's value, or nil (dropped) when unset.
    public static func env(_ text: String, lookup: (String) -> String?) throws(EngineError) -> String? {
        let (key, value) = cut(text, "=")
        guard !key.isEmpty else { throw .invalid("invalid environment variable: \(text)") }
        if value != nil { return text }
        return lookup(key).map { key + "=" + $0 }
    }

    /// An `--env-file`'s (or `--label-file`'s) lines, in Docker's format (its CLI's pkg/kvfile):
    /// blank lines and `#` comments skipped, leading whitespace dropped, `KEY=VALUE` kept verbatim
    /// (no quotes removed, trailing whitespace kept), a bare `KEY` resolved through `lookup` or
    /// dropped (label files have no lookup: a bare key is dropped there too).
    public static func envFile(contents: [UInt8], path: String, lookup: ((String) -> String?)?) throws(EngineError) -> [String] {
        let fail = { (reason: String) in EngineError.invalid("invalid env file (\(path)): \(reason)") }
        var out: [String] = []
        var lineNumber = 0
        var lines = contents.split(separator: 0x0A, omittingEmptySubsequences: false)
        if lines.last?.isEmpty == true { lines.removeLast() }
        for rawLine in lines {
            lineNumber += 1
            var bytes = Array(rawLine)
            if bytes.last == 0x0D { bytes.removeLast() }  // bufio.ScanLines drops a CR before the LF
            guard var text = String(validating: bytes, as: UTF8.self) else {
                let shown = bytes.map(String.init).joined(separator: " ")  // Go's %v of a []byte
                throw fail("invalid utf8 bytes at line \(lineNumber): [\(shown)]")
            }
            if lineNumber == 1, text.hasPrefix("\u{FEFF}") { text.removeFirst() }
            let line = String(text.drop { $0.isWhitespace })
            if line.isEmpty || line.hasPrefix("#") { continue }
            let (key, value) = cut(line, "=")
            if key.isEmpty { throw fail("no variable name on line '\(line)'") }
            if key.contains(" ") || key.contains("\t") { throw fail("variable '\(key)' contains whitespaces") }
            if value != nil {
                out.append(line)
            } else if let found = lookup?(key) {
                out.append(key + "=" + found)
            }
        }
        return out
    }

    /// Reads an `--env-file` (lookup non-nil) or `--label-file` (lookup nil).
    public static func keyValueFile(_ path: String, lookup: ((String) -> String?)?) throws(EngineError) -> [String] {
        let bytes: [UInt8]
        do { bytes = try FS.readFile(path) } catch { throw .invalid(error.description) }
        return try envFile(contents: bytes, path: path, lookup: lookup)
    }

    /// `-l key=value` (or a bare `key`, with an empty value).
    public static func label(_ text: String) throws(EngineError) -> (key: String, value: String) {
        let (rawKey, value) = cut(text, "=")
        let key = String(rawKey.drop { $0 == " " || $0 == "\t" })
        if key.isEmpty { throw .invalid("invalid label '\(text)': empty name") }
        if key.contains(" ") || key.contains("\t") { throw .invalid("label '\(key)' contains whitespaces") }
        return (key, value ?? "")
    }

    /// `--log-opt KEY=VALUE` for the json-file driver.
    public static func logOption(_ text: String) throws(EngineError) -> (key: String, value: String) {
        let (key, value) = cut(text, "=")
        guard let value else { throw .invalid("invalid log opt '\(text)': must be KEY=VALUE") }
        switch key {
        case "max-size":
            // json-file reads max-size with decimal units (go-units FromHumanSize); -1 is unlimited.
            if value != "-1", (try? size(value)) == nil { throw .invalid("invalid max-size: \(value)") }
        case "max-file":
            guard let count = Int(value) else { throw .invalid("strconv.Atoi: parsing \(goQuote(value)): invalid syntax") }
            if count < 1 { throw .invalid("max-file cannot be less than 1") }
        case "compress":
            if goBool(value) == nil { throw .invalid("error reading compress log option: strconv.ParseBool: parsing \(goQuote(value)): invalid syntax") }
        case "labels", "labels-regex", "env", "env-regex", "tag", "mode", "max-buffer-size":
            break
        default:
            throw .invalid("unknown log opt '\(key)' for json-file log driver")
        }
        return (key, value)
    }
}

// MARK: durations

extension RunOptions.Parse {
    /// A Go duration (`30s`, `1m30s`, `500ms`, `1.5h`, `-2s`) in nanoseconds, with time.ParseDuration's errors.
    public static func duration(_ text: String) throws(EngineError) -> Int64 {
        let invalid = EngineError.invalid("time: invalid duration \(goQuote(text))")
        var rest = Substring(text)
        var negative = false
        if let first = rest.first, first == "-" || first == "+" {
            negative = first == "-"
            rest = rest.dropFirst()
        }
        if rest == "0" { return 0 }
        if rest.isEmpty { throw invalid }
        let units: [String: UInt64] = [
            "ns": 1, "us": 1_000, "\u{00B5}s": 1_000, "\u{03BC}s": 1_000, "ms": 1_000_000, "s": 1_000_000_000,
            "m": 60_000_000_000, "h": 3_600_000_000_000,
        ]
        var total: UInt64 = 0
        while !rest.isEmpty {
            guard let first = rest.first, first == "." || first.isASCII && first.isNumber else { throw invalid }
            let whole = rest.prefix { $0.isASCII && $0.isNumber }
            rest = rest.dropFirst(whole.count)
            var fraction: Substring = ""
            if rest.first == "." {
                rest = rest.dropFirst()
                fraction = rest.prefix { $0.isASCII && $0.isNumber }
                rest = rest.dropFirst(fraction.count)
            }
            if whole.isEmpty && fraction.isEmpty { throw invalid }
            let unitText = rest.prefix { $0 != "." && !($0.isASCII && $0.isNumber) }
            rest = rest.dropFirst(unitText.count)
            if unitText.isEmpty { throw .invalid("time: missing unit in duration \(goQuote(text))") }
            guard let unit = units[String(unitText)] else {
                throw .invalid("time: unknown unit \(goQuote(String(unitText))) in duration \(goQuote(text))")
            }
            guard let value = whole.isEmpty ? 0 : UInt64(whole) else { throw invalid }
            var (amount, overflow) = value.multipliedReportingOverflow(by: unit)
            if overflow { throw invalid }
            // The fraction as Go adds it: its digits as an integer, times unit / 10^digits.
            var digits: UInt64 = 0
            var scale = 1.0
            for digit in fraction {
                let (shifted, over) = digits.multipliedReportingOverflow(by: 10)
                if over || shifted > UInt64(Int64.max) - 9 { break }  // Go stops taking digits here too
                digits = shifted + UInt64(digit.wholeNumberValue ?? 0)
                scale *= 10
            }
            let part = Double(digits) * (Double(unit) / scale)
            (amount, overflow) = amount.addingReportingOverflow(UInt64(part))
            if overflow { throw invalid }
            (total, overflow) = total.addingReportingOverflow(amount)
            if overflow || total > UInt64(Int64.max) { throw invalid }
        }
        return negative ? -Int64(total) : Int64(total)
    }
}

// MARK: checks across flags (Docker's daemon checks)

extension RunOptions {
    /// Docker's checks of a whole configuration, the ones its daemon makes on create: limits that
    /// contradict each other, values out of range. `hostCPUs` bounds `--cpus`.
    public func validate(hostCPUs: Int) throws(EngineError) {
        let minimumMemory: Int64 = 6 * 1024 * 1024
        if let name, !RunOptions.validContainerName(name) {
            throw .invalid("Invalid container name (\(name)), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed")
        }
        if let memory, memory != 0, memory < minimumMemory { throw .invalid("Minimum memory limit allowed is 6MB") }
        let memory = self.memory ?? 0
        let swap = memorySwap ?? 0
        if memory > 0, swap > 0, swap < memory {
            throw .invalid("Minimum memoryswap limit should be larger than memory limit, see usage")
        }
        if memory == 0, swap > 0 {
            throw .invalid("You should always set the Memory limit when using Memoryswap limit, see usage")
        }
        if let reservation = memoryReservation, reservation > 0 {
            if reservation < minimumMemory { throw .invalid("Minimum memory reservation allowed is 6MB") }
            if memory > 0, memory < reservation {
                throw .invalid("Minimum memory limit can not be less than memory reservation limit, see usage")
            }
        }
        let nano = nanoCPUs ?? 0
        if nano > 0, (cpuPeriod ?? 0) > 0 { throw .invalid("Conflicting options: Nano CPUs and CPU Period cannot both be set") }
        if nano > 0, (cpuQuota ?? 0) > 0 { throw .invalid("Conflicting options: Nano CPUs and CPU Quota cannot both be set") }
        if nano < 0 || nano > Int64(hostCPUs) * 1_000_000_000 {
            throw .invalid("Range of CPUs is from 0.01 to \(hostCPUs).00, as there are only \(hostCPUs) CPUs available")
        }
        if let period = cpuPeriod, period != 0, period < 1000 || period > 1_000_000 {
            throw .invalid("CPU cfs period can not be less than 1ms (i.e. 1000) or larger than 1s (i.e. 1000000)")
        }
        if let quota = cpuQuota, quota > 0, quota < 1000 { throw .invalid("CPU cfs quota can not be less than 1ms (i.e. 1000)") }
        if let shm = shmSize, shm < 0 { throw .invalid("SHM size can not be less than 0") }
        if let adj = oomScoreAdj, adj < -1000 || adj > 1000 {
            throw .invalid("Invalid value \(adj), range for oom score adj is [-1000, 1000]")
        }
        if let workingDir, !workingDir.isEmpty, !workingDir.hasPrefix("/") {
            throw .invalid("the working directory '\(workingDir)' is invalid, it needs to be an absolute path")
        }
        let minimum: Int64 = 1_000_000  // 1ms, Docker's container.MinimumDuration
        for (label, value) in [("Interval", health.interval), ("Timeout", health.timeout), ("StartPeriod", health.startPeriod), ("StartInterval", health.startInterval)] {
            if let value, value != 0, value < minimum { throw .invalid("\(label) in Healthcheck cannot be less than 1ms") }
        }
        if let retries = health.retries, retries < 0 { throw .invalid("Retries in Healthcheck cannot be negative") }
        if autoRemove, restart != .no { throw .invalid("conflicting options: cannot specify both --restart and --rm") }
        var targets = Set<String>()
        for mount in mounts {
            guard targets.insert(mount.target).inserted else { throw .invalid("Duplicate mount point: \(mount.target)") }
        }
    }

    /// CPUs this process may run on (its affinity mask, as Go's runtime.NumCPU counts), the bound
    /// Docker puts on `--cpus`.
    public static func hostCPUs() -> Int {
        if let status = try? FS.readText("/proc/self/status"),
           let line = status.split(separator: "\n").first(where: { $0.hasPrefix("Cpus_allowed:") }) {
            let count = line.dropFirst("Cpus_allowed:".count).reduce(0) { $0 + ($1.hexDigitValue ?? 0).nonzeroBitCount }
            if count > 0 { return count }
        }
        return max(1, sysconf(Int32(_SC_NPROCESSORS_ONLN)))
    }

    /// Docker's container names: `[a-zA-Z0-9][a-zA-Z0-9_.-]+`, optionally after one `/`.
    public static func validContainerName(_ name: String) -> Bool {
        let trimmed = name.hasPrefix("/") ? Array(name.utf8.dropFirst()) : Array(name.utf8)
        guard trimmed.count >= 2, isAlphanumeric(trimmed[0]) else { return false }
        return trimmed.dropFirst().allSatisfy { isAlphanumeric($0) || $0 == 0x5F || $0 == 0x2E || $0 == 0x2D }
    }
}

// MARK: the flags as typed on the command line

/// The `docker run`/`docker create` flags as raw strings, exactly as typed (repeatable flags in
/// order). `runOptions` parses and checks them with Docker's rules and wording; the CLI's
/// ArgumentParser struct only collects them.
public struct RunArguments: Sendable, Equatable {
    typealias Parse = RunOptions.Parse

    public var detach = false, interactive = false, tty = false, autoRemove = false
    public var name: String?, hostname: String?, domainname: String?
    public var env: [String] = [], envFile: [String] = []
    public var workdir: String?, user: String?, entrypoint: String?
    public var volume: [String] = [], mount: [String] = [], tmpfs: [String] = []
    public var readOnly = false
    public var memory: String?, memorySwap: String?, memoryReservation: String?
    public var cpus: String?, cpuShares: String?, cpuPeriod: String?, cpuQuota: String?
    public var cpusetCpus: String?, cpusetMems: String?
    public var pidsLimit: String?, ulimit: [String] = [], shmSize: String?, oomScoreAdj: String?
    public var capAdd: [String] = [], capDrop: [String] = [], privileged = false
    public var device: [String] = [], securityOpt: [String] = [], sysctl: [String] = []
    public var initProcess = false
    public var restart: String?
    public var healthCmd: String?, healthInterval: String?, healthTimeout: String?, healthRetries: String?
    public var healthStartPeriod: String?, healthStartInterval: String?, noHealthcheck = false
    public var label: [String] = [], labelFile: [String] = []
    public var stopSignal: String?, stopTimeout: String?
    public var network: [String] = []
    public var publish: [String] = [], publishAll = false, networkAlias: [String] = [], ip: String?
    public var expose: [String] = []
    public var dns: [String] = [], dnsSearch: [String] = [], dnsOption: [String] = [], addHost: [String] = []
    public var pull: String?
    public var logOpt: [String] = []
    public var groupAdd: [String] = []

    public init() {}

    /// `--expose PORT[-PORT][/PROTO]` and every `-p`'s container port, as Docker's CLI adds them
    /// to ExposedPorts ("80/tcp"); nil when there are none.
    func exposedPorts() throws(EngineError) -> [String]? {
        var keys = Set<String>()
        for item in publish {
            for mapping in (try? PortMapping.parse(item)) ?? [] { keys.insert(mapping.containerKey) }
        }
        for item in expose {
            let (ports, proto) = Parse.cut(item, "/")
            let (first, last) = Parse.cut(ports, "-")
            guard let low = Int(first), (1...65535).contains(low) else {
                throw .invalid("invalid argument \"\(item)\" for \"--expose\" flag: invalid range format for --expose: \(item)")
            }
            let high = last.flatMap { Int($0) } ?? low
            guard last == nil || Int(last ?? "") != nil, high >= low, high <= 65535 else {
                throw .invalid("invalid argument \"\(item)\" for \"--expose\" flag: invalid range format for --expose: \(item)")
            }
            let name = (proto ?? "tcp").lowercased()
            guard ["tcp", "udp", "sctp"].contains(name) else {
                throw .invalid("invalid argument \"\(item)\" for \"--expose\" flag: invalid proto: \(name)")
            }
            for port in low...high { keys.insert("\(port)/\(name)") }
        }
        return keys.isEmpty ? nil : keys.sorted()
    }

    /// `-p`, `-P`, `--network-alias`, `--ip`, `--dns*`, `--add-host`, with Docker's checks against the mode.
    func networkRequest(mode: NetworkMode) throws(EngineError) -> NetworkRequest {
        var request = NetworkRequest()
        for item in publish {
            do { request.publish += try PortMapping.parse(item) } catch {
                throw .invalid("invalid argument \"\(item)\" for \"-p, --publish\" flag: \(error.message)")
            }
        }
        request.publishAll = publishAll
        for item in dns {
            guard IPv4Address(item) != nil || item.contains(":") else {
                throw .invalid("invalid argument \"\(item)\" for \"--dns\" flag: \(item) is not an ip address")
            }
            request.dns.append(item)
        }
        request.dnsSearch = dnsSearch
        request.dnsOptions = dnsOption
        for item in addHost {
            let parts = item.split(separator: ":", maxSplits: 1).map(String.init)
            guard parts.count == 2, !parts[0].isEmpty, IPv4Address(parts[1]) != nil || parts[1].contains(":") || parts[1] == "host-gateway" else {
                throw .invalid("invalid argument \"\(item)\" for \"--add-host\" flag: bad format for add-host: \"\(item)\"")
            }
            request.extraHosts.append(item)
        }
        let userDefined: Bool
        if case .named(let name) = mode { userDefined = name != "bridge" } else { userDefined = false }
        if !networkAlias.isEmpty && !userDefined {
            throw .invalid("Error response from daemon: network-scoped alias is supported only for containers in user defined networks")
        }
        request.aliases = networkAlias
        if let ip, !ip.isEmpty {
            guard IPv4Address(ip) != nil else { throw .invalid("invalid argument \"\(ip)\" for \"--ip\" flag: invalid string being converted to IP address: \(ip)") }
            guard userDefined else { throw .invalid("Error response from daemon: user specified IP address is supported on user defined networks only") }
            request.ipv4 = ip
        }
        switch mode {
        case .container:
            if !request.publish.isEmpty || publishAll {
                throw .invalid("conflicting options: port publishing and the container type network mode")
            }
            if !request.dns.isEmpty || !request.extraHosts.isEmpty {
                throw .invalid("conflicting options: dns and the network mode")
            }
        case .host, .none:
            // Docker discards published ports there (with a warning on stderr).
            request.publish = []
            request.publishAll = false
        default:
            break
        }
        return request
    }

    /// Parses every flag (errors name the flag as Docker's CLI does:
    /// `invalid argument "x" for "-m, --memory" flag: invalid size: 'x'`), then applies Docker's
    /// checks across flags.
    public func runOptions(environment: [String: String], currentDirectory: String, hostCPUs: Int) throws(EngineError) -> RunOptions {
        var o = RunOptions()
        let lookup: (String) -> String? = { environment[$0] }
        o.detach = detach
        o.interactive = interactive
        o.tty = tty
        o.autoRemove = autoRemove
        o.name = name.map { $0.hasPrefix("/") ? String($0.dropFirst()) : $0 }
        o.hostname = hostname.flatMap { $0.isEmpty ? nil : $0 }
        o.domainname = domainname.flatMap { $0.isEmpty ? nil : $0 }
        o.workingDir = workdir.flatMap { $0.isEmpty ? nil : $0 }
        o.user = user.flatMap { $0.isEmpty ? nil : $0 }
        // `--entrypoint ""` clears the image's entrypoint; Docker sends [""] for it.
        o.entrypoint = entrypoint.map { [$0] }
        o.readOnlyRootfs = readOnly
        o.privileged = privileged
        o.initProcess = initProcess
        o.groupAdd = groupAdd
        o.cpusetCpus = cpusetCpus.flatMap { $0.isEmpty ? nil : $0 }
        o.cpusetMems = cpusetMems.flatMap { $0.isEmpty ? nil : $0 }

        // Flags the CLI parses as they are read, in Docker's flag order.
        for item in env {
            if let value = try flag("-e, --env", item, { v throws(EngineError) in try Parse.env(v, lookup: lookup) }) {
                o.env.append(value)
            }
        }
        o.memory = try memory.map { v throws(EngineError) in try flag("-m, --memory", v, Parse.size) }
        o.memorySwap = try memorySwap.map { v throws(EngineError) in try flag("--memory-swap", v, Parse.memorySwap) }
        o.memoryReservation = try memoryReservation.map { v throws(EngineError) in try flag("--memory-reservation", v, Parse.size) }
        o.shmSize = try shmSize.map { v throws(EngineError) in try flag("--shm-size", v, Parse.size) }
        o.nanoCPUs = try cpus.map { v throws(EngineError) in try flag("--cpus", v, Parse.nanoCPUs) }
        if let cpuShares {
            let shares = try flag("-c, --cpu-shares", cpuShares, Parse.integer)
            if shares < 0 { throw .invalid("invalid CPU shares (\(shares)): value must be a positive integer") }
            o.cpuShares = UInt64(shares)
        }
        if let cpuPeriod {
            let period = try flag("--cpu-period", cpuPeriod, Parse.integer)
            if period < 0 { throw .invalid("invalid CPU period (\(period)): value must be a positive integer") }
            o.cpuPeriod = UInt64(period)
        }
        o.cpuQuota = try cpuQuota.map { v throws(EngineError) in try flag("--cpu-quota", v, Parse.integer) }
        o.pidsLimit = try pidsLimit.map { v throws(EngineError) in try flag("--pids-limit", v, Parse.integer) }
        if let oomScoreAdj {
            o.oomScoreAdj = Int(try flag("--oom-score-adj", oomScoreAdj, Parse.integer))
        }
        if let stopTimeout {
            o.stopTimeout = Int(try flag("--stop-timeout", stopTimeout, Parse.integer))
        }
        for item in ulimit {
            let parsed = try flag("--ulimit", item, Parse.ulimit)
            // A later --ulimit of the same name replaces the earlier one; Docker keeps them in a
            // map and sends them sorted by name.
            o.ulimits.removeAll { $0.name == parsed.name }
            o.ulimits.append(parsed)
        }
        o.ulimits.sort { $0.name < $1.name }
        for item in sysctl {
            let (key, value) = try flag("--sysctl", item, Parse.sysctl)
            o.sysctls[key] = value
        }
        var labelList: [String] = []
        for item in label {
            _ = try flag("-l, --label", item, Parse.label)
            labelList.append(item)
        }
        var health = HealthOverride()
        if let healthCmd, !healthCmd.isEmpty { health.test = ["CMD-SHELL", healthCmd] }
        health.interval = try healthInterval.map { v throws(EngineError) in try flag("--health-interval", v, Parse.duration) }
        health.timeout = try healthTimeout.map { v throws(EngineError) in try flag("--health-timeout", v, Parse.duration) }
        health.startPeriod = try healthStartPeriod.map { v throws(EngineError) in try flag("--health-start-period", v, Parse.duration) }
        health.startInterval = try healthStartInterval.map { v throws(EngineError) in try flag("--health-start-interval", v, Parse.duration) }
        if let healthRetries {
            health.retries = Int(try flag("--health-retries", healthRetries, Parse.integer))
        }
        var mountFields: [Parse.MountFields] = []
        for item in mount {
            mountFields.append(try flag("--mount", item, { v throws(EngineError) in try Parse.mountFields(v, currentDirectory: currentDirectory) }))
        }

        // What the CLI checks after reading all flags (container/opts.go's parse).
        for item in volume {
            var request = try Parse.volume(item, currentDirectory: currentDirectory)
            if request.kind == .bind { request.createsMissingSource = true }
            o.mounts.append(request)
        }
        for item in tmpfs {
            o.mounts.append(try Parse.tmpfs(item))
        }
        for item in device {
            o.devices.append(try Parse.device(item))
        }
        var envFromFiles: [String] = []
        for path in envFile {
            envFromFiles += try Parse.keyValueFile(path, lookup: lookup)
        }
        o.env = envFromFiles + o.env
        var labelsFromFiles: [String] = []
        for path in labelFile {
            labelsFromFiles += try Parse.keyValueFile(path, lookup: nil)
        }
        for item in labelsFromFiles + labelList {
            let (key, value) = try Parse.label(item)
            o.labels[key] = value
        }
        o.restart = try Parse.restart(restart ?? "")
        for item in logOpt {
            let (key, value) = try Parse.logOption(item)
            o.logOptions[key] = value
        }
        for item in securityOpt {
            try o.applySecurityOption(item)
        }
        let haveHealth = health != HealthOverride()
        if noHealthcheck {
            if haveHealth { throw .invalid("--no-healthcheck conflicts with --health-* options") }
            o.noHealthcheck = true
        } else {
            for (label, value) in [("interval", health.interval), ("timeout", health.timeout), ("start-period", health.startPeriod), ("start-interval", health.startInterval)] {
                if let value, value < 0 { throw .invalid("--health-\(label) cannot be negative") }
            }
            if let retries = health.retries, retries < 0 { throw .invalid("--health-retries cannot be negative") }
            o.health = health
        }
        if autoRemove, o.restart != .no { throw .invalid("conflicting options: cannot specify both --restart and --rm") }
        let modes = try network.map { v throws(EngineError) in try Parse.network(v) }
        if modes.count > 1 {
            let userDefined = modes.filter { if case .named(let n) = $0 { n != "bridge" } else { false } }
            if userDefined.count != modes.count {
                throw .invalid("conflicting options: cannot attach both user-defined and non-user-defined network-modes")
            }
            throw .invalid("connecting a container to more than one network is not supported yet")
        }
        o.network = modes.first ?? .default
        o.net = try networkRequest(mode: o.network)
        o.exposedPorts = try exposedPorts()
        o.pull = try Parse.pull(pull ?? "")

        // What the daemon checks.
        var mountRequests: [MountRequest] = []
        for fields in mountFields {
            mountRequests.append(try Parse.mountRequest(fields))
        }
        o.mounts = mountRequests + o.mounts  // --mount first, then -v and --tmpfs
        o.stopSignal = try stopSignal.flatMap { v throws(EngineError) in v.isEmpty ? nil : try Parse.stopSignal(v) }
        o.capAdd = try capAdd.map { v throws(EngineError) in try daemon("invalid CapAdd", v, Parse.capability) }
        o.capDrop = try capDrop.map { v throws(EngineError) in try daemon("invalid CapDrop", v, Parse.capability) }
        try o.validate(hostCPUs: hostCPUs)
        return o
    }

    /// Runs a per-flag parser; its error gets the CLI's flag prefix.
    func flag<T>(_ names: String, _ value: String, _ parse: (String) throws(EngineError) -> T) throws(EngineError) -> T {
        do { return try parse(value) } catch {
            throw EngineError(error.kind, "invalid argument \(goQuote(value)) for \(goQuote(names)) flag: \(error.message)")
        }
    }

    func daemon<T>(_ prefix: String, _ value: String, _ parse: (String) throws(EngineError) -> T) throws(EngineError) -> T {
        do { return try parse(value) } catch { throw EngineError(error.kind, "\(prefix): \(error.message)") }
    }
}

extension RunOptions {
    /// One `--security-opt`: `seccomp=unconfined|builtin|PATH`, `no-new-privileges[=|:true|false]`,
    /// `label=…`, `apparmor=…`, `systempaths=unconfined` (the last three kept for inspect).
    public mutating func applySecurityOption(_ text: String) throws(EngineError) {
        if text == "no-new-privileges" {
            noNewPrivileges = true
            securityOpt.append(text)
            return
        }
        var (key, value) = Parse.cut(text, "=")
        if value == nil { (key, value) = Parse.cut(text, ":") }
        guard let value, !value.isEmpty else { throw .invalid("Invalid --security-opt: \(goQuote(text))") }
        switch key {
        case "seccomp":
            switch value {
            case "unconfined": seccomp = .unconfined
            case "builtin": seccomp = .builtin
            default: seccomp = .profile(path: value)
            }
        case "no-new-privileges":
            guard let flag = goBool(value) else { throw .invalid("invalid --security-opt 2: \(goQuote(text))") }
            noNewPrivileges = flag
            securityOpt.append(text)
        case "systempaths":
            guard value == "unconfined" else { throw .invalid("invalid --security-opt 2: \(goQuote(text))") }
            securityOpt.append(text)
        case "writable-cgroups":
            guard goBool(value) != nil else { throw .invalid("invalid --security-opt 2: \(goQuote(text))") }
            securityOpt.append(text)
        case "label", "apparmor", "mask", "unmask", "proc-opts":
            securityOpt.append(text)
        default:
            throw .invalid("invalid --security-opt 2: \(goQuote(text))")
        }
    }
}

// MARK: helpers shared by the parsers

extension RunOptions.Parse {
    /// Go's strings.Cut: the text before the first `separator`, and after it (nil when absent).
    static func cut(_ text: String, _ separator: Character) -> (String, String?) {
        guard let index = text.firstIndex(of: separator) else { return (text, nil) }
        return (String(text[..<index]), String(text[text.index(after: index)...]))
    }
}

/// Go's strconv.Quote for the printable ASCII that flags hold.
func goQuote(_ text: String) -> String {
    var out = "\""
    for scalar in text.unicodeScalars {
        switch scalar {
        case "\"": out += "\\\""
        case "\\": out += "\\\\"
        case "\n": out += "\\n"
        case "\t": out += "\\t"
        default: out.unicodeScalars.append(scalar)
        }
    }
    return out + "\""
}

/// Go's strconv.ParseBool.
func goBool(_ text: String) -> Bool? {
    switch text {
    case "1", "t", "T", "TRUE", "true", "True": true
    case "0", "f", "F", "FALSE", "false", "False": false
    default: nil
    }
}

/// Go's strconv.ParseFloat for the decimal forms a size can have (no hex, no inf/nan).
func goFloat(_ text: String) -> Double? {
    guard !text.isEmpty, text.allSatisfy({ $0.isASCII && ($0.isNumber || "+-.eE".contains($0)) }),
          text.contains(where: { $0.isNumber }) else { return nil }
    return Double(text)
}

/// Whether ParseInt's failure is about range (digits only) rather than syntax.
func goIntegerSyntax(_ text: String) -> Bool {
    let digits = text.hasPrefix("-") || text.hasPrefix("+") ? text.dropFirst() : Substring(text)
    return !digits.isEmpty && digits.allSatisfy { $0.isASCII && $0.isNumber }
}

func isAlphanumeric(_ byte: UInt8) -> Bool {
    (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A)
}

extension String {
    func trimmingASCIISpaces() -> String {
        let isSpace: (Character) -> Bool = { $0 == " " || $0 == "\t" || $0 == "\n" || $0 == "\r" }
        return String(drop(while: isSpace).reversed().drop(while: isSpace).reversed())
    }
}
