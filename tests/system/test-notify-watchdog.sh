#!/bin/bash
# mpiod speaks sd_notify as mpiod.service (Type=notify, WatchdogSec=) expects, checked with a
# stand-in for systemd's notification socket:
#   - READY=1 arrives, and only once the LU's socket exists;
#   - WATCHDOG=1 arrives every half of WATCHDOG_USEC, from the event loop: none while the
#     daemon is stopped (SIGSTOP), and again once it continues;
#   - SIGTERM sends STOPPING=1, and the daemon exits 0.
# Usage: test-notify-watchdog.sh BUILD_DIR
export MPIOD_BUILD_DIR=${1:-${MPIOD_BUILD_DIR:-}}
[ -n "$MPIOD_BUILD_DIR" ] || { echo "usage: $0 BUILD_DIR" >&2; exit 64; }
source "$(dirname "$0")/../integration/lib.sh"
require nbdkit nbdinfo
[ -x /usr/bin/python3 ] || { echo "SKIP: /usr/bin/python3 missing" >&2; exit 77; }

# systemd's WatchdogSec= in microseconds; pings are expected every half of it.
WATCHDOG_USEC=2000000
half=$(awk -v u=$WATCHDOG_USEC 'BEGIN { print u / 2e6 }')

notify_log=$T/notify.log
: >"$notify_log"
/usr/bin/python3 "$(dirname "$0")/notify_listener.py" "$T/notify.sock" "$notify_log" \
    "$(LU_SOCK)" 2>"$T/listener.err" &
PIDS+=("$!")
wait_for 10 test -S "$T/notify.sock" || fail "the notify listener did not start"

messages() { grep -c -- "$1" "$notify_log" || true; }
has_message() { [ "$(messages "$1")" -ge "${2:-1}" ]; }
pings() { messages 'WATCHDOG=1'; }
pings_above() { [ "$(pings)" -gt "$1" ]; }
process_stopped() { [ "$(awk '{ print $3 }' "/proc/$1/stat" 2>/dev/null)" = T ]; }

truncate -s 64M "$T/disk.img"
start_path a "$T/disk.img"
write_config "$T/mpiod.yaml" a

log "starting mpiod with NOTIFY_SOCKET and a ${half}s watchdog period"
# WATCHDOG_PID must be the daemon's own pid: the shell sets it to $$ and execs mpiod.
NOTIFY_SOCKET=$T/notify.sock WATCHDOG_USEC=$WATCHDOG_USEC \
    bash -c 'WATCHDOG_PID=$$ exec "$0" --config "$1"' "$MPIOD" "$T/mpiod.yaml" \
    >"$T/mpiod.log" 2>&1 &
MPIOD_PID=$!
PIDS+=("$MPIOD_PID")

wait_for 30 has_message 'READY=1' || fail "no READY=1 within 30 s"
[ "$(messages 'READY=1')" = 1 ] || fail "READY=1 sent more than once"
grep -q 'READY=1.* watch_file=1$' "$notify_log" ||
    fail "READY=1 arrived before $(LU_SOCK) existed: $(grep READY=1 "$notify_log")"
socket_answers "$(LU_SOCK)" || fail "the LU does not answer on $(LU_SOCK) after READY=1"
echo "ok: READY=1 once the LU is exported"

# Six pings after READY=1 give five intervals to look at.
ready_pings=$(pings)
wait_for 30 pings_above $((ready_pings + 5)) || fail "fewer than 6 WATCHDOG=1 in 30 s: $(pings)"
awk -v half="$half" '
    / WATCHDOG=1/ { t[n++] = $1 }
    END {
        for (i = 1; i < n; i++) { d[i] = t[i] - t[i - 1]; if (d[i] > max) max = d[i] }
        m = n - 1
        # median of the intervals (insertion sort: a handful of values)
        for (i = 2; i <= m; i++) for (j = i; j > 1 && d[j - 1] > d[j]; j--) { x = d[j]; d[j] = d[j - 1]; d[j - 1] = x }
        med = (m % 2) ? d[(m + 1) / 2] : (d[m / 2] + d[m / 2 + 1]) / 2
        printf "watchdog: %d pings, median interval %.3f s, longest %.3f s (period %.3f s)\n", n, med, max, half
        # The median tells the period; the longest gap must stay under the watchdog timeout.
        if (med < half * 0.9 || med > half * 1.3) { print "median interval is not half of WATCHDOG_USEC"; exit 1 }
        if (max >= 2 * half) { print "a gap reached WATCHDOG_USEC: systemd would have killed the daemon"; exit 1 }
    }' "$notify_log" || fail "watchdog pings are not every half interval"
echo "ok: WATCHDOG=1 every half interval"

log "SIGSTOP: a stopped event loop must stop pinging"
kill -STOP "$MPIOD_PID"
wait_for 5 process_stopped "$MPIOD_PID" || fail "mpiod did not stop"
before=$(pings)
# The observation window: three ping periods, in which a running daemon pings three times.
sleep "$(awk -v h="$half" 'BEGIN { print 3 * h }')"
after=$(pings)
kill -CONT "$MPIOD_PID"
# One ping sent just before the stop may reach the listener's log after `before` was read.
[ $((after - before)) -le 1 ] ||
    fail "$((after - before)) WATCHDOG=1 arrived while mpiod was stopped"
echo "ok: no WATCHDOG=1 while stopped"
wait_for 10 pings_above "$after" || fail "no WATCHDOG=1 after SIGCONT"
echo "ok: WATCHDOG=1 again after SIGCONT"

log "SIGTERM: STOPPING=1, then a clean exit"
kill -TERM "$MPIOD_PID"
wait_for 15 has_message 'STOPPING=1' || fail "no STOPPING=1 within 15 s of SIGTERM"
wait_for 20 process_gone "$MPIOD_PID" || fail "mpiod did not exit within 20 s of SIGTERM"
rc=0
wait "$MPIOD_PID" || rc=$?
[ "$rc" = 0 ] || fail "mpiod exited with status $rc after SIGTERM"
ready_line=$(grep -n 'READY=1' "$notify_log" | head -1 | cut -d: -f1)
stopping_line=$(grep -n 'STOPPING=1' "$notify_log" | head -1 | cut -d: -f1)
[ "$ready_line" -lt "$stopping_line" ] || fail "STOPPING=1 came before READY=1"
echo "ok: STOPPING=1 on SIGTERM, exit status 0"
echo "PASS"
