import Testing
import TextTemplate

struct TableWriterTests {
    let docker = TableWriter(minWidth: 10, tabWidth: 1, padding: 3, padChar: " ")

    @Test func alignsLikeDockerImages() {
        let text = """
            REPOSITORY\tTAG\tIMAGE ID\tCREATED\tSIZE
            alpine\tlatest\t9c6f07244728\t2 weeks ago\t5.54MB
            busybox\t1.36\ta416a98b71e2\t3 months ago\t4.26MB

            """
        #expect(docker.format(text) == """
            REPOSITORY   TAG       IMAGE ID       CREATED        SIZE
            alpine       latest    9c6f07244728   2 weeks ago    5.54MB
            busybox      1.36      a416a98b71e2   3 months ago   4.26MB

            """)
    }

    /// A column's width is set per block of consecutive lines that have a cell in it.
    @Test func columnBlocks() {
        let tight = TableWriter(minWidth: 0, tabWidth: 1, padding: 1, padChar: " ")
        #expect(tight.format("a\tb\tc\nlonger\tx\none\nz\tw\n") == "a      b c\nlonger x\none\nz w\n")
        #expect(docker.format("a\tb\tc\nlonger\tx\none\nz\tw\n")
            == "a         b         c\nlonger    x\none\nz         w\n")
    }

    @Test func trailingTabPadsTheLastColumnCellButTextIsNeverPadded() {
        #expect(docker.format("a\tb\t\n") == "a         b         \n")
        #expect(docker.format("a\tb\n") == "a         b\n")
    }

    @Test func unterminatedLastLineAndEmptyInput() {
        #expect(docker.format("a\tb\nccc\tdd") == "a         b\nccc       dd")
        #expect(docker.format("") == "")
        #expect(docker.format("\n\n") == "\n\n")
    }

    @Test func widthCountsCharactersNotBytes() {
        let tight = TableWriter(minWidth: 0, tabWidth: 1, padding: 1, padChar: " ")
        #expect(tight.format("é\tx\nab\ty\n") == "é  x\nab y\n")
    }

    @Test func emptyCellsStillTakeTheColumn() {
        let tight = TableWriter(minWidth: 0, tabWidth: 1, padding: 2, padChar: " ")
        #expect(tight.format("\tx\nabc\ty\n") == "     x\nabc  y\n")
    }

    @Test func tabPadding() {
        let tabs = TableWriter(minWidth: 0, tabWidth: 8, padding: 1, padChar: "\t")
        #expect(tabs.format("a\tb\nlonger name\tc\n") == "a\t\tb\nlonger name\tc\n")
    }
}

struct OutputFormatTests {
    @Test(arguments: [
        ("", OutputFormat.table(nil)),
        ("table", .table(nil)),
        ("table ", .table(nil)),
        ("table {{.ID}}\t{{.Size}}", .table("{{.ID}}\t{{.Size}}")),
        ("json", .json),
        ("{{json .}}", .template("{{json .}}")),
        ("{{.ID}}", .template("{{.ID}}")),
        (" json", .template(" json")),
    ])
    func readsTheFlagLikeDocker(_ flag: String, _ expected: OutputFormat) {
        #expect(OutputFormat(flag) == expected)
    }
}

struct ListFormatterTests {
    static let defaultImages = "table {{.Repository}}\t{{.Tag}}\t{{.ID}}\t{{.CreatedSince}}\t{{.Size}}"
    static let headers = ["ID": "IMAGE ID", "CreatedSince": "CREATED"]
    static let rows: [TemplateValue] = [
        ["Repository": "alpine", "Tag": "latest", "ID": "9c6f07244728", "CreatedSince": "2 weeks ago",
         "Size": "5.54MB", "Labels": ["a": "<b>"]],
        ["Repository": "busybox", "Tag": "1.36", "ID": "a416a98b71e2", "CreatedSince": "3 months ago",
         "Size": "4.26MB", "Labels": nil],
    ]

    func render(_ flag: String, _ rows: [TemplateValue] = rows) throws -> String {
        try ListFormatter(format: OutputFormat(flag), defaultTable: Self.defaultImages, headers: Self.headers)
            .render(rows)
    }

    @Test func defaultTableIsDockerImages() throws {
        #expect(try render("") == """
            REPOSITORY   TAG       IMAGE ID       CREATED        SIZE
            alpine       latest    9c6f07244728   2 weeks ago    5.54MB
            busybox      1.36      a416a98b71e2   3 months ago   4.26MB

            """)
        #expect(try render("table") == render(""))
    }

    @Test func headerIsPrintedWithoutRows() throws {
        #expect(try render("table", []) == "REPOSITORY   TAG       IMAGE ID   CREATED   SIZE\n")
    }

    @Test func customTableWithEscapedTabsAndDerivedHeaders() throws {
        #expect(try render(#"table {{.ID}}\t{{.Repository}}:{{.Tag}}\t{{.CreatedSince}}\t{{.VirtualSize}}"#) == """
            IMAGE ID       REPOSITORY:TAG   CREATED        VIRTUAL SIZE
            9c6f07244728   alpine:latest    2 weeks ago    <no value>
            a416a98b71e2   busybox:1.36     3 months ago   <no value>

            """)
    }

    @Test func headerFunctionsPassTheirArgumentThrough() throws {
        #expect(try render(#"table {{upper .Repository}}\t{{json .Labels}}\t{{truncate .ID 4}}"#) == """
            REPOSITORY   LABELS        IMAGE ID
            ALPINE       {"a":"<b>"}   9c6f
            BUSYBOX      null          a416

            """)
    }

    @Test func plainTemplateOneLinePerRow() throws {
        #expect(try render("{{.Repository}}:{{.Tag}}") == "alpine:latest\nbusybox:1.36\n")
        #expect(try render(#"  {{.ID}}\t{{.Size}}  "#) == "9c6f07244728\t5.54MB\na416a98b71e2\t4.26MB\n")
        #expect(try render("{{.ID}}", []) == "")
    }

    @Test func jsonIsOneObjectPerLine() throws {
        let rows: [TemplateValue] = [["ID": "a", "Tags": ["<x>"]], ["ID": "b", "Tags": []]]
        #expect(try render("json", rows) == "{\"ID\":\"a\",\"Tags\":[\"<x>\"]}\n{\"ID\":\"b\",\"Tags\":[]}\n")
    }

    @Test func templateErrorsPropagate() {
        #expect(throws: TemplateError(line: 1, column: 3, message: "function \"nope\" not defined")) {
            try render("{{nope .ID}}")
        }
        #expect(throws: TemplateError.self) { try render("{{.ID.X}}") }
    }

    @Test(arguments: [
        ("CreatedSince", "CREATED SINCE"), ("ID", "ID"), ("RepoTags", "REPO TAGS"), ("HTTPPort", "HTTP PORT"),
        ("Size", "SIZE"), ("runningFor", "RUNNING FOR"),
    ])
    func headerNames(_ field: String, _ header: String) {
        #expect(ListFormatter.headerName(for: field) == header)
    }
}

struct InspectFormatterTests {
    static let items: [TemplateValue] = [
        ["Id": "sha256:1", "RepoTags": ["a:1"], "Config": ["User": "", "Labels": ["x": "<y>"]]],
        ["Id": "sha256:2", "RepoTags": [], "Config": ["User": "app", "Labels": nil]],
    ]

    @Test func noFormatIsAnIndentedArray() throws {
        #expect(try InspectFormatter.render([Self.items[1]], format: nil) == """
            [
                {
                    "Id": "sha256:2",
                    "RepoTags": [],
                    "Config": {
                        "User": "app",
                        "Labels": null
                    }
                }
            ]

            """)
        #expect(try InspectFormatter.render([], format: nil) == "[]\n")
        #expect(try InspectFormatter.render([], format: "") == "[]\n")
    }

    @Test func templatePerItem() throws {
        #expect(try InspectFormatter.render(Self.items, format: "{{.Id}} {{.Config.User}}") == "sha256:1 \nsha256:2 app\n")
        #expect(try InspectFormatter.render(Self.items, format: "{{json .Config}}")
            == "{\"User\":\"\",\"Labels\":{\"x\":\"<y>\"}}\n{\"User\":\"app\",\"Labels\":null}\n")
        #expect(try InspectFormatter.render(Self.items, format: #"{{index .Config.Labels "x"}}"#) == "<y>\n<no value>\n")
    }

    @Test func jsonFormatIsACompactArray() throws {
        #expect(try InspectFormatter.render([["A": 1], ["A": 2]], format: "json") == "[{\"A\":1},{\"A\":2}]\n")
    }
}
