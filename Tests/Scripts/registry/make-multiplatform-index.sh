#!/usr/bin/env bash
# Makes an OCI image layout whose tag points at an image INDEX with three entries, and pushes it
# if asked. Without Berth (make-busybox-image.sh, umoci, python3, skopeo).
#
#   make-multiplatform-index.sh OUTDIR [REGISTRY/REPO:TAG]
#
# OUTDIR/index.json holds one descriptor, tagged "latest": an image index
# (application/vnd.oci.image.index.v1+json) listing
#   1. linux/amd64        the busybox image of make-busybox-image.sh (Cmd ["sh"])
#   2. linux/arm64/v8     a different image: one layer holding only /platform ("arm64\n"),
#                         config architecture "arm64", variant "v8" (nothing in it can run)
#   3. unknown/unknown    an attestation manifest as BuildKit pushes them: an image manifest whose
#                         one layer is an in-toto statement (application/vnd.in-toto+json), with
#                         annotations vnd.docker.reference.type=attestation-manifest and
#                         vnd.docker.reference.digest=<the amd64 manifest's digest>
# A platform-aware client on amd64 must pick entry 1, on arm64 entry 2, and never entry 3.
# Every digest is the same on every run (fixed times; same busybox binary).
# Prints the index's digest (sha256:...) on stdout.
#
# With REGISTRY/REPO:TAG (e.g. 127.0.0.1:5000/multi:latest) it also pushes the whole index, all
# three manifests and their blobs, to that plain-HTTP registry:
#   skopeo copy --all --dest-tls-verify=false oci:OUTDIR:latest docker://REGISTRY/REPO:TAG
# Set DEST_CREDS=USER:PASS for a registry with auth.
set -euo pipefail

