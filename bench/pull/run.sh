#!/usr/bin/env bash
# bench/pull/run.sh — time a pull of a 3-layer, ~140 MB image from a local registry into a fresh
# store: berth beside podman, docker and skopeo.
#
#   bench/pull/run.sh [WORKDIR]      WORKDIR defaults to /var/tmp/berth-bench-pull
#
# Environment:
#   RUNS=N              timed runs per command (default 5)
#   WARMUP=N            untimed warm-up runs per command (default 1)
#   BERTH=PATH          the berth binary (default .build/release/berth); left out when absent
#   BERTH_PULL_FLAGS    extra flags for `berth pull` (split on spaces)
#   DOCKER=PATH         the docker client (default /usr/bin/docker, Debian's, same version as dockerd)
#   BENCH_FS=loop|here  where the stores live (default loop: a fresh journaled ext4 on a loop device,
#                       as a host's disk is; here: WORKDIR's own filesystem)
#
# Runs bench/pull/prepare.sh WORKDIR first (builds the image once, starts the registry, pushes).
# One hyperfine invocation, each command with its own --prepare that empties its store:
#   berth     BERTH --root FRESH pull REF                          prepare: rm -rf FRESH
#   podman    podman --root FRESH --runroot FRESH-run pull REF      prepare: umount + rm -rf FRESH
#   docker    docker pull REF (a private dockerd of Debian's docker.io, overlay2)
#                                                                   prepare: docker rmi -f REF
#   skopeo    skopeo copy docker://REF oci:DIR (copy only, no unpack)   prepare: rm -rf DIR
# Every prepare command ends with `sync`, so one run's writeback does not slow the next.
# and prints each median and its ratio to berth's (to docker's while there is no berth).
# Target: berth, ready to run, at most half of docker's time.
# Everything it starts (dockerd, the registry) is stopped on exit; WORKDIR keeps the cached
# rootfs and image. See bench/pull/README.md.
set -euo pipefail

usage() { sed -n '2,25p' "$0" | sed 's/^# \{0,1\}//'; }
case ${1:-} in -h | --help) usage; exit 0 ;; esac

RUNS=${RUNS:-5}
WARMUP=${WARMUP:-1}
[[ $RUNS =~ ^[0-9]+$ && $RUNS -ge 2 ]] || { echo "bench/pull: RUNS must be an integer >= 2 (got '$RUNS')" >&2; exit 2; }
[[ $WARMUP =~ ^[0-9]+$ ]] || { echo "bench/pull: WARMUP must be a non-negative integer (got '$WARMUP')" >&2; exit 2; }

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
WORKDIR=${1:-/var/tmp/berth-bench-pull}
BERTH=${BERTH:-$REPO/.build/release/berth}

say() { printf '==> %s\n' "$*"; }
note() { printf '    %s\n' "$*"; }
die() { printf 'bench/pull: error: %s\n' "$*" >&2; exit 1; }

[[ $(id -u) -eq 0 ]] || die "must run as root"
DOCKER=${DOCKER:-/usr/bin/docker}          # Debian's client (a newer one in /usr/local/bin may come first in PATH)
for cmd in hyperfine podman skopeo dockerd "$DOCKER" python3; do
  command -v "$cmd" >/dev/null || die "missing $cmd (Debian packages: hyperfine podman skopeo docker.io python3)"
done

# The whole benchmark (registry, dockerd, every pull) runs in a network namespace of its own, with
# only lo: dockerd without a bridge ("--bridge none") deletes any docker0 it finds, the host's
# Docker's too, and every tool then pulls through the same loopback. (`unshare --net`, not
# `ip netns exec`: that one remounts /sys, hiding the cgroup mounts from dockerd.)
if [[ ${BERTH_BENCH_PULL_INNER:-} != 1 ]]; then
  source "$REPO/bench/lib/host-state.sh"
  HOST_STATE=$(mktemp)
  host_state_snapshot "$HOST_STATE"
  rc=0
  # shellcheck disable=SC2016  # expanded by the inner shell
  BERTH_BENCH_PULL_INNER=1 unshare --net bash -c 'ip link set lo up && exec "$0" "$@"' "$0" "$@" || rc=$?
  host_state_check "$HOST_STATE" bench/pull || rc=1
  rm -f "$HOST_STATE"
  exit "$rc"
