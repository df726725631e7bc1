import Foundation
import TestSupport
import Testing

/// Volumes on real containers: `volume create/ls/inspect/rm/prune`, named and anonymous volumes in
/// `run`, Docker's copy-up of the image's content, `rm -v`; compared with Podman where it shows.
@Suite(.enabled(if: EngineEnv.ready), .serialized)
struct VolumeTests {
    /// An image with content at /data (owned by 1000:1000, mode 0750, a 0640 file, a hard link, a
    /// relative and an absolute symlink), `VOLUME /data`, and `/esc` a symlink to /etc.
    static func importVolumeImage(_ berth: BerthEngine) throws {
        let rootfs = berth.base + "/image"
        let script = """
            set -e
            R=\(rootfs)
            mkdir -p $R/bin $R/etc $R/data/sub $R/tmp
            cp /bin/busybox $R/bin/busybox
            for a in sh ls cat stat touch echo readlink id wc dd true; do ln -s busybox $R/bin/$a; done
            printf 'root:x:0:0:root:/root:/bin/sh\\n' > $R/etc/passwd
            printf 'hello\\n' > $R/data/hello
            chmod 640 $R/data/hello
            chown 1000:1000 $R/data/hello
            ln $R/data/hello $R/data/sub/hardlink
            ln -s ../hello $R/data/sub/rel
            ln -s /etc/shadow $R/data/abs
            chown 1000:1000 $R/data
            chmod 750 $R/data
            ln -s /etc $R/esc
            tar -C $R -cf \(berth.base)/image.tar .
            """
        let made = try sh(["/bin/sh", "-c", script])
        try #require(made.status == 0, "make image: \(made.stderr)")
        try berth.call("import", "-c", "VOLUME /data", "-c", "CMD [\"sh\"]", berth.base + "/image.tar", "voltest:latest")
    }

    func volumeDir(_ berth: BerthEngine, _ name: String) -> String { berth.root + "/volumes/\(name)/_data" }

    func lines(_ text: String) -> [String] { text.split(separator: "\n").map(String.init) }

    @Test func namedVolumePersistsAcrossContainers() throws {
        let berth = try BerthEngine()
        defer { berth.remove() }
        try berth.call("run", "--rm", "-v", "data:/data", "busybox:test", "sh", "-c", "echo kept > /data/file")
        #expect(try berth.call("run", "--rm", "-v", "data:/other", "busybox:test", "cat", "/other/file") == "kept\n")
        #expect(try berth.call("run", "--rm", "--mount", "type=volume,source=data,target=/m", "busybox:test", "cat", "/m/file") == "kept\n")
        // --rm removed the containers, not the named volume; the data is on the host where inspect says.
        #expect(try berth.call("volume", "ls", "-q") == "data\n")
        let mountpoint = try berth.call("volume", "inspect", "-f", "{{.Mountpoint}}", "data").trimmingCharacters(in: .newlines)
        #expect(mountpoint == volumeDir(berth, "data"))
        #expect((try? String(contentsOfFile: mountpoint + "/file", encoding: .utf8)) == "kept\n")
        // Made on first use: Docker's null labels and options; the keys `volume inspect` has.
        let json = try berth.call("volume", "inspect", "data")
        let parsed = try #require(try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [[String: Any]])
        let object = try #require(parsed.first)
        #expect(object.keys.sorted() == ["CreatedAt", "Driver", "Labels", "Mountpoint", "Name", "Options", "Scope"])
        #expect(object["Driver"] as? String == "local" && object["Scope"] as? String == "local" && object["Name"] as? String == "data")
        #expect(object["Labels"] is NSNull && object["Options"] is NSNull)
        let created = object["CreatedAt"] as? String ?? ""
        #expect(created.count == 20 && created.hasSuffix("Z"), "\(created)")
        // `volume create` of an existing name answers with it and changes nothing.
        #expect(try berth.call("volume", "create", "data") == "data\n")
        #expect((try? String(contentsOfFile: mountpoint + "/file", encoding: .utf8)) == "kept\n")
    }

