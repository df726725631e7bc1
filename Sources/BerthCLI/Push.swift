import ArgumentParser
import Glibc
import ImageStore
import LinuxSys
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

/// `login`: checks credentials against the registry and stores them, as `docker login` does:
/// stored ones are tried first when none are given, then what is missing is asked for on the
/// terminal (the password without echo).
struct Login: BerthCommand {
    static let configuration = CommandConfiguration(commandName: "login", abstract: "Log in to a registry")
    @Option(name: .shortAndLong, help: "Username") var username: String?
    @Option(name: .shortAndLong, help: "Password (prefer --password-stdin)") var password: String?
    @Flag(name: .customLong("password-stdin"), help: "Take the password from stdin") var passwordStdin = false
    @Option(name: .customLong("tls-verify"), help: "Require HTTPS and verify certificates (false: plain HTTP)") var tlsVerify = true
    @Argument(help: "SERVER") var server: String = ImageReference.dockerHub

    func execute() async throws {
        let registry = RegistryClient.registryName(server: server)
        var user = (username ?? "").trimmingWhitespace
        var secret = password ?? ""
        if !secret.isEmpty {
            printError("WARNING! Using --password via the CLI is insecure. Use --password-stdin.")
            if passwordStdin { try fail("--password and --password-stdin are mutually exclusive") }
        }
        if passwordStdin {
            if user.isEmpty { try fail("Must provide --username with --password-stdin") }
            var text = ""
            while let line = readLine(strippingNewline: false) { text += line }
            if text.hasSuffix("\n") { text.removeLast() }
            if text.hasSuffix("\r") { text.removeLast() }
            secret = text
        }
        let store = CredentialStore(path: CredentialStore.defaultPath())
        let client = GlobalOptions.client(insecure: tlsVerify ? [] : [registry])
        let stored = try? store.credentials(for: registry)

        // Nothing given: the stored credentials, if the registry still takes them.
        if user.isEmpty && secret.isEmpty, let stored, !stored.username.isEmpty, !stored.password.isEmpty {
            print("Authenticating with existing credentials... [Username: \(stored.username)]")
            print("To login with a different account, run 'berth logout' followed by 'berth login'\n")
            fflush(nil)
            do {
                try await client.login(registry: registry, stored)
                print("Login Succeeded")
                return
            } catch let error as RegistryError where error.kind == .unauthorized {
                printError("Stored credentials invalid or expired")
            } catch {
                printError("Login did not succeed, error: \(error)")
            }
        }

        if user.isEmpty || secret.isEmpty {
            guard isTerminal(STDIN_FILENO) else { try fail("Error: Cannot perform an interactive login from a non TTY device") }
            if user.isEmpty {
                if registry == ImageReference.dockerHub {
                    print("Log in with your Docker ID or email address to push and pull images from Docker Hub. If you don't have a Docker ID, head over to https://hub.docker.com/ to create one.")
                }
                let fallback = stored?.username ?? ""
                user = prompt(fallback.isEmpty ? "Username: " : "Username (\(fallback)): ") ?? ""
                if user.isEmpty { user = fallback }
                if user.isEmpty { try fail("Error: Non-null Username Required") }
            }
            if secret.isEmpty {
                secret = Terminal.withoutEcho(STDIN_FILENO) { prompt("Password: ") ?? "" }
                print()
                if secret.isEmpty { try fail("Error: Password Required") }
            }
        }
        let credentials = Credentials(username: user, password: secret)
        try await client.login(registry: registry, credentials)
        try store.save(credentials, for: registry)
        print("Login Succeeded")
    }

    /// Writes `text` and reads one line from stdin, trimmed as Docker trims it; nil at end of input.
    private func prompt(_ text: String) -> String? {
        print(text, terminator: "")
        fflush(nil)
        return readLine(strippingNewline: true)?.trimmingWhitespace
    }

    /// Docker's CLI prints its own checks plainly and exits 1.
    private func fail(_ message: String) throws -> Never {
        printError(message)
        throw ExitCode(1)
    }
}

struct Logout: BerthCommand {
    static let configuration = CommandConfiguration(commandName: "logout", abstract: "Log out from a registry")
    @Argument(help: "SERVER") var server: String = ImageReference.dockerHub

    func execute() async throws {
        let registry = RegistryClient.registryName(server: server)
        if try CredentialStore(path: CredentialStore.defaultPath()).remove(registry: registry) {
            print("Removing login credentials for \(registry)")
        } else {
            print("Not logged in to \(registry)")
        }
    }
}

extension String {
    /// Go's strings.TrimSpace, as Docker's prompts trim what is typed.
    fileprivate var trimmingWhitespace: String {
        String(drop { $0.isWhitespace }.reversed().drop { $0.isWhitespace }.reversed())
    }
}
