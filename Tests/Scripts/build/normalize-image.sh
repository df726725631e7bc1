#!/usr/bin/env bash
# Prints a deterministic, diffable description of one image in an OCI image layout.
#
#   Tests/Scripts/build/normalize-image.sh OCI_LAYOUT_DIR[:TAG]
#   Tests/Scripts/build/normalize-image.sh ARCHIVE.tar[:TAG]     an oci-archive (a tar of a layout) or a
#                                                        docker-archive (docker save, buildah push
#                                                        docker-archive:)
#
# TAG is matched against org.opencontainers.image.ref.name in index.json (a docker-archive: against
# RepoTags); without it the layout must hold exactly one manifest. A manifest list / image index is followed to the host's
# platform (linux/GOARCH), else its first entry.
#
# Output, in this order:
#   1. one JSON line per config field people compare, sorted by field name:
#        {"Cmd": [...]}  {"Entrypoint": ...}  {"Env": [...]}  {"ExposedPorts": {...}}
#        {"Healthcheck": {...}}  {"Labels": {...}}  {"OnBuild": [...]}  {"Shell": [...]}
#        {"StopSignal": "..."}  {"User": "..."}  {"Volumes": {...}}  {"WorkingDir": "..."}
#      keys inside objects sorted; an absent field and an empty one ("", [], {}) both print null;
#      Env keeps its order (it is meaningful). Healthcheck, Shell and OnBuild are Docker fields:
#      containers/image (skopeo copy, buildah push) drops them when it converts a Docker image to
#      OCI, so read such images as a docker-archive, not a converted OCI layout.
#   2. one line per file of the flattened rootfs, sorted by path, after applying the layers in
#      order (whiteouts .wh.NAME and opaque directories .wh..wh..opq honoured, a directory
#      replaced by a non-directory loses its children):
#        PATH MODE UID:GID SIZE DIGEST [xattrs=K,K...] [hardlinks=FIRST_PATH] [text="..."]
#      MODE is the octal st_mode with its type bits (100644 file, 040755 directory, 120777 symlink:
#      a symlink's permission bits are always printed as 777, they mean nothing on Linux; 020xxx/
#      060xxx devices, 010xxx fifo). SIZE is 0 for directories, the length of the target for
#      symlinks. DIGEST is sha256:HEX of a file's content, "->TARGET" for a symlink, "-" for a
#      directory or fifo, "dev:MAJ,MIN" for a device. Files joined by hard links get
#      "hardlinks=" and the smallest path of their group (whichever name a tar stored as the link).
#      mtimes are not printed. The root directory itself is not listed.
#
# Environment:
#   IGNORE=REGEX     leave out files whose path matches (Python re.search), e.g. '^/etc/hostname$'
#                    (buildah leaves that empty file in every image that ran a RUN)
#   IGNORE_LABELS=REGEX   leave out labels whose key matches, e.g. '^io\.buildah\.version$'
#   TEXT=1           append text="..." (JSON string) to small text files (at most 512 bytes of
#                    UTF-8 without NUL): diffs then show what a file says, not only its digest
#   SHOW_LAYERS=1    after the files, one "# layer N: ..." line per layer with its whiteout and
#                    opaque entries (how each builder encoded deletions; not compared by default)
#   CONFIG_ONLY=1 / FILES_ONLY=1   print only part 1 / part 2
# Needs python3 (stdlib only). Gzip, zstd (through the zstd command) and plain tar layers.
set -euo pipefail

