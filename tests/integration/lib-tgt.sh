# tgt (userspace iSCSI target) helpers for iSCSI tests. Source after lib.sh (uses $T, PIDS,
# CLEANUP_HOOKS, fail, wait_for). Every tgtd gets its own control socket directory under $T
# (TGT_IPC_SOCKET), listens on loopback ports picked at runtime, and is SIGKILLed on exit
# (tgtd ignores SIGTERM).
#
#   start_tgtd NAME PORT [PORT...]     tgtd with one portal per port (127.0.0.1)
#   tgt_add_lun NAME TID IQN LUN IMAGE SCSI_ID [SERIAL] [PARAMS]
#                                       target (created on first use) + LU, ACL open to all
#   tgt_drop_connections NAME TID       delete every connection of the target (like an RST)
#   tgtd_pid NAME / kill_tgtd NAME      SIGKILL
#   free_port                           a free loopback TCP port
#   tgt_wwid SCSI_ID                    the WWID mpiod renders for a 32-hex-digit NAA 6 scsi_id

free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

tgt_wwid() { echo "3$1"; }

tgtadm_for() { # NAME ARGS...
    local name=$1; shift
    TGT_IPC_SOCKET="$T/tgt-$name/sock" tgtadm -C 0 "$@"
}

port_listens() { ss -Hltn "sport = :$1" | grep -q LISTEN; }

start_tgtd() {
    local name=$1; shift
    local portals="" p
    for p in "$@"; do portals+="${portals:+,}portal=127.0.0.1:$p"; done
    mkdir -p "$T/tgt-$name"
    rm -f "$T/tgt-$name/sock.0" "$T/tgt-$name/sock.0.lock"
    TGT_IPC_SOCKET="$T/tgt-$name/sock" tgtd -f -C 0 --iscsi "$portals" \
        >"$T/tgt-$name.log" 2>&1 &
    eval "TGTD_PID_$name=$!"
    PIDS+=("$!")
    wait_for 10 tgtadm_for "$name" --op show --mode sys || fail "tgtd $name did not start"
    for p in "$@"; do
        wait_for 5 port_listens "$p" || fail "tgtd $name does not listen on $p"
    done
    # tgtd falls back to a wildcard :3260 when it cannot bind a portal: refuse that.
    ! grep -q "failed to create/bind" "$T/tgt-$name.log" || fail "tgtd $name: portal bind failed"
}

tgtd_pid() { local v="TGTD_PID_$1"; echo "${!v}"; }

kill_tgtd() { local pid; pid=$(tgtd_pid "$1"); { kill -9 "$pid" && wait "$pid"; } 2>/dev/null || true; }

tgt_add_lun() {
    local name=$1 tid=$2 iqn=$3 lun=$4 image=$5 scsi_id=$6 serial=${7:-SN-$6} params=${8:-}
    if ! tgtadm_for "$name" --lld iscsi --op show --mode target | grep -q "^Target $tid:"; then
        tgtadm_for "$name" --lld iscsi --op new --mode target --tid "$tid" -T "$iqn" ||
            fail "tgt $name: cannot create target $tid"
        tgtadm_for "$name" --lld iscsi --op bind --mode target --tid "$tid" -I ALL
    fi
    tgtadm_for "$name" --lld iscsi --op new --mode logicalunit --tid "$tid" --lun "$lun" \
        -b "$image" || fail "tgt $name: cannot add lun $lun"
    tgtadm_for "$name" --lld iscsi --op update --mode logicalunit --tid "$tid" --lun "$lun" \
        --params "scsi_id=$scsi_id,scsi_sn=$serial,vendor_id=MPIOD,product_id=TGTDISK${params:+,$params}" ||
        fail "tgt $name: cannot set lun $lun params"
}

# tgt_connections NAME TID: "sid cid" per line.
tgt_connections() {
    tgtadm_for "$1" --lld iscsi --op show --mode conn --tid "$2" | awk '
        /^Session: / { sid = $2 }
        /^[ \t]*Connection: / { print sid, $2 }'
}

tgt_drop_connections() {
    local name=$1 tid=$2 sid cid
    while read -r sid cid; do
        [ -n "$sid" ] || continue
        tgtadm_for "$name" --lld iscsi --op delete --mode conn --tid "$tid" --sid "$sid" \
            --cid "$cid" || true
    done < <(tgt_connections "$name" "$tid")
}

# write_iscsi_config FILE: paths from "id=uri" arguments, one LU lu0 with wwid $WWID.
write_iscsi_config() {
    local file=$1; shift
    {
        echo "log_level: ${LOG_LEVEL:-info}"
        echo "control_socket: $T/control.sock"
        echo "export:"
        echo "  dir: $T/run"
        echo "  kind: socket" # no kernel device: a killed mpiod would leave it behind
        echo "defaults:"
        echo "  io_timeout: ${IO_TIMEOUT:-3s}"
        echo "  checker_interval: ${CHECKER_INTERVAL:-500ms}"
        echo "  no_path_retry: ${NO_PATH_RETRY:-30s}"
        echo "  policy: ${POLICY:-round-robin}"
        echo "paths:"
        local spec
        for spec in "$@"; do
            echo "  - id: ${spec%%=*}"
            echo "    uri: \"${spec#*=}\""
            echo "    wwid: ${PATH_WWID:-$WWID}"
        done
        echo "lus:"
        echo "  - wwid: $WWID"
        echo "    alias: lu0"
    } >"$file"
}

# require_iscsi_config: fail loudly if the config loader refuses iscsi:// paths.
require_iscsi_config() {
    local probe="$T/iscsi-probe.yaml"
    WWID=${WWID:-36001405f00dbabe0000000000000001} write_iscsi_config "$probe" \
        "p=iscsi://127.0.0.1:1/iqn.2024-01.org.mpiod:probe/1"
    if ! "$MPIOD" --check --config "$probe" >"$T/iscsi-probe.log" 2>&1; then
        fail "mpiod's config does not accept iscsi:// paths: $(cat "$T/iscsi-probe.log")"
    fi
}

# tgt_drop_one_connection NAME TID: delete the first connection listed (one path's session).
tgt_drop_one_connection() {
    local sid cid
    read -r sid cid < <(tgt_connections "$1" "$2")
    [ -n "${sid:-}" ] || fail "tgt $1: no connection to drop"
    tgtadm_for "$1" --lld iscsi --op delete --mode conn --tid "$2" --sid "$sid" --cid "$cid"
}

# fio_max_latency_ms NAME: the largest read or write completion latency fio saw (its JSON
# output in $T/NAME.fio.json): the client-visible stall.
fio_max_latency_ms() {
    python3 -c '
import json, sys
j = json.load(open(sys.argv[1]))
print(round(max(job[d]["clat_ns"]["max"] for job in j["jobs"] for d in ("read", "write")) / 1e6))' "$T/$1.fio.json"
}
