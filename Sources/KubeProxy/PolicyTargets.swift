import GoCompat
import Kube
import KubeModel

/// What the NetworkPolicies in the store ask of each Pod, resolved to addresses and port numbers:
/// a Pod one or more policies select for a direction is isolated in it, and then only what the
/// union of their rules allows passes (Kubernetes' semantics; an empty rule list denies all).
public struct PolicyTarget: Sendable, Equatable {
    /// One allowed kind of traffic: a peer (nil: any address) and ports (nil: every port).
    public struct Allow: Sendable, Equatable {
        public var peer: Peer?
        public var ports: [Port]?
    }

    public enum Peer: Sendable, Equatable {
        /// A Pod's address (selected by podSelector/namespaceSelector).
        case address(String)
        /// An ipBlock: the network minus the excepted ones (all as `a.b.c.d/n`).
        case block(String, except: [String])
    }

    public struct Port: Sendable, Equatable {
        /// tcp, udp or sctp, as iptables spells them.
        public var proto: String
        /// nil: every port of the protocol.
        public var port: Int?
        public var endPort: Int?
    }

    public var namespace: String
    public var pod: String
    public var ip: String
    /// nil: not isolated for ingress (everything may come in).
    public var ingress: [Allow]?
    public var egress: [Allow]?

    public var label: String { "\(namespace)/\(pod)" }
}

public enum NetworkPolicies {
    /// A Pod as policies see it: in the pod network with an address (not hostNetwork, not finished).
    struct PodInfo {
        let namespace: String
        let name: String
        let ip: String
        let labels: [String: String]
        let object: JSONValue
    }

    /// Every isolated Pod with what may reach it and what it may reach.
    public static func targets(policies: [JSONValue], pods: [JSONValue], namespaces: [JSONValue]) -> [PolicyTarget] {
        if policies.isEmpty { return [] }
        var namespaceLabels: [String: [String: String]] = [:]
        for namespace in namespaces {
            guard let name = namespace.metadataString("name") else { continue }
            var labels = LabelSelector.labels(of: namespace)
            labels["kubernetes.io/metadata.name"] = name
            namespaceLabels[name] = labels
        }
        let infos: [PodInfo] = pods.compactMap { pod in
            guard let namespace = pod.metadataString("namespace"), let name = pod.metadataString("name"),
                  let ip = pod[member: "status"]?[member: "podIP"]?.stringValue, IPv4Text.valid(ip),
                  pod[member: "spec"]?[member: "hostNetwork"] != .bool(true) else { return nil }
            let phase = pod[member: "status"]?[member: "phase"]?.stringValue ?? ""
            if phase == "Succeeded" || phase == "Failed" { return nil }
            return PodInfo(namespace: namespace, name: name, ip: ip, labels: LabelSelector.labels(of: pod), object: pod)
        }
        func labels(ofNamespace name: String) -> [String: String] {
            namespaceLabels[name] ?? ["kubernetes.io/metadata.name": name]
        }

        var targets: [PolicyTarget] = []
        for pod in infos {
            var ingress: [PolicyTarget.Allow]?
            var egress: [PolicyTarget.Allow]?
            for policy in policies where policy.metadataString("namespace") == pod.namespace {
                let spec = policy[member: "spec"]
                guard LabelSelector(object: spec?[member: "podSelector"]).matches(pod.labels) else { continue }
                let types = Self.types(spec)
                if types.contains("Ingress") {
                    var allows = ingress ?? []
                    for rule in spec?[member: "ingress"]?.arrayValue ?? [] {
                        allows += Self.allows(rule, peers: "from", policyNamespace: pod.namespace, target: pod, egress: false,
                                              pods: infos, namespaceLabels: labels(ofNamespace:))
                    }
                    ingress = allows
                }
                if types.contains("Egress") {
                    var allows = egress ?? []
                    for rule in spec?[member: "egress"]?.arrayValue ?? [] {
                        allows += Self.allows(rule, peers: "to", policyNamespace: pod.namespace, target: pod, egress: true,
                                              pods: infos, namespaceLabels: labels(ofNamespace:))
                    }
                    egress = allows
                }
            }
            if ingress != nil || egress != nil {
                targets.append(PolicyTarget(namespace: pod.namespace, pod: pod.name, ip: pod.ip, ingress: ingress.map(unique), egress: egress.map(unique)))
            }
        }
        return targets.sorted { $0.label < $1.label }
    }

    /// policyTypes as written, or Kubernetes' default for a policy stored without them.
    static func types(_ spec: JSONValue?) -> [String] {
        let written = (spec?[member: "policyTypes"]?.arrayValue ?? []).compactMap(\.stringValue)
        if !written.isEmpty { return written }
        return (spec?[member: "egress"]?.arrayValue ?? []).isEmpty ? ["Ingress"] : ["Ingress", "Egress"]
    }

    static func unique(_ allows: [PolicyTarget.Allow]) -> [PolicyTarget.Allow] {
        var seen: [PolicyTarget.Allow] = []
        for allow in allows where !seen.contains(allow) { seen.append(allow) }
        return seen
    }

