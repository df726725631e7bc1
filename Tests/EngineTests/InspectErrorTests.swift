import Foundation
import TestSupport
import Testing

/// `inspect` of names that are not there, templates over fields that are not there, commands that
/// do not exist: what Docker's CLI prints and the status it exits with (docker 28 against dockerd;
/// the texts here were taken from it).
@Suite(.enabled(if: EngineEnv.ready), .serialized)
struct InspectErrorTests {
    @Test func inspectOfNothingPrintsAnEmptyList() throws {
        let berth = try BerthEngine()
        defer { berth.remove() }
        let missing = try berth.callAnyway(["inspect", "nosuch"])
        #expect(missing.status == 1 && missing.stdout == "[]\n" && missing.stderr == "Error: No such object: nosuch\n")
        let container = try berth.callAnyway(["container", "inspect", "nosuch"])
        #expect(container.status == 1 && container.stdout == "[]\n")
        #expect(container.stderr == "Error response from daemon: No such container: nosuch\n")
        // Through a template: a lone newline.
        let templated = try berth.callAnyway(["inspect", "-f", "{{.Name}}", "nosuch"])
        #expect(templated.status == 1 && templated.stdout == "\n")
        // One found, one not: the one, then the error.
        try berth.call("create", "--name", "there", "busybox:test")
        let mixed = try berth.callAnyway(["inspect", "-f", "{{.Name}}", "there", "nosuch"])
        #expect(mixed.status == 1 && mixed.stdout == "/there\n" && mixed.stderr == "Error: No such object: nosuch\n")
    }

    @Test func templateFieldThatDoesNotExist() throws {
        let berth = try BerthEngine()
        defer { berth.remove() }
        try berth.call("create", "--name", "cc", "-l", "team=blue", "busybox:test")
        for (format, message) in [
            ("{{.Nosuch}}", #"template: :1:2: executing "" at <.Nosuch>: map has no entry for key "Nosuch""#),
            ("{{.State.Nosuch}}", #"template: :1:8: executing "" at <.State.Nosuch>: map has no entry for key "Nosuch""#),
            ("a{{.Name}}b{{.Nosuch}}c", #"template: :1:13: executing "" at <.Nosuch>: map has no entry for key "Nosuch""#),
            ("{{json .Nosuch}}", #"template: :1:7: executing "" at <.Nosuch>: map has no entry for key "Nosuch""#),
            ("{{if .Nosuch}}y{{end}}", #"template: :1:5: executing "" at <.Nosuch>: map has no entry for key "Nosuch""#),
            ("{{.Config.Entrypoint.X}}", #"template: :1:9: executing "" at <.Config.Entrypoint.X>: nil pointer evaluating interface {}.X"#),
            ("{{.Name.X}}", #"template: :1:7: executing "" at <.Name.X>: can't evaluate field X in type interface {}"#),
        ] {
            let out = try berth.callAnyway(["inspect", "-f", format, "cc"])
            #expect(out.status == 1 && out.stdout == "\n" && out.stderr == "template parsing error: \(message)\n", "\(format): \(out.stderr)")
        }
        // A key a map lacks is not an error, nor a field Docker leaves out when empty.
        for (format, expected) in [
            ("{{.Config.Labels.nosuch}}", "<no value>"), ("{{.Config.Labels.team}}", "blue"),
            ("{{if .Config.Labels.nosuch.more}}y{{end}}", ""), ("{{.NetworkSettings.Networks.nosuch}}", "<no value>"),
            ("{{if .State.Health}}health{{else}}none{{end}}", "none"),
        ] {
            let out = try berth.callAnyway(["inspect", "-f", format, "cc"])
            #expect(out.status == 0 && out.stdout == expected + "\n" && out.stderr == "", "\(format): \(out.stdout) \(out.stderr)")
        }
        // A template that does not parse: Docker's 64.
        let parse = try berth.callAnyway(["inspect", "-f", "{{foo}}", "cc"])
        #expect(parse.status == 64 && parse.stderr == "template parsing error: template: :1: function \"foo\" not defined\n")
        // Volumes and networks read the same way.
        try berth.call("volume", "create", "vv")
        let volume = try berth.callAnyway(["volume", "inspect", "-f", "{{.Nosuch}}", "vv"])
        #expect(volume.status == 1 && volume.stderr.contains(#"map has no entry for key "Nosuch""#), "\(volume.stderr)")
        #expect(try berth.call("volume", "inspect", "-f", "{{.Labels.nosuch}}", "vv") == "<no value>\n")
    }

    @Test func unknownCommandsAndFlags() throws {
        let berth = try BerthEngine(loadBusybox: false)
        defer { berth.remove() }
        let command = try berth.callAnyway(["nosuch"])
        #expect(command.status == 1 && command.stderr == "berth: unknown command: berth nosuch\n\nRun 'berth --help' for more information\n")
        let sub = try berth.callAnyway(["network", "nosuch"])
        #expect(sub.status == 1)
        #expect(sub.stderr == "berth: unknown command: berth network nosuch\n\nUsage:  berth network\n\nRun 'berth network --help' for more information\n")
        for arguments in [["run", "--nosuch", "busybox"], ["ps", "--nosuch"], ["--nosuch"]] {
            #expect(try berth.callAnyway(arguments).status == 125, "\(arguments)")
        }
        // Real commands and help are not unknown.
        #expect(try berth.callAnyway(["help", "ps"]).status == 0)
        #expect(try berth.callAnyway(["network", "ls"]).status == 0)
    }
}
