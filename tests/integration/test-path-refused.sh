#!/bin/bash
# A path whose export size differs from its LU's is refused and logged, never carries
# I/O, and the LU keeps working on its good path.
source "$(dirname "$0")/lib.sh"
require nbdkit nbdinfo nbdsh python3

truncate -s 16M "$T/lun.img"
truncate -s 32M "$T/other.img"
start_path a "$T/lun.img"
write_config "$T/mpiod.yaml" a b
start_mpiod "$T/mpiod.yaml"   # the LU takes its geometry from a; b is not up yet
start_path b "$T/other.img"   # claims the same wwid but is another disk

wait_for 10 grep -q "path b .* refused: size" "$T/mpiod.log" || fail "path b was not refused"
path_is_down b || fail "path b is $(path_state b)"
nbdsh -u "$(LU_URI)" -c 'h.pwrite(b"q" * 4096, 4096); assert h.pread(4096, 4096) == b"q" * 4096'
[ "$(path_ios b)" = 0 ] || fail "the refused path carried I/O"
ctl --json list paths | python3 -c '
import json, sys
b = [p for p in json.load(sys.stdin) if p["id"] == "b"][0]
assert "size" in b["last_error"], b["last_error"]
print("path b:", b["state"], "-", b["last_error"])'
echo PASS
