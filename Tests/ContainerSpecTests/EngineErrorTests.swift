import ContainerSpec
import LinuxSys
import Testing

/// The one error shape of the services: kinds as Docker's API answers them, the syscall's error kept.
struct EngineErrorTests {
    @Test(arguments: [
        (EngineError.Kind.invalidArgument, 400), (.notFound, 404), (.conflict, 409),
        (.forbidden, 403), (.unavailable, 503), (.internal, 500), (.expired, 410),
    ] as [(EngineError.Kind, Int)])
    func kindsMapToDockersHTTPStatuses(kind: EngineError.Kind, status: Int) {
        #expect(EngineError(kind, "x").httpStatus == status)
    }

    @Test func everyKindHasAStatus() {
        #expect(Set(EngineError.Kind.allCases.map { EngineError($0, "").httpStatus }).count == EngineError.Kind.allCases.count)
    }

    @Test func wrappingASysErrorKeepsIt() {
        let sys = SysError("open", "/x", errno: 2)
        let error = EngineError.system("mount rootfs", sys)
        #expect(error.kind == .internal)
        #expect(error.underlying == sys)
        #expect(error.message == "mount rootfs: \(sys)")
        #expect(!error.reportedByDaemon)
        #expect(EngineError.system("op", EngineError.invalid("no")).underlying == nil)
    }

    @Test func theMessageCarriesNoFrontEndWords() {
        let error = EngineError.notFound("No such container: x", reportedByDaemon: true)
        #expect(error.description == "No such container: x")
        #expect(error.reportedByDaemon)
        #expect(EngineError.invalid("bad").fromDaemon.reportedByDaemon)
    }
}
