#!/usr/bin/env bash
# Integrity of what ships: layers with an opaque directory, whiteouts, file capabilities and
# user.* xattrs pass between Docker, buildah, podman/skopeo and the given berth unchanged.
#   Tests/Scripts/integrity/run.sh /path/to/berth     (berth-supervisor beside it; run as root)
# Everything runs in a private network namespace: a docker-registry on 127.0.0.1, a private
# dockerd (--bridge none), buildah/podman with private storage. Prints "N passed, M failed".
set -uo pipefail
BERTH=$(readlink -f "${1:?usage: run.sh /path/to/berth}")
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
if [ -z "${INTEGRITY_NETNS:-}" ]; then exec unshare --net env INTEGRITY_NETNS=1 bash "$0" "$@"; fi
ip link set lo up
WORK=$(mktemp -d /tmp/berth-integrity-XXXXXX)
PASSED=0 FAILED=0
ok() { echo "ok - $1"; PASSED=$((PASSED + 1)); }
bad() { echo "not ok - $1"; [ -n "${2:-}" ] && echo "$2" | sed 's/^/#   /'; FAILED=$((FAILED + 1)); }
SOCK=$WORK/docker.sock
dk() { timeout 300 docker -H "unix://$SOCK" "$@"; }
B=("$BERTH" --root "$WORK/berth/root" --runroot "$WORK/berth/run")
bb() { timeout 300 "${B[@]}" "$@"; }
# A second, empty berth root: what `load` brings in is checked without the pulled copies beside it.
bl() { timeout 300 "$BERTH" --root "$WORK/berth2/root" --runroot "$WORK/berth2/run" "$@"; }
BA=(buildah --root "$WORK/buildah/root" --runroot "$WORK/buildah/run" --storage-driver vfs)
PM=(podman --runtime runc --root "$WORK/podman/root" --runroot "$WORK/podman/run" --storage-driver vfs)

cleanup() {
  [ -f "$WORK/docker.pid" ] && { dk rm -f $(dk ps -aq) >/dev/null 2>&1; kill "$(cat "$WORK/docker.pid")" 2>/dev/null; sleep 2; }
  for id in $(bb ps -aq 2>/dev/null); do bb rm -f "$id" >/dev/null 2>&1; done
  for id in $(bl ps -aq 2>/dev/null); do bl rm -f "$id" >/dev/null 2>&1; done
  "${PM[@]}" rm -af >/dev/null 2>&1; "${BA[@]}" rm -a >/dev/null 2>&1
  bash "$HERE/../registry/registry.sh" stop "$WORK/registry" >&2
  # The DNS server berth started for this namespace (it would keep the namespace alive).
  dns=/run/berth-dns.netns-$(stat -L -c %i /proc/self/ns/net)
  [ -f "$dns/berth-dns.pid" ] && kill -KILL "$(cat "$dns/berth-dns.pid")" 2>/dev/null
  rm -rf "$dns"
  grep -o " $WORK[^ ]*" /proc/self/mounts | sort -r | while read -r m; do umount -l "$m" 2>/dev/null; done
  rm -rf "$WORK"
}
trap cleanup EXIT

REG=$(bash "$HERE/../registry/registry.sh" start "$WORK/registry") || { echo "registry did not start"; exit 1; }
dockerd --data-root "$WORK/docker" --exec-root "$WORK/dexec" --pidfile "$WORK/docker.pid" -H "unix://$SOCK" \
  --bridge none --iptables=false --ip-masq=false >"$WORK/dockerd.log" 2>&1 &
for _ in $(seq 1 120); do dk version >/dev/null 2>&1 && break; sleep 0.5; done

# The base: busybox plus the host's setcap/getcap/setfattr and their libraries, and /etc/x, /etc/gone.
R=$WORK/base
mkdir -p "$R/bin" "$R/etc/x" "$R/tmp"
cp /bin/busybox "$R/bin/busybox"
for a in $(/bin/busybox --list); do [ "$a" = busybox ] || ln -sf busybox "$R/bin/$a"; done
for t in /usr/sbin/setcap /usr/sbin/getcap /usr/bin/setfattr /usr/bin/getfattr; do
  [ -e "$t" ] || continue
  mkdir -p "$R$(dirname "$t")"; cp "$t" "$R$t"
  for lib in $(ldd "$t" | grep -o '/[^ ]*'); do mkdir -p "$R$(dirname "$lib")"; cp -L "$lib" "$R$lib"; done
