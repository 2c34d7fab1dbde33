#!/bin/bash
# End to end with a real filesystem: nbdfuse on mpiod's LU socket -> losetup ->
# mkfs.ext4 -> mount -> write files -> kill one path server -> write and read more ->
# every checksum matches, before and after a remount.
source "$(dirname "$0")/lib.sh"
require nbdkit nbdinfo nbdfuse losetup mkfs.ext4 fusermount3 python3 sha256sum
[ "$(id -u)" = 0 ] || { echo "SKIP: needs root for losetup and mount" >&2; exit 77; }
[ -e /dev/fuse ] && [ -e /dev/loop-control ] || { echo "SKIP: no /dev/fuse or loop" >&2; exit 77; }

truncate -s 256M "$T/lun.img"
start_path a "$T/lun.img"
start_path b "$T/lun.img"
POLICY=round-robin write_config "$T/mpiod.yaml" a b
start_mpiod "$T/mpiod.yaml"

mkdir -p "$T/fuse" "$T/mnt"
nbdfuse "$T/fuse/disk" --unix "$(LU_SOCK)" >"$T/nbdfuse.log" 2>&1 &
PIDS+=("$!")
CLEANUP_HOOKS+=("fusermount3 -u '$T/fuse' 2>/dev/null")
wait_for 10 test -s "$T/fuse/disk" || fail "nbdfuse did not expose the LU"
LOOP=$(losetup -f --show "$T/fuse/disk")
CLEANUP_HOOKS=("umount '$T/mnt' 2>/dev/null; losetup -d $LOOP 2>/dev/null" "${CLEANUP_HOOKS[@]}")
mkfs.ext4 -q -F "$LOOP"
mount "$LOOP" "$T/mnt"

write_files() { # PREFIX COUNT
    for i in $(seq 1 "$2"); do
        head -c $((256 * 1024 + i * 4096)) /dev/urandom >"$T/mnt/$1-$i"
    done
    sync -f "$T/mnt"
}

log "writing files with both paths up"
write_files before 40
(cd "$T/mnt" && sha256sum before-* >"$T/sums")

log "killing path a"
kill_path a
write_files after 40
(cd "$T/mnt" && sha256sum after-* >>"$T/sums")
(cd "$T/mnt" && sha256sum -c --quiet "$T/sums") || fail "checksums differ after the path kill"

log "remount (cold read through the surviving path)"
umount "$T/mnt"
echo 3 >/proc/sys/vm/drop_caches
mount "$LOOP" "$T/mnt"
(cd "$T/mnt" && sha256sum -c --quiet "$T/sums") || fail "checksums differ after remount"
umount "$T/mnt"
fsck.ext4 -n -f "$LOOP" >/dev/null || fail "fsck found damage"
[ "$(ctl --json show lu lu0 | python3 -c 'import json,sys; print(json.load(sys.stdin)["io_errors"])')" = 0 ] ||
    fail "mpiod completed I/O with errors"
path_is a failed || path_is a reinstating || fail "path a is $(path_state a)"
echo PASS
