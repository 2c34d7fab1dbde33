# Shared by the bench scripts; source it from the repository root.
#   bench_start [PREFIX]    checks the release build ($MPIOD, and $CTL when NEED_CTL=1; warns
#                           when a source is newer than $MPIOD), makes
#                           the work directory $T and, on exit, continues (some may be stopped)
#                           and stops every process in `pids`, newest first (SIGTERM, up to
#                           1 s each, SIGKILL after 5 s more),
#                           then removes $T
#   wait_socket SOCK [TRIES]  waits (TRIES x 50 ms, default 200) until an NBD server answers
#   free_port               a free loopback TCP port
#   cpu_ticks PID           the process's user + system time in clock ticks
#   calls_countable         true when perf can count system calls here (else says so once)
#   calls_start PID[,PID..] starts counting the processes' system calls (all threads)
#   calls_stop              stops it and sets CALLS to the count (call it in this shell, not
#                           in $(...): perf must be waited for before its count is read)
MPIOD=${MPIOD:-build/daemon/mpiod}
CTL=${MPIOD_CTL:-build/ctl/mpiod-ctl}

bench_start() {
    if [ ! -x "$MPIOD" ] || { [ "${NEED_CTL:-0}" = 1 ] && [ ! -x "$CTL" ]; }; then
        echo "build first: scripts/build.sh release" >&2
        exit 1
    fi
    # Figures from a binary older than the sources describe other code: say so loudly.
    local newer
    newer=$(find core policies transports exports config daemon ctl -newer "$MPIOD" \
        \( -name '*.cpp' -o -name '*.hpp' \) -print -quit 2>/dev/null || true)
    if [ -n "$newer" ]; then
        echo "WARNING: $MPIOD is older than $newer (and maybe more): rebuild" \
            "(scripts/build.sh release) for figures of this code" >&2
    fi
    T=$(mktemp -d "/tmp/${1:-mpiod-bench}.XXXXXX")
    pids=()
    trap bench_cleanup EXIT
}

bench_cleanup() {
    local p
    # SIGTERM lets mpiod unmount its FUSE export; what ignores it (tgtd) gets SIGKILL.
    # Newest first: mpiod stops (and flushes) while its path servers still run; stopped
    # after them it would wait out its drain limit on paths that are gone.
    for p in "${pids[@]}"; do kill -CONT "$p" 2>/dev/null || true; done
    local i
    for ((i = ${#pids[@]} - 1; i >= 0; i--)); do
        kill "${pids[i]}" 2>/dev/null || true
        for _ in $(seq 20); do kill -0 "${pids[i]}" 2>/dev/null || break; sleep 0.05; done
    done
    for _ in $(seq 100); do
        local alive=0
        for p in "${pids[@]}"; do kill -0 "$p" 2>/dev/null && alive=1; done
        [ "$alive" = 0 ] && break
        sleep 0.05
    done
    for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null || true; done
    wait 2>/dev/null || true
    rm -rf "$T"
}

wait_socket() {
    for _ in $(seq "${2:-200}"); do
        nbdinfo --size "nbd+unix:///?socket=$1" >/dev/null 2>&1 && return 0
        sleep 0.05
    done
    echo "$1 did not come up" >&2
    exit 1
}

free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }

calls_countable() {
    if [ -z "${CALLS_COUNTABLE:-}" ]; then
        CALLS_COUNTABLE=0
        if command -v perf >/dev/null &&
            perf stat -e raw_syscalls:sys_enter -x, -o /dev/null -- true 2>/dev/null; then
            CALLS_COUNTABLE=1
        else
            echo "(perf cannot count system calls here: sys/IO not shown)" >&2
        fi
    fi
    [ "$CALLS_COUNTABLE" = 1 ]
}
calls_start() {
    perf stat -e raw_syscalls:sys_enter -x, -o "$T/calls.perf" -p "$1" &
    CALLS_PERF_PID=$!
}
calls_stop() {
    kill -INT "$CALLS_PERF_PID"
    wait "$CALLS_PERF_PID" || true
    CALLS=$(awk -F, '/raw_syscalls/ {print $1}' "$T/calls.perf")
}
