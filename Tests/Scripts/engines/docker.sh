#!/usr/bin/env bash
# Drives a real Docker engine (Debian's docker.io) with RUNTIME_PATH as an extra OCI runtime
# ("--add-runtime berth=RUNTIME_PATH", then "docker run --runtime berth ...").
#
#   Tests/Scripts/engines/docker.sh RUNTIME_PATH          e.g. /usr/bin/runc or .build/debug/berth-runtime
#
# It starts its own dockerd (no systemd here) with its own data root, exec root, pid file and
# socket, so it touches no other Docker, and stops it again at the end, even on failure. Every
# invocation of the runtime is appended to $BERTH_RUNTIME_LOG when that is set.
# Needs root and the Debian packages listed in Tests/Scripts/engines/README.md.
# shellcheck disable=SC2016  # "$..." in single quotes is for the container's shell to expand
set -euo pipefail
cd "$(dirname "$0")"
source ./lib.sh

resolve_runtime "${1:-}"

WORK=$(engine_workdir docker)            # data root, logs, image tarball, network snapshot
EXEC_ROOT=/run/berth-test-docker         # dockerd's exec root: its containerd, shims, netns files
SOCK=/run/berth-test-docker.sock
PIDFILE=/run/berth-test-docker.pid
CGROUP_PARENT=/berth-test-docker         # absolute: a relative cgroupsPath is taken from the runtime's own cgroup
IMAGE=berth-test/busybox:latest
DOCKER=${DOCKER:-/usr/bin/docker}        # Debian's client, same version as the daemon
TIMEOUT=${CMD_TIMEOUT:-60}               # no single docker command may hang the script
NETWORK=${DOCKER_NETWORK:-bridge}        # "none": no bridge and no iptables rules at all

[ "$(id -u)" = 0 ] || fail "run as root"
for cmd in dockerd "$DOCKER" script tar; do command -v "$cmd" >/dev/null || fail "missing $cmd (see README.md)"; done

dk() { timeout -k 10 "$TIMEOUT" "$DOCKER" -H "unix://$SOCK" "$@"; }

