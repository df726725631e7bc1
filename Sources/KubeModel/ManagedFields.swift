import GoCompat
import Kube

/// Field ownership (`metadata.managedFields`, FieldsV1) and server-side apply, as the apiserver's
/// field manager keeps them: each manager (per operation, Apply or Update, and subresource) owns
/// a set of field paths. A path is its elements in FieldsV1's spelling: `f:<member>`,
/// `k:<merge key as JSON>` for an item of a list that merges by key, `v:<value as JSON>` for a
/// member of a primitive set, `.` for a keyed item itself.
public enum ManagedFields {
    public typealias Path = [String]

    /// One `managedFields` entry.
    public struct Entry: Sendable, Equatable {
        public var manager: String
        public var operation: String
        public var apiVersion: String
        public var time: String
        public var subresource: String?
        public var fields: Set<Path>
    }

    /// Members no manager owns: the server's own and the object's identity.
    static let ignoredMetadata: Set<String> = [
        "name", "namespace", "uid", "resourceVersion", "generation", "creationTimestamp", "managedFields", "selfLink",
        "deletionTimestamp", "deletionGracePeriodSeconds", "generateName",
    ]

    // MARK: - Field sets

    /// The leaf paths of an object, for the main resource or the status subresource.
    public static func fields(_ kind: KubeKind, _ object: JSONValue, subresource: String? = nil) -> Set<Path> {
        var result: Set<Path> = []
        guard case .object(let members, let keys) = object else { return result }
        for key in keys where key != "apiVersion" && key != "kind" {
            guard let value = members[key] else { continue }
            if kind.hasStatus && (key == "status") != (subresource == "status") && key != "metadata" { continue }
            if key == "metadata" {
                guard case .object(let meta, let metaKeys) = value else { continue }
                for name in metaKeys where !ignoredMetadata.contains(name) {
                    if let member = meta[name] { collect(kind.kind, member, schema: "metadata." + name, prefix: ["f:metadata", "f:" + name], into: &result) }
                }
                continue
            }
            collect(kind.kind, value, schema: key, prefix: ["f:" + key], into: &result)
        }
        return result
    }

    static func collect(_ kind: String, _ value: JSONValue, schema: String, prefix: Path, into result: inout Set<Path>) {
        switch value {
        case .object(let members, let keys) where !keys.isEmpty:
            for key in keys where !key.hasPrefix("$") {
                if let member = members[key] { collect(kind, member, schema: schema + "." + key, prefix: prefix + ["f:" + key], into: &result) }
            }
        case .array(let items) where !items.isEmpty:
            guard let merge = PatchMeta.list(kind, schema) else { result.insert(prefix); return }
            for item in items {
                guard let mergeKey = merge.key else {
                    result.insert(prefix + ["v:" + item.compactText])
                    continue
                }
                let element = prefix + [keyElement(mergeKey, item)]
                result.insert(element + ["."])
                if case .object(let members, let keys) = item {
                    for key in keys where !key.hasPrefix("$") {
                        if let member = members[key] { collect(kind, member, schema: schema + "." + key, prefix: element + ["f:" + key], into: &result) }
                    }
                }
            }
        default:
            result.insert(prefix)
        }
    }

    static func keyElement(_ mergeKey: String, _ item: JSONValue) -> String {
        "k:" + JSONValue.ordered([(mergeKey, item[member: mergeKey] ?? .null)]).compactText
    }

    /// The value at a path; nil when the object has nothing there.
    public static func value(at path: Path, in object: JSONValue) -> JSONValue? {
        var current = object
        for element in path {
            if element == "." { return current }
            if element.hasPrefix("f:") {
                guard let next = current[member: String(element.dropFirst(2))] else { return nil }
                current = next
            } else if element.hasPrefix("k:") {
                guard case .array(let items) = current, let key = try? JSONParser.parse(Array(element.dropFirst(2).utf8)),
                      case .object(let wanted, _) = key, let (name, id) = wanted.first,
                      let item = items.first(where: { $0[member: name] == id }) else { return nil }
                current = item
            } else if element.hasPrefix("v:") {
                guard case .array(let items) = current, let wanted = try? JSONParser.parse(Array(element.dropFirst(2).utf8)),
                      items.contains(wanted) else { return nil }
                return wanted
            } else {
                return nil
            }
        }
        return current
    }

