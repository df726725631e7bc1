import ContainerSpec
import Engine
import FoundationEssentials
import Glibc
import GoCompat
import Kube
import LinuxSys

/// A pod container's spec as Engine run options: command and args with `$(VAR)` expansion, env and
/// envFrom, volumes, resources and securityContext.
extension Kubelet {
    /// The cluster DNS address Pods' resolv.conf names (kubeadm's kube-dns address).
    static let clusterDNS = "10.96.0.10"

    func runOptions(_ key: ObjectKey, _ pod: JSONValue, _ container: JSONValue, name: PodContainerName, isInit: Bool,
                    sandbox: PodContainer, podIP: String?) throws(EngineError) -> RunOptions {
        let spec = pod[member: "spec"] ?? .null
        var options = RunOptions()
        options.name = name.description
        options.labels = labels(name, spec: spec, isInit: isInit)
        options.network = .container(sandbox.container.id)
        options.ipcMode = .container(sandbox.container.id)
        if (spec[member: "shareProcessNamespace"] ?? .null).podBool == true { options.pidMode = .container(sandbox.container.id) }
        // hostNetwork/hostPID/hostIPC: the host's namespaces (and its name, as a kubelet's pods get).
        let hostNetwork = (spec[member: "hostNetwork"] ?? .null).podBool == true
        if hostNetwork { options.network = .host }
        if (spec[member: "hostPID"] ?? .null).podBool == true { options.pidMode = .host }
        if (spec[member: "hostIPC"] ?? .null).podBool == true { options.ipcMode = .host }
        // spec.hostname when given (an Indexed Job's NAME-INDEX), else the Pod's name.
        if !hostNetwork { options.hostname = spec[member: "hostname"]?.stringValue ?? key.name }
        var request = NetworkRequest()
        // dnsPolicy ClusterFirst: the cluster's DNS (berth-dns on kube-dns' address, KubeProxy's
        // ClusterDNS), which answers cluster.local and forwards the rest to the host's resolvers.
        request.dns = [Self.clusterDNS]
        request.dnsSearch = Self.searchDomains(key.namespace)
        request.dnsOptions = ["ndots:5"]
        if let podIP, !hostNetwork { request.extraHosts = ["\(key.name):\(podIP)"] }
        options.networking = hostNetwork ? nil : request

        let environment = try self.environment(key, pod, container, podIP: podIP)
        options.env = environment.list.map { $0.0 + "=" + $0.1 }
        let command = (container[member: "command"] ?? .null).podArray.compactMap(\.stringValue).map { Self.expand($0, environment.map) }
        let args = (container[member: "args"] ?? .null).podArray.compactMap(\.stringValue).map { Self.expand($0, environment.map) }
        if !command.isEmpty {
            options.entrypoint = command
            options.command = args
        } else if !args.isEmpty {
            options.command = args
        }
        options.workingDir = container.podString("workingDir")
        options.tty = (container[member: "tty"] ?? .null).podBool ?? false
        options.interactive = (container[member: "stdin"] ?? .null).podBool ?? false
        if options.interactive { options.stdinOnce = (container[member: "stdinOnce"] ?? .null).podBool ?? false }
        options.mounts = try mounts(key, pod, container, uid: name.uid)
        applyResources(container[member: "resources"] ?? .null, to: &options)
        applySecurity(spec[member: "securityContext"] ?? .null, container[member: "securityContext"] ?? .null, to: &options)
        try checkNonRoot(key, pod, container, name: name, options: options)
        return options
    }

    /// runAsNonRoot: refused when the container would run as root (the image's user unless
    /// runAsUser says otherwise), in the kubelet's words.
    func checkNonRoot(_ key: ObjectKey, _ pod: JSONValue, _ container: JSONValue, name: PodContainerName, options: RunOptions) throws(EngineError) {
        let context = container[member: "securityContext"] ?? .null
        let podContext = pod[member: "spec"]?[member: "securityContext"] ?? .null
        guard (context[member: "runAsNonRoot"] ?? podContext[member: "runAsNonRoot"] ?? .null).podBool == true else { return }
        var user = options.user ?? ""
        if options.user == nil, let image = container.podString("image"), let record = try? engine.images.resolve(image),
           let loaded = try? engine.images.load(record) {
            user = loaded.config.config?.user ?? ""
        }
        let uidPart = String(user.split(separator: ":", maxSplits: 1).first ?? "")
        let pod = "\"\(key.name)_\(key.namespace)(\(name.uid))\""
        if uidPart.isEmpty || uidPart == "0" || uidPart == "root" {
            throw .invalid("container has runAsNonRoot and image will run as root (pod: \(pod), container: \(name.container))")
        }
        if Int(uidPart) == nil {
            throw .invalid("container has runAsNonRoot and image has non-numeric user (\(uidPart)), cannot verify user is non-root (pod: \(pod), container: \(name.container))")
        }
    }

