import GoCompat

/// What a field a map or struct lacks gives: Go's missingkey option, and Docker's inspect reading.
public enum MissingKey: Sendable, Equatable {
    /// Null (`<no value>`), Go's default over maps.
    case zero
    /// An error for a struct's field that does not exist (a map's key still gives null): Docker's
    /// typed inspect structs.
    case structFields
    /// An error for any key (`missingkey=error`): Docker's fallback over the raw JSON.
    case all
}

/// Walks a parse tree against data, writing into `output` (kept on failure, for partial results).
struct TemplateExecutor {
    private enum Flow { case normal, breakLoop, continueLoop }

    let source: [UInt8]
    let headerMode: Bool
    let missingKey: MissingKey
    var output = ""
    private var variables: [(name: String, value: TemplateValue)]
    /// Range iterations so far, over all the loops of this execution.
    private var iterations = 0
    /// Bounds on one execution. Go would spin on `{{range 100000000000}}` or fill memory; a typo in a
    /// --format should fail instead (nested loops share the iteration budget).
    static let maxIterations = 100_000
    static let maxOutputBytes = 64 << 20

    init(source: [UInt8], data: TemplateValue, headerMode: Bool = false, missingKey: MissingKey = .zero) {
        self.source = source
        self.headerMode = headerMode
        self.missingKey = missingKey
        variables = [(name: "$", value: data)]
    }

    mutating func run(_ nodes: [TemplateNode]) throws(TemplateError) {
        let data = variables[0].value
        _ = try walk(nodes, dot: data)
    }

    private mutating func walk(_ nodes: [TemplateNode], dot: TemplateValue) throws(TemplateError) -> Flow {
        for node in nodes {
            let flow = try walk(node, dot: dot)
            if flow != .normal { return flow }
        }
        return .normal
    }

    private mutating func walk(_ node: TemplateNode, dot: TemplateValue) throws(TemplateError) -> Flow {
        switch node {
        case .text(let text):
            output += text
        case .action(let pipe):
            let value = try evalPipeline(dot, pipe)
            if pipe.declarations.isEmpty { output += value.isNull ? "<no value>" : GoFormat.print(value) }
        case .ifNode(let pipe, let body, let elseList):
            let mark = variables.count
            defer { variables.removeLast(variables.count - mark) }
            if try evalPipeline(dot, pipe).isTruthy {
                return try walk(body, dot: dot)
            } else if let elseList {
                return try walk(elseList, dot: dot)
            }
        case .withNode(let pipe, let body, let elseList):
            let mark = variables.count
            defer { variables.removeLast(variables.count - mark) }
            let value = try evalPipeline(dot, pipe)
            if value.isTruthy {
                return try walk(body, dot: value)
            } else if let elseList {
                return try walk(elseList, dot: dot)
            }
        case .rangeNode(let pipe, let body, let elseList):
            return try walkRange(pipe, body, elseList, dot: dot)
        case .breakNode:
            return .breakLoop
        case .continueNode:
            return .continueLoop
        }
        return .normal
    }

    private mutating func walkRange(
        _ pipe: TemplatePipeline, _ body: [TemplateNode], _ elseList: [TemplateNode]?, dot: TemplateValue
    ) throws(TemplateError) -> Flow {
        let mark = variables.count
        defer { variables.removeLast(variables.count - mark) }
        var bare = pipe
        bare.declarations = []
        let collection = try evalPipeline(dot, bare)
        let count: Int64
        let item: (Int64) -> (key: TemplateValue, value: TemplateValue)
        switch collection {
        case .array(let elements):
            count = Int64(elements.count)
            item = { (key: .int($0), value: elements[Int($0)]) }
        case .object(let pairs, _):
            let sorted = GoFormat.sortedPairs(pairs)
            count = Int64(sorted.count)
            item = { (key: .string(sorted[Int($0)].key), value: sorted[Int($0)].value) }
        case .int(let n):
            count = max(n, 0)
            item = { (key: .int($0), value: .int($0)) }
        case .null:
            count = 0
            item = { _ in (key: .null, value: .null) }
        default:
            // Go names the node it evaluated last: the pipeline's (last) operand.
            let message = "range can't iterate over \(GoFormat.print(collection))"
            guard let last = pipe.commands.last else { throw error(pipe.offset, message) }
            throw error(last.args.count == 1 ? last.span(0) : TemplateSpan(offset: last.offset, text: last.text), message)
        }
        var index: Int64 = 0
        while index < count {
            iterations += 1
            guard iterations <= Self.maxIterations else {
                throw error(pipe.offset, "range: more than \(Self.maxIterations) iterations")
            }
            guard output.utf8.count <= Self.maxOutputBytes else {
                throw error(pipe.offset, "range: output larger than \(Self.maxOutputBytes >> 20) MiB")
            }
            let (key, value) = item(index)
            index += 1
            let iterationMark = variables.count
            switch pipe.declarations.count {
            case 1:
                variables.append((name: pipe.declarations[0], value: value))
            case 2:
                variables.append((name: pipe.declarations[0], value: key))
                variables.append((name: pipe.declarations[1], value: value))
            default:
                break
            }
            let flow = try walk(body, dot: value)
            variables.removeLast(variables.count - iterationMark)
            if flow == .breakLoop { break }
        }
        if count == 0, let elseList { return try walk(elseList, dot: dot) }
        return .normal
    }

    // MARK: pipelines and commands

    private func error(_ offset: Int, _ message: String) -> TemplateError {
        TemplateError(source: source, offset: offset, message: message)
    }

    private func error(_ command: TemplateCommand, _ message: String) -> TemplateError {
        TemplateError(source: source, offset: command.offset, message: message, node: command.text)
    }

