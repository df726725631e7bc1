import ContainerRuntime

extension SystemVersion {
    /// The server's `GET /version` for this machine: Berth as the engine, berth-runtime as the OCI
    /// runtime, with the API range the server speaks.
    public static func server(host: HostFacts = .current(), apiVersion: String, minAPIVersion: String) -> SystemVersion {
        SystemVersion(
            platform: Platform(name: "Berth"),
            components: [
                Component(name: "Engine", version: berthVersion, details: [
                    "ApiVersion": apiVersion, "Arch": host.goArchitecture, "BuildTime": "", "Experimental": "false",
                    "GitCommit": "", "GoVersion": "none (Swift)", "KernelVersion": host.kernelVersion,
                    "MinAPIVersion": minAPIVersion, "Os": "linux",
                ]),
                Component(name: "berth-runtime", version: berthVersion, details: ["GitCommit": ""]),
            ],
            version: berthVersion, apiVersion: apiVersion, minAPIVersion: minAPIVersion, gitCommit: "",
            goVersion: "none (Swift)", os: "linux", arch: host.goArchitecture, kernelVersion: host.kernelVersion,
            buildTime: "")
    }
}

extension HostFacts {
    /// The architecture in Go's words (GOARCH), as Docker reports it: amd64, arm64 …
    public var goArchitecture: String {
        switch architecture {
        case "x86_64": "amd64"
        case "aarch64": "arm64"
        case "armv7l": "arm"
        case "i686", "i386": "386"
        default: architecture
        }
    }
}
