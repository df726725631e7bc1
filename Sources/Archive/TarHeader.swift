/// One tar entry's metadata, after every extension (PAX records, GNU long names) is applied.
///
/// `path` and `linkName` are as the archive spells them (maybe `./a`, `a/`, `/abs`); cleaning and
/// containment are the unpacker's job. Names are decoded as UTF-8 (PAX requires it; invalid bytes in
/// old-style headers become U+FFFD).
public struct TarHeader: Sendable, Equatable {
    public enum EntryType: Sendable, Equatable, CustomStringConvertible {
        case file, directory, symlink, hardlink, characterDevice, blockDevice, fifo

        public var description: String {
            switch self {
            case .file: "file"
            case .directory: "directory"
            case .symlink: "symlink"
            case .hardlink: "hardlink"
            case .characterDevice: "character device"
            case .blockDevice: "block device"
            case .fifo: "fifo"
            }
        }

        /// The types whose data travels in the archive; the others are header-only.
        public var hasData: Bool { self == .file }
    }

    /// A modification time with the nanoseconds PAX `mtime` records can carry.
    public struct Time: Sendable, Equatable, Hashable {
        public var seconds: Int64
        public var nanoseconds: Int32

        public init(seconds: Int64 = 0, nanoseconds: Int32 = 0) {
            self.seconds = seconds
            self.nanoseconds = nanoseconds
        }
    }

    public var path: String
    public var type: EntryType
    /// Permission bits including setuid, setgid and sticky (`0o7777`); the type is in `type`.
    public var mode: UInt32
    public var uid: Int
    public var gid: Int
    public var uname: String
    public var gname: String
    /// Bytes of data that follow the header (0 for every type but `.file`).
    public var size: Int64
    public var mtime: Time
    /// A symlink's target, or the archive path a hardlink points at.
    public var linkName: String
    public var devMajor: UInt32
    public var devMinor: UInt32
    /// Extended attributes, from PAX `SCHILY.xattr.<name>` records.
    public var xattrs: [String: [UInt8]]

    public init(path: String, type: EntryType = .file, mode: UInt32 = 0o644, uid: Int = 0, gid: Int = 0,
                uname: String = "", gname: String = "", size: Int64 = 0, mtime: Time = Time(),
                linkName: String = "", devMajor: UInt32 = 0, devMinor: UInt32 = 0, xattrs: [String: [UInt8]] = [:]) {
        self.path = path
        self.type = type
        self.mode = mode
        self.uid = uid
        self.gid = gid
        self.uname = uname
        self.gname = gname
        self.size = size
        self.mtime = mtime
        self.linkName = linkName
        self.devMajor = devMajor
        self.devMinor = devMinor
        self.xattrs = xattrs
    }
}

/// Byte offsets and lengths of the fields of a 512-byte ustar header block.
enum TarField {
    static let name = (0, 100), mode = (100, 8), uid = (108, 8), gid = (116, 8), size = (124, 12)
    static let mtime = (136, 12), checksum = (148, 8), typeflag = 156, linkName = (157, 100)
    static let magic = (257, 6), version = (263, 2), uname = (265, 32), gname = (297, 32)
    static let devMajor = (329, 8), devMinor = (337, 8), prefix = (345, 155)
    static let blockSize = 512
}
