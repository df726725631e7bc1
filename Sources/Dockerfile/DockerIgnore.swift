/// `.dockerignore`, matched as Docker matches it (moby/patternmatcher):
///
/// - one pattern per line; lines starting with `#` are comments; blank lines are skipped;
/// - patterns are cleaned like paths (`./a//b/` → `a/b`, a leading `/` is dropped: everything is
///   relative to the context root);
/// - `*` and `?` never cross `/`; `**` crosses any number of directories (also none); `[a-c]` classes;
///   `\` escapes the next character;
/// - a pattern matches a path or any of its parent directories, so `build` excludes `build/x/y`;
/// - `!pattern` re-includes; for each path the *last* matching line wins.
public struct DockerIgnore: Equatable, Sendable {
    public struct Pattern: Equatable, Sendable {
        /// Cleaned, without the `!`.
        public var text: String
        public var isException: Bool
        let tokens: [GlobToken]
    }

    public private(set) var patterns: [Pattern] = []

    public init(text: String) {
        var first = true
        for rawLine in text.split(separator: "\n", omittingEmptySubsequences: false) {
            var line = String(rawLine)
            if first, line.hasPrefix("\u{FEFF}") { line.removeFirst() }
            first = false
            if line.hasPrefix("#") { continue }  // a comment only when `#` is the very first character
            line = trimmed(line)
            if line.isEmpty { continue }
            var exception = false
            if line.hasPrefix("!") {
                exception = true
                line = trimmed(String(line.dropFirst()))
                if line.isEmpty { continue }  // Docker rejects a lone `!`; we ignore the line
            }
            var cleaned = cleanPath(line)
            if cleaned.count > 1 && cleaned.hasPrefix("/") { cleaned.removeFirst() }
            if cleaned == "/" { cleaned = "." }
            patterns.append(Pattern(text: cleaned, isException: exception, tokens: compileGlob(cleaned)))
        }
    }

    /// True if the path (relative to the context, `/`-separated) is left out of the build context.
    public func excludes(_ relativePath: String, isDirectory: Bool = false) -> Bool {
        let path = cleanPath(relativePath)
        if path == "." || path.isEmpty { return false }
        let components = path.split(separator: "/").map(String.init)
        var matched = false
        for pattern in patterns {
            // An exception only matters once something matched, and vice versa.
            if pattern.isException != matched { continue }
            var hit = globMatchPath(pattern.tokens[...], Array(path.unicodeScalars)[...])
            if !hit && components.count > 1 {
                for i in 1..<components.count {
                    let parent = components[0..<i].joined(separator: "/")
                    if globMatchPath(pattern.tokens[...], Array(parent.unicodeScalars)[...]) {
                        hit = true
                        break
                    }
                }
            }
            if hit { matched = !pattern.isException }
        }
        return matched
    }

    /// Whether a walk of the context must enter this directory. An included directory is always
    /// entered; an excluded one only when some `!` line could re-include a path inside it (the walk
    /// then checks each entry with `excludes`). Conservative: `true` may be returned needlessly, never
    /// wrongly `false`.
    public func mustWalk(_ dir: String) -> Bool {
        if !excludes(dir, isDirectory: true) { return true }
        let dirComponents = cleanPath(dir).split(separator: "/").map(String.init)
        for pattern in patterns where pattern.isException {
            if couldMatchInside(pattern.text, dirComponents) { return true }
        }
        return false
    }

    /// Could a path strictly under `dir` match the pattern? Compares component by component as far
    /// as `dir` goes; `**` can match anything from there on.
    private func couldMatchInside(_ pattern: String, _ dir: [String]) -> Bool {
        let parts = pattern.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        for (i, d) in dir.enumerated() {
            guard i < parts.count else { return true }  // the pattern names an ancestor: it covers everything below
            if parts[i].contains("**") { return true }
            if !globMatchPath(compileGlob(parts[i])[...], Array(d.unicodeScalars)[...]) { return false }
        }
        return parts.count > dir.count || parts.contains { $0.contains("**") }
    }
}

enum GlobToken: Equatable, Sendable {
    case literal(Unicode.Scalar)
    case one  // ?  (not /)
    case star  // *  (not /)
    case anyDirs  // `**/` or a `**` in the middle: (.*/)?
    case anyRest  // `**` at the end: .*
    case set(negated: Bool, ranges: [ClosedRange<UInt32>])
}

