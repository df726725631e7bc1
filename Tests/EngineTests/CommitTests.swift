import Foundation
import TestSupport
import Testing

/// commit, diff and export on real containers, and against a private dockerd doing the same.
@Suite(.enabled(if: EngineEnv.ready))
struct CommitTests {
    static func trimmed(_ text: String) -> String { text.trimmingCharacters(in: .whitespacesAndNewlines) }

    @Test func committedImageRunsWithTheChangesAndTheNewConfig() throws {
        let berth = try BerthEngine()
        defer { berth.remove() }
        try berth.call("run", "--name", "maker", "--network", "none", "-e", "KEPT=yes", "busybox:test", "sh", "-c",
                       "echo hello > /greeting; rm /bin/ls; rm -rf /root; mkdir /root; touch /root/new")
        let id = Self.trimmed(try berth.call("commit", "-a", "Ann <ann@example.com>", "-m", "first commit",
                                             "-c", "CMD [\"cat\", \"/greeting\"]", "-c", "ENV FOO=bar", "-c", "EXPOSE 8080",
                                             "maker", "made:1"))
        #expect(id.range(of: "^sha256:[0-9a-f]{64}$", options: .regularExpression) != nil, "\(id)")
        #expect(Self.trimmed(try berth.call("images", "-q", "--no-trunc", "made:1")) == id)

        // The new CMD runs; the file is there, the deleted one stays deleted, the opaque /root holds only the new file.
        #expect(try berth.call("run", "--rm", "--network", "none", "made:1") == "hello\n")
        let probe = try berth.callAnyway(["run", "--rm", "--network", "none", "made:1", "sh", "-c",
                                          "echo $FOO $KEPT; ls /root; test -e /bin/ls && echo still-there; ls /bin/cat"])
        #expect(probe.stdout == "bar yes\nnew\n/bin/cat\n", "\(probe.stdout) \(probe.stderr)")

        #expect(try berth.inspect("made:1", "{{.Author}}|{{.Comment}}|{{json .Config.Cmd}}|{{json .Config.ExposedPorts}}")
                == #"Ann <ann@example.com>|first commit|["cat","/greeting"]|{"8080/tcp":{}}"#)
        #expect(try berth.inspect("made:1", "{{len .RootFS.Layers}}") == "\(Int(try berth.inspect("busybox:test", "{{len .RootFS.Layers}}"))! + 1)")
        let history = try berth.call("history", "--no-trunc", "--format", "{{.CreatedBy}}|{{.Comment}}", "made:1")
        #expect(history.hasPrefix("sh -c echo hello > /greeting; rm /bin/ls; rm -rf /root; mkdir /root; touch /root/new|first commit\n"), "\(history)")

        // ENTRYPOINT without CMD clears the command, as in a Dockerfile.
        try berth.call("commit", "-c", "ENTRYPOINT [\"echo\"]", "maker", "echoer:1")
        #expect(try berth.inspect("echoer:1", "{{json .Config.Cmd}} {{json .Config.Entrypoint}}") == #"null ["echo"]"#)
        #expect(try berth.call("run", "--rm", "--network", "none", "echoer:1", "hi", "there") == "hi there\n")
    }

    @Test func commitOfAnUnchangedContainerAddsNoLayer() throws {
        let berth = try BerthEngine()
        defer { berth.remove() }
        try berth.call("run", "--name", "idle", "--network", "none", "busybox:test", "true")
        try berth.call("commit", "idle", "same:1")
        #expect(try berth.inspect("same:1", "{{json .RootFS.Layers}}") == (try berth.inspect("busybox:test", "{{json .RootFS.Layers}}")))
        #expect(try berth.call("history", "--format", "{{.CreatedBy}} {{.Size}}", "same:1").hasPrefix("true 0B\n"))
        #expect(try berth.call("diff", "idle") == "")
    }

    @Test func runningContainerIsPausedWhileCommittedUnlessAskedNot() throws {
        let berth = try BerthEngine()
        defer { berth.remove() }
        let since = String(format: "%.9f", Date().timeIntervalSince1970)
        try berth.call("run", "-d", "--name", "busy", "--network", "none", "busybox:test", "sh", "-c", "echo up > /state; sleep 300")
        for _ in 0..<100 where try berth.callAnyway(["exec", "busy", "test", "-e", "/state"]).status != 0 { usleep(50_000) }
        try berth.call("commit", "-m", "live", "busy", "live:1")
        try berth.call("commit", "--pause=false", "busy", "live:2")
        #expect(try berth.inspect("busy", "{{.State.Status}}") == "running")
        let actions = try berth.call("events", "--since", since, "--until", String(format: "%.9f", Date().timeIntervalSince1970 + 1),
                                     "--filter", "container=busy", "--filter", "event=pause", "--filter", "event=unpause", "--filter", "event=commit",
                                     "--format", "{{.Action}}{{if eq .Action \"commit\"}} [{{.Actor.Attributes.comment}}] {{.Actor.Attributes.imageRef}}{{end}}")
        #expect(actions == "pause\ncommit [live] live:1\nunpause\ncommit [] live:2\n", "\(actions)")
        #expect(try berth.call("run", "--rm", "--network", "none", "live:2", "cat", "/state") == "up\n")
    }

