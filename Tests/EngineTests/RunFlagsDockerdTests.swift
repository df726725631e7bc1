import Foundation
import TestSupport
import Testing

let dockerdAndModernCLI = FileManager.default.isExecutableFile(atPath: "/usr/sbin/dockerd")
    && FileManager.default.isExecutableFile(atPath: "/usr/local/bin/docker")

/// The run flags and CLI behaviours of issue 17 against a private dockerd (Debian's docker.io,
/// driven by the docker 28 CLI): the same script under both engines, the same statuses, the same
/// output and the same error texts (less the program's name and the IDs).
@Suite(.enabled(if: EngineEnv.ready && dockerdAndModernCLI, "needs Debian's dockerd and the docker 28 CLI"), .serialized)
struct RunFlagsDockerdTests {
    static let engineLib = EngineEnv.packageRoot + "/Tests/Scripts/engines/lib.sh"

    /// Each step's status, output and error output, in files named after it.
    static let steps = #"""
        step() { local n=$1; shift; "$@" > $D/$n.out 2> $D/$n.err; echo $? > $D/$n.rc; }
        dk run -d --name donor --ipc shareable busybox:test sh -c 'echo hi > /dev/shm/f; sleep 300' >/dev/null || exit 1
        dk run -d --name web --expose 80 --expose 53/udp -e FOO=bar busybox:test sleep 300 >/dev/null || exit 1
        dk run -d --name private busybox:test sleep 300 >/dev/null || exit 1
        dk run --name ended busybox:test true || exit 1
        dk run --name vsrc -v vfvol:/data busybox:test sh -c 'echo v > /data/f' || exit 1
        for _ in $(seq 100); do dk exec donor test -e /dev/shm/f && break; sleep 0.1; done
        step pidhost dk run --rm --pid host busybox:test cat /proc/1/comm
        step pidjoin dk run --rm --pid container:donor busybox:test cat /proc/1/comm
        step pidended dk run --rm --pid container:ended busybox:test true
        step ipcjoin dk run --rm --ipc container:donor busybox:test cat /dev/shm/f
        step ipcprivate dk run --rm --ipc container:private busybox:test true
        step ipcnone dk run --rm --ipc none busybox:test ls /dev/shm
        step ipcbad dk run --rm --ipc bogus busybox:test true
        step utshost dk run --rm --uts host busybox:test hostname
        step utsconflict dk run --rm --uts host -h foo busybox:test true
        step volfrom dk run --rm --volumes-from vsrc:ro busybox:test sh -c 'cat /data/f; touch /data/x'
        step volfrommissing dk run --rm --volumes-from nosuch busybox:test true
        step link dk run --rm --link web:w busybox:test sh -c "grep -w w /etc/hosts | awk '{print NF, \$2, \$4}'; env | grep ^W_ | sed 's/=.*//' | sort"
        step linkended dk run --rm --link ended busybox:test true
        step linkmissing dk run --rm --link nosuch busybox:test true
        step cid1 dk run --rm --cidfile $D/cid busybox:test true
        cidlen() { wc -c < $D/cid; }
        step cidlen cidlen
        step cid2 dk run --rm --cidfile $D/cid busybox:test true
        step attach dk run --rm -a stdout busybox:test sh -c 'echo out; echo err >&2'
        step attachdetach dk run -d -a stdout busybox:test true
        step notty dk run -it busybox:test true
        dk run --name quiet --log-driver none busybox:test echo hi > /dev/null
        step lognone dk logs quiet
        step lognoneopt dk run --rm --log-driver none --log-opt max-size=1m busybox:test true
        step logbogus dk run --rm --log-driver bogus busybox:test true
        step loglocal dk run --rm --log-driver local --log-opt tag=x busybox:test true
        step platform dk run --rm --pull never --platform linux/arm64 busybox:test true
        step platformbad dk run --rm --platform bogus busybox:test true
        step oomdisable dk run --rm --oom-kill-disable busybox:test head -1 /sys/fs/cgroup/memory/memory.oom_control
        step gpus dk run --rm --gpus all busybox:test true
        T0=$(date +%s)
        step oom dk run --name hog -m 8m --memory-swap 8m busybox:test sh -c 'head -c 200m /dev/zero | tail'
        step oomkilled dk inspect -f '{{.State.OOMKilled}} {{.State.ExitCode}}' hog
        evs() { dk events --since $T0 --until $(( $(date +%s) + 1 )) --filter container=hog --filter type=container --format '{{.Action}}' | uniq; }
        step oomevents evs
        step inspectnone dk inspect nosuch
        step template dk inspect -f '{{.Nosuch}}' web
        step templatechain dk inspect -f 'x{{json .State.Nosuch}}' web
        step templatemap dk inspect -f '{{.Config.Labels.nosuch}}' web
        step templateparse dk inspect -f '{{foo}}' web
        step unknown dk nosuch
        echo done
        """#

    @Test(.timeLimit(.minutes(5)))
    func sameAsDockerd() throws {
        let dir = EngineEnv.scratch("rfd")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let docker = #"""
            set -uo pipefail
            source "$2"
            D=$1; SOCK=/run/berth-rfd-docker.sock; ER=/run/berth-rfd-docker; PF=/run/berth-rfd-docker.pid
            dk() { timeout 60 /usr/local/bin/docker -H unix://$SOCK "$@"; }
            cleanup() {
              dk rm -f $(dk ps -aq) >/dev/null 2>&1
              if [ -f $PF ]; then p=$(cat $PF); kill $p 2>/dev/null; for _ in $(seq 80); do kill -0 $p 2>/dev/null || break; sleep 0.25; done; fi
              unmount_under "$D"; unmount_under $ER; rm -rf $ER $SOCK
              rmdir /sys/fs/cgroup/*/berth-rfd-docker/* /sys/fs/cgroup/*/berth-rfd-docker 2>/dev/null || true
            }
            trap cleanup EXIT
            echo '{}' > $D/daemon.json
            # A network namespace of its own: its docker0 and iptables rules never touch the host's.
            unshare --net dockerd --config-file $D/daemon.json --data-root $D/data --exec-root $ER --pidfile $PF -H unix://$SOCK \
              --exec-opt native.cgroupdriver=cgroupfs --cgroup-parent /berth-rfd-docker >$D/dockerd.log 2>&1 &
            wait_for 60 dk version >/dev/null || { tail $D/dockerd.log; exit 1; }
            make_busybox_tar $D/bb.tar && dk import --change 'CMD ["sh"]' $D/bb.tar busybox:test >/dev/null || exit 1

            """# + Self.steps
        let berth = try BerthEngine()
        defer { berth.remove() }
        let ours = #"""
            set -uo pipefail
            D=$1; B=$3; R=$4; RR=$5
            dk() { "$B" --root "$R" --runroot "$RR" "$@"; }
            """# + "\n" + Self.steps
        for engine in ["docker", "berth"] {
            try FileManager.default.createDirectory(atPath: dir + "/" + engine, withIntermediateDirectories: true)
        }
        let ranDocker = try sh(["/bin/bash", "-c", docker, "bash", dir + "/docker", Self.engineLib])
        try #require(ranDocker.stdout.contains("done"), "\(ranDocker.stdout)\n\(ranDocker.stderr)")
        let ranBerth = try sh(["/bin/bash", "-c", ours, "bash", dir + "/berth", "", EngineEnv.berth, berth.root, berth.runRoot])
        try #require(ranBerth.stdout.contains("done"), "\(ranBerth.stdout)\n\(ranBerth.stderr)")

        func read(_ engine: String, _ name: String, _ kind: String) -> String {
            (try? String(contentsOfFile: dir + "/\(engine)/\(name).\(kind)", encoding: .utf8)) ?? "<missing>"
        }
        /// The first line of an error, without the program's name, its IDs and its scratch directory.
        func normalized(_ engine: String, _ text: String) -> String {
            var line = text.split(separator: "\n").first.map(String.init) ?? ""
            for prefix in ["docker: ", "berth: "] where line.hasPrefix(prefix) { line.removeFirst(prefix.count) }
            line = line.replacingOccurrences(of: dir + "/" + engine, with: "D")
            line = line.replacingOccurrences(of: "[0-9a-f]{64}", with: "ID", options: .regularExpression)
            line = line.replacingOccurrences(of: #"AS /[a-z_]+/"#, with: "AS /NAME/", options: .regularExpression)
            return line.replacingOccurrences(of: "docker", with: "berth")
        }
        let sameOutput: Set = ["pidhost", "pidjoin", "ipcjoin", "utshost", "volfrom", "link", "cidlen", "attach", "lognone",
                               "oomdisable", "oomkilled", "oomevents", "inspectnone", "template", "templatechain", "templatemap"]
        let sameError: Set = ["pidended", "ipcprivate", "ipcnone", "ipcbad", "utsconflict", "volfrom", "volfrommissing", "linkended",
                              "linkmissing", "cid2", "attach", "attachdetach", "notty", "lognone", "lognoneopt", "logbogus", "loglocal",
                              "platform", "platformbad", "oomdisable", "gpus", "inspectnone", "template", "templatechain", "templateparse", "unknown"]
        let names = ["pidhost", "pidjoin", "pidended", "ipcjoin", "ipcprivate", "ipcnone", "ipcbad", "utshost", "utsconflict", "volfrom",
                     "volfrommissing", "link", "linkended", "linkmissing", "cid1", "cidlen", "cid2", "attach", "attachdetach", "notty",
                     "lognone", "lognoneopt", "logbogus", "loglocal", "platform", "platformbad", "oomdisable", "gpus", "oom", "oomkilled",
                     "oomevents", "inspectnone", "template", "templatechain", "templatemap", "templateparse", "unknown"]
        for name in names {
            let theirs = read("docker", name, "rc"), mine = read("berth", name, "rc")
            #expect(theirs == mine, "\(name): docker exited \(theirs) (\(read("docker", name, "err"))), berth \(mine) (\(read("berth", name, "err")))")
            if sameOutput.contains(name) {
                #expect(read("docker", name, "out") == read("berth", name, "out"), "\(name): docker printed \(read("docker", name, "out")), berth \(read("berth", name, "out"))")
            }
            if sameError.contains(name) {
                let theirs = normalized("docker", read("docker", name, "err")), mine = normalized("berth", read("berth", name, "err"))
                #expect(theirs == mine, "\(name): docker said \(theirs), berth \(mine)")
            }
        }
        // What the steps saw, so that agreeing on nothing cannot pass.
        #expect(read("berth", "pidjoin", "out") == "sleep\n")
        #expect(read("berth", "ipcjoin", "out") == "hi\n")
        #expect(read("berth", "volfrom", "out") == "v\n")
        #expect(read("berth", "link", "out").hasPrefix("4 w web\nW_ENV_FOO\nW_NAME\n"))
        #expect(read("berth", "cidlen", "out") == "64\n")
        #expect(read("berth", "oom", "rc") == "137\n" && read("berth", "oomkilled", "out") == "true 137\n")
        #expect(read("berth", "oomevents", "out") == "create\nattach\nstart\noom\ndie\n")
        #expect(read("berth", "inspectnone", "out") == "[]\n")
    }
}