    static func pullPolicy(_ container: JSONValue) -> String {
        if let given = container.podString("imagePullPolicy") { return given }
        let image = container.podString("image") ?? ""
        let lastPart = image.split(separator: "/").last ?? ""
        if image.contains("@") { return "IfNotPresent" }
        return !lastPart.contains(":") || lastPart.hasSuffix(":latest") ? "Always" : "IfNotPresent"
    }

    // MARK: - Environment

    /// The container's variables in Kubernetes' order (envFrom, then env, later ones replacing),
    /// and as a map for `$(VAR)`.
    func environment(_ key: ObjectKey, _ pod: JSONValue, _ container: JSONValue, podIP: String?) throws(EngineError)
        -> (list: [(String, String)], map: [String: String]) {
        var list: [(String, String)] = []
        var map: [String: String] = [:]
        func set(_ name: String, _ value: String) {
            if map.updateValue(value, forKey: name) == nil { list.append((name, value)) } else {
                list = list.map { $0.0 == name ? (name, value) : $0 }
            }
        }
        for source in (container[member: "envFrom"] ?? .null).podArray {
            let prefix = source.podString("prefix") ?? ""
            if let reference = source[member: "configMapRef"], let name = reference.podString("name") {
                guard let data = try keyedData(key.namespace, kind: "configmap", name: name, optional: (reference[member: "optional"] ?? .null).podBool == true) else { continue }
                for (name, value) in data { set(prefix + name, value) }
            }
            if let reference = source[member: "secretRef"], let name = reference.podString("name") {
                guard let data = try keyedData(key.namespace, kind: "secret", name: name, optional: (reference[member: "optional"] ?? .null).podBool == true) else { continue }
                for (name, value) in data { set(prefix + name, value) }
            }
        }
        for variable in (container[member: "env"] ?? .null).podArray {
            guard let name = variable.podString("name") else { continue }
            if let from = variable[member: "valueFrom"] {
                if let value = try valueFrom(key, pod, container, from, podIP: podIP) { set(name, value) }
            } else {
                set(name, Self.expand(variable[member: "value"]?.stringValue ?? "", map))
            }
        }
        return (list, map)
    }

    func valueFrom(_ key: ObjectKey, _ pod: JSONValue, _ container: JSONValue, _ from: JSONValue, podIP: String?) throws(EngineError) -> String? {
        if let field = from[member: "fieldRef"]?.podString("fieldPath") {
            return fieldValue(pod, field, podIP: podIP)
        }
        if let reference = from[member: "resourceFieldRef"], let resource = reference.podString("resource") {
            let target = reference.podString("containerName").flatMap { name in
                (pod[member: "spec"]?[member: "containers"] ?? .null).podArray.first { $0.podString("name") == name }
            } ?? container
            return resourceValue(target, resource, divisor: reference[member: "divisor"].flatMap(Self.quantityText) ?? "1")
        }
        for (member, kind) in [("configMapKeyRef", "configmap"), ("secretKeyRef", "secret")] {
            guard let reference = from[member: member], let name = reference.podString("name"), let item = reference.podString("key") else { continue }
            let optional = (reference[member: "optional"] ?? .null).podBool == true
            guard let data = try keyedData(key.namespace, kind: kind, name: name, optional: optional) else { return nil }
            guard let value = data.first(where: { $0.0 == item })?.1 else {
                if optional { return nil }
                throw .notFound("couldn't find key \(item) in \(kind == "secret" ? "Secret" : "ConfigMap") \(key.namespace)/\(name)")
            }
            return value
        }
        return nil
    }

    /// A ConfigMap's data (and binaryData) or a Secret's data (decoded), in key order; nil for a
    /// missing optional one.
    func keyedData(_ namespace: String, kind: String, name: String, optional: Bool) throws(EngineError) -> [(String, String)]? {
        let resource = Resource(kind == "secret" ? "secrets" : "configmaps")
        let object: JSONValue
        do { object = try store.get(ObjectKey(resource, namespace: namespace, name: name)).value() } catch where error.kind == .notFound {
            if optional { return nil }
            throw .notFound("\(kind) \"\(name)\" not found")
        }
        var result: [(String, String)] = []
        for (item, value) in (object[member: "data"] ?? .null).podMembers {
            guard let text = value.stringValue else { continue }
            if kind == "secret" {
                result.append((item, Data(base64Encoded: text).map { String(decoding: $0, as: UTF8.self) } ?? ""))
            } else {
                result.append((item, text))
            }
        }
        if kind != "secret" {
            for (item, value) in (object[member: "binaryData"] ?? .null).podMembers {
                if let text = value.stringValue { result.append((item, Data(base64Encoded: text).map { String(decoding: $0, as: UTF8.self) } ?? "")) }
            }
        }
        return result.sorted { $0.0 < $1.0 }
    }