    @Test func badChangesAndMissingContainersFailAsDocker() throws {
        let berth = try BerthEngine()
        defer { berth.remove() }
        try berth.call("create", "--name", "cc", "busybox:test", "true")
        for (change, message) in [("RUN x", "run is not a valid change command"), ("EXPOSE abc", "Invalid containerPort: abc"),
                                  ("ENV", "ENV requires at least one argument")] {
            let result = try berth.callAnyway(["commit", "-c", change, "cc"])
            #expect(result.status == 1 && result.stderr == "Error response from daemon: \(message)\n", "\(change): \(result.stderr)")
        }
        for verb in [["commit"], ["diff"], ["export", "-o", berth.base + "/x.tar"]] {
            let result = try berth.callAnyway(verb + ["nosuch"])
            #expect(result.status == 1 && result.stderr == "Error response from daemon: No such container: nosuch\n", "\(verb): \(result.stderr)")
        }
        #expect(!FileManager.default.fileExists(atPath: berth.base + "/x.tar"))
    }

    @Test func exportLeavesOutMountsAndRefusesATerminal() throws {
        let berth = try BerthEngine()
        defer { berth.remove() }
        let bind = berth.base + "/bind"
        try FileManager.default.createDirectory(atPath: bind, withIntermediateDirectories: true)
        try Data("host\n".utf8).write(to: URL(fileURLWithPath: bind + "/hostfile"))
        try berth.call("run", "-d", "--name", "live", "--network", "none", "-v", "/vol", "-v", bind + ":/bind", "--tmpfs", "/scratch",
                       "busybox:test", "sh", "-c", "echo v > /vol/in-volume; echo t > /scratch/in-tmpfs; echo r > /in-rootfs; sleep 300")
        for _ in 0..<100 where try berth.callAnyway(["exec", "live", "test", "-e", "/in-rootfs"]).status != 0 { usleep(50_000) }
        let archive = berth.base + "/live.tar"
        try berth.call("export", "-o", archive, "live")
        let names = Set(try sh(["/bin/tar", "-tf", archive]).stdout.split(separator: "\n").map(String.init))
        #expect(names.isSuperset(of: ["in-rootfs", "vol/", "bind/", "scratch/", "bin/busybox", "etc/hosts", "proc/"]), "\(names.sorted())")
        #expect(names.isDisjoint(with: ["vol/in-volume", "bind/hostfile", "scratch/in-tmpfs"]))
        #expect(!names.contains { $0.hasPrefix("proc/") && $0 != "proc/" }, "the container's /proc was archived")
        // The mount-point files are the init layer's empty ones, not the engine's /etc/hosts.
        let hosts = try sh(["/bin/tar", "-xOf", archive, "etc/hosts"])
        #expect(hosts.status == 0 && hosts.stdout.isEmpty)
        #expect(try sh(["/bin/tar", "-xOf", archive, "in-rootfs"]).stdout == "r\n")

        // To stdout: the same archive; never to a terminal.
        let piped = try sh(["/bin/sh", "-c", "\(EngineEnv.berth) --root \(berth.root) --runroot \(berth.runRoot) export live | tar -tf - | wc -l"])
        #expect(Int(Self.trimmed(piped.stdout)) == names.count)
        let tty = try sh(["/usr/bin/script", "-qefc", "\(EngineEnv.berth) --root \(berth.root) --runroot \(berth.runRoot) export live", "/dev/null"])
        #expect(tty.status == 1)
        #expect(tty.stdout.contains("cowardly refusing to save to a terminal. Use the -o flag or redirect"), "\(tty.stdout)")
        #expect(!tty.stdout.contains("ustar"))
    }

    // MARK: Against Docker

    static let dockerReady = FileManager.default.isExecutableFile(atPath: "/usr/sbin/dockerd")
        && FileManager.default.isExecutableFile(atPath: "/usr/bin/docker")

