#!/bin/bash
# The README's test command: installs dependencies, checks formatting, builds the release
# and the ASan+UBSan configurations, and runs every test (unit and integration) on the
# sanitizer build. Run as root (integration tests mount filesystems through loop devices).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh

echo "== format check (clang-format)"
git ls-files '*.cpp' '*.hpp' | xargs clang-format --dry-run -Werror

echo "== release build (the product only: the tests run on the sanitizer build)"
MPIOD_BUILD_TESTS=OFF scripts/build.sh release
echo "== ASan+UBSan build"
scripts/build.sh asan

echo "== tests (ASan+UBSan)"
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
ctest --test-dir build-asan --output-on-failure --timeout 600 -j2

echo "== fuzzing (clang libFuzzer + ASan/UBSan, 10 s per target; long runs: tests/fuzz/README.md)"
scripts/fuzz.sh 10

echo "== package test (.deb from the release build: install, start, stop, purge)"
bash tests/system/test-deb-install.sh build || { rc=$?; [ "$rc" = 77 ] || exit "$rc"; }
