#!/bin/busybox sh
# /init of the VM test's SG scenario (run-vm-test.sh sg builds the initramfs): scsi_debug with
# two hosts gives two SCSI paths (/dev/sg0, /dev/sg1) to one LU; mpiod opens sg0 from its
# configuration and sg1 from its scan of /sys/class/scsi_generic, merges them by the WWID it
# reads from VPD 0x83, and attaches the LU as /dev/nbdX. 40 MiB are written while sg0's SCSI
# device goes offline; the data is read back and compared; sg0 comes back and is reinstated
# by the checker, sg1 goes offline, and the data is read back through sg0. Markers and the
# result as in guest-init.sh ("MPIOD-VM: PASS" / "MPIOD-VM: FAIL ...").
. /lib/guest-lib.sh # say, fail, now, elapsed, load_modules, start_mpiod, wait_device, CTL
guest_boot
DMESG_PATTERN='scsi|sd[a-z]|sg[0-9]|nbd|offline'

# Two hosts, one shared 64 MiB store (per_host_store=0 is the default). vpd_use_hostno=0 makes
# both hosts report the same LU designators in VPD 0x83 (by default the host number is part of
# them, and the two hosts would look like two LUs); it also makes scsi_debug claim implicit ALUA
# with the access state host_no % 3 (host0 active/optimized, host1 active/non-optimized).
SCSI_DEBUG_PARAMS="add_host=2 dev_size_mb=64 vpd_use_hostno=0"
module_params() {
    case $1 in scsi_debug) echo "$SCSI_DEBUG_PARAMS" ;; esac
}
load_modules

# ---- the two SCSI paths ----
deadline=$(($(cut -d. -f1 /proc/uptime) + 30))
until [ -c /dev/sg0 ] && [ -c /dev/sg1 ]; do
    [ "$(cut -d. -f1 /proc/uptime)" -lt "$deadline" ] ||
        fail "no /dev/sg0 and /dev/sg1 30 s after insmod scsi_debug ($(ls /sys/class/scsi_generic))"
    sleep 0.1
