// The durability test's writer: opens the store in ROOT and writes until it is killed, printing
// each change as soon as the store acknowledged it:
//     create NAME RESOURCEVERSION        a ConfigMap kill-test/NAME made
//     counter VALUE RESOURCEVERSION      the ConfigMap kill-test/counter's data.value set
// The lines go straight to fd 1 (no buffer): a line printed is a write acknowledged.
import ContainerSpec
import Glibc
import GoCompat
import Kube

func say(_ line: String, to fd: Int32 = 1) {
    var bytes = Array((line + "\n").utf8)
    var offset = 0
    while offset < bytes.count {
        let written = bytes.withUnsafeMutableBytes { write(fd, $0.baseAddress! + offset, $0.count - offset) }
        if written <= 0 { exit(3) }
        offset += written
    }
}
guard CommandLine.arguments.count == 2 else {
    say("usage: kube-store-writer ROOT", to: 2)
    exit(2)
}
let configMaps = Resource("configmaps")
func configMap(_ name: String, _ value: String) -> JSONValue {
    .object(["metadata": .object(["name": .string(name), "namespace": .string("kill-test")], keys: ["name", "namespace"]),
             "data": .object(["value": .string(value)], keys: ["value"])], keys: ["metadata", "data"])
}
do {
    let store = try ObjectStore.open(root: CommandLine.arguments[1])
    if (try? store.get(ObjectKey(configMaps, namespace: "kill-test", name: "counter"))) == nil {
        try store.create(configMaps, configMap("counter", "0"))
    }
    var index = 0
    while true {
        let made = try store.create(configMaps, configMap("cm-\(getpid())-\(index)", String(repeating: "x", count: index % 4096)))
        say("create \(made.key.name) \(made.resourceVersion)")
        var value = 0
        let counted = try store.guaranteedUpdate(ObjectKey(configMaps, namespace: "kill-test", name: "counter")) { object throws(EngineError) in
            value = Int(object[member: "data"]?[member: "value"]?.stringValue ?? "") ?? 0
            value += 1
            return object.setting("data", to: .object(["value": .string(String(value))], keys: ["value"]))
        }
        say("counter \(value) \(counted.resourceVersion)")
        index += 1
    }
} catch {
    say("kube-store-writer: \(error)", to: 2)
    exit(1)
}
