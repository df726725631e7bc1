import ContainerSpec
import Engine
import Glibc
import GoCompat
import HTTPServer
import KubeModel
import LinuxSys
import Supervisor
import Synchronization

extension KubeAPI {
    /// `pods/NAME/exec` and `pods/NAME/attach` (kubectl exec, attach): checks the request as the
    /// apiserver does, upgrades to the client's stream protocol, then runs the command in the
    /// container (exec) or joins its main process (attach) until it ends; the error channel
    /// carries the outcome.
    func remoteCommand(_ request: HTTPServerRequest, _ pod: PodStreamTarget, attach: Bool, _ writer: ResponseWriter) throws(KubeStatus) {
        let name = try containerName(request, pod)
        let options = RemoteCommandOptions(request)
        let command = request.parameters("command")
        if !attach && command.isEmpty { throw .badRequest("you must specify at least 1 command") }
        guard options.stdin || options.stdout || options.stderr else {
            throw .badRequest("you must specify at least 1 of stdin, stdout, stderr")
        }
        let container = try runningContainer(pod, name)
        guard let engine else { return }
        guard let streams = try openRemoteCommandStreams(request, options, writer) else { return }
        if attach {
            attachRelay(engine, container, options, streams)
        } else {
            execRelay(engine, container, command, options, streams)
        }
    }

    private func execRelay(_ engine: Engine, _ container: Container, _ command: [String], _ options: RemoteCommandOptions,
                           _ streams: any RemoteCommandStreams) {
        var exec = ExecRequest(command: command)
        exec.tty = options.tty
        exec.interactive = options.stdin
        let id: String
        do { id = try engine.createExec(container, exec) } catch {
            streams.finish(Self.failureStatus(error.message))
            return
        }
        if options.tty {
            let session: ExecSession
            do { session = try engine.startExec(container, exec, id: id, stdio: ExecDescriptors(stdin: nil, stdout: -1, stderr: -1)) } catch {
                streams.finish(Self.failureStatus(error.message))
                return
            }
            if options.stdin {
                // The session (and so its pty's descriptor) lives as long as this thread uses it.
                Threads.detach { [session] in
                    while let bytes = streams.readStdin() {
                        guard (try? FS.write(session.master.raw, bytes)) != nil else { break }
                    }
                }
            }
            let master = session.master.raw
            Threads.detach {
                while let size = streams.nextResize() { session.resize(rows: size.height, columns: size.width) }
            }
            Self.copy(from: master) { options.stdout ? streams.write(.stdout, $0) : true }
            let status = session.wait()
            streams.finish(Self.commandStatus(exitCode: status, command: command))
            return
        }
        let session: ExecSession
        let input: StreamDescriptor?
        let output: StreamDescriptor, errors: StreamDescriptor
        do {
            let inPipe = try FS.pipe(), outPipe = try FS.pipe(), errPipe = try FS.pipe()
            do {
                session = try engine.startExec(container, exec, id: id, stdio: ExecDescriptors(stdin: options.stdin ? inPipe.read.raw : nil,
                                                                                                 stdout: outPipe.write.raw, stderr: errPipe.write.raw))
            } catch {
                streams.finish(Self.failureStatus(error.message))
                return
            }
            // The process holds its ends now; ours close at the end of this scope, so its exit ends our reads.
            input = options.stdin ? StreamDescriptor(inPipe.write) : nil
            output = StreamDescriptor(outPipe.read)
            errors = StreamDescriptor(errPipe.read)
        } catch {
            streams.finish(Self.failureStatus("exec: create pipes: \(error)"))
            return
        }
        if let input {
            Threads.detach {
                while let bytes = streams.readStdin() {
                    guard (try? FS.write(input.raw, bytes)) != nil else { break }
                }
                input.close()
            }
        }
        var open: [(fd: StreamDescriptor, channel: RemoteChannel, wanted: Bool)] = [
            (output, .stdout, options.stdout), (errors, .stderr, options.stderr),
        ]
        var clientGone = false
        var buffer = [UInt8](repeating: 0, count: 32 * 1024)
        while !open.isEmpty {
            guard case .ready(let events)? = try? Poll.wait(open.map { Poll.Request($0.fd.raw) }, timeoutMilliseconds: -1) else { break }
            var finished: [Int] = []
            for (index, event) in events.enumerated() where !event.isEmpty {
                let stream = open[index]
                let count = (try? buffer.withUnsafeMutableBytes { raw throws(SysError) in try FS.readSome(stream.fd.raw, into: raw) }) ?? 0
                if count == 0 {
                    finished.append(index)
                } else if stream.wanted && !clientGone {
                    // A client that left stops the relay, not the process: its output is drained.
                    clientGone = !streams.write(stream.channel, Array(buffer[0..<count]))
                }
            }
            for index in finished.reversed() { open.remove(at: index) }
        }
        output.close()
        errors.close()
        let status = session.wait()
        input?.close()
        streams.finish(Self.commandStatus(exitCode: status, command: command))
    }

