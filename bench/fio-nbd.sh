#!/bin/bash
# Prints fio figures for an nbdkit memory disk read and written directly, through mpiod with
# one path (without and with busy polling, busy_poll_us: 30), through byte-pump (the floor: a
# relay that parses nothing and copies bytes both ways as they come, bench/byte_pump.cpp) and
# through nbdkit's own relay (`nbdkit nbd socket=...`, the nearest peer doing the same job),
# all in one run:
#   rate   IOPS (MiB/s for 1M), and its ratio to direct access
#   p50    fio's median completion latency
#   cpu/IO the relay's (mpiod, byte-pump, nbdkit relay) user+system CPU time over the run
#          divided by the run's I/Os: the figure to drive, it moves far less than IOPS on a
#          shared machine
#   sys/IO the relay's system calls per I/O (perf's raw_syscalls:sys_enter tracepoint, all
#          threads), when perf is usable here
#   ceiling 1 s / cpu per I/O: the IOPS at which the relay's single event-loop thread would be
#          saturated (derived, not measured)
# and after them what system calls cost here (bench/syscall_cost.cpp): single calls, and the
# server side of 4k reads at QD32 moved with libnbd's calls and in bulk.
# Usage: bench/fio-nbd.sh [seconds per run, default 10]. Needs a release build
# (scripts/build.sh release). MPIOD_ALT=BINARY adds a row for a second mpiod build (named
# $ALT_NAME, default mpiod-alt) on the same disk in the same run: bench/asio-io-uring.sh uses it.
set -euo pipefail
cd "$(dirname "$0")/.."
RUNTIME=${1:-10}
source bench/lib.sh
bench_start

nbdkit -f --exit-with-parent -U "$T/p.sock" memory 1G 2>/dev/null &
pids+=("$!")
wait_socket "$T/p.sock"
nbdkit -f --exit-with-parent -U "$T/relay.sock" nbd socket="$T/p.sock" 2>/dev/null &
pids+=("$!")
RELAY_PID=$!
wait_socket "$T/relay.sock"
# start_mpiod BINARY NAME: an mpiod on one path to the disk, its files named $T/NAME*;
# sets STARTED_PID.
start_mpiod() {
    cat >"$T/$2.yaml" <<YAML
log_level: info
control_socket: $T/$2-control.sock
export: { dir: $T/$2-run }
paths: [ { id: p, uri: "nbd+unix:///?socket=$T/p.sock", wwid: bench0 } ]
lus: [ { wwid: bench0, alias: bench } ]
YAML
    "$1" --config "$T/$2.yaml" 2>"$T/$2.log" &
    pids+=("$!")
    STARTED_PID=$!
    wait_socket "$T/$2-run/bench.sock"
}
start_mpiod "$MPIOD" mpiod
MPIOD_PID=$STARTED_PID
ALT_PID=0
if [ -n "${MPIOD_ALT:-}" ]; then
    start_mpiod "$MPIOD_ALT" alt
    ALT_PID=$STARTED_PID
fi

c++ -O2 -std=c++20 -Wall -Wextra -Werror -o "$T/byte_pump" bench/byte_pump.cpp
c++ -O2 -std=c++20 -Wall -Wextra -Werror -o "$T/syscall_cost" bench/syscall_cost.cpp
"$T/byte_pump" "$T/pump.sock" "$T/p.sock" &
pids+=("$!")
PUMP_PID=$!
wait_socket "$T/pump.sock"

direct="nbd+unix:///?socket=$T/p.sock"
via="nbd+unix:///?socket=$T/mpiod-run/bench.sock"
relay="nbd+unix:///?socket=$T/relay.sock"
alt="nbd+unix:///?socket=$T/alt-run/bench.sock"
pump="nbd+unix:///?socket=$T/pump.sock"
# Fill the memory disk so reads touch allocated pages.
nbdcopy -- [ nbdkit pattern 1G ] "$direct"

PERF=0
if calls_countable; then PERF=1; fi

poll_now=0
set_poll() { # MICROSECONDS: mpiod's busy_poll_us, switched by a live reload
    [ "$1" = "$poll_now" ] && return 0
    poll_now=$1
    sed -i '/^busy_poll_us:/d' "$T/mpiod.yaml"
    echo "busy_poll_us: $1" >>"$T/mpiod.yaml"
    kill -HUP "$MPIOD_PID"
    for _ in $(seq 100); do
        grep -q "reload: busy_poll_us $1" "$T/mpiod.log" && return 0
        sleep 0.05
    done
    echo "mpiod did not take busy_poll_us $1" >&2
    exit 1
}

