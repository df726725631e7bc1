// berth-dns --config-dir DIR [--resolv-conf FILE] [--foreground]: the embedded DNS server of
// Berth's container networks (see Sources/ContainerDNS/DNSServer.swift). The engine starts it
// through DNSServerControl.ensureRunning; users do not.
import ContainerDNS
import Glibc

let usage = "usage: berth-dns --config-dir DIR [--resolv-conf FILE] [--foreground]\n"

func fail(_ message: String) -> Never {
    _ = message.utf8CString.withUnsafeBufferPointer { write(2, $0.baseAddress, $0.count - 1) }
    exit(2)
}

var configDir: String?
var options = DNSServer.Options(configDir: "")
var arguments = CommandLine.arguments.dropFirst()
while let argument = arguments.popFirst() {
    switch argument {
    case "--config-dir":
        guard let path = arguments.popFirst() else { fail(usage) }
        configDir = path
    case "--resolv-conf":
        guard let path = arguments.popFirst() else { fail(usage) }
        options.resolvConf = path
    case "--foreground": options.foreground = true
    case "-h", "--help":
        print(usage, terminator: "")
        exit(0)
    default:
        fail("berth-dns: unknown argument \(argument)\n" + usage)
    }
}
guard let configDir, !configDir.isEmpty else {
    fail(usage)
}
options.configDir = configDir
exit(DNSServer.main(options))
