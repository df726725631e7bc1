import ContainerSpec
import Engine
import Glibc
import GoCompat
import Kube
import LinuxSys

/// Pod volumes as the container's mounts: hostPath and emptyDir are binds (emptyDir `Memory` of a
/// tmpfs the kubelet mounts for the pod, so that its containers share it); configMap, secret, downwardAPI and projected are files written under the pod's directory
/// (with `defaultMode`/`mode`) and bound read-only.
extension Kubelet {
    func mounts(_ key: ObjectKey, _ pod: JSONValue, _ container: JSONValue, uid: String,
                variables: [String: String] = [:]) throws(EngineError) -> [MountRequest] {
        let volumes = (pod[member: "spec"]?[member: "volumes"] ?? .null).podArray
        let containerName = container.podString("name") ?? "container"
        var result: [MountRequest] = []
        for (index, mount) in (container[member: "volumeMounts"] ?? .null).podArray.enumerated() {
            guard let name = mount.podString("name"), let target = mount.podString("mountPath") else { continue }
            guard let volume = volumes.first(where: { $0.podString("name") == name }) else {
                throw .invalid("volume \(name) of mount \(target) is not among the pod's volumes")
            }
            // A claim's readOnly holds for every mount of it, as a mount's own does.
            let readOnly = (mount[member: "readOnly"] ?? .null).podBool == true
                || (volume[member: "persistentVolumeClaim"]?[member: "readOnly"] ?? .null).podBool == true
            var source = try volumeSource(key, pod, volume, uid: uid)
            // subPathExpr: the container's variables as `$(VAR)` (the downward API's POD_NAME, say).
            let subPath = mount.podString("subPathExpr").map { Self.expand($0, variables) } ?? mount.podString("subPath")
            if let subPath, !subPath.isEmpty {
                source = try subPathSource(volumeRoot: source, subPath: subPath, uid: uid, volume: name, container: containerName, index: index)
            }
            result.append(MountRequest(kind: .bind, source: source, target: target, readOnly: readOnly || Self.filesVolume(volume)))
        }
        return result
    }

    static func filesVolume(_ volume: JSONValue) -> Bool {
        ["configMap", "secret", "downwardAPI", "projected"].contains { volume[member: $0] != nil }
    }

    /// The host path a volume is bound from (made or refreshed now).
    func volumeSource(_ key: ObjectKey, _ pod: JSONValue, _ volume: JSONValue, uid: String) throws(EngineError) -> String {
        let name = volume.podString("name") ?? "volume"
        let directory = podDirectory(uid) + "/volumes/" + name
        func make(_ path: String, mode: mode_t = 0o755) throws(EngineError) {
            do { try FS.mkdirAll(path, mode: mode) } catch { throw .system("make volume \(name) of pod \(key.namespace)/\(key.name) at \(path)", error) }
        }
        if let claim = volume[member: "persistentVolumeClaim"] {
            return try claimPath(key.namespace, claim.podString("claimName") ?? "", volume: name)
        }
        if let hostPath = volume[member: "hostPath"], let path = hostPath.podString("path") {
            let type = hostPath.podString("type") ?? ""
            if type == "DirectoryOrCreate" || (type.isEmpty && !FS.exists(path)) { try make(path) }
            if type == "FileOrCreate" && !FS.exists(path) {
                do { try FS.writeFileAtomically(path, [], mode: 0o644) } catch { throw .system("create hostPath file \(path)", error) }
            }
            if !FS.exists(path) { throw .notFound("hostPath \(path) of volume \(name) does not exist") }
            return path
        }
        if let emptyDir = volume[member: "emptyDir"] {
            try make(directory, mode: 0o777)
            if emptyDir.podString("medium") == "Memory" && !MountSys.mounts(under: directory).contains(directory) {
                // One tmpfs for the pod (sizeLimit its size), unmounted when the pod's directory goes.
                let size = emptyDir[member: "sizeLimit"].flatMap(Self.quantityText).flatMap(Self.quantity).map { ",size=\(Int64($0))" } ?? ""
                do {
                    try MountSys.mount(source: "tmpfs", target: directory, type: "tmpfs", flags: UInt(MS_NOSUID) | UInt(MS_NODEV),
                                       data: "mode=1777" + size)
                } catch { throw .system("mount the Memory emptyDir \(name) of pod \(key.namespace)/\(key.name)", error) }
            }
            _ = chmod(directory, 0o777)
            if let fsGroup = (pod[member: "spec"]?[member: "securityContext"]?[member: "fsGroup"] ?? .null).podInt {
                _ = lchown(directory, uid_t.max, gid_t(fsGroup))
            }
            return directory
        }
        var files: [(path: String, bytes: [UInt8], mode: mode_t)] = []
        try collectFiles(key, pod, volume, into: &files)
        // fsGroup: the files belong to that group and it may read them (the kubelet's volume ownership).
        let fsGroup = (pod[member: "spec"]?[member: "securityContext"]?[member: "fsGroup"] ?? .null).podInt
        if volume[member: "projected"] != nil || !files.isEmpty || Self.filesVolume(volume) {
            try make(directory)
            for file in files {
                let path = directory + "/" + file.path
                if let slash = path.lastIndex(of: "/") { try make(String(path[..<slash])) }
                do { try FS.writeFileAtomically(path, file.bytes, mode: fsGroup == nil ? file.mode : file.mode | 0o040) } catch {
                    throw .system("write \(file.path) of volume \(name)", error)
                }
                if let fsGroup { _ = lchown(path, uid_t.max, gid_t(fsGroup)) }
            }
            return directory
        }
        throw .invalid("volume \(name) of pod \(key.namespace)/\(key.name): this kind of volume is not supported")
    }

