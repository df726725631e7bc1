#!/usr/bin/env bash
# bench/build/run.sh — `build` of the same small two-stage Dockerfile (bench/build/two-stage),
# cold (--no-cache) and fully cached, with berth, buildah (bud --layers) and Docker's legacy
# builder, in one hyperfine run.
#
#   bench/build/run.sh [WORKDIR]       WORKDIR defaults to /var/tmp/berth-bench-build
#
# Environment:
#   RUNS=N          timed runs per command (default 10)
#   WARMUP=N        untimed warm-up runs per command (default 2; at least 1, so that the cached
#                   builds find their cache)
#   BERTH=PATH      the berth binary (default .build/release/berth; berth-supervisor beside it
#                   if berth needs it); when it is missing or `berth build` fails, the berth
#                   columns are skipped with a message and the peers are still measured
#   BERTH_BUILD_FLAGS="..."   extra flags for berth build (split on spaces)
#   DOCKER=PATH     the docker client (default /usr/bin/docker, Debian's, same version as dockerd)
#   NETWORK=none    RUN steps without a network: buildah and docker get --network none, berth
#                   its default (default; nothing on the host changes)
#   NETWORK=bridge  each engine's default network for RUN: docker0 (of the private dockerd, which
#                   runs in a network namespace of its own either way), buildah's CNI network
#                   (podman's default config)
#
# The same busybox image (Tests/Scripts/registry/make-busybox-image.sh) as busybox:test in each engine,
# each with its own store. Cold: `build --no-cache -q -t bench/two-stage`. Cached: the same without
# --no-cache after the warm-up runs (every step from cache). buildah runs with --isolation oci
# --runtime runc --format docker (crun 1.8 refuses a hybrid cgroup layout with hugetlb on cgroup2;
# the script also moves hugetlb to v1 as bench/run does). Prints each median, the ratios berth /
# docker and berth / buildah, and whether the targets are met: cached at most docker's time, cold
# at most half of buildah's.
set -euo pipefail

case ${1:-} in -h | --help) sed -n '2,/^set -e/{/^#/p}' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;; esac
RUNS=${RUNS:-10}
WARMUP=${WARMUP:-2}
[ "$WARMUP" -ge 1 ] || WARMUP=1
NETWORK=${NETWORK:-none}
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
WORKDIR=${1:-/var/tmp/berth-bench-build}
BERTH=${BERTH:-$REPO/.build/release/berth}
DOCKER=${DOCKER:-/usr/bin/docker}
CONTEXT=$HERE/two-stage
die() { printf 'bench/build: error: %s\n' "$*" >&2; exit 1; }
say() { printf '==> %s\n' "$*"; }
[[ $(id -u) -eq 0 ]] || die "must run as root"
for cmd in hyperfine buildah dockerd "$DOCKER" skopeo umoci python3; do
  command -v "$cmd" >/dev/null || die "missing $cmd"
done
case $NETWORK in none | bridge) ;; *) die "NETWORK must be none or bridge" ;; esac

# crun 1.8 refuses a hybrid layout with controllers on cgroup2 (hugetlb, on these machines); buildah
# is told to use runc, but its helpers may still look at the layout.
if [[ -r /sys/fs/cgroup/unified/cgroup.controllers && $(< /sys/fs/cgroup/unified/cgroup.controllers) == *hugetlb* ]] &&
  ! mountpoint -q /sys/fs/cgroup/hugetlb; then
  say "moving hugetlb from cgroup2 to v1 for crun (left mounted)"
  mkdir -p /sys/fs/cgroup/hugetlb && mount -t cgroup -o hugetlb cgroup /sys/fs/cgroup/hugetlb || die "could not mount hugetlb on v1"
fi

