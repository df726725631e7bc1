import ContainerSpec
import Crypto
import FoundationEssentials
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL
import Synchronization
import X509

/// The Ingress proxy's listeners: plain HTTP, and HTTPS whose certificate is chosen per TLS
/// server name (SNI) from the current routes at each handshake, else a self-signed default one
/// (as ingress-nginx's "Fake Certificate"). Connections run on a small event loop group of
/// their own.
final class IngressProxy: Sendable {
    let table: RouteTable
    let group: MultiThreadedEventLoopGroup
    let tlsContext: NIOSSLContext
    private let listeners = Mutex<[Channel]>([])

    init(table: RouteTable) throws {
        self.table = table
        group = MultiThreadedEventLoopGroup(numberOfThreads: min(4, max(1, System.coreCount)))
        let (certificate, key) = try Self.defaultCertificate()
        var configuration = TLSConfiguration.makeServerConfiguration(certificateChain: [.certificate(certificate)], privateKey: .privateKey(key))
        configuration.minimumTLSVersion = .tlsv12
        configuration.applicationProtocols = ["http/1.1"]
        configuration.sslContextCallback = { [table] values, promise in
            guard let material = table.tlsMaterial(for: values.serverHostname) else {
                promise.succeed(.noChanges)
                return
            }
            var override = NIOSSLContextConfigurationOverride()
            override.certificateChain = material.chain
            override.privateKey = material.key
            promise.succeed(override)
        }
        tlsContext = try NIOSSLContext(configuration: configuration)
    }

    var isListening: Bool { listeners.withLock { !$0.isEmpty } }

    /// Binds the listeners (a port of 0 is left off); on a failure none stays bound.
    func open(address: String, httpPort: Int, httpsPort: Int) throws(EngineError) {
        var bound: [Channel] = []
        for (port, tls) in [(httpPort, false), (httpsPort, true)] where port > 0 {
            do {
                bound.append(try bootstrap(tls: tls).bind(host: address, port: port).wait())
            } catch {
                for channel in bound { channel.close(promise: nil) }
                throw .unavailable("listen for Ingress traffic on \(address):\(port): \(error)")
            }
        }
        listeners.withLock { $0 += bound }
    }

    /// Closes the listeners (connections already accepted finish what they do).
    func close() {
        let channels = listeners.withLock { channels in
            defer { channels = [] }
            return channels
        }
        for channel in channels { try? channel.close().wait() }
    }

    func shutdown() {
        close()
        try? group.syncShutdownGracefully()
    }

    private func bootstrap(tls: Bool) -> ServerBootstrap {
        let table = table
        let tlsContext = tls ? self.tlsContext : nil
        return ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 1024)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    let sync = channel.pipeline.syncOperations
                    if let tlsContext { try sync.addHandler(NIOSSLServerHandler(context: tlsContext)) }
                    // An upgrade configuration with no upgraders of its own: NIO then keeps the bytes a client
                    // sends after an Upgrade request for whoever removes the decoder (ProxyHandler, once
                    // the backend switched protocols) instead of dropping them.
                    try sync.configureHTTPServerPipeline(withServerUpgrade: (upgraders: [], completionHandler: { _ in }), withErrorHandling: true)
                    try sync.addHandler(ProxyHandler(table: table, scheme: tlsContext == nil ? "http" : "https"))
                }
            }
    }

    /// A self-signed certificate made at start, for TLS server names no Ingress has a Secret for.
    static func defaultCertificate() throws -> (NIOSSLCertificate, NIOSSLPrivateKey) {
        let key = P256.Signing.PrivateKey()
        let name = try DistinguishedName {
            OrganizationName("Berth")
            CommonName("Berth Ingress Controller Fake Certificate")
        }
        let now = Date()
        let certificate = try Certificate(
            version: .v3, serialNumber: Certificate.SerialNumber(), publicKey: Certificate.PublicKey(key.publicKey),
            notValidBefore: now - 3600, notValidAfter: now + 365 * 86400, issuer: name, subject: name,
            signatureAlgorithm: .ecdsaWithSHA256,
            extensions: try Certificate.Extensions {
                SubjectAlternativeNames([.dnsName("ingress.local")])
            },
            issuerPrivateKey: Certificate.PrivateKey(key))
        let pem = try certificate.serializeAsPEM().pemString
        return (try NIOSSLCertificate(bytes: Array(pem.utf8), format: .pem), try NIOSSLPrivateKey(bytes: Array(key.pemRepresentation.utf8), format: .pem))
    }
}
