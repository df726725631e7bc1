#!/usr/bin/env bash
# Docker Compose against an engine's API socket: the three-service app of compose.yaml with
# Compose v2 (`docker compose`, the CLI plugin in ~/.docker/cli-plugins) and with Debian's
# docker-compose 1.29, one after the other, each as its own project.
#
#   Tests/Scripts/api/compose/compose.sh DOCKER_HOST
#
# Per implementation: up -d (web waits for api healthy), ps, the published page (web fetches api by
# name), logs, exec, restart, up -d --scale api=2, down -v --rmi local, and then nothing left with
# the project's label (containers, networks, volumes) and no built image.
# Prints "PASS: ..." / "FAIL: ..." and "N passed, N failed"; exits non-zero on a failure.
# API_TEST_REGISTRY=127.0.0.1:PORT names a registry with busybox:latest (else one is started).
# COMPOSE_IMPLS="v2 v1" picks the implementations. Published ports (18232, 18233) are reached at
# 127.0.0.1: run it in the network namespace where the engine publishes them.
set -uo pipefail
source "$(dirname "$0")/../lib.sh"

[ $# -eq 1 ] || { sed -n '2,15p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }
export DOCKER_HOST=$1
API_OUT=${API_TEST_OUT:-$API_TEST_BASE/out}/compose
APP=$(cd "$(dirname "$0")" && pwd)
# The legacy builder: no buildx here. docker-compose 1.29 builds through the API (docker-py), not
# by running `docker build`.
export DOCKER_BUILDKIT=0 COMPOSE_DOCKER_CLI_BUILD=0
TIMEOUT=${COMPOSE_TIMEOUT:-180}

d() { timeout -k 5 "$CMD_TIMEOUT" "$DOCKER" "$@"; }

# project_objects P: what is left of project P (containers, networks, volumes), one per line.
project_objects() {
  local f=label=com.docker.compose.project=$1
  d ps -aq --filter "$f" 2>&1 | sed 's/^/container /'
  d network ls -q --filter "$f" 2>&1 | sed 's/^/network /'
  d volume ls -q --filter "$f" 2>&1 | sed 's/^/volume /'
}

# remove_project P: removes what is left of project P, without Compose.
remove_project() {
  local f=label=com.docker.compose.project=$1
  d ps -aq --filter "$f" 2>/dev/null | xargs -r "$DOCKER" rm -f >/dev/null 2>&1
  d network ls -q --filter "$f" 2>/dev/null | xargs -r "$DOCKER" network rm >/dev/null 2>&1
  d volume ls -q --filter "$f" 2>/dev/null | xargs -r "$DOCKER" volume rm -f >/dev/null 2>&1
  d rmi "$1-web" "$1_web" >/dev/null 2>&1
  return 0
}

# svc_states P SERVICE: "State Health" of each container of SERVICE, sorted, one per line.
svc_states() {
  d ps -a --filter "label=com.docker.compose.project=$1" --filter "label=com.docker.compose.service=$2" -q 2>/dev/null |
    xargs -r "$DOCKER" inspect -f '{{.State.Status}}{{if .State.Health}} {{.State.Health.Status}}{{end}}' 2>&1 | sort
}

suite() {
  local impl=$1 port=$2 P="apitest-$1" c=() out rc s
  case $impl in
    v2) c=(timeout -k 5 "$TIMEOUT" "$DOCKER" compose -p "$P" -f "$APP/compose.yaml") ;;
    v1) c=(timeout -k 5 "$TIMEOUT" docker-compose --ansi never -p "$P" -f "$APP/compose.yaml") ;;
  esac
  export WEB_PORT=$port
  echo "== $impl: $("${c[@]}" version 2>/dev/null | head -1)"
  remove_project "$P"   # a killed earlier run's
  on_exit remove_project "$P"

  s=$SECONDS
  out=$("${c[@]}" up -d 2>&1) && rc=0 || rc=$?
  expect_eq "$impl: up -d (builds web, waits for api healthy)" 0 "$rc"
  [ "$rc" = 0 ] || echo "$out" | tail -20 | sed 's/^/    /'
  # Without the build's steps, sorted: services are created in parallel.
  echo "$out" | grep -vE '^(#|Step |Sending |Removing |Successfully | --->|$)' |
    sed -E -e 's/[0-9.]+s$/<T>/' -e 's/ +/ /g' | sort | record "$impl-up"
  echo "   ($impl up -d took $((SECONDS - s)) s)"
  expect_eq "$impl: api healthy" "running healthy" "$(svc_states "$P" api)"
  expect_eq "$impl: web running" running "$(svc_states "$P" web)"
  expect_eq "$impl: db running" running "$(svc_states "$P" db)"
  # depends_on service_healthy: web started only after api was healthy.
  local api_healthy web_started
  api_healthy=$(d inspect -f '{{range .State.Health.Log}}{{if eq .ExitCode 0}}{{.End}}{{"\n"}}{{end}}{{end}}' \
    "$(d ps -q --filter "label=com.docker.compose.project=$P" --filter label=com.docker.compose.service=api)" 2>/dev/null | head -1)
  web_started=$(d inspect -f '{{.State.StartedAt}}' "$(d ps -q --filter "label=com.docker.compose.project=$P" --filter label=com.docker.compose.service=web)" 2>/dev/null)
  if [ -n "$api_healthy" ] && [[ "$web_started" > "${api_healthy:0:19}" ]]; then
    pass "$impl: depends_on service_healthy: web started after api's first passing check"
  else
    fail "$impl: depends_on service_healthy: web started after api's first passing check" "api healthy at: $api_healthy" "web started at: $web_started"
  fi

  out=$("${c[@]}" ps 2>&1) && rc=0 || rc=$?
  expect_eq "$impl: ps exit status" 0 "$rc"
  echo "$out" | tr -s ' ' | record "$impl-ps"
  local n
  n=$(echo "$out" | grep -cE "$P[-_](web|api|db)[-_]1")
  expect_eq "$impl: ps lists the three services" 3 "$n"
  expect_match "$impl: ps shows api healthy" "$P[-_]api[-_]1 .*healthy" "$out"
  expect_eq "$impl: ps -q" 3 "$("${c[@]}" ps -q 2>/dev/null | grep -cE '^[0-9a-f]{12,64}$')"
  expect_eq "$impl: ps --services" "api db web" "$("${c[@]}" ps --services 2>&1 | sort | tr '\n' ' ' | sed 's/ $//')"

  if wait_for 30 curl -sf "http://127.0.0.1:$port/cgi-bin/page"; then
    out=$(curl -s "http://127.0.0.1:$port/cgi-bin/page")
    expect_match "$impl: the published page: env file title, api's answer by name" \
      $'^title: Berth compose test\napi says hello-from-the-env-file from [0-9a-f]{12}$' "$out"
  else
    fail "$impl: the published page" "$(curl -sv "http://127.0.0.1:$port/cgi-bin/page" 2>&1 | tail -5)" "$("${c[@]}" logs web 2>&1 | tail -5)"
  fi
  expect_eq "$impl: the static page from the built image" "static page of web" "$(curl -s "http://127.0.0.1:$port/")"

  out=$("${c[@]}" logs db 2>&1) && rc=0 || rc=$?
  expect_eq "$impl: logs exit status" 0 "$rc"
  expect_match "$impl: logs db: prefixed with the container" $'(^|\n)db[-_]1 +\\| db ready' "$out"
  out=$("${c[@]}" logs --no-color --tail 1 db 2>&1)
  expect_match "$impl: logs --tail 1" "db ready" "$out"

  expect_eq "$impl: exec -T: the volume holds one boot" boot "$("${c[@]}" exec -T db cat /data/boots 2>&1)"
  expect_eq "$impl: exec -T: env from the env file" hello-from-the-env-file "$("${c[@]}" exec -T api sh -c 'echo $API_MESSAGE' 2>&1)"
  "${c[@]}" exec -T api sh -c 'exit 3' >/dev/null 2>&1 && rc=0 || rc=$?
  expect_eq "$impl: exec -T: exit status" 3 "$rc"

  local started
  started=$(d inspect -f '{{.State.StartedAt}}' "${P}-db-1" "${P}_db_1" 2>/dev/null | head -1)
  check "$impl: restart db" "${c[@]}" restart db
  expect_eq "$impl: restart: db started again, same volume" "boot boot" \
    "$("${c[@]}" exec -T db cat /data/boots 2>&1 | tr '\n' ' ' | sed 's/ $//')"
  [ "$(d inspect -f '{{.State.StartedAt}}' "${P}-db-1" "${P}_db_1" 2>/dev/null | head -1)" != "$started" ] &&
    pass "$impl: restart: StartedAt moved" || fail "$impl: restart: StartedAt moved"

  out=$("${c[@]}" up -d --scale api=2 2>&1) && rc=0 || rc=$?
  expect_eq "$impl: up -d --scale api=2" 0 "$rc"
  [ "$rc" = 0 ] || echo "$out" | tail -20 | sed 's/^/    /'
  both_healthy() { [ "$(svc_states "$P" api | paste -sd'|')" = "running healthy|running healthy" ]; }
  wait_for 60 both_healthy
  expect_eq "$impl: scale: two api containers, both healthy" "running healthy|running healthy" "$(svc_states "$P" api | paste -sd'|')"
  # Both replicas answer to the name api (the engine's DNS gives both addresses).
  local seen="" i host
  for i in $(seq 1 40); do
    host=$(curl -s "http://127.0.0.1:$port/cgi-bin/page" | sed -n 's/^api says .* from //p')
    [ -n "$host" ] && [[ " $seen " != *" $host "* ]] && seen="$seen $host"
    [ "$(wc -w <<<"$seen")" -ge 2 ] && break
  done
  expect_eq "$impl: scale: both api replicas answer by name" 2 "$(wc -w <<<"$seen")"

  out=$("${c[@]}" down -v --rmi local 2>&1) && rc=0 || rc=$?
  expect_eq "$impl: down -v --rmi local" 0 "$rc"
  [ "$rc" = 0 ] || echo "$out" | tail -20 | sed 's/^/    /'
  expect_eq "$impl: down: no container, network or volume of the project left" "" "$(project_objects "$P")"
  out=$(d images --format '{{.Repository}}' 2>&1) && rc=0 || rc=$?
  expect_eq "$impl: down --rmi local: the built image is gone" "0 " "$rc $(grep -E "^$P[-_]web$" <<<"$out")"
  unset -f both_healthy
}

command -v "$DOCKER" >/dev/null || bail "no docker CLI at $DOCKER"
d version >/dev/null 2>&1 || bail "the engine at $DOCKER_HOST does not answer: $(d version 2>&1 | tail -1)"
ensure_registry compose
export BASE_IMAGE=$REG/busybox:latest
rm -rf "$API_OUT"
t0=$SECONDS
for impl in ${COMPOSE_IMPLS:-v2 v1}; do
  case $impl in
    v2) "$DOCKER" compose version >/dev/null 2>&1 || { fail "v2: docker compose is not installed (~/.docker/cli-plugins/docker-compose)"; continue; }
        suite v2 18232 ;;
    v1) command -v docker-compose >/dev/null || { fail "v1: docker-compose is not installed (apt-get install docker-compose)"; continue; }
        suite v1 18233 ;;
    *) bail "unknown implementation $impl (v2, v1)" ;;
  esac
done
d rmi "$BASE_IMAGE" >/dev/null 2>&1
echo "compose.sh: $((SECONDS - t0)) s against $DOCKER_HOST"
finish
