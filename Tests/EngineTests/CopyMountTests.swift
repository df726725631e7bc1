import Foundation
import TestSupport
import Testing

/// `berth cp` through a container's mounts, as `docker cp` does: a path in a named volume or a bind
/// mount is read from and written to the mounted host directory (not the rootfs below it), a
/// read-only mount or `--read-only` rootfs refuses writes, a symlink in a volume resolves inside the
/// container, and stopped containers work from their stored configuration.
@Suite(.enabled(if: EngineEnv.ready), .serialized)
struct CopyMountTests {
    func write(_ path: String, _ text: String) throws {
        try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try text.write(toFile: path, atomically: false, encoding: .utf8)
    }

    func read(_ path: String) -> String? { try? String(contentsOfFile: path, encoding: .utf8) }

    func exists(_ path: String) -> Bool {
        var st = stat()
        return lstat(path, &st) == 0
    }

    /// Every path below `dir`, relative, sorted.
    func tree(_ dir: String) -> [String] {
        ((try? FileManager.default.subpathsOfDirectory(atPath: dir)) ?? []).sorted()
    }

    /// Waits until the container's command has made `path`.
    func waitFor(_ berth: BerthEngine, _ container: String, _ path: String) throws {
        for _ in 0..<100 {
            if try berth.callAnyway(["exec", container, "test", "-e", path]).status == 0 { return }
            usleep(50_000)
        }
        Issue.record("\(container):\(path) never appeared")
    }

    @Test func namedVolumeBothWays() throws {
        let berth = try BerthEngine()
        defer { berth.remove() }
        let host = EngineEnv.scratch("h")
        defer { try? FileManager.default.removeItem(atPath: host) }
        try berth.call("run", "-d", "--name", "web", "-v", "vol:/data", "-v", "nested:/srv/nested", "busybox:test", "sh", "-c",
                       "echo 7 > /data/count; echo n > /srv/nested/n; ln -s /data/count /link; sleep 300")
        try waitFor(berth, "web", "/link")
        let volume = try berth.call("volume", "inspect", "--format", "{{.Mountpoint}}", "vol").trimmingCharacters(in: .whitespacesAndNewlines)

        // Out of the volume: a file, the file through a rootfs symlink (-L), the mount point itself.
        try berth.call("cp", "web:/data/count", host + "/count")
        #expect(read(host + "/count") == "7\n")
        try berth.call("cp", "-L", "web:/link", host + "/linked")
        #expect(read(host + "/linked") == "7\n")
        try berth.call("cp", "web:/data", host + "/data-copy")
        #expect(tree(host + "/data-copy") == ["count"])
        #expect(try berth.call("cp", "web:/data/count", "-").contains("7\n"))
        // A directory with a volume inside it holds the volume's files, as Docker's tar of it does.
        try berth.call("cp", "web:/srv", host + "/srv")
        #expect(read(host + "/srv/nested/n") == "n\n")
        let whole = try sh(["/bin/sh", "-c", "\(EngineEnv.berth) --root \(berth.root) --runroot \(berth.runRoot) cp web:/ - | tar -tf -"])
        let names = Set(whole.stdout.split(separator: "\n").map { $0.hasPrefix("./") ? String($0.dropFirst(2)) : String($0) })
        #expect(whole.status == 0 && names.contains("data/count") && names.contains("srv/nested/n"), "\(whole.stderr)")

        // Into the volume: a file, a directory, a tar stream; the container sees them, the overlay gets nothing.
        try write(host + "/in.txt", "hi\n")
        try write(host + "/dir/a", "a\n")
        try berth.call("cp", host + "/in.txt", "web:/data/in.txt")
        try berth.call("cp", host + "/dir", "web:/data/")
        let streamed = try sh(["/bin/sh", "-c", "tar -C \(host) -cf - in.txt | \(EngineEnv.berth) --root \(berth.root) --runroot \(berth.runRoot) cp - web:/data/dir"])
        #expect(streamed.status == 0, "\(streamed.stderr)")
        #expect(try berth.call("exec", "web", "cat", "/data/in.txt", "/data/dir/a", "/data/dir/in.txt") == "hi\na\nhi\n")
        #expect(read(volume + "/in.txt") == "hi\n")
        #expect(tree(volume) == ["count", "dir", "dir/a", "dir/in.txt", "in.txt"])
        // A tree copied into / whose names run into the volumes: each part lands in its volume.
        try write(host + "/tree/data/spanned", "s\n")
        try write(host + "/tree/srv/nested/deep/d", "d\n")
        try write(host + "/tree/top", "t\n")
        try berth.call("cp", host + "/tree/.", "web:/")
        #expect(read(volume + "/spanned") == "s\n")
        #expect(try berth.call("exec", "web", "cat", "/data/spanned", "/srv/nested/deep/d", "/top") == "s\nd\nt\n")
        let id = try berth.inspect("web", "{{.Id}}")
        let upper = berth.root + "/containers/\(id)/upper"
        #expect(!exists(upper + "/data/in.txt") && !exists(upper + "/data/spanned") && !exists(upper + "/srv/nested/deep"),
                "cp wrote into the overlay under the volume")

