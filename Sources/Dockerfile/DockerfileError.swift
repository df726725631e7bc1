/// A problem with a Dockerfile, named the way `docker build` names it: the file, the line the
/// instruction starts on, and Docker's own wording for what is wrong.
///
/// Errors are values: nothing in this module traps. A lexer error (say `${X:?required}` with X unset)
/// is first raised without a location and gets the file and line attached by whoever knows which
/// instruction was being expanded (`located(file:line:instruction:)`).
public struct DockerfileError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The file name shown to the user, `Dockerfile` unless `-f` named another.
    public var file: String
    /// 1-based line where the offending instruction starts; 0 when not known (yet).
    public var line: Int
    /// The instruction keyword as written (`RUNN`, `from`), when the error belongs to one.
    public var instruction: String?
    /// Docker's message, without the location prefix.
    public var message: String

    public init(file: String = "Dockerfile", line: Int = 0, instruction: String? = nil, _ message: String) {
        self.file = file
        self.line = line
        self.instruction = instruction
        self.message = message
    }

    /// `Dockerfile:7: unknown instruction: RUNN`
    public var description: String {
        line > 0 ? "\(file):\(line): \(message)" : "\(file): \(message)"
    }

    /// The same error placed at an instruction; an existing location is kept (the innermost wins).
    public func located(file: String, line: Int, instruction: String?) -> DockerfileError {
        var copy = self
        copy.file = file
        if copy.line == 0 { copy.line = line }
        if copy.instruction == nil { copy.instruction = instruction }
        return copy
    }
}
