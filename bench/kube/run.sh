#!/usr/bin/env bash
# bench/kube/run.sh — `berth serve`'s Kubernetes side, driven by the real kubectl, against the
# targets of issues 18 and 19, with podman kube play beside the Pod start (the closest peer on one
# machine; it has no API, so only that row has a ratio):
#   1. a Pod applied until Ready (kubectl apply + kubectl wait)            target under 1 s
#      beside `podman kube play` of the same Pod until it runs
#   2. `kubectl get pods` with the MANY Pods of 4 in place: the API's answer target under 50 ms
#      to the request kubectl makes (curl), and kubectl as a whole beside its own start
#   3. a Deployment (3 replicas) + Service applied until every replica is
#      Ready and the cluster IP answers                                   target under 2 s
#   4. `berth serve` VmRSS with MANY Pods running                         target under 40 MiB
#   5. requests/s through a cluster IP vs directly to the Pod              target at least 0.9x
#      and through the Ingress (Berth's proxy) vs directly                target at least 0.5x
#      (wrk, 2 threads x 16 connections, 3 interleaved rounds of 5 s, to one busybox httpd Pod serving a 3-byte
#      index.html; wrk is installed from Debian when missing)
#   6. a rolling update of 10 replicas, maxSurge 1, maxUnavailable 0,     target under 20 s
#      readiness probe period 1 s, until `kubectl rollout status` returns  (2 x 10 x period)
#
#   bench/kube/run.sh [WORKDIR]       WORKDIR defaults to /var/tmp/berth-bench-kube
#
# Environment: ONLY=throughput runs row 5 alone, ONLY=memory row 4 (without podman and hyperfine); RUNS (timed runs
# of 1-3, default 10), MANY (default 100), BERTH (default
# .build-static/release/berth; berth-supervisor, berth-runtime, berth-dns beside it), KUBECTL
# (default the machine image's kubectl 1.33).
#
# The server runs in a network namespace of its own (its pod bridge, veths, iptables rules and
# DNS server live and die there), its root on a fresh journaled ext4 loop filesystem; the host is
# checked to be left as found.
set -euo pipefail

case ${1:-} in -h | --help) sed -n '2,28p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;; esac
RUNS=${RUNS:-10}
MANY=${MANY:-100}
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
WORKDIR=${1:-/var/tmp/berth-bench-kube}
BERTH=${BERTH:-$REPO/.build-static/release/berth}
KUBECTL=${KUBECTL:-/usr/lib/google-cloud-sdk/bin/kubectl.1.33}
die() { printf 'bench/kube: error: %s\n' "$*" >&2; exit 1; }
say() { printf '==> %s\n' "$*"; }
[[ $(id -u) -eq 0 ]] || die "must run as root"
ONLY=${ONLY:-}
if ! command -v wrk >/dev/null; then
  say "installing wrk (Debian's package) for the requests/s rows"
  apt-get update -qq >/dev/null 2>&1 || true
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null || die "cannot install wrk"
fi
if [ -n "$ONLY" ]; then tools=("$KUBECTL" umoci python3 unshare nsenter curl wrk); else
  tools=(hyperfine "$KUBECTL" podman catatonit skopeo umoci python3 unshare nsenter curl wrk); fi
for cmd in "${tools[@]}"; do
  command -v "$cmd" >/dev/null || die "missing $cmd (podman kube play's pause image needs Debian's catatonit)"
done
[ -x "$BERTH" ] || die "no berth at $BERTH (scripts/build-release --scratch-path .build-static)"
BIN=$(dirname "$BERTH")
export BERTH_RUNTIME=$BIN/berth-runtime BERTH_DNS=$BIN/berth-dns

mkdir -p "$WORKDIR"
WORKDIR=$(cd "$WORKDIR" && pwd)
FS_IMG=$WORKDIR/root.ext4
FS_DIR=$WORKDIR/fs
RUN=/run/berth-bench-kube
PODMAN_ROOT=$WORKDIR/podman
SERVE_PID=""
NETNS_INODE=""
source "$REPO/bench/lib/host-state.sh"
source "$REPO/bench/lib/loop-fs.sh"

