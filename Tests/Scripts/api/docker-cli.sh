#!/usr/bin/env bash
# The docker CLI 28 (/usr/local/bin/docker) against an engine's API socket: what a Docker user
# types, each step checked by its observable result (exit status, output, the state it leaves).
#
#   Tests/Scripts/api/docker-cli.sh DOCKER_HOST        e.g. unix:///run/berth/berth.sock
#
# Prints "PASS: ..." / "FAIL: ..." per check and "N passed, N failed"; exits non-zero on a failure.
# Deterministic outputs go normalized to $API_TEST_OUT/cli/ (default $API_TEST_BASE/out/cli).
# Needs: root (bind mounts of host dirs), the registry fixture (API_TEST_REGISTRY=127.0.0.1:PORT, or
# one is started), curl, script (bsdutils), tar. Published ports are reached at 127.0.0.1, so run it
# in the network namespace where the engine publishes them (dockerd-peer.sh does for dockerd).
# Everything it makes is named cli-* or api-cli/* and labelled berth-api-test=cli (or =cli-prune),
# and removed at the end; prunes are filtered by those labels, so nothing else is touched.
# shellcheck disable=SC2016  # "$..." in single quotes is for the container's shell
set -uo pipefail
source "$(dirname "$0")/lib.sh"

[ $# -eq 1 ] || { sed -n '2,14p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }
export DOCKER_HOST=$1
API_OUT=${API_TEST_OUT:-$API_TEST_BASE/out}/cli
W=$API_TEST_BASE/cli
L=berth-api-test=cli
LP=berth-api-test=cli-prune
R=(--label "$L")

d() { timeout -k 5 "$CMD_TIMEOUT" "$DOCKER" "$@"; }
# tty CMD...: CMD with a pseudo-terminal as stdin/stdout (script(1)); our stdin is typed into it.
with_pty() { SHELL=/bin/sh timeout -k 5 "$CMD_TIMEOUT" script -qec "$(printf '%q ' "$@")" /dev/null; }
# status NAME: the container's state, restart count and exit code.
inspect_c() { d inspect -f "$1" "$2" 2>&1; }

cleanup() {
  local ids
  ids=$(d ps -aq --filter "label=$L" --filter "label=$LP" 2>/dev/null; d ps -aq --filter label=$L 2>/dev/null; d ps -aq --filter label=$LP 2>/dev/null)
  # shellcheck disable=SC2086
  [ -z "$ids" ] || d rm -f $ids >/dev/null 2>&1
  d network rm cli-net cli-net2 cli-net-prune >/dev/null 2>&1
  d volume rm -f cli-vol cli-vol-prune cli-vol-busy >/dev/null 2>&1
  d rmi "${IMG:-none}" >/dev/null 2>&1   # the registry's port differs per run
  d rmi -f api-cli/built:1 api-cli/dangle:1 api-cli/committed:1 "${REG:-none}/api-cli/busybox:v1" >/dev/null 2>&1
  d image prune -f --filter "label=$LP" >/dev/null 2>&1
  [ -z "${SEARCH_PID:-}" ] || kill "$SEARCH_PID" 2>/dev/null
  rm -rf "$W"
}

command -v "$DOCKER" >/dev/null || bail "no docker CLI at $DOCKER"
for c in curl script tar skopeo; do command -v "$c" >/dev/null || bail "missing $c"; done
cleanup
on_exit cleanup
rm -rf "$API_OUT"
mkdir -p "$W" "$API_OUT"
ensure_registry cli
IMG=$REG/busybox:latest
t0=$SECONDS
d version >/dev/null 2>&1 || bail "the engine at $DOCKER_HOST does not answer: $(d version 2>&1 | tail -1)"

# ---- system --------------------------------------------------------------------------------------
expect_match "version: server API version" '^1\.[0-9]+$' "$(d version --format '{{.Server.APIVersion}}' 2>&1)"
expect_eq "info: OSType" linux "$(d info --format '{{.OSType}}' 2>&1)"
d version --format '{{.Server.Os}}/{{.Server.Arch}}' 2>&1 | record version

# ---- pull, tag, push, rmi, images, image inspect --------------------------------------------------
d rmi -f "$IMG" >/dev/null 2>&1
out=$(d pull "$IMG" 2>&1) && rc=0 || rc=$?
expect_eq "pull: exit status" 0 "$rc"
expect_contains "pull: Status line" "Status: Downloaded newer image for $IMG" "$out"
echo "$out" | record pull
out=$(d pull "$IMG" 2>&1)
expect_contains "pull again: up to date" "Status: Image is up to date for $IMG" "$out"
expect_eq "image inspect: os/arch, Cmd, layers" 'linux/amd64 ["sh"] 1' \
  "$(d image inspect -f '{{.Os}}/{{.Architecture}} {{json .Config.Cmd}} {{len .RootFS.Layers}}' "$IMG" 2>&1)"
check "tag" d tag "$IMG" "$REG/api-cli/busybox:v1"
out=$(d push "$REG/api-cli/busybox:v1" 2>&1) && rc=0 || rc=$?
expect_eq "push: exit status" 0 "$rc"
expect_match "push: digest line" "v1: digest: sha256:[0-9a-f]{64} size: [0-9]+" "$out"
echo "$out" | record push
expect_eq "push: the registry has the tag" '{"name":"api-cli/busybox","tags":["v1"]}' \
  "$(curl -s "http://$REG/v2/api-cli/busybox/tags/list")"
out=$(d rmi "$REG/api-cli/busybox:v1" 2>&1) && rc=0 || rc=$?
expect_match "rmi of a second tag: untags the tag and its digest only" \
  "^0 Untagged: $REG/api-cli/busybox:v1"$'\n'"Untagged: $REG/api-cli/busybox@sha256:[0-9a-f]{64}$" "$rc $out"
out=$(d pull -q "$REG/api-cli/busybox:v1" 2>&1) && rc=0 || rc=$?
expect_eq "pull -q of the pushed tag" "0 $REG/api-cli/busybox:v1" "$rc $out"
expect_match "image inspect: RepoDigests" "$REG/api-cli/busybox@sha256:[0-9a-f]{64}" \
  "$(d image inspect -f '{{range .RepoDigests}}{{.}} {{end}}' "$REG/api-cli/busybox:v1" 2>&1)"
expect_eq "images --filter reference --format" "$REG/api-cli/busybox:v1" \
  "$(d images --filter "reference=$REG/api-cli/*" --format '{{.Repository}}:{{.Tag}}' 2>&1)"
out=$(d images -q "$REG/api-cli/busybox:v1" 2>&1)
expect_match "images -q: one short id" '^[0-9a-f]{12}$' "$out"
expect_eq "images -q: the same image as busybox" "$(d images -q "$IMG" 2>&1)" "$out"
expect_match "images --digests" "(^|"$'\n'")$REG/api-cli/busybox:v1 sha256:[0-9a-f]{64}" \
  "$(d images --digests --format '{{.Repository}}:{{.Tag}} {{.Digest}}' 2>&1)"
# (dockerd 20.10 shows <none> as the digest when the listing is filtered by a reference: recorded.)
d images --digests --format '{{.Repository}}:{{.Tag}} {{.Digest}}' "$REG/api-cli/busybox:v1" 2>&1 | record images-digests-filtered
d images "$REG/api-cli/busybox" 2>&1 | tr -s ' ' | record images-table

# ---- search: a registry with a search API (search-server.py, three fixed results) ----------------------
python3 "$API_REPO/Tests/Scripts/registry/search-server.py" "$W/search.log" "$W/search.port" >/dev/null 2>&1 &
SEARCH_PID=$!
if wait_for 10 test -s "$W/search.port"; then
  # In the registry's order (the CLI 28 does not sort by stars), four columns; spaces squeezed.
  expect_eq "search: the registry's order, four columns" \
    "NAME DESCRIPTION STARS OFFICIAL|team/tool a tool 3|busybox Busybox base image, with all the small tools… 3100 [OK]|someone/busybox 0" \
    "$(d search "127.0.0.1:$(cat "$W/search.port")/busybox" 2>&1 | tr -s ' ' | sed 's/ $//' | paste -sd '|')"
else
  fail "search: the search server" "it did not start"
fi
kill "$SEARCH_PID" 2>/dev/null

# ---- run: output, exit status, env, stdin, tty ------------------------------------------------------
expect_eq "run --rm: output" hello "$(d run --rm "${R[@]}" "$IMG" echo hello 2>&1)"
d run --rm "${R[@]}" "$IMG" sh -c 'exit 3' >/dev/null 2>&1 && rc=0 || rc=$?
expect_eq "run: exit status of the command" 3 "$rc"
expect_eq "run -e" "bar|a b" "$(d run --rm "${R[@]}" -e FOO=bar -e 'SPACE=a b' "$IMG" sh -c 'echo "$FOO|$SPACE"' 2>&1)"
expect_eq "run: stdout and stderr apart" out "$(d run --rm "${R[@]}" "$IMG" sh -c 'echo out; echo err >&2' 2>/dev/null)"
expect_eq "run: stderr" err "$(d run --rm "${R[@]}" "$IMG" sh -c 'echo out; echo err >&2' 2>&1 >/dev/null)"
expect_eq "run -i: stdin" piped "$(echo piped | d run --rm -i "${R[@]}" "$IMG" cat 2>&1)"
expect_eq "run --name, -w, -u, --hostname" "/tmp 65534 boxname" \
  "$(d run --rm "${R[@]}" --name cli-named -w /tmp -u 65534 --hostname boxname "$IMG" sh -c 'echo $PWD $(id -u) $(hostname)' 2>&1)"
out=$(printf 'echo tty-$((6*7)); tty\nexit 4\n' | with_pty "$DOCKER" run -it --rm "${R[@]}" "$IMG" sh 2>&1) && rc=0 || rc=$?
out=$(tr -d '\r' <<<"$out")
expect_eq "run -it (pty): exit status typed" 4 "$rc"
expect_match "run -it (pty): the typed command ran" $'(^|\n)tty-42\n' "$out"
expect_match "run -it (pty): a terminal inside" $'\n/dev/pts/[0-9]+\n' "$out"
out=$(d run --rm "${R[@]}" -t "$IMG" sh -c 'test -t 0 && test -t 1 && echo both' 2>&1 </dev/null | tr -d '\r')
expect_eq "run -t without a terminal outside" both "$out"

# ---- -d, -p, curl ------------------------------------------------------------------------------------
WEB='mkdir -p /www && echo "hello from $(hostname)" > /www/index.html && exec httpd -f -p 80 -h /www'
if cid=$(d run -d "${R[@]}" --name cli-web -p 127.0.0.1::80 --hostname web1 "$IMG" sh -c "$WEB" 2>&1); then
  expect_match "run -d: prints the id" '^[0-9a-f]{64}$' "$cid"
else
  fail "run -d -p" "$cid"
fi
port=$(d port cli-web 80/tcp 2>&1)
expect_match "port: published on 127.0.0.1" '^127\.0\.0\.1:[0-9]+$' "$port"
d port cli-web 2>&1 | record port
if wait_for 20 curl -sf "http://$port/"; then
  expect_eq "curl the published port" "hello from web1" "$(curl -s "http://$port/")"
else
  fail "curl the published port" "$(curl -sv "http://$port/" 2>&1 | tail -5)"
fi
expect_eq "inspect: NetworkSettings.Ports" "{\"80/tcp\":[{\"HostIp\":\"127.0.0.1\",\"HostPort\":\"${port##*:}\"}]}" \
  "$(inspect_c '{{json .NetworkSettings.Ports}}' cli-web)"
d run -d "${R[@]}" --name cli-web2 -p 127.0.0.1:18231:80 --hostname web2 "$IMG" sh -c "$WEB" >/dev/null 2>&1
if wait_for 20 curl -sf http://127.0.0.1:18231/; then
  expect_eq "run -p HOSTPORT:80: curl" "hello from web2" "$(curl -s http://127.0.0.1:18231/)"
else
  fail "run -p HOSTPORT:80: curl" "$(d logs cli-web2 2>&1)"
fi

# ---- volumes: bind, named, anonymous -----------------------------------------------------------------
mkdir -p "$W/bind"
echo from-host >"$W/bind/in.txt"
expect_eq "run -v bind: reads the host file" from-host \
  "$(d run --rm "${R[@]}" -v "$W/bind:/mnt" "$IMG" sh -c 'cat /mnt/in.txt; echo from-container > /mnt/out.txt' 2>&1)"
expect_eq "run -v bind: the host sees the container's file" from-container "$(cat "$W/bind/out.txt" 2>&1)"
expect_eq "run -v bind:ro: read-only" refused \
  "$(d run --rm "${R[@]}" -v "$W/bind:/mnt:ro" "$IMG" sh -c 'touch /mnt/x 2>/dev/null && echo written || echo refused' 2>&1)"
expect_eq "volume create" cli-vol "$(d volume create "${R[@]}" cli-vol 2>&1)"
d run --rm "${R[@]}" -v cli-vol:/data "$IMG" sh -c 'echo persisted > /data/f' >/dev/null 2>&1
expect_eq "run -v named volume: data outlives the container" persisted \
  "$(d run --rm "${R[@]}" -v cli-vol:/data:ro "$IMG" cat /data/f 2>&1)"
d create "${R[@]}" --name cli-mounts -v cli-vol:/data -v "$W/bind:/mnt:ro" -v /anon "$IMG" true >/dev/null 2>&1
out=$(inspect_c '{{range .Mounts}}{{.Type}} {{.Destination}} {{.RW}}|{{end}}' cli-mounts | tr '|' '\n' | sed '/^$/d' | sort | tr '\n' '|')
expect_eq "inspect: Mounts (bind, named, anonymous)" "bind /mnt false|volume /anon true|volume /data true|" "$out"
expect_eq "inspect: the named volume's mount" "cli-vol local" \
  "$(inspect_c '{{range .Mounts}}{{if eq .Destination "/data"}}{{.Name}} {{.Driver}}{{end}}{{end}}' cli-mounts)"

# ---- a user network and name resolution --------------------------------------------------------------
expect_match "network create" '^[0-9a-f]{64}$' "$(d network create "${R[@]}" cli-net 2>&1)"
d run -d "${R[@]}" --name cli-srv --network cli-net --network-alias srv-alias --hostname srv "$IMG" sh -c "$WEB" >/dev/null 2>&1
GET='for i in $(seq 1 50); do wget -qO- http://$0/ 2>/dev/null && exit 0; sleep 0.2; done; exit 1'
expect_eq "--network: a container reaches another by name" "hello from srv" \
  "$(d run --rm "${R[@]}" --network cli-net "$IMG" sh -c "$GET" cli-srv 2>&1)"
expect_eq "--network-alias: and by alias" "hello from srv" \
  "$(d run --rm "${R[@]}" --network cli-net "$IMG" sh -c "$GET" srv-alias 2>&1)"
expect_eq "inspect: the container's networks" "cli-net " \
  "$(inspect_c '{{range $k, $v := .NetworkSettings.Networks}}{{$k}} {{end}}' cli-srv)"
# Without a network: lo up, IPv6 off (no ::1) unless a --sysctl turns it on, as on networks without IPv6.
NET6='ip -o addr | while read -r n i f a r; do echo $i $f $a; done; for d in all default lo; do cat /proc/sys/net/ipv6/conf/$d/disable_ipv6; done'
expect_eq "--network none: lo up, IPv6 off" "lo inet 127.0.0.1/8 1 1 1" \
  "$(d run --rm "${R[@]}" --network none "$IMG" sh -c "$NET6" 2>&1 | tr '\n' ' ' | sed 's/ $//')"
expect_eq "--network none --sysctl: IPv6 on for lo alone" "lo inet 127.0.0.1/8 lo inet6 ::1/128 1 1 0" \
  "$(d run --rm "${R[@]}" --network none --sysctl net.ipv6.conf.lo.disable_ipv6=0 "$IMG" sh -c "$NET6" 2>&1 | tr '\n' ' ' | sed 's/ $//')"

# ---- --restart ------------------------------------------------------------------------------------
d run -d "${R[@]}" --name cli-restart --restart on-failure:2 "$IMG" sh -c 'exit 1' >/dev/null 2>&1
restarted() { [ "$(inspect_c '{{.RestartCount}} {{.State.Status}}' cli-restart)" = "2 exited" ]; }
wait_for 30 restarted
expect_eq "--restart on-failure:2: restarted twice, then exited 1" "2 exited 1 on-failure:2" \
  "$(inspect_c '{{.RestartCount}} {{.State.Status}} {{.State.ExitCode}} {{.HostConfig.RestartPolicy.Name}}:{{.HostConfig.RestartPolicy.MaximumRetryCount}}' cli-restart)"
d run -d "${R[@]}" --name cli-always --restart always "$IMG" sh -c 'sleep 0.3' >/dev/null 2>&1
restarted_once() { [ "$(inspect_c '{{.RestartCount}}' cli-always)" -ge 1 ]; }
if wait_for 20 restarted_once; then pass "--restart always: restarted after a clean exit"; else fail "--restart always: restarted after a clean exit" "$(inspect_c '{{.RestartCount}} {{.State.Status}}' cli-always)"; fi
d stop -t 1 cli-always >/dev/null 2>&1
sleep 1.5
expect_eq "--restart always: stop stops it for good" exited "$(inspect_c '{{.State.Status}}' cli-always)"

# ---- health checks -----------------------------------------------------------------------------------
d run -d "${R[@]}" --name cli-health --health-cmd 'test -e /tmp/ready' --health-interval 1s --health-timeout 5s \
  --health-retries 2 "$IMG" sh -c 'touch /tmp/ready; exec sleep 600' >/dev/null 2>&1
d run -d "${R[@]}" --name cli-sick --health-cmd 'exit 1' --health-interval 1s --health-retries 2 "$IMG" sleep 600 >/dev/null 2>&1
health_is() { [ "$(inspect_c '{{.State.Health.Status}}' "$1")" = "$2" ]; }
wait_for 30 health_is cli-health healthy
expect_eq "--health-cmd: healthy" "healthy [CMD-SHELL test -e /tmp/ready]" \
  "$(inspect_c '{{.State.Health.Status}} {{.Config.Healthcheck.Test}}' cli-health)"
wait_for 30 health_is cli-sick unhealthy
expect_eq "--health-cmd failing: unhealthy after the retries" "unhealthy true" \
  "$(inspect_c '{{.State.Health.Status}} {{ge .State.Health.FailingStreak 2}}' cli-sick)"
expect_match "ps: status shows (healthy)" '^Up .* \(healthy\)$' "$(d ps --filter name=cli-health --format '{{.Status}}' 2>&1)"
expect_eq "ps --filter health=unhealthy" cli-sick "$(d ps --filter label=$L --filter health=unhealthy --format '{{.Names}}' 2>&1)"

# ---- ps ------------------------------------------------------------------------------------------------
out=$(d ps --filter "label=$L" --format '{{.Names}}' 2>&1 | sort | tr '\n' ' ')
expect_eq "ps --filter label --format" "cli-health cli-sick cli-srv cli-web cli-web2 " "$out"
expect_eq "ps -a --filter status=exited" "cli-always cli-restart " \
  "$(d ps -a --filter "label=$L" --filter status=exited --format '{{.Names}}' 2>&1 | sort | tr '\n' ' ')"
expect_eq "ps -a --filter status=created" "cli-mounts" \
  "$(d ps -a --filter "label=$L" --filter status=created --format '{{.Names}}' 2>&1)"
expect_eq "ps -q --filter name: the short id" "${cid:0:12}" "$(d ps -q --filter name=^cli-web$ --filter label=$L --filter expose=80 2>&1)"
expect_eq "ps --filter publish=HOSTPORT" cli-web2 "$(d ps --filter publish=18231 --format '{{.Names}}' 2>&1)"
expect_eq "ps --format Ports, Command, Image" "$port->80/tcp|\"sh -c 'mkdir -p /ww…\"|$IMG" \
  "$(d ps --filter name=^cli-web$ --format '{{.Ports}}|{{.Command}}|{{.Image}}' 2>&1)"
expect_eq "ps --format .Label" cli "$(d ps --filter name=^cli-web$ --format '{{.Label "berth-api-test"}}' 2>&1)"
d ps -a --filter "label=$L" --format 'table {{.Names}}\t{{.Image}}\t{{.Status}}\t{{.Ports}}' 2>&1 | sort | tr -s ' ' | record ps-table
d ps -a --no-trunc --filter name=^cli-web$ 2>&1 | tr -s ' ' | record ps-default

# ---- logs, logs -f -----------------------------------------------------------------------------------
d run -d "${R[@]}" --name cli-logs "$IMG" sh -c 'echo one; echo two >&2; echo three' >/dev/null 2>&1
expect_eq "wait: exit status" 0 "$(d wait cli-logs 2>&1)"
expect_eq "logs: stdout" "one three" "$(d logs cli-logs 2>/dev/null | tr '\n' ' ' | sed 's/ $//')"
expect_eq "logs: stderr" two "$(d logs cli-logs 2>&1 >/dev/null)"
expect_match "logs -t: timestamps" '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:.]+Z one$' "$(d logs -t cli-logs 2>/dev/null | head -1)"
d run -d "${R[@]}" --name cli-follow "$IMG" sh -c 'for i in 1 2 3; do echo line$i; sleep 1; done' >/dev/null 2>&1
s=$SECONDS
out=$(d logs -f cli-follow 2>&1) && rc=0 || rc=$?
expect_eq "logs -f: ends when the container exits, with all lines" "0 line1 line2 line3" "$rc $(echo $out)"
if [ $((SECONDS - s)) -ge 1 ]; then pass "logs -f: followed (took $((SECONDS - s)) s)"; else fail "logs -f: returned at once"; fi
expect_eq "logs --tail 1" line3 "$(d logs --tail 1 cli-follow 2>&1)"

# ---- exec ---------------------------------------------------------------------------------------------
expect_eq "exec: output" hi "$(d exec cli-health echo hi 2>&1)"
d exec cli-health sh -c 'exit 5' >/dev/null 2>&1 && rc=0 || rc=$?
expect_eq "exec: exit status" 5 "$rc"
expect_eq "exec -e -w -u" "bar /tmp 65534" "$(d exec -e FOO=bar -w /tmp -u 65534 cli-health sh -c 'echo $FOO $PWD $(id -u)' 2>&1)"
expect_eq "exec -i: stdin" exec-stdin "$(echo exec-stdin | d exec -i cli-health cat 2>&1)"
out=$(printf 'echo exec-$((6*7)); tty\nexit 3\n' | with_pty "$DOCKER" exec -it cli-health sh 2>&1) && rc=0 || rc=$?
out=$(tr -d '\r' <<<"$out")
expect_eq "exec -it (pty): exit status typed" 3 "$rc"
expect_match "exec -it (pty): the typed command ran" $'(^|\n)exec-42\n' "$out"
expect_match "exec -it (pty): a terminal inside" $'\n/dev/pts/[0-9]+\n' "$out"
check "exec -d" d exec -d cli-health sh -c 'echo detached > /tmp/d'
exec_d_done() { [ "$(d exec cli-health cat /tmp/d 2>/dev/null)" = detached ]; }
if wait_for 10 exec_d_done; then pass "exec -d: the command ran"; else fail "exec -d: the command ran"; fi
out=$(d exec nosuch-cli true 2>&1) && rc=0 || rc=$?
expect_eq "exec in a missing container: exit 1" 1 "$rc"
expect_contains "exec in a missing container: the error" "No such container: nosuch-cli" "$out"
expect_match "top" 'sleep 600' "$(d top cli-health 2>&1)"

# ---- cp both ways -------------------------------------------------------------------------------------
echo to-container >"$W/cp-in.txt"
check "cp host -> container" d cp "$W/cp-in.txt" cli-health:/tmp/cp-in.txt
expect_eq "cp host -> container: content" to-container "$(d exec cli-health cat /tmp/cp-in.txt 2>&1)"
d exec cli-health sh -c 'mkdir -p /tmp/dir/sub && echo deep > /tmp/dir/sub/f' >/dev/null 2>&1
check "cp container -> host (a directory)" d cp cli-health:/tmp/dir "$W/out-dir"
expect_eq "cp container -> host: content" deep "$(cat "$W/out-dir/sub/f" 2>&1)"
expect_eq "cp container -> stdout: a tar" "passwd" "$(d cp cli-health:/etc/passwd - 2>/dev/null | tar -tf - 2>&1)"
check "cp into a stopped container" d cp "$W/cp-in.txt" cli-logs:/tmp/
expect_eq "cp out of a stopped container" to-container "$(d cp cli-logs:/tmp/cp-in.txt - 2>/dev/null | tar -xOf - 2>&1)"
tar -C "$W" -cf - cp-in.txt | d cp - cli-health:/root >/dev/null 2>&1
expect_eq "cp - (a tar on stdin) -> container" to-container "$(d exec cli-health cat /root/cp-in.txt 2>&1)"

# ---- build (legacy builder) ---------------------------------------------------------------------------
mkdir -p "$W/ctx"
echo from-context >"$W/ctx/greeting.txt"
cat >"$W/ctx/Dockerfile" <<'DF'
ARG BASE
FROM $BASE
ENV GREETING=hello-build
COPY greeting.txt /opt/greeting.txt
RUN echo "built $(cat /opt/greeting.txt)" > /opt/built.txt
LABEL berth-api-test=cli
WORKDIR /opt
CMD ["sh", "-c", "cat built.txt; echo $GREETING"]
DF
out=$(DOCKER_BUILDKIT=0 d build --build-arg "BASE=$IMG" --label extra=yes -t api-cli/built:1 "$W/ctx" 2>/dev/null) && rc=0 || rc=$?
expect_eq "build: exit status" 0 "$rc"
expect_match "build: Successfully built/tagged" $'Successfully built [0-9a-f]{12}\nSuccessfully tagged api-cli/built:1' "$out"
echo "$out" | sed -E 's/ ---> Running in [0-9a-f]{12}/ ---> Running in <ID12>/' | record build
expect_eq "build: run the image (COPY, RUN, ENV, WORKDIR, CMD)" "built from-context hello-build" \
  "$(d run --rm "${R[@]}" api-cli/built:1 2>&1 | tr '\n' ' ' | sed 's/ $//')"
expect_eq "build: labels from the Dockerfile and --label" "cli yes /opt" \
  "$(d image inspect -f '{{index .Config.Labels "berth-api-test"}} {{index .Config.Labels "extra"}} {{.Config.WorkingDir}}' api-cli/built:1 2>&1)"
expect_contains "build: ENV in the image config" "GREETING=hello-build" "$(d image inspect -f '{{json .Config.Env}}' api-cli/built:1 2>&1)"
out=$(DOCKER_BUILDKIT=0 d build --build-arg "BASE=$IMG" --label extra=yes -t api-cli/built:1 "$W/ctx" 2>/dev/null)
expect_contains "build again: steps from the cache" "Using cache" "$out"
expect_match "build -q: prints only the id" '^sha256:[0-9a-f]{64}$' \
  "$(DOCKER_BUILDKIT=0 d build -q --build-arg "BASE=$IMG" --label extra=yes "$W/ctx" 2>/dev/null)"
out=$(d history --no-trunc --format '{{.CreatedBy}}' api-cli/built:1 2>&1)
expect_contains "history: the RUN step" 'echo "built $(cat /opt/greeting.txt)"' "$out"
d history --no-trunc --format '{{.CreatedBy}}|{{.Size}}' api-cli/built:1 2>&1 | record history
printf 'FROM %s\nRUN exit 9\n' "$IMG" >"$W/ctx/Dockerfile.bad"
DOCKER_BUILDKIT=0 d build -f "$W/ctx/Dockerfile.bad" "$W/ctx" >"$W/bad.out" 2>&1 && rc=0 || rc=$?
expect_eq "build: a failing RUN fails the build with its code" 9 "$rc"
expect_contains "build: names the failing command's code" "returned a non-zero code: 9" "$(cat "$W/bad.out")"

# ---- inspect ------------------------------------------------------------------------------------------
expect_eq "inspect container -f" "/cli-web|$IMG|running|true|cli|web1" \
  "$(inspect_c '{{.Name}}|{{.Config.Image}}|{{.State.Status}}|{{.State.Running}}|{{index .Config.Labels "berth-api-test"}}|{{.Config.Hostname}}' cli-web)"
expect_eq "inspect: several objects, one JSON array" 2 "$(d inspect cli-web api-cli/built:1 2>/dev/null | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))')"
expect_eq "inspect --type image" "[api-cli/built:1]" "$(d inspect --type image -f '{{.RepoTags}}' api-cli/built:1 2>&1)"
out=$(d inspect nosuch-cli 2>"$W/err") && rc=0 || rc=$?
expect_eq "inspect of a missing object: exit 1, []" "1 []" "$rc $out"
expect_contains "inspect of a missing object: the error" "No such object: nosuch-cli" "$(cat "$W/err")"
d inspect -f '{{.State.Status}} {{.State.ExitCode}} {{.HostConfig.RestartPolicy.Name}} {{.Path}} {{json .Args}} {{.Config.Tty}} {{.Config.OpenStdin}}' \
  cli-web cli-logs cli-restart cli-health 2>&1 | record inspect-containers
# Config's attach fields are the create body's (the CLI's -a, -i, -t, -d), as dockerd keeps them.
ATTACH_F='{{.Config.AttachStdin}} {{.Config.AttachStdout}} {{.Config.AttachStderr}} {{.Config.OpenStdin}} {{.Config.StdinOnce}} {{.Config.Tty}}'
while IFS='|' read -r flags shown; do
  # shellcheck disable=SC2086  # the flags split on spaces
  d $flags "${R[@]}" --name cli-attach "$IMG" true </dev/null >/dev/null 2>&1
  expect_eq "inspect: Config's attach fields after $flags" "$shown" "$(inspect_c "$ATTACH_F" cli-attach)"
  d rm -f cli-attach >/dev/null 2>&1
done <<'LINES'
create|false true true false false false
create -it|true true true true true true
create -a stdout|false true false false false false
create -i -a stdout|true true false true true false
run -d|false false false false false false
run -di|false false false true false false
run -i|true true true true true false
LINES

# ---- stats, system df ---------------------------------------------------------------------------------
expect_match "stats --no-stream" '^cli-health [0-9.]+[kKMG]i?B / [0-9.]+[kKMGT]i?B [0-9.]+%$' \
  "$(d stats --no-stream --format '{{.Name}} {{.MemUsage}} {{.CPUPerc}}' cli-health 2>&1)"
out=$(d stats --no-stream 2>&1 | head -1 | tr -s ' ')
expect_eq "stats: table header" "CONTAINER ID NAME CPU % MEM USAGE / LIMIT MEM % NET I/O BLOCK I/O PIDS" "$out"
out=$(d system df 2>&1)
expect_match "system df: header" '^TYPE +TOTAL +ACTIVE +SIZE +RECLAIMABLE' "$out"
expect_eq "system df: rows" "Images Containers Local Volumes Build Cache " "$(d system df --format '{{.Type}}' 2>&1 | tr '\n' ' ')"
expect_match "system df -v: lists our volume" 'cli-vol ' "$(d system df -v 2>&1)"

# ---- events -------------------------------------------------------------------------------------------
since=$(date +%s)
d run "${R[@]}" --name cli-ev "$IMG" true >/dev/null 2>&1
d rm cli-ev >/dev/null 2>&1
sleep 1.1
until=$(date +%s)
out=$(d events --since "$since" --until "$until" --filter container=cli-ev --filter type=container \
  --format '{{.Type}} {{.Action}} {{.Actor.Attributes.name}} {{index .Actor.Attributes "berth-api-test"}}' 2>&1) && rc=0 || rc=$?
expect_eq "events --since --until --filter container: run then rm" \
  "0|container create cli-ev cli|container attach cli-ev cli|container start cli-ev cli|container die cli-ev cli|container destroy cli-ev cli" \
  "$rc|$(echo "$out" | paste -sd'|')"
out=$(d events --since "$since" --until "$until" --filter container=cli-ev --filter event=die --format '{{.Actor.Attributes.exitCode}} {{.Status}} {{.From}}' 2>&1)
expect_eq "events --filter event=die: exitCode, legacy status/from" "0 die $IMG" "$out"
evid=$(d events --since "$since" --until "$until" --filter container=cli-ev --filter event=create --format '{{.Actor.ID}}' 2>&1)
out=$(d events --since "$since" --until "$until" --filter type=network --format '{{.Type}} {{.Action}} {{.Actor.Attributes.name}} {{.Actor.Attributes.container}}' 2>&1 | grep -F " $evid")
expect_eq "events --filter type=network: connect and disconnect of the container" \
  "network connect bridge $evid|network disconnect bridge $evid" "$(echo "$out" | paste -sd'|')"

# ---- network verbs -----------------------------------------------------------------------------------
expect_match "network create --subnet --gateway" '^[0-9a-f]{64}$' \
  "$(d network create "${R[@]}" --subnet 10.213.231.0/24 --gateway 10.213.231.1 cli-net2 2>&1)"
expect_eq "network ls --filter label" "cli-net bridge local|cli-net2 bridge local" \
  "$(d network ls --filter "label=$L" --format '{{.Name}} {{.Driver}} {{.Scope}}' 2>&1 | sort | paste -sd'|')"
expect_eq "network inspect -f" "cli-net2 bridge 10.213.231.0/24 10.213.231.1 cli false" \
  "$(d network inspect -f '{{.Name}} {{.Driver}} {{range .IPAM.Config}}{{.Subnet}} {{.Gateway}}{{end}} {{index .Labels "berth-api-test"}} {{.Internal}}' cli-net2 2>&1)"
check "network connect --ip" d network connect --ip 10.213.231.50 cli-net2 cli-health
expect_contains "network connect: the address inside" "inet 10.213.231.50/24" "$(d exec cli-health ip -o -4 addr 2>&1)"
expect_eq "network inspect: Containers" cli-health "$(d network inspect -f '{{range .Containers}}{{.Name}}{{end}}' cli-net2 2>&1)"
expect_eq "inspect: both networks" "bridge cli-net2 " "$(inspect_c '{{range $k, $v := .NetworkSettings.Networks}}{{$k}} {{end}}' cli-health)"
check "network disconnect" d network disconnect cli-net2 cli-health
out=$(d exec cli-health ip -o -4 addr 2>&1)
if [[ $out == *10.213.231.* || $out != *"inet "* ]]; then fail "network disconnect: the address is gone" "$out"; else pass "network disconnect: the address is gone"; fi
out=$(d network rm cli-net 2>&1) && rc=0 || rc=$?
expect_eq "network rm of a network in use: refused" 1 "$rc"
expect_contains "network rm of a network in use: the error" "has active endpoints" "$out"
expect_eq "network rm" cli-net2 "$(d network rm cli-net2 2>&1)"
d network create --label "$LP" cli-net-prune >/dev/null 2>&1
expect_eq "network prune --filter label" "Deleted Networks:|cli-net-prune" \
  "$(d network prune -f --filter "label=$LP" 2>&1 | sed '/^$/d' | paste -sd'|')"
expect_eq "network ls: the pruned one is gone" "" "$(d network ls -q --filter name=cli-net-prune 2>&1)"
d network inspect bridge -f '{{.Name}} {{.Driver}} {{.Scope}} {{.Attachable}} {{.Internal}} {{.EnableIPv6}}' 2>&1 | record network-bridge

# ---- volume verbs ------------------------------------------------------------------------------------
expect_eq "volume ls --filter label" "cli-vol local" "$(d volume ls --filter "label=$L" --format '{{.Name}} {{.Driver}}' 2>&1)"
expect_eq "volume inspect -f" "cli-vol local local cli" \
  "$(d volume inspect -f '{{.Name}} {{.Driver}} {{.Scope}} {{index .Labels "berth-api-test"}}' cli-vol 2>&1)"
mp=$(d volume inspect -f '{{.Mountpoint}}' cli-vol 2>&1)
expect_eq "volume inspect: Mountpoint holds the data" persisted "$(cat "$mp/f" 2>&1)"
out=$(d volume rm cli-vol 2>&1) && rc=0 || rc=$?
expect_eq "volume rm of a volume in use: refused" 1 "$rc"
expect_contains "volume rm of a volume in use: the error" "volume is in use" "$out"
d rm cli-mounts >/dev/null 2>&1
expect_eq "volume rm" cli-vol "$(d volume rm cli-vol 2>&1)"
d volume create --label "$LP" cli-vol-prune >/dev/null 2>&1
d volume create --label "$LP" cli-vol-busy >/dev/null 2>&1
d create "${R[@]}" --name cli-busy -v cli-vol-busy:/x "$IMG" true >/dev/null 2>&1
# From API 1.42 on, prune takes named volumes only with --all (Docker 23+); older servers take them always.
prune_all=()
api=$(d version --format '{{.Server.APIVersion}}' 2>/dev/null)
if [ "$(printf '%s\n1.42\n' "$api" | sort -V | head -1)" = 1.42 ]; then prune_all=(--all); fi
out=$(d volume prune -f "${prune_all[@]}" --filter "label=$LP" 2>&1)
expect_match "volume prune --filter label: the unused one" $'Deleted Volumes:\ncli-vol-prune\n' "$out"
expect_eq "volume prune: the one in use is kept" cli-vol-busy "$(d volume ls -q --filter "label=$LP" 2>&1)"
d rm cli-busy >/dev/null 2>&1
d volume rm cli-vol-busy >/dev/null 2>&1

# ---- container and image prune -------------------------------------------------------------------------
d run --label "$LP" --name cli-prune1 "$IMG" true >/dev/null 2>&1
pid1=$(d inspect -f '{{.Id}}' cli-prune1 2>&1)
d run -d --label "$LP" --name cli-prune-running "$IMG" sleep 600 >/dev/null 2>&1
out=$(d container prune -f --filter "label=$LP" 2>&1)
expect_match "container prune --filter label" "Deleted Containers:"$'\n'"$pid1" "$out"
expect_eq "container prune: a running one is kept" cli-prune-running "$(d ps -a --filter "label=$LP" --format '{{.Names}}' 2>&1)"
d rm -f cli-prune-running >/dev/null 2>&1
printf 'FROM %s\nLABEL berth-api-test=cli-prune\nRUN echo %s > /v\n' "$IMG" one >"$W/ctx/Dockerfile.prune"
DOCKER_BUILDKIT=0 d build -q -f "$W/ctx/Dockerfile.prune" -t api-cli/dangle:1 "$W/ctx" >/dev/null 2>&1
old=$(d image inspect -f '{{.Id}}' api-cli/dangle:1 2>&1)
printf 'FROM %s\nLABEL berth-api-test=cli-prune\nRUN echo %s > /v\n' "$IMG" two >"$W/ctx/Dockerfile.prune"
DOCKER_BUILDKIT=0 d build -q -f "$W/ctx/Dockerfile.prune" -t api-cli/dangle:1 "$W/ctx" >/dev/null 2>&1
expect_eq "images --filter dangling=true: the retagged build" "$old" \
  "$(d images --no-trunc -q --filter dangling=true --filter "label=$LP" 2>&1)"
out=$(d image prune -f --filter "label=$LP" 2>&1)
expect_contains "image prune --filter label: deletes the dangling image" "deleted: $old" "$out"
out=$(d image inspect "$old" 2>&1) && rc=0 || rc=$?
expect_eq "image prune: it is gone" 1 "$rc"
expect_contains "image prune: it is gone (No such image)" "No such image" "$out"
expect_eq "image prune: the tagged one stays" "api-cli/dangle:1" "$(d images --format '{{.Repository}}:{{.Tag}}' api-cli/dangle 2>&1)"

# ---- commit, rename, pause, restart ---------------------------------------------------------------------
d exec cli-health sh -c 'echo committed > /committed' >/dev/null 2>&1
expect_match "commit" '^sha256:[0-9a-f]{64}$' "$(d commit -c 'LABEL berth-api-test=cli' cli-health api-cli/committed:1 2>&1)"
expect_eq "commit: the file is in the image" committed "$(d run --rm "${R[@]}" api-cli/committed:1 cat /committed 2>&1)"
check "rename" d rename cli-logs cli-logs2
expect_eq "rename: the new name" /cli-logs2 "$(inspect_c '{{.Name}}' cli-logs2)"
check "pause" d pause cli-web2
expect_eq "pause: State.Status" "paused true" "$(inspect_c '{{.State.Status}} {{.State.Paused}}' cli-web2)"
check "unpause" d unpause cli-web2
started=$(inspect_c '{{.State.StartedAt}}' cli-web2)
check "restart -t 1" d restart -t 1 cli-web2
expect_eq "restart: running, StartedAt moved" "running true" \
  "$(inspect_c '{{.State.Status}}' cli-web2) $([ "$(inspect_c '{{.State.StartedAt}}' cli-web2)" != "$started" ] && echo true || echo false)"
d create "${R[@]}" --name cli-created "$IMG" echo created-then-started >/dev/null 2>&1
expect_eq "create + start -a" created-then-started "$(d start -a cli-created 2>&1)"

# ---- wait, stop, kill, rm -------------------------------------------------------------------------------
d run -d "${R[@]}" --name cli-wait "$IMG" sh -c 'sleep 1; exit 7' >/dev/null 2>&1
expect_eq "wait: the exit code" 7 "$(d wait cli-wait 2>&1)"
d run -d "${R[@]}" --name cli-stop "$IMG" sh -c 'trap "exit 0" TERM; sleep 600 & wait' >/dev/null 2>&1
sleep 0.5
expect_eq "stop: prints the name" cli-stop "$(d stop cli-stop 2>&1)"
expect_eq "stop: SIGTERM handled, exit 0" "exited 0" "$(inspect_c '{{.State.Status}} {{.State.ExitCode}}' cli-stop)"
d run -d "${R[@]}" --name cli-stop2 "$IMG" sleep 600 >/dev/null 2>&1
s=$SECONDS
d stop -t 1 cli-stop2 >/dev/null 2>&1
expect_eq "stop -t 1: SIGKILL after the timeout, 137" "exited 137" "$(inspect_c '{{.State.Status}} {{.State.ExitCode}}' cli-stop2)"
d run -d "${R[@]}" --name cli-kill "$IMG" sh -c 'trap "exit 7" USR1; sleep 600 & wait' >/dev/null 2>&1
sleep 0.5
check "kill -s USR1" d kill -s USR1 cli-kill
d wait cli-kill >/dev/null 2>&1
expect_eq "kill -s USR1: the trap's exit code" 7 "$(inspect_c '{{.State.ExitCode}}' cli-kill)"
d start cli-kill >/dev/null 2>&1
expect_eq "kill: prints the name" cli-kill "$(d kill cli-kill 2>&1)"
d wait cli-kill >/dev/null 2>&1
expect_eq "kill: SIGKILL, 137" "exited 137" "$(inspect_c '{{.State.Status}} {{.State.ExitCode}}' cli-kill)"
d rm cli-web >/dev/null 2>"$W/err" && rc=0 || rc=$?
expect_eq "rm of a running container: refused" 1 "$rc"
expect_contains "rm of a running container: says to stop it" "top the container before" "$(cat "$W/err")"
expect_eq "rm -f of a running container" cli-web "$(d rm -f cli-web 2>&1)"
out=$(d inspect cli-web 2>&1) && rc=0 || rc=$?
expect_eq "rm -f: gone" 1 "$rc"
expect_contains "rm -f: gone (No such object)" "No such object: cli-web" "$out"
d ps -aq --filter "label=$L" | xargs -r "$DOCKER" rm -f >/dev/null 2>&1
expect_eq "nothing of ours left" "" "$(d ps -aq --filter "label=$L" 2>&1)"

echo "docker-cli.sh: $((SECONDS - t0)) s against $DOCKER_HOST; normalized outputs in $API_OUT"
finish
