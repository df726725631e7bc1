/// A Go parser's failure, with the text Go's function returns (`strconv.ParseInt: parsing "x": invalid
/// syntax`, `time: invalid duration "1x"`). Callers wrap it into their own error, keeping the text.
public struct GoError: Error, Equatable, Sendable, CustomStringConvertible {
    public let message: String
    public var description: String { message }
    public init(_ message: String) { self.message = message }
}
