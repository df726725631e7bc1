import CLinuxSys
import Glibc

/// The caller's terminal, as the CLI asks about it: is an fd one, and how big is it.
public enum Terminal {
    public static func isTerminal(_ fd: Int32) -> Bool { isatty(fd) == 1 }

    /// The window size of the terminal on `fd` (rows, columns), or nil when it is not one or reports 0 rows.
    public static func windowSize(_ fd: Int32) -> (rows: Int, columns: Int)? {
        var rows: UInt16 = 0
        var columns: UInt16 = 0
        guard berth_get_winsize(fd, &rows, &columns) == 0, rows > 0 else { return nil }
        return (Int(rows), Int(columns))
    }
}

extension ProcessSys {
    /// This process's id (temporary names carry it, so two commands never pick the same one).
    public static var currentPID: pid_t { getpid() }

    /// Sleeps the calling thread; a signal ends the sleep early (callers poll again).
    public static func sleep(milliseconds: Int) {
        var request = timespec(tv_sec: milliseconds / 1000, tv_nsec: (milliseconds % 1000) * 1_000_000)
        _ = nanosleep(&request, nil)
    }
}

extension Terminal {
    /// Runs `body` with the terminal on `fd` not echoing what is typed (a password prompt) and puts
    /// the terminal back as it was afterwards, whatever `body` does. On anything but a terminal,
    /// `body` just runs.
    public static func withoutEcho<T, E: Error>(_ fd: Int32, _ body: () throws(E) -> T) throws(E) -> T {
        var saved = termios()
        guard tcgetattr(fd, &saved) == 0 else { return try body() }
        var quiet = saved
        quiet.c_lflag &= ~tcflag_t(ECHO)
        guard tcsetattr(fd, TCSANOW, &quiet) == 0 else { return try body() }
        defer { _ = tcsetattr(fd, TCSANOW, &saved) }
        return try body()
    }
}
