/// A template that cannot be parsed or executed: what went wrong and where, 1-based line and column
/// (column in characters). Prints close to Go's wording:
/// `template: 1:7: function "foo" not defined`,
/// `template: 1:3: executing at <index .A 5>: error calling index: index out of range: 5`.
public struct TemplateError: Error, Sendable, Equatable, CustomStringConvertible {
    public let line: Int
    public let column: Int
    public let message: String

    public init(line: Int, column: Int, message: String) {
        self.line = line
        self.column = column
        self.message = message
    }

    init(source: [UInt8], offset: Int, message: String) {
        var line = 1
        var column = 1
        for byte in source[..<min(max(offset, 0), source.count)] {
            if byte == 0x0A {
                line += 1
                column = 1
            } else if byte & 0xC0 != 0x80 {
                column += 1
            }
        }
        self.init(line: line, column: column, message: message)
    }

    public var description: String { "template: \(line):\(column): \(message)" }
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
