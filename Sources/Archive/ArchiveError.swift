import Glibc
import LinuxSys

/// What went wrong while reading, writing or unpacking an archive, and where.
///
/// `context` says where: "tar header at offset 1536", "layer entry usr/bin/ls", "gzip stream at
/// offset 10", so a bad layer can be found without a debugger. `errno` is set when a system call failed.
public struct ArchiveError: Error, Sendable, Equatable, CustomStringConvertible {
    public var context: String
    public var reason: String
    public var errno: Int32?

    public init(_ context: String, _ reason: String, errno: Int32? = nil) {
        self.context = context
        self.reason = reason
        self.errno = errno
    }

    public var description: String { "\(context): \(reason)" }

    /// A malformed or unsupported tar header.
    static func header(at offset: Int64, _ reason: String) -> ArchiveError {
        ArchiveError("tar header at offset \(offset)", reason)
    }

    /// A layer entry that could not be applied; `path` is the name as the tar spells it.
    static func entry(_ path: String, _ reason: String, errno: Int32? = nil) -> ArchiveError {
        ArchiveError("layer entry \(printable(path))", reason, errno: errno)
    }

    /// A failed system call while applying `path`; the SysError's text names the operation.
    static func entry(_ path: String, _ error: SysError) -> ArchiveError {
        entry(path, error.description, errno: error.errno)
    }

    /// Entry names are untrusted: control characters (NUL, newlines, escapes) are shown escaped.
    static func printable(_ name: String) -> String {
        var out = ""
        for scalar in name.unicodeScalars {
            if scalar.value < 0x20 || scalar.value == 0x7f {
                out += "\\x" + String(scalar.value, radix: 16)
            } else {
                out.unicodeScalars.append(scalar)
            }
        }
        return out
    }
}
