import ContainerRuntime
import Glibc
import LinuxSys
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
    "exec": FlagSet(valued: [["process", "p"], ["cwd"], ["env", "e"], ["user", "u"], ["additional-gids", "g"],
                             ["cap", "c"], ["pid-file"], ["console-socket"], ["preserve-fds"], ["process-label"],
                             ["apparmor"], ["cgroup"], ["console-socket-fd"], ["status-fd"]],
                    boolean: [["tty", "t"], ["detach", "d"], ["no-new-privs"], ["ignore-paused"], ["no-subreaper"]]),
    "pause": FlagSet(),
    "resume": FlagSet(),
    "ps": FlagSet(valued: [["format", "f"]]),
    "update": FlagSet(valued: [["resources", "r"], ["memory"], ["memory-swap"], ["memory-reservation"], ["kernel-memory"],
                               ["kernel-memory-tcp"], ["cpu-share", "cpu-shares"], ["cpu-quota"], ["cpu-period"],
                               ["cpu-rt-period"], ["cpu-rt-runtime"], ["cpuset-cpus"], ["cpuset-mems"], ["cpu-idle"],
                               ["pids-limit"], ["blkio-weight"], ["l3-cache-schema"], ["mem-bw-schema"]]),
    "events": FlagSet(valued: [["interval"]], boolean: [["stats"]]),
    "checkpoint": FlagSet(valued: [["image-path"], ["work-path"], ["parent-path"], ["page-server"], ["manage-cgroups-mode"],
                                   ["empty-ns"], ["status-fd"]],
                          boolean: [["leave-running"], ["tcp-established"], ["ext-unix-sk"], ["shell-job"], ["lazy-pages"],
                                    ["file-locks"], ["pre-dump"], ["auto-dedup"]]),
    "restore": FlagSet(valued: [["image-path"], ["work-path"], ["manage-cgroups-mode"], ["bundle", "b"], ["pid-file"],
                                ["console-socket"], ["empty-ns"], ["lsm-profile"], ["lsm-mount-context"]],
                       boolean: [["tcp-established"], ["ext-unix-sk"], ["shell-job"], ["file-locks"], ["detach", "d"],
                                 ["no-subreaper"], ["no-pivot"], ["auto-dedup"], ["lazy-pages"]]),
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
       exec      run another process in a container (--process FILE, or ARGS with --tty, --env, ...)
       pause     freeze every process of a container
       resume    thaw a paused container
       ps        list a container's processes (--format table|json, then ps(1) options)
       update    change a container's cgroup limits (--resources FILE|-, --memory, --cpu-quota, ...)
       events    print stats and OOM events as JSON lines (--stats: once; --interval 5s)
       checkpoint, restore
                 through CRIU, where `criu check` passes on this kernel

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
func fail(_ message: String, status: Int32 = 1) -> Never {
    Log.shared.error(message)
    if Log.shared.isFile { write(message + "\n", to: 2) }
    exit(status)
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
    // Commands that put a process into a container run from a sealed copy of this binary, which
    // the container cannot write through /proc/PID/exe (CVE-2019-5736).
    if ["create", "run", "exec"].contains(command) {
        do { try SealedExecutable.reexecIfNeeded() } catch { fail("\(command): cannot run from a sealed copy of berth-runtime: \(error)") }
    }
    let runtime = OCIRuntime(root: global.value("root") ?? OCIRuntime.defaultRoot())

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
        case "exec":
            let id = requireID(arguments, command: command)
            // As runc: a process that could not be started is status 255, so callers can tell it from the process's own.
            let options: ExecOptions
            do { options = try Commands.execOptions(arguments) } catch { fail("exec failed: " + error.message, status: 255) }
            do {
                return try runtime.exec(id: id, options: options)
            } catch {
                // Berth's own --status-fd: the caller has the failure from there and says it in its words.
                if options.statusFD != nil {
                    if Log.shared.isFile { Log.shared.error("exec failed: " + error.message) }
                    exit(255)
                }
                fail("exec failed: " + error.message, status: 255)
            }
        case "pause":
            try runtime.pause(id: requireID(arguments, command: command))
        case "resume":
            try runtime.resume(id: requireID(arguments, command: command))
        case "ps":
            let id = requireID(arguments, command: command)
            return try Commands.ps(runtime.processes(id: id), arguments)
        case "update":
            let id = requireID(arguments, command: command)
            try runtime.update(id: id, resources: try Commands.resources(arguments))
        case "events":
            let id = requireID(arguments, command: command)
            if arguments.flag("stats") {
                write(String(decoding: encodeCompact(RuntimeEvent(type: "stats", id: id, data: try runtime.stats(id: id))), as: UTF8.self) + "\n")
                return 0
            }
            let text = arguments.value("interval") ?? "5s"
            guard let interval = GoDuration.milliseconds(text), interval > 0 else {
                fail("duration interval must be greater than 0")
            }
            try runtime.events(id: id, intervalMilliseconds: interval) { event in
                write(String(decoding: encodeCompact(event), as: UTF8.self) + "\n")
            }
        case "checkpoint", "restore":
            let id = requireID(arguments, command: command)
            if command == "checkpoint" { _ = try runtime.state(id: id) }
            try runtime.checkCheckpointSupport(command: command, criu: global.value("criu"))
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
