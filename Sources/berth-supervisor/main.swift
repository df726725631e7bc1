// berth-supervisor RUNDIR: one container's supervisor (see Sources/Supervisor/Supervisor.swift).
// The engine starts it; users do not.
import Glibc
import Supervisor

exit(Supervisor.main(CommandLine.arguments))
