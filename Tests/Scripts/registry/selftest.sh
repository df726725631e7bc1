#!/usr/bin/env bash
# Checks the registry fixture itself with the peers' clients: curl, skopeo and podman push and pull
# against registry.sh in its three modes (anonymous, --htpasswd, --token), and the
# multi-platform index. Prints "ok - ..." / "not ok - ..." lines and a summary; exits 1 on failure.
#
#   Tests/Scripts/registry/selftest.sh            (root; needs skopeo, podman, umoci, curl, busybox-static)
#
# Work files go to a temp dir (KEEP=1 keeps it, and leaves the registries running).
# shellcheck disable=SC2015  # "COND && ok ... || not_ok ...": ok always succeeds
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# (digits only: podman names an image pulled from oci:PATH after PATH, which must be lowercase)
W=${TMPDIR:-/var/tmp}/registry-selftest.$$
rm -rf "$W" && mkdir -p "$W"
PASSED=0 FAILED=0

cleanup() {
  [ "${KEEP:-0}" = 1 ] && { echo "# kept $W" >&2; return; }
  local d
  for d in anon basic token; do "$HERE/registry.sh" stop "$W/$d" || true; done
  for d in "$W"/podman-*; do [ -d "$d" ] && awk -v d="$d" 'index($5, d) == 1 { print $5 }' /proc/self/mountinfo | sort -r | xargs -r umount -l; done
  rm -rf "$W"
}
trap cleanup EXIT

ok() { echo "ok - $1"; PASSED=$((PASSED + 1)); }
not_ok() { echo "not ok - $1"; [ -z "${2:-}" ] || printf '%s\n' "$2" | tail -n 5 | sed 's/^/#   /'; FAILED=$((FAILED + 1)); }
# expect_ok NAME CMD...: CMD succeeds.   expect_fail NAME REGEX CMD...: CMD fails, output matches REGEX.
expect_ok() {
  local name=$1 out
  shift
  if out=$("$@" 2>&1); then ok "$name"; else not_ok "$name" "$out"; fi
}
expect_fail() {
  local name=$1 re=$2 out
  shift 2
  if out=$("$@" 2>&1); then
    not_ok "$name (succeeded)" "$out"
  elif [[ $out =~ $re ]]; then ok "$name"; else not_ok "$name (wrong error)" "$out"; fi
}
status() { curl -s -o /dev/null -w '%{http_code}' "$@"; }
expect_status() {
  local name=$1 want=$2 got
  shift 2
  got=$(status "$@")
  if [ "$got" = "$want" ]; then ok "$name"; else not_ok "$name" "expected HTTP $want, got $got"; fi
}

SK=(skopeo --override-os linux)
n=0
podman_() { # podman with a fresh store each call site
  n=$((n + 1))
  podman --root "$W/podman-$n/root" --runroot "$W/podman-$n/run" --storage-driver vfs --events-backend none "$@"
}

"$HERE/make-busybox-image.sh" "$W/busybox" >/dev/null
ok "make-busybox-image.sh"
# One podman store holds the busybox image to push from (podman push takes a local image).
PP=(podman --root "$W/podman-push/root" --runroot "$W/podman-push/run" --storage-driver vfs --events-backend none)
ID=$("${PP[@]}" pull -q "oci:$W/busybox:latest")
podman_push() { "${PP[@]}" push -q --tls-verify=false "${@:1:$#-1}" "$ID" "${!#}"; }

# ---- anonymous ------------------------------------------------------------------------------
A=$("$HERE/registry.sh" start "$W/anon")
[[ $A =~ ^127\.0\.0\.1:[0-9]+$ ]] && ok "start prints 127.0.0.1:PORT ($A)" || not_ok "start prints an address" "$A"
expect_status "anon: GET /v2/ is 200" 200 "http://$A/v2/"
expect_ok "anon: skopeo push" "${SK[@]}" copy --quiet --dest-tls-verify=false "oci:$W/busybox:latest" "docker://$A/busybox:latest"
expect_ok "anon: skopeo pull" "${SK[@]}" copy --quiet --src-tls-verify=false "docker://$A/busybox:latest" "oci:$W/pulled-anon:latest"
expect_ok "anon: podman pull" podman_ pull -q --tls-verify=false "$A/busybox:latest"
expect_ok "anon: podman push" podman_push "docker://$A/pushed/busybox:latest"
MP=$("$HERE/make-multiplatform-index.sh" "$W/multi" "$A/multi:latest" 2>&1) && ok "multi-platform index pushed ($MP)" || not_ok "multi-platform index push" "$MP"
got=$(curl -s -H 'Accept: application/vnd.oci.image.index.v1+json' "http://$A/v2/multi/manifests/latest" | python3 -c 'import json,sys; print(" ".join(m["platform"]["os"] + "/" + m["platform"]["architecture"] for m in json.load(sys.stdin)["manifests"]))')
[ "$got" = "linux/amd64 linux/arm64 unknown/unknown" ] && ok "index lists linux/amd64 linux/arm64 unknown/unknown" || not_ok "index platforms" "$got"
arch=$("${SK[@]}" inspect --tls-verify=false --override-arch arm64 --override-variant v8 "docker://$A/multi:latest" | python3 -c 'import json,sys; print(json.load(sys.stdin)["Architecture"])')
[ "$arch" = arm64 ] && ok "skopeo inspect --override-arch arm64 picks the arm64 image" || not_ok "arm64 pick" "$arch"
"$HERE/registry.sh" stop "$W/anon"
[ ! -e "$W/anon/registry.pid" ] && ! curl -s "http://$A/v2/" >/dev/null && ok "stop: registry gone" || not_ok "stop"
expect_ok "stop again is fine" "$HERE/registry.sh" stop "$W/anon"

