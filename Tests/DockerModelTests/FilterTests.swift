import DockerModel
import Supervisor
import Testing

/// The `--filter` grammars: Docker's error words for what they refuse, and what they match.
@Suite struct FilterTests {
    static let containerErrors: [(String, String)] = [
        ("status", "bad format of filter (expected name=value)"),
        ("status=bogus", "invalid filter 'status=bogus': Invalid filter 'status=bogus'"),
        ("exited=x", "invalid filter 'exited=x'"),
        ("health=sick", "Unrecognised filter value for health: sick"),
        ("publish=80-70", "invalid filter 'publish=80-70'"),
        ("publish=8080:80", "filter for 'publish' should not contain ':': 8080:80"),
        ("color=red", "invalid filter 'color'"),
        ("label!=a", "invalid filter 'label!'"),
        ("until=1h", "invalid filter 'until'"),
    ]

    @Test(arguments: containerErrors)
    func containerFilterErrors(_ filter: String, _ message: String) {
        #expect(throws: FilterError.self) { try ContainerFilters([filter]) }
        do { _ = try ContainerFilters([filter]) } catch { #expect(error.message == message) }
    }

    static func candidate(status: String = "running", exitCode: Int32 = 0, health: String? = nil) -> ContainerFilters.Candidate {
        .init(id: "abcdef0123456789", name: "web-1", image: "alpine:3", imageID: "sha256:1234", labels: ["tier": "front", "x": ""],
              status: status, exitCode: exitCode, health: health, created: 1000,
              mounts: ["data", "/srv"], networks: ["bridge", "front", "0123456789abcdef"], published: ["8080/tcp", "0/udp"], exposed: ["80/tcp", "53/udp"])
    }

    static let containerMatches: [([String], Bool)] = [
        (["id=abc"], true), (["id=bcd"], false), (["name=web"], true), (["name=db"], false),
        (["label=tier"], true), (["label=tier=front"], true), (["label=tier=back"], false), (["label=none"], false),
        (["status=running"], true), (["status=exited"], false), (["status=exited", "status=running"], true),
        (["exited=0"], false), (["ancestor=alpine:3"], true), (["ancestor=1234"], true), (["ancestor=busybox"], false),
        (["health=none"], true), (["health=healthy"], false),
        (["volume=data"], true), (["volume=/srv"], true), (["volume=other"], false),
        (["network=front"], true), (["network=0123456789ab"], true), (["network=0123"], false),
        (["publish=8080"], true), (["publish=8080/udp"], false), (["publish=8000-8100/tcp"], true), (["publish=80"], false),
        (["expose=53/udp"], true), (["expose=53/tcp"], false), (["expose=53"], false), (["expose=80"], true),
        (["publish=80", "expose=53/udp"], true),
        (["name=web", "label=tier=back"], false),
    ]

    @Test(arguments: containerMatches)
    func containerFilterMatches(_ filters: [String], _ expected: Bool) throws {
        #expect(try ContainerFilters(filters).accepts(Self.candidate()) == expected)
    }

    @Test func pruneTakesNegatedLabelsAndUntil() throws {
        let filters = try ContainerFilters(["label!=tier=front"], allowUntil: true)
        #expect(!filters.accepts(Self.candidate()))
        #expect(try ContainerFilters(["until=1970-01-01T00:20:00Z"], allowUntil: true).accepts(Self.candidate()))
        #expect(try !ContainerFilters(["until=1970-01-01T00:10:00Z"], allowUntil: true).accepts(Self.candidate()))
    }

    @Test func beforeAndSinceNameContainers() throws {
        var filters = try ContainerFilters(["before=old"])
        #expect(throws: FilterError(.invalid, "No such container: old")) { try filters.resolve { _ in nil } }
        try filters.resolve { _ in 2000 }
        #expect(filters.accepts(Self.candidate()))
        try filters.resolve { _ in 500 }
        #expect(!filters.accepts(Self.candidate()))
    }

    static let eventErrors: [(String, String)] = [
        ("container", "bad format of filter (expected name=value)"),
        ("colour=red", "invalid filter 'colour'"),
    ]

    @Test(arguments: eventErrors)
    func eventFilterErrors(_ filter: String, _ message: String) {
        do { _ = try EventFilters([filter]); Issue.record("accepted \(filter)") } catch { #expect(error.message == message) }
    }

    static let eventMatches: [([String], Bool)] = [
        (["container=web"], true), (["container=c0ff"], true), (["container=db"], false),
        (["event=start"], true), (["event=die"], false), (["type=container"], true), (["type=network"], false),
        (["image=alpine"], true), (["image=alpine:latest"], true), (["image=busybox"], false),
        (["label=name=web"], true), (["label=name"], true), (["label=name=db"], false),
        (["scope=local"], true), (["scope=swarm"], false), (["volume=v"], false), (["network=n"], false),
    ]

    @Test(arguments: eventMatches)
    func eventFilterMatches(_ filters: [String], _ expected: Bool) throws {
        let event = EventMessage(container: "c0ffee", action: "start", attributes: ["name": "web", "image": "alpine:latest"])
        #expect(try EventFilters(filters).accepts(event) == expected)
    }

    @Test func eventHealthStatusMatchesItsDetailedForm() throws {
        let event = EventMessage(container: "c0ffee", action: "health_status: healthy", attributes: [:])
        #expect(try EventFilters(["event=health_status"]).accepts(event))
    }

    static let volumeErrors: [([String], Bool, FilterError)] = [
        (["name"], false, FilterError(.badFormat, "bad format of filter (expected name=value)")),
        (["dangling=maybe"], false, FilterError(.invalid, "invalid filter 'dangling=maybe'")),
        (["all=1"], false, FilterError(.invalid, "Invalid filter 'all'")),
        (["name=x"], true, FilterError(.invalid, "Invalid filter 'name'")),
        (["all=maybe"], true, FilterError(.invalid, "invalid filter 'all=maybe'")),
    ]

    @Test(arguments: volumeErrors)
    func volumeFilterErrors(_ filters: [String], _ prune: Bool, _ expected: FilterError) {
        #expect(throws: expected) { try VolumeFilters(filters, prune: prune) }
    }

    static let volumeMatches: [([String], Bool, Bool)] = [
        (["name=^da"], false, true), (["name=ta$"], false, true), (["name=^ta"], false, false),
        (["dangling=true"], false, true), (["dangling=false"], false, false), (["dangling=true"], true, false),
        (["driver=local"], false, true), (["driver=nfs"], false, false), (["label=k=v"], false, true), (["label=k=w"], false, false),
    ]

    @Test(arguments: volumeMatches)
    func volumeFilterMatches(_ filters: [String], _ inUse: Bool, _ expected: Bool) throws {
        #expect(try VolumeFilters(filters).accepts(name: "data", driver: "local", labels: ["k": "v"], inUse: inUse) == expected)
    }

    static let networkCases: [([String], String, Bool)] = [
        (["name=fro"], "front", true), (["name=back"], "front", false), (["id=0123"], "front", true), (["id=1"], "front", false),
        (["driver=bridge"], "front", true), (["driver=host"], "front", false), (["type=custom"], "front", true),
        (["type=builtin"], "front", false), (["type=builtin"], "bridge", true), (["label=k"], "front", true), (["label=k=x"], "front", false),
    ]

    @Test(arguments: networkCases)
    func networkFilterMatches(_ filters: [String], _ name: String, _ expected: Bool) throws {
        #expect(try NetworkFilters(filters).accepts(name: name, id: "0123abcd", driver: "bridge", labels: ["k": "v"]) == expected)
    }

    @Test func networkFilterErrors() {
        #expect(throws: FilterError(.badFormat, "bad format of filter (expected name=value)")) { try NetworkFilters(["name"]) }
        #expect(throws: FilterError(.invalid, "Invalid filter 'scope'")) { try NetworkFilters(["scope=local"]) }
    }

    @Test func imageFilterErrors() {
        #expect(throws: FilterError(.badFormat, "bad format of filter (expected name=value): dangling")) { try ImageFilters(["dangling"]) }
        #expect(throws: FilterError(.invalid, "invalid filter 'dangling=maybe': expected true or false")) { try ImageFilters(["dangling=maybe"]) }
        #expect(throws: FilterError(.invalid, "invalid filter 'bogus' (images takes dangling, reference, label, before, since and until)")) { try ImageFilters(["bogus=x"]) }
        #expect(throws: FilterError(.invalid, "invalid filter 'reference'")) { try ImageFilters(["reference=x"], forPrune: true) }
    }
}