fi

mkdir -p "$WORKDIR"
WORKDIR=$(cd "$WORKDIR" && pwd)
BENCH_FS=${BENCH_FS:-loop}
[[ $BENCH_FS == loop || $BENCH_FS == here ]] || die "BENCH_FS must be loop or here (got '$BENCH_FS')"
# The stores live on their own filesystem: a journaled ext4, made fresh for each run of this script.
# Why: ext4 without a journal (this VM's root) skips inodes freed in the last minutes when it
# allocates, so each timed pull would pay for the deletions of the run before it.
FS_IMG=$WORKDIR/stores.ext4
FS_DIR=$WORKDIR/fs
if [[ $BENCH_FS == loop ]]; then STORE_BASE=$FS_DIR; else STORE_BASE=$WORKDIR; fi
STORES=$STORE_BASE/stores                   # the fresh stores the pulls write into
DOCKER_WORK=$STORE_BASE/docker              # dockerd's data root, config, log
DOCKER_EXEC_ROOT=/run/berth-bench-pull-docker
DOCKER_SOCK=/run/berth-bench-pull-docker.sock
DOCKER_PID=/run/berth-bench-pull-docker.pid

cmdline_of() { tr '\0' ' ' 2>/dev/null <"/proc/$1/cmdline" || true; }
# umount_under DIR: lazily unmounts everything at or below DIR (podman's overlay driver mounts).
umount_under() {
  awk -v d="$1" '$5 == d || index($5, d "/") == 1 { print $5 }' /proc/self/mountinfo |
    sort -r | while read -r m; do umount -l "$m" 2>/dev/null || true; done
}

stop_dockerd() {
  local pid
  if pid=$(cat "$DOCKER_PID" 2>/dev/null) && [[ "$(cmdline_of "$pid")" == *"$DOCKER_SOCK"* ]]; then
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 1 80); do kill -0 "$pid" 2>/dev/null || break; sleep 0.25; done
    kill -KILL "$pid" 2>/dev/null || true
  fi
  # dockerd's own containerd mentions the exec root on its command line.
  local p
  for p in /proc/[0-9]*; do
    pid=${p#/proc/}
    [[ "$(cmdline_of "$pid")" == *"$DOCKER_EXEC_ROOT/"* ]] && kill -TERM "$pid" 2>/dev/null
  done
  umount_under "$DOCKER_WORK"
  umount_under "$DOCKER_EXEC_ROOT"
  rm -rf "$DOCKER_EXEC_ROOT" "$DOCKER_SOCK" "$DOCKER_PID"
}

