import GoCompat

/// Builds the parse tree from the lexer's items, checking what Go's parser checks: known functions,
/// declared variables, balanced `{{end}}`s, `{{break}}`/`{{continue}}` inside `{{range}}`.
struct TemplateParser {
    private enum Terminator {
        case eof, end(Int), elseBranch(Int), elseIf(Int), elseWith(Int)
    }

    let src: [UInt8]
    let tokens: [TemplateToken]
    var i = 0
    var variables: [String] = ["$"]
    var rangeDepth = 0
    var nesting = 0
    /// Where the fields chained onto the last operand began (Go's position for such a node).
    var chainOffset: Int?

    init(source: String) throws(TemplateError) {
        var lexer = TemplateLexer(source)
        tokens = try lexer.run()
        src = lexer.src
    }

    mutating func parse() throws(TemplateError) -> [TemplateNode] {
        let (nodes, terminator) = try parseList()
        switch terminator {
        case .eof: return nodes
        case .end(let offset): throw error(offset, "unexpected {{end}}")
        case .elseBranch(let offset), .elseIf(let offset), .elseWith(let offset): throw error(offset, "unexpected {{else}}")
        }
    }

    // MARK: tokens

    private func error(_ offset: Int, _ message: String) -> TemplateError {
        TemplateError(source: src, offset: offset, message: message)
    }

    private mutating func next() -> TemplateToken {
        let token = tokens[min(i, tokens.count - 1)]
        if i < tokens.count - 1 { i += 1 }
        return token
    }

    private func peek() -> TemplateToken { tokens[min(i, tokens.count - 1)] }

    private mutating func nextNonSpace() -> TemplateToken {
        var token = next()
        while token.kind == .space { token = next() }
        return token
    }

    private mutating func peekNonSpace() -> TemplateToken {
        while peek().kind == .space { i += 1 }
        return peek()
    }

    private func describe(_ token: TemplateToken) -> String {
        switch token.kind {
        case .eof: return "EOF"
        case .text(let s): return GoStrconv.quote(s)
        case .leftDelim: return "\"{{\""
        case .rightDelim: return "\"}}\""
        case .space: return "space"
        case .identifier(let s): return "<\(s)>"
        case .keyword(let s): return "<\(s)>"
        case .field(let s): return "<.\(s)>"
        case .dot: return "<.>"
        case .variable(let s): return "<\(s)>"
        case .string(let s): return GoStrconv.quote(s)
        case .char(let c): return "<'\(Unicode.Scalar(UInt32(clamping: c)).map { String(Character($0)) } ?? "?")'>"
        case .number(let s): return "<\(s)>"
        case .bool(let b): return "<\(b)>"
        case .nilValue: return "<nil>"
        case .pipe: return "\"|\""
        case .leftParen: return "\"(\""
        case .rightParen: return "\")\""
        case .declare: return "\":=\""
        case .assign: return "\"=\""
        case .comma: return "\",\""
        }
    }

    private mutating func unexpected(_ token: TemplateToken, _ context: String) -> TemplateError {
        if token.kind == .eof { return error(token.offset, "unexpected EOF") }
        return error(token.offset, "unexpected \(describe(token)) in \(context)")
    }

    private mutating func expectRightDelim(_ context: String) throws(TemplateError) {
        let token = nextNonSpace()
        guard token.kind == .rightDelim else { throw unexpected(token, context) }
    }

    // MARK: lists and control structures

    private mutating func parseList() throws(TemplateError) -> ([TemplateNode], Terminator) {
        var nodes: [TemplateNode] = []
        while true {
            let token = next()
            switch token.kind {
            case .eof:
                return (nodes, .eof)
            case .text(let text):
                nodes.append(.text(text))
            case .leftDelim:
                let first = peekNonSpace()
                guard case .keyword(let word) = first.kind else {
                    nodes.append(.action(try parsePipeline(context: "command", end: .rightDelim)))
                    continue
                }
                _ = nextNonSpace()
                switch word {
                case "end":
                    try expectRightDelim("end")
                    return (nodes, .end(first.offset))
                case "else":
                    let after = peekNonSpace()
                    if after.kind == .keyword("if") {
                        _ = nextNonSpace()
                        return (nodes, .elseIf(first.offset))
                    }
                    if after.kind == .keyword("with") {
                        _ = nextNonSpace()
                        return (nodes, .elseWith(first.offset))
                    }
                    try expectRightDelim("else")
                    return (nodes, .elseBranch(first.offset))
                case "if", "with", "range":
                    nodes.append(try parseControl(word, offset: first.offset))
                case "break", "continue":
                    guard rangeDepth > 0 else { throw error(first.offset, "{{\(word)}} outside {{range}}") }
                    try expectRightDelim(word)
                    nodes.append(word == "break" ? .breakNode : .continueNode)
                default:  // define, template, block
                    throw error(first.offset, "{{\(word)}} is not supported")
                }
            default:
                throw unexpected(token, "input")
            }
        }
    }

