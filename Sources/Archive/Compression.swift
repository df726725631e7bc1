/// The compressions OCI and Docker layers come in.
public enum Compression: Sendable, Equatable, CustomStringConvertible {
    case none, gzip, zstd

    /// Recognises the format from its magic number (gzip `1f 8b`, zstd `28 b5 2f fd`); anything
    /// else is taken as an uncompressed tar. Needs the first 4 bytes to tell zstd apart.
    public static func detect(_ firstBytes: some Collection<UInt8>) -> Compression {
        var bytes = firstBytes.makeIterator()
        let b0 = bytes.next(), b1 = bytes.next(), b2 = bytes.next(), b3 = bytes.next()
        if b0 == 0x1f && b1 == 0x8b { return .gzip }
        if b0 == 0x28 && b1 == 0xb5 && b2 == 0x2f && b3 == 0xfd { return .zstd }
        return .none
    }

    public var description: String {
        switch self {
        case .none: "uncompressed"
        case .gzip: "gzip"
        case .zstd: "zstd"
        }
    }
}
