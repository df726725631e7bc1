import Glibc
import LinuxSys

/// The grpc probe: one call of `grpc.health.v1.Health/Check` over HTTP/2 cleartext (prior
/// knowledge), as the kubelet's prober makes it; SERVING is success. Only what the call needs of
/// HTTP/2: the preface, SETTINGS (acknowledged), one HEADERS frame in HPACK literals without
/// Huffman coding, one DATA frame, and the reply's DATA frame read back.
enum GRPCHealthProbe {
    static func check(host: String, port: Int, service: String, timeout: Double) -> (Bool, String) {
        guard let fd = Kubelet.connect(host: host, port: port, timeout: timeout) else {
            return (false, "failed to connect service \"\(host):\(port)\" within \(Int(timeout))s: context deadline exceeded")
        }
        defer { close(fd) }
        let deadline = MonotonicClock.seconds() + timeout
        var out = Array("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".utf8)
        out += frame(type: 0x4, flags: 0, stream: 0, [])
        var block: [UInt8] = [0x83, 0x86]  // :method POST, :scheme http (HPACK static table)
        block += literal(nameIndex: 4, "/grpc.health.v1.Health/Check")  // :path
        block += literal(nameIndex: 1, "\(host):\(port)")  // :authority
        block += literal(nameIndex: 31, "application/grpc")  // content-type
        block += literal(name: "te", "trailers")
        block += literal(name: "user-agent", "kube-probe/1.33")
        out += frame(type: 0x1, flags: 0x4, stream: 1, block)
        var message: [UInt8] = []
        if !service.isEmpty { message = [0x0A] + varint(service.utf8.count) + Array(service.utf8) }
        let length = UInt32(message.count)
        out += frame(type: 0x0, flags: 0x1, stream: 1, [0, UInt8(length >> 24), UInt8((length >> 16) & 0xFF), UInt8((length >> 8) & 0xFF), UInt8(length & 0xFF)] + message)
        guard send(fd, out, deadline: deadline) else { return (false, "timeout: health rpc did not complete within \(Int(timeout))s") }

        var input: [UInt8] = []
        while true {
            // One frame: 9 bytes of header, then its payload.
            while input.count < 9 || input.count < 9 + frameLength(input) {
                guard let more = receive(fd, deadline: deadline) else {
                    return (false, "timeout: health rpc did not complete within \(Int(timeout))s")
                }
                if more.isEmpty { return (false, "health rpc failed: the connection closed") }
                input += more
            }
            let size = frameLength(input)
            let type = input[3], flags = input[4]
            let stream = (UInt32(input[5] & 0x7F) << 24) | (UInt32(input[6]) << 16) | (UInt32(input[7]) << 8) | UInt32(input[8])
            let payload = Array(input[9..<(9 + size)])
            input.removeFirst(9 + size)
            switch type {
            case 0x4 where flags & 0x1 == 0:
                _ = send(fd, frame(type: 0x4, flags: 0x1, stream: 0, []), deadline: deadline)
            case 0x0 where stream == 1:
                let status = servingStatus(payload)
                if status == 1 { return (true, "") }
                let names = [0: "UNKNOWN", 1: "SERVING", 2: "NOT_SERVING", 3: "SERVICE_UNKNOWN"]
                return (false, "service unhealthy (responded with \"\(names[status ?? 0] ?? "UNKNOWN")\")")
            case 0x1 where stream == 1 && flags & 0x1 != 0, 0x3 where stream == 1:
                // Trailers only, or a reset: the call failed (UNIMPLEMENTED when the server has no health service).
                return (false, "health rpc failed: the server answered without a status")
            case 0x7:
                return (false, "health rpc failed: the server closed the connection (GOAWAY)")
            default:
                break
            }
        }
    }

    static func frameLength(_ bytes: [UInt8]) -> Int {
        bytes.count < 3 ? 0 : (Int(bytes[0]) << 16) | (Int(bytes[1]) << 8) | Int(bytes[2])
    }

    static func frame(type: UInt8, flags: UInt8, stream: UInt32, _ payload: [UInt8]) -> [UInt8] {
        let length = payload.count
        return [UInt8((length >> 16) & 0xFF), UInt8((length >> 8) & 0xFF), UInt8(length & 0xFF), type, flags,
                UInt8((stream >> 24) & 0x7F), UInt8((stream >> 16) & 0xFF), UInt8((stream >> 8) & 0xFF), UInt8(stream & 0xFF)] + payload
    }

    /// HPACK's integer with an `prefix`-bit prefix, its first byte or'ed with `mask`.
    static func integer(_ value: Int, prefix: Int, mask: UInt8) -> [UInt8] {
        let limit = (1 << prefix) - 1
        if value < limit { return [mask | UInt8(value)] }
        var bytes = [mask | UInt8(limit)]
        var rest = value - limit
        while rest >= 128 {
            bytes.append(UInt8(rest % 128 + 128))
            rest /= 128
        }
        return bytes + [UInt8(rest)]
    }

    static func string(_ text: String) -> [UInt8] { integer(text.utf8.count, prefix: 7, mask: 0) + Array(text.utf8) }

    /// A literal header field without indexing, its name from the static table.
    static func literal(nameIndex: Int, _ value: String) -> [UInt8] { integer(nameIndex, prefix: 4, mask: 0) + string(value) }

    /// A literal header field without indexing, with a new name.
    static func literal(name: String, _ value: String) -> [UInt8] { [0] + string(name) + string(value) }

    static func varint(_ value: Int) -> [UInt8] {
        var bytes: [UInt8] = []
        var rest = value
        while rest >= 128 {
            bytes.append(UInt8(rest % 128 + 128))
            rest /= 128
        }
        return bytes + [UInt8(rest)]
    }

    /// HealthCheckResponse.status (field 1, a varint) from a gRPC message (5-byte prefix); 0 when absent.
    static func servingStatus(_ payload: [UInt8]) -> Int? {
        guard payload.count >= 5 else { return nil }
        let message = Array(payload[5...])
        var index = 0
        while index < message.count {
            let key = message[index]
            index += 1
            if key == 0x08 {
                var value = 0, shift = 0
                while index < message.count {
                    let byte = message[index]
                    index += 1
                    value |= Int(byte & 0x7F) << shift
                    shift += 7
                    if byte & 0x80 == 0 { break }
                }
                return value
            }
            return nil
        }
        return 0
    }

    static func send(_ fd: Int32, _ bytes: [UInt8], deadline: Double) -> Bool {
        var sent = 0
        while sent < bytes.count {
            var poll = pollfd(fd: fd, events: Int16(POLLOUT), revents: 0)
            let left = Int32((deadline - MonotonicClock.seconds()) * 1000)
            guard left > 0, Glibc.poll(&poll, 1, left) == 1 else { return false }
            let written = bytes[sent...].withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
            if written <= 0 { return false }
            sent += written
        }
        return true
    }

    /// What arrived (empty at end of stream), or nil at the deadline.
    static func receive(_ fd: Int32, deadline: Double) -> [UInt8]? {
        var poll = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        let left = Int32((deadline - MonotonicClock.seconds()) * 1000)
        guard left > 0, Glibc.poll(&poll, 1, left) == 1 else { return nil }
        var buffer = [UInt8](repeating: 0, count: 16384)
        let count = read(fd, &buffer, buffer.count)
        return count <= 0 ? [] : Array(buffer[..<count])
    }
}
