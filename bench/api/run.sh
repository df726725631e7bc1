#!/usr/bin/env bash
# bench/api/run.sh — `berth serve` beside a private dockerd, both driven by the same real clients:
# `docker run --rm busybox true` with the docker CLI 28, `docker compose up -d` + `down` of the
# three-service app of Tests/Scripts/api/compose (Compose v2), and the server's memory (VmRSS)
# idle and with 100 containers created and started through the API.
#
#   bench/api/run.sh [WORKDIR]       WORKDIR defaults to /var/tmp/berth-bench-api
#
# Environment:
#   RUNS=N             timed runs of `docker run --rm` per engine (default 30)
#   WARMUP=N           untimed warm-up runs of it (default 3)
#   COMPOSE_RUNS=N     timed `up -d` + `down` cycles per engine (default 10)
#   COMPOSE_WARMUP=N   untimed cycles (default 1; the first one builds the web image)
#   MANY=N             containers for the memory test (default 100)
#   BERTH=PATH         the berth binary (default .build-static/release/berth; berth-supervisor,
#                      berth-runtime and berth-dns beside it)
#   DOCKER=PATH        the docker CLI (default /usr/local/bin/docker, 28; Compose v2 as its plugin)
#   BENCH_FS=loop|here where the two engines' roots live (default loop: a fresh journaled ext4 on a
#                      loop device under WORKDIR, removed at the end; here: WORKDIR's filesystem)
#
# Each server runs in a network namespace of its own (loopback up), with its own root, run root,
# socket and pid file: its bridge, veths and iptables rules live and die in there, and the host's
# own dockerd and docker0 are never touched. The same busybox image (make-busybox-image.sh) is
# loaded into each as busybox:latest through the API. Prints each median, berth / dockerd, whether
# the targets are met (run --rm at most 0.25 x dockerd, compose at most 0.33 x, server RSS with
# MANY containers under 30 MiB), and checks the host is left as found.
set -euo pipefail

case ${1:-} in -h | --help) sed -n '2,24p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;; esac
RUNS=${RUNS:-30}
WARMUP=${WARMUP:-3}
COMPOSE_RUNS=${COMPOSE_RUNS:-10}
COMPOSE_WARMUP=${COMPOSE_WARMUP:-1}
MANY=${MANY:-100}
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
WORKDIR=${1:-/var/tmp/berth-bench-api}
BERTH=${BERTH:-$REPO/.build-static/release/berth}
DOCKER=${DOCKER:-/usr/local/bin/docker}
APP=$REPO/Tests/Scripts/api/compose
die() { printf 'bench/api: error: %s\n' "$*" >&2; exit 1; }
say() { printf '==> %s\n' "$*"; }
[[ $(id -u) -eq 0 ]] || die "must run as root"
for cmd in hyperfine dockerd "$DOCKER" skopeo umoci python3 unshare nsenter /usr/bin/time; do
  command -v "$cmd" >/dev/null || die "missing $cmd"
done
[ -x "$BERTH" ] || die "no berth at $BERTH (see bench/api/README.md for the static release build)"
for b in berth-supervisor berth-runtime berth-dns; do
  [ -x "$(dirname "$BERTH")/$b" ] || die "no $b beside $BERTH"
done
"$DOCKER" compose version >/dev/null 2>&1 || die "no Compose v2 plugin for $DOCKER (Tests/Scripts/api/install-clients.sh)"

mkdir -p "$WORKDIR"
WORKDIR=$(cd "$WORKDIR" && pwd)
BENCH_FS=${BENCH_FS:-loop}
[[ $BENCH_FS == loop || $BENCH_FS == here ]] || die "BENCH_FS must be loop or here (got '$BENCH_FS')"
# The engines' roots on a filesystem of their own, made fresh for each run: ext4 without a journal
# (this VM's root) skips inodes freed in the last minutes when it allocates, so each timed run
# would pay for the removals of the run before it.
FS_IMG=$WORKDIR/roots.ext4
FS_DIR=$WORKDIR/fs
if [[ $BENCH_FS == loop ]]; then STORE_BASE=$FS_DIR; else STORE_BASE=$WORKDIR; fi
# berth serve: root under WORKDIR, run root and socket under /run (short socket paths).
BERTH_RUN=/run/berth-bench-api
BERTH_SOCK=/run/berth-bench-api.sock
BERTH_PIDFILE=/run/berth-bench-api.pid
# The private dockerd (Debian's docker.io 20.10: containerd + runc).
DOCKER_SOCK=/run/berth-bench-api-docker.sock
EXEC_ROOT=/run/berth-bench-api-docker
CGROUP_PARENT=/berth-bench-api-docker
BH=unix://$BERTH_SOCK
DH=unix://$DOCKER_SOCK
PROJECT=benchapi