    private mutating func parseControl(_ word: String, offset: Int) throws(TemplateError) -> TemplateNode {
        guard nesting < TemplateLexer.maxNesting else { throw error(offset, "max control structure depth exceeded") }
        nesting += 1
        let mark = variables.count
        defer {
            variables.removeLast(variables.count - mark)
            nesting -= 1
        }
        let pipe = try parsePipeline(context: word, end: .rightDelim)
        if word == "range" { rangeDepth += 1 }
        let (body, terminator) = try parseList()
        if word == "range" { rangeDepth -= 1 }
        var elseList: [TemplateNode]?
        switch terminator {
        case .end:
            break
        case .elseBranch:
            let (list, after) = try parseList()
            switch after {
            case .end: elseList = list
            case .eof: throw error(src.count, "unexpected EOF")
            case .elseBranch(let o), .elseIf(let o), .elseWith(let o): throw error(o, "expected end; found {{else}}")
            }
        case .elseIf(let o):
            guard word == "if" else { throw error(o, "unexpected {{else if}} in {{\(word)}}") }
            elseList = [try parseControl("if", offset: o)]
        case .elseWith(let o):
            guard word == "with" else { throw error(o, "unexpected {{else with}} in {{\(word)}}") }
            elseList = [try parseControl("with", offset: o)]
        case .eof:
            throw error(src.count, "unexpected EOF")
        }
        switch word {
        case "if": return .ifNode(pipe, body, elseList)
        case "with": return .withNode(pipe, body, elseList)
        default: return .rangeNode(pipe, body, elseList)
        }
    }

    // MARK: pipelines

    private mutating func parsePipeline(context: String, end: TemplateToken.Kind) throws(TemplateError)
        -> TemplatePipeline
    {
        var pipe = TemplatePipeline(offset: peekNonSpace().offset)
        // Declarations: `$x :=`, `$x =`, `$i, $e :=` (range only).
        declarations: while case .variable(let name) = peekNonSpace().kind {
            let save = i
            let variable = nextNonSpace()
            let after = nextNonSpace()
            switch after.kind {
            case .declare, .assign:
                pipe.isAssign = after.kind == .assign
                if pipe.isAssign, !variables.contains(name) {
                    throw error(variable.offset, "undefined variable \(GoStrconv.quote(name))")
                }
                pipe.declarations.append(name)
                break declarations
            case .comma:
                pipe.declarations.append(name)
                guard context == "range", pipe.declarations.count < 2 else {
                    throw error(after.offset, "too many declarations in \(context)")
                }
                guard case .variable = peekNonSpace().kind else {
                    throw error(after.offset, "range can only initialize variables")
                }
                continue declarations
            default:
                if !pipe.declarations.isEmpty { throw unexpected(after, context) }
                i = save
                break declarations
            }
        }
        while true {
            let token = nextNonSpace()
            if token.kind == end {
                guard !pipe.commands.isEmpty else { throw error(token.offset, "missing value for \(context)") }
                for (n, command) in pipe.commands.enumerated().dropFirst() where command.args[0].isPlainValue {
                    throw error(command.offset, "non executable command in pipeline stage \(n + 1)")
                }
                // Declarations become visible after their pipeline (as in Go).
                for name in pipe.declarations where !pipe.isAssign { variables.append(name) }
                return pipe
            }
            switch token.kind {
            case .bool, .char, .dot, .field, .identifier, .number, .nilValue, .string, .variable, .leftParen:
                i -= 1
                pipe.commands.append(try parseCommand(context: context))
            default:
                throw unexpected(token, context)
            }
        }
    }

