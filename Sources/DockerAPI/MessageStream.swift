import ContainerSpec
import DockerModel
import HTTPServer
import LinuxSys
import TextTemplate

/// A response of Docker's JSON messages (pull, push, load, import, build): the work runs apart
/// (an async task, or a thread of its own) and reports from wherever it is; the handler's thread
/// writes each message as it comes, so a slow client slows only this request and never blocks
/// the work's threads or Swift's cooperative pool.
///
/// The head goes out with the first message (or at once with `headFirst`): a failure before any
/// message is an ordinary error answer with its status, as dockerd answers a pull of an image
/// that does not exist; a failure after it is the stream's last message,
/// `{"errorDetail":{…},"error":"…"}`. A client that goes away cancels async work.
final class MessageStream: @unchecked Sendable {
    private let writer: ResponseWriter
    private let headFirst: Bool
    private let lock = ConditionLock()
    private var pending: [JSONMessage] = []
    private var outcome: Result<Void, any Error>?
    /// Messages held back (a quiet build shows its output only when it fails).
    private var holding = false
    private var held: [JSONMessage] = []

    init(_ writer: ResponseWriter, headFirst: Bool = false) {
        self.writer = writer
        self.headFirst = headFirst
    }

    /// Reports a message; callable from any thread or task.
    func send(_ message: JSONMessage) {
        lock.withLock {
            if holding { held.append(message) } else { pending.append(message) }
            lock.broadcast()
        }
    }

    func stream(_ text: String) { send(.stream(text)) }

    /// From now on messages are kept, not sent, until `release` sends them (or `discard` drops them).
    func hold() { lock.withLock { holding = true } }

    func release() {
        lock.withLock {
            holding = false
            pending += held
            held = []
            lock.broadcast()
        }
    }

    func discard() {
        lock.withLock {
            holding = false
            held = []
        }
    }

    /// Runs async work, writing its messages until it ends. Throws its error when no message went
    /// out; otherwise the error becomes the last message, in `failure`'s words when it has some
    /// (a build's failed RUN: Docker's message and the command's exit status as `code`).
    func run(_ work: @escaping @Sendable () async throws -> Void,
             failure: @escaping (any Error) -> JSONMessage.ErrorDetail? = { _ in nil }) throws {
        let task = Task {
            do {
                try await work()
                self.end(.success(()))
            } catch {
                self.end(.failure(error))
            }
        }
        try pump(cancel: { task.cancel() }, failure: failure)
    }

    /// Runs blocking work on a thread of its own, writing its messages until it ends.
    func runBlocking(_ work: @escaping @Sendable () throws -> Void) throws {
        let started = Threads.detach {
            do {
                try work()
                self.end(.success(()))
            } catch {
                self.end(.failure(error))
            }
        }
        guard started else { throw EngineError.system("start a thread for the request") }
        try pump(cancel: {}, failure: { _ in nil })
    }

    private func end(_ result: Result<Void, any Error>) {
        lock.withLock {
            outcome = result
            lock.broadcast()
        }
    }

    /// The handler's side: writes messages as they come, until the work has ended and all are out.
    private func pump(cancel: () -> Void, failure: (any Error) -> JSONMessage.ErrorDetail?) throws {
        var started = false
        var clientGone = false
        func start() {
            guard !started else { return }
            started = true
            writer.startStream(headers: [("Content-Type", "application/json")])
        }
        func take(wait: Bool) -> ([JSONMessage], Result<Void, any Error>?) {
            lock.withLock {
                if wait && pending.isEmpty && outcome == nil { lock.wait(timeoutSeconds: 0.5) }
                let messages = pending
                pending = []
                return (messages, outcome)
            }
        }
        func write(_ messages: [JSONMessage]) {
            guard !clientGone else { return }
            for message in messages {
                start()
                if !writer.write(Self.line(message)) {
                    clientGone = true
                    return
                }
            }
            if started && writer.clientGone { clientGone = true }
        }
        if headFirst { start() }
        var cancelled = false
        while true {
            let (messages, result) = take(wait: true)
            write(messages)
            if clientGone && !cancelled {
                cancelled = true
                cancel()
            }
            guard let result else { continue }
            if clientGone { return }
            switch result {
            case .success:
                start()
            case .failure(let error):
                // The failure's words first: they may release messages held back until now.
                let detail = failure(error) ?? JSONMessage.ErrorDetail(code: nil, message: DockerAPI.apiError(error).message)
                write(take(wait: false).0)
                if clientGone { return }
                guard started else { throw error }
                writer.write(Self.line(JSONMessage(error: detail)))
            }
            writer.finish()
            return
        }
    }

    /// A message as one line of JSON (Go's json.Encoder ends each value with a newline).
    static func line(_ message: JSONMessage) -> [UInt8] {
        let text = (try? TemplateValueEncoder().encode(message).json()) ?? #"{"error":"cannot encode a progress message"}"#
        return Array(text.utf8) + [10]
    }
}