        // The volume outlives the container, with what cp put there.
        try berth.call("rm", "-f", "web")
        #expect(try berth.call("run", "--rm", "-v", "vol:/data", "busybox:test", "cat", "/data/in.txt") == "hi\n")
    }

    @Test func readOnlyMountsRefuseWritesAndStayReadable() throws {
        let berth = try BerthEngine()
        defer { berth.remove() }
        let host = EngineEnv.scratch("h")
        defer { try? FileManager.default.removeItem(atPath: host) }
        try write(host + "/ro/f", "read-only\n")
        try write(host + "/in.txt", "hi\n")
        try berth.call("run", "-d", "--name", "web", "-v", host + "/ro:/ro:ro", "-v", "rovol:/rovol:ro",
                       "-v", host + "/ro/f:/rofile:ro", "busybox:test", "sleep", "300")
        try berth.call("run", "-d", "--name", "rofs", "--read-only", "-v", "rwvol:/data", "busybox:test", "sleep", "300")
        let before = tree(host + "/ro")

        // Readable: a file in the read-only bind, the directory, the bind of a single file.
        try berth.call("cp", "web:/ro/f", host + "/out")
        #expect(read(host + "/out") == "read-only\n")
        try berth.call("cp", "web:/ro", host + "/ro-copy")
        #expect(tree(host + "/ro-copy") == ["f"])
        try berth.call("cp", "web:/rofile", host + "/rofile-copy")
        #expect(read(host + "/rofile-copy") == "read-only\n")

        // Every write below a read-only mount fails with Docker's words, names the path, and writes nothing.
        for (source, destination) in [(host + "/in.txt", "web:/ro/in.txt"), (host + "/in.txt", "web:/ro/"),
                                      (host + "/ro", "web:/ro/sub"), (host + "/in.txt", "web:/rovol/in.txt"),
                                      (host + "/in.txt", "web:/ro/f"), (host + "/in.txt", "web:/rofile")] {
            let refused = try berth.callAnyway(["cp", source, destination])
            #expect(refused.status == 1, "\(destination): \(refused.stdout)")
            #expect(refused.stderr.hasPrefix("Error response from daemon: mounted volume is marked read-only"), "\(destination): \(refused.stderr)")
            #expect(refused.stderr.contains(String(destination.dropFirst(4))), "\(destination): \(refused.stderr)")
        }
        // A tree copied into / with a name in the read-only bind: refused before anything is written.
        try write(host + "/tree/a-first", "a\n")
        try write(host + "/tree/ro/x", "x\n")
        let spanning = try berth.callAnyway(["cp", host + "/tree/.", "web:/"])
        #expect(spanning.status == 1 && spanning.stderr.hasPrefix("Error response from daemon: mounted volume is marked read-only"), "\(spanning.stderr)")
        #expect(spanning.stderr.contains("/ro is mounted read-only"), "\(spanning.stderr)")
        #expect(try berth.callAnyway(["exec", "web", "ls", "/a-first"]).status != 0)
        let spanningTar = try sh(["/bin/sh", "-c", "tar -C \(host)/tree -cf - ro | \(EngineEnv.berth) --root \(berth.root) --runroot \(berth.runRoot) cp - web:/"])
        #expect(spanningTar.status == 1 && spanningTar.stderr.hasPrefix("Error response from daemon: mounted volume is marked read-only"), "\(spanningTar.stderr)")
        let tarred = try sh(["/bin/sh", "-c", "tar -C \(host) -cf - in.txt | \(EngineEnv.berth) --root \(berth.root) --runroot \(berth.runRoot) cp - web:/ro"])
        #expect(tarred.status == 1 && tarred.stderr.hasPrefix("Error response from daemon: mounted volume is marked read-only"), "\(tarred.stderr)")
        #expect(tree(host + "/ro") == before)
        #expect(read(host + "/ro/f") == "read-only\n")
        #expect(try berth.callAnyway(["exec", "web", "ls", "/rovol"]).stdout == "")
        let id = try berth.inspect("web", "{{.Id}}")
        let upper = berth.root + "/containers/\(id)/upper"
        #expect(!exists(upper + "/ro/in.txt") && !exists(upper + "/ro/sub") && !exists(upper + "/rovol/in.txt"))

        // --read-only: the rootfs refuses, its writable volume takes the file.
        let rootfs = try berth.callAnyway(["cp", host + "/in.txt", "rofs:/in.txt"])
        #expect(rootfs.status == 1)
        #expect(rootfs.stderr.hasPrefix("Error response from daemon: container rootfs is marked read-only"), "\(rootfs.stderr)")
        #expect(rootfs.stderr.contains("rofs:/in.txt"), "\(rootfs.stderr)")
        try berth.call("cp", host + "/in.txt", "rofs:/data/in.txt")
        #expect(try berth.call("exec", "rofs", "cat", "/data/in.txt") == "hi\n")
        #expect(try berth.callAnyway(["exec", "rofs", "ls", "/in.txt"]).status != 0)
    }

    /// Links in a volume (to `/`, climbing with `..`, to a host path) resolve in the container's
    /// root, as the container would see them: a copy through them reads and writes the container's
    /// files, never the host's.
    @Test func symlinksInAVolumeStayInTheContainer() throws {
        let berth = try BerthEngine()
        defer { berth.remove() }
        let host = EngineEnv.scratch("h")
        defer { try? FileManager.default.removeItem(atPath: host) }
        let marker = "berth-cpm-\(UInt32.random(in: 0...UInt32.max))"
        try write(host + "/secret", "host secret\n")
        try write("/tmp/" + marker, "host file\n")
        defer { unlink("/tmp/" + marker) }
        try write(host + "/in.txt", "hi\n")
        try berth.call("run", "-d", "--name", "web", "-v", "vol:/data", "busybox:test", "sh", "-c",
                       "echo container > /tmp/\(marker); ln -s / /data/root; ln -s ../../.. /data/up; ln -s \(host) /data/hostdir; "
                           + "ln -s /tmp/\(marker) /data/marker; mkdir /data/sub; ln -s ../../../../tmp /data/sub/tmp; sleep 300")
        try waitFor(berth, "web", "/data/sub/tmp")

        // Reading: the container's /tmp file, never the host's of the same name; a host path is not there.
        for source in ["web:/data/root/tmp/\(marker)", "web:/data/up/tmp/\(marker)", "web:/data/sub/tmp/\(marker)"] {
            let out = host + "/out-\(UUID().uuidString)"
            try berth.call("cp", source, out)
            #expect(read(out) == "container\n", "\(source)")
        }
        let linked = host + "/out-linked"
        try berth.call("cp", "-L", "web:/data/marker", linked)
        #expect(read(linked) == "container\n")
        let hostPath = try berth.callAnyway(["cp", "web:/data/hostdir/secret", host + "/out-secret"])
        #expect(hostPath.status == 1)
        #expect(!exists(host + "/out-secret"))
        #expect(!(try berth.callAnyway(["cp", "-L", "web:/data/hostdir", "-"]).stdout.contains("host secret")))
        let climbed = try berth.callAnyway(["cp", "web:/data/up/", host + "/climbed"])
        #expect(climbed.status == 0, "\(climbed.stderr)")
        #expect(exists(host + "/climbed/bin/sh") && !exists(host + "/climbed/secret"))

        // Writing: into the container's /tmp and /, never the host's.
        let written = "berth-cpm-w-\(UInt32.random(in: 0...UInt32.max))"
        try write(host + "/" + written, "payload\n")
        defer { unlink("/tmp/" + written); unlink("/" + written) }
        for destination in ["web:/data/root/tmp/", "web:/data/up/", "web:/data/sub/tmp/"] {
            try berth.call("cp", host + "/" + written, destination)
        }
        #expect(!exists("/tmp/" + written) && !exists("/" + written))
        #expect(try berth.call("exec", "web", "cat", "/tmp/\(written)", "/\(written)") == "payload\npayload\n")
        _ = try berth.callAnyway(["cp", host + "/in.txt", "web:/data/hostdir/"])
        // Over a link to a file: the link's target in the container is replaced (as Docker's CLI
        // does), never the host's file of the same name.
        try berth.call("cp", host + "/in.txt", "web:/data/marker")
        #expect(try berth.call("exec", "web", "cat", "/tmp/\(marker)") == "hi\n")
        #expect(try berth.callAnyway(["exec", "web", "test", "-L", "/data/marker"]).status == 0)
        #expect(read(host + "/secret") == "host secret\n" && read("/tmp/" + marker) == "host file\n")
        #expect(tree(host).filter { $0.hasPrefix("in.txt") } == ["in.txt"])
    }

    /// The engine's /etc files are the container's (bound over the rootfs's): readable, not replaceable,
    /// and read-only with the rootfs.
    @Test func engineEtcFiles() throws {
        let berth = try BerthEngine()
        defer { berth.remove() }
        let host = EngineEnv.scratch("h")
        defer { try? FileManager.default.removeItem(atPath: host) }
        try write(host + "/in.txt", "hi\n")
        try berth.call("run", "-d", "--name", "web", "--hostname", "myhost", "busybox:test", "sleep", "300")
        try berth.call("run", "-d", "--name", "rofs", "--read-only", "busybox:test", "sleep", "300")
        try berth.call("cp", "web:/etc/hostname", host + "/hostname")
        #expect(read(host + "/hostname") == "myhost\n")
        let replaced = try berth.callAnyway(["cp", host + "/in.txt", "web:/etc/hostname"])
        #expect(replaced.status == 1 && replaced.stderr.contains("/etc/hostname"), "\(replaced.stderr)")
        #expect(try berth.call("exec", "web", "cat", "/etc/hostname") == "myhost\n")
        let readOnly = try berth.callAnyway(["cp", host + "/in.txt", "rofs:/etc/hosts"])
        #expect(readOnly.status == 1)
        #expect(readOnly.stderr.hasPrefix("Error response from daemon: container rootfs is marked read-only"), "\(readOnly.stderr)")
        try berth.call("stop", "-t", "1", "web")
        try berth.call("cp", "web:/etc/hostname", host + "/stopped")
        #expect(read(host + "/stopped") == "myhost\n")
    }

    @Test func stoppedContainersUseTheirStoredMounts() throws {
        let berth = try BerthEngine()
        defer { berth.remove() }
        let host = EngineEnv.scratch("h")
        defer { try? FileManager.default.removeItem(atPath: host) }
        try write(host + "/in.txt", "hi\n")
        try write(host + "/ro/f", "read-only\n")

        // Created, never started: the file goes into the volume, and the container finds it there.
        try berth.call("create", "--name", "created", "-v", "vol:/data", "-v", host + "/ro:/ro:ro", "busybox:test", "cat", "/data/in.txt")
        try berth.call("cp", host + "/in.txt", "created:/data/in.txt")
        let volume = try berth.call("volume", "inspect", "--format", "{{.Mountpoint}}", "vol").trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(read(volume + "/in.txt") == "hi\n")
        try berth.call("cp", "created:/ro/f", host + "/f")
        #expect(read(host + "/f") == "read-only\n")
        let refused = try berth.callAnyway(["cp", host + "/in.txt", "created:/ro/"])
        #expect(refused.status == 1 && refused.stderr.hasPrefix("Error response from daemon: mounted volume is marked read-only"), "\(refused.stderr)")
        #expect(berth.mounts.isEmpty, "\(berth.mounts)")
        #expect(try berth.call("start", "-a", "created") == "hi\n")

        // Exited: what it wrote into its volume.
        try berth.call("run", "--name", "exited", "-v", "vol:/data", "busybox:test", "sh", "-c", "echo done > /data/out")
        try berth.call("cp", "exited:/data/out", host + "/out")
        #expect(read(host + "/out") == "done\n")
        try berth.call("cp", host + "/in.txt", "exited:/data/again")
        #expect(read(volume + "/again") == "hi\n")
        #expect(tree(host + "/ro") == ["f"])
        #expect(berth.mounts.isEmpty, "\(berth.mounts)")
    }

    // MARK: Against Docker

    static let engineLib = EngineEnv.packageRoot + "/Tests/Scripts/engines/lib.sh"
    static let dockerReady = FileManager.default.isExecutableFile(atPath: "/usr/sbin/dockerd")
        && FileManager.default.isExecutableFile(atPath: "/usr/bin/docker")

    /// The same copies against a private dockerd (Debian's docker.io) and berth: the same exit
    /// statuses, and Docker's error text at the start of ours (ours adds the path).
    @Test(.enabled(if: dockerReady, "needs Debian's docker.io"), .timeLimit(.minutes(5)))
    func sameOutcomesAsDockerd() throws {
        let dir = EngineEnv.scratch("d")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        // $3 is the engine's command; `dk` stays the name whichever it is.
        let steps = #"""
            mkdir -p $D/robind; echo rofile > $D/robind/f; echo hi > $D/in.txt
            step() { local n=$1; shift; "$@" > $D/$n.out 2> $D/$n.err; echo $? > $D/$n.rc; }
            dk run -d --name web --network none -v vol:/data -v rovol:/rovol:ro -v $D/robind:/ro:ro -v $D/robind/f:/rofile:ro --tmpfs /tt busybox:test \
              sh -c 'echo 7 > /data/count; echo t > /tt/x; echo old > /tmp/t; ln -s /tmp/t /data/lnk; ln -s / /data/esc; ln -s ../../.. /data/up; touch /data/ready; sleep 300' >/dev/null || exit 1
            dk run -d --name rofs --network none --read-only -v vol2:/data busybox:test sleep 300 >/dev/null || exit 1
            for _ in $(seq 100); do dk exec web test -e /data/ready && break; sleep 0.1; done
            step readvol dk cp web:/data/count -
            step writevol dk cp $D/in.txt web:/data/in.txt
            step writero dk cp $D/in.txt web:/ro/in.txt
            step writerovol dk cp $D/in.txt web:/rovol/in.txt
            step writerofile dk cp $D/in.txt web:/rofile
            step readro dk cp web:/ro/f -
            step readrofile dk cp web:/rofile -
            step escread dk cp web:/data/esc/bin/sh -
            step upread dk cp web:/data/up/bin/sh -
            step writerootro dk cp $D/in.txt rofs:/in.txt
            step writerootrovol dk cp $D/in.txt rofs:/data/in.txt
            step writerotar dk cp - web:/ro < $D/in.tar
            step missing dk cp web:/data/nosuch -
            step readtmpfs dk cp web:/tt/x -
            step writelink dk cp $D/in.txt web:/data/lnk
            step catlink dk exec web cat /tmp/t /data/lnk
            readroot() { dk cp web:/ - | tar -tf - | grep -E 'data/count$'; }
            step readroot readroot
            step readhostname dk cp web:/etc/hostname -
            step writehostname dk cp $D/in.txt web:/etc/hostname
            step writerootroetc dk cp $D/in.txt rofs:/etc/hosts
            dk stop -t 1 web >/dev/null
            step stoppedread dk cp web:/data/in.txt -
            step stoppedreadroot readroot
            step stoppedwritero dk cp $D/in.txt web:/ro/x
            step stoppedwritevol dk cp $D/in.txt web:/data/x
            echo done
            """#
        let docker = #"""
            set -uo pipefail
            source "$2"
            D=$1; SOCK=/run/berth-cpmount-docker.sock; ER=/run/berth-cpmount-docker; PF=/run/berth-cpmount-docker.pid
            dk() { timeout 60 /usr/bin/docker -H unix://$SOCK "$@"; }
            cleanup() {
              dk rm -f web rofs >/dev/null 2>&1
              if [ -f $PF ]; then p=$(cat $PF); kill $p 2>/dev/null; for _ in $(seq 80); do kill -0 $p 2>/dev/null || break; sleep 0.25; done; fi
              unmount_under "$D"; unmount_under $ER; rm -rf $ER $SOCK
              rmdir /sys/fs/cgroup/*/berth-cpmount-docker/* /sys/fs/cgroup/*/berth-cpmount-docker 2>/dev/null || true
            }
            trap cleanup EXIT
            echo '{}' > $D/daemon.json
            # In a network namespace of its own, with no bridge: nothing of the host's network changes.
            unshare --net dockerd --config-file $D/daemon.json --data-root $D/data --exec-root $ER --pidfile $PF -H unix://$SOCK \
              --bridge none --iptables=false --ip-masq=false --exec-opt native.cgroupdriver=cgroupfs \
              --cgroup-parent /berth-cpmount-docker >$D/dockerd.log 2>&1 &
            wait_for 60 dk version >/dev/null || { tail $D/dockerd.log; exit 1; }
            make_busybox_tar $D/bb.tar && dk import --change 'CMD ["sh"]' $D/bb.tar busybox:test >/dev/null || exit 1

            """# + steps
        let berth = try BerthEngine()
        defer { berth.remove() }
        let ours = #"""
            set -uo pipefail
            D=$1; B=$3; R=$4; RR=$5
            dk() { "$B" --root "$R" --runroot "$RR" "$@"; }
            """# + "\n" + steps
        for engine in ["docker", "berth"] {
            try FileManager.default.createDirectory(atPath: dir + "/" + engine, withIntermediateDirectories: true)
            try write(dir + "/\(engine)/in.tar.src/in.txt", "hi\n")
            _ = try sh(["/bin/tar", "-C", dir + "/\(engine)/in.tar.src", "-cf", dir + "/\(engine)/in.tar", "in.txt"])
        }
        let ranDocker = try sh(["/bin/bash", "-c", docker, "bash", dir + "/docker", Self.engineLib])
        try #require(ranDocker.stdout.contains("done"), "\(ranDocker.stdout)\n\(ranDocker.stderr)")
        let ranBerth = try sh(["/bin/bash", "-c", ours, "bash", dir + "/berth", "", EngineEnv.berth, berth.root, berth.runRoot])
        try #require(ranBerth.stdout.contains("done"), "\(ranBerth.stdout)\n\(ranBerth.stderr)")

        let names = ["readvol", "writevol", "writero", "writerovol", "writerofile", "readro", "readrofile", "escread", "upread",
                     "writerootro", "writerootrovol", "writerotar", "missing", "readtmpfs", "readhostname", "writehostname",
                     "writerootroetc", "writelink", "catlink", "readroot", "stoppedread", "stoppedreadroot", "stoppedwritero", "stoppedwritevol"]
        for name in names {
            func result(_ engine: String) -> (rc: String?, err: String) {
                (read(dir + "/\(engine)/\(name).rc")?.trimmingCharacters(in: .whitespacesAndNewlines),
                 (read(dir + "/\(engine)/\(name).err") ?? "").trimmingCharacters(in: .whitespacesAndNewlines))
            }
            let theirs = result("docker"), mine = result("berth")
            #expect(theirs.rc != nil && theirs.rc == mine.rc, "\(name): docker \(theirs.rc ?? "-") \(theirs.err), berth \(mine.rc ?? "-") \(mine.err)")
            // Docker's own words where it has a read-only rule; the bind of a file fails in its tar code instead.
            if theirs.err.contains("read-only") {
                #expect(mine.err.hasPrefix(theirs.err), "\(name): docker said \(theirs.err), berth \(mine.err)")
            }
        }
        // Over a link in a volume: its target in the container is replaced, the link stays.
        #expect(read(dir + "/docker/catlink.out") == "hi\nhi\n")
        #expect(read(dir + "/berth/catlink.out") == read(dir + "/docker/catlink.out"))
        // What was read: the volume's file, the bind's files, the container's own /bin/sh through the volume's links.
        for (name, text) in [("readvol", "7\n"), ("readro", "rofile\n"), ("readrofile", "rofile\n"), ("stoppedread", "hi\n"), ("escread", nil), ("upread", nil)] {
            let theirs = (try? Data(contentsOf: URL(fileURLWithPath: dir + "/docker/\(name).out"))) ?? Data()
            let mine = (try? Data(contentsOf: URL(fileURLWithPath: dir + "/berth/\(name).out"))) ?? Data()
            #expect(theirs.count > 512 && mine.count > 512, "\(name): docker \(theirs.count) bytes, berth \(mine.count)")
            if let text {
                #expect(theirs.range(of: Data(text.utf8)) != nil && mine.range(of: Data(text.utf8)) != nil, "\(name)")
            }
        }
    }
}
