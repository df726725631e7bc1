// libFuzzer entry point for Berth's parsers of outside input.
//
// One binary, many targets: BERTH_FUZZ_TARGET (read once) names the parser the input goes to.
// Every harness calls pure parsing code only (no files written, no syscalls with side effects).
// A thrown error is an expected outcome; a trap, an overflow, an out-of-bounds access, a hang or a
// huge allocation is a finding. A harness that checks a property (a round trip, two ways of feeding
// the same bytes agreeing) reports a violation with `fatalError`, which libFuzzer records as a crash.

import Archive
import ContainerDNS
import ContainerNetwork
import Dockerfile
#if canImport(ContainerSpec)
import ContainerSpec
#endif
import OCI
import TextTemplate

#if canImport(Glibc)
import Glibc
#endif

typealias Harness = @Sendable ([UInt8]) -> Void

let harnesses: [String: Harness] = [
    "oci-spec": fuzzRuntimeSpec,
    "image-manifest": fuzzManifest,
    "image-config": fuzzImageConfig,
    "image-ref": fuzzImageReference,
    "tar": fuzzTar,
    "dockerfile": fuzzDockerfile,
    "dockerignore": fuzzDockerIgnore,
    "dns": fuzzDNS,
    "dns-config": fuzzDNSConfig,
    "template": fuzzTemplate,
    "template-json": fuzzTemplateJSON,
    "port": fuzzPort,
]
#if canImport(ContainerSpec)
let engineHarnesses: [String: Harness] = ["volume": fuzzVolume, "mount": fuzzMount, "run-flags": fuzzRunFlags]
#else
let engineHarnesses: [String: Harness] = [:]
#endif

/// The harness chosen by BERTH_FUZZ_TARGET, looked up once (a global's initialiser runs once).
let selected: Harness = {
    let name = getenv("BERTH_FUZZ_TARGET").map { String(cString: $0) } ?? ""
    let all = harnesses.merging(engineHarnesses) { a, _ in a }
    guard let harness = all[name] else {
        let known = all.keys.sorted().joined(separator: " ")
        let message = "berth-fuzz: set BERTH_FUZZ_TARGET to one of: \(known)\n"
        _ = message.withCString { write(2, $0, strlen($0)) }
        exit(2)
    }
    return harness
}()

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzTestOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    let bytes = data.map { Array(UnsafeBufferPointer(start: $0, count: size)) } ?? []
    selected(bytes)
    return 0
}

/// libFuzzer's driver (libclang_rt.fuzzer, linked by -sanitize=fuzzer).
@_silgen_name("LLVMFuzzerRunDriver")
func LLVMFuzzerRunDriver(
    _ argc: UnsafeMutablePointer<Int32>,
    _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>,
    _ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> Int32
) -> Int32

