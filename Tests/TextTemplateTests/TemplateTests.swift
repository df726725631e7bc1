import Testing
import TextTemplate

/// A template, the output Go's text/template (with Docker's functions) prints for it.
struct RenderCase: Sendable, CustomTestStringConvertible {
    let template: String
    let expected: String
    init(_ template: String, _ expected: String) {
        self.template = template
        self.expected = expected
    }
    var testDescription: String { template }
}

let image: TemplateValue = [
    "ID": "sha256:abc123def4567890",
    "Repository": "alpine",
    "Tag": "latest",
    "RepoTags": ["alpine:latest", "alpine:3.19"],
    "Dangling": false,
    "Size": 7_340_032,
    "Ratio": 1.5,
    "Config": [
        "User": "root",
        "Env": ["PATH=/usr/bin", "A=b"],
        "Labels": ["a.b": "c", "z": "1", "m": "2"],
        "Cmd": nil,
    ],
    "Empty": [],
    "Mixed": [1, nil, "x", 2.5, true],
    "Name": "web server",
    "Html": "<a&b>",
]

struct TemplateTests {
    static let fields: [RenderCase] = [
        RenderCase("{{.ID}}", "sha256:abc123def4567890"),
        RenderCase("{{.Repository}}:{{.Tag}}", "alpine:latest"),
        RenderCase("x{{.Config.User}}y", "xrooty"),
        RenderCase("{{.Config.Env}}", "[PATH=/usr/bin A=b]"),
        RenderCase("{{.Config.Labels}}", "map[a.b:c m:2 z:1]"),
        RenderCase("{{.Mixed}}", "[1 <nil> x 2.5 true]"),
        RenderCase("{{.Empty}}", "[]"),
        RenderCase("{{.Size}}", "7340032"),
        RenderCase("{{.Ratio}}", "1.5"),
        RenderCase("{{.Dangling}}", "false"),
        RenderCase("{{.Missing}}", "<no value>"),
        RenderCase("{{.Missing.Deeper}}", "<no value>"),
        RenderCase("{{.Config.Cmd}}", "<no value>"),
        RenderCase("{{.Config.Cmd.X}}", "<no value>"),
        RenderCase("{{$.Tag}}", "latest"),
        RenderCase("{{(.Config).User}}", "root"),
        RenderCase("{{(index .RepoTags 1)}}", "alpine:3.19"),
        RenderCase("{{index .Config.Labels \"a.b\"}}", "c"),
        RenderCase("{{index .Config.Labels \"nope\"}}", "<no value>"),
        RenderCase("{{index .Config.Env 1}}", "A=b"),
        RenderCase("{{index .Config.Cmd \"x\"}}", "<no value>"),
        RenderCase("{{with .Config}}{{.User}}{{end}}", "root"),
        RenderCase("{{with .Config}}{{$.Tag}}{{end}}", "latest"),
        RenderCase("{{with .Missing}}a{{else}}b{{end}}", "b"),
        RenderCase("{{with .Missing}}a{{else with .Tag}}{{.}}{{end}}", "latest"),
    ]

