import ArgumentParser
import Glibc
import ImageStore
import OCI
import Registry

struct Push: BerthCommand {
    static let configuration = CommandConfiguration(commandName: "push", abstract: "Upload an image to a registry")
    @Flag(name: .shortAndLong, help: "Suppress verbose output") var quiet = false
    @Option(name: .customLong("tls-verify"), help: "Require HTTPS and verify certificates (false: plain HTTP)") var tlsVerify = true
    @Argument(help: "NAME[:TAG]") var name: String

    func execute() async throws {
        let destination = try parseReference(name)
        let store = try GlobalOptions.store()
        let client = GlobalOptions.client(insecure: insecureList(tlsVerify, [destination]))
        if !quiet { print("The push refers to repository [\(destination.familiarName)]") }
        let quiet = quiet
        let lock = OutputLock()
        let result = try await store.push(name, to: destination, client: client) { event in
            guard !quiet else { return }
            lock.locked {
                switch event {
                case .preparing(let digest): print("\(digest.shortID): Preparing")
                case .pushed(let digest): print("\(digest.shortID): Pushed")
                case .existed(let digest): print("\(digest.shortID): Layer already exists")
                case .mounted(let digest, let from): print("\(digest.shortID): Mounted from \(from)")
                }
                fflush(nil)
            }
        }
        if quiet {
            print(destination.familiar)
        } else {
            print("\(destination.tag ?? "latest"): digest: \(result.digest) size: \(result.size)")
        }
    }
}

struct Login: BerthCommand {
    static let configuration = CommandConfiguration(commandName: "login", abstract: "Log in to a registry")
    @Option(name: .shortAndLong, help: "Username") var username: String?
    @Option(name: .shortAndLong, help: "Password (prefer --password-stdin)") var password: String?
    @Flag(name: .customLong("password-stdin"), help: "Take the password from stdin") var passwordStdin = false
    @Option(name: .customLong("tls-verify"), help: "Require HTTPS and verify certificates (false: plain HTTP)") var tlsVerify = true
    @Argument(help: "SERVER") var server: String = ImageReference.dockerHub

    func execute() async throws {
        let registry = normalizedRegistry(server)
        guard let username, !username.isEmpty else { throw ValidationError("login needs --username (there is no prompt yet)") }
        var secret = password
        if passwordStdin {
            if password != nil { throw ValidationError("--password and --password-stdin are mutually exclusive") }
            var text = ""
            while let line = readLine(strippingNewline: false) { text += line }
            while text.hasSuffix("\n") || text.hasSuffix("\r") { text.removeLast() }
            secret = text
        }
        guard let secret, !secret.isEmpty else { throw ValidationError("login needs a password: --password-stdin or --password") }
        if password != nil { printError("WARNING! Using --password via the CLI is insecure. Use --password-stdin.") }
        let credentials = Credentials(username: username, password: secret)
        let client = GlobalOptions.client(insecure: tlsVerify ? [] : [registry])
        try await client.login(registry: registry, credentials)
        try CredentialStore(path: CredentialStore.defaultPath()).save(credentials, for: registry)
        print("Login Succeeded")
    }
}

struct Logout: BerthCommand {
    static let configuration = CommandConfiguration(commandName: "logout", abstract: "Log out from a registry")
    @Argument(help: "SERVER") var server: String = ImageReference.dockerHub

    func execute() async throws {
        let registry = normalizedRegistry(server)
        if try CredentialStore(path: CredentialStore.defaultPath()).remove(registry: registry) {
            print("Removing login credentials for \(registry)")
        } else {
            print("Not logged in to \(registry)")
        }
    }
}

/// `https://127.0.0.1:5000/` → `127.0.0.1:5000`; Docker Hub's spellings → `docker.io`.
func normalizedRegistry(_ server: String) -> String {
    var text = Substring(server)
    for scheme in ["https://", "http://"] where text.hasPrefix(scheme) { text = text.dropFirst(scheme.count) }
    if let slash = text.firstIndex(of: "/") { text = text[..<slash] }
    return ["index.docker.io", "registry-1.docker.io", "docker.io"].contains(String(text)) ? ImageReference.dockerHub : String(text)
}
