import Glibc

/// poll(2) over a few descriptors, retried on EINTR with what is left of the timeout.
public enum Poll {
    public struct Events: OptionSet, Sendable, Hashable {
        public let rawValue: Int16
        public init(rawValue: Int16) { self.rawValue = rawValue }
        public static let readable = Events(rawValue: Int16(POLLIN))
        public static let writable = Events(rawValue: Int16(POLLOUT))
        public static let priority = Events(rawValue: Int16(POLLPRI))
        /// Only ever reported, never asked for.
        public static let error = Events(rawValue: Int16(POLLERR))
        public static let hangup = Events(rawValue: Int16(POLLHUP))
        public static let invalid = Events(rawValue: Int16(POLLNVAL))
    }

    public struct Request: Sendable {
        public var fd: Int32
        public var events: Events
        public init(_ fd: Int32, _ events: Events = .readable) {
            self.fd = fd
            self.events = events
        }
    }

    public enum Result: Sendable, Equatable {
        case timedOut
        /// What each request reported, in the order given (empty for one with nothing to report).
        case ready([Events])

        public var events: [Events] {
            if case .ready(let events) = self { return events }
            return []
        }
    }

    /// Waits up to `timeoutMilliseconds` (negative: forever) for any request to be ready.
    public static func wait(_ requests: [Request], timeoutMilliseconds: Int32) throws(SysError) -> Result {
        var fds = requests.map { pollfd(fd: $0.fd, events: $0.events.rawValue, revents: 0) }
        let deadline = timeoutMilliseconds >= 0 ? MonotonicClock.now() + Int64(timeoutMilliseconds) * 1_000_000 : nil
        var timeout = timeoutMilliseconds
        while true {
            let n = Glibc.poll(&fds, nfds_t(fds.count), timeout)
            if n > 0 { return .ready(fds.map { Events(rawValue: $0.revents) }) }
            if n == 0 { return .timedOut }
            guard errno == EINTR else { throw SysError("poll") }
            if let deadline {
                let left = deadline - MonotonicClock.now()
                if left <= 0 { return .timedOut }
                timeout = Int32(clamping: (left + 999_999) / 1_000_000)
            }
        }
    }

    /// One descriptor: whether it became ready for `events` (or reported an error or hangup).
    public static func wait(_ fd: Int32, for events: Events = .readable, timeoutMilliseconds: Int32) throws(SysError) -> Events? {
        switch try wait([Request(fd, events)], timeoutMilliseconds: timeoutMilliseconds) {
        case .timedOut: return nil
        case .ready(let reported): return reported[0]
        }
    }
}

/// CLOCK_MONOTONIC: for durations and deadlines, which must not jump with the wall clock.
public enum MonotonicClock {
    /// Nanoseconds since an arbitrary point (boot).
    public static func now() -> Int64 {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Int64(ts.tv_sec) * 1_000_000_000 + Int64(ts.tv_nsec)
    }

    public static func seconds() -> Double {
        Double(now()) / 1e9
    }

    public static func milliseconds() -> Int64 {
        now() / 1_000_000
    }

    /// Nanoseconds since `start` (a value of `now()`).
    public static func elapsed(since start: Int64) -> Int64 {
        now() - start
    }

    public static func elapsedSeconds(since start: Int64) -> Double {
        Double(elapsed(since: start)) / 1e9
    }

    public static func elapsedMilliseconds(since start: Int64) -> Int64 {
        elapsed(since: start) / 1_000_000
    }
}
