#!/bin/bash
# A path whose server starts answering EIO (nbdkit error filter, error-file) is failed
# and its I/O resubmitted; the client sees no error; once the fault is gone the checker
# reinstates the path. mpiod does not hang up on the failing server while it owes it replies
# (a hard disconnect, which the protocol reserves for violations): the server keeps running and
# never writes a reply into a closed connection.
source "$(dirname "$0")/lib.sh"
require nbdkit nbdinfo fio python3

truncate -s 64M "$T/lun.img"
start_path a "$T/lun.img" --filter=error error-rate=100% error-file="$T/a.fail"
start_path b "$T/lun.img"
POLICY=round-robin write_config "$T/mpiod.yaml" a b
start_mpiod "$T/mpiod.yaml"

fio_verify errfile "$(LU_URI)" 32M &
FIO=$!
wait_for 60 path_ios_above a 1000 || fail "path a never carried I/O"
log "path a starts failing every request with EIO"
touch "$T/a.fail"
wait_for 20 path_is a failed || fail "path a is $(path_state a), expected failed"
wait $FIO || { cat "$T/errfile.fio.txt"; fail "fio saw errors"; }
grep -q "err= 0" "$T/errfile.fio.txt" || fail "fio reported errors"
kill -0 "$PID_a" 2>/dev/null || fail "path a's server is gone"
if grep -Eq "Broken pipe|Connection reset" "$T/a.nbdkit.log"; then
    fail "path a's server wrote replies into a connection mpiod had closed"
fi

log "fault removed: the checker reinstates path a"
rm -f "$T/a.fail"
wait_for 20 path_is a active || fail "path a was not reinstated (state $(path_state a))"
echo PASS
