import GoCompat
import Kube

/// What the apiserver does to a body before it stores it: decoding into the kind's type (unknown
/// fields dropped, reported per `fieldValidation`; wrong types refused), defaults, and validation.
public enum Objects {
    public enum FieldValidation: String, Sendable { case ignore = "Ignore", warn = "Warn", strict = "Strict" }

    /// The metadata members ObjectMeta has.
    static let metadataFields: Set<String> = [
        "name", "generateName", "namespace", "selfLink", "uid", "resourceVersion", "generation", "creationTimestamp",
        "deletionTimestamp", "deletionGracePeriodSeconds", "labels", "annotations", "ownerReferences", "finalizers", "managedFields",
    ]

    /// The body decoded as `kind`: kind/apiVersion filled in when missing and checked when given,
    /// unknown fields dropped (an error under Strict, a warning under Warn), member types checked,
    /// defaults applied. Returns the object and the warnings.
    public static func decode(_ kind: KubeKind, _ body: JSONValue, validation: FieldValidation) throws(KubeStatus) -> (JSONValue, [String]) {
        let handled = "\(kind.kind) in version \"\(kind.version)\" cannot be handled as a \(kind.kind)"
        guard case .object(let members, let keys) = body else {
            throw .badRequest("\(handled): json: cannot unmarshal \(goKind(body)) into Go value of type struct")
        }
        if let given = members["apiVersion"] {
            guard given.stringValue == kind.apiVersion else {
                let text = given.stringValue ?? ""
                throw .badRequest("the API version in the data (\(text)) does not match the expected API version (\(kind.apiVersion))")
            }
        }
        if let given = members["kind"], given.stringValue != kind.kind {
            throw .badRequest("\(given.stringValue ?? "") in version \"\(kind.version)\" cannot be handled as a \(kind.kind): the object's kind is not \(kind.kind)")
        }
        var unknown: [String] = []
        var object: [(String, JSONValue)] = [("kind", .string(kind.kind)), ("apiVersion", .string(kind.apiVersion))]
        for key in keys where key != "kind" && key != "apiVersion" {
            guard let value = members[key] else { continue }
            if key == "metadata" {
                object.append((key, try decodeMetadata(value, handled: handled, unknown: &unknown)))
            } else if kind.fields.contains(key) {
                if case .null = value { continue }
                try checkType(kind, key, value, handled: handled)
                object.append((key, value))
            } else {
                unknown.append(key)
            }
        }
        if !object.contains(where: { $0.0 == "metadata" }) { object.append(("metadata", .ordered([]))) }
        let (known, nested) = Schemas.unknownFields(kind, .ordered(object))
        unknown += nested
        var warnings: [String] = []
        if !unknown.isEmpty {
            let text = unknown.map { "unknown field \"\($0)\"" }
            switch validation {
            case .strict: throw .badRequest("\(handled): strict decoding error: " + text.joined(separator: ", "))
            case .warn: warnings = text
            case .ignore: break
            }
        }
        return (try defaults(kind, known, handled: handled), warnings)
    }

    /// The members of a body that its kind has (an applied configuration without unknown fields).
    public static func knownFields(_ kind: KubeKind, _ body: JSONValue) -> JSONValue {
        guard case .object(let members, let keys) = body else { return body }
        var kept: [(String, JSONValue)] = []
        for key in keys {
            guard let value = members[key] else { continue }
            if key == "metadata", case .object(let meta, let metaKeys) = value {
                kept.append((key, .ordered(metaKeys.filter { metadataFields.contains($0) }.map { ($0, meta[$0]!) })))
            } else if key == "apiVersion" || key == "kind" || kind.fields.contains(key) {
                kept.append((key, value))
            }
        }
        return .ordered(kept)
    }

