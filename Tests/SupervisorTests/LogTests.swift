import Foundation
import Testing
import TestSupport
@testable import Supervisor

/// A fresh directory for one test's log files, removed at the end.
private final class Scratch {
    let dir: String
    init() {
        dir = NSTemporaryDirectory() + "berth-logtests-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        try? FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    }
    deinit { try? FileManager.default.removeItem(atPath: dir) }
    var log: String { dir + "/c-json.log" }
}

private func bytes(_ s: String) -> [UInt8] { Array(s.utf8) }
private func fileBytes(_ path: String) -> [UInt8] { (try? [UInt8](Data(contentsOf: URL(fileURLWithPath: path)))) ?? [] }
private func lines(_ path: String) -> [String] {
    String(decoding: fileBytes(path), as: UTF8.self).split(separator: "\n").map(String.init)
}
private func readAll(_ path: String, _ options: LogReadOptions = LogReadOptions()) throws -> [LogEntry] {
    var out: [LogEntry] = []
    try LogReader.read(path: path, options: options) { out.append($0) }
    return out
}
private let t0 = LogTimestamp(seconds: 1_700_000_000, nanoseconds: 123_456_789)
private let python = ["/usr/bin/python3", "/usr/local/bin/python3"].first { FileManager.default.isExecutableFile(atPath: $0) }

/// A flag shared by a writer thread and the reading test.
private final class Flag: @unchecked Sendable {
    private let lock = NSLock()
    private var value: Bool
    init(_ value: Bool) { self.value = value }
    var get: Bool { lock.withLock { value } }
    func set(_ v: Bool) { lock.withLock { value = v } }
}

@Suite struct LogTests {
    // MARK: Time

    @Test func jsonAndFixedTimeText() throws {
        #expect(LogTimestamp(seconds: 0).jsonText == "1970-01-01T00:00:00Z")
        #expect(LogTimestamp(seconds: 1_700_000_000).jsonText == "2023-11-14T22:13:20Z")
        #expect(LogTimestamp(seconds: 1_700_000_000, nanoseconds: 120_000_000).jsonText == "2023-11-14T22:13:20.12Z")
        #expect(LogTimestamp(seconds: 1_700_000_000, nanoseconds: 120_000_000).fixedText == "2023-11-14T22:13:20.120000000Z")
        #expect(LogTimestamp(seconds: 1_700_000_000, nanoseconds: 1).jsonText == "2023-11-14T22:13:20.000000001Z")
        #expect(LogTimestamp(seconds: 1_709_164_800).jsonText == "2024-02-29T00:00:00Z")
        #expect(LogTimestamp(seconds: 1_700_000_000).fixedText == "2023-11-14T22:13:20.000000000Z")
        // Docker's own text from a dockerd 20.10 log: the trailing zero of .925424250 is dropped.
        let docker = try #require(LogTimestamp(jsonText: "2026-11-23T17:14:19.92542425Z"))
        #expect(docker.nanoseconds == 925_424_250 && docker.fixedText == "2026-11-23T17:14:19.925424250Z")
        #expect(LogTimestamp(jsonText: "2023-11-14T23:13:20.5+01:00") == LogTimestamp(seconds: 1_700_000_000, nanoseconds: 500_000_000))
        #expect(LogTimestamp(jsonText: "2023-11-14T22:13:20") == nil)
        #expect(LogTimestamp(jsonText: "2023-02-29T22:13:20Z") == nil)
    }

    /// The calendar arithmetic agrees with date(1) across centuries, leap days and the epoch's far side.
    @Test func timeTextMatchesDate() throws {
        var samples: [Int64] = [0, 951_782_400, 4_107_542_400, -1, 253_402_300_799, 1_709_251_199]
        for _ in 0..<20 { samples.append(Int64.random(in: -2_000_000_000...10_000_000_000)) }
        for s in samples {
            let out = try sh(["/bin/date", "-u", "-d", "@\(s)", "+%Y-%m-%dT%H:%M:%SZ"])
            let ours = LogTimestamp(seconds: s).jsonText
            #expect(ours == out.stdout.trimmingCharacters(in: .whitespacesAndNewlines), "seconds \(s)")
            #expect(LogTimestamp(jsonText: ours)?.seconds == s)
        }
    }

    static let now = LogTimestamp(seconds: 1_700_000_000, nanoseconds: 500_000_000)  // 2023-11-14T22:13:20.5Z

