#!/usr/bin/env bash
# bench/run/run.sh — `run --rm IMAGE true` with berth beside docker and podman (without a network,
# on each engine's default bridge network, and on it with a published port), the time until 100
# detached containers all run, and the memory of an idle container's supervisor.
#
#   bench/run/run.sh [WORKDIR]       WORKDIR defaults to /var/tmp/berth-bench-run
#
# Environment:
#   RUNS=N          timed runs per command (default 30)
#   WARMUP=N        untimed warm-up runs (default 3)
#   MANY=N          containers for the detached test (default 100)
#   BERTH=PATH      the berth binary (default .build/release/berth; berth-supervisor beside it)
#   DOCKER=PATH     the docker client (default /usr/bin/docker, Debian's, same version as dockerd)
#
# The same busybox image (Tests/Scripts/registry/make-busybox-image.sh) in each engine, each with its own
# store. Three scenarios: `--network none`; the default bridge network (berth: berth0 through CNI's
# bridge plugin; docker: docker0 with its iptables rules; podman: its CNI network); and the bridge
# with `-p 127.0.0.1:PORT:80` (CNI portmap; docker-proxy + iptables; podman's portmap). A private
# dockerd (Debian's docker.io: containerd + runc) with its default bridge is started and stopped
# here. Prints each median, the ratio to docker's, and whether the targets (berth at most 0.2 x
# docker without a network, 0.25 x with one) are met.
set -euo pipefail

case ${1:-} in -h | --help) sed -n '2,20p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;; esac
RUNS=${RUNS:-30}
WARMUP=${WARMUP:-3}
MANY=${MANY:-100}
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
WORKDIR=${1:-/var/tmp/berth-bench-run}
BERTH=${BERTH:-$REPO/.build/release/berth}
DOCKER=${DOCKER:-/usr/bin/docker}
die() { printf 'bench/run: error: %s\n' "$*" >&2; exit 1; }
say() { printf '==> %s\n' "$*"; }
[[ $(id -u) -eq 0 ]] || die "must run as root"
for cmd in hyperfine podman dockerd "$DOCKER" skopeo umoci python3; do
  command -v "$cmd" >/dev/null || die "missing $cmd"
done
[ -x "$BERTH" ] || die "no berth at $BERTH (swift build -c release --product berth; --product berth-supervisor)"
[ -x "$(dirname "$BERTH")/berth-supervisor" ] || die "no berth-supervisor beside $BERTH"

# Podman's crun 1.8 refuses a hybrid layout with controllers on cgroup2 (hugetlb, on these machines).
if [[ -r /sys/fs/cgroup/unified/cgroup.controllers && $(< /sys/fs/cgroup/unified/cgroup.controllers) == *hugetlb* ]] &&
  ! mountpoint -q /sys/fs/cgroup/hugetlb; then
  say "moving hugetlb from cgroup2 to v1 for crun (left mounted)"
  mkdir -p /sys/fs/cgroup/hugetlb && mount -t cgroup -o hugetlb cgroup /sys/fs/cgroup/hugetlb || die "could not mount hugetlb on v1"
fi

