#!/bin/bash
# The Debian package works as installed: cpack builds it from a release build directory,
# `apt-get install ./mpiod_*.deb` resolves its declared dependencies, every file is where
# the unit and the daemon look for it, the unit passes `systemd-analyze verify`, the service
# starts (systemctl when systemd is PID 1; otherwise the unit's ExecStart= run as the unit
# would, under a stand-in notify socket) on an example configuration pointed at nbdkit
# paths, `mpiod-ctl list paths` answers, the service stops cleanly, and a purge leaves the
# machine as it was (also on failure: trap).
# Usage: test-deb-install.sh BUILD_DIR   (as root; changes the machine's package set)
export MPIOD_BUILD_DIR=${1:-${MPIOD_BUILD_DIR:-}}
[ -n "$MPIOD_BUILD_DIR" ] || { echo "usage: $0 BUILD_DIR" >&2; exit 64; }
MPIOD_BUILD_DIR=$(cd "$MPIOD_BUILD_DIR" && pwd)
HERE=$(cd "$(dirname "$0")" && pwd)
source "$HERE/../integration/lib.sh"
require cpack dpkg-deb apt-get nbdkit nbdinfo
[ "$(id -u)" = 0 ] || { echo "SKIP: needs root (installs a package)" >&2; exit 77; }
[ -f "$MPIOD_BUILD_DIR/CPackConfig.cmake" ] || fail "$MPIOD_BUILD_DIR has no CPackConfig.cmake"
[ -x /usr/bin/python3 ] || { echo "SKIP: /usr/bin/python3 missing" >&2; exit 77; }

# Never touch a machine that already has mpiod installed or configured: the purge below
# would take the operator's configuration and state with it.
if dpkg-query -W -f='${Status}' mpiod 2>/dev/null | grep -q installed; then
    echo "SKIP: the mpiod package is already installed here" >&2
    exit 77
fi
for dir in /etc/mpiod /var/lib/mpiod; do
    [ ! -e "$dir" ] || { echo "SKIP: $dir exists (an mpiod installed by other means?)" >&2; exit 77; }
done

under_systemd=false
if [ -d /run/systemd/system ] && [ "$(ps -p 1 -o comm= 2>/dev/null)" = systemd ]; then
    under_systemd=true
fi
run_existed=false
[ -e /run/mpiod ] && run_existed=true
packages_before=$(dpkg-query -W -f='${Package}\n' | sort)
apt_get() {
    DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=120 -q "$@"
}

# Undo everything the test did to the machine; safe to run twice.
undo_install() {
    if [ -n "${DAEMON_PID:-}" ]; then
        kill -9 "$DAEMON_PID" 2>/dev/null || true
    fi
    if dpkg-query -W -f='${Status}' mpiod 2>/dev/null | grep -q 'ok installed\|config-files'; then
        $under_systemd && systemctl stop mpiod.service 2>/dev/null
        apt_get purge -y mpiod >"$T/purge.log" 2>&1 || cat "$T/purge.log" >&2
    fi
    # Dependencies apt pulled in for the package (none on a machine that built it).
    local added
    added=$(comm -13 <(echo "$packages_before") <(dpkg-query -W -f='${Package}\n' | sort))
    if [ -n "$added" ]; then
        echo "removing packages the install added: $added" >&2
        # shellcheck disable=SC2086 # one word per package
        apt_get purge -y $added >>"$T/purge.log" 2>&1 || true
    fi
    $run_existed || rm -rf /run/mpiod
    rm -rf /etc/mpiod /var/lib/mpiod
}
CLEANUP_HOOKS+=(undo_install)

log "building the package with cpack"
(cd "$MPIOD_BUILD_DIR" && cpack -G DEB -B "$T/pkg") >"$T/cpack.log" 2>&1 ||
    { cat "$T/cpack.log" >&2; fail "cpack failed"; }
deb=$(find "$T/pkg" -maxdepth 1 -name 'mpiod_*.deb' | head -1)
[ -f "$deb" ] || fail "cpack made no mpiod_*.deb (see $T/cpack.log)"
echo "ok: built $(basename "$deb")"

log "package metadata and contents"
dpkg-deb -c "$deb" | awk '{ print $6 }' | sed 's|^\./|/|' >"$T/contents"
for f in /usr/sbin/mpiod /usr/bin/mpiod-ctl /usr/lib/systemd/system/mpiod.service \
    /usr/lib/tmpfiles.d/mpiod.conf /usr/share/man/man8/mpiod.8 /usr/share/man/man8/mpiod-ctl.8 \
    /usr/share/man/man5/mpiod.yaml.5 /usr/share/bash-completion/completions/mpiod-ctl \
    /usr/share/doc/mpiod/examples/two-nbd-paths-failover.yaml /etc/mpiod/mpiod.yaml; do
    grep -qx "$f" "$T/contents" || fail "the package lacks $f"
