import ArgumentParser
import Glibc
import ImageStore
import LinuxSys
import OCI

struct Save: BerthCommand {
    static let configuration = CommandConfiguration(commandName: "save", abstract: "Save one or more images to a tar archive (streamed to STDOUT by default)")
    @Option(name: .shortAndLong, help: "Write to a file, instead of STDOUT") var output: String?
    @Option(help: "docker-archive (default) or oci-archive") var format: String = "docker-archive"
    @Argument(help: "IMAGE") var images: [String]

    func execute() async throws {
        guard let kind = ArchiveFormat(rawValue: format) else {
            throw ValidationError("unknown --format \(format): docker-archive or oci-archive")
        }
        guard !images.isEmpty else { throw ValidationError("\"save\" requires at least 1 argument") }
        let store = try GlobalOptions.store()
        if let output {
            // Written beside the target and renamed, so a failed save leaves no torn archive.
            let temporary = output + ".berth-save-\(ProcessSys.currentPID)"
            try FS.replaceDurably(output, temporary: temporary) { fd in
                try store.save(images, format: kind) { chunk in try writeAll(fd, chunk, temporary) }
            }
        } else {
            guard !isTerminal(STDOUT_FILENO) else {
                throw ValidationError("cowardly refusing to save to a terminal. Use the -o flag or redirect")
            }
            try store.save(images, format: kind) { chunk in try writeAll(STDOUT_FILENO, chunk, "stdout") }
        }
    }
}

struct Load: BerthCommand {
    static let configuration = CommandConfiguration(commandName: "load", abstract: "Load images from a tar archive (docker save or OCI) or STDIN")
    @Option(name: .shortAndLong, help: "Read from a tar archive file, instead of STDIN") var input: String?
    @Flag(name: .shortAndLong, help: "Suppress the load output") var quiet = false

    func execute() async throws {
        let store = try GlobalOptions.store()
        let fd = try input.map { try FS.open($0, O_RDONLY) } ?? STDIN_FILENO
        defer { if input != nil { FS.close(fd) } }
        if input == nil && isTerminal(STDIN_FILENO) {
            throw ValidationError("requested load from stdin, but stdin is empty")
        }
        let result = try store.loadArchive { buffer in try readSome(fd, buffer, input ?? "stdin") }
        guard !quiet else { return }
        for tag in result.tags { print("Loaded image: \(tag.familiar)") }
        for id in result.untagged { print("Loaded image ID: \(id)") }
    }
}

struct Import: BerthCommand {
    static let configuration = CommandConfiguration(commandName: "import", abstract: "Import the contents from a tarball to create a filesystem image")
    @Option(name: .shortAndLong, help: "Apply a Dockerfile instruction to the created image") var change: [String] = []
    @Option(name: .shortAndLong, help: "Set commit message for imported image") var message: String?
    @Option(help: "Set platform if the image is for another one (os/arch[/variant])") var platform: String?
    @Argument(help: "file|-") var source: String
    @Argument(help: "REPOSITORY[:TAG]") var repository: String?

    func execute() async throws {
        let tag = try repository.map(parseReference)
        var wanted = Platform.current
        if let platform {
            do { wanted = try Platform(parsing: platform) } catch { throw ValidationError(error.message) }
        }
        let store = try GlobalOptions.store()
        let fd = source == "-" ? STDIN_FILENO : try FS.open(source, O_RDONLY)
        defer { if source != "-" { FS.close(fd) } }
        let id = try store.importRootfs(read: { buffer in try readSome(fd, buffer, source) }, source: source == "-" ? "-" : source,
                                        changes: change, message: message, platform: wanted, tag: tag)
        print(id)
    }
}

func writeAll(_ fd: Int32, _ bytes: UnsafeRawBufferPointer, _ what: String) throws {
    try FS.writeAll(fd, bytes, describe: what)
}

func readSome(_ fd: Int32, _ buffer: UnsafeMutableRawBufferPointer, _ what: String) throws -> Int {
    try FS.readSome(fd, into: buffer, describe: what)
}