mkdir -p "$WORKDIR"
WORKDIR=$(cd "$WORKDIR" && pwd)
BERTH_RUNROOT=/run/bbb-berth
BUILDAH_RUNROOT=/run/bbb-buildah
SOCK=/run/berth-bench-build-docker.sock
EXEC_ROOT=/run/berth-bench-build-docker
B=("$BERTH" --root "$WORKDIR/berth" --runroot "$BERTH_RUNROOT")
BA=(buildah --root "$WORKDIR/buildah" --runroot "$BUILDAH_RUNROOT" --storage-driver overlay)
D=("$DOCKER" -H "unix://$SOCK")
cmdline_of() { tr '\0' ' ' 2>/dev/null <"/proc/$1/cmdline" || true; }
umount_under() {
  awk -v d="$1" '$5 == d || index($5, d "/") == 1 { print $5 }' /proc/self/mountinfo | sort -r |
    while read -r m; do umount -l "$m" 2>/dev/null || true; done
}
cleanup() {
  set +e
  [ -d "$WORKDIR/buildah" ] && "${BA[@]}" rm -a >/dev/null 2>&1
  if pid=$(cat "$WORKDIR/dockerd.pid" 2>/dev/null) && [[ "$(cmdline_of "$pid")" == *"$SOCK"* ]]; then
    kill "$pid" 2>/dev/null
    for _ in $(seq 1 40); do kill -0 "$pid" 2>/dev/null || break; sleep 0.25; done
    kill -9 "$pid" 2>/dev/null
  fi
  for p in /proc/[0-9]*; do [[ "$(cmdline_of "${p#/proc/}")" == *"$EXEC_ROOT/"* ]] && kill "${p#/proc/}" 2>/dev/null; done
  umount_under "$WORKDIR"; umount_under "$EXEC_ROOT"; umount_under "$BERTH_RUNROOT"; umount_under "$BUILDAH_RUNROOT"
  # dockerd's --cgroup-parent, and BuildKit's "buildkit" cgroup below it
  for d in /sys/fs/cgroup/*/berth-bench-build; do [ -d "$d" ] && find "$d" -depth -type d -exec rmdir {} + 2>/dev/null; done
  rm -rf --one-file-system "$WORKDIR/berth" "$WORKDIR/buildah" "$WORKDIR/docker" "$EXEC_ROOT" "$BERTH_RUNROOT" "$BUILDAH_RUNROOT" \
    "$WORKDIR/layout" "$WORKDIR/layout.tar" "$WORKDIR/docker.tar" "$WORKDIR/daemon.json" "$WORKDIR/dockerd.pid" "$SOCK"
  return 0
}
source "$REPO/bench/lib/host-state.sh"
HOST_STATE=$(mktemp)
trap 'rc=$?; cleanup; host_state_check "$HOST_STATE" bench/build || rc=1; rm -f "$HOST_STATE"; exit $rc' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
cleanup
host_state_snapshot "$HOST_STATE"

say "image: busybox:test (umoci, from Debian's busybox-static)"
bash "$REPO/Tests/Scripts/registry/make-busybox-image.sh" "$WORKDIR/layout" >/dev/null
tar -C "$WORKDIR/layout" -cf "$WORKDIR/layout.tar" .
skopeo copy --quiet "oci:$WORKDIR/layout:latest" "docker-archive:$WORKDIR/docker.tar:busybox:test"
"${BA[@]}" pull -q "oci:$WORKDIR/layout:latest" >/dev/null
"${BA[@]}" tag "$("${BA[@]}" images -q | head -1)" busybox:test

BERTH_OK=1
BERTH_WHY=""
if [ ! -x "$BERTH" ]; then
  BERTH_OK=0 BERTH_WHY="no berth at $BERTH (swift build -c release --product berth)"
elif ! id=$("${B[@]}" load -i "$WORKDIR/layout.tar" 2>"$WORKDIR/berth-load.log" | awk '{print $NF}') || [ -z "$id" ] ||
  ! "${B[@]}" tag "$id" busybox:test >>"$WORKDIR/berth-load.log" 2>&1; then
  BERTH_OK=0 BERTH_WHY="berth load/tag of the base image failed: $(tail -n 3 "$WORKDIR/berth-load.log" | tr '\n' ' ')"
fi

say "starting a private dockerd (NETWORK=$NETWORK)"
echo '{}' >"$WORKDIR/daemon.json"
# In a network namespace of its own either way: its docker0, iptables rules and ip_forward stay in
# there and go with it, and a docker0 of the host's own Docker is left alone.
dnet=(unshare --net)
if [ "$NETWORK" = none ]; then
  dflags=(--bridge none --iptables=false --ip-masq=false)
else
  dflags=()
fi
"${dnet[@]}" dockerd --config-file "$WORKDIR/daemon.json" --data-root "$WORKDIR/docker" --exec-root "$EXEC_ROOT" \
  --pidfile "$WORKDIR/dockerd.pid" -H "unix://$SOCK" --exec-opt native.cgroupdriver=cgroupfs \
  --cgroup-parent /berth-bench-build --storage-driver overlay2 "${dflags[@]}" >"$WORKDIR/dockerd.log" 2>&1 &
for _ in $(seq 1 240); do "${D[@]}" version >/dev/null 2>&1 && break; sleep 0.25; done
"${D[@]}" version >/dev/null 2>&1 || { tail "$WORKDIR/dockerd.log"; die "dockerd did not come up"; }
"${D[@]}" load -q -i "$WORKDIR/docker.tar" >/dev/null

q() { printf '%q ' "$@"; }
net=()
[ "$NETWORK" = none ] && net=(--network none)
read -ra berth_extra <<<"${BERTH_BUILD_FLAGS:-}"
declare -A CMD
CMD[docker-cold]="$(q "${D[@]}" build "${net[@]}" --no-cache -q -t bench/two-stage "$CONTEXT")"
CMD[docker-cached]="$(q "${D[@]}" build "${net[@]}" -q -t bench/two-stage "$CONTEXT")"
CMD[buildah-cold]="$(q "${BA[@]}" bud --layers --isolation oci --runtime runc --format docker "${net[@]}" --no-cache -q -t bench/two-stage "$CONTEXT")"
CMD[buildah-cached]="$(q "${BA[@]}" bud --layers --isolation oci --runtime runc --format docker "${net[@]}" -q -t bench/two-stage "$CONTEXT")"
CMD[berth-cold]="$(q "${B[@]}" build "${berth_extra[@]}" --no-cache -q -t bench/two-stage "$CONTEXT")"
CMD[berth-cached]="$(q "${B[@]}" build "${berth_extra[@]}" -q -t bench/two-stage "$CONTEXT")"
# Docker's legacy builder: DOCKER_BUILDKIT=0 (hyperfine -N passes its environment on).
export DOCKER_BUILDKIT=0

NAMES=(docker-cold buildah-cold docker-cached buildah-cached)
say "smoke test: each build once (errors shown)"
for n in docker-cold buildah-cold; do
  bash -c "${CMD[$n]}" >/dev/null || die "smoke test failed: ${CMD[$n]}"
done
if [ "$BERTH_OK" = 1 ]; then
  if out=$(bash -c "${CMD[berth-cold]}" 2>&1) && out2=$(bash -c "${CMD[berth-cached]}" 2>&1); then
    NAMES=(berth-cold "${NAMES[@]:0:2}" berth-cached "${NAMES[@]:2}")
  else
    BERTH_OK=0
    BERTH_WHY="berth build failed: $(printf '%s\n%s\n' "${out:-}" "${out2:-}" | grep -v '^$' | tail -n 5 | tr '\n' ' ')"
  fi
fi
[ "$BERTH_OK" = 1 ] || say "skipping berth: $BERTH_WHY"

LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)
say "hyperfine: ${#NAMES[@]} commands ($RUNS runs, $WARMUP warm-up)"
args=()
for n in "${NAMES[@]}"; do args+=(--command-name "$n" "${CMD[$n]}"); done
hyperfine -N --warmup "$WARMUP" --runs "$RUNS" --export-json "$WORKDIR/build.json" "${args[@]}" >"$WORKDIR/hyperfine.log"
LOAD_AFTER=$(cut -d' ' -f1-3 /proc/loadavg)

echo
BERTH_OK=$BERTH_OK BERTH_WHY=$BERTH_WHY python3 - "$WORKDIR/build.json" <<'PY'
import json, os, statistics, sys
res = {r["command"]: r for r in json.load(open(sys.argv[1]))["results"]}
med = {n: statistics.median(r["times"]) * 1000 for n, r in res.items()}
print(f"{'build two-stage':<18}{'median ms':>10}{'min ms':>9}{'max ms':>9}{'/ docker':>10}{'/ buildah':>11}")
for mode in ("cold", "cached"):
    for engine in ("berth", "docker", "buildah"):
        n = f"{engine}-{mode}"
        if n not in res:
            print(f"{n:<18}{'skipped':>10}")
            continue
        t = res[n]["times"]
        print(f"{n:<18}{med[n]:>10.1f}{min(t)*1000:>9.1f}{max(t)*1000:>9.1f}"
              f"{med[n] / med['docker-' + mode]:>10.2f}{med[n] / med['buildah-' + mode]:>11.2f}")
print()
if os.environ["BERTH_OK"] == "1":
    b, d = med["berth-cached"], med["docker-cached"]
    print(f"target cached (berth at most docker): {'MET' if b <= d else 'NOT MET'} (berth / docker {b / d:.2f}, berth / buildah {b / med['buildah-cached']:.2f})")
    b, a = med["berth-cold"], med["buildah-cold"]
    print(f"target cold (berth at most 0.5 x buildah): {'MET' if b <= 0.5 * a else 'NOT MET'} (berth / buildah {b / a:.2f}, berth / docker {b / med['docker-cold']:.2f})")
else:
    print(f"berth skipped: {os.environ['BERTH_WHY']}")
    print("targets not evaluated; peers for reference: docker cold / buildah cold "
          f"{med['docker-cold'] / med['buildah-cold']:.2f}, docker cached / buildah cached {med['docker-cached'] / med['buildah-cached']:.2f}")
PY
echo "load average before: $LOAD_BEFORE, after: $LOAD_AFTER ($(nproc) CPUs); NETWORK=$NETWORK; $(buildah --version); dockerd $("${D[@]}" version --format '{{.Server.Version}}' 2>/dev/null || echo '?') (legacy builder)"
