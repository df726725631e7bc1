#!/usr/bin/env bash
# Makes a small OCI image layout from Debian's busybox-static, without Berth (umoci only).
#
#   make-busybox-image.sh OUTDIR [TAG]        TAG defaults to "latest"
#
# OUTDIR becomes an OCI image layout (oci-layout, index.json, blobs/sha256/...) holding one image,
# tagged TAG: linux/amd64 (the host's architecture, in GOARCH spelling), one gzip layer with
# /bin/busybox and a symlink in /bin for each of its applets (`busybox --list`), /etc/passwd and
# /etc/group with root and nobody, empty /tmp (1777), /root, /proc, /sys, /dev, /etc; config Cmd
# ["sh"], Env PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin.
# An existing OUTDIR is replaced. All file times and the image's "created" are the Unix epoch, so
# the same busybox binary gives the same digests on every run.
# The image's manifest digest is printed on stdout (sha256:...).
#
# Push it with:
#   skopeo copy --dest-tls-verify=false oci:OUTDIR:latest docker://127.0.0.1:PORT/busybox:latest
# Needs umoci, busybox-static (/bin/busybox), python3.
set -euo pipefail

if [ $# -lt 1 ] || [ $# -gt 2 ]; then
  sed -n '2,19p' "$0" | sed 's/^# \{0,1\}//' >&2
  exit 2
fi
OUT=$1
TAG=${2:-latest}
BUSYBOX=${BUSYBOX:-/bin/busybox}
die() { echo "make-busybox-image.sh: $*" >&2; exit 1; }

command -v umoci >/dev/null || die "umoci not found (apt-get install umoci)"
[ -x "$BUSYBOX" ] || die "no $BUSYBOX (apt-get install busybox-static)"
[[ "$(ldd "$BUSYBOX" 2>&1 || true)" == *"not a dynamic executable"* ]] ||
  die "$BUSYBOX is not statically linked (apt-get install busybox-static)"

goarch() {
  case $(uname -m) in
    x86_64) echo amd64 ;;
    aarch64) echo arm64 ;;
    armv7l) echo arm ;;
    *) uname -m ;;
  esac
}

rm -rf "$OUT"
mkdir -p "$(dirname "$OUT")"
WORK=$(mktemp -d "${TMPDIR:-/tmp}/busybox-image.XXXXXX")
trap 'rm -rf "$WORK"' EXIT

EPOCH=1970-01-01T00:00:00Z
umoci init --layout "$OUT"
umoci new --image "$OUT:$TAG"
umoci unpack --image "$OUT:$TAG" "$WORK/bundle" >/dev/null
R=$WORK/bundle/rootfs
mkdir -p "$R"/{bin,sbin,usr/bin,usr/sbin,etc,dev,proc,sys,tmp,root,run,var}
chmod 1777 "$R/tmp"
chmod 700 "$R/root"
cp "$BUSYBOX" "$R/bin/busybox"
for applet in $("$R/bin/busybox" --list); do
  [ "$applet" = busybox ] || ln -sf busybox "$R/bin/$applet"
done
printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n' >"$R/etc/passwd"
printf 'root:x:0:\nnogroup:x:65534:\n' >"$R/etc/group"
find "$R" -exec touch -h -d "$EPOCH" {} +
umoci repack --image "$OUT:$TAG" --history.created "$EPOCH" --history.created_by "make-busybox-image.sh" "$WORK/bundle"
umoci config --image "$OUT:$TAG" --created "$EPOCH" --no-history \
  --os linux --architecture "$(goarch)" \
  --config.cmd sh \
  --config.env PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
umoci gc --layout "$OUT"
python3 - "$OUT" "$TAG" <<'PY'
import json, sys
out, tag = sys.argv[1:]
with open(f"{out}/index.json") as f:
    for m in json.load(f)["manifests"]:
        if m.get("annotations", {}).get("org.opencontainers.image.ref.name") == tag:
            print(m["digest"])
PY
