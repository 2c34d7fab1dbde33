#!/bin/bash
# Prints fio figures for an nbdkit memory disk read directly and through mpiod with one
# path, and their ratio: 4k random read QD32, 4k random read QD1 (latency), 1M
# sequential write; mpiod with and without busy polling (busy_poll_us: 30). Usage:
# bench/fio-nbd.sh [seconds per run, default 10]
# Needs a release build (scripts/build.sh release).
set -euo pipefail
cd "$(dirname "$0")/.."
RUNTIME=${1:-10}
source bench/lib.sh
bench_start

nbdkit -f --exit-with-parent -U "$T/p.sock" memory 1G 2>/dev/null &
pids+=("$!")
wait_socket "$T/p.sock"
cat >"$T/mpiod.yaml" <<YAML
log_level: warn
control_socket: $T/control.sock
export: { dir: $T/run }
paths: [ { id: p, uri: "nbd+unix:///?socket=$T/p.sock", wwid: bench0 } ]
lus: [ { wwid: bench0, alias: bench } ]
YAML
"$MPIOD" --config "$T/mpiod.yaml" 2>"$T/mpiod.log" &
pids+=("$!")
wait_socket "$T/run/bench.sock"

direct="nbd+unix:///?socket=$T/p.sock"
via="nbd+unix:///?socket=$T/run/bench.sock"
# Fill the memory disk so reads touch allocated pages.
nbdcopy -- [ nbdkit pattern 1G ] "$direct"

# run URI NAME fio-args... -> prints "iops lat_us bw_MiBs"
run() {
    local uri=$1; shift
    fio --name=b --ioengine=nbd --uri="$uri" --time_based --runtime="$RUNTIME" --ramp_time=1 \
        --size=1G --output-format=json "$@" >"$T/out.json"
    python3 - "$T/out.json" <<'PY'
import json, sys
text = open(sys.argv[1]).read()
j = json.loads(text[text.index("{"):])["jobs"][0]  # fio's nbd engine prints a line first
d = j["read"] if j["read"]["io_bytes"] > 0 else j["write"]
print(f'{d["iops"]:.0f} {d["clat_ns"]["mean"] / 1000:.1f} {d["bw_bytes"] / 2**20:.1f}')
PY
}

# Each workload runs direct, through mpiod, and through mpiod with busy polling (the
# daemon's busy_poll_us, switched by a live reload).
poll_now=0
set_poll() { # MICROSECONDS
    [ "$1" = "$poll_now" ] && return 0
    poll_now=$1
    sed -i '/^busy_poll_us:/d' "$T/mpiod.yaml"
    echo "busy_poll_us: $1" >>"$T/mpiod.yaml"
    kill -HUP "${pids[1]}"
    for _ in $(seq 100); do
        grep -q "reload: busy_poll_us $1" "$T/mpiod.log" && return 0
        sleep 0.05
    done
    echo "mpiod did not take busy_poll_us $1" >&2
    exit 1
}
sed -i 's/^log_level: warn/log_level: info/' "$T/mpiod.yaml"
kill -HUP "${pids[1]}"

printf '%-26s %10s %10s %7s %12s %7s\n' "workload" "direct" "mpiod" "ratio" "mpiod+poll" "ratio"
report() { # NAME UNIT DIRECT VIA VIA_POLL
    python3 - "$@" <<'PY'
import sys
name, unit, d, v, p = sys.argv[1], sys.argv[2], *map(float, sys.argv[3:6])
u = unit[:2]
extra = f"  (+{v - d:.1f} / +{p - d:.1f} us)" if unit == "us" else ""
print(f"{name:<26} {d:>8.1f}{u:>2} {v:>8.1f}{u:>2} {v / d:>6.2f}x {p:>10.1f}{u:>2} {p / d:>6.2f}x{extra}")
PY
}
workload() { # FIELD(1 iops, 2 lat, 3 bw) fio-args...: prints direct via via-poll
    local field=$1; shift
    local d v p
    set_poll 0
    d=$(run "$direct" "$@" | cut -d' ' -f"$field")
    v=$(run "$via" "$@" | cut -d' ' -f"$field")
    set_poll 30
    p=$(run "$via" "$@" | cut -d' ' -f"$field")
    echo "$d $v $p"
}
read -r d v p < <(workload 1 --rw=randread --bs=4k --iodepth=32)
report "4k randread QD32 IOPS" "" "$d" "$v" "$p"
qd1() { run "$1" --rw=randread --bs=4k --iodepth=1; }
set_poll 0
read -r d_iops d_lat _ < <(qd1 "$direct")
read -r v_iops v_lat _ < <(qd1 "$via")
set_poll 30
read -r p_iops p_lat _ < <(qd1 "$via")
report "4k randread QD1 IOPS" "" "$d_iops" "$v_iops" "$p_iops"
report "4k randread QD1 latency" "us" "$d_lat" "$v_lat" "$p_lat"
read -r d v p < <(workload 3 --rw=write --bs=1M --iodepth=8)
report "1M seq write MiB/s" "" "$d" "$v" "$p"