done
depends=$(dpkg-deb -f "$deb" Depends)
for lib in libnbd0 libyaml-cpp libspdlog libfuse3 libsystemd0; do
    grep -q "$lib" <<<"$depends" || fail "Depends lacks $lib: $depends"
done
dpkg-deb --ctrl-tarfile "$deb" | tar -x -O ./conffiles | grep -qx /etc/mpiod/mpiod.yaml ||
    fail "/etc/mpiod/mpiod.yaml is not a conffile"
echo "ok: files, Depends ($depends) and conffiles"

log "apt-get install $(basename "$deb")"
apt_get install -y "$deb" >"$T/install.log" 2>&1 || { cat "$T/install.log" >&2; fail "apt-get install failed"; }
dpkg-query -W -f='${Status}' mpiod | grep -q 'install ok installed' || fail "mpiod is not installed"
echo "ok: installed, dependencies resolved"

log "files where the unit and the daemon look for them"
unit=/usr/lib/systemd/system/mpiod.service
exec_start=$(sed -n 's/^ExecStart=//p' "$unit")
read -r -a start_cmd <<<"$exec_start"
[ "${#start_cmd[@]}" -ge 1 ] || fail "no ExecStart= in $unit"
[ -x "${start_cmd[0]}" ] || fail "ExecStart= names ${start_cmd[0]}, which is not an installed program"
if [ "${start_cmd[1]:-}" != --config ] || [ ! -f "${start_cmd[2]:-}" ]; then
    fail "ExecStart= does not name the installed configuration: $exec_start"
