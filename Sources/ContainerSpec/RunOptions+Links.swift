// MARK: --link, --volumes-from, --mac-address

extension RunOptions.Parse {
    /// `--link NAME[:ALIAS]` → (name, alias); also the `/name:/container/alias` form Docker stores.
    public static func link(_ text: String) throws(EngineError) -> (name: String, alias: String) {
        guard !text.isEmpty else { throw .invalid("empty string specified for links") }
        let parts = text.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
        guard parts.count <= 2 else { throw .invalid("bad format for links: \(text)") }
        if parts.count == 1 { return (text, text) }
        if parts[0].hasPrefix("/") {
            return (String(parts[0].dropFirst()), String(parts[1].split(separator: "/").last ?? ""))
        }
        return (parts[0], parts[1])
    }

    /// `--volumes-from CONTAINER[:MODE]` → (container, mode); MODE is Docker's mount mode list
    /// (`ro`/`rw`, `z`/`Z`, `nocopy`) without propagation, "rw" when absent. The daemon's check.
    public static func volumesFrom(_ text: String) throws(EngineError) -> (container: String, mode: String) {
        guard !text.isEmpty else {
            throw .invalid("volumes-from specification cannot be an empty string", reportedByDaemon: true)
        }
        let (container, mode) = cut(text, ":")
        guard let mode, !mode.isEmpty else { return (container, "rw") }
        var seen = Set<String>()
        for option in mode.split(separator: ",", omittingEmptySubsequences: false).map(String.init) {
            let group: String
            switch option {
            case "ro", "rw": group = "rw"
            case "z", "Z": group = "label"
            case "nocopy": group = "copy"
            case "private", "rprivate", "shared", "rshared", "slave", "rslave": group = "propagation"
            default: throw .invalid("invalid mode: \(mode)", reportedByDaemon: true)
            }
            guard seen.insert(group).inserted else { throw .invalid("invalid mode: \(mode)", reportedByDaemon: true) }
        }
        if seen.contains("propagation") {
            throw .invalid("propagation specified in volumes-from, propagation is not supported: \(mode)", reportedByDaemon: true)
        }
        if seen.contains("copy") { throw .invalid("invalid mode for volumes-from: \(mode)", reportedByDaemon: true) }
        return (container, mode)
    }

    /// `--mac-address`: six octets written with `:` or `-` (or Cisco's `xxxx.xxxx.xxxx`), as Go's
    /// net.ParseMAC reads them; returned lowercase with colons.
    public static func macAddress(_ text: String) throws(EngineError) -> String {
        let invalid = EngineError.invalid("\(text) is not a valid mac address")
        var hex: [Substring]
        if text.contains(".") {
            let groups = text.split(separator: ".", omittingEmptySubsequences: false)
            guard groups.count == 3, groups.allSatisfy({ $0.count == 4 }) else { throw invalid }
            hex = groups.flatMap { [$0.prefix(2), $0.suffix(2)] }
        } else {
            let separator: Character = text.contains("-") ? "-" : ":"
            hex = text.split(separator: separator, omittingEmptySubsequences: false)
        }
        guard hex.count == 6, hex.allSatisfy({ $0.count == 2 && $0.allSatisfy(\.isHexDigit) }) else { throw invalid }
        return hex.map { $0.lowercased() }.joined(separator: ":")
    }
}

extension RunOptions {
    /// The `--link` entries as (name, alias).
    public var parsedLinks: [(name: String, alias: String)] {
        (links ?? []).compactMap { try? Parse.link($0) }
    }
}
