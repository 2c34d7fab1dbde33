#!/bin/bash
# The WWID an iSCSI path reports decides: a path configured for the LU but leading to
# another LU (another scsi_id) is refused and never carries I/O; the good path serves.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/lib-tgt.sh"
require tgtd tgtadm python3 nbdinfo nbdsh
require_iscsi_config

GOOD=60014054444444440000000000000004
OTHER=60014054444444440000000000000005
WWID=$(tgt_wwid $GOOD)
truncate -s 16M "$T/good.img" "$T/other.img"
P=$(free_port); start_tgtd t "$P"
tgt_add_lun t 1 iqn.2024-01.org.mpiod:ids 1 "$T/good.img" "$GOOD"
tgt_add_lun t 1 iqn.2024-01.org.mpiod:ids 2 "$T/other.img" "$OTHER"
write_iscsi_config "$T/mpiod.yaml" \
    "a=iscsi://127.0.0.1:$P/iqn.2024-01.org.mpiod:ids/1" \
    "b=iscsi://127.0.0.1:$P/iqn.2024-01.org.mpiod:ids/2"
start_mpiod "$T/mpiod.yaml"

wait_for 10 grep -q "path b .* refused: it reports identity $(tgt_wwid $OTHER)" "$T/mpiod.log" ||
    fail "path b was not refused for its identity"
path_is a active || fail "path a is $(path_state a)"
path_is_down b || fail "path b is $(path_state b)"
nbdsh -u "$(LU_URI)" -c 'h.pwrite(b"w" * 4096, 0); assert h.pread(4096, 0) == b"w" * 4096'
[ "$(path_ios b)" = 0 ] || fail "the refused path carried I/O"
echo PASS