    /// The object without what is at `path` (a member, a keyed item — `.` names it — or a set member).
    static func removing(_ path: Path, from object: JSONValue) -> JSONValue {
        guard let element = path.first else { return object }
        let rest = Array(path.dropFirst())
        if element.hasPrefix("f:") {
            let name = String(element.dropFirst(2))
            guard let member = object[member: name] else { return object }
            if rest.isEmpty { return object.setting(name, to: nil) }
            return object.setting(name, to: removing(rest, from: member))
        }
        guard case .array(var items) = object else { return object }
        if element.hasPrefix("v:") {
            guard let wanted = try? JSONParser.parse(Array(element.dropFirst(2).utf8)) else { return object }
            items.removeAll { $0 == wanted }
            return .array(items)
        }
        guard element.hasPrefix("k:"), let key = try? JSONParser.parse(Array(element.dropFirst(2).utf8)),
              case .object(let wanted, _) = key, let (name, id) = wanted.first,
              let index = items.firstIndex(where: { $0[member: name] == id }) else { return object }
        if rest == ["."] || rest.isEmpty {
            items.remove(at: index)
        } else {
            items[index] = removing(rest, from: items[index])
        }
        return .array(items)
    }

    /// A path as the apiserver prints it in conflicts: `.spec.containers[name="web"].image`.
    public static func text(_ path: Path) -> String {
        var text = ""
        for element in path where element != "." {
            if element.hasPrefix("f:") {
                text += "." + element.dropFirst(2)
            } else if element.hasPrefix("k:"), let key = try? JSONParser.parse(Array(element.dropFirst(2).utf8)), case .object(let members, let keys) = key {
                text += "[" + keys.map { "\($0)=\(members[$0]!.compactText)" }.joined(separator: ",") + "]"
            } else if element.hasPrefix("v:") {
                text += "[=" + element.dropFirst(2) + "]"
            }
        }
        return text
    }

    // MARK: - FieldsV1

    /// A field set as the nested FieldsV1 object (`{}` marks a leaf), members sorted with `.` first.
    public static func fieldsV1(_ paths: Set<Path>) -> JSONValue {
        final class Node {
            var children: [String: Node] = [:]
        }
        let root = Node()
        for path in paths {
            var node = root
            for element in path {
                if let next = node.children[element] { node = next } else {
                    let next = Node()
                    node.children[element] = next
                    node = next
                }
            }
        }
        func render(_ node: Node) -> JSONValue {
            let keys = node.children.keys.sorted { ($0 == "." ? "" : $0) < ($1 == "." ? "" : $1) }
            return .ordered(keys.map { ($0, render(node.children[$0]!)) })
        }
        return render(root)
    }

    static func parseFieldsV1(_ value: JSONValue?, prefix: Path = []) -> Set<Path> {
        guard case .object(let members, let keys)? = value else { return [] }
        if keys.isEmpty { return prefix.isEmpty ? [] : [prefix] }
        var result: Set<Path> = []
        for key in keys { result.formUnion(parseFieldsV1(members[key], prefix: prefix + [key])) }
        return result
    }

    public static func entries(_ object: JSONValue) -> [Entry] {
        (object[member: "metadata"]?[member: "managedFields"]?.arrayItems ?? []).map { item in
            Entry(manager: item[member: "manager"]?.stringValue ?? "", operation: item[member: "operation"]?.stringValue ?? "Update",
                  apiVersion: item[member: "apiVersion"]?.stringValue ?? "v1", time: item[member: "time"]?.stringValue ?? "",
                  subresource: item[member: "subresource"]?.stringValue, fields: parseFieldsV1(item[member: "fieldsV1"]))
        }
    }

    static func setting(_ entries: [Entry], on object: JSONValue) -> JSONValue {
        let kept = entries.filter { !$0.fields.isEmpty }
        let items: [JSONValue] = kept.map { entry in
            var members: [(String, JSONValue)] = [("manager", .string(entry.manager)), ("operation", .string(entry.operation)),
                                                  ("apiVersion", .string(entry.apiVersion)), ("time", .string(entry.time)),
                                                  ("fieldsType", .string("FieldsV1")), ("fieldsV1", fieldsV1(entry.fields))]
            if let subresource = entry.subresource { members.append(("subresource", .string(subresource))) }
            return .ordered(members)
        }
        return object.settingMetadata("managedFields", to: items.isEmpty ? nil : .array(items))
    }

    // MARK: - Update

    /// The object with its managedFields after an update (create, PUT, non-apply PATCH) by
    /// `manager`: what changed becomes the manager's (Update) and no other's; what was removed
    /// is no one's.
    public static func recordUpdate(_ kind: KubeKind, old: JSONValue?, new: JSONValue, manager: String, subresource: String? = nil,
                                    time: String = SystemFields.timestamp()) -> JSONValue {
        var entries = old.map(Self.entries) ?? []
        let newFields = fields(kind, new, subresource: subresource)
        let oldFields = old.map { fields(kind, $0, subresource: subresource) } ?? []
        let changed = newFields.filter { path in
            !oldFields.contains(path) || value(at: path, in: old ?? .null) != value(at: path, in: new)
        }
        let removed = oldFields.subtracting(newFields)
        if changed.isEmpty && removed.isEmpty { return new.settingMetadata("managedFields", to: old?[member: "metadata"]?[member: "managedFields"]) }
        for index in entries.indices {
            entries[index].fields.subtract(removed)
            entries[index].fields.subtract(changed)
        }
        if let index = entries.firstIndex(where: { $0.manager == manager && $0.operation == "Update" && $0.subresource == subresource }) {
            entries[index].fields.formUnion(changed)
            entries[index].time = time
        } else if !changed.isEmpty {
            entries.append(Entry(manager: manager, operation: "Update", apiVersion: kind.apiVersion, time: time, subresource: subresource, fields: changed))
        }
        return setting(entries, on: new)
    }

