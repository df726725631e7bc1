#!/usr/bin/env bash
# Drives containerd (Debian's containerd, shim io.containerd.runc.v2) with RUNTIME_PATH as the
# runc binary of the shim ("ctr run --runc-binary RUNTIME_PATH ...").
#
#   Tests/Scripts/engines/containerd.sh RUNTIME_PATH      e.g. /usr/bin/runc or .build/debug/berth-runtime
#
# It starts its own containerd with its own config (root, state dir, sockets), imports a busybox
# image it builds by hand as an OCI image layout (tar + sha256sum + jq: no registry, no docker
# save), and stops everything at the end, even on failure. All of it lives in the containerd
# namespace "berth-test". Every invocation of the runtime is appended to $BERTH_RUNTIME_LOG when
# that is set. Needs root and the packages in Tests/Scripts/engines/README.md.
# shellcheck disable=SC2016  # "$..." in single quotes is for the container's shell to expand
set -euo pipefail
cd "$(dirname "$0")"
source ./lib.sh

resolve_runtime "${1:-}"

WORK=$(engine_workdir containerd)        # containerd's root (content, snapshots), config, logs
STATE=/run/berth-test-containerd         # containerd's state dir and its sockets
SOCK=$STATE/containerd.sock
NS=berth-test                            # containerd namespace for everything we make
# The runc v2 shim keeps the runtime's state in /run/containerd/runc/<namespace> (its --root),
# whatever containerd's own state dir is; the namespace keeps ours apart.
RUNC_ROOT=/run/containerd/runc/$NS
IMAGE=docker.io/berth-test/busybox:latest
TIMEOUT=${CMD_TIMEOUT:-60}

[ "$(id -u)" = 0 ] || fail "run as root"
for cmd in containerd ctr containerd-shim-runc-v2 script tar jq sha256sum; do
  command -v "$cmd" >/dev/null || fail "missing $cmd (see README.md)"
done

c() { timeout -k 10 "$TIMEOUT" ctr --address "$SOCK" --namespace "$NS" "$@"; }

teardown() {
  local pid
  if pid=$(cat "$STATE/containerd.pid" 2>/dev/null) && [[ "$(cmdline_of "$pid")" == *"$WORK/"* ]]; then
    # Tasks and containers first, while containerd still runs: the shims then clean up after them.
    for id in $(c task ls -q 2>/dev/null); do c task kill -a -s SIGKILL "$id" >/dev/null 2>&1 || true; done
    sleep 0.5
    for id in $(c task ls -q 2>/dev/null); do c task delete -f "$id" >/dev/null 2>&1 || true; done
    for id in $(c container ls -q 2>/dev/null); do c container delete "$id" >/dev/null 2>&1 || true; done
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 1 40); do kill -0 "$pid" 2>/dev/null || break; sleep 0.25; done
    kill -KILL "$pid" 2>/dev/null || true
  fi
  # Shims (and containerd) of a killed earlier run name our socket on their command lines.
  kill_procs_mentioning "$SOCK"
  kill_procs_mentioning "$WORK/config.toml"
  reap_runtime_root "$RUNTIME" "$RUNC_ROOT"
  unmount_under "$WORK"
  unmount_under "$STATE"
  rmdir /sys/fs/cgroup/*/"$NS"/* /sys/fs/cgroup/*/"$NS" 2>/dev/null || true
  rm -rf "$WORK" "$STATE" "$RUNC_ROOT"
}

teardown
on_exit teardown
mkdir -p "$WORK" "$STATE"
RT=$(logged_runtime "$RUNTIME" "$WORK/bin")

# ---- start containerd ------------------------------------------------------------------------------
# The CRI plugin is disabled: it wants CNI and a sandbox image, and ctr does not use it.
cat >"$WORK/config.toml" <<EOF
version = 2
root = "$WORK/root"
state = "$STATE"
disabled_plugins = ["io.containerd.grpc.v1.cri"]

[grpc]
  address = "$SOCK"

[ttrpc]
  address = "$SOCK.ttrpc"

[debug]
  address = "$STATE/debug.sock"