    static func decodeMetadata(_ value: JSONValue, handled: String, unknown: inout [String]) throws(KubeStatus) -> JSONValue {
        if case .null = value { return .ordered([]) }
        guard case .object(let members, let keys) = value else {
            throw .badRequest("\(handled): json: cannot unmarshal \(goKind(value)) into Go struct field .metadata of type v1.ObjectMeta")
        }
        var kept: [(String, JSONValue)] = []
        for key in keys {
            guard let member = members[key] else { continue }
            guard metadataFields.contains(key) else { unknown.append("metadata." + key); continue }
            if case .null = member { continue }
            switch key {
            case "labels", "annotations":
                try stringMap(member, field: "metadata.\(key)", handled: handled)
            case "name", "generateName", "namespace", "uid", "resourceVersion", "creationTimestamp", "selfLink", "deletionTimestamp":
                guard case .string = member else {
                    throw .badRequest("\(handled): json: cannot unmarshal \(goKind(member)) into Go struct field ObjectMeta.metadata.\(key) of type string")
                }
            default: break
            }
            kept.append((key, member))
        }
        return .ordered(kept)
    }

    static func checkType(_ kind: KubeKind, _ key: String, _ value: JSONValue, handled: String) throws(KubeStatus) {
        switch (kind.kind, key) {
        case ("ConfigMap", "data"), ("Secret", "data"), (_, "binaryData"), (_, "stringData"):
            try stringMap(value, field: "\(kind.kind).\(key)", handled: handled)
        case (_, "immutable"), (_, "automountServiceAccountToken"):
            guard case .bool = value else {
                throw .badRequest("\(handled): json: cannot unmarshal \(goKind(value)) into Go struct field \(kind.kind).\(key) of type bool")
            }
        case (_, "type"):
            guard case .string = value else {
                throw .badRequest("\(handled): json: cannot unmarshal \(goKind(value)) into Go struct field \(kind.kind).type of type v1.SecretType")
            }
        case (_, "secrets"), (_, "imagePullSecrets"):
            guard case .array = value else {
                throw .badRequest("\(handled): json: cannot unmarshal \(goKind(value)) into Go struct field \(kind.kind).\(key) of type []v1.ObjectReference")
            }
        case (_, "spec"), (_, "status"):
            guard case .object = value else {
                throw .badRequest("\(handled): json: cannot unmarshal \(goKind(value)) into Go struct field \(kind.kind).\(key) of type v1.\(kind.kind)\(key == "spec" ? "Spec" : "Status")")
            }
        default: break
        }
    }

    static func stringMap(_ value: JSONValue, field: String, handled: String) throws(KubeStatus) {
        guard case .object(let members, _) = value else {
            throw .badRequest("\(handled): json: cannot unmarshal \(goKind(value)) into Go struct field \(field) of type map[string]string")
        }
        for (_, member) in members {
            guard case .string = member else {
                throw .badRequest("\(handled): json: cannot unmarshal \(goKind(member)) into Go struct field \(field) of type string")
            }
        }
    }

    /// Go's name for a JSON value's type in an unmarshal error.
    static func goKind(_ value: JSONValue) -> String {
        switch value {
        case .null: "null"
        case .bool: "bool"
        case .number: "number"
        case .string: "string"
        case .array: "array"
        case .object: "object"
        }
    }

