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
        if let text = arguments.value("preserve-fds") {
            guard let count = Int(text), count >= 0 else { throw RuntimeError("invalid --preserve-fds value \"\(text)\"") }
            options.preserveFds = count
        }
        return options
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
