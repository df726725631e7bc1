/// Docker's `GET /version` (`version --format '{{json .Server}}'`). KernelVersion and
/// Experimental are left out when empty/false, as Docker's `omitempty`.
public struct SystemVersion: Codable, Sendable, Equatable {
    public var platform: Platform
    public var components: [Component]
    public var version: String
    public var apiVersion: String
    public var minAPIVersion: String
    public var gitCommit: String
    public var goVersion: String
    public var os: String
    public var arch: String
    public var kernelVersion: String
    public var experimental: Bool
    public var buildTime: String

    public struct Platform: Codable, Sendable, Equatable {
        public var name: String
        public init(name: String) { self.name = name }
        enum CodingKeys: String, CodingKey { case name = "Name" }
    }

    public struct Component: Codable, Sendable, Equatable {
        public var name: String
        public var version: String
        public var details: [String: String]
        public init(name: String, version: String, details: [String: String] = [:]) {
            self.name = name
            self.version = version
            self.details = details
        }
        enum CodingKeys: String, CodingKey { case name = "Name", version = "Version", details = "Details" }

        public func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(name, forKey: .name)
            try c.encode(version, forKey: .version)
            try c.encode(SortedMap(details), forKey: .details)
        }
    }

    public init(platform: Platform, components: [Component], version: String, apiVersion: String, minAPIVersion: String,
                gitCommit: String, goVersion: String, os: String, arch: String, kernelVersion: String,
                experimental: Bool = false, buildTime: String) {
        self.platform = platform
        self.components = components
        self.version = version
        self.apiVersion = apiVersion
        self.minAPIVersion = minAPIVersion
        self.gitCommit = gitCommit
        self.goVersion = goVersion
        self.os = os
        self.arch = arch
        self.kernelVersion = kernelVersion
        self.experimental = experimental
        self.buildTime = buildTime
    }

    enum CodingKeys: String, CodingKey {
        case platform = "Platform", components = "Components", version = "Version", apiVersion = "ApiVersion"
        case minAPIVersion = "MinAPIVersion", gitCommit = "GitCommit", goVersion = "GoVersion", os = "Os", arch = "Arch"
        case kernelVersion = "KernelVersion", experimental = "Experimental", buildTime = "BuildTime"
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        platform = try c.decode(Platform.self, forKey: .platform)
        components = try c.decodeIfPresent([Component].self, forKey: .components) ?? []
        version = try c.decode(String.self, forKey: .version)
        apiVersion = try c.decode(String.self, forKey: .apiVersion)
        minAPIVersion = try c.decode(String.self, forKey: .minAPIVersion)
        gitCommit = try c.decode(String.self, forKey: .gitCommit)
        goVersion = try c.decode(String.self, forKey: .goVersion)
        os = try c.decode(String.self, forKey: .os)
        arch = try c.decode(String.self, forKey: .arch)
        kernelVersion = try c.decodeIfPresent(String.self, forKey: .kernelVersion) ?? ""
        experimental = try c.decodeIfPresent(Bool.self, forKey: .experimental) ?? false
        buildTime = try c.decode(String.self, forKey: .buildTime)
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(platform, forKey: .platform)
        try c.encode(components, forKey: .components)
        try c.encode(version, forKey: .version)
        try c.encode(apiVersion, forKey: .apiVersion)
        try c.encode(minAPIVersion, forKey: .minAPIVersion)
        try c.encode(gitCommit, forKey: .gitCommit)
        try c.encode(goVersion, forKey: .goVersion)
        try c.encode(os, forKey: .os)
        try c.encode(arch, forKey: .arch)
        if !kernelVersion.isEmpty { try c.encode(kernelVersion, forKey: .kernelVersion) }
        if experimental { try c.encode(experimental, forKey: .experimental) }
        try c.encode(buildTime, forKey: .buildTime)
    }
}