# Stops and removes everything this script (or a killed earlier run of it) started or made.
teardown() {
  local pid ids=()
  if pid=$(cat "$PIDFILE" 2>/dev/null) && [[ "$(cmdline_of "$pid")" == *"$SOCK"* ]]; then
    # Containers first, while dockerd still answers: its shims then clean up after them.
    mapfile -t ids < <(timeout 20 "$DOCKER" -H "unix://$SOCK" ps -aq 2>/dev/null)
    [ ${#ids[@]} -eq 0 ] || timeout 60 "$DOCKER" -H "unix://$SOCK" rm -f "${ids[@]}" >/dev/null 2>&1 || true
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 1 60); do kill -0 "$pid" 2>/dev/null || break; sleep 0.25; done
    kill -KILL "$pid" 2>/dev/null || true
  fi
  # dockerd's own containerd and its shims mention the exec root on their command lines.
  kill_procs_mentioning "$EXEC_ROOT/"
  # Containers whose shim died with them still running: the shim gives the runtime
  # --root EXEC_ROOT/runtime-runc/moby (runtime-runc even for the "berth" runtime).
  local root
  for root in "$EXEC_ROOT"/runtime-*/moby; do reap_runtime_root "$RUNTIME" "$root"; done
  unmount_under "$WORK"
  unmount_under "$EXEC_ROOT"
  rmdir /sys/fs/cgroup/*/"${CGROUP_PARENT#/}"/* /sys/fs/cgroup/*/"${CGROUP_PARENT#/}" 2>/dev/null || true
  rm -rf "$WORK" "$EXEC_ROOT" "$SOCK" "$PIDFILE"
}

teardown                     # whatever a killed earlier run left
on_exit teardown
mkdir -p "$WORK"
RT=$(logged_runtime "$RUNTIME" "$WORK/bin")

# ---- start dockerd ----------------------------------------------------------------------------
# --config-file: an empty one, so /etc/docker/daemon.json cannot change what we test.
# --default-runtime berth as well as "--runtime berth" on every run: then "docker info" asks the
# runtime for its version ("RUNTIME --version"), as it does for a default runtime.
# cgroupfs driver: there is no systemd to ask for cgroups. Bridge networking (the default) works
# here, in a network namespace of dockerd's own (below).
echo '{}' >"$WORK/daemon.json"
net_flags=()
# "none": no bridge, no iptables rules, no NAT.
if [ "$NETWORK" = none ]; then net_flags=(--bridge none --iptables=false --ip-masq=false); fi
# dockerd runs in a network namespace of its own (unshare --net; it execs dockerd, so the pid file
# is dockerd's), as do its containerd and shims: its docker0, its iptables chains and
# ip_forward are that namespace's. On the host's, a test dockerd would share the chain names
# DOCKER* with the host's own dockerd, and deleting "its" docker0 at the end took the host's
# bridge away (every bridged "docker run" on the machine then failed until dockerd restarted).
# Nothing here needs the host's interfaces: the image is imported, containers talk to no one.
# DOCKER_EXTRA_FLAGS: more dockerd flags, split on spaces (e.g. "--debug").
# shellcheck disable=SC2086
unshare --net dockerd \
  --config-file "$WORK/daemon.json" \
  --data-root "$WORK/data" \
  --exec-root "$EXEC_ROOT" \
  --pidfile "$PIDFILE" \
  -H "unix://$SOCK" \
  --add-runtime "berth=$RT" \
  --default-runtime berth \
  --exec-opt native.cgroupdriver=cgroupfs \
  --cgroup-parent "$CGROUP_PARENT" \
  --storage-driver "${DOCKER_STORAGE_DRIVER:-overlay2}" \
  "${net_flags[@]}" \
  ${DOCKER_EXTRA_FLAGS:-} \
  >"$WORK/dockerd.log" 2>&1 &
if ! wait_for 60 dk version; then
  tail -n 20 "$WORK/dockerd.log" | sed 's/^/#   /'
  fail "dockerd did not come up (log: $WORK/dockerd.log)"
fi
ok "dockerd started (runtime berth=$RUNTIME)"
expect_eq "info: default runtime is berth" berth "$(dk info --format '{{.DefaultRuntime}}' 2>&1)"

# ---- image ---------------------------------------------------------------------------------------
make_busybox_tar "$WORK/busybox.tar"
dk import --change 'CMD ["sh"]' "$WORK/busybox.tar" "$IMAGE" >/dev/null || fail "docker import"
ok "docker import of a busybox rootfs as $IMAGE"

R=(--runtime berth)
[ "$NETWORK" = none ] && R+=(--network none)

# ---- run: output, exit codes, stdin, tty ---------------------------------------------------------
out=$(dk run --rm "${R[@]}" "$IMAGE" echo hello 2>&1) && rc=0 || rc=$?
expect_eq "run: output of echo hello" "hello" "$out"
expect_eq "run: exit code 0" 0 "$rc"

out=$(dk run --rm "${R[@]}" "$IMAGE" sh -c 'exit 3' 2>&1) && rc=0 || rc=$?
expect_eq "run: exit code of sh -c 'exit 3'" 3 "$rc"

out=$(dk run --rm "${R[@]}" "$IMAGE" sh -c 'echo out; echo err >&2' 2>/dev/null) || true
expect_eq "run: stdout and stderr kept apart" "out" "$out"

out=$(echo piped | dk run --rm -i "${R[@]}" "$IMAGE" cat 2>&1) || true
expect_eq "run -i: stdin reaches the container" "piped" "$out"

out=$(with_tty timeout -k 10 "$TIMEOUT" "$DOCKER" -H "unix://$SOCK" run --rm -t "${R[@]}" "$IMAGE" tty 2>&1 | tty_line) || true
expect_match "run -t: tty inside is a pty" '^/dev/pts/[0-9]+$' "$out"

out=$(dk run --rm --hostname berth-box "${R[@]}" "$IMAGE" hostname 2>&1) || true
expect_eq "run --hostname" "berth-box" "$out"
out=$(dk run --rm "${R[@]}" "$IMAGE" sh -c 'echo $$' 2>&1) || true
expect_eq "run: the command is pid 1 (own pid namespace)" 1 "$out"
out=$(dk run --rm --memory 32m "${R[@]}" "$IMAGE" cat /sys/fs/cgroup/memory/memory.limit_in_bytes 2>&1) || true
expect_eq "run --memory 32m: memory.limit_in_bytes inside" 33554432 "$out"

out=$(dk run --rm --read-only --user 65534:65534 --cap-drop ALL --security-opt no-new-privileges \
  "${R[@]}" "$IMAGE" sh -c 'id -u; touch /x 2>/dev/null || echo read-only; grep ^CapEff /proc/self/status' 2>&1) || true
expect_eq "run --read-only --user --cap-drop ALL" "$(printf '65534\nread-only\nCapEff:\t0000000000000000')" "$out"
if have_all_caps; then
  out=$(dk run --rm --privileged "${R[@]}" "$IMAGE" grep ^Seccomp: /proc/self/status 2>&1) || true
  expect_eq "run --privileged: no seccomp" "$(printf 'Seccomp:\t0')" "$out"
else
  skip "run --privileged" "this machine's capability bounding set is not full, so no runtime can grant all capabilities"
fi
out=$(dk run --rm "${R[@]}" "$IMAGE" grep ^Seccomp: /proc/self/status 2>&1) || true
expect_eq "run: Docker's default seccomp profile is applied" "$(printf 'Seccomp:\t2')" "$out"

if [ "$NETWORK" = bridge ]; then
  out=$(dk run --rm "${R[@]}" "$IMAGE" ip -o -4 addr show eth0 2>&1) || true
  expect_match "run: default bridge network gives eth0 an address" 'inet 172\.' "$out"
else
  skip "run: default bridge network" "DOCKER_NETWORK=$NETWORK"
fi

# ---- a detached container: logs, exec, top, pause, update, stop ------------------------------
# sh as pid 1 ignores SIGTERM unless it traps it; "sleep & wait" lets the trap run at once.
BG=berth-test-bg
dk rm -f "$BG" >/dev/null 2>&1 || true   # a failed earlier run -d leaves a container of that name
if out=$(dk run -d --name "$BG" "${R[@]}" "$IMAGE" \
  sh -c 'echo started; trap "echo stopping; exit 0" TERM; sleep 1000 & wait' 2>&1); then
  ok "run -d"
else
  not_ok "run -d" "$out"
fi

if wait_for 10 sh -c "$(printf '%q ' "$DOCKER") -H unix://$SOCK logs $BG 2>&1 | grep -q started"; then
  ok "logs of a detached container"
else
  not_ok "logs of a detached container" "$(dk logs "$BG" 2>&1)"
fi
expect_eq "inspect: State.Running" true "$(dk inspect -f '{{.State.Running}}' "$BG" 2>&1)"
expect_eq "inspect: runtime is berth" berth "$(dk inspect -f '{{.HostConfig.Runtime}}' "$BG" 2>&1)"

out=$(dk exec "$BG" echo in-exec 2>&1) && rc=0 || rc=$?
expect_eq "exec: output" "in-exec" "$out"
expect_eq "exec: exit code 0" 0 "$rc"
out=$(dk exec "$BG" sh -c 'exit 5' 2>&1) && rc=0 || rc=$?
expect_eq "exec: exit code of sh -c 'exit 5'" 5 "$rc"
out=$(echo exec-stdin | dk exec -i "$BG" cat 2>&1) || true
expect_eq "exec -i: stdin" "exec-stdin" "$out"
out=$(with_tty timeout -k 10 "$TIMEOUT" "$DOCKER" -H "unix://$SOCK" exec -t "$BG" tty 2>&1 | tty_line) || true
expect_match "exec -t: tty inside is a pty" '^/dev/pts/[0-9]+$' "$out"
out=$(dk exec -u 65534 -w /tmp -e FOO=bar "$BG" sh -c 'echo $(id -u) $PWD $FOO' 2>&1) || true
expect_eq "exec -u -w -e: user, cwd and env" "65534 /tmp bar" "$out"

out=$(dk top "$BG" 2>&1) || true
expect_match "top: lists the container's processes" 'sleep 1000' "$out"

check "pause" dk pause "$BG"
expect_eq "inspect after pause: State.Paused" true "$(dk inspect -f '{{.State.Paused}}' "$BG" 2>&1)"
expect_eq "inspect after pause: State.Status" paused "$(dk inspect -f '{{.State.Status}}' "$BG" 2>&1)"
out=$(cat /sys/fs/cgroup/freezer$CGROUP_PARENT/"$(dk inspect -f '{{.Id}}' "$BG")"/freezer.state 2>&1) || true
expect_eq "pause: the container's freezer cgroup is FROZEN" FROZEN "$out"
check "unpause" dk unpause "$BG"
expect_eq "inspect after unpause: State.Paused" false "$(dk inspect -f '{{.State.Paused}}' "$BG" 2>&1)"
expect_eq "exec after unpause" "awake" "$(dk exec "$BG" echo awake 2>&1)"

# Docker refuses --memory alone on a container started without a limit ("Memory limit should be
# smaller than already set memoryswap limit"): its recorded MemorySwap is 0. So set both.
check "update --memory 64m --memory-swap 128m" dk update --memory 64m --memory-swap 128m "$BG"
expect_eq "update: inspect HostConfig.Memory" 67108864 "$(dk inspect -f '{{.HostConfig.Memory}}' "$BG" 2>&1)"
expect_eq "update: memory.limit_in_bytes inside the container" 67108864 \
  "$(dk exec "$BG" cat /sys/fs/cgroup/memory/memory.limit_in_bytes 2>&1)"
expect_eq "update: memory.memsw.limit_in_bytes inside the container" 134217728 \
  "$(dk exec "$BG" cat /sys/fs/cgroup/memory/memory.memsw.limit_in_bytes 2>&1)"
check "update --cpus 0.5 --pids-limit 100" dk update --cpus 0.5 --pids-limit 100 "$BG"
expect_eq "update: cpu.cfs_quota_us inside the container" 50000 \
  "$(dk exec "$BG" cat /sys/fs/cgroup/cpu/cpu.cfs_quota_us 2>&1)"
expect_eq "update: pids.max inside the container" 100 "$(dk exec "$BG" cat /sys/fs/cgroup/pids/pids.max 2>&1)"

ms=$(elapsed_ms dk stop "$BG")
if [ "$ms" -lt 5000 ]; then ok "stop: exits on SIGTERM (${ms} ms)"; else not_ok "stop: exits on SIGTERM" "took ${ms} ms"; fi
expect_eq "stop: exit code 0 from the TERM trap" 0 "$(dk inspect -f '{{.State.ExitCode}}' "$BG" 2>&1)"
expect_match "stop: the trap ran" 'stopping' "$(dk logs "$BG" 2>&1)"
check "start of a stopped container" dk start "$BG"
expect_eq "inspect after start: State.Running" true "$(dk inspect -f '{{.State.Running}}' "$BG" 2>&1)"
check "restart" dk restart -t 5 "$BG"
expect_eq "inspect after restart: State.Running" true "$(dk inspect -f '{{.State.Running}}' "$BG" 2>&1)"
check "rm -f" dk rm -f "$BG"

# A pid 1 that ignores SIGTERM: docker stop must escalate to SIGKILL after -t seconds.
dk rm -f "$BG" >/dev/null 2>&1 || true   # a failed earlier run -d leaves a container of that name
if dk run -d --name "$BG" "${R[@]}" "$IMAGE" sleep 1000 >/dev/null 2>&1; then
  ms=$(elapsed_ms dk stop -t 1 "$BG")
  if [ "$ms" -lt 6000 ]; then ok "stop -t 1: SIGKILL after the grace period (${ms} ms)"; else not_ok "stop -t 1: SIGKILL after the grace period" "took ${ms} ms"; fi
  expect_eq "stop -t 1: exit code 137" 137 "$(dk inspect -f '{{.State.ExitCode}}' "$BG" 2>&1)"
else
  not_ok "run -d sleep 1000"
fi
check "rm" dk rm -f "$BG"

# kill with a signal, and rm -f of a running container.
dk rm -f "$BG" >/dev/null 2>&1 || true   # a failed earlier run -d leaves a container of that name
if dk run -d --name "$BG" "${R[@]}" "$IMAGE" sh -c 'trap "exit 7" USR1; sleep 1000 & wait' >/dev/null 2>&1; then
  check "kill -s USR1" dk kill -s USR1 "$BG"
  wait_for 10 sh -c "[ \"\$($(printf '%q ' "$DOCKER") -H unix://$SOCK inspect -f '{{.State.Running}}' $BG)\" = false ]" || true
  expect_eq "kill -s USR1: exit code from the trap" 7 "$(dk inspect -f '{{.State.ExitCode}}' "$BG" 2>&1)"
  dk rm "$BG" >/dev/null 2>&1 || true
else
  not_ok "run -d (for kill)"
fi
dk rm -f "$BG" >/dev/null 2>&1 || true   # a failed earlier run -d leaves a container of that name
if dk run -d --name "$BG" "${R[@]}" "$IMAGE" sleep 1000 >/dev/null 2>&1; then
  check "rm -f of a running container" dk rm -f "$BG"
else
  not_ok "run -d (for rm -f)"
fi
expect_eq "no containers left" "" "$(dk ps -aq 2>&1)"

finish