    @Test(arguments: [
        ("10m", 1_699_999_400, 0), ("1h30m", 1_699_994_600, 0), ("1.5h", 1_699_994_600, 0),
        ("300ms", 1_700_000_000, 0), ("1s", 1_699_999_999, 0), (".5h", 1_699_998_200, 0), ("-10s", 1_700_000_010, 0),
        ("2023-11-14T22:13:20Z", 1_700_000_000, 0), ("2023-11-14T22:13:20.123456789Z", 1_700_000_000, 123_456_789),
        ("2023-11-14T22:13:20.5Z", 1_700_000_000, 500_000_000), ("2023-11-14T23:13:20+01:00", 1_700_000_000, 0),
        ("2023-11-14T17:13:20-05:00", 1_700_000_000, 0), ("2023-11-14T22:13Z", 1_699_999_980, 0),
        ("2023-11-14T22Z", 1_699_999_200, 0), ("2023-11-14Z", 1_699_920_000, 0), ("2023-11-15+01:00", 1_700_002_800, 0),
        ("1700000000.5", 1_700_000_000, 500_000_000), ("1700000000", 1_700_000_000, 0),
        ("1700000000.000000001", 1_700_000_000, 1), ("0", 0, 0),
    ] as [(String, Int64, Int32)])
    func parseUserInput(_ input: String, _ seconds: Int64, _ nanos: Int32) throws {
        #expect(try LogTimestamp.parse(userInput: input, now: Self.now) == LogTimestamp(seconds: seconds, nanoseconds: nanos))
    }

    /// Forms without a zone are local time, compared with what date(1) makes of them here.
    @Test(arguments: [
        ("2023-11-14T22:13:20", "2023-11-14 22:13:20"), ("2023-11-14T22:13", "2023-11-14 22:13"),
        ("2023-11-14T22", "2023-11-14 22:00"), ("2023-11-14", "2023-11-14 00:00"),
        ("2023-11-14T22:13:20.25", "2023-11-14 22:13:20.25"),
    ])
    func parseLocalTime(_ input: String, _ dateInput: String) throws {
        let out = try sh(["/bin/date", "-d", dateInput, "+%s %N"])
        let parts = out.stdout.split(separator: " ").map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }
        let expected = LogTimestamp(seconds: Int64(parts[0]) ?? -1, nanoseconds: Int32(parts[1]) ?? -1)
        #expect(try LogTimestamp.parse(userInput: input, now: Self.now) == expected)
    }

