/// Docker's variable substitution and word splitting (BuildKit's `shell.Lex`).
///
/// It is *not* a shell: it knows `$VAR`, `${VAR}`, the `${VAR:-x}` family, `${VAR#pat}`/`%`/`/`,
/// single quotes (literal), double quotes (only `$`, `"` and the escape character are special) and
/// the escape character. It never runs commands; `$(...)` and backquotes are left as text. The builder
/// uses it on the parts of ADD COPY ENV EXPOSE FROM LABEL STOPSIGNAL USER VOLUME WORKDIR (and the
/// ARG default, RUN --mount values, COPY/ADD flags); RUN, CMD and ENTRYPOINT go to the real shell as written.
public struct ShellLexer: Sendable {
    /// `\` unless the Dockerfile said `# escape=``.
    public var escape: Unicode.Scalar
    /// Keep quote characters in the output (used to tell a quoted heredoc delimiter apart).
    public var rawQuotes = false
    /// Keep escape characters in the output.
    public var rawEscapes = false
    /// Treat quotes as ordinary characters: heredoc bodies are scripts, their quotes belong to them.
    public var skipProcessQuotes = false
    /// Leave `$X` as written when X is unset instead of substituting "".
    public var skipUnsetEnv = false

    public init(escape: Unicode.Scalar = "\\") {
        self.escape = escape
    }

    /// One word: substitutions and quote removal, spaces kept as they are (`ENV A="x  y"` → `x  y`).
    public func processWord(_ word: String, environment: [String: String]) throws(DockerfileError) -> String {
        try process(word, environment).word
    }

    /// Substitute, then split on unquoted white space; quoted and substituted-from-quotes text stays whole.
    public func processWords(_ word: String, environment: [String: String]) throws(DockerfileError) -> [String] {
        try process(word, environment).words
    }

    /// The result and the variable names it looked up, found or not (for "unused build-arg" and lint).
    public func processWithMatches(_ word: String, environment: [String: String]) throws(DockerfileError)
        -> (word: String, matched: Set<String>, unmatched: Set<String>)
    {
        let result = try process(word, environment)
        return (result.word, result.matched, result.unmatched)
    }

    func process(_ source: String, _ env: [String: String]) throws(DockerfileError)
        -> (word: String, words: [String], matched: Set<String>, unmatched: Set<String>)
    {
        var scanner = Scanner(lexer: self, text: Array(source.unicodeScalars), env: env)
        do {
            let (word, words) = try scanner.processStopOn(nil, rawEscapes: rawEscapes)
            return (word, words, scanner.matched, scanner.unmatched)
        } catch {
            throw DockerfileError("failed to process \"\(source)\": \(error.message)")
        }
    }
}

/// Go's `unicode.IsSpace` for the characters Dockerfiles contain.
@inline(__always) func isSpace(_ c: Unicode.Scalar) -> Bool {
    switch c {
    case " ", "\t", "\n", "\r", "\u{0B}", "\u{0C}", "\u{85}", "\u{A0}": return true
    default: return c.value > 0xFF && c.properties.isWhitespace
    }
}

/// Words being split while the lexer runs (BuildKit's `wordsStruct`).
private struct Words {
    var word = ""
    var words: [String] = []
    var inWord = false

    mutating func addChar(_ c: Unicode.Scalar) {
        if isSpace(c) {
            if inWord && !word.isEmpty {
                words.append(word)
                word = ""
                inWord = false
            }
        } else {
            addRawChar(c)
        }
    }
    mutating func addRawChar(_ c: Unicode.Scalar) {
        word.unicodeScalars.append(c)
        inWord = true
    }
    mutating func addString(_ s: String) { for c in s.unicodeScalars { addChar(c) } }
    mutating func addRawString(_ s: String) {
        word += s
        inWord = true
    }
    mutating func finish() -> [String] {
        if !word.isEmpty {
            words.append(word)
            word = ""
            inWord = false
        }
        return words
    }
}

private struct LexError: Error {
    var message: String
    init(_ message: String) { self.message = message }
}

