#!/usr/bin/env bash
# The NBD export server against real clients: nbdinfo reports the advertised geometry, nbdcopy
# round-trips 8 MiB of random data through it, and fio's nbd engine runs a verified random
# read/write workload without errors. The server is mpiod-test-serve-memory (a MemoryTarget).
set -euo pipefail

build_dir=${MPIOD_BUILD_DIR:?MPIOD_BUILD_DIR must name the build directory}
server_bin=$build_dir/tests/unit/exports/nbd/mpiod-test-serve-memory

for tool in nbdinfo nbdcopy fio python3 cmp; do
    if ! command -v "$tool" >/dev/null; then
        echo "SKIP: $tool is not installed"
        exit 77
    fi
done
if ! fio --enghelp=nbd >/dev/null 2>&1; then
    echo "SKIP: this fio has no nbd ioengine"
    exit 77
fi
if [[ ! -x $server_bin ]]; then
    echo "FAIL: $server_bin is missing (build the mpiod-test-serve-memory target)"
    exit 1
fi

tmp=$(mktemp -d /tmp/mpiod-export-tools.XXXXXX)
server_pid=
cleanup() {
    if [[ -n $server_pid ]]; then
        kill "$server_pid" 2>/dev/null || true
        wait "$server_pid" 2>/dev/null || true
    fi
    rm -rf "$tmp"
}
trap cleanup EXIT

sock=$tmp/memory.sock
uri="nbd+unix:///?socket=$sock"
size=$((8 << 20))

timeout --foreground 300 "$server_bin" "$sock" 8M >"$tmp/server.log" 2>&1 &
server_pid=$!
for _ in $(seq 100); do
    [[ -S $sock ]] && break
    if ! kill -0 "$server_pid" 2>/dev/null; then
        echo "FAIL: the server exited early:"; cat "$tmp/server.log"; exit 1
    fi
    sleep 0.1
done
[[ -S $sock ]] || { echo "FAIL: no socket after 10 s"; cat "$tmp/server.log"; exit 1; }

echo "== nbdinfo --json"
timeout 30 nbdinfo --json "$uri" >"$tmp/info.json"
python3 - "$tmp/info.json" "$size" <<'EOF'
import json, sys
info = json.load(open(sys.argv[1]))
export = info["exports"][0]
expected = {"export-size": int(sys.argv[2]), "can_flush": True, "can_fua": True,
            "can_trim": True, "can_zero": True, "is_read_only": False,
            "block_size_preferred": 4096}
wrong = {k: (export.get(k), v) for k, v in expected.items() if export.get(k) != v}
if wrong:
    sys.exit(f"FAIL: nbdinfo reports (got, expected): {wrong}")
print("nbdinfo: geometry and flags as advertised")
EOF

echo "== nbdcopy in and out"
head -c "$size" /dev/urandom >"$tmp/in.img"
timeout 60 nbdcopy "$tmp/in.img" "$uri"
timeout 60 nbdcopy "$uri" "$tmp/out.img"
cmp "$tmp/in.img" "$tmp/out.img"
echo "nbdcopy: 8 MiB came back identical"

echo "== fio randrw with crc32c verification"
timeout 120 fio --name=export-verify --ioengine=nbd --uri="$uri" --rw=randrw --bs=4k \
    --iodepth=32 --size=8M --verify=crc32c --do_verify=1 --output-format=json \
    --output="$tmp/fio.json"
python3 - "$tmp/fio.json" <<'EOF'
import json, sys
job = json.load(open(sys.argv[1]))["jobs"][0]
if job["error"] != 0:
    sys.exit(f"FAIL: fio reports error {job['error']}")
done = job["read"]["total_ios"] + job["write"]["total_ios"]
if done == 0:
    sys.exit("FAIL: fio did no I/O")
print(f"fio: {done} I/Os, no errors")
EOF

# The server must still be alive (no crash from any of the clients) and stop cleanly.
kill -0 "$server_pid"
kill "$server_pid"
wait "$server_pid"
server_pid=
[[ ! -e $sock ]] || { echo "FAIL: the socket file outlived the server"; exit 1; }
echo "PASS"