    /// The bytes of each key (for volumes, where binary data must stay binary).
    func keyedBytes(_ namespace: String, kind: String, name: String, optional: Bool) throws(EngineError) -> [(String, [UInt8])]? {
        let resource = Resource(kind == "secret" ? "secrets" : "configmaps")
        let object: JSONValue
        do { object = try store.get(ObjectKey(resource, namespace: namespace, name: name)).value() } catch where error.kind == .notFound {
            if optional { return nil }
            throw .notFound("\(kind) \"\(name)\" not found")
        }
        var result: [(String, [UInt8])] = []
        for (item, value) in (object[member: "data"] ?? .null).podMembers {
            guard let text = value.stringValue else { continue }
            result.append((item, kind == "secret" ? Array(Data(base64Encoded: text) ?? Data()) : Array(text.utf8)))
        }
        for (item, value) in (object[member: "binaryData"] ?? .null).podMembers {
            if let text = value.stringValue { result.append((item, Array(Data(base64Encoded: text) ?? Data()))) }
        }
        return result.sorted { $0.0 < $1.0 }
    }

    /// The downward API's fields.
    func fieldValue(_ pod: JSONValue, _ path: String, podIP: String?) -> String? {
        switch path {
        case "metadata.name": return pod.metadataString("name")
        case "metadata.namespace": return pod.metadataString("namespace")
        case "metadata.uid": return pod.metadataString("uid")
        case "spec.nodeName": return nodeName
        case "spec.serviceAccountName": return pod.podString("spec", "serviceAccountName") ?? "default"
        case "status.hostIP", "status.hostIPs": return Self.hostIP
        case "status.podIP", "status.podIPs": return podIP ?? ""
        default:
            for member in ["labels", "annotations"] where path.hasPrefix("metadata.\(member)['") && path.hasSuffix("']") {
                let name = String(path.dropFirst("metadata.\(member)['".count).dropLast(2))
                return pod[member: "metadata"]?[member: member]?[member: name]?.stringValue ?? ""
            }
            if path == "metadata.labels" || path == "metadata.annotations" {
                let member = String(path.dropFirst("metadata.".count))
                return (pod[member: "metadata"]?[member: member] ?? .null).podMembers
                    .map { "\($0.0)=\"\($0.1.stringValue ?? "")\"" }.sorted().joined(separator: "\n")
            }
            return nil
        }
    }

    /// `resourceFieldRef`: the container's limit or request in units of `divisor`, rounded up; a
    /// missing limit is the node's allocatable, as the kubelet fills it in.
    func resourceValue(_ container: JSONValue, _ resource: String, divisor: String) -> String {
        let parts = resource.split(separator: ".", maxSplits: 1).map(String.init)
        guard parts.count == 2 else { return "" }
        let given = container[member: "resources"]?[member: parts[0]]?[member: parts[1]].flatMap(Self.quantityText).flatMap(Self.quantity)
        let value = given ?? (parts[0] == "limits" ? (parts[1] == "cpu" ? Double(RunOptions.hostCPUs()) : Double(Self.hostMemory())) : 0)
        let unit = Self.quantity(divisor) ?? 1
        return String(Int64((value / unit).rounded(.up)))
    }

    static func hostMemory() -> Int64 {
        Int64(sysconf(Int32(_SC_PHYS_PAGES))) * Int64(sysconf(Int32(_SC_PAGESIZE)))
    }

    static func quantityText(_ value: JSONValue) -> String? {
        switch value {
        case .string(let text): text
        case .number(let text): text
        default: nil
        }
    }

    /// A resource.Quantity's value: decimal (m, k, M, G, T, P, E, exponent) and binary (Ki … Ei) suffixes.
    static func quantity(_ text: String) -> Double? {
        let suffixes: [(String, Double)] = [
            ("Ki", 1024), ("Mi", 1_048_576), ("Gi", 1_073_741_824), ("Ti", 1_099_511_627_776), ("Pi", 1_125_899_906_842_624),
            ("Ei", 1_152_921_504_606_846_976), ("m", 0.001), ("k", 1e3), ("M", 1e6), ("G", 1e9), ("T", 1e12), ("P", 1e15), ("E", 1e18),
        ]
        for (suffix, factor) in suffixes where text.hasSuffix(suffix) {
            return Double(text.dropLast(suffix.count)).map { $0 * factor }
        }
        return Double(text)
    }