    @Test func createListInspectAndFilters() throws {
        let berth = try BerthEngine()
        defer { berth.remove() }
        #expect(try berth.call("volume", "create", "--label", "tier=db", "--label", "x", "-o", "type=tmpfs", "-o", "device=tmpfs", "-d", "local", "dbdata") == "dbdata\n")
        let generated = try berth.call("volume", "create").trimmingCharacters(in: .newlines)
        #expect(generated.count == 64 && generated.allSatisfy(\.isHexDigit), "\(generated)")
        try berth.call("create", "--name", "user", "-v", "dbdata:/d", "busybox:test", "true")
        #expect(try berth.call("volume", "inspect", "-f", "{{json .Labels}} {{json .Options}} {{.Driver}}", "dbdata")
            == "{\"tier\":\"db\",\"x\":\"\"} {\"device\":\"tmpfs\",\"type\":\"tmpfs\"} local\n")
        #expect(try berth.call("volume", "inspect", "-f", "{{json .Labels}}", generated) == "{}\n")
        // Docker's table: DRIVER and VOLUME NAME, sorted by name.
        let table = lines(try berth.call("volume", "ls"))
        #expect(table.first?.split(separator: " ", omittingEmptySubsequences: true) == ["DRIVER", "VOLUME", "NAME"])
        let rows: [[String]] = table.dropFirst().map { $0.split(separator: " ").map(String.init) }
        let expectedRows: [[String]] = [["local", generated], ["local", "dbdata"]].sorted { $0[1] < $1[1] }
        #expect(rows == expectedRows)
        // A part of the name (with a "t", which a generated hex name cannot contain).
        #expect(try berth.call("volume", "ls", "-q", "--filter", "name=bdat") == "dbdata\n")
        #expect(try berth.call("volume", "ls", "-q", "--filter", "label=tier=db") == "dbdata\n")
        #expect(try berth.call("volume", "ls", "-q", "--filter", "label=tier=web") == "")
        #expect(try berth.call("volume", "ls", "-q", "--filter", "dangling=true") == generated + "\n")
        #expect(try berth.call("volume", "ls", "-q", "--filter", "dangling=false") == "dbdata\n")
        #expect(try berth.call("volume", "ls", "--format", "{{.Name}} {{.Labels}} {{.Scope}}", "-f", "name=dbdata") == "dbdata tier=db,x= local\n")
        let badFilter = try berth.callAnyway(["volume", "ls", "--filter", "bogus=1"])
        #expect(badFilter.status == 1 && badFilter.stderr.contains("Invalid filter 'bogus'"), "\(badFilter.stderr)")
        let missing = try berth.callAnyway(["volume", "inspect", "nosuch"])
        #expect(missing.status == 1 && missing.stderr.contains("no such volume"), "\(missing.stderr)")

