/// The first pass over a Dockerfile, as BuildKit's `parser.Parse` makes it: physical lines become
/// logical instructions (directives, comments, continuations, heredoc bodies), each split into its
/// keyword, its `--flags` and its arguments. Meaning (is this a valid COPY?) comes later, in
/// `Instruction.parse`.

/// The parser directives: `# key=value` lines at the very top of the file.
public struct Directives: Equatable, Sendable {
    /// The escape and line-continuation character: `\` or `` ` `` (handy on Windows paths).
    public var escape: Unicode.Scalar = "\\"
    /// `# syntax=docker/dockerfile:1` names a frontend image; we are the frontend, so it is only recorded.
    public var syntax: String?
    /// `# check=skip=...` configures BuildKit's linter; recorded, not acted on.
    public var check: String?
    public init() {}
}

/// A heredoc (`<<EOF` … `EOF`) attached to RUN, COPY or ADD.
public struct Heredoc: Equatable, Sendable {
    /// The delimiter word with quotes removed; for COPY it is also the file name.
    public var name: String
    /// `3<<EOF` feeds fd 3 of the command; 0 when none is written.
    public var fileDescriptor: Int
    /// False when any part of the delimiter was quoted (`<<"EOF"`, `<<'EOF'`): the body is then literal.
    public var expand: Bool
    /// `<<-EOF`: leading tabs are removed from the body lines and the terminator.
    public var chomp: Bool
    /// The body exactly as in the file, each line with its newline, tabs not yet removed.
    public var rawContent: String

    public init(name: String, fileDescriptor: Int = 0, expand: Bool = true, chomp: Bool = false, rawContent: String) {
        self.name = name
        self.fileDescriptor = fileDescriptor
        self.expand = expand
        self.chomp = chomp
        self.rawContent = rawContent
    }

    /// The body as a file gets it: with `<<-`, leading tabs removed from every line.
    public var content: String { chomp ? stripLeadingTabs(rawContent) : rawContent }
}

func stripLeadingTabs(_ s: String) -> String {
    var out = String.UnicodeScalarView()
    var atLineStart = true
    for c in s.unicodeScalars {
        if atLineStart && c == "\t" { continue }
        atLineStart = c == "\n"
        out.append(c)
    }
    return String(out)
}

/// One logical instruction before interpretation (BuildKit's AST node).
struct Node: Sendable {
    var keyword: String  // as written: errors quote `RUNN`, not `runn`
    var flags: [String] = []
    var args: [String] = []
    var isJSON = false
    var original: String
    var heredocs: [Heredoc] = []
    var startLine = 0
    var endLine = 0
    var child: [Node] = []  // ONBUILD's trigger (0 or 1)
    var comments: [String] = []
}

struct ParsedFile: Sendable {
    var directives: Directives
    var nodes: [Node]
    var warnings: [String]
}

// MARK: - small scalar helpers (Go's regexp classes, by hand)

/// `[\t\v\f\r ]` — the separator BuildKit splits whitespace-delimited arguments on.
@inline(__always) func isTokenSpace(_ c: Unicode.Scalar) -> Bool {
    c == " " || c == "\t" || c == "\u{0B}" || c == "\u{0C}" || c == "\r"
}

func trimmed(_ s: String) -> String {
    let v = Array(s.unicodeScalars)
    var start = 0
    var end = v.count
    while start < end && isSpace(v[start]) { start += 1 }
    while end > start && isSpace(v[end - 1]) { end -= 1 }
    return String(String.UnicodeScalarView(v[start..<end]))
}

func trimmedLeft(_ s: String) -> String {
    let v = Array(s.unicodeScalars)
    var start = 0
    while start < v.count && isSpace(v[start]) { start += 1 }
    return String(String.UnicodeScalarView(v[start...]))
}

/// Go's `regexp.Split(s, n)` for `[\t\v\f\r ]+`.
func splitTokenSpace(_ s: String, limit: Int = -1) -> [String] {
    var parts: [String] = []
    var current = String.UnicodeScalarView()
    var v = Array(s.unicodeScalars)[...]
    while let c = v.first {
        if isTokenSpace(c), limit < 0 || parts.count < limit - 1 {
            parts.append(String(current))
            current = String.UnicodeScalarView()
            while let d = v.first, isTokenSpace(d) { v = v.dropFirst() }
            continue
        }
        current.append(c)
        v = v.dropFirst()
    }
    parts.append(String(current))
    return parts
}

