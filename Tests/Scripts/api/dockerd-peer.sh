#!/usr/bin/env bash
# A private Debian dockerd (20.10, API 1.41) to validate the API client tests against, so that a
# failure against `berth serve` is Berth's and not the tests'. It runs in a network namespace of
# its own (loopback up): its docker0, veths and iptables rules live and die in there, and the
# host's own dockerd and docker0 are never touched. Everything that must reach what dockerd
# publishes (curl to -p ports, the registry that dockerd pulls from) runs in that namespace too.
#
#   dockerd-peer.sh run [CMD ARGS...]   start dockerd, run CMD (default: run-all.sh DOCKER_HOST) in its
#                                       network namespace with DOCKER_HOST exported, stop it, check
#                                       the host is as found; exits with CMD's status (or 1).
#                                       Outputs: API_TEST_OUT (default /var/tmp/berth-api-tests/out-dockerd)
#   dockerd-peer.sh start               start it and print its DOCKER_HOST (for working by hand)
#   dockerd-peer.sh exec CMD ARGS...    run CMD in its network namespace, DOCKER_HOST exported
#   dockerd-peer.sh stop                stop it and remove all it made (also what a killed run left)
#
# Its own --data-root (/var/tmp/berth-api-dockerd), --exec-root, --pidfile, socket
# (unix:///run/berth-api-dockerd.sock) and cgroup parent. Needs root, docker.io, iproute2.
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/../../.." && pwd)
source "$REPO/bench/lib/host-state.sh"

WORK=${API_DOCKERD_WORK:-/var/tmp/berth-api-dockerd}
EXEC_ROOT=/run/berth-api-dockerd
SOCK=/run/berth-api-dockerd.sock
PIDFILE=/run/berth-api-dockerd.pid
CGROUP_PARENT=/berth-api-dockerd
export DOCKER_HOST=unix://$SOCK

die() { echo "dockerd-peer.sh: $*" >&2; exit 1; }
cmdline_of() { tr '\0' ' ' 2>/dev/null <"/proc/$1/cmdline" || true; }

# dockerd_pid: the pid of our dockerd (its command line names our socket), or nothing.
dockerd_pid() {
  local pid
  pid=$(cat "$PIDFILE" 2>/dev/null) || return 1
  [[ "$(cmdline_of "$pid")" == *"$SOCK"* ]] && echo "$pid"
}

in_netns() {
  local pid
  pid=$(dockerd_pid) || die "dockerd is not running (dockerd-peer.sh start)"
  nsenter --net="/proc/$pid/ns/net" "$@"
}

stop() {
  local pid p ids
  if pid=$(dockerd_pid); then
    ids=$(timeout 20 /usr/bin/docker ps -aq 2>/dev/null || true)
    # shellcheck disable=SC2086
    [ -z "$ids" ] || timeout 60 /usr/bin/docker rm -f $ids >/dev/null 2>&1 || true
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 1 80); do kill -0 "$pid" 2>/dev/null || break; sleep 0.25; done
    kill -KILL "$pid" 2>/dev/null || true
  fi
  # dockerd's containerd, its shims and docker-proxy name the exec root or the data root; the
  # registry that run-all.sh started in the namespace names its own dir.
  for p in /proc/[0-9]*; do
    pid=${p#/proc/}
    case "$(cmdline_of "$pid")" in *"$EXEC_ROOT"* | *"$WORK"*) kill -KILL "$pid" 2>/dev/null || true ;; esac
  done
  sleep 0.5
  awk -v a="$WORK" -v b="$EXEC_ROOT" '$5 == a || index($5, a "/") == 1 || $5 == b || index($5, b "/") == 1 { print $5 }' \
    /proc/self/mountinfo | sort -r | while read -r m; do umount -l "$m" 2>/dev/null || true; done
  rmdir /sys/fs/cgroup/*/"${CGROUP_PARENT#/}"/* /sys/fs/cgroup/*/"${CGROUP_PARENT#/}" 2>/dev/null || true
  local snapshot
  snapshot=$(mktemp)
  [ -e "$WORK/host-state" ] && cp "$WORK/host-state" "$snapshot"
  rm -rf "$WORK" "$EXEC_ROOT" "$SOCK" "$PIDFILE"
  # The host as found: links, iptables, mounts, ip_forward. Other work on the machine (tests, other
  # engines) shows up in the difference too, so only what names this dockerd fails the run;
  # the rest is shown.
  local rc=0
  if [ -s "$snapshot" ] && ! host_state_check "$snapshot" dockerd-peer.sh 2>"$snapshot.diff"; then
    if grep -E -e "$WORK|$EXEC_ROOT|berth-api" "$snapshot.diff" >&2; then
      echo "dockerd-peer.sh: error: the lines above are this dockerd's, left on the host" >&2
      rc=1
    else
      echo "dockerd-peer.sh: note: the host changed meanwhile, by other work (nothing of this dockerd's):" >&2
      sed -n '2,$p' "$snapshot.diff" | head -20 >&2
    fi
  fi
  rm -f "$snapshot" "$snapshot.diff"
  return "$rc"
}

start() {
  [ "$(id -u)" = 0 ] || die "run as root"
  command -v dockerd >/dev/null || die "no dockerd (apt-get install docker.io)"
  stop >/dev/null 2>&1 || true
  mkdir -p "$WORK"
  host_state_snapshot "$WORK/host-state"
  echo '{}' >"$WORK/daemon.json"   # /etc/docker/daemon.json must not change what is tested
  # setsid: dockerd outlives this script for "start"; its output goes to a file.
  setsid unshare --net sh -c 'ip link set lo up && exec "$0" "$@"' dockerd \
    --config-file "$WORK/daemon.json" --data-root "$WORK/data" --exec-root "$EXEC_ROOT" \
    --pidfile "$PIDFILE" -H "unix://$SOCK" --exec-opt native.cgroupdriver=cgroupfs \
    --cgroup-parent "$CGROUP_PARENT" --storage-driver overlay2 \
    </dev/null >"$WORK/dockerd.log" 2>&1 &
  for _ in $(seq 1 240); do
    timeout 5 /usr/bin/docker version >/dev/null 2>&1 && break
    sleep 0.25
  done
  timeout 5 /usr/bin/docker version >/dev/null 2>&1 || { tail -n 20 "$WORK/dockerd.log" >&2; die "dockerd did not come up (log: $WORK/dockerd.log)"; }
  echo "$DOCKER_HOST"
}

case ${1:-} in
  start) start ;;
  stop) stop ;;
  exec)
    shift
    [ $# -gt 0 ] || die "exec needs a command"
    in_netns "$@"
    ;;
  run)
    shift
    [ $# -gt 0 ] || set -- "$HERE/run-all.sh" "$DOCKER_HOST"
    # Under the work dir, so that stop also ends a registry a killed run left.
    export API_TEST_BASE=${API_TEST_BASE:-$WORK/tests}
    # ... but the normalized outputs and logs are kept, to compare with another engine's.
    export API_TEST_OUT=${API_TEST_OUT:-/var/tmp/berth-api-tests/out-dockerd}
    trap 'stop || true' INT TERM
    start >/dev/null
    rc=0
    in_netns "$@" || rc=$?
    stop || rc=1
    exit "$rc"
    ;;
  *) sed -n '2,16p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2 ;;
esac
