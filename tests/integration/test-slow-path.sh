#!/bin/bash
# A path that is slow but answers (nbdkit's delay filter: 50 ms per read and write) beside a
# fast one, at default settings (service-time, suspect_after 250 ms), under verified random
# writes at QD16: the policy sends it less I/O, but it is never failed, never suspected of a
# hang, never held marginal, and fio sees no error.
source "$(dirname "$0")/lib.sh"
require nbdkit fio python3

truncate -s 64M "$T/lun.img"
start_path a "$T/lun.img" --filter=delay rdelay=50ms wdelay=50ms
start_path b "$T/lun.img"
write_config "$T/mpiod.yaml" a b
start_mpiod "$T/mpiod.yaml"
wait_for 10 path_is a active || fail "path a is $(path_state a)"
wait_for 10 path_is b active || fail "path b is $(path_state b)"

fio_verify slow "$(LU_URI)" 16M --time_based --runtime=8 || {
    cat "$T/slow.fio.txt"
    fail "fio saw an error"
}

ctl --json list paths >"$T/paths.json"
python3 - "$T/paths.json" <<'PY' || fail "$(ctl list paths)"
import json, sys
paths = {p["id"]: p for p in json.load(open(sys.argv[1]))}
a, b = paths["a"], paths["b"]
problems = []
if a["state"] != "active":
    problems.append(f"a is {a['state']}")
if a["failures"] != 0:
    problems.append(f"a failed {a['failures']} time(s)")
if a.get("marginal"):
    problems.append("a is marginal")
if a["ios"] == 0:
    problems.append("a carried nothing: it is slow, not out of service")
if not a["ios"] < b["ios"]:
    problems.append(f"the policy did not favour b: a {a['ios']} I/Os, b {b['ios']}")
print(f"a (50 ms): {a['ios']} I/Os, b: {b['ios']} I/Os")
if problems:
    print("; ".join(problems))
    sys.exit(1)
PY
! grep -q "suspected hang" "$T/mpiod.log" || fail "a slow path was suspected of a hang: $(grep 'suspected hang' "$T/mpiod.log" | head -3)"
echo PASS