done
for sg in /sys/class/scsi_generic/*; do
    d=$sg/device
    say "$(basename "$sg") -> $(readlink "$sg"): $(basename "$(readlink "$d")") type $(cat "$d/type")" \
        "'$(cat "$d/vendor")' '$(cat "$d/model")' $(cat "$d/state") block $(ls "$d/block" 2>/dev/null)" \
        "wwid '$(cat "$d/wwid" 2>/dev/null)'"
done
for n in 0 1; do
    say "sg$n VPD 0x83:$(od -An -tx1 /sys/class/scsi_generic/sg$n/device/vpd_pg83 | tr -s ' \n' ' ')"
done
# The kernel's choice among the LU designators (scsi_vpd_lun_id) must agree: one LU, two paths.
wwid0=$(cat /sys/class/scsi_generic/sg0/device/wwid 2>/dev/null)
wwid1=$(cat /sys/class/scsi_generic/sg1/device/wwid 2>/dev/null)
[ -n "$wwid0" ] || fail "sg0 has no wwid in sysfs (no VPD page 0x83?)"
[ "$wwid0" = "$wwid1" ] || fail "scsi_debug's hosts report different LU designators: '$wwid0' / '$wwid1'"

# ---- mpiod: sg0 configured, sg1 found by the scan ----
cat >/etc/mpiod.yaml <<YAML
log_level: info
control_socket: /run/mpiod/control.sock
export: {dir: /run/mpiod, kind: nbd}
defaults: {io_timeout: 10s, checker_interval: 1s, no_path_retry: 20s, policy: round-robin}
paths:
  - id: first
    uri: sg:///dev/sg0
scan:
  scsi_generic: true
YAML

# ctl_field LIST KEY VALUE FIELD: FIELD of the element of `mpiod-ctl list LIST --json` whose
# KEY is VALUE; empty when there is none. The JSON is pretty-printed (two spaces per level):
# an element's own fields are the lines indented by four.
ctl_field() {
    $CTL list "$1" --json 2>/dev/null | awk -v key="$2" -v want="$3" -v field="$4" '
        /^  \{/ { split("", v); next }
        /^    "[a-z_]+": / {
            k = $1; gsub(/[":]/, "", k)
            val = $0; sub(/^    "[a-z_]+": /, "", val); sub(/,$/, "", val); gsub(/^"|"$/, "", val)
            v[k] = val; next
        }
        /^  \}/ { if (v[key] == want) { print v[field]; exit } }'
}
# ctl_count LIST: the number of elements `mpiod-ctl list LIST --json` returns
ctl_count() { $CTL list "$1" --json 2>/dev/null | grep -c '^  {'; }
path_state() { ctl_field paths id "$1" state; }
# wait_path_state ID SECONDS STATE...: until path ID is in one of the states; 1 on timeout
wait_path_state() {
    local id=$1 deadline=$(($(cut -d. -f1 /proc/uptime) + $2)) s
    shift 2
    while [ "$(cut -d. -f1 /proc/uptime)" -lt "$deadline" ]; do
        s=$(path_state "$id")
        for want in "$@"; do
            [ "$s" = "$want" ] && return 0
        done
        sleep 0.2
    done
    return 1
}
show_paths() { $CTL list paths 2>&1 | sed 's/^/MPIOD-VM: | /' >/dev/console; }

start=$(now)
start_mpiod /tmp/mpiod.log
wait_device 120 || fail "mpiod attached no nbd device"
say "attached $DEV in $(elapsed "$start") s"
grep ' scan: ' /tmp/mpiod.log | sed 's/^/MPIOD-VM: log | /' >/dev/console
wait_path_state first 60 active || fail "path first is not active: $(path_state first)"
wait_path_state sg1 60 active || fail "path sg1 (from the scan) is not active: $(path_state sg1)"
show_paths
$CTL list lus | sed 's/^/MPIOD-VM: | /' >/dev/console
[ "$(ctl_count paths)" = 2 ] || fail "expected exactly the paths first and sg1, got $(ctl_count paths)"
[ "$(ctl_count lus)" = 1 ] || fail "the two paths are not one LU: $(ctl_count lus) LUs"
LU=$(ctl_field paths id first lu)
WWID=$(ctl_field paths id first wwid)
[ -n "$LU" ] || fail "path first belongs to no LU"
[ -n "$WWID" ] || fail "path first has no WWID (VPD 0x83 not read?)"
[ "$(ctl_field paths id sg1 lu)" = "$LU" ] || fail "path sg1 is in LU '$(ctl_field paths id sg1 lu)', not $LU"
[ "$(ctl_field paths id sg1 wwid)" = "$WWID" ] ||
    fail "path sg1 has WWID '$(ctl_field paths id sg1 wwid)', path first '$WWID'"
N=${DEV#/dev/nbd}
[ -e "/sys/block/nbd$N/backend" ] || fail "$DEV is not bound"
say "LU $LU (WWID $WWID) on $DEV: first $(ctl_field paths id first access), sg1 $(ctl_field paths id sg1 access)"
# ALUA from the device itself (REPORT TARGET PORT GROUPS): scsi_debug's host0 is
# active/optimized, host1 active/non-optimized.
[ "$(ctl_field paths id first access)" = active/optimized ] ||
    fail "path first (host0) is $(ctl_field paths id first access), not active/optimized"
[ "$(ctl_field paths id sg1 access)" = active/non-optimized ] ||
    fail "path sg1 (host1) is $(ctl_field paths id sg1 access), not active/non-optimized"

# ---- 40 MiB written while sg0 goes offline ----
dd if=/dev/urandom of=/tmp/data bs=1M count=40 2>/dev/null || fail "preparing /tmp/data"
: >/tmp/write-times
(
    i=0
    while [ "$i" -lt 40 ]; do
        t=$(now)
        dd if=/tmp/data of="$DEV" bs=1M count=1 skip="$i" seek="$i" oflag=direct conv=notrunc \
            2>>/tmp/dd.err || exit 1
        echo "$i $(elapsed "$t")" >>/tmp/write-times
        i=$((i + 1))
    done
) &
writer=$!
deadline=$(($(cut -d. -f1 /proc/uptime) + 120))
while [ "$(wc -l </tmp/write-times)" -lt 5 ]; do
    kill -0 "$writer" 2>/dev/null || fail "writes failed before sg0 went offline: $(cat /tmp/dd.err)"
    [ "$(cut -d. -f1 /proc/uptime)" -lt "$deadline" ] || fail "5 MiB not written in 120 s"
    sleep 0.05
done
written=$(ctl_field paths id first bytes_written)
[ "${written:-0}" -gt 0 ] || fail "path first carried no writes before going offline (the offline would test nothing)"
[ "$(ctl_field paths id sg1 bytes_written)" = 0 ] ||
    fail "the non-optimized path sg1 carried writes while the optimized one was usable"
echo offline >/sys/class/scsi_generic/sg0/device/state || fail "cannot set sg0 offline"
offline=$(now)
offline_at=$(wc -l </tmp/write-times)
say "sg0 offline after $offline_at MiB (path first had written $written bytes)"
wait_path_state first 30 failed reinstating ||
    fail "path first is '$(path_state first)' 30 s after sg0 went offline under writes"
say "STAT path first failed $(elapsed "$offline") s after sg0 went offline"
wait "$writer" || fail "a write failed across the offline: $(cat /tmp/dd.err)"
[ "$(wc -l </tmp/write-times)" = 40 ] || fail "only $(wc -l </tmp/write-times) MiB written"
max_before=$(awk -v n="$offline_at" '$1 < n { if ($2 > m) m = $2 } END { print m + 0 }' /tmp/write-times)
max_after=$(awk -v n="$offline_at" '$1 >= n { if ($2 > m) m = $2 } END { print m + 0 }' /tmp/write-times)
say "STAT 40 MiB written (1 MiB O_DIRECT each): slowest before the offline $max_before s, slowest across and after it $max_after s"
state=$(path_state first)
case $state in failed | reinstating) ;; *) fail "path first is '$state', not failed, after sg0 went offline" ;; esac
say "path first is $state; LU failovers $(ctl_field lus name "$LU" failovers)"
show_paths

read_before=$(ctl_field paths id sg1 bytes_read)
dd if="$DEV" of=/tmp/back bs=1M count=40 iflag=direct 2>/tmp/dd.err || fail "read back: $(cat /tmp/dd.err)"
cmp /tmp/data /tmp/back || fail "the data read back differs from the data written"
read_after=$(ctl_field paths id sg1 bytes_read)
[ "$((read_after - read_before))" -ge $((40 << 20)) ] ||
    fail "path sg1 read $((read_after - read_before)) bytes of the 40 MiB read back"
errors=$(ctl_field lus name "$LU" io_errors)
[ "$errors" = 0 ] || fail "LU $LU counted '$errors' I/O errors"
say "40 MiB read back through sg1 and verified, 0 I/O errors"

# ---- sg0 returns and is reinstated; sg1 goes offline; read through sg0 ----
echo running >/sys/class/scsi_generic/sg0/device/state || fail "cannot set sg0 running"
back=$(now)
wait_path_state first 60 active || fail "path first not reinstated 60 s after sg0 came back: $(path_state first)"
say "STAT path first active again $(elapsed "$back") s after sg0 came back"
echo offline >/sys/class/scsi_generic/sg1/device/state || fail "cannot set sg1 offline"
read_before=$(ctl_field paths id first bytes_read)
rm -f /tmp/back
dd if="$DEV" of=/tmp/back bs=1M count=40 iflag=direct 2>/tmp/dd.err ||
    fail "read back with sg1 offline: $(cat /tmp/dd.err)"
cmp /tmp/data /tmp/back || fail "the data read back through the reinstated path differs"
read_after=$(ctl_field paths id first bytes_read)
[ "$((read_after - read_before))" -ge $((40 << 20)) ] ||
    fail "path first read $((read_after - read_before)) bytes of the 40 MiB read back"
wait_path_state sg1 30 failed reinstating || fail "path sg1 is '$(path_state sg1)' 30 s after going offline"
errors=$(ctl_field lus name "$LU" io_errors)
[ "$errors" = 0 ] || fail "LU $LU counted '$errors' I/O errors"
say "40 MiB read back through the reinstated path first and verified; sg1 is $(path_state sg1)"
show_paths

# ---- hotplug: a third scsi_debug host comes and goes; the scan follows the uevents ----
# host2 reports the same LU and, by scsi_debug's host_no % 3 rule, ALUA standby.
plug=$(now)
echo 1 >/sys/bus/pseudo/drivers/scsi_debug/add_host || fail "cannot add a scsi_debug host"
deadline=$(($(cut -d. -f1 /proc/uptime) + 30))
until [ "$(ctl_field paths id sg2 lu)" = "$LU" ]; do
    [ "$(cut -d. -f1 /proc/uptime)" -lt "$deadline" ] ||
        fail "no path sg2 in LU $LU 30 s after a scsi_debug host was added: $($CTL list paths 2>&1)"
    sleep 0.2
done
say "STAT path sg2 (hotplugged host2) joined LU $LU $(elapsed "$plug") s after add_host"
wait_path_state sg2 30 active standby || fail "path sg2 is '$(path_state sg2)'"
[ "$(ctl_field paths id sg2 access)" = standby ] ||
    fail "path sg2 (host2) is $(ctl_field paths id sg2 access), not ALUA standby"
dd if="$DEV" of=/dev/null bs=1M count=8 iflag=direct 2>/tmp/dd.err || fail "read: $(cat /tmp/dd.err)"
[ "$(ctl_field paths id sg2 bytes_read)" = 0 ] || fail "the ALUA standby path sg2 carried reads"
show_paths
unplug=$(now)
echo -1 >/sys/bus/pseudo/drivers/scsi_debug/add_host || fail "cannot remove the scsi_debug host"
deadline=$(($(cut -d. -f1 /proc/uptime) + 30))
while [ -n "$(ctl_field paths id sg2 lu)" ]; do
    [ "$(cut -d. -f1 /proc/uptime)" -lt "$deadline" ] ||
        fail "path sg2 still listed 30 s after its host was removed"
    sleep 0.2
done
[ "$(ctl_count paths)" = 2 ] || fail "expected the paths first and sg1 after the unplug, got $(ctl_count paths)"
say "STAT path sg2 removed $(elapsed "$unplug") s after its host went; the LU keeps first and sg1"

$CTL shutdown --detach || fail "mpiod-ctl shutdown --detach"
wait "$MPIOD_PID"
rc=$?
[ "$rc" = 0 ] || fail "mpiod exited with $rc"
deadline=$(($(cut -d. -f1 /proc/uptime) + 10))
while [ -e "/sys/block/nbd$N/backend" ]; do
    [ "$(cut -d. -f1 /proc/uptime)" -lt "$deadline" ] || fail "nbd$N is still bound 10 s after shutdown --detach"
    sleep 0.1
done
say "mpiod stopped, nbd$N detached"
grep -h -E ' (warning|error) ' /tmp/mpiod*.log | grep -v 'open failed' |
    sed 's/^/MPIOD-VM: log | /' >/dev/console
say "PASS"
finish
