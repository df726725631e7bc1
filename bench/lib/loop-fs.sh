# bench/lib/loop-fs.sh — sourced by benchmarks whose stores must not live on this VM's root ext4
# (no journal: it skips inodes freed in the last minutes when it allocates, so each timed run would
# pay for the removals of the run before it).
#
#   loop_fs_mount IMAGE DIR SIZE WHAT   a fresh journaled ext4 of SIZE (sparse) in IMAGE, mounted at
#                                       DIR; WHAT names the stores in the message. Needs die and say.
loop_fs_mount() {
  local image=$1 dir=$2 size=$3 what=$4
  command -v mkfs.ext4 >/dev/null || die "missing mkfs.ext4 (Debian package e2fsprogs)"
  truncate -s "$size" "$image"            # sparse: only what the stores write takes space
  mkfs.ext4 -q -F "$image"
  mkdir -p "$dir"
  mount -o loop "$image" "$dir" || die "cannot loop-mount $image (set BENCH_FS=here to skip)"
  say "$what on a fresh journaled ext4 at $dir"
}
