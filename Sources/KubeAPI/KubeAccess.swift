import ContainerSpec
import GoCompat
import Glibc
import LinuxSys

/// How a client reaches the API: the bearer token (random, made once) and the kubeconfig that
/// holds it with the CA and the server's URL. Both 0600 under `<root>/kube`: the token is root's
/// access to every object, Secrets included.
public struct KubeAccess: Sendable {
    public let directory: String
    public var tokenFile: String { directory + "/token" }
    public var kubeconfigFile: String { directory + "/kubeconfig" }
    public var pki: KubePKI { KubePKI(directory: directory + "/pki") }

    /// The files under `<root>/kube`.
    public init(root: String) { directory = FS.absolute(root) + "/kube" }

    /// The token, made on first use (32 random bytes in hex).
    public func token() throws(EngineError) -> String {
        do throws(SysError) {
            try FS.mkdirAll(directory, mode: 0o700)
            _ = chmod(directory, 0o700)
            if FS.exists(tokenFile) {
                let text = try FS.readText(tokenFile).filter { !$0.isWhitespace }
                if text.count >= 32 { return text }
            }
            var generator = SystemRandomNumberGenerator()
            let token = (0..<32).map { _ in
                let byte = UInt8.random(in: 0...255, using: &generator)
                return (byte < 16 ? "0" : "") + String(byte, radix: 16)
            }.joined()
            try FS.writeFileAtomically(tokenFile, Array((token + "\n").utf8), mode: 0o600, durable: true)
            return token
        } catch {
            throw .system("prepare the Kubernetes API's token in \(directory)", error)
        }
    }

    /// Makes the certificates and token when missing and writes the kubeconfig for `server`
    /// (`https://127.0.0.1:6443`); returns its text.
    @discardableResult
    public func prepare(server: String) throws(EngineError) -> String {
        let ca = try pki.ensure()
        let text = Self.kubeconfig(server: server, caPEM: ca, token: try token())
        do { try FS.writeFileAtomically(kubeconfigFile, Array(text.utf8), mode: 0o600, durable: true) } catch {
            throw .system("write the kubeconfig \(kubeconfigFile)", error)
        }
        return text
    }

    /// A kubeconfig with one cluster, user and context, all named `berth`.
    static func kubeconfig(server: String, caPEM: String, token: String) -> String {
        """
        apiVersion: v1
        kind: Config
        clusters:
        - cluster:
            certificate-authority-data: \(GoBase64.encode(Array(caPEM.utf8)))
            server: \(server)
          name: berth
        contexts:
        - context:
            cluster: berth
            user: berth
          name: berth
        current-context: berth
        preferences: {}
        users:
        - name: berth
          user:
            token: \(token)

        """
    }
}
