#!/bin/bash
# Growing an LU exported as a FUSE file with /dev/loopN on top (export.kind: fuse): after
# `mpiod-ctl resize` the FUSE file and the loop device take the new size, data written before
# stays, and the new range is usable through the loop device.
source "$(dirname "$0")/lib.sh"
require nbdkit nbdinfo nbdsh blockdev python3
[ "$(id -u)" = 0 ] || fail "needs root for FUSE mounts and loop devices"
[ -e /dev/fuse ] && [ -e /dev/loop-control ] || fail "no /dev/fuse or /dev/loop-control"

truncate -s 64M "$T/lun.img"
start_path a "$T/lun.img"
start_path b "$T/lun.img"
EXPORT_KIND=fuse write_config "$T/mpiod.yaml" a b
start_mpiod "$T/mpiod.yaml"
CLEANUP_HOOKS+=("umount -l '$T/run/fuse' 2>/dev/null")
wait_for 20 lu_has_device lu0 /dev/loop || fail "mpiod did not attach a loop device"
LOOP=$(lu_device lu0 /dev/loop)
[ "$(blockdev --getsize64 "$LOOP")" = $((64 << 20)) ] || fail "$LOOP is not 64 MiB"
head -c 1M /dev/urandom >"$T/before"
dd if="$T/before" of="$LOOP" bs=1M seek=1 oflag=direct status=none || fail "write to $LOOP"

log "the storage grows to 96 MiB; mpiod-ctl resize"
truncate -s 96M "$T/lun.img"
out=$(ctl resize lu0) || fail "mpiod-ctl resize failed: $out"
[ "$out" = "LU lu0: size $((96 << 20)) bytes" ] || fail "unexpected resize output: $out"
loop_is_96m() { [ "$(blockdev --getsize64 "$LOOP")" = $((96 << 20)) ]; }
wait_for 10 loop_is_96m || fail "$LOOP is $(blockdev --getsize64 "$LOOP") bytes after the resize"
[ "$(stat -c %s "$T/run/fuse/lu0")" = $((96 << 20)) ] || fail "the FUSE file did not grow"
grep -q "lu lu0: loop device resized to $((96 << 20)) bytes" "$T/mpiod.log" ||
    fail "the loop resize is not logged"

head -c 1M /dev/urandom >"$T/after"
dd if="$T/after" of="$LOOP" bs=1M seek=90 oflag=direct status=none ||
    fail "writing past the old end of $LOOP"
cmp <(dd if="$LOOP" bs=1M skip=1 count=1 iflag=direct status=none) "$T/before" ||
    fail "data written before the resize changed"
cmp <(dd if="$T/lun.img" bs=1M skip=90 count=1 status=none) "$T/after" ||
    fail "the write past the old end did not reach the storage"
echo PASS
