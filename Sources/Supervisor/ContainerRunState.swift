import Glibc
import LinuxSys
import OCI

/// What a container is doing, as its supervisor last recorded it: Docker's `State` (status, pid,
/// exit code, start and finish times, restart count, health). The supervisor writes it atomically at
/// each change; the engine reads it and checks the pids against the live system, so a supervisor
/// killed with -9 cannot make a dead container look alive.
public struct ContainerRunState: Codable, Sendable, Equatable {
    public enum Status: String, Codable, Sendable {
        /// Being started: the supervisor is creating it.
        case starting
        case running
        /// Waiting out the restart backoff between two runs.
        case restarting
        case exited
    }

    public var status: Status
    /// The container's init on the host, and its start time (so a reused pid is not mistaken for it).
    public var pid: Int32 = 0
    public var pidStartTime: UInt64 = 0
    public var supervisorPid: Int32 = 0
    public var supervisorStartTime: UInt64 = 0
    /// RFC 3339 with nanoseconds, UTC; Docker's zero time until set.
    public var startedAt: String = ContainerRunState.zeroTime
    public var finishedAt: String = ContainerRunState.zeroTime
    public var exitCode: Int32 = 0
    /// Why the last start failed, as Docker's State.Error.
    public var error: String = ""
    public var oomKilled = false
    public var restartCount = 0
    /// This supervisor carries out `StopRequest`s (one from before them would die of the signal).
    public var handlesStopRequests: Bool?
    public var health: HealthState?

    public static let zeroTime = "0001-01-01T00:00:00Z"

    public init(status: Status) { self.status = status }

    public static func load(_ path: String) -> ContainerRunState? {
        guard let bytes = try? FS.readFile(path) else { return nil }
        return try? JSONTreeDecoder.decode(ContainerRunState.self, from: bytes)
    }

    public func save(_ path: String) throws(SupervisorError) {
        do {
            try FS.writeFileAtomically(path, try JSONTreeEncoder.encode(self), mode: 0o644)
        } catch {
            throw SupervisorError("write \(path)", error)
        }
    }

    public var containerAlive: Bool { ProcessSys.isAlive(pid, startTime: pidStartTime) }
    public var supervisorAlive: Bool { ProcessSys.isAlive(supervisorPid, startTime: supervisorStartTime) }
}

/// Docker's State.Health.
public struct HealthState: Codable, Sendable, Equatable {
    /// "starting", "healthy" or "unhealthy".
    public var status: String
    public var failingStreak: Int
    public var log: [HealthProbe]

    public init(status: String, failingStreak: Int = 0, log: [HealthProbe] = []) {
        self.status = status
        self.failingStreak = failingStreak
        self.log = log
    }

    enum CodingKeys: String, CodingKey {
        case status = "Status", failingStreak = "FailingStreak", log = "Log"
    }
}

public struct HealthProbe: Codable, Sendable, Equatable {
    public var start: String
    public var end: String
    public var exitCode: Int32
    public var output: String

    public init(start: String, end: String, exitCode: Int32, output: String) {
        self.start = start
        self.end = end
        self.exitCode = exitCode
        self.output = output
    }

    enum CodingKeys: String, CodingKey {
        case start = "Start", end = "End", exitCode = "ExitCode", output = "Output"
    }
}
