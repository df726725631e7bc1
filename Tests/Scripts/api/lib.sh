# Shared helpers of the API client tests (docker-cli.sh, compose.sh, run-all.sh). Source it.
#
# Output: one line per check, "PASS: NAME" or "FAIL: NAME" (details follow as "    " lines), and a
# closing "N passed, N failed" line; `finish` exits non-zero when anything failed.
# Deterministic outputs are also written, normalized (ids, times, sizes, ports masked), to
# $API_TEST_OUT/<script>/<name>.txt, so that two engines' runs can be compared with diff -r.

API_HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
API_REPO=$(cd "$API_HERE/../../.." && pwd)
API_TEST_BASE=${API_TEST_BASE:-/var/tmp/berth-api-tests}
DOCKER=${DOCKER:-/usr/local/bin/docker}   # the docker CLI 28 of this machine image
CMD_TIMEOUT=${CMD_TIMEOUT:-60}            # no single client command may hang a script

PASSED=0
FAILED=0
FAILED_NAMES=()

pass() { echo "PASS: $1"; PASSED=$((PASSED + 1)); }

# fail NAME [DETAIL...]: a failed check; the script goes on with the next one.
fail() {
  echo "FAIL: $1"
  FAILED_NAMES+=("$1")
  shift
  local line
  for line in "$@"; do printf '%s\n' "$line" | head -c 2000 | sed 's/^/    /'; done
  FAILED=$((FAILED + 1))
}

# bail MESSAGE: a setup failure the script cannot go on after (the EXIT trap still cleans up).
bail() { fail "$*"; echo "$PASSED passed, $FAILED failed"; exit 1; }

# expect_eq NAME EXPECTED ACTUAL
expect_eq() {
  if [ "$2" = "$3" ]; then pass "$1"; else fail "$1" "expected: $(printf '%q' "$2")" "got:      $(printf '%q' "$3")"; fi
}

# expect_match NAME EXTENDED_REGEX ACTUAL
expect_match() {
  if [[ "$3" =~ $2 ]]; then pass "$1"; else fail "$1" "expected to match: $2" "got: $(printf '%q' "$3")"; fi
}

# expect_contains NAME NEEDLE ACTUAL
expect_contains() {
  if [[ "$3" == *"$2"* ]]; then pass "$1"; else fail "$1" "expected to contain: $2" "got: $(printf '%q' "$3")"; fi
}

# check NAME CMD...: PASS when CMD exits 0; its output is shown only on failure.
check() {
  local name=$1 out rc
  shift
  if out=$("$@" 2>&1); then pass "$name"; else rc=$?; fail "$name" "command: $*" "exit $rc: $out"; fi
}

finish() {
  echo "$PASSED passed, $FAILED failed"
  if [ "$FAILED" -gt 0 ]; then printf 'failed: %s\n' "${FAILED_NAMES[@]}"; fi
  [ "$FAILED" -eq 0 ]
}

# wait_for SECONDS CMD...: polls CMD every 0.2 s until it succeeds or SECONDS pass.
wait_for() {
  local deadline=$((SECONDS + $1))
  shift
  until "$@" >/dev/null 2>&1; do
    [ "$SECONDS" -lt "$deadline" ] || return 1
    sleep 0.2
  done
}

# ---- cleanup: commands run in reverse order on any exit, failure or Ctrl-C --------------------
CLEANUPS=()
on_exit() { CLEANUPS+=("$*"); }
run_cleanups() {
  local rc=$? i
  set +e
  trap - EXIT INT TERM
  for ((i = ${#CLEANUPS[@]} - 1; i >= 0; i--)); do eval "${CLEANUPS[i]}" >/dev/null 2>&1; done
  exit "$rc"
}
trap run_cleanups EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# ---- normalized records ------------------------------------------------------------------------
# normalize: masks what differs between runs and engines without being a difference in behaviour:
# ids and digests, times and durations, sizes, published host ports, container IPs.
normalize() {
  sed -E \
    -e 's/sha256:[0-9a-f]{64}/sha256:<DIGEST>/g' \
    -e 's/\b[0-9a-f]{64}\b/<ID>/g' \
    -e 's/\b[0-9a-f]{12}\b/<ID12>/g' \
    -e 's/[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:.]+(Z|[+-][0-9]{2}:[0-9]{2})/<TIME>/g' \
    -e 's/[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9:.]+ [+-][0-9]{4} [A-Z]+/<TIME>/g' \
    -e 's/(About )?(an?|[0-9]+|Less than a) (second|minute|hour|day|week|month|year)s? ago/<AGO>/g' \
    -e 's/(Up|Exited \([0-9]+\)) (About )?(an?|[0-9]+|Less than a) (second|minute|hour|day)s?/\1 <DURATION>/g' \
    -e 's/\b[0-9]+(\.[0-9]+)?([kKMGT]i?B|B)\b/<SIZE>/g' \
    -e 's/(127\.0\.0\.1|0\.0\.0\.0|\[::\]|::):[0-9]+/\1:<PORT>/g' \
    -e 's/\b(172|10|192\.168)\.[0-9.]+\/[0-9]+/<SUBNET>/g' \
    -e 's/\b(172\.[0-9]+|10\.[0-9]+|192\.168)\.[0-9]+\.[0-9]+\b/<IP>/g' \
    -e 's/[0-9]+(\.[0-9]+)?%/<PCT>/g' \
    -e 's/[ \t]+$//'
}

# record NAME: writes stdin, normalized, to $API_OUT/NAME.txt (API_OUT is set by the script).
record() { mkdir -p "$API_OUT"; normalize >"$API_OUT/$1.txt"; }

# ---- the registry ------------------------------------------------------------------------------
# ensure_registry: sets REG to a registry holding REG/busybox:latest. API_TEST_REGISTRY names one
# already running (seeded here when it lacks busybox); otherwise Tests/Scripts/registry/registry.sh
# starts one under $API_TEST_BASE/registry-<script>, stopped again on exit.
ensure_registry() {
  local who=$1 dir
  if [ -n "${API_TEST_REGISTRY:-}" ]; then
    REG=$API_TEST_REGISTRY
  else
    dir=$API_TEST_BASE/registry-$who
    REG=$("$API_REPO/Tests/Scripts/registry/registry.sh" start "$dir") || bail "could not start the registry"
    on_exit "'$API_REPO/Tests/Scripts/registry/registry.sh' stop '$dir'; rm -rf '$dir'"
  fi
  if ! curl -sf -o /dev/null -H 'Accept: application/vnd.oci.image.manifest.v1+json' \
    "http://$REG/v2/busybox/manifests/latest"; then
    local layout=$API_TEST_BASE/busybox-layout-$who
    "$API_REPO/Tests/Scripts/registry/make-busybox-image.sh" "$layout" >/dev/null || bail "make-busybox-image.sh"
    skopeo copy -q --dest-tls-verify=false "oci:$layout:latest" "docker://$REG/busybox:latest" >/dev/null ||
      bail "skopeo copy of busybox to $REG"
    rm -rf "$layout"
  fi
}