/// Strips the line ending (any run of trailing `\r`/`\n`).
func trimNewline(_ s: String) -> String {
    var v = Array(s.unicodeScalars)
    while let last = v.last, last == "\r" || last == "\n" { v.removeLast() }
    return String(String.UnicodeScalarView(v))
}

func isCommentLine(_ s: String) -> Bool { trimmedLeft(trimNewline(s)).unicodeScalars.first == "#" }

// MARK: - the parser

enum Parser {
    static let instructionsWithHeredocs: Set<String> = ["add", "copy", "run"]

    static func parse(_ text: String, file: String) throws(DockerfileError) -> ParsedFile {
        var lines = splitLinesKeepingEnds(text)
        if let first = lines.first, first.hasPrefix("\u{FEFF}") {
            lines[0] = String(first.dropFirst())  // a UTF-8 byte-order mark on the first line
        }
        var directives = Directives()
        var directivesDone = false
        var seen: Set<String> = []
        var nodes: [Node] = []
        var warnings: [String] = []
        var comments: [String] = []
        var index = 0
        var currentLine = 0

        /// Only the first lines may be directives: the first line that is not `# key=value` (a blank
        /// line, another comment, an instruction, an unknown key) ends the directive section for good.
        func possibleDirective(_ line: String) throws(DockerfileError) {
            if directivesDone { return }
            guard let (key, value) = matchDirective(line) else {
                directivesDone = true
                return
            }
            let k = key.lowercased()
            guard k == "escape" || k == "syntax" || k == "check" else {
                directivesDone = true
                return
            }
            if seen.contains(k) {
                throw DockerfileError(file: file, line: currentLine, "only one \(k) parser directive can be used")
            }
            seen.insert(k)
            switch k {
            case "escape":
                guard value == "\\" || value == "`", let scalar = value.unicodeScalars.first else {
                    throw DockerfileError(file: file, line: currentLine, "invalid escape token '\(value)' does not match ` or \\")
                }
                directives.escape = scalar
            case "syntax": directives.syntax = value
            default: directives.check = value
            }
        }

        /// Trailing escape (not itself escaped) + optional blanks = the instruction goes on.
        func trimContinuation(_ line: String) -> (String, Bool) {
            var v = Array(line.unicodeScalars)
            var end = v.count
            while end > 0 && (v[end - 1] == " " || v[end - 1] == "\t") { end -= 1 }
            guard end > 0, v[end - 1] == directives.escape else { return (line, true) }
            if end >= 2 && v[end - 2] == directives.escape { return (line, true) }
            v.removeSubrange((end - 1)...)
            return (String(String.UnicodeScalarView(v)), false)
        }

        /// Comments are whole lines starting with `#`; there are no end-of-line comments.
        func stripComment(_ s: String) -> String { s.unicodeScalars.first == "#" ? "" : s }

        while index < lines.count {
            let raw = lines[index]
            index += 1
            if isCommentLine(raw) {
                comments.append(trimmed(String(trimmedLeft(raw).dropFirst())))
            }
            currentLine += 1
            let first = trimmedLeft(trimNewline(raw))
            try possibleDirective(first)
            let startLine = currentLine
            var (line, isEnd) = trimContinuation(stripComment(first))
            if isEnd && line.isEmpty { continue }

            var emptyContinuation = false
            while !isEnd && index < lines.count {
                let next = lines[index]
                index += 1
                currentLine += 1
                let content = stripComment(trimNewline(next))
                try possibleDirective(trimNewline(next))
                // Inside a continuation, comment lines are dropped and blank lines are skipped
                // (BuildKit warns about the latter; they will become errors one day).
                if isCommentLine(next) { continue }
                if trimmedLeft(content).isEmpty {
                    emptyContinuation = true
                    continue
                }
                let (piece, end) = trimContinuation(content)
                line += piece
                isEnd = end
            }
            if emptyContinuation {
                warnings.append("[WARNING]: Empty continuation line found in:\n    " + line)
            }

            var node = try nodeFromLine(line, escape: directives.escape, file: file, line: startLine)
            node.comments = comments
            if canContainHeredoc(node) {
                for var heredoc in heredocsFromLine(line) {
                    var terminated = false
                    var body = ""
                    while index < lines.count {
                        let bodyLine = lines[index]
                        index += 1
                        currentLine += 1
                        var candidate = trimNewline(bodyLine)
                        if heredoc.chomp { candidate = String(candidate.unicodeScalars.drop { $0 == "\t" }) }
                        if candidate == heredoc.name {
                            terminated = true
                            break
                        }
                        body += bodyLine
                    }
                    guard terminated else {
                        throw DockerfileError(file: file, line: startLine, instruction: node.keyword, "unterminated heredoc")
                    }
                    heredoc.rawContent = body
                    node.heredocs.append(heredoc)
                }
            }
            node.startLine = startLine
            node.endLine = currentLine
            nodes.append(node)
            comments = []
        }
        if !warnings.isEmpty {
            warnings.append("[WARNING]: Empty continuation lines will become errors in a future release.")
        }
        if nodes.isEmpty {
            throw DockerfileError(file: file, line: currentLine, "file with no instructions")
        }
        return ParsedFile(directives: directives, nodes: nodes, warnings: warnings)
    }