    // MARK: - Apply

    /// Server-side apply of `config` by `manager` onto `live` (nil: the object is new): the
    /// config merges in; fields the manager applied before and no longer does are removed unless
    /// another manager owns them; a field another manager owns with another value is a conflict
    /// (409 with a cause each) unless `force` takes it. Returns the object with its managedFields.
    public static func apply(_ kind: KubeKind, live: JSONValue?, config: JSONValue, manager: String, force: Bool,
                             subresource: String? = nil, time: String = SystemFields.timestamp()) throws(KubeStatus) -> JSONValue {
        var entries = live.map(Self.entries) ?? []
        let applied = fields(kind, config, subresource: subresource)
        let base = live ?? .ordered([])
        var conflicts: [(String, Path)] = [] // (the manager as the message names it, the field)
        for index in entries.indices where !(entries[index].manager == manager && entries[index].operation == "Apply" && entries[index].subresource == subresource) {
            for path in entries[index].fields.intersection(applied) where path.last != "." {
                if value(at: path, in: base) != value(at: path, in: config) {
                    if force { entries[index].fields.remove(path) } else { conflicts.append((Self.describe(entries[index]), path)) }
                }
            }
        }
        if !conflicts.isEmpty { throw conflict(conflicts) }
        let mine = entries.firstIndex { $0.manager == manager && $0.operation == "Apply" && $0.subresource == subresource }
        let previous = mine.map { entries[$0].fields } ?? []
        var result = try StrategicMerge(kind: kind.kind).mergeMap(base, Patches.strippingDirectives(config), path: "") ?? .ordered([])
        // What this manager no longer applies goes, unless someone else owns it too.
        let others = entries.enumerated().filter { $0.offset != mine }.reduce(into: Set<Path>()) { $0.formUnion($1.element.fields) }
        for path in previous.subtracting(applied).sorted(by: { $0.count > $1.count }) where !others.contains(path) {
            // A keyed item stays while another manager owns something in it.
            if path.last == ".", others.contains(where: { $0.starts(with: path.dropLast()) }) { continue }
            result = removing(path, from: result)
        }
        if let mine {
            // A re-apply that changes nothing leaves the entry (and so the object) as it was.
            if entries[mine].fields != applied || result.settingMetadata("managedFields", to: nil) != base.settingMetadata("managedFields", to: nil) {
                entries[mine].time = time
            }
            entries[mine].fields = applied
        } else {
            entries.append(Entry(manager: manager, operation: "Apply", apiVersion: kind.apiVersion, time: time, subresource: subresource, fields: applied))
        }
        return setting(entries, on: result)
    }

    /// A new object made by an apply: the applied configuration's fields are the manager's.
    public static func created(_ kind: KubeKind, _ object: JSONValue, applied: JSONValue, manager: String,
                               time: String = SystemFields.timestamp()) -> JSONValue {
        setting([Entry(manager: manager, operation: "Apply", apiVersion: kind.apiVersion, time: time, subresource: nil,
                       fields: fields(kind, applied))], on: object)
    }

    /// A manager as conflicts name it: quoted, its subresource, and for an Update its API version.
    static func describe(_ entry: Entry) -> String {
        var text = GoStrconv.quote(entry.manager)
        if let subresource = entry.subresource { text += " with subresource " + GoStrconv.quote(subresource) }
        if entry.operation == "Update" { text += " using " + entry.apiVersion }
        return text
    }

    /// 409 Conflict as the apiserver words it: one conflict inline, several grouped by manager.
    static func conflict(_ conflicts: [(String, Path)]) -> KubeStatus {
        let causes = conflicts.map { KubeStatus.Cause(reason: "FieldManagerConflict", message: "conflict with \($0.0)", field: text($0.1)) }
        let message: String
        if conflicts.count == 1 {
            message = "Apply failed with 1 conflict: conflict with \(conflicts[0].0): \(text(conflicts[0].1))"
        } else {
            let managers = Dictionary(grouping: conflicts, by: \.0)
            message = "Apply failed with \(conflicts.count) conflicts: " + managers.keys.sorted().map { manager in
                (["conflicts with \(manager):"] + managers[manager]!.map { "- " + text($0.1) }.sorted()).joined(separator: "\n")
            }.joined(separator: "\n")
        }
        return KubeStatus(code: 409, reason: "Conflict", message: message, causes: causes)
    }
}
