import Glibc
import LinuxSys
import Synchronization

/// Progress as BuildKit's `--progress=plain` prints it, on stderr: each step a numbered block
/// (`#3 [build 2/4] RUN make`), its output lines with the seconds since it began, then `CACHED`
/// or `DONE 0.4s`. `-q` prints nothing.
final class BuildProgress: @unchecked Sendable {
    let quiet: Bool
    /// Stages of one wave report from their own threads.
    let mutex = Mutex(())
    var next = 1
    var began: [Int: Double] = [:]
    var cached: Set<Int> = []

    init(quiet: Bool) { self.quiet = quiet }

    func begin(_ title: String) -> Int {
        let step = mutex.withLock { _ in
            let step = next
            next += 1
            began[step] = MonotonicClock.seconds()
            return step
        }
        emit("\n#\(step) \(title)\n")
        return step
    }

    /// A line of the step's own output (a RUN's stdout and stderr).
    func output(_ step: Int, _ text: String) {
        let start = mutex.withLock { _ in began[step] } ?? MonotonicClock.seconds()
        let elapsed = MonotonicClock.seconds() - start
        var line = "#\(step) \(formatSeconds(elapsed, digits: 3)) \(text)"
        if !line.hasSuffix("\n") { line += "\n" }
        emit(line)
    }

    func line(_ step: Int, _ text: String) {
        if text == "CACHED" { mutex.withLock { _ in _ = cached.insert(step) } }
        emit("#\(step) \(text)\n")
    }

    func done(_ step: Int, seconds: Double) {
        if mutex.withLock({ _ in cached.contains(step) }) { return }
        emit("#\(step) DONE \(formatSeconds(seconds, digits: 1))s\n")
    }

    func note(_ text: String) { emit(text + "\n") }

    func emit(_ text: String) {
        guard !quiet else { return }
        mutex.withLock { _ in write(text) }
    }

    /// One write per line, so lines of parallel stages do not interleave mid-line.
    private func write(_ text: String) {
        let bytes = Array(text.utf8)
        var offset = 0
        while offset < bytes.count {
            let n = bytes[offset...].withUnsafeBytes { Glibc.write(STDERR_FILENO, $0.baseAddress, $0.count) }
            if n <= 0 { if n < 0 && errno == EINTR { continue }; return }
            offset += n
        }
    }
}


func formatSeconds(_ value: Double, digits: Int) -> String {
    let scale = digits == 3 ? 1000.0 : 10.0
    let scaled = Int((value * scale).rounded())
    let whole = scaled / Int(scale)
    var fraction = String(scaled % Int(scale))
    while fraction.count < digits { fraction = "0" + fraction }
    return "\(whole).\(fraction)"
}