    static func splitLinesKeepingEnds(_ text: String) -> [String] {
        var lines: [String] = []
        var current = String.UnicodeScalarView()
        for c in text.unicodeScalars {
            current.append(c)
            if c == "\n" {
                lines.append(String(current))
                current = String.UnicodeScalarView()
            }
        }
        if !current.isEmpty { lines.append(String(current)) }
        return lines
    }

    /// `^#\s*([a-zA-Z][a-zA-Z0-9]*)\s*=\s*(.+?)\s*$`
    static func matchDirective(_ line: String) -> (String, String)? {
        var v = Array(line.unicodeScalars)[...]
        guard v.first == "#" else { return nil }
        v = v.dropFirst()
        while let c = v.first, isSpace(c) { v = v.dropFirst() }
        var key = ""
        while let c = v.first, c.isASCII, c.properties.isAlphabetic || (key.isEmpty ? false : ("0"..."9").contains(c)) {
            key.unicodeScalars.append(c)
            v = v.dropFirst()
        }
        guard !key.isEmpty else { return nil }
        while let c = v.first, isSpace(c) { v = v.dropFirst() }
        guard v.first == "=" else { return nil }
        v = v.dropFirst()
        let value = trimmed(String(String.UnicodeScalarView(v)))
        guard !value.isEmpty else { return nil }
        return (key, value)
    }

    static func canContainHeredoc(_ node: Node) -> Bool {
        var n = node
        if n.keyword.lowercased() == "onbuild", let child = n.child.first { n = child }
        return instructionsWithHeredocs.contains(n.keyword.lowercased()) && !n.isJSON
    }

    /// Every word of the line that looks like `[n]<<[-]WORD` opens a heredoc, in order.
    static func heredocsFromLine(_ line: String) -> [Heredoc] {
        var lexer = ShellLexer(escape: "\\")
        lexer.rawQuotes = true
        lexer.rawEscapes = true
        lexer.skipUnsetEnv = true
        let words = (try? lexer.processWords(line, environment: [:])) ?? []
        return words.compactMap { parseHeredoc($0) }
    }

