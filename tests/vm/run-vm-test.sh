#!/bin/bash
# The kernel test: mpiod inside a qemu guest (TCG) running the Debian cloud kernel attaches an
# LU to /dev/nbdX through generic netlink; or the guest's own disk is an mpiod LU on the host.
# Usage: run-vm-test.sh [nbd|sg|vmdisk] (default nbd).
#   nbd: the host serves two NBD paths to one image with nbdkit -s behind slirp guestfwd
#        addresses (no host port) and kills path a when the guest says so; the guest
#        (tests/vm/guest-init.sh) does the filesystem work.
#   sg:  no host side: scsi_debug in the guest gives two SCSI paths to one LU (/dev/sg0,
#        /dev/sg1); the guest (tests/vm/guest-sg.sh) takes them offline in turn under I/O.
#   vmdisk: mpiod runs on the host over two nbdkit paths (Unix sockets) and qemu boots the
#        guest with its disk /dev/vda on the LU's Unix socket (qemu's NBD client); the guest
#        (tests/vm/guest-vmdisk.sh) rewrites and verifies a region of it round after round,
#        on the host's command, while tests/vm/vmdisk-host.sh kills one path, hangs the
#        other (SIGSTOP) and restarts mpiod.
# The guests share tests/vm/guest-lib.sh and report on the serial console. Exits 0 on
# "MPIOD-VM: PASS", 1 on FAIL, timeout or a missing prerequisite (no silent skip). Prints the
# measured times.
#
# Environment: MPIOD_BUILD_DIR (default build/), MPIOD_VM_CACHE (kernel .deb cache, default
# ~/.cache/mpiod-vm), MPIOD_VM_TIMEOUT (seconds for the whole run, default 600),
# MPIOD_VM_KEEP=1 keeps the work directory, MPIOD_VM_NBDKIT_FILTERS adds nbdkit
# options (@PATH@ stands for the path's name).
#
# The host opens no TCP port: slirp's guestfwd runs a serve script per guest connection
# (nbd); the vmdisk paths and the LU are Unix sockets in the work directory.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
SOURCE=${MPIOD_SOURCE_DIR:-$(cd "$HERE/../.." && pwd)}
BUILD=${MPIOD_BUILD_DIR:-$SOURCE/build}
CACHE=${MPIOD_VM_CACHE:-${HOME:-/root}/.cache/mpiod-vm}
LIMIT=${MPIOD_VM_TIMEOUT:-600}
WWID=36001405f00dbabe00000000000000c1
T0=$SECONDS
SCENARIO=${1:-nbd}

say() { echo "== [$((SECONDS - T0))s] $*"; }
die() { echo "FAIL: $*" >&2; exit 1; }
left() { echo $((LIMIT - (SECONDS - T0))); }
case $SCENARIO in
nbd | sg | vmdisk) ;;
*) die "unknown scenario '$SCENARIO' (usage: $0 [nbd|sg|vmdisk])" ;;
esac

# ---- prerequisites: all of them, or a loud failure ----
missing=()
tools=(qemu-system-x86_64 cpio gzip depmod dpkg dpkg-deb apt-get apt-cache ldd python3 timeout)
[ "$SCENARIO" = nbd ] && tools+=(nbdkit nbdinfo mke2fs e2fsck resize2fs)
[ "$SCENARIO" = vmdisk ] && tools+=(nbdkit nbdinfo mkfifo sha256sum)
for tool in "${tools[@]}"; do
    command -v "$tool" >/dev/null 2>&1 || missing+=("$tool")
