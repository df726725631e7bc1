import ArgumentParser
import DockerModel
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
            printError(daemonText(error))
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
            ProcessSys.sleep(milliseconds: 100)
        }
    }

    static func nanoseconds(_ stamp: LogTimestamp) -> Int64 {
        stamp.seconds * 1_000_000_000 + Int64(stamp.nanoseconds)
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
        case .template(let formatter): return try formatter.render([templateValue(EventRow(event))])
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
