#!/usr/bin/env bash
# Block status through mpiod: an LU over two nbdkit paths serving a sparse image maps like
# the path itself (nbdinfo --map, qemu-img map), and nbdcopy of a 1 GiB LU holding 16 MiB of
# data, started as soon as mpiod's socket answers, reads about those 16 MiB from the paths,
# not the whole gigabyte, and copies it right.
source "$(dirname "$0")/lib.sh"
require nbdkit nbdinfo nbdcopy qemu-img python3 cmp

# ---- a sparse 64 MiB image: data at 8 MiB (1 MiB), 32 MiB (64 KiB) and the last 4 KiB ----
img=$T/sparse.img
truncate -s 64M "$img"
dd if=/dev/urandom of="$img" bs=64K seek=128 count=16 conv=notrunc status=none
dd if=/dev/urandom of="$img" bs=64K seek=512 count=1 conv=notrunc status=none
dd if=/dev/urandom of="$img" bs=4K seek=16383 count=1 conv=notrunc status=none
start_path a "$img"
start_path b "$img"
write_config "$T/mpiod.yaml" a b
start_mpiod "$T/mpiod.yaml"
wait_for 10 path_is b active || fail "path b not active"
direct="nbd+unix:///?socket=$T/a.sock"

# same_map KIND FILE1 FILE2: the two maps describe the same extents once neighbours of one
# kind are merged (servers may split an extent where they like).
same_map() {
    python3 - "$@" <<'PY'
import json, sys
kind, first, second = sys.argv[1:]
def load(path):
    out = []
    if kind == "nbdinfo":
        for line in open(path):
            start, length, flags = (int(x) for x in line.split()[:3])
            out.append([start, length, flags])
    else:
        for e in json.load(open(path)):
            out.append([e["start"], e["length"], (e["zero"], e["data"])])
    merged = []
    for start, length, what in out:
        if merged and merged[-1][2] == what and merged[-1][0] + merged[-1][1] == start:
            merged[-1][1] += length
        else:
            merged.append([start, length, what])
    return merged
a, b = load(first), load(second)
if a != b:
    sys.exit(f"FAIL: {kind} maps differ:\n  lu:     {a}\n  direct: {b}")
holes = [e for e in a if e[2] in (3, (True, False))]
if not holes:
    sys.exit(f"FAIL: {kind} shows no hole at all: {a}")
print(f"{kind}: {len(a)} extents, {len(holes)} holes, same as the path")
PY
}

log "nbdinfo --map: the LU against the path"
timeout 60 nbdinfo --map "$(LU_URI)" >"$T/lu.map"
timeout 60 nbdinfo --map "$direct" >"$T/direct.map"
same_map nbdinfo "$T/lu.map" "$T/direct.map"

log "qemu-img map: the LU against the path"
timeout 60 qemu-img map --output=json -f raw "$(LU_URI)" >"$T/lu.json"
timeout 60 qemu-img map --output=json -f raw "$direct" >"$T/direct.json"
same_map qemu-img "$T/lu.json" "$T/direct.json"

# ---- nbdcopy of a 1 GiB LU with 16 MiB of data -------------------------------------------
log "nbdcopy of a 1 GiB LU holding 16 MiB"
ctl shutdown >/dev/null 2>&1 || true
wait_for 15 process_gone "$MPIOD_PID" || fail "mpiod did not stop"
kill_path a
kill_path b
big=$T/big.img
truncate -s 1G "$big"
for at in 1 100 333 512 700 900 1000 1020; do # 8 x 2 MiB = 16 MiB, in MiB
    dd if=/dev/urandom of="$big" bs=1M seek="$at" count=2 conv=notrunc status=none
done
start_path a "$big"
start_path b "$big"
# nbdcopy starts as soon as the LU's socket answers, while path b may still be opening: block
# status must be answered from the first moment, not only once every path is up.
start_mpiod "$T/mpiod.yaml"
lu_bytes_read() {
    ctl --json show lu lu0 | python3 -c 'import json, sys; print(json.load(sys.stdin)["bytes_read"])'
}
before=$(lu_bytes_read)
timeout 120 nbdcopy "$(LU_URI)" "$T/copy.img"
read_bytes=$(($(lu_bytes_read) - before))
cmp "$big" "$T/copy.img" || fail "the copy differs from the image"
echo "nbdcopy read $read_bytes bytes through mpiod for 16 MiB of data in 1 GiB"
# The data, plus whatever a client rounds up to its request size: far below the gigabyte.
[ "$read_bytes" -ge $((16 << 20)) ] || fail "read $read_bytes bytes: less than the data"
[ "$read_bytes" -le $((48 << 20)) ] || fail "read $read_bytes bytes: holes were read too"
log "PASS"
