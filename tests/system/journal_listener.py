"""A stand-in for journald's native socket, for the system tests.

Usage: journal_listener.py SOCKET LOG
Binds an AF_UNIX datagram socket at SOCKET and appends one JSON object per journal entry
to LOG, flushed at once. Entries use the native protocol: "FIELD=value" lines, or FIELD,
a newline, a 64-bit little-endian length and the raw value for values holding newlines.
"""
import json
import socket
import struct
import sys


def parse(data):
    fields = {}
    i = 0
    while i < len(data):
        nl = data.index(b"\n", i)
        line = data[i:nl]
        if b"=" in line:
            key, _, value = line.partition(b"=")
            i = nl + 1
        else:
            key = line
            (size,) = struct.unpack_from("<Q", data, nl + 1)
            start = nl + 9
            value = data[start:start + size]
            i = start + size + 1
        fields[key.decode()] = value.decode("utf-8", "replace")
    return fields


def main():
    path, log_path = sys.argv[1], sys.argv[2]
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(path)
    with open(log_path, "a", buffering=1) as log:
        while True:
            log.write(json.dumps(parse(sock.recv(1 << 20))) + "\n")


if __name__ == "__main__":
    main()