done
echo old1 >"$R/etc/x/old1"; echo old2 >"$R/etc/x/old2"; echo gone >"$R/etc/gone"
tar -C "$R" -cf "$WORK/base.tar" .
ctr=$("${BA[@]}" from scratch) && "${BA[@]}" add "$ctr" "$WORK/base.tar" / >/dev/null && "${BA[@]}" commit -q "$ctr" integ/base >/dev/null \
  && "${BA[@]}" push --tls-verify=false integ/base "docker://$REG/integ/base:1" >/dev/null 2>&1 && ok "base image pushed" || bad "base image pushed"

mkdir -p "$WORK/ctx"
cat >"$WORK/ctx/Dockerfile" <<DF
FROM $REG/integ/base:1
RUN rm -rf /etc/x && mkdir /etc/x && echo new > /etc/x/new && rm /etc/gone && cp /bin/busybox /bin/capped && setcap cap_net_raw+ep /bin/capped && setfattr -n user.integrity -v kept /etc/x/new
DF

# check NAME ROOT: ROOT (a container's /proc/PID/root) shows the Dockerfile's result.
check() {
  local name=$1 root=$2 out
  out=$(ls "$root/etc/x" | tr '\n' ' ')
  [ "$out" = "new " ] && ok "$name: /etc/x opaque (only new)" || bad "$name: /etc/x opaque (only new)" "ls: $out"
  [ ! -e "$root/etc/gone" ] && ok "$name: /etc/gone whited out" || bad "$name: /etc/gone whited out"
  out=$(getcap "$root/bin/capped" 2>&1)
  [[ $out == *cap_net_raw* ]] && ok "$name: capability on /bin/capped" || bad "$name: capability on /bin/capped" "$out"
  # Docker's layer tars carry only security.capability (moby's archive drops other xattrs), so
  # where Docker built or ran the image the user xattr must be absent, as it is in Docker's own.
  out=$(getfattr --absolute-names --only-values -n user.integrity "$root/etc/x/new" 2>/dev/null)
  if [ "${3:-}" = docker ]; then
    [ -z "$out" ] && ok "$name: no user xattr, as in docker" || bad "$name: no user xattr, as in docker" "$out"
  else
    [ "$out" = kept ] && ok "$name: user.integrity xattr" || bad "$name: user.integrity xattr" "got: $out"
  fi
  # /etc/mtab is Docker's init layer (a link to /proc/mounts made at run), not the image's.
  (cd "$root" && find etc bin usr lib* -xdev 2>/dev/null | grep -vx etc/mtab | sort) >"$WORK/tree-$name"
}
berth_root() { # IMAGE TAG [docker]: run it in berth ($BX: bb or bl) and check
  local bx=${BX:-bb}
  $bx rm -f "$2" >/dev/null 2>&1
  if $bx run -d --pull never --network none --name "$2" "$1" sleep 300 >/dev/null 2>"$WORK/err"; then
    check "$2" "/proc/$($bx inspect -f '{{.State.Pid}}' "$2")/root" "${3:-}"
  else bad "$2: berth run $1" "$(cat "$WORK/err")"; fi
}

# (1) Docker's and buildah's images, pulled and loaded by berth.
DOCKER_BUILDKIT=0 dk build -q --network none -t "$REG/integ/docker:1" "$WORK/ctx" >/dev/null 2>"$WORK/err" && dk push "$REG/integ/docker:1" >/dev/null 2>>"$WORK/err" \
  && ok "docker build and push" || bad "docker build and push" "$(tail -5 "$WORK/err")"
"${BA[@]}" bud -q --isolation chroot --tls-verify=false -t integ/buildah "$WORK/ctx" >/dev/null 2>"$WORK/err" \
  && "${BA[@]}" push --tls-verify=false integ/buildah "docker://$REG/integ/buildah:1" >/dev/null 2>>"$WORK/err" \
  && ok "buildah build and push" || bad "buildah build and push" "$(tail -5 "$WORK/err")"
for src in docker buildah; do
  out=$(bb pull "$REG/integ/$src:1" 2>&1) && ok "berth pull of $src's image" || bad "berth pull of $src's image" "$out"
  berth_root "$REG/integ/$src:1" "pulled-$src" "$([ $src = docker ] && echo docker)"
