import Glibc
import LinuxSys
import Synchronization

/// One step of a build as a progress reporter sees it.
public struct BuildStep: Sendable {
    public enum Kind: Sendable, Equatable {
        /// A stage's FROM.
        case from
        /// An instruction of the Dockerfile (or an ONBUILD trigger of the base image).
        case instruction
        /// Storing the image and naming it.
        case export
    }

    /// Unique in the build, in the order steps begin (BuildKit's `#N`).
    public let number: Int
    public let kind: Kind
    /// BuildKit's title: `[build 2/4] RUN make`, `exporting to image`.
    public let title: String
    /// The instruction as written (`FROM busybox AS build`, `RUN make`).
    public let source: String
    /// The legacy builder's `Step N/TOTAL`: the step's place among the stages' FROM lines and
    /// instructions; nil for what that builder does not number (ONBUILD triggers, the export).
    public let ordinal: Int?
    public let total: Int
}

/// Where a build reports its progress: BuildKit's plain text (the CLI), or the legacy builder's
/// JSON messages (the Engine API). Called from the stages' threads.
public protocol BuildReporter: AnyObject, Sendable {
    /// Stages one after another, in file order, even when they could run side by side (the legacy
    /// builder's numbered steps read in order).
    var sequentialStages: Bool { get }
    func began(_ step: BuildStep)
    /// The step's result came from the build cache; `layer`: a step that makes a layer (a RUN,
    /// COPY, ADD), not one that only changes the config.
    func cached(_ step: BuildStep, layer: Bool)
    /// A RUN step's container is about to start.
    func running(_ step: BuildStep, container: String)
    /// A line of a RUN step's own output (stdout and stderr).
    func output(_ step: BuildStep, _ line: String)
    /// The step is done; `result` names what it made: the base image's ID for a FROM, the
    /// step's cache key for an instruction (the build has no intermediate images).
    func finished(_ step: BuildStep, seconds: Double, result: String)
    /// The image is stored (and tagged).
    func exported(_ step: BuildStep, image: String, tags: [String], seconds: Double)
    func note(_ text: String)
}

/// Progress as BuildKit's `--progress=plain` prints it, on stderr: each step a numbered block
/// (`#3 [build 2/4] RUN make`), its output lines with the seconds since it began, then `CACHED`
/// or `DONE 0.4s`. `-q` prints nothing.
public final class PlainBuildProgress: BuildReporter, @unchecked Sendable {
    let quiet: Bool
    /// Stages of one wave report from their own threads.
    let mutex = Mutex(())
    var began: [Int: Double] = [:]
    var cachedSteps: Set<Int> = []

    public init(quiet: Bool) { self.quiet = quiet }

    public var sequentialStages: Bool { false }

    public func began(_ step: BuildStep) {
        mutex.withLock { _ in began[step.number] = MonotonicClock.seconds() }
        emit("\n#\(step.number) \(step.title)\n")
    }

    public func output(_ step: BuildStep, _ text: String) {
        let start = mutex.withLock { _ in began[step.number] } ?? MonotonicClock.seconds()
        let elapsed = MonotonicClock.seconds() - start
        var line = "#\(step.number) \(formatSeconds(elapsed, digits: 3)) \(text)"
        if !line.hasSuffix("\n") { line += "\n" }
        emit(line)
    }

    public func cached(_ step: BuildStep, layer: Bool) {
        // Config-only steps are not shown as cached (BuildKit has no step for them to cache).
        guard layer else { return }
        mutex.withLock { _ in _ = cachedSteps.insert(step.number) }
        emit("#\(step.number) CACHED\n")
    }

    public func running(_ step: BuildStep, container: String) {}

    public func finished(_ step: BuildStep, seconds: Double, result: String) {
        if mutex.withLock({ _ in cachedSteps.contains(step.number) }) { return }
        emit("#\(step.number) DONE \(formatSeconds(seconds, digits: 1))s\n")
    }

    public func exported(_ step: BuildStep, image: String, tags: [String], seconds: Double) {
        emit("#\(step.number) writing image \(image) done\n")
        for tag in tags { emit("#\(step.number) naming to \(tag) done\n") }
        emit("#\(step.number) DONE \(formatSeconds(seconds, digits: 1))s\n")
    }

    public func note(_ text: String) { emit(text + "\n") }

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
