# Shared helpers for integration tests: a private temp dir, nbdkit path servers, an
# mpiod instance, bounded waits, and cleanup of everything on exit (even on failure).
# Usage: source "$(dirname "$0")/lib.sh"
set -euo pipefail

BUILD=${MPIOD_BUILD_DIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)/build}
MPIOD=$BUILD/daemon/mpiod
MPIOD_CTL=$BUILD/ctl/mpiod-ctl
T=$(mktemp -d /tmp/mpiod-test.XXXXXX)
PIDS=()

cleanup() {
    local rc=$?
    for hook in "${CLEANUP_HOOKS[@]:-}"; do
        [ -n "$hook" ] && eval "$hook" || true
    done
    for pid in "${PIDS[@]:-}"; do
        [ -n "$pid" ] && kill -9 "$pid" 2>/dev/null || true
    done
    wait 2>/dev/null || true
    if [ $rc -ne 0 ] && [ -f "$T/mpiod.log" ]; then
        echo "---- mpiod log (last 60 lines) ----" >&2
        tail -n 60 "$T/mpiod.log" >&2 || true
    fi
    if [ $rc -ne 0 ]; then
        for f in "$T"/*.nbdkit.log; do
            [ -s "$f" ] || continue
            echo "---- $(basename "$f") (last 20 lines) ----" >&2
            tail -n 20 "$f" >&2 || true
        done
    fi
    if [ $rc -ne 0 ] && [ -n "${MPIOD_TEST_KEEP:-}" ]; then # flake hunting: keep every log
        mkdir -p "$MPIOD_TEST_KEEP" && cp "$T"/*.log "$T"/*.yaml "$MPIOD_TEST_KEEP"/ 2>/dev/null
        echo "logs kept in $MPIOD_TEST_KEEP" >&2
    fi
    rm -rf "$T"
    exit $rc
}
CLEANUP_HOOKS=()
trap cleanup EXIT

fail() { echo "FAIL: $*" >&2; exit 1; }
log() { echo "== $*"; }

require() {
    for tool in "$@"; do
        command -v "$tool" >/dev/null 2>&1 || { echo "SKIP: $tool not installed" >&2; exit 77; }
    done
}

# wait_for SECONDS COMMAND...: polls COMMAND until it succeeds, with a deadline.
wait_for() {
    local limit=$1; shift
    local deadline=$((SECONDS + limit))
    until "$@" >/dev/null 2>&1; do
        [ $SECONDS -lt $deadline ] || return 1
        sleep 0.05
    done
}

socket_answers() { nbdinfo --size "nbd+unix:///?socket=$1" >/dev/null 2>&1; }

# start_path NAME IMAGE [--filter=F ...] [key=value ...]: nbdkit's file plugin on
# $T/NAME.sock; options (--...) go before the plugin, key=value parameters after it.
start_path() {
    local name=$1 image=$2; shift 2
    local opts=() params=()
    for arg in "$@"; do
        case $arg in --*) opts+=("$arg") ;; *) params+=("$arg") ;; esac
    done
    rm -f "$T/$name.sock"
    nbdkit -f --exit-with-parent -U "$T/$name.sock" "${opts[@]}" file "$image" "${params[@]}" \
        >"$T/$name.nbdkit.log" 2>&1 &
    eval "PID_$name=$!"
    PIDS+=("$!")
    wait_for 10 socket_answers "$T/$name.sock" || fail "nbdkit $name did not start"
}

kill_path() { local v="PID_$1"; { kill -9 "${!v}" && wait "${!v}"; } 2>/dev/null || true; }

# write_config FILE: paths a..N from the named sockets, one LU with wwid $WWID.
WWID=36001405f00dbabe0000000000000001
write_config() {
    local file=$1; shift
    local settings=${LU_SETTINGS:-}
    {
        echo "log_level: ${LOG_LEVEL:-info}"
        echo "control_socket: $T/control.sock"
        echo "export:"
        echo "  dir: $T/run"
        echo "  kind: ${EXPORT_KIND:-socket}"
        echo "defaults:"
        echo "  io_timeout: ${IO_TIMEOUT:-3s}"
        echo "  checker_interval: ${CHECKER_INTERVAL:-500ms}"
        echo "  no_path_retry: ${NO_PATH_RETRY:-30s}"
        echo "  policy: ${POLICY:-service-time}"
        echo "paths:"
        for name in "$@"; do
            echo "  - id: $name"
            echo "    uri: nbd+unix:///?socket=$T/$name.sock"
            echo "    wwid: $WWID"
        done
        echo "lus:"
        echo "  - wwid: $WWID"
        echo "    alias: lu0"
        [ -n "$settings" ] && echo "$settings"
        true
    } >"$file"
}

LU_SOCK() { echo "$T/run/lu0.sock"; }
LU_URI() { echo "nbd+unix:///?socket=$(LU_SOCK)"; }

start_mpiod() {
    local config=$1
    "$MPIOD" --config "$config" >"$T/mpiod.log" 2>&1 &
    MPIOD_PID=$!
    PIDS+=("$MPIOD_PID")
    wait_for 15 socket_answers "$(LU_SOCK)" || fail "mpiod did not export $(LU_SOCK)"
}

ctl() { "$MPIOD_CTL" --socket "$T/control.sock" "$@"; }

# path_state ID: the path's state as mpiod-ctl reports it.
path_state() {
    ctl --json --fields id,state list paths | python3 -c '
import json, sys
for p in json.load(sys.stdin):
    if p["id"] == sys.argv[1]:
        print(p["state"])' "$1"
}

path_is() { [ "$(path_state "$1")" = "$2" ]; }
# path_is_down ID: failed, or reinstating (each reconnect of a failed path passes through it).
# One read of the state: a reconnect between two reads cannot make both miss.
path_is_down() {
    case "$(path_state "$1")" in
    failed | reinstating) return 0 ;;
    *) return 1 ;;
    esac
}

# path_ios ID: I/Os the path completed, as mpiod-ctl reports them.
path_ios() {
    ctl --json --fields id,ios list paths | python3 -c '
import json, sys
for p in json.load(sys.stdin):
    if p["id"] == sys.argv[1]:
        print(p["ios"])' "$1"
}
path_ios_above() { [ "$(path_ios "$1")" -gt "$2" ]; }

# count_paths STATE [PREFIX]: paths in STATE (whose id starts with PREFIX).
count_paths() {
    ctl --json --fields id,state list paths | python3 -c '
import json, sys
want, prefix = sys.argv[1], sys.argv[2]
print(sum(1 for p in json.load(sys.stdin) if p["state"] == want and p["id"].startswith(prefix)))' \
        "$1" "${2:-}"
}
# paths_are STATE N [PREFIX]: exactly N paths (whose id starts with PREFIX) are in STATE.
paths_are() { [ "$(count_paths "$1" "${3:-}")" -eq "$2" ]; }

# fio_verify NAME URI SIZE [extra fio args...]: random writes with crc32c verification.
fio_verify() {
    local name=$1 uri=$2 size=$3; shift 3
    fio --name="$name" --ioengine=nbd --uri="$uri" --rw=randwrite --bs=4k --iodepth=16 \
        --size="$size" --verify=crc32c --do_verify=1 --verify_fatal=1 --verify_backlog=1024 --verify_state_save=0 \
        --output="$T/$name.fio.txt" "$@"
}

# nbdsh runs "python3 -m nbd"; use the system interpreter, which has python3-libnbd,
# even where another python3 comes first on PATH.
export PATH="/usr/bin:$PATH"

# ---- kernel block devices (write_config with EXPORT_KIND=nbd|fuse|fuse-file|auto) ----

# lu_device LU PREFIX: the LU's export whose name starts with PREFIX (e.g. /dev/loop).
lu_device() {
    ctl --json show lu "$1" | python3 -c '
import json, sys
for e in json.load(sys.stdin).get("exports", []):
    if e.startswith(sys.argv[1]):
        print(e)
        break
else:
    sys.exit(1)' "$2"
}
lu_has_device() { lu_device "$1" "$2" >/dev/null; }

process_gone() { ! kill -0 "$1" 2>/dev/null; }

# write_files PREFIX COUNT: COUNT files of random data on $T/mnt, synced.
write_files() {
    for i in $(seq 1 "$2"); do
        head -c $((256 * 1024 + i * 4096)) /dev/urandom >"$T/mnt/$1-$i"
    done
    sync -f "$T/mnt"
}

# ext4_survives_path_kill DEVICE PATH: mkfs.ext4 on DEVICE, mount it on $T/mnt, write files,
# kill PATH's server, write more, verify every checksum, then remount with a cold cache and
# verify again. Leaves $T/mnt mounted.
ext4_survives_path_kill() {
    local dev=$1 victim=$2
    mkdir -p "$T/mnt"
    mkfs.ext4 -q -F "$dev"
    mount "$dev" "$T/mnt"
    log "writing files with every path up"
    write_files before 40
    (cd "$T/mnt" && sha256sum before-* >"$T/sums")
    log "killing path $victim"
    kill_path "$victim"
    write_files after 40
    (cd "$T/mnt" && sha256sum after-* >>"$T/sums")
    (cd "$T/mnt" && sha256sum -c --quiet "$T/sums") || fail "checksums differ after the path kill"
    log "remount (cold read through the surviving paths)"
    umount "$T/mnt"
    echo 3 >/proc/sys/vm/drop_caches
    mount "$dev" "$T/mnt"
    (cd "$T/mnt" && sha256sum -c --quiet "$T/sums") || fail "checksums differ after remount"
}

# ext4_clean_after DEVICE PATH: unmount, fsck finds nothing, mpiod completed no I/O with an
# error, and PATH is not in use.
ext4_clean_after() {
    local dev=$1 victim=$2
    umount "$T/mnt"
    fsck.ext4 -n -f "$dev" >/dev/null 2>&1 || fail "fsck found damage"
    [ "$(ctl --json show lu lu0 | python3 -c 'import json,sys; print(json.load(sys.stdin)["io_errors"])')" = 0 ] ||
        fail "mpiod completed I/O with errors"
    path_is_down "$victim" ||
        fail "path $victim is $(path_state "$victim")"
}