private struct Scanner {
    let lexer: ShellLexer
    let text: [Unicode.Scalar]
    let env: [String: String]
    var pos = 0
    var rawEscapes: Bool
    var matched: Set<String> = []
    var unmatched: Set<String> = []
    /// `${…}` expansions open around the current position. Each level is a few frames of recursion:
    /// `${A:-${A:-…}}` 5,000 deep (a 30 KB Dockerfile) overflowed the stack.
    var nesting = 0
    static let maxNesting = 100

    init(lexer: ShellLexer, text: [Unicode.Scalar], env: [String: String]) {
        self.lexer = lexer
        self.text = text
        self.env = env
        self.rawEscapes = lexer.rawEscapes
    }

    var peek: Unicode.Scalar? { pos < text.count ? text[pos] : nil }
    mutating func next() -> Unicode.Scalar? {
        guard pos < text.count else { return nil }
        defer { pos += 1 }
        return text[pos]
    }

    /// Reads up to `stop` (consumed) or the end; `nil` means "to the end".
    mutating func processStopOn(_ stop: Unicode.Scalar?, rawEscapes raw: Bool) throws(LexError) -> (String, [String]) {
        let saved = rawEscapes
        rawEscapes = raw
        defer { rawEscapes = saved }
        var result = ""
        var words = Words()
        while let c = peek {
            if let stop, c == stop {
                pos += 1
                return (result, words.finish())
            }
            if c == "$" {
                let value = try processDollar()
                result += value
                // A substituted value is split like unquoted text: `ARG X="a b"` then `$X` is two words.
                words.addString(value)
            } else if !lexer.skipProcessQuotes && (c == "'" || c == "\"") {
                let value = c == "'" ? try processSingleQuote() : try processDoubleQuote()
                result += value
                words.addRawString(value)
            } else {
                pos += 1
                var ch = c
                if ch == lexer.escape {
                    if rawEscapes {
                        words.addRawChar(ch)
                        result.unicodeScalars.append(ch)
                    }
                    // The escape character makes the next one literal; at the very end it vanishes.
                    guard let escaped = next() else { break }
                    ch = escaped
                    words.addRawChar(ch)
                } else {
                    words.addChar(ch)
                }
                result.unicodeScalars.append(ch)
            }
        }
        if let stop {
            throw LexError("unexpected end of statement while looking for matching \(Character(stop))")
        }
        return (result, words.finish())
    }

    /// Everything up to the next `'` is literal; a single quote cannot be escaped inside.
    mutating func processSingleQuote() throws(LexError) -> String {
        var result = ""
        let open = next()
        if lexer.rawQuotes, let open { result.unicodeScalars.append(open) }
        while true {
            guard let c = next() else {
                throw LexError("unexpected end of statement while looking for matching single-quote")
            }
            if c == "'" {
                if lexer.rawQuotes { result.unicodeScalars.append(c) }
                return result
            }
            result.unicodeScalars.append(c)
        }
    }

    /// `$` substitutes; the escape character quotes only `"`, `$` and itself, otherwise it stays.
    mutating func processDoubleQuote() throws(LexError) -> String {
        var result = ""
        let open = next()
        if lexer.rawQuotes, let open { result.unicodeScalars.append(open) }
        while true {
            guard let c = peek else {
                throw LexError("unexpected end of statement while looking for matching double-quote")
            }
            if c == "\"" {
                pos += 1
                if lexer.rawQuotes { result.unicodeScalars.append(c) }
                return result
            }
            if c == "$" {
                result += try processDollar()
                continue
            }
            pos += 1
            var ch = c
            if ch == lexer.escape {
                if rawEscapes { result.unicodeScalars.append(ch) }
                guard let following = peek else { continue }  // a lone escape at the end is dropped
                if following == "\"" || following == "$" || following == lexer.escape {
                    pos += 1
                    ch = following
                }
            }
            result.unicodeScalars.append(ch)
        }
    }

    mutating func lookup(_ name: String) -> String? {
        if let value = env[name] {
            matched.insert(name)
            return value
        }
        unmatched.insert(name)
        return nil
    }

