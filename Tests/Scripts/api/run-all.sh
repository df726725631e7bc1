#!/usr/bin/env bash
# The real-client tests of an engine's Docker API, one after another: the docker CLI 28
# (docker-cli.sh), docker-py 7.1 (dockerpy_test.py), Compose v2 and docker-compose 1.29
# (compose/compose.sh). See README.md beside this script.
#
#   Tests/Scripts/api/run-all.sh DOCKER_HOST          e.g. unix:///run/berth/berth.sock
#
# Starts one registry for all three (Tests/Scripts/registry/registry.sh, busybox:latest pushed to
# it) unless API_TEST_REGISTRY=127.0.0.1:PORT names one. API_TEST_CLIENTS picks clients (default
# "cli py compose"); API_TEST_OUT is where the normalized outputs and each client's log go
# (default $API_TEST_BASE/out, API_TEST_BASE defaulting to /var/tmp/berth-api-tests).
# Ends with the summed "N passed, N failed"; exits non-zero when a check failed or a client
# could not run.
set -uo pipefail
source "$(dirname "$0")/lib.sh"

[ $# -eq 1 ] || { sed -n '2,13p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }
export DOCKER_HOST=$1
export API_TEST_OUT=${API_TEST_OUT:-$API_TEST_BASE/out}
PY=${API_TEST_PYTHON:-python3}
mkdir -p "$API_TEST_OUT"
ensure_registry all
export API_TEST_REGISTRY=$REG

total_pass=0 total_fail=0 summary=()
for client in ${API_TEST_CLIENTS:-cli py compose}; do
  case $client in
    cli) cmd=("$API_HERE/docker-cli.sh" "$DOCKER_HOST") ;;
    py) cmd=("$PY" "$API_HERE/dockerpy_test.py" "$DOCKER_HOST") ;;
    compose) cmd=("$API_HERE/compose/compose.sh" "$DOCKER_HOST") ;;
    *) bail "unknown client $client (cli, py, compose)" ;;
  esac
  echo "=== $client: ${cmd[*]}"
  s=$SECONDS
  "${cmd[@]}" 2>&1 | tee "$API_TEST_OUT/$client.log"
  rc=${PIPESTATUS[0]}
  counts=$(grep -E '^[0-9]+ passed, [0-9]+ failed$' "$API_TEST_OUT/$client.log" | tail -1)
  p=0 f=0
  [[ $counts =~ ^([0-9]+)\ passed,\ ([0-9]+)\ failed$ ]] && p=${BASH_REMATCH[1]} f=${BASH_REMATCH[2]}
  # A client that died without its closing line, or exited non-zero with no failed check, failed.
  if [ "$rc" != 0 ] && [ "$f" = 0 ]; then f=1; fi
  total_pass=$((total_pass + p)) total_fail=$((total_fail + f))
  summary+=("$(printf '%-8s %3d passed, %2d failed, exit %d, %4d s' "$client" "$p" "$f" "$rc" $((SECONDS - s)))")
done
echo "=== summary against $DOCKER_HOST (logs and normalized outputs: $API_TEST_OUT)"
printf '%s\n' "${summary[@]}"
echo "$total_pass passed, $total_fail failed"
[ "$total_fail" = 0 ]
