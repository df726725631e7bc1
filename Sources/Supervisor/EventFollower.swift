import Glibc
import LinuxSys

/// Reads the events file incrementally: complete lines only, and on to the new file after a rotation.
public struct EventFollower {
    public let path: String
    var fd: Int32 = -1
    var pending: [UInt8] = []

    public init(path: String) { self.path = path }

    public mutating func poll() -> [EventMessage] {
        var events: [EventMessage] = []
        if fd < 0 {
            guard let opened = try? FS.open(path, O_RDONLY | O_CLOEXEC) else { return [] }
            fd = opened
        }
        events += readAvailable()
        // Renamed away: what was appended before the rename is read above; go on with the new file.
        var mine = Glibc.stat()
        if let current = try? FS.stat(path), fstat(fd, &mine) == 0,
           current.st_ino != mine.st_ino || current.st_dev != mine.st_dev {
            FS.close(fd)
            fd = -1
            pending.removeAll()
            events += poll()
        }
        return events
    }

    mutating func readAvailable() -> [EventMessage] {
        var events: [EventMessage] = []
        while let chunk = try? FS.read(fd, max: 1 << 20), !chunk.isEmpty {
            pending += chunk
            let (parsed, consumed) = EventLog.parse(pending[...])
            events += parsed
            pending.removeFirst(consumed)
        }
        return events
    }
}