    mutating func processDollar() throws(LexError) -> String {
        pos += 1  // the '$'
        if peek != "{" {
            let name = processName()
            if name.isEmpty { return "$" }  // `$` followed by nothing name-like is just a dollar
            let value = lookup(name)
            if value == nil && lexer.skipUnsetEnv { return "$" + name }
            return value ?? ""
        }
        pos += 1  // the '{'
        switch peek {
        case nil: throw LexError("syntax error: missing '}'")
        case "{", "}", ":": throw LexError("syntax error: bad substitution")
        default: break
        }
        let name = processName()
        guard let ch = next() else { throw LexError("syntax error: missing '}'") }
        switch ch {
        case "}":
            let value = lookup(name)
            if value == nil && lexer.skipUnsetEnv { return "${\(name)}" }
            return value ?? ""
        case ":", "+", "-", "?", "#", "%":
            var modifier = ch
            var spelled = String(ch)
            let nullIsUnset = ch == ":"
            if nullIsUnset {
                // `:` only makes sense before - + ? (the empty value then counts as unset).
                guard let m = next() else { throw LexError("syntax error: missing '}'") }
                modifier = m
                spelled.unicodeScalars.append(m)
            }
            // # and % take a pattern, whose escapes must survive to the pattern matcher.
            let patternLike = modifier == "#" || modifier == "%"
            let word: String
            nesting += 1
            defer { nesting -= 1 }
            guard nesting <= Self.maxNesting else {
                throw LexError("syntax error: variable expansions nested more than \(Self.maxNesting) deep")
            }
            do {
                word = try processStopOn("}", rawEscapes: patternLike).0
            } catch {
                if peek == nil { throw LexError("syntax error: missing '}'") }
                throw error
            }
            let value = lookup(name)
            if value == nil && lexer.skipUnsetEnv { return "${\(name)\(spelled)\(word)}" }
            let isUnset = value == nil || (nullIsUnset && value == "")
            switch modifier {
            case "-":
                return isUnset ? word : (value ?? "")
            case "+":
                return isUnset ? "" : word
            case "?":
                guard let value else {
                    throw LexError("\(name): \(word.isEmpty ? "is not allowed to be unset" : word)")
                }
                if nullIsUnset && value.isEmpty {
                    throw LexError("\(name): \(word.isEmpty ? "is not allowed to be empty" : word)")
                }
                return value
            case "#", "%":
                var pattern = Array(word.unicodeScalars)
                // `##`/`%%` remove the longest match, `#`/`%` the shortest.
                let longest = pattern.first == modifier
                if longest { pattern.removeFirst() }
                return try trim(value ?? "", pattern: pattern, fromStart: modifier == "#", longest: longest)
            default:
                break
            }
            throw LexError("unsupported modifier (\(spelled)) in substitution")
        case "/":
            // ${VAR/pattern/replacement}, ${VAR//pattern/replacement} replaces all.
            let all = peek == "/"
            if all { pos += 1 }
            let pattern: String
            let replacement: String
            do { pattern = try processStopOn("/", rawEscapes: true).0 } catch {
                if peek == nil { throw LexError("syntax error: missing '/' in ${}") }
                throw error
            }
            do { replacement = try processStopOn("}", rawEscapes: true).0 } catch {
                if peek == nil { throw LexError("syntax error: missing '}'") }
                throw error
            }
            let value = lookup(name)
            if value == nil && lexer.skipUnsetEnv { return "${\(name)/\(pattern)/\(replacement)}" }
            return try replace(value ?? "", pattern: Array(pattern.unicodeScalars), with: replacement, all: all)
        default:
            throw LexError("unsupported modifier (\(Character(ch))) in substitution")
        }
    }