    /// One ingress or egress rule as allows. Named ports are resolved on the Pod at the far end of
    /// the connection: the target itself for ingress, each peer Pod for egress (an ipBlock or an
    /// "any" peer of an egress rule then reaches the named port of the Pods that have it).
    static func allows(_ rule: JSONValue, peers member: String, policyNamespace: String, target: PodInfo, egress: Bool,
                       pods: [PodInfo], namespaceLabels: (String) -> [String: String]) -> [PolicyTarget.Allow] {
        let portSpecs = rule[member: "ports"]?.arrayValue ?? []
        /// The rule's ports on `pod` (nil: every port; empty: none of them exists there).
        func ports(on pod: PodInfo?) -> [PolicyTarget.Port]? {
            if portSpecs.isEmpty { return nil }
            return portSpecs.compactMap { spec -> PolicyTarget.Port? in
                let proto = (spec[member: "protocol"]?.stringValue ?? "TCP").lowercased()
                guard let value = spec[member: "port"] else { return PolicyTarget.Port(proto: proto, port: nil, endPort: nil) }
                if let number = value.intValue { return PolicyTarget.Port(proto: proto, port: number, endPort: spec[member: "endPort"]?.intValue) }
                guard let name = value.stringValue, let pod, let number = namedPort(name, proto: proto, on: pod.object) else { return nil }
                return PolicyTarget.Port(proto: proto, port: number, endPort: nil)
            }
        }
        let hasNamedPorts = portSpecs.contains { $0[member: "port"]?.stringValue != nil }
        var result: [PolicyTarget.Allow] = []
        func add(_ peer: PolicyTarget.Peer?, _ ports: [PolicyTarget.Port]?) {
            if let ports, ports.isEmpty { return }
            result.append(PolicyTarget.Allow(peer: peer, ports: ports))
        }
        /// A peer that is not one Pod (any address, an ipBlock).
        func addOpen(_ peer: PolicyTarget.Peer?) {
            if !egress || !hasNamedPorts {
                add(peer, ports(on: egress ? nil : target))
                return
            }
            // Egress with named ports: numbered ports for the whole peer, named ones per Pod that has them.
            let numbered = portSpecs.filter { $0[member: "port"]?.stringValue == nil }
            if !numbered.isEmpty {
                add(peer, numbered.map { spec in
                    PolicyTarget.Port(proto: (spec[member: "protocol"]?.stringValue ?? "TCP").lowercased(), port: spec[member: "port"]?.intValue,
                                      endPort: spec[member: "endPort"]?.intValue)
                })
            }
            for pod in pods where inside(peer, pod.ip) {
                add(.address(pod.ip), ports(on: pod)?.filter { port in !numbered.contains { $0[member: "port"]?.intValue == port.port } })
            }
        }
        let peers = rule[member: member]?.arrayValue ?? []
        if peers.isEmpty {
            addOpen(nil)
            return result
        }
        for peer in peers {
            if let block = peer[member: "ipBlock"] {
                guard let cidr = block[member: "cidr"]?.stringValue.flatMap(CIDR.init), !cidr.isIPv6 else { continue }
                let except = (block[member: "except"]?.arrayValue ?? []).compactMap { $0.stringValue.flatMap(CIDR.init) }.filter { !$0.isIPv6 }
                addOpen(.block(cidr.text, except: except.map(\.text)))
                continue
            }
            let podSelector = peer[member: "podSelector"].map { LabelSelector(object: $0) }
            let namespaceSelector = peer[member: "namespaceSelector"].map { LabelSelector(object: $0) }
            if podSelector == nil && namespaceSelector == nil { continue }
            for pod in pods {
                if let namespaceSelector {
                    guard namespaceSelector.matches(namespaceLabels(pod.namespace)) else { continue }
                } else if pod.namespace != policyNamespace {
                    continue
                }
                if let podSelector, !podSelector.matches(pod.labels) { continue }
                add(.address(pod.ip), ports(on: egress ? pod : target))
            }
        }
        return result
    }

    static func inside(_ peer: PolicyTarget.Peer?, _ ip: String) -> Bool {
        guard let peer else { return true }
        switch peer {
        case .address(let address): return address == ip
        case .block(let cidr, let except):
            guard let address = CIDR(ip + "/32")?.network, let block = CIDR(cidr), block.contains(address) else { return false }
            return !except.compactMap(CIDR.init).contains { $0.contains(address) }
        }
    }

    /// A container port of the Pod by name and protocol.
    static func namedPort(_ name: String, proto: String, on pod: JSONValue) -> Int? {
        for container in pod[member: "spec"]?[member: "containers"]?.arrayValue ?? [] {
            for port in container[member: "ports"]?.arrayValue ?? []
            where port[member: "name"]?.stringValue == name && (port[member: "protocol"]?.stringValue ?? "TCP").lowercased() == proto {
                return port[member: "containerPort"]?.intValue
            }
        }
        return nil
    }
}
