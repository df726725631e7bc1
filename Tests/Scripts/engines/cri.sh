#!/usr/bin/env bash
# The path a kubelet takes: containerd's CRI plugin running pods with RUNTIME_PATH, beside runc.
#
#   Tests/Scripts/engines/cri.sh RUNTIME_PATH      e.g. .build/debug/berth-runtime (or /usr/bin/runc)
#
# Starts a private containerd (Debian's 1.6, own root, state dir and socket) with the CRI plugin and
# two runtime handlers, "runc" (/usr/sbin/runc) and "berth" (RUNTIME_PATH), both
# io.containerd.runc.v2 shims with options.BinaryName; a CNI bridge of its own (berth-cri0,
# 10.89.252.0/24) from Debian's plugins; the local registry (Tests/Scripts/registry) as plain HTTP
# through config_path/hosts.toml, holding a busybox image and a pause image built here from
# pause.c (the sandbox_image). cri-client.py (a CRI v1 client from PyPI) then drives the same pods
# through each handler, containerd is restarted under them, and the client stops and removes
# everything; this script checks nothing is left on the host and that berth-runtime answered
# every call the shim made with the exit status runc gave to the same call.
# Needs root, the packages in README.md, gcc and a static libc, skopeo, docker-registry, and the
# Python packages container-runtime-interface-api, grpcio, websocket-client (scripts/test installs them).
set -euo pipefail
cd "$(dirname "$0")"
HERE=$PWD
source ./lib.sh

resolve_runtime "${1:-}"
RUNC=${RUNC:-/usr/sbin/runc}                # the reference handler

WORK=$(engine_workdir cri)                 # containerd's root, config, logs, images, registry
STATE=/run/berth-test-cri                  # containerd's state dir (sockets, shim bundles, netns)
SOCK=$STATE/containerd.sock
# Each handler's options.Root: not the shim's default /run/containerd/runc, where a host containerd
# keeps its own k8s.io containers. The shim gives the runtime --root ROOT/k8s.io (the namespace).
ROOT_RUNC=$STATE/runtime-runc
ROOT_BERTH=$STATE/runtime-berth
CGROUP_PARENT=/berth-test-cri              # absolute: a relative cgroupsPath is taken from the runtime's own cgroup
BRIDGE=berth-cri0                          # not cni0: a host's Kubernetes may be using that
SUBNET=10.89.252.0/24
TIMEOUT=${CMD_TIMEOUT:-300}              # seconds one cri-client.py command may take
# The pip fallback of scripts/test for a Python that refuses installs (PEP 668).
export PYTHONPATH=${CRI_TEST_PYLIB:-/var/lib/berth-cri-tests/python}${PYTHONPATH:+:$PYTHONPATH}
PY=${CRI_TEST_PYTHON:-python3}

[ "$(id -u)" = 0 ] || fail "run as root"
for cmd in containerd containerd-shim-runc-v2 "$RUNC" gcc skopeo docker-registry jq iptables-save "$PY"; do
  command -v "$cmd" >/dev/null || fail "missing $cmd (see README.md)"
done
[ -x /usr/lib/cni/bridge ] || fail "missing /usr/lib/cni/bridge: apt-get install containernetworking-plugins"
"$PY" -c 'import cri_api, grpc, websocket' 2>/dev/null ||
  fail "$PY lacks container-runtime-interface-api, grpcio or websocket-client (scripts/test installs them)"

client() { timeout -k 10 "$TIMEOUT" "$PY" "$HERE/cri-client.py" --socket "$SOCK" "$@"; }

containerd_pid() {
  local pid
  pid=$(cat "$STATE/containerd.pid" 2>/dev/null) && [[ "$(cmdline_of "$pid")" == *"$WORK/config.toml"* ]] && echo "$pid"
}

stop_containerd() {
  local pid
  pid=$(containerd_pid) || return 0
  kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq 1 40); do kill -0 "$pid" 2>/dev/null || break; sleep 0.25; done
  kill -KILL "$pid" 2>/dev/null || true
}

start_containerd() {
  containerd --config "$WORK/config.toml" >>"$WORK/containerd.log" 2>&1 &
  echo $! >"$STATE/containerd.pid"
  if ! wait_for 30 client ready; then
    tail -n 20 "$WORK/containerd.log" | sed 's/^/#   /'
    return 1
  fi
}

