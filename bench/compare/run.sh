#!/usr/bin/env bash
# bench/compare/run.sh — two builds of Berth side by side (before and after a change), in one
# hyperfine invocation per scenario, so a refactor can show it costs nothing:
#
#   bench/compare/run.sh BEFORE_DIR AFTER_DIR [WORKDIR]
#
# BEFORE_DIR and AFTER_DIR each hold berth, berth-runtime, berth-supervisor and berth-dns (static
# release builds, as shipped). WORKDIR defaults to /var/tmp/berth-bench-compare.
#
# Environment: RUNS=N timed runs per command (default 30), WARMUP=N (default 3).
#
# Scenarios (each build with its own --root and --runroot, the same busybox image):
#   run-none     berth run --rm --network none IMAGE true
#   run-bridge   berth run --rm IMAGE true                   (the default bridge network)
#   exec         berth exec C true                            (into a running container)
#   ps           berth ps -a                                  (with that container)
#   build-cached berth build -q of bench/build/two-stage, every step from cache
#   runtime-run  berth-runtime run of a busybox bundle running /bin/true
# Prints each median, and after / before with hyperfine's own comparison.
set -euo pipefail

case ${1:-} in -h | --help | "") sed -n '2,20p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;; esac
BEFORE=$(cd "$1" && pwd)
AFTER=$(cd "$2" && pwd)
RUNS=${RUNS:-30}
WARMUP=${WARMUP:-3}
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
WORKDIR=${3:-/var/tmp/berth-bench-compare}
die() { printf 'bench/compare: error: %s\n' "$*" >&2; exit 1; }
say() { printf '==> %s\n' "$*"; }
[[ $(id -u) -eq 0 ]] || die "must run as root"
command -v hyperfine >/dev/null || die "missing hyperfine"
for d in "$BEFORE" "$AFTER"; do
  for b in berth berth-runtime berth-supervisor berth-dns; do [ -x "$d/$b" ] || die "no $b in $d"; done
done

source "$REPO/bench/lib/host-state.sh"
HOST_STATE=$(mktemp)
BRIDGE_STATE=$(mktemp)
mkdir -p "$WORKDIR"
WORKDIR=$(cd "$WORKDIR" && pwd)
B1=("$BEFORE/berth" --root "$WORKDIR/before" --runroot /run/bbc-before)
B2=("$AFTER/berth" --root "$WORKDIR/after" --runroot /run/bbc-after)
cleanup() {
  set +e
  for b in B1 B2; do
    declare -n cmd=$b
    "${cmd[@]}" ps -aq --no-trunc 2>/dev/null | xargs -r "${cmd[@]}" rm -f >/dev/null 2>&1
    "${cmd[@]}" network prune -f >/dev/null 2>&1
  done
  for r in before after; do "$([ $r = before ] && echo "$BEFORE" || echo "$AFTER")/berth-runtime" --root "$WORKDIR/rt-$r" delete -f bench-rt >/dev/null 2>&1; done
  awk -v d="$WORKDIR" '$5 == d || index($5, d "/") == 1 { print $5 }' /proc/self/mountinfo | sort -r | xargs -r -n1 umount -l 2>/dev/null
  rm -rf --one-file-system "$WORKDIR" /run/bbc-before /run/bbc-after
  berth_bridge_restore "$BRIDGE_STATE"
}
trap 'rc=$?; cleanup; host_state_check "$HOST_STATE" bench/compare || rc=1; rm -f "$HOST_STATE"; exit $rc' EXIT
cleanup
host_state_snapshot "$HOST_STATE"
berth_bridge_snapshot "$BRIDGE_STATE"
mkdir -p "$WORKDIR"

say "image: busybox (Tests/Scripts/registry/make-busybox-image.sh)"
bash "$REPO/Tests/Scripts/registry/make-busybox-image.sh" "$WORKDIR/layout" >/dev/null
tar -C "$WORKDIR/layout" -cf "$WORKDIR/layout.tar" .
for b in B1 B2; do
  declare -n cmd=$b
  id=$("${cmd[@]}" load -i "$WORKDIR/layout.tar" | awk '{print $NF}')
  "${cmd[@]}" tag "$id" busybox:test
  "${cmd[@]}" run -d --name box --network none busybox:test sleep 3600 >/dev/null
  "${cmd[@]}" build -q -t bench/two-stage "$REPO/bench/build/two-stage" >/dev/null
