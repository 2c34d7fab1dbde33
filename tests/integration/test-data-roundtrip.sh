#!/bin/bash
# Data written through mpiod over two NBD paths reads back identical, through mpiod and
# in the backing image, and nbdinfo shows the LU's size and capabilities.
source "$(dirname "$0")/lib.sh"
require nbdkit nbdinfo nbdcopy python3

truncate -s 64M "$T/lun.img"
start_path a "$T/lun.img"
start_path b "$T/lun.img"
write_config "$T/mpiod.yaml" a b
start_mpiod "$T/mpiod.yaml"

log "nbdinfo on the LU socket"
nbdinfo --json "$(LU_URI)" >"$T/info.json"
python3 - "$T/info.json" <<'PY'
import json, sys
info = json.load(open(sys.argv[1]))
e = info["exports"][0]
assert e["export-size"] == 64 * 1024 * 1024, e["export-size"]
for key in ("can_flush", "can_fua", "can_trim"):
    assert e[key] is True, (key, e[key])
print("size", e["export-size"], "flush/fua/trim ok")
PY

log "copy 32 MiB of random data in and out"
head -c 32M /dev/urandom >"$T/data"
nbdcopy "$T/data" "$(LU_URI)"
nbdcopy "$(LU_URI)" "$T/back"
cmp <(head -c 32M "$T/back") "$T/data" || fail "data read back through mpiod differs"
cmp <(head -c 32M "$T/lun.img") "$T/data" || fail "backing image differs from what was written"

log "both paths carried I/O"
[ "$(path_ios a)" -gt 0 ] || fail "path a carried no I/O"
[ "$(path_ios b)" -gt 0 ] || fail "path b carried no I/O"
echo PASS
