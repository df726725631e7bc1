# shellcheck shell=bash
# Shared helpers for the engine scripts (docker.sh, podman.sh, containerd.sh, cri.sh). Source it, don't run it.
#
# Output is one line per check, "ok - NAME" or "not ok - NAME" (details follow as "#   " lines),
# and a closing "N passed, N failed, N skipped" line; `finish` exits non-zero when anything failed.

PASSED=0
FAILED=0
SKIPPED=0

ok() { echo "ok - $1"; PASSED=$((PASSED + 1)); }

# not_ok NAME [DETAIL...]: a failed check; the script goes on to the next one.
not_ok() {
  echo "not ok - $1"
  shift
  local line
  for line in "$@"; do printf '#   %s\n' "$line"; done
  FAILED=$((FAILED + 1))
}

# skip NAME REASON: a check this machine cannot make.
skip() { echo "ok - $1 # SKIP $2"; SKIPPED=$((SKIPPED + 1)); }

# fail MESSAGE: a failure the script cannot go on after (setup). The EXIT trap still tears down.
fail() {
  not_ok "$*"
  echo "Bail out! $*"
  exit 1
}

# expect_eq NAME EXPECTED ACTUAL
expect_eq() {
  if [ "$2" = "$3" ]; then ok "$1"; else not_ok "$1" "expected: $(printf '%q' "$2")" "got:      $(printf '%q' "$3")"; fi
}

# expect_match NAME EXTENDED_REGEX ACTUAL
expect_match() {
  if [[ "$3" =~ $2 ]]; then ok "$1"; else not_ok "$1" "expected to match: $2" "got: $(printf '%q' "$3")"; fi
}

# check NAME CMD...: ok when CMD exits 0; its output is shown only on failure.
check() {
  local name=$1 out
  shift
  if out=$("$@" 2>&1); then ok "$name"; else not_ok "$name" "command: $*" "exit $?: $out"; fi
}

finish() {
  echo "$PASSED passed, $FAILED failed, $SKIPPED skipped"
  [ "$FAILED" -eq 0 ]
}

# ---- cleanup: a stack of commands run in reverse order on any exit, failure or Ctrl-C ----------

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

# ---- work directories ---------------------------------------------------------------------------

# A fixed place per engine (not a random mktemp name), so that a run that was killed before its
# cleanup ran leaves things the next run can find and remove. On disk, not tmpfs: overlayfs upper
# dirs and image stores want a real filesystem.
ENGINE_TEST_BASE=${ENGINE_TEST_BASE:-/var/tmp/berth-engine-tests}

# engine_workdir NAME: the work dir of one engine script (removed by its teardown, not here).
engine_workdir() { echo "$ENGINE_TEST_BASE/$1"; }

# unmount_under DIR: lazily unmounts everything mounted at or below DIR, deepest first.
unmount_under() {
  local dir=${1%/} m
  [ -n "$dir" ] || return 0
  # Field 5 of mountinfo is the mount point (spaces appear as \040; our paths have none).
  awk -v d="$dir" '$5 == d || index($5, d "/") == 1 { print $5 }' /proc/self/mountinfo |
    sort -r | while read -r m; do umount -l "$m" 2>/dev/null || true; done
}

# cmdline_of PID: the process's command line, arguments joined by spaces ("" if it is gone).
cmdline_of() { tr '\0' ' ' 2>/dev/null <"/proc/$1/cmdline" || true; }

