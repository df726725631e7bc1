#!/usr/bin/env bash
# Drives Podman (Debian's podman, with conmon) with RUNTIME_PATH as its OCI runtime
# ("podman --runtime RUNTIME_PATH ...").
#
#   Tests/Scripts/engines/podman.sh RUNTIME_PATH          e.g. /usr/bin/runc or .build/debug/berth-runtime
#
# Podman has no daemon: each podman command starts conmon, which runs the runtime. Everything it
# stores goes to this script's own places (--root, --runroot, --tmpdir, a containers.conf named by
# CONTAINERS_CONF, a storage.conf named by CONTAINERS_STORAGE_CONF, its own CNI config dir), so
# /etc and any other Podman are left alone. Every invocation of the runtime is appended to
# $BERTH_RUNTIME_LOG when that is set. Needs root and the packages in Tests/Scripts/engines/README.md.
# shellcheck disable=SC2016  # "$..." in single quotes is for the container's shell to expand
set -euo pipefail
cd "$(dirname "$0")"
source ./lib.sh

resolve_runtime "${1:-}"

WORK=$(engine_workdir podman)            # --root (images, containers), configs, network snapshot
RUNROOT=/run/berth-test-podman           # --runroot and --tmpdir: conmon pid files, exit files, locks
IMAGE=localhost/berth-test/busybox:latest
TIMEOUT=${CMD_TIMEOUT:-60}
NETWORK=${PODMAN_NETWORK:-bridge}        # "none": containers get no network (netns = "none")
PODMAN_BRIDGE=berth-pmsh0                # not cni-podman0: Berth's Podman peer tests may be using that one now

[ "$(id -u)" = 0 ] || fail "run as root"
for cmd in podman conmon script tar; do command -v "$cmd" >/dev/null || fail "missing $cmd (see README.md)"; done

export CONTAINERS_CONF=$WORK/containers.conf
export CONTAINERS_STORAGE_CONF=$WORK/storage.conf

# The global flags go on every call, and podman hands them on to the "podman container cleanup"
# that conmon runs when a container exits.
PODMAN=(podman --runtime "$RUNTIME" --root "$WORK/root" --runroot "$RUNROOT/storage"
  --tmpdir "$RUNROOT/libpod" --storage-driver overlay --cgroup-manager cgroupfs --events-backend file)
pm() { timeout -k 10 "$TIMEOUT" "${PODMAN[@]}" "$@"; }

teardown() {
  # Containers first (podman stops them through conmon and the runtime), then any conmon or
  # container a killed earlier run left, then mounts and files.
  if [ -d "$WORK/root" ] && [ -e "$CONTAINERS_CONF" ]; then
    timeout 60 "${PODMAN[@]}" rm -af -t 0 >/dev/null 2>&1 || true
  fi
  kill_procs_mentioning "$RUNROOT/"
  # Podman gives the runtime no --root: its containers are in the runtime's default root, among
  # others'; ours are the ones whose bundle is under our --root.
  reap_runtime_root "$RUNTIME" "" "$WORK/"
  unmount_under "$WORK"
  unmount_under "$RUNROOT"
  restore_host_network "$WORK/hostnet" "$PODMAN_BRIDGE" "$PODMAN_BRIDGE|10\.89\.254\."
  rmdir /sys/fs/cgroup/*/libpod_parent/* /sys/fs/cgroup/*/libpod_parent 2>/dev/null || true
  rm -rf "$WORK" "$RUNROOT"
}

teardown
on_exit teardown
mkdir -p "$WORK" "$RUNROOT"
RT=$(logged_runtime "$RUNTIME" "$WORK/bin")
PODMAN[2]=$RT