    private mutating func parseCommand(context: String) throws(TemplateError) -> TemplateCommand {
        let start = peekNonSpace().offset
        var command = TemplateCommand(offset: start, text: "")
        var endOffset = start
        while true {
            let operandStart = peekNonSpace().offset
            chainOffset = nil
            if let operand = try parseOperand() {
                command.args.append(operand)
                let end = max(operandStart, peek().offset)
                var text = String(decoding: src[operandStart..<end], as: UTF8.self)
                while let last = text.unicodeScalars.last, last.properties.isWhitespace { text.unicodeScalars.removeLast() }
                command.spans.append(TemplateSpan(offset: chainOffset ?? operandStart, text: text))
            }
            let token = next()
            endOffset = token.offset
            switch token.kind {
            case .space:
                continue
            case .rightDelim, .rightParen:
                i -= 1
            case .pipe:
                let after = peekNonSpace()
                if after.kind == .rightDelim || after.kind == .rightParen || after.kind == .eof {
                    throw error(after.offset, "missing command after |")
                }
            default:
                throw unexpected(token, "operand")
            }
            break
        }
        guard !command.args.isEmpty else { throw error(start, "empty command") }
        var text = String(decoding: src[start..<max(start, endOffset)], as: UTF8.self)
        while let last = text.unicodeScalars.last, last.properties.isWhitespace { text.unicodeScalars.removeLast() }
        command.text = text
        return command
    }

    private mutating func parseOperand() throws(TemplateError) -> TemplateOperand? {
        guard let term = try parseTerm() else { return nil }
        // A parenthesized term parsed commands of its own: only this operand's chain counts.
        chainOffset = nil
        var fields: [String] = []
        while case .field(let name) = peek().kind {
            if fields.isEmpty { chainOffset = peek().offset }
            fields.append(name)
            _ = next()
        }
        guard !fields.isEmpty else { return term }
        switch term {
        case .field(let base): return .field(base + fields)
        case .variable(let name, let base): return .variable(name, base + fields)
        case .pipeline, .function: return .chain(term, fields)
        case .dot, .literal, .nilLiteral, .chain:
            throw error(tokens[i - fields.count].offset, "unexpected . after term")
        }
    }

    private mutating func parseTerm() throws(TemplateError) -> TemplateOperand? {
        let token = nextNonSpace()
        switch token.kind {
        case .identifier(let name):
            guard TemplateFunctions.names.contains(name) else {
                throw error(token.offset, "function \(GoStrconv.quote(name)) not defined")
            }
            return .function(name)
        case .dot: return .dot
        case .nilValue: return .nilLiteral
        case .variable(let name):
            guard variables.contains(name) else {
                throw error(token.offset, "undefined variable \(GoStrconv.quote(name))")
            }
            return .variable(name, [])
        case .field(let name): return .field([name])
        case .bool(let b): return .literal(.bool(b))
        case .char(let c): return .literal(.int(c))
        case .string(let s): return .literal(.string(s))
        case .number(let text): return .literal(try number(text, offset: token.offset))
        case .leftParen:
            return .pipeline(try parsePipeline(context: "parenthesized pipeline", end: .rightParen))
        default:
            i -= 1
            return nil
        }
    }

    /// Go number syntax: decimal, 0x/0o/0b and leading-0 octal integers, `_` separators, decimal
    /// floats. Integers are `.int`, anything with a point or exponent is `.double`.
    private func number(_ text: String, offset: Int) throws(TemplateError) -> TemplateValue {
        let bad = error(offset, "bad number syntax: \(GoStrconv.quote(text))")
        var body = Substring(text)
        var negative = false
        if body.hasPrefix("+") || body.hasPrefix("-") {
            negative = body.hasPrefix("-")
            body = body.dropFirst()
        }
        let lower = body.lowercased()
        var radix = 10
        var digits = Substring(lower)
        if lower.hasPrefix("0x") { radix = 16; digits = digits.dropFirst(2) }
        else if lower.hasPrefix("0o") { radix = 8; digits = digits.dropFirst(2) }
        else if lower.hasPrefix("0b") { radix = 2; digits = digits.dropFirst(2) }
        if digits.hasPrefix("_") { digits = digits.dropFirst() }
        guard !digits.isEmpty, !digits.hasSuffix("_"), !digits.contains("__") else { throw bad }
        let clean = digits.filter { $0 != "_" }
        if radix == 10, clean.contains(where: { $0 == "." || $0 == "e" }) {
            guard clean.first != "e", let value = Double(clean) else { throw bad }
            return .double(negative ? -value : value)
        }
        if radix == 10, clean.count > 1, clean.hasPrefix("0") { radix = 8 }
        guard let magnitude = UInt64(clean, radix: radix) else { throw bad }
        if negative {
            guard magnitude <= UInt64(Int64.max) + 1 else { throw error(offset, "number out of range: \(text)") }
            return .int(magnitude == UInt64(Int64.max) + 1 ? Int64.min : -Int64(magnitude))
        }
        guard magnitude <= UInt64(Int64.max) else { throw error(offset, "number out of range: \(text)") }
        return .int(Int64(magnitude))
    }
}
