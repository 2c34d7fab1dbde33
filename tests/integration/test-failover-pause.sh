#!/bin/bash
# A path whose server hangs (nbdkit pause filter) is failed when its I/O passes
# io_timeout; its I/O completes on the other path; the client sees no error.
source "$(dirname "$0")/lib.sh"
require nbdkit nbdinfo fio python3

truncate -s 64M "$T/lun.img"
start_path a "$T/lun.img" --filter=pause pause-control="$T/a.ctl"
start_path b "$T/lun.img"
IO_TIMEOUT=1s POLICY=round-robin write_config "$T/mpiod.yaml" a b
start_mpiod "$T/mpiod.yaml"

fio_verify pause "$(LU_URI)" 32M &
FIO=$!
wait_for 60 path_ios_above a 1000 || fail "path a never carried I/O"
log "pausing path a's server"
python3 -c '
import socket, sys
s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1]); s.sendall(b"p")
s.settimeout(2)
try: s.recv(1)
except OSError: pass' "$T/a.ctl" &
wait_for 20 path_is_down a ||
    fail "hung path a is $(path_state a), expected failed"
wait $FIO || { cat "$T/pause.fio.txt"; fail "fio saw errors across the hang"; }
grep -q "err= 0" "$T/pause.fio.txt" || fail "fio reported errors"
ctl list paths
echo PASS
