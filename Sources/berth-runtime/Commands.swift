import ContainerRuntime
import Glibc
import LinuxSys
import OCI

enum Commands {
    static func createOptions(_ arguments: ParsedArguments) throws(RuntimeError) -> CreateOptions {
        var options = CreateOptions(bundle: arguments.value("bundle") ?? ".", pidFile: arguments.value("pid-file"),
                                    consoleSocket: arguments.value("console-socket"))
        options.noPivot = arguments.flag("no-pivot")
        options.noNewKeyring = arguments.flag("no-new-keyring")
        options.preserveFds = try preserveFds(arguments)
        return options
    }

    static func preserveFds(_ arguments: ParsedArguments) throws(RuntimeError) -> Int {
        guard let text = arguments.value("preserve-fds") else { return 0 }
        guard let count = Int(text), count >= 0 else { throw RuntimeError("invalid --preserve-fds value \"\(text)\"") }
        return count
    }

    /// `exec`: the process from `--process FILE`, or the container's own with ARGS and the flags applied.
    static func execOptions(_ arguments: ParsedArguments) throws(RuntimeError) -> ExecOptions {
        var process: OCI.Process?
        var overrides = ExecOverrides()
        if let file = arguments.value("process") {
            let bytes: [UInt8]
            do { bytes = try FS.readFile(file) } catch { throw error.context("read process file") }
            do { process = try decodeJSON(OCI.Process.self, bytes) } catch { throw RuntimeError("\(file): \(error)") }
        } else {
            overrides.args = Array(arguments.positionals.dropFirst())
            overrides.tty = arguments.flag("tty")
            overrides.cwd = arguments.value("cwd")
            overrides.env = arguments.all("env")
            overrides.user = arguments.value("user")
            for text in arguments.all("additional-gids") {
                guard let gid = UInt32(text) else { throw RuntimeError("invalid additional-gids value \"\(text)\"") }
                overrides.additionalGids.append(gid)
            }
            overrides.capabilities = arguments.all("cap")
            overrides.noNewPrivileges = arguments.flag("no-new-privs")
        }
        var options = ExecOptions(process: process)
        options.overrides = overrides
        options.detach = arguments.flag("detach")
        options.ignorePaused = arguments.flag("ignore-paused")
        options.pidFile = arguments.value("pid-file")
        options.consoleSocket = arguments.value("console-socket")
        options.consoleSocketFD = try descriptor(arguments, "console-socket-fd")
        options.statusFD = try descriptor(arguments, "status-fd")
        options.preserveFds = try preserveFds(arguments)
        return options
    }

    /// Berth's own exec flags that hand over an fd (`--status-fd 3`): an open descriptor, kept
    /// from any program we start.
    static func descriptor(_ arguments: ParsedArguments, _ flag: String) throws(RuntimeError) -> Int32? {
        guard let text = arguments.value(flag) else { return nil }
        guard let fd = Int32(text), fd > 2, fcntl(fd, F_SETFD, FD_CLOEXEC) == 0 else {
            throw RuntimeError("invalid --\(flag) value \"\(text)\"")
        }
        return fd
    }

    /// `ps`: the pids as JSON, or ps(1)'s table cut down to the container's processes.
    static func ps(_ pids: [pid_t], _ arguments: ParsedArguments) throws(RuntimeError) -> Int32 {
        switch arguments.value("format") ?? "table" {
        case "json":
            write(String(decoding: encodeCompact(pids), as: UTF8.self) + "\n")
            return 0
        case "table":
            break
        default:
            throw RuntimeError("invalid format option")
        }
        var psArguments = Array(arguments.positionals.dropFirst())
        if psArguments.isEmpty { psArguments = ["-ef"] }
        let output = try capture(["ps"] + psArguments)
        var lines = output.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        guard !lines.isEmpty else { return 0 }
        let header = lines.removeFirst()
        guard let column = header.split(separator: " ").firstIndex(of: "PID") else {
            throw RuntimeError("couldn't find PID field in ps output")
        }
        let wanted = Set(pids)
        var out = header + "\n"
        for line in lines where !line.isEmpty {
            let fields = line.split(separator: " ")
            if fields.count > column, let pid = pid_t(fields[column]), wanted.contains(pid) { out += line + "\n" }
        }
        write(out)
        return 0
    }

    /// Runs a host program found in PATH and returns what it printed; a failure is an error.
    static func capture(_ argv: [String]) throws(RuntimeError) -> String {
        let (status, output) = try HostCommand.run(argv)
        if status != 0 { throw RuntimeError("\(argv.joined(separator: " ")) failed: exit status \(status): \(output)") }
        return output
    }

