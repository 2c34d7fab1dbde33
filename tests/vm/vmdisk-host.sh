# shellcheck shell=bash disable=SC2034,SC2154 # (QEMU_EXTRA, GUEST_ENV: for run-vm-test.sh; PID_a, PID_b: from start_path)
# The host side of the VM test's vmdisk scenario, sourced by run-vm-test.sh after
# tests/integration/lib.sh (start_path, kill_path, write_config, start_mpiod, ctl, path_state,
# path_is; its $T is the run's work directory $W). Two nbdkit paths (Unix sockets) to one
# image, mpiod exporting the LU as a Unix socket only, and the guest's disk /dev/vda on that
# socket through qemu's own NBD client (-drive file=nbd+unix:///?socket=...,if=virtio).
#
# The guest (tests/vm/guest-vmdisk.sh) takes one command at a time on its second serial port,
# from vmdisk_step, which run-vm-test.sh calls on every poll of the serial console: it reads
# the guest's new lines, answers with the next command, and injects the faults while the
# guest writes and mpiod shows the path with I/O in flight: path a's nbdkit killed (-9),
# restarted once mpiod has failed the path, and waited for until mpiod has it active again
# (again in a later round, up to KILL_TRIES times, if mpiod had no I/O to fail over);
# then path b's nbdkit stopped (SIGSTOP) for HANG_SECONDS, continued (the guest's flushes
# wait meanwhile while b's writes in doubt lie under newer ones: in_doubt_flush_timeout),
# and waited for until active; then a read-only verification (a write the stopped server
# still held must not have landed over newer data) and a round; then mpiod itself restarted
# (SIGTERM, a new daemon) during a write, which qemu rides through with its NBD client's
# reconnect-delay, and two more rounds. Never both paths down at once. The first daemon is
# checked before it stops (daemon_checks), the second and the image after the guest's PASS
# (vmdisk_checks).

REGION_MB=16   # the region of /dev/vda each round rewrites and reads back
STRIPES=4      # written and read as this many parallel streams of 1 MiB requests
HANG_SECONDS=5 # path b stays stopped this long (well under in_doubt_flush_timeout, 30 s)
STEP_LIMIT=60  # seconds any one step (failover, reinstatement, rounds) may take
KILL_TRIES=3   # kills of path a that found no I/O in flight, at most
RECONNECT_DELAY=30 # seconds qemu holds requests while it reconnects to a restarted mpiod
# Every write takes 100 ms at the path servers, so that each path has writes in flight for
# most of a write round and a kill finds some (the guest's I/O alone leaves gaps under TCG).
PATH_ARGS=(--filter=delay delay-write=100ms)

vmdisk_setup() {
    truncate -s 64M "$W/lun.img"
    start_path a "$W/lun.img" "${PATH_ARGS[@]}"
    start_path b "$W/lun.img" "${PATH_ARGS[@]}"
    EXPORT_KIND=socket CHECKER_INTERVAL=500ms write_config "$W/mpiod.yaml" a b
    start_mpiod "$W/mpiod.yaml"
    # The guest's ttyS1: qemu reads command.in (and writes command.out, unused). Both opened
    # read-write, so neither qemu nor the host ever blocks on a missing peer.
    mkfifo "$W/command.in" "$W/command.out"
    exec {COMMAND_FD}<>"$W/command.in"
    QEMU_EXTRA=(-drive "file=$(LU_URI),format=raw,if=virtio,cache=none,file.reconnect-delay=$RECONNECT_DELAY"
        -serial "pipe:$W/command")
    GUEST_ENV="REGION_MB=$REGION_MB STRIPES=$STRIPES"
    say "paths a and b (nbdkit on $W/{a,b}.sock), mpiod exporting lu0 at $(LU_SOCK)"
}

# path_field ID FIELD, lu_field FIELD: a field of path ID, of LU lu0, from mpiod-ctl's JSON
path_field() {
    ctl --json list paths | python3 -c 'import json, sys
print(next(p[sys.argv[2]] for p in json.load(sys.stdin) if p["id"] == sys.argv[1]))' "$1" "$2"
}
lu_field() { ctl --json show lu lu0 | python3 -c 'import json, sys; print(json.load(sys.stdin)[sys.argv[1]])' "$1"; }
# in_flight ID: I/Os outstanding on path ID, from `mpiod-ctl list paths` (its table: the
# JSON's python parse is too slow to catch a burst)
in_flight() {
    ctl list paths | awk -v id="$1" 'NR == 1 { for (i = 1; i <= NF; i++) c[$i] = i; next }
        $c["PATH"] == id { print $c["INFLIGHT"] }'
}
# write_busy ID: polls until path ID has I/O in flight while the guest writes round $ROUND
# (true), or that write is over (false)
write_busy() {
    [ "$WRITING" = 1 ] || return 1
    until grep -q "ROUND $ROUND written" "$SERIAL"; do
        kill -0 "$MPIOD_PID" 2>/dev/null || return 1
        [ "$(in_flight "$1")" -gt 0 ] 2>/dev/null && return 0
    done
    return 1
}
max() { awk -v a="${1:-0}" -v b="$2" 'BEGIN { print (b > a ? b : a) }'; }

