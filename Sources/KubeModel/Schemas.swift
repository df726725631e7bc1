import GoCompat
import Kube

/// The types served, as schemas: what fieldValidation checks nested members against and what
/// the OpenAPI v3 documents (and so `kubectl explain`) describe. Types not spelled out here are
/// open (`any`): their members are neither checked nor explained.
public indirect enum SchemaType: Sendable {
    case string, integer, boolean, any
    case object(String)
    case array(SchemaType)
    case map(SchemaType)
}

public struct SchemaField: Sendable {
    public let name: String
    public let type: SchemaType
    public let description: String
}

public struct SchemaDefinition: Sendable {
    public let name: String
    public let description: String
    public let fields: [SchemaField]
    public let required: [String]
}

public enum Schemas {
    static func f(_ name: String, _ type: SchemaType, _ description: String = "") -> SchemaField {
        SchemaField(name: name, type: type, description: description)
    }

    static let core = "io.k8s.api.core.v1."
    static let objectMeta = "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"

    static func define(_ name: String, _ description: String, required: [String] = [], _ fields: [SchemaField]) -> SchemaDefinition {
        SchemaDefinition(name: name, description: description, fields: fields, required: required)
    }

    static func kind(_ kind: String, _ description: String, _ fields: [SchemaField]) -> SchemaDefinition {
        define(core + kind, description, [
            f("apiVersion", .string, "The versioned schema of this representation of the object."),
            f("kind", .string, "The REST resource this object represents."),
            f("metadata", .object(objectMeta), "The object's metadata."),
        ] + fields)
    }

