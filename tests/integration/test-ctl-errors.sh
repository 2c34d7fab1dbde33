#!/usr/bin/env bash
# mpiod-ctl with no daemon to talk to: the operator gets a clear message and exit code 2
# (missing socket, stale socket, socket they may not open), and a bad command line exits 64.
set -u

ctl="${MPIOD_BUILD_DIR:?MPIOD_BUILD_DIR must point at the build tree}/ctl/mpiod-ctl"
if [ ! -x "$ctl" ]; then
    echo "FAIL: $ctl is not built" >&2
    exit 1
fi

tmp=$(mktemp -d /tmp/mpiod-ctl-errors.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
failures=0

# expect NAME CODE STDERR -- ARGS...: runs mpiod-ctl, checks exit code, stderr and empty stdout.
expect() {
    local name=$1 code=$2 message=$3
    shift 4
    local out err rc
    out=$(timeout 30 "$@" 2>"$tmp/stderr")
    rc=$?
    err=$(cat "$tmp/stderr")
    if [ "$rc" != "$code" ] || [ "$err" != "$message" ] || [ -n "$out" ]; then
        echo "FAIL: $name" >&2
        echo "  exit $rc (want $code)" >&2
        echo "  stderr: $err" >&2
        echo "  want:   $message" >&2
        echo "  stdout: $out" >&2
        failures=$((failures + 1))
    else
        echo "ok: $name"
    fi
}

sock="$tmp/control.sock"
expect "a missing socket means mpiod is not running (exit 2)" 2 \
    "mpiod-ctl: cannot reach mpiod at $sock: no such file (is mpiod running?)" -- \
    "$ctl" --socket "$sock" status

expect "every command reports the missing daemon the same way" 2 \
    "mpiod-ctl: cannot reach mpiod at $sock: no such file (is mpiod running?)" -- \
    "$ctl" fail path a --socket "$sock"

expect "MPIOD_CONTROL_SOCKET names the socket when --socket is absent" 2 \
    "mpiod-ctl: cannot reach mpiod at $tmp/env.sock: no such file (is mpiod running?)" -- \
    env MPIOD_CONTROL_SOCKET="$tmp/env.sock" "$ctl" list lus

if [ ! -e /run/mpiod/control.sock ]; then
    expect "the default socket is /run/mpiod/control.sock" 2 \
        "mpiod-ctl: cannot reach mpiod at /run/mpiod/control.sock: no such file (is mpiod running?)" -- \
        env -u MPIOD_CONTROL_SOCKET "$ctl" list paths
else
    echo "skip: a daemon socket exists at /run/mpiod/control.sock; not probing the default"
fi

# A socket file nobody listens on, as a killed daemon leaves behind.
stale="$tmp/stale.sock"
if command -v python3 >/dev/null 2>&1; then
    python3 -c 'import os, socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.bind(sys.argv[1])
os.chmod(sys.argv[1], 0o600)' "$stale"
    expect "a stale socket means mpiod is not running (exit 2)" 2 \
        "mpiod-ctl: cannot reach mpiod at $stale: connection refused (is mpiod running?)" -- \
        "$ctl" --socket "$stale" status

    # Another user may not even open root's 0600 socket.
    if [ "$(id -u)" = 0 ] && command -v setpriv >/dev/null 2>&1 &&
        setpriv --reuid=65534 --regid=65534 --clear-groups true 2>/dev/null &&
        setpriv --reuid=65534 --regid=65534 --clear-groups test -x "$ctl" 2>/dev/null; then
        chmod 0755 "$tmp"
        expect "a user other than root is told permission denied (exit 2)" 2 \
            "mpiod-ctl: cannot reach mpiod at $stale: permission denied (the control socket is for root only; try sudo)" -- \
            setpriv --reuid=65534 --regid=65534 --clear-groups "$ctl" --socket "$stale" status
    else
        echo "skip: permission check needs root, setpriv and a build tree user 65534 can run"
    fi
else
    echo "skip: python3 is absent; cannot create a stale socket"
fi

out=$("$ctl" --socket "$sock" frobnicate 2>&1)
rc=$?
if [ "$rc" != 64 ] || ! grep -q "Run with --help" <<<"$out"; then
    echo "FAIL: an unknown command exits 64 with a hint (exit $rc): $out" >&2
    failures=$((failures + 1))
else
    echo "ok: an unknown command exits 64 with a hint"
fi

if [ "$failures" -ne 0 ]; then
    echo "$failures check(s) failed" >&2
    exit 1
fi
echo "all mpiod-ctl error checks passed"
