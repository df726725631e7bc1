import CLinuxSys
import Glibc
import LinuxSys

/// An IPv4 socket address (address and port), convertible to and from sockaddr_in.
public struct SocketAddress: Hashable, Sendable, CustomStringConvertible {
    public var ip: IPv4
    public var port: UInt16

    public init(_ ip: IPv4, _ port: UInt16) {
        self.ip = ip
        self.port = port
    }

    init(_ raw: sockaddr_in) {
        ip = IPv4(networkOrder: raw.sin_addr.s_addr)
        port = UInt16(bigEndian: raw.sin_port)
    }

    var raw: sockaddr_in {
        var raw = sockaddr_in()
        raw.sin_family = sa_family_t(AF_INET)
        raw.sin_port = port.bigEndian
        raw.sin_addr.s_addr = ip.networkOrder
        return raw
    }

    public var description: String { "\(ip):\(port)" }
}

/// Non-blocking, close-on-exec IPv4 sockets; every failure is a SysError naming the address.
enum Socket {
    static func udp(bind address: SocketAddress?) throws(SysError) -> Int32 {
        try make(type: SOCK_DGRAM, bind: address, listen: false)
    }

    /// A UDP socket on a kernel-chosen (random) port, connected to `server`: it receives only
    /// that server's datagrams.
    static func udp(connectedTo server: SocketAddress) throws(SysError) -> Int32 {
        let fd = try make(type: SOCK_DGRAM, bind: nil, listen: false)
        var raw = server.raw
        do {
            try sys("connect", "udp \(server)") {
                withUnsafePointer(to: &raw) {
                    $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
                }
            }
        } catch {
            FS.close(fd)
            throw error
        }
        return fd
    }

    /// Sends one datagram on a connected socket.
    @discardableResult
    static func send(_ fd: Int32, _ bytes: [UInt8]) -> Bool {
        let sent = bytes.withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
        return sent == bytes.count
    }

    static func tcpListener(bind address: SocketAddress) throws(SysError) -> Int32 {
        try make(type: SOCK_STREAM, bind: address, listen: true)
    }

    private static func make(type: __socket_type, bind address: SocketAddress?, listen: Bool) throws(SysError) -> Int32 {
        let kind = type == SOCK_DGRAM ? "udp" : "tcp"
        let fd = try sys("socket", kind) {
            socket(AF_INET, Int32(type.rawValue) | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        }
        do {
            guard let address else { return fd }
            // A restarted server must not wait out TIME_WAIT connections of its predecessor.
            var on: Int32 = 1
            try sys("setsockopt SO_REUSEADDR", "\(kind) \(address)") {
                setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, socklen_t(MemoryLayout<Int32>.size))
            }
            var raw = address.raw
            try sys("bind", "\(kind) \(address)") {
                withUnsafePointer(to: &raw) {
                    $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
                }
            }
            if listen { try sys("listen", "\(kind) \(address)") { Glibc.listen(fd, 64) } }
            return fd
        } catch {
            FS.close(fd)
            throw error
        }
    }

    /// One datagram, or nil when none is waiting. Datagrams longer than `buffer` are cut (and so
    /// will not parse); DNS over UDP without EDNS is at most 512 bytes, with it at most 65535.
    static func receive(_ fd: Int32, into buffer: inout [UInt8]) -> (bytes: [UInt8], from: SocketAddress)? {
        var from = sockaddr_in()
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let count = buffer.withUnsafeMutableBytes { raw in
            withUnsafeMutablePointer(to: &from) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { recvfrom(fd, raw.baseAddress, raw.count, 0, $0, &length) }
            }
        }
        guard count >= 0, length >= socklen_t(MemoryLayout<sockaddr_in>.size) else { return nil }
        return (Array(buffer[0..<count]), SocketAddress(from))
    }

    /// Sends one datagram; a full socket buffer drops it, as the network would.
    @discardableResult
    static func send(_ fd: Int32, _ bytes: [UInt8], to address: SocketAddress) -> Bool {
        var raw = address.raw
        let sent = bytes.withUnsafeBytes { data in
            withUnsafePointer(to: &raw) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    sendto(fd, data.baseAddress, data.count, Int32(MSG_NOSIGNAL), $0, socklen_t(MemoryLayout<sockaddr_in>.size))
                }
            }
        }
        return sent == bytes.count
    }

    /// The address a socket is bound to (its port, after binding port 0).
    static func localAddress(_ fd: Int32) -> SocketAddress? {
        var raw = sockaddr_in()
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let rc = withUnsafeMutablePointer(to: &raw) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        return rc == 0 ? SocketAddress(raw) : nil
    }
}