# ---- Basic (htpasswd) ----------------------------------------------------------------------------
B=$("$HERE/registry.sh" start "$W/basic" --htpasswd alice:s3cret)
expect_status "basic: GET /v2/ without credentials is 401" 401 "http://$B/v2/"
expect_status "basic: GET /v2/ with credentials is 200" 200 -u alice:s3cret "http://$B/v2/"
expect_status "basic: GET /v2/ with a wrong password is 401" 401 -u alice:nope "http://$B/v2/"
expect_fail "basic: skopeo push without credentials fails" 'unauthorized|authentication required|401' \
  "${SK[@]}" copy --quiet --dest-tls-verify=false "oci:$W/busybox:latest" "docker://$B/busybox:latest"
expect_ok "basic: skopeo push with --dest-creds" "${SK[@]}" copy --quiet --dest-tls-verify=false --dest-creds alice:s3cret "oci:$W/busybox:latest" "docker://$B/busybox:latest"
expect_ok "basic: skopeo pull with --src-creds" "${SK[@]}" copy --quiet --src-tls-verify=false --src-creds alice:s3cret "docker://$B/busybox:latest" "oci:$W/pulled-basic:latest"
expect_fail "basic: podman pull without credentials fails" 'unauthorized|authentication required|401' podman_ pull -q --tls-verify=false "$B/busybox:latest"
expect_ok "basic: podman pull --creds" podman_ pull -q --tls-verify=false --creds alice:s3cret "$B/busybox:latest"
expect_ok "basic: podman push --creds" podman_push --creds alice:s3cret "docker://$B/pushed/busybox:latest"
expect_fail "basic: podman push without credentials fails" 'unauthorized|authentication required|401' podman_push "docker://$B/pushed/busybox:latest"
expect_fail "basic: podman pull with a wrong password fails" 'unauthorized|authentication required|401' podman_ pull -q --tls-verify=false --creds alice:nope "$B/busybox:latest"

# ---- Bearer (token server) -------------------------------------------------------------------------
T=$("$HERE/registry.sh" start "$W/token" --token bob:t0ken)
chal=$(curl -s -D - -o /dev/null "http://$T/v2/" | tr -d '\r' | grep -i '^www-authenticate:' || true)
[[ $chal == *'Bearer realm="http://127.0.0.1:'*'/token",service="berth-test-registry"'* ]] && ok "token: /v2/ challenges Bearer with the realm" || not_ok "token: challenge" "$chal"
expect_fail "token: anonymous skopeo push fails" 'unauthorized|authentication required|denied|401' \
  "${SK[@]}" copy --quiet --dest-tls-verify=false "oci:$W/busybox:latest" "docker://$T/busybox:latest"
expect_ok "token: skopeo push with --dest-creds" "${SK[@]}" copy --quiet --dest-tls-verify=false --dest-creds bob:t0ken "oci:$W/busybox:latest" "docker://$T/busybox:latest"
expect_ok "token: skopeo pull with --src-creds" "${SK[@]}" copy --quiet --src-tls-verify=false --src-creds bob:t0ken "docker://$T/busybox:latest" "oci:$W/pulled-token:latest"
expect_fail "token: anonymous skopeo pull fails" 'unauthorized|authentication required|denied|401' \
  "${SK[@]}" copy --quiet --src-tls-verify=false "docker://$T/busybox:latest" "oci:$W/pulled-anon-token:latest"
expect_fail "token: anonymous podman pull fails" 'unauthorized|authentication required|denied|401' podman_ pull -q --tls-verify=false "$T/busybox:latest"
expect_fail "token: podman pull with a wrong password fails" 'unauthorized|authentication required|denied|401' podman_ pull -q --tls-verify=false --creds bob:nope "$T/busybox:latest"
expect_ok "token: podman pull --creds" podman_ pull -q --tls-verify=false --creds bob:t0ken "$T/busybox:latest"
expect_ok "token: podman push --creds" podman_push --creds bob:t0ken "docker://$T/pushed/busybox:latest"
expect_fail "token: anonymous podman push fails" 'unauthorized|authentication required|denied|401' podman_push "docker://$T/pushed/busybox:latest"
expect_ok "token: push of the multi-platform index" env DEST_CREDS=bob:t0ken "$HERE/make-multiplatform-index.sh" "$W/multi2" "$T/multi:latest"
TP=$(cat "$W/token/token.port")
expect_status "token server: wrong password is 401" 401 -u bob:nope "http://127.0.0.1:$TP/token?service=berth-test-registry&scope=repository:busybox:pull"
acc=$(curl -s "http://127.0.0.1:$TP/token?service=berth-test-registry&scope=repository:busybox:pull" |
  python3 -c 'import base64,json,sys; p=json.load(sys.stdin)["token"].split(".")[1]; print(json.dumps(json.loads(base64.urlsafe_b64decode(p + "=" * (-len(p) % 4)))["access"]))')
[ "$acc" = "[]" ] && ok "token server: anonymous token has access []" || not_ok "anonymous access" "$acc"
lines=$(wc -l <"$W/token/token-requests.log")
[ "$lines" -gt 5 ] && ok "token-requests.log has one line per token ($lines)" || not_ok "token-requests.log" "$lines lines"

echo "$PASSED passed, $FAILED failed"
[ "$FAILED" -eq 0 ]
