import Glibc
import LinuxSys
import OCI

/// One engine event in Docker's message shape (`docker events --format '{{json .}}'`): status, id,
/// from, Type, Action, Actor{ID, Attributes}, scope, time, timeNano.
public struct EventMessage: Codable, Sendable, Equatable {
    public var status: String?
    public var id: String?
    public var from: String?
    public var type: String
    public var action: String
    public var actor: Actor
    public var scope: String
    public var time: Int64
    public var timeNano: Int64

    public struct Actor: Codable, Sendable, Equatable {
        public var id: String
        public var attributes: [String: String]
        enum CodingKeys: String, CodingKey { case id = "ID", attributes = "Attributes" }
    }

    enum CodingKeys: String, CodingKey {
        case status, id, from, type = "Type", action = "Action", actor = "Actor", scope, time, timeNano
    }

    /// A container event now; Docker fills the deprecated status/id/from for containers too.
    public init(container id: String, action: String, attributes: [String: String], timeNano: Int64? = nil) {
        let nano = timeNano ?? EventLog.nowNano()
        status = action
        self.id = id
        from = attributes["image"]
        type = "container"
        self.action = action
        actor = Actor(id: id, attributes: attributes)
        scope = "local"
        time = nano / 1_000_000_000
        self.timeNano = nano
    }

    /// An event of a volume or a network: Docker leaves the deprecated status/id/from out of these.
    public init(type: String, id: String, action: String, attributes: [String: String], timeNano: Int64? = nil) {
        let nano = timeNano ?? EventLog.nowNano()
        self.type = type
        self.action = action
        actor = Actor(id: id, attributes: attributes)
        scope = "local"
        time = nano / 1_000_000_000
        self.timeNano = nano
    }

    /// A network event as Docker's: the network's ID, with its name and type (and the container's ID).
    public init(network id: String, name: String, action: String, container: String? = nil) {
        var attributes = ["name": name, "type": "bridge"]
        if let container { attributes["container"] = container }
        self.init(type: "network", id: id, action: action, attributes: attributes)
    }

    /// The JSON line as written to the events file (and printed by `--format json`): Go's key order,
    /// attributes sorted as Go sorts map keys.
    public var jsonLine: String {
        var out = "{"
        if let status { out += "\"status\":" + EventLog.quote(status) + "," }
        if let id { out += "\"id\":" + EventLog.quote(id) + "," }
        if let from { out += "\"from\":" + EventLog.quote(from) + "," }
        out += "\"Type\":" + EventLog.quote(type) + ",\"Action\":" + EventLog.quote(action)
        out += ",\"Actor\":{\"ID\":" + EventLog.quote(actor.id) + ",\"Attributes\":{"
        out += actor.attributes.keys.sorted().map { EventLog.quote($0) + ":" + EventLog.quote(actor.attributes[$0] ?? "") }
            .joined(separator: ",")
        out += "}},\"scope\":" + EventLog.quote(scope) + ",\"time\":\(time),\"timeNano\":\(timeNano)}"
        return out
    }
}

/// The daemonless events log, as Podman's file events backend: `<root>/events.log`, one JSON
/// message per line. Every writer (the CLI's engine and each supervisor) appends a whole line with a
/// single O_APPEND write, so lines never interleave. Past `maxSize` the file is renamed to
/// `events.log.1` (replacing the previous one) under a lock, so the log keeps between one and two
/// `maxSize` of the latest events.
public enum EventLog {
    public static let fileName = "events.log"
    public static let maxSize: Int = 4 << 20

    /// Appends one event; failures are ignored (an event is never worth failing the operation for).
    public static func append(_ event: EventMessage, to path: String) {
        rotateIfFull(path)
        guard let fd = try? FS.open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, mode: 0o600) else { return }
        _ = try? FS.write(fd, Array((event.jsonLine + "\n").utf8))
        FS.close(fd)
    }

    static func rotateIfFull(_ path: String) {
        guard let info = try? FS.stat(path), Int(info.st_size) >= maxSize else { return }
        guard let lock = try? FS.open(path + ".lock", O_RDWR | O_CREAT | O_CLOEXEC, mode: 0o600) else { return }
        defer { FS.close(lock) }
        guard flock(lock, LOCK_EX) == 0 else { return }
        // Another writer may have rotated while we waited for the lock.
        if let again = try? FS.stat(path), Int(again.st_size) >= maxSize { _ = rename(path, path + ".1") }
    }

    /// The events recorded, oldest first (the rotated file, then the current one); lines that do not
    /// parse (a torn last line after a crash) are skipped.
    public static func read(_ path: String) -> [EventMessage] {
        var events: [EventMessage] = []
        for file in [path + ".1", path] {
            guard let bytes = try? FS.readFile(file) else { continue }
            events += parse(bytes[...]).events
        }
        return events
    }

    /// The complete lines of `bytes` as events, and how many bytes they took (a partial last line is
    /// left for the next read).
    public static func parse(_ bytes: ArraySlice<UInt8>) -> (events: [EventMessage], consumed: Int) {
        var events: [EventMessage] = []
        var start = bytes.startIndex
        var consumed = 0
        while let newline = bytes[start...].firstIndex(of: UInt8(ascii: "\n")) {
            let line = Array(bytes[start..<newline])
            if !line.isEmpty, let event = try? JSONTreeDecoder.decode(EventMessage.self, from: line) { events.append(event) }
            start = newline + 1
            consumed = start - bytes.startIndex
        }
        return (events, consumed)
    }

    public static func nowNano() -> Int64 {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        return Int64(now.tv_sec) * 1_000_000_000 + Int64(now.tv_nsec)
    }

    /// A JSON string literal (Go's escaping of control characters, quotes and backslashes).
    static func quote(_ text: String) -> String {
        var out = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            default:
                if scalar.value < 0x20 {
                    let hex = String(scalar.value, radix: 16)
                    out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        return out + "\""
    }
}
