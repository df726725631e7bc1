// berth: the Docker-style command line for Berth's engine: images (pull, push, build, …) and
// containers (run, ps, logs, …). The commands live in BerthCLI.
import BerthCLI

BerthMain.run(Array(CommandLine.arguments.dropFirst()))