/// The program's entry. SwiftPM links an executable with `main` defined as `<module>_main`
/// (`--defsym main=berth_fuzz_main`), which shadows libFuzzer's own `main`; this one hands the
/// command line to libFuzzer's driver, as libFuzzer's `main` would.
@_cdecl("berth_fuzz_main")
public func fuzzMain(_ argc: Int32, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> Int32 {
    var argc = argc
    var argv = argv
    _ = selected
    return LLVMFuzzerRunDriver(&argc, &argv) { data, size in fuzzTestOneInput(data, size) }
}

/// Validates BERTH_FUZZ_TARGET before the first input (a typo fails at once, not on input one).
@_cdecl("LLVMFuzzerInitialize")
public func fuzzInitialize(_ argc: UnsafeMutablePointer<Int32>?, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>?) -> Int32 {
    _ = selected
    return 0
}

func text(_ bytes: [UInt8]) -> String { String(decoding: bytes, as: UTF8.self) }

/// Splits at the first NUL: (before, after), or (nil, all) without one. Lets one input carry a
/// side argument (a content type, a path list) that the fuzzer can mutate too.
func splitAtNUL(_ bytes: [UInt8]) -> (head: [UInt8]?, body: [UInt8]) {
    guard let nul = bytes.firstIndex(of: 0) else { return (nil, bytes) }
    return (Array(bytes[..<nul]), Array(bytes[(nul + 1)...]))
}

// MARK: OCI

/// config.json as `berth-runtime create` reads a bundle: decode, validate, re-encode, decode again.
func fuzzRuntimeSpec(_ bytes: [UInt8]) {
    guard let spec = try? Spec.decode(bytes) else { return }
    _ = try? spec.validate()
    let again = spec.encoded()
    guard let reread = try? Spec.decode(again) else {
        fatalError("oci-spec: a decoded spec does not decode after encoding: \(text(again))")
    }
    _ = try? reread.validate()
}

/// A manifest or index from a registry, by the content type the registry sends (before the first
/// NUL, if any) or by shape; then the platform choice a pull makes.
func fuzzManifest(_ bytes: [UInt8]) {
    let (head, body) = splitAtNUL(bytes)
    let contentType = head.map(text)
    for type in [contentType, nil, MediaType.ociIndex] {
        guard let doc = try? ManifestDocument.decode(body, contentType: type) else { continue }
        switch doc {
        case .index(let index):
            _ = index.manifest(for: OCI.Platform(architecture: "amd64", os: "linux"))
            _ = index.manifest(for: OCI.Platform(architecture: "arm64", os: "linux", variant: "v8"))
            _ = encodeCompact(index)
        case .manifest(let manifest):
            _ = encodeCompact(manifest)
        }
    }
    _ = try? decodeJSON(ImageManifest.self, body)
    _ = try? decodeJSON(ImageIndex.self, body)
}

/// An image config blob (from a registry, `load` or `import`).
func fuzzImageConfig(_ bytes: [UInt8]) {
    guard let config = try? decodeJSON(ImageConfiguration.self, bytes) else { return }
    let again = encodeCompact(config)
    guard (try? decodeJSON(ImageConfiguration.self, again)) != nil else {
        fatalError("image-config: a decoded config does not decode after encoding: \(text(again))")
    }
}

/// Image references, digests and platforms as the CLI and registries spell them.
func fuzzImageReference(_ bytes: [UInt8]) {
    let s = text(bytes)
    if let ref = try? ImageReference(parsing: s) {
        _ = ref.description
        _ = ref.with(tag: "latest")
    }
    _ = try? Digest(s)
    _ = try? OCI.Platform(parsing: s)
}

// MARK: tar

/// Counts what a `TarReader` hands out, and copies the headers for comparison.
final class TarCounter: TarEntryHandler {
    var headers: [TarHeader] = []
    var dataBytes = 0
    var ended = 0
    func entry(_ header: TarHeader) throws { headers.append(header) }
    func data(_ chunk: UnsafeRawBufferPointer) throws { dataBytes += chunk.count }
    func endOfEntry() throws { ended += 1 }
}

/// The tar stream of a layer or a `load`/`import` archive, as given and with the checksums of its
/// headers made right (every header's checksum is verified, and a mutated header almost never has
/// a right one, which would keep the fuzzer out of everything after the checksum test).
func fuzzTar(_ bytes: [UInt8]) {
    fuzzTarStream(bytes)
    if let fixed = withFixedChecksums(bytes) { fuzzTarStream(fixed) }
}

/// Recomputes the checksum of every 512-byte block that carries the ustar magic ("ustar" at 257,
/// as POSIX and GNU headers do); nil if none changed.
func withFixedChecksums(_ bytes: [UInt8]) -> [UInt8]? {
    var out = bytes
    var changed = false
    var start = 0
    while start + 512 <= out.count {
        if out[(start + 257)..<(start + 262)].elementsEqual("ustar".utf8) {
            var sum = 8 * 32
            for i in start..<(start + 512) where i < start + 148 || i >= start + 156 { sum += Int(out[i]) }
            let field = Array(String(sum, radix: 8).utf8)
            let octal = [UInt8](repeating: UInt8(ascii: "0"), count: 6 - field.count) + field + [0, UInt8(ascii: " ")]
            if !out[(start + 148)..<(start + 156)].elementsEqual(octal) {
                out.replaceSubrange((start + 148)..<(start + 156), with: octal)
                changed = true
            }
        }
        start += 512
    }
    return changed ? out : nil
}

/// Reads the stream whole, then again in 7-byte chunks (the reader is a push parser; network reads
/// split anywhere): both readings must agree.
func fuzzTarStream(_ bytes: [UInt8]) {
    func read(chunk: Int) -> (TarCounter, Bool) {
        let reader = TarReader()
        let counter = TarCounter()
        do {
            try bytes.withUnsafeBytes { raw in
                var start = 0
                repeat {
                    let end = min(raw.count, start + chunk)
                    try reader.feed(UnsafeRawBufferPointer(rebasing: raw[start..<end]), to: counter)
                    start = end
                } while start < raw.count
            }
            try reader.finish()
            return (counter, true)
        } catch {
            return (counter, false)
        }
    }
    let (whole, wholeOK) = read(chunk: max(bytes.count, 1))
    let (chunked, chunkedOK) = read(chunk: 7)
    if wholeOK != chunkedOK || whole.headers != chunked.headers || whole.dataBytes != chunked.dataBytes {
        fatalError("tar: reading whole and in 7-byte chunks disagree: \(wholeOK) \(whole.headers.count) vs \(chunkedOK) \(chunked.headers.count)")
    }
    _ = try? TarReader.entries(of: bytes, options: TarReader.Options(skipUnknownEntryTypes: true))
}

// MARK: Dockerfile

/// A Dockerfile as `berth build` reads it: parse, interpret every instruction, plan the stages
/// (global ARG expansion, FROM resolution, COPY --from), expand each stage's instructions.
func fuzzDockerfile(_ bytes: [UInt8]) {
    guard let file = try? Dockerfile(parsing: text(bytes)) else { return }
    guard let plan = try? BuildPlan(file, buildArgs: ["BUILDARG": "value"]) else { return }
    let expander = Expander(escape: plan.escape, environment: ["HOME": "/root", "PATH": "/usr/bin", "A": "a b"])
    for stage in plan.stages {
        var scope = plan.scope()
        var config = ImageConfigState()
        for line in stage.instructions {
            _ = try? line.instruction.expanded(with: expander)
            _ = try? config.apply(line.instruction, scope: &scope)
        }
    }
}

/// .dockerignore: parse the patterns, then match a few paths (the head before a NUL, if any, is
/// one more path).
func fuzzDockerIgnore(_ bytes: [UInt8]) {
    let (head, body) = splitAtNUL(bytes)
    let ignore = DockerIgnore(text: text(body))
    var paths = ["a", "a/b", "a/b/c.txt", ".git", "src/main.go", "node_modules/x/y", "Dockerfile", "dir/", "ü/ß"]
    if let head { paths.append(text(head)) }
    for path in paths {
        _ = ignore.excludes(path)
        _ = ignore.excludes(path, isDirectory: true)
        _ = ignore.mustWalk(path)
    }
}

// MARK: DNS

/// A packet as the networks' DNS server receives it: parsed, answered from fixed records,
/// serialised at the client's size; and a packet as an upstream's reply (peeked, names in PTR data).
func fuzzDNS(_ bytes: [UInt8]) {
    _ = try? DNSMessage.peekQuestion(bytes)
    guard let message = try? DNSMessage(parsing: bytes) else { return }
    for record in message.answers where record.type == DNSType.ptr {
        _ = try? DNSMessage.name(inRecordData: record.data, of: bytes)
    }
    let wire = message.serialized()
    guard (try? DNSMessage(parsing: wire)) != nil else {
        fatalError("dns: a parsed message does not parse after serialisation")
    }
    if case .answer(let response) = DNSResponder.resolve(message, records: dnsRecords, searchDomains: ["corp.example"]) {
        _ = response.serialized(maxSize: DNSResponder.maxUDPSize(for: message))
        _ = response.serialized(maxSize: 12)
    }
}

let dnsRecords = NetworkRecords([
    DNSEntry(ip: IPv4(172, 18, 0, 2), names: ["web", "web.alias", "abcdef012345"]),
    DNSEntry(ip: IPv4(172, 18, 0, 3), names: ["db"]),
    DNSEntry(ip: IPv4(172, 18, 0, 4), names: ["web"]),
])

/// The DNS server's text inputs: the host's resolv.conf and the per-network config files.
func fuzzDNSConfig(_ bytes: [UInt8]) {
    let s = text(bytes)
    _ = ResolvConf(parsing: s)
    let entries = DNSConfig.parseRecords(s)
    _ = NetworkRecords(entries)
    _ = DNSConfig.parseListen(s)
    _ = DNSConfig.parseClients(s)
    _ = DNSName(s)?.wire
}

// MARK: templates

let templateData: TemplateValue = .object([
    (key: "Name", value: .string("web")),
    (key: "ID", value: .string("0123456789abcdef")),
    (key: "Count", value: .int(3)),
    (key: "Ratio", value: .double(1.5)),
    (key: "On", value: .bool(true)),
    (key: "Nil", value: .null),
    (key: "X", value: .array([.int(1), .string("two"), .double(-3e21), .null, .bool(false)])),
    (key: "Labels", value: .object([(key: "a", value: .string("1")), (key: "b.c", value: .string("x,y"))])),
    (key: "Nested", value: .object([(key: "Inner", value: .array([.object([(key: "K", value: .string("v"))])]))])),
])

/// A `--format` Go template: parse, then execute against a small fixed value.
func fuzzTemplate(_ bytes: [UInt8]) {
    guard let template = try? Template(text(bytes)) else { return }
    _ = try? template.render(templateData)
    _ = try? template.render(.array([templateData, .null]))
}

/// The JSON parser templates use for values (`inspect` data, `json` round trips).
func fuzzTemplateJSON(_ bytes: [UInt8]) {
    guard let value = try? TemplateValue.parseJSON(bytes) else { return }
    let json = value.json()
    guard let again = try? TemplateValue.parseJSON(json) else {
        fatalError("template-json: a parsed value does not parse after encoding: \(json)")
    }
    _ = again.prettyJSON()
}

// MARK: run options

/// `-p`/`--publish`.
func fuzzPort(_ bytes: [UInt8]) {
    _ = try? PortMapping.parse(text(bytes))
}

#if canImport(ContainerSpec)

/// `-v`/`--volume`.
func fuzzVolume(_ bytes: [UInt8]) {
    _ = try? RunOptions.Parse.volume(text(bytes), currentDirectory: "/home/user/project")
}

/// `--mount` and `--tmpfs`.
func fuzzMount(_ bytes: [UInt8]) {
    let s = text(bytes)
    _ = try? RunOptions.Parse.mount(s, currentDirectory: "/home/user/project")
    _ = try? RunOptions.Parse.tmpfs(s)
    _ = try? RunMount.parse(s)
}

/// The other value-carrying `run` flags, each line of the input to each parser, and the whole input
/// as an --env-file.
func fuzzRunFlags(_ bytes: [UInt8]) {
    for line in text(bytes).split(separator: "\n", omittingEmptySubsequences: false).map(String.init) {
        _ = try? RunOptions.Parse.size(line)
        _ = try? RunOptions.Parse.memorySwap(line)
        _ = try? RunOptions.Parse.nanoCPUs(line)
        _ = try? RunOptions.Parse.integer(line)
        _ = try? RunOptions.Parse.ulimit(line)
        _ = try? RunOptions.Parse.device(line)
        _ = try? RunOptions.Parse.restart(line)
        _ = try? RunOptions.Parse.capability(line)
        _ = try? RunOptions.Parse.stopSignal(line)
        _ = try? RunOptions.Parse.sysctl(line)
        _ = try? RunOptions.Parse.network(line)
        _ = try? RunOptions.Parse.pull(line)
        _ = try? RunOptions.Parse.env(line, lookup: { $0 == "HOME" ? "/root" : nil })
        _ = try? RunOptions.Parse.label(line)
        _ = try? RunOptions.Parse.logOption(line)
        _ = try? RunOptions.Parse.duration(line)
        _ = try? parseGoDuration(line)
        _ = try? parseExposedPorts(line)
        var options = RunOptions()
        _ = try? options.applySecurityOption(line)
    }
    _ = try? RunOptions.Parse.envFile(contents: bytes, path: "env.list", lookup: { $0 == "HOME" ? "/root" : nil })
}
#endif
