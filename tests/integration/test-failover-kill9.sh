#!/bin/bash
# fio with crc32c verification through mpiod over two paths; one path server is killed
# with SIGKILL mid-run; fio finishes with zero errors and the path shows failed.
source "$(dirname "$0")/lib.sh"
require nbdkit nbdinfo fio python3

truncate -s 64M "$T/lun.img"
start_path a "$T/lun.img"
start_path b "$T/lun.img"
POLICY=round-robin write_config "$T/mpiod.yaml" a b
start_mpiod "$T/mpiod.yaml"

fio_verify kill9 "$(LU_URI)" 48M &
FIO=$!
wait_for 60 path_ios_above a 2000 || fail "path a never carried I/O"
log "killing path a (SIGKILL) under load"
kill_path a
wait $FIO || { cat "$T/kill9.fio.txt"; fail "fio saw errors across the path kill"; }
grep -q "err= 0" "$T/kill9.fio.txt" || fail "fio reported errors"
path_is_down a || fail "path a is $(path_state a), expected failed"
path_is b active || fail "path b is $(path_state b)"
ctl list paths
echo PASS
