import ContainerRuntime
import Glibc
import LinuxSys
import OCI

/// What this build of Berth is, in the terms `docker version` shows: its version, a commit-like
/// build identity (the executable's GNU build ID, 7 hex digits as Docker shortens a commit), when it
/// was built (the executable's mtime), the Swift compiler in the "Go version" place.
public struct BuildFacts: Sendable {
    public var version: String
    public var commit: String
    /// Seconds since the epoch.
    public var buildTime: Int
    public var compiler: String
    /// Go's names (`linux`, `amd64`), as Docker reports them.
    public var os: String
    public var arch: String

    public static let current: BuildFacts = {
        var st = stat()
        let built = stat("/proc/self/exe", &st) == 0 ? Int(st.st_mtim.tv_sec) : 0
        return BuildFacts(version: berthVersion, commit: String((ProcessSys.buildID ?? "unknown").prefix(7)), buildTime: built,
                          compiler: swiftCompiler, os: "linux", arch: Platform.current.architecture)
    }()

    /// The compiler that built this, as `swift6.1` (what Go's `go1.24.3` is in Docker's output).
    static var swiftCompiler: String {
        #if compiler(>=7.0)
        return "swift7"
        #elseif compiler(>=6.3)
        return "swift6.3"
        #elseif compiler(>=6.2)
        return "swift6.2"
        #elseif compiler(>=6.1)
        return "swift6.1"
        #else
        return "swift6.0"
        #endif
    }

    /// Go's time.ANSIC in UTC, as Docker prints build times: `Fri May 30 12:07:14 2025`.
    public var ansicBuildTime: String { Self.format(buildTime, "%a %b %e %H:%M:%S %Y") }
    /// RFC 3339 with nanoseconds, as the API's top-level BuildTime: `2025-05-30T12:07:14.000000000+00:00`.
    public var rfc3339BuildTime: String { Self.format(buildTime, "%Y-%m-%dT%H:%M:%S.000000000+00:00") }

    static func format(_ seconds: Int, _ pattern: String) -> String {
        var time = time_t(seconds)
        var parts = tm()
        gmtime_r(&time, &parts)
        var buffer = [CChar](repeating: 0, count: 64)
        let count = strftime(&buffer, buffer.count, pattern, &parts)
        return String(decoding: buffer[0..<count].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}

extension SystemVersion {
    /// The Engine API versions Berth speaks (`ApiVersion`, `MinAPIVersion`).
    public static let apiVersion = "1.51"
    public static let minimumAPIVersion = "1.24"

    /// `GET /version` for the engine in this process: Docker's shape, with Berth's build facts and
    /// the running kernel; the components are the engine and its OCI runtime.
    public static func engine(build: BuildFacts = .current) -> SystemVersion {
        var names = utsname()
        uname(&names)
        let kernel = withUnsafeBytes(of: names.release) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
        let details = [
            "ApiVersion": apiVersion, "Arch": build.arch, "BuildTime": build.ansicBuildTime, "Experimental": "false",
            "GitCommit": build.commit, "GoVersion": build.compiler, "KernelVersion": kernel, "MinAPIVersion": minimumAPIVersion,
            "Os": build.os,
        ]
        return SystemVersion(
            platform: Platform(name: "Berth"),
            components: [Component(name: "Engine", version: build.version, details: details),
                         Component(name: "berth-runtime", version: build.version)],
            version: build.version, apiVersion: apiVersion, minAPIVersion: minimumAPIVersion, gitCommit: build.commit,
            goVersion: build.compiler, os: build.os, arch: build.arch, kernelVersion: kernel, buildTime: build.rfc3339BuildTime)
    }
}

/// The client half of `docker version` (`{{json .Client}}`): Berth is its own client.
public struct ClientVersion: Encodable, Sendable {
    public var version: String
    public var apiVersion: String
    public var defaultAPIVersion: String
    public var gitCommit: String
    public var goVersion: String
    public var os: String
    public var arch: String
    public var buildTime: String
    public var context: String

    public init(build: BuildFacts = .current, context: String = "default") {
        version = build.version
        apiVersion = SystemVersion.apiVersion
        defaultAPIVersion = SystemVersion.apiVersion
        gitCommit = build.commit
        goVersion = build.compiler
        os = build.os
        arch = build.arch
        buildTime = build.ansicBuildTime
        self.context = context
    }

    enum CodingKeys: String, CodingKey {
        case version = "Version", apiVersion = "ApiVersion", defaultAPIVersion = "DefaultAPIVersion", gitCommit = "GitCommit"
        case goVersion = "GoVersion", os = "Os", arch = "Arch", buildTime = "BuildTime", context = "Context"
    }
}
