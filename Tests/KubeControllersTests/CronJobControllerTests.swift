import ContainerSpec
import Foundation
import GoCompat
import Kube
@testable import KubeControllers
@testable import KubeModel
import Synchronization
import Testing

/// Cron schedules (parsing and the times they fire at, in UTC and in a zone with daylight saving
/// time) and the CronJob controller over a real store with a clock the test moves.
struct CronJobControllerTests {
    /// 2026-01-05T00:00:00Z, a Monday.
    static let monday: Int64 = 1_767_571_200

    static func next(_ spec: String, after: Int64, zone: String = "UTC") throws -> Int64? {
        try CronSchedule(spec).next(after: after, in: try #require(TimeZoneRules.load(zone)))
    }

    @Test func schedulesFireAtTheTimesTheyName() throws {
        let m = Self.monday
        #expect(try Self.next("* * * * *", after: m) == m + 60)
        #expect(try Self.next("* * * * *", after: m + 30) == m + 60)
        #expect(try Self.next("*/15 * * * *", after: m + 60) == m + 15 * 60)
        #expect(try Self.next("5-10/5 * * * *", after: m + 6 * 60) == m + 10 * 60)
        #expect(try Self.next("0,30 9-17 * * MON-FRI", after: m) == m + 9 * 3600)
        #expect(try Self.next("0,30 9-17 * * mon-fri", after: m + 17 * 3600 + 30 * 60) == m + 86_400 + 9 * 3600)
        // Saturday 2026-01-10 10:00 → the next weekday is Monday the 12th.
        #expect(try Self.next("0 9 * * 1-5", after: m + 5 * 86_400 + 10 * 3600) == m + 7 * 86_400 + 9 * 3600)
        #expect(try Self.next("@hourly", after: m + 1) == m + 3600)
        #expect(try Self.next("@daily", after: m + 1) == m + 86_400)
        #expect(try Self.next("@weekly", after: m) == m + 6 * 86_400)
        #expect(try Self.next("0 0 1 JAN *", after: m) == 1_798_761_600) // 2027-01-01
        // Day of month and day of week both restricted: either matches (the 13th, or a Friday).
        #expect(try Self.next("0 0 13 * 5", after: m) == m + 4 * 86_400)
        // Only leap years have a 29 February: 2028.
        #expect(try Self.next("0 0 29 2 *", after: m) == 1_835_395_200)
        #expect(try Self.next("0 0 30 2 *", after: m) == nil)
        #expect(try Self.next("@every 90s", after: m + 7) == m + 97)
        #expect(try Self.next("@every 1h30m", after: m) == m + 5400)
    }

    @Test func badSchedulesAreRefusedWithTheReason() {
        for bad in ["", "* * * *", "* * * * * *", "60 * * * *", "* 24 * * *", "* * 0 * *", "* * * 13 *", "* * * * 7", "*/0 * * * *",
                    "5-1 * * * *", "a * * * *", "@often", "@every", "@every 5x"] {
            #expect(throws: CronSchedule.ParseError.self, "\(bad)") { try CronSchedule(bad) }
        }
        let errors = Objects.validateCronJob(.ordered([
            ("metadata", .ordered([("name", .string("c"))])),
            ("spec", .ordered([("schedule", .string("61 * * * *")), ("timeZone", .string("../../../etc/passwd")),
                               ("jobTemplate", .ordered([("spec", .ordered([]))]))])),
        ]))
        #expect(errors.map(\.field).contains("spec.schedule"))
        #expect(errors.map(\.field).contains("spec.timeZone"))
    }

    @Test func timeZonesFollowDaylightSavingTime() throws {
        // 09:00 in Berlin is 08:00Z in winter and 07:00Z in summer.
        #expect(try Self.next("0 9 * * *", after: Self.monday, zone: "Europe/Berlin") == Self.monday + 8 * 3600)
        let july: Int64 = 1_782_864_000 // 2026-07-01T00:00:00Z
        #expect(try Self.next("0 9 * * *", after: july, zone: "Europe/Berlin") == july + 7 * 3600)
        #expect(try Self.next("0 9 * * *", after: july, zone: "America/New_York") == july + 13 * 3600)
        #expect(CronJobController.rfc3339(july + 7 * 3600, zone: try #require(TimeZoneRules.load("Europe/Berlin"))) == "2026-07-01T09:00:00+02:00")
        // Names are looked up in the tz database only: no path leaves it.
        for bad in ["../../etc/passwd", "/etc/localtime", "Europe/../../../etc/shadow", "Local", "Nowhere/Atlantis", "Europe//Berlin", ""] {
            #expect(TimeZoneRules.load(bad) == nil, "\(bad)")
        }
    }

    final class Cluster {
        let root = NSTemporaryDirectory() + "berth-cron-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        let store: ObjectStore
        let clock = JobControllerTests.Clock()
        let cronJobs: CronJobController

        init() throws {
            store = try ObjectStore.open(root: root)
            let clock = self.clock
            cronJobs = CronJobController(store: store, writer: .direct(store), clock: { clock.value })
        }
        deinit { try? FileManager.default.removeItem(atPath: root) }

        func jobs() throws -> [JSONValue] { try store.list(Workloads.jobs).items.map { try $0.value() } }
        func jobNames() throws -> [String] { try jobs().compactMap { $0.metadataString("name") }.sorted() }
        func cronJob() throws -> JSONValue { try store.get(ObjectKey(Workloads.cronJobs, namespace: "default", name: "tick")).value() }

        /// The CronJob, created now (the store stamps the real time): the clock starts there.
        /// Returns the first five-minute mark after it.
        @discardableResult
        func create(_ spec: String) throws -> Int64 {
            let object = try JSONParser.parse(Array(#"{"kind":"CronJob","apiVersion":"batch/v1","metadata":{"name":"tick","namespace":"default"},"spec":\#(spec)}"#.utf8))
            let created = try store.create(Workloads.cronJobs, object).value()
            let now = try #require(created.metadataString("creationTimestamp").flatMap(Tables.parseTimestamp))
            clock.now.withLock { $0 = now }
            return (now / 300 + 1) * 300
        }

        func finish(_ name: String, _ condition: String) throws {
            let stamp = SystemFields.timestamp(time_t(clock.value))
            let status = try JSONParser.parse(Array(#"""
                {"startTime":"\#(stamp)","completionTime":"\#(stamp)","conditions":[{"type":"\#(condition)","status":"True"}]}
                """#.utf8))
            try store.guaranteedUpdate(ObjectKey(Workloads.jobs, namespace: "default", name: name)) { old throws(EngineError) in
                old.setting("status", to: status)
            }
        }
    }

    static func spec(_ extra: String = "") -> String {
        #"{"schedule":"*/5 * * * *",\#(extra)"jobTemplate":{"spec":{"template":{"spec":{"restartPolicy":"Never","containers":[{"name":"c","image":"busybox"}]}}}}}"#
    }

    @Test func aJobEachScheduledMinuteNamedForIt() throws {
        let cluster = try Cluster()
        let slot = try cluster.create(Self.spec())
        try cluster.cronJobs.sync()
        #expect(try cluster.jobs().isEmpty)
        #expect(cluster.cronJobs.timer?.take() == slot)
        cluster.clock.now.withLock { $0 = slot - 2 }
        try cluster.cronJobs.sync()
        #expect(try cluster.jobs().isEmpty, "a Job before its time")
        cluster.clock.now.withLock { $0 = slot }
        try cluster.cronJobs.sync()
        let name = "tick-\(slot / 60)"
        #expect(try cluster.jobNames() == [name])
        let job = try #require(cluster.jobs().first)
        #expect(job[member: "metadata"]?[member: "annotations"]?[member: CronJobController.scheduledAnnotation] == .string(SystemFields.timestamp(time_t(slot))))
        #expect(job[member: "metadata"]?[member: "ownerReferences"]?.arrayItems?.first?[member: "kind"] == .string("CronJob"))
        let status = try cluster.cronJob()[member: "status"]
        #expect(status?[member: "active"]?.arrayItems?.first?[member: "name"] == .string(name))
        #expect(status?[member: "lastScheduleTime"] == .string(SystemFields.timestamp(time_t(slot))))
        // Another pass in the same minute makes nothing new.
        try cluster.cronJobs.sync()
        #expect(try cluster.jobs().count == 1)

        try cluster.finish(name, "Complete")
        try cluster.cronJobs.sync()
        let after = try cluster.cronJob()[member: "status"]
        #expect(after?[member: "active"] == nil)
        #expect(after?[member: "lastSuccessfulTime"] != nil)
    }

    @Test func forbidWaitsForTheRunningJobAndReplaceDeletesIt() throws {
        let cluster = try Cluster()
        let slot = try cluster.create(Self.spec(#""concurrencyPolicy":"Forbid","#))
        cluster.clock.now.withLock { $0 = slot }
        try cluster.cronJobs.sync()
        #expect(try cluster.jobs().count == 1)
        cluster.clock.advance(300)
        try cluster.cronJobs.sync()
        #expect(try cluster.jobs().count == 1, "Forbid started a second Job")
        // Once the first ends, the missed time starts at once.
        try cluster.finish(try #require(cluster.jobNames().first), "Complete")
        try cluster.cronJobs.sync()
        #expect(try cluster.jobNames() == ["tick-\(slot / 60)", "tick-\((slot + 300) / 60)"])

        try cluster.store.guaranteedUpdate(ObjectKey(Workloads.cronJobs, namespace: "default", name: "tick")) { old throws(EngineError) in
            old.setting("spec", to: (old[member: "spec"] ?? .ordered([])).setting("concurrencyPolicy", to: .string("Replace")))
        }
        cluster.clock.advance(300)
        try cluster.cronJobs.sync()
        // The running one went; the finished one and the new one are left.
        #expect(try cluster.jobNames() == ["tick-\(slot / 60)", "tick-\((slot + 600) / 60)"])
    }

    @Test func suspendStopsSchedulingAndHistoryLimitsDeleteTheOldest() throws {
        let cluster = try Cluster()
        let slot = try cluster.create(Self.spec(#""successfulJobsHistoryLimit":2,"failedJobsHistoryLimit":1,"#))
        var names: [String] = []
        for round in 0..<4 {
            let time = slot + Int64(round) * 300
            cluster.clock.now.withLock { $0 = time }
            try cluster.cronJobs.sync()
            let name = "tick-\(time / 60)"
            names.append(name)
            try cluster.finish(name, round == 0 ? "Failed" : "Complete")
            try cluster.cronJobs.sync()
        }
        // 1 failed (kept: limit 1), 3 complete: the oldest complete one went.
        #expect(try cluster.jobNames() == [names[0], names[2], names[3]])

        try cluster.store.guaranteedUpdate(ObjectKey(Workloads.cronJobs, namespace: "default", name: "tick")) { old throws(EngineError) in
            old.setting("spec", to: (old[member: "spec"] ?? .ordered([])).setting("suspend", to: .bool(true)))
        }
        cluster.clock.advance(900)
        try cluster.cronJobs.sync()
        #expect(try cluster.jobs().count == 3, "a suspended CronJob started a Job")
    }

    @Test func startingDeadlineSkipsTimesTooLongAgo() throws {
        let cluster = try Cluster()
        let slot = try cluster.create(Self.spec(#""startingDeadlineSeconds":30,"#))
        // The controller was away until 40 s after the slot: too late for it.
        cluster.clock.now.withLock { $0 = slot + 40 }
        try cluster.cronJobs.sync()
        #expect(try cluster.jobs().isEmpty)
        cluster.clock.now.withLock { $0 = slot + 300 }
        try cluster.cronJobs.sync()
        #expect(try cluster.jobNames() == ["tick-\((slot + 300) / 60)"])
    }
}
