import ContainerSpec
import GoCompat

/// The JSON body of a Docker Engine API request, read as dockerd reads it: one value with Go's
/// `json.Decoder` (GoCompat's parser and struct decoder), then `Decoder.More`.
///
/// dockerd has two readers and Berth answers as each does:
/// - `.required` (`POST /containers/create`, runconfig's loadJSON): an empty body is "invalid JSON:
///   got EOF while reading request body";
/// - `.optional` (httputils.ReadJSON: exec, update, networks, volumes): a body of no bytes is the zero
///   value. (ReadJSON also wants `Content-Type: application/json` when there is a body: the HTTP layer's check.)
/// Either way a malformed body is "invalid JSON: <Go's error>", a value of the wrong type "invalid
/// JSON: json: cannot unmarshal …", and anything but `}`/`]` after the value "unexpected content after JSON".
public enum RequestBody {
    public enum Emptiness: Sendable {
        case required
        case optional
    }

    public static func decode<T: Decodable>(_ type: T.Type, from bytes: [UInt8], _ emptiness: Emptiness) throws(EngineError) -> T {
        // ReadJSON skips only a body of no bytes; white space alone is a json.Decoder's io.EOF.
        if bytes.isEmpty, emptiness == .optional { return try decode(type, value: .object([:], keys: [])) }
        guard bytes.contains(where: { !isJSONSpace($0) }) else {
            throw .invalid("invalid JSON: got EOF while reading request body")
        }
        let parsed: (value: JSONValue, end: Int)
        do { parsed = try JSONParser.parseFirst(bytes) } catch {
            // A value cut short is io.ErrUnexpectedEOF to a json.Decoder, not Unmarshal's words.
            throw .invalid("invalid JSON: " + (error.offset >= bytes.count ? "unexpected EOF" : error.message))
        }
        if parsed.end < bytes.count, bytes[parsed.end] != UInt8(ascii: "}"), bytes[parsed.end] != UInt8(ascii: "]") {
            throw .invalid("unexpected content after JSON")
        }
        return try decode(type, value: parsed.value)
    }

    static func decode<T: Decodable>(_ type: T.Type, value: JSONValue) throws(EngineError) -> T {
        do { return try GoJSON.decode(type, from: value) } catch { throw .invalid("invalid JSON: " + error.message) }
    }

    /// JSON's white space (what a json.Decoder skips).
    public static func isJSONSpace(_ byte: UInt8) -> Bool { byte == 0x20 || byte == 0x09 || byte == 0x0A || byte == 0x0D }
}

// MARK: Docker's Go types that need their own decoding

/// `strslice.StrSlice` (Cmd, Entrypoint, Shell, CapAdd, CapDrop): a list, or one string as a list of one.
public struct StringList: Decodable, Sendable, Equatable, GoNamed {
    public var values: [String]
    public static var goName: String { "strslice.StrSlice" }

    public init(_ values: [String]) { self.values = values }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if let list = try? container.decode([String].self) {
            values = list
        } else {
            // As StrSlice.UnmarshalJSON: what is neither fails as a string ("… of type string").
            values = [try container.decode(String.self)]
        }
    }
}

/// `struct{}`, the value type of Docker's sets (ExposedPorts, Volumes): any object, or null.
public struct EmptyObject: Decodable, Sendable, Equatable, GoNamed {
    public static var goName: String { "struct {}" }
    public init() {}
    public init(from decoder: any Decoder) throws {
        _ = try decoder.container(keyedBy: NoKeys.self)
    }
    enum NoKeys: CodingKey {}
}

/// `[2]uint` (ConsoleSize: height, width): extra elements are dropped and missing ones are 0, as Go
/// fills an array.
public struct ConsoleSize: Decodable, Sendable, Equatable, GoNamed {
    public var height: UInt
    public var width: UInt
    public static var goName: String { "[2]uint" }

    public init(height: UInt, width: UInt) {
        self.height = height
        self.width = width
    }

    public init(from decoder: any Decoder) throws {
        var container = try decoder.unkeyedContainer()
        height = container.isAtEnd ? 0 : try container.decode(UInt.self)
        width = container.isAtEnd ? 0 : try container.decode(UInt.self)
    }

    /// The size a tty starts with, or nil for "the runtime's default" (zero in either dimension).
    public var rowsAndColumns: (rows: Int, columns: Int)? {
        height > 0 && width > 0 ? (Int(height), Int(width)) : nil
    }
}

// MARK: helpers shared by the request types

extension EngineError {
    /// A request field Berth cannot honour yet, refused rather than ignored.
    static func unsupported(_ field: String, _ value: String) -> EngineError {
        .invalid("\(field) \(GoStrconv.quote(value)) is not supported")
    }
}

extension Optional where Wrapped == String {
    /// Go's zero value read as "not given".
    var nonEmpty: String? { flatMap { $0.isEmpty ? nil : $0 } }
}

extension Optional where Wrapped: BinaryInteger {
    var nonZero: Wrapped? { flatMap { $0 == 0 ? nil : $0 } }
}