    public static let definitions: [String: SchemaDefinition] = {
        let strings = SchemaType.map(.string)
        let list: [SchemaDefinition] = [
            define(objectMeta, "Metadata every persisted object has.", [
                f("name", .string, "The object's name, unique in its namespace."),
                f("generateName", .string, "A prefix the server completes into a unique name."),
                f("namespace", .string, "The namespace the object is in."),
                f("uid", .string, "The object's unique id, set by the server."),
                f("resourceVersion", .string, "The version of the object, for optimistic concurrency and watches."),
                f("generation", .integer, "The generation of the desired state."),
                f("creationTimestamp", .string, "When the object was created."),
                f("deletionTimestamp", .string, "When the object will be deleted (set when deletion was asked for)."),
                f("deletionGracePeriodSeconds", .integer, "Seconds the object has to terminate gracefully."),
                f("labels", strings, "Key-value pairs that selectors match."),
                f("annotations", strings, "Key-value pairs for tools, not for selection."),
                f("ownerReferences", .array(.any), "The objects this one depends on."),
                f("finalizers", .array(.string), "What must happen before the object is deleted."),
                f("managedFields", .array(.any), "Which manager owns which fields."),
                f("selfLink", .string, "Deprecated, unset."),
            ]),
            kind("Pod", "A group of containers that run together on a node.", [
                f("spec", .object(core + "PodSpec"), "The desired behaviour of the pod."),
                f("status", .any, "The observed state of the pod."),
            ]),
            define(core + "PodSpec", "The description of a pod.", required: ["containers"], [
                f("activeDeadlineSeconds", .integer, "How long the pod may run before it is stopped."),
                f("affinity", .any, "Scheduling constraints."),
                f("automountServiceAccountToken", .boolean, "Whether a service account token is mounted."),
                f("containers", .array(.object(core + "Container")), "The pod's containers."),
                f("dnsConfig", .any, "DNS settings beyond dnsPolicy."),
                f("dnsPolicy", .string, "How the pod's DNS is set up."),
                f("enableServiceLinks", .boolean, "Whether services are injected as environment variables."),
                f("ephemeralContainers", .array(.any), "Containers added to debug a running pod."),
                f("hostAliases", .array(.any), "Entries added to the pod's /etc/hosts."),
                f("hostIPC", .boolean, "Use the host's IPC namespace."),
                f("hostNetwork", .boolean, "Use the host's network namespace."),
                f("hostPID", .boolean, "Use the host's PID namespace."),
                f("hostUsers", .boolean, "Use the host's user namespace."),
                f("hostname", .string, "The pod's hostname."),
                f("imagePullSecrets", .array(.any), "Secrets to pull images with."),
                f("initContainers", .array(.object(core + "Container")), "Containers run in order before the others."),
                f("nodeName", .string, "The node the pod runs on."),
                f("nodeSelector", strings, "Labels a node must have."),
                f("os", .any, "The operating system the pod needs."),
                f("overhead", .map(.string), "Resources the pod's sandbox uses."),
                f("preemptionPolicy", .string, "Whether the pod may preempt others."),
                f("priority", .integer, "The pod's priority."),
                f("priorityClassName", .string, "The pod's priority class."),
                f("readinessGates", .array(.any), "Conditions the pod's readiness also waits for."),
                f("resourceClaims", .array(.any), "Dynamic resources the pod claims."),
                f("resources", .any, "Resources of the pod as a whole."),
                f("restartPolicy", .string, "Always, OnFailure or Never."),
                f("runtimeClassName", .string, "The runtime class to run the pod with."),
                f("schedulerName", .string, "The scheduler that places the pod."),
                f("schedulingGates", .array(.any), "Gates that hold the pod back from scheduling."),
                f("securityContext", .any, "Security settings for all containers."),
                f("serviceAccount", .string, "Deprecated alias of serviceAccountName."),
                f("serviceAccountName", .string, "The service account the pod runs as."),
                f("setHostnameAsFQDN", .boolean, "Whether the hostname is the fully qualified name."),
                f("shareProcessNamespace", .boolean, "Share one PID namespace among the containers."),
                f("subdomain", .string, "The pod's subdomain."),
                f("terminationGracePeriodSeconds", .integer, "Seconds between the stop signal and the kill."),
                f("tolerations", .array(.any), "Taints the pod tolerates."),
                f("topologySpreadConstraints", .array(.any), "How pods spread across topology domains."),
                f("volumes", .array(.object(core + "Volume")), "Volumes the containers can mount."),
            ]),
            define(core + "Container", "A container in a pod.", required: ["name"], [
                f("args", .array(.string), "Arguments to the entrypoint."),
                f("command", .array(.string), "The entrypoint, instead of the image's."),
                f("env", .array(.object(core + "EnvVar")), "Environment variables."),
                f("envFrom", .array(.any), "Sources of environment variables."),
                f("image", .string, "The container image."),
                f("imagePullPolicy", .string, "Always, Never or IfNotPresent."),
                f("lifecycle", .any, "Hooks run after start and before stop."),
                f("livenessProbe", .any, "Restarts the container when it fails."),
                f("name", .string, "The container's name, unique in the pod."),
                f("ports", .array(.object(core + "ContainerPort")), "Ports the container exposes."),
                f("readinessProbe", .any, "Takes the container out of service when it fails."),
                f("resizePolicy", .array(.any), "How the container's resources are resized."),
                f("resources", .any, "Compute resources requested and limited."),
                f("restartPolicy", .string, "Always makes an init container a sidecar."),
                f("securityContext", .any, "Security settings of the container."),
                f("startupProbe", .any, "Holds other probes back until it succeeds."),
                f("stdin", .boolean, "Keep a stdin open."),
                f("stdinOnce", .boolean, "Close stdin after the first attach ends."),
                f("terminationMessagePath", .string, "The file the termination message is read from."),
                f("terminationMessagePolicy", .string, "File or FallbackToLogsOnError."),
                f("tty", .boolean, "Allocate a TTY."),
                f("volumeDevices", .array(.any), "Block devices the container uses."),
                f("volumeMounts", .array(.object(core + "VolumeMount")), "Volumes mounted into the container."),
                f("workingDir", .string, "The working directory."),
            ]),
            define(core + "ContainerPort", "A port a container exposes.", required: ["containerPort"], [
                f("containerPort", .integer, "The port number in the pod's network namespace."),
                f("hostIP", .string, "The host address to bind."),
                f("hostPort", .integer, "The host port to expose it on."),
                f("name", .string, "The port's name."),
                f("protocol", .string, "TCP, UDP or SCTP."),
            ]),
            define(core + "EnvVar", "An environment variable.", required: ["name"], [
                f("name", .string, "The variable's name."),
                f("value", .string, "The value, with $(VAR) references expanded."),
                f("valueFrom", .any, "Where the value comes from."),
            ]),
            define(core + "VolumeMount", "A volume mounted into a container.", required: ["name", "mountPath"], [
                f("mountPath", .string, "Where in the container."),
                f("mountPropagation", .string, "How mounts propagate."),
                f("name", .string, "The volume's name."),
                f("readOnly", .boolean, "Mount read-only."),
                f("recursiveReadOnly", .string, "Whether read-only applies to submounts."),
                f("subPath", .string, "A path within the volume."),
                f("subPathExpr", .string, "A subPath with $(VAR) references."),
            ]),
            define(core + "Volume", "A named volume in a pod.", required: ["name"], ["name"].map { f($0, .string, "The volume's name.") }
                + ["awsElasticBlockStore", "azureDisk", "azureFile", "cephfs", "cinder", "configMap", "csi", "downwardAPI", "emptyDir",
                   "ephemeral", "fc", "flexVolume", "flocker", "gcePersistentDisk", "gitRepo", "glusterfs", "hostPath", "image", "iscsi",
                   "nfs", "persistentVolumeClaim", "photonPersistentDisk", "portworxVolume", "projected", "quobyte", "rbd", "scaleIO",
                   "secret", "storageos", "vsphereVolume"].map { f($0, .any, "A \($0) volume source.") }),
            kind("ConfigMap", "Configuration data for pods to consume.", [
                f("binaryData", strings, "Binary values, base64-encoded."), f("data", strings, "Text values."),
                f("immutable", .boolean, "Whether the data may no longer change."),
            ]),
            kind("Secret", "Sensitive data for pods to consume.", [
                f("data", strings, "Values, base64-encoded."), f("immutable", .boolean, "Whether the data may no longer change."),
                f("stringData", strings, "Values as text, merged into data on write."), f("type", .string, "What the secret holds."),
            ]),
            kind("ServiceAccount", "An identity for processes in pods.", [
                f("automountServiceAccountToken", .boolean, "Whether pods mount its token."),
                f("imagePullSecrets", .array(.any), "Secrets to pull images with."), f("secrets", .array(.any), "Secrets pods may use."),
            ]),
            kind("Namespace", "A scope for names.", [f("spec", .any, "Finalizers of the namespace."), f("status", .any, "The namespace's phase.")]),
            kind("Node", "A machine that runs pods.", [f("spec", .any, "How the node is configured."), f("status", .any, "The node's observed state.")]),
            kind("PersistentVolume", "Storage provisioned for claims.", [f("spec", .any, "The volume's source and capacity."), f("status", .any, "The volume's phase.")]),
            kind("PersistentVolumeClaim", "A request for storage.", [f("spec", .any, "What storage is asked for."), f("status", .any, "The claim's phase and capacity.")]),
            kind("Event", "A report of something that happened to an object.", [
                f("action", .string, "What was done."), f("count", .integer, "How many times it happened."),
                f("eventTime", .string, "When it first happened (microseconds)."), f("firstTimestamp", .string, "When it first happened."),
                f("involvedObject", .any, "The object it is about."), f("lastTimestamp", .string, "When it last happened."),
                f("message", .string, "What happened."), f("reason", .string, "Why, in a word."), f("related", .any, "A second object."),
                f("reportingComponent", .string, "Who reported it."), f("reportingInstance", .string, "Which instance reported it."),
                f("series", .any, "A series of the same event."), f("source", .any, "Who reported it (older clients)."),
                f("type", .string, "Normal or Warning."),
            ]),
            define("io.k8s.api.coordination.v1.Lease", "A lease held by one holder at a time.", [
                f("apiVersion", .string, "The versioned schema of this representation of the object."),
                f("kind", .string, "The REST resource this object represents."),
                f("metadata", .object(objectMeta), "The object's metadata."), f("spec", .any, "The holder and its times."),
            ]),
            define("io.k8s.api.storage.v1.StorageClass", "A class of storage and its provisioner.", required: ["provisioner"], [
                f("apiVersion", .string, "The versioned schema of this representation of the object."),
                f("kind", .string, "The REST resource this object represents."),
                f("metadata", .object(objectMeta), "The object's metadata."),
                f("allowVolumeExpansion", .boolean, "Whether claims may grow."), f("allowedTopologies", .array(.any), "Where volumes may be."),
                f("mountOptions", .array(.string), "Options volumes are mounted with."), f("parameters", strings, "The provisioner's parameters."),
                f("provisioner", .string, "What makes the volumes."), f("reclaimPolicy", .string, "Delete or Retain."),
                f("volumeBindingMode", .string, "Immediate or WaitForFirstConsumer."),
            ]),
        ]
        return Dictionary(uniqueKeysWithValues: list.map { ($0.name, $0) })
    }()

