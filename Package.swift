// swift-tools-version: 6.0
import PackageDescription

// Layers, lowest first: OCI (spec types, no I/O) <- LinuxSys (syscalls) <- ContainerRuntime <- berth-runtime.
// The library is `ContainerRuntime` rather than `Runtime` because the toolchain ships a module named `Runtime`.
let package = Package(
    name: "Berth",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "berth-runtime", targets: ["berth-runtime"]),
        .library(name: "OCI", targets: ["OCI"]),
        .library(name: "ContainerRuntime", targets: ["ContainerRuntime"]),
    ],
    targets: [
        .target(name: "OCI"),
        .target(name: "CLinuxSys", linkerSettings: [.linkedLibrary("seccomp")]),
        .target(name: "LinuxSys", dependencies: ["CLinuxSys"]),
        .target(name: "ContainerRuntime", dependencies: ["OCI", "LinuxSys"]),
        .executableTarget(name: "berth-runtime", dependencies: ["ContainerRuntime", "LinuxSys", "OCI"]),
        .testTarget(name: "OCITests", dependencies: ["OCI"]),
        .testTarget(name: "ContainerRuntimeTests", dependencies: ["ContainerRuntime", "OCI", "LinuxSys", "CLinuxSys"]),
    ],
    swiftLanguageModes: [.v6]
)
