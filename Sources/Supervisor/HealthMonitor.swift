import CLinuxSys
import ContainerRuntime
import Glibc
import LinuxSys
import OCI

/// A container's health check as Docker runs it, with Docker's defaults filled in.
struct HealthSchedule: Equatable {
    /// The probe's argv: CMD's arguments, or CMD-SHELL's command under `/bin/sh -c`.
    let command: [String]
    let interval: Int64
    let timeout: Int64
    let startPeriod: Int64
    let startInterval: Int64
    let retries: Int

    static let defaultInterval: Int64 = 30_000_000_000
    static let defaultTimeout: Int64 = 30_000_000_000
    static let defaultStartInterval: Int64 = 5_000_000_000
    static let defaultRetries = 3
    /// Docker keeps this much of a probe's output, and this many results.
    static let maxOutput = 4096
    static let maxLogEntries = 5

    /// Nil when there is nothing to run: no test, NONE, or a kind Docker does not know.
    init?(_ config: HealthConfig?) {
        guard let config, let test = config.test, let kind = test.first else { return nil }
        let rest = Array(test.dropFirst())
        switch kind {
        case "CMD": command = rest
        case "CMD-SHELL": command = ["/bin/sh", "-c"] + rest
        default: return nil
        }
        guard !rest.isEmpty else { return nil }
        func orDefault(_ value: Int64?, _ fallback: Int64) -> Int64 { (value ?? 0) > 0 ? value ?? fallback : fallback }
        interval = orDefault(config.interval, Self.defaultInterval)
        timeout = orDefault(config.timeout, Self.defaultTimeout)
        startPeriod = max(config.startPeriod ?? 0, 0)
        startInterval = orDefault(config.startInterval, Self.defaultStartInterval)
        retries = (config.retries ?? 0) > 0 ? config.retries ?? Self.defaultRetries : Self.defaultRetries
    }

    /// Docker's wait before the next probe, `elapsed` nanoseconds into the run: the interval once
    /// the start period is over; during it, at most until its end, and the start interval while the
    /// container has not been healthy yet.
    func nextDelay(elapsed: Int64, status: String) -> Int64 {
        if elapsed >= startPeriod { return interval }
        let remaining = startPeriod - elapsed
        if remaining < interval { return remaining }
        return status == "starting" ? startInterval : interval
    }
}

/// One probe in flight. The supervisor forks a helper that asks the runtime library to exec the
/// command in the container (detached) and writes its pid to a file, then exits: the probe is then
/// reparented to the supervisor (a child subreaper), which reaps it and so learns its exit status
/// without anyone blocking. The probe's stdout and stderr are one pipe the poll loop reads.
final class HealthProbeRun {
    let helper: pid_t
    var helperExit: Int32?
    var pid: pid_t?
    var exit: Int32?
    var outputFD: Int32
    var output: [UInt8] = []
    var truncated = false
    let start: String
    let startedAt: Double
    let deadline: Double

    init(helper: pid_t, outputFD: Int32, start: String, startedAt: Double, deadline: Double) {
        self.helper = helper
        self.outputFD = outputFD
        self.start = start
        self.startedAt = startedAt
        self.deadline = deadline
    }

    /// Docker's limitedBuffer: the first 4096 bytes, "..." after them if more came.
    func keep(_ bytes: UnsafeRawBufferPointer) {
        let room = HealthSchedule.maxOutput - output.count
        if room > 0 { output += bytes.prefix(room) }
        if bytes.count > max(room, 0) { truncated = true }
    }

    var outputText: String { String(decoding: output, as: UTF8.self) + (truncated ? "..." : "") }
}

final class HealthMonitor {
    let schedule: HealthSchedule
    var nextProbe: Double
    var probe: HealthProbeRun?
    /// Children reaped before the helper said which one is the probe (both can end at once).
    var unclaimed: [(pid: pid_t, status: Int32)] = []

    init(schedule: HealthSchedule, nextProbe: Double) {
        self.schedule = schedule
        self.nextProbe = nextProbe
    }
}

extension Supervisor {
    var healthPidFile: String { runDirectory + "/health.pid" }

    /// A new run starts Docker's way: status starting, no failing streak, the log kept.
    func startHealthChecks() {
        stopHealthChecks()
        guard let schedule = HealthSchedule(config.healthcheck) else { return }
        var health = state.health ?? HealthState(status: "starting")
        health.status = "starting"
        health.failingStreak = 0
        state.health = health
        let delay = schedule.nextDelay(elapsed: 0, status: "starting")
        healthMonitor = HealthMonitor(schedule: schedule, nextProbe: runStarted + Double(delay) / 1e9)
    }