# ---- configuration -------------------------------------------------------------------------------
# default_ulimits: without it Podman (as root) asks for RLIMIT_NOFILE 1048576, above this machine's
# hard limit (20000), and the sandbox has no CAP_SYS_RESOURCE to raise it: every create fails with
# "error setting rlimit type 7: operation not permitted". Fixed, modest values work everywhere.
# cgroupfs, file events and k8s-file logs: there is no systemd (and so no journald) here.
# runtime_supports_json: Podman passes "--log-format=json --log FILE" to runtimes it knows by name
# (crun, runc, ...); the runtime under test gets the same treatment whatever its file name.
# The CNI config is our own copy of Debian's, with the IPAM leases kept in our work dir.
mkdir -p "$WORK/cni"
cat >"$CONTAINERS_CONF" <<EOF
[containers]
default_ulimits = ["nofile=1024:1024", "nproc=4096:4096"]
log_driver = "k8s-file"
$([ "$NETWORK" = none ] && echo 'netns = "none"')

[engine]
cgroup_manager = "cgroupfs"
events_logger = "file"
events_logfile_path = "$WORK/events.log"
runtime_supports_json = ["$(basename "$RUNTIME")", "crun", "runc", "kata", "runsc", "youki", "krun"]

[network]
network_backend = "cni"
network_config_dir = "$WORK/cni"
EOF
cat >"$CONTAINERS_STORAGE_CONF" <<EOF
[storage]
driver = "overlay"
graphroot = "$WORK/root"
runroot = "$RUNROOT/storage"
EOF
cat >"$WORK/cni/87-podman-bridge.conflist" <<EOF
{
  "cniVersion": "0.4.0",
  "name": "podman",
  "plugins": [
    { "type": "bridge", "bridge": "$PODMAN_BRIDGE", "isGateway": true, "ipMasq": true, "hairpinMode": true,
      "ipam": { "type": "host-local", "dataDir": "$WORK/cni-ipam",
                "routes": [{ "dst": "0.0.0.0/0" }],
                "ranges": [[{ "subnet": "10.89.254.0/24", "gateway": "10.89.254.1" }]] } },
    { "type": "portmap", "capabilities": { "portMappings": true } },
    { "type": "firewall" },
    { "type": "tuning" }
  ]
}
EOF
snapshot_host_network "$WORK/hostnet"

out=$(pm info --format '{{.Host.OCIRuntime.Path}} {{.Host.CgroupManager}} {{.Host.CgroupsVersion}} {{.Store.GraphDriverName}}' 2>&1) ||
  fail "podman info: $out"
ok "podman info: $out"

# ---- image ---------------------------------------------------------------------------------------
make_busybox_tar "$WORK/busybox.tar"
out=$(pm import --change 'CMD ["sh"]' "$WORK/busybox.tar" "$IMAGE" 2>&1) || fail "podman import: $out"
ok "podman import of a busybox rootfs as $IMAGE"

# ---- run: output, exit codes, stdin, tty ---------------------------------------------------------
out=$(pm run --rm "$IMAGE" echo hello 2>&1) && rc=0 || rc=$?
expect_eq "run: output of echo hello" "hello" "$out"
expect_eq "run: exit code 0" 0 "$rc"

out=$(pm run --rm "$IMAGE" sh -c 'exit 3' 2>&1) && rc=0 || rc=$?
expect_eq "run: exit code of sh -c 'exit 3'" 3 "$rc"

out=$(pm run --rm "$IMAGE" sh -c 'echo out; echo err >&2' 2>/dev/null) || true
expect_eq "run: stdout and stderr kept apart" "out" "$out"

out=$(echo piped | pm run --rm -i "$IMAGE" cat 2>&1) || true
expect_eq "run -i: stdin reaches the container" "piped" "$out"

out=$(with_tty timeout -k 10 "$TIMEOUT" "${PODMAN[@]}" run --rm -t "$IMAGE" tty 2>&1 | tty_line) || true
expect_match "run -t: tty inside is a pty" '^/dev/pts/[0-9]+$' "$out"

out=$(pm run --rm --hostname berth-box "$IMAGE" hostname 2>&1) || true
expect_eq "run --hostname" "berth-box" "$out"
out=$(pm run --rm "$IMAGE" sh -c 'echo $$' 2>&1) || true
expect_eq "run: the command is pid 1 (own pid namespace)" 1 "$out"
out=$(pm run --rm "$IMAGE" sh -c 'ulimit -n' 2>&1) || true
expect_eq "run: default_ulimits from containers.conf (nofile 1024)" 1024 "$out"
out=$(pm run --rm --memory 32m "$IMAGE" cat /sys/fs/cgroup/memory/memory.limit_in_bytes 2>&1) || true
expect_eq "run --memory 32m: memory.limit_in_bytes inside" 33554432 "$out"

