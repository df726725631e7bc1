import Glibc
import GoCompat

/// Server-side printing (`Accept: application/json;as=Table;v=v1;g=meta.k8s.io`): the columns
/// `kubectl get` shows, NAME first and AGE last, as the apiserver's printers make them.
public enum Tables {
    /// What each row carries besides its cells (`?includeObject=`): the object's metadata (the
    /// default), the whole object, or nothing.
    public enum Include: String, Sendable { case none = "None", metadata = "Metadata", object = "Object" }

    public static func table(_ kind: KubeKind, objects: [JSONValue], resourceVersion: String?, include: Include, now: Int64 = Int64(time(nil))) -> JSONValue {
        let ageDescription = "How long ago the object was created."
        var columns: [JSONValue] = []
        if kind.nameColumn { columns.append(column("Name", type: "string", format: "name", "The object's name, unique within its namespace.")) }
        columns += kind.columns.map { column($0.name, type: $0.type, format: $0.format, $0.name == "Age" ? ageDescription : $0.description, priority: $0.priority) }
        let placedAge = kind.columns.contains { $0.name == "Age" }
        if kind.ageColumn && !placedAge { columns.append(column("Age", type: "string", format: "", ageDescription)) }
        let rows: [JSONValue] = objects.map { object in
            var cells: [JSONValue] = []
            if kind.nameColumn { cells.append(kind.nameCell?(object) ?? object[member: "metadata"]?[member: "name"] ?? .string("")) }
            cells += kind.columns.map { $0.name == "Age" ? .string(age(of: object, now: now)) : $0.cell(object) }
            if kind.ageColumn && !placedAge { cells.append(.string(age(of: object, now: now))) }
            var row: [(String, JSONValue)] = [("cells", .array(cells))]
            switch include {
            case .none: break
            case .object: row.append(("object", object))
            case .metadata:
                row.append(("object", .ordered([("kind", .string("PartialObjectMetadata")), ("apiVersion", .string("meta.k8s.io/v1")),
                                                ("metadata", object[member: "metadata"] ?? .ordered([]))])))
            }
            return .ordered(row)
        }
        var metadata: [(String, JSONValue)] = []
        if let resourceVersion { metadata.append(("resourceVersion", .string(resourceVersion))) }
        return .ordered([("kind", .string("Table")), ("apiVersion", .string("meta.k8s.io/v1")), ("metadata", .ordered(metadata)),
                         ("columnDefinitions", .array(columns)), ("rows", .array(rows))])
    }

    static func column(_ name: String, type: String, format: String, _ description: String, priority: Int = 0) -> JSONValue {
        .ordered([("name", .string(name)), ("type", .string(type)), ("format", .string(format)), ("description", .string(description)),
                  ("priority", .int(priority))])
    }

    /// AGE: the time since `metadata.creationTimestamp`, `<unknown>` without one.
    static func age(of object: JSONValue, now: Int64) -> String {
        guard let text = object[member: "metadata"]?[member: "creationTimestamp"]?.stringValue, let created = parseTimestamp(text) else {
            return "<unknown>"
        }
        return humanDuration(now - created)
    }

    /// RFC 3339 (`2025-01-02T03:04:05Z`, fractions and offsets allowed) as Unix seconds.
    public static func parseTimestamp(_ text: String) -> Int64? {
        let bytes = Array(text.utf8)
        guard bytes.count >= 20 else { return nil }
        func number(_ range: Range<Int>) -> Int32? { Int32(String(decoding: bytes[range], as: UTF8.self)) }
        guard let year = number(0..<4), let month = number(5..<7), let day = number(8..<10),
              let hour = number(11..<13), let minute = number(14..<16), let second = number(17..<19) else { return nil }
        var parts = tm()
        parts.tm_year = year - 1900
        parts.tm_mon = month - 1
        parts.tm_mday = day
        parts.tm_hour = hour
        parts.tm_min = minute
        parts.tm_sec = second
        var seconds = Int64(timegm(&parts))
        var index = 19
        if index < bytes.count, bytes[index] == UInt8(ascii: ".") {
            index += 1
            while index < bytes.count, bytes[index] >= UInt8(ascii: "0"), bytes[index] <= UInt8(ascii: "9") { index += 1 }
        }
        if index + 6 <= bytes.count, bytes[index] == UInt8(ascii: "+") || bytes[index] == UInt8(ascii: "-"),
           let hours = number(index + 1..<index + 3), let minutes = number(index + 4..<index + 6) {
            let offset = Int64(hours) * 3600 + Int64(minutes) * 60
            seconds += bytes[index] == UInt8(ascii: "+") ? -offset : offset
        }
        return seconds
    }

    /// A duration as kubectl's AGE column shows it (apimachinery's HumanDuration): `45s`, `3m12s`,
    /// `25m`, `5h3m`, `20h`, `3d4h`, `40d`, `2y31d`, `9y`.
    public static func humanDuration(_ seconds: Int64) -> String {
        if seconds < -1 { return "<invalid>" }
        if seconds < 0 { return "0s" }
        if seconds < 120 { return "\(seconds)s" }
        let minutes = seconds / 60
        if minutes < 10 {
            let rest = seconds % 60
            return rest == 0 ? "\(minutes)m" : "\(minutes)m\(rest)s"
        }
        if minutes < 180 { return "\(minutes)m" }
        let hours = minutes / 60
        if hours < 8 {
            let rest = minutes % 60
            return rest == 0 ? "\(hours)h" : "\(hours)h\(rest)m"
        }
        if hours < 48 { return "\(hours)h" }
        if hours < 24 * 8 {
            let rest = hours % 24
            return rest == 0 ? "\(hours / 24)d" : "\(hours / 24)d\(rest)h"
        }
        if hours < 24 * 365 * 2 { return "\(hours / 24)d" }
        let days = hours / 24
        if hours < 24 * 365 * 8 {
            let rest = days % 365
            return rest == 0 ? "\(days / 365)y" : "\(days / 365)y\(rest)d"
        }
        return "\(days / 365)y"
    }
}