berth() { "$BERTH" --root "$FS_DIR/berth" --runroot "$RUN" "$@"; }
in_ns() { nsenter --net="/proc/$SERVE_PID/ns/net" -- "$@"; }
k() { in_ns "$KUBECTL" --kubeconfig "$FS_DIR/berth/kube/kubeconfig" "$@"; }
podman_() { podman --root "$PODMAN_ROOT/root" --runroot "$PODMAN_ROOT/run" "$@"; }
# Podman's own configuration for the run (as Tests/Scripts/engines/podman.sh): modest ulimits (as root
# it asks for more open files than this machine's hard limit allows), cgroupfs, no journald.
export CONTAINERS_CONF=$WORKDIR/containers.conf

cleanup() {
  set +e
  if [ -n "$SERVE_PID" ] && kill -0 "$SERVE_PID" 2>/dev/null; then
    kill -TERM "$SERVE_PID"; for _ in $(seq 1 80); do kill -0 "$SERVE_PID" 2>/dev/null || break; sleep 0.25; done
  fi
  ids=$(berth ps -aq 2>/dev/null); [ -z "$ids" ] || berth rm -f $ids >/dev/null 2>&1
  if [ -n "$NETNS_INODE" ]; then
    for p in /proc/[0-9]*; do
      case "$( { tr '\0' ' ' <"$p/cmdline"; } 2>/dev/null)" in *"--config-dir /run/berth-dns.netns-$NETNS_INODE"*) kill -KILL "${p#/proc/}" ;; esac
    done
    rm -rf "/run/berth-dns.netns-$NETNS_INODE"
  fi
  podman_ pod rm -af -t 0 >/dev/null 2>&1; podman_ system reset -f >/dev/null 2>&1
  sleep 0.5
  awk -v d="$WORKDIR" -v r="$RUN" '$5 == d || index($5, d "/") == 1 || $5 == r || index($5, r "/") == 1 { print $5 }' /proc/self/mountinfo |
    sort -r | while read -r m; do umount -l "$m" 2>/dev/null; done
  rm -rf "$RUN" "$PODMAN_ROOT" "$WORKDIR/layout" "$WORKDIR/busybox.tar" "$WORKDIR/containers.conf"
  rm -f "$FS_IMG"; rmdir "$FS_DIR" 2>/dev/null
}
HOST_STATE=$(mktemp)
trap 'rc=$?; cleanup; host_state_check "$HOST_STATE" bench/kube || rc=1; rm -f "$HOST_STATE"; exit $rc' EXIT
cleanup
host_state_snapshot "$HOST_STATE"
loop_fs_mount "$FS_IMG" "$FS_DIR" 8G "berth's root"

say "image: busybox (umoci, from Debian's busybox-static)"
bash "$REPO/Tests/Scripts/registry/make-busybox-image.sh" "$WORKDIR/layout" >/dev/null
if [ -n "$ONLY" ]; then tar -C "$WORKDIR/layout" -cf "$WORKDIR/busybox.tar" .; else
  skopeo copy --quiet "oci:$WORKDIR/layout:latest" "docker-archive:$WORKDIR/busybox.tar:busybox:latest"; fi

say "starting berth serve ($BERTH) in a network namespace of its own"
mkdir -p "$RUN"
# shellcheck disable=SC2016  # expanded by the inner shell
setsid unshare --net sh -c 'ip link set lo up && exec "$0" "$@"' "$BERTH" --root "$FS_DIR/berth" --runroot "$RUN" serve \
  -H "unix://$RUN/api.sock" --pidfile "$RUN/serve.pid" --kube-listen 127.0.0.1:6443 </dev/null >"$WORKDIR/serve.log" 2>&1 &
