import ArgumentParser
import ContainerRuntime
import ContainerSpec
import Engine
import Glibc
import GoCompat
import ImageStore
import LinuxSys
import OCI
import Supervisor

/// `run`: create a container from an image (pulling it when missing) and start it, attached to
/// this terminal unless `-d`. Exit status as Docker's: the container's own, 125 when berth fails,
/// 126 when the command cannot be executed, 127 when it is not found.
struct Run: BerthCommand {
    static let configuration = CommandConfiguration(commandName: "run", abstract: "Create and run a new container from an image", helpNames: [.long])

    @OptionGroup var arguments: CreateArguments
    @Option(name: .customLong("detach-keys"), help: "Override the key sequence for detaching a container")
    var detachKeys: String?
    @Option(name: .customLong("sig-proxy"), help: "Proxy received signals to the process (true|false)")
    var sigProxy = "true"

    func execute() async throws {
        // Checked before anything is made, so a bad value leaves no container behind.
        guard let proxy = GoStrconv.parseBool(sigProxy) else {
            printError("invalid argument \"\(sigProxy)\" for \"--sig-proxy\" flag: strconv.ParseBool: parsing \"\(sigProxy)\": invalid syntax")
            throw ExitCode(125)
        }
        var keys: [UInt8] = [0x10, 0x11]  // ctrl-p, ctrl-q
        if let detachKeys {
            guard let parsed = DetachKeyMatcher.parse(detachKeys) else {
                printError("berth: Invalid detach keys (\(detachKeys)) provided")
                throw ExitCode(125)
            }
            keys = parsed
        }
        let (engine, container) = try await arguments.createContainer(check: Self.checkBeforeCreate)
        let options = container.options
        let started: Engine.Started
        do {
            started = try engine.start(container, attach: !options.detach)
        } catch {
            // The engine has removed a --rm container that could not start.
            printError("berth: " + daemonText(error))
            throw ExitCode(error.exitCode)
        }
        if options.detach {
            print(container.id)
            return
        }
        var status: Int32 = 0
        if let socket = started.attachFD {
            var relay = AttachRelay(socket: socket, stdin: options.interactive, tty: options.tty) { signal in
                try? engine.kill(container, signal: signal)
            }
            relay.proxySignals = proxy
            relay.relaysStdout = options.attachesStdout
            relay.relaysStderr = options.attachesStderr
            // As Docker: the detach keys work with -i and -t; the container goes on (and with
            // --rm its supervisor removes it when it ends).
            relay.detachKeys = options.interactive && options.tty ? keys : nil
            let outcome = relay.relay()
            FS.close(socket)
            switch outcome {
            case .exited(let code): status = code
            case .detached: throw ExitCode(0)
            case .lost: status = (try? engine.wait(container)) ?? 125
            }
        }
        if options.autoRemove {
            // The supervisor is our child: let it finish its teardown before the record goes.
            _ = try? ProcessSys.wait(started.pid)
            try? engine.remove(container, force: true, volumes: true)
        }
        throw ExitCode(status)
    }
}

extension Run {
    /// What Docker's CLI checks once the flags are read, before it makes anything; exits 1 as it does.
    static func checkBeforeCreate(_ options: RunOptions) throws {
        do throws(EngineError) { try options.checkAttachAndDetach() } catch {
            printError(error.message)
            throw ExitCode(1)
        }
        if !options.detach, options.tty, options.attachesStdin, !isTerminal(STDIN_FILENO) {
            printError("the input device is not a TTY")
            throw ExitCode(1)
        }
    }
}

/// `create`: a container ready to start, its ID printed.
struct Create: BerthCommand {
    static let configuration = CommandConfiguration(commandName: "create", abstract: "Create a new container", helpNames: [.long])

    @OptionGroup var arguments: CreateArguments

    func execute() async throws {
        print(try await arguments.createContainer().container.id)
    }
}

/// What `run` and `create` take: the flags, IMAGE, and the command with its own flags after it.
struct CreateArguments: ParsableArguments {
    @OptionGroup var flags: RunFlags
    @Argument(help: "IMAGE")
    var image: String
    @Argument(parsing: .captureForPassthrough, help: "COMMAND [ARG...]")
    var command: [String] = []

