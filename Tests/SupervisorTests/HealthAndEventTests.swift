import Foundation
import OCI
import Testing
@testable import Supervisor

/// The pure parts of health checks and the events file: Docker's schedule and defaults, Go's
/// duration text, the event line's JSON and its parsing.
struct HealthAndEventTests {
    static func config(_ json: String) throws -> HealthConfig {
        try JSONTreeDecoder.decode(HealthConfig.self, from: Array(json.utf8))
    }

    @Test func scheduleDefaultsAndKinds() throws {
        let shell = try #require(HealthSchedule(try Self.config(#"{"Test":["CMD-SHELL","curl -f x"]}"#)))
        #expect(shell.command == ["/bin/sh", "-c", "curl -f x"])
        #expect(shell.interval == 30_000_000_000 && shell.timeout == 30_000_000_000 && shell.retries == 3)
        #expect(shell.startPeriod == 0 && shell.startInterval == 5_000_000_000)
        let exec = try #require(HealthSchedule(try Self.config(#"{"Test":["CMD","/bin/check","-v"],"Interval":1000000000,"Retries":2}"#)))
        #expect(exec.command == ["/bin/check", "-v"] && exec.interval == 1_000_000_000 && exec.retries == 2)
        #expect(HealthSchedule(try Self.config(#"{"Test":["NONE"]}"#)) == nil)
        #expect(HealthSchedule(try Self.config(#"{"Test":["CMD"]}"#)) == nil)
        #expect(HealthSchedule(try Self.config(#"{"Interval":1000000000}"#)) == nil)
        #expect(HealthSchedule(nil) == nil)
    }

    /// Docker's getInterval: the interval after the start period; inside it, the start interval
    /// while starting, but never past the period's end.
    @Test func nextDelayFollowsDocker() throws {
        let s = try #require(HealthSchedule(try Self.config(
            #"{"Test":["CMD","x"],"Interval":10000000000,"StartPeriod":60000000000,"StartInterval":2000000000}"#)))
        #expect(s.nextDelay(elapsed: 0, status: "starting") == 2_000_000_000)
        #expect(s.nextDelay(elapsed: 0, status: "healthy") == 10_000_000_000)
        #expect(s.nextDelay(elapsed: 55_000_000_000, status: "starting") == 5_000_000_000)
        #expect(s.nextDelay(elapsed: 60_000_000_000, status: "starting") == 10_000_000_000)
    }

    @Test(arguments: [
        (Int64(1_000_000_000), "1s"), (1_500_000_000, "1.5s"), (500_000_000, "500ms"), (90_000_000_000, "1m30s"),
        (7_200_000_000_000, "2h0m0s"), (1_500, "1.5µs"), (12, "12ns"), (60_000_000_000, "1m0s"), (30_000_000_000, "30s"),
    ] as [(Int64, String)])
    func goDurationText(nanoseconds: Int64, text: String) {
        #expect(goDuration(nanoseconds) == text)
    }

    @Test func outputKeepsFirst4096BytesThenDots() {
        let probe = HealthProbeRun(helper: 0, outputFD: -1, start: "", startedAt: 0, deadline: 0)
        let chunk = [UInt8](repeating: UInt8(ascii: "a"), count: 3000)
        chunk.withUnsafeBytes { probe.keep($0) }
        chunk.withUnsafeBytes { probe.keep($0) }
        #expect(probe.output.count == 4096)
        #expect(probe.outputText.hasSuffix("a..."))
    }

    @Test func eventLineRoundTripsAndPartialLinesWait() throws {
        let event = EventMessage(container: "abc", action: "die", attributes: ["name": "x\"y", "image": "busybox", "exitCode": "1"],
                                 timeNano: 1_700_000_000_123_456_789)
        #expect(event.jsonLine == #"{"status":"die","id":"abc","from":"busybox","Type":"container","Action":"die","Actor":{"ID":"abc","Attributes":{"exitCode":"1","image":"busybox","name":"x\"y"}},"scope":"local","time":1700000000,"timeNano":1700000000123456789}"#)
        let bytes = Array((event.jsonLine + "\n" + event.jsonLine + "\n{\"status\":").utf8)
        let (events, consumed) = EventLog.parse(bytes[...])
        #expect(events == [event, event])
        #expect(consumed == (event.jsonLine.utf8.count + 1) * 2)
    }

    @Test func appendRotatesPastTheCap() throws {
        let dir = NSTemporaryDirectory() + "berth-events-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let path = dir + "/events.log"
        try Data(repeating: UInt8(ascii: "x"), count: EventLog.maxSize).write(to: URL(fileURLWithPath: path))
        EventLog.append(EventMessage(container: "c1", action: "create", attributes: [:]), to: path)
        #expect(FileManager.default.fileExists(atPath: path + ".1"))
        #expect(EventLog.read(path).map(\.action) == ["create"])
        EventLog.append(EventMessage(container: "c1", action: "start", attributes: [:]), to: path)
        #expect(EventLog.read(path).map(\.action) == ["create", "start"])
    }
}
