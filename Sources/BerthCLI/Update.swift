import ArgumentParser
import ContainerSpec
import Engine
import Glibc
import OCI

/// `update`: new resource limits and restart policy for one or more containers, live and stored.
struct Update: BerthCommand {
    static let configuration = CommandConfiguration(commandName: "update", abstract: "Update configuration of one or more containers")

    @Option(name: .shortAndLong, help: "Memory limit")
    var memory: String?
    @Option(name: .customLong("memory-swap"), help: "Swap limit equal to memory plus swap: -1 to enable unlimited swap")
    var memorySwap: String?
    @Option(name: .customLong("memory-reservation"), help: "Memory soft limit")
    var memoryReservation: String?
    @Option(help: "Number of CPUs")
    var cpus: String?
    @Option(name: [.customShort("c"), .customLong("cpu-shares")], help: "CPU shares (relative weight)")
    var cpuShares: String?
    @Option(name: .customLong("cpu-period"), help: "Limit CPU CFS (Completely Fair Scheduler) period")
    var cpuPeriod: String?
    @Option(name: .customLong("cpu-quota"), help: "Limit CPU CFS (Completely Fair Scheduler) quota")
    var cpuQuota: String?
    @Option(name: .customLong("cpuset-cpus"), help: "CPUs in which to allow execution (0-3, 0,1)")
    var cpusetCpus: String?
    @Option(name: .customLong("cpuset-mems"), help: "MEMs in which to allow execution (0-3, 0,1)")
    var cpusetMems: String?
    @Option(name: .customLong("pids-limit"), help: "Tune container pids limit (set -1 for unlimited)")
    var pidsLimit: String?
    @Option(help: "Restart policy to apply when a container exits")
    var restart: String?
    @Argument(help: "CONTAINER")
    var containers: [String]

    func validate() throws {
        if containers.isEmpty { throw ValidationError("\"update\" requires at least 1 argument.") }
    }

    /// The flags as typed, parsed with `run`'s parsers (and Docker's CLI wording on failure).
    func change() throws(EngineError) -> Engine.ResourceUpdate {
        typealias Parse = RunOptions.Parse
        func flag<T>(_ names: String, _ value: String?, _ parse: (String) throws(EngineError) -> T) throws(EngineError) -> T? {
            guard let value else { return nil }
            do { return try parse(value) } catch {
                throw EngineError(error.kind, "invalid argument \(jsonQuoted(value)) for \(jsonQuoted(names)) flag: \(error.message)")
            }
        }
        var change = Engine.ResourceUpdate()
        change.memory = try flag("-m, --memory", memory, Parse.size)
        change.memorySwap = try flag("--memory-swap", memorySwap, Parse.memorySwap)
        change.memoryReservation = try flag("--memory-reservation", memoryReservation, Parse.size)
        change.nanoCPUs = try flag("--cpus", cpus, Parse.nanoCPUs)
        if let shares = try flag("-c, --cpu-shares", cpuShares, Parse.integer) {
            if shares < 0 { throw .invalid("invalid CPU shares (\(shares)): value must be a positive integer") }
            change.cpuShares = UInt64(shares)
        }
        if let period = try flag("--cpu-period", cpuPeriod, Parse.integer) {
            if period < 0 { throw .invalid("invalid CPU period (\(period)): value must be a positive integer") }
            change.cpuPeriod = UInt64(period)
        }
        change.cpuQuota = try flag("--cpu-quota", cpuQuota, Parse.integer)
        change.cpusetCpus = cpusetCpus
        change.cpusetMems = cpusetMems
        change.pidsLimit = try flag("--pids-limit", pidsLimit, Parse.integer)
        if let restart { change.restart = try Parse.restart(restart) }
        return change
    }

    func execute() async throws {
        let change: Engine.ResourceUpdate
        do { change = try self.change() } catch {
            // Docker's CLI: a bad flag value is a usage error, status 125.
            printError(error.cliText + "\nSee 'berth update --help'.")
            throw ExitCode(125)
        }
        if change == Engine.ResourceUpdate() {
            printError("You must provide one or more flags when using this command.")
            throw ExitCode(1)
        }
        try eachContainer(containers) { engine, container in
            try engine.update(container, change)
            return nil
        }
    }
}
