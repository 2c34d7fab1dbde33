#!/bin/bash
# Many LUs under a low open-file limit: 64 LUs x 4 paths (4 servers) start under a soft
# limit of 256 (the daemon raises it to the hard one) and every path becomes active; a hard
# limit below the configuration's need is refused with a message naming it; killing one
# server fails every path on it at once (checker_interval 30s: only the socket watch can
# explain that).
source "$(dirname "$0")/lib.sh"
require nbdkit nbdinfo python3

LUS=64
SERVERS=4

truncate -s 16M "$T/lun.img"
for s in $(seq 0 $((SERVERS - 1))); do
    start_path "s$s" "$T/lun.img" --threads=1 # no worker threads per connection
done

{
    echo "log_level: info"
    echo "control_socket: $T/control.sock"
    echo "export: { dir: $T/run, kind: socket }"
    echo "defaults: { checker_interval: 30s, io_timeout: 5s, policy: round-robin }"
    echo "paths:"
    for l in $(seq 0 $((LUS - 1))); do
        for s in $(seq 0 $((SERVERS - 1))); do
            echo "  - { id: s$s-lu$l, uri: \"nbd+unix:///?socket=$T/s$s.sock\", wwid: scale$l }"
        done
    done
    echo "lus:"
    for l in $(seq 0 $((LUS - 1))); do
        echo "  - { wwid: scale$l, alias: lu$l }"
    done
} >"$T/mpiod.yaml"

log "hard limit 300, below the need: refused, naming the limit"
rc=0
(ulimit -n 300 && exec timeout 10 "$MPIOD" --config "$T/mpiod.yaml") >"$T/refused.log" 2>&1 ||
    rc=$?
[ "$rc" -ne 124 ] || fail "mpiod with hard limit 300 kept running"
[ "$rc" -ne 0 ] || fail "mpiod with hard limit 300 exited 0"
cat "$T/refused.log"
grep -q "hard limit 300" "$T/refused.log" || fail "the refusal does not name the hard limit"
grep -q "LimitNOFILE=" "$T/refused.log" || fail "the refusal does not say how to raise it"
[ ! -e "$T/control.sock" ] || fail "a refused mpiod created its control socket"

log "soft limit 256 (would not hold $((LUS * SERVERS)) paths): raised, every path active"
(ulimit -Sn 256 && exec "$MPIOD" --config "$T/mpiod.yaml") >"$T/mpiod.log" 2>&1 &
MPIOD_PID=$!
PIDS+=("$MPIOD_PID")
wait_for 30 socket_answers "$T/run/lu0.sock" || fail "mpiod did not export lu0"
wait_for 30 paths_are active $((LUS * SERVERS)) || fail "only $(count_paths active) paths active"
grep -q "open file limit raised from 256" "$T/mpiod.log" || fail "the raise is not logged"
! grep -q "Too many open files" "$T/mpiod.log" || fail "mpiod ran out of file descriptors"
soft=$(awk '/Max open files/ {print $4}' "/proc/$MPIOD_PID/limits")
hard=$(awk '/Max open files/ {print $5}' "/proc/$MPIOD_PID/limits")
[ "$soft" = "$hard" ] || fail "soft limit $soft, hard $hard"

log "server s1 killed: its $LUS paths fail without waiting for the 30 s checker"
start=$(date +%s%N)
kill_path s1
wait_for 5 paths_are active 0 s1- || fail "$(count_paths active s1-) paths on s1 still active"
ms=$((($(date +%s%N) - start) / 1000000))
echo "every path on s1 down after $ms ms"
paths_are active $((LUS * (SERVERS - 1))) || fail "paths on other servers went down"
socket_answers "$T/run/lu7.sock" || fail "lu7 does not answer"
echo PASS
