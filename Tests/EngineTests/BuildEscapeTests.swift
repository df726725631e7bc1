import Foundation
import TestSupport
import Testing

/// Builds and binds that try to reach the host: a stage's or context's symlinks named as a
/// `RUN --mount` source, `..` traversal, and submounts under a read-only bind.
@Suite(.enabled(if: EngineEnv.ready, "needs root, the built berth and umoci"))
struct BuildEscapeTests {
    /// A root-only host file outside every context, holding a random token.
    struct HostSecret {
        let path: String
        let token: String
        init() throws {
            token = "berth-token-\(UInt64.random(in: 0...UInt64.max))"
            path = "/tmp/berth-secret-\(UInt32.random(in: 0...UInt32.max))"
            try token.write(toFile: path, atomically: false, encoding: .utf8)
            chmod(path, 0o600)
        }
        func remove() { unlink(path) }
    }

    func makeContext(_ berth: BerthEngine, _ files: [String: String], links: [String: String] = [:]) throws -> String {
        let dir = berth.base + "/ctx-\(UInt32.random(in: 0...UInt32.max))"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        for (path, content) in files {
            let url = URL(fileURLWithPath: dir + "/" + path)
            try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            try content.write(to: url, atomically: true, encoding: .utf8)
        }
        for (path, target) in links { symlink(target, dir + "/" + path) }
        return dir
    }

    @Test func runMountBindFromAStageSymlinkSeesTheStageNotTheHost() throws {
        let berth = try BerthEngine()
        let secret = try HostSecret()
        defer { berth.remove(); secret.remove() }
        let context = try makeContext(berth, ["Dockerfile": """
            FROM busybox:test AS evil
            RUN ln -s / /hostroot
            FROM busybox:test
            RUN --mount=type=bind,from=evil,source=hostroot,target=/h cat /h\(secret.path) > /seen; ls /h > /listing; true
            """])
        let built = try berth.callAnyway(["build", "-t", "esc:1", context])
        if built.status == 0 {
            let seen = try berth.call("run", "--rm", "esc:1", "cat", "/seen")
            #expect(!seen.contains(secret.token), "the build read the host's \(secret.path)")
            // The stage's own `/`: its hostroot link is there.
            #expect(try berth.call("run", "--rm", "esc:1", "cat", "/listing").contains("hostroot"))
        } else {
            #expect(!built.stderr.contains(secret.token))
        }
    }

    @Test func runMountBindFromTheContextStaysInTheContext() throws {
        let berth = try BerthEngine()
        let secret = try HostSecret()
        defer { berth.remove(); secret.remove() }
        // One build each: a source that fails to resolve fails its build, which must not hide another.
        let cases = ["--mount=type=bind,source=rootlink,target=/h cat /h\(secret.path)",
                     "--mount=type=bind,source=../../../../..\(secret.path),target=/s cat /s",
                     "--mount=type=bind,source=direct,target=/d cat /d"]
        for (n, run) in cases.enumerated() {
            let context = try makeContext(berth, ["Dockerfile": "FROM busybox:test\nRUN \(run) > /seen; true\n"],
                                          links: ["rootlink": "/", "direct": secret.path])
            let built = try berth.callAnyway(["build", "-t", "esc:\(n)", context])
            #expect(!built.stderr.contains(secret.token), "\(run): \(built.stderr)")
            guard built.status == 0 else { continue }
            let seen = try berth.callAnyway(["run", "--rm", "esc:\(n)", "cat", "/seen"]).stdout
            #expect(!seen.contains(secret.token), "RUN \(run) read the host secret")
        }
    }

    @Test func aReadOnlyBindIsReadOnlyInItsSubmounts() throws {
        let berth = try BerthEngine()
        defer { berth.remove() }
        let source = berth.base + "/ro-src"
        try FileManager.default.createDirectory(atPath: source + "/sub", withIntermediateDirectories: true)
        try #require(try sh(["/bin/mount", "-t", "tmpfs", "-o", "size=1m", "berth-test", source + "/sub"]).status == 0)
        defer { _ = try? sh(["/bin/umount", "-l", source + "/sub"]) }
        for flag in [["-v", source + ":/h:ro"], ["--mount", "type=bind,source=\(source),target=/h,readonly"]] {
            let top = try berth.callAnyway(["run", "--rm"] + flag + ["busybox:test", "touch", "/h/top"])
            #expect(top.status != 0 && top.stderr.contains("Read-only file system"), "\(top.stderr)")
            let sub = try berth.callAnyway(["run", "--rm"] + flag + ["busybox:test", "touch", "/h/sub/written"])
            #expect(sub.status != 0 && sub.stderr.contains("Read-only file system"), "\(flag): \(sub.stderr)")
        }
        #expect(!FileManager.default.fileExists(atPath: source + "/sub/written"))
    }

    @Test func copyAndAddFollowContextSymlinksOnlyInsideTheContext() throws {
        let berth = try BerthEngine()
        let secret = try HostSecret()
        defer { berth.remove(); secret.remove() }
        // A real tar archive outside the context, holding the token: ADD unpacks what a link names.
        let archive = secret.path + ".tar"
        defer { unlink(archive) }
        try #require(try sh(["/bin/tar", "-cf", archive, "-C", "/tmp", String(secret.path.dropFirst(5))]).status == 0)
        chmod(archive, 0o600)
        let links = ["a.tar": secret.path, "b.tar": archive, "rootlink": "/", "dir/link": "../../../../../../..\(secret.path)"]
        let cases = ["COPY a.tar /a", "ADD a.tar /a", "ADD b.tar /a/", "COPY dir /a/"]
        for (n, line) in cases.enumerated() {
            let context = try makeContext(berth, ["Dockerfile": "FROM busybox:test\n\(line)\n", "dir/plain": "x\n"], links: links)
            let built = try berth.callAnyway(["build", "-t", "cp:\(n)", context])
            #expect(!built.stderr.contains(secret.token), "\(line): \(built.stderr)")
            guard built.status == 0 else { continue }
            let seen = try berth.callAnyway(["run", "--rm", "cp:\(n)", "sh", "-c", "cat /a /a/* 2>/dev/null; true"])
            #expect(!seen.stdout.contains(secret.token), "\(line) put the host secret into the image")
        }
        // A top-level `rootlink -> /` is followed inside the context: the context itself, not the host's `/`.
        let rootContext = try makeContext(berth, ["Dockerfile": "FROM busybox:test\nCOPY rootlink /r/\n", "dir/plain": "x\n"],
                                          links: ["rootlink": "/"])
        let rooted = try berth.callAnyway(["build", "-t", "cp:root", rootContext])
        try #require(rooted.status == 0, "\(rooted.stderr)")
        #expect(try berth.call("run", "--rm", "cp:root", "cat", "/r/dir/plain") == "x\n")
        #expect(try berth.callAnyway(["run", "--rm", "cp:root", "ls", "/r/etc", "/r/tmp"]).status != 0)
        // A symlink inside a copied directory is copied as the link itself.
        let dirContext = try makeContext(berth, ["Dockerfile": "FROM busybox:test\nCOPY dir /d/\n", "dir/plain": "x\n"], links: links)
        try #require(try berth.callAnyway(["build", "-t", "cp:dir", dirContext]).status == 0)
        #expect(try berth.call("run", "--rm", "cp:dir", "readlink", "/d/link") == links["dir/link"]! + "\n")
    }
}