    /// The run ended: a probe in flight is killed and its result dropped, as Docker does.
    func stopHealthChecks() {
        guard let monitor = healthMonitor else { return }
        if let probe = monitor.probe { abandon(probe) }
        healthMonitor = nil
    }

    func abandon(_ probe: HealthProbeRun) {
        if probe.helperExit == nil { _ = Glibc.kill(probe.helper, SIGKILL) }
        if let pid = probe.pid, probe.exit == nil { _ = Glibc.kill(pid, SIGKILL) }
        if probe.outputFD >= 0 { FS.close(probe.outputFD) }
        probe.outputFD = -1
    }

    var healthOutputFD: Int32? {
        guard let fd = healthMonitor?.probe?.outputFD, fd >= 0 else { return nil }
        return fd
    }

    /// The poll timeout that wakes the loop for the next probe or a probe's deadline.
    func healthPollTimeout(_ base: Int32) -> Int32 {
        guard let monitor = healthMonitor, exitStatus == nil else { return base }
        let due = monitor.probe?.deadline ?? monitor.nextProbe
        let milliseconds = Int32(max(0, min((due - Clock.monotonicSeconds()) * 1000 + 1, 3_600_000)))
        return base < 0 ? milliseconds : min(base, milliseconds)
    }

    /// Reads what the probe wrote; at its end (or an error) closes the pipe.
    func readHealthOutput() {
        guard let probe = healthMonitor?.probe, probe.outputFD >= 0 else { return }
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let n = buffer.withUnsafeMutableBytes { Glibc.read(probe.outputFD, $0.baseAddress, $0.count) }
            if n < 0 && errno == EINTR { continue }
            if n <= 0 {
                if n == 0 || errno != EAGAIN {
                    FS.close(probe.outputFD)
                    probe.outputFD = -1
                }
                return
            }
            buffer.withUnsafeBytes { probe.keep(UnsafeRawBufferPointer(rebasing: $0[0..<n])) }
        }
    }

    /// A reaped child that is not the container's init: the helper or the probe.
    func healthReaped(_ pid: pid_t, status: Int32) {
        guard let monitor = healthMonitor, let probe = monitor.probe else { return }
        let decoded = ProcessSys.decode(status: status).shellStatus
        if pid == probe.helper {
            probe.helperExit = decoded
            if decoded == 0, let text = try? FS.readText(healthPidFile),
               let probePid = pid_t(trimNewlines(text)) {
                probe.pid = probePid
                if let early = monitor.unclaimed.first(where: { $0.pid == probePid }) {
                    probe.exit = ProcessSys.decode(status: early.status).shellStatus
                }
            }
            monitor.unclaimed.removeAll()
        } else if pid == probe.pid {
            probe.exit = decoded
        } else if probe.helperExit == nil {
            monitor.unclaimed.append((pid, status))
            if monitor.unclaimed.count > 8 { monitor.unclaimed.removeFirst() }
        }
    }

    /// Starts a probe when one is due; records one that ended or ran out of time.
    func healthTick() {
        guard let monitor = healthMonitor, exitStatus == nil else { return }
        let now = Clock.monotonicSeconds()
        if let probe = monitor.probe {
            if let helperExit = probe.helperExit, helperExit != 0 {
                // The exec itself failed: Docker records the error with -1.
                readHealthOutput()
                finishProbe(monitor, probe, exitCode: -1, output: trimNewlines(probe.outputText))
            } else if let exit = probe.exit {
                readHealthOutput()
                finishProbe(monitor, probe, exitCode: exit, output: probe.outputText)
            } else if now >= probe.deadline {
                readHealthOutput()
                let out = probe.outputText
                let limit = goDuration(monitor.schedule.timeout)
                abandon(probe)
                finishProbe(monitor, probe, exitCode: -1, output: "Health check exceeded timeout (\(limit))" + (out.isEmpty ? "" : ": " + out))
            }
            return
        }
        guard now >= monitor.nextProbe else { return }
        // Docker runs no probes in a paused container.
        if (try? runtime.state(id: config.id).status) == .paused {
            monitor.nextProbe = now + Double(monitor.schedule.interval) / 1e9
            return
        }
        launchProbe(monitor, now: now)
    }

    func launchProbe(_ monitor: HealthMonitor, now: Double) {
        _ = unlink(healthPidFile)
        let start = Clock.rfc3339Nano()
        guard let output = try? Self.pipe() else {
            record(monitor, HealthProbe(start: start, end: Clock.rfc3339Nano(), exitCode: -1, output: "pipe: \(String(cString: strerror(errno)))"), startedAt: now)
            return
        }
        let pid: pid_t
        do { pid = try ProcessSys.clone(flags: 0) } catch {
            FS.close(output.read); FS.close(output.write)
            record(monitor, HealthProbe(start: start, end: Clock.rfc3339Nano(), exitCode: -1, output: "\(error)"), startedAt: now)
            return
        }
        if pid == 0 { runProbeHelper(command: monitor.schedule.command, output: output.write) }
        FS.close(output.write)
        _ = fcntl(output.read, F_SETFL, fcntl(output.read, F_GETFL) | O_NONBLOCK)
        monitor.probe = HealthProbeRun(helper: pid, outputFD: output.read, start: start, startedAt: now,
                                       deadline: now + Double(monitor.schedule.timeout) / 1e9)
    }

    /// The helper child: the probe's stdio on the pipe, exec'd detached; the pid file says which
    /// process it is. Exits 0 once the probe runs, 1 (with the error on the pipe) if it could not.
    func runProbeHelper(command: [String], output: Int32) -> Never {
        dup2(devNull, 0)
        dup2(output, 1)
        dup2(output, 2)
        var options = ExecOptions(process: nil)
        options.overrides.args = command
        options.detach = true
        options.pidFile = healthPidFile
        do {
            _ = try runtime.exec(id: config.id, options: options)
            _exit(0)
        } catch {
            _ = try? FS.write(2, Array("OCI runtime exec failed: \(error)\n".utf8))
            _exit(1)
        }
    }

    func finishProbe(_ monitor: HealthMonitor, _ probe: HealthProbeRun, exitCode: Int32, output: String) {
        if probe.outputFD >= 0 { FS.close(probe.outputFD) }
        probe.outputFD = -1
        monitor.probe = nil
        record(monitor, HealthProbe(start: probe.start, end: Clock.rfc3339Nano(), exitCode: exitCode, output: output),
               startedAt: probe.startedAt)
    }

    /// Docker's handleProbeResult: the last five results; a success makes it healthy and ends the
    /// start period; a failure counts only after the start period (or once it has been healthy),
    /// and `retries` of them in a row make it unhealthy.
    func record(_ monitor: HealthMonitor, _ result: HealthProbe, startedAt: Double) {
        var health = state.health ?? HealthState(status: "starting")
        let old = health.status
        health.log.append(result)
        if health.log.count > HealthSchedule.maxLogEntries { health.log.removeFirst(health.log.count - HealthSchedule.maxLogEntries) }
        if result.exitCode == 0 {
            health.failingStreak = 0
            health.status = "healthy"
        } else {
            let sinceStart = Int64((startedAt - runStarted) * 1e9)
            if !(health.status == "starting" && sinceStart < monitor.schedule.startPeriod) {
                health.failingStreak += 1
                if health.failingStreak >= monitor.schedule.retries { health.status = "unhealthy" }
            }
        }
        state.health = health
        try? state.save(config.statePath)
        if health.status != old { emitEvent("health_status: " + health.status) }
        let elapsed = Int64((Clock.monotonicSeconds() - runStarted) * 1e9)
        monitor.nextProbe = Clock.monotonicSeconds() + Double(monitor.schedule.nextDelay(elapsed: elapsed, status: health.status)) / 1e9
    }
}