    /// The files of configMap, secret, downwardAPI and projected volumes.
    func collectFiles(_ key: ObjectKey, _ pod: JSONValue, _ volume: JSONValue, defaultMode given: Int? = nil,
                      into files: inout [(path: String, bytes: [UInt8], mode: mode_t)]) throws(EngineError) {
        let projected = volume[member: "projected"]
        let defaultMode = (volume[member: "configMap"]?[member: "defaultMode"] ?? volume[member: "secret"]?[member: "defaultMode"]
            ?? volume[member: "downwardAPI"]?[member: "defaultMode"] ?? projected?[member: "defaultMode"])?.podInt ?? given ?? 0o644
        if let projected {
            for source in (projected[member: "sources"] ?? .null).podArray {
                try collectFiles(key, pod, source, defaultMode: defaultMode, into: &files)
            }
            return
        }
        for (member, kind, nameKey) in [("configMap", "configmap", "name"), ("secret", "secret", "secretName")] {
            guard let source = volume[member: member] else { continue }
            let objectName = source.podString(nameKey) ?? source.podString("name") ?? ""
            let optional = (source[member: "optional"] ?? .null).podBool == true
            guard let data = try keyedBytes(key.namespace, kind: kind, name: objectName, optional: optional) else { continue }
            let items = (source[member: "items"] ?? .null).podArray
            if items.isEmpty {
                for (item, bytes) in data { files.append((item, bytes, mode_t(defaultMode))) }
            } else {
                for item in items {
                    guard let itemKey = item.podString("key"), let bytes = data.first(where: { $0.0 == itemKey })?.1 else { continue }
                    files.append((item.podString("path") ?? itemKey, bytes, mode_t((item[member: "mode"] ?? .null).podInt ?? defaultMode)))
                }
            }
        }
        if let downward = volume[member: "downwardAPI"] {
            for item in (downward[member: "items"] ?? .null).podArray {
                guard let path = item.podString("path") else { continue }
                var value = ""
                if let field = item[member: "fieldRef"]?.podString("fieldPath") {
                    value = fieldValue(pod, field, podIP: nil) ?? ""
                } else if let reference = item[member: "resourceFieldRef"], let resource = reference.podString("resource") {
                    let containers = (pod[member: "spec"]?[member: "containers"] ?? .null).podArray
                    let target = containers.first { $0.podString("name") == reference.podString("containerName") } ?? containers.first ?? .null
                    value = resourceValue(target, resource, divisor: reference[member: "divisor"].flatMap(Self.quantityText) ?? "1")
                }
                files.append((path, Array(value.utf8), mode_t((item[member: "mode"] ?? .null).podInt ?? defaultMode)))
            }
        }
    }
}