# boot, before, killed, restarted, a-back, stopped, resumed, b-back, verifying, final,
# restart-due, mpiod-restarted, finishing
STATE=boot
PHASE=before  # the fault a round starting now runs under: before, kill, between, hang, after,
#               restart
STATE_AT=0    # $SECONDS when STATE was entered
ROUNDS=0      # rounds the guest has completed
ROUNDS_AT=0   # ROUNDS when STATE was entered
ROUND=0       # the round the guest is in
WRITING=0     # 1 while the guest writes
LINES_READ=0  # lines of the serial console already handled
B_FAILED=""   # how long after SIGSTOP mpiod first showed path b not active
KILLS=0       # kills of path a so far
declare -A ROUND_PHASE WORST_WRITE WORST_READ FAILOVERS

command_guest() { echo "$1" >&"$COMMAND_FD"; }
enter() { # STATE [PHASE]
    STATE=$1
    PHASE=${2:-$PHASE}
    STATE_AT=$SECONDS
    ROUNDS_AT=$ROUNDS
}
in_state() { echo $((SECONDS - STATE_AT)); }
vmdisk_die() {
    echo "---- serial console (last 30 lines) ----"
    tail -n 30 "$SERIAL" | sed 's/\r$//'
    echo "---- paths ----"
    ctl list paths 2>&1 || true
    die "$*"
}

# round_done: the guest has verified round $ROUND; it gets its next command.
round_done() {
    ROUNDS=$((ROUNDS + 1))
    case $STATE in
    b-back)
        command_guest verify
        enter verifying
        ;;
    final)
        enter restart-due # (mpiod restarts during the next write)
        command_guest write
        ;;
    mpiod-restarted)
        if [ $((ROUNDS - ROUNDS_AT)) -ge 2 ]; then
            command_guest finish
            enter finishing
        else
            command_guest write
        fi
        ;;
    *) command_guest write ;;
    esac
}

# watch: the steps that wait for mpiod or for time rather than for a line of the guest.
watch() {
    local s
    kill -0 "$MPIOD_PID" 2>/dev/null || vmdisk_die "mpiod exited (step '$STATE')"
    case $STATE in
    before)
        if [ "$ROUNDS" -ge 2 ] && write_busy a; then
            kill_path a
            KILLS=$((KILLS + 1))
            enter killed kill
            ROUND_PHASE[$ROUND]="kill"
            say "round $ROUND: path a's nbdkit killed (-9) while mpiod showed I/O in flight on it"
        fi
        ;;
    killed)
        s=$(path_state a)
        if [ "$s" != active ]; then
            start_path a "$W/lun.img" "${PATH_ARGS[@]}"
            say "mpiod showed path a $s $(in_state) s after the kill; its nbdkit restarted"
            enter restarted
        fi
        ;;
    restarted)
        if path_is a active; then
            # (path a had no error before: its errors are the I/Os the kill cut off)
            FAILOVERS[kill]=$(path_field a errors)
            say "path a active again $(in_state) s after its nbdkit restarted;" \
                "${FAILOVERS[kill]} I/O(s) in flight on it were failed over to b"
            if [ "${FAILOVERS[kill]}" -gt 0 ]; then
                enter a-back between
            elif [ "$KILLS" -lt "$KILL_TRIES" ]; then
                enter before # the I/O completed before the kill: again in a later round
            else
                vmdisk_die "$KILLS kills of path a found no I/O to fail over"
            fi
        fi
        ;;
    a-back)
        FAILOVERS[hang]=$(lu_field failovers) # (none while both paths work)
        if write_busy b; then
            kill -STOP "$PID_b"
            enter stopped hang
            ROUND_PHASE[$ROUND]="hang"
            say "round $ROUND: path b's nbdkit stopped (SIGSTOP) with I/O in flight on the path"
        fi
        ;;
    stopped)
        if [ -z "$B_FAILED" ] && [ "$(path_state b)" != active ]; then
            B_FAILED=$(in_state)
        fi
        if [ "$(in_state)" -ge "$HANG_SECONDS" ]; then
            kill -CONT "$PID_b"
            say "path b's nbdkit continued after $(in_state) s and $((ROUNDS - ROUNDS_AT)) rounds" \
                "(mpiod showed it not active ${B_FAILED:-never} s after the stop)"
            enter resumed after
        fi
        ;;
    restart-due)
        if write_busy a; then
            daemon_checks
            kill -TERM "$MPIOD_PID"
            wait_for 30 process_gone "$MPIOD_PID" || vmdisk_die "mpiod did not stop within 30 s of SIGTERM"
            wait "$MPIOD_PID" || vmdisk_die "mpiod exited with $? after SIGTERM"
            mv "$W/mpiod.log" "$W/mpiod-first.log"
            start_mpiod "$W/mpiod.yaml"
            enter mpiod-restarted restart
            ROUND_PHASE[$ROUND]="restart"
            say "round $ROUND: mpiod stopped (SIGTERM, exit 0) with I/O in flight and started again"
        fi
        ;;
    resumed)
        if path_is b active; then
            FAILOVERS[hang]=$(($(lu_field failovers) - ${FAILOVERS[hang]}))
            say "path b active again $(in_state) s after SIGCONT"
            enter b-back
        fi
        ;;
    *) return 0 ;;
    esac
    [ "$(in_state)" -lt "$STEP_LIMIT" ] || vmdisk_die "stuck in step '$STATE' for $STEP_LIMIT s" \
        "($((ROUNDS - ROUNDS_AT)) rounds meanwhile)"
}