EOF
containerd --config "$WORK/config.toml" >"$WORK/containerd.log" 2>&1 &
echo $! >"$STATE/containerd.pid"
if ! wait_for 30 c version; then
  tail -n 20 "$WORK/containerd.log" | sed 's/^/#   /'
  fail "containerd did not come up (log: $WORK/containerd.log)"
fi
ok "containerd started"

# ---- image: an OCI image layout made by hand -----------------------------------------------------
make_busybox_tar "$WORK/busybox.tar"
make_oci_layout "$WORK/oci" "$WORK/busybox.tar" "$IMAGE" \
  '{"Cmd":["sh"],"Env":["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"]}'
tar -C "$WORK/oci" -cf "$WORK/busybox-oci.tar" .
out=$(c images import "$WORK/busybox-oci.tar" 2>&1) || fail "ctr images import: $out"
expect_eq "ctr images import of a hand-made OCI archive" "$IMAGE" "$(c images ls -q 2>&1)"

R=(--runc-binary "$RT")

# ---- run in the foreground: output, exit status, tty ----------------------------------------------
out=$(c run --rm "${R[@]}" "$IMAGE" t-echo echo hello 2>&1) && rc=0 || rc=$?
expect_eq "run: output of echo hello" "hello" "$out"
expect_eq "run: exit status 0" 0 "$rc"

out=$(c run --rm "${R[@]}" "$IMAGE" t-exit sh -c 'exit 3' 2>&1) && rc=0 || rc=$?
expect_eq "run: exit status of sh -c 'exit 3'" 3 "$rc"

# head, not cat: ctr does not pass the end of its stdin on to the task (without -t), so a cat
# would never exit.
out=$(echo piped | c run --rm "${R[@]}" "$IMAGE" t-stdin head -n 1 2>&1) || true
expect_eq "run: stdin reaches the container" "piped" "$out"

out=$(with_tty timeout -k 10 "$TIMEOUT" ctr --address "$SOCK" --namespace "$NS" run --rm -t "${R[@]}" "$IMAGE" t-tty tty 2>&1 | tty_line) || true
expect_match "run -t: tty inside is a pty" '^/dev/pts/[0-9]+$' "$out"

out=$(c run --rm "${R[@]}" "$IMAGE" t-pid sh -c 'echo $$' 2>&1) || true
expect_eq "run: the command is pid 1 (own pid namespace)" 1 "$out"

# ctr's default spec mounts no /sys/fs/cgroup in the container, so the limit is read on the host,
# in the cgroup ctr asks for (/<namespace>/<id>).
if out=$(c run -d --memory-limit 33554432 "${R[@]}" "$IMAGE" t-mem sleep 1000 2>&1); then
  out=$(cat "/sys/fs/cgroup/memory/$NS/t-mem/memory.limit_in_bytes" 2>&1) || true
  expect_eq "run --memory-limit: memory.limit_in_bytes of /$NS/t-mem" 33554432 "$out"
  c task kill -s SIGKILL t-mem >/dev/null 2>&1 || true
  wait_for 10 sh -c "ctr --address $SOCK --namespace $NS task ls | grep -q '^t-mem .*STOPPED'" || true
  c task delete t-mem >/dev/null 2>&1 || true
  c container delete t-mem >/dev/null 2>&1 || true
else
  not_ok "run -d --memory-limit" "$out"
fi

# ---- a detached task: exec, ps, pause/resume, kill, delete ------------------------------------
BG="t-bg"
if out=$(c run -d --log-uri "file://$WORK/bg.log" "${R[@]}" "$IMAGE" "$BG" \
  sh -c 'echo started; trap "echo stopping; exit 0" TERM; trap "exit 7" USR1; sleep 1000 & wait' 2>&1); then
  ok "run -d"
else
  not_ok "run -d" "$out"
fi
task_status() { c task ls 2>/dev/null | awk -v id="$1" '$1 == id { print $3 }'; }
if wait_for 10 grep -q started "$WORK/bg.log"; then ok "run -d: output reaches --log-uri file"; else not_ok "run -d: output reaches --log-uri file" "$(cat "$WORK/bg.log" 2>&1)"; fi
expect_eq "task ls: RUNNING" RUNNING "$(task_status "$BG")"