SERVE_PID=$!
for _ in $(seq 1 200); do [ -s "$FS_DIR/berth/kube/kubeconfig" ] && k get ns >/dev/null 2>&1 && break; sleep 0.1; done
k get ns >/dev/null || { tail -20 "$WORKDIR/serve.log"; die "berth serve did not come up"; }
NETNS_INODE=$(stat -L -c %i "/proc/$SERVE_PID/ns/net")
berth load -q -i "$WORKDIR/busybox.tar" >/dev/null
[ -z "$ONLY" ] || berth tag "$(berth images -q | head -1)" busybox:latest >/dev/null

cat >"$WORKDIR/pod.yaml" <<'YAML'
apiVersion: v1
kind: Pod
metadata: {name: bench}
spec:
  terminationGracePeriodSeconds: 0
  containers:
  - {name: c, image: busybox:latest, imagePullPolicy: IfNotPresent, command: [sleep, "3600"]}
YAML
cat >"$WORKDIR/app.yaml" <<'YAML'
apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  replicas: 3
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      terminationGracePeriodSeconds: 0
      containers:
      - {name: web, image: busybox:latest, imagePullPolicy: IfNotPresent, command: [httpd, -f, -p, "8080"],
         readinessProbe: {tcpSocket: {port: 8080}, periodSeconds: 1}}
---
apiVersion: v1
kind: Service
metadata: {name: web}
spec:
  selector: {app: web}
  ports: [{port: 80, targetPort: 8080}]
YAML
K="nsenter --net=/proc/$SERVE_PID/ns/net -- $KUBECTL --kubeconfig $FS_DIR/berth/kube/kubeconfig"

throughput() {
  # ---- 5. requests/s: directly to the Pod, through the cluster IP, through the Ingress -------------
  cat >"$WORKDIR/tput.yaml" <<'YAML'
apiVersion: apps/v1
kind: Deployment
metadata: {name: tput}
spec:
  replicas: 1
  selector: {matchLabels: {app: tput}}
  template:
    metadata: {labels: {app: tput}}
    spec:
      terminationGracePeriodSeconds: 0
      containers:
      - {name: web, image: busybox:latest, imagePullPolicy: IfNotPresent,
         command: [sh, -c, "mkdir -p /www && echo ok > /www/index.html && httpd -p 8081 -h /www && httpd -p 8082 -h /www && exec httpd -f -p 8080 -h /www"],
         readinessProbe: {tcpSocket: {port: 8080}, periodSeconds: 1}}
---
apiVersion: v1
kind: Service
metadata: {name: tput}
spec:
  selector: {app: tput}
  ports: [{name: http, port: 80, targetPort: 8081}]
---
apiVersion: v1
kind: Service
metadata: {name: tput-ingress}
spec:
  selector: {app: tput}
  ports: [{name: http, port: 80, targetPort: 8082}]
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: tput}
spec:
  ingressClassName: berth
  rules:
  - host: tput.example
    http:
      paths: [{path: /, pathType: Prefix, backend: {service: {name: tput-ingress, port: {number: 80}}}}]
