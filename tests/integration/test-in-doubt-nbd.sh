#!/bin/bash
# The lost update of a hung path (issue: "a hung path loses nothing"), NBD paths: write A is
# sent to path a, whose nbdkit is stopped (SIGSTOP); mpiod completes A through b; B is then
# written over the same block and flushed. When a's server runs again it executes the A it had
# buffered, after B. mpiod keeps a's connection open, learns of A's late end, and writes B
# again: the block reads B, and the image holds B. Run with the stopped server resumed after
# the later write, after the flush, and after an operator tried to reinstate the path. A flush
# sent while A is in doubt under B waits for A's end; with in_doubt_flush_timeout 2s it fails
# with EIO after 2 s instead, and B survives all the same.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/lib-in-doubt.sh"
require nbdkit nbdsh python3

start_two_paths() {
    start_path a "$T/lun.img"
    start_path b "$T/lun.img"
    HUNG_PID=$PID_a
    IO_TIMEOUT=2s CHECKER_INTERVAL=500ms POLICY=failover-only write_config "$T/mpiod.yaml" a b
    start_mpiod "$T/mpiod.yaml"
}

stop_two_paths() {
    kill_path a
    kill_path b
    kill -9 "$MPIOD_PID" 2>/dev/null || true
    wait "$MPIOD_PID" 2>/dev/null || true
}

in_doubt_scenario after-the-later-write
in_doubt_scenario after-the-flush
in_doubt_scenario after-a-reinstate-attempt
in_doubt_flush_bound
echo PASS
