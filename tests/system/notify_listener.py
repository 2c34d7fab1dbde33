"""A stand-in for systemd's notification socket (sd_notify(3)), for the system tests.

Usage: notify_listener.py SOCKET LOG [WATCH_FILE]
Binds an AF_UNIX datagram socket at SOCKET and appends one line per message to LOG:
"<monotonic seconds> <message, newlines shown as |>", flushed at once. When a message
holds READY=1 and WATCH_FILE is given, the line ends with " watch_file=1" or " watch_file=0":
whether WATCH_FILE existed when READY=1 arrived.
"""
import os
import socket
import sys
import time


def main():
    path, log_path = sys.argv[1], sys.argv[2]
    watch = sys.argv[3] if len(sys.argv) > 3 else None
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(path)
    with open(log_path, "a", buffering=1) as log:
        while True:
            data = sock.recv(65536)
            now = time.monotonic()
            text = data.decode("utf-8", "replace").strip("\n").replace("\n", "|")
            line = f"{now:.3f} {text}"
            if watch is not None and "READY=1" in text.split("|"):
                line += f" watch_file={int(os.path.exists(watch))}"
            log.write(line + "\n")


if __name__ == "__main__":
    main()
