#!/bin/bash
# Would a second engine thread (a second shard, README "Past one core") gain anything on this
# machine? Two LUs, each on its own nbdkit memory disk, read by two fio jobs at once (4k random
# reads, QD32 each), served
#   one      by one mpiod: one event-loop thread carries both LUs (what mpiod is today);
#   two      by two mpiod processes, one LU each: what two shards could be at best, with
#            nothing shared between them.
# Run alternately (one, two, one, two, ...) so both see the same machine. Prints per run the
# two jobs' IOPS together, mpiod's CPU time and system calls per I/O (all its processes; calls
# when perf can count them), and at the end the median ratio two / one. A ratio near 1 means the cores are taken by fio and nbdkit and a
# second engine thread would have none of its own. No asserts.
# Usage: bench/shard-proxy.sh [seconds per run, default 8] [pairs of runs, default 3]
set -euo pipefail
cd "$(dirname "$0")/.."
RUNTIME=${1:-8}
PAIRS=${2:-3}
source bench/lib.sh
bench_start mpiod-shards

for i in 0 1; do
    nbdkit -f --exit-with-parent -U "$T/d$i.sock" memory 1G 2>/dev/null &
    pids+=("$!")
    wait_socket "$T/d$i.sock"
    nbdcopy -- [ nbdkit pattern 1G ] "nbd+unix:///?socket=$T/d$i.sock"
done

# config NAME LU...: an mpiod config serving the given LUs (0, 1), its files named $T/NAME*.
config() {
    local name=$1 i; shift
    {
        echo "log_level: info"
        echo "control_socket: $T/$name-control.sock"
        echo "export: { dir: $T/$name-run }"
        echo "paths:"
        for i in "$@"; do echo "  - { id: p$i, uri: \"nbd+unix:///?socket=$T/d$i.sock\", wwid: w$i }"; done
        echo "lus:"
        for i in "$@"; do echo "  - { wwid: w$i, alias: lu$i }"; done
    } >"$T/$name.yaml"
}
start() { # NAME: starts mpiod on $T/NAME.yaml (its pid in $!)
    "$MPIOD" --config "$T/$1.yaml" 2>"$T/$1.log" &
    pids+=("$!")
}
config both 0 1
config only0 0
config only1 1
start both
ONE=("$!")
start only0
TWO=("$!")
start only1
TWO+=("$!")
wait_socket "$T/both-run/lu0.sock"
wait_socket "$T/both-run/lu1.sock"
wait_socket "$T/only0-run/lu0.sock"
wait_socket "$T/only1-run/lu1.sock"

PERF=0
if calls_countable; then PERF=1; fi

# run URI0 URI1 PID... -> "iops cpu_us_per_io calls_per_io": both jobs at once; CPU and system
# calls of the given daemons.
run() {
    local u0=$1 u1=$2; shift 2
    local p t0=0 t1=0 calls=0
    for p in "$@"; do t0=$((t0 + $(cpu_ticks "$p"))); done
    [ "$PERF" = 0 ] || calls_start "$(IFS=,; echo "$*")"
    fio --ioengine=nbd --time_based --runtime="$RUNTIME" --size=1G --rw=randread --bs=4k \
        --iodepth=32 --group_reporting --output-format=json \
        --name=j0 --uri="$u0" --name=j1 --uri="$u1" >"$T/out.json"
    for p in "$@"; do t1=$((t1 + $(cpu_ticks "$p"))); done
    [ "$PERF" = 0 ] || { calls_stop; calls=$CALLS; }
    python3 - "$T/out.json" $((t1 - t0)) "$(getconf CLK_TCK)" "${calls:-0}" <<'PY'
import json, sys
text = open(sys.argv[1]).read()
j = json.loads(text[text.index("{"):])["jobs"][0]  # group_reporting: one entry for both
ios = j["read"]["total_ios"]
calls = f'{int(sys.argv[4]) / ios:.2f}' if int(sys.argv[4]) else "-"
print(f'{j["read"]["iops"]:.0f} {int(sys.argv[2]) / int(sys.argv[3]) / ios * 1e6:.1f} {calls}')
PY
}

uri() { echo "nbd+unix:///?socket=$T/$1-run/lu$2.sock"; }
printf "%-4s %-5s %10s %12s %8s\n" run via IOPS cpu/IO sys/IO
ratios=()
for n in $(seq "$PAIRS"); do
    read -r one_iops one_cpu one_calls < <(run "$(uri both 0)" "$(uri both 1)" "${ONE[@]}")
    read -r two_iops two_cpu two_calls < <(run "$(uri only0 0)" "$(uri only1 1)" "${TWO[@]}")
    printf '%-4s %-5s %10s %10sus %8s\n' "$n" one "$one_iops" "$one_cpu" "$one_calls"
    printf '%-4s %-5s %10s %10sus %8s\n' "$n" two "$two_iops" "$two_cpu" "$two_calls"
    ratios+=("$(python3 -c "print($two_iops / $one_iops)")")
done
python3 - "${ratios[@]}" <<'PY'
import statistics, sys
r = sorted(float(x) for x in sys.argv[1:])
print(f"two / one, IOPS: median {statistics.median(r):.2f}x (runs: {', '.join(f'{x:.2f}' for x in r)})")
PY
echo "(one: one mpiod, one event-loop thread, both LUs; two: one mpiod per LU, the best two"
echo " shards could do; cpu/IO and sys/IO are mpiod's, all its processes, over both jobs' I/Os)"