vmdisk_step() {
    local line f
    while IFS= read -r line; do # complete lines only: read fails on a partial last line
        LINES_READ=$((LINES_READ + 1))
        line=${line%$'\r'}
        read -r -a f <<<"$line"
        case $line in
        "MPIOD-VM: READY")
            enter before
            command_guest write
            ;;
        "MPIOD-VM: ROUND "*" writing")
            ROUND=${f[2]} WRITING=1
            ROUND_PHASE[$ROUND]=$PHASE
            ;;
        "MPIOD-VM: ROUND "*" written in "*)
            WRITING=0
            WORST_WRITE[${ROUND_PHASE[$ROUND]}]=$(max "${WORST_WRITE[${ROUND_PHASE[$ROUND]}]:-}" "${f[5]}")
            ;;
        "MPIOD-VM: ROUND "*" ok read "*)
            WORST_READ[${ROUND_PHASE[$ROUND]}]=$(max "${WORST_READ[${ROUND_PHASE[$ROUND]}]:-}" "${f[5]}")
            round_done
            ;;
        "MPIOD-VM: VERIFIED "*)
            say "the guest read back round ${f[2]}'s data after path b came back: unchanged"
            enter final
            command_guest write
            ;;
        esac
    done < <(tail -n "+$((LINES_READ + 1))" "$SERIAL")
    watch
}

# daemon_checks: the first daemon, before it stops: both faults reached it, no I/O failed.
daemon_checks() {
    local p errors
    ctl list paths
    for p in a b; do
        [ "$(path_field "$p" failures)" -ge 1 ] || vmdisk_die "mpiod never failed path $p: the fault did not reach it"
    done
    errors=$(lu_field io_errors)
    [ "$errors" = 0 ] || vmdisk_die "mpiod completed $errors I/Os to qemu with an error"
    say "mpiod: 0 I/O errors; I/Os failed over: ${FAILOVERS[kill]} at the kill of a," \
        "${FAILOVERS[hang]} during b's hang; writes left in doubt on b: $(grep -o '[0-9]* write(s) in doubt' \
            "$W/mpiod.log" | awk '{ n += $1 } END { print n + 0 }'); kept writes replayed: $(lu_field replays)"
    say "STAT mpiod's log: $(grep -o 'path b .* has not answered for [0-9]* ms' "$W/mpiod.log" |
        sed 's/ (.*)//' | head -n 1) (early hang detection)"
}

# vmdisk_checks: after the guest's PASS, the second daemon and the image itself.
vmdisk_checks() {
    local sum errors rc ph
    sum=$(sed -n 's/^MPIOD-VM: SHA256 \([0-9a-f]*\).*/\1/p' "$SERIAL" | head -n 1)
    [ -n "$sum" ] || die "the guest reported no checksum"
    [ "$STATE" = finishing ] || die "the guest passed before the host's steps were done (at '$STATE')"
    errors=$(lu_field io_errors)
    [ "$errors" = 0 ] || die "the restarted mpiod completed $errors I/Os to qemu with an error"
    kill -TERM "$MPIOD_PID"
    wait_for 30 process_gone "$MPIOD_PID" || die "mpiod did not stop within 30 s of SIGTERM"
    rc=0
    wait "$MPIOD_PID" || rc=$?
    [ "$rc" = 0 ] || die "mpiod exited with $rc after SIGTERM"
    [ "$(head -c "${REGION_MB}M" "$W/lun.img" | sha256sum | cut -d' ' -f1)" = "$sum" ] ||
        die "the image behind the paths does not hold the guest's last round"
    say "the image holds the guest's last round (sha256 ${sum:0:16}...); the restarted mpiod:" \
        "0 I/O errors, exit 0 on SIGTERM"
    local -A name=([before]="before the faults" [kill]="across the kill of a"
        [between]="a back, b not yet stopped" [hang]="with b stopped" [after]="after b continued"
        [restart]="across mpiod's restart")
    for ph in before kill between hang after restart; do
        [ -z "${WORST_WRITE[$ph]:-}" ] ||
            say "STAT slowest write/read of a round ($REGION_MB MiB, O_DIRECT) ${name[$ph]}:" \
                "${WORST_WRITE[$ph]}/${WORST_READ[$ph]:-?} s"
    done
}