    /// Attach: the supervisor's attach socket, as `docker attach` uses it: its output frames to
    /// the client, the client's stdin and terminal sizes to it, until the container ends.
    private func attachRelay(_ engine: Engine, _ container: Container, _ options: RemoteCommandOptions, _ streams: any RemoteCommandStreams) {
        let fd: Int32
        do { fd = try engine.attach(container) } catch {
            streams.finish(Self.failureStatus(error.message))
            return
        }
        let supervisor = StreamDescriptor(FileDescriptor(adopting: fd))
        let sendLock = Mutex(())
        @Sendable func send(_ kind: AttachStream, _ payload: [UInt8]) {
            sendLock.withLock { _ in _ = try? FS.write(supervisor.raw, AttachFrame.encode(kind, payload)) }
        }
        if options.stdin && container.options.interactive {
            let closesStdin = container.options.closesStdinAfterAttach
            Threads.detach {
                while let bytes = streams.readStdin() { send(.stdin, bytes) }
                if closesStdin { send(.closeStdin, []) }
            }
        }
        if options.tty {
            Threads.detach {
                while let size = streams.nextResize() { send(.resize, AttachFrame.sizePayload(rows: size.height, columns: size.width)) }
            }
        }
        var reader = AttachFrameReader()
        var buffer = [UInt8](repeating: 0, count: 64 << 10)
        reading: while true {
            let count = (try? buffer.withUnsafeMutableBytes { raw throws(SysError) in try FS.readSome(supervisor.raw, into: raw) }) ?? 0
            guard count > 0 else { break }
            reader.append(Array(buffer[..<count]))
            while let next = reader.next() {
                guard case .success(let (kind, payload)) = next else { break reading }
                switch kind {
                case .stdout where options.stdout:
                    guard streams.write(.stdout, payload) else { break reading }
                case .stderr where options.stderr:
                    guard streams.write(.stderr, payload) else { break reading }
                case .stderr where options.tty && options.stdout:
                    guard streams.write(.stdout, payload) else { break reading }
                case .exit:
                    break reading
                default:
                    break
                }
            }
        }
        _ = Glibc.shutdown(supervisor.raw, Int32(SHUT_RDWR))
        supervisor.close()
        streams.finish(Self.commandStatus(exitCode: 0, command: []))
    }

    /// Reads `fd` to its end (a pty master's EIO once the process has closed its terminal).
    static func copy(from fd: Int32, _ body: ([UInt8]) -> Bool) {
        var buffer = [UInt8](repeating: 0, count: 32 * 1024)
        while true {
            guard let count = try? buffer.withUnsafeMutableBytes({ raw throws(SysError) in try FS.readSome(fd, into: raw) }), count > 0 else { return }
            guard body(Array(buffer[0..<count])) else { return }
        }
    }
}

/// A descriptor the threads of one stream share, closed once (by `close` or with the last reference).
final class StreamDescriptor: Sendable {
    private let fd: Mutex<Int32>

    init(_ descriptor: consuming FileDescriptor) { fd = Mutex(descriptor.take()) }

    deinit { close() }

    var raw: Int32 { fd.withLock { $0 } }

    func close() {
        fd.withLock { fd in
            if fd >= 0 { FS.close(fd) }
            fd = -1
        }
    }
}
