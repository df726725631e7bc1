import Glibc
import LinuxSys
import OCI

/// runc's logging: `--log FILE` and `--log-format text|json`. containerd reads the `msg` of the last
/// `"level":"error"` JSON line when a command fails, so errors always reach the log as one line.
public final class Log: @unchecked Sendable {
    public enum Format: String, Sendable { case text, json }
    public enum Level: String, Sendable { case debug, info, warning, error }

    private var fd: Int32 = 2
    private var format: Format = .text
    private var debugEnabled = false
    public private(set) var isFile = false

    public static let shared = Log()

    public func configure(path: String?, format: Format, debug: Bool) throws(SysError) {
        self.format = format
        self.debugEnabled = debug
        if let path {
            fd = try FS.open(path, O_WRONLY | O_APPEND | O_CREAT, mode: 0o644)
            isFile = true
        }
    }

    public func debug(_ message: @autoclosure () -> String) {
        if debugEnabled { write(.debug, message()) }
    }

    public func warning(_ message: String) { write(.warning, message) }
    public func error(_ message: String) { write(.error, message) }

    private func write(_ level: Level, _ message: String) {
        let line: String
        switch format {
        case .json:
            line = "{\"level\":\"\(level.rawValue)\",\"msg\":\(Self.quote(message)),\"time\":\"\(Clock.rfc3339())\"}\n"
        case .text:
            line = "time=\"\(Clock.rfc3339())\" level=\(level.rawValue) msg=\(Self.quote(message))\n"
        }
        try? FS.write(fd, Array(line.utf8))
    }

    /// A JSON string literal (also what logrus's text format uses for quoting).
    static func quote(_ text: String) -> String { jsonQuoted(text) }
}