    /// `$(VAR)` as Kubernetes expands it: a defined variable's value, `$$` a literal `$`, anything
    /// else (an undefined name, an unclosed reference) left as written.
    static func expand(_ text: String, _ variables: [String: String]) -> String {
        guard text.contains("$") else { return text }
        let characters = Array(text)
        var result = ""
        var index = 0
        while index < characters.count {
            let character = characters[index]
            guard character == "$", index + 1 < characters.count else {
                result.append(character)
                index += 1
                continue
            }
            let next = characters[index + 1]
            if next == "$" {
                result.append("$")
                index += 2
            } else if next == "(", let close = characters[(index + 2)...].firstIndex(of: ")") {
                let name = String(characters[(index + 2)..<close])
                result += variables[name] ?? "$(\(name))"
                index = close + 1
            } else {
                result.append(character)
                index += 1
            }
        }
        return result
    }

    // MARK: - Resources and security

    func applyResources(_ resources: JSONValue, to options: inout RunOptions) {
        if let memory = resources[member: "limits"]?[member: "memory"].flatMap(Self.quantityText).flatMap(Self.quantity) {
            options.memory = Int64(memory)
        }
        if let cpu = resources[member: "limits"]?[member: "cpu"].flatMap(Self.quantityText).flatMap(Self.quantity) {
            options.cpuPeriod = 100_000
            options.cpuQuota = max(1000, Int64(cpu * 100_000))
        }
        let request = resources[member: "requests"]?[member: "cpu"] ?? resources[member: "limits"]?[member: "cpu"]
        if let cpu = request.flatMap(Self.quantityText).flatMap(Self.quantity) {
            // The kubelet's MilliCPUToShares.
            options.cpuShares = UInt64(max(2, Int64(cpu * 1000) * 1024 / 1000))
        }
    }

    func applySecurity(_ podContext: JSONValue, _ context: JSONValue, to options: inout RunOptions) {
        func value(_ name: String) -> JSONValue? { context[member: name] ?? podContext[member: name] }
        let user = value("runAsUser")?.podInt
        let group = value("runAsGroup")?.podInt
        if let user { options.user = group.map { "\(user):\($0)" } ?? String(user) }
        if let fsGroup = (podContext[member: "fsGroup"] ?? .null).podInt { options.groupAdd.append(String(fsGroup)) }
        for supplemental in (podContext[member: "supplementalGroups"] ?? .null).podArray.compactMap(\.podInt) {
            options.groupAdd.append(String(supplemental))
        }
        if (context[member: "privileged"] ?? .null).podBool == true { options.privileged = true }
        if (context[member: "readOnlyRootFilesystem"] ?? .null).podBool == true { options.readOnlyRootfs = true }
        if (context[member: "allowPrivilegeEscalation"] ?? .null).podBool == false { options.noNewPrivileges = true }
        // seccompProfile: RuntimeDefault is the engine's default profile; Unconfined, and no profile at
        // all (the kubelet's default without SeccompDefault), run without one; Localhost a file.
        let seccomp = value("seccompProfile")
        switch seccomp?.podString("type") {
        case "RuntimeDefault": options.seccomp = nil
        case "Localhost":
            if let path = seccomp?.podString("localhostProfile") { options.seccomp = .profile(path: "/var/lib/kubelet/seccomp/" + path) }
        default: if !options.privileged { options.seccomp = .unconfined }
        }
        let capabilities = context[member: "capabilities"] ?? .null
        options.capAdd = (capabilities[member: "add"] ?? .null).podArray.compactMap(\.stringValue)
        options.capDrop = (capabilities[member: "drop"] ?? .null).podArray.compactMap(\.stringValue)
    }

    static let hostIP: String = {
        var list: UnsafeMutablePointer<ifaddrs>?
        guard getifaddrs(&list) == 0, let first = list else { return "127.0.0.1" }
        defer { freeifaddrs(list) }
        var entry: UnsafeMutablePointer<ifaddrs>? = first
        while let current = entry {
            defer { entry = current.pointee.ifa_next }
            let name = String(cString: current.pointee.ifa_name)
            guard let address = current.pointee.ifa_addr, address.pointee.sa_family == sa_family_t(AF_INET),
                  !["lo", "berth", "docker", "br-", "veth", "cni", "podman"].contains(where: { name.hasPrefix($0) }) else { continue }
            var text = [CChar](repeating: 0, count: Int(INET_ADDRSTRLEN))
            let ok = address.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { inet in
                var addr = inet.pointee.sin_addr
                return inet_ntop(AF_INET, &addr, &text, socklen_t(INET_ADDRSTRLEN)) != nil
            }
            if ok { return String(decoding: text.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self) }
        }
        return "127.0.0.1"
    }()
}
