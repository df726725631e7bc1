#!/usr/bin/env bash
# bench/pull/prepare.sh — build the pull benchmark's image once and serve it from a local registry.
#
#   bench/pull/prepare.sh [WORKDIR]        WORKDIR defaults to /var/tmp/berth-bench-pull
#
# The image (3 gzip layers, OCI, packed with umoci):
#   1. a `debootstrap --variant=minbase bookworm` root (from $DEBIAN_MIRROR, default
#      http://deb.debian.org/debian), as debootstrap leaves it (its .debs stay in /var/cache/apt)
#   2. 10,000 small files (200-700 bytes of hex text each) in /opt/bench/small/dNN/fNNNN
#   3. one 40 MiB file /opt/bench/blob.bin: AES-256-CTR of zeros under a fixed key, so it looks
#      random (gzip cannot shrink it) and is the same bytes on every machine
# Cached: the root in WORKDIR/rootfs and the image layout in WORKDIR/oci are made only when
# missing (delete them to rebuild). Each run then (re)starts the registry
# (Tests/Scripts/registry/registry.sh start WORKDIR/registry, plain HTTP on 127.0.0.1) and pushes the image
# with skopeo as 127.0.0.1:PORT/bench/pull:latest (blobs already there are skipped).
#
# Prints one line on stdout: the image reference 127.0.0.1:PORT/bench/pull:latest.
# The registry keeps running; stop it with: Tests/Scripts/registry/registry.sh stop WORKDIR/registry
# (bench/pull/run.sh runs this script and stops the registry when it is done).
set -euo pipefail

WORKDIR=${1:-/var/tmp/berth-bench-pull}
REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
MIRROR=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
REGISTRY_SH=$REPO/Tests/Scripts/registry/registry.sh

say() { printf '==> %s\n' "$*" >&2; }
die() { printf 'bench/pull/prepare.sh: error: %s\n' "$*" >&2; exit 1; }

[[ $(id -u) -eq 0 ]] || die "must run as root (debootstrap; files owned by many users)"
for cmd in debootstrap umoci skopeo openssl python3 docker-registry curl; do
  command -v "$cmd" >/dev/null || die "missing $cmd (Debian packages: debootstrap umoci skopeo openssl python3 docker-registry curl)"
done
mkdir -p "$WORKDIR"
WORKDIR=$(cd "$WORKDIR" && pwd)

# --- layer 1: the debootstrap root (cached) -------------------------------------------------
if [[ ! -d $WORKDIR/rootfs ]]; then
  say "debootstrap --variant=minbase bookworm into $WORKDIR/rootfs (from $MIRROR; takes a minute or two)"
  rm -rf "$WORKDIR/rootfs.tmp"
  debootstrap --variant=minbase bookworm "$WORKDIR/rootfs.tmp" "$MIRROR" >"$WORKDIR/debootstrap.log" 2>&1 ||
    die "debootstrap failed (log: $WORKDIR/debootstrap.log)"
  mv "$WORKDIR/rootfs.tmp" "$WORKDIR/rootfs"
else
  say "using the cached debootstrap root $WORKDIR/rootfs"
fi

# --- the image (cached) -------------------------------------------------------------------------
OCI=$WORKDIR/oci
if [[ ! -f $OCI/.complete ]]; then
  say "packing the 3-layer image into $OCI with umoci"
  rm -rf "$OCI" "$WORKDIR/bundle"
  umoci init --layout "$OCI"
  umoci new --image "$OCI:latest"
  umoci unpack --image "$OCI:latest" "$WORKDIR/bundle" >/dev/null
  R=$WORKDIR/bundle/rootfs

  say "layer 1/3: the debootstrap root ($(du -sh "$WORKDIR/rootfs" | cut -f1))"
  cp -a "$WORKDIR/rootfs/." "$R/"
  umoci repack --refresh-bundle --image "$OCI:latest" --history.created_by "bench/pull: debootstrap --variant=minbase bookworm" "$WORKDIR/bundle"

  say "layer 2/3: 10,000 small files"
  python3 - "$R/opt/bench/small" <<'PY'
import hashlib, os, sys
root = sys.argv[1]
for d in range(100):
    os.makedirs(os.path.join(root, f"d{d:02d}"), exist_ok=True)
seed = b"berth bench/pull"
for i in range(10000):
    h = hashlib.sha256(seed + i.to_bytes(4, "big")).hexdigest()   # 64 hex chars
    size = 200 + int(h[:4], 16) % 500                               # 200..699 bytes
    text = (h * (size // 64 + 1))[: size - 1] + "\n"
    with open(os.path.join(root, f"d{i // 100:02d}", f"f{i:04d}"), "w") as f:
        f.write(text)
PY
  umoci repack --refresh-bundle --image "$OCI:latest" --history.created_by "bench/pull: 10,000 small files" "$WORKDIR/bundle"

  say "layer 3/3: a 40 MiB incompressible blob"
  head -c $((40 * 1024 * 1024)) /dev/zero |
    openssl enc -aes-256-ctr -nosalt \
      -K 000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f \
      -iv 00000000000000000000000000000000 >"$R/opt/bench/blob.bin"
  umoci repack --refresh-bundle --image "$OCI:latest" --history.created_by "bench/pull: 40 MiB blob" "$WORKDIR/bundle"

  umoci config --image "$OCI:latest" --no-history --os linux --architecture amd64 --config.cmd /bin/bash \
    --config.env PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
  umoci gc --layout "$OCI"
  rm -rf "$WORKDIR/bundle"
  touch "$OCI/.complete"
else
  say "using the cached image layout $OCI"
fi

# --- registry and push ----------------------------------------------------------------------------
ADDR=$("$REGISTRY_SH" start "$WORKDIR/registry") || die "the registry did not start"
REF=$ADDR/bench/pull:latest
say "pushing to $REF"
skopeo copy --quiet --dest-tls-verify=false "oci:$OCI:latest" "docker://$REF" >&2 ||
  die "skopeo copy to docker://$REF failed"
python3 - "$OCI" >&2 <<'PY'
import json, os, sys
oci = sys.argv[1]
blob = lambda d: os.path.join(oci, "blobs", "sha256", d.split(":", 1)[1])
with open(os.path.join(oci, "index.json")) as f:
    desc = json.load(f)["manifests"][0]
with open(blob(desc["digest"])) as f:
    man = json.load(f)
sizes = [l["size"] for l in man["layers"]]
print(f"==> image {desc['digest'][:19]}: {len(sizes)} layers, "
      + " + ".join(f"{s / 1e6:.1f}" for s in sizes) + f" = {sum(sizes) / 1e6:.1f} MB compressed")
PY
echo "$REF"
