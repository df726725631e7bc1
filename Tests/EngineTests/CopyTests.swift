import Foundation
import TestSupport
import Testing

/// `berth cp` both ways on real containers: Docker's path rules, tar streams, modes, stopped
/// containers, and that a container's symlinks never reach the host's files.
@Suite(.enabled(if: EngineEnv.ready), .serialized)
struct CopyTests {
    func write(_ path: String, _ text: String, mode: Int = 0o644) throws {
        try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try text.write(toFile: path, atomically: false, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: mode], ofItemAtPath: path)
    }

    func read(_ path: String) -> String? { try? String(contentsOfFile: path, encoding: .utf8) }

    func mode(_ path: String) -> Int {
        ((try? FileManager.default.attributesOfItem(atPath: path))?[.posixPermissions] as? NSNumber)?.intValue ?? -1
    }

    /// Every path below `dir`, relative, sorted.
    func tree(_ dir: String) -> [String] {
        ((try? FileManager.default.subpathsOfDirectory(atPath: dir)) ?? []).sorted()
    }

    @Test func fileBothWaysKeepsContentAndMode() throws {
        let berth = try BerthEngine()
        defer { berth.remove() }
        let host = EngineEnv.scratch("h")
        defer { try? FileManager.default.removeItem(atPath: host) }
        try berth.call("run", "-d", "--name", "box", "busybox:test", "sleep", "300")
        try write(host + "/f.txt", "hello\n", mode: 0o640)
        #expect(try berth.call("cp", host + "/f.txt", "box:/tmp/") == "")
        try berth.call("cp", host + "/f.txt", "box:/tmp/renamed")
        try berth.call("cp", "box:/tmp/f.txt", host + "/back.txt")
        #expect(read(host + "/back.txt") == "hello\n")
        #expect(mode(host + "/back.txt") == 0o640)
        try berth.call("cp", "box:/tmp/renamed", host + "/")
        #expect(read(host + "/renamed") == "hello\n")
        // Overwriting an existing file.
        try write(host + "/f.txt", "second\n")
        try berth.call("cp", host + "/f.txt", "box:/tmp/renamed")
        #expect(try berth.call("cp", "box:/tmp/renamed", "-").contains("second\n"))
        // Owned by the container's root without -a, by the source's owner with it.
        chown(host + "/f.txt", 1234, 2345)
        try berth.call("cp", host + "/f.txt", "box:/tmp/plain")
        try berth.call("cp", "-a", host + "/f.txt", "box:/tmp/kept")
        let id = try berth.inspect("box", "{{.Id}}")
        let upper = berth.root + "/containers/\(id)/upper/tmp"
        let plain = try FileManager.default.attributesOfItem(atPath: upper + "/plain")
        let kept = try FileManager.default.attributesOfItem(atPath: upper + "/kept")
        #expect((plain[.ownerAccountID] as? NSNumber)?.intValue == 0)
        #expect((kept[.ownerAccountID] as? NSNumber)?.intValue == 1234)
        #expect((kept[.groupOwnerAccountID] as? NSNumber)?.intValue == 2345)
    }

    /// Docker's directory rules: DEST missing (created as the copy), DEST existing (copied into it),
    /// SRC/. (contents), compared with Podman's result where it runs.
    @Test(arguments: [
        ("box:/etc", "new", false),
        ("box:/etc", "existing", true),
        ("box:/etc/.", "existing", true),
        ("box:/etc/", "new", false),
    ])
    func directoryRules(source: String, destination: String, precreate: Bool) throws {
        let berth = try BerthEngine()
        defer { berth.remove() }
        let host = EngineEnv.scratch("h")
        defer { try? FileManager.default.removeItem(atPath: host) }
        try berth.call("create", "--name", "box", "busybox:test", "true")
        if precreate { try FileManager.default.createDirectory(atPath: host + "/berth/" + destination, withIntermediateDirectories: true) }
        try FileManager.default.createDirectory(atPath: host + "/berth", withIntermediateDirectories: true)
        try berth.call("cp", source, host + "/berth/" + destination)
        let ours = tree(host + "/berth")
        let copied = precreate && !source.hasSuffix("/.") ? destination + "/etc/" : destination + "/"
        #expect(ours.contains(copied + "passwd") && ours.contains(copied + "hosts") && ours.contains(copied + "mtab"), "\(ours)")
        #expect(berth.mounts.isEmpty, "a stopped container's rootfs stayed mounted: \(berth.mounts)")
        guard EngineEnv.hasPodman else { return }
        let podman = try PodmanPeer()
        defer { podman.remove() }
        try #require(try podman.callAnyway(["create", "--name", "box", "busybox:test", "true"]).status == 0)
        if precreate { try FileManager.default.createDirectory(atPath: host + "/podman/" + destination, withIntermediateDirectories: true) }
        try FileManager.default.createDirectory(atPath: host + "/podman", withIntermediateDirectories: true)
        let theirs = try podman.callAnyway(["cp", source, host + "/podman/" + destination])
        try #require(theirs.status == 0, "podman cp: \(theirs.stderr)")
        // Docker's init layer puts /etc/hostname, hosts, resolv.conf and mtab in every container
        // (as docker cp shows them, Berth's too); Podman has no such layer.
        let initLayer: Set = ["hostname", "hosts", "resolv.conf", "mtab"]
        #expect(ours.filter { !initLayer.contains(String($0.split(separator: "/").last ?? "")) } == tree(host + "/podman"))
    }

    @Test func pathErrorsMatchDocker() throws {
        let berth = try BerthEngine()
        defer { berth.remove() }
        let host = EngineEnv.scratch("h")
        defer { try? FileManager.default.removeItem(atPath: host) }
        try berth.call("create", "--name", "box", "busybox:test", "true")
        try write(host + "/file", "x")
        let missing = try berth.callAnyway(["cp", "box:/nosuch", host + "/out"])
        #expect(missing.status == 1)
        #expect(missing.stderr == "Error response from daemon: Could not find the file /nosuch in container box\n")
        let notDir = try berth.callAnyway(["cp", "box:/etc/passwd/", host + "/out"])
        #expect(notDir.status == 1)
        #expect(notDir.stderr.contains("not a directory"), "\(notDir.stderr)")
        let dirOverFile = try berth.callAnyway(["cp", "box:/etc", host + "/file"])
        #expect(dirOverFile.status == 1)
        #expect(dirOverFile.stderr == "cannot copy directory\n")
        let fileToMissingDir = try berth.callAnyway(["cp", "box:/etc/passwd", host + "/nodir/"])
        #expect(fileToMissingDir.status == 1)
        #expect(fileToMissingDir.stderr == "no such directory\n")
        let noParent = try berth.callAnyway(["cp", host + "/file", "box:/nosuch/dir/x"])
        #expect(noParent.status == 1)
        #expect(noParent.stderr == "Error response from daemon: Could not find the file /nosuch/dir in container box\n")
        let hostMissing = try berth.callAnyway(["cp", host + "/nosuch", "box:/tmp"])
        #expect(hostMissing.status == 1)
        #expect(hostMissing.stderr == "lstat \(host)/nosuch: no such file or directory\n")
        let noContainer = try berth.callAnyway(["cp", "nosuch:/etc", host])
        #expect(noContainer.status == 1)
        #expect(noContainer.stderr == "Error response from daemon: No such container: nosuch\n")
        let both = try berth.callAnyway(["cp", host + "/file", host + "/other"])
        #expect(both.status == 1)
        #expect(both.stderr == "must specify at least one container source\n")
        let notExtractable = try berth.callAnyway(["cp", "-", "box:/etc/passwd"], stdin: "")
        #expect(notExtractable.status == 1)
        #expect(notExtractable.stderr == "Error response from daemon: extraction point is not a directory\n")
        #expect(berth.mounts.isEmpty)
    }

    @Test func tarStreamsBothWays() throws {
        let berth = try BerthEngine()
        defer { berth.remove() }
        let host = EngineEnv.scratch("h")
        defer { try? FileManager.default.removeItem(atPath: host) }
        try berth.call("run", "-d", "--name", "box", "busybox:test", "sleep", "300")
        try write(host + "/in/d/secret.sh", "#!/bin/sh\necho hi\n", mode: 0o750)
        let piped = try sh(["/bin/sh", "-c", "tar -C \(host)/in -cf - d | \(EngineEnv.berth) --root \(berth.root) --runroot \(berth.runRoot) cp - box:/tmp"])
        #expect(piped.status == 0, "\(piped.stderr)")
        let listing = try sh(["/bin/sh", "-c", "\(EngineEnv.berth) --root \(berth.root) --runroot \(berth.runRoot) cp box:/tmp/d - | tar -tvf -"])
        #expect(listing.status == 0, "\(listing.stderr)")
        #expect(listing.stdout.contains("d/secret.sh"), "\(listing.stdout)")
        #expect(listing.stdout.contains("-rwxr-x---"), "mode not kept: \(listing.stdout)")
        try FileManager.default.createDirectory(atPath: host + "/out", withIntermediateDirectories: true)
        let extracted = try sh(["/bin/sh", "-c", "\(EngineEnv.berth) --root \(berth.root) --runroot \(berth.runRoot) cp box:/tmp/. - | tar -C \(host)/out -xf -"])
        #expect(extracted.status == 0, "\(extracted.stderr)")
        #expect(read(host + "/out/d/secret.sh") == "#!/bin/sh\necho hi\n")
        #expect(mode(host + "/out/d/secret.sh") == 0o750)
    }

    @Test func stoppedContainers() throws {
        let berth = try BerthEngine()
        defer { berth.remove() }
        let host = EngineEnv.scratch("h")
        defer { try? FileManager.default.removeItem(atPath: host) }
        try write(host + "/f", "data\n")
        try berth.call("create", "--name", "created", "busybox:test", "cat", "/f")
        try berth.call("cp", host + "/f", "created:/f")
        #expect(berth.mounts.isEmpty)
        // The file is there when it runs, and after it exited.
        #expect(try berth.call("start", "-a", "created") == "data\n")
        try berth.call("cp", "created:/f", host + "/again")
        #expect(read(host + "/again") == "data\n")
        #expect(berth.mounts.isEmpty, "\(berth.mounts)")
    }

    /// The container's symlinks resolve inside its rootfs: a link to a host file (absolute, or
    /// climbing with ../) neither reads nor overwrites the host's file, whichever way the copy goes.
    @Test func symlinksCannotEscapeTheRootfs() throws {
        let berth = try BerthEngine()
        defer { berth.remove() }
        let host = EngineEnv.scratch("h")
        defer { try? FileManager.default.removeItem(atPath: host) }
        try write(host + "/secret", "host secret\n")
        try write(host + "/payload", "payload\n")
        try berth.call("run", "-d", "--name", "box", "busybox:test", "sleep", "300")
        // Links made in the container (through a tar stream, as a container process could).
        let links = host + "/links"
        try FileManager.default.createDirectory(atPath: links, withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(atPath: links + "/abs", withDestinationPath: host + "/secret")
        try FileManager.default.createSymbolicLink(atPath: links + "/shadow", withDestinationPath: "/etc/shadow")
        try FileManager.default.createSymbolicLink(atPath: links + "/up", withDestinationPath: "../../../../../../../../../.." + host)
        let made = try sh(["/bin/sh", "-c", "tar -C \(links) -cf - . | \(EngineEnv.berth) --root \(berth.root) --runroot \(berth.runRoot) cp - box:/"])
        try #require(made.status == 0, "\(made.stderr)")

        let hostShadow = read("/etc/shadow")
        for source in ["box:/abs", "box:/up/secret", "box:/shadow"] {
            let out = host + "/out-\(UUID().uuidString)"
            let copied = try berth.callAnyway(["cp", "-L", source, out])
            if let text = read(out) {
                #expect(text != "host secret\n" && text != hostShadow, "\(source) read a host file")
            }
            if source != "box:/shadow" { #expect(copied.status == 1, "\(source): \(copied.stderr)") }
            let streamed = try berth.callAnyway(["cp", "-L", source, "-"])
            #expect(!streamed.stdout.contains("host secret") && (hostShadow == nil || !streamed.stdout.contains(hostShadow ?? "")))
        }
        let dirThroughLink = try berth.callAnyway(["cp", "box:/up/", host + "/dir-out"])
        #expect(!FileManager.default.fileExists(atPath: host + "/dir-out/secret"))
        _ = dirThroughLink

        // The link itself is copied without -L, as a link.
        try berth.call("cp", "box:/abs", host + "/link-copy")
        #expect((try? FileManager.default.destinationOfSymbolicLink(atPath: host + "/link-copy")) == host + "/secret")

        // Writes through the links stay inside the container.
        _ = try berth.callAnyway(["cp", host + "/payload", "box:/abs"])
        _ = try berth.callAnyway(["cp", host + "/payload", "box:/up/secret"])
        _ = try berth.callAnyway(["cp", host + "/payload", "box:/up/"])
        #expect(read(host + "/secret") == "host secret\n", "the host file was overwritten")
        #expect(!FileManager.default.fileExists(atPath: host + "/payload-written"))
        #expect(tree(host).filter { $0.hasPrefix("payload") } == ["payload"])
        let evilTar = try sh(["/bin/sh", "-c", "cd \(host) && tar -cf - -P ../../../../../..\(host)/payload ./up/escaped | \(EngineEnv.berth) --root \(berth.root) --runroot \(berth.runRoot) cp - box:/tmp"])
        _ = evilTar
        #expect(!FileManager.default.fileExists(atPath: host + "/escaped"))
        #expect(read(host + "/secret") == "host secret\n")
        if let hostShadow { #expect(read("/etc/shadow") == hostShadow) }
    }
}
