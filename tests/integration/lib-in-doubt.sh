# The lost-update scenario of a hung path, shared by the NBD and the iSCSI test. Source after
# lib.sh. The test defines:
#   start_two_paths        image $T/lun.img, paths a and b to it, mpiod started on them
#                          (failover-only, so a carries the writes); sets HUNG_PID to the
#                          process serving path a
#   stop_two_paths         kills the path servers and mpiod
#
# in_doubt_scenario WHEN: write 0 and flush; stop a's server (SIGSTOP); write A (it goes to a,
# hangs, completes through b); write B over it; then, by WHEN, flush, try a reinstate, or keep
# the server stopped for 13 s; the
# block must read B before and after a's server resumes and executes the A it had buffered,
# and the image must hold B. A flush sent while A is in doubt under B must not complete
# before a's server resumes (A could still undo B), and must succeed after it.
#
# in_doubt_flush_bound: the same hang with in_doubt_flush_timeout 2s: the flush fails with
# EIO after about 2 s, and B still survives A's late landing.

# Debug logs name every I/O resubmitted and every client connection: a failure shows what was
# in flight where.
: "${LOG_LEVEL:=debug}"

lu_field() { # KEY: a field of lu0's status
    ctl --json show lu lu0 | python3 -c 'import json, sys; print(json.load(sys.stdin)[sys.argv[1]])' "$1"
}
lu_field_is() { [ "$(lu_field "$1")" = "$2" ]; }
in_doubt_resolved() {
    lu_field_is in_doubt_writes 0 && [ "$(lu_field replays)" -ge 1 ] && lu_field_is held 0
}
write_block() { # LETTER [flush]
    nbdsh -u "$(LU_URI)" -c "h.pwrite(b'$1' * 4096, 0)" ${2:+-c 'h.flush()'}
}
read_block() { nbdsh -u "$(LU_URI)" -c 'import sys; sys.stdout.write(h.pread(4096, 0)[:1].decode())'; }
image_block() { head -c 1 "$T/lun.img"; }

# start_flush: a flush in the background; its outcome ("ok" or the error) lands in
# $T/flush.out when it completes.
start_flush() {
    rm -f "$T/flush.out"
    ( nbdsh -u "$(LU_URI)" -c '
try:
    h.flush()
    print("ok")
except nbd.Error as e:
    print("error", e.errno)
' >"$T/flush.out.tmp" 2>&1; mv "$T/flush.out.tmp" "$T/flush.out" ) &
    FLUSH_JOB=$!
}
flush_done() { [ -f "$T/flush.out" ]; }
# flush_waiting: the flush started is held by mpiod (the LU shows it held), not finished.
flush_waiting() { ! flush_done && [ "$(lu_field held)" -ge 1 ]; }

in_doubt_scenario() {
    local when=$1
    log "scenario: path a's server resumes $when"
    rm -f "$T/lun.img" && truncate -s 16M "$T/lun.img"
    start_two_paths
    CLEANUP_HOOKS+=("kill -CONT $HUNG_PID 2>/dev/null")
    wait_for 20 path_is a active || fail "path a is $(path_state a)"
    wait_for 20 path_is b active || fail "path b is $(path_state b)"

    write_block 0 flush
    kill -STOP "$HUNG_PID"
    write_block A # goes to a, hangs there, completes through b
    path_is a failed || fail "path a is $(path_state a) after the hang"
    lu_field_is in_doubt_writes 1 ||
        fail "in doubt: $(lu_field in_doubt_writes), expected 1; lu: $(ctl --json show lu lu0)"
    write_block B
    FLUSH_JOB=
    case $when in
    after-the-later-write) ;;
    after-the-flush) start_flush ;;
    after-a-reinstate-attempt)
        start_flush
        if ctl reinstate path a >"$T/reinstate.out" 2>&1; then
            fail "reinstating a path with a write in doubt succeeded: $(cat "$T/reinstate.out")"
        fi
        grep -q "in doubt" "$T/reinstate.out" || fail "unclear refusal: $(cat "$T/reinstate.out")"
        ;;
    after-a-long-stop)
        # The server stays stopped longer than any local command timeout of a transport (11 s
        # was libiscsi's): the hung attempt must still be tracked when its late reply comes.
        start_flush
        sleep 13
        lu_field_is in_doubt_writes 1 || fail "in doubt after 13 s: $(lu_field in_doubt_writes), expected 1"
        ;;
    esac
    if [ -n "$FLUSH_JOB" ]; then
        wait_for 10 flush_waiting ||
            fail "the flush did not wait while A was in doubt under B: $(cat "$T/flush.out" 2>/dev/null)"
    fi
    [ "$(read_block)" = B ] || fail "read before the resume: $(read_block)"

    kill -CONT "$HUNG_PID"
    wait_for 20 in_doubt_resolved || fail "not resolved: $(ctl --json show lu lu0)"
    if [ -n "$FLUSH_JOB" ]; then
        wait_for 20 flush_done || fail "the flush did not complete after the resolution"
        [ "$(cat "$T/flush.out")" = ok ] || fail "the flush failed: $(cat "$T/flush.out")"
    fi
    [ "$(read_block)" = B ] || fail "$when: the block reads $(read_block) after the late write, not B"
    nbdsh -u "$(LU_URI)" -c 'h.flush()'
    [ "$(image_block)" = B ] || fail "$when: the image holds $(image_block), not B"
    wait_for 30 path_is a active || fail "path a did not come back: $(path_state a)"
    grep -q "write(s) in doubt" "$T/mpiod.log" || fail "the in-doubt write is not logged"
    stop_two_paths
}

in_doubt_flush_bound() {
    log "scenario: a flush waits for A in doubt under B for in_doubt_flush_timeout (2 s), then fails"
    rm -f "$T/lun.img" && truncate -s 16M "$T/lun.img"
    LU_SETTINGS="    in_doubt_flush_timeout: 2s" start_two_paths
    CLEANUP_HOOKS+=("kill -CONT $HUNG_PID 2>/dev/null")
    wait_for 20 path_is a active || fail "path a is $(path_state a)"
    wait_for 20 path_is b active || fail "path b is $(path_state b)"
    write_block 0 flush
    kill -STOP "$HUNG_PID"
    write_block A
    write_block B
    start_flush
    wait_for 10 flush_waiting || fail "the flush did not wait: $(cat "$T/flush.out" 2>/dev/null)"
    wait_for 20 flush_done || fail "the flush was not failed at its bound"
    grep -q "^error EIO" "$T/flush.out" || fail "the flush ended with: $(cat "$T/flush.out")"
    grep -q "flush failed after 2000 ms" "$T/mpiod.log" || fail "the failed flush is not logged"
    kill -CONT "$HUNG_PID"
    wait_for 20 in_doubt_resolved || fail "not resolved: $(ctl --json show lu lu0)"
    [ "$(read_block)" = B ] || fail "the block reads $(read_block) after the late write, not B"
    nbdsh -u "$(LU_URI)" -c 'h.flush()' # nothing in doubt: at once
    [ "$(image_block)" = B ] || fail "the image holds $(image_block), not B"
    stop_two_paths
}
