import ArgumentParser
import Engine
import Glibc
import LinuxSys
import Supervisor
import TextTemplate

/// `events`: the engine's events file (written by the CLI's engine and by each container's
/// supervisor) printed as Docker prints its event stream. With `--since`, recorded events from then;
/// without `--until` it then follows new events until interrupted, as `docker events` does.
struct Events: BerthCommand {
    static let configuration = CommandConfiguration(commandName: "events", abstract: "Get real time events from the server")

    @Option(help: "Show all events created since timestamp")
    var since: String?
    @Option(help: "Stream events until this timestamp")
    var until: String?
    @Option(name: .shortAndLong, help: "Filter output based on conditions provided")
    var filter: [String] = []
    @Option(help: "Format output using a custom template: 'json' or a Go template")
    var format: String?

    func execute() async throws {
        let now = LogTimestamp.now()
        var sinceNano: Int64?
        var untilNano: Int64?
        do {
            if let since { sinceNano = Self.nanoseconds(try LogTimestamp.parse(userInput: since, now: now)) }
            if let until { untilNano = Self.nanoseconds(try LogTimestamp.parse(userInput: until, now: now)) }
        } catch {
            printError("Error: \(error)")
            throw ExitCode(1)
        }
        let filters: EventFilters
        do { filters = try EventFilters(filter) } catch {
            printError("Error response from daemon: \(error)")
            throw ExitCode(1)
        }
        let printer: EventPrinter
        do { printer = try EventPrinter(format: format) } catch {
            printError("Error: \(error)")
            throw ExitCode(1)
        }
        let engine = try GlobalOptions.engine()
        let path = engine.eventsPath
        let startNano = Self.nanoseconds(now)

        func emit(_ event: EventMessage, history: Bool) throws {
            if history {
                // Docker replays only what --since or --until asks for.
                guard sinceNano != nil || untilNano != nil else { return }
                if let sinceNano, event.timeNano < sinceNano { return }
            }
            if let untilNano, event.timeNano > untilNano { return }
            guard filters.accepts(event) else { return }
            try FS.write(1, Array(try printer.line(event).utf8))
        }

        // The history: the rotated file, then the current one read through an fd kept open, so
        // following continues from exactly where the history ended, even across a rotation.
        if let bytes = try? FS.readFile(path + ".1") {
            for event in EventLog.parse(bytes[...]).events { try emit(event, history: true) }
        }
        var follower = EventFollower(path: path)
        for event in follower.poll() { try emit(event, history: true) }
        if let untilNano, untilNano <= startNano { return }
        while true {
            for event in follower.poll() { try emit(event, history: false) }
            if let untilNano, Self.nanoseconds(LogTimestamp.now()) >= untilNano {
                for event in follower.poll() { try emit(event, history: false) }
                return
            }
            usleep(100_000)
        }
    }

    static func nanoseconds(_ stamp: LogTimestamp) -> Int64 {
        stamp.seconds * 1_000_000_000 + Int64(stamp.nanoseconds)
    }
}

/// Reads the events file incrementally: complete lines only, and on to the new file after a rotation.
struct EventFollower {
    let path: String
    var fd: Int32 = -1
    var pending: [UInt8] = []

    init(path: String) { self.path = path }

    mutating func poll() -> [EventMessage] {
        var events: [EventMessage] = []
        if fd < 0 {
            guard let opened = try? FS.open(path, O_RDONLY | O_CLOEXEC) else { return [] }
            fd = opened
        }
        events += readAvailable()
        // Renamed away: what was appended before the rename is read above; go on with the new file.
        var mine = Glibc.stat()
        if let current = try? FS.stat(path), fstat(fd, &mine) == 0,
           current.st_ino != mine.st_ino || current.st_dev != mine.st_dev {
            FS.close(fd)
            fd = -1
            pending.removeAll()
            events += poll()
        }
        return events
    }

    mutating func readAvailable() -> [EventMessage] {
        var events: [EventMessage] = []
        while let chunk = try? FS.read(fd, max: 1 << 20), !chunk.isEmpty {
            pending += chunk
            let (parsed, consumed) = EventLog.parse(pending[...])
            events += parsed
            pending.removeFirst(consumed)
        }
        return events
    }
}

/// `--filter container=|event=|type=|label=|image=|volume=|network=`: values of one key are alternatives, keys must
/// all match, and every label filter must match (Docker's rules).
struct EventFilters {
    var values: [String: [String]] = [:]

    struct Invalid: Error, CustomStringConvertible {
        let description: String
    }

    init(_ filters: [String]) throws {
        for filter in filters {
            guard let equals = filter.firstIndex(of: "=") else { throw Invalid(description: "bad format of filter (expected name=value)") }
            let key = String(filter[..<equals]).lowercased()
            let value = String(filter[filter.index(after: equals)...])
            guard ["container", "event", "type", "label", "image", "scope", "volume", "network"].contains(key) else {
                throw Invalid(description: "invalid filter '\(key)'")
            }
            values[key, default: []].append(value)
        }
    }

