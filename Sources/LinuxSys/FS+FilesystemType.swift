import CLinuxSys
import Glibc

extension FS {
    /// The magic number of the filesystem holding `path` (statfs's f_type), or nil when it cannot be read.
    public static func filesystemType(_ path: String) -> UInt32? {
        var fs = statfs()
        guard statfs(path, &fs) == 0 else { return nil }
        return UInt32(truncatingIfNeeded: fs.f_type)
    }
}
