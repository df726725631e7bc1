import Dockerfile
import Testing

@Suite struct DockerIgnoreTests {
    static let ignore = DockerIgnore(text: """
        # comment
         # not a comment: a pattern (with spaces trimmed) that matches nothing here

        /node_modules
        ./build/
        *.log
        !important.log
        **/*.tmp
        docs/**/*.md
        !docs/README.md
        secret?.txt
        cache/[a-c]*
        vendor
        !vendor/keep/**
        target
        !target/release/app
        target/release
        """)

    @Test(arguments: [
        ("node_modules", true),
        ("node_modules/x/index.js", true),
        ("src/node_modules", false),
        ("build", true),
        ("build/out.o", true),
        ("debug.log", true),
        ("important.log", false),
        ("logs/debug.log", false),  // `*` does not cross `/`
        ("a.tmp", true),
        ("deep/er/a.tmp", true),
        ("docs/a.md", true),
        ("docs/x/y/a.md", true),
        ("docs/README.md", false),
        ("docs/img.png", false),
        ("secret1.txt", true),
        ("secret12.txt", false),
        ("cache/apple", true),
        ("cache/dog", false),
        ("vendor", true),
        ("vendor/lib/a.go", true),
        ("vendor/keep/a.go", false),
        ("vendor/keep", true),  // `vendor/keep/**` matches what is inside, not the directory itself
        ("target/debug/app", true),
        ("target/release/app", true),  // the later `target/release` wins over the exception
        ("src/main.swift", false),
        ("Dockerfile", false),
        ("./debug.log", true),
        ("build//x", true),
    ])
    func excludes(path: String, expected: Bool) {
        #expect(Self.ignore.excludes(path, isDirectory: false) == expected)
    }

    @Test func lastMatchWinsAndExceptionsReinclude() {
        let i = DockerIgnore(text: "*\n!src\nsrc/*.o\n!src/keep.o\n")
        #expect(i.excludes("README"))
        #expect(!i.excludes("src/a.c"))
        #expect(i.excludes("src/a.o"))
        #expect(!i.excludes("src/keep.o"))
    }

    @Test func doubleStarAlone() {
        let i = DockerIgnore(text: "**\n!keep/**\n")
        #expect(i.excludes("a/b"))
        #expect(!i.excludes("keep/x"))
    }

    @Test func escapesAndClasses() {
        let i = DockerIgnore(text: "\\*.txt\nfile[0-9]\nx[!a]y\n")
        #expect(i.excludes("*.txt"))
        #expect(!i.excludes("a.txt"))
        #expect(i.excludes("file7"))
        #expect(!i.excludes("filex"))
        #expect(i.excludes("xby"))
        #expect(!i.excludes("xay"))
    }

    @Test(arguments: [
        ("node_modules", false),  // excluded, no exception could reach inside
        ("vendor", true),  // `!vendor/keep/**` lives under it
        ("vendor/lib", false),
        ("vendor/keep", true),
        ("docs", true),  // not excluded at all
        ("build", false),
        ("target", true),  // `!target/release/app`
    ])
    func mustWalk(dir: String, expected: Bool) {
        #expect(Self.ignore.mustWalk(dir) == expected)
    }

    @Test func wildcardExceptionForcesWalk() {
        let i = DockerIgnore(text: "logs\n!**/keep.txt\n")
        #expect(i.mustWalk("logs"))
        #expect(i.excludes("logs/a.txt"))
        #expect(!i.excludes("logs/keep.txt"))
    }
}