# run URI RELAY_PID fio-args... -> prints "rate p50_us ios cpu_ticks syscalls" (RELAY_PID 0:
# direct, no relay to measure)
run() {
    local uri=$1 pid=$2; shift 2
    local t0=0
    if [ "$pid" != 0 ]; then
        t0=$(cpu_ticks "$pid")
        [ "$PERF" = 0 ] || calls_start "$pid"
    fi
    fio --name=b --ioengine=nbd --uri="$uri" --time_based --runtime="$RUNTIME" \
        --size=1G --output-format=json "$@" >"$T/out.json"
    local ticks=0 calls=0
    if [ "$pid" != 0 ]; then
        ticks=$(($(cpu_ticks "$pid") - t0))
        [ "$PERF" = 0 ] || { calls_stop; calls=$CALLS; }
    fi
    python3 - "$T/out.json" "$ticks" "${calls:-0}" <<'PY'
import json, sys
text = open(sys.argv[1]).read()
j = json.loads(text[text.index("{"):])["jobs"][0]  # fio's nbd engine prints a line first
ios = j["read"]["total_ios"] + j["write"]["total_ios"]
d = j["read"] if j["read"]["io_bytes"] > 0 else j["write"]
p50 = d["clat_ns"]["percentile"]["50.000000"] / 1000
print(f'{d["iops"]:.0f} {d["bw_bytes"] / 2**20:.1f} {p50:.1f} {ios} {sys.argv[2]} {sys.argv[3]}')
PY
}

HZ=$(getconf CLK_TCK)
printf '%-22s %-12s %10s %7s %9s %9s %8s %9s\n' \
    workload via rate ratio p50 cpu/IO sys/IO ceiling
# report WORKLOAD VIA USE_MIBS DIRECT_RATE "iops mibs p50 ios ticks calls"
report() {
    python3 - "$HZ" "$@" <<'PY'
import sys
hz, workload, via, mibs, direct = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4] == "1", float(sys.argv[5])
iops, bw, p50, ios, ticks, calls = map(float, sys.argv[6].split())
rate = bw if mibs else iops
unit = "MiB/s" if mibs else ""
cpu = ticks / hz / ios * 1e6 if ios and via != "direct" else None
sysio = calls / ios if ios and calls else None
f = lambda v, fmt: format(v, fmt) if v is not None else "-"
ceiling = f"{1e6 / cpu / 1000:.0f}k" if cpu else "-"
print(f"{workload:<22} {via:<12} {rate:>9.0f}{unit[:1]:1} {rate / direct:>6.2f}x {p50:>7.1f}us"
      f" {f(cpu, '.1f'):>7}us {f(sysio, '.2f'):>8} {ceiling:>9}")
PY
}

workload() { # NAME USE_MIBS fio-args...
    local name=$1 mibs=$2; shift 2
    local d v p r b a=""
    set_poll 0
    d=$(run "$direct" 0 "$@")
    v=$(run "$via" "$MPIOD_PID" "$@")
    [ "$ALT_PID" = 0 ] || a=$(run "$alt" "$ALT_PID" "$@")
    b=$(run "$pump" "$PUMP_PID" "$@")
    r=$(run "$relay" "$RELAY_PID" "$@")
    set_poll 30
    p=$(run "$via" "$MPIOD_PID" "$@")
    set_poll 0
    local base
    if [ "$mibs" = 1 ]; then base=$(echo "$d" | cut -d' ' -f2); else base=${d%% *}; fi
    report "$name" direct "$mibs" "$base" "$d"
    report "$name" mpiod "$mibs" "$base" "$v"
    report "$name" mpiod+poll30 "$mibs" "$base" "$p"
    [ -z "$a" ] || report "$name" "${ALT_NAME:-mpiod-alt}" "$mibs" "$base" "$a"
    report "$name" byte-pump "$mibs" "$base" "$b"
    report "$name" nbdkit-relay "$mibs" "$base" "$r"
}
workload "4k randread QD32" 0 --rw=randread --bs=4k --iodepth=32
workload "4k randwrite QD32" 0 --rw=randwrite --bs=4k --iodepth=32
workload "4k randread QD1" 0 --rw=randread --bs=4k --iodepth=1
workload "1M seq write QD8" 1 --rw=write --bs=1M --iodepth=8
echo "(cpu/IO and sys/IO are the relay's own: mpiod, byte-pump or the nbdkit relay; direct"
echo " has none; ceiling = 1 s / cpu per I/O, the single-thread saturation point)"
echo "what system calls cost here (bench/syscall_cost.cpp):"
"$T/syscall_cost"
