# Shared by the VM test's guest scenarios (guest-init.sh: NBD paths served by the host;
# guest-sg.sh: SCSI generic paths to scsi_debug; guest-vmdisk.sh: the guest's own disk on an
# LU of mpiod on the host). run-vm-test.sh installs it as
# /lib/guest-lib.sh and the scenario as /init, which sources this file and calls guest_boot
# first. Every result line starts with "MPIOD-VM:" on the serial console; the last one is
# "MPIOD-VM: PASS" or "MPIOD-VM: FAIL ...".

CTL="mpiod-ctl --socket /run/mpiod/control.sock"
DMESG_PATTERN=nbd # what fail() shows of the kernel log; a scenario may widen it

# guest_boot: busybox applets, the pseudo file systems, tmpfs /tmp and /run, the run's
# environment (/etc/mpiod-vm.env), and the BOOTED marker the host times the boot by.
guest_boot() {
    /bin/busybox --install -s /bin
    export PATH=/usr/local/bin:/bin:/sbin:/usr/bin:/usr/sbin
    mount -t proc proc /proc
    mount -t sysfs sys /sys
    mount -t devtmpfs dev /dev
    mkdir -p /tmp /run /mnt
    mount -t tmpfs tmp /tmp
    mount -t tmpfs run /run
    . /etc/mpiod-vm.env
    say "BOOTED after $(now) s"
}

say() { echo "MPIOD-VM: $*" >/dev/console; } # also from $(...) subshells
now() { cut -d' ' -f1 /proc/uptime; }       # seconds, 10 ms resolution
# elapsed START: seconds since START (a now() value), two decimals
elapsed() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.2f", b - a }'; }
# max_of A B: the larger of two decimal numbers
max_of() { awk -v a="$1" -v b="$2" 'BEGIN { print (b > a ? b : a) }'; }
finish() {
    sync
    poweroff -f
    sleep 60
}
fail() {
    say "FAIL $*"
    {
        for log in /tmp/mpiod*.log; do
            [ -f "$log" ] || continue
            echo "---- $log (last 40 lines) ----"
            tail -n 40 "$log"
        done
        echo "---- dmesg ($DMESG_PATTERN) ----"
        dmesg | grep -i -E "$DMESG_PATTERN" | tail -n 20
    } >/dev/console 2>&1
    finish
}

# module_params NAME: the insmod parameters of module NAME; a scenario redefines it.
module_params() { :; }
# load_modules: every module of /etc/modules.order (dependencies first), with its parameters.
load_modules() {
    local m
    while read -r m; do
        # shellcheck disable=SC2046 # the parameters are words
        insmod "/lib/modules/$m.ko" $(module_params "$m") || fail "insmod $m $(module_params "$m")"
    done </etc/modules.order
}

start_mpiod() { # LOG
    mpiod --config /etc/mpiod.yaml >"$1" 2>&1 &
    MPIOD_PID=$!
}
# wait_device SECONDS: until mpiod-ctl lists the LU with a /dev/nbd device; sets DEV
wait_device() {
    local deadline=$(($(cut -d. -f1 /proc/uptime) + $1))
    while [ "$(cut -d. -f1 /proc/uptime)" -lt "$deadline" ]; do
        DEV=$($CTL list lus 2>/dev/null | grep -o '/dev/nbd[0-9]*' | head -n 1)
        [ -n "$DEV" ] && return 0
        kill -0 "$MPIOD_PID" 2>/dev/null || return 1
        sleep 0.2
    done
    return 1
}
