#!/bin/bash
# Chaos (issue 9): four nbdkit path servers share one image; fio writes and reads it through
# mpiod with crc32c verification (4k and 64k blocks, QD16, a flush every 64 writes) for the
# whole run, while a loop driven by a fixed seed kills path servers (kill -9, restarted
# 0.5-5 s later; a stopped one too), stops them (SIGSTOP, SIGCONT 0.3-4 s later), makes them
# answer every request with EIO (nbdkit's error filter, 0.3-4 s), fails paths by operator
# (mpiod-ctl fail path, reinstated 0.5-5 s later; a path with writes in doubt refuses, so it
# is retried) and switches among all seven policies. It never takes
# away the last path that mpiod reports active and whose server runs. For the last
# $SETTLE seconds fio runs on while every server runs again and every path is reinstated.
# Then: fio saw 0 errors and 0 verify errors, mpiod completed no I/O with an error, every
# path is active with nothing in doubt, the image's sha256 equals that of what the LU
# serves, and mpiod is alive, exits 0 on SIGTERM and logged no sanitizer report.
#
# Usage: test-chaos.sh [seconds, default 75] [seed, default 9]
# Every action is printed with its time since the start ("chaos.log"). The seed fixes the
# sequence of choices; timing can still change what a choice does (a disruption skipped
# because no other path was active yet, a refused reinstate retried), so a replay with the
# same seed is close, not identical. CHAOS_KEEP=DIR keeps the logs (chaos, mpiod, fio).
# bench/chaos.sh runs it for 10 minutes.
source "$(dirname "$0")/lib.sh"
require nbdkit nbdinfo nbdcopy fio python3 sha256sum timeout

DURATION=${1:-75}
SEED=${2:-9}
SETTLE=10
[[ $DURATION =~ ^[0-9]+$ && $DURATION -ge 20 ]] || fail "seconds must be a whole number >= 20"
[[ $SEED =~ ^[0-9]+$ ]] || fail "seed must be a whole number"
PATHS=(a b c d)
POLICIES=(failover-only round-robin round-robin-with-subset least-queue-depth weighted-paths
    least-blocks service-time)
IMAGE_SIZE=128M

declare -A server      # a path's server: up | stopped | dead
declare -A admin       # 1 while failed by the operator
declare -A due_cont    # ms since the start at which a stopped server gets SIGCONT
declare -A due_restart # ... a killed server is started again
declare -A due_reinst  # ... an operator-failed path is reinstated
declare -A fault       # 1 while a path's server answers every request with EIO
declare -A due_heal    # ... a faulting server answers normally again
declare -A mstate      # mpiod's view of each path's state (refreshed by refresh_states)
declare -A DONE=([kill]=0 [stop]=0 [fault]=0 [fail]=0 [policy]=0) # actions carried out

T0=${EPOCHREALTIME/./}
NOW=0
tick() { NOW=$(((${EPOCHREALTIME/./} - T0) / 1000)); }
act() {
    tick
    printf '%4d.%03d %s\n' $((NOW / 1000)) $((NOW % 1000)) "$*" | tee -a "$T/chaos.log"
}