done

say "bundle for berth-runtime run"
mkdir -p "$WORKDIR/bundle/rootfs"
tar -C "$WORKDIR/bundle/rootfs" -xf "$WORKDIR/layout.tar" 2>/dev/null || true
# The rootfs of the layout: unpack its one layer.
layer=$(python3 - "$WORKDIR/layout" <<'PY'
import json, sys, os
root = sys.argv[1]
index = json.load(open(os.path.join(root, "index.json")))
manifest = json.load(open(os.path.join(root, "blobs", *index["manifests"][0]["digest"].split(":"))))
print(os.path.join(root, "blobs", *manifest["layers"][0]["digest"].split(":")))
PY
)
rm -rf "$WORKDIR/bundle/rootfs" && mkdir -p "$WORKDIR/bundle/rootfs"
tar -C "$WORKDIR/bundle/rootfs" -xzf "$layer" 2>/dev/null || tar -C "$WORKDIR/bundle/rootfs" -xf "$layer"
(cd "$WORKDIR/bundle" && "$AFTER/berth-runtime" spec >/dev/null 2>&1 || runc spec)
python3 - "$WORKDIR/bundle/config.json" <<'PY'
import json, sys
p = sys.argv[1]
c = json.load(open(p))
c["process"]["terminal"] = False
c["process"]["args"] = ["/bin/true"]
json.dump(c, open(p, "w"))
PY

q() { printf '%q ' "$@"; }
LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)
results=()
scenario() {  # scenario NAME BEFORE_CMD AFTER_CMD
  local name=$1
  say "$name"
  hyperfine -N --warmup "$WARMUP" --runs "$RUNS" --export-json "$WORKDIR/$name.json" \
    --command-name "before" "$2" --command-name "after" "$3" >/dev/null
  results+=("$name")
}
scenario run-none "$(q "${B1[@]}") run --rm --network none busybox:test true" "$(q "${B2[@]}") run --rm --network none busybox:test true"
scenario run-bridge "$(q "${B1[@]}") run --rm busybox:test true" "$(q "${B2[@]}") run --rm busybox:test true"
scenario exec "$(q "${B1[@]}") exec box true" "$(q "${B2[@]}") exec box true"
scenario ps "$(q "${B1[@]}") ps -a" "$(q "${B2[@]}") ps -a"
scenario build-cached "$(q "${B1[@]}") build -q -t bench/two-stage $REPO/bench/build/two-stage" "$(q "${B2[@]}") build -q -t bench/two-stage $REPO/bench/build/two-stage"
scenario runtime-run "$(q "$BEFORE/berth-runtime") --root $WORKDIR/rt-before run --bundle $WORKDIR/bundle bench-rt" \
  "$(q "$AFTER/berth-runtime") --root $WORKDIR/rt-after run --bundle $WORKDIR/bundle bench-rt"
LOAD_AFTER=$(cut -d' ' -f1-3 /proc/loadavg)

echo
python3 - "$WORKDIR" "${results[@]}" <<'PY'
import json, statistics, sys
work, names = sys.argv[1], sys.argv[2:]
print(f"| scenario | before ms | after ms | after / before | before σ ms | after σ ms |")
print(f"|---|---:|---:|---:|---:|---:|")
for n in names:
    r = {x["command"]: x for x in json.load(open(f"{work}/{n}.json"))["results"]}
    b, a = statistics.median(r["before"]["times"]) * 1000, statistics.median(r["after"]["times"]) * 1000
    print(f"| {n} | {b:.1f} | {a:.1f} | {a / b:.2f} | {r['before']['stddev'] * 1000:.1f} | {r['after']['stddev'] * 1000:.1f} |")
PY
echo
echo "load average before: $LOAD_BEFORE, after: $LOAD_AFTER ($(nproc) CPUs); $RUNS runs, $WARMUP warm-up; $(hyperfine --version)"
