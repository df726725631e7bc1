import KubeModel

/// `/openapi/v2` in the protobuf form kubectl ≤ 1.29 downloads (gnostic's openapi_v2.Document).
/// It carries what kubectl reads from it: each kind's PATCH operation, tagged with the kind and
/// taking `fieldValidation` (so kubectl leaves validation to the server), and no schemas (so
/// `kubectl apply` computes its patches from the types it knows).
enum OpenAPIV2 {
    static let contentType = "application/com.github.proto-openapi.spec.v2.v1.0+protobuf"

    static func document(version: String) -> [UInt8] {
        var paths: [UInt8] = []
        for kind in KubeKinds.all {
            let base = "/" + KubeAPI.openAPIPath(kind.group)
            let collection = kind.namespaced ? "\(base)/namespaces/{namespace}/\(kind.resource)" : "\(base)/\(kind.resource)"
            let parameters = ["dryRun", "fieldManager", "fieldValidation", "force"].flatMap { name in
                // ParametersItem.parameter → Parameter.non_body_parameter → NonBodyParameter.query_parameter_sub_schema
                let query = string(2, "query") + string(4, name) + string(6, "string")
                return message(8, message(1, message(2, message(3, query))))
            }
            let gvk = "group: \"\(kind.group)\"\nkind: \(kind.kind)\nversion: \(kind.version)\n"
            let extensionField = message(13, string(1, "x-kubernetes-group-version-kind") + message(2, string(2, gvk)))
            let operation = string(5, "patch\(KubeAPI.operationGroup(kind))\(kind.namespaced ? "Namespaced" : "")\(kind.kind)") + parameters + extensionField
            paths += message(2, string(1, collection + "/{name}") + message(2, message(8, operation)))
        }
        return string(1, "2.0") + message(2, string(1, "Kubernetes") + string(2, version)) + message(8, paths)
    }

    static func varint(_ value: Int) -> [UInt8] {
        var value = UInt64(value)
        var out: [UInt8] = []
        repeat {
            var byte = UInt8(value & 0x7F)
            value >>= 7
            if value != 0 { byte |= 0x80 }
            out.append(byte)
        } while value != 0
        return out
    }

    static func message(_ number: Int, _ body: [UInt8]) -> [UInt8] { varint(number << 3 | 2) + varint(body.count) + body }
    static func string(_ number: Int, _ text: String) -> [UInt8] { message(number, Array(text.utf8)) }
}
