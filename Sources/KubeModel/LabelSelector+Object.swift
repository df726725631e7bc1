import GoCompat
import Kube

extension LabelSelector {
    /// A selector as objects spell it (`matchLabels` and `matchExpressions`, all of which must
    /// hold): a ReplicaSet's, a Deployment's. An unknown operator matches nothing.
    public init(object: JSONValue?) {
        var requirements: [Requirement] = []
        for (key, value) in (object?[member: "matchLabels"]?.objectValue ?? [:]).sorted(by: { $0.key < $1.key }) {
            requirements.append(Requirement(key: key, op: .equals, values: [value.stringValue ?? ""]))
        }
        for expression in object?[member: "matchExpressions"]?.arrayValue ?? [] {
            let key = expression[member: "key"]?.stringValue ?? ""
            let values = (expression[member: "values"]?.arrayValue ?? []).compactMap(\.stringValue)
            switch expression[member: "operator"]?.stringValue ?? "" {
            case "In": requirements.append(Requirement(key: key, op: .in, values: values))
            case "NotIn": requirements.append(Requirement(key: key, op: .notIn, values: values))
            case "Exists": requirements.append(Requirement(key: key, op: .exists, values: []))
            case "DoesNotExist": requirements.append(Requirement(key: key, op: .doesNotExist, values: []))
            default: requirements.append(Requirement(key: key, op: .in, values: []))
            }
        }
        self.requirements = requirements
    }

    /// The labels of an object's metadata, as strings.
    public static func labels(of object: JSONValue) -> [String: String] {
        (object[member: "metadata"]?[member: "labels"]?.objectValue ?? [:]).compactMapValues(\.stringValue)
    }
}
