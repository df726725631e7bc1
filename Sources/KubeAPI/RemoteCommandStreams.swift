import GoCompat
import HTTPServer
import Kube
import KubeModel
import LinuxSys
import Synchronization

/// The streams of one exec or attach (Kubernetes' remotecommand protocol, v4/v5), whichever way
/// the client carries them: a WebSocket whose messages start with the channel's byte, or SPDY
/// streams named by their `streamType` header.
enum RemoteChannel: UInt8, Sendable {
    case stdin = 0, stdout = 1, stderr = 2, error = 3, resize = 4
    /// v5's close signal: the message's second byte names the channel the client closed.
    static let close: UInt8 = 255

    var streamType: String {
        switch self {
        case .stdin: "stdin"
        case .stdout: "stdout"
        case .stderr: "stderr"
        case .error: "error"
        case .resize: "resize"
        }
    }
}

/// Which streams a request asked for (`stdin`, `stdout`, `stderr`, `tty` query parameters).
struct RemoteCommandOptions: Sendable {
    var stdin: Bool
    var stdout: Bool
    var stderr: Bool
    var tty: Bool

    init(_ request: HTTPServerRequest) {
        stdin = KubeAPI.isTrue(request.parameter("stdin"))
        stdout = KubeAPI.isTrue(request.parameter("stdout"))
        stderr = KubeAPI.isTrue(request.parameter("stderr"))
        tty = KubeAPI.isTrue(request.parameter("tty"))
        // A terminal merges stderr into stdout: the kubelet opens no stderr stream with one.
        if tty { stderr = false }
    }
}

/// A transport's side of the streams, used from several threads (stdin, resize, output).
protocol RemoteCommandStreams: AnyObject, Sendable {
    /// The client's stdin; nil at its end (or when it sends none).
    func readStdin() -> [UInt8]?
    /// The next terminal size the client sent; nil at the end of the session.
    func nextResize() -> (width: Int, height: Int)?
    /// Output on stdout or stderr; false once the client has gone away.
    @discardableResult func write(_ channel: RemoteChannel, _ bytes: [UInt8]) -> Bool
    /// The error channel's Status (success or the failure) and the end of the session.
    func finish(_ status: JSONValue)
}

extension KubeAPI {
    static let remoteCommandWebSocketProtocols = ["v5.channel.k8s.io", "v4.channel.k8s.io"]
    static let remoteCommandSPDYProtocols = ["v4.channel.k8s.io"]
    /// How long the kubelet waits for a SPDY client to open the streams it asked for.
    static let streamCreationSeconds = 30.0

    /// The upgrade the client asked for: a WebSocket (kubectl ≥ 1.30) or SPDY/3.1 (older
    /// kubectl, and the newer one's fallback). Nil when the connection went away meanwhile.
    func openRemoteCommandStreams(_ request: HTTPServerRequest, _ options: RemoteCommandOptions,
                                  _ writer: ResponseWriter) throws(KubeStatus) -> (any RemoteCommandStreams)? {
        let upgrade = (request.header("Upgrade") ?? "").lowercased()
        if upgrade == "websocket" {
            let offered = Self.headerValues(request, "Sec-WebSocket-Protocol")
            guard offered.contains(where: Self.remoteCommandWebSocketProtocols.contains) else {
                throw .badRequest("unable to upgrade: unable to negotiate protocol: client supports \(Self.goList(offered)), server supports \(Self.goList(Self.remoteCommandWebSocketProtocols))")
            }
            guard let socket = writer.upgradeToWebSocket(request, protocols: Self.remoteCommandWebSocketProtocols) else { return nil }
            return WebSocketCommandStreams(socket, version5: socket.subprotocol == "v5.channel.k8s.io", options: options)
        }
        if upgrade.hasPrefix("spdy/3.1") {
            let offered = Self.headerValues(request, "X-Stream-Protocol-Version")
            guard let chosen = offered.first(where: Self.remoteCommandSPDYProtocols.contains) else {
                throw KubeStatus(code: 403, reason: "Forbidden",
                                 message: "unable to upgrade: unable to negotiate protocol: client supports \(Self.goList(offered)), server supports \(Self.goList(Self.remoteCommandSPDYProtocols))")
            }
            guard let raw = writer.switchProtocols(headers: [("Connection", "Upgrade"), ("Upgrade", "SPDY/3.1"), ("X-Stream-Protocol-Version", chosen)]) else {
                return nil
            }
            return SPDYCommandStreams.open(SPDYConnection(raw), options: options)
        }
        throw .badRequest("Upgrade request required")
    }