    /// The kind's defaults and conversions: a Secret's stringData into data (base64) and type
    /// Opaque; a Namespace's finalizer, phase and name label.
    static func defaults(_ kind: KubeKind, _ object: JSONValue, handled: String) throws(KubeStatus) -> JSONValue {
        var object = object
        switch kind.kind {
        case "Secret":
            for (key, value) in object[member: "data"]?.objectValue ?? [:] {
                if case .string(let text) = value, let offset = Base64.invalidOffset(text) {
                    throw .badRequest("\(handled): illegal base64 data at input byte \(offset) (data[\(key)])")
                }
            }
            if case .object(let members, let keys)? = object[member: "stringData"] {
                var data = object[member: "data"] ?? .ordered([])
                for key in keys {
                    if case .string(let text)? = members[key] { data = data.setting(key, to: .string(GoBase64.encode(Array(text.utf8)))) }
                }
                object = object.setting("data", to: data).setting("stringData", to: nil)
            }
            if (object[member: "type"]?.stringValue ?? "").isEmpty { object = object.setting("type", to: .string("Opaque")) }
        case "ConfigMap":
            for (key, value) in object[member: "binaryData"]?.objectValue ?? [:] {
                if case .string(let text) = value, let offset = Base64.invalidOffset(text) {
                    throw .badRequest("\(handled): illegal base64 data at input byte \(offset) (binaryData[\(key)])")
                }
            }
        case "Namespace":
            if object[member: "spec"]?[member: "finalizers"] == nil {
                object = object.setting("spec", to: (object[member: "spec"] ?? .ordered([])).setting("finalizers", to: .array([.string("kubernetes")])))
            }
            if let name = object.metadataString("name") {
                let labels = object[member: "metadata"]?[member: "labels"] ?? .ordered([])
                object = object.settingMetadata("labels", to: labels.setting("kubernetes.io/metadata.name", to: .string(name)))
            }
            object = object.setting("status", to: .ordered([("phase", .string("Active"))]))
        case "Service":
            object = serviceDefaults(object)
        case "Ingress":
            object = ingressDefaults(object)
        case "Deployment", "ReplicaSet", "StatefulSet", "DaemonSet":
            object = workloadDefaults(kind.kind, object)
        case "Job":
            object = jobDefaults(object)
        case "CronJob":
            object = cronJobDefaults(object)
        case "HorizontalPodAutoscaler" where kind.version == "v1":
            if let spec = object[member: "spec"], case .object = spec { object = object.setting("spec", to: filling(spec, "minReplicas", .int(1))) }
        case "HorizontalPodAutoscaler":
            object = hpaDefaults(object)
        case "Pod":
            object = podDefaults(object)
        case "NetworkPolicy":
            object = networkPolicyDefaults(object)
        case "PersistentVolumeClaim", "PersistentVolume":
            if var spec = object[member: "spec"], case .object = spec {
                spec = filling(spec, "volumeMode", .string("Filesystem"))
                if kind.kind == "PersistentVolume" { spec = filling(spec, "persistentVolumeReclaimPolicy", .string("Retain")) }
                object = object.setting("spec", to: spec)
            }
        case "StorageClass":
            object = filling(filling(object, "reclaimPolicy", .string("Delete")), "volumeBindingMode", .string("Immediate"))
        default: break
        }
        return object
    }

    /// The validation errors of an object about to be stored (422 Invalid when any).
    public static func validate(_ kind: KubeKind, _ object: JSONValue) -> [FieldError] {
        var errors: [FieldError] = []
        let metadata = object[member: "metadata"]
        let name = metadata?[member: "name"]?.stringValue ?? ""
        if name.isEmpty {
            errors.append(FieldError("metadata.name", .required, "name or generateName is required"))
        } else {
            let problems = kind.kind == "Namespace" ? Names.dns1123Label(name) : Names.dns1123Subdomain(name)
            errors += problems.map { FieldError("metadata.name", .invalid(name), $0) }
        }
        for (key, value) in metadata?[member: "labels"]?.objectValue ?? [:] {
            errors += Names.qualifiedName(key).map { FieldError("metadata.labels", .invalid(key), $0) }
            let text = value.stringValue ?? ""
            errors += Names.labelValue(text).map { FieldError("metadata.labels", .invalid(text), $0) }
        }
        var annotationBytes = 0
        for (key, value) in metadata?[member: "annotations"]?.objectValue ?? [:] {
            errors += Names.qualifiedName(key.lowercased()).map { FieldError("metadata.annotations", .invalid(key), $0) }
            annotationBytes += key.utf8.count + (value.stringValue?.utf8.count ?? 0)
        }
        if annotationBytes > 256 * 1024 {
            errors.append(FieldError("metadata.annotations", .tooLong, "must have at most 262144 bytes"))
        }
        for field in ["data", "binaryData"] where kind.kind == "ConfigMap" || kind.kind == "Secret" {
            for key in (object[member: field]?.objectValue ?? [:]).keys.sorted() {
                errors += Names.configKey(key).map { FieldError("\(field)[\(key)]", .invalid(key), $0) }
            }
        }
        if kind.kind == "Pod" { errors += validatePod(object) }
        if kind.kind == "PersistentVolumeClaim" {
            if (object[member: "spec"]?[member: "accessModes"]?.arrayItems ?? []).isEmpty {
                errors.append(FieldError("spec.accessModes", .required, "at least 1 access mode is required"))
            }
            if object[member: "spec"]?[member: "resources"]?[member: "requests"]?[member: "storage"] == nil {
                errors.append(FieldError("spec.resources[storage]", .required, ""))
            }
        }
        if kind.kind == "StorageClass" && (object[member: "provisioner"]?.stringValue ?? "").isEmpty {
            errors.append(FieldError("provisioner", .required, ""))
        }
        if kind.kind == "ConfigMap" {
            let binary = object[member: "binaryData"]?.objectValue ?? [:]
            for key in (object[member: "data"]?.objectValue ?? [:]).keys.sorted() where binary[key] != nil {
                errors.append(FieldError("data[\(key)]", .invalid(key), "duplicate of key present in binaryData"))
            }
        }
        if kind.kind == "Service" { errors += validateService(object) }
        if ["Deployment", "ReplicaSet", "StatefulSet", "DaemonSet"].contains(kind.kind) { errors += validateWorkload(object) }
        if kind.kind == "Job" { errors += validateJob(object) }
        if kind.kind == "CronJob" { errors += validateCronJob(object) }
        if kind.kind == "HorizontalPodAutoscaler" { errors += validateHPA(object) }
        if kind.kind == "NetworkPolicy" { errors += validateNetworkPolicy(object) }
        if kind.kind == "EndpointSlice" { errors += validateEndpointSlice(object) }
        if kind.kind == "Ingress" { errors += validateIngress(object) }
        if kind.kind == "IngressClass" { errors += validateIngressClass(object) }
        return errors.sorted { $0.field < $1.field }
    }

