// swift-tools-version: 6.0
import PackageDescription

// libFuzzer harnesses for Berth's parsers of outside input. A separate package so the main build is unaffected.
// Build (scripts/fuzz does this):
//   swift build --package-path Fuzz -c release -Xswiftc -sanitize=fuzzer,address -Xswiftc -parse-as-library
// -sanitize=fuzzer instruments every Swift module (coverage), and links libFuzzer's main into berth-fuzz.
let package = Package(
    name: "BerthFuzz",
    platforms: [.macOS(.v15)],
    dependencies: [
        // name: the identity of a path dependency is its directory name (a worktree may not be called "Berth").
        .package(name: "Berth", path: ".."),
    ],
    targets: [
        .executableTarget(name: "berth-fuzz", dependencies: [
            .product(name: "OCI", package: "Berth"),
            .product(name: "Archive", package: "Berth"),
            .product(name: "Dockerfile", package: "Berth"),
            .product(name: "TextTemplate", package: "Berth"),
            .product(name: "ContainerDNS", package: "Berth"),
            .product(name: "ContainerNetwork", package: "Berth"),
            .product(name: "ContainerSpec", package: "Berth"),
        ]),
    ],
    swiftLanguageModes: [.v6]
)