if [ $# -ne 1 ] || [ "$1" = -h ] || [ "$1" = --help ]; then
  sed -n '2,/^set -e/{/^#/p}' "$0" | sed 's/^# \{0,1\}//' >&2
  exit 2
fi

exec python3 - "$1" <<'PY'
import gzip, hashlib, io, json, os, platform, re, signal, stat, subprocess, sys, tarfile, tempfile

signal.signal(signal.SIGPIPE, signal.SIG_DFL)  # | head

arg = sys.argv[1]
ignore = re.compile(os.environ["IGNORE"]) if os.environ.get("IGNORE") else None
ignore_labels = re.compile(os.environ["IGNORE_LABELS"]) if os.environ.get("IGNORE_LABELS") else None
show_text = os.environ.get("TEXT") == "1"
show_layers = os.environ.get("SHOW_LAYERS") == "1"

def die(msg):
    print(f"normalize-image: {msg}", file=sys.stderr)
    sys.exit(1)

# ---- find the layout and the tag ----------------------------------------------------------------
path, tag = arg, None
if not os.path.exists(path):  # DIR:TAG; a docker-archive's TAG may itself hold a colon (name:tag)
    for i in [i for i, ch in enumerate(arg) if ch == ":"]:
        if os.path.exists(arg[:i]):
            path, tag = arg[:i], arg[i + 1:]
            break
if not os.path.exists(path):
    die(f"no such layout: {path}")

tmp = None
if os.path.isfile(path):  # an archive: oci-archive (a tar of a layout) or docker-archive
    tmp = tempfile.TemporaryDirectory(prefix="normalize-image.")
    links = []
    with tarfile.open(path) as t:
        for m in t.getmembers():
            if os.path.isabs(m.name) or ".." in m.name.split("/"):
                continue
            dest = os.path.join(tmp.name, m.name)
            if m.isfile():
                os.makedirs(os.path.dirname(dest), exist_ok=True)
                with t.extractfile(m) as src, open(dest, "wb") as out:
                    while chunk := src.read(1 << 20):
                        out.write(chunk)
            elif m.issym():  # docker save links a repeated layer to its first copy
                links.append((dest, os.path.normpath(os.path.join(os.path.dirname(dest), m.linkname))))
    for dest, target in links:
        if target.startswith(tmp.name + "/") and os.path.isfile(target):
            os.makedirs(os.path.dirname(dest), exist_ok=True)
            with open(target, "rb") as src, open(dest, "wb") as out:
                out.write(src.read())
    path = tmp.name

def load_path(p):
    with open(p, "rb") as f:
        return json.load(f)

def blob(digest):
    algo, hexd = digest.split(":", 1)
    p = os.path.join(path, "blobs", algo, hexd)
    if not os.path.exists(p):
        die(f"missing blob {digest}")
    return p

if os.path.exists(os.path.join(path, "index.json")):  # OCI layout
    index = load_path(os.path.join(path, "index.json"))
    mans = index.get("manifests", [])
    if tag is not None:
        mans = [m for m in mans if m.get("annotations", {}).get("org.opencontainers.image.ref.name") == tag]
        if not mans:
            die(f"no manifest tagged {tag!r} in {arg}")
    if len(mans) != 1:
        tags = [m.get("annotations", {}).get("org.opencontainers.image.ref.name") for m in index.get("manifests", [])]
        die(f"{len(mans)} manifests match in {arg} (tags: {tags}); name one with :TAG")
    goarch = {"x86_64": "amd64", "aarch64": "arm64", "armv7l": "arm"}.get(platform.machine(), platform.machine())
    desc = mans[0]
    for _ in range(4):  # follow nested indexes to an image manifest
        doc = load_path(blob(desc["digest"]))
        if "manifests" in doc:
            cands = doc["manifests"]
            pick = [m for m in cands if m.get("platform", {}).get("os") == "linux"
                    and m.get("platform", {}).get("architecture") == goarch]
            desc = (pick or cands)[0]
            continue
        manifest = doc
        break
    else:
        die("index nesting too deep")
    config = load_path(blob(manifest["config"]["digest"]))
    layer_files = [blob(l["digest"]) for l in manifest.get("layers", [])]
elif os.path.exists(os.path.join(path, "manifest.json")):  # docker-archive (docker save)
    entries = load_path(os.path.join(path, "manifest.json"))
    if tag is not None:
        def short(r):
            for pre in ("docker.io/library/", "docker.io/", "localhost/"):
                if r.startswith(pre):
                    return r[len(pre):]
            return r
        entries = [e for e in entries if any(short(t) in (short(tag), short(tag) + ":latest") or t.rsplit(":", 1)[-1] == tag
                                             for t in e.get("RepoTags") or [])]
    if len(entries) != 1:
        die(f"{len(entries)} images match in {arg}; name one with :TAG")
    config = load_path(os.path.join(path, entries[0]["Config"]))
    layer_files = [os.path.join(path, l) for l in entries[0]["Layers"]]
else:
    die(f"{arg} is neither an OCI layout (index.json) nor a docker-archive (manifest.json)")
cc = config.get("config") or {}

# ---- part 1: config -----------------------------------------------------------------------------
FIELDS = ["Env", "Entrypoint", "Cmd", "User", "WorkingDir", "ExposedPorts", "Volumes", "Labels",
          "Healthcheck", "StopSignal", "Shell", "OnBuild"]
def empty(v):
    return v is None or v == "" or v == [] or v == {}
if os.environ.get("FILES_ONLY") != "1":
    for k in sorted(FIELDS):
        v = cc.get(k)
        if k == "Labels" and ignore_labels and isinstance(v, dict):
            v = {a: b for a, b in v.items() if not ignore_labels.search(a)}
        print(json.dumps({k: None if empty(v) else v}, sort_keys=True, separators=(", ", ": ")))
if os.environ.get("CONFIG_ONLY") == "1":
    sys.exit(0)

# ---- part 2: the flattened rootfs ---------------------------------------------------------------
def open_layer(p):
    with open(p, "rb") as f:
        magic = f.read(4)
    if magic[:2] == b"\x1f\x8b":
        return tarfile.open(p, mode="r:gz")
    if magic == b"\x28\xb5\x2f\xfd":
        data = subprocess.run(["zstd", "-dc", p], check=True, capture_output=True).stdout
        return tarfile.open(fileobj=io.BytesIO(data), mode="r:")
    return tarfile.open(p, mode="r:")

def norm(name):
    name = name.lstrip("/")
    while name.startswith("./"):
        name = name[2:]
    name = name.rstrip("/")
    parts = [x for x in name.split("/") if x not in ("", ".")]
    return "/" + "/".join(parts)

def under(p, d):
    return p.startswith(d.rstrip("/") + "/")

state = {}      # path -> entry dict
inode = {}      # path -> inode key (hard link groups)
next_inode = [0]
layer_notes = []

for n, layer_file in enumerate(layer_files):
    with open_layer(layer_file) as t:
        opaque, whiteouts, new, order = [], [], {}, []
        for m in t:
            p = norm(m.name)
            base = p.rsplit("/", 1)[1]
            parent = p.rsplit("/", 1)[0] or "/"
            if base == ".wh..wh..opq":
                opaque.append(parent)
                continue
            if base.startswith(".wh."):
                whiteouts.append(os.path.join(parent, base[4:]))
                continue
            if p == "/":
                continue
            e = {"uid": m.uid, "gid": m.gid, "perm": m.mode & 0o7777,
                 "xattrs": sorted(k[len("SCHILY.xattr."):] for k in m.pax_headers if k.startswith("SCHILY.xattr."))}
            if m.isdir():
                e.update(type=stat.S_IFDIR, size=0, digest="-")
            elif m.issym():
                e.update(type=stat.S_IFLNK, perm=0o777, size=len(m.linkname), digest="->" + m.linkname)
            elif m.islnk():
                target = norm(m.linkname)
                src = new.get(target) or state.get(target)
                if src is None:
                    die(f"layer {n}: hard link {p} to missing {target}")
                e = dict(src, uid=src["uid"], gid=src["gid"])
                e["link_of"] = target
            elif m.ischr() or m.isblk():
                e.update(type=stat.S_IFCHR if m.ischr() else stat.S_IFBLK, size=0,
                         digest=f"dev:{m.devmajor},{m.devminor}")
            elif m.isfifo():
                e.update(type=stat.S_IFIFO, size=0, digest="-")
            else:
                h = hashlib.sha256()
                f = t.extractfile(m)
                size, head = 0, b""
                while True:
                    chunk = f.read(1 << 20)
                    if not chunk:
                        break
                    h.update(chunk)
                    if size == 0:
                        head = chunk[:513]
                    size += len(chunk)
                e.update(type=stat.S_IFREG, size=size, digest="sha256:" + h.hexdigest())
                if show_text and 0 < size <= 512 and b"\0" not in head:
                    try:
                        e["text"] = head.decode("utf-8")
                    except UnicodeDecodeError:
                        pass
            if p in new and new[p]["type"] == stat.S_IFDIR and e["type"] == stat.S_IFDIR:
                pass  # a directory listed twice in one layer: the later header wins
            new[p] = e
            order.append(p)
        # Whiteouts and opaque markers hide what lower layers have, never this layer's own entries.
        for d in opaque:
            for q in [q for q in state if under(q, d)]:
                del state[q]; inode.pop(q, None)
        for w in whiteouts:
            for q in [q for q in state if q == w or under(q, w)]:
                del state[q]; inode.pop(q, None)
        for p in order:
            e = new[p]
            old = state.get(p)
            if old is not None and old["type"] == stat.S_IFDIR and e["type"] != stat.S_IFDIR:
                for q in [q for q in state if under(q, p)]:
                    del state[q]; inode.pop(q, None)
            # A path below a non-directory of a lower layer replaces it (tar extraction would).
            anc = p.rsplit("/", 1)[0]
            while anc:
                a = state.get(anc)
                if a is not None and a["type"] != stat.S_IFDIR:
                    del state[anc]; inode.pop(anc, None)
                anc = anc.rsplit("/", 1)[0]
            link_of = e.pop("link_of", None)
            state[p] = e
            if link_of is not None and link_of in inode:
                inode[p] = inode[link_of]
            else:
                next_inode[0] += 1
                inode[p] = next_inode[0]
        if show_layers:
            marks = [f"opaque {d}" for d in sorted(set(opaque))] + [f"whiteout {w}" for w in sorted(set(whiteouts))]
            layer_notes.append(f"# layer {n}: {len(order)} entries" + ("; " + "; ".join(marks) if marks else ""))

groups = {}
for p, i in inode.items():
    if p in state:
        groups.setdefault(i, []).append(p)

def q(p):  # paths with spaces or control characters, quoted so that a line splits on spaces
    return p if re.fullmatch(r"[\x21-\x7e]+", p) else json.dumps(p)

for p in sorted(state):
    if ignore and ignore.search(p):
        continue
    e = state[p]
    line = f"{q(p)} {e['type'] | e['perm']:06o} {e['uid']}:{e['gid']} {e['size']} {q(e['digest'])}"
    if e["xattrs"]:
        line += " xattrs=" + ",".join(e["xattrs"])
    g = groups.get(inode.get(p), [])
    if len(g) > 1:
        line += " hardlinks=" + q(min(g))
    if "text" in e:
        line += " text=" + json.dumps(e["text"])
    print(line)
for note in layer_notes:
    print(note)
PY
