import OCI

/// A Dockerfile instruction as `import --change` takes it (`CMD ["sh"]`, `ENV A=b`, `EXPOSE 80/tcp`…),
/// applied to an image's container config. Only the instructions Docker allows there are accepted.
public enum ConfigChange {
    public static let allowed = ["CMD", "ENTRYPOINT", "ENV", "EXPOSE", "LABEL", "ONBUILD", "STOPSIGNAL", "USER", "VOLUME", "WORKDIR"]

    /// Every change in order, as Docker's commit and import apply them: as the lines of one
    /// Dockerfile (an entry may hold several), and an ENTRYPOINT clears the CMD unless one of the
    /// changes set it (as the two instructions do in a Dockerfile).
    public static func apply(_ changes: [String], to config: inout ContainerConfig) throws(ImageStoreError) {
        var cmdSet = false
        let lines: [String] = changes.flatMap { change in change.split(separator: "\n").map { String($0) } }
            .filter { line in !line.allSatisfy { $0 == " " || $0 == "\t" || $0 == "\r" } }
        for line in lines {
            try apply(line, to: &config)
            switch keyword(line) {
            case "CMD": cmdSet = true
            case "ENTRYPOINT" where !cmdSet: config.cmd = nil
            default: break
            }
        }
    }

    static func keyword(_ line: String) -> String {
        String(line.drop { $0 == " " || $0 == "\t" }.prefix { $0 != " " && $0 != "\t" }).uppercased()
    }

    public static func apply(_ line: String, to config: inout ContainerConfig) throws(ImageStoreError) {
        let trimmed = line.drop { $0 == " " || $0 == "\t" }
        let keyword = keyword(line)
        let rest = String(trimmed.dropFirst(keyword.count).drop { $0 == " " || $0 == "\t" })
        // dockerd's words for an instruction it does not take here.
        guard allowed.contains(keyword) else { throw ImageStoreError("\(keyword.lowercased()) is not a valid change command") }
        func bad(_ why: String) -> ImageStoreError { ImageStoreError("--change \"\(line)\": \(why)") }
        if rest.isEmpty && keyword != "CMD" && keyword != "ENTRYPOINT" {
            let count = ["USER", "WORKDIR", "STOPSIGNAL"].contains(keyword) ? "exactly one argument" : "at least one argument"
            throw ImageStoreError("\(keyword) requires \(count)")
        }
        switch keyword {
        case "CMD": config.cmd = try commandForm(rest)
        case "ENTRYPOINT": config.entrypoint = try commandForm(rest)
        case "ENV":
            for (key, value) in try keyValues(rest, what: "ENV") {
                var env = (config.env ?? []).filter { !$0.hasPrefix(key + "=") }
                env.append("\(key)=\(value)")
                config.env = env
            }
        case "LABEL":
            var labels = config.labels ?? [:]
            for (key, value) in try keyValues(rest, what: "LABEL") { labels[key] = value }
            config.labels = labels
        case "EXPOSE":
            var ports = config.exposedPorts ?? [:]
            for port in rest.split(separator: " ") {
                let parts = port.split(separator: "/")
                guard let number = parts.first, UInt16(number) != nil, parts.count <= 2 else {
                    throw ImageStoreError("Invalid containerPort: \(parts.first ?? port)")
                }
                let proto = parts.count == 2 ? parts[1].lowercased() : "tcp"
                guard ["tcp", "udp", "sctp"].contains(proto) else { throw bad("bad protocol \"\(proto)\"") }
                ports["\(number)/\(proto)"] = EmptyObject()
            }
            config.exposedPorts = ports
        case "VOLUME":
            var volumes = config.volumes ?? [:]
            let paths = rest.hasPrefix("[") ? try jsonArray(rest) : rest.split(separator: " ").map(String.init)
            for path in paths { volumes[path] = EmptyObject() }
            config.volumes = volumes
        case "USER": config.user = rest
        case "WORKDIR": config.workingDir = rest
        case "STOPSIGNAL": config.stopSignal = rest
        case "ONBUILD": config.onBuild = (config.onBuild ?? []) + [rest]
        default: break
        }
    }

    /// `["a", "b"]` (exec form) or `a b` (shell form, run by `/bin/sh -c`).
    static func commandForm(_ text: String) throws(ImageStoreError) -> [String] {
        if text.hasPrefix("["), let array = try? jsonArray(text) { return array }
        return ["/bin/sh", "-c", text]
    }

    static func jsonArray(_ text: String) throws(ImageStoreError) -> [String] {
        do { return try decodeJSON([String].self, Array(text.utf8)) } catch {
            throw ImageStoreError("--change: \(text) is not a JSON array of strings")
        }
    }

    /// `K=V K2="v 2"` or the legacy `K V` form.
    static func keyValues(_ text: String, what: String) throws(ImageStoreError) -> [(String, String)] {
        if !text.contains("=") {
            let parts = text.split(separator: " ", maxSplits: 1)
            guard parts.count == 2 else { throw ImageStoreError("--change \(what) \(text): expected KEY=VALUE") }
            return [(String(parts[0]), String(parts[1]))]
        }
        var pairs: [(String, String)] = []
        var word = ""
        var quote: Character?
        var words: [String] = []
        var escaped = false
        for character in text {
            if escaped { word.append(character); escaped = false; continue }
            if character == "\\" { escaped = true; continue }
            if let open = quote {
                if character == open { quote = nil } else { word.append(character) }
            } else if character == "\"" || character == "'" {
                quote = character
            } else if character == " " {
                if !word.isEmpty { words.append(word); word = "" }
            } else {
                word.append(character)
            }
        }
        if quote != nil { throw ImageStoreError("--change \(what) \(text): unterminated quote") }
        if !word.isEmpty { words.append(word) }
        for item in words {
            guard let eq = item.firstIndex(of: "="), eq != item.startIndex else {
                throw ImageStoreError("--change \(what) \(text): \"\(item)\" is not KEY=VALUE")
            }
            pairs.append((String(item[..<eq]), String(item[item.index(after: eq)...])))
        }
        return pairs
    }
}
