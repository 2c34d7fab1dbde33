#!/bin/busybox sh
# /init of the VM test's NBD scenario (tests/vm/run-vm-test.sh nbd builds the initramfs):
# mpiod attaches the LU served by two host nbdkit paths as /dev/nbdX through netlink; ext4 on
# it; files written while the host kills one path; checksums verified; mpiod killed -9, then
# stopped with SIGTERM, and restarted each time, reattaching to the same device (RECONFIGURE);
# clean unmount and detach. Every result line starts with "MPIOD-VM:" on the serial console;
# the last one is "MPIOD-VM: PASS" or "MPIOD-VM: FAIL ...".
. /lib/guest-lib.sh # say, fail, now, elapsed, load_modules, start_mpiod, wait_device, CTL
guest_boot           # WWID, ASAN_OPTIONS, UBSAN_OPTIONS from /etc/mpiod-vm.env
load_modules
ip link set lo up
ip link set eth0 up || fail "no eth0"
ip addr add 10.0.2.15/24 dev eth0
ip route add default via 10.0.2.2

# write_files PREFIX COUNT [MARK_AT]: 1 MiB files, each written and fsynced; prints the
# slowest file's time; prints the KILL-PATH-A marker before file MARK_AT.
write_files() {
    local i=1 t max=0
    while [ "$i" -le "$2" ]; do
        [ "$i" = "${3:-0}" ] && say "KILL-PATH-A"
        t=$(now)
        dd if=/dev/urandom of="/mnt/$1-$i" bs=1M count=1 conv=fsync 2>/dev/null ||
            fail "writing /mnt/$1-$i"
        t=$(elapsed "$t")
        max=$(max_of "$max" "$t")
        i=$((i + 1))
    done
    echo "$max"
}

start=$(now)
start_mpiod /tmp/mpiod.log
wait_device 120 || fail "mpiod attached no nbd device"
say "attached $DEV in $(elapsed "$start") s"
$CTL list lus | sed 's/^/MPIOD-VM: | /' >/dev/console
N=${DEV#/dev/nbd}
[ "$(cat /sys/block/nbd$N/backend)" = "$WWID" ] || fail "backend of nbd$N is not $WWID"
say "nbd$N: $(ls /sys/block/nbd$N/mq | wc -l) socket(s), $(cat /sys/block/nbd$N/size) sectors"

mkfs.ext4 -q -F "$DEV" || fail "mkfs.ext4"
mount -t ext4 "$DEV" /mnt || fail "mount"
t=$(now)
max_before=$(write_files before 20) || exit
say "STAT 20 MiB before the kill in $(elapsed "$t") s, slowest 1 MiB fsync $max_before s"
t=$(now)
max_after=$(write_files after 30 1) || exit
say "STAT 30 MiB across the kill in $(elapsed "$t") s, slowest 1 MiB fsync $max_after s"
state=$($CTL list paths | awk '$2 == "a"')
echo "$state" | grep -q -E 'failed|reinstating' || fail "path a is not failed: $state"
(cd /mnt && sha256sum before-* after-* >/tmp/sums)
umount /mnt
echo 3 >/proc/sys/vm/drop_caches
mount -t ext4 "$DEV" /mnt || fail "remount"
(cd /mnt && sha256sum -c -s /tmp/sums) || fail "checksums differ after the path kill"
say "50 files verified after remount"

# restart_under_writes SIGNAL PREFIX: 12 files of 1 MiB are written (fsync each) while mpiod
# is stopped with SIGNAL and started again; the new daemon must reattach to the same device
# and the writes must all succeed. Reports the stall.
restart_under_writes() {
    : >/tmp/restart-times
    (
        i=1
        while [ "$i" -le 12 ]; do
            t=$(now)
            dd if=/dev/urandom of="/mnt/$2-$i" bs=1M count=1 conv=fsync 2>/dev/null || exit 1
            echo "$i $(elapsed "$t")" >>/tmp/restart-times
            i=$((i + 1))
        done
    ) &
    writer=$!
    while [ "$(wc -l </tmp/restart-times)" -lt 3 ]; do
        kill -0 "$writer" 2>/dev/null || fail "writes failed before the daemon restart ($1)"
        sleep 0.1
    done
    kill "-$1" "$MPIOD_PID"
    wait "$MPIOD_PID" 2>/dev/null
    killed=$(now)
    [ -e "/sys/block/nbd$N/backend" ] || fail "nbd$N was detached by mpiod's $1"
    say "mpiod stopped with $1 during writes; nbd$N stays bound"
    start_mpiod "/tmp/mpiod-after-$1.log"
    wait_device 120 || fail "the restarted mpiod attached no nbd device"
    [ "$DEV" = "/dev/nbd$N" ] || fail "the restarted mpiod took $DEV instead of /dev/nbd$N"
    grep -q "reattached to /dev/nbd$N" "/tmp/mpiod-after-$1.log" || fail "no reattach in the log"
    say "reattached /dev/nbd$N $(elapsed "$killed") s after the $1"
    wait "$writer" || fail "writes failed across the daemon restart ($1)"
    say "STAT restart ($1): per-file times $(awk '{ printf "%s ", $2 }' /tmp/restart-times)"
    say "STAT I/O stall across the daemon restart ($1): $(elapsed "$killed") s until all 12 files were written, slowest $(sort -k2 -n /tmp/restart-times | tail -n 1 | cut -d' ' -f2) s"
    (cd /mnt && sha256sum "$2"-* >>/tmp/sums)
}

# The daemon dies with I/O in flight, then is stopped for a restart (systemctl restart):
# both times a new one reattaches to the same device under the mounted filesystem.
restart_under_writes KILL crash
restart_under_writes TERM restart
umount /mnt
echo 3 >/proc/sys/vm/drop_caches
mount -t ext4 "$DEV" /mnt || fail "remount after the restarts"
(cd /mnt && sha256sum -c -s /tmp/sums) || fail "checksums differ after the daemon restarts"
umount /mnt || fail "umount"
e2fsck -n -f "$DEV" >/tmp/fsck.log 2>&1 || fail "fsck: $(tail -n 3 /tmp/fsck.log)"
say "74 files verified, fsck clean"

# Resize: the host grows the image behind the paths; mpiod-ctl resize re-reads the capacity
# (retried until the host has grown it) and the kernel device follows; ext4 grows offline.
say "GROW-LUN"
grown=""
for _ in $(seq 1 30); do
    out=$($CTL resize lu0 2>&1) || fail "mpiod-ctl resize: $out"
    case $out in *"size 167772160 bytes"*) grown=1; break ;; esac
    sleep 1