/// Go's `time.Duration.String()` for the timeout message: `1s`, `500ms`, `1.5s`, `1m30s`, `2h0m0s`.
func goDuration(_ nanoseconds: Int64) -> String {
    if nanoseconds == 0 { return "0s" }
    var value = nanoseconds
    let negative = value < 0
    if negative { value = -value }
    func fraction(_ v: Int64, _ unit: Int64) -> String {
        let whole = v / unit
        var rest = v % unit
        guard rest != 0 else { return "\(whole)" }
        var digits = String(rest)
        let width = String(unit).count - 1
        digits = String(repeating: "0", count: width - digits.count) + digits
        while digits.hasSuffix("0") { digits.removeLast() }
        rest = 0
        return "\(whole).\(digits)"
    }
    var text: String
    if value < 1_000 {
        text = "\(value)ns"
    } else if value < 1_000_000 {
        text = fraction(value, 1_000) + "µs"
    } else if value < 1_000_000_000 {
        text = fraction(value, 1_000_000) + "ms"
    } else {
        let hours = value / 3_600_000_000_000
        let minutes = value / 60_000_000_000 % 60
        let seconds = fraction(value % 60_000_000_000, 1_000_000_000) + "s"
        if hours > 0 {
            text = "\(hours)h\(minutes)m" + seconds
        } else if minutes > 0 {
            text = "\(minutes)m" + seconds
        } else {
            text = seconds
        }
    }
    return negative ? "-" + text : text
}

func trimNewlines(_ text: String) -> String {
    var out = Substring(text)
    while let last = out.last, last == "\n" || last == " " { out.removeLast() }
    return String(out)
}