    /// The schema name of a kind (io.k8s.api.core.v1.Pod).
    public static func name(_ kind: KubeKind) -> String {
        "io.k8s.api.\(kind.group.isEmpty ? "core" : String(kind.group.split(separator: ".").first!)).\(kind.version).\(kind.kind)"
    }

    /// The members below the top level that the types do not have, as fieldValidation reports
    /// them (`spec.containers[0].imagee`). Top-level and metadata members are Objects.decode's.
    /// The object without them, as decoding into the types drops them.
    public static func unknownFields(_ kind: KubeKind, _ object: JSONValue) -> (JSONValue, [String]) {
        guard let definition = definitions[name(kind)] else { return (object, []) }
        var found: [String] = []
        var result = object
        for field in definition.fields where field.name != "metadata" {
            if let value = object[member: field.name] { result = result.setting(field.name, to: walk(value, field.type, path: field.name, into: &found)) }
        }
        return (result, found)
    }

    static func walk(_ value: JSONValue, _ type: SchemaType, path: String, into found: inout [String]) -> JSONValue {
        switch (type, value) {
        case (.object(let name), .object(let members, let keys)):
            guard let definition = definitions[name] else { return value }
            var kept: [(String, JSONValue)] = []
            for key in keys {
                guard let member = members[key] else { continue }
                if let field = definition.fields.first(where: { $0.name == key }) {
                    kept.append((key, walk(member, field.type, path: path + "." + key, into: &found)))
                } else {
                    found.append(path + "." + key)
                }
            }
            return .ordered(kept)
        case (.array(let element), .array(let items)):
            return .array(items.enumerated().map { walk($0.element, element, path: "\(path)[\($0.offset)]", into: &found) })
        default: return value
        }
    }

