// swift-tools-version: 6.0
import PackageDescription

/// Absolute, because the linker runs in the build directory.
let packageDirectory = String(#filePath.dropLast("/Package.swift".count))
/// The release link of `berth` in the order of link/berth-serve.order (see scripts/link-order, which profiles a
/// binary linked with BERTH_LINK_ORDER=none: as SwiftPM links by default).
let linkOrderFlags: [String] = {
    let setting = Context.environment["BERTH_LINK_ORDER"] ?? ""
    if setting == "none" { return [] }  // the default link, for comparisons
    return ["-use-ld=lld", "-Xlinker", "--symbol-ordering-file=\(packageDirectory)/link/berth-serve.order",
            "-Xlinker", "--no-warn-symbol-ordering"]
}()

// Layers, lowest first (see ../shared/DESIGN.md):
//   GoCompat (Go's sizes, durations, quoting, JSON parser) <- OCI, Dockerfile, TextTemplate, Registry, ContainerRuntime,
//                                    ContainerSpec, Supervisor, DockerModel
//   OCI (spec types, no I/O) <- LinuxSys (syscalls) <- ContainerRuntime <- berth-runtime
//   OCI, LinuxSys <- Archive (tar, gzip, zstd, safe unpack) <- ImageStore (blobs, records, snapshots)
//   OCI <- Registry (distribution client)                   <- ImageStore
//   Engine <- DockerModel (Docker's JSON objects, filters, --format rows) <- BerthCLI
//   TextTemplate (Go-template --format) <- BerthCLI (every command) <- berth (main.swift only)
//   ContainerRuntime <- Supervisor (per-container process: stdio, json-file logs, exit, restarts, health)
//                                    <- berth-supervisor
//   LinuxSys <- ContainerDNS (the networks' DNS server: records, wire format, poll loop) <- berth-dns
//   OCI, LinuxSys, ContainerDNS <- ContainerNetwork (CNI plugins, network namespaces, ports) <- Supervisor, Engine
//   (not `Network`: AsyncHTTPClient takes `canImport(Network)` to mean Apple's framework)
//   OCI, LinuxSys, ContainerRuntime, ContainerNetwork <- ContainerSpec (RunOptions and their parsers,
//                                    options + image config -> OCI spec) <- Supervisor, Engine, Builder
//   Dockerfile, ContainerSpec, ImageStore <- Builder (no Engine: the CLI hands it the engine's parts)
//   ImageStore, Supervisor, ContainerRuntime <- Engine (containers, volumes, networks, their database)
//   Engine (berth.db), ContainerSpec (EngineError), LinuxSys (ConditionLock), GoCompat (JSON values) <- Kube
//                                    (the Kubernetes roles: the object store, etcd's role)
//   Kube, GoCompat <- KubeModel (the API's kinds, selectors, names, Status, tables)
//                                    <- KubeAPI (on HTTPServer: discovery, CRUD, watch, patches; TLS, token, kubeconfig) <- BerthCLI
//   Kube, KubeModel, Engine, ContainerNetwork, Registry <- Kubelet (the kubelet's role: Pods as Engine containers) <- BerthCLI
//   Engine, ImageStore, Registry (search results), ContainerRuntime (the version), GoCompat (request bodies, Go's decoding) <- DockerModel
//                                    (Docker's objects, filters, --format rows, API request bodies) <- BerthCLI <- berth
// The library is `ContainerRuntime` rather than `Runtime` because the toolchain ships a module named `Runtime`.
let package = Package(
    name: "Berth",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "berth-runtime", targets: ["berth-runtime"]),
        .executable(name: "berth", targets: ["berth"]),
        .executable(name: "berth-supervisor", targets: ["berth-supervisor"]),
        .executable(name: "berth-dns", targets: ["berth-dns"]),
        .library(name: "OCI", targets: ["OCI"]),
        .library(name: "ContainerRuntime", targets: ["ContainerRuntime"]),
        .library(name: "ImageStore", targets: ["ImageStore"]),
        // For the fuzzing package in Fuzz/ (see Fuzz/Package.swift).
        .library(name: "Archive", targets: ["Archive"]),
        .library(name: "Dockerfile", targets: ["Dockerfile"]),
        .library(name: "TextTemplate", targets: ["TextTemplate"]),
        .library(name: "ContainerDNS", targets: ["ContainerDNS"]),
        .library(name: "ContainerNetwork", targets: ["ContainerNetwork"]),
        .library(name: "Engine", targets: ["Engine"]),
        .library(name: "ContainerSpec", targets: ["ContainerSpec"]),
        .library(name: "GoCompat", targets: ["GoCompat"]),
        .library(name: "Kube", targets: ["Kube"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-crypto.git", from: "3.12.3"),
        .package(url: "https://github.com/swift-server/async-http-client.git", from: "1.37.0"),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/groue/GRDB.swift.git", from: "7.10.0"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        // The Kubernetes API's TLS: its CA and serving certificate (made on first start), and the listener.
        .package(url: "https://github.com/apple/swift-certificates.git", from: "1.21.1"),
        .package(url: "https://github.com/apple/swift-asn1.git", from: "1.7.4"),
        .package(url: "https://github.com/apple/swift-nio-ssl.git", from: "2.37.6"),
        // YAML request bodies (application/yaml, server-side apply's YAML configurations).
        .package(url: "https://github.com/jpsim/Yams.git", from: "6.0.0"),
    ],
    targets: [
        .target(name: "GoCompat"),
        .target(name: "OCI", dependencies: ["GoCompat"]),
        .target(name: "CLinuxSys", linkerSettings: [.linkedLibrary("seccomp")]),
        .systemLibrary(name: "CZlib", path: "Sources/CZlib"),
        .systemLibrary(name: "CZstd", path: "Sources/CZstd"),
        .target(name: "LinuxSys", dependencies: ["CLinuxSys"]),
        .target(name: "ContainerRuntime", dependencies: ["OCI", "LinuxSys", "CLinuxSys", "GoCompat"]),
        .target(name: "Archive", dependencies: [
            "LinuxSys", "CLinuxSys", "CZlib", "CZstd", .product(name: "Crypto", package: "swift-crypto"),
        ]),
        .target(name: "Registry", dependencies: [
            "OCI", "GoCompat", .product(name: "AsyncHTTPClient", package: "async-http-client"),
            .product(name: "NIOCore", package: "swift-nio"), .product(name: "NIOHTTP1", package: "swift-nio"),
            .product(name: "Crypto", package: "swift-crypto"),
        ]),
        .target(name: "ImageStore", dependencies: [
            "OCI", "LinuxSys", "Archive", "Registry",
            .product(name: "GRDB", package: "GRDB.swift"), .product(name: "Crypto", package: "swift-crypto"),
            .product(name: "NIOCore", package: "swift-nio"),
        ]),
        .target(name: "TextTemplate", dependencies: ["GoCompat"]),
        .target(name: "Dockerfile", dependencies: ["GoCompat"]),
        .target(name: "ContainerNetwork", dependencies: ["OCI", "LinuxSys", "CLinuxSys", "ContainerDNS"]),
        .target(name: "ContainerSpec", dependencies: ["OCI", "LinuxSys", "CLinuxSys", "GoCompat", "ContainerRuntime", "ContainerNetwork"]),
        .target(name: "Supervisor", dependencies: [
            "ContainerRuntime", "ContainerSpec", "LinuxSys", "CLinuxSys", "OCI", "ContainerNetwork", "GoCompat",
        ]),
        .target(name: "Engine", dependencies: [
            "ImageStore", "Archive", "Supervisor", "ContainerSpec", "ContainerRuntime", "LinuxSys", "CLinuxSys", "OCI", "ContainerNetwork",
            .product(name: "GRDB", package: "GRDB.swift"),
        ]),
        .target(name: "Builder", dependencies: [
            "Dockerfile", "ContainerSpec", "ImageStore", "Archive", "OCI", "LinuxSys", "CLinuxSys",
            .product(name: "Crypto", package: "swift-crypto"),
        ]),
        .executableTarget(name: "berth-runtime", dependencies: ["ContainerRuntime", "LinuxSys", "OCI"]),
        .executableTarget(name: "berth-supervisor", dependencies: ["Supervisor", "LinuxSys"]),
        .target(name: "ContainerDNS", dependencies: ["LinuxSys", "CLinuxSys"]),
        .executableTarget(name: "berth-dns", dependencies: ["ContainerDNS"]),
        // The Kubernetes roles (services layer); its objects live in the engine's berth.db, in tables of their own.
        .target(name: "Kube", dependencies: [
            "Engine", "ContainerSpec", "LinuxSys", "GoCompat", .product(name: "GRDB", package: "GRDB.swift"),
        ]),
        // The kubelet's role: Pods from the store run as Engine containers (a sandbox per Pod on the pod network).
        .target(name: "Kubelet", dependencies: [
            "Kube", "KubeModel", "Engine", "ContainerSpec", "ContainerNetwork", "LinuxSys", "GoCompat", "OCI", "Registry",
        ]),
        .target(name: "DockerModel", dependencies: ["Engine", "GoCompat", "Registry", "ContainerRuntime", "ContainerSpec", "ImageStore", "Supervisor", "ContainerNetwork", "OCI", "LinuxSys"]),
        // SwiftNIO HTTP/1.1 for the API front ends: unix and TCP listeners, streamed bodies, hijacking, WebSockets.
        .target(name: "HTTPServer", dependencies: [
            "LinuxSys", "GoCompat", "CZlib", .product(name: "NIOCore", package: "swift-nio"), .product(name: "NIOPosix", package: "swift-nio"),
            .product(name: "NIOHTTP1", package: "swift-nio"), .product(name: "NIOWebSocket", package: "swift-nio"),
            .product(name: "Crypto", package: "swift-crypto"), .product(name: "NIOSSL", package: "swift-nio-ssl"),
        ]),
        // Kubernetes' objects as the API shows them: kinds and their resources, selectors, names, Status errors, tables.
        .target(name: "KubeModel", dependencies: ["Kube", "ContainerSpec", "GoCompat"]),
        // The controller manager's role: control loops over the store (Services' Endpoints so far).
        .target(name: "KubeControllers", dependencies: ["Kube", "KubeModel", "ContainerSpec", "LinuxSys", "GoCompat"]),
        // kube-proxy's role: the iptables rules that give Services their cluster IPs and node ports.
        .target(name: "KubeProxy", dependencies: ["Kube", "KubeModel", "ContainerNetwork", "ContainerDNS", "ContainerSpec", "LinuxSys", "GoCompat"]),
        // The Ingress controller's role: Berth's IngressClass and an HTTP(S) reverse proxy on SwiftNIO for its Ingresses.
        .target(name: "KubeIngress", dependencies: [
            "Kube", "KubeModel", "ContainerSpec", "LinuxSys", "GoCompat",
            .product(name: "NIOCore", package: "swift-nio"), .product(name: "NIOPosix", package: "swift-nio"),
            .product(name: "NIOHTTP1", package: "swift-nio"), .product(name: "NIOSSL", package: "swift-nio-ssl"),
            .product(name: "Crypto", package: "swift-crypto"), .product(name: "X509", package: "swift-certificates"),
        ]),
        // The Kubernetes API front end (kubectl's contract): discovery, CRUD, watch, patches, auth, its TLS and kubeconfig.
        .target(name: "KubeAPI", dependencies: [
            "HTTPServer", "KubeModel", "Kube", "ContainerSpec", "GoCompat", "LinuxSys", "Engine", "Supervisor",
            .product(name: "NIOHTTP1", package: "swift-nio"), .product(name: "Crypto", package: "swift-crypto"),
            .product(name: "X509", package: "swift-certificates"), .product(name: "SwiftASN1", package: "swift-asn1"),
            .product(name: "Yams", package: "Yams"),
        ]),
        // The Docker Engine API front end (`berth serve`), beside BerthCLI over the same services and views.
        .target(name: "DockerAPI", dependencies: [
            "HTTPServer", "DockerModel", "Engine", "ContainerSpec", "ContainerRuntime", "ContainerNetwork", "Supervisor", "TextTemplate",
            "GoCompat", "LinuxSys", "ImageStore", "Registry", "Builder", "Dockerfile", "Archive", "OCI",
            .product(name: "NIOHTTP1", package: "swift-nio"),
        ]),
        .target(name: "BerthCLI", dependencies: [
            "DockerAPI", "KubeAPI", "Kube", "KubeProxy", "KubeControllers", "KubeIngress", "Kubelet", "HTTPServer", "DockerModel", "ImageStore", "Registry", "Archive", "OCI", "LinuxSys", "TextTemplate", "Engine", "ContainerSpec", "Supervisor",
            "ContainerRuntime", "ContainerNetwork", "Builder", "Dockerfile", "GoCompat",
            .product(name: "AsyncHTTPClient", package: "async-http-client"), .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),
        // Release links put what `berth serve` runs next to each other (scripts/link-order made the list): the
        // server then maps the pages it uses instead of 64 KiB of neighbours around each of them.
        .executableTarget(name: "berth", dependencies: ["BerthCLI"], linkerSettings: [
            .unsafeFlags(linkOrderFlags, .when(configuration: .release)),
        ]),
        .target(name: "TestSupport", path: "Tests/TestSupport"),
        .testTarget(name: "OCITests", dependencies: ["OCI"]),
        .testTarget(name: "LinuxSysTests", dependencies: ["LinuxSys", "CLinuxSys"]),
        .testTarget(name: "ContainerRuntimeTests", dependencies: ["ContainerRuntime", "OCI", "LinuxSys", "CLinuxSys", "TestSupport"]),
        .testTarget(name: "ArchiveTests", dependencies: ["Archive", "LinuxSys", "CLinuxSys"]),
        .testTarget(name: "TextTemplateTests", dependencies: ["TextTemplate"]),
        .testTarget(name: "DockerfileTests", dependencies: ["Dockerfile"]),
        .testTarget(name: "GoCompatTests", dependencies: ["GoCompat"]),
        .testTarget(name: "ContainerSpecTests", dependencies: ["ContainerSpec", "ContainerNetwork", "OCI", "LinuxSys", "GoCompat", "TestSupport"]),
        .testTarget(name: "RegistryTests", dependencies: [
            "Registry", "OCI", .product(name: "Crypto", package: "swift-crypto"), .product(name: "NIOCore", package: "swift-nio"),
        ]),
        .testTarget(name: "ImageTests", dependencies: ["ImageStore", "Registry", "Archive", "OCI", "LinuxSys", "TestSupport"]),
        .testTarget(name: "SupervisorTests", dependencies: ["Supervisor", "LinuxSys", "OCI", "TestSupport"]),
        .testTarget(name: "NetworkTests", dependencies: ["ContainerNetwork", "LinuxSys", "TestSupport"]),
        .testTarget(name: "DNSTests", dependencies: ["ContainerDNS", "LinuxSys"]),
        // BerthCLI: its RunFlags and Update are the oracles the API's request bodies are checked against.
        .testTarget(name: "DockerModelTests", dependencies: [
            "DockerModel", "TextTemplate", "Supervisor", "ContainerNetwork", "BerthCLI", "ContainerSpec", "Engine", "GoCompat", "OCI", "Builder", "Registry",
        ]),
        .testTarget(name: "BerthCLITests", dependencies: ["BerthCLI", "ContainerSpec", "Engine", "OCI", "TestSupport"]),
        // `berth serve` driven by the docker CLI and curl (APIServer.swift starts it; a file per area).
        .testTarget(name: "DockerAPITests", dependencies: ["TestSupport"]),
        // KubeTests' kill -9 test runs this writer and kills it mid-write.
        .executableTarget(name: "kube-store-writer", dependencies: ["Kube", "ContainerSpec", "GoCompat"], path: "Tests/KubeStoreWriter"),
        .testTarget(name: "KubeTests", dependencies: ["Kube", "Engine", "ContainerSpec", "LinuxSys", "GoCompat", "TestSupport"]),
        // `berth serve`'s Kubernetes API driven by the real kubectl (1.33 and 1.27) and curl.
        .testTarget(name: "KubeAPITests", dependencies: ["TestSupport"]),
        .testTarget(name: "KubeProxyTests", dependencies: ["KubeProxy", "GoCompat"]),
        .testTarget(name: "KubeControllersTests", dependencies: ["KubeControllers", "Kube", "KubeModel", "ContainerSpec", "GoCompat"]),
        .testTarget(name: "KubeModelTests", dependencies: ["KubeModel", "Kube", "GoCompat", "TestSupport"]),
        .testTarget(name: "KubeIngressTests", dependencies: ["KubeIngress", "GoCompat"]),
        // SPDY/3.1 framing and header compression (what kubectl's streams use before WebSockets).
        .testTarget(name: "HTTPServerTests", dependencies: ["HTTPServer", "CZlib"]),
        .testTarget(name: "EngineTests", dependencies: ["Engine", "ContainerSpec", "ContainerNetwork", "Supervisor", "ImageStore", "OCI", "LinuxSys", "TestSupport"]),
    ],
    swiftLanguageModes: [.v6]
)
