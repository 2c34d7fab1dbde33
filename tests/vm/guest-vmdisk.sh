#!/bin/busybox sh
# /init of the VM test's vmdisk scenario (run-vm-test.sh vmdisk builds the initramfs): the
# guest's disk /dev/vda is an LU of mpiod on the host, reached by qemu's own NBD client on the
# LU's Unix socket; mpiod, its two nbdkit paths and the faults are all on the host
# (tests/vm/vmdisk-host.sh). No mpiod in the guest.
#
# The host drives the guest one step at a time through the second serial port (/dev/ttyS1),
# one command a line:
#   write   new random data over the first $REGION_MB MiB of /dev/vda with O_DIRECT and an
#           fsync, then read back with O_DIRECT and compare: "ROUND n writing" before the
#           write, "ROUND n written in W s" after it, "ROUND n ok read R s" after the
#           comparison. The region is written (and read) as $STRIPES parallel streams of
#           1 MiB requests, so that both paths always have I/O in flight.
#   verify  read the region back with O_DIRECT and compare with the last round's data
#           (nothing written in between): "VERIFIED n"
#   finish  the kernel log must hold no I/O error; "SHA256 <sum of the last round's data>"
#           and "PASS"
# A failed write, read or comparison is "FAIL ..." at once. Result lines as in guest-lib.sh.
. /lib/guest-lib.sh # say, fail, now, elapsed, load_modules, finish
guest_boot          # REGION_MB and STRIPES from /etc/mpiod-vm.env
DMESG_PATTERN='vda|virtio|I/O error|blk_update|critical'
load_modules

deadline=$(($(cut -d. -f1 /proc/uptime) + 30))
until [ -b /dev/vda ]; do
    [ "$(cut -d. -f1 /proc/uptime)" -lt "$deadline" ] || fail "no /dev/vda 30 s after insmod virtio_blk"
    sleep 0.1
done
sectors=$(cat /sys/block/vda/size)
[ "$sectors" -ge $((REGION_MB * 2048)) ] || fail "/dev/vda has $sectors sectors, less than $REGION_MB MiB"
say "/dev/vda: $sectors sectors, max request $(cat /sys/block/vda/queue/max_hw_sectors_kb) KiB," \
    "write cache '$(cat /sys/block/vda/queue/write_cache)'"

[ -c /dev/ttyS1 ] || fail "no /dev/ttyS1 (the host's command port)"
stty -F /dev/ttyS1 -echo || fail "stty -F /dev/ttyS1"
exec 3</dev/ttyS1

# dd_region FROM TO FLAG...: the region copied as $STRIPES dd in parallel, each its own
# equal part in 1 MiB blocks; fails if one does (its error in /tmp/dd.err)
dd_region() {
    local from=$1 to=$2 part=$((REGION_MB / STRIPES)) i=0 pids="" pid rc=0
    shift 2
    while [ "$i" -lt "$STRIPES" ]; do
        dd if="$from" of="$to" bs=1M count="$part" skip=$((i * part)) seek=$((i * part)) "$@" \
            2>"/tmp/dd.err.$i" &
        pids="$pids $!"
        i=$((i + 1))
    done
    for pid in $pids; do
        wait "$pid" || rc=1
    done
    cat /tmp/dd.err.* >/tmp/dd.err
    return $rc
}
# verify_region WHAT: read the region back and compare it with /tmp/expected; prints the
# read's time (the comparison is not timed: busybox cmp is slow under TCG)
verify_region() {
    local t
    rm -f /tmp/readback
    t=$(now)
    dd_region /dev/vda /tmp/readback iflag=direct conv=notrunc || fail "$1: reading /dev/vda: $(cat /tmp/dd.err)"
    elapsed "$t"
    cmp -s /tmp/expected /tmp/readback ||
        fail "$1: /dev/vda differs from the data written ($(cmp /tmp/expected /tmp/readback 2>&1 | head -n 1))"
}

round=0
say "READY"
while read -r cmd <&3; do
    case $cmd in
    write)
        round=$((round + 1))
        dd if=/dev/urandom of=/tmp/next bs=1M count="$REGION_MB" 2>/dev/null || fail "preparing round $round"
        t=$(now)
        say "ROUND $round writing"
        dd_region /tmp/next /dev/vda oflag=direct conv=notrunc,fsync ||
            fail "round $round: writing /dev/vda: $(cat /tmp/dd.err)"
        say "ROUND $round written in $(elapsed "$t") s"
        mv /tmp/next /tmp/expected
        r=$(verify_region "round $round") || exit
        say "ROUND $round ok read $r s"
        ;;
    verify)
        [ -f /tmp/expected ] || fail "verify before any write"
        r=$(verify_region "verification after round $round") || exit
        say "VERIFIED $round read $r s"
        ;;
    finish)
        errors=$(dmesg | grep -i -E 'I/O error|blk_update_request|buffer i/o')
        [ -z "$errors" ] || fail "the kernel logged I/O errors: $(echo "$errors" | head -n 3)"
        say "SHA256 $(sha256sum /tmp/expected | cut -d' ' -f1)"
        say "PASS"
        finish
        ;;
    *) fail "unknown command '$cmd' from the host" ;;
    esac
done
fail "the host's command port closed"