    private func error(_ span: TemplateSpan, _ message: String) -> TemplateError {
        TemplateError(source: source, offset: span.offset, message: message, node: span.text)
    }

    private mutating func evalPipeline(_ dot: TemplateValue, _ pipe: TemplatePipeline) throws(TemplateError)
        -> TemplateValue
    {
        var value: TemplateValue?
        for command in pipe.commands {
            value = try evalCommand(dot, command, final: value)
        }
        let result = value ?? .null
        for name in pipe.declarations {
            if pipe.isAssign, let at = variables.lastIndex(where: { $0.name == name }) {
                variables[at].value = result
            } else {
                variables.append((name: name, value: result))
            }
        }
        return result
    }

    private mutating func evalCommand(_ dot: TemplateValue, _ command: TemplateCommand, final: TemplateValue?)
        throws(TemplateError) -> TemplateValue
    {
        let first = command.args[0]
        let rest = Array(command.args.dropFirst())
        let hasArgs = !rest.isEmpty || final != nil
        switch first {
        case .field(let names):
            return try fieldChain(dot, names, hasArgs: hasArgs, command.span(0))
        case .variable(let name, let names):
            let value = lookup(name)
            if names.isEmpty {
                if hasArgs { throw error(command, "can't give argument to non-function \(name)") }
                return value
            }
            return try fieldChain(value, names, hasArgs: hasArgs, command.span(0))
        case .chain(let base, let names):
            let value = try evalArg(dot, base, command, command.span(0))
            return try fieldChain(value, names, hasArgs: hasArgs, command.span(0))
        case .function(let name):
            return try call(name, dot: dot, args: rest, final: final, command)
        case .pipeline(let inner):
            if hasArgs { throw error(command, "can't give argument to non-function (...)") }
            return try evalPipeline(dot, inner)
        case .nilLiteral:
            throw error(command, "nil is not a command")
        case .dot, .literal:
            if hasArgs { throw error(command, "can't give argument to non-function \(command.text.split(separator: " ").first ?? "")") }
            return try evalArg(dot, first, command, command.span(0))
        }
    }

    private mutating func evalArg(_ dot: TemplateValue, _ operand: TemplateOperand, _ command: TemplateCommand, _ span: TemplateSpan)
        throws(TemplateError) -> TemplateValue
    {
        switch operand {
        case .field(let names): return try fieldChain(dot, names, hasArgs: false, span)
        case .variable(let name, let names): return try fieldChain(lookup(name), names, hasArgs: false, span)
        case .chain(let base, let names):
            return try fieldChain(try evalArg(dot, base, command, span), names, hasArgs: false, span)
        case .function(let name): return try call(name, dot: dot, args: [], final: nil, command)
        case .pipeline(let inner): return try evalPipeline(dot, inner)
        case .dot: return dot
        case .literal(let value): return value
        case .nilLiteral: return .null
        }
    }

    private func lookup(_ name: String) -> TemplateValue {
        variables.last { $0.name == name }?.value ?? .null
    }

    /// `.A.B.C` from `receiver`. A key an object lacks is null (`<no value>`), as Go's templates
    /// read `map[string]interface{}`, unless `missingKey` makes it an error (then a field of null
    /// is one too, as Go's nil pointer). A field of any other kind is an error.
    private func fieldChain(_ receiver: TemplateValue, _ names: [String], hasArgs: Bool, _ span: TemplateSpan)
        throws(TemplateError) -> TemplateValue
    {
        var current = receiver
        // Go's typed reading goes on quietly past a key a map lacks (an invalid value), not past a nil.
        var missedMapKey = false
        for (n, name) in names.enumerated() {
            switch current {
            case .null:
                if missingKey == .zero || (missingKey == .structFields && missedMapKey) { return .null }
                throw error(span, "nil pointer evaluating interface {}.\(name)")
            case .object(let pairs, let kind):
                if hasArgs, n == names.count - 1 {
                    throw error(span, "\(name) is not a method but has arguments")
                }
                if let value = pairs.last(where: { $0.key == name })?.value {
                    current = value
                    continue
                }
                switch (missingKey, kind) {
                case (.all, _), (.structFields, .structure):
                    if case .structure(let omitted) = kind, missingKey == .structFields, omitted.contains(name) {
                        current = .null
                        continue
                    }
                    throw error(span, "map has no entry for key \(GoStrconv.quote(name))")
                default:
                    current = .null
                    missedMapKey = true
                }
            default:
                // Over the raw JSON (Docker's fallback) every value is an interface{}.
                throw error(span, "can't evaluate field \(name) in type \(missingKey == .all ? "interface {}" : current.typeName)")
            }
        }
        return current
    }

    private mutating func call(
        _ name: String, dot: TemplateValue, args: [TemplateOperand], final: TemplateValue?, _ command: TemplateCommand
    ) throws(TemplateError) -> TemplateValue {
        if name == "and" || name == "or" {
            // Short-circuit: stop evaluating at the first false (and) or true (or) argument.
            let count = args.count + (final == nil ? 0 : 1)
            guard count > 0 else { throw error(command, "wrong number of args for \(name): want at least 1 got 0") }
            var value = TemplateValue.null
            for (index, arg) in args.enumerated() {
                value = try evalArg(dot, arg, command, command.span(1 + index))
                if value.isTruthy == (name == "or") { return value }
            }
            return final ?? value
        }
        var values: [TemplateValue] = []
        for (index, arg) in args.enumerated() { values.append(try evalArg(dot, arg, command, command.span(1 + index))) }
        if let final { values.append(final) }
        do {
            return try TemplateFunctions.call(name, values, headerMode: headerMode)
        } catch {
            throw self.error(command, error.fromCall ? "error calling \(name): \(error.message)" : error.message)
        }
    }
}