func compileGlob(_ pattern: String) -> [GlobToken] {
    let v = Array(pattern.unicodeScalars)
    var tokens: [GlobToken] = []
    var i = 0
    while i < v.count {
        let c = v[i]
        i += 1
        switch c {
        case "*":
            if i < v.count && v[i] == "*" {
                i += 1
                if i < v.count && v[i] == "/" { i += 1 }  // `**/` is the same as `**`
                tokens.append(i >= v.count ? .anyRest : .anyDirs)
            } else {
                tokens.append(.star)
            }
        case "?": tokens.append(.one)
        case "\\":
            if i < v.count {
                tokens.append(.literal(v[i]))
                i += 1
            } else {
                tokens.append(.literal("\\"))
            }
        case "[":
            var j = i
            var negated = false
            if j < v.count && (v[j] == "^" || v[j] == "!") {
                negated = true
                j += 1
            }
            var ranges: [ClosedRange<UInt32>] = []
            var closed = false
            var firstInSet = true
            while j < v.count {
                var lo = v[j]
                if lo == "]" && !firstInSet {
                    closed = true
                    j += 1
                    break
                }
                firstInSet = false
                if lo == "\\" && j + 1 < v.count {
                    j += 1
                    lo = v[j]
                }
                j += 1
                var hi = lo
                if j + 1 < v.count && v[j] == "-" && v[j + 1] != "]" {
                    hi = v[j + 1]
                    if hi == "\\" && j + 2 < v.count {
                        hi = v[j + 2]
                        j += 1
                    }
                    j += 2
                }
                if lo.value <= hi.value { ranges.append(lo.value...hi.value) }
            }
            if closed {
                tokens.append(.set(negated: negated, ranges: ranges))
                i = j
            } else {
                tokens.append(.literal("["))  // an unclosed class is an ordinary character
            }
        default: tokens.append(.literal(c))
        }
    }
    return tokens
}

/// Whole-path match.
func globMatchPath(_ t: ArraySlice<GlobToken>, _ s: ArraySlice<Unicode.Scalar>) -> Bool {
    var matcher = GlobMatcher(tokens: Array(t), scalars: Array(s))
    return matcher.match(0, 0)
}

/// Backtracking that remembers what failed: each (token, position) pair is decided once, so a
/// pattern of many `*` costs at most tokens × length² steps. Plain backtracking grows exponentially
/// with the stars (`*a*a*a*a*a*a*a*a*a*a*a*a*b` against 60 `a`s ran for minutes): a .dockerignore
/// comes with the build context, which may be someone else's.
struct GlobMatcher {
    let tokens: [GlobToken]
    let scalars: [Unicode.Scalar]
    /// `token * (scalars.count + 1) + position` of the pairs known not to match.
    var failed: Set<Int> = []

    mutating func match(_ ti: Int, _ si: Int) -> Bool {
        guard ti < tokens.count else { return si == scalars.count }
        let key = ti * (scalars.count + 1) + si
        if failed.contains(key) { return false }
        let matched = step(ti, si)
        if !matched { failed.insert(key) }
        return matched
    }

    private mutating func step(_ ti: Int, _ si: Int) -> Bool {
        let next = ti + 1
        switch tokens[ti] {
        case .literal(let c):
            return si < scalars.count && scalars[si] == c && match(next, si + 1)
        case .one:
            return si < scalars.count && scalars[si] != "/" && match(next, si + 1)
        case .set(let negated, let ranges):
            guard si < scalars.count, scalars[si] != "/" else { return false }
            let value = scalars[si].value
            return ranges.contains { $0.contains(value) } != negated && match(next, si + 1)
        case .star:
            var i = si
            while true {
                if match(next, i) { return true }
                guard i < scalars.count, scalars[i] != "/" else { return false }
                i += 1
            }
        case .anyRest:
            return true
        case .anyDirs:
            // Zero directories, or anything ending in `/`.
            if match(next, si) { return true }
            var i = si
            while i < scalars.count {
                let c = scalars[i]
                i += 1
                if c == "/" && match(next, i) { return true }
            }
            return false
        }
    }
}

/// Go's `filepath.Clean` for `/` paths: collapse `//`, drop `.`, resolve `..` lexically.
func cleanPath(_ path: String) -> String {
    if path.isEmpty { return "." }
    let rooted = path.hasPrefix("/")
    var out: [Substring] = []
    for part in path.split(separator: "/") {
        if part == "." { continue }
        if part == ".." {
            if let last = out.last, last != ".." {
                out.removeLast()
            } else if !rooted {
                out.append(part)
            }
            continue
        }
        out.append(part)
    }
    let joined = out.joined(separator: "/")
    if rooted { return "/" + joined }
    return joined.isEmpty ? "." : joined
}
