#!/bin/bash
# mpiod-ctl against a running daemon: listing, failing and reinstating a path, changing
# the policy, JSON output; I/O keeps working while a path is failed by the operator.
source "$(dirname "$0")/lib.sh"
require nbdkit nbdinfo nbdsh python3

truncate -s 16M "$T/lun.img"
start_path a "$T/lun.img"
start_path b "$T/lun.img"
write_config "$T/mpiod.yaml" a b
start_mpiod "$T/mpiod.yaml"

ctl list lus | tee "$T/lus.txt"
grep -q "lu0" "$T/lus.txt" || fail "list lus does not show lu0"
ctl list paths | tee "$T/paths.txt"
[ "$(grep -c "lu0" "$T/paths.txt")" = 2 ] || fail "list paths does not show two paths"

ctl fail path a
path_is a admin-failed || fail "path a is $(path_state a) after fail path"
nbdsh -u "$(LU_URI)" -c 'h.pwrite(b"y" * 4096, 0); assert h.pread(4096, 0) == b"y" * 4096'
ctl reinstate path a
wait_for 10 path_is a active || fail "path a is $(path_state a) after reinstate"

ctl set policy lu0 round-robin
ctl --json show lu lu0 | python3 -c '
import json, sys
lu = json.load(sys.stdin)
assert lu["policy"] == "round-robin", lu["policy"]
assert lu["size_bytes"] == 16 * 1024 * 1024
assert len(lu["paths"]) == 2'
if ctl set policy lu0 bogus 2>"$T/err"; then fail "an unknown policy was accepted"; fi
grep -qi "policy" "$T/err" || fail "no clear error for an unknown policy"
if ctl fail path nosuch 2>"$T/err"; then fail "failing an unknown path succeeded"; fi

log "stats: the interval's I/Os, per LU and per path"
nbdsh -u "$(LU_URI)" -c '
import time
end = time.monotonic() + 3
while time.monotonic() < end:
    h.pwrite(b"s" * 4096, 8192)
' &
LOAD=$!
PIDS+=("$LOAD")
ctl --json stats --interval 1 | python3 -c '
import json, sys
rows = json.load(sys.stdin)
lu = [r for r in rows if r["lu"] == "lu0" and r["path"] == ""][0]
assert lu["iops"] > 0 and lu["write_bytes_per_s"] > 0, lu
assert 0 < lu["p50_us"] <= lu["p99_us"] <= lu["max_us"], lu
assert {r["path"] for r in rows} == {"", "a", "b"}, rows
print("lu0: %.0f IOPS, p50 %d us, p99 %d us" % (lu["iops"], lu["p50_us"], lu["p99_us"]))'
ctl stats --interval 0.2 | head -n 1 | grep -q "P99(us)" || fail "no stats table"
wait "$LOAD" || fail "the load during stats failed"
echo PASS