    /// The same steps against a private dockerd (Debian's docker.io) and berth, from the same busybox
    /// tarball imported in both: diff's lines (as sets: Docker's order is a Go map's), export's
    /// names, what the committed image holds and runs, its config and history, the events, errors.
    @Test(.enabled(if: dockerReady, "needs Debian's docker.io"), .timeLimit(.minutes(5)))
    func sameResultsAsDockerd() throws {
        let dir = EngineEnv.scratch("cd")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let steps = #"""
            step() { local n=$1; shift; "$@" > $D/$n.out 2> $D/$n.err; echo $? > $D/$n.rc; }
            T0=$(date +%s)
            dk run --name ch --network none busybox:test sh -c 'echo hi > /newfile; rm /bin/ls; mkdir -p /tmp/d; echo x >> /etc/passwd;
              rm -rf /root; mkdir /root; touch /root/new; mkdir -p /a/b/c; touch /a/b/c/f; chmod 700 /usr; ln -s /newfile /lnk;
              rm -rf /var; mkfifo /fifo; touch /sbin; rm /bin/sed; mkdir /bin/sed' >/dev/null || exit 1
            dk run --name mounts --network none -v /data -w /work busybox:test sh -c 'echo v > /data/inside' >/dev/null || exit 1
            dk run --name none --network none busybox:test true >/dev/null || exit 1
            step diff bash -c 'dk diff ch | sort'
            step diffmounts bash -c 'dk diff mounts | sort'
            step diffnone dk diff none
            step export bash -c 'dk export ch | tar -tf - | grep -v "^.dockerenv$" | sort'
            step exportmounts bash -c 'dk export mounts | tar -tf - | grep -v "^.dockerenv$" | sort'
            step exportnone bash -c 'dk export none | tar -tvf - | grep -E " (etc/(hosts|hostname|resolv.conf|mtab)|dev/console)" | cut -c1-10 | sort'
            step commit dk commit -a 'Ann <ann@x>' -m 'the message' -c 'CMD ["cat", "/newfile"]' -c 'ENV FOO=bar' -c 'EXPOSE 8080' \
              -c 'LABEL team=blue' -c 'WORKDIR /a' -c 'USER 0' -c 'VOLUME /vol' ch committed:1
            step run dk run --rm --network none committed:1
            step probe dk run --rm --network none committed:1 sh -c 'echo $FOO; pwd; ls /bin/ls; ls /root; tail -1 /etc/passwd;
              ls -ld /usr | cut -c1-10; test -e /var || echo no-var; ls -l /lnk | cut -c1; ls -ld /fifo /bin/sed | cut -c1'
            step config dk inspect -f '{{json .Config.Cmd}} {{json .Config.Env}} {{json .Config.ExposedPorts}} {{json .Config.Labels}} {{.Config.WorkingDir}} {{.Config.User}} {{json .Config.Volumes}} {{.Author}}|{{.Comment}} {{len .RootFS.Layers}}' committed:1
            step history bash -c "dk history --no-trunc --format '{{.CreatedBy}}|{{.Comment}}' committed:1 | head -1"
            # A container of the committed image: its whiteouts and opaque directory are a lower layer now.
            dk run --name ch2 --network none committed:1 sh -c 'touch /root/x; rm /newfile; mkdir /bin/ls; rm /lnk; ls /var' >/dev/null 2>&1
            step difflayers bash -c 'dk diff ch2 | sort'
            step exportlayers bash -c 'dk export ch2 | tar -tf - | grep -v "^.dockerenv$" | sort'
            step entrypoint dk commit -c 'ENTRYPOINT ["echo"]' ch ep:1
            step epconfig dk inspect -f '{{json .Config.Cmd}} {{json .Config.Entrypoint}}' ep:1
            step empty dk commit none empty:1
            step emptylayers dk inspect -f '{{len .RootFS.Layers}}' empty:1
            step emptyhistory bash -c "dk history --format '{{.CreatedBy}} {{.Size}}' empty:1 | head -1"
            step events dk events --since $T0 --until $(($(date +%s) + 1)) --filter event=commit --format '{{.Actor.Attributes.name}} {{.Actor.Attributes.comment}} {{.Actor.Attributes.imageRef}}'
            step badrun dk commit -c 'RUN x' ch
            step badexpose dk commit -c 'EXPOSE abc' ch
            step badenv dk commit -c 'ENV' ch
            step missing dk commit nosuch
            step diffmissing dk diff nosuch
            step exportmissing bash -c 'dk export nosuch > /dev/null'
            echo done
            """#
        let docker = #"""
            set -uo pipefail
            source "$2"
            D=$1; SOCK=/run/berth-commit-docker.sock; ER=/run/berth-commit-docker; PF=/run/berth-commit-docker.pid
            dk() { timeout 60 /usr/bin/docker -H unix://$SOCK "$@"; }
            export -f dk; export SOCK
            cleanup() {
              dk rm -f ch ch2 mounts none >/dev/null 2>&1
              if [ -f $PF ]; then p=$(cat $PF); kill $p 2>/dev/null; for _ in $(seq 80); do kill -0 $p 2>/dev/null || break; sleep 0.25; done; fi
              unmount_under "$D"; unmount_under $ER; rm -rf $ER $SOCK
              rmdir /sys/fs/cgroup/*/berth-commit-docker/* /sys/fs/cgroup/*/berth-commit-docker 2>/dev/null || true
            }
            trap cleanup EXIT
            echo '{}' > $D/daemon.json
            # In a network namespace of its own, with no bridge: nothing of the host's network changes.
            unshare --net dockerd --config-file $D/daemon.json --data-root $D/data --exec-root $ER --pidfile $PF -H unix://$SOCK \
              --bridge none --iptables=false --ip-masq=false --exec-opt native.cgroupdriver=cgroupfs \
              --cgroup-parent /berth-commit-docker >$D/dockerd.log 2>&1 &
            wait_for 60 dk version >/dev/null || { tail $D/dockerd.log; exit 1; }
            make_busybox_tar $D/bb.tar && dk import --change 'CMD ["sh"]' $D/bb.tar busybox:test >/dev/null || exit 1

            """# + steps
        // Berth imports the same tarball, so both start from the same image.
        let berth = try BerthEngine(loadBusybox: false)
        defer { berth.remove() }
        let ours = #"""
            set -uo pipefail
            source "$2"
            D=$1; B=$3; R=$4; RR=$5
            dk() { "$B" --root "$R" --runroot "$RR" "$@"; }
            export -f dk; export B R RR
            make_busybox_tar $D/bb.tar && dk import --change 'CMD ["sh"]' $D/bb.tar busybox:test >/dev/null || exit 1

            """# + steps
        let lib = EngineEnv.packageRoot + "/Tests/Scripts/engines/lib.sh"
        for engine in ["docker", "berth"] {
            try FileManager.default.createDirectory(atPath: dir + "/" + engine, withIntermediateDirectories: true)
        }
        let ranDocker = try sh(["/bin/bash", "-c", docker, "bash", dir + "/docker", lib])
        try #require(ranDocker.stdout.contains("done"), "\(ranDocker.stdout)\n\(ranDocker.stderr)")
        let ranBerth = try sh(["/bin/bash", "-c", ours, "bash", dir + "/berth", lib, EngineEnv.berth, berth.root, berth.runRoot])
        try #require(ranBerth.stdout.contains("done"), "\(ranBerth.stdout)\n\(ranBerth.stderr)")

        func read(_ engine: String, _ name: String, _ suffix: String) -> String {
            (try? String(contentsOfFile: dir + "/\(engine)/\(name).\(suffix)", encoding: .utf8)) ?? "-"
        }
        // Same status and output; the same error text (Berth may add to dockerd's words, not change them).
        let names = ["diff", "diffmounts", "diffnone", "export", "exportmounts", "exportnone", "commit", "run", "probe", "config",
                     "history", "difflayers", "exportlayers", "entrypoint", "epconfig", "empty", "emptylayers", "emptyhistory", "events", "badrun", "badexpose",
                     "badenv", "missing", "diffmissing", "exportmissing"]
        let differentOutput: Set = ["commit", "entrypoint", "empty"]  // image IDs
        for name in names {
            #expect(read("docker", name, "rc") == read("berth", name, "rc"),
                    "\(name): docker \(read("docker", name, "rc")) \(read("docker", name, "err")), berth \(read("berth", name, "rc")) \(read("berth", name, "err"))")
            if !differentOutput.contains(name) {
                #expect(read("docker", name, "out") == read("berth", name, "out"), "\(name):\ndocker:\n\(read("docker", name, "out"))\nberth:\n\(read("berth", name, "out"))")
            }
            let theirs = Self.trimmed(read("docker", name, "err"))
            if !theirs.isEmpty {
                #expect(Self.trimmed(read("berth", name, "err")).hasPrefix(theirs), "\(name): docker said \(theirs), berth \(read("berth", name, "err"))")
            }
        }
        // What was compared is what was meant to be.
        #expect(read("docker", "diff", "out").contains("D /bin/ls\n") && read("docker", "diff", "out").contains("C /root\n"))
        #expect(read("docker", "run", "out") == "hi\n")
        #expect(read("docker", "difflayers", "out").contains("A /bin/ls\n") && read("docker", "difflayers", "out").contains("D /newfile\n"))
        for engine in ["docker", "berth"] {
            #expect(read(engine, "commit", "out").range(of: "^sha256:[0-9a-f]{64}\n$", options: .regularExpression) != nil)
        }
    }
}
