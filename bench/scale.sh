#!/bin/bash
# Prints figures for mpiod at scale: N LUs x 4 paths (default 512) on 4 nbdkit servers,
# mpiod started under a soft open-file limit of 1024. Figures: time until every path is
# active, RSS, `mpiod-ctl list paths` and `--json list lus` latency, then one server killed
# (a lost portal, N connections reset at once): time until every LU shows that path down,
# while fio reads a sampled LU (errors, max latency). No asserts. Usage:
# bench/scale.sh [LUs, default 512]
# The servers share one image file (nbdkit's file plugin), so every path of an LU sees the
# same data, as multipath requires; they run with the shell's hard limit (a server holds a
# socket and a file per connection).
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="/usr/bin:$PATH" # the system python3 (a pyenv shim costs a fork storm per poll)
LUS=${1:-512}
SERVERS=4
source bench/lib.sh
NEED_CTL=1 bench_start mpiod-scale

now_ms() { echo $(($(date +%s%N) / 1000000)); }
ctl() { "$CTL" --socket "$T/control.sock" "$@"; }
# count_paths STATE [PREFIX]: paths in STATE whose id starts with PREFIX.
count_paths() {
    ctl --json --fields id,state list paths | python3 -c '
import json, sys
want, prefix = sys.argv[1], sys.argv[2]
print(sum(1 for p in json.load(sys.stdin) if p["state"] == want and p["id"].startswith(prefix)))' \
        "$1" "${2:-}"
}
# poll_until LIMIT_S COMMAND...: polls without sleeping (the figure is the time itself).
poll_until() {
    local deadline=$(($(now_ms) + $1 * 1000)); shift
    until "$@"; do [ "$(now_ms)" -lt $deadline ] || return 1; done
}
all_active() { [ "$(count_paths active)" -eq $((LUS * SERVERS)) ]; }
none_active_on() { [ "$(count_paths active "$1-")" -eq 0 ]; }
# ctl_ms ARGS...: median wall time of 7 runs of mpiod-ctl ARGS, and the CPU time per run
# of mpiod-ctl and of the daemon (its utime+stime over the runs; idle ticks included).
ctl_ms() {
    python3 - "$mpiod" "$CTL" --socket "$T/control.sock" "$@" <<'PY'
import os, resource, subprocess, sys, time
pid, cmd = sys.argv[1], sys.argv[2:]
tick = os.sysconf("SC_CLK_TCK")
def daemon_cpu():
    f = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(f[11]) + int(f[12])) / tick
walls = []
r0, d0 = resource.getrusage(resource.RUSAGE_CHILDREN), daemon_cpu()
for _ in range(7):
    t = time.perf_counter()
    subprocess.run(cmd, stdout=subprocess.DEVNULL, check=True)
    walls.append((time.perf_counter() - t) * 1000)
r1, d1 = resource.getrusage(resource.RUSAGE_CHILDREN), daemon_cpu()
ctl = (r1.ru_utime + r1.ru_stime - r0.ru_utime - r0.ru_stime) / 7 * 1000
print(f"{sorted(walls)[3]:.1f} ms (median of 7); CPU per call: mpiod-ctl {ctl:.1f} ms, "
      f"mpiod {(d1 - d0) / 7 * 1000:.1f} ms")
PY
}

truncate -s 64M "$T/lun.img"
for s in $(seq 0 $((SERVERS - 1))); do
    # --threads=1: no worker threads per connection (16 by default: 32k threads in all).
    nbdkit -f --exit-with-parent --threads=1 -U "$T/s$s.sock" file "$T/lun.img" 2>"$T/s$s.log" &
    pids+=("$!")
    eval "server_$s=$!"
done
for s in $(seq 0 $((SERVERS - 1))); do wait_socket "$T/s$s.sock" 400; done

{
    echo "log_level: warn"
    echo "control_socket: $T/control.sock"
    echo "export: { dir: $T/run, kind: socket }"
    # The default checker interval (2 s): a fast failure comes from the socket watch.
    echo "defaults: { policy: service-time }"
    echo "paths:"
    for l in $(seq 0 $((LUS - 1))); do
        for s in $(seq 0 $((SERVERS - 1))); do
            echo "  - { id: s$s-lu$l, uri: \"nbd+unix:///?socket=$T/s$s.sock\", wwid: scale$l }"
        done
    done
    echo "lus:"
    for l in $(seq 0 $((LUS - 1))); do echo "  - { wwid: scale$l, alias: lu$l }"; done
} >"$T/mpiod.yaml"

