import ContainerSpec
import GoCompat
import OCI

/// `POST /build`'s query parameters, read as dockerd's legacy builder reads them (the docker CLI
/// without buildx sends `version=1`). Only parsing and checks live here: Builder's BuildOptions is
/// filled from it by the front end (DockerModel does not depend on Builder).
public struct BuildRequest: Sendable {
    /// `t`, repeated.
    public var tags: [ImageReference] = []
    /// `dockerfile`: a path inside the context.
    public var dockerfile = "Dockerfile"
    /// `buildargs` (JSON): an argument sent as null (`--build-arg NAME` with NAME unset) is left out,
    /// so the Dockerfile's default applies.
    public var buildArgs: [String: String] = [:]
    /// `labels` (JSON).
    public var labels: [String: String] = [:]
    public var target: String?
    public var noCache = false
    /// `pull`: pull base images even when present (the front end pulls them first, as `berth build --pull`).
    public var pull = false
    /// `q`.
    public var quiet = false
    /// `networkmode`: `default`, `none` or `host` (`bridge` is `default`).
    public var network = "default"
    public var platform: Platform?

    public init(query: [(name: String, value: String)]) throws(EngineError) {
        func first(_ name: String) -> String { query.first { $0.name == name }?.value ?? "" }
        for value in query where value.name == "t" {
            let reference: ImageReference
            do { reference = try ImageReference(parsing: value.value) } catch { throw .invalid(error.message) }
            if reference.digest != nil { throw .invalid("build tag cannot contain a digest") }
            tags.append(reference)
        }
        if let name = first("dockerfile").nonEmptyText {
            // The file is looked up inside the context: a path that leaves it names nothing there.
            let parts = name.split(separator: "/").filter { $0 != "." }
            var depth = 0
            for part in parts {
                depth += part == ".." ? -1 : 1
                if depth < 0 { throw .invalid("Cannot locate specified Dockerfile: \(name)") }
            }
            dockerfile = name
        }
        if let text = first("buildargs").nonEmptyText {
            let arguments: [String: String?] = try Self.json(text, [String: String?].self, "error reading build args")
            buildArgs = arguments.compactMapValues { $0 }
        }
        if let text = first("labels").nonEmptyText {
            labels = try Self.json(text, [String: String].self, "error reading labels")
        }
        target = first("target").nonEmptyText
        noCache = Self.bool(first("nocache"))
        pull = Self.bool(first("pull"))
        quiet = Self.bool(first("q"))
        switch first("networkmode") {
        case "", "default", "bridge": network = "default"
        case "host", "none": network = first("networkmode")
        case let other:
            throw .invalid("invalid networkmode \(GoStrconv.quote(other)): network mode must be default, none or host")
        }
        if let text = first("platform").nonEmptyText {
            do { platform = try Platform(parsing: text) } catch { throw .invalid(error.message) }
        }
        if let isolation = first("isolation").nonEmptyText, isolation != "default" {
            throw .invalid("invalid isolation \"\(isolation)\": linux only supports 'default'")
        }
        switch first("version") {
        case "", "1": break
        case let version: throw .unsupported("version (BuildKit)", version)
        }

        // What the legacy builder does and Berth's builder does not: refused when asked for.
        for name in ["memory", "memswap", "cpushares", "cpuperiod", "cpuquota", "shmsize"] {
            let text = first(name)
            if text.isEmpty { continue }
            if try RunOptions.Parse.integer(text) != 0 { throw .unsupported(name, text) }
        }
        for name in ["cpusetcpus", "cpusetmems", "cgroupparent", "extrahosts", "remote", "outputs"] {
            if let text = first(name).nonEmptyText { throw .unsupported(name, text) }
        }
        if Self.bool(first("squash")) { throw .unsupported("squash", first("squash")) }
        if let text = first("ulimits").nonEmptyText {
            let limits = try Self.json(text, [ContainerCreateRequest.Ulimit].self, "error reading ulimit settings")
            if let limit = limits.first { throw .unsupported("ulimits", limit.name ?? "") }
        }
        // `rm`/`forcerm` (Berth's builder leaves no intermediate containers), `cachefrom` (its cache is
        // its own) and `session`/`buildid` change nothing here.
    }

    /// httputils.BoolValue: anything but "", "0", "no", "false" and "none" (any case, trimmed) is true.
    static func bool(_ text: String) -> Bool {
        let value = text.trimmingSpaces().lowercased()
        return !["", "0", "no", "false", "none"].contains(value)
    }

    /// A JSON parameter, read with json.Unmarshal's rules and words after `context`.
    static func json<T: Decodable>(_ text: String, _ type: T.Type, _ context: String) throws(EngineError) -> T {
        do {
            return try GoJSON.decode(type, from: JSONParser.parse(Array(text.utf8)))
        } catch let error as JSONSyntaxError {
            throw .invalid("\(context): \(error.message)")
        } catch let error as GoError {
            throw .invalid("\(context): \(error.message)")
        } catch {
            throw .invalid("\(context): \(error)")
        }
    }
}

extension String {
    var nonEmptyText: String? { isEmpty ? nil : self }

    func trimmingSpaces() -> String {
        let isSpace: (Character) -> Bool = { $0 == " " || $0 == "\t" || $0 == "\n" || $0 == "\r" }
        return String(drop(while: isSpace).reversed().drop(while: isSpace).reversed())
    }
}
