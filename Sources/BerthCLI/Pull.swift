import ArgumentParser
import DockerModel
import Glibc
import ImageStore
import LinuxSys
import OCI
import Registry
import Synchronization

struct Pull: BerthCommand {
    static let configuration = CommandConfiguration(commandName: "pull", abstract: "Download an image from a registry")

    @Flag(name: .shortAndLong, help: "Suppress verbose output; print the image's name")
    var quiet = false
    @Flag(name: [.customShort("a"), .long], help: "Download all tagged images in the repository")
    var allTags = false
    @Option(help: "Platform os/arch[/variant] to pull for (default: this machine's)")
    var platform: String?
    @Option(name: .customLong("tls-verify"), help: "Require HTTPS and verify certificates (false: plain HTTP)")
    var tlsVerify = true
    @Argument(help: "NAME[:TAG|@DIGEST]")
    var name: String

    func execute() async throws {
        try await ImagePuller(quiet: quiet, allTags: allTags, platform: platform, tlsVerify: tlsVerify).pull(name)
    }
}

/// What `pull` does, callable without parsing a command line (`run` and `build` pull through it).
struct ImagePuller {
    var quiet = false
    var allTags = false
    var platform: String?
    var tlsVerify = true

    func pull(_ name: String) async throws {
        let reference = try parseReference(name)
        let wanted: Platform
        if let platform {
            do { wanted = try Platform(parsing: platform) } catch { throw ValidationError(error.message) }
        } else {
            wanted = .current
        }
        let store = try GlobalOptions.store()
        let client = GlobalOptions.client(insecure: insecureList(tlsVerify, [reference]))
        var references = [reference]
        if allTags {
            // As Docker: only a bare name goes with -a (a ':' in the last component is a tag; the
            // host's port sits in the first).
            if name.contains("@") || (name.split(separator: "/").last ?? "").contains(":") {
                throw ValidationError("tag can't be used with --all-tags/-a")
            }
            references = try await client.tags(reference).sorted().map { reference.with(tag: $0) }
        }
        for reference in references {
            try await pullOne(reference, store: store, client: client, platform: wanted)
        }
        if allTags, !quiet { print(reference.name) }
    }

    func pullOne(_ reference: ImageReference, store: ImageStore, client: RegistryClient, platform: Platform) async throws {
        let display = quiet ? nil : PullDisplay(terminal: isTerminal(STDOUT_FILENO))
        if let display {
            let what = reference.tag ?? reference.digest?.description ?? "latest"
            display.line("\(what): Pulling from \(reference.repository)")
        }
        let result = try await store.pull(reference, client: client, platform: platform) { event in display?.handle(event) }
        display?.finish()
        if quiet {
            print(reference.description)
            return
        }
        print("Digest: \(result.repoDigest)")
        print(result.downloaded ? "Status: Downloaded newer image for \(reference.familiar)" : "Status: Image is up to date for \(reference.familiar)")
        if !allTags { print(reference.description) }
    }
}

/// Pull progress as Docker shows it: on a terminal one line per layer, redrawn in place with a bar,
/// bytes and rate; otherwise plain lines at each change of state.
final class PullDisplay: @unchecked Sendable {
    let terminal: Bool
    /// Events arrive from several layer tasks; the display's state is changed under this lock.
    let lock = Mutex(())
    var order: [Digest] = []
    var status: [Digest: String] = [:]
    var started: [Digest: Double] = [:]
    var drawn = 0

    init(terminal: Bool) { self.terminal = terminal }

    func line(_ text: String) {
        print(text)
        fflush(nil)
    }

    func handle(_ event: PullEvent) {
        lock.withLock { _ in
            switch event {
            case .resolved: break
            case .layerExists(let digest): set(digest, "Already exists")
            case .layerWaiting(let digest, _):
                started[digest] = MonotonicClock.seconds()
                set(digest, "Pulling fs layer")
            case .layerProgress(let digest, let bytes, let size):
                guard terminal else { return }
                let elapsed = max(MonotonicClock.seconds() - (started[digest] ?? 0), 0.001)
                set(digest, "Downloading  \(bar(bytes, size))  \(humanSize(bytes))/\(humanSize(size))  \(humanSize(Int64(Double(bytes) / elapsed)))/s")
            case .layerDownloaded(let digest):
                // The digest was checked as the bytes came; Docker names the step all the same.
                if !terminal { set(digest, "Verifying Checksum") }
                set(digest, "Download complete")
            case .layerDone(let digest): set(digest, "Pull complete")
            }
        }
    }

    private func set(_ digest: Digest, _ text: String) {
        if status[digest] == nil { order.append(digest) }
        status[digest] = text
        if !terminal {
            print("\(digest.shortID): \(text)")
            fflush(nil)
            return
        }
        redraw()
    }

    private func redraw() {
        var out = drawn > 0 ? "\u{1b}[\(drawn)A" : ""
        for digest in order { out += "\u{1b}[2K\(digest.shortID): \(status[digest] ?? "")\n" }
        drawn = order.count
        print(out, terminator: "")
        fflush(nil)
    }

    func finish() { fflush(nil) }

    private func bar(_ bytes: Int64, _ size: Int64) -> String {
        let width = 40
        let filled = size > 0 ? min(width, Int(Double(bytes) / Double(size) * Double(width))) : width
        if filled >= width { return "[" + String(repeating: "=", count: width) + "]" }
        return "[" + String(repeating: "=", count: filled) + ">" + String(repeating: " ", count: width - filled - 1) + "]"
    }
}

/// Serialises lines printed from several tasks (push's per-layer events).
final class OutputLock: Sendable {
    private let mutex = Mutex(())
    func locked(_ body: () -> Void) { mutex.withLock { _ in body() } }
}

