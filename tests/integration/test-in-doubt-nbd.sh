#!/bin/bash
# The lost update of a hung path (issue: "a hung path loses nothing"): write A is sent to path
# a, whose server is stopped (SIGSTOP); mpiod times a out and completes A through b; B is then
# written over the same block and flushed. When a's server runs again it executes the A it had
# buffered, after B. mpiod keeps a's connection open, learns of A's late end, and writes B
# again: the block reads B, and the image holds B. Run with the stopped server resumed after
# the later write, after the flush, and after an operator tried to reinstate the path.
source "$(dirname "$0")/lib.sh"
require nbdkit nbdsh python3

# lu_field KEY: a field of lu0's status.
lu_field() {
    ctl --json show lu lu0 | python3 -c 'import json, sys; print(json.load(sys.stdin)[sys.argv[1]])' "$1"
}
lu_field_is() { [ "$(lu_field "$1")" = "$2" ]; }
resolved() { lu_field_is in_doubt_writes 0 && [ "$(lu_field replays)" -ge 1 ] && lu_field_is held 0; }

write_block() { # LETTER [flush]
    nbdsh -u "$(LU_URI)" -c "h.pwrite(b'$1' * 4096, 0)" ${2:+-c 'h.flush()'}
}
read_block() { nbdsh -u "$(LU_URI)" -c 'import sys; sys.stdout.write(h.pread(4096, 0)[:1].decode())'; }
image_block() { head -c 1 "$T/lun.img"; }

scenario() {
    local when=$1
    log "scenario: path a's server resumes $when"
    rm -f "$T/lun.img" && truncate -s 16M "$T/lun.img"
    start_path a "$T/lun.img"
    start_path b "$T/lun.img"
    IO_TIMEOUT=2s CHECKER_INTERVAL=500ms POLICY=failover-only write_config "$T/mpiod.yaml" a b
    start_mpiod "$T/mpiod.yaml"
    wait_for 10 path_is a active || fail "path a is $(path_state a)"
    wait_for 10 path_is b active || fail "path b is $(path_state b)"

    write_block 0 flush
    kill -STOP "$PID_a"
    write_block A # goes to a, times out after 2 s, completes through b
    path_is a failed || fail "path a is $(path_state a) after the hang"
    lu_field_is in_doubt_writes 1 || fail "in doubt: $(lu_field in_doubt_writes), expected 1"
    write_block B
    case $when in
    after-the-later-write) ;;
    after-the-flush) nbdsh -u "$(LU_URI)" -c 'h.flush()' ;;
    after-a-reinstate-attempt)
        nbdsh -u "$(LU_URI)" -c 'h.flush()'
        if ctl reinstate path a >"$T/reinstate.out" 2>&1; then
            fail "reinstating a path with a write in doubt succeeded: $(cat "$T/reinstate.out")"
        fi
        grep -q "in doubt" "$T/reinstate.out" || fail "unclear refusal: $(cat "$T/reinstate.out")"
        ;;
    esac
    [ "$(read_block)" = B ] || fail "read before the resume: $(read_block)"

    kill -CONT "$PID_a"
    wait_for 20 resolved || fail "not resolved: $(ctl --json show lu lu0)"
    [ "$(read_block)" = B ] || fail "$when: the block reads $(read_block) after the late write, not B"
    nbdsh -u "$(LU_URI)" -c 'h.flush()'
    [ "$(image_block)" = B ] || fail "$when: the image holds $(image_block), not B"
    wait_for 20 path_is a active || fail "path a did not come back: $(path_state a)"
    grep -q "write(s) in doubt" "$T/mpiod.log" || fail "the in-doubt write is not logged"

    kill_path a
    kill_path b
    kill -9 "$MPIOD_PID" 2>/dev/null || true
    wait "$MPIOD_PID" 2>/dev/null || true
}

scenario after-the-later-write
scenario after-the-flush
scenario after-a-reinstate-attempt
echo PASS
