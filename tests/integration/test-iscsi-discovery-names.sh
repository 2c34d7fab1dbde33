#!/bin/bash
# A configuration that names only an iSCSI portal: SendTargets discovery finds both LUNs,
# each path is identified by its VPD 0x83 WWID, each LU gets a generated name (mpatha,
# mpathb) kept in the bindings file, with by-alias/by-wwid links; after a restart every WWID
# keeps its name.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/lib-tgt.sh"
require tgtd tgtadm python3 nbdinfo

ID1=60014055555555550000000000000001
ID2=60014055555555550000000000000002
truncate -s 16M "$T/one.img"
truncate -s 32M "$T/two.img"
P=$(free_port); start_tgtd t "$P"
tgt_add_lun t 1 iqn.2024-01.org.mpiod:names 1 "$T/one.img" "$ID1"
tgt_add_lun t 1 iqn.2024-01.org.mpiod:names 2 "$T/two.img" "$ID2"
cat >"$T/mpiod.yaml" <<YAML
control_socket: $T/control.sock
bindings_file: $T/state/bindings
export:
  dir: $T/run
  kind: socket
paths:
  - id: portal
    uri: iscsi://127.0.0.1:$P
YAML

# names: "WWID=NAME WWID=NAME" as mpiod-ctl lists them, sorted by WWID.
names() {
    ctl --json list lus | python3 -c '
import json, sys
print(" ".join(sorted("%s=%s" % (lu["wwid"], lu["name"]) for lu in json.load(sys.stdin))))'
}
two_lus_exported() {
    [ "$(names | wc -w)" = 2 ] && socket_answers "$T/run/mpatha.sock" &&
        socket_answers "$T/run/mpathb.sock"
}
run_mpiod() {
    "$MPIOD" --config "$T/mpiod.yaml" >"$T/mpiod.log" 2>&1 &
    MPIOD_PID=$!
    PIDS+=("$MPIOD_PID")
    wait_for 30 two_lus_exported || fail "the two discovered LUs are not exported as mpatha and mpathb: $(names)"
}

run_mpiod
first=$(names)
log "first run: $first"
case $first in
"$(tgt_wwid $ID1)=mpath"[ab]" $(tgt_wwid $ID2)=mpath"[ab]) ;;
*) fail "unexpected LUs: $first" ;;
esac
grep -q "^mpath[ab] $(tgt_wwid $ID1)$" "$T/state/bindings" || fail "no binding for LU 1: $(cat "$T/state/bindings")"
ctl --json list paths | python3 -c '
import json, sys
paths = json.load(sys.stdin)
assert sorted(p["id"] for p in paths) == ["portal.1", "portal.2"], paths'
for lu in mpatha mpathb; do
    [ "$(readlink "$T/run/by-alias/$lu")" = "$T/run/$lu.sock" ] || fail "no by-alias link for $lu"
done
size_of() { nbdinfo --size "nbd+unix:///?socket=$T/run/$1.sock"; }
name2=$(echo "$first" | tr ' ' '\n' | grep "^$(tgt_wwid $ID2)=" | cut -d= -f2)
[ "$(size_of "$name2")" = $((32 << 20)) ] || fail "$name2 is not the 32 MiB LUN"

log "restart: the names stay with their WWIDs"
kill -TERM "$MPIOD_PID"
wait "$MPIOD_PID" || fail "mpiod exited with an error"
run_mpiod
[ "$(names)" = "$first" ] || fail "names changed across the restart: $first -> $(names)"
echo PASS
