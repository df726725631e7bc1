/// A parsed Go `text/template`, as Docker's `--format` uses it.
///
/// Supported: text and `{{pipeline}}` actions; fields `.A.B`, `$`, `$x.A`, `(pipeline).A`; literals
/// (strings with Go escapes, raw strings, characters, numbers, `true`, `false`, `nil`); pipelines
/// `a | b`; variables `{{$x := …}}` and `{{$x = …}}`; `{{if}}`/`{{else if}}`/`{{else}}`,
/// `{{range}}` (with `$i, $e :=`, `{{else}}`, `{{break}}`, `{{continue}}`; over arrays, objects in key
/// order, and integers), `{{with}}`/`{{else with}}`; `{{- -}}` trimming; comments `{{/* */}}`; the
/// functions listed in `TemplateFunctions`. Not supported: `define`, `template`, `block`, `call`, `js`,
/// custom delimiters.
///
/// Missing data is lenient by default, as Go is over maps: a field that an object lacks, or any
/// field of null, is null and prints `<no value>`; `render(_:missingKey:)` can make it an error
/// (Docker's inspect, see `InspectFormatter`). A field of a string, number, bool or array is an error.
public struct Template: Sendable {
    let source: [UInt8]
    let nodes: [TemplateNode]

    public init(_ source: String) throws {
        var parser = try TemplateParser(source: source)
        nodes = try parser.parse()
        self.source = parser.src
    }

    /// The template run over `data`; `missingKey` says what a field the data lacks gives.
    public func render(_ data: TemplateValue, missingKey: MissingKey = .zero) throws(TemplateError) -> String {
        var executor = TemplateExecutor(source: source, data: data, missingKey: missingKey)
        try executor.run(nodes)
        return executor.output
    }

    /// Renders the header line of a table the way Docker does: against an object mapping each field
    /// name the template uses to `header(name)`, with `json`, `split`, `join`, `title`, `lower`, `upper`,
    /// `pad` and `truncate` returning their argument unchanged. Like Docker, an execution error is not
    /// reported: what was rendered up to it is the header.
    func renderHeader(_ header: (String) -> String) -> String {
        var names: [String] = []
        var seen: Set<String> = []
        Self.collectFields(nodes) { name in
            if seen.insert(name).inserted { names.append(name) }
        }
        let data = TemplateValue.object(names.map { (key: $0, value: .string(header($0))) })
        var executor = TemplateExecutor(source: source, data: data, headerMode: true)
        do { try executor.run(nodes) } catch {}
        return executor.output
    }

    private static func collectFields(_ nodes: [TemplateNode], _ add: (String) -> Void) {
        func pipeline(_ pipe: TemplatePipeline) {
            for command in pipe.commands { for arg in command.args { operand(arg) } }
        }
        func operand(_ op: TemplateOperand) {
            switch op {
            case .field(let names): if let first = names.first { add(first) }
            case .chain(let base, _): operand(base)
            case .pipeline(let inner): pipeline(inner)
            default: break
            }
        }
        for node in nodes {
            switch node {
            case .action(let pipe): pipeline(pipe)
            case .ifNode(let pipe, let body, let elseList), .rangeNode(let pipe, let body, let elseList),
                .withNode(let pipe, let body, let elseList):
                pipeline(pipe)
                collectFields(body, add)
                if let elseList { collectFields(elseList, add) }
            case .text, .breakNode, .continueNode: break
            }
        }
    }
}
