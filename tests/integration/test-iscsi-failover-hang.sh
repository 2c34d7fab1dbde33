#!/bin/bash
# A hung iSCSI path (its tgtd SIGSTOPped: no RST, no reply) at default timeouts: the engine
# suspects it early (suspect_after) or at io_timeout, its I/O completes on the other path
# (writes stay in doubt on the open session until tgtd runs again), and fio sees no error.
# Prints the client's worst write latency (the stall).
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/lib-tgt.sh"
require tgtd tgtadm fio python3 nbdinfo
require_iscsi_config

SCSI_ID=60014052222222220000000000000002
WWID=$(tgt_wwid $SCSI_ID)
truncate -s 64M "$T/lun.img"
PA=$(free_port); start_tgtd a "$PA"
PB=$(free_port); start_tgtd b "$PB"
for n in a b; do tgt_add_lun "$n" 1 iqn.2024-01.org.mpiod:hang 1 "$T/lun.img" "$SCSI_ID"; done
CLEANUP_HOOKS+=("kill -CONT $(tgtd_pid a) 2>/dev/null")
IO_TIMEOUT=10s write_iscsi_config "$T/mpiod.yaml" \
    "a=iscsi://127.0.0.1:$PA/iqn.2024-01.org.mpiod:hang/1" \
    "b=iscsi://127.0.0.1:$PB/iqn.2024-01.org.mpiod:hang/1"
start_mpiod "$T/mpiod.yaml"

fio_verify hang "$(LU_URI)" 24M --output-format=json --output="$T/hang.fio.json" &
FIO=$!
wait_for 60 path_ios_above a 1000 || fail "path a never carried I/O"
log "stopping tgtd a (SIGSTOP) under load"
kill -STOP "$(tgtd_pid a)"
wait_for 25 path_is_down a ||
    fail "hung path a is $(path_state a), expected failed"
wait $FIO || { cat "$T/hang.fio.json"; fail "fio saw errors across the hang"; }
python3 -c '
import json, sys
j = json.load(open(sys.argv[1]))
sys.exit(1 if sum(job["error"] for job in j["jobs"]) else 0)' "$T/hang.fio.json" ||
    fail "fio reported errors"
grep -E "path a|:$PA/" "$T/mpiod.log" | grep -v " open, " | head -8
echo "STALL hung iSCSI path (SIGSTOP, default timeouts): worst client I/O latency $(fio_max_latency_ms hang) ms"
kill -CONT "$(tgtd_pid a)"
log "the path comes back once its target resumes"
wait_for 30 path_is a active || fail "path a is $(path_state a) after SIGCONT"
ctl list paths
echo PASS
