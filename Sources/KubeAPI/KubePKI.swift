import ContainerSpec
import Crypto
import FoundationEssentials
import Glibc
import LinuxSys
import SwiftASN1
import X509

/// The API server's TLS identity under `<root>/kube/pki`: a CA of its own (what the kubeconfig
/// trusts) and a serving certificate it signs for 127.0.0.1 and localhost. Made on first start,
/// reused after; the serving certificate is made again when it is missing, unreadable, not the
/// CA's, or near its end. Keys are 0600, in a 0700 directory.
public struct KubePKI: Sendable {
    public let directory: String
    public var caCertificate: String { directory + "/ca.crt" }
    public var caKey: String { directory + "/ca.key" }
    public var servingCertificate: String { directory + "/apiserver.crt" }
    public var servingKey: String { directory + "/apiserver.key" }

    /// The names the serving certificate is for (kubectl checks the server URL's host against them).
    static let dnsNames = ["localhost", "kubernetes", "kubernetes.default", "kubernetes.default.svc"]
    static let addresses: [[UInt8]] = [[127, 0, 0, 1]]

    public init(directory: String) { self.directory = directory }

    /// Makes what is missing; returns the CA certificate's PEM (the kubeconfig's
    /// `certificate-authority-data`).
    @discardableResult
    public func ensure() throws(EngineError) -> String {
        do throws(any Error) {
            try FS.mkdirAll(directory, mode: 0o700)
            _ = chmod(directory, 0o700)
            let (ca, key) = try loadOrMakeCA()
            if !servingIsUsable(ca: ca) { try makeServing(ca: ca, caKey: key) }
            return try ca.serializeAsPEM().pemString + "\n"
        } catch let error as EngineError {
            throw error
        } catch {
            throw .system("prepare the Kubernetes API's certificates in \(directory)", error)
        }
    }

    func loadOrMakeCA() throws -> (Certificate, P256.Signing.PrivateKey) {
        if FS.exists(caCertificate), FS.exists(caKey) {
            let certificate = try Certificate(pemEncoded: FS.readText(caCertificate))
            let key = try P256.Signing.PrivateKey(pemRepresentation: FS.readText(caKey))
            guard certificate.publicKey == Certificate.PublicKey(key.publicKey) else {
                throw EngineError.invalid("use the Kubernetes API's CA in \(directory): ca.crt is not ca.key's certificate")
            }
            return (certificate, key)
        }
        let key = P256.Signing.PrivateKey()
        let name = try DistinguishedName { CommonName("berth-ca@\(Int(Date().timeIntervalSince1970))") }
        let now = Date()
        let certificate = try Certificate(
            version: .v3, serialNumber: Certificate.SerialNumber(), publicKey: Certificate.PublicKey(key.publicKey),
            notValidBefore: now - 3600, notValidAfter: now + 10 * 365 * 86400, issuer: name, subject: name,
            signatureAlgorithm: .ecdsaWithSHA256,
            extensions: try Certificate.Extensions {
                Critical(BasicConstraints.isCertificateAuthority(maxPathLength: nil))
                Critical(KeyUsage(digitalSignature: true, keyEncipherment: true, keyCertSign: true))
                SubjectKeyIdentifier(hash: Certificate.PublicKey(key.publicKey))
            },
            issuerPrivateKey: Certificate.PrivateKey(key))
        // The key first: a certificate without its key is never left behind to be trusted.
        try FS.writeFileAtomically(caKey, Array(key.pemRepresentation.utf8), mode: 0o600, durable: true)
        try FS.writeFileAtomically(caCertificate, Array((try certificate.serializeAsPEM().pemString + "\n").utf8), mode: 0o644, durable: true)
        // A new CA makes any serving certificate left from an older one useless.
        _ = unlink(servingCertificate)
        return (certificate, key)
    }

    func servingIsUsable(ca: Certificate) -> Bool {
        guard let text = try? FS.readText(servingCertificate), let certificate = try? Certificate(pemEncoded: text),
              let keyText = try? FS.readText(servingKey), let key = try? P256.Signing.PrivateKey(pemRepresentation: keyText) else { return false }
        return certificate.issuer == ca.subject && certificate.publicKey == Certificate.PublicKey(key.publicKey)
            && certificate.notValidAfter > Date() + 30 * 86400
            && ca.publicKey.isValidSignature(certificate.signature, for: certificate)
    }

    func makeServing(ca: Certificate, caKey: P256.Signing.PrivateKey) throws {
        let key = P256.Signing.PrivateKey()
        let now = Date()
        let names: [GeneralName] = Self.dnsNames.map { .dnsName($0) }
            + Self.addresses.map { .ipAddress(ASN1OctetString(contentBytes: $0[...])) }
        let certificate = try Certificate(
            version: .v3, serialNumber: Certificate.SerialNumber(), publicKey: Certificate.PublicKey(key.publicKey),
            notValidBefore: now - 3600, notValidAfter: now + 365 * 86400, issuer: ca.subject,
            subject: try DistinguishedName { CommonName("kube-apiserver") },
            signatureAlgorithm: .ecdsaWithSHA256,
            extensions: try Certificate.Extensions {
                Critical(BasicConstraints.notCertificateAuthority)
                Critical(KeyUsage(digitalSignature: true, keyEncipherment: true))
                try ExtendedKeyUsage([.serverAuth])
                SubjectAlternativeNames(names)
                AuthorityKeyIdentifier(keyIdentifier: try ca.extensions.subjectKeyIdentifier?.keyIdentifier)
            },
            issuerPrivateKey: Certificate.PrivateKey(caKey))
        try FS.writeFileAtomically(servingKey, Array(key.pemRepresentation.utf8), mode: 0o600, durable: true)
        try FS.writeFileAtomically(servingCertificate, Array((try certificate.serializeAsPEM().pemString + "\n").utf8), mode: 0o644, durable: true)
    }
}