    @Test(arguments: ["yesterday", "", "10x", "2023-13-01", "2023-02-30", "2023-11-14T25:00", "2023-11-14T22:13:20+0100",
                      "1h30", "2023-11-14 22:13", "1.2.3", "2023-11-14T22:13:20.Z"])
    func parseUserInputRejects(_ input: String) {
        #expect {
            _ = try LogTimestamp.parse(userInput: input, now: Self.now)
        } throws: { error in
            let text = "\(error)"
            return text.contains("\"\(input)\"") && text.contains("RFC3339") && text.contains("10m")
        }
    }

    // MARK: Escaping

    /// The line dockerd 20.10.24 wrote for `printf "a\tb\bc\fd\001\037\177<>&\u2028\u2029\377\303x\\\"é\n"`.
    static let dockerLine = #"{"log":"a\u0009b\u0008c\u000cd\u0001\u001f\u003c\u003e\u0026\u2028\u2029\ufffd\ufffdx\\\"é\n","stream":"stdout","time":"2026-11-23T17:14:19.899357359Z"}"#

    @Test func escapingIsByteForByteDockers() throws {
        let scratch = Scratch()
        let writer = try JSONFileLogWriter(path: scratch.log)
        var input = bytes("a\tb\u{8}c\u{c}d\u{1}\u{1f}\u{7f}<>&\u{2028}\u{2029}")
        input += [0xFF, 0xC3] + bytes("x\\\"é\n")
        try writer.write(.stdout, input, at: try #require(LogTimestamp(jsonText: "2026-11-23T17:14:19.899357359Z")))
        writer.close()
        // DEL is written raw, so the literal above holds it as \u{7f} after \u001f.
        let expected = Self.dockerLine.replacingOccurrences(of: #"\u001f\u003c"#, with: "\\u001f\u{7f}\\u003c") + "\n"
        #expect(String(decoding: fileBytes(scratch.log), as: UTF8.self) == expected)
    }

    static let escapeCases: [(input: [UInt8], json: String, decoded: String)] = [
        (bytes("<>&"), #"\u003c\u003e\u0026"#, "<>&"),
        (bytes("\u{2028}x\u{2029}"), #"\u2028x\u2029"#, "\u{2028}x\u{2029}"),
        (bytes("tab\there"), #"tab\u0009here"#, "tab\there"),
        (bytes("\u{0}\u{1}\u{8}\u{b}\u{c}\u{1b}[0m"), #"\u0000\u0001\u0008\u000b\u000c\u001b[0m"#, "\u{0}\u{1}\u{8}\u{b}\u{c}\u{1b}[0m"),
        (bytes("cr\r"), #"cr\r"#, "cr\r"),
        (bytes(#"q"b\s/"#), #"q\"b\\s/"#, #"q"b\s/"#),
        (bytes("del\u{7f}"), "del\u{7f}", "del\u{7f}"),
        (bytes("é中😀"), "é中😀", "é中😀"),
        (bytes("\u{FFFD}"), "\u{FFFD}", "\u{FFFD}"),
        ([0xFF], #"\ufffd"#, "\u{FFFD}"),
        ([0xC3, 0x28], #"\ufffd("#, "\u{FFFD}("),
        ([0xE2, 0x80], #"\ufffd\ufffd"#, "\u{FFFD}\u{FFFD}"),
        ([0xE2, 0x82, 0x41], #"\ufffd\ufffdA"#, "\u{FFFD}\u{FFFD}A"),
        ([0xED, 0xA0, 0x80], #"\ufffd\ufffd\ufffd"#, "\u{FFFD}\u{FFFD}\u{FFFD}"),
        ([0xC0, 0xAF], #"\ufffd\ufffd"#, "\u{FFFD}\u{FFFD}"),
        ([0xF4, 0x90, 0x80, 0x80], #"\ufffd\ufffd\ufffd\ufffd"#, "\u{FFFD}\u{FFFD}\u{FFFD}\u{FFFD}"),
        ([0xF0, 0x9F, 0x98], #"\ufffd\ufffd\ufffd"#, "\u{FFFD}\u{FFFD}\u{FFFD}"),
    ]

    @Test func escapesAsDockerAndDecodesInPython() throws {
        let scratch = Scratch()
        let writer = try JSONFileLogWriter(path: scratch.log)
        for c in Self.escapeCases { try writer.write(.stderr, c.input + [0x0A], at: t0) }
        writer.close()
        let written = lines(scratch.log)
        try #require(written.count == Self.escapeCases.count)
        for (c, line) in zip(Self.escapeCases, written) {
            #expect(line == #"{"log":""# + c.json + #"\n","stream":"stderr","time":"2023-11-14T22:13:20.123456789Z"}"#)
        }
        // Our reader gives back the text, invalid bytes as U+FFFD.
        let entries = try readAll(scratch.log)
        #expect(entries.map { String(decoding: $0.bytes, as: UTF8.self) } == Self.escapeCases.map { $0.decoded + "\n" })
        #expect(entries.allSatisfy { $0.stream == .stderr && $0.time == t0 })

        // And Python's json module reads the same text out of every line.
        let python = try #require(python)
        let script = """
            import json, sys
            for line in open(sys.argv[1], 'rb'):
                d = json.loads(line)
                assert list(d) == ['log', 'stream', 'time'], list(d)
                sys.stdout.write(d['log'].encode('utf-8').hex() + '\\n')
            """
        let out = try sh([python, "-c", script, scratch.log])
        #expect(out.status == 0, "\(out.stderr)")
        let hex = out.stdout.split(separator: "\n").map(String.init)
        #expect(hex == Self.escapeCases.map { Array(($0.decoded + "\n").utf8).map { String(format: "%02x", $0) }.joined() })
    }

    @Test func decodesWhatGoWrites() throws {
        // encoding/json forms Docker's writer does not use but another writer may: \t, \/, \u surrogates.
        let line = #"{"log":"\t\/\ud83d\ude00\ud800x\u00e9","attrs":{"a":[1,{"b":null}]},"stream":"stdout","time":"2023-11-14T22:13:20Z"}"#
        let entry = try #require(LogReader.decode(bytes(line)[...]))
        #expect(String(decoding: entry.bytes, as: UTF8.self) == "\t/😀\u{FFFD}xé")
        #expect(entry.stream == .stdout && entry.time == LogTimestamp(seconds: 1_700_000_000))
        #expect(LogReader.decode(bytes(#"{"log":"x","stream":"stdout"}"#)[...]) == nil)
        #expect(LogReader.decode(bytes(#"{"log":"x","stream":"stdin","time":"2023-11-14T22:13:20Z"}"#)[...]) == nil)
        #expect(LogReader.decode(bytes(#"{"log":"x","stream":"stdout","time":"2023-11-14T22:13:20Z"} x"#)[...]) == nil)
    }

    // MARK: Lines

    @Test func linesPartialLinesAndStreams() throws {
        let scratch = Scratch()
        let writer = try JSONFileLogWriter(path: scratch.log)
        let t1 = t0.adding(nanoseconds: 1_000), t2 = t0.adding(nanoseconds: 2_000), t3 = t0.adding(nanoseconds: 3_000)
        try writer.write(.stdout, bytes("one\ntw"), at: t0)
        try writer.write(.stderr, bytes("err"), at: t0)
        try writer.write(.stdout, bytes("o\nthr"), at: t1)
        try writer.write(.stderr, bytes("or\n\n"), at: t2)
        try writer.flush(.stdout, at: t3)
        try writer.flush(.stderr, at: t3)
        writer.close()
        let entries = try readAll(scratch.log)
        #expect(entries == [
            LogEntry(stream: .stdout, time: t0, bytes: bytes("one\n")),
            LogEntry(stream: .stdout, time: t1, bytes: bytes("two\n")),
            LogEntry(stream: .stderr, time: t2, bytes: bytes("error\n")),
            LogEntry(stream: .stderr, time: t2, bytes: bytes("\n")),
            LogEntry(stream: .stdout, time: t3, bytes: bytes("thr")),
        ])
    }

    /// Docker splits a line at 16 KiB; the pieces keep the first piece's time, the last has the newline.
    @Test func longLinesSplitAt16KiB() throws {
        let scratch = Scratch()
        let writer = try JSONFileLogWriter(path: scratch.log)
        var long = [UInt8](repeating: UInt8(ascii: "a"), count: 40_000) + [0x0A]
        long += [UInt8](repeating: UInt8(ascii: "b"), count: 16_384) + [0x0A] + bytes("end\n")
        long += [UInt8](repeating: UInt8(ascii: "c"), count: 20_000)
        // Fed in uneven chunks with a new time for each, as reads from a pipe arrive.
        var offset = 0, tick: Int64 = 0
        while offset < long.count {
            let n = min(long.count - offset, [1, 700, 4096, 9000, 2048][Int(tick % 5)])
            try writer.write(.stdout, Array(long[offset..<offset + n]), at: t0.adding(nanoseconds: tick * 1000))
            offset += n
            tick += 1
        }
        try writer.flush(.stdout, at: t0.adding(nanoseconds: 999_999))
        writer.close()
        let entries = try readAll(scratch.log)
        #expect(entries.map(\.bytes.count) == [16_384, 16_384, 7_233, 16_384, 1, 4, 16_384, 3_616])
        // The pieces carry the time of the first piece (when 16 KiB had come), not of the first byte.
        #expect(entries[0].time > t0 && entries[1].time == entries[0].time && entries[2].time == entries[0].time)
        #expect(entries[3].time == entries[4].time && entries[3].bytes.last == UInt8(ascii: "b") && entries[4].bytes == [0x0A])
        #expect(entries[3].time > entries[2].time)
        #expect(entries[6].time == entries[7].time && entries[7].bytes.last == UInt8(ascii: "c"))
        #expect(entries.map { String(decoding: $0.bytes, as: UTF8.self) }.joined() == String(decoding: long, as: UTF8.self))
    }

    // MARK: Rotation

    private func writeLines(_ writer: JSONFileLogWriter, _ range: Range<Int>, stream: LogStream = .stdout) throws {
        for i in range { try writer.write(stream, bytes("line \(i)\n"), at: t0.adding(nanoseconds: Int64(i) * 1_000_000_000)) }
    }

    @Test func rotationSizesFilesAndOrder() throws {
        let scratch = Scratch()
        let writer = try JSONFileLogWriter(path: scratch.log, maxSize: 1000, maxFiles: 3)
        try writeLines(writer, 0..<100)
        writer.close()
        let fm = FileManager.default
        #expect(fm.fileExists(atPath: scratch.log) && fm.fileExists(atPath: scratch.log + ".1") && fm.fileExists(atPath: scratch.log + ".2"))
        #expect(!fm.fileExists(atPath: scratch.log + ".3"))
        let entrySize = bytes(#"{"log":"line 10\n","stream":"stdout","time":"2023-11-14T22:13:20.123456789Z"}"#).count + 1
        for name in [".1", ".2"] {
            let size = fileBytes(scratch.log + name).count
            // Docker rotates once a file has reached max-size: it ends with the entry that crossed it.
            #expect(size >= 1000 && size < 1000 + entrySize, "\(name): \(size)")
        }
        let entries = try readAll(scratch.log)
        let numbers = entries.map { Int(String(decoding: $0.bytes.dropFirst(5).dropLast(), as: UTF8.self)) ?? -1 }
        #expect(numbers.last == 99)
        #expect(numbers == Array((numbers.first ?? 0)...99))
        #expect(numbers.count == lines(scratch.log).count + lines(scratch.log + ".1").count + lines(scratch.log + ".2").count)

        // Reopened (a restarted container), the writer counts what the file already holds.
        // Written up to the next rotation, the old path.1 becomes path.2.
        let again = try JSONFileLogWriter(path: scratch.log, maxSize: 1000, maxFiles: 3)
        let before = fileBytes(scratch.log + ".1")
        var next = 100
        while fileBytes(scratch.log).count < 1000 {
            try writeLines(again, next..<next + 1)
            next += 1
        }
        #expect(next > 100 && fileBytes(scratch.log + ".1") == before)
        try writeLines(again, next..<next + 1)
        again.close()
        #expect(fileBytes(scratch.log + ".2") == before)
        #expect(lines(scratch.log).count == 1)
        #expect(try readAll(scratch.log).last.map { String(decoding: $0.bytes, as: UTF8.self) } == "line \(next)\n")
    }

    @Test func rotationWithOneFileAndFewerFiles() throws {
        let scratch = Scratch()
        let one = try JSONFileLogWriter(path: scratch.log, maxSize: 200, maxFiles: 1)
        try writeLines(one, 0..<10)
        one.close()
        #expect(!FileManager.default.fileExists(atPath: scratch.log + ".1"))
        #expect(fileBytes(scratch.log).count < 200 + 90)
        #expect(try readAll(scratch.log).last?.bytes == bytes("line 9\n"))

        // A log that had 5 files, continued with max-file 2: older rotated files do not linger.
        let five = try JSONFileLogWriter(path: scratch.log, maxSize: 200, maxFiles: 5)
        try writeLines(five, 10..<40)
        five.close()
        #expect(FileManager.default.fileExists(atPath: scratch.log + ".4"))
        let two = try JSONFileLogWriter(path: scratch.log, maxSize: 200, maxFiles: 2)
        try writeLines(two, 40..<60)
        two.close()
        #expect(!FileManager.default.fileExists(atPath: scratch.log + ".2") && !FileManager.default.fileExists(atPath: scratch.log + ".4"))
        let numbers = try readAll(scratch.log).map { String(decoding: $0.bytes, as: UTF8.self) }
        #expect(numbers.last == "line 59\n" && numbers.count < 20)
    }

    @Test(arguments: [
        ([String: String](), LogOptions(maxSize: 20_000_000, maxFiles: 5)),
        (["max-size": "10m"], LogOptions(maxSize: 10_000_000, maxFiles: 5)),
        (["max-size": "10m", "max-file": "3"], LogOptions(maxSize: 10_000_000, maxFiles: 3)),
        (["max-file": "2"], LogOptions(maxSize: 20_000_000, maxFiles: 2)),
        (["max-size": "1.5k"], LogOptions(maxSize: 1500, maxFiles: 5)),
        (["max-size": "2g"], LogOptions(maxSize: 2_000_000_000, maxFiles: 5)),
        (["max-size": "10MiB"], LogOptions(maxSize: 10_000_000, maxFiles: 5)),
        (["max-size": "64KB", "compress": "false"], LogOptions(maxSize: 64_000, maxFiles: 5)),
        (["max-size": "100"], LogOptions(maxSize: 100, maxFiles: 5)),
        (["max-size": "100b"], LogOptions(maxSize: 100, maxFiles: 5)),
        (["max-size": "10 m"], LogOptions(maxSize: 10_000_000, maxFiles: 5)),
    ])
    func logOptions(_ input: [String: String], _ expected: LogOptions) throws {
        #expect(try LogOptions.parse(input) == expected)
    }

    @Test(arguments: [
        (["max-size": "10q"], "invalid size '10q'"), (["max-size": "-1"], "invalid size"),
        (["max-size": "0"], "max-size must be a positive number"), (["max-size": "m"], "invalid size"),
        (["max-size": "10mbb"], "invalid size"), (["max-file": "0"], "max-file cannot be less than 1"),
        (["max-file": "x"], "max-file=x"), (["foo": "bar"], "unknown log opt 'foo' for json-file log driver"),
        (["compress": "true"], "compress"), (["tag": "x"], "tag"),
    ])
    func logOptionErrors(_ input: [String: String], _ message: String) {
        #expect { _ = try LogOptions.parse(input) } throws: { "\($0)".contains(message) }
    }

    // MARK: Reading

    /// 100 lines over three files of ~1000 bytes, times t0 + i seconds.
    private func rotatedLog(_ scratch: Scratch) throws {
        let writer = try JSONFileLogWriter(path: scratch.log, maxSize: 1000, maxFiles: 100)
        try writeLines(writer, 0..<100)
        writer.close()
        #expect(FileManager.default.fileExists(atPath: scratch.log + ".6"))
    }

    private func texts(_ entries: [LogEntry]) -> [String] { entries.map { String(decoding: $0.bytes, as: UTF8.self) } }

    @Test func tailAcrossFiles() throws {
        let scratch = Scratch()
        try rotatedLog(scratch)
        let all = texts(try readAll(scratch.log))
        #expect(all == (0..<100).map { "line \($0)\n" })
        #expect(texts(try readAll(scratch.log, LogReadOptions(tail: 5))) == Array(all.suffix(5)))
        // More than the current file holds: the rest comes from the rotated files before it.
        let current = lines(scratch.log).count
        for n in [current, current + 1, 30, 99, 100, 1000] {
            #expect(texts(try readAll(scratch.log, LogReadOptions(tail: n))) == Array(all.suffix(n)), "tail \(n)")
        }
        #expect(try readAll(scratch.log, LogReadOptions(tail: 0)).isEmpty)
        #expect(try readAll(scratch.dir + "/missing.log").isEmpty)
    }

    @Test func sinceAndUntilAreInclusive() throws {
        let scratch = Scratch()
        try rotatedLog(scratch)
        let at = { (i: Int64) in t0.adding(nanoseconds: i * 1_000_000_000) }
        #expect(texts(try readAll(scratch.log, LogReadOptions(since: at(97)))) == ["line 97\n", "line 98\n", "line 99\n"])
        #expect(texts(try readAll(scratch.log, LogReadOptions(until: at(2)))) == ["line 0\n", "line 1\n", "line 2\n"])
        #expect(texts(try readAll(scratch.log, LogReadOptions(since: at(40), until: at(41)))) == ["line 40\n", "line 41\n"])
        #expect(texts(try readAll(scratch.log, LogReadOptions(since: at(40).adding(nanoseconds: 1), until: at(41)))) == ["line 41\n"])
        // As Docker: tail picks the last entries first, since filters those.
        #expect(texts(try readAll(scratch.log, LogReadOptions(since: at(97), tail: 2))) == ["line 98\n", "line 99\n"])
        #expect(texts(try readAll(scratch.log, LogReadOptions(since: at(10), tail: 5))).count == 5)
    }

    @Test func malformedLinesAreSkipped() throws {
        let scratch = Scratch()
        let good = #"{"log":"ok\n","stream":"stdout","time":"2023-11-14T22:13:20Z"}"#
        let text = [good, "not json", #"{"log":"x","#, "", #"{"log":1,"stream":"stdout","time":"2023-11-14T22:13:20Z"}"#, good].joined(separator: "\n") + "\n"
        try Data(text.utf8).write(to: URL(fileURLWithPath: scratch.log))
        #expect(texts(try readAll(scratch.log)) == ["ok\n", "ok\n"])
        #expect(texts(try readAll(scratch.log, LogReadOptions(tail: 1))) == ["ok\n"])
    }

    @Test func formatAsDockerLogsPrints() {
        let entry = LogEntry(stream: .stdout, time: LogTimestamp(seconds: 1_700_000_000, nanoseconds: 500_000_000), bytes: bytes("hi\n"))
        #expect(LogReader.format(entry, timestamps: false) == bytes("hi\n"))
        #expect(LogReader.format(entry, timestamps: true) == bytes("2023-11-14T22:13:20.500000000Z hi\n"))
    }

    /// A writer thread logs 3000 lines with rotation every ~1000 bytes (about 200 rotations) while the reader follows from
    /// before the file exists; every line arrives once and in order, and the reader stops once the
    /// writer is done.
    @Test func followAcrossRotation() throws {
        let scratch = Scratch()
        let path = scratch.log
        let running = Flag(true)
        let writerError = Flag(false)
        let count = 3000
        let thread = Thread {
            do {
                usleep(50_000)
                // Enough files that none is dropped before the reader gets to it, however late it is scheduled.
                let writer = try JSONFileLogWriter(path: path, maxSize: 1000, maxFiles: 1000)
                for i in 0..<count {
                    try writer.write(i % 3 == 0 ? .stderr : .stdout, Array("line \(i)\n".utf8), at: .now())
                    if i % 10 == 0 { usleep(2_000) }
                }
                writer.close()
            } catch {
                writerError.set(true)
            }
            running.set(false)
        }
        thread.start()
        var seen: [Int] = []
        try LogReader.read(path: path, options: LogReadOptions(follow: true, pollMilliseconds: 5), isRunning: { running.get }) { entry in
            seen.append(Int(String(decoding: entry.bytes.dropFirst(5).dropLast(), as: UTF8.self)) ?? -1)
        }
        #expect(!running.get && !writerError.get)
        #expect(seen.count == count)
        #expect(seen == Array(0..<count), "missing \(Set(0..<count).subtracting(seen).sorted().prefix(20))")
        #expect(FileManager.default.fileExists(atPath: path + ".150"))
    }

    /// Follow with tail 0 starts at the end, and a file rotated away twice between polls is still read.
    @Test func followSkipsNothingWhenRotationsComeFast() throws {
        let scratch = Scratch()
        let path = scratch.log
        let writer0 = try JSONFileLogWriter(path: path, maxSize: 300, maxFiles: 50)
        try writeLines(writer0, 0..<3)
        writer0.close()
        let running = Flag(true)
        let thread = Thread {
            usleep(100_000)
            if let writer = try? JSONFileLogWriter(path: path, maxSize: 300, maxFiles: 50) {
                // ~15 rotations in one burst, well inside one 300 ms poll.
                for i in 3..<60 { try? writer.write(.stdout, Array("line \(i)\n".utf8), at: .now()) }
                writer.close()
            }
            usleep(50_000)
            running.set(false)
        }
        thread.start()
        var seen: [String] = []
        try LogReader.read(path: path, options: LogReadOptions(tail: 0, follow: true, pollMilliseconds: 300), isRunning: { running.get }) {
            seen.append(String(decoding: $0.bytes, as: UTF8.self))
        }
        #expect(seen == (3..<60).map { "line \($0)\n" })
    }

    // MARK: Against Docker

    /// Tests/Scripts/engines/lib.sh of this checkout: its dockerd helpers and busybox rootfs.
    static let engineLib = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("Tests/Scripts/engines/lib.sh").path
    static let dockerReady: Bool = getuid() == 0 && FileManager.default.isExecutableFile(atPath: "/usr/sbin/dockerd")
        && FileManager.default.isExecutableFile(atPath: "/usr/bin/docker") && FileManager.default.fileExists(atPath: engineLib)

    /// A private dockerd (Debian's docker.io) logs three containers; our writer, fed the same bytes at
    /// Docker's times, writes the same files byte for byte, and our reader prints what `docker logs`
    /// prints for -t and --tail.
    @Test(.enabled(if: dockerReady, "needs root and Debian's docker.io"), .timeLimit(.minutes(5)))
    func sameAsDockerd() throws {
        let scratch = Scratch()
        let dir = scratch.dir
        // What the containers print: escapes, invalid UTF-8, a 40000-byte line, one of exactly
        // 16 KiB, and a last line without newline.
        var input = bytes("a\tb\u{8}c\u{c}d\u{1}\u{1f}\u{7f}<>&\u{2028}\u{2029}") + [0xFF, 0xC3] + bytes("x\\\"é\n\r\n")
        input += [UInt8](repeating: UInt8(ascii: "a"), count: 40_000) + [0x0A]
        input += [UInt8](repeating: UInt8(ascii: "b"), count: 16_384) + bytes("\nend\ntail-no-newline")
        try Data(input).write(to: URL(fileURLWithPath: dir + "/input"))
        let script = #"""
            set -uo pipefail
            source "$2"
            D=$1; SOCK=/run/berth-logtests-docker.sock; ER=/run/berth-logtests-docker; PF=/run/berth-logtests-docker.pid
            dk() { timeout 60 /usr/bin/docker -H unix://$SOCK "$@"; }
            cleanup() {
              if [ -f $PF ]; then p=$(cat $PF); kill $p 2>/dev/null; for _ in $(seq 80); do kill -0 $p 2>/dev/null || break; sleep 0.25; done; fi
              unmount_under "$D"; unmount_under $ER; rm -rf $ER $SOCK
              rmdir /sys/fs/cgroup/*/berth-logtests-docker/* /sys/fs/cgroup/*/berth-logtests-docker 2>/dev/null || true
            }
            trap cleanup EXIT
            echo '{}' > $D/daemon.json
            # --bridge none makes dockerd delete any docker0 it sees; in a network namespace of its
            # own it cannot take the bridge of another dockerd (Tests/Scripts/engines/docker.sh) running now.
            unshare --net dockerd --config-file $D/daemon.json --data-root $D/data --exec-root $ER --pidfile $PF -H unix://$SOCK \
              --bridge none --iptables=false --ip-masq=false --exec-opt native.cgroupdriver=cgroupfs \
              --cgroup-parent /berth-logtests-docker >$D/dockerd.log 2>&1 &
            wait_for 60 dk version >/dev/null || { tail $D/dockerd.log; exit 1; }
            make_busybox_tar $D/bb.tar && dk import --change 'CMD ["sh"]' $D/bb.tar berth-logtests/busybox >/dev/null || exit 1
            run() { local n=$1; shift; dk run --name $n --network none "$@" >/dev/null && cp "$(dk inspect -f '{{.LogPath}}' $n)"* $D/ && dk inspect -f '{{.LogPath}}' $n > $D/$n.path; }
            run esc -v $D/input:/input:ro berth-logtests/busybox sh -c 'cat /input; echo to-stderr >&2' || exit 1
            run rot --log-opt max-size=1k --log-opt max-file=100 berth-logtests/busybox sh -c 'i=0; while [ $i -lt 150 ]; do echo "line $i"; i=$((i+1)); done' || exit 1
            run few --log-opt max-size=1k --log-opt max-file=3 berth-logtests/busybox sh -c 'i=0; while [ $i -lt 150 ]; do echo "line $i"; echo "err $i" >&2; i=$((i+1)); done' || exit 1
            dk logs -t esc > $D/esc.t.out 2> $D/esc.t.err
            dk logs -t few > $D/few.t.out 2> $D/few.t.err
            dk logs -t --tail 7 few > $D/few.tail.out 2> $D/few.tail.err
            dk logs --tail 130 few > $D/few.tail130.out 2> $D/few.tail130.err
            echo done
            """#
        let out = try sh(["/bin/bash", "-c", script, "bash", dir, Self.engineLib])
        try #require(out.stdout.contains("done"), "\(out.stdout)\n\(out.stderr)")
        func dockerFile(_ name: String) throws -> String {
            dir + "/" + (try String(contentsOfFile: dir + "/\(name).path", encoding: .utf8)).trimmingCharacters(in: .whitespacesAndNewlines).split(separator: "/").last!
        }

        // 1. The escapes and the line splitting: the container's bytes, fed at Docker's times.
        let escLog = try dockerFile("esc")
        let allDockerEntries = try readAll(escLog)
        let dockerEntries = allDockerEntries.filter { $0.stream == .stdout }
        let ours = Scratch()
        let writer = try JSONFileLogWriter(path: ours.log)
        var cursor = 0
        var start = 0
        while start < input.count {  // line by line, each at the time Docker gave its first entry
            let end = (input[start...].firstIndex(of: 0x0A).map { $0 + 1 }) ?? input.count
            try #require(cursor < dockerEntries.count)
            let before = lines(ours.log).count
            try writer.write(.stdout, Array(input[start..<end]), at: dockerEntries[cursor].time)
            if end == input.count { try writer.flush(.stdout, at: dockerEntries[cursor].time) }
            cursor += lines(ours.log).count - before
            start = end
        }
        let stderrEntry = try #require(allDockerEntries.first { $0.stream == .stderr })
        try writer.write(.stderr, bytes("to-stderr\n"), at: stderrEntry.time)
        writer.close()
        let dockerLines = lines(escLog), ourLines = lines(ours.log)
        #expect(dockerLines.filter { $0.contains("\"stdout\"") } == ourLines.filter { $0.contains("\"stdout\"") })
        #expect(dockerLines.filter { $0.contains("\"stderr\"") } == ourLines.filter { $0.contains("\"stderr\"") })

        // 2. Rotation: the same entries through our writer make the same files.
        let rotLog = try dockerFile("rot")
        let rotEntries = try readAll(rotLog)
        #expect(rotEntries.count == 150)
        let replay = Scratch()
        let rotWriter = try JSONFileLogWriter(path: replay.log, maxSize: 1000, maxFiles: 100)
        for e in rotEntries { try rotWriter.write(e.stream, e.bytes, at: e.time) }
        rotWriter.close()
        var index = 0
        while true {
            let suffix = index == 0 ? "" : ".\(index)"
            let theirs = FileManager.default.fileExists(atPath: rotLog + suffix)
            #expect(theirs == FileManager.default.fileExists(atPath: replay.log + suffix), "file \(suffix)")
            if !theirs { break }
            #expect(fileBytes(rotLog + suffix) == fileBytes(replay.log + suffix), "file \(suffix)")
            index += 1
        }
        #expect(index > 3)

        // 3. What `docker logs` prints, from our reader over Docker's files.
        func printed(_ log: String, _ options: LogReadOptions, timestamps: Bool) throws -> (String, String) {
            var out: [UInt8] = [], err: [UInt8] = []
            try LogReader.read(path: log, options: options) { entry in
                if entry.stream == .stdout { out += LogReader.format(entry, timestamps: timestamps) } else { err += LogReader.format(entry, timestamps: timestamps) }
            }
            return (String(decoding: out, as: UTF8.self), String(decoding: err, as: UTF8.self))
        }
        func docker(_ name: String) throws -> String { try String(contentsOfFile: dir + "/" + name, encoding: .utf8) }
        let fewLog = try dockerFile("few")
        #expect(FileManager.default.fileExists(atPath: fewLog + ".2") && !FileManager.default.fileExists(atPath: fewLog + ".3"))
        for (options, timestamps, name) in [(LogReadOptions(), true, "few.t"), (LogReadOptions(tail: 7), true, "few.tail"), (LogReadOptions(tail: 130), false, "few.tail130")] {
            let (o, e) = try printed(fewLog, options, timestamps: timestamps)
            #expect(o == (try docker(name + ".out")), "\(name) stdout")
            #expect(e == (try docker(name + ".err")), "\(name) stderr")
        }
        let (o, e) = try printed(escLog, LogReadOptions(), timestamps: true)
        #expect(o == (try docker("esc.t.out")))
        #expect(e == (try docker("esc.t.err")))
    }
}