YAML
  $K apply -f "$WORKDIR/tput.yaml" >/dev/null
  $K rollout status deployment/tput --timeout=120s >/dev/null || die "the throughput Deployment is not ready"
  local pod_ip svc_ip
  pod_ip=$($K get pods -l app=tput -o jsonpath='{.items[0].status.podIP}')
  svc_ip=$($K get svc tput -o jsonpath='{.spec.clusterIP}')
  for url in "http://$pod_ip:8080/" "http://$svc_ip/"; do
    for _ in $(seq 1 100); do in_ns curl -sf -o /dev/null --max-time 1 "$url" && break; sleep 0.1; done
  done
  for _ in $(seq 1 100); do in_ns curl -sf -o /dev/null --max-time 1 -H 'Host: tput.example' http://127.0.0.1/ && break; sleep 0.1; done
  in_ns curl -sf -o /dev/null -H 'Host: tput.example' http://127.0.0.1/ || die "the Ingress does not answer"
  # Interleaved rounds, the median of each: a load that drifts (other work on the machine) hits all three alike.
  say "wrk: 2 threads x 16 connections x 5 s, 3 rounds of: the Pod, the cluster IP, the Ingress"
  rm -f "$WORKDIR"/wrk-*.txt
  # busybox httpd closes every connection, leaving a TIME_WAIT socket in the Pod per request. Each path
  # has a port of its own in the Pod (8080 direct, 8081 the Service, 8082 the Ingress's Service): a SYN
  # of one path landing on a TIME_WAIT another path left, whose timestamps came from another clock
  # offset (the kernel keys it on the addresses before NAT), is refused (PAWS) and retried after 1 s.
  # In the server's namespace (nothing outside it changes), closed ones give their ports back at once and conntrack forgets them soon.
  in_ns sysctl -qw net.ipv4.tcp_tw_reuse=1 net.ipv4.ip_local_port_range="1024 65000" >/dev/null
  in_ns sysctl -qw net.netfilter.nf_conntrack_tcp_timeout_time_wait=1 >/dev/null 2>&1 || true
  wrk_() { in_ns wrk -t2 -c16 -d5s "$@"; }
  for round in 1 2 3; do
    # Each round in another order, so a drift does not always fall on the same row.
    for row in $(echo "pod svc ing pod svc" | cut -d' ' -f"$round-$((round + 2))"); do
      case $row in
        pod) wrk_ "http://$pod_ip:8080/" >"$WORKDIR/wrk-pod-$round.txt" ;;
        svc) wrk_ "http://$svc_ip/" >"$WORKDIR/wrk-svc-$round.txt" ;;
        ing) wrk_ -H 'Host: tput.example' http://127.0.0.1/ >"$WORKDIR/wrk-ing-$round.txt" ;;
      esac
      sleep 2
    done
  done
  $K delete -f "$WORKDIR/tput.yaml" --wait >/dev/null
  python3 - "$WORKDIR" <<'PY'
import re, sys
work = sys.argv[1]
import statistics
def rate(name):
    rates, bad, failed = [], 0, []
    for round in (1, 2, 3):
        text = open(f"{work}/wrk-{name}-{round}.txt").read()
        rates.append(float(re.search(r"Requests/sec:\s+([\d.]+)", text).group(1)))
        errors = re.search(r"Non-2xx or 3xx responses: (\d+)", text)
        bad += int(errors.group(1)) if errors else 0
        socket = re.search(r"Socket errors: (.*)", text)
        if socket: failed.append(socket.group(1))
    return statistics.median(rates), str(bad), "; ".join(failed) or "none", "/".join(f"{r:.0f}" for r in rates)
pod, svc, ing = rate("pod"), rate("svc"), rate("ing")
print(f"{'requests/s (wrk -t2 -c16 -d5s x 3, busybox httpd, 3-byte file)':<64}{'median':>8}  {'rounds':<18} non-2xx  socket errors")
for title, (value, bad, failed, rounds) in (("directly to the Pod", pod), ("through the cluster IP", svc), ("through the Ingress", ing)):
    print(f"{title:<64}{value:>8.0f}  {rounds:<18} {bad:>7}  {failed}")
for title, value, limit in (("cluster IP / Pod", svc[0] / pod[0], 0.9), ("Ingress / Pod", ing[0] / pod[0], 0.5)):
    print(f"target {title} at least {limit}x: {'MET' if value >= limit else 'NOT MET'} ({value:.2f}x)")