cleanup() {
  local rc=$?
  set +e
  trap - EXIT INT TERM
  stop_dockerd
  "$REPO/Tests/Scripts/registry/registry.sh" stop "$WORKDIR/registry"
  umount_under "$STORES"
  rm -rf --one-file-system "$STORES" "$DOCKER_WORK" "$WORKDIR/empty-store"
  unmount_store_fs
  exit "$rc"
}
unmount_store_fs() {
  if mountpoint -q "$FS_DIR"; then umount "$FS_DIR" 2>/dev/null || umount -l "$FS_DIR"; fi
  rm -f "$FS_IMG"
}
stop_dockerd   # whatever a killed earlier run left
umount_under "$FS_DIR"
unmount_store_fs
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# --- image and registry ---------------------------------------------------------------------
REF=$("$HERE/prepare.sh" "$WORKDIR") || die "prepare.sh failed"
ADDR=${REF%%/*}
say "image: $REF"

# --- the stores' filesystem -----------------------------------------------------------------------
source "$REPO/bench/lib/loop-fs.sh"
if [[ $BENCH_FS == loop ]]; then
  loop_fs_mount "$FS_IMG" "$FS_DIR" 16G "stores"
else
  say "stores on $(findmnt -no FSTYPE -T "$WORKDIR") at $WORKDIR (BENCH_FS=here)"
fi

# --- a private dockerd ----------------------------------------------------------------------------
# Its own data root, exec root, pid file and socket (as Tests/Scripts/engines/docker.sh starts one), no
# bridge and no iptables rules (a pull needs no container network), the registry as insecure.
# "--bridge none" deletes a docker0 in its network namespace: here the benchmark's own (above).
rm -rf "$DOCKER_WORK"
mkdir -p "$DOCKER_WORK" "$STORES"
printf '{"insecure-registries": ["%s"]}\n' "$ADDR" >"$DOCKER_WORK/daemon.json"
say "starting a private dockerd (data root $DOCKER_WORK/data)"
dockerd \
  --config-file "$DOCKER_WORK/daemon.json" \
  --data-root "$DOCKER_WORK/data" \
  --exec-root "$DOCKER_EXEC_ROOT" \
  --pidfile "$DOCKER_PID" \
  -H "unix://$DOCKER_SOCK" \
  --exec-opt native.cgroupdriver=cgroupfs \
  --storage-driver overlay2 \
  --bridge none --iptables=false --ip-masq=false \
  </dev/null >"$DOCKER_WORK/dockerd.log" 2>&1 &
for _ in $(seq 1 240); do
  "$DOCKER" -H "unix://$DOCKER_SOCK" version >/dev/null 2>&1 && break
  sleep 0.25
done
"$DOCKER" -H "unix://$DOCKER_SOCK" version >/dev/null 2>&1 || { tail -n 20 "$DOCKER_WORK/dockerd.log" >&2; die "dockerd did not come up"; }

# --- the commands ---------------------------------------------------------------------------------
q() { printf '%q' "$1"; }
NAMES=() CMDS=() PREPS=()
add() { NAMES+=("$1"); CMDS+=("$2"); PREPS+=("$3"); }
# fresh DIR...: the prepare command that empties stores (podman leaves overlay mounts behind).
cat >"$WORKDIR/empty-store" <<'EOF'
#!/bin/sh
# Written by bench/pull/run.sh: unmounts what is mounted under each DIR, then removes it.
for d in "$@"; do
  awk -v d="$d" '$5 == d || index($5, d "/") == 1 { print $5 }' /proc/self/mountinfo | sort -r | xargs -r -n1 umount -l
  rm -rf --one-file-system "$d"
done
sync   # the previous run's writeback must not land in the next timed run
EOF
chmod 755 "$WORKDIR/empty-store"
fresh() { local d out; out=$(q "$WORKDIR/empty-store"); for d in "$@"; do out+=" $(q "$d")"; done; echo "$out"; }

HAVE_BERTH=0
if [ -x "$BERTH" ]; then
  HAVE_BERTH=1
  # shellcheck disable=SC2086  # BERTH_PULL_FLAGS is split on spaces on purpose
  add berth "$(q "$BERTH") --root $(q "$STORES/berth") pull ${BERTH_PULL_FLAGS:-} $(q "$REF")" "$(fresh "$STORES/berth")"
else
  note "no berth at $BERTH (set BERTH=...): measuring the peers only"
fi
add docker "$(q "$DOCKER") -H unix://$(q "$DOCKER_SOCK") pull -q $(q "$REF")" \
  "bash -c $(q "$(q "$DOCKER") -H unix://$(q "$DOCKER_SOCK") rmi -f $(q "$REF") >/dev/null 2>&1; sync")"
add podman "podman --root $(q "$STORES/podman") --runroot $(q "$STORES/podman-run") --storage-driver overlay --events-backend none --cgroup-manager cgroupfs pull -q --tls-verify=false $(q "$REF")" \
  "$(fresh "$STORES/podman" "$STORES/podman-run")"
add skopeo "skopeo copy --quiet --src-tls-verify=false docker://$(q "$REF") oci:$(q "$STORES/skopeo"):latest" "$(fresh "$STORES/skopeo")"

# --- smoke test: each command once, errors shown --------------------------------------------------
say "smoke test"
KEEP_N=() KEEP_C=() KEEP_P=()
for i in "${!NAMES[@]}"; do
  err=$WORKDIR/smoke-${NAMES[i]}.err
  if bash -c "${PREPS[i]}" >/dev/null 2>&1 && bash -c "${CMDS[i]}" >/dev/null 2>"$err"; then
    note "${NAMES[i]}: ok"
    KEEP_N+=("${NAMES[i]}"); KEEP_C+=("${CMDS[i]}"); KEEP_P+=("${PREPS[i]}")
  else
    note "${NAMES[i]}: FAILED:"
    sed 's/^/        /' "$err"
    [[ ${NAMES[i]} == berth ]] && die "berth pull failed (error above)"
    note "${NAMES[i]} is left out of this run"
  fi
  rm -f "$err"
done

# --- timing ----------------------------------------------------------------------------------------
# Pulls are seconds long and disk- and CPU-bound: other work on the machine (a compiler) shows.
LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)
args=()
for i in "${!KEEP_N[@]}"; do args+=(--prepare "${KEEP_P[i]}"); done
for i in "${!KEEP_N[@]}"; do args+=(--command-name "${KEEP_N[i]}" "${KEEP_C[i]}"); done
say "hyperfine ($RUNS runs, $WARMUP warm-up each; every run into an emptied store)"
hyperfine --warmup "$WARMUP" --runs "$RUNS" --export-json "$WORKDIR/pull.json" "${args[@]}" ||
  die "hyperfine failed (a command exited non-zero)"

LOAD_AFTER=$(cut -d' ' -f1-3 /proc/loadavg)

# --- table -----------------------------------------------------------------------------------------
echo
say "results: median wall time of $RUNS runs"
python3 - "$WORKDIR/pull.json" "$HAVE_BERTH" <<'PY'
import json, statistics, sys
path, have_berth = sys.argv[1], sys.argv[2] == "1"
with open(path) as f:
    res = {r["command"]: r for r in json.load(f)["results"]}
med = {n: statistics.median(r["times"]) for n, r in res.items()}
base = "berth" if have_berth else "docker"
if base not in med:
    base = next(iter(med))
head = ("tool", "median s", "min s", "max s", f"tool / {base}")
rows = [(n, f"{m:.3f}", f"{min(res[n]['times']):.3f}", f"{max(res[n]['times']):.3f}",
         f"{m / med[base]:.2f}") for n, m in med.items()]
w = [max(len(r[i]) for r in rows + [head]) for i in range(len(head))]
fmt = lambda r: "  ".join(c.ljust(w[i]) if i == 0 else c.rjust(w[i]) for i, c in enumerate(r))
print(fmt(head)); print("  ".join("-" * x for x in w))
for r in rows:
    print(fmt(r))
print()
if have_berth and "docker" in med:
    ok = med["berth"] <= med["docker"] / 2
    print(f"target (berth at most half of docker's time): {'MET' if ok else 'NOT MET'} "
          f"(berth {med['berth']:.3f} s, docker {med['docker']:.3f} s, berth / docker {med['berth'] / med['docker']:.2f})")
elif not have_berth:
    print("target (berth at most half of docker's time): not measured (no berth binary)")
PY
note "load average (1/5/15 min) before: $LOAD_BEFORE, after: $LOAD_AFTER ($(nproc) CPUs)"
note "stores: BENCH_FS=$BENCH_FS ($(findmnt -no FSTYPE,OPTIONS -T "$STORES"))"
note "$(hyperfine --version); $(podman --version); $(skopeo --version); dockerd $("$DOCKER" -H "unix://$DOCKER_SOCK" version --format '{{.Server.Version}}'), storage driver overlay2; kernel $(uname -r)"