# kill_procs_mentioning STRING: kills (by pid) processes whose command line contains STRING:
# daemons, shims and conmons that a killed earlier run of the same script left behind. STRING is a
# path unique to these scripts, so nothing else matches.
kill_procs_mentioning() {
  local needle=$1 pid pids=() p
  for p in /proc/[0-9]*; do
    pid=${p#/proc/}
    [ "$pid" = "$$" ] && continue
    if [[ "$(cmdline_of "$pid")" == *"$needle"* ]]; then pids+=("$pid"); fi
  done
  [ ${#pids[@]} -gt 0 ] || return 0
  kill -TERM "${pids[@]}" 2>/dev/null || true
  for _ in 1 2 3 4 5 6 7 8 9 10; do
    local alive=()
    for pid in "${pids[@]}"; do kill -0 "$pid" 2>/dev/null && alive+=("$pid"); done
    [ ${#alive[@]} -eq 0 ] && return 0
    sleep 0.5
  done
  kill -KILL "${alive[@]}" 2>/dev/null || true
}

# reap_runtime_root RUNTIME ROOT [BUNDLE_PREFIX]: force-deletes the containers the runtime still
# knows under ROOT (its --root; "" for its default root), only those whose bundle is under
# BUNDLE_PREFIX if given. They are left behind when a shim or conmon was killed with its container
# still running.
reap_runtime_root() {
  local runtime=$1 root=$2 prefix=${3:-} id rootflag=()
  if [ -n "$root" ]; then
    [ -d "$root" ] || return 0
    rootflag=(--root "$root")
  fi
  for id in $("$runtime" "${rootflag[@]}" list --format json 2>/dev/null |
    jq -r --arg p "$prefix" '.[]? | select(.bundle | startswith($p)) | .id' 2>/dev/null); do
    "$runtime" "${rootflag[@]}" kill "$id" KILL >/dev/null 2>&1 || true
    "$runtime" "${rootflag[@]}" delete --force "$id" >/dev/null 2>&1 || true
  done
}

# ---- host network state ---------------------------------------------------------------------------

# Engines with bridge networking change the host: a bridge (docker0, the CNI bridge), iptables
# chains and NAT rules, net.ipv4.ip_forward=1 and, for Docker, FORWARD's policy DROP. We snapshot
# that before the engine starts and take the engine's part out again after it stopped. Only the
# engine's part: Berth's own tests make bridges and rules at the same time, and putting a whole
# table back from the snapshot would wipe theirs. The snapshot lives in the engine's work dir, so
# a run that was killed is undone by the next run's stale cleanup.

# snapshot_host_network FILE_PREFIX: writes FILE_PREFIX.{ip_forward,filter,nat} unless already there
# (an existing snapshot is from a killed run and shows the state before that run).
snapshot_host_network() {
  local p=$1 t
  [ -e "$p.ip_forward" ] && return 0
  mkdir -p "$(dirname "$p")"
  if command -v iptables >/dev/null; then
    for t in filter nat; do iptables -w 10 -t "$t" -S >"$p.$t" 2>/dev/null || true; done
  fi
  cat /proc/sys/net/ipv4/ip_forward >"$p.ip_forward"
}

# restore_host_network FILE_PREFIX BRIDGE PATTERN: if there is a snapshot, deletes the engine's
# bridge, every rule and chain added since the snapshot whose text matches PATTERN (an ERE naming
# the engine's chains, bridge or subnet), puts back the built-in chains' policies, and ip_forward.
# Each pipeline ends in "|| true": a grep that finds nothing must not end a script (set -e,
# pipefail) whose first teardown undoes a killed run.
restore_host_network() {
  local p=$1 bridge=$2 pattern=$3 t line chain
  [ -e "$p.ip_forward" ] || return 0
  ip link del "$bridge" 2>/dev/null || true
  if command -v iptables >/dev/null; then
    for t in filter nat; do
      [ -e "$p.$t" ] || continue
      # Rules first (a chain goes only once nothing jumps to it), newest first.
      iptables -w 10 -t "$t" -S 2>/dev/null | grep '^-A ' | grep -E -- "$pattern" | grep -vxF -f "$p.$t" | tac |
        while IFS= read -r line; do eval "iptables -w 10 -t $t -D ${line#-A }" 2>/dev/null || true; done || true
      for chain in $(iptables -w 10 -t "$t" -S 2>/dev/null | grep '^-N ' | grep -vxF -f "$p.$t" | awk '{ print $2 }' | grep -E -- "$pattern"); do
        iptables -w 10 -t "$t" -F "$chain" 2>/dev/null || true
        iptables -w 10 -t "$t" -X "$chain" 2>/dev/null || true
      done
      grep '^-P ' "$p.$t" | while read -r _ chain policy; do iptables -w 10 -t "$t" -P "$chain" "$policy" 2>/dev/null || true; done || true
    done
  fi
  cat "$p.ip_forward" >/proc/sys/net/ipv4/ip_forward
  rm -f "$p.filter" "$p.nat" "$p.iptables" "$p.ip_forward"
}

# ---- the runtime under test -----------------------------------------------------------------------

# resolve_runtime PATH: sets RUNTIME to the absolute path of the runtime binary, or bails out.
resolve_runtime() {
  [ -n "${1:-}" ] || fail "usage: $0 RUNTIME_PATH   (e.g. /usr/bin/runc or .build/debug/berth-runtime)"
  local p
  p=$(command -v -- "$1" 2>/dev/null) || fail "runtime not found: $1"
  # Absolute, but a symlink is kept as such: its name is the runtime's name to the engines.
  RUNTIME=$(cd "$(dirname -- "$p")" && pwd -P)/$(basename -- "$p")
  [ -x "$RUNTIME" ] || fail "runtime not executable: $RUNTIME"
}

# logged_runtime RUNTIME DIR: when BERTH_RUNTIME_LOG is set, writes a wrapper DIR/NAME that runs
# RUNTIME and appends one line per call to that file, and prints the wrapper's path; otherwise
# prints RUNTIME unchanged. NAME is RUNTIME's own file name: Podman, for one, decides by that name
# whether the runtime takes "--log-format json". A line is
#     CALLER: ARGS => EXIT_STATUS
# CALLER being the command name of the process that ran the runtime (containerd-shim, conmon,
# podman ...), ARGS shell-quoted with %q. The JSON an engine hands over in a file (exec --process
# FILE) or on stdin (update --resources -) is copied next to the log, as LOG.d/N.process.json and
# LOG.d/N.resources.json, and so is the bundle's config.json on create/run (LOG.d/N.config.json);
# the line names the copy.
# The runtime runs as a child, not exec'd, so that its exit status can be logged. Engines rely on
# pid files, not on the runtime's own pid, and the container's init is reparented to the engine's
# subreaper (shim, conmon) as it would be without the wrapper; signals sent to the runtime process
# itself are not forwarded, which none of the engines exercised here needs.
logged_runtime() {
  local runtime=$1 dir=$2
  if [ -z "${BERTH_RUNTIME_LOG:-}" ]; then
    echo "$runtime"
    return
  fi
  local wrapper
  wrapper=$dir/$(basename "$runtime")
  mkdir -p "$dir" "$(dirname "$BERTH_RUNTIME_LOG")" "$BERTH_RUNTIME_LOG.d"
  {
    echo '#!/bin/bash'
    echo "log=$(printf '%q' "$BERTH_RUNTIME_LOG")"
    echo "runtime=$(printf '%q' "$runtime")"
    cat <<'EOF'
n=$(date +%s%N)-$$
line="$(cat /proc/$PPID/comm 2>/dev/null):$(printf ' %q' "$@")"
extra="" stdin=""
args=("$@")
for ((i = 0; i < ${#args[@]}; i++)); do
  f=""
  case "${args[i]}" in
    --process) f=${args[i + 1]:-} kind=process ;;
    --process=*) f=${args[i]#--process=} kind=process ;;
    -r | --resources) f=${args[i + 1]:-} kind=resources ;;
    --resources=*) f=${args[i]#--resources=} kind=resources ;;
  esac
  case "${args[i]}" in
    # The bundle's config.json, as the engine wrote it, for create and run.
    -b | --bundle) [ -f "${args[i + 1]:-}/config.json" ] && cp "${args[i + 1]}/config.json" "$log.d/$n.config.json" && extra+=" [config: $n.config.json]" ;;
    --bundle=*) [ -f "${args[i]#--bundle=}/config.json" ] && cp "${args[i]#--bundle=}/config.json" "$log.d/$n.config.json" && extra+=" [config: $n.config.json]" ;;
  esac
  if [ "$f" = - ]; then
    # The JSON comes on stdin: keep a copy and give the runtime the same bytes on its stdin.
    cat >"$log.d/$n.$kind.json"
    stdin=$log.d/$n.$kind.json
    extra+=" [$kind on stdin: $n.$kind.json]"
  elif [ -n "$f" ] && [ -f "$f" ]; then
    cp "$f" "$log.d/$n.$kind.json" && extra+=" [$kind: $n.$kind.json]"
  fi
done
if [ -n "$stdin" ]; then "$runtime" "$@" <"$stdin"; else "$runtime" "$@"; fi
rc=$?
echo "$line => $rc$extra" >>"$log"
exit $rc
EOF
  } >"$wrapper"
  chmod 755 "$wrapper"
  echo "$wrapper"
}

# ---- a busybox image ------------------------------------------------------------------------------

# make_busybox_rootfs DIR: a minimal root filesystem: Debian's static busybox (package
# busybox-static) at /bin/busybox and a symlink in /bin for each applet, so "sh", "echo", "tty",
# "sleep" ... resolve on the engines' default PATH.
make_busybox_rootfs() {
  local dir=$1 bb=${BUSYBOX:-/bin/busybox} applet
  [ -x "$bb" ] || fail "no $bb: apt-get install busybox-static"
  # The rootfs has no libc: the dynamic busybox of package "busybox" would not run in it.
  # (ldd exits 1 for a static binary, so its output is tested, not its status.)
  [[ "$(ldd "$bb" 2>&1 || true)" == *"not a dynamic executable"* ]] ||
    fail "$bb is not statically linked: apt-get install busybox-static"
  rm -rf "$dir"
  mkdir -p "$dir"/{bin,sbin,usr/bin,usr/sbin,etc,dev,proc,sys,tmp,root,run,var}
  chmod 1777 "$dir/tmp"
  cp "$bb" "$dir/bin/busybox"
  for applet in $("$dir/bin/busybox" --list); do
    [ "$applet" = busybox ] || ln -sf busybox "$dir/bin/$applet"
  done
  printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n' >"$dir/etc/passwd"
  printf 'root:x:0:\nnogroup:x:65534:\n' >"$dir/etc/group"
}

# make_busybox_tar OUT.tar [WORKDIR]: the rootfs above as a tarball (files owned by root, sorted,
# fixed mtimes, so the same busybox gives the same bytes and the same layer digest every run).
make_busybox_tar() {
  local out=$1 tmp=${2:-$(dirname "$1")/busybox-rootfs}
  make_busybox_rootfs "$tmp"
  tar -C "$tmp" --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner -cf "$out" .
  rm -rf "$tmp"
}

# oci_blob LAYOUT FILE: moves FILE into the layout's blobs under its digest; prints "DIGEST SIZE".
oci_blob() {
  local d s
  d=$(sha256sum "$2" | cut -d' ' -f1)
  s=$(stat -c %s "$2")
  mv "$2" "$1/blobs/sha256/$d"
  echo "sha256:$d $s"
}

# make_oci_layout LAYOUT LAYER.tar NAME CONFIG: an OCI image layout made by hand (tar, sha256sum,
# jq; no registry, no engine): one uncompressed layer (LAYER.tar, moved in), an image config whose
# "config" is the JSON object CONFIG, a manifest, and an index.json that names the image NAME for
# `ctr images import` (annotation io.containerd.image.name) and tag "latest" for skopeo's
# oci:LAYOUT:latest.
make_oci_layout() {
  local oci=$1 layer=$2 name=$3 config=$4 tmp arch
  local layer_digest layer_size config_digest config_size manifest_digest manifest_size
  rm -rf "$oci"
  mkdir -p "$oci/blobs/sha256"
  tmp=$oci.tmp.json
  read -r layer_digest layer_size < <(oci_blob "$oci" "$layer")
  arch=$(dpkg --print-architecture) # amd64, arm64: the same names as OCI's
  jq -n --arg arch "$arch" --arg diff "$layer_digest" --argjson config "$config" --arg by "$name: made by Tests/Scripts/engines" '{
    architecture: $arch, os: "linux", config: $config,
    rootfs: { type: "layers", diff_ids: [$diff] },
    history: [{ created_by: $by }]
  }' >"$tmp"
  read -r config_digest config_size < <(oci_blob "$oci" "$tmp")
  jq -n --arg cd "$config_digest" --argjson cs "$config_size" --arg ld "$layer_digest" --argjson ls "$layer_size" '{
    schemaVersion: 2, mediaType: "application/vnd.oci.image.manifest.v1+json",
    config: { mediaType: "application/vnd.oci.image.config.v1+json", digest: $cd, size: $cs },
    layers: [{ mediaType: "application/vnd.oci.image.layer.v1.tar", digest: $ld, size: $ls }]
  }' >"$tmp"
  read -r manifest_digest manifest_size < <(oci_blob "$oci" "$tmp")
  jq -n --arg md "$manifest_digest" --argjson ms "$manifest_size" --arg name "$name" '{
    schemaVersion: 2,
    manifests: [{ mediaType: "application/vnd.oci.image.manifest.v1+json", digest: $md, size: $ms,
                  annotations: { "io.containerd.image.name": $name, "org.opencontainers.image.ref.name": "latest" } }]
  }' >"$oci/index.json"
  echo '{"imageLayoutVersion":"1.0.0"}' >"$oci/oci-layout"
}

# ---- small utilities ---------------------------------------------------------------------------

# have_all_caps: whether this process's bounding set holds every capability the kernel knows.
# Not so in some sandboxes (these machines lack CAP_SYS_RESOURCE), and then a --privileged
# container, which asks for all of them, cannot be made by any runtime.
have_all_caps() {
  local last bnd
  last=$(cat /proc/sys/kernel/cap_last_cap)
  bnd=$(awk '/^CapBnd:/ { print $2 }' /proc/self/status)
  [ $((16#$bnd)) -eq $(((1 << (last + 1)) - 1)) ]
}

# with_tty CMD...: runs CMD with a pseudo-terminal as its stdin/stdout (script(1), from bsdutils),
# for "docker run -t" and friends, which refuse or behave differently without one.
# CMD is exec'd as the pty's session leader: a shell that forked it instead would leave "timeout"
# free to move it into a background process group, where the engine's first tcsetattr stops it
# with SIGTTOU. (script runs $SHELL -c, which is dash when SHELL is unset, as under CI.)
with_tty() {
  local cmd
  cmd=$(printf '%q ' "$@")
  SHELL=/bin/sh script -qefc "exec $cmd" /dev/null </dev/null
}

# tty_line: reads with_tty's output and prints the first /dev/pts/N in it, or all of it if none:
# the pty may echo control characters ("^@") around it, and ctr adds resize warnings.
tty_line() {
  local all
  all=$(tr -d '\r\0')
  if [[ "$all" =~ (/dev/pts/[0-9]+) ]]; then echo "${BASH_REMATCH[1]}"; else echo "$all"; fi
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

# elapsed_ms CMD...: runs CMD (its output discarded, its failure ignored) and prints how long it took.
elapsed_ms() {
  local t0 t1
  t0=$(date +%s%N)
  "$@" >/dev/null 2>&1 || true
  t1=$(date +%s%N)
  echo $(((t1 - t0) / 1000000))
}
