#!/bin/bash
# The lost update of a hung path, iSCSI paths: two tgtd processes export one backing file
# with one VPD 0x83 identity. Write A is sent to path a, whose tgtd is stopped (SIGSTOP);
# mpiod completes A through b; B is written over the same block and flushed. When a's tgtd
# runs again it reads the PDUs it had buffered and executes A, after B. mpiod keeps a's iSCSI
# session open (no libiscsi command timeout: it would forget the command), learns of A's late
# status, and writes B again: the block reads B and the image holds B. Run with the stopped
# tgtd resumed after the later write, after the flush, after a reinstate attempt, and after a
# stop longer than libiscsi's command timeout used to be.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/lib-tgt.sh"
source "$(dirname "$0")/lib-in-doubt.sh"
require tgtd tgtadm nbdsh python3
require_iscsi_config

SCSI_ID=60014053333333330000000000000003
WWID=$(tgt_wwid $SCSI_ID)
IQN=iqn.2024-01.org.mpiod:indoubt
GENERATION=0

start_two_paths() {
    # Fresh tgtd names per scenario: a killed tgtd's control socket stays behind.
    GENERATION=$((GENERATION + 1))
    local a=a$GENERATION b=b$GENERATION pa pb
    pa=$(free_port); start_tgtd "$a" "$pa"
    pb=$(free_port); start_tgtd "$b" "$pb"
    tgt_add_lun "$a" 1 "$IQN" 1 "$T/lun.img" "$SCSI_ID"
    tgt_add_lun "$b" 1 "$IQN" 1 "$T/lun.img" "$SCSI_ID"
    HUNG_PID=$(tgtd_pid "$a")
    TGTDS="$a $b"
    IO_TIMEOUT=2s CHECKER_INTERVAL=500ms POLICY=failover-only write_iscsi_config "$T/mpiod.yaml" \
        "a=iscsi://127.0.0.1:$pa/$IQN/1" "b=iscsi://127.0.0.1:$pb/$IQN/1"
    start_mpiod "$T/mpiod.yaml"
}

stop_two_paths() {
    kill -9 "$MPIOD_PID" 2>/dev/null || true
    wait "$MPIOD_PID" 2>/dev/null || true
    local n
    for n in $TGTDS; do kill_tgtd "$n"; done
}

in_doubt_scenario after-the-later-write
in_doubt_scenario after-the-flush
in_doubt_scenario after-a-reinstate-attempt
in_doubt_scenario after-a-long-stop
echo PASS