if [ $# -lt 1 ] || [ $# -gt 2 ]; then
  sed -n '2,25p' "$0" | sed 's/^# \{0,1\}//' >&2
  exit 2
fi
OUT=$1
DEST=${2:-}
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
die() { echo "make-multiplatform-index.sh: $*" >&2; exit 1; }
command -v umoci >/dev/null || die "umoci not found (apt-get install umoci)"

WORK=$(mktemp -d "${TMPDIR:-/tmp}/multiplatform-index.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
EPOCH=1970-01-01T00:00:00Z

# 1. the busybox image, in its own layout first (make-busybox-image.sh replaces its OUTDIR).
"$HERE/make-busybox-image.sh" "$WORK/busybox" amd64 >/dev/null

# 2. the arm64 image, in OUTDIR.
rm -rf "$OUT"
mkdir -p "$(dirname "$OUT")"
umoci init --layout "$OUT"
umoci new --image "$OUT:arm64"
umoci unpack --image "$OUT:arm64" "$WORK/bundle" >/dev/null
printf 'arm64\n' >"$WORK/bundle/rootfs/platform"
find "$WORK/bundle/rootfs" -exec touch -h -d "$EPOCH" {} +
umoci repack --image "$OUT:arm64" --history.created "$EPOCH" --history.created_by "make-multiplatform-index.sh" "$WORK/bundle"
umoci config --image "$OUT:arm64" --created "$EPOCH" --no-history --os linux --architecture arm64 --config.cmd /platform
umoci gc --layout "$OUT"

# Both images' blobs in one layout; then the attestation and the index, by hand.
cp -n "$WORK/busybox/blobs/sha256/"* "$OUT/blobs/sha256/"
python3 - "$OUT" "$WORK/busybox/index.json" <<'PY'
import hashlib, json, os, sys

out, busybox_index = sys.argv[1:]

def put(data: bytes) -> str:
    digest = "sha256:" + hashlib.sha256(data).hexdigest()
    path = os.path.join(out, "blobs", "sha256", digest[7:])
    with open(path, "wb") as f:
        f.write(data)
    return digest

def canon(obj) -> bytes:
    return json.dumps(obj, separators=(",", ":"), sort_keys=True).encode()

def load(digest):
    with open(os.path.join(out, "blobs", "sha256", digest[7:]), "rb") as f:
        return json.load(f)

def tagged(index_path, tag):
    with open(index_path) as f:
        for m in json.load(f)["manifests"]:
            if m.get("annotations", {}).get("org.opencontainers.image.ref.name") == tag:
                return {k: m[k] for k in ("mediaType", "digest", "size")}
    sys.exit(f"no tag {tag} in {index_path}")

amd64 = tagged(busybox_index, "amd64")
arm64 = tagged(os.path.join(out, "index.json"), "arm64")

# The arm64 config: variant v8, as `docker buildx` writes it for linux/arm64.
man = load(arm64["digest"])
cfg = load(man["config"]["digest"])
cfg["variant"] = "v8"
cfg_bytes = canon(cfg)
man["config"] = {"mediaType": "application/vnd.oci.image.config.v1+json",
                 "digest": put(cfg_bytes), "size": len(cfg_bytes)}
man_bytes = canon(man)
arm64 = {"mediaType": "application/vnd.oci.image.manifest.v1+json",
         "digest": put(man_bytes), "size": len(man_bytes)}

# 3. an attestation manifest (BuildKit's shape): an in-toto statement about the amd64 image.
statement = canon({
    "_type": "https://in-toto.io/Statement/v0.1",
    "predicateType": "https://slsa.dev/provenance/v0.2",
    "subject": [{"name": "pkg:docker/busybox@latest?platform=linux%2Famd64",
                 "digest": {"sha256": amd64["digest"][7:]}}],
    "predicate": {"builder": {"id": "make-multiplatform-index.sh"}},
})
statement_digest = put(statement)
att_cfg = canon({"architecture": "unknown", "os": "unknown", "config": {},
                 "rootfs": {"type": "layers", "diff_ids": [statement_digest]}})
att_man = canon({
    "schemaVersion": 2,
    "mediaType": "application/vnd.oci.image.manifest.v1+json",
    "config": {"mediaType": "application/vnd.oci.image.config.v1+json",
               "digest": put(att_cfg), "size": len(att_cfg)},
    "layers": [{"mediaType": "application/vnd.in-toto+json", "digest": statement_digest,
                "size": len(statement),
                "annotations": {"in-toto.io/predicate-type": "https://slsa.dev/provenance/v0.2"}}],
})

index = {
    "schemaVersion": 2,
    "mediaType": "application/vnd.oci.image.index.v1+json",
    "manifests": [
        dict(amd64, platform={"architecture": "amd64", "os": "linux"}),
        dict(arm64, platform={"architecture": "arm64", "os": "linux", "variant": "v8"}),
        {"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": put(att_man),
         "size": len(att_man), "platform": {"architecture": "unknown", "os": "unknown"},
         "annotations": {"vnd.docker.reference.digest": amd64["digest"],
                         "vnd.docker.reference.type": "attestation-manifest"}},
    ],
}
index_bytes = canon(index)
layout_index = {"schemaVersion": 2, "manifests": [{
    "mediaType": "application/vnd.oci.image.index.v1+json", "digest": put(index_bytes),
    "size": len(index_bytes), "annotations": {"org.opencontainers.image.ref.name": "latest"}}]}
with open(os.path.join(out, "index.json"), "w") as f:
    json.dump(layout_index, f, separators=(",", ":"))
PY
umoci gc --layout "$OUT"
DIGEST=$(python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["manifests"][0]["digest"])' "$OUT/index.json")

if [ -n "$DEST" ]; then
  creds=()
  [ -z "${DEST_CREDS:-}" ] || creds=(--dest-creds "$DEST_CREDS")
  skopeo copy --all --quiet --dest-tls-verify=false "${creds[@]}" "oci:$OUT:latest" "docker://$DEST" >&2 ||
    die "skopeo copy --all to docker://$DEST failed"
fi
echo "$DIGEST"
