#!/bin/bash
# SIGTERM while a client never lets its connection go idle (a write sent every 2 ms, each
# taking 20 ms on the path, so about 8 always in flight and never all answered at once): mpiod closes the busy connection after its idle limit with
# nothing answered by an error, drains what it had taken, and exits 0 with no leak (the
# ASan build checks). Every write the client saw acknowledged is in the image; the ones
# left unanswered are the client's to send again when it reconnects.
source "$(dirname "$0")/lib.sh"
require nbdkit nbdinfo nbdsh python3

truncate -s 16M "$T/lun.img"
start_path a "$T/lun.img" --filter=delay wdelay=20ms
write_config "$T/mpiod.yaml" a
start_mpiod "$T/mpiod.yaml"

log "a write every 2 ms, about 8 in flight at all times; SIGTERM after the first 20 acknowledgements"
T="$T" MPIOD_PID=$MPIOD_PID nbdsh -u "$(LU_URI)" -c '
import errno, os, time
blocks = 16 * 1024 * 1024 // 4096
acked, unanswered, refused = [], 0, []
cookies = {}
next_block = 0
sent_term = False
def issue():
    global next_block
    b = next_block % blocks
    next_block += 1
    data = (b"%08d" % next_block) * 512
    cookies[h.aio_pwrite(data, b * 4096)] = (b, next_block)
deadline = time.monotonic() + 60
last_issue = 0.0
while time.monotonic() < deadline:
    try:
        now = time.monotonic()
        if now - last_issue >= 0.002 and h.aio_in_flight() < 16:
            issue()
            last_issue = now
        h.poll(1)
    except nbd.Error:
        break  # the connection is gone
    for cookie in list(cookies):
        try:
            done = h.aio_command_completed(cookie)
        except nbd.Error as e:
            if e.errno in (errno.ENOTCONN, "ENOTCONN"):  # (the binding gives its name)
                unanswered += 1
            else:
                refused.append((cookies[cookie], e.errno))
            del cookies[cookie]
            continue
        if done:
            acked.append(cookies.pop(cookie))
    if len(acked) >= 20 and not sent_term:
        os.kill(int(os.environ["MPIOD_PID"]), 15)
        sent_term = True
unanswered += len(cookies)  # still outstanding when the handle died
assert sent_term, "too few writes acknowledged to send SIGTERM"
assert not refused, "writes answered with an error: %r" % refused[:5]
assert h.aio_is_dead() or h.aio_is_closed(), "mpiod never closed the busy connection"
latest = {}
for b, n in acked:
    latest[b] = max(n, latest.get(b, 0))
with open(os.environ["T"] + "/acked", "w") as f:
    for b, n in sorted(latest.items()):
        f.write("%d %d\n" % (b, n))
print("%d writes acknowledged, %d unanswered when mpiod closed the connection"
      % (len(acked), unanswered))
' || fail "the client saw an error reply or no close"

rc=0
wait "$MPIOD_PID" || rc=$?
[ $rc = 0 ] || fail "mpiod exited with $rc after SIGTERM"
grep -q "still busy after" "$T/mpiod.log" || fail "mpiod did not log the busy connection"
python3 - "$T/lun.img" "$T/acked" <<'PY' || fail "an acknowledged write is not in the image"
import sys
img = open(sys.argv[1], "rb")
checked = 0
for line in open(sys.argv[2]):
    b, n = map(int, line.split())
    img.seek(b * 4096)
    got = img.read(4096)
    # A later write to the block may have landed unanswered; never an older one.
    assert got[:8].isdigit() and int(got[:8]) >= n, "block %d: want >= %d, got %r" % (b, n, got[:8])
    checked += 1
print("%d acknowledged blocks checked in the image" % checked)
PY
echo PASS