    /// Errors for an update that changes what may not change (an immutable ConfigMap's or
    /// Secret's data, a Secret's type).
    public static func validateUpdate(_ kind: KubeKind, old: JSONValue, new: JSONValue) -> [FieldError] {
        var errors: [FieldError] = []
        if kind.kind == "Service" { errors += validateServiceUpdate(old: old, new: new) }
        if ["Deployment", "ReplicaSet", "StatefulSet", "DaemonSet"].contains(kind.kind) { errors += validateWorkloadUpdate(old: old, new: new) }
        if kind.kind == "Job" { errors += validateJobUpdate(old: old, new: new) }
        if kind.kind == "IngressClass" { errors += validateIngressClassUpdate(old: old, new: new) }
        if kind.kind == "Pod" { errors += validatePodUpdate(old: old, new: new) }
        if kind.kind == "Secret", let oldType = old[member: "type"]?.stringValue, let newType = new[member: "type"]?.stringValue, oldType != newType {
            errors.append(FieldError("type", .invalid(newType), "field is immutable"))
        }
        if kind.kind == "Secret" || kind.kind == "ConfigMap", case .bool(true)? = old[member: "immutable"] {
            if new[member: "immutable"] != .bool(true) {
                errors.append(FieldError("immutable", .forbidden, "field is immutable when `immutable` is set"))
            }
            for field in ["data", "binaryData"] where old[member: field] != new[member: field] {
                errors.append(FieldError(field, .forbidden, "field is immutable when `immutable` is set"))
            }
        }
        return errors
    }
}

/// Base64 as Go's StdEncoding decodes it (padded, strict).
enum Base64 {
    /// The offset of the first byte that makes `text` invalid, nil when it decodes.
    static func invalidOffset(_ text: String) -> Int? {
        let bytes = Array(text.utf8)
        func isAlphabet(_ c: UInt8) -> Bool {
            (c >= UInt8(ascii: "A") && c <= UInt8(ascii: "Z")) || (c >= UInt8(ascii: "a") && c <= UInt8(ascii: "z"))
                || (c >= UInt8(ascii: "0") && c <= UInt8(ascii: "9")) || c == UInt8(ascii: "+") || c == UInt8(ascii: "/")
        }
        var index = 0
        while index < bytes.count {
            let c = bytes[index]
            if c == UInt8(ascii: "=") {
                // Padding: only at the end of a quantum, one or two of them, nothing after.
                let quantum = index % 4
                guard quantum >= 2 else { return index }
                let padding = bytes[index...]
                guard padding.allSatisfy({ $0 == UInt8(ascii: "=") }), padding.count == 4 - quantum else {
                    return bytes.count > index + (4 - quantum) ? index + (4 - quantum) : index
                }
                return nil
            }
            if c == UInt8(ascii: "\n") || c == UInt8(ascii: "\r") { index += 1; continue }
            guard isAlphabet(c) else { return index }
            index += 1
        }
        return bytes.count % 4 == 0 ? nil : bytes.count / 4 * 4
    }
}
