#!/bin/bash
# Metrics: mpiod with `metrics: 127.0.0.1:PORT` serves GET /metrics, which passes
# `promtool check metrics`; a real Prometheus server on loopback scrapes it every second and
# sees the killed path's failover count go up. promtool, prometheus and curl are installed by
# scripts/install-deps.sh, so a missing one fails the test instead of skipping it.
source "$(dirname "$0")/lib.sh"
require nbdkit nbdinfo nbdcopy python3
for tool in promtool prometheus curl; do
    command -v "$tool" >/dev/null || fail "$tool is not installed (scripts/install-deps.sh installs it)"
done

free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

truncate -s 64M "$T/lun.img"
start_path a "$T/lun.img"
start_path b "$T/lun.img"
POLICY=round-robin write_config "$T/mpiod.yaml" a b
MPORT=$(free_port)
echo "metrics: 127.0.0.1:$MPORT" >>"$T/mpiod.yaml"
start_mpiod "$T/mpiod.yaml"
METRICS_URL=http://127.0.0.1:$MPORT/metrics

log "I/O through both paths, so counters and histograms have values"
head -c 4M /dev/urandom >"$T/data"
nbdcopy "$T/data" "$(LU_URI)"
wait_for 10 path_ios_above b 0 || fail "path b carried no I/O"

log "GET /metrics passes promtool check metrics"
curl -fsS -D "$T/headers" "$METRICS_URL" >"$T/metrics.txt"
grep -qi '^content-type: text/plain; version=0.0.4' "$T/headers" || fail "wrong content type: $(cat "$T/headers")"
promtool check metrics <"$T/metrics.txt" || fail "promtool check metrics found problems"
grep -q '^mpiod_path_failovers_total{lu="lu0",path="b",wwid="'"$WWID"'"} 0$' "$T/metrics.txt" ||
    fail "no failover counter 0 for path b: $(grep failovers "$T/metrics.txt")"
grep -q '^mpiod_path_state{lu="lu0",path="b",wwid="'"$WWID"'",state="active"} 1$' "$T/metrics.txt" ||
    fail "path b is not shown active"
grep -q '^mpiod_lu_io_latency_seconds_count{lu="lu0",wwid="'"$WWID"'"} [1-9]' "$T/metrics.txt" ||
    fail "no client latency counted"

log "other paths get 404, other methods 405"
code() { curl -s -o /dev/null -w '%{http_code}' "$@"; }
[ "$(code "http://127.0.0.1:$MPORT/")" = 404 ] || fail "/ did not answer 404"
[ "$(code -X POST "$METRICS_URL")" = 405 ] || fail "POST /metrics did not answer 405"

log "a Prometheus server on loopback scrapes mpiod every second"
PPORT=$(free_port)
cat >"$T/prometheus.yml" <<YAML
global:
  scrape_interval: 1s
  scrape_timeout: 1s
scrape_configs:
  - job_name: mpiod
    static_configs:
      - targets: ["127.0.0.1:$MPORT"]
YAML
promtool check config "$T/prometheus.yml" >/dev/null || fail "bad Prometheus configuration"
prometheus --config.file="$T/prometheus.yml" --storage.tsdb.path="$T/prometheus-data" \
    --web.listen-address="127.0.0.1:$PPORT" >"$T/prometheus.log" 2>&1 &
PIDS+=("$!")
PROM=http://127.0.0.1:$PPORT

# query EXPR: the value of the first series of an instant query, or "none".
query() {
    curl -fsS --get "$PROM/api/v1/query" --data-urlencode "query=$1" | python3 -c '
import json, sys
r = json.load(sys.stdin)["data"]["result"]
print(r[0]["value"][1] if r else "none")'
}
query_is() { [ "$(query "$1")" = "$2" ]; }
query_at_least() { local v; v=$(query "$1") && [ "$v" != none ] && python3 -c "import sys; sys.exit(0 if float('$v') >= $2 else 1)"; }

B_FAILOVERS="mpiod_path_failovers_total{job=\"mpiod\",path=\"b\"}"
wait_for 60 query_is 'up{job="mpiod"}' 1 ||
    { tail -20 "$T/prometheus.log" >&2; fail "Prometheus never scraped mpiod"; }
wait_for 30 query_is "$B_FAILOVERS" 0 || fail "Prometheus has no failover count 0 for path b"

log "killing path b; Prometheus must see its failover count go up"
kill_path b
wait_for 60 query_at_least "$B_FAILOVERS" 1 ||
    fail "Prometheus never saw path b's failovers rise (last: $(query "$B_FAILOVERS"))"
query_is "mpiod_path_failovers_total{job=\"mpiod\",path=\"a\"}" 0 || fail "path a counted a failover"
query_is 'mpiod_lu_state{job="mpiod",state="ready"}' 1 || fail "the LU is not ready on one path"

log "the text still passes promtool after the failover"
curl -fsS "$METRICS_URL" | promtool check metrics || fail "promtool check metrics found problems"
echo PASS
