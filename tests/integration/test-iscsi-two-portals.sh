#!/bin/bash
# One tgtd with two portals (two paths, one LU object): data through mpiod with crc32c
# verification while one path's connection is deleted (tgtadm); no client error, the path
# is reinstated by the checker (the target stays up).
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/lib-tgt.sh"
require tgtd tgtadm fio python3 nbdinfo
require_iscsi_config

SCSI_ID=60014053333333330000000000000003
WWID=$(tgt_wwid $SCSI_ID)
truncate -s 64M "$T/lun.img"
P1=$(free_port); P2=$(free_port)
start_tgtd t "$P1" "$P2"
tgt_add_lun t 1 iqn.2024-01.org.mpiod:portals 1 "$T/lun.img" "$SCSI_ID"
write_iscsi_config "$T/mpiod.yaml" \
    "a=iscsi://127.0.0.1:$P1/iqn.2024-01.org.mpiod:portals/1" \
    "b=iscsi://127.0.0.1:$P2/iqn.2024-01.org.mpiod:portals/1"
start_mpiod "$T/mpiod.yaml"
two_sessions() { [ "$(tgt_connections t 1 | wc -l)" = 2 ]; }
wait_for 10 two_sessions || fail "expected two sessions, have: $(tgt_connections t 1)"

fio_verify portals "$(LU_URI)" 48M &
FIO=$!
wait_for 60 path_ios_above a 2000 || fail "path a never carried I/O"
wait_for 60 path_ios_above b 2000 || fail "path b never carried I/O"
log "deleting one path's connection"
tgt_drop_one_connection t 1
wait $FIO || { cat "$T/portals.fio.txt"; fail "fio saw errors across the connection delete"; }
grep -q "err= 0" "$T/portals.fio.txt" || fail "fio reported errors"
grep -q "connection lost" "$T/mpiod.log" || fail "no path saw its session drop"
wait_for 20 path_is a active || fail "path a is $(path_state a)"
wait_for 20 path_is b active || fail "path b is $(path_state b)"
log "data written through mpiod is on the backing file"
nbdsh -u "$(LU_URI)" -c 'h.pwrite(b"Q" * 4096, 8192); h.flush()'
python3 -c '
import sys
with open(sys.argv[1], "rb") as f:
    f.seek(8192); sys.exit(0 if f.read(4096) == b"Q" * 4096 else 1)' "$T/lun.img" ||
    fail "the write is not on the backing file"
ctl list paths
echo PASS