echo "mpiod: $LUS LUs x $SERVERS paths, soft open-file limit 1024"
start=$(now_ms)
(ulimit -Sn 1024 && exec "$MPIOD" --config "$T/mpiod.yaml") 2>"$T/mpiod.log" &
mpiod=$!
pids+=("$mpiod")
until [ -S "$T/control.sock" ]; do
    kill -0 $mpiod 2>/dev/null || { echo "mpiod exited:"; tail -5 "$T/mpiod.log"; exit 1; }
    sleep 0.01
done
if poll_until 60 all_active; then
    echo "all $((LUS * SERVERS)) paths active:        $(($(now_ms) - start)) ms after start"
else
    echo "not all paths active after 60 s: $(count_paths active) active"
fi
echo "Too many open files lines:      $(grep -c 'Too many open files' "$T/mpiod.log" || true)"
echo "RSS:                            $(awk '/VmRSS/ {printf "%.1f MB", $2 / 1024}' /proc/$mpiod/status)"
echo "mpiod-ctl list paths:           $(ctl_ms list paths)"
echo "mpiod-ctl --json list lus:      $(ctl_ms --json list lus)"

# fio reads lu0 across the loss of server s0 (one of lu0's paths).
fio --name=sample --ioengine=nbd --uri="nbd+unix:///?socket=$T/run/lu0.sock" --rw=randread \
    --bs=4k --iodepth=8 --size=64M --time_based --runtime=4 --output-format=json \
    --output="$T/fio.json" >/dev/null 2>&1 &
fio=$!
sleep 1 # let fio reach steady state on all four paths before the loss
# Timed from mpiod's log, not by polling mpiod-ctl: each poll would list 2,048 paths on the
# daemon's event loop and add its own latency to fio's I/O.
failed_on_s0() { [ "$(grep -c 'path s0-[^ ]* (.*) failed' "$T/mpiod.log")" -ge "$LUS" ]; }
start=$(now_ms)
{ kill -9 "$server_0" && wait "$server_0"; } 2>/dev/null || true
if poll_until 30 failed_on_s0; then
    echo "server s0 killed: $LUS s0 paths failed after $(($(now_ms) - start)) ms (log polled)"
else
    echo "server s0 killed: $(grep -c 'path s0-[^ ]* (.*) failed' "$T/mpiod.log") of $LUS s0 paths failed after 30 s"
fi
python3 - "$T/mpiod.log" "$start" <<'PY'
import datetime, re, sys
last = None
for line in open(sys.argv[1]):
    m = re.match(r"(\S+ \S+) .*path s0-\S+ \(.*\) failed", line)
    if m:
        last = datetime.datetime.strptime(m.group(1), "%Y-%m-%d %H:%M:%S.%f").timestamp()
if last is not None:
    print(f"  the last one logged at:       {last * 1000 - int(sys.argv[2]):.0f} ms after the kill")
PY
fio_rc=0
wait $fio || fio_rc=$?
# Only now: a listing of 2,048 paths while fio runs would show up in fio's latency.
echo "  s0 paths still active per mpiod-ctl after fio: $(count_paths active s0-)"
python3 - "$T/fio.json" "$fio_rc" <<'PY'
import json, sys
text = open(sys.argv[1]).read()
j = json.loads(text[text.index("{"):])["jobs"][0]  # fio's nbd engine prints a line first
r = j["read"]
print(f'fio on lu0 across the loss:     {j["error"]} errors (exit {sys.argv[2]}), '
      f'{r["total_ios"]} reads, max latency {r["lat_ns"]["max"] / 1e6:.1f} ms, '
      f'p99.9 {r["clat_ns"]["percentile"]["99.900000"] / 1e6:.1f} ms, '
      f'mean {r["lat_ns"]["mean"] / 1e3:.0f} us')
PY
