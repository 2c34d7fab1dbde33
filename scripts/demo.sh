#!/bin/bash
# The README's demo: installs dependencies, builds, serves one disk image over three
# nbdkit paths, runs mpiod on an embedded configuration, shows the paths, writes and
# verifies data while one path is killed, and cleans up.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
MPIOD_BUILD_TESTS=OFF scripts/build.sh release # the daemon and mpiod-ctl are all it needs

T=$(mktemp -d /tmp/mpiod-demo.XXXXXX)
pids=()
cleanup() {
    for p in "${pids[@]:-}"; do kill "$p" 2>/dev/null || true; done
    wait 2>/dev/null || true
    rm -rf "$T"
}
trap cleanup EXIT
step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
wait_socket() {
    for _ in $(seq 200); do nbdinfo --size "nbd+unix:///?socket=$1" >/dev/null 2>&1 && return 0; sleep 0.05; done
    echo "demo: $1 did not come up" >&2; return 1
}

step "one 256 MiB LU, served by three nbdkit path servers"
truncate -s 256M "$T/lun.img"
for p in a b c; do
    nbdkit -f --exit-with-parent -U "$T/$p.sock" file "$T/lun.img" 2>/dev/null &
    pids+=("$!"); declare "pid_$p=$!"
    wait_socket "$T/$p.sock"
done

cat >"$T/mpiod.yaml" <<YAML
control_socket: $T/control.sock
export:
  dir: $T/run
  kind: socket
defaults:
  policy: service-time
  io_timeout: 2s
  checker_interval: 1s
  no_path_retry: 30s
paths:
  - { id: a, uri: "nbd+unix:///?socket=$T/a.sock", wwid: 36001405d3m0d3m0 }
  - { id: b, uri: "nbd+unix:///?socket=$T/b.sock", wwid: 36001405d3m0d3m0 }
  - { id: c, uri: "nbd+unix:///?socket=$T/c.sock", wwid: 36001405d3m0d3m0 }
lus:
  - { wwid: 36001405d3m0d3m0, alias: demo0 }
YAML
step "mpiod with this configuration"
cat "$T/mpiod.yaml"
build/daemon/mpiod --config "$T/mpiod.yaml" 2>"$T/mpiod.log" &
mpiod_pid=$!
pids+=("$mpiod_pid")
wait_socket "$T/run/demo0.sock"
ctl() { build/ctl/mpiod-ctl --socket "$T/control.sock" "$@"; }
uri="nbd+unix:///?socket=$T/run/demo0.sock"

step "mpiod-ctl list lus / list paths"
ctl list lus
ctl list paths

step "writing 128 MiB of random data through mpiod (fio, crc32c), killing path a half-way"
# Rate-limited to ~2 s of writes so the kill lands in the middle of them.
fio --name=demo --ioengine=nbd --uri="$uri" --rw=randwrite --bs=16k --iodepth=16 --size=128M \
    --rate_iops=4000 \
    --verify=crc32c --do_verify=1 --verify_fatal=1 --verify_state_save=0 --output="$T/fio.txt" &
fio_pid=$!
for _ in $(seq 400); do
    ios=$(ctl --json list paths | python3 -c 'import json,sys; print(sum(p["ios"] for p in json.load(sys.stdin)))')
    [ "$ios" -gt 3000 ] && break; sleep 0.05
done
kill -9 "$pid_a"
echo "path a's server killed (SIGKILL)"
if wait $fio_pid; then
    grep -E "err=|WRITE:|READ:|clat \(usec\)|clat \(msec\)" "$T/fio.txt"
    echo "fio verified every block: no error reached the application"
else
    cat "$T/fio.txt"; echo "demo: fio reported errors" >&2; exit 1
fi

step "mpiod-ctl list paths (path a failed, I/O carried on by b and c)"
ctl list paths

step "checksums: image file vs what mpiod serves"
nbdcopy "$uri" "$T/copy.img"
sha256sum "$T/lun.img" "$T/copy.img"
cmp "$T/lun.img" "$T/copy.img" && echo "identical"

step "path a's server returns; the checker reinstates it"
rm -f "$T/a.sock"
nbdkit -f --exit-with-parent -U "$T/a.sock" file "$T/lun.img" 2>/dev/null &
pids+=("$!")
path_a_state() {
    ctl --json list paths | python3 -c 'import json,sys; print([p["state"] for p in json.load(sys.stdin) if p["id"] == "a"][0])'
}
for _ in $(seq 200); do
    [ "$(path_a_state)" = active ] && break
    sleep 0.05
done
ctl list paths

step "stopping mpiod (SIGTERM drains and flushes)"
kill -TERM "$mpiod_pid"
wait "$mpiod_pid" && echo "mpiod exited cleanly"
echo; echo "demo done"
