#!/bin/bash
# Installs what mpiod needs to build, test and run its demo on Debian 12 (as root).
# libboost1.81-dev replaces Debian's default 1.74 headers: Asio 1.26 is needed for C++20
# coroutines with g++ 12, and the two Boost versions cannot be installed together.
set -euo pipefail
packages=(
    build-essential cmake pkg-config clang-format git
    libboost1.81-dev libnbd-dev libiscsi-dev libspdlog-dev libyaml-cpp-dev libcli11-dev
    nlohmann-json3-dev libnl-genl-3-dev libfuse3-dev libsystemd-dev catch2
    nbdkit libnbd-bin python3 python3-libnbd fio fuse3 e2fsprogs util-linux kmod
    qemu-system-x86 qemu-utils busybox-static cpio
    scdoc systemd man-db tgt
    curl prometheus linux-perf liburing-dev
    clang libclang-rt-14-dev
)
missing=()
for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
    echo "install-deps: everything is installed"
    exit 0
fi
SUDO=""
[ "$(id -u)" = 0 ] || SUDO=sudo
echo "install-deps: installing ${missing[*]}"
$SUDO apt-get update -q
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
