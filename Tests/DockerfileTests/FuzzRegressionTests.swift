import Dockerfile
import Testing

/// Inputs that hung or crashed the Dockerfile package (with Fuzz/'s `dockerignore` and `dockerfile`
/// targets; the same bytes, or short versions of them, are seeds in Fuzz/corpus/*/regression-*).
@Suite struct DockerfileFuzzRegressionTests {
    /// Many `*` against a long name that almost matches: the glob backtracked exponentially (minutes
    /// for this one; a build context, .dockerignore and file names included, may be someone else's).
    @Test(.timeLimit(.minutes(1)))
    func manyStarsDoNotBacktrackExponentially() {
        let stars = String(repeating: "*a", count: 12)
        let ignore = DockerIgnore(text: stars + "*b\n")
        let name = String(repeating: "a", count: 62)
        #expect(!ignore.excludes(name))
        #expect(!ignore.excludes("dir/" + name))
        #expect(ignore.excludes(name + "b"))
        #expect(ignore.excludes(name + "xb"))
        #expect(!ignore.excludes(name + "/b"))  // `*` does not cross `/`
        let deep = DockerIgnore(text: "**/" + stars + "**/b\n")
        #expect(!deep.excludes(Array(repeating: name, count: 4).joined(separator: "/")))
        #expect(deep.excludes("x/" + name + "/y/b"))
    }

    /// `${A:-${A:-…}}` 5,000 deep (30 KB) overflowed the stack of the recursive expansion.
    @Test func deeplyNestedExpansions() throws {
        func nested(_ depth: Int) -> String {
            String(repeating: "${A:-", count: depth) + "x" + String(repeating: "}", count: depth)
        }
        let expander = Expander(environment: [:])
        #expect(throws: DockerfileError.self) { _ = try expander.word(nested(5_000)) }
        let error = #expect(throws: DockerfileError.self) { _ = try expander.word(nested(101)) }
        #expect(error?.description.contains("nested more than 100 deep") == true, "\(String(describing: error))")
        #expect(try expander.word(nested(100)) == "x")
        // As a build reaches it: a global ARG default, expanded when the stages are planned.
        let file = try Dockerfile(parsing: "ARG X=" + nested(5_000) + "\nFROM scratch\n")
        #expect(throws: DockerfileError.self) { _ = try BuildPlan(file) }
    }

    /// `RUN --mount=type=tmpfs,size=75775757t`: the size in bytes is past Int64, and converting it
    /// trapped (found by the CI fuzzing run's `mount` target). Now an invalid size.
    @Test func tmpfsSizePastInt64() throws {
        #expect(throws: DockerfileError.self) { _ = try RunMount.parse("type=tmpfs,size=75775757t") }
        #expect(try RunMount.parse("type=tmpfs,size=64m").size == 64 << 20)
    }
}
