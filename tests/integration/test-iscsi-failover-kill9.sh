#!/bin/bash
# Two iSCSI paths to one LU (two tgtd instances on the same backing file); fio with crc32c
# verification through mpiod; one tgtd is killed with SIGKILL mid-run. fio sees zero errors,
# the path shows failed, and the client's worst write latency across the kill is printed.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/lib-tgt.sh"
require tgtd tgtadm fio python3 nbdinfo
require_iscsi_config

SCSI_ID=60014051111111110000000000000001
WWID=$(tgt_wwid $SCSI_ID)
truncate -s 64M "$T/lun.img"
PA=$(free_port); start_tgtd a "$PA"
PB=$(free_port); start_tgtd b "$PB"
for n in a b; do tgt_add_lun "$n" 1 iqn.2024-01.org.mpiod:kill9 1 "$T/lun.img" "$SCSI_ID"; done
write_iscsi_config "$T/mpiod.yaml" \
    "a=iscsi://127.0.0.1:$PA/iqn.2024-01.org.mpiod:kill9/1" \
    "b=iscsi://127.0.0.1:$PB/iqn.2024-01.org.mpiod:kill9/1"
start_mpiod "$T/mpiod.yaml"
wait_for 10 grep -q "iscsi path .*:$PA/.* open, wwid $WWID" "$T/mpiod.log" || fail "path a did not report $WWID"

fio_verify kill9 "$(LU_URI)" 48M --output-format=json --output="$T/kill9.fio.json" &
FIO=$!
wait_for 60 path_ios_above a 2000 || fail "path a never carried I/O"
log "killing tgtd a (SIGKILL) under load"
kill_tgtd a
wait $FIO || { cat "$T/kill9.fio.json"; fail "fio saw errors across the kill"; }
python3 -c '
import json, sys
j = json.load(open(sys.argv[1]))
errs = sum(job["error"] for job in j["jobs"])
sys.exit(1 if errs else 0)' "$T/kill9.fio.json" || fail "fio reported errors"
path_is_down a || fail "path a is $(path_state a), expected failed"
path_is b active || fail "path b is $(path_state b)"
echo "STALL killed iSCSI path (SIGKILL): worst client I/O latency $(fio_max_latency_ms kill9) ms"
ctl list paths
echo PASS
