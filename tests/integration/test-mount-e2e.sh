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

mkdir -p "$T/fuse"
nbdfuse "$T/fuse/disk" --unix "$(LU_SOCK)" >"$T/nbdfuse.log" 2>&1 &
PIDS+=("$!")
CLEANUP_HOOKS+=("fusermount3 -u '$T/fuse' 2>/dev/null")
wait_for 10 test -s "$T/fuse/disk" || fail "nbdfuse did not expose the LU"
LOOP=$(losetup -f --show "$T/fuse/disk")
CLEANUP_HOOKS=("umount '$T/mnt' 2>/dev/null; losetup -d $LOOP 2>/dev/null" "${CLEANUP_HOOKS[@]}")
ext4_survives_path_kill "$LOOP" a
ext4_clean_after "$LOOP" a
echo PASS
