/// Go's base64.StdEncoding (RFC 4648 §4, padded): how encoding/json writes a `[]byte`, and what
/// Docker's `X-Docker-Container-Path-Stat` header carries.
public enum GoBase64 {
    private static let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)

    public static func encode(_ input: [UInt8]) -> String {
        var out: [UInt8] = []
        out.reserveCapacity((input.count + 2) / 3 * 4)
        var index = 0
        while index < input.count {
            let count = min(3, input.count - index)
            var n = UInt32(input[index]) << 16
            if count > 1 { n |= UInt32(input[index + 1]) << 8 }
            if count > 2 { n |= UInt32(input[index + 2]) }
            out.append(alphabet[Int(n >> 18 & 63)])
            out.append(alphabet[Int(n >> 12 & 63)])
            out.append(count > 1 ? alphabet[Int(n >> 6 & 63)] : UInt8(ascii: "="))
            out.append(count > 2 ? alphabet[Int(n & 63)] : UInt8(ascii: "="))
            index += 3
        }
        return String(decoding: out, as: UTF8.self)
    }
}
