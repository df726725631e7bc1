/// A template that cannot be parsed or executed: what went wrong and where, 1-based line and column
/// (column in characters). Prints Go's wording: a parse error with its line only,
/// `template: :1: function "foo" not defined`; an execution error with the node that failed and its
/// column as Go counts it (bytes from the start of the line, from 0),
/// `template: :1:2: executing "" at <.Nosuch>: map has no entry for key "Nosuch"`.
public struct TemplateError: Error, Sendable, Equatable, CustomStringConvertible {
    public let line: Int
    public let column: Int
    public let message: String
    /// An execution error's node, as written (`.Nosuch`, `index .A 5`); nil for a parse error.
    public let node: String?
    /// Go's column: the byte offset within the line.
    let byteColumn: Int

    public init(line: Int, column: Int, message: String, node: String? = nil) {
        self.line = line
        self.column = column
        self.message = message
        self.node = node
        byteColumn = column - 1
    }

    init(source: [UInt8], offset: Int, message: String, node: String? = nil) {
        var line = 1
        var column = 1
        var bytes = 0
        for byte in source[..<min(max(offset, 0), source.count)] {
            if byte == 0x0A {
                line += 1
                column = 1
                bytes = 0
            } else {
                bytes += 1
                if byte & 0xC0 != 0x80 { column += 1 }
            }
        }
        self.line = line
        self.column = column
        self.message = message
        self.node = node
        byteColumn = bytes
    }

    public var description: String {
        guard let node else { return "template: :\(line): \(message)" }
        // Go shortens the node to 20 characters.
        let shown = node.count > 20 ? node.prefix(20) + "..." : node
        return "template: :\(line):\(byteColumn): executing \"\" at <\(shown)>: \(message)"
    }
}

/// A failure inside a function call; the executor adds where it happened.
struct FunctionError: Error {
    var message: String
    /// Errors the function itself reports are prefixed `error calling NAME:`; argument checks are not.
    var fromCall = true

    static func wrongType(expected: String, got value: TemplateValue) -> FunctionError {
        FunctionError(message: "wrong type for value; expected \(expected); got \(value.typeName)", fromCall: false)
    }
}
