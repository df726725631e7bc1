import ArgumentParser
import Glibc
import KubeAPI
import LinuxSys

/// `berth kube`: the Kubernetes side of `berth serve`.
struct KubeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "kube", abstract: "Kubernetes API commands", subcommands: [KubeConfig.self])
}

/// `berth kube config`: prints the kubeconfig `berth serve` wrote (its CA, the API's address and
/// the bearer token), for `kubectl --kubeconfig` or `KUBECONFIG`.
struct KubeConfig: BerthCommand {
    static let configuration = CommandConfiguration(
        commandName: "config", abstract: "Print the kubeconfig for the Kubernetes API of berth serve")

    func execute() async throws {
        let access = KubeAccess(root: GlobalOptions.root)
        let text: [UInt8]
        do { text = try FS.readFile(access.kubeconfigFile) } catch {
            if error.errno == ENOENT {
                printError("berth kube config: no kubeconfig in \(access.kubeconfigFile): berth serve writes it when it starts")
            } else {
                printError("berth kube config: read \(access.kubeconfigFile): \(error)")
            }
            throw ExitCode(1)
        }
        fflush(nil)
        try FS.write(STDOUT_FILENO, text)
    }
}
