import Foundation
import TestSupport
import Testing

/// The cluster DNS's records beyond addresses, asked with dig from the host and from a pod's
/// network namespace: an ExternalName Service is a CNAME (and gets no proxy rule), named ports
/// have SRV records (the Service's, or each ready endpoint's of a headless Service).
@Suite(.serialized, .enabled(if: KubeEnv.ready))
struct ClusterDNSRecordsTests {
    @Test func externalNamesAreAliasesAndNamedPortsHaveServiceRecords() throws {
        let (server, backends) = try ServiceTests.setUp(backends: 2)
        defer { server.stop() }
        let (one, two) = (backends[0], backends[1])
        try server.kubectlOK("apply", "-f", "-", stdin: ServiceTests.service("web") + "\n---\n" + ServiceTests.endpoints("web", [one.ip]))
        try server.kubectlOK("apply", "-f", "-", stdin: ServiceTests.service("db", extra: "  clusterIP: None") + """

            ---
            apiVersion: v1
            kind: Endpoints
            metadata:
              name: db
            subsets:
            - addresses:
              - ip: \(one.ip)
                hostname: db-0
              - ip: \(two.ip)
              ports:
              - name: http
                port: 8080
            ---
            apiVersion: v1
            kind: Service
            metadata:
              name: ext
            spec:
              type: ExternalName
              externalName: Database.Example.ORG
            """)
        let ip = try server.kubectlOK("get", "svc", "web", "-o", "jsonpath={.spec.clusterIP}")
        func dig(_ name: String, _ type: String, from prefix: [String]? = nil) throws -> String {
            try sh((prefix ?? server.inNetwork) + ["dig", "+time=2", "+tries=1", "+noall", "+answer", "+additional", "+comments", "@10.96.0.10", name, type]).stdout
        }
        let fromPod = ["/usr/bin/nsenter", "--net=/proc/\(one.holder)/ns/net", "--"]

        // ExternalName: a CNAME, for A queries too, and no rule in the proxy's chains.
        #expect(try ServiceTests.eventually { try dig("ext.default.svc.cluster.local", "A").contains("CNAME\tdatabase.example.org.") },
                "no CNAME for the ExternalName Service: \((try? dig("ext.default.svc.cluster.local", "A")) ?? "")")
        #expect(try dig("ext.default.svc.cluster.local", "CNAME", from: fromPod).contains("CNAME\tdatabase.example.org."), "from a pod")
        #expect(try !sh(server.inNetwork + ["iptables-save"]).stdout.contains("default/ext"), "proxy rules for an ExternalName Service")

        // A named port of a Service with a cluster IP: one SRV record to the Service's name, its address beside it.
        let srv = try dig("_http._tcp.web.default.svc.cluster.local", "SRV", from: fromPod)
        #expect(srv.contains("SRV 0 100 80 web.default.svc.cluster.local."), "\(srv)")
        #expect(srv.contains("web.default.svc.cluster.local. 60 IN\tA\t\(ip)") || srv.contains("A\t\(ip)"), "no address beside the SRV record: \(srv)")

        // Headless: one per ready endpoint, by hostname or by dashed address, each name resolving.
        let headless = try dig("_http._tcp.db.default.svc.cluster.local", "SRV")
        let dashed = two.ip.replacingOccurrences(of: ".", with: "-")
        #expect(headless.contains("SRV 0 50 8080 db-0.db.default.svc.cluster.local."), "\(headless)")
        #expect(headless.contains("SRV 0 50 8080 \(dashed).db.default.svc.cluster.local."), "\(headless)")
        let byAddress = try dig("\(dashed).db.default.svc.cluster.local", "A")
        #expect(byAddress.contains("A " + two.ip) || byAddress.contains("A\t" + two.ip), "\(byAddress)")
        // A name without a port of that name, and a protocol the port does not have: NXDOMAIN.
        #expect(try dig("_nope._tcp.web.default.svc.cluster.local", "SRV").contains("status: NXDOMAIN"))
        #expect(try dig("_http._udp.web.default.svc.cluster.local", "SRV").contains("status: NXDOMAIN"))

        // The records go with their Services.
        try server.kubectlOK("delete", "svc", "ext", "web")
        #expect(try ServiceTests.eventually { try dig("ext.default.svc.cluster.local", "A").contains("status: NXDOMAIN") }, "the alias stayed")
        #expect(try ServiceTests.eventually { try dig("_http._tcp.web.default.svc.cluster.local", "SRV").contains("status: NXDOMAIN") },
                "the SRV record stayed")
    }
}
