/// The parse tree of a template.
indirect enum TemplateNode: Sendable {
    case text(String)
    /// `{{pipeline}}`: prints the value unless the pipeline declares or assigns variables.
    case action(TemplatePipeline)
    case ifNode(TemplatePipeline, [TemplateNode], [TemplateNode]?)
    case rangeNode(TemplatePipeline, [TemplateNode], [TemplateNode]?)
    case withNode(TemplatePipeline, [TemplateNode], [TemplateNode]?)
    case breakNode
    case continueNode
}

/// `$a, $b := cmd | cmd | cmd`.
struct TemplatePipeline: Sendable {
    var offset: Int
    var declarations: [String] = []
    var isAssign = false
    var commands: [TemplateCommand] = []
}

/// One stage of a pipeline: an operand, or a function and its arguments.
struct TemplateCommand: Sendable {
    var offset: Int
    /// The command as written, for error messages (`at <index .A 5>`).
    var text: String
    var args: [TemplateOperand] = []
    /// Where each argument is, for errors Go reports at the argument (a missing field).
    var spans: [TemplateSpan] = []

    /// The span of argument `index` (the whole command when unknown).
    func span(_ index: Int) -> TemplateSpan {
        spans.indices.contains(index) ? spans[index] : TemplateSpan(offset: offset, text: text)
    }
}

/// One operand as Go's parser places it: its text, and its position (for `.A.B`, where the chain
/// after the first element starts, as Go's FieldNode has it).
struct TemplateSpan: Sendable {
    var offset: Int
    var text: String
}

indirect enum TemplateOperand: Sendable {
    /// `.A.B` on dot.
    case field([String])
    /// `$x.A.B` (`$` is the data).
    case variable(String, [String])
    /// `(pipeline).A.B`.
    case chain(TemplateOperand, [String])
    case function(String)
    case dot
    case literal(TemplateValue)
    case nilLiteral
    case pipeline(TemplatePipeline)

    var isPlainValue: Bool {
        switch self {
        case .dot, .literal, .nilLiteral: return true
        default: return false
        }
    }
}