if [ "$NETWORK" = bridge ]; then
  out=$(pm run --rm "$IMAGE" ip -o -4 addr show eth0 2>&1) || true
  expect_match "run: default (CNI bridge) network gives eth0 an address" 'inet 10\.89\.254\.' "$out"
else
  skip "run: default (CNI bridge) network" "PODMAN_NETWORK=$NETWORK"
fi

# create, init (the runtime's create alone), then start -a (the runtime's start).
if out=$(pm create --name berth-test-created "$IMAGE" echo created-then-started 2>&1); then
  check "init (create without start)" pm init berth-test-created
  expect_eq "inspect after init: State.Status" initialized "$(pm inspect -f '{{.State.Status}}' berth-test-created 2>&1)"
  out=$(pm ps -a --sync --filter name=berth-test-created --format '{{.Status}}' 2>&1) || true
  expect_match "ps --sync" '^(Initialized|Created)' "$out"
  expect_eq "start -a: output" "created-then-started" "$(pm start -a berth-test-created 2>&1)"
  pm rm -f berth-test-created >/dev/null 2>&1 || true
else
  not_ok "create" "$out"
fi

# ---- a detached container: logs, exec, pause, update, stop -----------------------------------
BG=berth-test-bg
pm rm -f -t 0 "$BG" >/dev/null 2>&1 || true   # a failed earlier run -d leaves a container of that name
if out=$(pm run -d --name "$BG" "$IMAGE" \
  sh -c 'echo started; trap "echo stopping; exit 0" TERM; sleep 1000 & wait' 2>&1); then
  ok "run -d"
else
  not_ok "run -d" "$out"
fi

if wait_for 10 sh -c "$(printf '%q ' "${PODMAN[@]}") logs $BG 2>&1 | grep -q started"; then
  ok "logs of a detached container"
else
  not_ok "logs of a detached container" "$(pm logs "$BG" 2>&1)"
fi
expect_eq "inspect: State.Running" true "$(pm inspect -f '{{.State.Running}}' "$BG" 2>&1)"
expect_eq "inspect: OCIRuntime is ours" "$RT" "$(pm inspect -f '{{.OCIRuntime}}' "$BG" 2>&1)"
expect_match "ps --sync: up" '^Up' "$(pm ps --sync --filter "name=$BG" --format '{{.Status}}' 2>&1)"

out=$(pm exec "$BG" echo in-exec 2>&1) && rc=0 || rc=$?
expect_eq "exec: output" "in-exec" "$out"
expect_eq "exec: exit code 0" 0 "$rc"
out=$(pm exec "$BG" sh -c 'exit 5' 2>&1) && rc=0 || rc=$?
expect_eq "exec: exit code of sh -c 'exit 5'" 5 "$rc"
out=$(echo exec-stdin | pm exec -i "$BG" cat 2>&1) || true
expect_eq "exec -i: stdin" "exec-stdin" "$out"
out=$(with_tty timeout -k 10 "$TIMEOUT" "${PODMAN[@]}" exec -t "$BG" tty 2>&1 | tty_line) || true
expect_match "exec -t: tty inside is a pty" '^/dev/pts/[0-9]+$' "$out"
out=$(pm exec -u 65534 -w /tmp -e FOO=bar "$BG" sh -c 'echo $(id -u) $PWD $FOO' 2>&1) || true
expect_eq "exec -u -w -e: user, cwd and env" "65534 /tmp bar" "$out"
if out=$(pm exec -d "$BG" sleep 999 2>&1); then ok "exec -d"; else not_ok "exec -d" "$out"; fi

out=$(pm top "$BG" 2>&1) || true
expect_match "top: lists the container's processes" 'sleep 1000' "$out"

