import ArgumentParser
import DockerModel
import TextTemplate

/// Prints text that may or may not end in a newline, ending it with exactly one.
func printBlock(_ text: String) {
    print(text.hasSuffix("\n") ? text : text + "\n", terminator: "")
}

/// `volume inspect`, `network inspect` …: each name looked up and shown through `--format`; a name
/// that fails is reported as the daemon reports it, and the command then exits 1.
func inspectEach(_ names: [String], format: String?, _ value: (String) throws -> TemplateValue) throws {
    var values: [TemplateValue] = []
    var failed = false
    for name in names {
        do { values.append(try value(name)) } catch {
            printError(daemonText(error))
            failed = true
        }
    }
    try printInspected(values, format: format)
    if failed { throw ExitCode(1) }
}

/// What every inspect command prints for the objects it found, as `docker inspect` does: the JSON
/// array (`[]` when none was found), or each object through the template (a lone newline when
/// none was); a template that does not parse exits 64, one that fails on an object 1, after what
/// the objects before it gave.
func printInspected(_ values: [TemplateValue], format: String?) throws {
    guard let format, !format.isEmpty, format != "json" else {
        printBlock(try InspectFormatter.render(values, format: nil))
        return
    }
    let template: Template
    do { template = try Template(format) } catch {
        printError("template parsing error: \(error)")
        throw ExitCode(64)
    }
    var out = ""
    var failure: TemplateError?
    for value in values {
        do { out += try InspectFormatter.render(value, template) + "\n" } catch {
            failure = error
            break
        }
    }
    print(out.isEmpty ? "\n" : out, terminator: "")
    if let failure {
        printError("template parsing error: \(failure)")
        throw ExitCode(1)
    }
}

/// A DockerModel value as templates and inspect's JSON read it (members in the model's order).
func templateValue(_ value: some Encodable) throws -> TemplateValue {
    try TemplateValueEncoder().encode(value)
}

/// A filter the daemon refused, as `docker` reports it through ArgumentParser ("Error: …").
func validated<T>(_ body: () throws(FilterError) -> T) throws -> T {
    do { return try body() } catch { throw ValidationError(error.message) }
}
