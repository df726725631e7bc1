import Glibc
import LinuxSys

/// Copies a directory tree between two directory fds without following symlinks, keeping modes,
/// owners and symlinks (used for `tmpcopyup`, where a tmpfs starts as a copy of the image's directory).
enum TreeCopy {
    /// tmpcopyup's rules: an entry gone meanwhile is left out, a link or node that cannot be made
    /// is skipped, owners and modes are kept where they can be; no times, no hard links.
    static var options: SecureTree.CopyOptions {
        var options = SecureTree.CopyOptions()
        options.skipUnreadable = true
        options.mergeDirectories = true
        options.existingFile = .truncate
        options.times = false
        options.sockets = true
        options.tolerated = [.stat, .readlink, .symlink, .mknod, .chown, .chmod, .times]
        return options
    }

    static func copy(from source: Int32, to destination: Int32, describe: String) throws(RuntimeError) {
        do {
            try SecureTree.copy(contentsOf: source, into: destination, options: options)
        } catch {
            let path = error.path.isEmpty ? describe : describe + "/" + error.path
            switch error.step {
            case .list: throw SysError(error.operation, nil, errno: error.errno).context("tmpcopyup: list \(path)")
            case .read, .write: throw SysError(error.operation, nil, errno: error.errno).context("tmpcopyup \(path)")
            default: throw error.sysError(path).context("tmpcopyup")
            }
        }
    }
}