check "pause" pm pause "$BG"
expect_eq "inspect after pause: State.Paused" true "$(pm inspect -f '{{.State.Paused}}' "$BG" 2>&1)"
expect_eq "inspect after pause: State.Status" paused "$(pm inspect -f '{{.State.Status}}' "$BG" 2>&1)"
cgroup=$(pm inspect -f '{{.State.CgroupPath}}' "$BG" 2>/dev/null) || true
out=$(cat "/sys/fs/cgroup/freezer$cgroup/freezer.state" 2>&1) || true
expect_eq "pause: the container's freezer cgroup is FROZEN" FROZEN "$out"
check "unpause" pm unpause "$BG"
expect_eq "inspect after unpause: State.Paused" false "$(pm inspect -f '{{.State.Paused}}' "$BG" 2>&1)"
expect_eq "exec after unpause" "awake" "$(pm exec "$BG" echo awake 2>&1)"

# podman update (new in 4.3) changes cgroup limits through the runtime's "update".
if podman update --help >/dev/null 2>&1; then
  check "update --memory 64m" pm update --memory 64m "$BG"
  expect_eq "update: memory.limit_in_bytes inside the container" 67108864 \
    "$(pm exec "$BG" cat /sys/fs/cgroup/memory/memory.limit_in_bytes 2>&1)"
fi

ms=$(elapsed_ms pm stop "$BG")
if [ "$ms" -lt 5000 ]; then ok "stop: exits on SIGTERM (${ms} ms)"; else not_ok "stop: exits on SIGTERM" "took ${ms} ms"; fi
expect_eq "stop: exit code 0 from the TERM trap" 0 "$(pm inspect -f '{{.State.ExitCode}}' "$BG" 2>&1)"
expect_match "stop: the trap ran" 'stopping' "$(pm logs "$BG" 2>&1)"
check "start of a stopped container" pm start "$BG"
expect_eq "inspect after start: State.Running" true "$(pm inspect -f '{{.State.Running}}' "$BG" 2>&1)"
check "restart" pm restart -t 5 "$BG"
check "rm -f" pm rm -f -t 5 "$BG"

# A pid 1 that ignores SIGTERM: stop must escalate to SIGKILL after -t seconds.
pm rm -f -t 0 "$BG" >/dev/null 2>&1 || true   # a failed earlier run -d leaves a container of that name
if pm run -d --name "$BG" "$IMAGE" sleep 1000 >/dev/null 2>&1; then
  ms=$(elapsed_ms pm stop -t 1 "$BG")
  if [ "$ms" -lt 6000 ]; then ok "stop -t 1: SIGKILL after the grace period (${ms} ms)"; else not_ok "stop -t 1: SIGKILL after the grace period" "took ${ms} ms"; fi
  expect_eq "stop -t 1: exit code 137" 137 "$(pm inspect -f '{{.State.ExitCode}}' "$BG" 2>&1)"
else
  not_ok "run -d sleep 1000"
fi
check "rm" pm rm -f "$BG"

pm rm -f -t 0 "$BG" >/dev/null 2>&1 || true   # a failed earlier run -d leaves a container of that name
if pm run -d --name "$BG" "$IMAGE" sh -c 'trap "exit 7" USR1; sleep 1000 & wait' >/dev/null 2>&1; then
  check "kill -s USR1" pm kill -s USR1 "$BG"
  out=$(pm wait "$BG" 2>&1) || true
  expect_eq "kill -s USR1: exit code from the trap (podman wait)" 7 "$out"
  pm rm "$BG" >/dev/null 2>&1 || true
else
  not_ok "run -d (for kill)"
fi
pm rm -f -t 0 "$BG" >/dev/null 2>&1 || true   # a failed earlier run -d leaves a container of that name
if pm run -d --name "$BG" "$IMAGE" sleep 1000 >/dev/null 2>&1; then
  check "rm -f of a running container" pm rm -f -t 0 "$BG"
else
  not_ok "run -d (for rm -f)"
fi
expect_eq "no containers left" "" "$(pm ps -aq 2>&1)"

finish
