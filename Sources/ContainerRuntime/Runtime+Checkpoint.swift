import Glibc
import LinuxSys

extension OCIRuntime {
    /// `checkpoint` and `restore` go through CRIU. Before anything else CRIU is asked whether it can
    /// work on this kernel (`criu check`), so the user learns why not instead of a half-made image.
    public func checkCheckpointSupport(command: String, criu: String?) throws(RuntimeError) {
        let binary = criu ?? "criu"
        let check: (status: Int32, output: String)
        do {
            check = try HostCommand.run([binary, "check"])
        } catch {
            throw RuntimeError("\(command): CRIU is not available (\(binary): \(error.message)); install Debian's criu package")
        }
        guard check.status == 0 else {
            let reason = check.output.split(separator: "\n").first(where: { $0.contains("Error") })
                .map(String.init) ?? "criu check exited with status \(check.status)"
            throw RuntimeError("\(command): CRIU cannot checkpoint on this kernel: \(reason)")
        }
        throw RuntimeError("\(command): CRIU works here, but checkpoint/restore is not implemented in this build of berth-runtime")
    }
}

/// A host program run to completion with its combined output (for criu and ps).
public enum HostCommand {
    public static func run(_ argv: [String]) throws(RuntimeError) -> (status: Int32, output: String) {
        var pipeFDs: [Int32] = [0, 0]
        guard pipe(&pipeFDs) == 0 else { throw SysError("pipe").context("run \(argv[0])") }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_adddup2(&actions, pipeFDs[1], 1)
        posix_spawn_file_actions_adddup2(&actions, pipeFDs[1], 2)
        posix_spawn_file_actions_addclose(&actions, pipeFDs[0])
        var cArgs: [UnsafeMutablePointer<CChar>?] = argv.map { strdup($0) } + [nil]
        defer { for arg in cArgs { free(arg) } }
        var pid: pid_t = 0
        let result = posix_spawnp(&pid, argv[0], &actions, nil, &cArgs, environ)
        FS.close(pipeFDs[1])
        defer { FS.close(pipeFDs[0]) }
        guard result == 0 else { throw SysError("posix_spawn", argv[0], errno: result).context("run \(argv[0])") }
        var output: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = buffer.withUnsafeMutableBytes { Glibc.read(pipeFDs[0], $0.baseAddress, $0.count) }
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { break }
            output += buffer[0..<n]
        }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        return (ProcessSys.decode(status: status).shellStatus, String(decoding: output, as: UTF8.self))
    }
}