done
[ ${#missing[@]} -eq 0 ] || die "missing ${missing[*]} (scripts/install-deps.sh installs them)"
BUSYBOX=/bin/busybox
[ -x $BUSYBOX ] && ! ldd $BUSYBOX >/dev/null 2>&1 ||
    die "no static $BUSYBOX (package busybox-static; scripts/install-deps.sh installs it)"
for bin in "$BUILD/daemon/mpiod" "$BUILD/ctl/mpiod-ctl"; do
    [ -x "$bin" ] || die "$bin is not built (MPIOD_BUILD_DIR=$BUILD)"
done

QEMU_EXTRA=() # the scenario's own qemu options
if [ "$SCENARIO" = vmdisk ]; then
    # The host side reuses the integration tests' helpers; their directory $T is the run's.
    . "$SOURCE/tests/integration/lib.sh"
    . "$HERE/vmdisk-host.sh"
    W=$T
else
    W=$(mktemp -d /tmp/mpiod-vm.XXXXXX)
    PIDS=()
fi
cleanup() {
    local rc=$?
    if [ $rc -ne 0 ] && [ -f "$W/mpiod.log" ]; then # (vmdisk: mpiod on the host)
        echo "---- host mpiod log (last 40 lines) ----"
        tail -n 40 "$W/mpiod.log"
    fi
    { # (quietly: bash reports each killed job)
        # qemu runs under timeout, which leads its own process group: the group, or a failure
        # on the host side would leave qemu running after timeout is killed.
        [ -n "${QEMU:-}" ] && kill -9 -- "-$QEMU" || true
        for pid in "${PIDS[@]:-}"; do
            [ -n "$pid" ] && kill -CONT "$pid" || true # a stopped path server first
            [ -n "$pid" ] && kill -9 "$pid" || true
        done
        cat "$W"/*.pids | xargs -r kill -9 || true
        wait || true
    } 2>/dev/null
    if [ "${MPIOD_VM_KEEP:-0}" = 1 ]; then
        echo "work directory kept: $W"
    else
        rm -rf "$W"
    fi
    exit $rc
}
trap cleanup EXIT

# ---- the guest kernel: the cloud kernel package apt names, cached ----
mkdir -p "$CACHE"
cloud_kernel() {
    apt-cache depends linux-image-cloud-amd64 2>/dev/null |
        awk '/Depends: linux-image-[0-9]/ { print $2; exit }'
}
KPKG=$(cloud_kernel)
if [ -z "$KPKG" ] && ! ls "$CACHE"/linux-image-*-cloud-amd64_*.deb >/dev/null 2>&1; then
    say "apt has no package lists yet: apt-get update"
    apt-get update -q >/dev/null || die "apt-get update failed"
    KPKG=$(cloud_kernel)
fi
if [ -z "$KPKG" ]; then
    # No package lists (apt-get update not run): use the newest kernel already cached.
    deb=$(ls -1 "$CACHE"/linux-image-*-cloud-amd64_*.deb 2>/dev/null | sort -V | tail -n 1)
    [ -n "$deb" ] || die "apt cannot name the cloud kernel and none is cached: run apt-get update"
    KPKG=$(basename "$deb" | cut -d_ -f1)
fi
KVER=${KPKG#linux-image-}
DEB=$(ls -1 "$CACHE/${KPKG}"_*.deb 2>/dev/null | sort -V | tail -n 1 || true)
if [ -z "$DEB" ]; then
    say "downloading $KPKG into $CACHE"
    (cd "$CACHE" && apt-get download -q "$KPKG") || die "apt-get download $KPKG failed"
    DEB=$(ls -1 "$CACHE/${KPKG}"_*.deb | sort -V | tail -n 1)
fi
KROOT=$CACHE/$KPKG
if [ ! -f "$KROOT/lib/modules/$KVER/modules.dep" ]; then
    rm -rf "$KROOT.tmp"
    dpkg -x "$DEB" "$KROOT.tmp"
    depmod -b "$KROOT.tmp" "$KVER"
    rm -rf "$KROOT"
    mv "$KROOT.tmp" "$KROOT"
fi
VMLINUZ=$KROOT/boot/vmlinuz-$KVER
[ -f "$VMLINUZ" ] || die "no $VMLINUZ in $DEB"
say "kernel $KVER"

# ---- nbd: host paths, two "servers" on one image, without any host TCP port ----
# Each path is a slirp guestfwd address (a: 10.0.2.100:10809, b: 10.0.2.101:10809). qemu runs
# the path's serve script for every connection the guest opens, with the connection on its
# stdin/stdout, and the script execs `nbdkit -s` on the shared image. Killing a path = marking
# it dead (new connections are closed at once) and kill -9 of every nbdkit serving it.
declare -A PATH_ADDR=([a]=10.0.2.100 [b]=10.0.2.101)
make_path() { # NAME
    # MPIOD_VM_NBDKIT_FILTERS (debugging): e.g. "--filter=log logfile=/tmp/@PATH@.log";
    # options (--...) go before the plugin, key=value parameters after it.
    local opts=() params=() arg
    for arg in ${MPIOD_VM_NBDKIT_FILTERS:-}; do
        arg=${arg//@PATH@/$1}
        case $arg in --*) opts+=("$arg") ;; *) params+=("$arg") ;; esac
    done
    cat >"$W/serve-$1" <<SERVE
#!/bin/sh
# Record the pid before looking at the mark: a kill that reads the list after this line
# finds us; one that read it before has already made the mark, so we see it and leave.
echo \$\$ >>"$W/$1.pids"
[ -e "$W/$1.dead" ] && exit 1
exec nbdkit -s ${opts[*]} file "$W/lun.img" ${params[*]} 2>>"$W/$1.nbdkit.log"
SERVE
    chmod +x "$W/serve-$1"
    # The probe connects the way slirp will: the script's stdin/stdout are the connection.
    /usr/bin/python3 -c 'import nbd, sys; h = nbd.NBD(); h.connect_command(sys.argv[1:]); h.get_size()' \
        "$W/serve-$1" 2>"$W/$1.probe.log" || {
        cat "$W/$1.probe.log" "$W/$1.nbdkit.log" 2>/dev/null
        die "path $1: nbdkit -s on $W/lun.img does not serve"
    }
}
kill_guestfwd_path() { # NAME
    : >"$W/$1.dead"
    local pid
    while read -r pid; do
        kill -9 "$pid" 2>/dev/null || true
    done <"$W/$1.pids"
}
# The guest's network: none for sg (the paths are in the guest), slirp with the paths for nbd.
NETWORK=(-nic none)
if [ "$SCENARIO" = nbd ]; then
    truncate -s 128M "$W/lun.img"
    make_path a
    make_path b
    GUESTFWD=""
    for p in a b; do
        GUESTFWD+=",guestfwd=tcp:${PATH_ADDR[$p]}:10809-cmd:$W/serve-$p"
    done
    NETWORK=(-netdev "user,id=n0,restrict=on$GUESTFWD" -device virtio-net-pci,netdev=n0)
    say "paths: a at ${PATH_ADDR[a]}:10809, b at ${PATH_ADDR[b]}:10809 (slirp guestfwd to nbdkit -s)"
fi
# vmdisk: the paths and mpiod on the host, and the guest's disk on the LU's socket.
[ "$SCENARIO" = vmdisk ] && vmdisk_setup

# ---- the initramfs ----
R=$W/root
mkdir -p "$R"/{bin,sbin,etc,proc,sys,dev,tmp,run,mnt,lib/modules,usr/local/bin}
cp $BUSYBOX "$R/bin/busybox"
install_binary() { # PATH [NAME]: the binary in /usr/local/bin and the libraries ldd lists
    cp "$1" "$R/usr/local/bin/${2:-$(basename "$1")}"
    ldd "$1" | grep -o '/[^ ]*' | while read -r lib; do
        mkdir -p "$R$(dirname "$lib")"
        cp -L "$lib" "$R$lib"
    done
}
if [ "$SCENARIO" != vmdisk ]; then # (vmdisk: mpiod runs on the host)
    install_binary "$BUILD/daemon/mpiod"
    install_binary "$BUILD/ctl/mpiod-ctl"
fi
case $SCENARIO in
nbd)
    install_binary "$(command -v mke2fs)" mkfs.ext4
    install_binary "$(command -v e2fsck)"
    install_binary "$(command -v resize2fs)"
    MODULES=(nbd virtio_pci virtio_net)
    ;;
sg) # sg and sd_mod before scsi_debug: its disks get their sg and sd devices as they appear.
    MODULES=(sg sd_mod nbd scsi_debug)
    ;;
vmdisk) MODULES=(virtio_pci virtio_blk) ;;
esac
# Modules in load order: every dependency (modules.dep, from depmod) before its user.
python3 - "$KROOT/lib/modules/$KVER" "$R" "${MODULES[@]}" <<'PY' >"$R/etc/modules.order"
import os, shutil, sys
base, root, wanted = sys.argv[1], sys.argv[2], sys.argv[3:]
deps, by_name = {}, {}
for line in open(os.path.join(base, "modules.dep")):
    mod, _, rest = line.partition(":")
    deps[mod] = rest.split()
    by_name[os.path.basename(mod).split(".ko")[0].replace("-", "_")] = mod
order = []
def add(mod):
    for dep in reversed(deps[mod]):  # modprobe loads the listed dependencies last to first
        add(dep)
    if mod not in order:
        order.append(mod)
for name in wanted:
    if name not in by_name:
        sys.exit(f"module {name} is not in {base}")
    add(by_name[name])
for mod in order:
    name = os.path.basename(mod).split(".ko")[0]
    shutil.copy(os.path.join(base, mod), os.path.join(root, "lib/modules", name + ".ko"))
    print(name)
PY
if [ "$SCENARIO" = nbd ]; then # (the sg guest writes its own: nothing in it comes from the host)
    cat >"$R/etc/mpiod.yaml" <<YAML
log_level: info
control_socket: /run/mpiod/control.sock
export:
  dir: /run/mpiod
  kind: nbd
defaults:
  io_timeout: 10s
  checker_interval: 1s
  no_path_retry: 20s
  policy: round-robin
paths:
  - id: a
    uri: nbd://${PATH_ADDR[a]}:10809
    wwid: $WWID
  - id: b
    uri: nbd://${PATH_ADDR[b]}:10809
    wwid: $WWID
lus:
  - wwid: $WWID
    alias: lu0
YAML
fi
cat >"$R/etc/mpiod-vm.env" <<ENV
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
ENV
[ "$SCENARIO" = nbd ] && echo "WWID=$WWID" >>"$R/etc/mpiod-vm.env"
[ "$SCENARIO" = vmdisk ] && echo "$GUEST_ENV" | tr ' ' '\n' >>"$R/etc/mpiod-vm.env"
cp "$HERE/guest-lib.sh" "$R/lib/guest-lib.sh"
case $SCENARIO in
nbd) cp "$HERE/guest-init.sh" "$R/init" ;;
sg) cp "$HERE/guest-sg.sh" "$R/init" ;;
vmdisk) cp "$HERE/guest-vmdisk.sh" "$R/init" ;;
esac
chmod +x "$R/init"
(cd "$R" && find . | cpio -o -H newc --quiet | gzip -1) >"$W/initrd.gz"
say "initramfs $(du -h "$W/initrd.gz" | cut -f1) with $(tr '\n' ' ' <"$R/etc/modules.order")"

# ---- boot, and act on the guest's markers ----
SERIAL=$W/serial.log
: >"$SERIAL"
BOOT_START=$SECONDS
timeout "$(left)" qemu-system-x86_64 -accel tcg -m 1024 -smp 2 -display none -monitor none \
    -serial "file:$SERIAL" -no-reboot -kernel "$VMLINUZ" -initrd "$W/initrd.gz" \
    -append "console=ttyS0 panic=-1 quiet" \
    "${NETWORK[@]}" "${QEMU_EXTRA[@]}" >"$W/qemu.log" 2>&1 &
QEMU=$!
PIDS+=("$QEMU")
booted="" killed="" grown="" result=""
while kill -0 "$QEMU" 2>/dev/null; do
    if [ -z "$booted" ] && grep -q "MPIOD-VM: BOOTED" "$SERIAL"; then
        booted=$((SECONDS - BOOT_START))
        say "guest booted (init running) $booted s after qemu started"
    fi
    if [ -z "$killed" ] && grep -q "MPIOD-VM: KILL-PATH-A" "$SERIAL"; then
        kill_guestfwd_path a
        killed=$SECONDS
        say "killed path a (every nbdkit serving it; new connections refused) as the guest asked"
    fi
    if [ -z "$grown" ] && grep -q "MPIOD-VM: GROW-LUN" "$SERIAL"; then
        truncate -s 160M "$W/lun.img"
        grown=$SECONDS
        say "grew the image behind the paths to 160 MiB as the guest asked"
    fi
    [ "$SCENARIO" = vmdisk ] && vmdisk_step
    if grep -q -E "MPIOD-VM: (PASS|FAIL)" "$SERIAL"; then
        result=$(grep -o -E "MPIOD-VM: (PASS|FAIL).*" "$SERIAL" | head -n 1)
        break
    fi
    sleep 0.1
done
wait "$QEMU" 2>/dev/null || true
if [ -z "$result" ]; then # the guest may power off right after its last line
    result=$(grep -o -E "MPIOD-VM: (PASS|FAIL).*" "$SERIAL" | head -n 1 || true)
fi
grep "MPIOD-VM:" "$SERIAL" | sed 's/\r$//' | grep -v -E "BOOTED|KILL-PATH-A|GROW-LUN|READY| writing$" || true
say "whole run $((SECONDS - T0)) s (limit $LIMIT s)"
case $result in
"MPIOD-VM: PASS"*)
    [ "$SCENARIO" = vmdisk ] && vmdisk_checks
    echo PASS
    ;;
"")
    echo "---- serial console (last 60 lines) ----"
    tail -n 60 "$SERIAL"
    cat "$W/qemu.log"
    die "no result from the guest within $LIMIT s"
    ;;
*)
    echo "---- serial console (last 80 lines) ----"
    tail -n 80 "$SERIAL" | sed 's/\r$//'
    die "${result#MPIOD-VM: FAIL }"
    ;;
esac
