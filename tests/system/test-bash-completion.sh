#!/bin/bash
# ctl/mpiod-ctl.bash-completion completes mpiod-ctl's commands and options, and the live LU
# names and path ids the daemon lists where a command takes one (through the --socket on the
# command line); with no daemon answering, those complete to nothing.
# Usage: test-bash-completion.sh BUILD_DIR
export MPIOD_BUILD_DIR=${1:-${MPIOD_BUILD_DIR:-}}
[ -n "$MPIOD_BUILD_DIR" ] || { echo "usage: $0 BUILD_DIR" >&2; exit 64; }
source "$(dirname "$0")/../integration/lib.sh"
require nbdkit nbdinfo
source "$(dirname "$0")/../../ctl/mpiod-ctl.bash-completion"

# completes WANT WORDS...: completing the last of WORDS (after "mpiod-ctl") offers WANT
# (space-separated, in order).
completes() {
    local want=$1
    shift
    COMP_WORDS=("$MPIOD_CTL" "$@")
    COMP_CWORD=$#
    COMPREPLY=()
    _mpiod_ctl
    local got="${COMPREPLY[*]}"
    [ "$got" = "$want" ] || fail "mpiod-ctl $* <TAB>: got '$got', want '$want'"
    echo "ok: mpiod-ctl $* <TAB> -> ${want:-(nothing)}"
}

s=(--socket "$T/control.sock")
policies="service-time round-robin round-robin-with-subset least-queue-depth least-blocks weighted-paths failover-only"

truncate -s 64M "$T/disk.img"

log "static completions"
completes "status list show fail reinstate set detach shutdown" ""
completes "status show set shutdown" s # in the order of the command list
completes "--detach" shutdown --d
completes "" status --d
completes "lus paths lu" list ""
completes "lus paths lu" show ""
completes "path" fail ""
completes "path" reinstate ""
completes "policy" set ""
completes "--socket --json --fields --timeout --help" --
completes "--json" list --j
completes "" --timeout ""
completes "" --json --fields ""
completes "$T/disk.img" --socket "$T/dis"

log "no daemon: live names complete to nothing"
completes "" "${s[@]}" fail path ""
completes "" "${s[@]}" show lu ""

start_path a "$T/disk.img"
start_path b "$T/disk.img"
write_config "$T/mpiod.yaml" a b
start_mpiod "$T/mpiod.yaml"

log "live names from the daemon"
completes "a b" "${s[@]}" fail path ""
completes "b" "${s[@]}" reinstate path b
completes "a b" fail path --json "${s[@]}" ""
completes "lu0" --json --fields name,state "${s[@]}" show lu ""
completes "lu0" "${s[@]}" show lu ""
completes "lu0" "${s[@]}" list lu l
completes "lu0" "${s[@]}" set policy ""
completes "lu0" "${s[@]}" detach ""
completes "$policies" "${s[@]}" set policy lu0 ""
completes "round-robin round-robin-with-subset" "${s[@]}" set policy lu0 round
completes "" "${s[@]}" set policy lu0 round-robin ""
completes "" "${s[@]}" status ""
echo "PASS"
