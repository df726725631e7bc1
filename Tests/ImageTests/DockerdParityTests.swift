import Foundation
import TestSupport
import Testing

/// Pull, push and image sizes beside Debian's dockerd (20.10, overlay2): the same images from a
/// local registry each, the same commands, the same words and the same numbers.
@Suite(.enabled(if: ImageEnv.ready && ImageEnv.dockerReady, "needs root, a built berth, docker-registry, skopeo, umoci and Debian's docker.io"))
struct DockerdParityTests {
    /// Runs inside a network namespace of its own (`unshare --net`): the registries, dockerd (no
    /// bridge, no iptables) and berth all talk over its loopback, and nothing of the host's
    /// network changes. Each engine gets a registry of its own holding the same images.
    static let script = ImageEnv.makeRichRootfs + "\n" + #"""
        set -uo pipefail
        ROOT=$1; W=$2; BERTH=$3; BUSYBOX_LAYOUT=$4
        source "$ROOT/Tests/Scripts/engines/lib.sh"
        REG=$ROOT/Tests/Scripts/registry
        SOCK=/run/berth-images-docker.sock; ER=/run/berth-images-docker; PF=/run/berth-images-docker.pid
        cleanup() {
          if [ -f $PF ]; then p=$(cat $PF); kill $p 2>/dev/null; for _ in $(seq 80); do kill -0 $p 2>/dev/null || break; sleep 0.25; done; fi
          unmount_under "$W"; unmount_under $ER; rm -rf $ER $SOCK $PF
          rmdir /sys/fs/cgroup/*/berth-images-docker 2>/dev/null
          for r in "$W"/reg-*; do bash "$REG/registry.sh" stop "$r"; done
        }
        trap cleanup EXIT
        ip link set lo up || exit 1
        export DOCKER_CONFIG=$W/docker-config; mkdir -p "$DOCKER_CONFIG"

        # busybox; "rich": busybox and a layer of the rootfs above; "rich2": rich's layers, another config.
        cp -r "$BUSYBOX_LAYOUT" "$W/bb" || exit 1
        make_rich "$W/rich" "$W/expected-rich"
        tar -C "$W/rich" --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner -cf "$W/rich.tar" . || exit 1
        cp -r "$W/bb" "$W/rich-image" && umoci raw add-layer --image "$W/rich-image:latest" "$W/rich.tar" || exit 1
        cp -r "$W/rich-image" "$W/rich2-image" && umoci config --image "$W/rich2-image:latest" --config.cmd echo || exit 1

        registry() {
          local addr pair
          addr=$(bash "$REG/registry.sh" start "$W/reg-$1") || return 1
          for pair in bb:base/busybox:latest bb:base/busybox:second rich-image:base/rich:latest rich2-image:base/rich2:latest; do
            skopeo copy -q --dest-tls-verify=false "oci:$W/${pair%%:*}:latest" "docker://$addr/${pair#*:}" >/dev/null || return 1
          done
          echo "$addr"
        }

        steps() {
          local O=$1 A=$2
          mkdir -p "$O"; echo "$A" > "$O/address"
          step() { local n=$1; shift; "$@" > "$O/$n.out" 2> "$O/$n.err"; echo $? > "$O/$n.rc"; }
          step pull-new dk pull "$A/base/busybox:latest"
          step pull-again dk pull "$A/base/busybox:latest"
          step pull-tag dk pull "$A/base/busybox:second"
          step pull-rich dk pull "$A/base/rich:latest"
          step pull-rich2 dk pull "$A/base/rich2:latest"
          step sizes dk image inspect -f '{{.Size}}' "$A/base/busybox:latest" "$A/base/rich:latest" "$A/base/rich2:latest"
          step images dk images --format '{{.Repository}}:{{.Tag}} {{.Size}}'
          step history dk history --format '{{.Size}}' "$A/base/rich:latest"
          step df dk system df --format '{{.Type}} {{.TotalCount}} {{.Size}} {{.Reclaimable}}'
          dk tag "$A/base/rich:latest" "$A/copy/rich:v1"
          step push-new dk push "$A/copy/rich:v1"
          step push-again dk push "$A/copy/rich:v1"
          # Untagged from the repository it came from: its blobs are known from another image's.
          dk tag "$A/base/rich2:latest" "$A/mine/rich2:v1" && dk rmi "$A/base/rich2:latest" >/dev/null
          step push-shared dk push "$A/mine/rich2:v1"
        }

        ADDR=$(registry docker) || { echo "the registry for docker did not start"; exit 1; }
        echo '{}' > "$W/daemon.json"
        dockerd --config-file "$W/daemon.json" --data-root "$W/docker-data" --exec-root $ER --pidfile $PF -H unix://$SOCK \
          --bridge none --iptables=false --ip-masq=false --exec-opt native.cgroupdriver=cgroupfs \
          --cgroup-parent /berth-images-docker >"$W/dockerd.log" 2>&1 &
        dk() { timeout 120 /usr/bin/docker -H unix://$SOCK "$@"; }
        wait_for 60 dk version || { tail "$W/dockerd.log"; exit 1; }
        steps "$W/docker" "$ADDR"

        ADDR=$(registry berth) || { echo "the registry for berth did not start"; exit 1; }
        dk() { timeout 120 "$BERTH" --root "$W/berth-root" --runroot "$W/berth-run" "$@"; }
        steps "$W/berth" "$ADDR"
        echo done
        """#

    /// Progress output taken apart: the lines without a layer ID in order, and each layer's
    /// statuses in order (layers run at once, so their lines interleave as they happen to).
    static func shape(_ text: String) -> (general: [String], layers: [String: [String]]) {
        var general: [String] = []
        var layers: [String: [String]] = [:]
        for line in text.split(separator: "\n").map(String.init) {
            let parts = line.split(separator: ":", maxSplits: 1).map(String.init)
            if parts.count == 2, parts[0].count == 12, parts[0].allSatisfy(\.isHexDigit) {
                let status = parts[1].trimmingCharacters(in: .whitespaces)
                // dockerd hands its watchers only the latest status of a transfer, so this one, shown
                // between two others, is sometimes skipped.
                if status == "Verifying Checksum" { continue }
                layers[parts[0], default: []].append(status)
            } else {
                general.append(line)
            }
        }
        return (general, layers)
    }

    @Test(.timeLimit(.minutes(5)))
    func pullPushAndSizesAsDockerdSaysThem() throws {
        let dir = try ImageEnv.temporaryDirectory("parity")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let ran = try sh(["/usr/bin/unshare", "--net", "/bin/bash", "-c", Self.script, "bash", ImageEnv.packageRoot, dir, ImageEnv.berth,
                          ImageEnv.busyboxLayout])
        try #require(ran.stdout.hasSuffix("done\n"), "\(ran.stdout)\n\(ran.stderr)")

        func read(_ engine: String, _ name: String) -> String {
            (try? String(contentsOfFile: "\(dir)/\(engine)/\(name)", encoding: .utf8)) ?? ""
        }
        // Each engine had its own registry: one name for both in what is compared.
        func output(_ engine: String, _ step: String) -> String {
            let address = read(engine, "address").trimmingCharacters(in: .whitespacesAndNewlines)
            #expect(read(engine, step + ".rc") == "0\n", "\(engine) \(step): \(read(engine, step + ".err"))")
            return read(engine, step + ".out").replacingOccurrences(of: address, with: "REGISTRY")
        }

        // Pulls: the same lines. A tag of an image already here lists no layers and says
        // "Downloaded newer image"; a new image whose layers are all here says "Already exists".
        for step in ["pull-new", "pull-again", "pull-tag", "pull-rich", "pull-rich2"] {
            let docker = Self.shape(output("docker", step)), berth = Self.shape(output("berth", step))
            #expect(berth.general == docker.general, "\(step)")
            #expect(berth.layers == docker.layers, "\(step)")
        }
        #expect(output("berth", "pull-tag").contains("Status: Downloaded newer image for REGISTRY/base/busybox:second"))
        #expect(!output("berth", "pull-tag").contains("Already exists"))
        #expect(Self.shape(output("berth", "pull-rich2")).layers.values.allSatisfy { $0 == ["Already exists"] })

        // Sizes: the unpacked content of the layers, as dockerd measures it, in every view.
        for step in ["sizes", "history", "df"] {
            #expect(output("berth", step) == output("docker", step), "\(step)")
        }
        let lines = { (text: String) in text.split(separator: "\n").map(String.init).sorted() }
        #expect(lines(output("berth", "images")) == lines(output("docker", "images")))
        // And counted apart from both: the rich layer's files by find.
        let sizes = output("berth", "sizes").split(separator: "\n").compactMap { Int64($0) }
        let expected = Int64((try? String(contentsOfFile: dir + "/expected-rich", encoding: .utf8))?
            .trimmingCharacters(in: .whitespacesAndNewlines) ?? "")
        try #require(sizes.count == 3 && expected != nil)
        #expect(sizes[1] - sizes[0] == expected)

        // Pushes: each layer by its diffID, "Preparing" then what became of it; no config line.
        for step in ["push-new", "push-again", "push-shared"] {
            let docker = Self.shape(output("docker", step)), berth = Self.shape(output("berth", step))
            // Which repository a blob is mounted from is each engine's pick among those that have it.
            func mountless(_ layers: [String: [String]]) -> [String: [String]] {
                layers.mapValues { $0.map { $0.hasPrefix("Mounted from base/") || $0.hasPrefix("Mounted from copy/") ? "Mounted from" : $0 } }
            }
            #expect(mountless(berth.layers) == mountless(docker.layers), "\(step): \(berth.layers) against \(docker.layers)")
            #expect(berth.layers.count == 2, "\(step)")
            // Docker writes a manifest of its own; berth pushes the one it pulled, so digests differ.
            #expect(berth.general.first == docker.general.first)
            #expect(berth.general.count == 2 && docker.general.count == 2)
            #expect(berth.general.last?.wholeMatch(of: /v1: digest: sha256:[0-9a-f]{64} size: [0-9]+/) != nil, "\(berth.general)")
        }
        #expect(Self.shape(output("berth", "push-again")).layers.values.allSatisfy { $0 == ["Preparing", "Layer already exists"] })
        #expect(Self.shape(output("berth", "push-new")).layers.values.allSatisfy { $0.last?.hasPrefix("Mounted from base/") == true })
        #expect(Self.shape(output("berth", "push-shared")).layers.values.allSatisfy { $0.last?.hasPrefix("Mounted from ") == true })
    }
}

extension ImageEnv {
    static let dockerReady = has("dockerd") && has("docker") && has("unshare") && has("ip")

    /// A rootfs whose unpacked size is not its tar's: 300 small files, a hard link, symlinks, an
    /// empty and a sparse file. `$1` is the directory; its size by Docker's rule (every
    /// non-directory's length, each inode once), counted with find, goes to `$2`.
    static let makeRichRootfs = #"""
        make_rich() {
          local R=$1; mkdir -p "$R/d/sub"
          for i in $(seq 1 300); do head -c $((i * 7)) /dev/urandom > "$R/d/f$i"; done
          : > "$R/empty"; head -c 5000 /dev/urandom > "$R/hard1"; ln "$R/hard1" "$R/d/sub/hard2"
          ln -s /some/long/target/path "$R/link1"; ln -s d/f1 "$R/link2"; truncate -s 1000000 "$R/sparse"
          find "$R" ! -type d -printf '%i %s\n' | sort -u -k1,1 | awk '{ s += $2 } END { print s }' > "$2"
        }
        """#
}
