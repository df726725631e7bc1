import ContainerSpec
import Engine
import Glibc
import GoCompat
import LinuxSys

/// subPath and subPathExpr: a part of a volume as the mount. The volume is written by the pod's
/// containers, so its paths are theirs to point anywhere: a symlink to `/` or `..` must not hand
/// a container the host's files (CVE-2017-1002101). The part is opened beneath the volume
/// (`openat2(RESOLVE_BENEATH)`, refused if it leads out) and that very inode is bound onto a
/// directory of the kubelet's own (`volume-subpaths/VOLUME/CONTAINER/INDEX`, as the kubelet does);
/// the container's mount is made from there, a path no container can change.
extension Kubelet {
    func subPathSource(volumeRoot: String, subPath: String, uid: String, volume: String, container: String, index: Int) throws(EngineError) -> String {
        let failed = "failed to prepare subPath for volumeMount \"\(volume)\" of container \"\(container)\""
        if subPath.hasPrefix("/") { throw .invalid("\(failed): subpath \"\(subPath)\" must not be an absolute path") }
        if subPath.split(separator: "/").contains("..") { throw .invalid("\(failed): subpath \"\(subPath)\" must not contain '..'") }
        let target = podDirectory(uid) + "/volume-subpaths/\(volume)/\(container)/\(index)"
        do throws(SysError) {
            // The volume's own path is the kubelet's or the pod spec's (a hostPath): trusted; its insides are not.
            let root = try Beneath.openDirectory(volumeRoot)
            let part = try Beneath.openMakingDirectories(root.raw, subPath, mode: 0o755, describe: volumeRoot + "/" + subPath)
            var info = stat()
            guard fstat(part.raw, &info) == 0 else { throw SysError("stat", volumeRoot + "/" + subPath) }
            // An earlier attempt of this container left its bind: made again (the part may have changed).
            for point in MountSys.mounts(under: target) { try MountSys.umount(point) }
            try FS.mkdirAll(String(target[..<target.lastIndex(of: "/")!]), mode: 0o750)
            if info.st_mode & S_IFMT == S_IFDIR {
                if mkdir(target, 0o755) != 0 && errno != EEXIST { throw SysError("mkdir", target) }
            } else if !FS.exists(target) {
                try FS.writeFileAtomically(target, [], mode: 0o644)
            }
            let mountPoint = try Beneath.openPath(target)
            try MountSys.bind(part.raw, onto: mountPoint.raw, describe: target)
        } catch {
            if error.errno == EXDEV || error.errno == ELOOP {
                throw .forbidden("\(failed): subpath \"\(subPath)\" not within volume path \"\(volumeRoot)\"")
            }
            throw .system(failed, error)
        }
        return target
    }

    /// Removes the pod's directory once nothing is mounted under it any more (a subPath bind left
    /// there would let the removal reach into the volume it shows).
    func removePodDirectory(_ uid: String) {
        let directory = podDirectory(uid)
        for point in MountSys.mounts(under: directory) {
            do { try MountSys.umount(point) } catch { log("unmount \(point): \(error)") }
        }
        let left = MountSys.mounts(under: directory)
        guard left.isEmpty else {
            log("keep \(directory): still mounted there: \(left.joined(separator: ", "))")
            return
        }
        FS.removeAll(directory)
    }
}
