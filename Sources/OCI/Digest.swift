/// A content digest, `algorithm:hex` (OCI image-spec descriptor.md). Only registered algorithms
/// are accepted, with their exact hex length, so a digest can safely name a file under
/// `blobs/<algorithm>/<hex>`.
public struct Digest: Hashable, Sendable, Codable, CustomStringConvertible, Comparable {
    public enum Algorithm: String, Sendable, CaseIterable {
        case sha256, sha512
        public var hexLength: Int { self == .sha256 ? 64 : 128 }
    }

    public let algorithm: Algorithm
    public let hex: String

    public init(algorithm: Algorithm, hex: String) throws(ImageSpecError) {
        guard hex.utf8.count == algorithm.hexLength,
              hex.utf8.allSatisfy({ (0x30...0x39).contains($0) || (0x61...0x66).contains($0) })
        else { throw ImageSpecError("digest \(algorithm.rawValue):\(hex): expected \(algorithm.hexLength) lower-case hex digits") }
        self.algorithm = algorithm
        self.hex = hex
    }

    /// For hex a hash function just produced (always well-formed), so no check is needed.
    public init(computed algorithm: Algorithm, hex: String) {
        self.algorithm = algorithm
        self.hex = hex
    }

    public init(_ text: String) throws(ImageSpecError) {
        guard let colon = text.firstIndex(of: ":") else {
            throw ImageSpecError("digest \"\(text)\": expected algorithm:hex")
        }
        let name = String(text[..<colon])
        guard let algorithm = Algorithm(rawValue: name) else {
            throw ImageSpecError("digest \"\(text)\": unsupported algorithm \"\(name)\" (sha256 and sha512 are)")
        }
        try self.init(algorithm: algorithm, hex: String(text[text.index(after: colon)...]))
    }

    public var description: String { "\(algorithm.rawValue):\(hex)" }
    /// The first 12 hex digits, as Docker shows image IDs.
    public var shortID: String { String(hex.prefix(12)) }

    public static func < (a: Digest, b: Digest) -> Bool { a.description < b.description }

    public init(from decoder: any Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        do { try self.init(text) } catch {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: error.message))
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }
}

/// A malformed image manifest, index, config, reference or digest.
public struct ImageSpecError: Error, CustomStringConvertible, Sendable, Equatable {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}
