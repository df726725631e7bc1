import Crypto
import OCI

extension RegistryClient {
    /// The digest of `bytes` with `algorithm`.
    static func digest(of bytes: [UInt8], algorithm: OCI.Digest.Algorithm) throws -> OCI.Digest {
        let hex: String
        switch algorithm {
        case .sha256: hex = hexString(SHA256.hash(data: bytes))
        case .sha512: hex = hexString(SHA512.hash(data: bytes))
        }
        return try OCI.Digest(algorithm: algorithm, hex: hex)
    }

    static func hexString<D: Sequence>(_ bytes: D) -> String where D.Element == UInt8 {
        let digits = Array("0123456789abcdef".utf8)
        var out: [UInt8] = []
        for byte in bytes { out += [digits[Int(byte >> 4)], digits[Int(byte & 0xf)]] }
        return String(decoding: out, as: UTF8.self)
    }
}
