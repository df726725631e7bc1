import Foundation
import HTTPServer
import Testing

/// A SPDY session driven frame by frame over an in-memory stream: streams are answered with
/// SYN_REPLY and handed on with their headers, data reaches them in order, FIN ends their input,
/// PINGs come back, and our writes go out as DATA frames.
struct SPDYConnectionTests {
    /// The client's side: what it sends is the server's input; what the server writes is collected.
    final class Pipe: ConnectionStream, @unchecked Sendable {
        private let lock = NSCondition()
        private var incoming: [[UInt8]] = []
        private var ended = false
        private var written: [UInt8] = []

        func send(_ bytes: [UInt8]) {
            lock.lock()
            incoming.append(bytes)
            lock.broadcast()
            lock.unlock()
        }

        func read() -> [UInt8]? {
            lock.lock()
            defer { lock.unlock() }
            while incoming.isEmpty && !ended { lock.wait() }
            return incoming.isEmpty ? nil : incoming.removeFirst()
        }

        var inputFailed: Bool { false }
        var clientGone: Bool { false }

        func write(_ bytes: [UInt8]) -> Bool {
            lock.lock()
            written += bytes
            lock.broadcast()
            lock.unlock()
            return true
        }

        func close() {
            lock.lock()
            ended = true
            lock.broadcast()
            lock.unlock()
        }

        /// The frames the server has written, waiting until `count` of them are there.
        func frames(_ count: Int) -> [SPDYFrame] {
            let deadline = Date().addingTimeInterval(5)
            lock.lock()
            defer { lock.unlock() }
            while true {
                var frames: [SPDYFrame] = []
                var rest = written[...]
                while let (frame, size) = (try? SPDYFrame.parse(rest)) ?? nil {
                    frames.append(frame)
                    rest = rest.dropFirst(size)
                }
                if frames.count >= count || !lock.wait(until: deadline) { return frames }
            }
        }
    }

    @Test func streamsDataPingAndReplies() throws {
        let pipe = Pipe()
        let connection = SPDYConnection(pipe)
        let client = SPDYHeaderCodec(), replies = SPDYHeaderCodec()
        // The client's frames may arrive cut anywhere: the first split inside its header.
        let syn = SPDYFrame.synStream(streamID: 1, associatedTo: 0, priority: 0, flags: 0,
                                      headerBlock: client.compress([("streamtype", ["stdin"]), ("port", ["80"])])).encoded
        pipe.send(Array(syn[..<5]))
        pipe.send(Array(syn[5...]) + SPDYFrame.data(streamID: 1, flags: 0, payload: Array("hello ".utf8)).encoded)
        pipe.send(SPDYFrame.data(streamID: 1, flags: SPDYFrame.flagFin, payload: Array("world".utf8)).encoded + SPDYFrame.ping(id: 7).encoded)
        let stream = try #require(connection.accept(timeoutSeconds: 5))
        #expect(stream.id == 1)
        #expect(stream.header("streamType") == "stdin")
        #expect(stream.header("port") == "80")
        var input: [UInt8] = []
        while let bytes = stream.read() { input += bytes }
        #expect(String(decoding: input, as: UTF8.self) == "hello world")
        // The reply and the PING's echo (the reader thread's) before our own writes.
        #expect(pipe.frames(2).count == 2)
        #expect(stream.write(Array("back".utf8)))
        stream.finish()
        let frames = pipe.frames(4)
        #expect(frames.count == 4)
        // SYN_REPLY first (the client waits for it), the PING echoed, then our data and FIN.
        guard frames.count == 4, case .synReply(1, 0, let block) = frames[0] else {
            Issue.record("\(frames)")
            return
        }
        #expect(try replies.decompress(block).isEmpty)
        #expect(frames[1] == .ping(id: 7))
        #expect(frames[2] == .data(streamID: 1, flags: 0, payload: Array("back".utf8)))
        #expect(frames[3] == .data(streamID: 1, flags: SPDYFrame.flagFin, payload: []))
        // GOAWAY and the end: no more streams.
        connection.close()
        #expect(connection.accept(timeoutSeconds: 1) == nil)
        #expect(pipe.frames(5).last == .goAway(lastGoodStreamID: 1, status: 0))
    }

    @Test func resetAndUnknownStreams() throws {
        let pipe = Pipe()
        let connection = SPDYConnection(pipe)
        let client = SPDYHeaderCodec()
        pipe.send(SPDYFrame.synStream(streamID: 3, associatedTo: 0, priority: 0, flags: 0, headerBlock: client.compress([("streamtype", ["data"])])).encoded)
        let stream = try #require(connection.accept(timeoutSeconds: 5))
        // The client resets it: its input ends.
        pipe.send(SPDYFrame.rstStream(streamID: 3, status: SPDYFrame.cancel).encoded)
        #expect(stream.read() == nil)
        // Data for a stream never opened: RST_STREAM (INVALID_STREAM) back.
        pipe.send(SPDYFrame.data(streamID: 9, flags: 0, payload: [1]).encoded)
        let frames = pipe.frames(2)
        #expect(frames.last == .rstStream(streamID: 9, status: 2))
        // Another SPDY version ends the session with a protocol error.
        pipe.send([0x80, 2, 0, 6, 0, 0, 0, 4, 0, 0, 0, 1])
        #expect(connection.accept(timeoutSeconds: 2) == nil)
        #expect(pipe.frames(3).last == .goAway(lastGoodStreamID: 0, status: SPDYFrame.protocolError))
    }
}
