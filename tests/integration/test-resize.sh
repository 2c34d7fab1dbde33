#!/bin/bash
# Growing an LU: the image behind every path grows, `mpiod-ctl resize` reconnects the paths
# one at a time and the LU takes the new size; data written before stays, the new range is
# usable, and concurrent I/O sees no error. A path pinned to the old size makes the paths
# disagree: the size then stays.
source "$(dirname "$0")/lib.sh"
require nbdkit nbdinfo nbdsh python3

truncate -s 64M "$T/lun.img"
start_path a "$T/lun.img"
start_path b "$T/lun.img"
write_config "$T/mpiod.yaml" a b
start_mpiod "$T/mpiod.yaml"
[ "$(nbdinfo --size "$(LU_URI)")" = $((64 << 20)) ] || fail "the LU is not 64 MiB"
nbdsh -u "$(LU_URI)" -c 'h.pwrite(b"before" * 1024, 1 << 20); h.flush()'

log "the storage grows to 96 MiB; resize under concurrent I/O"
truncate -s 96M "$T/lun.img"
nbdsh -u "$(LU_URI)" -c '
import time
end = time.monotonic() + 30
while time.monotonic() < end:
    h.pwrite(b"x" * 4096, 8 << 20)
    assert h.pread(4096, 8 << 20) == b"x" * 4096
' >"$T/load.log" 2>&1 &
LOAD=$!
PIDS+=("$LOAD")
out=$(ctl resize lu0) || fail "mpiod-ctl resize failed: $out"
log "$out"
[ "$out" = "LU lu0: size $((96 << 20)) bytes" ] || fail "unexpected resize output: $out"
kill "$LOAD" 2>/dev/null; wait "$LOAD" 2>/dev/null || true
grep -q -i "error" "$T/load.log" && fail "I/O during the resize failed: $(cat "$T/load.log")"
grep -q "capacity grew from $((64 << 20)) to $((96 << 20)) bytes" "$T/mpiod.log" ||
    fail "the growth is not logged"
[ "$(nbdinfo --size "$(LU_URI)")" = $((96 << 20)) ] || fail "a new client does not see 96 MiB"
nbdsh -u "$(LU_URI)" -c '
assert h.pread(6144, 1 << 20) == b"before" * 1024, "data before the resize changed"
h.pwrite(b"after" * 1024, (96 << 20) - 5120)
assert h.pread(5120, (96 << 20) - 5120) == b"after" * 1024'
[ "$(ctl --json show lu lu0 | python3 -c 'import json,sys; print(json.load(sys.stdin)["io_errors"])')" = 0 ] ||
    fail "the LU completed I/O with errors"

log "a third path pinned at 96 MiB: the storage grows again, the paths disagree"
start_path c "$T/lun.img" --filter=truncate truncate=$((96 << 20))
kill -TERM "$MPIOD_PID"; wait "$MPIOD_PID" || true
write_config "$T/mpiod.yaml" a b c
start_mpiod "$T/mpiod.yaml"
wait_for 10 path_is c active || fail "path c is $(path_state c)"
truncate -s 128M "$T/lun.img"
out=$(ctl resize lu0) || fail "mpiod-ctl resize failed: $out"
[ "$out" = "LU lu0: size $((96 << 20)) bytes" ] || fail "the LU grew although c disagrees: $out"
grep -q "paths disagree on the capacity (a $((128 << 20)), b $((128 << 20)), c $((96 << 20)))" \
    "$T/mpiod.log" || fail "the disagreement is not logged"
echo PASS
