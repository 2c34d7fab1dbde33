#!/bin/bash
# A lost portal on idle iSCSI paths: 8 LUs, each reachable through two tgtd processes (a and
# b). Nothing does I/O and checker_interval is 30 s, so only the session's socket watch can
# explain a prompt failure: tgtd a is killed and every "a" path must show failed within 3 s,
# each logged as a lost connection, while the "b" paths stay active.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/lib-tgt.sh"
require tgtd tgtadm python3 nbdinfo
require_iscsi_config

LUS=8
IQN=iqn.2024-01.org.mpiod:idle
PA=$(free_port); start_tgtd a "$PA"
PB=$(free_port); start_tgtd b "$PB"
{
    echo "log_level: info"
    echo "control_socket: $T/control.sock"
    echo "bindings_file: $T/bindings" # the LUs are named by WWID: never the system's file
    echo "export: { dir: $T/run, kind: socket }"
    echo "defaults: { checker_interval: 30s, io_timeout: 5s, policy: round-robin }"
    echo "paths:"
    for l in $(seq 1 $LUS); do
        scsi_id=$(printf '6001405222222222%016d' "$l")
        truncate -s 8M "$T/lun$l.img"
        for n in a b; do
            tgt_add_lun "$n" 1 "$IQN" "$l" "$T/lun$l.img" "$scsi_id"
        done
        echo "  - { id: a-lu$l, uri: \"iscsi://127.0.0.1:$PA/$IQN/$l\" }"
        echo "  - { id: b-lu$l, uri: \"iscsi://127.0.0.1:$PB/$IQN/$l\" }"
    done
} >"$T/mpiod.yaml"

"$MPIOD" --config "$T/mpiod.yaml" >"$T/mpiod.log" 2>&1 &
MPIOD_PID=$!
PIDS+=("$MPIOD_PID")
wait_for 20 paths_are active $LUS a- || fail "only $(count_paths active a-) a paths active"
wait_for 20 paths_are active $LUS b- || fail "only $(count_paths active b-) b paths active"
[ "$(ctl --json list lus | python3 -c 'import json, sys; print(len(json.load(sys.stdin)))')" = $LUS ] ||
    fail "the paths did not merge into $LUS LUs by their VPD identity"

log "killing tgtd a while every path is idle"
start=$(date +%s%N)
kill_tgtd a
wait_for 3 paths_are failed $LUS a- ||
    fail "$(count_paths failed a-) of $LUS idle a paths failed within 3 s (checker_interval 30 s)"
echo "all $LUS idle a paths failed $((($(date +%s%N) - start) / 1000000)) ms after the kill"
[ "$(grep -c 'path a-lu[0-9]* .*failed: connection lost' "$T/mpiod.log")" -eq $LUS ] || {
    grep 'a-lu' "$T/mpiod.log" | tail -20
    fail "not every a path was failed as a lost connection"
}
paths_are active $LUS b- || fail "b paths: $(count_paths active b-) active"
ctl list lus
echo PASS