PY
}
# ---- 4. memory with MANY Pods --------------------------------------------------------------------------
memory() {
  say "$MANY Pods applied at once; the server's VmRSS once they all run"
  RSS_IDLE=$(awk '/^VmRSS:/ { print $2 }' "/proc/$SERVE_PID/status")
  python3 - "$MANY" >"$WORKDIR/many.yaml" <<'PY'
import sys
for i in range(int(sys.argv[1])):
    print(f"---\napiVersion: v1\nkind: Pod\nmetadata: {{name: p{i}}}\nspec:\n  terminationGracePeriodSeconds: 0\n"
          f"  containers: [{{name: c, image: busybox:latest, imagePullPolicy: IfNotPresent, command: [sleep, '3600']}}]")
PY
  start=$(date +%s.%N)
  k apply -f "$WORKDIR/many.yaml" >/dev/null
  k wait --for=condition=Ready pods --all --timeout=600s >/dev/null || die "not every Pod became Ready"
  MANY_SECONDS=$(python3 -c "print(f'{$(date +%s.%N) - $start:.1f}')")
  sleep 2
  RSS_START=$(awk '/^VmRSS:/ { print $2 }' "/proc/$SERVE_PID/status")
  # The start of 100 Pods leaves garbage in malloc's arenas that goes back over the next seconds
  # (IdleTrimmer, at most every 5 s while the kubelet works): the steady state is the median of ten
  # samples, one a second, from 10 s after the Pods were Ready.
  sleep 8
  : >"$WORKDIR/rss.samples"
  for _ in $(seq 1 10); do
    awk '/^VmRSS:/ { r = $2 } /^RssAnon:/ { a = $2 } /^RssFile:/ { f = $2 } END { print r, a, f }' "/proc/$SERVE_PID/status" >>"$WORKDIR/rss.samples"
    sleep 1
  done
  RSS_MANY=$(sort -n "$WORKDIR/rss.samples" | awk 'NR == 5 { print $1 }')
  SPLIT_MANY=$(sort -n "$WORKDIR/rss.samples" | awk 'NR == 5 { printf "anon %.1f + file %.1f", $2 / 1024, $3 / 1024 }')
  RSS_HWM=$(awk '/^VmHWM:/ { print $2 }' "/proc/$SERVE_PID/status")
}
mib() { python3 -c "print(f'{$1 / 1024:.1f}')"; }
memory_report() {
  echo "berth serve VmRSS (MiB): idle $(mib "$RSS_IDLE"); with $MANY Pods running $(mib "$RSS_MANY") ($SPLIT_MANY; median of 10 s from 10 s after Ready), 2 s after Ready $(mib "$RSS_START"), peak (VmHWM) $(mib "$RSS_HWM"); $MANY Pods Ready in ${MANY_SECONDS} s"
  if [ "$RSS_MANY" -lt $((40 * 1024)) ]; then verdict=MET; else verdict="NOT MET"; fi
  echo "target berth serve VmRSS with $MANY Pods under 40 MiB: $verdict"
}
if [ "$ONLY" = memory ]; then
  memory; memory_report
  k delete -f "$WORKDIR/many.yaml" --wait >/dev/null
  exit 0
fi
if [ "$ONLY" = throughput ]; then
  throughput
  echo "load average: $(cut -d' ' -f1-3 /proc/loadavg) ($(nproc) CPUs); berth $BERTH; $(wrk --version 2>&1 | head -1)"
  exit 0
fi

# ---- 1. a Pod until Ready, beside podman kube play -------------------------------------------------
mkdir -p "$PODMAN_ROOT"
cat >"$CONTAINERS_CONF" <<CONF
[containers]
default_ulimits = ["nofile=1024:1024", "nproc=4096:4096"]
log_driver = "k8s-file"
[engine]
cgroup_manager = "cgroupfs"
# runc: crun refuses this machine's hybrid cgroups (a cgroup2 with hugetlb beside v1).
runtime = "runc"
events_logger = "file"
events_logfile_path = "$PODMAN_ROOT/events.log"
CONF
say "podman's image store: the same busybox"
podman_ load -q -i "$WORKDIR/busybox.tar" >/dev/null
for c in "$K apply -f $WORKDIR/pod.yaml" "$K wait --for=condition=Ready pod/bench --timeout=60s" "$K delete pod bench --wait"; do $c >/dev/null || die "smoke: $c"; done
say "hyperfine: Pod apply until Ready ($RUNS runs), and podman kube play of it"
hyperfine -N --runs "$RUNS" --warmup 1 --export-json "$WORKDIR/pod.json" \
  --prepare "$K delete pod bench --ignore-not-found --wait" \
  --command-name berth "bash -c '$K apply -f $WORKDIR/pod.yaml >/dev/null && $K wait --for=condition=Ready pod/bench --timeout=60s >/dev/null'" \
  --prepare "bash -c 'podman --root $PODMAN_ROOT/root --runroot $PODMAN_ROOT/run kube down $WORKDIR/pod.yaml >/dev/null 2>&1 || true'" \
  --command-name "podman kube play" "podman --root $PODMAN_ROOT/root --runroot $PODMAN_ROOT/run kube play --network none $WORKDIR/pod.yaml" >/dev/null