    static let control: [RenderCase] = [
        RenderCase("{{if .Dangling}}x{{else}}y{{end}}", "y"),
        RenderCase("{{if .Tag}}x{{end}}", "x"),
        RenderCase("{{if .Dangling}}a{{else if .Empty}}b{{else if .Size}}c{{else}}d{{end}}", "c"),
        RenderCase("{{if not .Dangling}}yes{{end}}", "yes"),
        RenderCase("{{range .RepoTags}}{{.}} {{end}}", "alpine:latest alpine:3.19 "),
        RenderCase("{{range $i, $e := .RepoTags}}{{$i}}={{$e}};{{end}}", "0=alpine:latest;1=alpine:3.19;"),
        RenderCase("{{range $e := .RepoTags}}{{$e}},{{end}}", "alpine:latest,alpine:3.19,"),
        RenderCase("{{range $k, $v := .Config.Labels}}{{$k}}={{$v}},{{end}}", "a.b=c,m=2,z=1,"),
        RenderCase("{{range .Empty}}x{{else}}none{{end}}", "none"),
        RenderCase("{{range .Missing}}x{{else}}none{{end}}", "none"),
        RenderCase("{{range 3}}{{.}}{{end}}", "012"),
        RenderCase("{{range $i := 1000000000000}}{{if eq $i 2}}{{break}}{{end}}{{$i}}{{end}}", "01"),
        RenderCase("{{range 0}}x{{else}}empty{{end}}", "empty"),
        RenderCase("{{range $i, $e := .RepoTags}}{{if eq $i 1}}{{break}}{{end}}{{$e}}{{end}}", "alpine:latest"),
        RenderCase("{{range .Mixed}}{{if not .}}{{continue}}{{end}}{{.}};{{end}}", "1;x;2.5;true;"),
        RenderCase("{{$x := .Tag}}{{$x}}", "latest"),
        RenderCase("{{$x := 1}}{{if true}}{{$x = 2}}{{end}}{{$x}}", "2"),
        RenderCase("{{if $t := .Tag}}{{$t}}{{end}}", "latest"),
        RenderCase("{{range .RepoTags}}{{$.Repository}}{{end}}", "alpinealpine"),
    ]

