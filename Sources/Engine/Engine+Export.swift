import Archive
import ContainerSpec
import Glibc
import LinuxSys

// `export` (GET /containers/{id}/export).

extension Engine {
    /// The container's filesystem as one tar stream written to `fd`, as `docker export` gives it:
    /// the image's layers, the init layer and the container's changes merged as the container sees
    /// them, without its volumes, binds or any other mount. The walk goes through a detached copy
    /// of the rootfs mount alone (so a running container's mounts are not in it), in name order,
    /// parents first, names relative (`bin/sh`, directories `etc/`), owners numeric.
    public func export(_ container: Container, to fd: Int32) throws(EngineError) {
        try withRootfs(container) { (root: InRoot) throws(EngineError) in
            // open_tree gives an O_PATH fd, which cannot be listed: the tree's root is opened through it.
            let tree: FileDescriptor
            do {
                let clone = try MountSys.cloneTree(root.rootFD, recursive: false, describe: root.rootPath)
                tree = try FS.openatOwned(clone.raw, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC, describe: root.rootPath)
            } catch {
                throw .system("export \(container.name)", error)
            }
            let describe = "the export of \(container.name)"
            let writer = TarWriter(sink: { bytes in try FS.writeAll(fd, bytes, describe: describe) })
            do {
                try writer.writeTree(directoryFD: tree.raw, describe: container.name)
                try writer.finish()
            } catch let error as SysError {
                throw EngineError(.internal, "export \(container.name): \(error)", underlying: error)
            } catch {
                throw .system("export \(container.name): \(error)")
            }
        }
    }
}