    /// `^(\d*)<<(-?)([^<]*)$`, then the delimiter lexed with and without quotes: if the quote counts
    /// differ, part of it was quoted and the body must not be expanded.
    static func parseHeredoc(_ word: String) -> Heredoc? {
        var v = Array(word.unicodeScalars)[...]
        var fd = ""
        while let c = v.first, ("0"..."9").contains(c) {
            fd.unicodeScalars.append(c)
            v = v.dropFirst()
        }
        guard v.starts(with: "<<".unicodeScalars) else { return nil }
        v = v.dropFirst(2)
        var chomp = false
        if v.first == "-" {
            chomp = true
            v = v.dropFirst()
        }
        guard !v.isEmpty, !v.contains("<") else { return nil }
        let rest = String(String.UnicodeScalarView(v))
        var lexer = ShellLexer(escape: "\\")
        lexer.skipUnsetEnv = true
        guard let words = try? lexer.processWords(rest, environment: [:]), words.count == 1 else { return nil }
        lexer.rawQuotes = true
        guard let raw = try? lexer.processWords(rest, environment: [:]), raw.count == 1 else { return nil }
        func quotes(_ s: String) -> Int { s.unicodeScalars.filter { $0 == "'" || $0 == "\"" }.count }
        return Heredoc(
            name: words[0], fileDescriptor: Int(fd) ?? 0, expand: quotes(words[0]) == quotes(raw[0]),
            chomp: chomp, rawContent: "")
    }

    // MARK: splitting an instruction line

    static func nodeFromLine(_ line: String, escape: Unicode.Scalar, file: String, line number: Int) throws(DockerfileError) -> Node {
        let parts = splitTokenSpace(trimmed(line), limit: 2)
        let keyword = parts[0]
        var node = Node(keyword: keyword, original: line)
        var rest = ""
        if parts.count == 2 {
            (rest, node.flags) = extractFlags(parts[1])
        }
        rest = trimmed(rest)
        func fail(_ message: String) -> DockerfileError {
            DockerfileError(file: file, line: number, instruction: keyword, message)
        }
        switch keyword.lowercased() {
        case "add", "copy", "volume":
            switch parseJSONArray(rest) {
            case .strings(let s): (node.args, node.isJSON) = (s, true)
            case .notAllStrings: throw fail("when using JSON array syntax, arrays must be comprised of strings only")
            case .notJSON: node.args = rest.isEmpty ? [] : splitTokenSpace(rest)
            }
        case "cmd", "entrypoint", "run", "shell":
            guard !rest.isEmpty else { break }
            switch parseJSONArray(rest) {
            case .strings(let s): (node.args, node.isJSON) = (s, true)
            case .notAllStrings: throw fail("when using JSON array syntax, arrays must be comprised of strings only")
            case .notJSON: node.args = [rest]
            }
        case "arg":
            node.args = parseWords(rest, escape: escape)
        case "env", "label":
            node.args = try parseNameValue(rest, keyword: keyword.lowercased() == "env" ? "ENV" : "LABEL", escape: escape, fail: fail)
        case "expose", "from":
            node.args = rest.isEmpty ? [] : splitTokenSpace(rest)
        case "healthcheck":
            // The first word is the type (CMD/NONE); the rest is like CMD's argument.
            let v = Array(rest.unicodeScalars)
            var sep = 0
            while sep < v.count && !isSpace(v[sep]) { sep += 1 }
            guard sep > 0 else { break }
            var next = sep
            while next < v.count && isSpace(v[next]) { next += 1 }
            node.args = [String(String.UnicodeScalarView(v[..<sep]))]
            let command = String(String.UnicodeScalarView(v[next...]))
            if !command.isEmpty {
                switch parseJSONArray(command) {
                case .strings(let s):
                    node.args += s
                    node.isJSON = true
                case .notAllStrings: throw fail("when using JSON array syntax, arrays must be comprised of strings only")
                case .notJSON: node.args.append(command)
                }
            }
        case "maintainer", "stopsignal", "user", "workdir":
            // The whole rest is one argument, spaces included.
            if !rest.isEmpty { node.args = [rest] }
        case "onbuild":
            if !rest.isEmpty {
                let child = try nodeFromLine(rest, escape: escape, file: file, line: number)
                node.child = [child]
                node.args = [child.keyword] + child.args
            }
        default:
            break  // unknown: reported with its line when instructions are interpreted
        }
        return node
    }