    /// A header's values, repeated or comma-separated.
    static func headerValues(_ request: HTTPServerRequest, _ name: String) -> [String] {
        request.headers[canonicalForm: name].map { String($0).trimmingCharacters }.filter { !$0.isEmpty }
    }

    /// A list as Go's `%v` prints a []string.
    static func goList(_ items: [String]) -> String { "[" + items.joined(separator: " ") + "]" }

    /// The error channel's Status: success, or the exit code the kubelet reports for a command
    /// that ended non-zero (kubectl prints "command terminated with exit code N" and exits N).
    static func commandStatus(exitCode: Int32, command: [String]) -> JSONValue {
        guard exitCode != 0 else { return .ordered([("metadata", .ordered([])), ("status", .string("Success"))]) }
        return .ordered([
            ("metadata", .ordered([])), ("status", .string("Failure")),
            ("message", .string("command terminated with non-zero exit code: command '\(command.joined(separator: " "))' exited with \(exitCode)")),
            ("reason", .string("NonZeroExitCode")),
            ("details", .ordered([("causes", .array([.ordered([("reason", .string("ExitCode")), ("message", .string(String(exitCode)))])]))])),
        ])
    }

    /// The error channel's Status for a failure to run anything: the kubelet's InternalError
    /// (kubectl prints "error: Internal error occurred: error executing command in container: …").
    static func failureStatus(_ message: String) -> JSONValue {
        let cause = "error executing command in container: " + message
        return .ordered([("metadata", .ordered([])), ("status", .string("Failure")), ("message", .string("Internal error occurred: " + cause)),
                         ("reason", .string("InternalError")),
                         ("details", .ordered([("causes", .array([.ordered([("message", .string(cause))])]))])), ("code", .number("500"))])
    }
}

/// A queue of items handed between threads, ended once.
final class Mailbox<Item: Sendable>: @unchecked Sendable {
    private let lock = ConditionLock()
    private var items: [Item] = []
    private var ended = false

    func put(_ item: Item) {
        lock.withLock {
            guard !ended else { return }
            items.append(item)
            lock.broadcast()
        }
    }

    func end() {
        lock.withLock {
            ended = true
            lock.broadcast()
        }
    }

    /// The next item; nil once ended and empty.
    func take() -> Item? {
        lock.withLock {
            while items.isEmpty && !ended { lock.wait() }
            return items.isEmpty ? nil : items.removeFirst()
        }
    }
}

/// Terminal sizes from the resize stream: JSON objects one after another (`{"Width":80,"Height":24}`).
struct ResizeDecoder {
    private var buffer: [UInt8] = []

    mutating func append(_ bytes: [UInt8]) -> [(width: Int, height: Int)] {
        buffer += bytes
        var sizes: [(width: Int, height: Int)] = []
        while let end = buffer.firstIndex(of: UInt8(ascii: "}")) {
            let text = Array(buffer[...end])
            buffer.removeFirst(end + 1)
            guard let start = text.firstIndex(of: UInt8(ascii: "{")), let value = try? JSONParser.parse(Array(text[start...])) else { continue }
            func number(_ key: String) -> Int {
                if case .number(let text)? = value[member: key] { return Int(text) ?? 0 }
                return 0
            }
            sizes.append((number("Width"), number("Height")))
        }
        return sizes
    }
}

/// remotecommand over a WebSocket (`v4.channel.k8s.io`, `v5.channel.k8s.io`): every message's
/// first byte is its channel; v5 adds the client's close of a channel (255, channel).
final class WebSocketCommandStreams: RemoteCommandStreams {
    let socket: WebSocket
    let version5: Bool
    let stdin = Mailbox<[UInt8]>()
    let resizes = Mailbox<(width: Int, height: Int)>()