    /// A variable name: letters, digits, `_`; or a run of digits (positional); or one special parameter.
    mutating func processName() -> String {
        var name = ""
        while let c = peek {
            if name.isEmpty && c.properties.numericType == .decimal {
                while let d = peek, d.properties.numericType == .decimal {
                    name.unicodeScalars.append(d)
                    pos += 1
                }
                return name
            }
            if name.isEmpty, "@*#?-$!0".unicodeScalars.contains(c) {
                pos += 1
                return String(Character(c))
            }
            guard c.properties.isAlphabetic || c.properties.numericType == .decimal || c == "_" else { break }
            name.unicodeScalars.append(c)
            pos += 1
        }
        return name
    }
}

// MARK: - the shell patterns of ${VAR#pat} ${VAR%pat} ${VAR/pat/rep}

private enum PatternToken: Equatable {
    case literal(Unicode.Scalar)
    case any  // ?
    case star  // *
}

private func tokenize(_ pattern: [Unicode.Scalar]) throws(LexError) -> [PatternToken] {
    var tokens: [PatternToken] = []
    var i = 0
    while i < pattern.count {
        let c = pattern[i]
        i += 1
        switch c {
        case "*": tokens.append(.star)
        case "?": tokens.append(.any)
        case "\\":
            // `\}` and `\/` only got through the lexer; the backslash is not part of the pattern.
            if i < pattern.count, pattern[i] == "}" || pattern[i] == "/" { continue }
            guard i < pattern.count else { throw LexError("invalid escape '\\'") }
            let e = pattern[i]
            i += 1
            guard e == "*" || e == "?" || e == "\\" else {
                throw LexError("invalid escape '\\\(Character(e))'")
            }
            tokens.append(.literal(e))
        default: tokens.append(.literal(c))
        }
    }
    return tokens
}

/// Whole-string match of `s` against the tokens (stars match anything, including `/`).
private func globMatch(_ t: ArraySlice<PatternToken>, _ s: ArraySlice<Unicode.Scalar>) -> Bool {
    guard let first = t.first else { return s.isEmpty }
    switch first {
    case .star:
        var rest = s
        while true {
            if globMatch(t.dropFirst(), rest) { return true }
            guard !rest.isEmpty else { return false }
            rest = rest.dropFirst()
        }
    case .any:
        return !s.isEmpty && globMatch(t.dropFirst(), s.dropFirst())
    case .literal(let c):
        return s.first == c && globMatch(t.dropFirst(), s.dropFirst())
    }
}

private func trim(_ value: String, pattern: [Unicode.Scalar], fromStart: Bool, longest: Bool) throws(LexError) -> String {
    let tokens: [PatternToken]
    do { tokens = try tokenize(pattern) } catch {
        throw LexError("invalid pattern (\(String(String.UnicodeScalarView(pattern)))) in substitution: \(error.message)")
    }
    let v = Array(value.unicodeScalars)
    let lengths = longest ? Array((0...v.count).reversed()) : Array(0...v.count)
    for n in lengths {
        if fromStart, globMatch(tokens[...], v[0..<n]) {
            return String(String.UnicodeScalarView(v[n...]))
        }
        if !fromStart, globMatch(tokens[...], v[(v.count - n)...]) {
            return String(String.UnicodeScalarView(v[..<(v.count - n)]))
        }
    }
    return value
}

private func replace(_ value: String, pattern: [Unicode.Scalar], with replacement: String, all: Bool) throws(LexError) -> String {
    let tokens: [PatternToken]
    do { tokens = try tokenize(pattern) } catch {
        throw LexError("invalid pattern (\(String(String.UnicodeScalarView(pattern)))) in substitution: \(error.message)")
    }
    let v = Array(value.unicodeScalars)
    var out = String.UnicodeScalarView()
    var i = 0
    var done = false
    while i <= v.count {
        if !done {
            // Leftmost match, stars greedy: the longest match starting at i.
            var end = v.count
            while end >= i && !globMatch(tokens[...], v[i..<end]) { end -= 1 }
            if end >= i {
                out.append(contentsOf: replacement.unicodeScalars)
                done = !all
                if end > i {
                    i = end
                    continue
                }
            }
        }
        if i < v.count { out.append(v[i]) }
        i += 1
    }
    return String(out)
}
