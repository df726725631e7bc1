#!/usr/bin/env bash
# Builds every case of Tests/Scripts/build/corpus with buildah, Docker's legacy builder, Docker's BuildKit
# and (when BERTH is set) berth, normalises each image (normalize-image.sh) and diffs them:
# prints a table of which cases each builder built and which pairs of outputs match.
#
#   Tests/Scripts/build/compare.sh [CASE...]         default: every directory of Tests/Scripts/build/corpus
#
# Environment:
#   BERTH=PATH       also build with "$BERTH --root R --runroot RR build" and compare ("berth"
#                    column); unset: berth is skipped
#   WORKDIR=DIR      engine stores, logs (default /var/tmp/berth-build-compare; its stores are
#                    removed at the end, results/ is kept)
#   RESULTS=DIR      normalised images, diffs and build logs (default $WORKDIR/results)
#   ENGINES="..."    which of buildah docker buildkit berth to run (default: all available)
#   IGNORE=REGEX     paths left out of every normalised image (normalize-image.sh); the default
#                    leaves out nothing: see README.md for what differs between builders
#   BUILDAH_IGNORE=REGEX, BUILDAH_IGNORE_LABELS=REGEX   left out of buildah's images only
#                    (defaults '^/etc/hostname$' and '^io\.buildah\.version$': what buildah adds
#                    to every image, so that buildah=docker shows the differences that matter;
#                    set them to "" to see them)
#   TEXT=0           compare small text files by digest only (default 1: their text is shown)
#   DOCKER=PATH      the docker client (default /usr/bin/docker, Debian's, same version as dockerd)
#   VERBOSE=1        print every diff, not only the table
#
# Each case is a directory: Dockerfile and its context; optional "modes" ("MODE PATH" lines: file
# modes git cannot store, set before building); optional "args" (extra build flags, split
# like a shell would: --build-arg K=V, --target S); optional Dockerfile.base (built first from the
# same context, tagged berth-corpus/CASE-base:test, for a Dockerfile that uses it as a base image);
# optional "expect" (one extended regex per line that must match a line of the normalised image;
# a line "!REGEX" must match none; # comments), checked for every builder.
# Images are compared as each engine exports them: buildah push docker-archive:, docker save,
# berth save --format oci-archive (see export_image for why not through skopeo to OCI).
# RUN steps get no network in buildah and docker (--network none; berth gets its default), so
# nothing here reaches out or touches the host's bridges; the private dockerd runs in a network
# namespace of its own.
# buildah runs with --isolation oci --runtime runc (crun 1.8 refuses this host's hybrid cgroup
# layout when hugetlb is on cgroup2) and --format docker (with the OCI format buildah warns
# that HEALTHCHECK, SHELL and ONBUILD are not supported and leaves them out). Needs root, buildah, skopeo, dockerd,
# python3, umoci and busybox-static (for the base image). Exits non-zero only on setup failure.
set -euo pipefail

case ${1:-} in -h | --help) sed -n '2,/^set -e/{/^#/p}' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;; esac
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/../../.." && pwd)
CORPUS=$HERE/corpus
NORMALIZE=$HERE/normalize-image.sh
WORKDIR=${WORKDIR:-/var/tmp/berth-build-compare}
RESULTS=${RESULTS:-$WORKDIR/results}
DOCKER=${DOCKER:-/usr/bin/docker}
BERTH=${BERTH:-}
VERBOSE=${VERBOSE:-0}
BUILDAH_IGNORE=${BUILDAH_IGNORE-'^/etc/hostname$'}
BUILDAH_IGNORE_LABELS=${BUILDAH_IGNORE_LABELS-'^io\.buildah\.version$'}
export TEXT=${TEXT:-1}
say() { printf '==> %s\n' "$*" >&2; }
die() { printf 'compare.sh: error: %s\n' "$*" >&2; exit 1; }
[[ $(id -u) -eq 0 ]] || die "must run as root"
for cmd in skopeo python3 umoci; do command -v "$cmd" >/dev/null || die "missing $cmd"; done

