#!/bin/bash
# A peer that drops its connection costs a path, never the daemon: libiscsi writes with
# writev(), which raises SIGPIPE on a reset connection, so mpiod ignores the signal. A SIGPIPE
# sent to it leaves it running and serving.
source "$(dirname "$0")/lib.sh"
require nbdkit nbdsh

truncate -s 16M "$T/lun.img"
start_path a "$T/lun.img"
write_config "$T/mpiod.yaml" a
start_mpiod "$T/mpiod.yaml"
kill -PIPE "$MPIOD_PID"
kill -0 "$MPIOD_PID" 2>/dev/null || fail "mpiod died of SIGPIPE"
grep -q "SigIgn:" "/proc/$MPIOD_PID/status" || fail "no signal mask in /proc"
ignored=$(awk '/^SigIgn:/ { print $2 }' "/proc/$MPIOD_PID/status")
(( (0x$ignored >> 12) & 1 )) || fail "SIGPIPE (13) is not ignored: SigIgn $ignored"
nbdsh -u "$(LU_URI)" -c 'h.pwrite(b"p" * 4096, 0); assert h.pread(4096, 0) == b"p" * 4096' ||
    fail "mpiod does not serve after the SIGPIPE"
echo PASS
