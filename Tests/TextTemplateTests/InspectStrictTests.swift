import Testing
import TextTemplate

/// `InspectFormatter.render(_:_:)`: Docker's inspect reading of a template over an encoded object,
/// first as Go's typed structs (a field a struct lacks is an error, a key a map lacks is not),
/// then, if that fails, over the raw JSON with missingkey=error.
struct InspectStrictTests {
    struct HealthValue: Encodable { var Status = "healthy" }
    struct StateValue: Encodable {
        var Running = true
        var Health: HealthValue?
        var Entrypoint: [String]?
        enum CodingKeys: String, CodingKey { case Running, Health, Entrypoint }
        func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(Running, forKey: .Running)
            try c.encodeIfPresent(Health, forKey: .Health)
            try c.encode(Entrypoint, forKey: .Entrypoint)
        }
    }
    struct Object: Encodable {
        var Name = "/web"
        var State = StateValue()
        var Labels = ["team": "blue"]
        var Volumes: [String: String]? = nil
        enum CodingKeys: String, CodingKey { case Name, State, Labels, Volumes }
        func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(Name, forKey: .Name)
            try c.encode(State, forKey: .State)
            try c.encode(Labels, forKey: .Labels)
            try c.encode(Volumes, forKey: .Volumes)
        }
    }

    static func render(_ format: String, _ object: Object = Object()) throws -> String {
        try InspectFormatter.render(try TemplateValueEncoder().encode(object), try Template(format))
    }

    @Test func presentFieldsAndMapKeys() throws {
        #expect(try Self.render("{{.Name}} {{.State.Running}} {{.Labels.team}}") == "/web true blue")
        // A key a map lacks, and what follows it, are nothing; so is a field omitempty left out.
        #expect(try Self.render("{{.Labels.nosuch}}|{{.Labels.nosuch.deeper}}|{{if .State.Health}}h{{end}}") == "<no value>|<no value>|")
        // A nil map is an empty map to a template, null in JSON.
        #expect(try Self.render("{{.Volumes}} {{.Volumes.x}} {{len .Volumes}} {{json .Volumes}}") == "map[] <no value> 0 null")
        #expect(try Self.render("{{json .}}") == #"{"Name":"/web","State":{"Running":true,"Entrypoint":null},"Labels":{"team":"blue"},"Volumes":null}"#)
        // Without the typed reading (Template.render's default) a missing field is still nothing.
        #expect(try Template("{{.Nosuch}}").render(try TemplateValueEncoder().encode(Object())) == "<no value>")
    }

    @Test(arguments: [
        ("{{.Nosuch}}", #"template: :1:2: executing "" at <.Nosuch>: map has no entry for key "Nosuch""#),
        ("{{.State.Nosuch}}", #"template: :1:8: executing "" at <.State.Nosuch>: map has no entry for key "Nosuch""#),
        // Into an omitted field: Go's nil pointer, then the raw JSON has no such key.
        ("{{.State.Health.Status}}", #"template: :1:8: executing "" at <.State.Health.Status>: map has no entry for key "Health""#),
        ("{{.State.Entrypoint.X}}", #"template: :1:8: executing "" at <.State.Entrypoint.X>: nil pointer evaluating interface {}.X"#),
        // The typed reading failed, so the raw one reports the first key it lacks, a map's too.
        ("{{.Labels.nosuch}}{{.Nosuch}}", #"template: :1:9: executing "" at <.Labels.nosuch>: map has no entry for key "nosuch""#),
        ("{{.Name.X}}", #"template: :1:7: executing "" at <.Name.X>: can't evaluate field X in type interface {}"#),
    ])
    func missingFields(format: String, message: String) throws {
        do {
            let out = try Self.render(format)
            Issue.record("rendered \(out)")
        } catch let error as TemplateError {
            #expect(error.description == message)
        }
    }
}