fi
"${start_cmd[0]}" --version | grep -q '^mpiod ' || fail "installed mpiod --version fails"
/usr/bin/mpiod-ctl --help >/dev/null || fail "installed mpiod-ctl --help fails"
for config in /etc/mpiod/mpiod.yaml /usr/share/doc/mpiod/examples/*.yaml; do
    "${start_cmd[0]}" --check --config "$config" >/dev/null || fail "mpiod --check refuses $config"
done
if command -v man >/dev/null 2>&1; then
    for page in mpiod mpiod-ctl mpiod.yaml; do
        man -w "$page" >/dev/null 2>&1 || fail "man cannot find $page"
    done
fi
bash -n /usr/share/bash-completion/completions/mpiod-ctl || fail "the completion file is not valid bash"
echo "ok: binaries, configuration, examples, man pages, completion"
# Under systemd the postinst ran systemd-tmpfiles; elsewhere the test runs it, as boot would.
if $under_systemd || command -v systemd-tmpfiles >/dev/null 2>&1; then
    $under_systemd || systemd-tmpfiles --create /usr/lib/tmpfiles.d/mpiod.conf ||
        fail "systemd-tmpfiles refuses mpiod.conf"
    [ "$(stat -c %a /run/mpiod)" = 755 ] || fail "/run/mpiod is not 0755 after tmpfiles"
    [ "$(stat -c %a /var/lib/mpiod)" = 700 ] || fail "/var/lib/mpiod is not 0700 after tmpfiles"
    echo "ok: tmpfiles.d/mpiod.conf creates /run/mpiod and /var/lib/mpiod"
else
    echo "skip: tmpfiles check (systemd-tmpfiles is not installed)"
fi

if command -v systemd-analyze >/dev/null 2>&1; then
    systemd-analyze verify "$unit" >"$T/verify.log" 2>&1 || { cat "$T/verify.log" >&2; fail "systemd-analyze verify $unit"; }
    # verify also reports problems of other units it loads; only mpiod's own lines count.
    if grep -i 'mpiod' "$T/verify.log"; then
        fail "systemd-analyze verify warns about $unit"
    fi
    echo "ok: systemd-analyze verify"
else
    echo "skip: unit verification (systemd-analyze is not installed)"
fi

log "the service on an example configuration pointed at nbdkit paths"
truncate -s 64M "$T/disk.img"
start_path primary "$T/disk.img"
start_path secondary "$T/disk.img"
# The packaged two-path example, with its path sockets, export directory and control socket
# moved into this test's directory.
sed "s|/run/storage/|$T/|" /usr/share/doc/mpiod/examples/two-nbd-paths-failover.yaml >/etc/mpiod/mpiod.yaml
printf 'control_socket: %s\nexport:\n  dir: %s\n' "$T/control.sock" "$T/run" >>/etc/mpiod/mpiod.yaml
# Sockets only, no /dev/nbdX or FUSE on the test machine (a daemon without export.kind knows
# no other export and refuses the key).
cp /etc/mpiod/mpiod.yaml "$T/with-kind.yaml"
echo '  kind: socket' >>"$T/with-kind.yaml"
if "${start_cmd[0]}" --check --config "$T/with-kind.yaml" >/dev/null 2>&1; then
    cp "$T/with-kind.yaml" /etc/mpiod/mpiod.yaml
fi
lu_sock=$T/run/db0.sock
ctl_installed() { /usr/bin/mpiod-ctl --socket "$T/control.sock" "$@"; }

if $under_systemd; then
    systemctl daemon-reload
    # Type=notify: start returns once READY=1 came (or fails).
    timeout 90 systemctl start mpiod.service || { journalctl -u mpiod --no-pager | tail -40 >&2; fail "systemctl start failed"; }
    systemctl is-active -q mpiod.service || fail "mpiod.service is not active"
    socket_answers "$lu_sock" || fail "LU db0 does not answer on $lu_sock"
else
    # As systemd would run it: the unit's command line, its umask, a notify socket, the
    # watchdog of WatchdogSec= for this very process, stdin from /dev/null.
    watchdog_sec=$(sed -n 's/^WatchdogSec=\([0-9]*\)s$/\1/p' "$unit")
    [ -n "$watchdog_sec" ] || fail "no WatchdogSec=<n>s in $unit"
    /usr/bin/python3 "$HERE/notify_listener.py" "$T/notify.sock" "$T/notify.log" "$lu_sock" &
    PIDS+=("$!")
    wait_for 10 test -S "$T/notify.sock" || fail "the notify listener did not start"
    (
        umask "$(sed -n 's/^UMask=//p' "$unit")"
        cd /
        export NOTIFY_SOCKET=$T/notify.sock WATCHDOG_USEC=$((watchdog_sec * 1000000))
        exec bash -c 'WATCHDOG_PID=$$ exec "$@"' mpiod "${start_cmd[@]}"
    ) </dev/null >"$T/mpiod.log" 2>&1 &
    DAEMON_PID=$!
    PIDS+=("$DAEMON_PID")
    timeout_start=$(sed -n 's/^TimeoutStartSec=\([0-9]*\)s$/\1/p' "$unit")
    wait_for "${timeout_start:-90}" grep -q 'READY=1' "$T/notify.log" ||
        fail "no READY=1 within TimeoutStartSec (${timeout_start}s)"
    grep -q 'READY=1.* watch_file=1$' "$T/notify.log" || fail "READY=1 before $lu_sock existed"
    grep -q 'WATCHDOG=1' "$T/notify.log" || fail "no WATCHDOG=1 although WatchdogSec= is set"
fi
echo "ok: the service started (READY=1)"

ctl_installed list paths >"$T/paths.txt" || fail "mpiod-ctl list paths failed"
cat "$T/paths.txt"
for path in primary secondary; do
    grep -Eq "^db0 +$path +nbd +active " "$T/paths.txt" || fail "path $path is not listed active"
done
echo "ok: mpiod-ctl list paths answers"

log "stopping the service"
if $under_systemd; then
    timeout 60 systemctl stop mpiod.service || fail "systemctl stop failed"
    result=$(systemctl show -p Result --value mpiod.service)
    [ "$result" = success ] || fail "mpiod.service stopped with result $result"
else
    # KillMode=mixed: SIGTERM to the main process; TimeoutStopSec= bounds the drain.
    timeout_stop=$(sed -n 's/^TimeoutStopSec=\([0-9]*\)s$/\1/p' "$unit")
    kill -TERM "$DAEMON_PID"
    wait_for "${timeout_stop:-90}" process_gone "$DAEMON_PID" ||
        fail "mpiod still runs ${timeout_stop}s (TimeoutStopSec) after SIGTERM"
    rc=0
    wait "$DAEMON_PID" || rc=$?
    DAEMON_PID=
    [ "$rc" = 0 ] || fail "mpiod exited with status $rc"
    grep -q 'STOPPING=1' "$T/notify.log" || fail "no STOPPING=1 on SIGTERM"
fi
echo "ok: stopped cleanly"

log "purge"
apt_get purge -y mpiod >"$T/purge.log" 2>&1 || { cat "$T/purge.log" >&2; fail "apt-get purge failed"; }
for f in /usr/sbin/mpiod /usr/bin/mpiod-ctl "$unit" /etc/mpiod /var/lib/mpiod; do
    [ ! -e "$f" ] || fail "$f is left after purge"
done
if ! $run_existed; then
    [ ! -e /run/mpiod ] || fail "/run/mpiod is left after purge"
fi
echo "ok: purged, nothing left"
echo "PASS"