    init(_ socket: WebSocket, version5: Bool, options: RemoteCommandOptions) {
        self.socket = socket
        self.version5 = version5
        let started = Threads.detach { [self] in readLoop() }
        if !started {
            stdin.end()
            resizes.end()
        }
    }

    private func readLoop() {
        var decoder = ResizeDecoder()
        while let message = socket.read() {
            guard let channel = message.first else { continue }
            let payload = Array(message.dropFirst())
            switch channel {
            case RemoteChannel.stdin.rawValue: if !payload.isEmpty { stdin.put(payload) }
            case RemoteChannel.resize.rawValue: for size in decoder.append(payload) { resizes.put(size) }
            case RemoteChannel.close where version5:
                if payload.first == RemoteChannel.stdin.rawValue { stdin.end() }
                if payload.first == RemoteChannel.resize.rawValue { resizes.end() }
            default: break
            }
        }
        stdin.end()
        resizes.end()
    }

    func readStdin() -> [UInt8]? { stdin.take() }
    func nextResize() -> (width: Int, height: Int)? { resizes.take() }

    func write(_ channel: RemoteChannel, _ bytes: [UInt8]) -> Bool {
        socket.send([channel.rawValue] + bytes, opcode: .binary)
    }

    func finish(_ status: JSONValue) {
        socket.send([RemoteChannel.error.rawValue] + status.serialized, opcode: .binary)
        socket.close()
        resizes.end()
    }
}

/// remotecommand over SPDY/3.1 (`v4.channel.k8s.io`): the client opens a stream per channel,
/// named by its `streamType` header; stdin's FIN is the end of the input.
final class SPDYCommandStreams: RemoteCommandStreams {
    let connection: SPDYConnection
    let streams: [RemoteChannel: SPDYStream]
    let resizes = Mailbox<(width: Int, height: Int)>()

    private init(_ connection: SPDYConnection, streams: [RemoteChannel: SPDYStream]) {
        self.connection = connection
        self.streams = streams
        if let resize = streams[.resize] {
            let started = Threads.detach { [self] in
                var decoder = ResizeDecoder()
                while let bytes = resize.read() { for size in decoder.append(bytes) { resizes.put(size) } }
                resizes.end()
            }
            if !started { resizes.end() }
        } else {
            resizes.end()
        }
    }

    /// Waits for the streams the options call for (the error stream always, resize with a
    /// terminal), as the kubelet does; nil (and the connection closed) when they do not come.
    static func open(_ connection: SPDYConnection, options: RemoteCommandOptions) -> SPDYCommandStreams? {
        var expected = 1
        if options.stdin { expected += 1 }
        if options.stdout { expected += 1 }
        if options.stderr { expected += 1 }
        if options.tty { expected += 1 }
        var streams: [RemoteChannel: SPDYStream] = [:]
        let names: [String: RemoteChannel] = [
            "stdin": .stdin, "stdout": .stdout, "stderr": .stderr, "error": .error, "resize": .resize,
        ]
        var received = 0
        while received < expected {
            guard let stream = connection.accept(timeoutSeconds: KubeAPI.streamCreationSeconds) else {
                connection.close()
                return nil
            }
            guard let type = stream.header("streamType"), let channel = names[type] else {
                stream.reset(status: SPDYFrame.protocolError)
                continue
            }
            streams[channel] = stream
            received += 1
        }
        return SPDYCommandStreams(connection, streams: streams)
    }

    func readStdin() -> [UInt8]? { streams[.stdin]?.read() }
    func nextResize() -> (width: Int, height: Int)? { resizes.take() }

    func write(_ channel: RemoteChannel, _ bytes: [UInt8]) -> Bool {
        guard let stream = streams[channel] else { return true }
        return stream.write(bytes)
    }

    func finish(_ status: JSONValue) {
        streams[.stdout]?.finish()
        streams[.stderr]?.finish()
        if let error = streams[.error] {
            // v4 reads the error stream as JSON; a success is its end with nothing on it.
            if status[member: "status"]?.stringValue != "Success" { error.write(status.serialized) }
            error.finish()
        }
        connection.close()
        resizes.end()
    }
}
