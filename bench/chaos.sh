#!/bin/bash
# The chaos test for longer: tests/integration/test-chaos.sh (4 nbdkit paths, fio verified
# writes and reads, path servers killed, stopped and continued, made to answer EIO, paths
# failed and reinstated by operator, policies switched; 0 fio errors, 0 verify errors, image =
# what the LU serves) for 10 minutes by default, against the ASan build unless
# MPIOD_BUILD_DIR says otherwise.
# Usage: bench/chaos.sh [seconds, default 600] [seed, default 9]. Logs every action with its
# time; CHAOS_KEEP=DIR keeps the logs. Exit status 0 = PASS.
set -euo pipefail
cd "$(dirname "$0")/.."
export MPIOD_BUILD_DIR=${MPIOD_BUILD_DIR:-$PWD/build-asan}
[ -x "$MPIOD_BUILD_DIR/daemon/mpiod" ] || { echo "build first: scripts/build.sh asan" >&2; exit 1; }
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
exec bash tests/integration/test-chaos.sh "${1:-600}" "${2:-9}"
