@testable import DockerModel
import Registry
import Testing
import TextTemplate

/// `GET /version` and the search objects (`GET /images/search`, `search`'s rows and filters).
@Suite struct VersionSearchTests {
    func json(_ value: some Encodable) throws -> String { try TemplateValueEncoder().encode(value).json() }

    static let build = BuildFacts(version: "0.1.0", commit: "abcdef1", buildTime: 1_748_606_834, compiler: "swift6.3", os: "linux", arch: "amd64")

    @Test func engineVersionHasDockersMembersAndTimes() throws {
        let version = SystemVersion.engine(build: Self.build)
        let text = try json(version)
        #expect(text.hasPrefix(#"{"Platform":{"Name":"Berth"},"Components":[{"Name":"Engine","Version":"0.1.0","Details":{"ApiVersion":"1.51","Arch":"amd64","BuildTime":"Fri May 30 12:07:14 2025","Experimental":"false","GitCommit":"abcdef1","GoVersion":"swift6.3","KernelVersion":"#), "\(text)")
        #expect(text.hasSuffix(#","MinAPIVersion":"1.24","Os":"linux"}},{"Name":"berth-runtime","Version":"0.1.0","Details":{}}],"Version":"0.1.0","ApiVersion":"1.51","MinAPIVersion":"1.24","GitCommit":"abcdef1","GoVersion":"swift6.3","Os":"linux","Arch":"amd64","KernelVersion":"\#(version.kernelVersion)","BuildTime":"2025-05-30T12:07:14.000000000+00:00"}"#), "\(text)")
        #expect(!version.kernelVersion.isEmpty)
        #expect(try json(ClientVersion(build: Self.build)) == #"{"Version":"0.1.0","ApiVersion":"1.51","DefaultAPIVersion":"1.51","GitCommit":"abcdef1","GoVersion":"swift6.3","Os":"linux","Arch":"amd64","BuildTime":"Fri May 30 12:07:14 2025","Context":"default"}"#)
        // A day of the month under 10 is space-padded, as Go's time.ANSIC.
        #expect(BuildFacts(version: "", commit: "", buildTime: 1_746_651_000, compiler: "", os: "", arch: "").ansicBuildTime == "Wed May  7 20:50:00 2025")
    }

    @Test func searchResultIsDockersJSON() throws {
        let result = SearchResult(name: "busybox", description: "tiny", starCount: 3100, isOfficial: true)
        #expect(try json(result) == #"{"star_count":3100,"is_official":true,"name":"busybox","is_automated":false,"description":"tiny"}"#)
    }

    @Test func searchRowsAndFilters() throws {
        let long = SearchResult(name: "a", description: "Line one\nline two, which is much longer than forty-five characters", starCount: 2)
        let row = SearchRow(long, noTrunc: false, json: false)
        #expect(row.description == "Line one line two, which is much longer than…" && row.description.count == 45)
        #expect(SearchRow(long, noTrunc: true, json: false).description == "Line one line two, which is much longer than forty-five characters")
        let official = SearchResult(name: "b", starCount: 9, isOfficial: true)
        #expect(SearchRow(official, noTrunc: false, json: false).isOfficial == "[OK]")
        #expect(SearchRow(official, noTrunc: false, json: true).isOfficial == "true")
        #expect(SearchRow(long, noTrunc: false, json: false).isOfficial == "")

        let filters = try SearchFilters(["stars=1", "stars=5", "is-official=true"])
        #expect(filters.minimumStars == 5 && filters.accepts(official) && !filters.accepts(long))
        #expect(try SearchFilters(["is-automated=false"]).accepts(long))
        #expect(throws: FilterError(.invalid, "invalid filter 'stars=many'")) { try SearchFilters(["stars=many"]) }
        #expect(throws: FilterError(.invalid, "invalid filter 'colour'")) { try SearchFilters(["colour=red"]) }
        #expect(throws: FilterError(.badFormat, "bad format of filter (expected name=value)")) { try SearchFilters(["stars"]) }
    }

    @Test func searchTermsAreReadAsDockers() {
        #expect(RegistryClient.searchTarget("busybox") == ("docker.io", "busybox"))
        #expect(RegistryClient.searchTarget("me/tool") == ("docker.io", "me/tool"))
        #expect(RegistryClient.searchTarget("127.0.0.1:5000/me/tool") == ("127.0.0.1:5000", "me/tool"))
        #expect(RegistryClient.searchTarget("localhost/x") == ("localhost", "x"))
        #expect(RegistryClient.searchTarget("index.docker.io/library/busybox") == ("docker.io", "library/busybox"))
    }
}