    /// Parses the flags, runs `check` on them (an error it throws ends the command as it is), makes
    /// the `--cidfile`, pulls the image when the policy asks, and records the container, printing
    /// the daemon's warnings. A failure is printed and ends with Docker's status for berth's own
    /// errors, 125.
    func createContainer(check: (RunOptions) throws -> Void = { _ in }) async throws -> (engine: Engine, container: Container) {
        do {
            let options = try containerOptions(flags, command: command)
            try check(options)
            let idFile = try ContainerIDFile(path: options.containerIDFile)
            defer { idFile.close() }
            let engine = try GlobalOptions.engine()
            try await ensureImage(image, policy: options.pull, engine: engine)
            let container = try engine.create(image: image, options: options)
            for warning in SpecBuilder.warnings(options, host: .current) { printError("WARNING: " + warning) }
            try idFile.write(container.id)
            return (engine, container)
        } catch let exit as ExitCode {
            throw exit
        } catch {
            printError("berth: \(describe(error))")
            throw ExitCode(125)
        }
    }
}

/// `start`: starts stopped or created containers; `-a` attaches to the (single) container's output.
struct Start: BerthCommand {
    static let configuration = CommandConfiguration(commandName: "start", abstract: "Start one or more stopped containers")

    @Flag(name: .shortAndLong, help: "Attach STDOUT/STDERR and forward signals")
    var attach = false
    @Flag(name: .shortAndLong, help: "Attach container's STDIN")
    var interactive = false
    @Argument(help: "CONTAINER")
    var containers: [String]

    func execute() async throws {
        if attach || interactive {
            let engine = try GlobalOptions.engine()
            guard containers.count == 1 else { throw ValidationError("you cannot start and attach multiple containers at once") }
            let container = try lookup(engine, containers[0])
            let started: Engine.Started
            do { started = try engine.start(container, attach: true) } catch {
                printError(daemonText(error))
                throw ExitCode(error.exitCode)
            }
            guard let socket = started.attachFD else { throw ExitCode(0) }
            let relay = AttachRelay(socket: socket, stdin: interactive, tty: container.options.tty) { signal in
                try? engine.kill(container, signal: signal)
            }
            let status = relay.run() ?? ((try? engine.wait(container)) ?? 125)
            throw ExitCode(status)
        }
        do {
            try eachContainer(containers) { engine, container in
                do { _ = try engine.start(container) } catch let error as Engine.StartError {
                    throw error.error.fromDaemon
                }
                return nil
            }
        } catch let exit as ExitCode {
            printError("Error: failed to start containers: \(containers.joined(separator: ", "))")
            throw exit
        }
    }
}

/// RunOptions from the flags and the words after IMAGE.
func containerOptions(_ flags: RunFlags, command: [String]) throws -> RunOptions {
    var environment: [String: String] = [:]
    var pointer = environ
    while let entry = pointer.pointee {
        let text = String(cString: entry)
        if let equals = text.firstIndex(of: "=") { environment[String(text[..<equals])] = String(text[text.index(after: equals)...]) }
        pointer += 1
    }
    var options = try flags.runOptions(environment: environment)
    // `--` before the command is the user separating it from berth's flags.
    let words = command.first == "--" ? Array(command.dropFirst()) : command
    options.command = words.isEmpty ? nil : words
    return options
}

/// Pulls the image when the policy asks (Docker prints the pull on stderr for `run`).
func ensureImage(_ name: String, policy: PullPolicy, engine: Engine) async throws {
    let present = (try? engine.images.resolve(name)) != nil
    switch policy {
    case .never:
        if !present { throw EngineError.notFound("No such image: \(name)", reportedByDaemon: true) }
        return
    case .missing:
        if present { return }
        let shown = (try? ImageReference(parsing: name))?.familiar ?? name
        printError("Unable to find image '\(shown)' locally")
    case .always:
        break
    }
    try await StandardStreams.withStdoutOnStderr { try await ImagePuller().pull(name) }
}

func lookup(_ engine: Engine, _ name: String) throws -> Container {
    do { return try engine.container(name) } catch {
        printError(error.cliText)
        throw ExitCode(1)
    }
}
