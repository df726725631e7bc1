import ArgumentParser
import Engine
import Glibc
import GoCompat
import LinuxSys
import Supervisor

/// `attach`: this terminal joined to a running container's stdio through its supervisor. Ends
/// with the container's exit status when it exits, or 0 when the user types the detach keys
/// (Docker's ctrl-p,ctrl-q, with a terminal and stdin).
struct Attach: BerthCommand {
    static let configuration = CommandConfiguration(commandName: "attach", abstract: "Attach local standard input, output, and error streams to a running container")

    @Flag(name: .customLong("no-stdin"), help: "Do not attach STDIN")
    var noStdin = false
    @Option(name: .customLong("sig-proxy"), help: "Proxy all received signals to the process (true|false)")
    var sigProxy = "true"
    @Option(name: .customLong("detach-keys"), help: "Override the key sequence for detaching a container")
    var detachKeys: String?
    @Argument(help: "CONTAINER")
    var container: String

    func execute() async throws {
        guard let proxy = GoStrconv.parseBool(sigProxy) else {
            printError("invalid argument \"\(sigProxy)\" for \"--sig-proxy\" flag: strconv.ParseBool: parsing \"\(sigProxy)\": invalid syntax")
            throw ExitCode(125)
        }
        let keys: [UInt8]
        if let detachKeys {
            guard let parsed = DetachKeyMatcher.parse(detachKeys) else {
                printError("Invalid detach keys (\(detachKeys)) provided")
                throw ExitCode(1)
            }
            keys = parsed
        } else {
            keys = [0x10, 0x11]  // ctrl-p, ctrl-q
        }
        let engine = try GlobalOptions.engine()
        let target = try lookup(engine, container)
        let tty = target.options.tty
        // Our stdin goes to the container only if it was started with -i (Docker's OpenStdin).
        let stdin = !noStdin && target.options.interactive
        if stdin && tty && !Terminal.isTerminal(0) {
            printError("the input device is not a TTY")
            throw ExitCode(1)
        }
        let socket: Int32
        do { socket = try engine.attach(target) } catch {
            printError(error.cliText)
            throw ExitCode(1)
        }
        defer { FS.close(socket) }
        var relay = AttachRelay(socket: socket, stdin: stdin, tty: tty) { signal in
            try? engine.kill(target, signal: signal)
        }
        relay.proxySignals = proxy
        relay.detachKeys = stdin && tty ? keys : nil
        switch relay.relay() {
        case .exited(let status): throw ExitCode(status)
        case .detached: throw ExitCode(0)
        case .lost: throw ExitCode((try? engine.wait(target)) ?? 1)
        }
    }
}