$K delete pod bench --wait >/dev/null
podman_ kube down "$WORKDIR/pod.yaml" >/dev/null 2>&1 || true

# ---- 3. Deployment + Service until every replica is Ready and the cluster IP answers ----------------
say "hyperfine: Deployment (3) + Service until Ready and the cluster IP answers ($RUNS runs)"
cat >"$WORKDIR/app-up.sh" <<SH
set -e
$K apply -f $WORKDIR/app.yaml >/dev/null
$K rollout status deployment/web --timeout=60s >/dev/null
ip=\$($K get svc web -o jsonpath='{.spec.clusterIP}')
until nsenter --net=/proc/$SERVE_PID/ns/net -- curl -s -o /dev/null --max-time 1 http://\$ip/; do sleep 0.02; done
SH
cat >"$WORKDIR/app-down.sh" <<SH
$K delete -f $WORKDIR/app.yaml --ignore-not-found --wait >/dev/null
until [ -z "\$($K get pods --no-headers 2>/dev/null)" ]; do sleep 0.1; done
SH
bash "$WORKDIR/app-up.sh" && bash "$WORKDIR/app-down.sh" || die "smoke: the Deployment and Service"
hyperfine -N --runs "$RUNS" --export-json "$WORKDIR/app.json" --prepare "bash $WORKDIR/app-down.sh" \
  --command-name berth "bash $WORKDIR/app-up.sh" >/dev/null

# ---- 6. a rolling update of 10 replicas, maxSurge 1 -------------------------------------------------
# maxUnavailable 0: one new Pod at a time, each waiting for its readiness probe (period 1 s), so the
# update is bound by the probes; Kubernetes' own pace would be about 10 x period. Timed from the
# template change until `kubectl rollout status` returns.
say "a rolling update of 10 replicas (maxSurge 1, maxUnavailable 0, readiness period 1 s), 3 runs"
cat >"$WORKDIR/roll.yaml" <<'YAML'
apiVersion: apps/v1
kind: Deployment
metadata: {name: roll}
spec:
  replicas: 10
  selector: {matchLabels: {app: roll}}
  strategy: {type: RollingUpdate, rollingUpdate: {maxSurge: 1, maxUnavailable: 0}}
  template:
    metadata: {labels: {app: roll}}
    spec:
      terminationGracePeriodSeconds: 0
      containers:
      - {name: web, image: busybox:latest, imagePullPolicy: IfNotPresent, command: [httpd, -f, -p, "8080"],
         env: [{name: ROUND, value: "0"}], readinessProbe: {tcpSocket: {port: 8080}, periodSeconds: 1}}
YAML
k apply -f "$WORKDIR/roll.yaml" >/dev/null
k rollout status deployment/roll --timeout=300s >/dev/null || die "the rolling-update Deployment is not ready"
: >"$WORKDIR/roll.times"
for round in 1 2 3; do
  start=$(date +%s.%N)
  k set env deployment/roll ROUND=$round >/dev/null
  k rollout status deployment/roll --timeout=300s >/dev/null || die "rolling update $round did not finish"
  python3 -c "print($(date +%s.%N) - $start)" >>"$WORKDIR/roll.times"
