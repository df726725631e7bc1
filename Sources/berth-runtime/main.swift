import ContainerRuntime
import Glibc
import OCI

// berth-runtime: an OCI runtime with runc's command line. This file only parses arguments,
// calls the ContainerRuntime library and prints; every behaviour lives in the library.

let globalFlags = FlagSet(
    valued: [["root"], ["log"], ["log-format"], ["criu"]],
    boolean: [["debug"], ["systemd-cgroup"], ["rootless"], ["version", "v"], ["help", "h"]])

let commandFlags: [String: FlagSet] = [
    "create": FlagSet(valued: [["bundle", "b"], ["console-socket"], ["pid-file"], ["preserve-fds"]],
                      boolean: [["no-pivot"], ["no-new-keyring"]]),
    "run": FlagSet(valued: [["bundle", "b"], ["console-socket"], ["pid-file"], ["preserve-fds"]],
                   boolean: [["detach", "d"], ["no-pivot"], ["no-new-keyring"], ["no-subreaper"], ["keep"]]),
    "start": FlagSet(),
    "state": FlagSet(),
    "kill": FlagSet(boolean: [["all", "a"]]),
    "delete": FlagSet(boolean: [["force", "f"]]),
    "list": FlagSet(valued: [["format", "f"]], boolean: [["quiet", "q"]]),
    "spec": FlagSet(valued: [["bundle", "b"]], boolean: [["rootless"]]),
    "features": FlagSet(),
]

let usage = """
    berth-runtime: an OCI runtime (runc's command line)

    USAGE: berth-runtime [global options] command [command options] [arguments...]

    COMMANDS:
       create    create a container (its process waits for start)
       start     start the process of a created container
       run       create and start a container (waits for it unless --detach)
       state     print the state of a container
       kill      send a signal to the container's init (--all: to every process)
       delete    delete a container (--force: even when it runs)
       list      list containers (--format table|json, --quiet)
       spec      write a default config.json (--rootless)
       features  print the features this build supports

    GLOBAL OPTIONS:
       --root DIR          state directory (default: /run/berth-runtime)
       --log FILE          log file (default: stderr)
       --log-format FMT    text or json (default: text)
       --debug             log debug messages
       --systemd-cgroup    manage cgroups through systemd
       --version, -v       print the version

    """

func write(_ text: String, to fd: Int32 = 1) {
    var bytes = Array(text.utf8)
    var offset = 0
    while offset < bytes.count {
        let n = bytes.withUnsafeMutableBytes { Glibc.write(fd, $0.baseAddress! + offset, $0.count - offset) }
        if n <= 0 { break }
        offset += n
    }
    bytes.removeAll()
}

/// Reports a failure the way runc does: a log line (text on stderr, or JSON in --log for containerd)
/// and, when logging to a file, the plain message on stderr too. Exit status 1.
func fail(_ message: String) -> Never {
    Log.shared.error(message)
    if Log.shared.isFile { write(message + "\n", to: 2) }
    exit(1)
}

func requireID(_ arguments: ParsedArguments, command: String) -> String {
    guard let id = arguments.positionals.first, !id.isEmpty else {
        fail("\(command): container id cannot be empty")
    }
    return id
}

func main() -> Int32 {
    let all = Array(CommandLine.arguments.dropFirst())
    let global: ParsedArguments
    do { global = try globalFlags.parse(all, stopAtPositional: true) } catch { fail(error.description) }
    if global.flag("version") {
        write("berth-runtime version \(berthVersion)\nspec: \(Spec.currentVersion)\n")
        return 0
    }
    guard let command = global.positionals.first, !global.flag("help") else {
        write(usage)
        return global.flag("help") ? 0 : 1
    }
    let format = Log.Format(rawValue: global.value("log-format") ?? "text") ?? .text
    do {
        try Log.shared.configure(path: global.value("log"), format: format, debug: global.flag("debug"))
    } catch {
        fail("cannot open log file: \(error)")
    }
    if global.value("log-format").map({ Log.Format(rawValue: $0) == nil }) == true {
        fail("invalid log-format: \(global.value("log-format") ?? "")")
    }
    if global.flag("systemd-cgroup") && !fileExists("/run/systemd/system") {
        fail("systemd cgroup flag passed, but systemd support for managing cgroups is not available (systemd is not running)")
    }
    guard let flags = commandFlags[command] else {
        if command == "help" { write(usage); return 0 }
        fail("No help topic for '\(command)'")
    }
    let arguments: ParsedArguments
    do { arguments = try flags.parse(Array(global.positionals.dropFirst()), stopAtPositional: true) } catch {
        fail("\(command): \(error.description)")
    }
    let runtime = OCIRuntime(root: global.value("root") ?? "/run/berth-runtime")

    do {
        switch command {
        case "spec":
            return try Commands.spec(arguments)
        case "create":
            let id = requireID(arguments, command: command)
            try runtime.create(id: id, options: try Commands.createOptions(arguments))
        case "run":
            let id = requireID(arguments, command: command)
            return try runtime.run(id: id, options: try Commands.createOptions(arguments), detach: arguments.flag("detach"),
                                   subreaper: !arguments.flag("no-subreaper"))
        case "start":
            try runtime.start(id: requireID(arguments, command: command))
        case "state":
            let state = try runtime.state(id: requireID(arguments, command: command))
            write(String(decoding: encodePretty(Commands.RuncState(state)), as: UTF8.self) + "\n")
        case "kill":
            let id = requireID(arguments, command: command)
            let name = arguments.positionals.count > 1 ? arguments.positionals[1] : "SIGTERM"
            guard let signal = Signals.parse(name) else { fail("unknown signal \"\(name)\"") }
            try runtime.kill(id: id, signal: signal, all: arguments.flag("all"))
        case "delete":
            try runtime.delete(id: requireID(arguments, command: command), force: arguments.flag("force"))
        case "list":
            return Commands.list(runtime.list(), arguments)
        case "features":
            write(String(decoding: encodePretty(OCIRuntime.features()), as: UTF8.self) + "\n")
        default:
            fail("No help topic for '\(command)'")
        }
    } catch {
        fail(error.message)
    }
    return 0
}

func fileExists(_ path: String) -> Bool { access(path, F_OK) == 0 }

exit(main())
