import ContainerSpec
import GoCompat
import HTTPServer
import Kube
import KubeModel
import LinuxSys

/// `?watch=1`: a chunked stream of newline-delimited events (`{"type":"ADDED","object":{…}}`),
/// from a resourceVersion (or, from "" or "0", the current objects as ADDED first), with
/// BOOKMARK events when asked for, and an ERROR event holding a 410 Expired Status when the
/// change log no longer reaches back that far (the client lists again).
extension KubeAPI {
    func watch(_ request: HTTPServerRequest, _ target: Target, _ writer: ResponseWriter) throws(KubeStatus) {
        let representation = try self.representation(request, tables: true)
        let filter = try selector(request, target.kind)
        let bookmarks = Self.isTrue(request.parameter("allowWatchBookmarks"))
        // The apiserver ends a watch after a while (min-request-timeout, 30 min); clients re-watch.
        var timeout = 1800.0
        if let text = request.parameter("timeoutSeconds"), !text.isEmpty {
            guard let seconds = Int(text), seconds >= 0 else { throw .badRequest("invalid timeoutSeconds \(FieldErrorText.quote(text))") }
            if seconds > 0 { timeout = Double(seconds) }
        }
        let resource = target.kind.storeResource
        let version = request.parameter("resourceVersion") ?? ""
        var initial: [StoredObject] = []
        let start: UInt64
        if version.isEmpty || version == "0" {
            do {
                let listed = try store.list(resource, namespace: target.namespace) { stored throws(EngineError) in
                    guard let filter else { return true }
                    return filter(try stored.value())
                }
                (initial, start) = (listed.items, listed.resourceVersion)
            } catch {
                throw status(error, target)
            }
        } else {
            guard let number = UInt64(version) else { throw .badRequest("invalid resource version \(FieldErrorText.quote(version))") }
            start = number
        }
        // With a selector, what the client holds: an object that starts matching is ADDED to it,
        // one that stops is DELETED (the apiserver's watch cache does the same). From a given
        // resourceVersion the objects that match now stand for what the client listed.
        // The last matching state of each object the client holds: what a DELETED for an object
        // that stopped matching carries (with the change's resourceVersion), as the apiserver sends it.
        var matching: [ObjectKey: StoredObject] = [:]
        if let filter {
            if version.isEmpty || version == "0" {
                matching = Dictionary(initial.map { ($0.key, $0) }) { $1 }
            } else {
                do {
                    let listed = try store.list(resource, namespace: target.namespace) { stored throws(EngineError) in filter(try stored.value()) }
                    matching = Dictionary(listed.items.map { ($0.key, $0) }) { $1 }
                } catch {
                    throw status(error, target)
                }
            }
        }

        func render(_ stored: StoredObject) -> [UInt8] {
            guard case .table(let version) = representation, let object = try? stored.value(),
                  let table = try? table(target.kind, [object], resourceVersion: String(stored.resourceVersion), version: version, request)
            else { return outgoing(target.kind, stored.json) }
            return table.serialized
        }
        func send(_ type: String, _ object: [UInt8]) -> Bool {
            writer.write(Array(#"{"type":"\#(type)","object":"#.utf8) + object + Array("}\n".utf8))
        }
        func bookmark(_ revision: UInt64) -> Bool {
            let object: JSONValue = if case .table(let version) = representation {
                .ordered([("kind", .string("Table")), ("apiVersion", .string("meta.k8s.io/" + version)),
                          ("metadata", .ordered([("resourceVersion", .string(String(revision)))])),
                          ("columnDefinitions", .null), ("rows", .null)])
            } else {
                .ordered([("kind", .string(target.kind.kind)), ("apiVersion", .string(target.kind.apiVersion)),
                          ("metadata", .ordered([("resourceVersion", .string(String(revision))), ("creationTimestamp", .null)]))])
            }
            return send("BOOKMARK", object.serialized)
        }
        func expired(_ error: EngineError) -> [UInt8] {
            KubeStatus(code: 410, reason: "Expired", message: "too old resource version: \(start) (\(error.message))").json.serialized
        }

        writer.startStream(status: .ok, headers: [("Content-Type", "application/json")])
        defer { writer.finish() }
        let watch: ObjectWatch
        do { watch = try store.watch(resource, namespace: target.namespace, from: start) } catch {
            if error.kind == .expired { _ = send("ERROR", expired(error)) } else {
                _ = send("ERROR", KubeStatus.internalError(error.message).json.serialized)
            }
            return
        }
        defer { watch.stop() }
        for item in initial where !send("ADDED", render(item)) { return }
        let deadline = MonotonicClock.seconds() + timeout
        var quietSince = MonotonicClock.seconds()
        while !writer.clientGone {
            let left = deadline - MonotonicClock.seconds()
            if left <= 0 { break }
            let event: ObjectEvent?
            // A second at a time: a client that went away is noticed while nothing changes.
            do { event = try watch.next(timeoutSeconds: min(left, 1)) } catch {
                _ = send("ERROR", error.kind == .expired ? expired(error) : KubeStatus.internalError(error.message).json.serialized)
                return
            }
            if let event {
                var type = event.kind.rawValue
                var object = event.object
                if let filter {
                    let matches = (try? event.object.value()).map(filter) ?? false
                    let held = matching[event.object.key]
                    switch event.kind {
                    case .deleted:
                        guard held != nil || matches else { continue }
                        matching[event.object.key] = nil
                    case .added, .modified:
                        if matches {
                            if held == nil { type = ObjectEvent.Kind.added.rawValue }
                            matching[event.object.key] = event.object
                        } else {
                            guard let held else { continue }
                            type = ObjectEvent.Kind.deleted.rawValue
                            matching[event.object.key] = nil
                            if let last = try? held.value() {
                                let json = last.settingMetadata("resourceVersion", to: .string(String(event.object.resourceVersion))).serialized
                                object = StoredObject(key: held.key, resourceVersion: event.object.resourceVersion, json: json)
                            }
                        }
                    }
                }
                guard send(type, render(object)) else { return }
                quietSince = MonotonicClock.seconds()
            } else if bookmarks && MonotonicClock.seconds() - quietSince >= bookmarkSeconds {
                guard bookmark(watch.resourceVersion) else { return }
                quietSince = MonotonicClock.seconds()
            }
        }
        // Where to resume: the client re-watches from the bookmark instead of relisting.
        if bookmarks && !writer.clientGone { _ = bookmark(watch.resourceVersion) }
    }
}