mkdir -p "$WORKDIR"
WORKDIR=$(cd "$WORKDIR" && pwd)
B=("$BERTH" --root "$WORKDIR/berth" --runroot /run/bbr)
P=(podman --root "$WORKDIR/podman" --runroot /run/bbp --storage-driver overlay --events-backend none --cgroup-manager cgroupfs)
SOCK=/run/berth-bench-run-docker.sock
EXEC_ROOT=/run/berth-bench-run-docker
D=("$DOCKER" -H "unix://$SOCK")
cmdline_of() { tr '\0' ' ' 2>/dev/null <"/proc/$1/cmdline" || true; }
umount_under() {
  awk -v d="$1" '$5 == d || index($5, d "/") == 1 { print $5 }' /proc/self/mountinfo | sort -r |
    while read -r m; do umount -l "$m" 2>/dev/null || true; done
}
cleanup() {
  set +e
  "${B[@]}" ps -aq --no-trunc 2>/dev/null | xargs -r "${B[@]}" rm -f >/dev/null 2>&1
  "${P[@]}" rm -af -t 0 >/dev/null 2>&1
  "${D[@]}" rm -f $("${D[@]}" ps -aq 2>/dev/null) >/dev/null 2>&1
  if pid=$(cat "$WORKDIR/dockerd.pid" 2>/dev/null); then kill "$pid" 2>/dev/null; sleep 2; fi
  for p in /proc/[0-9]*; do [[ "$(cmdline_of "${p#/proc/}")" == *"$EXEC_ROOT/"* ]] && kill "${p#/proc/}" 2>/dev/null; done
  umount_under "$WORKDIR"; umount_under "$EXEC_ROOT"; umount_under /run/bbr; umount_under /run/bbp
  rm -rf --one-file-system "$WORKDIR/berth" "$WORKDIR/podman" "$WORKDIR/docker" "$EXEC_ROOT" /run/bbr /run/bbp
  rm -rf "$WORKDIR/layout" "$WORKDIR/layout.tar" "$WORKDIR/docker.tar"
  [ -n "${BRIDGE_STATE:-}" ] && berth_bridge_restore "$BRIDGE_STATE"
}
source "$REPO/bench/lib/host-state.sh"
HOST_STATE=$(mktemp)
trap 'rc=$?; cleanup; host_state_check "$HOST_STATE" bench/run || rc=1; rm -f "$HOST_STATE"; exit $rc' EXIT
cleanup
host_state_snapshot "$HOST_STATE"
BRIDGE_STATE=$(mktemp)
berth_bridge_snapshot "$BRIDGE_STATE"

say "image: busybox (umoci, from Debian's busybox-static)"
bash "$REPO/Tests/Scripts/registry/make-busybox-image.sh" "$WORKDIR/layout" >/dev/null
tar -C "$WORKDIR/layout" -cf "$WORKDIR/layout.tar" .
skopeo copy --quiet "oci:$WORKDIR/layout:latest" "docker-archive:$WORKDIR/docker.tar:busybox:bench"
id=$("${B[@]}" load -i "$WORKDIR/layout.tar" | awk '{print $NF}')
"${B[@]}" tag "$id" busybox:bench
"${P[@]}" pull -q "oci:$WORKDIR/layout:latest" >/dev/null
"${P[@]}" tag "$("${P[@]}" images -q | head -1)" busybox:bench

say "starting a private dockerd"
echo '{}' >"$WORKDIR/daemon.json"
# In a network namespace of its own (lo up, for docker-proxy's 127.0.0.1): its docker0 and iptables
# rules stay in there and go with it, and a docker0 of the host's own Docker is left alone.
# shellcheck disable=SC2016  # expanded by the inner shell
unshare --net sh -c 'ip link set lo up && exec "$0" "$@"' dockerd --config-file "$WORKDIR/daemon.json" --data-root "$WORKDIR/docker" --exec-root "$EXEC_ROOT" \
  --pidfile "$WORKDIR/dockerd.pid" -H "unix://$SOCK" --exec-opt native.cgroupdriver=cgroupfs \
  --storage-driver overlay2 >"$WORKDIR/dockerd.log" 2>&1 &
for _ in $(seq 1 240); do "${D[@]}" version >/dev/null 2>&1 && break; sleep 0.25; done
"${D[@]}" version >/dev/null 2>&1 || { tail "$WORKDIR/dockerd.log"; die "dockerd did not come up"; }
"${D[@]}" load -q -i "$WORKDIR/docker.tar" >/dev/null

q() { printf '%q ' "$@"; }
PODMAN_LIMITS="--ulimit nofile=1024:1024 --ulimit nproc=1024:1024"
declare -A CMD
for scenario in none bridge publish; do
  case $scenario in
    none) flags="--network none" ;;
    bridge) flags="" ;;
    publish) flags="-p 127.0.0.1:18089:80" ;;
  esac
  CMD[berth-$scenario]="$(q "${B[@]}") run --rm $flags busybox:bench true"
  CMD[docker-$scenario]="$(q "${D[@]}") run --rm $flags busybox:bench true"
  CMD[podman-$scenario]="$(q "${P[@]}") run --rm $flags $PODMAN_LIMITS busybox:bench true"
done
NAMES=(berth-none docker-none podman-none berth-bridge docker-bridge podman-bridge berth-publish docker-publish podman-publish)
for n in "${NAMES[@]}"; do
  bash -c "${CMD[$n]}" || die "smoke test failed: ${CMD[$n]}"
done

LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)
say "hyperfine: run --rm true, 3 scenarios x 3 engines ($RUNS runs, $WARMUP warm-up)"
args=()
for n in "${NAMES[@]}"; do args+=(--command-name "$n" "${CMD[$n]}"); done
hyperfine -N --warmup "$WARMUP" --runs "$RUNS" --export-json "$WORKDIR/run.json" "${args[@]}" >/dev/null

many() {  # many NAME CMD...: seconds until MANY detached containers run (started all at once)
  local name=$1; shift
  local start end
  start=$(date +%s.%N)
  for i in $(seq 1 "$MANY"); do "$@" >/dev/null 2>&1 & done
  wait
  end=$(date +%s.%N)
  echo "$name $(python3 -c "print(f'{$end - $start:.2f}')")"
}
say "$MANY detached containers at once"
MANY_BERTH=$(many berth "${B[@]}" run -d --network none busybox:bench sleep 600)
BERTH_RUNNING=$("${B[@]}" ps -q | wc -l)
# Private memory of idle supervisors (Private_Clean + Private_Dirty from smaps_rollup), median;
# comm is cut to 15 characters, hence berth-superviso.
SUP_KB=$(for p in $(pgrep -x berth-superviso); do
  awk '/^Private_(Clean|Dirty)/ {s += $2} END {print s}' "/proc/$p/smaps_rollup"; done | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')
SUP_RSS=$(for p in $(pgrep -x berth-superviso); do awk '/^Rss/ {print $2}' "/proc/$p/smaps_rollup"; done | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')
CONMON_KB=""
"${B[@]}" ps -aq --no-trunc | xargs -r "${B[@]}" rm -f >/dev/null
MANY_DOCKER=$(many docker "${D[@]}" run -d --network none busybox:bench sleep 600)
DOCKER_RUNNING=$("${D[@]}" ps -q | wc -l)
"${D[@]}" rm -f $("${D[@]}" ps -aq) >/dev/null
MANY_PODMAN=$(many podman "${P[@]}" run -d --network none --ulimit nofile=1024:1024 --ulimit nproc=1024:1024 busybox:bench sleep 600)
PODMAN_RUNNING=$("${P[@]}" ps -q | wc -l)
CONMON_KB=$(for p in $(pgrep -x conmon); do awk '/^Private_(Clean|Dirty)/ {s += $2} END {print s}' "/proc/$p/smaps_rollup"; done |
  sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')
"${P[@]}" rm -af -t 0 >/dev/null
LOAD_AFTER=$(cut -d' ' -f1-3 /proc/loadavg)

echo
python3 - "$WORKDIR/run.json" <<PY
import json, statistics, sys
res = {r["command"]: r for r in json.load(open(sys.argv[1]))["results"]}
med = {n: statistics.median(r["times"]) * 1000 for n, r in res.items()}
print(f"{'run --rm true':<18}{'median ms':>10}{'min ms':>9}{'max ms':>9}{'/ docker':>10}")
for scenario in ("none", "bridge", "publish"):
    for engine in ("berth", "docker", "podman"):
        n = f"{engine}-{scenario}"
        t = res[n]["times"]
        print(f"{n:<18}{med[n]:>10.1f}{min(t)*1000:>9.1f}{max(t)*1000:>9.1f}{med[n] / med['docker-' + scenario]:>10.2f}")
for scenario, limit in (("none", 0.2), ("bridge", 0.25), ("publish", 0.25)):
    b, d, p = (med[f"{e}-{scenario}"] for e in ("berth", "docker", "podman"))
    print(f"target {scenario} (berth at most {limit} x docker): {'MET' if b <= limit * d else 'NOT MET'} (berth / docker {b / d:.2f}, berth / podman {b / p:.2f})")
PY
echo
echo "$MANY detached at once (wall s until every run -d returned; running afterwards):"
echo "  $MANY_BERTH ($BERTH_RUNNING running)"
echo "  $MANY_DOCKER ($DOCKER_RUNNING running)"
echo "  $MANY_PODMAN ($PODMAN_RUNNING running)"
echo "idle supervisor private memory (median): berth-supervisor ${SUP_KB:-?} KiB (Rss ${SUP_RSS:-?} KiB), conmon ${CONMON_KB:-?} KiB"
echo "load average before: $LOAD_BEFORE, after: $LOAD_AFTER ($(nproc) CPUs); $(podman --version); dockerd $("${D[@]}" version --format '{{.Server.Version}}' 2>/dev/null || echo '?')"