keep_logs() {
    [ -n "${CHAOS_KEEP:-}" ] || return 0
    mkdir -p "$CHAOS_KEEP" && cp "$T"/*.log "$T"/fio.* "$T/mpiod.yaml" "$CHAOS_KEEP"/ 2>/dev/null
    echo "logs kept in $CHAOS_KEEP" >&2
}
resume_servers() { # a stopped server cannot be killed cleanly: continue it first
    local v
    for x in "${PATHS[@]}"; do
        v="PID_$x"
        [ -n "${!v:-}" ] && kill -CONT "${!v}" 2>/dev/null
    done
    true
}
CLEANUP_HOOKS+=(resume_servers keep_logs)

refresh_states() {
    local id state
    mstate=()
    while read -r id state; do
        mstate[$id]=$state
    done < <(ctl --json list paths | python3 -c '
import json, sys
for p in json.load(sys.stdin):
    print(p["id"], p["state"])')
    [ ${#mstate[@]} -eq ${#PATHS[@]} ] || fail "mpiod-ctl list paths did not answer for every path"
}

# another_live X: a path other than X whose server runs and answers, that the operator has
# not failed, and that mpiod reported active at the start of this step. Taking X away then
# leaves the LU a path.
another_live() {
    for y in "${PATHS[@]}"; do
        [ "$y" != "$1" ] && [ "${server[$y]}" = up ] && [ "${fault[$y]}" = 0 ] &&
            [ "${admin[$y]}" = 0 ] && [ "${mstate[$y]}" = active ] && return 0
    done
    return 1
}

pid_of() { local v="PID_$1"; echo "${!v}"; }

# reap: notices a server that exited on its own. nbdkit 1.32 aborts ("raw_send_socket:
# Assertion `sock >= 0' failed") when it writes a reply on a connection its client has closed:
# a stopped server continued after mpiod closed the connection of a path that hung with only
# reads in flight (a server that does not answer gets no more than io_timeout). That is the
# server's bug, not mpiod's: such a server counts as killed and is restarted (and counted).
# Any other exit fails the test, and so does this abort from a server that was never stopped:
# mpiod does not hang up on a server that answers.
declare -A was_stopped # 1 once a server process was stopped (reset when it is restarted)
SELF_EXITS=0
reap() {
    local pid
    for x in "${PATHS[@]}"; do
        [ "${server[$x]}" != dead ] || continue
        pid=$(pid_of "$x")
        exited "$pid" || continue
        wait "$pid" 2>/dev/null || true
        grep -q "raw_send_socket: Assertion" "$T/$x.nbdkit.log" ||
            fail "server $x exited by itself: $(tail -5 "$T/$x.nbdkit.log")"
        [ "${was_stopped[$x]}" = 1 ] ||
            fail "server $x, never stopped, aborted on a connection mpiod closed mid-reply"
        SELF_EXITS=$((SELF_EXITS + 1))
        cp "$T/$x.nbdkit.log" "$T/$x.nbdkit.abort-$SELF_EXITS.log"
        act "server $x (${server[$x]}) exited by itself: nbdkit's abort on a closed connection; restart later"
        server[$x]=dead
        due_cont[$x]=
        due_restart[$x]=$((NOW + 500))
    done
}

# signal_server X SIGNAL: 0 when sent; 1 when the server turned out to have exited (reaped).
signal_server() {
    kill "-$2" "$(pid_of "$1")" 2>/dev/null && return 0
    reap
    [ "${server[$1]}" = dead ] || fail "could not send SIG$2 to server $1"
    return 1
}

chaos_kill() { # X LEN
    local x=$1
    case ${server[$x]} in
    dead) act "skip kill $x: its server is down"; return ;;
    up) another_live "$x" || { act "skip kill $x: no other live path"; return; } ;;
    esac
    act "kill -9 server $x (${server[$x]}; mpiod: ${mstate[$x]:-?})"
    DONE[kill]=$((DONE[kill] + 1))
    kill_path "$x"
    server[$x]=dead
    due_cont[$x]=
    due_restart[$x]=$((NOW + 500 + $2 % 4500))
}

chaos_stop() { # X LEN
    local x=$1
    [ "${server[$x]}" = up ] || { act "skip stop $x: its server is ${server[$x]}"; return; }
    another_live "$x" || { act "skip stop $x: no other live path"; return; }
    act "SIGSTOP server $x (mpiod: ${mstate[$x]})"
    signal_server "$x" STOP || return 0
    was_stopped[$x]=1
    DONE[stop]=$((DONE[stop] + 1))
    server[$x]=stopped
    due_cont[$x]=$((NOW + 300 + $2 % 3700))
}

chaos_fault() { # X LEN: the server answers every request with EIO for a while
    local x=$1
    [ "${server[$x]}" = up ] || { act "skip fault $x: its server is ${server[$x]}"; return; }
    [ "${fault[$x]}" = 0 ] || { act "skip fault $x: it faults already"; return; }
    another_live "$x" || { act "skip fault $x: no other live path"; return; }
    act "fault server $x: EIO for every request (mpiod: ${mstate[$x]})"
    touch "$T/$x.fail"
    fault[$x]=1
    DONE[fault]=$((DONE[fault] + 1))
    due_heal[$x]=$((NOW + 300 + $2 % 3700))
}

heal() {
    act "heal server $1: it answers normally again"
    rm -f "$T/$1.fail"
    fault[$1]=0
    due_heal[$1]=
}

chaos_admin_fail() { # X LEN
    local x=$1
    [ "${admin[$x]}" = 0 ] || { act "skip fail $x: failed by the operator already"; return; }
    if [ "${server[$x]}" = up ]; then
        another_live "$x" || { act "skip fail $x: no other live path"; return; }
    fi
    act "mpiod-ctl fail path $x (server ${server[$x]})"
    ctl fail path "$x" >/dev/null || fail "mpiod-ctl fail path $x refused"
    admin[$x]=1
    DONE[fail]=$((DONE[fail] + 1))
    due_reinst[$x]=$((NOW + 500 + $2 % 4500))
}

chaos_policy() { # NAME
    act "mpiod-ctl set policy lu0 $1"
    ctl set policy lu0 "$1" >/dev/null || fail "mpiod-ctl set policy lu0 $1 refused"
    DONE[policy]=$((DONE[policy] + 1))
}

# reinstate X: 0 when mpiod took it, 1 when it refused because writes are in doubt on the
# path (it reconnects by itself once they resolve: try again later); anything else fails.
reinstate() {
    local out
    if out=$(ctl reinstate path "$1" 2>&1); then
        act "mpiod-ctl reinstate path $1: ok"
        admin[$1]=0
        return 0
    fi
    [[ $out == *"in doubt"* ]] || fail "mpiod-ctl reinstate path $1: $out"
    act "mpiod-ctl reinstate path $1 refused, retry: $out"
    return 1
}

# start_server X: nbdkit for path X; it answers EIO while $T/X.fail exists.
start_server() {
    start_path "$1" "$T/lun.img" --filter=error error-rate=100% error-file="$T/$1.fail"
    was_stopped[$1]=0
}

restart() {
    act "restart server $1"
    start_server "$1"
    server[$1]=up
    act "server $1 answers"
}

run_due() {
    reap
    tick
    for x in "${PATHS[@]}"; do
        if [ -n "${due_cont[$x]}" ] && [ "$NOW" -ge "${due_cont[$x]}" ]; then
            act "SIGCONT server $x"
            due_cont[$x]=
            signal_server "$x" CONT && server[$x]=up
        fi
        if [ -n "${due_restart[$x]}" ] && [ "$NOW" -ge "${due_restart[$x]}" ]; then
            restart "$x"
            due_restart[$x]=
        fi
        if [ -n "${due_heal[$x]}" ] && [ "$NOW" -ge "${due_heal[$x]}" ]; then
            heal "$x"
        fi
        if [ -n "${due_reinst[$x]}" ] && [ "$NOW" -ge "${due_reinst[$x]}" ]; then
            if reinstate "$x"; then due_reinst[$x]=; else due_reinst[$x]=$((NOW + 500)); fi
        fi
    done
}

# One step draws the same five numbers whatever it then does, so the seed fixes the
# sequence of choices.
step() {
    local what=$((RANDOM % 100)) x=${PATHS[RANDOM % ${#PATHS[@]}]} len=$RANDOM
    local policy=${POLICIES[RANDOM % ${#POLICIES[@]}]}
    PAUSE_MS=$((100 + RANDOM % 900))
    refresh_states
    if [ $what -lt 20 ]; then
        chaos_kill "$x" "$len"
    elif [ $what -lt 45 ]; then
        chaos_stop "$x" "$len"
    elif [ $what -lt 60 ]; then
        chaos_fault "$x" "$len"
    elif [ $what -lt 80 ]; then
        chaos_admin_fail "$x" "$len"
    else
        chaos_policy "$policy"
    fi
}

all_settled() {
    refresh_states
    for x in "${PATHS[@]}"; do [ "${mstate[$x]}" = active ] || return 1; done
    ctl --json show lu lu0 | python3 -c '
import json, sys
lu = json.load(sys.stdin)
sys.exit(0 if lu["in_doubt_writes"] == 0 and lu["held"] == 0 and lu["queued"] == 0 else 1)'
}

lu_field() {
    ctl --json show lu lu0 | python3 -c 'import json, sys; print(json.load(sys.stdin)[sys.argv[1]])' "$1"
}

exited() { [ ! -e "/proc/$1" ] || [ "$(cut -d' ' -f3 "/proc/$1/stat" 2>/dev/null)" = Z ]; }

# ---- set-up ----------------------------------------------------------------------------------
truncate -s "$IMAGE_SIZE" "$T/lun.img"
for x in "${PATHS[@]}"; do
    start_server "$x"
    server[$x]=up
    admin[$x]=0
    fault[$x]=0
    due_heal[$x]=
    due_cont[$x]=
    due_restart[$x]=
    due_reinst[$x]=
done
LU_SETTINGS="    weights: { a: 1, b: 2, c: 3, d: 4 }" write_config "$T/mpiod.yaml" "${PATHS[@]}"
start_mpiod "$T/mpiod.yaml"
for x in "${PATHS[@]}"; do wait_for 10 path_is "$x" active || fail "path $x is $(path_state "$x")"; done

act "seed $SEED, $DURATION s (chaos for $((DURATION - SETTLE)) s), image $IMAGE_SIZE"
timeout -s KILL $((DURATION + 120)) fio --name=chaos --ioengine=nbd --uri="$(LU_URI)" \
    --rw=randrw --rwmixread=30 --bssplit=4k/50:64k/50 --iodepth=16 --size="$IMAGE_SIZE" \
    --time_based --runtime="$DURATION" --fsync=64 \
    --verify=crc32c --verify_backlog=1024 --verify_fatal=0 --verify_state_save=0 \
    --continue_on_error=all --output-format=json --output="$T/fio.json" 2>"$T/fio.err" &
FIO=$!
PIDS+=("$FIO")

# ---- chaos -----------------------------------------------------------------------------------
RANDOM=$SEED
CHAOS_END=$(((DURATION - SETTLE) * 1000))
steps=0
while tick && [ "$NOW" -lt "$CHAOS_END" ]; do
    kill -0 "$MPIOD_PID" 2>/dev/null || fail "mpiod died"
    kill -0 "$FIO" 2>/dev/null || fail "fio ended early: $(cat "$T/fio.err")"
    run_due
    step
    steps=$((steps + 1))
    sleep "$(printf '0.%03d' "$PAUSE_MS")"
done

# ---- settle: every server runs, every path is reinstated, first under load ------------------
# settle_step: continues stopped servers, restarts dead ones, reinstates operator-failed paths
# (a refusal because writes are in doubt is retried at the next step).
settle_step() {
    for x in "${PATHS[@]}"; do
        due_cont[$x]=
        due_restart[$x]=
        due_reinst[$x]=
        [ "${fault[$x]}" = 0 ] || heal "$x"
        if [ "${server[$x]}" = stopped ]; then
            act "SIGCONT server $x"
            signal_server "$x" CONT && server[$x]=up
        fi
    done
    reap
    for x in "${PATHS[@]}"; do
        [ "${server[$x]}" != dead ] || restart "$x"
        [ "${admin[$x]}" = 0 ] || reinstate "$x" || true
    done
}
settled() { settle_step && all_settled; }

act "chaos over after $steps steps: ${DONE[kill]} kills, ${DONE[stop]} stops, ${DONE[fault]} faults, ${DONE[fail]} operator fails, ${DONE[policy]} policy switches; settling"
for what in kill stop fault fail policy; do
    [ "${DONE[$what]}" -gt 0 ] || fail "the chaos loop never did a $what: nothing was tested"
done
settle_step
act "waiting for fio"
rc=0
wait "$FIO" || rc=$?
act "fio ended ($rc)"
deadline=$((SECONDS + 90))
until settled; do
    [ $SECONDS -lt $deadline ] || { ctl list paths; fail "not every path active with nothing in doubt after 90 s: $(ctl --json show lu lu0)"; }
    sleep 0.5
done
act "every path active, nothing in doubt; servers that exited by themselves: $SELF_EXITS"
ctl list paths

# ---- verdict ---------------------------------------------------------------------------------
[ $rc -eq 0 ] || fail "fio exited $rc: $(cat "$T/fio.err")"
read -r fio_error fio_total_err writes reads < <(python3 - "$T/fio.json" <<'PY'
import json, sys
text = open(sys.argv[1]).read()
j = json.loads(text[text.index("{"):])["jobs"][0]
print(j["error"], j.get("total_err", 0), j["write"]["total_ios"], j["read"]["total_ios"])
PY
)
act "fio: $writes writes, $reads reads (verify reads included), error $fio_error, total_err $fio_total_err"
if grep -q "verify:" "$T/fio.err"; then
    grep "verify:" "$T/fio.err" | head -20 >&2
    fail "fio reported verify errors"
fi
[ "$fio_error" = 0 ] && [ "$fio_total_err" = 0 ] || fail "fio saw errors: $(cat "$T/fio.err")"
[ "$writes" -gt 0 ] && [ "$reads" -gt 0 ] || fail "fio did no I/O"
[ "$(lu_field io_errors)" = 0 ] || fail "mpiod completed $(lu_field io_errors) I/O(s) with an error"
act "mpiod: $(lu_field failovers) failovers, $(lu_field replays) replays"

image_sum=$(sha256sum <"$T/lun.img" | cut -d' ' -f1)
lu_sum=$(nbdcopy "$(LU_URI)" - | sha256sum | cut -d' ' -f1)
[ "$image_sum" = "$lu_sum" ] || fail "the LU serves $lu_sum, the image holds $image_sum"
act "image and LU agree: sha256 $image_sum"

kill -0 "$MPIOD_PID" 2>/dev/null || fail "mpiod died"
if grep -E "Sanitizer|runtime error:" "$T/mpiod.log" >&2; then fail "sanitizer report in mpiod's log"; fi
kill -TERM "$MPIOD_PID"
wait_for 30 exited "$MPIOD_PID" || fail "mpiod did not exit within 30 s of SIGTERM"
mpiod_rc=0
wait "$MPIOD_PID" || mpiod_rc=$?
if grep -E "Sanitizer|runtime error:" "$T/mpiod.log" >&2; then fail "sanitizer report in mpiod's log"; fi
[ $mpiod_rc -eq 0 ] || fail "mpiod exited $mpiod_rc after SIGTERM"
act "mpiod exited 0"
echo PASS
