#!/bin/bash
# A mixed LU: an iSCSI path (tgtd) and an NBD path (nbdkit) on the same backing file,
# configured with the WWID tgt reports. fio with verification runs while the NBD server is
# killed, then (after it returns) while the iSCSI target is killed: no client error.
# nbdkit is given the iSCSI path's capabilities (512-byte blocks, no zero; tgt's LU
# is thin so both trim) so whichever path opens first, the other one is not refused.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/lib-tgt.sh"
require tgtd tgtadm nbdkit nbdinfo fio python3
require_iscsi_config

SCSI_ID=60014055555555550000000000000006
WWID=$(tgt_wwid $SCSI_ID)
truncate -s 64M "$T/lun.img"
P=$(free_port); start_tgtd t "$P"
tgt_add_lun t 1 iqn.2024-01.org.mpiod:mixed 1 "$T/lun.img" "$SCSI_ID" SN-MIXED thin_provisioning=1
NBD_OPTS=(--filter=blocksize-policy --filter=nozero
          blocksize-minimum=512 blocksize-preferred=4096 blocksize-maximum=32M
          zeromode=none)
start_path n "$T/lun.img" "${NBD_OPTS[@]}"
write_iscsi_config "$T/mpiod.yaml" \
    "i=iscsi://127.0.0.1:$P/iqn.2024-01.org.mpiod:mixed/1" \
    "n=nbd+unix:///?socket=$T/n.sock"
start_mpiod "$T/mpiod.yaml"
wait_for 10 path_is i active || fail "iSCSI path is $(path_state i): $(grep refused "$T/mpiod.log")"
wait_for 10 path_is n active || fail "NBD path is $(path_state n): $(grep refused "$T/mpiod.log")"

fio_verify mixed1 "$(LU_URI)" 24M &
FIO=$!
wait_for 60 path_ios_above n 1000 || fail "NBD path never carried I/O"
log "killing the NBD path server"
kill_path n
wait $FIO || { cat "$T/mixed1.fio.txt"; fail "fio saw errors across the NBD kill"; }
grep -q "err= 0" "$T/mixed1.fio.txt" || fail "fio reported errors"

start_path n "$T/lun.img" "${NBD_OPTS[@]}"
wait_for 20 path_is n active || fail "NBD path did not return"
fio_verify mixed2 "$(LU_URI)" 24M &
FIO=$!
wait_for 60 path_ios_above i 3000 || fail "iSCSI path never carried I/O"
log "killing the iSCSI target"
kill_tgtd t
wait $FIO || { cat "$T/mixed2.fio.txt"; fail "fio saw errors across the iSCSI kill"; }
grep -q "err= 0" "$T/mixed2.fio.txt" || fail "fio reported errors"
ctl list paths
echo PASS
