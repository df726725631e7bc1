import Glibc
import LinuxSys
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL

/// An HTTP/1.1 server on unix sockets and TCP (SwiftNIO). It knows nothing of Docker or
/// Kubernetes: front ends hand it one handler and the headers every response carries.
public final class HTTPServer: Sendable {
    /// Where to listen: a unix socket path (created with `mode`, owned by `group`), a TCP
    /// address, a TCP address speaking TLS with the certificate chain and key in PEM files, or a
    /// socket already bound and listening (systemd socket activation).
    public enum Listener: Sendable, Equatable {
        case unix(path: String, mode: mode_t, group: gid_t?)
        case tcp(host: String, port: Int)
        case tls(host: String, port: Int, certificateChain: String, privateKey: String)
        case inherited(fd: Int32)
    }

    public struct StartError: Error, Sendable, CustomStringConvertible {
        public let listener: Listener
        public let message: String
        public let underlying: SysError?
        public var description: String { message }
    }

    let group: MultiThreadedEventLoopGroup
    let channels: [Channel]

    /// Binds every listener and starts serving; throws naming the listener that failed.
    public init(listeners: [Listener], commonHeaders: [(String, String)], handler: @escaping HTTPHandler) throws(StartError) {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        var channels: [Channel] = []
        for listener in listeners {
            var tls: NIOSSLContext?
            if case .tls(_, _, let chain, let key) = listener {
                do {
                    let certificates = try NIOSSLCertificate.fromPEMFile(chain).map { NIOSSLCertificateSource.certificate($0) }
                    var configuration = TLSConfiguration.makeServerConfiguration(certificateChain: certificates, privateKey: .privateKey(try NIOSSLPrivateKey(file: key, format: .pem)))
                    configuration.minimumTLSVersion = .tlsv12
                    // HTTP/1.1 only: Go's clients offer h2 and fall back when it is not chosen.
                    configuration.applicationProtocols = ["http/1.1"]
                    tls = try NIOSSLContext(configuration: configuration)
                } catch {
                    for channel in channels { _ = try? channel.close().wait() }
                    try? group.syncShutdownGracefully()
                    throw StartError(listener: listener, message: "load the TLS certificate \(chain) and key \(key): \(error)", underlying: nil)
                }
            }
            let tlsContext = tls
            let bootstrap = ServerBootstrap(group: group)
                .serverChannelOption(.backlog, value: 256)
                .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
                .childChannelOption(.autoRead, value: false)
                .childChannelOption(.allowRemoteHalfClosure, value: true)
                .childChannelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        let control = ConnectionControl(channel: channel)
                        let sync = channel.pipeline.syncOperations
                        if let tlsContext { try sync.addHandler(NIOSSLServerHandler(context: tlsContext)) }
                        try sync.addHandler(ByteToMessageHandler(HTTPRequestDecoder(leftOverBytesStrategy: .forwardBytes)))
                        try sync.addHandler(HTTPResponseEncoder())
                        try sync.addHandler(ConnectionHandler(handler: handler, commonHeaders: commonHeaders, control: control))
                    }
                }
            do {
                switch listener {
                case .unix(let path, let mode, let gid):
                    // Bound with a umask that leaves the socket unreachable until its mode and
                    // owner are set: no moment where another user could connect.
                    let previous = umask(0o777)
                    let bound = bootstrap.bind(unixDomainSocketPath: path, cleanupExistingSocketFile: true)
                    let channel: Channel
                    do { channel = try bound.wait() } catch { umask(previous); throw error }
                    umask(previous)
                    if let gid, chown(path, 0, gid) != 0 {
                        let error = SysError("chown", path)
                        _ = try? channel.close().wait()
                        throw StartError(listener: listener, message: "set the group of \(path): \(error)", underlying: error)
                    }
                    if chmod(path, mode) != 0 {
                        let error = SysError("chmod", path)
                        _ = try? channel.close().wait()
                        throw StartError(listener: listener, message: "set the mode of \(path): \(error)", underlying: error)
                    }
                    channels.append(channel)
                case .tcp(let host, let port), .tls(let host, let port, _, _):
                    channels.append(try bootstrap.bind(host: host, port: port).wait())
                case .inherited(let fd):
                    channels.append(try bootstrap.withBoundSocket(fd).wait())
                }
            } catch let error as StartError {
                for channel in channels { _ = try? channel.close().wait() }
                try? group.syncShutdownGracefully()
                throw error
            } catch {
                for channel in channels { _ = try? channel.close().wait() }
                try? group.syncShutdownGracefully()
                throw StartError(listener: listener, message: "listen on \(Self.describe(listener)): \(error)", underlying: nil)
            }
        }
        self.group = group
        self.channels = channels
    }

    public static func describe(_ listener: Listener) -> String {
        switch listener {
        case .unix(let path, _, _): return "unix://" + path
        case .tcp(let host, let port): return "tcp://\(host):\(port)"
        case .tls(let host, let port, _, _): return "https://\(host):\(port)"
        case .inherited(let fd): return "inherited socket fd \(fd)"
        }
    }

    /// Stops accepting, closes the listeners (removing unix socket files) and the event loop.
    /// Handlers still running finish on their own threads.
    public func shutdown() {
        for channel in channels { _ = try? channel.close().wait() }
        try? group.syncShutdownGracefully()
    }
}
