/// An image reference, normalised the way Docker does it (distribution's reference grammar):
/// `busybox` → `docker.io/library/busybox:latest`, `me/app:1` → `docker.io/me/app:1`,
/// `localhost:5000/app@sha256:…` keeps its registry, and a name without tag or digest gets `latest`.
public struct ImageReference: Hashable, Sendable, CustomStringConvertible {
    /// The registry host, with its port if one was given (`docker.io`, `127.0.0.1:5000`).
    public var registry: String
    /// The repository path inside the registry (`library/busybox`).
    public var repository: String
    public var tag: String?
    public var digest: Digest?

    public static let dockerHub = "docker.io"

    public init(registry: String, repository: String, tag: String?, digest: Digest?) {
        self.registry = registry
        self.repository = repository
        self.tag = tag
        self.digest = digest
    }

    public init(parsing text: String) throws(ImageSpecError) {
        func bad(_ why: String) -> ImageSpecError { ImageSpecError("invalid reference \"\(text)\": \(why)") }
        guard !text.isEmpty else { throw bad("empty") }
        guard text.utf8.count <= 512 else { throw bad("longer than 512 bytes") }
        var rest = Substring(text)
        var digest: Digest?
        if let at = rest.firstIndex(of: "@") {
            do { digest = try Digest(String(rest[rest.index(after: at)...])) } catch { throw bad(error.message) }
            rest = rest[..<at]
        }
        var tag: String?
        let lastSlash = rest.lastIndex(of: "/")
        let nameStart = lastSlash.map { rest.index(after: $0) } ?? rest.startIndex
        if let colon = rest[nameStart...].lastIndex(of: ":") {
            tag = String(rest[rest.index(after: colon)...])
            rest = rest[..<colon]
        }
        if let tag {
            guard Self.isValidTag(tag) else {
                throw bad("tag \"\(tag)\" must be 1 to 128 characters of letters, digits, '_', '.' and '-', not starting with '.' or '-'")
            }
        }
        var components = rest.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        var registry = Self.dockerHub
        if components.count > 1, let first = components.first,
           first == "localhost" || first.contains(".") || first.contains(":") {
            guard Self.isValidHost(first) else { throw bad("registry host \"\(first)\" is not a valid host[:port]") }
            registry = first == "index.docker.io" ? Self.dockerHub : first
            components.removeFirst()
        }
        guard !components.isEmpty, !components.contains("") else { throw bad("empty path component") }
        for component in components where !Self.isValidPathComponent(component) {
            if component.contains(where: { $0.isUppercase }) { throw bad("repository name must be lowercase") }
            throw bad("path component \"\(component)\" must be lower-case letters and digits, separated by '.', '_', '__' or '-'")
        }
        if registry == Self.dockerHub && components.count == 1 { components.insert("library", at: 0) }
        let repository = components.joined(separator: "/")
        guard repository.utf8.count <= 255 else { throw bad("repository name longer than 255 characters") }
        self.init(registry: registry, repository: repository, tag: tag ?? (digest == nil ? "latest" : nil), digest: digest)
    }

    /// `registry/repository`, as Docker's `RepoTags` and `RepoDigests` start.
    public var name: String { "\(registry)/\(repository)" }

    /// The full normalised form: `docker.io/library/busybox:latest`.
    public var description: String {
        var text = name
        if let tag { text += ":\(tag)" }
        if let digest { text += "@\(digest)" }
        return text
    }

    /// The short form Docker prints (`busybox:latest`, `me/app:1`, `127.0.0.1:5000/app:1`).
    public var familiarName: String {
        guard registry == Self.dockerHub else { return name }
        return repository.hasPrefix("library/") && repository.split(separator: "/").count == 2
            ? String(repository.dropFirst("library/".count)) : repository
    }

    public var familiar: String {
        var text = familiarName
        if let tag { text += ":\(tag)" }
        if let digest { text += "@\(digest)" }
        return text
    }

    /// The same repository with another tag (and no digest).
    public func with(tag: String) -> ImageReference {
        ImageReference(registry: registry, repository: repository, tag: tag, digest: nil)
    }

    /// The tag or digest a registry is asked for: the digest wins when both are given, as Docker does.
    public var manifestReference: String { digest?.description ?? tag ?? "latest" }

    static func isValidTag(_ tag: String) -> Bool {
        let bytes = Array(tag.utf8)
        guard (1...128).contains(bytes.count) else { return false }
        func word(_ b: UInt8) -> Bool { (0x30...0x39).contains(b) || (0x41...0x5a).contains(b) || (0x61...0x7a).contains(b) || b == 0x5f }
        return word(bytes[0]) && bytes.allSatisfy { word($0) || $0 == 0x2e || $0 == 0x2d }
    }

    /// `[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*`
    static func isValidPathComponent(_ component: String) -> Bool {
        let bytes = Array(component.utf8)
        func alnum(_ b: UInt8) -> Bool { (0x30...0x39).contains(b) || (0x61...0x7a).contains(b) }
        var i = 0
        guard let first = bytes.first, alnum(first) else { return false }
        while i < bytes.count {
            while i < bytes.count, alnum(bytes[i]) { i += 1 }
            guard i < bytes.count else { return true }
            let start = i
            if bytes[i] == 0x2e { i += 1 }
            else if bytes[i] == 0x5f { i += 1; if i < bytes.count, bytes[i] == 0x5f { i += 1 } }
            else if bytes[i] == 0x2d { while i < bytes.count, bytes[i] == 0x2d { i += 1 } }
            else { return false }
            guard i > start, i < bytes.count, alnum(bytes[i]) else { return false }
        }
        return true
    }

    /// A host name or IPv4 address, or a bracketed IPv6 address, optionally with `:port`.
    static func isValidHost(_ host: String) -> Bool {
        var name = Substring(host)
        if name.hasPrefix("[") {
            guard let close = name.firstIndex(of: "]") else { return false }
            let rest = name[name.index(after: close)...]
            return rest.isEmpty || (rest.hasPrefix(":") && isPort(rest.dropFirst()))
        }
        if let colon = name.lastIndex(of: ":") {
            guard isPort(name[name.index(after: colon)...]) else { return false }
            name = name[..<colon]
        }
        return !name.isEmpty && name.split(separator: ".", omittingEmptySubsequences: false).allSatisfy { label in
            !label.isEmpty && label.first != "-" && label.last != "-"
                && label.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-") }
        }
    }

    static func isPort(_ text: Substring) -> Bool {
        !text.isEmpty && text.count <= 5 && text.allSatisfy { $0.isASCII && $0.isNumber }
    }
}
