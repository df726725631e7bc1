import LinuxSys

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

    /// A `--mount` as the CLI reads it, before the daemon's checks (`RunOptions.addMounts`).
    public struct MountFields: Sendable {
        var kind: String
        var source: String?
        var target: String
        var readOnly: Bool
        var bindOptions: [String]
        var volumeOptions: [String]
        var tmpfsOptions: [String]
    }

    public static func mountFields(_ text: String, currentDirectory: String) throws(EngineError) -> MountFields {
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

extension RunOptions {
    /// `-v` and `--tmpfs`, read after every flag as Docker's CLI does. A `-v` bind's missing host
    /// directory is created at start, as Docker does for its Binds.
    public mutating func addVolumes(_ volumes: [String], tmpfs: [String], currentDirectory: String) throws(EngineError) {
        for item in volumes {
            var request = try Parse.volume(item, currentDirectory: currentDirectory)
            if request.kind == .bind { request.createsMissingSource = true }
            mounts.append(request)
        }
        for item in tmpfs {
            mounts.append(try Parse.tmpfs(item))
        }
    }

    /// The `--mount`s, with the daemon's checks; they come before `-v` and `--tmpfs`.
    public mutating func addMounts(_ fields: [Parse.MountFields]) throws(EngineError) {
        var requests: [MountRequest] = []
        for item in fields {
            requests.append(try Parse.mountRequest(item))
        }
        mounts = requests + mounts
    }
}
