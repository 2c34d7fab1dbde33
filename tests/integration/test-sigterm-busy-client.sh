#!/bin/bash
# SIGTERM while clients are busy. Two clients: one has sent a WRITE request and only half of
# its payload (busy for certain: a request is half read), the other sends a write every 2 ms,
# each taking 20 ms on the path, so about 8 are usually in flight. mpiod closes a busy
# connection after its idle limit (3 s) with nothing answered by an error; the writer's
# connection is closed either then, with writes in flight, or at an idle moment if the
# writer stalls; both are right. mpiod drains what it had taken and exits 0 with no leak (the
# ASan build checks). Every write the writer saw acknowledged is in the image; the ones left
# unanswered are the client's to send again when it reconnects.
source "$(dirname "$0")/lib.sh"
require nbdkit nbdinfo nbdsh python3

truncate -s 16M "$T/lun.img"
start_path a "$T/lun.img" --filter=delay wdelay=20ms
write_config "$T/mpiod.yaml" a
start_mpiod "$T/mpiod.yaml"

log "a client sends a WRITE request and half its payload, then waits for the close"
python3 - "$(LU_SOCK)" "$T" <<'PY' >"$T/stalled.out" 2>&1 &
import os, socket, struct, sys, time
s = socket.socket(socket.AF_UNIX)
s.settimeout(30)
s.connect(sys.argv[1])
def recvn(n):
    b = b""
    while len(b) < n:
        c = s.recv(n - len(b))
        assert c, "closed during the handshake"
        b += c
    return b
IHAVEOPT = 0x49484156454F5054
_, opt_magic, _ = struct.unpack(">QQH", recvn(18))
assert opt_magic == IHAVEOPT
s.sendall(struct.pack(">I", 1))  # NBD_FLAG_C_FIXED_NEWSTYLE
s.sendall(struct.pack(">QII", IHAVEOPT, 7, 6) + struct.pack(">IH", 0, 0))  # NBD_OPT_GO ""
while True:
    _, _, rtype, rlen = struct.unpack(">QIII", recvn(20))
    recvn(rlen)
    assert not rtype & 0x80000000, "NBD_OPT_GO refused: %#x" % rtype
    if rtype == 1:  # NBD_REP_ACK
        break
# NBD_CMD_WRITE of 4096 bytes at offset 0, with 2048 bytes of its payload.
s.sendall(struct.pack(">IHHQQI", 0x25609513, 0, 1, 7, 0, 4096) + b"x" * 2048)
open(sys.argv[2] + "/stalled", "w").close()
got = b""
while True:
    c = s.recv(4096)  # the timeout bounds it
    if not c:
        break
    got += c
print("closed, %d bytes received after the half request" % len(got))
PY
STALLED=$!
PIDS+=("$STALLED")
wait_for 10 test -e "$T/stalled" || fail "the half-request client did not get through the handshake"

log "a write every 2 ms, about 8 usually in flight; SIGTERM after the first 20 acknowledgements"
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
wait "$STALLED" || { cat "$T/stalled.out"; fail "the half-request client saw no close"; }
grep -q "closed, 0 bytes received" "$T/stalled.out" ||
    fail "the half request was answered: $(cat "$T/stalled.out")"
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
