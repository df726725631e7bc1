import CLinuxSys
import Glibc
import LinuxSys
import Testing

/// A scratch directory, removed at the end.
final class Scratch {
    let path: String
    init() throws {
        var template = Array("/tmp/berth-securetree-XXXXXX".utf8CString)
        guard let made = mkdtemp(&template) else { throw SysError("mkdtemp") }
        path = String(cString: made)
    }
    deinit { FS.removeAll(path) }

    func file(_ name: String, _ text: String, mode: mode_t = 0o644) throws {
        let fd = try FS.openOwned(path + "/" + name, O_WRONLY | O_CREAT | O_TRUNC, mode: mode)
        try FS.write(fd.raw, Array(text.utf8))
        _ = fchmod(fd.raw, mode)
    }
}

/// Every entry below `root`: path → (kind, mode, size, link target, content).
func snapshot(_ root: String) throws -> [String: String] {
    let fd = try FS.openOwned(root, O_RDONLY | O_DIRECTORY)
    var result: [String: String] = [:]
    try SecureTree.walk(contentsOf: fd.raw) { entry in
        let st = entry.status
        var text = "\(entry.kind) \(String(st.st_mode & 0o7777, radix: 8)) \(st.st_uid):\(st.st_gid)"
        switch entry.kind {
        case .regular:
            let file = try SecureTree.openFile(entry.parent, entry.name, path: entry.path)
            text += " " + String(decoding: try FS.read(file.raw), as: UTF8.self) + " links=\(st.st_nlink)"
            text += " mtime=\(st.st_mtim.tv_sec)"
        case .symlink:
            text += " -> " + (try SecureTree.readlink(entry.parent, entry.name, path: entry.path))
        default:
            break
        }
        result[entry.path] = text
        return .into
    }
    return result
}

extension DescriptorCounting {
@Suite struct SecureTreeTests {
    /// nested dirs, a file linked twice, symlinks in and out of the tree, a fifo.
    func makeTree(_ scratch: Scratch) throws -> String {
        let source = scratch.path + "/source"
        try FS.mkdir(source, mode: 0o750)
        try FS.mkdirAll(source + "/a/b/c")
        try scratch.file("source/a/b/c/deep", "deep", mode: 0o600)
        try scratch.file("source/top", "top", mode: 0o755)
        #expect(link(source + "/top", source + "/a/top-link") == 0)
        #expect(symlink("/etc/passwd", source + "/outside") == 0)
        #expect(symlink("../../../..", source + "/a/b/up") == 0)
        #expect(symlink("c/deep", source + "/a/b/inside") == 0)
        #expect(mkfifo(source + "/a/fifo", 0o640) == 0)
        _ = chmod(source + "/a/fifo", 0o640)
        var times = [timespec(tv_sec: 1_000_000, tv_nsec: 0), timespec(tv_sec: 1_000_000, tv_nsec: 0)]
        _ = utimensat(AT_FDCWD, source + "/top", &times, 0)
        return source
    }

    @Test func walkSeesEveryEntryOnceAndFollowsNoLink() throws {
        let scratch = try Scratch()
        let source = try makeTree(scratch)
        let tree = try snapshot(source)
        #expect(Set(tree.keys) == ["a", "a/b", "a/b/c", "a/b/c/deep", "a/b/up", "a/b/inside", "a/fifo", "a/top-link", "outside", "top"])
        #expect(tree["outside"] == "symlink 777 0:0 -> /etc/passwd" || tree["outside"]?.hasPrefix("symlink") == true)
        #expect(tree["a/fifo"]?.hasPrefix("fifo 640") == true)
    }

    @Test func walkOrderIsSortedAndParentsFirst() throws {
        let scratch = try Scratch()
        let source = try makeTree(scratch)
        let fd = try FS.openOwned(source, O_RDONLY | O_DIRECTORY)
        var order: [String] = []
        var left: [String] = []
        try SecureTree.walk(contentsOf: fd.raw, visit: { entry in
            order.append(entry.path)
            return entry.path == "a/b/c" ? .skip : .into
        }, leave: { entry, _ in left.append(entry.path) })
        #expect(order == ["a", "a/b", "a/b/c", "a/b/inside", "a/b/up", "a/fifo", "a/top-link", "outside", "top"])
        #expect(left == ["a/b", "a"])
    }

