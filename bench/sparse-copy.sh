#!/bin/bash
# Prints time and bytes read for nbdcopy of a sparse disk (SIZE, default 1G, holding 16 MiB of
# data in 8 runs of 2 MiB) straight from an nbdkit file path and through mpiod over two such
# paths: with block status passed through, both read about the data, not the whole disk.
# Bytes read: nbdkit's stats filter on the direct server (written when it exits, in its
# rounded units) and the LU's bytes_read (mpiod).
# Usage: bench/sparse-copy.sh [SIZE]. Needs a build (scripts/build.sh release).
set -euo pipefail
cd "$(dirname "$0")/.."
SIZE=${1:-1G}
source bench/lib.sh
bench_start

truncate -s "$SIZE" "$T/disk.img"
mib=$(($(stat -c %s "$T/disk.img") >> 20))
for i in 0 1 2 3 4 5 6 7; do
    dd if=/dev/urandom of="$T/disk.img" bs=1M seek=$((i * (mib - 2) / 7)) count=2 conv=notrunc \
        status=none
done
for p in a b; do
    nbdkit -f --exit-with-parent -U "$T/$p.sock" file "$T/disk.img" 2>/dev/null &
    pids+=("$!")
    wait_socket "$T/$p.sock"
done
nbdkit -f --exit-with-parent -U "$T/direct.sock" --filter=stats file "$T/disk.img" \
    statsfile="$T/direct.stats" 2>/dev/null &
direct_pid=$!
pids+=("$direct_pid")
wait_socket "$T/direct.sock"
cat >"$T/mpiod.yaml" <<YAML
log_level: warn
control_socket: $T/control.sock
export: { dir: $T/run }
paths:
  - { id: a, uri: "nbd+unix:///?socket=$T/a.sock", wwid: bench0 }
  - { id: b, uri: "nbd+unix:///?socket=$T/b.sock", wwid: bench0 }
lus: [ { wwid: bench0, alias: bench } ]
YAML
"$MPIOD" --config "$T/mpiod.yaml" 2>"$T/mpiod.log" &
pids+=("$!")
wait_socket "$T/run/bench.sock"

# nbdkit's stats filter writes "read: N ops, T s, X.XX MiB, ..." when it exits.
direct_read_bytes() {
    kill "$direct_pid"
    wait "$direct_pid" 2>/dev/null || true
    python3 - "$T/direct.stats" <<'PY'
import re, sys
units = {"B": 1, "KiB": 2**10, "MiB": 2**20, "GiB": 2**30}
for line in open(sys.argv[1]):
    m = re.match(r"read: \d+ ops, [\d.]+ s, ([\d.]+) (\w+)", line)
    if m:
        print(int(float(m[1]) * units[m[2]]))
        break
else:
    print(0)
PY
}
lu_read_bytes() {
    "$CTL" --socket "$T/control.sock" --json show lu bench |
        python3 -c 'import json, sys; print(json.load(sys.stdin)["bytes_read"])'
}

copy() { # URI -> prints seconds
    rm -f "$T/out.img"
    local start end
    start=$(date +%s.%N)
    nbdcopy "$1" "$T/out.img"
    end=$(date +%s.%N)
    cmp "$T/disk.img" "$T/out.img" || { echo "copy of $1 differs" >&2; exit 1; }
    python3 -c "print(f'{$end - $start:.2f}')"
}

t_direct=$(copy "nbd+unix:///?socket=$T/direct.sock")
direct_bytes=$(direct_read_bytes)
before_lu=$(lu_read_bytes)
t_mpiod=$(copy "nbd+unix:///?socket=$T/run/bench.sock")
mpiod_bytes=$(($(lu_read_bytes) - before_lu))
echo "sparse copy of $SIZE holding 16 MiB (nbdcopy to a file, 2 cores)"
printf '%-8s %8s s %12s bytes read (%s MiB)\n' direct "$t_direct" "$direct_bytes" $((direct_bytes >> 20))
printf '%-8s %8s s %12s bytes read (%s MiB)\n' mpiod "$t_mpiod" "$mpiod_bytes" $((mpiod_bytes >> 20))