done
k delete -f "$WORKDIR/roll.yaml" --wait >/dev/null
ROLL=$(python3 -c "import statistics; print(f'{statistics.median(float(l) for l in open(\"$WORKDIR/roll.times\")):.1f}')")
ROLLS=$(paste -sd/ "$WORKDIR/roll.times" | python3 -c "import sys; print('/'.join(f'{float(x):.1f}' for x in sys.stdin.read().strip().split('/')))")

memory

# ---- 2. kubectl get pods with the MANY Pods in place ---------------------------------------------------
# kubectl's own start (before it sends anything) is measured beside it, and the API's answer to the very
# request kubectl makes (a Table, TLS handshake included) with curl.
k get pods >/dev/null   # discovery cached, as in a user's shell
TOKEN=$(cat "$FS_DIR/berth/kube/token")
TABLE='application/json;as=Table;v=v1;g=meta.k8s.io,application/json;as=Table;v=v1beta1;g=meta.k8s.io,application/json'
say "hyperfine: kubectl get pods with $MANY Pods, and the API's answer to the same list ($RUNS x 3 runs)"
hyperfine -N --runs $((RUNS * 3)) --warmup 2 --export-json "$WORKDIR/get.json" \
  --command-name "kubectl get pods" "$K get pods" \
  --command-name "kubectl version --client (no request)" "$K version --client" \
  --command-name "GET pods (curl)" "nsenter --net=/proc/$SERVE_PID/ns/net -- curl -sk -o /dev/null -H 'Authorization: Bearer $TOKEN' -H 'Accept: $TABLE' https://127.0.0.1:6443/api/v1/namespaces/default/pods?limit=500" >/dev/null
k delete -f "$WORKDIR/many.yaml" --wait >/dev/null

echo
python3 - "$WORKDIR" <<'PY'
import json, statistics, sys
work = sys.argv[1]
def med(name):
    return {r["command"]: statistics.median(r["times"]) * 1000 for r in json.load(open(f"{work}/{name}.json"))["results"]}
pod, app, get = med("pod"), med("app"), med("get")
print(f"{'measurement':<58}{'median ms':>10}")
for title, value in (("Pod apply until Ready (berth)", pod["berth"]), ("podman kube play of the Pod", pod["podman kube play"]),
                     ("Deployment (3) + Service until Ready and answering", app["berth"]),
                     ("kubectl get pods (100 Pods)", get["kubectl get pods"]), ("the API's answer to that list as a Table (curl)", get["GET pods (curl)"]),
                     ("kubectl version --client (kubectl's own start, no request)", get["kubectl version --client (no request)"])):
    print(f"{title:<58}{value:>10.1f}")
print(f"berth / podman kube play (Pod start): {pod['berth'] / pod['podman kube play']:.2f}")
for title, value, limit in (("Pod Ready", pod["berth"], 1000), ("get pods (the API's answer)", get["GET pods (curl)"], 50),
                            ("Deployment + Service Ready and answering", app["berth"], 2000)):
    print(f"target {title} under {limit} ms: {'MET' if value < limit else 'NOT MET'} ({value:.0f} ms)")
own = get["kubectl version --client (no request)"]
print(f"kubectl get pods as a whole: {get['kubectl get pods']:.0f} ms, of which kubectl's own start {own:.0f} ms "
      f"(no server can bring the whole under {own:.0f} ms); Berth's part about {get['kubectl get pods'] - own:.0f} ms")
PY
memory_report
if python3 -c "import sys; sys.exit(0 if $ROLL < 20 else 1)"; then verdict=MET; else verdict="NOT MET"; fi
echo "rolling update of 10 replicas (maxSurge 1, maxUnavailable 0, readiness period 1 s): median ${ROLL} s ($ROLLS); target under 20 s (2 x 10 x period): $verdict"
throughput
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg) ($(nproc) CPUs); kubectl $("$KUBECTL" version --client -o json | python3 -c 'import json,sys; print(json.load(sys.stdin)["clientVersion"]["gitVersion"])'); $(podman --version); $(hyperfine --version)"
