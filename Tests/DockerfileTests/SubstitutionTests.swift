import Dockerfile
import Testing

/// BuildKit's shell lexer on one word, environment: A=a, B="b c", E="" (X unset).
@Suite struct SubstitutionTests {
    static let env = ["A": "a", "B": "b c", "E": "", "PATH": "/usr/bin:/bin", "F": "file.tar.gz"]

    @Test(arguments: [
        ("plain", "plain"),
        ("$A", "a"),
        ("${A}", "a"),
        ("x$A-y", "xa-y"),
        ("${A}b", "ab"),
        ("$Ab", ""),  // the name is `Ab`
        ("$X", ""),
        ("${X}", ""),
        ("$", "$"),
        ("a$", "a$"),
        ("$-", ""),  // special parameter, unset
        ("$1", ""),
        ("$$", ""),
        ("${A:-d}", "a"),
        ("${X:-d}", "d"),
        ("${E:-d}", "d"),
        ("${E-d}", ""),
        ("${X-d}", "d"),
        ("${A:+alt}", "alt"),
        ("${E:+alt}", ""),
        ("${E+alt}", "alt"),
        ("${X+alt}", ""),
        ("${X:-${A}}", "a"),
        ("${X:-${Y:-deep}}", "deep"),
        ("${X:-$A and $B}", "a and b c"),
        ("${X:-'quoted }'}", "quoted }"),
        ("${A:?must}", "a"),
        ("\\$A", "$A"),
        ("\\${A}", "${A}"),
        ("a\\ b", "a b"),
        ("\\\\", "\\"),
        ("'$A'", "$A"),
        ("'a\\b'", "a\\b"),
        ("\"$A\"", "a"),
        ("\"$A $B\"", "a b c"),
        ("\"\\$A\"", "$A"),
        ("\"a\\b\"", "a\\b"),  // the escape only quotes \" $ and itself inside double quotes
        ("\"\\\"\"", "\""),
        ("\"'$A'\"", "'a'"),
        ("'\"$A\"'", "\"$A\""),
        ("$(echo hi)", "$(echo hi)"),
        ("`date`", "`date`"),
        ("${F%.gz}", "file.tar"),
        ("${F%.*}", "file.tar"),
        ("${F%%.*}", "file"),
        ("${F#*.}", "tar.gz"),
        ("${F##*.}", "gz"),
        ("${PATH/bin/sbin}", "/usr/sbin:/bin"),
        ("${PATH//bin/sbin}", "/usr/sbin:/sbin"),
        ("${B/ /_}", "b_c"),
    ])
    func word(input: String, expected: String) throws {
        #expect(try ShellLexer().processWord(input, environment: Self.env) == expected)
    }

    @Test(arguments: [
        ("${X:?required}", "failed to process \"${X:?required}\": X: required"),
        ("${X?}", "failed to process \"${X?}\": X: is not allowed to be unset"),
        ("${E:?}", "failed to process \"${E:?}\": E: is not allowed to be empty"),
        ("${A", "failed to process \"${A\": syntax error: missing '}'"),
        ("${}", "failed to process \"${}\": syntax error: bad substitution"),
        ("${:a}", "failed to process \"${:a}\": syntax error: bad substitution"),
        ("${A!}", "failed to process \"${A!}\": unsupported modifier (!) in substitution"),
        ("${A:x}", "failed to process \"${A:x}\": unsupported modifier (:x) in substitution"),
        ("'open", "failed to process \"'open\": unexpected end of statement while looking for matching single-quote"),
        ("\"open", "failed to process \"\"open\": unexpected end of statement while looking for matching double-quote"),
    ])
    func errors(input: String, message: String) {
        #expect(throws: DockerfileError(message)) { try ShellLexer().processWord(input, environment: Self.env) }
    }

    @Test func wordsSplitAfterSubstitution() throws {
        let lexer = ShellLexer()
        #expect(try lexer.processWords("$B \"x y\" z", environment: Self.env) == ["b", "c", "x y", "z"])
        #expect(try lexer.processWords("  a\\ b  ", environment: [:]) == ["a b"])
        #expect(try lexer.processWords("\"\" x", environment: [:]) == ["x"])
    }

    @Test func backtickEscape() throws {
        let lexer = ShellLexer(escape: "`")
        #expect(try lexer.processWord("c:\\dir`$A", environment: Self.env) == "c:\\dir$A")
        #expect(try lexer.processWord("\"`\"\"", environment: [:]) == "\"")
    }

    @Test func rawHeredocBodyKeepsQuotes() throws {
        let e = Expander(environment: ["A": "a"])
        #expect(try e.heredocBody("echo '$A' \"$A\"\n") == "echo 'a' \"a\"\n")
    }

    @Test(arguments: [
        ("0", 0), ("1s", 1_000_000_000), ("1.5s", 1_500_000_000), ("1h30m", 5_400_000_000_000),
        ("300ms", 300_000_000), ("10us", 10_000), ("10µs", 10_000), ("7ns", 7), (".5m", 30_000_000_000),
    ] as [(String, Int64)])
    func goDurations(text: String, ns: Int64) throws {
        #expect(try parseGoDuration(text) == ns)
    }
}
