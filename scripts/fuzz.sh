#!/bin/bash
# fuzz.sh [SECONDS_PER_TARGET] [--merge] [--only TARGET]: builds the libFuzzer targets (clang,
# build-fuzz/) and runs each for a bounded time (default 20 s) on a copy of its corpus in
# tests/fuzz/corpus/, two at a time. Prints executions per target and fails on any crash,
# sanitizer report, leak, timeout or out-of-memory; the input that did it is kept in
# build-fuzz/fuzz-artifacts/<target>/. --merge adds the inputs that found new coverage to the
# repository corpus (libFuzzer's -merge=1); without it the repository corpus is never changed.
# Long runs: tests/fuzz/README.md.
set -euo pipefail
cd "$(dirname "$0")/.."

build=build-fuzz
artifacts=$PWD/$build/fuzz-artifacts
# target:max_len:dictionary (in tests/fuzz/dict/)
targets=(
    fuzz_nbd_handshake:8192:fuzz_nbd.dict
    fuzz_nbd_transmission:16384:fuzz_nbd.dict
    fuzz_config:4096:fuzz_config.dict
    fuzz_control:8192:fuzz_control.dict
)
work=""
running=()

cleanup() {
    for pid in "${running[@]}"; do
        kill "$pid" 2>/dev/null || true
    done
    wait 2>/dev/null || true
    [ -z "$work" ] || rm -rf "$work"
}

build_targets() {
    echo "== fuzz build (clang, libFuzzer + ASan/UBSan) in $build"
    CC=clang CXX=clang++ cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
        -DMPIOD_FUZZ=ON -DMPIOD_BUILD_TESTS=ON -DMPIOD_WERROR=ON >/dev/null
    cmake --build "$build" --target mpiod_fuzzers -j"$(nproc)"
    # Built only when transports/scsi is part of the tree.
    if [ -x "$build/tests/fuzz/fuzz_vpd" ]; then
        targets+=(fuzz_vpd:1024:)
    fi
}

# run_target NAME MAX_LEN DICT SECONDS: one bounded run on a copy of the corpus.
run_target() {
    local name=$1 max_len=$2 dict=$3 seconds=$4
    cp -r "tests/fuzz/corpus/$name" "$work/$name"
    mkdir -p "$artifacts/$name"
    local args=(-max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -max_len="$max_len"
                -print_final_stats=1 -artifact_prefix="$artifacts/$name/")
    if [ -n "$dict" ]; then
        args+=(-dict="$PWD/tests/fuzz/dict/$dict")
    fi
    (cd "$work" && "$OLDPWD/$build/tests/fuzz/$name" "${args[@]}" "$work/$name") \
        >"$work/$name.log" 2>&1
}

# final_stat LOG NAME: a value of libFuzzer's -print_final_stats, or "-".
final_stat() {
    local v
    v=$(sed -n "s/^stat::$2: *//p" "$1" | tail -n 1)
    echo "${v:--}"
}

main() {
    local seconds=20 merge=0 only=""
    while [ $# -gt 0 ]; do
        case $1 in
        --merge) merge=1 ;;
        --only) only=$2; shift ;;
        [0-9]*) seconds=$1 ;;
        *) echo "usage: $0 [SECONDS_PER_TARGET] [--merge] [--only TARGET]" >&2; exit 2 ;;
        esac
        shift
    done
    build_targets
    work=$(mktemp -d /tmp/mpiod-fuzz.XXXXXX)
    trap cleanup EXIT
    export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:symbolize=1
    export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1

    local selected=() t name max_len dict
    for t in "${targets[@]}"; do
        IFS=: read -r name max_len dict <<<"$t"
        if [ -z "$only" ] || [ "$only" = "$name" ]; then
            selected+=("$t")
        fi
    done
    if [ ${#selected[@]} -eq 0 ]; then
        echo "fuzz.sh: no target named $only" >&2
        exit 2
    fi

    echo "== fuzzing ${#selected[@]} targets, $seconds s each, two at a time"
    declare -A status
    local names=()
    for t in "${selected[@]}"; do
        IFS=: read -r name max_len dict <<<"$t"
        if [ ${#running[@]} -ge 2 ]; then
            status[${names[0]}]=0
            wait "${running[0]}" || status[${names[0]}]=$?
            running=("${running[@]:1}")
            names=("${names[@]:1}")
        fi
        run_target "$name" "$max_len" "$dict" "$seconds" &
        running+=($!)
        names+=("$name")
    done
    local i
    for i in "${!running[@]}"; do
        status[${names[$i]}]=0
        wait "${running[$i]}" || status[${names[$i]}]=$?
    done
    running=()

    local failed=0 log result
    printf '%-24s %12s %10s %9s  %s\n' TARGET EXECUTIONS EXEC/S NEW-UNITS RESULT
    for t in "${selected[@]}"; do
        IFS=: read -r name max_len dict <<<"$t"
        log=$work/$name.log
        result=ok
        if [ "${status[$name]}" != 0 ]; then
            result="FAILED (exit ${status[$name]}; input in $artifacts/$name/)"
            failed=1
        fi
        printf '%-24s %12s %10s %9s  %s\n' "$name" "$(final_stat "$log" number_of_executed_units)" \
            "$(final_stat "$log" average_exec_per_sec)" "$(final_stat "$log" new_units_added)" "$result"
    done
    for t in "${selected[@]}"; do
        IFS=: read -r name max_len dict <<<"$t"
        if [ "${status[$name]}" != 0 ]; then
            echo "---- $name: last 60 lines of its log"
            tail -n 60 "$work/$name.log"
        elif [ "$merge" = 1 ]; then
            "$build/tests/fuzz/$name" -merge=1 -max_len="$max_len" "tests/fuzz/corpus/$name" \
                "$work/$name" >"$work/$name.merge.log" 2>&1
            echo "$name: $(grep -o '[0-9]* new files' "$work/$name.merge.log" | tail -n 1) merged"
        fi
    done
    return $failed
}

main "$@"
exit $?
