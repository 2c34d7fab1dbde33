#!/bin/bash
# Live reload under fio verify load: a path is added, a policy and timeout changed, a path
# removed, a second LU added and then removed, and a broken file rejected whole (the running
# configuration stays) — with zero I/O errors on the loaded LU and its data verifying.
source "$(dirname "$0")/lib.sh"
require nbdkit nbdinfo fio python3

truncate -s 64M "$T/lun.img"
truncate -s 16M "$T/other.img"
start_path a "$T/lun.img"
start_path b "$T/lun.img"
start_path c "$T/lun.img"
start_path x "$T/other.img"
write_config "$T/mpiod.yaml" a b
start_mpiod "$T/mpiod.yaml"
wait_for 10 path_is b active || fail "path b is $(path_state b)"

fio_verify reload "$(LU_URI)" 48M --time_based --runtime=12 &
FIO=$!
PIDS+=("$FIO")
lu_field() { ctl --json show lu lu0 | python3 -c "import json,sys; print(json.load(sys.stdin)$1)"; }
path_count() { [ "$(lu_field '["paths"].__len__()')" = "$1" ]; }
carries_io() { [ "$(path_ios "$1")" -gt 0 ]; }
reload() {
    ctl reload >"$T/reload.out" 2>&1 || fail "mpiod-ctl reload: $(cat "$T/reload.out")"
}

log "add path c, switch to round-robin with a 2 s io_timeout"
POLICY=round-robin IO_TIMEOUT=2s write_config "$T/mpiod.yaml" a b c
reload
wait_for 10 path_is c active || fail "path c is $(path_state c) after the reload"
[ "$(lu_field '["policy"]')" = round-robin ] || fail "the policy did not change"
wait_for 10 carries_io c || fail "path c carries no I/O"

log "remove path a (its I/O in flight finishes first)"
POLICY=round-robin IO_TIMEOUT=2s write_config "$T/mpiod.yaml" b c
reload
wait_for 10 path_count 2 || fail "path a is still listed"
grep -q "path a (.*) removed" "$T/mpiod.log" || fail "the removal is not logged"

log "a second LU appears with its own socket, then goes"
cp "$T/mpiod.yaml" "$T/base.yaml"
{ cat "$T/base.yaml"; printf '  - wwid: wwid-other\n    alias: other\n'; } >"$T/mpiod.yaml"
python3 - "$T/mpiod.yaml" "$T/x.sock" <<'PY'
import sys
path, sock = sys.argv[1], sys.argv[2]
text = open(path).read().replace("lus:\n", "  - id: x\n    uri: nbd+unix:///?socket=%s\n    wwid: wwid-other\nlus:\n" % sock, 1)
open(path, "w").write(text)
PY
reload
wait_for 10 socket_answers "$T/run/other.sock" || fail "the new LU is not exported"
[ "$(nbdinfo --size "nbd+unix:///?socket=$T/run/other.sock")" = $((16 << 20)) ] || fail "other has the wrong size"
cp "$T/base.yaml" "$T/mpiod.yaml"
reload
wait_for 10 test ! -S "$T/run/other.sock" || fail "the removed LU's socket is still there"
ctl --json list lus | python3 -c '
import json, sys
names = [lu["name"] for lu in json.load(sys.stdin)]
assert names == ["lu0"], names'

log "a broken file is rejected whole"
cp "$T/mpiod.yaml" "$T/good.yaml"
sed -e 's/policy: round-robin/policy: fastest/' -e 's/^  - id: c$/  - id: d/' "$T/good.yaml" >"$T/mpiod.yaml"
if ctl reload 2>"$T/err"; then fail "a config with an unknown policy was accepted"; fi
grep -q "configuration not reloaded: $T/mpiod.yaml:[0-9]*: defaults.policy: " "$T/err" ||
    fail "the error does not name file, line and key: $(cat "$T/err")"
path_count 2 || fail "the rejected file changed the paths"
kill -HUP "$MPIOD_PID" # SIGHUP takes the same way
wait_for 10 grep -q "SIGHUP: configuration not reloaded" "$T/mpiod.log" || fail "SIGHUP did not reload"
cp "$T/good.yaml" "$T/mpiod.yaml"

wait "$FIO" || fail "fio reported errors during the reloads: $(tail -n 20 "$T/reload.fio.txt")"
grep -q "err= 0" "$T/reload.fio.txt" || fail "fio: $(grep err= "$T/reload.fio.txt")"
[ "$(lu_field '["io_errors"]')" = 0 ] || fail "the LU completed I/O with errors"
echo PASS