    func accepts(_ event: EventMessage) -> Bool {
        let attributes = event.actor.attributes
        if let containers = values["container"] {
            guard event.type == "container", containers.contains(where: { attributes["name"] == $0 || event.actor.id.hasPrefix($0) }) else { return false }
        }
        if let actions = values["event"] {
            // health_status, exec_create and exec_start also match their "…: detail" forms.
            guard actions.contains(where: { event.action == $0 || (["health_status", "exec_create", "exec_start"].contains($0) && event.action.hasPrefix($0)) }) else { return false }
        }
        if let types = values["type"], !types.contains(event.type) { return false }
        if let volumes = values["volume"] {
            guard event.type == "volume", volumes.contains(event.actor.id) else { return false }
        }
        if let networks = values["network"] {
            guard event.type == "network", networks.contains(where: { attributes["name"] == $0 || event.actor.id.hasPrefix($0) }) else { return false }
        }
        if let scopes = values["scope"], !scopes.contains(event.scope) { return false }
        for label in values["label"] ?? [] {
            if let eq = label.firstIndex(of: "=") {
                guard attributes[String(label[..<eq])] == String(label[label.index(after: eq)...]) else { return false }
            } else if attributes[label] == nil {
                return false
            }
        }
        if let images = values["image"] {
            let image = attributes["image"] ?? event.from ?? ""
            let untagged = image.split(separator: "@").first.map { name in
                name.lastIndex(of: ":").map { colon in name[colon...].contains("/") ? String(name) : String(name[..<colon]) } ?? String(name)
            } ?? image
            guard images.contains(where: { $0 == image || $0 == untagged || $0 + ":latest" == image }) else { return false }
        }
        return true
    }
}

/// How each event is printed: Docker's default line, JSON lines (`json`, `{{json .}}`), or a template
/// over the Go field names (Status, ID, From, Type, Action, Actor.ID, Actor.Attributes, Scope, Time, TimeNano).
struct EventPrinter {
    enum Style {
        case plain
        case json
        case template(ListFormatter)
    }
    let style: Style

    init(format: String?) throws {
        guard let format, !format.isEmpty else { style = .plain; return }
        let trimmed = format.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\n" }).joined(separator: " ")
        if trimmed == "json" || trimmed == "{{json .}}" {
            style = .json
            return
        }
        _ = try Template(format)
        style = .template(ListFormatter(format: .template(format), defaultTable: ""))
    }

    func line(_ event: EventMessage) throws -> String {
        switch style {
        case .plain: return Self.plainLine(event)
        case .json: return event.jsonLine + "\n"
        case .template(let formatter): return try formatter.render([Self.templateValue(event)])
        }
    }

    /// `TIME TYPE ACTION ID (k=v, …)`, the time local with nine fraction digits (Go's RFC3339NanoFixed).
    static func plainLine(_ event: EventMessage) -> String {
        var out = localTime(event.timeNano) + " \(event.type) \(event.action) \(event.actor.id)"
        let attributes = event.actor.attributes
        if !attributes.isEmpty {
            out += " (" + attributes.keys.sorted().map { "\($0)=\(attributes[$0] ?? "")" }.joined(separator: ", ") + ")"
        }
        return out + "\n"
    }

    static func templateValue(_ event: EventMessage) -> TemplateValue {
        let attributes = event.actor.attributes
        return .object([
            ("Status", .string(event.status ?? "")), ("ID", .string(event.id ?? "")), ("From", .string(event.from ?? "")),
            ("Type", .string(event.type)), ("Action", .string(event.action)),
            ("Actor", .object([("ID", .string(event.actor.id)),
                               ("Attributes", .object(attributes.keys.sorted().map { (key: $0, value: .string(attributes[$0] ?? "")) }))])),
            ("Scope", .string(event.scope)), ("Time", .int(event.time)), ("TimeNano", .int(event.timeNano)),
        ])
    }

    /// Go's `2006-01-02T15:04:05.000000000Z07:00` in the local zone (`Z` when its offset is zero).
    static func localTime(_ nanoseconds: Int64) -> String {
        var seconds = time_t(nanoseconds / 1_000_000_000)
        let fraction = Int(nanoseconds % 1_000_000_000)
        var parts = tm()
        localtime_r(&seconds, &parts)
        func pad(_ value: Int, _ width: Int) -> String {
            let text = String(value)
            return String(repeating: "0", count: max(0, width - text.count)) + text
        }
        var out = "\(pad(Int(parts.tm_year) + 1900, 4))-\(pad(Int(parts.tm_mon) + 1, 2))-\(pad(Int(parts.tm_mday), 2))"
        out += "T\(pad(Int(parts.tm_hour), 2)):\(pad(Int(parts.tm_min), 2)):\(pad(Int(parts.tm_sec), 2)).\(pad(fraction, 9))"
        let offset = Int(parts.tm_gmtoff)
        if offset == 0 { return out + "Z" }
        let sign = offset < 0 ? "-" : "+"
        return out + sign + pad(abs(offset) / 3600, 2) + ":" + pad(abs(offset) / 60 % 60, 2)
    }
}
