#!/bin/bash
# End to end through mpiod's own FUSE + loop export (MPIOD_EXPORT_KIND=fuse): mpiod exposes
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
POLICY=round-robin write_config "$T/mpiod.yaml" a b
export MPIOD_EXPORT_KIND=fuse
start_mpiod "$T/mpiod.yaml"
CLEANUP_HOOKS+=("umount -l '$T/mnt' 2>/dev/null; umount -l '$T/run/fuse' 2>/dev/null")

wait_for 20 lu_has_device lu0 /dev/loop || fail "mpiod did not attach a loop device"
LOOP=$(lu_device lu0 /dev/loop)
log "lu0 is $LOOP: $(grep -o "$LOOP on .*" "$T/mpiod.log" | head -1)"
[ -f "$T/run/fuse/lu0" ] || fail "no FUSE file $T/run/fuse/lu0"
[ "$(stat -c %s "$T/run/fuse/lu0")" = $((256 << 20)) ] || fail "the FUSE file has the wrong size"
[ "$(blockdev --getsize64 "$LOOP")" = $((256 << 20)) ] || fail "$LOOP has the wrong size"
losetup -l -n -O BACK-FILE "$LOOP" | grep -q "$T/run/fuse/lu0" || fail "$LOOP is not backed by the FUSE file"

mkdir -p "$T/mnt"
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
log "fstrim reaches the LU as zeroing (punch-hole) requests"
fstrim "$T/mnt" || fail "fstrim failed on the loop device"
umount "$T/mnt"
fsck.ext4 -n -f "$LOOP" >/dev/null 2>&1 || fail "fsck found damage"
[ "$(ctl --json show lu lu0 | python3 -c 'import json,sys; print(json.load(sys.stdin)["io_errors"])')" = 0 ] ||
    fail "mpiod completed I/O with errors"
path_is a failed || path_is a reinstating || fail "path a is $(path_state a)"

log "stopping mpiod detaches $LOOP and unmounts the FUSE export"
kill -TERM "$MPIOD_PID"
wait_for 30 process_gone "$MPIOD_PID" || fail "mpiod did not stop"
wait "$MPIOD_PID" || fail "mpiod exited with an error"
losetup -l -n -O BACK-FILE "$LOOP" 2>/dev/null | grep -q "$T/run/fuse/lu0" && fail "$LOOP still attached"
grep -q " $T/run/fuse " /proc/mounts && fail "the FUSE export is still mounted"
echo PASS