    /// A type as an OpenAPI v3 schema (references to named types as `allOf`, as the apiserver writes them).
    static func openAPI(_ type: SchemaType, description: String = "") -> JSONValue {
        var members: [(String, JSONValue)] = []
        if !description.isEmpty { members.append(("description", .string(description))) }
        switch type {
        case .string: members.append(("type", .string("string")))
        case .integer: members += [("type", .string("integer")), ("format", .string("int64"))]
        case .boolean: members.append(("type", .string("boolean")))
        case .any: members.append(("type", .string("object")))
        case .object(let name): members += [("allOf", .array([.ordered([("$ref", .string("#/components/schemas/" + name))])])), ("default", .ordered([]))]
        case .array(let element): members += [("type", .string("array")), ("items", openAPI(element))]
        case .map(let element): members += [("type", .string("object")), ("additionalProperties", openAPI(element))]
        }
        return .ordered(members)
    }

    /// The named types `root` uses, itself first, as OpenAPI v3 component schemas.
    public static func components(_ root: String, gvk: JSONValue?) -> [(String, JSONValue)] {
        var order: [String] = []
        func visit(_ name: String) {
            guard !order.contains(name), let definition = definitions[name] else { return }
            order.append(name)
            for field in definition.fields {
                var type = field.type
                while true {
                    switch type {
                    case .array(let element), .map(let element): type = element; continue
                    case .object(let child): visit(child)
                    default: break
                    }
                    break
                }
            }
        }
        visit(root)
        return order.compactMap { name in
            guard let definition = definitions[name] else { return nil }
            var members: [(String, JSONValue)] = [("description", .string(definition.description)), ("type", .string("object"))]
            members.append(("properties", .ordered(definition.fields.map { ($0.name, openAPI($0.type, description: $0.description)) })))
            if !definition.required.isEmpty { members.append(("required", .array(definition.required.map { .string($0) }))) }
            if name == root, let gvk { members.append(("x-kubernetes-group-version-kind", .array([gvk]))) }
            return (name, .ordered(members))
        }
    }
}