    /// Leading `--name[=value]` words (quotes and backslashes processed), up to the first other word
    /// or a lone `--`.
    static func extractFlags(_ line: String) -> (String, [String]) {
        let v = Array(line.unicodeScalars)
        var flags: [String] = []
        var word = String.UnicodeScalarView()
        var inWord = false
        var quote: Unicode.Scalar? = nil
        var blankOK = false
        var pos = 0
        func rest(_ from: Int) -> String { String(String.UnicodeScalarView(v[from...])) }
        while pos <= v.count {
            if !inWord && quote == nil {
                if pos == v.count { break }
                if isSpace(v[pos]) {
                    pos += 1
                    continue
                }
                // Only words starting with `--` are flags; the first other word starts the arguments.
                if v[pos] != "-" || pos + 1 == v.count || v[pos + 1] != "-" { return (rest(pos), flags) }
                inWord = true
            }
            if pos == v.count {
                let w = String(word)
                if w != "--" && (blankOK || !w.isEmpty) { flags.append(w) }
                break
            }
            let c = v[pos]
            if let q = quote {
                if c == q {
                    quote = nil
                } else if c == "\\" {
                    if pos + 1 == v.count {
                        quote = nil
                    } else {
                        pos += 1
                        word.append(v[pos])
                    }
                } else {
                    word.append(c)
                }
                pos += 1
                continue
            }
            if isSpace(c) {
                let w = String(word)
                if w == "--" { return (rest(pos), flags) }
                if blankOK || !w.isEmpty { flags.append(w) }
                word = String.UnicodeScalarView()
                blankOK = false
                inWord = false
                pos += 1
                continue
            }
            if c == "'" || c == "\"" {
                quote = c
                blankOK = true
            } else if c == "\\" {
                if pos + 1 < v.count {
                    pos += 1
                    word.append(v[pos])
                }
            } else {
                word.append(c)
            }
            pos += 1
        }
        return ("", flags)
    }

    /// Words split on white space with quotes and escapes *kept* (they are removed at expansion).
    static func parseWords(_ rest: String, escape: Unicode.Scalar) -> [String] {
        let v = Array(rest.unicodeScalars)
        var words: [String] = []
        var word = String.UnicodeScalarView()
        var inSpaces = true
        var quote: Unicode.Scalar? = nil
        var blankOK = false
        var pos = 0
        while pos <= v.count {
            if inSpaces && quote == nil {
                if pos == v.count { break }
                if isSpace(v[pos]) {
                    pos += 1
                    continue
                }
                inSpaces = false
            }
            if pos == v.count {
                if blankOK || !word.isEmpty { words.append(String(word)) }
                break
            }
            var c = v[pos]
            if let q = quote {
                if c == q { quote = nil }
                // The escape character works inside double quotes only.
                if c == escape && q != "'" {
                    if pos + 1 == v.count {
                        quote = nil
                        pos += 1
                        continue
                    }
                    pos += 1
                    word.append(c)
                    c = v[pos]
                }
                word.append(c)
                pos += 1
                continue
            }
            if isSpace(c) {
                inSpaces = true
                if blankOK || !word.isEmpty { words.append(String(word)) }
                word = String.UnicodeScalarView()
                blankOK = false
                pos += 1
                continue
            }
            if c == "'" || c == "\"" {
                quote = c
                blankOK = true
            }
            if c == escape {
                if pos + 1 == v.count {
                    pos += 1
                    continue
                }
                word.append(c)
                pos += 1
                c = v[pos]
            }
            word.append(c)
            pos += 1
        }
        return words
    }

    /// ENV and LABEL: `KEY value with spaces` (legacy, when the first word has no `=`) or
    /// `k=v k2="v 2"`. Returns key, value, key, value…, still quoted.
    static func parseNameValue(
        _ rest: String, keyword: String, escape: Unicode.Scalar, fail: (String) -> DockerfileError
    ) throws(DockerfileError) -> [String] {
        let words = parseWords(rest, escape: escape)
        guard let first = words.first else { return [] }
        if !first.contains("=") {
            let parts = splitTokenSpace(rest, limit: 2)
            guard parts.count == 2 else { throw fail("\(keyword) must have two arguments") }
            return parts
        }
        var out: [String] = []
        for word in words {
            guard let eq = word.firstIndex(of: "=") else {
                throw fail("Syntax error - can't find = in \"\(word)\". Must be of the form: name=value")
            }
            out.append(String(word[..<eq]))
            out.append(String(word[word.index(after: eq)...]))
        }
        return out
    }
}