cmdline_of() { tr '\0' ' ' 2>/dev/null <"/proc/$1/cmdline" || true; }
umount_under() {
  awk -v d="$1" '$5 == d || index($5, d "/") == 1 { print $5 }' /proc/self/mountinfo | sort -r |
    while read -r m; do umount -l "$m" 2>/dev/null || true; done
}
# pid_of PIDFILE NEEDLE: the pid in PIDFILE when its command line names NEEDLE.
pid_of() {
  local pid
  pid=$(cat "$1" 2>/dev/null) || return 1
  [[ "$(cmdline_of "$pid")" == *"$2"* ]] && echo "$pid"
}
stop_server() {  # stop_server PIDFILE NEEDLE: TERM, then KILL after 20 s
  local pid
  pid=$(pid_of "$1" "$2") || return 0
  kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq 1 80); do kill -0 "$pid" 2>/dev/null || return 0; sleep 0.25; done
  kill -KILL "$pid" 2>/dev/null || true
}
remove_all() {  # remove_all HOST: every container of the engine, then the compose project's leftovers
  local ids
  ids=$(timeout 30 "$DOCKER" -H "$1" ps -aq 2>/dev/null) || return 0
  # shellcheck disable=SC2086
  [ -z "$ids" ] || timeout 120 "$DOCKER" -H "$1" rm -f $ids >/dev/null 2>&1 || true
  DOCKER_HOST=$1 timeout 60 "$DOCKER" compose -p "$PROJECT" -f "$APP/compose.yaml" down -v --rmi local >/dev/null 2>&1 || true
}
cleanup() {
  set +e
  remove_all "$BH"
  remove_all "$DH"
  stop_server "$BERTH_PIDFILE" "$BERTH_SOCK"
  stop_server "$WORKDIR/dockerd.pid" "$DOCKER_SOCK"
  # What a killed server left: supervisors, containerd, shims (their command lines name the run roots).
  for p in /proc/[0-9]*; do
    case "$(cmdline_of "${p#/proc/}")" in *"$EXEC_ROOT/"* | *"$BERTH_RUN/"* | *"$STORE_BASE/berth/"*) kill -KILL "${p#/proc/}" 2>/dev/null ;; esac
  done
  # The DNS server berth serve started in its namespace (it would keep the namespace alive).
  if [ -n "${BERTH_NETNS:-}" ]; then
    for p in /proc/[0-9]*; do
      case "$(cmdline_of "${p#/proc/}")" in *"--config-dir /run/berth-dns.netns-$BERTH_NETNS"*) kill -KILL "${p#/proc/}" 2>/dev/null ;; esac
    done
    rm -rf "/run/berth-dns.netns-$BERTH_NETNS"
  fi
  sleep 0.5
  umount_under "$WORKDIR"; umount_under "$EXEC_ROOT"; umount_under "$BERTH_RUN"
  rmdir /sys/fs/cgroup/*/"${CGROUP_PARENT#/}"/* /sys/fs/cgroup/*/"${CGROUP_PARENT#/}" 2>/dev/null
  rm -rf --one-file-system "$STORE_BASE/berth" "$STORE_BASE/docker" "$EXEC_ROOT" "$BERTH_RUN"
  rm -f "$FS_IMG"; [ "$BENCH_FS" != loop ] || rmdir "$FS_DIR" 2>/dev/null
  rm -f "$BERTH_SOCK" "$BERTH_PIDFILE" "$DOCKER_SOCK" "$WORKDIR/dockerd.pid"
  rm -rf "$WORKDIR/layout" "$WORKDIR/busybox.tar"
}
source "$REPO/bench/lib/host-state.sh"
source "$REPO/bench/lib/loop-fs.sh"
# The host as found (links, iptables, mounts, ip_forward). Other work on a shared machine shows up
# in the difference too: only lines naming this benchmark's dirs fail the run; the rest is a note.
check_host() {
  local diff rc=0
  diff=$(mktemp)
  if ! host_state_check "$HOST_STATE" bench/api 2>"$diff"; then
    if grep -E -e "$WORKDIR|$EXEC_ROOT|$BERTH_RUN|berth-bench-api" "$diff" >&2; then
      echo "bench/api: error: the lines above are this benchmark's, left on the host" >&2
      rc=1
    else
      echo "bench/api: note: the host changed meanwhile, by other work (nothing of this benchmark's):" >&2
      sed -n '2,$p' "$diff" | head -20 >&2
    fi
  fi
  rm -f "$diff"
  return "$rc"
}
HOST_STATE=$(mktemp)
trap 'rc=$?; cleanup; check_host || rc=1; rm -f "$HOST_STATE"; exit $rc' EXIT
cleanup
host_state_snapshot "$HOST_STATE"
if [[ $BENCH_FS == loop ]]; then
  loop_fs_mount "$FS_IMG" "$FS_DIR" 8G "engine roots"
else
  say "engine roots on $(findmnt -no FSTYPE -T "$WORKDIR") at $WORKDIR (BENCH_FS=here)"
fi

say "image: busybox (umoci, from Debian's busybox-static)"
bash "$REPO/Tests/Scripts/registry/make-busybox-image.sh" "$WORKDIR/layout" >/dev/null
skopeo copy --quiet "oci:$WORKDIR/layout:latest" "docker-archive:$WORKDIR/busybox.tar:busybox:latest"

# Both servers in a network namespace of their own, loopback up (the compose app publishes on
# 127.0.0.1 in there).
# shellcheck disable=SC2016  # expanded by the inner shell
in_new_netns=(unshare --net sh -c 'ip link set lo up && exec "$0" "$@"')
wait_up() {  # wait_up HOST LOG NAME
  for _ in $(seq 1 240); do timeout 5 "$DOCKER" -H "$1" version >/dev/null 2>&1 && return 0; sleep 0.25; done
  tail -n 20 "$2" >&2
  die "$3 did not come up (log: $2)"
}
say "starting berth serve ($BERTH)"
mkdir -p "$BERTH_RUN"
setsid "${in_new_netns[@]}" "$BERTH" --root "$STORE_BASE/berth" --runroot "$BERTH_RUN" serve -H "$BH" \
  --pidfile "$BERTH_PIDFILE" </dev/null >"$WORKDIR/berth-serve.log" 2>&1 &
wait_up "$BH" "$WORKDIR/berth-serve.log" "berth serve"
BERTH_PID=$(pid_of "$BERTH_PIDFILE" "$BERTH_SOCK") || die "no berth serve pid in $BERTH_PIDFILE"
BERTH_NETNS=$(stat -L -c %i "/proc/$BERTH_PID/ns/net")
say "starting a private dockerd"
echo '{}' >"$WORKDIR/daemon.json"   # /etc/docker/daemon.json must not change what is measured
setsid "${in_new_netns[@]}" dockerd --config-file "$WORKDIR/daemon.json" --data-root "$STORE_BASE/docker" \
  --exec-root "$EXEC_ROOT" --pidfile "$WORKDIR/dockerd.pid" -H "$DH" --exec-opt native.cgroupdriver=cgroupfs \
  --cgroup-parent "$CGROUP_PARENT" --storage-driver overlay2 </dev/null >"$WORKDIR/dockerd.log" 2>&1 &
wait_up "$DH" "$WORKDIR/dockerd.log" dockerd
DOCKERD_PID=$(pid_of "$WORKDIR/dockerd.pid" "$DOCKER_SOCK") || die "no dockerd pid"

rss_kib() { awk '/^VmRSS:/ { print $2 }' "/proc/$1/status"; }
# "anon A + file F" MiB: VmRSS's heap and stacks apart from the pages of the (static) binary it ran.
rss_split() { awk '/^RssAnon:/ { a = $2 } /^RssFile:/ { f = $2 } END { printf "anon %.1f + file %.1f", a / 1024, f / 1024 }' "/proc/$1/status"; }
hwm_kib() { awk '/^VmHWM:/ { print $2 }' "/proc/$1/status"; }
# dockerd's containerd (its command line names the exec root); its shims are one per container.
containerd_pid() {
  local p
  for p in $(pgrep -x containerd); do [[ "$(cmdline_of "$p")" == *"$EXEC_ROOT/"* ]] && { echo "$p"; return; }; done
}
RSS_BERTH_START=$(rss_kib "$BERTH_PID")
for h in "$BH" "$DH"; do "$DOCKER" -H "$h" load -q -i "$WORKDIR/busybox.tar" >/dev/null || die "docker load into $h"; done
RSS_BERTH_IDLE=$(rss_kib "$BERTH_PID")
SPLIT_BERTH_IDLE=$(rss_split "$BERTH_PID")

# ---- 1. docker run --rm busybox true --------------------------------------------------------------
RUN_BERTH="$(printf '%q ' "$DOCKER" -H "$BH") run --rm busybox true"
RUN_DOCKER="$(printf '%q ' "$DOCKER" -H "$DH") run --rm busybox true"
for c in "$RUN_BERTH" "$RUN_DOCKER"; do bash -c "$c" || die "smoke test failed: $c"; done

# ---- 2. compose up -d + down ----------------------------------------------------------------------
# The app as Tests/Scripts/api/compose/compose.sh drives it (legacy builder, BASE_IMAGE, WEB_PORT),
# as its own project. `down` keeps the built web image and the volume, so only the first cycle
# builds. Each cycle also appends its two phases to PHASES ("UP_MS DOWN_MS").
cat >"$WORKDIR/compose-cycle.sh" <<EOF
#!/usr/bin/env bash
# compose-cycle.sh DOCKER_HOST PHASES [DOWN_FLAGS...]: one \`docker compose up -d\` + \`down\` of the app.
set -euo pipefail
export DOCKER_HOST=\$1 DOCKER_BUILDKIT=0 COMPOSE_DOCKER_CLI_BUILD=0 BASE_IMAGE=busybox:latest WEB_PORT=18234
phases=\$2
shift 2
c=($(printf '%q ' "$DOCKER") compose -p $PROJECT -f $(printf '%q' "$APP/compose.yaml"))
t0=\$(date +%s%N)
"\${c[@]}" up -d
t1=\$(date +%s%N)
"\${c[@]}" down "\$@"
t2=\$(date +%s%N)
echo "\$(((t1 - t0) / 1000000)) \$(((t2 - t1) / 1000000))" >>"\$phases"
EOF
compose_cmd() {  # compose_cmd HOST ENGINE VARIANT [DOWN_FLAGS...]
  local h=$1 e=$2 v=$3
  shift 3
  echo "bash $WORKDIR/compose-cycle.sh $h $WORKDIR/phases-$e-$v.txt $*"
}
rm -f "$WORKDIR"/phases-*.txt
for c in "$(compose_cmd "$BH" berth smoke)" "$(compose_cmd "$DH" dockerd smoke)"; do
  out=$($c 2>&1) || { echo "$out" | tail -20 >&2; die "smoke test failed: $c"; }
done

LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)
say "hyperfine: docker run --rm busybox true ($RUNS runs, $WARMUP warm-up)"
hyperfine -N --warmup "$WARMUP" --runs "$RUNS" --export-json "$WORKDIR/run.json" \
  --command-name berth "$RUN_BERTH" --command-name dockerd "$RUN_DOCKER" >/dev/null
RSS_BERTH_AFTER_RUNS=$(rss_kib "$BERTH_PID")
# `down` as the issue states it (every service of the app ends on TERM), and `down -t 0` (SIGKILL
# at once, no grace).
for v in down down-t0; do
  flags=""; [ "$v" = down-t0 ] && flags="-t 0"
  say "hyperfine: docker compose up -d + $v ($COMPOSE_RUNS runs, $COMPOSE_WARMUP warm-up)"
  # shellcheck disable=SC2086
  hyperfine -N --warmup "$COMPOSE_WARMUP" --runs "$COMPOSE_RUNS" --export-json "$WORKDIR/compose-$v.json" \
    --command-name berth "$(compose_cmd "$BH" berth "$v" $flags)" \
    --command-name dockerd "$(compose_cmd "$DH" dockerd "$v" $flags)" >/dev/null
done
RSS_BERTH_AFTER_COMPOSE=$(rss_kib "$BERTH_PID")

# ---- 3. the server's memory with MANY containers ----------------------------------------------------
many() {  # many HOST: wall seconds (/usr/bin/time) until MANY `docker run -d` started at once returned
  /usr/bin/time -f %e -o "$WORKDIR/many.time" bash -c '
    for i in $(seq 1 "$1"); do "$2" -H "$3" run -d busybox sleep 600 >/dev/null 2>&1 & done; wait' _ "$MANY" "$DOCKER" "$1"
  cat "$WORKDIR/many.time"
}
say "$MANY containers created and started through the API (docker run -d, all at once), each engine"
MANY_BERTH=$(many "$BH")
BERTH_RUNNING=$("$DOCKER" -H "$BH" ps -q | wc -l)
sleep 2
RSS_BERTH_MANY=$(rss_kib "$BERTH_PID")
SPLIT_BERTH_MANY=$(rss_split "$BERTH_PID")
HWM_BERTH=$(hwm_kib "$BERTH_PID")
remove_all "$BH"
RSS_BERTH_AFTER_RM=$(rss_kib "$BERTH_PID")
RSS_DOCKERD_IDLE=$(rss_kib "$DOCKERD_PID")
CONTAINERD_PID=$(containerd_pid)
RSS_CONTAINERD_IDLE=$(rss_kib "$CONTAINERD_PID")
MANY_DOCKER=$(many "$DH")
DOCKER_RUNNING=$("$DOCKER" -H "$DH" ps -q | wc -l)
sleep 2
RSS_DOCKERD_MANY=$(rss_kib "$DOCKERD_PID")
RSS_CONTAINERD_MANY=$(rss_kib "$CONTAINERD_PID")
remove_all "$DH"
LOAD_AFTER=$(cut -d' ' -f1-3 /proc/loadavg)

echo
python3 - "$WORKDIR" "$COMPOSE_RUNS" <<'PY'
import json, statistics, sys
work, n = sys.argv[1], int(sys.argv[2])
def load(name):
    return {r["command"]: r["times"] for r in json.load(open(f"{work}/{name}.json"))["results"]}
def phases(engine, variant):  # medians (ms) of the timed cycles' up and down phases
    rows = [tuple(map(int, l.split())) for l in open(f"{work}/phases-{engine}-{variant}.txt")][-n:]
    return statistics.median(r[0] for r in rows), statistics.median(r[1] for r in rows)
print(f"{'scenario':<30}{'engine':<9}{'median ms':>10}{'min ms':>9}{'max ms':>9}{'/ dockerd':>11}{'up ms':>8}{'down ms':>9}")
verdicts = []
for title, name, limit in (("docker run --rm busybox true", "run", 0.25),
                           ("compose up -d + down", "compose-down", 1 / 3),
                           ("compose up -d + down -t 0", "compose-down-t0", None)):
    res = load(name)
    med = {e: statistics.median(t) * 1000 for e, t in res.items()}
    for e in ("berth", "dockerd"):
        t = res[e]
        extra = "".join(f"{x:>{w}.0f}" for x, w in zip(phases(e, name[8:]), (8, 9))) if name != "run" else ""
        print(f"{title:<30}{e:<9}{med[e]:>10.1f}{min(t)*1000:>9.1f}{max(t)*1000:>9.1f}{med[e] / med['dockerd']:>11.2f}{extra}")
    r = med["berth"] / med["dockerd"]
    if limit is not None:
        verdicts.append(f"target {title} (berth at most {limit:.2f} x dockerd): {'MET' if r <= limit else 'NOT MET'} (berth / dockerd {r:.2f})")
print("\n".join(verdicts))
PY
mib() { python3 -c "print(f'{$1 / 1024:.1f}')"; }
echo
echo "berth serve VmRSS (MiB): started $(mib "$RSS_BERTH_START"), idle with the image $(mib "$RSS_BERTH_IDLE"),"\
 "after the run --rm runs $(mib "$RSS_BERTH_AFTER_RUNS"), after the compose runs $(mib "$RSS_BERTH_AFTER_COMPOSE"),"\
 "with $MANY containers $(mib "$RSS_BERTH_MANY") ($BERTH_RUNNING running; VmHWM $(mib "$HWM_BERTH")), after removing them $(mib "$RSS_BERTH_AFTER_RM")"
if [ "$RSS_BERTH_MANY" -lt $((30 * 1024)) ]; then verdict=MET; else verdict="NOT MET"; fi
echo "target berth serve VmRSS with $MANY containers under 30 MiB: $verdict ($(mib "$RSS_BERTH_MANY") MiB)"
echo "  berth serve VmRSS split (MiB): idle with the image $SPLIT_BERTH_IDLE; with $MANY containers $SPLIT_BERTH_MANY"
echo "dockerd VmRSS (MiB): idle $(mib "$RSS_DOCKERD_IDLE") + containerd $(mib "$RSS_CONTAINERD_IDLE");"\
 "with $MANY containers $(mib "$RSS_DOCKERD_MANY") + containerd $(mib "$RSS_CONTAINERD_MANY") ($DOCKER_RUNNING running)"
echo "$MANY docker run -d at once (wall s until all returned): berth $MANY_BERTH, dockerd $MANY_DOCKER"
echo "load average before: $LOAD_BEFORE, after: $LOAD_AFTER ($(nproc) CPUs); $("$DOCKER" --version);"\
 "Compose $("$DOCKER" compose version --short); dockerd $("$DOCKER" -H "$DH" version --format '{{.Server.Version}}' 2>/dev/null || echo '?'); $(hyperfine --version)"
