#!/bin/bash
# Asio's io_uring backend against its epoll reactor (the default), in one run of
# bench/fio-nbd.sh: builds mpiod once more into build-io-uring/ with
# BOOST_ASIO_HAS_IO_URING and BOOST_ASIO_DISABLE_EPOLL (every socket, timer and wait of the
# daemon then goes through io_uring; needs liburing-dev) and prints its row, mpiod-uring,
# beside the release build's. Usage: bench/asio-io-uring.sh [seconds per run, default 10].
set -euo pipefail
cd "$(dirname "$0")/.."
dir=build-io-uring
cmake -S . -B "$dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DMPIOD_BUILD_TESTS=OFF \
    -DCMAKE_UNITY_BUILD=ON -DCMAKE_UNITY_BUILD_BATCH_SIZE=8 \
    "-DCMAKE_CXX_FLAGS=-DBOOST_ASIO_HAS_IO_URING -DBOOST_ASIO_DISABLE_EPOLL" \
    -DCMAKE_CXX_STANDARD_LIBRARIES=-luring >/dev/null
cmake --build "$dir" -j"$(nproc)" --target mpiod >/dev/null
MPIOD_ALT=$dir/daemon/mpiod ALT_NAME=mpiod-uring exec bench/fio-nbd.sh "$@"