if [ $# -gt 0 ]; then CASES=("$@"); else mapfile -t CASES < <(cd "$CORPUS" && find . -mindepth 1 -maxdepth 1 -type d -printf '%f\n' | sort); fi
for c in "${CASES[@]}"; do [ -f "$CORPUS/$c/Dockerfile" ] || die "no case $c ($CORPUS/$c/Dockerfile)"; done

if [ -z "${ENGINES:-}" ]; then
  ENGINES=""
  command -v buildah >/dev/null && ENGINES+=" buildah"
  command -v dockerd >/dev/null && [ -x "$DOCKER" ] && ENGINES+=" docker buildkit"
  [ -n "$BERTH" ] && ENGINES+=" berth"
fi
read -ra ENGINES <<<"$ENGINES"
have() { local e; for e in "${ENGINES[@]}"; do [ "$e" = "$1" ] && return 0; done; return 1; }
if have berth; then
  [ -n "$BERTH" ] && [ -x "$BERTH" ] || die "ENGINES has berth but BERTH=${BERTH:-} is not an executable"
fi

# ---- stores and cleanup ------------------------------------------------------------------------
mkdir -p "$WORKDIR"
WORKDIR=$(cd "$WORKDIR" && pwd)
BUILDAH_RUNROOT=/run/berth-build-compare-buildah
BERTH_RUNROOT=/run/berth-build-compare-berth
EXEC_ROOT=/run/berth-build-compare-docker
SOCK=/run/berth-build-compare-docker.sock
PIDFILE=/run/berth-build-compare-docker.pid
BA=(buildah --root "$WORKDIR/buildah" --runroot "$BUILDAH_RUNROOT" --storage-driver overlay)
B=("$BERTH" --root "$WORKDIR/berth" --runroot "$BERTH_RUNROOT")
D=("$DOCKER" -H "unix://$SOCK")

cmdline_of() { tr '\0' ' ' 2>/dev/null <"/proc/$1/cmdline" || true; }
umount_under() {
  awk -v d="$1" '$5 == d || index($5, d "/") == 1 { print $5 }' /proc/self/mountinfo | sort -r |
    while read -r m; do umount -l "$m" 2>/dev/null || true; done
}
kill_mentioning() {  # kill (by pid) the processes whose command line has $1: a killed run's dockerd
  local p pid
  for p in /proc/[0-9]*; do
    pid=${p#/proc/}
    [ "$pid" = $$ ] && continue
    [[ "$(cmdline_of "$pid")" == *"$1"* ]] && kill "$pid" 2>/dev/null
  done
  return 0
}
cleanup() {
  set +e
  if pid=$(cat "$PIDFILE" 2>/dev/null) && [[ "$(cmdline_of "$pid")" == *"$SOCK"* ]]; then
    kill "$pid" 2>/dev/null
    for _ in $(seq 1 40); do kill -0 "$pid" 2>/dev/null || break; sleep 0.25; done
    kill -9 "$pid" 2>/dev/null
  fi
  kill_mentioning "$EXEC_ROOT/"
  [ -d "$WORKDIR/buildah" ] && "${BA[@]}" rm -a >/dev/null 2>&1
  umount_under "$WORKDIR"; umount_under "$EXEC_ROOT"; umount_under "$BUILDAH_RUNROOT"; umount_under "$BERTH_RUNROOT"
  rm -rf --one-file-system "$WORKDIR/buildah" "$WORKDIR/docker" "$WORKDIR/berth" "$WORKDIR/out" \
    "$WORKDIR/busybox" "$WORKDIR/busybox"*.tar "$WORKDIR/daemon.json" "$EXEC_ROOT" "$BUILDAH_RUNROOT" "$BERTH_RUNROOT" "$SOCK" "$PIDFILE"
  # dockerd's --cgroup-parent, and BuildKit's "buildkit" cgroup below it
  for d in /sys/fs/cgroup/*/berth-build-compare; do [ -d "$d" ] && find "$d" -depth -type d -exec rmdir {} + 2>/dev/null; done
  return 0
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
cleanup
rm -rf "$RESULTS"
mkdir -p "$RESULTS"/{logs,norm,diff,layers} "$WORKDIR/out"

# ---- the base image, in every engine -----------------------------------------------------------
say "base image busybox:test (Tests/Scripts/registry/make-busybox-image.sh)"
bash "$REPO/Tests/Scripts/registry/make-busybox-image.sh" "$WORKDIR/busybox" >/dev/null
skopeo copy --quiet "oci:$WORKDIR/busybox:latest" "docker-archive:$WORKDIR/busybox-docker.tar:busybox:test"
tar -C "$WORKDIR/busybox" -cf "$WORKDIR/busybox-oci.tar" .

declare -A UP
if have buildah; then
  if "${BA[@]}" pull -q "oci:$WORKDIR/busybox:latest" >"$RESULTS/logs/buildah-setup.log" 2>&1 &&
    "${BA[@]}" tag "$("${BA[@]}" images -q | head -1)" busybox:test >>"$RESULTS/logs/buildah-setup.log" 2>&1; then
    UP[buildah]=1
  else
    say "buildah: could not load the base image (see $RESULTS/logs/buildah-setup.log); skipped"
  fi
fi
if have docker || have buildkit; then
  say "starting a private dockerd (own network namespace, no bridge, no iptables)"
  echo '{}' >"$WORKDIR/daemon.json"
  unshare --net dockerd --config-file "$WORKDIR/daemon.json" --data-root "$WORKDIR/docker" \
    --exec-root "$EXEC_ROOT" --pidfile "$PIDFILE" -H "unix://$SOCK" \
    --exec-opt native.cgroupdriver=cgroupfs --cgroup-parent /berth-build-compare \
    --storage-driver overlay2 --bridge none --iptables=false --ip-masq=false \
    >"$RESULTS/logs/dockerd.log" 2>&1 &
  for _ in $(seq 1 240); do "${D[@]}" version >/dev/null 2>&1 && break; sleep 0.25; done
  if "${D[@]}" version >/dev/null 2>&1 && "${D[@]}" load -q -i "$WORKDIR/busybox-docker.tar" >/dev/null; then
    have docker && UP[docker]=1
    have buildkit && UP[buildkit]=1
  else
    say "dockerd did not come up (see $RESULTS/logs/dockerd.log); docker and buildkit skipped"
  fi
fi
if have berth; then
  if id=$("${B[@]}" load -i "$WORKDIR/busybox-oci.tar" 2>"$RESULTS/logs/berth-setup.log" | awk '{print $NF}') &&
    [ -n "$id" ] && "${B[@]}" tag "$id" busybox:test >>"$RESULTS/logs/berth-setup.log" 2>&1; then
    UP[berth]=1
  else
    say "berth: could not load the base image (see $RESULTS/logs/berth-setup.log); skipped"
  fi
fi

# ---- build, export, normalise ------------------------------------------------------------------
# build ENGINE TAG DOCKERFILE CONTEXT [FLAGS...]
build() {
  local engine=$1 tag=$2 file=$3 ctx=$4
  shift 4
  case $engine in
    buildah) "${BA[@]}" bud --layers --format docker --isolation oci --runtime runc --network none \
      -t "$tag" -f "$file" "$@" "$ctx" ;;
    docker) DOCKER_BUILDKIT=0 "${D[@]}" build --network none -t "$tag" -f "$file" "$@" "$ctx" ;;
    buildkit) DOCKER_BUILDKIT=1 BUILDKIT_PROGRESS=plain "${D[@]}" build --network none -t "$tag" -f "$file" "$@" "$ctx" ;;
    berth) "${B[@]}" build -t "$tag" -f "$file" "$@" "$ctx" ;;
  esac
}
# export ENGINE TAG NAME: the image as something normalize-image.sh reads; prints its path.
# buildah and docker: a docker-archive, as each engine writes it: converting a Docker image to an
# OCI layout (skopeo copy ... oci:, buildah push ... oci:) drops Healthcheck, Shell and OnBuild.
export_image() {
  local engine=$1 tag=$2 out=$WORKDIR/out/$1-$3
  case $engine in
    buildah) "${BA[@]}" push -q "$tag" "docker-archive:$out.tar" >/dev/null && echo "$out.tar" ;;
    docker | buildkit) "${D[@]}" save -o "$out.tar" "$tag" && echo "$out.tar" ;;
    berth) "${B[@]}" save --format oci-archive -o "$out.tar" "$tag" >/dev/null && echo "$out.tar" ;;
  esac
}
# normalize ENGINE IMAGE: normalize-image.sh with the engine's ignore patterns
normalize() {
  local ig=${IGNORE:-} igl=""
  if [ "$1" = buildah ]; then
    [ -n "$BUILDAH_IGNORE" ] && ig=${ig:+$ig|}$BUILDAH_IGNORE
    igl=$BUILDAH_IGNORE_LABELS
  fi
  IGNORE=$ig IGNORE_LABELS=$igl "$NORMALIZE" "$2"
}
# check_expect CASE FILE: prints the unmet lines of CASE/expect ("" if all met)
check_expect() {
  local f=$CORPUS/$1/expect line
  [ -f "$f" ] || return 0
  while IFS= read -r line; do
    [[ -z "$line" || "$line" == \#* ]] && continue
    if [[ "$line" == !* ]]; then
      grep -Eq -- "${line#!}" "$2" && echo "present: ${line#!}"
    else
      grep -Eq -- "$line" "$2" || echo "missing: $line"
    fi
  done <"$f"
  return 0
}

declare -A STATUS
for c in "${CASES[@]}"; do
  flags=()
  [ -f "$CORPUS/$c/args" ] && mapfile -t flags < <(xargs -n1 <"$CORPUS/$c/args")
  # Modes git cannot keep (it stores 644 or 755): "MODE PATH" lines, applied to the checkout.
  if [ -f "$CORPUS/$c/modes" ]; then
    while read -r mode path; do [ -n "$mode" ] && chmod "$mode" "$CORPUS/$c/$path"; done <"$CORPUS/$c/modes"
  fi
  for e in buildah docker buildkit berth; do
    have "$e" || continue
    if [ -z "${UP[$e]:-}" ]; then STATUS[$e,$c]=skip; continue; fi
    log=$RESULTS/logs/$e-$c.log
    : >"$log"
    ok=1
    if [ -f "$CORPUS/$c/Dockerfile.base" ]; then
      build "$e" "berth-corpus/$c-base:test" "$CORPUS/$c/Dockerfile.base" "$CORPUS/$c" >>"$log" 2>&1 || ok=0
    fi
    if [ $ok = 1 ] && build "$e" "berth-corpus/$c:test" "$CORPUS/$c/Dockerfile" "$CORPUS/$c" "${flags[@]}" >>"$log" 2>&1; then
      if img=$(export_image "$e" "berth-corpus/$c:test" "$c" 2>>"$log") &&
        normalize "$e" "$img" >"$RESULTS/norm/$e-$c.txt" 2>>"$log"; then
        SHOW_LAYERS=1 FILES_ONLY=1 "$NORMALIZE" "$img" 2>/dev/null | grep '^# layer' >"$RESULTS/layers/$e-$c.txt" || true
        STATUS[$e,$c]=built
        unmet=$(check_expect "$c" "$RESULTS/norm/$e-$c.txt")
        if [ -n "$unmet" ]; then
          STATUS[$e,$c]=unmet
          sed 's/^/expect: /' <<<"$unmet" >>"$log"
        fi
      else
        STATUS[$e,$c]=export-failed
      fi
    else
      STATUS[$e,$c]=failed
    fi
    printf '%-8s %-16s %s\n' "$e" "$c" "${STATUS[$e,$c]}" >&2
  done
done

# ---- compare -----------------------------------------------------------------------------------
PAIRS=()
for p in buildah:docker buildkit:docker buildah:buildkit berth:docker berth:buildkit berth:buildah; do
  have "${p%%:*}" && have "${p##*:}" && PAIRS+=("$p")
done
cell() {  # cell CASE A B: "same", "N lines" (lines of diff -u that differ) or "-" (one not built)
  local c=$1 a=$2 b=$3 fa=$RESULTS/norm/$2-$1.txt fb=$RESULTS/norm/$3-$1.txt
  if [[ ${STATUS[$a,$c]:-} != built && ${STATUS[$a,$c]:-} != unmet ]] ||
    [[ ${STATUS[$b,$c]:-} != built && ${STATUS[$b,$c]:-} != unmet ]]; then
    echo "-"; return
  fi
  if diff -u --label "$a/$c" --label "$b/$c" "$fa" "$fb" >"$RESULTS/diff/$c.$a-$b.diff"; then
    rm -f "$RESULTS/diff/$c.$a-$b.diff"; echo same
  else
    echo "$(grep -c '^[-+][^-+]' "$RESULTS/diff/$c.$a-$b.diff") lines"
    [ "$VERBOSE" = 1 ] && cat "$RESULTS/diff/$c.$a-$b.diff" >&2
  fi
  return 0
}
{
  printf '%-16s' case
  for e in "${ENGINES[@]}"; do printf '%-10s' "$e"; done
  for p in "${PAIRS[@]}"; do printf '%-18s' "${p/:/=}"; done
  echo
  for c in "${CASES[@]}"; do
    printf '%-16s' "$c"
    for e in "${ENGINES[@]}"; do printf '%-10s' "${STATUS[$e,$c]:-skip}"; done
    for p in "${PAIRS[@]}"; do printf '%-18s' "$(cell "$c" "${p%%:*}" "${p##*:}")"; done
    echo
  done
} | tee "$RESULTS/table.txt"
echo
echo "built: image built, exported and normalised; unmet: built but its \"expect\" lines are not met (see logs/);"
echo "failed: the build failed (logs/ENGINE-CASE.log); A=B: same, N differing lines (diff/CASE.A-B.diff), - not both built."
echo "results: $RESULTS"