    static let functions: [RenderCase] = [
        RenderCase("{{join .RepoTags \",\"}}", "alpine:latest,alpine:3.19"),
        RenderCase("{{join .Mixed \"-\"}}", "1-<nil>-x-2.5-true"),
        RenderCase("{{lower \"ABC Def\"}}", "abc def"),
        RenderCase("{{upper .Name}}", "WEB SERVER"),
        RenderCase("{{title .Name}}", "Web Server"),
        RenderCase("{{split .ID \":\"}}", "[sha256 abc123def4567890]"),
        RenderCase("{{split \"a,,b,\" \",\"}}", "[a  b ]"),
        RenderCase("{{len .RepoTags}}", "2"),
        RenderCase("{{len .Config.Labels}}", "3"),
        RenderCase("{{len \"héllo\"}}", "6"),
        RenderCase("{{len (split .ID \":\")}}", "2"),
        RenderCase("{{println .Tag}}", "latest\n"),
        RenderCase("{{println 1 \"a\" 2}}", "1 a 2\n"),
        RenderCase("{{print 1 2 \"a\" 3}}", "1 2a3"),
        RenderCase("{{print .Missing}}", "<nil>"),
        RenderCase("{{truncate .ID 12}}", "sha256:abc12"),
        RenderCase("{{truncate \"ab\" 12}}", "ab"),
        RenderCase("{{pad .Tag 1 2}}", " latest  "),
        RenderCase("{{.Config | json}}",
            #"{"User":"root","Env":["PATH=/usr/bin","A=b"],"Labels":{"a.b":"c","z":"1","m":"2"},"Cmd":null}"#),
        RenderCase("{{json .Html}}", #""<a&b>""#),
        RenderCase("{{json .Ratio}}", "1.5"),
        RenderCase("{{.Name | upper}}", "WEB SERVER"),
        RenderCase("{{.Name | upper | lower}}", "web server"),
        RenderCase("{{.Size | printf \"%d bytes\"}}", "7340032 bytes"),
        RenderCase("{{\"x\" | printf \"%s-%s\" \"a\"}}", "a-x"),
        RenderCase("{{(index .Config.Labels \"z\") | printf \"%s!\"}}", "1!"),
        RenderCase("{{html .Html}}", "&lt;a&amp;b&gt;"),
        RenderCase("{{urlquery \"a b&c\"}}", "a+b%26c"),
        RenderCase("{{slice \"abcdef\" 1 3}}", "bc"),
        RenderCase("{{slice .RepoTags 1}}", "[alpine:3.19]"),
        RenderCase("{{index \"abc\" 1}}", "98"),
    ]

    static let comparisons: [RenderCase] = [
        RenderCase("{{if eq .Tag \"latest\"}}yes{{end}}", "yes"),
        RenderCase("{{eq .Tag \"a\" \"latest\"}}", "true"),
        RenderCase("{{eq .Size 7340032}}", "true"),
        RenderCase("{{eq 1 1.0}}", "true"),
        RenderCase("{{eq .Missing nil}}", "true"),
        RenderCase("{{ne 1 2}}", "true"),
        RenderCase("{{lt 1 2}}", "true"),
        RenderCase("{{le 2 2}}", "true"),
        RenderCase("{{gt \"b\" \"a\"}}", "true"),
        RenderCase("{{ge 1.5 2}}", "false"),
        RenderCase("{{and 1 0}}", "0"),
        RenderCase("{{and 1 2}}", "2"),
        RenderCase("{{or 0 \"\"}}", ""),
        RenderCase("{{or 0 \"x\"}}", "x"),
        RenderCase("{{not .Dangling}}", "true"),
        RenderCase("{{and .Dangling (index .Empty 5)}}", "false"),  // short-circuit: index never runs
        RenderCase("{{or .Tag (index .Empty 5)}}", "latest"),
        RenderCase("{{.Tag | eq \"latest\"}}", "true"),
    ]

    static let syntax: [RenderCase] = [
        RenderCase("a  {{- .Tag -}}  b", "alatestb"),
        RenderCase("a \n {{- .Tag}} \n", "alatest \n"),
        RenderCase("a{{/* c */}}b", "ab"),
        RenderCase("a {{- /* multi\nline */ -}} b", "ab"),
        RenderCase("{{\"a\\tb\\u00e9\\x41\\101\"}}", "a\tbéAA"),
        RenderCase("{{`a\\tb`}}", "a\\tb"),
        RenderCase("{{'a'}}", "97"),
        RenderCase("{{'\\n'}}", "10"),
        RenderCase("{{0x1F}} {{1_000}} {{-3}} {{017}} {{0b101}} {{+4}}", "31 1000 -3 15 5 4"),
        RenderCase("{{1e3}} {{1.0}} {{.5}}", "1000 1 0.5"),
        RenderCase("{{true}} {{false}}", "true false"),
        RenderCase("{{ .Tag }}", "latest"),
        RenderCase("{{.}}", "map[Config:map[Cmd:<nil> Env:[PATH=/usr/bin A=b] Labels:map[a.b:c m:2 z:1] User:root] Dangling:false Empty:[] Html:<a&b> ID:sha256:abc123def4567890 Mixed:[1 <nil> x 2.5 true] Name:web server Ratio:1.5 RepoTags:[alpine:latest alpine:3.19] Repository:alpine Size:7340032 Tag:latest]"),
        RenderCase("no actions", "no actions"),
        RenderCase("", ""),
        RenderCase("{{if\n.Tag}}multi-line action{{end}}", "multi-line action"),
    ]

    @Test(arguments: fields) func fieldAccess(_ c: RenderCase) throws {
        #expect(try Template(c.template).render(image) == c.expected)
    }

    @Test(arguments: control) func controlStructures(_ c: RenderCase) throws {
        #expect(try Template(c.template).render(image) == c.expected)
    }

    @Test(arguments: functions) func builtinFunctions(_ c: RenderCase) throws {
        #expect(try Template(c.template).render(image) == c.expected)
    }

    @Test(arguments: comparisons) func comparisonAndLogic(_ c: RenderCase) throws {
        #expect(try Template(c.template).render(image) == c.expected)
    }

    @Test(arguments: syntax) func lexicalSyntax(_ c: RenderCase) throws {
        #expect(try Template(c.template).render(image) == c.expected)
    }

    /// `{{.}}` of each kind of value, as Go's fmt %v prints it.
    @Test(arguments: [
        (TemplateValue.string("s"), "s"), (.int(-42), "-42"), (.bool(true), "true"), (.null, "<no value>"),
        (.double(1.5), "1.5"), (.double(1e21), "1e+21"), (.double(1e20), "1e+20"), (.double(1e6), "1e+06"),
        (.double(100000), "100000"), (.double(123456), "123456"), (.double(1234567), "1.234567e+06"),
        (.double(0.0001), "0.0001"), (.double(0.00001), "1e-05"), (.double(-2.5), "-2.5"), (.double(3), "3"),
        (.double(0.1), "0.1"), (.double(-0.0), "-0"), (.double(.leastNonzeroMagnitude), "5e-324"),
        (.double(1.7976931348623157e308), "1.7976931348623157e+308"), (.double(.infinity), "+Inf"),
        (.double(-.infinity), "-Inf"), (.double(.nan), "NaN"), (.double(123456789), "1.23456789e+08"),
        (.array([.null, .array([]), .object([])]), "[<nil> [] map[]]"),
    ])
    func dotPrinting(_ value: TemplateValue, _ expected: String) throws {
        #expect(try Template("{{.}}").render(value) == expected)
    }

    @Test(arguments: [
        RenderCase(#"{{printf "%s-%d" "a" 5}}"#, "a-5"),
        RenderCase(#"{{printf "%v|%q|%%" .RepoTags .Tag}}"#, #"[alpine:latest alpine:3.19]|"latest"|%"#),
        RenderCase(#"{{printf "%-8s|%5d|%05d|%.2f|%x|%X|%t" "ab" 42 -42 3.14159 255 255 true}}"#,
            "ab      |   42|-0042|3.14|ff|FF|true"),
        RenderCase(#"{{printf "%d" "x"}}"#, "%!d(string=x)"),
        RenderCase(#"{{printf "%s" 5}}"#, "%!s(int=5)"),
        RenderCase(#"{{printf "%d %d" 1}}"#, "1 %!d(MISSING)"),
        RenderCase(#"{{printf "%d" 1 2}}"#, "1%!(EXTRA int=2)"),
        RenderCase(#"{{printf "%s" .Missing}}"#, "%!s(<nil>)"),
        RenderCase(#"{{printf "%v" .Missing}}"#, "<nil>"),
        RenderCase(#"{{printf "100%"}}"#, "100%!(NOVERB)"),
        RenderCase(#"{{printf "%e" 1234.5678}}"#, "1.234568e+03"),
        RenderCase(#"{{printf "%E" 0.0}}"#, "0.000000E+00"),
        RenderCase(#"{{printf "%f" 1.0}}"#, "1.000000"),
        RenderCase(#"{{printf "%g" 0.00001234}}"#, "1.234e-05"),
        RenderCase(#"{{printf "%.3g" 1234.5678}}"#, "1.23e+03"),
        RenderCase(#"{{printf "%.3g" 1.0}}"#, "1"),
        RenderCase(#"{{printf "%v" 2.0}}"#, "2"),
        RenderCase(#"{{printf "%.0f %.0f %.1f %.2f %.1f" 2.5 3.5 0.25 2.675 0.35}}"#, "2 4 0.2 2.67 0.3"),
        RenderCase(#"{{printf "%8.3f|%-8.2f|%+d|%+.1f" 3.14159 2.5 5 2.0}}"#, "   3.142|2.50    |+5|+2.0"),
        RenderCase(#"{{printf "%q %c %U" 65 9786 128512}}"#, "'A' ☺ U+1F600"),
        RenderCase(#"{{printf "%q" "a\"b\n\u00e9\u0001"}}"#, #""a\"b\né\x01""#),
        RenderCase(#"{{printf "%.3s|%5s|%x" "abcdef" "é" "hi"}}"#, "abc|    é|6869"),
        RenderCase(#"{{printf "%d" .Config.Env}}"#, "[%!d(string=PATH=/usr/bin) %!d(string=A=b)]"),
        RenderCase(#"{{printf "%s" .Config.Labels}}"#, "map[a.b:c m:2 z:1]"),
        RenderCase(#"{{printf "%*d|%.*f" 4 7 1 2.25}}"#, "   7|2.2"),
        RenderCase(#"{{printf "%o %b" 8 5}}"#, "10 101"),
    ])
    func printfVerbs(_ c: RenderCase) throws {
        #expect(try Template(c.template).render(image) == c.expected)
    }

    /// A template that fails to parse or execute, and Go's wording (`strict`: run as `missingkey=error`).
    struct ErrorCase: Sendable, CustomTestStringConvertible {
        let template: String
        let description: String
        let strict: Bool
        init(_ template: String, _ description: String, strict: Bool = false) {
            self.template = template
            self.description = description
            self.strict = strict
        }
        var testDescription: String { template }
    }

    @Test(arguments: [
        ErrorCase("{{.ID", "template: :1: unclosed action"),
        ErrorCase("ab{{foo}}", "template: :1: function \"foo\" not defined"),
        ErrorCase("{{.X | foo}}", "template: :1: function \"foo\" not defined"),
        ErrorCase("x\ny {{bar .X}}", "template: :2: function \"bar\" not defined"),
        ErrorCase("{{.X | 1}}", "template: :1: non executable command in pipeline stage 2"),
        ErrorCase("{{.X |}}", "template: :1: missing command after |"),
        ErrorCase("{{}}", "template: :1: missing value for command"),
        ErrorCase("{{if}}x{{end}}", "template: :1: missing value for if"),
        ErrorCase("{{if .X}}", "template: :1: unexpected EOF"),
        ErrorCase("{{range .X}}{{else}}", "template: :1: unexpected EOF"),
        ErrorCase("a{{end}}", "template: :1: unexpected {{end}}"),
        ErrorCase("{{else}}", "template: :1: unexpected {{else}}"),
        ErrorCase("{{if .X}}{{else}}{{else}}{{end}}", "template: :1: expected end; found {{else}}"),
        ErrorCase("{{$x}}", "template: :1: undefined variable \"$x\""),
        ErrorCase("{{$x = 1}}", "template: :1: undefined variable \"$x\""),
        ErrorCase("{{if true}}{{$x := 1}}{{end}}{{$x}}", "template: :1: undefined variable \"$x\""),
        ErrorCase("{{break}}", "template: :1: {{break}} outside {{range}}"),
        ErrorCase("{{\"abc}}", "template: :1: unterminated quoted string"),
        ErrorCase("{{\"a\\qb\"}}", "template: :1: invalid escape in quoted string"),
        ErrorCase("{{/* x }}", "template: :1: unclosed comment"),
        ErrorCase("{{/* x */ .X}}", "template: :1: comment ends before closing delimiter"),
        ErrorCase("{{(.X}}", "template: :1: unclosed left paren"),
        ErrorCase("{{.X)}}", "template: :1: unexpected right paren"),
        ErrorCase("{{.X # }}", "template: :1: bad character \"#\" in action"),
        ErrorCase("{{3x}}", "template: :1: bad number syntax: \"3x\""),
        ErrorCase("{{template \"x\"}}", "template: :1: {{template}} is not supported"),
        ErrorCase("{{range $i, $j, $k := .X}}{{end}}", "template: :1: too many declarations in range"),
        ErrorCase("{{if .X}}{{else with .Y}}{{end}}", "template: :1: unexpected {{else with}} in {{if}}"),
    ])
    func parseErrors(_ c: ErrorCase) {
        #expect(throws: TemplateError.self) { try Template(c.template) }
        do {
            _ = try Template(c.template)
        } catch let error as TemplateError {
            #expect(error.description == c.description)
        } catch {
            Issue.record("unexpected \(error)")
        }
    }

    @Test(arguments: [
        ErrorCase("{{index .RepoTags 5}}",
            "template: :1:2: executing \"\" at <index .RepoTags 5>: error calling index: index out of range: 5"),
        ErrorCase("{{.Tag.Foo}}", "template: :1:6: executing \"\" at <.Tag.Foo>: can't evaluate field Foo in type string"),
        ErrorCase("x\n{{lower .Size}}",
            "template: :2:2: executing \"\" at <lower .Size>: wrong type for value; expected string; got int"),
        ErrorCase("{{range .Tag}}{{end}}", "template: :1:8: executing \"\" at <.Tag>: range can't iterate over latest"),
        ErrorCase("{{lt .Tag 1}}", "template: :1:2: executing \"\" at <lt .Tag 1>: error calling lt: incompatible types for comparison"),
        ErrorCase("{{len 3}}", "template: :1:2: executing \"\" at <len 3>: error calling len: len of type int"),
        ErrorCase("{{nil}}", "template: :1:2: executing \"\" at <nil>: nil is not a command"),
        ErrorCase("{{lower}}", "template: :1:2: executing \"\" at <lower>: wrong number of args for lower: want 1 got 0"),
        ErrorCase("{{.Config.User 1}}",
            "template: :1:9: executing \"\" at <.Config.User>: User is not a method but has arguments"),
        ErrorCase("{{\"a\" 1}}", "template: :1:2: executing \"\" at <\"a\" 1>: can't give argument to non-function \"a\""),
        ErrorCase("{{eq .Tag}}", "template: :1:2: executing \"\" at <eq .Tag>: error calling eq: missing argument for comparison"),
        ErrorCase("{{truncate .ID -1}}", "template: :1:2: executing \"\" at <truncate .ID -1>: error calling truncate: negative length -1"),
        // Docker's inspect reading (missingkey=error): Go's position is where the chain after the
        // first field starts, in bytes; a field of nil is Go's nil pointer.
        ErrorCase("é{{json .Nosuch.X}}", "template: :1:16: executing \"\" at <.Nosuch.X>: map has no entry for key \"Nosuch\"", strict: true),
        ErrorCase("{{printf \"%s\" .Config.Nosuch}}", "template: :1:21: executing \"\" at <.Config.Nosuch>: map has no entry for key \"Nosuch\"", strict: true),
        ErrorCase("{{.Config.Cmd.X}}", "template: :1:9: executing \"\" at <.Config.Cmd.X>: nil pointer evaluating interface {}.X", strict: true),
        ErrorCase("{{.Name.X}}", "template: :1:7: executing \"\" at <.Name.X>: can't evaluate field X in type interface {}", strict: true),
        ErrorCase("{{if .Config.Labels.nosuch.more}}{{end}}", "template: :1:12: executing \"\" at <.Config.Labels.nosuc...>: map has no entry for key \"nosuch\"", strict: true),
    ])
    func executionErrors(_ c: ErrorCase) throws {
        let template = try Template(c.template)
        do {
            _ = try template.render(image, missingKey: c.strict ? .all : .zero)
            Issue.record("rendered without error")
        } catch let error as TemplateError {
            #expect(error.description == c.description)
        }
    }

    @Test func deepNestingIsAnErrorNotACrash() {
        #expect(throws: TemplateError.self) { try Template(String(repeating: "{{(", count: 1) + String(repeating: "(", count: 5000)) }
        #expect(throws: TemplateError.self) { try Template(String(repeating: "{{if 1}}", count: 5000)) }
        #expect(throws: Never.self) { try Template(String(repeating: "{{if 1}}", count: 50) + String(repeating: "{{end}}", count: 50)) }
    }

    @Test func templatesAreReusableAcrossRows() throws {
        let template = try Template("{{.Name}}={{len .Tags}}")
        #expect(try template.render(["Name": "a", "Tags": ["x"]]) == "a=1")
        #expect(try template.render(["Name": "b", "Tags": []]) == "b=0")
    }
}
