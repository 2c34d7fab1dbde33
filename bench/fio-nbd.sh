#!/bin/bash
# Prints fio figures for an nbdkit memory disk read directly and through mpiod with one
# path, and their ratio: 4k random read QD32, 4k random read QD1 (latency), 1M
# sequential write. Usage: bench/fio-nbd.sh [seconds per run, default 10]
# Needs a release build (scripts/build.sh release).
set -euo pipefail
cd "$(dirname "$0")/.."
RUNTIME=${1:-10}
MPIOD=${MPIOD:-build/daemon/mpiod}
[ -x "$MPIOD" ] || { echo "build first: scripts/build.sh release" >&2; exit 1; }
T=$(mktemp -d /tmp/mpiod-bench.XXXXXX)
pids=()
trap 'for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null; rm -rf "$T"' EXIT

wait_socket() {
    for _ in $(seq 200); do nbdinfo --size "nbd+unix:///?socket=$1" >/dev/null 2>&1 && return 0; sleep 0.05; done
    echo "$1 did not come up" >&2; exit 1
}

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

printf '%-28s %12s %12s %8s\n' "workload" "direct" "via mpiod" "ratio"
report() { # NAME UNIT DIRECT VIA [lower-is-better]
    python3 - "$@" <<'PY'
import sys
name, unit, d, v = sys.argv[1], sys.argv[2], float(sys.argv[3]), float(sys.argv[4])
extra = f"  (+{v - d:.1f} us)" if unit == "us" else ""
print(f"{name:<28} {d:>10.1f}{unit[:2]:>2} {v:>10.1f}{unit[:2]:>2} {v / d:>7.2f}x{extra}")
PY
}
read -r d_iops d_lat _ < <(run "$direct" --rw=randread --bs=4k --iodepth=32)
read -r v_iops v_lat _ < <(run "$via" --rw=randread --bs=4k --iodepth=32)
report "4k randread QD32 IOPS" "" "$d_iops" "$v_iops"
read -r d_iops d_lat _ < <(run "$direct" --rw=randread --bs=4k --iodepth=1)
read -r v_iops v_lat _ < <(run "$via" --rw=randread --bs=4k --iodepth=1)
report "4k randread QD1 IOPS" "" "$d_iops" "$v_iops"
report "4k randread QD1 latency" "us" "$d_lat" "$v_lat"
read -r _ _ d_bw < <(run "$direct" --rw=write --bs=1M --iodepth=8)
read -r _ _ v_bw < <(run "$via" --rw=write --bs=1M --iodepth=8)
report "1M seq write MiB/s" "" "$d_bw" "$v_bw"
