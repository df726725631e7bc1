import Testing
import TextTemplate

/// Templates that hung or exhausted memory (found with Fuzz/, `BERTH_FUZZ_TARGET=template`; the same
/// bytes are seeds in Fuzz/corpus/template/regression-*). A --format is the user's own, but a typo
/// should fail with an error rather than spin or allocate a terabyte.
@Suite struct TemplateFuzzRegressionTests {
    @Test func hugePadding() throws {
        let template = try Template(#"{{pad "" 999999999999 0}}"#)
        #expect(throws: TemplateError.self) { _ = try template.render(.null) }
        #expect(try Template(#"{{pad "x" 2 1}}"#).render(.null) == "  x ")
    }

    @Test(.timeLimit(.minutes(1)), arguments: [
        "{{range 99999999999}}{{end}}",
        "{{range 101}}{{range 1000}}{{end}}{{end}}",
        #"{{range 2000}}{{pad "" 100000 0}}{{end}}"#,
    ])
    func unboundedRanges(_ source: String) throws {
        let template = try Template(source)
        #expect(throws: TemplateError.self) { _ = try template.render(.null) }
    }

    @Test func rangesWithinTheLimitsRender() throws {
        // 99 outer and 99,000 inner iterations: within the budget of 100,000.
        #expect(try Template("{{range 99}}{{range 1000}}{{end}}{{end}}").render(.null) == "")
        #expect(try Template("{{range 3}}{{.}}{{end}}").render(.null) == "012")
    }
}
