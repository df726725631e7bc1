@testable import BerthCLI
import ContainerSpec
import Engine
import Testing

/// How the CLI prints a service's failure and the status it exits with: Docker's words and numbers,
/// decided by the error's data, never its text.
struct CLIErrorReportTests {
    @Test(arguments: EngineError.Kind.allCases)
    func everyKindExitsAsDockersCLIDoesForADaemonError(kind: EngineError.Kind) {
        #expect(kind.cliExitCode == 125)
    }

    @Test func theDaemonsFailuresGetItsWords() {
        #expect(EngineError.notFound("No such container: x", reportedByDaemon: true).cliText
            == "Error response from daemon: No such container: x")
        #expect(EngineError.invalid("invalid argument \"x\" for \"-m, --memory\" flag: invalid size: 'x'").cliText
            == "invalid argument \"x\" for \"-m, --memory\" flag: invalid size: 'x'")
        #expect(describe(EngineError.conflict("Container c is not paused", reportedByDaemon: true))
            == "Error response from daemon: Container c is not paused")
        #expect(daemonText(EngineError.notFound("no such volume")) == "Error response from daemon: no such volume")
    }

    @Test func execFailuresToo() {
        #expect(ExecError(.conflict, "container c is not running", exitCode: 1, reportedByDaemon: true).cliText
            == "Error response from daemon: container c is not running")
        let runtime = "OCI runtime exec failed: exec failed: unable to start container process: x: unknown"
        #expect(ExecError(.internal, runtime, exitCode: 127, reportedByDaemon: false).cliText == runtime)
    }
}
