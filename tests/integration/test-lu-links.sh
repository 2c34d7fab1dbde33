#!/bin/bash
# Every LU has <export.dir>/by-alias/<name> and by-wwid/<wwid> links to its socket (no kernel
# device here); a link left by an earlier run for an LU that is gone is removed at start-up;
# the links go when mpiod stops.
source "$(dirname "$0")/lib.sh"
require nbdkit nbdinfo

truncate -s 16M "$T/lun.img"
start_path a "$T/lun.img"
write_config "$T/mpiod.yaml" a
mkdir -p "$T/run/by-alias"
ln -s /nonexistent "$T/run/by-alias/gone" # from an LU an earlier configuration had
start_mpiod "$T/mpiod.yaml"
[ "$(readlink "$T/run/by-alias/lu0")" = "$(LU_SOCK)" ] || fail "by-alias/lu0 is not the socket"
[ "$(readlink "$T/run/by-wwid/$WWID")" = "$(LU_SOCK)" ] || fail "by-wwid/$WWID is not the socket"
nbdinfo --size "nbd+unix:///?socket=$T/run/by-alias/lu0" >/dev/null || fail "the link does not serve"
wait_for 10 test ! -L "$T/run/by-alias/gone" || fail "the stale link was kept"
kill -TERM "$MPIOD_PID"
wait "$MPIOD_PID" || fail "mpiod exited with an error"
[ -L "$T/run/by-alias/lu0" ] && fail "by-alias/lu0 outlived the socket"
[ -L "$T/run/by-wwid/$WWID" ] && fail "by-wwid/$WWID outlived the socket"
echo PASS
