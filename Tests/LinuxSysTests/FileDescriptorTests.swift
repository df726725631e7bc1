import CLinuxSys
import Glibc
import LinuxSys
import Testing

/// The descriptors this process has open now.
func openDescriptorCount() -> Int {
    (try? FS.list(path: "/proc/self/fd").count) ?? -1
}

/// No leak across `rounds` rounds: other suites of this test process open and close fds while these
/// run, so the count moves a little on its own; a leak leaves one or more fds per round.
func expectNoLeak(since before: Int, rounds: Int, sourceLocation: SourceLocation = #_sourceLocation) {
    let grown = openDescriptorCount() - before
    #expect(grown < max(rounds / 2, 1) + 16, "\(grown) more open fds after \(rounds) rounds", sourceLocation: sourceLocation)
}

/// Every suite here counts the process's open fds, so none runs beside another.
@Suite(.serialized) struct DescriptorCounting {}

extension DescriptorCounting {
@Suite struct FileDescriptorTests {
    @Test func failingOpensLeakNothing() throws {
        let before = openDescriptorCount()
        for _ in 0..<1000 {
            #expect(throws: SysError.self) { _ = try FS.openOwned("/nonexistent/berth-test", O_RDONLY) }
            #expect(throws: SysError.self) { _ = try FS.openatOwned(AT_FDCWD, "/proc/self/fd/nonexistent", O_RDONLY) }
        }
        expectNoLeak(since: before, rounds: 1000)
    }

    @Test func droppedDescriptorsAreClosed() throws {
        let before = openDescriptorCount()
        for _ in 0..<1000 {
            let fd = try FS.openOwned("/proc/self/stat", O_RDONLY)
            #expect(fd.raw >= 0)
        }
        for _ in 0..<1000 {
            let root = try FS.openOwned("/", O_RDONLY | O_DIRECTORY)
            let inRoot = InRoot(rootFD: root.raw, rootPath: "/")
            _ = try inRoot.openOwned("/etc", O_RDONLY | O_DIRECTORY)
            _ = try root.duplicate()
        }
        expectNoLeak(since: before, rounds: 1000)
    }

    @Test func takeHandsTheNumberOn() throws {
        let fd = try FS.openOwned("/proc/self/stat", O_RDONLY)
        let raw = fd.take()
        // Taken: the owner's end of life did not close it.
        #expect(fcntl(raw, F_GETFD) >= 0)
        #expect(close(raw) == 0)
    }

    @Test func closeClosesNow() throws {
        let fd = try FS.openOwned("/proc/self/stat", O_RDONLY)
        let raw = fd.raw
        fd.close()
        #expect(fcntl(raw, F_GETFD) == -1)
    }

    @Test func descriptorsAreCloseOnExec() throws {
        let fd = try FS.openOwned("/proc/self/stat", O_RDONLY)
        #expect(fcntl(fd.raw, F_GETFD) & FD_CLOEXEC != 0)
        let copy = try fd.duplicate()
        #expect(fcntl(copy.raw, F_GETFD) & FD_CLOEXEC != 0)
        let pipe = try FS.pipe()
        #expect(fcntl(pipe.read.raw, F_GETFD) & FD_CLOEXEC != 0)
        #expect(fcntl(pipe.write.raw, F_GETFD) & FD_CLOEXEC != 0)
    }

    @Test func pipeAndPollRoundTrip() throws {
        let before = openDescriptorCount()
        do {
            let pipe = try FS.pipe()
            #expect(try Poll.wait(pipe.read.raw, timeoutMilliseconds: 0) == nil)
            #expect(try Poll.wait([Poll.Request(pipe.read.raw)], timeoutMilliseconds: 10) == .timedOut)
            try FS.write(pipe.write.raw, Array("ping".utf8))
            let events = try #require(try Poll.wait(pipe.read.raw, timeoutMilliseconds: 1000))
            #expect(events.contains(.readable))
            var buffer = [UInt8](repeating: 0, count: 16)
            let n = buffer.withUnsafeMutableBytes { read(pipe.read.raw, $0.baseAddress, $0.count) }
            #expect(String(decoding: buffer[0..<n], as: UTF8.self) == "ping")
            let result = try Poll.wait([Poll.Request(pipe.read.raw), Poll.Request(pipe.write.raw, .writable)], timeoutMilliseconds: 1000)
            #expect(result.events.count == 2)
            #expect(result.events[0].isEmpty)
            #expect(result.events[1].contains(.writable))
        }
        expectNoLeak(since: before, rounds: 1)
    }

    @Test func pollSeesHangup() throws {
        let pipe = try FS.pipe()
        let read = pipe.read.take()
        defer { _ = close(read) }
        pipe.write.close()
        let events = try #require(try Poll.wait(read, timeoutMilliseconds: 1000))
        #expect(events.contains(.hangup))
    }

    @Test func pollTimesOutAfterItsTimeout() throws {
        let pipe = try FS.pipe()
        let start = MonotonicClock.now()
        #expect(try Poll.wait(pipe.read.raw, timeoutMilliseconds: 50) == nil)
        #expect(MonotonicClock.elapsedMilliseconds(since: start) >= 49)
    }

    @Test func monotonicClockIncreases() {
        var last = MonotonicClock.now()
        for _ in 0..<1000 {
            let now = MonotonicClock.now()
            #expect(now >= last)
            last = now
        }
        let start = MonotonicClock.now()
        usleep(20_000)
        #expect(MonotonicClock.elapsed(since: start) >= 20_000_000)
        #expect(MonotonicClock.elapsedSeconds(since: start) >= 0.02)
        #expect(abs(MonotonicClock.seconds() - Double(MonotonicClock.now()) / 1e9) < 1)
    }
}
}
