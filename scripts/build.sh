#!/bin/bash
# build.sh [release|asan|io-uring]: configures and builds into build/, build-asan/ or
# build-io-uring/ (a release build on Asio's io_uring backend instead of epoll, for
# bench/asio-io-uring.sh; needs liburing-dev).
# MPIOD_BUILD_TESTS=OFF builds the product only (the daemon, mpiod-ctl, man pages).
# Unity build (CMake batches of 8 sources per compiler run) unless MPIOD_UNITY_BUILD=OFF: it
# halves the build on 2 cores (ASan with tests 14 -> 6 minutes); for editing one file at a
# time a plain build recompiles less.
set -euo pipefail
cd "$(dirname "$0")/.."
kind=${1:-release}
jobs=$(nproc)
case $kind in
release) dir=build; flags=(-DCMAKE_BUILD_TYPE=RelWithDebInfo -DMPIOD_WERROR=ON) ;;
asan) dir=build-asan; flags=(-DCMAKE_BUILD_TYPE=Debug -DMPIOD_SANITIZE=ON -DMPIOD_WERROR=ON) ;;
io-uring)
    dir=build-io-uring
    flags=(-DCMAKE_BUILD_TYPE=RelWithDebInfo -DMPIOD_WERROR=ON
        "-DCMAKE_CXX_FLAGS=-DBOOST_ASIO_HAS_IO_URING -DBOOST_ASIO_DISABLE_EPOLL"
        -DCMAKE_CXX_STANDARD_LIBRARIES=-luring)
    ;;
*) echo "usage: $0 [release|asan|io-uring]" >&2; exit 2 ;;
esac
flags+=(-DMPIOD_BUILD_TESTS="${MPIOD_BUILD_TESTS:-ON}")
flags+=(-DCMAKE_UNITY_BUILD="${MPIOD_UNITY_BUILD:-ON}" -DCMAKE_UNITY_BUILD_BATCH_SIZE=8)
cmake -S . -B "$dir" "${flags[@]}" >/dev/null
cmake --build "$dir" -j"$jobs"