done
[ -n "$grown" ] || fail "the LU did not grow to 160 MiB: $out"
sectors=$(cat "/sys/block/nbd$N/size")
[ "$sectors" = 327680 ] || fail "nbd$N has $sectors sectors after the resize, not 327680"
say "resized: $out; nbd$N has $sectors sectors"
mount -t ext4 "$DEV" /mnt || fail "mount after the resize"
resize2fs "$DEV" >/tmp/resize2fs.log 2>&1 || fail "online resize2fs: $(tr '\n' ' ' </tmp/resize2fs.log)"
(cd /mnt && sha256sum -c -s /tmp/sums) || fail "checksums differ after the resize"
dd if=/dev/urandom of=/mnt/grown bs=1M count=40 conv=fsync 2>/dev/null ||
    fail "writing 40 MiB after the resize"
umount /mnt || fail "umount after the resize"
e2fsck -n -f "$DEV" >/tmp/fsck.log 2>&1 || fail "fsck after resize2fs: $(tail -n 3 /tmp/fsck.log)"
say "ext4 grown online to 160 MiB, files verified, 40 MiB more written, fsck clean"

$CTL detach lu0 || fail "mpiod-ctl detach lu0"
[ -e "/sys/block/nbd$N/backend" ] && fail "nbd$N is still bound after mpiod-ctl detach"
say "mpiod-ctl detach lu0 detached /dev/nbd$N"
$CTL shutdown --detach || fail "mpiod-ctl shutdown --detach"
wait "$MPIOD_PID"
rc=$?
[ "$rc" = 0 ] || fail "mpiod exited with $rc"
say "mpiod stopped"
# TCP retransmissions and retransmit timeouts of the guest (slirp drops show up here).
tcp_counter() { # FILE GROUP NAME
    awk -v g="$2:" -v n="$3" '$1 == g && !h { for (i = 2; i <= NF; i++) col[$i] = i; h = 1; next }
        $1 == g && h { print $col[n]; exit }' "$1"
}
say "STAT tcp: $(tcp_counter /proc/net/snmp Tcp RetransSegs) segments retransmitted," \
    "$(tcp_counter /proc/net/netstat TcpExt TCPTimeouts) retransmit timeouts"
grep -h -E ' (warning|error) ' /tmp/mpiod*.log | grep -v 'open failed' |
    sed 's/^/MPIOD-VM: log | /' >/dev/console
say "PASS"
finish
