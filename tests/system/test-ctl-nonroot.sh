#!/bin/bash
# mpiod-ctl run by a user other than root is refused with a clear message and exit status 2,
# at both guards: the socket's 0600 mode (connect fails), and the daemon's own peer-uid
# check when the mode lets anyone connect (the command is not carried out). Root is served.
# Usage: test-ctl-nonroot.sh BUILD_DIR
export MPIOD_BUILD_DIR=${1:-${MPIOD_BUILD_DIR:-}}
[ -n "$MPIOD_BUILD_DIR" ] || { echo "usage: $0 BUILD_DIR" >&2; exit 64; }
source "$(dirname "$0")/../integration/lib.sh"
require nbdkit nbdinfo setpriv
[ "$(id -u)" = 0 ] || { echo "SKIP: needs root (the daemon runs as root)" >&2; exit 77; }

nobody=(setpriv --reuid=65534 --regid=65534 --clear-groups)
# A copy user 65534 can run, whatever the build tree's permissions.
install -m 0755 "$MPIOD_CTL" "$T/mpiod-ctl"
"${nobody[@]}" "$T/mpiod-ctl" --help >/dev/null 2>&1 || fail "user 65534 cannot run mpiod-ctl"

truncate -s 64M "$T/disk.img"
start_path a "$T/disk.img"
write_config "$T/mpiod.yaml" a
start_mpiod "$T/mpiod.yaml"
sock=$T/control.sock
[ "$(stat -c %a "$sock")" = 600 ] || fail "control socket mode is $(stat -c %a "$sock"), not 600"
chmod 0755 "$T" # let user 65534 reach the socket file; its own mode is what is tested

# as_nobody_refused NAME MESSAGE ARGS...: mpiod-ctl as user 65534 exits 2 with MESSAGE on
# stderr and prints nothing on stdout.
as_nobody_refused() {
    local name=$1 want=$2 rc=0
    shift 2
    timeout 30 "${nobody[@]}" "$T/mpiod-ctl" --socket "$sock" "$@" >"$T/out" 2>"$T/err" || rc=$?
    [ "$rc" = 2 ] || fail "$name: exit status $rc, want 2 (stderr: $(cat "$T/err"))"
    [ "$(cat "$T/err")" = "$want" ] || fail "$name: stderr '$(cat "$T/err")', want '$want'"
    [ ! -s "$T/out" ] || fail "$name: printed '$(cat "$T/out")' on stdout"
    echo "ok: $name"
}

as_nobody_refused "a non-root user cannot open the 0600 socket" \
    "mpiod-ctl: cannot reach mpiod at $sock: permission denied (the control socket is for root only; try sudo)" \
    status

# A socket anyone may connect to (a lax mode, or a copy of the daemon with another umask):
# the daemon's SO_PEERCRED check must refuse the user all the same.
chmod 0666 "$sock"
as_nobody_refused "the daemon refuses a non-root peer that could connect" \
    "mpiod-ctl: permission denied: mpiod's control socket accepts root only" \
    fail path a
grep -q 'control: refused a connection from uid 65534' "$T/mpiod.log" ||
    fail "the daemon did not log the refused uid 65534"
path_is a active || fail "path a is $(path_state a) after a refused 'fail path a'"
echo "ok: the refused command was not carried out (path a still active)"

out=$(ctl status) || fail "root: status failed"
grep -q '^mpiod ' <<<"$out" || fail "root: unexpected status output: $out"
ctl list paths | grep -qw a || fail "root: list paths does not show path a"
echo "ok: root is served"
echo "PASS"