    @Test func copyKeepsEverythingAndLinksStayLinks() throws {
        let scratch = try Scratch()
        let source = try makeTree(scratch)
        let target = scratch.path + "/target"
        try FS.mkdir(target)
        let from = try FS.openOwned(source, O_RDONLY | O_DIRECTORY)
        let to = try FS.openOwned(target, O_RDONLY | O_DIRECTORY)
        var options = SecureTree.CopyOptions()
        options.hardLinks = true
        options.mergeDirectories = false
        try SecureTree.copy(contentsOf: from.raw, into: to.raw, options: options)
        #expect(try snapshot(target) == (try snapshot(source)))
        let first = try FS.lstat(target + "/top"), second = try FS.lstat(target + "/a/top-link")
        #expect(first.st_ino == second.st_ino)
        #expect(first.st_mtim.tv_sec == 1_000_000)
        // The links are copied as links: nothing of /etc came in, and the link still says where.
        #expect(try FS.readlink(target + "/outside") == "/etc/passwd")
        #expect(try FS.readlink(target + "/a/b/up") == "../../../..")
    }

    @Test func copyWithoutHardLinksMakesSeparateFiles() throws {
        let scratch = try Scratch()
        let source = try makeTree(scratch)
        let target = scratch.path + "/target"
        try FS.mkdir(target)
        let from = try FS.openOwned(source, O_RDONLY | O_DIRECTORY)
        let to = try FS.openOwned(target, O_RDONLY | O_DIRECTORY)
        var options = SecureTree.CopyOptions()
        options.owner = (1234, 5678)
        options.mode = 0o700
        options.filter = { $0 != "top" && !$0.hasPrefix("a/b/c") || $0 == "a/b/c/deep" }
        try SecureTree.copy(contentsOf: from.raw, into: to.raw, options: options)
        let tree = try snapshot(target)
        #expect(tree["top"] == nil)
        #expect(tree["a/b/c/deep"] == "regular 700 1234:5678 deep links=1 mtime=\(try FS.lstat(source + "/a/b/c/deep").st_mtim.tv_sec)")
        #expect(tree["a/top-link"]?.contains("links=1") == true)
        #expect(tree["a"]?.hasPrefix("directory 700 1234:5678") == true)
        #expect(tree["outside"]?.hasPrefix("symlink 777 1234:5678") == true)
    }

    @Test func copyIntoATargetWithAPlantedLinkDoesNotFollowIt() throws {
        let scratch = try Scratch()
        let source = try makeTree(scratch)
        let target = scratch.path + "/target"
        let elsewhere = scratch.path + "/elsewhere"
        try FS.mkdir(target)
        try FS.mkdir(elsewhere)
        // A directory of the source is a link in the target, to somewhere else: the copy must fail
        // there rather than write through it.
        #expect(symlink(elsewhere, target + "/a") == 0)
        let from = try FS.openOwned(source, O_RDONLY | O_DIRECTORY)
        let to = try FS.openOwned(target, O_RDONLY | O_DIRECTORY)
        #expect(throws: SecureTree.Failure.self) {
            try SecureTree.copy(contentsOf: from.raw, into: to.raw, options: SecureTree.CopyOptions())
        }
        #expect(try FS.list(path: elsewhere).isEmpty)
    }

    @Test func copyLeaksNoDescriptors() throws {
        let scratch = try Scratch()
        let source = try makeTree(scratch)
        let before = openDescriptorCount()
        for round in 0..<100 {
            let target = scratch.path + "/target\(round)"
            try FS.mkdir(target)
            let from = try FS.openOwned(source, O_RDONLY | O_DIRECTORY)
            let to = try FS.openOwned(target, O_RDONLY | O_DIRECTORY)
            var options = SecureTree.CopyOptions()
            options.hardLinks = true
            try SecureTree.copy(contentsOf: from.raw, into: to.raw, options: options)
            // Again into the same place: fails at the first existing name.
            options.mergeDirectories = false
            #expect(throws: SecureTree.Failure.self) {
                try SecureTree.copy(contentsOf: from.raw, into: to.raw, options: options)
            }
        }
        expectNoLeak(since: before, rounds: 100)
    }
}
}
