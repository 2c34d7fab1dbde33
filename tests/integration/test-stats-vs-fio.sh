#!/usr/bin/env bash
# mpiod-ctl stats tells the latency and rate the client sees: fio reads an LU whose one path
# answers every read after 5 ms (nbdkit's delay filter), and `mpiod-ctl stats`, measured over
# 3 s of that run, reports the LU's median latency and its IOPS within a bucket's width of
# fio's own figures (mpiod's histogram buckets are at most 25 % wide), its 99th percentile
# within a factor of two (fio's covers all 8 s, a stall outside the 3 s moves it), and the
# path's median as the LU's.
source "$(dirname "$0")/lib.sh"
require nbdkit fio python3

truncate -s 64M "$T/lun.img"
start_path a "$T/lun.img" --filter=delay delay-read=5ms
write_config "$T/mpiod.yaml" a
start_mpiod "$T/mpiod.yaml"
wait_for 10 path_is a active || fail "path a not active"

log "fio: 4k random reads, QD4, 8 s; mpiod-ctl stats over 3 s of it"
fio --name=lat --ioengine=nbd --uri="$(LU_URI)" --rw=randread --bs=4k --iodepth=4 \
    --size=64M --time_based --runtime=8 --output-format=json --output="$T/fio.json" &
FIO=$!
PIDS+=("$FIO")
ios_before=$(path_ios a)
wait_for 10 path_ios_above a "$ios_before" || fail "fio's reads do not reach path a"
ctl --json stats --interval 3 >"$T/stats.json" || fail "mpiod-ctl stats failed"
kill -0 "$FIO" 2>/dev/null || fail "fio ended before the stats interval did: the figures would not overlap"
wait "$FIO" || fail "fio failed"

python3 - "$T/fio.json" "$T/stats.json" <<'PY'
import json, sys
text = open(sys.argv[1]).read()
job = json.loads(text[text.index("{"):])["jobs"][0]["read"]  # fio's nbd engine prints a line first
fio = {"p50": job["clat_ns"]["percentile"]["50.000000"] / 1000,
       "p99": job["clat_ns"]["percentile"]["99.000000"] / 1000,
       "iops": job["iops"]}
rows = json.load(open(sys.argv[2]))
lu = next(r for r in rows if r["path"] == "")
path = next(r for r in rows if r["path"] == "a")
mpiod = {"p50": lu["p50_us"], "p99": lu["p99_us"], "iops": lu["iops"]}
print("fio:  ", {k: round(v, 1) for k, v in fio.items()})
print("mpiod:", {k: round(v, 1) for k, v in mpiod.items()}, "path a p50", path["p50_us"])
bounds = {"p50": (0.75, 1.35), "p99": (0.5, 2.0), "iops": (0.7, 1.3)}
bad = [f"{k} {mpiod[k]:.1f} vs fio's {fio[k]:.1f}" for k, (lo, hi) in bounds.items()
       if not lo * fio[k] <= mpiod[k] <= hi * fio[k]]
if fio["p50"] < 4000:
    bad.append(f"fio's median {fio['p50']:.0f} us is below the path's 5 ms delay: the filter did not act")
if not 0.75 * lu["p50_us"] <= path["p50_us"] <= 1.35 * lu["p50_us"]:
    bad.append(f"path a's median {path['p50_us']} us is not the LU's {lu['p50_us']} us (one path, no retries)")
if bad:
    sys.exit("FAIL: " + "; ".join(bad))
print("mpiod's figures match fio's")
PY
log "PASS"
