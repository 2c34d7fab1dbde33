#!/bin/bash
# Under journald, every line about an LU or a path carries MPIOD_LU, MPIOD_WWID, MPIOD_PATH
# and MPIOD_EVENT, so `journalctl MPIOD_LU=lu0 MPIOD_EVENT=path_failed` finds a path failure.
# With no journald on the machine (CI containers) a stand-in binds journald's socket for the
# test and is removed after; with a real journald the entries are read back with journalctl.
# Usage: test-journal-fields.sh BUILD_DIR
export MPIOD_BUILD_DIR=${1:-${MPIOD_BUILD_DIR:-}}
[ -n "$MPIOD_BUILD_DIR" ] || { echo "usage: $0 BUILD_DIR" >&2; exit 64; }
source "$(dirname "$0")/../integration/lib.sh"
require nbdkit nbdinfo
[ -x /usr/bin/python3 ] || { echo "SKIP: /usr/bin/python3 missing" >&2; exit 77; }

JOURNAL_SOCKET=/run/systemd/journal/socket
entries=$T/journal.jsonl
: >"$entries"
if [ -S "$JOURNAL_SOCKET" ] && command -v journalctl >/dev/null; then
    mode=journald
else
    mode=stand-in
    [ -e "$JOURNAL_SOCKET" ] && fail "$JOURNAL_SOCKET exists but is not a socket"
    made_dir=""
    [ -d /run/systemd/journal ] || { mkdir -p /run/systemd/journal; made_dir=1; }
    CLEANUP_HOOKS+=("rm -f $JOURNAL_SOCKET; [ -n '$made_dir' ] && rmdir /run/systemd/journal /run/systemd 2>/dev/null")
    /usr/bin/python3 "$(dirname "$0")/journal_listener.py" "$JOURNAL_SOCKET" "$entries" &
    PIDS+=("$!")
    wait_for 10 test -S "$JOURNAL_SOCKET" || fail "the journal stand-in did not start"
fi
log "journal: $mode"

truncate -s 64M "$T/disk.img"
start_path a "$T/disk.img"
start_path b "$T/disk.img"
write_config "$T/mpiod.yaml" a b
MPIOD_LOG_JOURNAL=1 "$MPIOD" --config "$T/mpiod.yaml" >"$T/mpiod.log" 2>&1 &
MPIOD_PID=$!
PIDS+=("$MPIOD_PID")
wait_for 15 socket_answers "$(LU_SOCK)" || fail "mpiod did not export $(LU_SOCK)"
ctl fail path a >/dev/null || fail "mpiod-ctl fail path a"
kill_path b
wait_for 15 path_is b failed || fail "path b is $(path_state b)"

# find_entry EVENT PATH: an entry with these fields and the LU's, printed as JSON.
find_entry() {
    if [ "$mode" = journald ]; then
        journalctl --no-pager -o json _PID="$MPIOD_PID" MPIOD_EVENT="$1" >"$entries" 2>/dev/null
    fi
    /usr/bin/python3 - "$entries" "$1" "$2" "$WWID" <<'PY'
import json, sys
path, event, path_id, wwid = sys.argv[1:]
for line in open(path):
    e = json.loads(line)
    if e.get("MPIOD_EVENT") == event and e.get("MPIOD_LU") == "lu0" \
            and e.get("MPIOD_WWID") == wwid and e.get("MPIOD_PATH", "") == path_id \
            and e.get("SYSLOG_IDENTIFIER") == "mpiod" and e.get("MESSAGE"):
        print(json.dumps(e))
        sys.exit(0)
sys.exit(1)
PY
}
wait_for 10 find_entry path_admin_failed a || fail "no path_admin_failed entry for a"
wait_for 10 find_entry path_failed b || fail "no path_failed entry for b"
wait_for 10 find_entry lu_all_paths_down "" || fail "no lu_all_paths_down entry"
log "e.g. $(find_entry path_failed b)"
grep -q "PRIORITY" "$entries" || [ "$mode" = journald ] || fail "entries carry no PRIORITY"
[ -s "$T/mpiod.log" ] && fail "mpiod wrote to stderr although it logs to the journal: $(head -3 "$T/mpiod.log")"
echo PASS
