import NIOSSL
import Synchronization

/// The routes every connection reads per request, and the TLS certificates per server name
/// (parsed once per change). Replaced whole by the controller: open connections keep working.
final class RouteTable: Sendable {
    struct TLSMaterial: @unchecked Sendable {
        let chain: [NIOSSLCertificateSource]
        let key: NIOSSLPrivateKeySource
    }

    private struct Current {
        var routes = IngressRoutes.empty
        var tls: [IngressRoutes.Certificate: TLSMaterial] = [:]
    }
    private let current = Mutex(Current())
    private let counter = Atomic<Int>(0)

    var routes: IngressRoutes { current.withLock { $0.routes } }

    /// Installs new routes; certificates that do not parse are left out (their hosts get the
    /// default certificate) and named in the returned messages.
    func replace(_ routes: IngressRoutes) -> [String] {
        var problems: [String] = []
        let known = current.withLock { $0.tls }
        var tls: [IngressRoutes.Certificate: TLSMaterial] = [:]
        for (host, certificate) in routes.certificates where tls[certificate] == nil {
            if let parsed = known[certificate] { tls[certificate] = parsed; continue }
            do {
                let chain = try NIOSSLCertificate.fromPEMBytes(certificate.chain).map { NIOSSLCertificateSource.certificate($0) }
                let key = try NIOSSLPrivateKey(bytes: certificate.key, format: .pem)
                guard !chain.isEmpty else { throw NIOSSLError.failedToLoadCertificate }
                tls[certificate] = TLSMaterial(chain: chain, key: .privateKey(key))
            } catch {
                problems.append("the TLS certificate for \(host) does not load: \(error)")
            }
        }
        current.withLock {
            $0.routes = routes
            $0.tls = tls
        }
        return problems
    }

    func tlsMaterial(for serverName: String?) -> TLSMaterial? {
        current.withLock { current in current.routes.certificate(for: serverName).flatMap { current.tls[$0] } }
    }

    /// A number that grows by one per call: round robin over a backend's endpoints.
    func nextIndex() -> Int { counter.wrappingAdd(1, ordering: .relaxed).oldValue & Int.max }
}
