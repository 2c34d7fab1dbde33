#!/bin/bash
# What a hung or killed path costs the application: 4 path servers on one image (nbdkit, or
# with `iscsi` 4 tgtd processes exporting one backing file with one identity), mpiod with
# default settings, fio 4k (and 64k) random writes with crc32c verification at QD16.
# During each run one path server is stopped (SIGSTOP) for 5 s, or killed (kill -9). Prints
# fio's slowest I/O, its errors and verify errors, mpiod's CPU per I/O, and the same with
# early hang detection off (suspect_after: 0), so the gain is visible.
# Usage: bench/hung-path.sh [seconds per run, default 20] [nbd|iscsi]. Needs a release build.
set -euo pipefail
cd "$(dirname "$0")/.."
RUNTIME=${1:-20}
KIND=${2:-nbd}
case $KIND in nbd | iscsi) ;; *) echo "usage: $0 [seconds] [nbd|iscsi]" >&2; exit 2 ;; esac
IQN=iqn.2024-01.org.mpiod:bench
SCSI_ID=60014054444444440000000000000004
source bench/lib.sh
bench_start

start_nbd_servers() {
    for p in a b c d; do
        rm -f "$T/$p.sock"
        nbdkit -f --exit-with-parent -U "$T/$p.sock" file "$T/lun.img" 2>/dev/null &
        eval "PID_$p=$!"
        pids+=("$!")
    done
    for p in a b c d; do wait_socket "$T/$p.sock"; done
}

# One tgtd per path, one portal each, all exporting $T/lun.img with one VPD 0x83 identity.
start_tgt_servers() {
    local p port adm
    for p in a b c d; do
        port=$(free_port)
        eval "PORT_$p=$port"
        rm -rf "$T/tgt-$p" && mkdir -p "$T/tgt-$p"
        TGT_IPC_SOCKET="$T/tgt-$p/sock" tgtd -f -C 0 --iscsi "portal=127.0.0.1:$port" \
            >"$T/tgt-$p.log" 2>&1 &
        eval "PID_$p=$!"
        pids+=("$!")
        adm=(env TGT_IPC_SOCKET="$T/tgt-$p/sock" tgtadm -C 0 --lld iscsi)
        for _ in $(seq 200); do "${adm[@]}" --op show --mode sys >/dev/null 2>&1 && break; sleep 0.05; done
        "${adm[@]}" --op new --mode target --tid 1 -T "$IQN"
        "${adm[@]}" --op bind --mode target --tid 1 -I ALL
        "${adm[@]}" --op new --mode logicalunit --tid 1 --lun 1 -b "$T/lun.img"
        "${adm[@]}" --op update --mode logicalunit --tid 1 --lun 1 \
            --params "scsi_id=$SCSI_ID,scsi_sn=SN-bench,vendor_id=MPIOD,product_id=TGTDISK"
    done
}

start_servers() { if [ "$KIND" = iscsi ]; then start_tgt_servers; else start_nbd_servers; fi; }

path_uri() { # NAME
    if [ "$KIND" = iscsi ]; then
        local v="PORT_$1"
        echo "iscsi://127.0.0.1:${!v}/$IQN/1"
    else
        echo "nbd+unix:///?socket=$T/$1.sock"
    fi
}

start_mpiod() { # SUSPECT_AFTER
    local wwid=bench0
    [ "$KIND" = nbd ] || wwid=3$SCSI_ID
    cat >"$T/mpiod.yaml" <<YAML
log_level: warn
control_socket: $T/control.sock
export: { dir: $T/run, kind: socket }
defaults: { suspect_after: $1 }
paths:
$(for p in a b c d; do echo "  - { id: $p, uri: \"$(path_uri $p)\", wwid: $wwid }"; done)
lus: [ { wwid: $wwid, alias: bench } ]
YAML
    "$MPIOD" --config "$T/mpiod.yaml" 2>"$T/mpiod.log" &
    MPIOD_PID=$!
    pids+=("$MPIOD_PID")
    wait_socket "$T/run/bench.sock"
}

# one FAULT BS SUSPECT_AFTER -> "max_ms errors verify_errors ios cpu_us_per_io"
one() {
    local fault=$1 bs=$2 suspect=$3
    rm -f "$T/lun.img" && truncate -s 1G "$T/lun.img"
    start_servers
    start_mpiod "$suspect"
    local t0
    t0=$(cpu_ticks "$MPIOD_PID")
    fio --name=h --ioengine=nbd --uri="nbd+unix:///?socket=$T/run/bench.sock" --rw=randwrite \
        --bs="$bs" --iodepth=16 --size=256M --time_based --runtime="$RUNTIME" \
        --verify=crc32c --verify_backlog=256 --verify_fatal=0 --verify_state_save=0 \
        --continue_on_error=all --output-format=json --output="$T/fio.json" &
    local fio=$!
    sleep $((RUNTIME / 4))
    case $fault in
    stop) kill -STOP "$PID_a"; sleep 5; kill -CONT "$PID_a" ;;
    kill) kill -9 "$PID_a" ;;
    esac
    wait "$fio" || true
    local t1
    t1=$(cpu_ticks "$MPIOD_PID")
    python3 - "$T/fio.json" "$((t1 - t0))" "$(getconf CLK_TCK)" <<'PY'
import json, sys
text = open(sys.argv[1]).read()
j = json.loads(text[text.index("{"):])["jobs"][0]
w, r = j["write"], j["read"]
ios = w["total_ios"] + r["total_ios"]
mx = max(w["clat_ns"]["max"], r["clat_ns"]["max"]) / 1e6
cpu_us = int(sys.argv[2]) * 1e6 / int(sys.argv[3])
print(f'{mx:.0f} {j["error"]} {j.get("total_err", 0)} {ios} {cpu_us / max(ios, 1):.1f}')
PY
    kill -9 "$MPIOD_PID" 2>/dev/null || true
    for p in a b c d; do v="PID_$p"; kill -CONT "${!v}" 2>/dev/null || true; kill -9 "${!v}" 2>/dev/null || true; done
    wait 2>/dev/null || true
}

echo "paths: 4 x $KIND"
printf '%-28s %10s %8s %8s %9s %12s\n' "run" "max(ms)" "errors" "verify" "ios" "cpu/io(us)"
for bs in 4k 64k; do
    for fault in stop kill; do
        for suspect in 250ms 0; do
            label="$bs $fault a, suspect_after $suspect"
            read -r mx err verr ios cpu < <(one "$fault" "$bs" "$suspect")
            printf '%-28s %10s %8s %8s %9s %12s\n' "$label" "$mx" "$err" "$verr" "$ios" "$cpu"
        done
    done
done
