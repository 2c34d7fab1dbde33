#!/bin/bash
# SIGTERM while a write is in flight: the write completes successfully for the client,
# mpiod flushes the path that carried it, and exits with status 0.
source "$(dirname "$0")/lib.sh"
require nbdkit nbdinfo nbdsh python3

truncate -s 16M "$T/lun.img"
start_path a "$T/lun.img" --filter=log --filter=delay logfile="$T/a.log" wdelay=1
write_config "$T/mpiod.yaml" a
start_mpiod "$T/mpiod.yaml"

log "write in flight (the path delays writes by 1 s), then SIGTERM"
T="$T" MPIOD_PID=$MPIOD_PID nbdsh -u "$(LU_URI)" -c '
import os
cookie = h.aio_pwrite(b"z" * 4096, 8192)
while h.aio_in_flight() == 0 or "Write" not in open(os.environ["T"] + "/a.log").read():
    h.poll(10)
os.kill(int(os.environ["MPIOD_PID"]), 15)
while not h.aio_command_completed(cookie):
    h.poll(-1)
print("write completed after SIGTERM")
'
rc=0
wait "$MPIOD_PID" || rc=$?
[ $rc = 0 ] || fail "mpiod exited with $rc after SIGTERM"
python3 - "$T/lun.img" <<'PY' || fail "the drained write is not in the image"
import sys
with open(sys.argv[1], "rb") as f:
    f.seek(8192)
    assert f.read(4096) == b"z" * 4096
PY
awk '/Write/ {w=NR} /Flush/ {f=NR} END {exit !(w && f > w)}' "$T/a.log" ||
    { cat "$T/a.log"; fail "no flush reached the path after the write"; }
grep -q "draining" "$T/mpiod.log" || fail "mpiod did not log the drain"
echo PASS
