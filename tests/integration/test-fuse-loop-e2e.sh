#!/bin/bash
# End to end through mpiod's own FUSE + loop export (export.kind: fuse): mpiod exposes
# the LU as a FUSE file with /dev/loopN on top -> mkfs.ext4 -> mount -> write files -> kill one
# path server -> write more -> every checksum matches, after a remount too -> unmount -> mpiod
# detaches the loop device and unmounts its FUSE filesystem when stopped.
source "$(dirname "$0")/lib.sh"
require nbdkit nbdinfo mkfs.ext4 fsck.ext4 losetup python3 sha256sum
[ "$(id -u)" = 0 ] || { echo "SKIP: needs root for FUSE mounts and loop devices" >&2; exit 77; }
[ -e /dev/fuse ] && [ -e /dev/loop-control ] || { echo "SKIP: no /dev/fuse or loop" >&2; exit 77; }

truncate -s 256M "$T/lun.img"
start_path a "$T/lun.img"
start_path b "$T/lun.img"
POLICY=round-robin EXPORT_KIND=fuse write_config "$T/mpiod.yaml" a b
start_mpiod "$T/mpiod.yaml"
CLEANUP_HOOKS+=("umount -l '$T/mnt' 2>/dev/null; umount -l '$T/run/fuse' 2>/dev/null")

wait_for 20 lu_has_device lu0 /dev/loop || fail "mpiod did not attach a loop device"
LOOP=$(lu_device lu0 /dev/loop)
log "lu0 is $LOOP: $(grep -o "$LOOP on .*" "$T/mpiod.log" | head -1)"
[ -f "$T/run/fuse/lu0" ] || fail "no FUSE file $T/run/fuse/lu0"
[ "$(stat -c %s "$T/run/fuse/lu0")" = $((256 << 20)) ] || fail "the FUSE file has the wrong size"
[ "$(blockdev --getsize64 "$LOOP")" = $((256 << 20)) ] || fail "$LOOP has the wrong size"
losetup -l -n -O BACK-FILE "$LOOP" | grep -q "$T/run/fuse/lu0" || fail "$LOOP is not backed by the FUSE file"
[ "$(readlink "$T/run/by-alias/lu0")" = "$LOOP" ] || fail "by-alias/lu0 does not point at $LOOP"
[ "$(readlink "$T/run/by-wwid/$WWID")" = "$LOOP" ] || fail "by-wwid/$WWID does not point at $LOOP"

ext4_survives_path_kill "$LOOP" a
log "fstrim reaches the LU as zeroing (punch-hole) requests"
fstrim "$T/mnt" || fail "fstrim failed on the loop device"
ext4_clean_after "$LOOP" a

log "stopping mpiod detaches $LOOP and unmounts the FUSE export"
kill -TERM "$MPIOD_PID"
wait_for 30 process_gone "$MPIOD_PID" || fail "mpiod did not stop"
wait "$MPIOD_PID" || fail "mpiod exited with an error"
losetup -l -n -O BACK-FILE "$LOOP" 2>/dev/null | grep -q "$T/run/fuse/lu0" && fail "$LOOP still attached"
grep -q " $T/run/fuse " /proc/mounts && fail "the FUSE export is still mounted"
[ -L "$T/run/by-alias/lu0" ] && fail "by-alias/lu0 outlived the FUSE export"
echo PASS