done
dk save -o "$WORK/docker.tar" "$REG/integ/docker:1" && out=$(bl load -i "$WORK/docker.tar" 2>&1) \
  && ok "berth load of docker save" || bad "berth load of docker save" "$out"
"${BA[@]}" push integ/buildah "oci-archive:$WORK/buildah.tar:integ/buildah-loaded:1" >/dev/null 2>&1 && out=$(bl load -i "$WORK/buildah.tar" 2>&1) \
  && ok "berth load of buildah's oci archive" || bad "berth load of buildah's oci archive" "$out"
BX=bl berth_root "$REG/integ/docker:1" "loaded-docker" docker
BX=bl berth_root integ/buildah-loaded:1 "loaded-buildah"
if dk run -d --network none --name ref "$REG/integ/docker:1" sleep 300 >/dev/null 2>&1; then
  check docker-ref "/proc/$(dk inspect -f '{{.State.Pid}}' ref)/root" docker
  for t in pulled-docker pulled-buildah loaded-docker loaded-buildah; do
    diff -q "$WORK/tree-docker-ref" "$WORK/tree-$t" >/dev/null && ok "$t: same file tree as docker's" || bad "$t: same file tree as docker's" "$(diff "$WORK/tree-docker-ref" "$WORK/tree-$t" | head)"
  done
else bad "docker run of its own image"; fi

# (2) Built by berth, pushed, pulled by Docker, podman and skopeo.
out=$(bb build -q -t "$REG/integ/berth:1" "$WORK/ctx" 2>&1) && ok "berth build" || bad "berth build" "$out"
out=$(bb push "$REG/integ/berth:1" 2>&1) && ok "berth push" || bad "berth push" "$out"
if dk pull "$REG/integ/berth:1" >/dev/null 2>&1 && dk run -d --network none --name fromberth "$REG/integ/berth:1" sleep 300 >/dev/null 2>&1; then
  check docker-of-berth "/proc/$(dk inspect -f '{{.State.Pid}}' fromberth)/root"
  diff -q "$WORK/tree-docker-ref" "$WORK/tree-docker-of-berth" >/dev/null && ok "docker-of-berth: same tree as docker's own build" \
    || bad "docker-of-berth: same tree as docker's own build" "$(diff "$WORK/tree-docker-ref" "$WORK/tree-docker-of-berth" | head)"
else bad "docker pull and run of berth's image"; fi
if "${PM[@]}" run -d --tls-verify=false --ulimit nofile=1024:1024 --ulimit nproc=1024:1024 --network none --name fromberth "$REG/integ/berth:1" sleep 300 >/dev/null 2>"$WORK/err"; then
  check podman-of-berth "/proc/$("${PM[@]}" inspect -f '{{.State.Pid}}' fromberth)/root"
else bad "podman run of berth's image" "$(tail -3 "$WORK/err")"; fi
if skopeo copy -q --src-tls-verify=false "docker://$REG/integ/berth:1" "oci:$WORK/oci:x" 2>"$WORK/err"; then
  out=$(python3 - "$WORK/oci" <<'PY'
import json, sys, tarfile
root = sys.argv[1]
idx = json.load(open(root + "/index.json"))
def blob(d): return root + "/blobs/" + d.replace(":", "/")
m = json.load(open(blob(idx["manifests"][0]["digest"])))
found = set()
for layer in m["layers"]:
    with tarfile.open(blob(layer["digest"])) as t:
        for e in t:
            n = e.name.lstrip("./")
            if n == "etc/x/.wh..wh..opq": found.add("opaque")
            if n == "etc/.wh.gone": found.add("whiteout")
            if n == "bin/capped" and "SCHILY.xattr.security.capability" in e.pax_headers: found.add("capability")
            if n == "etc/x/new" and e.pax_headers.get("SCHILY.xattr.user.integrity") == "kept": found.add("user")
print(" ".join(sorted(found)))
PY
)
  [ "$out" = "capability opaque user whiteout" ] && ok "skopeo: berth's pushed layer has the opaque marker, whiteout and xattrs" \
    || bad "skopeo: berth's pushed layer has the opaque marker, whiteout and xattrs" "found: $out"
else bad "skopeo copy of berth's image" "$(cat "$WORK/err")"; fi

echo "$PASSED passed, $FAILED failed"
[ "$FAILED" = 0 ]