teardown() {
  # Pods first, while containerd still runs: the shims and CNI then clean up after them.
  if containerd_pid >/dev/null; then client remove-all >/dev/null 2>&1 || true; fi
  stop_containerd
  # Shims of a killed earlier run name our socket on their command lines.
  kill_procs_mentioning "$SOCK"
  kill_procs_mentioning "$WORK/config.toml"
  reap_runtime_root "$RUNTIME" "$ROOT_BERTH/k8s.io"
  reap_runtime_root "$RUNC" "$ROOT_RUNC/k8s.io"
  "$HERE/../registry/registry.sh" stop "$WORK/registry" >/dev/null 2>&1 || true
  unmount_under "$WORK"
  unmount_under "$STATE"
  restore_host_network "$WORK/hostnet" "$BRIDGE" "$BRIDGE|berth-cri|${SUBNET%.0/24}\\."
  local d
  for d in /sys/fs/cgroup/*"$CGROUP_PARENT" /sys/fs/cgroup"$CGROUP_PARENT"; do
    [ -d "$d" ] && find "$d" -depth -type d -exec rmdir {} + 2>/dev/null
  done
  rm -rf "$WORK" "$STATE"
}

[ -n "${CRI_KEEP:-}" ] || teardown
[ -n "${CRI_KEEP:-}" ] || on_exit teardown
mkdir -p "$WORK" "$STATE"
snapshot_host_network "$WORK/hostnet"

# ---- the runtimes, each behind a wrapper that logs every call -----------------------------------
RT_RUNC=$(BERTH_RUNTIME_LOG=$WORK/calls/runc.log logged_runtime "$RUNC" "$WORK/bin/runc")
RT_BERTH=$(BERTH_RUNTIME_LOG=$WORK/calls/berth.log logged_runtime "$RUNTIME" "$WORK/bin/berth")

# ---- images: busybox and a pause built here, in the local registry ---------------------------
REGISTRY=$("$HERE/../registry/registry.sh" start "$WORK/registry") || fail "the local registry did not start"
gcc -static -Os -o "$WORK/pause" "$HERE/pause.c" || fail "gcc -static pause.c (apt-get install gcc libc6-dev)"
mkdir -p "$WORK/pause-rootfs"
install -m 755 "$WORK/pause" "$WORK/pause-rootfs/pause"
tar -C "$WORK/pause-rootfs" --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner -cf "$WORK/pause.tar" .
PAUSE_IMAGE=$REGISTRY/berth-test/pause:latest
BUSYBOX_IMAGE=$REGISTRY/berth-test/busybox:latest
make_oci_layout "$WORK/pause-oci" "$WORK/pause.tar" "$PAUSE_IMAGE" '{"Entrypoint":["/pause"]}'
make_busybox_tar "$WORK/busybox.tar"
make_oci_layout "$WORK/busybox-oci" "$WORK/busybox.tar" "$BUSYBOX_IMAGE" \
  '{"Cmd":["sh"],"Env":["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"]}'
for image in pause busybox; do
  out=$(skopeo copy -q --dest-tls-verify=false "oci:$WORK/$image-oci:latest" "docker://$REGISTRY/berth-test/$image:latest" 2>&1) ||
    fail "skopeo copy of the $image image to $REGISTRY: $out"
done
ok "pause (gcc -static) and busybox images in the local registry $REGISTRY"

# ---- containerd with the CRI plugin ----------------------------------------------------------------
mkdir -p "$WORK/cni/net.d" "$WORK/certs.d/$REGISTRY" "$WORK/logs" "$ROOT_RUNC" "$ROOT_BERTH"
cat >"$WORK/cni/net.d/10-berth-cri.conflist" <<EOF
{
  "cniVersion": "0.4.0",
  "name": "berth-cri",
  "plugins": [
    { "type": "bridge", "bridge": "$BRIDGE", "isGateway": true, "ipMasq": true, "hairpinMode": true,
      "ipam": { "type": "host-local", "dataDir": "$WORK/cni-ipam", "ranges": [[{ "subnet": "$SUBNET" }]],
                "routes": [{ "dst": "0.0.0.0/0" }] } }
  ]
}
EOF
# The registry over plain HTTP, for pulls by the CRI plugin (sandbox image included).
cat >"$WORK/certs.d/$REGISTRY/hosts.toml" <<EOF
server = "http://$REGISTRY"

[host."http://$REGISTRY"]
  capabilities = ["pull", "resolve"]
EOF
# restrict_oom_score_adj: these VMs' root lacks CAP_SYS_RESOURCE, so an oom_score_adj below the
# runtime's own (the sandbox's -998) cannot be set, by runc either; on a real node leave it false.
# netns_mounts_under_state_dir: the pods' network namespaces live in our state dir, not /var/run/netns.
cat >"$WORK/config.toml" <<EOF
version = 2
root = "$WORK/root"
state = "$STATE"
disabled_plugins = ["io.containerd.snapshotter.v1.aufs", "io.containerd.snapshotter.v1.btrfs",
                    "io.containerd.snapshotter.v1.zfs", "io.containerd.snapshotter.v1.devmapper"]

[grpc]
  address = "$SOCK"

[ttrpc]
  address = "$SOCK.ttrpc"

[debug]
  address = "$STATE/debug.sock"

[plugins."io.containerd.internal.v1.opt"]
  path = "$WORK/opt"

[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "$PAUSE_IMAGE"
  stream_server_address = "127.0.0.1"
  stream_server_port = "0"
  restrict_oom_score_adj = true
  netns_mounts_under_state_dir = true
  enable_selinux = false

  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "/usr/lib/cni"
    conf_dir = "$WORK/cni/net.d"

  [plugins."io.containerd.grpc.v1.cri".registry]
    config_path = "$WORK/certs.d"

  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"

    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        BinaryName = "$RT_RUNC"
        Root = "$ROOT_RUNC"

    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.berth]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.berth.options]
        BinaryName = "$RT_BERTH"
        Root = "$ROOT_BERTH"
EOF
start_containerd || fail "containerd did not come up (log: $WORK/containerd.log)"
ok "containerd with the CRI plugin started"

# results LINES...: counts the client's "ok -" / "not ok -" lines into this script's totals.
results() {
  local line
  while IFS= read -r line; do
    echo "$line"
    case $line in
      "not ok - "*) FAILED=$((FAILED + 1)) ;;
      "ok - "*"# SKIP"*) SKIPPED=$((SKIPPED + 1)) ;;
      "ok - "*) PASSED=$((PASSED + 1)) ;;
    esac
  done
}

host_netns=$(readlink /proc/self/ns/net)
common=(--image "$BUSYBOX_IMAGE" --logs "$WORK/logs" --cgroup-parent "$CGROUP_PARENT" --subnet "$SUBNET" --host-netns "$host_netns")
for handler in runc berth; do
  results < <(client pods --handler "$handler" "${common[@]}" 2>&1 || echo "not ok - [$handler] cri-client.py pods exited $?")
done

# ---- containerd restart under running pods -------------------------------------------------------
stop_containerd
if start_containerd; then ok "containerd restarted"; else not_ok "containerd restarted" "log: $WORK/containerd.log"; fi
for handler in runc berth; do
  results < <(client after-restart --handler "$handler" "${common[@]}" 2>&1 || echo "not ok - [$handler] cri-client.py after-restart exited $?")
done
results < <(client remove-all 2>&1 || echo "not ok - cri-client.py remove-all exited $?")

# ---- nothing left ----------------------------------------------------------------------------------
sleep 0.5
expect_eq "nothing left: runc list" "" "$("$RUNC" --root "$ROOT_RUNC/k8s.io" list -q 2>&1)"
expect_eq "nothing left: berth-runtime list" "" "$("$RUNTIME" --root "$ROOT_BERTH/k8s.io" list -q 2>&1)"
expect_eq "nothing left: berth-runtime's --root holds nothing but containers (no caches)" "" "$(ls -A "$ROOT_BERTH/k8s.io" 2>&1)"
expect_eq "nothing left: shim bundles" "" "$(ls -A "$STATE/io.containerd.runtime.v2.task/k8s.io" 2>/dev/null)"
shims=()
for p in /proc/[0-9]*; do
  [[ "$(cmdline_of "${p#/proc/}")" == *containerd-shim*"$SOCK"* ]] && shims+=("${p#/proc/}")
done
expect_eq "nothing left: shims" "" "${shims[*]}"
expect_eq "nothing left: mounts under $STATE and $WORK/root" "" \
  "$(awk -v s="$STATE/" -v w="$WORK/root/" 'index($5, s) == 1 || index($5, w) == 1 { print $5 }' /proc/self/mountinfo)"
expect_eq "nothing left: network namespaces" "" "$(find "$STATE" -path '*netns*' -type f 2>/dev/null)"
expect_eq "nothing left: veths on $BRIDGE" "" "$(ip -o link show master "$BRIDGE" 2>/dev/null)"
expect_eq "nothing left: container cgroups under $CGROUP_PARENT" "" \
  "$(find /sys/fs/cgroup/*"$CGROUP_PARENT" /sys/fs/cgroup"$CGROUP_PARENT" -mindepth 2 -type d 2>/dev/null)"
expect_eq "nothing left: iptables rules of the pods' network" "" \
  "$(iptables-save 2>/dev/null | grep -E -- "berth-cri|${SUBNET%.0/24}\\." | grep -vE '^(#|:)')"

# ---- berth-runtime answered every call as runc did -------------------------------------------------
out=$("$PY" "$HERE/cri-client.py" compare-calls "$WORK/calls/runc.log" "$WORK/calls/berth.log" 2>&1) && rc=0 || rc=$?
if [ "$rc" = 0 ]; then
  ok "berth-runtime's exit status equals runc's for every call the shim made ($(echo "$out" | tail -n 1))"
else
  mapfile -t lines <<<"$out"
  not_ok "berth-runtime's exit status equals runc's for every call the shim made" "${lines[@]}"
fi

finish
