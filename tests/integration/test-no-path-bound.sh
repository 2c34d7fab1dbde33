#!/bin/bash
# With every path dead, I/O waits at most no_path_retry and then fails with EIO: it
# never hangs. When a path returns, I/O works again.
source "$(dirname "$0")/lib.sh"
require nbdkit nbdinfo python3 nbdsh

truncate -s 16M "$T/lun.img"
start_path a "$T/lun.img"
NO_PATH_RETRY=2s CHECKER_INTERVAL=200ms write_config "$T/mpiod.yaml" a
start_mpiod "$T/mpiod.yaml"

kill_path a
log "reading with the only path dead"
start=$(date +%s%N)
if nbdsh -u "$(LU_URI)" -c 'h.pread(4096, 8192)' 2>"$T/read.err"; then
    fail "the read succeeded with no path"
fi
elapsed_ms=$((($(date +%s%N) - start) / 1000000))
grep -q "Input/output error" "$T/read.err" || { cat "$T/read.err"; fail "not EIO"; }
echo "failed with EIO after ${elapsed_ms} ms"
[ $elapsed_ms -ge 1500 ] || fail "failed after ${elapsed_ms} ms, before no_path_retry (2s)"
[ $elapsed_ms -lt 15000 ] || fail "took ${elapsed_ms} ms: queueing is not bounded"

log "path returns: I/O works again"
start_path a "$T/lun.img"
wait_for 20 path_is a active || fail "path a not reinstated"
nbdsh -u "$(LU_URI)" -c 'h.pwrite(b"x" * 4096, 8192); assert h.pread(4096, 8192) == b"x" * 4096'
echo PASS
