#!/bin/bash
# A path that fails and recovers three times within marginal_window (nbdkit error filter,
# error-file toggled) is held as marginal: list paths shows it, I/O goes to the other path
# though failover-only prefers it, no client sees an error; once it has been up without a
# failure for marginal_release_after it is released and carries I/O again.
source "$(dirname "$0")/lib.sh"
require nbdkit nbdinfo fio python3

RELEASE_AFTER=15 # seconds; long enough for the fio run while the path is marginal

# path_field ID FIELD: one field of the path's JSON, as Python prints it.
path_field() {
    ctl --json list paths | python3 -c '
import json, sys
for p in json.load(sys.stdin):
    if p["id"] == sys.argv[1]:
        print(p[sys.argv[2]])' "$1" "$2"
}
path_marginal() { [ "$(path_field "$1" marginal)" = "True" ]; }
path_not_marginal() { [ "$(path_field "$1" marginal)" = "False" ]; }
lu_io_errors() {
    ctl --json show lu lu0 | python3 -c 'import json,sys; print(json.load(sys.stdin)["io_errors"])'
}

truncate -s 64M "$T/lun.img"
start_path a "$T/lun.img" --filter=error error-rate=100% error-file="$T/a.fail"
start_path b "$T/lun.img"
CHECKER_INTERVAL=200ms POLICY=failover-only LU_SETTINGS="    marginal_failures: 3
    marginal_window: 60s
    marginal_release_after: ${RELEASE_AFTER}s" write_config "$T/mpiod.yaml" a b
start_mpiod "$T/mpiod.yaml"
wait_for 20 path_is a active || fail "path a is $(path_state a), expected active"
wait_for 20 path_is b active || fail "path b is $(path_state b), expected active"

for i in 1 2 3; do
    log "flap $i: path a fails (its idle check gets EIO) and recovers"
    touch "$T/a.fail"
    wait_for 20 path_is a failed || fail "path a is $(path_state a), expected failed"
    rm -f "$T/a.fail"
    wait_for 20 path_is a active || fail "path a was not reinstated (state $(path_state a))"
    if [ $i -lt 3 ]; then
        path_not_marginal a || fail "path a is marginal after $i failures"
    fi
done
wait_for 5 path_marginal a || fail "path a is not marginal after 3 failures"
[ "$(path_field a marginal_reason)" = "3 failures within 60s" ] ||
    fail "marginal_reason is '$(path_field a marginal_reason)'"
ctl list paths | grep -Eq '^lu0 +a +nbd +active, marginal ' || {
    ctl list paths
    fail "list paths does not show path a as active, marginal"
}
ctl show lu lu0 | grep -q '^  a: *3 failures within 60s, for ' || {
    ctl show lu lu0
    fail "show lu does not say why path a is marginal"
}

log "I/O while a is marginal goes to b, though failover-only prefers a"
a_before=$(path_ios a)
b_before=$(path_ios b)
fio_verify marginal "$(LU_URI)" 4M || { cat "$T/marginal.fio.txt"; fail "fio failed"; }
grep -q "err= 0" "$T/marginal.fio.txt" || fail "fio reported errors"
path_marginal a || fail "path a was released before the I/O was done; raise RELEASE_AFTER"
[ "$(path_ios a)" = "$a_before" ] || fail "marginal path a carried $(($(path_ios a) - a_before)) I/Os"
[ "$(path_ios b)" -gt "$b_before" ] || fail "path b carried no I/O"

log "released after ${RELEASE_AFTER}s up without a failure"
wait_for $((RELEASE_AFTER + 20)) path_not_marginal a || fail "path a was never released"
path_is a active || fail "path a is $(path_state a) after its release"
a_before=$(path_ios a)
fio_verify released "$(LU_URI)" 4M || { cat "$T/released.fio.txt"; fail "fio failed"; }
[ "$(path_ios a)" -gt "$a_before" ] || fail "released path a carried no I/O"

[ "$(lu_io_errors)" = 0 ] || fail "mpiod completed $(lu_io_errors) I/Os with an error"
[ "$(grep -c 'path a .* is marginal: ' "$T/mpiod.log")" = 1 ] || fail "not logged once: is marginal"
[ "$(grep -c 'path a .* is no longer marginal: clean for' "$T/mpiod.log")" = 1 ] ||
    fail "not logged once: released"
echo PASS