    /// `update`: limits from `--resources FILE` (or `-` for stdin), then the single flags on top.
    static func resources(_ arguments: ParsedArguments) throws(RuntimeError) -> Resources {
        var resources = Resources()
        if let file = arguments.value("resources") {
            let bytes: [UInt8]
            do { bytes = file == "-" ? try FS.read(0, max: 16 << 20) : try FS.readFile(file) } catch {
                throw error.context("read resources")
            }
            do { resources = try decodeJSON(Resources.self, bytes) } catch { throw RuntimeError("resources \(file): \(error)") }
        }
        func bytes(_ flag: String) throws(RuntimeError) -> Int64? {
            guard let text = arguments.value(flag) else { return nil }
            guard let value = Units.ramInBytes(text) else { throw RuntimeError("invalid value for \(flag): \(text)") }
            return value
        }
        func integer<T: FixedWidthInteger>(_ flag: String, _ type: T.Type) throws(RuntimeError) -> T? {
            guard let text = arguments.value(flag) else { return nil }
            guard let value = T(text) else { throw RuntimeError("invalid value for \(flag): \(text)") }
            return value
        }
        let limit = try bytes("memory")
        let swap = try bytes("memory-swap")
        let reservation = try bytes("memory-reservation")
        if limit != nil || swap != nil || reservation != nil {
            var memory = resources.memory ?? MemoryLimits()
            if let limit { memory.limit = limit }
            if let swap { memory.swap = swap }
            if let reservation { memory.reservation = reservation }
            resources.memory = memory
        }
        var cpu = resources.cpu ?? CPULimits()
        var cpuChanged = false
        if let value = try integer("cpu-share", UInt64.self) { cpu.shares = value; cpuChanged = true }
        if let value = try integer("cpu-quota", Int64.self) { cpu.quota = value; cpuChanged = true }
        if let value = try integer("cpu-period", UInt64.self) { cpu.period = value; cpuChanged = true }
        if let value = try integer("cpu-rt-period", UInt64.self) { cpu.realtimePeriod = value; cpuChanged = true }
        if let value = try integer("cpu-rt-runtime", Int64.self) { cpu.realtimeRuntime = value; cpuChanged = true }
        if let value = try integer("cpu-idle", Int64.self) { cpu.idle = value; cpuChanged = true }
        if let value = arguments.value("cpuset-cpus") { cpu.cpus = value; cpuChanged = true }
        if let value = arguments.value("cpuset-mems") { cpu.mems = value; cpuChanged = true }
        if cpuChanged { resources.cpu = cpu }
        if let value = try integer("pids-limit", Int64.self) { resources.pids = PidsLimit(limit: value) }
        if let value = try integer("blkio-weight", UInt16.self) {
            var blockIO = resources.blockIO ?? BlockIO()
            blockIO.weight = value
            resources.blockIO = blockIO
        }
        if arguments.value("l3-cache-schema") != nil || arguments.value("mem-bw-schema") != nil {
            throw RuntimeError("Intel RDT is not supported by this build")
        }
        return resources
    }

    /// `spec`: writes config.json into the bundle, refusing to overwrite one.
    static func spec(_ arguments: ParsedArguments) throws(RuntimeError) -> Int32 {
        let bundle = arguments.value("bundle") ?? "."
        let path = bundle + "/config.json"
        if access(path, F_OK) == 0 { throw RuntimeError("File \(path) exists. Remove it first") }
        let spec = arguments.flag("rootless") ? Spec.rootlessSpec(uid: getuid(), gid: getgid()) : Spec.defaultSpec()
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw RuntimeError("cannot create \(path): \(SysError("open", path).reason)") }
        defer { close(fd) }
        let bytes = spec.encoded() + [0x0a]
        guard bytes.withUnsafeBytes({ Glibc.write(fd, $0.baseAddress, $0.count) }) == bytes.count else {
            throw RuntimeError("cannot write \(path)")
        }
        return 0
    }

    /// The state document with runc's field order and its `owner` field, as runc prints it.
    struct RuncState: Encodable {
        var ociVersion: String
        var id: String
        var pid: Int32
        var status: String
        var bundle: String
        var rootfs: String
        var created: String
        var owner: String
        var annotations: [String: String]?

        init(_ state: OCI.State) {
            ociVersion = state.ociVersion
            id = state.id
            pid = state.pid
            status = state.status.rawValue
            bundle = state.bundle
            rootfs = state.rootfs
            created = state.created
            owner = state.owner
            annotations = state.annotations
        }
    }

    static func list(_ states: [OCI.State], _ arguments: ParsedArguments) -> Int32 {
        if arguments.flag("quiet") {
            for state in states { write(state.id + "\n") }
            return 0
        }
        switch arguments.value("format") ?? "table" {
        case "json":
            write(String(decoding: encodeCompact(states.map(RuncState.init)), as: UTF8.self) + "\n")
        case "table":
            var rows = [["ID", "PID", "STATUS", "BUNDLE", "CREATED", "OWNER"]]
            for state in states {
                rows.append([state.id, "\(state.pid)", state.status.rawValue, state.bundle, state.created, state.owner])
            }
            write(table(rows))
        default:
            fail("invalid format option")
        }
        return 0
    }

    /// Columns as Go's tabwriter lays them out for runc (minimum width 12, padding 3).
    static func table(_ rows: [[String]]) -> String {
        guard let columns = rows.first?.count else { return "" }
        var widths = [Int](repeating: 0, count: columns)
        for row in rows { for (index, cell) in row.enumerated() { widths[index] = max(widths[index], cell.count) } }
        var out = ""
        for row in rows {
            for (index, cell) in row.enumerated() {
                if index == columns - 1 {
                    out += cell
                } else {
                    out += cell + String(repeating: " ", count: max(12, widths[index] + 3) - cell.count)
                }
            }
            out += "\n"
        }
        return out
    }
}