out=$(c task exec --exec-id e1 "$BG" echo in-exec 2>&1) && rc=0 || rc=$?
expect_eq "task exec: output" "in-exec" "$out"
expect_eq "task exec: exit status 0" 0 "$rc"
out=$(c task exec --exec-id e2 "$BG" sh -c 'exit 5' 2>&1) && rc=0 || rc=$?
expect_eq "task exec: exit status of sh -c 'exit 5'" 5 "$rc"
out=$(with_tty timeout -k 10 "$TIMEOUT" ctr --address "$SOCK" --namespace "$NS" task exec -t --exec-id e3 "$BG" tty 2>&1 | tty_line) || true
expect_match "task exec -t: tty inside is a pty" '^/dev/pts/[0-9]+$' "$out"
out=$(c task exec --exec-id e4 --user 65534 --cwd /tmp "$BG" sh -c 'echo $(id -u) $PWD' 2>&1) || true
expect_eq "task exec --user --cwd" "65534 /tmp" "$out"

out=$(c task ps "$BG" 2>&1) || true
expect_match "task ps: lists the pids" "^PID +INFO" "$out"
expect_eq "task ps: init plus sleep" 2 "$(echo "$out" | tail -n +2 | grep -c '^[0-9]')"

check "task pause" c task pause "$BG"
expect_eq "task ls after pause: PAUSED" PAUSED "$(task_status "$BG")"
check "task resume" c task resume "$BG"
expect_eq "task ls after resume: RUNNING" RUNNING "$(task_status "$BG")"

check "task kill (SIGTERM)" c task kill "$BG"
wait_for 10 sh -c "[ \"\$(ctr --address $SOCK --namespace $NS task ls | awk '\$1 == \"$BG\" { print \$3 }')\" = STOPPED ]" || true
expect_eq "task ls after kill: STOPPED" STOPPED "$(task_status "$BG")"
expect_match "task kill: the TERM trap ran" stopping "$(cat "$WORK/bg.log")"
# ctr task delete exits 0 whatever the task's status; it warns "exit with non-zero exit code N".
out=$(c task delete "$BG" 2>&1) && rc=0 || rc=$?
expect_eq "task delete: succeeds, task exited 0 (no warning)" "0 " "$rc $out"
check "container delete" c container delete "$BG"

# A signal the task traps to exit 7, and SIGKILL of everything (kill --all).
if c run -d "${R[@]}" "$IMAGE" "$BG" sh -c 'trap "exit 7" USR1; sleep 1000 & wait' >/dev/null 2>&1; then
  sleep 0.3
  check "task kill -s SIGUSR1" c task kill -s SIGUSR1 "$BG"
  wait_for 10 sh -c "ctr --address $SOCK --namespace $NS task ls | grep -q '^$BG .*STOPPED'" || true
  out=$(c task delete "$BG" 2>&1) || true
  expect_match "task delete: exit status 7 from the trap" 'non-zero exit code 7"?$' "$out"
  c container delete "$BG" >/dev/null 2>&1 || true
else
  not_ok "run -d (for kill -s)"
fi
if c run -d "${R[@]}" "$IMAGE" "$BG" sleep 1000 >/dev/null 2>&1; then
  check "task kill --all -s SIGKILL" c task kill -a -s SIGKILL "$BG"
  wait_for 10 sh -c "ctr --address $SOCK --namespace $NS task ls | grep -q '^$BG .*STOPPED'" || true
  out=$(c task delete "$BG" 2>&1) || true
  expect_match "task delete: exit status 137 after SIGKILL" 'non-zero exit code 137"?$' "$out"
  check "container delete" c container delete "$BG"
else
  not_ok "run -d (for kill -a)"
fi
# task delete --force of a running task.
if c run -d "${R[@]}" "$IMAGE" "$BG" sleep 1000 >/dev/null 2>&1; then
  check "task delete --force of a running task" c task delete -f "$BG"
  check "container delete" c container delete "$BG"
else
  not_ok "run -d (for delete -f)"
fi
expect_eq "no tasks left" "" "$(c task ls -q 2>&1)"
expect_eq "no containers left" "" "$(c container ls -q 2>&1)"

finish
