#!/bin/bash
# Asio's io_uring backend against its epoll reactor (the default), in one run of
# bench/fio-nbd.sh: builds mpiod once more into build-io-uring/ (scripts/build.sh io-uring:
# BOOST_ASIO_HAS_IO_URING and BOOST_ASIO_DISABLE_EPOLL, so every socket, timer and wait of the
# daemon goes through io_uring) and prints its row, mpiod-uring, beside the release build's.
# Usage: bench/asio-io-uring.sh [seconds per run, default 10].
set -euo pipefail
cd "$(dirname "$0")/.."
MPIOD_BUILD_TESTS=OFF scripts/build.sh io-uring >/dev/null
MPIOD_ALT=build-io-uring/daemon/mpiod ALT_NAME=mpiod-uring exec bench/fio-nbd.sh "$@"