        guard EngineEnv.hasPodman else { return }
        // Podman's listing has the same two columns; its inspect carries Docker's keys among its own.
        let podman = try PodmanPeer()
        defer { podman.remove() }
        try #require(try podman.callAnyway(["volume", "create", "--label", "tier=db", "dbdata"]).status == 0)
        let theirs = lines(try podman.callAnyway(["volume", "ls"]).stdout)
        #expect(theirs.first?.split(separator: " ", omittingEmptySubsequences: true) == ["DRIVER", "VOLUME", "NAME"])
        #expect(theirs.dropFirst().map { $0.split(separator: " ").map(String.init) } == [["local", "dbdata"]])
        let podmanJSON = try podman.callAnyway(["volume", "inspect", "dbdata"]).stdout
        let podmanObject = try #require((try JSONSerialization.jsonObject(with: Data(podmanJSON.utf8)) as? [[String: Any]])?.first)
        let oursJSON = try berth.call("volume", "inspect", "dbdata")
        let oursObject = try #require((try JSONSerialization.jsonObject(with: Data(oursJSON.utf8)) as? [[String: Any]])?.first)
        for key in ["Name", "Driver", "Scope"] {
            #expect(oursObject[key] as? String == podmanObject[key] as? String, "\(key)")
        }
        #expect(oursObject["Labels"] as? [String: String] == ["tier": "db", "x": ""])
        #expect(podmanObject["Labels"] as? [String: String] == ["tier": "db"])
    }

    @Test func copyUpIntoEmptyVolumeOnly() throws {
        let berth = try BerthEngine()
        defer { berth.remove() }
        try Self.importVolumeImage(berth)
        // An empty named volume gets the image's /data: content, modes, owners, links.
        let listing = try berth.call("run", "--rm", "-v", "copied:/data", "voltest", "sh", "-c", "cat /data/hello; stat -c '%a %u:%g' /data /data/hello")
        #expect(listing == "hello\n750 1000:1000\n640 1000:1000\n")
        let dir = volumeDir(berth, "copied")
        let root = try FileManager.default.attributesOfItem(atPath: dir)
        #expect((root[.posixPermissions] as? Int) == 0o750 && (root[.ownerAccountID] as? Int) == 1000)
        #expect(try FileManager.default.destinationOfSymbolicLink(atPath: dir + "/sub/rel") == "../hello")
        // An absolute symlink is copied as a link, not followed to the host's file.
        #expect(try FileManager.default.destinationOfSymbolicLink(atPath: dir + "/abs") == "/etc/shadow")
        var a = stat(), b = stat()
        #expect(lstat(dir + "/hello", &a) == 0 && lstat(dir + "/sub/hardlink", &b) == 0)
        #expect(a.st_ino == b.st_ino, "the hard link stays one inode")

        // A volume that is not empty is left as it is.
        try berth.call("run", "--rm", "-v", "filled:/x", "busybox:test", "sh", "-c", "echo mine > /x/own")
        #expect(try berth.call("run", "--rm", "-v", "filled:/data", "voltest", "ls", "/data") == "own\n")
        // nocopy, in both spellings, leaves the new volume empty.
        #expect(try berth.call("run", "--rm", "-v", "nc1:/data:nocopy", "voltest", "ls", "-A", "/data") == "")
        #expect(try berth.call("run", "--rm", "--mount", "type=volume,src=nc2,dst=/data,volume-nocopy", "voltest", "ls", "-A", "/data") == "")
        // A bind mount never gets the image's content.
        let bind = berth.base + "/bind"
        try FileManager.default.createDirectory(atPath: bind, withIntermediateDirectories: true)
        #expect(try berth.call("run", "--rm", "-v", "\(bind):/data", "voltest", "ls", "-A", "/data") == "")
        // A symlink at the mount path resolves inside the rootfs: /esc -> /etc copies the image's /etc.
        try berth.call("run", "--rm", "-v", "esc:/esc", "voltest", "true")
        #expect((try? String(contentsOfFile: volumeDir(berth, "esc") + "/passwd", encoding: .utf8)) == "root:x:0:0:root:/root:/bin/sh\n")
        // Busybox's own /etc, through an anonymous volume too.
        #expect(try berth.call("run", "--rm", "-v", "/etc", "busybox:test", "cat", "/etc/group").contains("root:x:0:"))

        guard EngineEnv.hasPodman else { return }
        // Podman copies up the same way (its default for named volumes).
        let podman = try PodmanPeer()
        defer { podman.remove() }
        try #require(try podman.callAnyway(["import", "-c", "VOLUME /data", "-c", "CMD [\"sh\"]", berth.base + "/image.tar", "voltest:latest"]).status == 0)
        let theirs = try podman.run(["--rm", "-v", "copied:/data", "voltest", "sh", "-c", "cat /data/hello; stat -c '%a %u:%g' /data /data/hello"])
        #expect(theirs.stdout == listing, "podman: \(theirs.stderr)")
    }

    @Test func readOnlyVolumeRefusesWrites() throws {
        let berth = try BerthEngine()
        defer { berth.remove() }
        try berth.call("volume", "create", "rovol")
        for flags in [["-v", "rovol:/data:ro"], ["--mount", "type=volume,source=rovol,target=/data,readonly"]] {
            let write = try berth.callAnyway(["run", "--rm"] + flags + ["busybox:test", "touch", "/data/f"])
            #expect(write.status == 1, "\(flags)")
            #expect(write.stderr.contains("Read-only file system"), "\(write.stderr)")
        }
        #expect(try FileManager.default.contentsOfDirectory(atPath: volumeDir(berth, "rovol")).isEmpty)
        try berth.call("create", "--name", "ro", "-v", "rovol:/data:ro", "busybox:test", "true")
        #expect(try berth.inspect("ro", "{{range .Mounts}}{{.Type}} {{.Name}} {{.Destination}} {{.Mode}} {{.RW}}{{end}}") == "volume rovol /data ro false")
        guard EngineEnv.hasPodman else { return }
        let podman = try PodmanPeer()
        defer { podman.remove() }
        let theirs = try podman.run(["--rm", "-v", "rovol:/data:ro", "busybox:test", "touch", "/data/f"])
        #expect(theirs.status == 1 && theirs.stderr.contains("Read-only file system"))
    }

    @Test func anonymousVolumesAndRmV() throws {
        let berth = try BerthEngine()
        defer { berth.remove() }
        try Self.importVolumeImage(berth)
        let id = try berth.call("create", "--name", "anon", "-v", "/scratch", "-v", "keep:/keep", "busybox:test", "sh", "-c", "echo x > /scratch/f")
            .trimmingCharacters(in: .newlines)
        let anonymous = try berth.inspect("anon", "{{range .Mounts}}{{if eq .Destination \"/scratch\"}}{{.Name}}{{end}}{{end}}")
        #expect(anonymous.count == 64, "\(anonymous)")
        #expect(Set(lines(try berth.call("volume", "ls", "-q"))) == [anonymous, "keep"])
        #expect(try berth.call("volume", "inspect", "-f", "{{json .Labels}}", anonymous) == "{\"com.docker.volume.anonymous\":\"\"}\n")
        // Docker's Mounts entry for each kind.
        let mounts = try berth.inspect("anon", "{{json .Mounts}}")
        let parsed = try #require(try JSONSerialization.jsonObject(with: Data(mounts.utf8)) as? [[String: Any]])
        let scratch = try #require(parsed.first { $0["Destination"] as? String == "/scratch" })
        #expect(scratch.keys.sorted() == ["Destination", "Driver", "Mode", "Name", "Propagation", "RW", "Source", "Type"])
        #expect(scratch["Type"] as? String == "volume" && scratch["Driver"] as? String == "local" && scratch["Mode"] as? String == ""
            && scratch["RW"] as? Bool == true && scratch["Propagation"] as? String == ""
            && scratch["Source"] as? String == volumeDir(berth, anonymous))
        #expect(parsed.first { $0["Destination"] as? String == "/keep" }?["Mode"] as? String == "z")
        try berth.call("start", "-a", "anon")
        #expect(FileManager.default.fileExists(atPath: volumeDir(berth, anonymous) + "/f"))
        // rm -v: the anonymous volume goes, the named one stays.
        #expect(try berth.call("rm", "-v", id) == id + "\n")
        #expect(try berth.call("volume", "ls", "-q") == "keep\n")
        #expect(!FileManager.default.fileExists(atPath: berth.root + "/volumes/\(anonymous)"))

        // rm without -v keeps it; run --rm removes it (as Docker's --rm does); the image's VOLUME is one too.
        try berth.call("create", "--name", "kept", "voltest", "true")
        let imageVolume = try berth.inspect("kept", "{{range .Mounts}}{{.Name}} {{.Destination}}{{end}}")
        #expect(imageVolume.hasSuffix(" /data") && imageVolume.count == 64 + 6, "\(imageVolume)")
        try berth.call("rm", "kept")
        #expect(Set(lines(try berth.call("volume", "ls", "-q"))) == ["keep", String(imageVolume.prefix(64))])
        #expect(try berth.call("run", "--rm", "-v", "/tmpvol", "voltest", "cat", "/data/hello") == "hello\n")
        #expect(Set(lines(try berth.call("volume", "ls", "-q"))) == ["keep", String(imageVolume.prefix(64))])
        // A detached --rm container's supervisor removes its anonymous volumes too.
        try berth.call("run", "-d", "--rm", "voltest", "true")
        var remaining: Set<String> = []
        for _ in 0..<200 {
            remaining = Set(lines(try berth.call("volume", "ls", "-q")))
            let containers = try berth.call("ps", "-aq")
            if remaining.count == 2 && containers.isEmpty { break }
            usleep(25_000)
        }
        #expect(remaining == ["keep", String(imageVolume.prefix(64))])
    }

    @Test func removeInUseVolumeFailsAndKeepsIt() throws {
        let berth = try BerthEngine()
        defer { berth.remove() }
        let id = try berth.call("create", "--name", "user", "-v", "busy:/d", "busybox:test", "true").trimmingCharacters(in: .newlines)
        for flags in [["volume", "rm"], ["volume", "rm", "-f"]] {
            let refused = try berth.callAnyway(flags + ["busy"])
            #expect(refused.status == 1)
            #expect(refused.stderr == "Error response from daemon: remove busy: volume is in use - [\(id)]\n", "\(refused.stderr)")
        }
        #expect(try berth.call("volume", "ls", "-q") == "busy\n")
        #expect(FileManager.default.fileExists(atPath: volumeDir(berth, "busy")))
        let missing = try berth.callAnyway(["volume", "rm", "nosuch"])
        #expect(missing.status == 1 && missing.stderr == "Error response from daemon: get nosuch: no such volume\n", "\(missing.stderr)")
        #expect(try berth.call("volume", "rm", "-f", "nosuch") == "nosuch\n")
        try berth.call("rm", "user")
        #expect(try berth.call("volume", "rm", "busy") == "busy\n")
        #expect(try berth.call("volume", "ls", "-q") == "")
        #expect(!FileManager.default.fileExists(atPath: berth.root + "/volumes/busy"))
    }

    @Test func prune() throws {
        let berth = try BerthEngine()
        defer { berth.remove() }
        // An unused anonymous volume with 10000 bytes, an unused named one, an anonymous one in use.
        let gone = try berth.call("create", "-v", "/a", "busybox:test", "sh", "-c", "dd if=/dev/zero of=/a/f bs=1000 count=10 2>/dev/null")
            .trimmingCharacters(in: .newlines)
        try berth.call("start", "-a", gone)
        let unusedAnonymous = try berth.inspect(gone, "{{range .Mounts}}{{.Name}}{{end}}")
        try berth.call("rm", gone)
        try berth.call("volume", "create", "named")
        try berth.call("volume", "create", "--label", "keep=yes", "labelled")
        try berth.call("create", "--name", "holder", "-v", "/held", "busybox:test", "true")
        let held = try berth.inspect("holder", "{{range .Mounts}}{{.Name}}{{end}}")

        #expect(try berth.call("volume", "prune", "-f") == "Deleted Volumes:\n\(unusedAnonymous)\n\nTotal reclaimed space: 10kB\n")
        #expect(Set(lines(try berth.call("volume", "ls", "-q"))) == ["named", "labelled", held])
        #expect(try berth.call("volume", "prune", "-f") == "Total reclaimed space: 0B\n")
        #expect(try berth.call("volume", "prune", "-af", "--filter", "label!=keep") == "Deleted Volumes:\nnamed\n\nTotal reclaimed space: 0B\n")
        #expect(try berth.call("volume", "prune", "-a", "-f") == "Deleted Volumes:\nlabelled\n\nTotal reclaimed space: 0B\n")
        #expect(try berth.call("volume", "ls", "-q") == held + "\n")
        // Without -f it asks, and a "no" removes nothing.
        try berth.call("rm", "holder")
        let asked = try berth.callAnyway(["volume", "prune"], stdin: "n\n")
        #expect(asked.status == 0 && asked.stdout.contains("WARNING! This will remove anonymous local volumes not used by at least one container."))
        #expect(try berth.call("volume", "ls", "-q") == held + "\n")
    }

    /// Bad names and bad --mount specs: a clear message, Docker's status, and nothing created.
    @Test(arguments: [
        (["run", "--rm", "-v", "a:/x", "busybox:test", "true"], Int32(125), "volume name is too short"),
        (["create", "-v", "bad name:/x", "busybox:test", "true"], Int32(125), "includes invalid characters for a local volume name"),
        (["run", "--rm", "--mount", "type=volume,source=good,target=relative", "busybox:test", "true"], Int32(125), "mount path must be absolute"),
        (["run", "--rm", "--mount", "type=volume,source=good,target=/x,bogus=1", "busybox:test", "true"], Int32(125), "bogus"),
        (["run", "--rm", "--mount", "type=volume,target=/x,readonly", "busybox:test", "true"], Int32(125), "must not set ReadOnly mode when using anonymous volumes"),
        (["run", "--rm", "--mount", "type=volume,source=good", "busybox:test", "true"], Int32(125), "target"),
        (["run", "--rm", "-v", "good:/x", "-v", "other:/x", "busybox:test", "true"], Int32(125), "Duplicate mount point"),
        (["volume", "create", "a b"], Int32(1), "includes invalid characters for a local volume name"),
        (["volume", "create", "x"], Int32(1), "volume name is too short"),
        (["volume", "create", "-d", "nfsplugin", "good"], Int32(1), "plugin \"nfsplugin\" not found"),
        (["volume", "create", "-o", "bogus=1", "good"], Int32(1), "invalid option: \"bogus\""),
    ] as [([String], Int32, String)])
    func badInputIsRefusedAndCreatesNothing(arguments: [String], status: Int32, message: String) throws {
        let berth = try BerthEngine()
        defer { berth.remove() }
        let result = try berth.callAnyway(arguments)
        #expect(result.status == status, "\(result.stderr)")
        #expect(result.stderr.contains(message), "\(result.stderr)")
        #expect(try berth.call("volume", "ls", "-q") == "")
        #expect(try berth.call("ps", "-aq") == "")
        #expect(((try? FileManager.default.contentsOfDirectory(atPath: berth.root + "/volumes")) ?? []).isEmpty)
    }

    /// Docker's local driver options: `-o type=tmpfs …` mounts a tmpfs of that size on the volume's
    /// directory for its containers (content shared between them), `-o type=none -o o=bind -o
    /// device=DIR` a host directory; `volume rm` unmounts and leaves the host directory's files.
    @Test func driverOptionsMountAFilesystem() throws {
        let berth = try BerthEngine()
        defer { berth.remove() }
        try berth.call("volume", "create", "-o", "type=tmpfs", "-o", "device=tmpfs", "-o", "o=size=1m,mode=0700,nodev", "scratch")
        let line = try berth.call("run", "--rm", "--network", "none", "-v", "scratch:/data", "busybox:test",
                                  "sh", "-c", "grep ' /data ' /proc/mounts; echo kept > /data/f")
        #expect(line.hasPrefix("tmpfs /data tmpfs rw,nodev,") && line.contains("size=1024k") && line.contains("mode=700"), "\(line)")
        #expect(try berth.call("run", "--rm", "--network", "none", "-v", "scratch:/data", "busybox:test", "cat", "/data/f") == "kept\n")
        #expect(try berth.call("volume", "inspect", "--format", "{{json .Options}}", "scratch").contains("\"type\":\"tmpfs\""))
        let hostDir = berth.base + "/bound"
        try FileManager.default.createDirectory(atPath: hostDir, withIntermediateDirectories: true)
        try "from the host\n".write(toFile: hostDir + "/x", atomically: true, encoding: .utf8)
        try berth.call("volume", "create", "-o", "type=none", "-o", "o=bind", "-o", "device=" + hostDir, "bound")
        #expect(try berth.call("run", "--rm", "--network", "none", "-v", "bound:/data", "busybox:test", "cat", "/data/x") == "from the host\n")
        try berth.call("volume", "rm", "scratch", "bound")
        #expect(berth.mounts.filter { $0.contains("/volumes/") }.isEmpty, "\(berth.mounts)")
        #expect(try String(contentsOfFile: hostDir + "/x", encoding: .utf8) == "from the host\n")
        // Without a type the options cannot mount anything: refused at create, nothing made.
        let refused = try berth.callAnyway(["volume", "create", "-o", "device=tmpfs", "half"])
        #expect(refused.status == 1 && refused.stderr.contains("missing required option: \"type\""), "\(refused.stderr)")
        #expect(try berth.call("volume", "ls", "-q") == "")
    }
}
