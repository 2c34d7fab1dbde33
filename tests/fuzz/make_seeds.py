#!/usr/bin/env python3
"""Writes the seed corpora of the NBD, control and SCSI fuzz targets into corpus/<target>/.

The seeds are committed; this script documents how they were made and remakes them after a
protocol change (python3 make_seeds.py). It only adds or overwrites its own seed-* files:
inputs found by fuzzing (merged with scripts/fuzz.sh --merge) and crash-* regressions stay.
The config seeds are config/examples/*.yaml plus a few hand-written files in the corpus.
"""
import json
import pathlib
import struct

HERE = pathlib.Path(__file__).resolve().parent
CORPUS = HERE / "corpus"

# NBD protocol values (exports/nbd/nbd_wire.hpp, the NBD spec).
OPTION_MAGIC = 0x49484156454F5054
REQUEST_MAGIC = 0x25609513
FIXED_NEWSTYLE, NO_ZEROES = 1, 2
OPT = dict(export_name=1, abort=2, list=3, starttls=5, info=6, go=7, structured_reply=8,
           list_meta_context=9, set_meta_context=10)
INFO_NAME, INFO_BLOCK_SIZE = 1, 3
CMD = dict(read=0, write=1, disc=2, flush=3, trim=4, cache=5, write_zeroes=6, block_status=7)
FLAG_FUA, FLAG_NO_HOLE, FLAG_DF, FLAG_REQ_ONE = 1, 2, 4, 8


def option(opt, data=b"", length=None):
    return struct.pack(">QII", OPTION_MAGIC, opt, len(data) if length is None else length) + data


def info_request(name, infos=()):
    raw = name.encode()
    return struct.pack(">I", len(raw)) + raw + struct.pack(">H", len(infos)) + b"".join(
        struct.pack(">H", i) for i in infos)


def request(cmd, cookie, offset=0, length=0, flags=0, payload=None):
    header = struct.pack(">IHHQQI", REQUEST_MAGIC, flags, CMD[cmd], cookie, offset, length)
    if cmd == "write":
        header += bytes([cookie & 0xFF]) * length if payload is None else payload
    return header


def meta_request(name, queries):
    raw = name.encode()
    return struct.pack(">I", len(raw)) + raw + struct.pack(">I", len(queries)) + b"".join(
        struct.pack(">I", len(q)) + q.encode() for q in queries)


def disc(cookie=99):
    return request("disc", cookie)


def flags(f=FIXED_NEWSTYLE | NO_ZEROES):
    return struct.pack(">I", f)


def write(target, name, data):
    d = CORPUS / target
    d.mkdir(parents=True, exist_ok=True)
    (d / f"seed-{name}").write_bytes(data)


def handshake_seeds():
    io = (request("read", 1, 0, 4096) + request("write", 2, 4096, 512) + request("flush", 3) +
          request("trim", 4, 8192, 4096) + request("write_zeroes", 5, 0, 1024, FLAG_NO_HOLE) +
          disc())
    seeds = {
        "go-lun0-then-io": flags() + option(OPT["go"], info_request(
            "lun0", [INFO_NAME, INFO_BLOCK_SIZE])) + io,
        "export-name-lun0-then-io": flags() + option(OPT["export_name"], b"lun0") + io,
        "export-name-with-zeroes": flags(FIXED_NEWSTYLE) + option(OPT["export_name"], b"lun1") +
        request("read", 1, 0, 512) + disc(),
        "list-info-go-lun1": flags() + option(OPT["list"]) + option(
            OPT["info"], info_request("lun1", [INFO_NAME])) + option(
                OPT["go"], info_request("lun1")) + request("read", 7, 65536, 1) + request(
                    "write", 8, 0, 512) + disc(),
        "abort": flags() + option(OPT["abort"]),
        "list-with-data": flags() + option(OPT["list"], b"x") + option(OPT["abort"]),
        "starttls": flags() + option(OPT["starttls"]) + option(OPT["abort"]),
        "structured-reply": flags() + option(OPT["structured_reply"]) + option(
            OPT["go"], info_request("lun0")) + request("read", 1, 0, 512, FLAG_DF) + disc(),
        "meta-contexts": flags() + option(OPT["list_meta_context"], meta_request(
            "lun0", [])) + option(OPT["structured_reply"], b"x") + option(
                OPT["structured_reply"]) + option(OPT["list_meta_context"], meta_request(
                    "lun0", [])) + option(OPT["list_meta_context"], meta_request(
                        "", ["base:", "x-other:thing"])) + option(
                            OPT["set_meta_context"], meta_request("lun9", ["base:allocation"])) +
        option(OPT["set_meta_context"], b"\x00\x00\x00\x04lun0\x00\x00\x00\x05") + option(
            OPT["set_meta_context"], meta_request("lun0", ["base:allocation"])) + option(
                OPT["go"], info_request("lun0")) + request("block_status", 1, 0, 65536) +
        request("block_status", 2, 512, 4096, FLAG_REQ_ONE) + request("cache", 3, 0, 4096) +
        disc(),
        "meta-context-other-export": flags() + option(OPT["structured_reply"]) + option(
            OPT["set_meta_context"], meta_request("lun1", ["base:"])) + option(
                OPT["go"], info_request("lun0")) + request("block_status", 1, 0, 512) + disc(),
        "unknown-option": flags() + option(0x1234, b"abc") + option(OPT["abort"]),
        "info-unknown-name": flags() + option(OPT["info"], info_request("nope")) + option(
            OPT["go"], info_request("", [INFO_BLOCK_SIZE])),
        "info-malformed": flags() + option(OPT["info"], b"\x00\x00\x00\x09lun0") + option(
            OPT["go"], b"\x00\x00"),
        "export-name-unknown": flags() + option(OPT["export_name"], b"nope"),
        "option-too-big-truncated": flags() + option(OPT["list"], b"\x00" * 16, length=70000),
        "option-over-discard-limit": flags() + option(OPT["list"], length=2 << 20),
        "bad-option-magic": flags() + struct.pack(">QII", 0x4E42444D41474943, OPT["list"], 0),
        "unknown-client-flags": flags(0x80000001),
        "truncated-flags": b"\x00\x00",
    }
    for name, data in seeds.items():
        write("fuzz_nbd_handshake", name, data)


def transmission_seeds():
    # Shape byte (fuzz_nbd_transmission.cpp): 1 read-only, 2 flush, 4 fua, 8 trim,
    # 16 write-zeroes, 32 min block 512, 64 tight limits, 128 failing target; then the mode
    # byte: 0 simple replies, 1 structured replies, 3 structured replies and base:allocation.
    full = 2 | 4 | 8 | 16 | 32
    simple = {
        "read-write-flush-trim-zeroes": bytes([full]) + request("read", 1, 0, 4096) + request(
            "write", 2, 512, 1024, FLAG_FUA) + request("flush", 3) + request(
                "trim", 4, 4096, 8192) + request("write_zeroes", 5, 0, 512, FLAG_NO_HOLE) +
        request("read", 6, 512, 1024) + disc(),
        "read-only-refuses-writes": bytes([1 | 2]) + request("write", 1, 0, 512) + request(
            "trim", 2, 0, 512) + request("read", 3, 0, 512) + request("flush", 4) + disc(),
        "tight-limits-pipelined": bytes([full | 64]) + b"".join(
            request("read", c, 512 * c, 4096) for c in range(1, 9)) + request(
                "write", 20, 0, 6144) + request("write", 21, 0, 512) + disc(),
        "tight-limits-refused-write-skipped": bytes([64]) + request(
            "write", 1, 0, 3000, FLAG_FUA) + request("read", 2, 0, 100) + disc(),
        "refused-write-too-large-to-skip": bytes([64]) + request("write", 1, 0, 9000) + disc(),
        "failing-target": bytes([full | 128]) + request("read", 1, 0, 512) + request(
            "write", 2, 0, 512) + request("flush", 3) + request("read", 4, 0, 512) + disc(),
        "out-of-bounds-and-unaligned": bytes([full]) + request("read", 1, 266240, 512) + request(
            "write", 2, 266240, 512) + request("read", 3, 1, 512) + request(
                "read", 4, 0xFFFFFFFFFFFFFE00, 512) + request("write_zeroes", 5, 0, 0) + disc(),
        "unsupported-commands": bytes([0]) + request("cache", 1, 0, 512) + request(
            "block_status", 2, 0, 512) + request("flush", 3) + request("trim", 4, 0, 512) +
        struct.pack(">IHHQQI", REQUEST_MAGIC, 0, 99, 5, 0, 0) + disc(),
        "zero-length-read": bytes([2]) + request("read", 1, 0, 0) + request(
            "read", 2, 0, 0x2000000) + disc(),
        "bad-magic": bytes([0]) + request("read", 1, 0, 512) + struct.pack(
            ">IHHQQI", 0x67446698, 0, 0, 2, 0, 512),
        "partial-header": bytes([0]) + request("read", 1, 0, 512)[:20],
        "no-disc": bytes([full]) + request("write", 1, 0, 512) + request("read", 2, 0, 512),
    }
    seeds = {name: data[:1] + b"\x00" + data[1:] for name, data in simple.items()}
    seeds.update({
        "structured-reads-and-errors": bytes([full | 128, 1]) + request("read", 1, 0, 512) +
        request("read", 2, 0, 512, FLAG_DF) + request("read", 3, 0, 0) + request(
            "read", 4, 1 << 30, 512) + request("read", 5, 512, 4096, FLAG_DF) + request(
                "block_status", 6, 0, 512) + request("write", 7, 0, 512) + disc(),
        "block-status": bytes([full, 3]) + request("write", 1, 65536, 8192) + request(
            "block_status", 2, 0, 262144) + request("block_status", 3, 61440, 65536,
                                                    FLAG_REQ_ONE) + request(
            "block_status", 4, 0, 0) + request("block_status", 5, 266240, 4096) + request(
                "block_status", 6, 0, 512, FLAG_FUA) + request("cache", 7, 0, 4096) + request(
                    "cache", 8, 266240, 4096) + disc(),
        "block-status-failing-tight": bytes([full | 64 | 128, 3]) + b"".join(
            request("block_status", c, 512 * c, 8192, FLAG_REQ_ONE * (c % 2))
            for c in range(1, 9)) + disc(),
    })
    for name, data in seeds.items():
        write("fuzz_nbd_transmission", name, data)


def control_seeds():
    def line(obj):
        return (json.dumps(obj) + "\n").encode()

    commands = {
        "status": {"command": "status"},
        "list-lus": {"command": "list-lus"},
        "list-paths": {"command": "list-paths"},
        "show-lu-by-name": {"command": "show-lu", "lu": "lun0"},
        "show-lu-by-wwid": {"command": "show-lu", "lu": "wwid-1"},
        "show-lu-unknown": {"command": "show-lu", "lu": "nope"},
        "fail-path": {"command": "fail-path", "path": "a"},
        "reinstate-path": {"command": "reinstate-path", "path": "c"},
        "set-policy": {"command": "set-policy", "lu": "lun0", "policy": "round-robin"},
        "set-policy-unknown": {"command": "set-policy", "lu": "lun0", "policy": "bogus"},
        "shutdown": {"command": "shutdown"},
        "shutdown-detach": {"command": "shutdown", "detach": True},
        "shutdown-detach-mistyped": {"command": "shutdown", "detach": "yes"},
        "detach": {"command": "detach", "lu": "lun1"},
        "resize": {"command": "resize", "lu": "lun0"},
        "missing-argument": {"command": "fail-path"},
        "empty-argument": {"command": "fail-path", "path": ""},
        "mistyped-argument": {"command": "show-lu", "lu": 7},
        "command-not-string": {"command": 5},
        "unknown-command": {"command": "reboot"},
        "no-command": {},
        "extra-fields": {"command": "status", "verbose": True, "x": [1, {"y": None}]},
    }
    for name, obj in commands.items():
        write("fuzz_control", name, line(obj))
    write("fuzz_control", "not-an-object", b"[1,2]\n")
    write("fuzz_control", "malformed-json", b'{"command": "status"\n')
    write("fuzz_control", "pipelined-crlf-blank-lines",
          b"".join(line(o).replace(b"\n", b"\r\n") + b"  \t\n" for o in commands.values()))
    write("fuzz_control", "last-line-without-newline", b'{"command":"list-paths"}')
    write("fuzz_control", "unicode-escapes", line({"command": "show-lu", "lu": "\u00e9\ud83d\ude00"}))


def vpd_seeds():
    # Byte 0 chooses the parser (fuzz_vpd.cpp): 0 standard INQUIRY, 1 VPD 0x00, 2 VPD 0x80,
    # 3 VPD 0xB0, 4 VPD 0xB2, 5 VPD 0x83, 6 REPORT TARGET PORT GROUPS, 7 READ CAPACITY(16),
    # 8 REPORT LUNS, 9 sense data.
    def vpd(code, body):
        return bytes([0, code]) + struct.pack(">H", len(body)) + body

    def designator(code_set, assoc, dtype, value, protocol=0, piv=False):
        return bytes([protocol << 4 | code_set, (0x80 if piv else 0) | assoc << 4 | dtype, 0,
                      len(value)]) + value

    inquiry = bytes([0, 0, 6, 2, 31, 0, 0x10, 0x02]) + b"LIO-ORG " + b"disk0           " + b"4.0 "
    naa6 = bytes.fromhex("6001405f00dbabe0123456789abcdef0")
    seeds = {
        "standard-inquiry-alua": bytes([0]) + inquiry,
        "supported-pages": bytes([1]) + vpd(0x00, bytes([0x00, 0x80, 0x83, 0xB0, 0xB2])),
        "unit-serial": bytes([2]) + vpd(0x80, b"  f00dbabe-0001  "),
        "block-limits": bytes([3]) + vpd(0xB0, bytes([0, 0]) + struct.pack(
            ">HIIIIIII", 1, 2048, 128, 0x4000, 16, 0, 0, 0) + struct.pack(">Q", 0xFFFF) +
            bytes(8)),
        "logical-block-provisioning": bytes([4]) + vpd(0xB2, bytes([0, 0xE0, 0x02, 0])),
        "device-identification-naa6-tpg-port": bytes([5]) + vpd(0x83, designator(
            1, 0, 3, naa6) + designator(2, 0, 1, b"LIO-ORG f00dbabe 0001") + designator(
                1, 1, 4, bytes([0, 0, 0, 2]), protocol=5, piv=True) + designator(
                    1, 1, 5, bytes([0, 0, 0, 1]), protocol=5, piv=True) + designator(
                        3, 2, 8, b"iqn.2003-01.org.example:disk0\0\0\0")),
        "device-identification-eui64-name": bytes([5]) + vpd(0x83, designator(
            1, 0, 2, bytes(range(8))) + designator(3, 0, 8, b"naa.6001405F00DBABE\0")),
        "report-target-port-groups-extended": bytes([6]) + struct.pack(
            ">IBBBB", 8 + 12 + 16, 0x10, 30, 0, 0) + bytes([0x80, 0x8F, 0, 1, 0, 0, 0, 1]) +
        struct.pack(">HH", 0, 2) + bytes([0x01, 0x8F, 0, 2, 0, 0, 0, 2]) + struct.pack(
            ">HHHH", 0, 3, 0, 4),
        "report-target-port-groups-plain": bytes([6]) + struct.pack(">I", 12) + bytes(
            [0x02, 0x8F, 0, 7, 0, 0, 0, 1]) + struct.pack(">HH", 0, 9),
        "read-capacity16": bytes([7]) + struct.pack(">QIBBH", 2097151, 512, 0x00, 0x03,
                                                    0xC000) + bytes(16),
        "report-luns": bytes([8]) + struct.pack(">II", 24, 0) + bytes(8) + bytes(
            [0, 1, 0, 0, 0, 0, 0, 0]) + bytes([0x40, 0x05, 0, 0, 0, 0, 0, 0]),
        "sense-fixed-unit-attention": bytes([9, 0x70, 0, 0x06, 0, 0, 0, 0, 10, 0, 0, 0, 0, 0x29,
                                             0x00, 0, 0, 0, 0]),
        "sense-descriptor-not-ready": bytes([9, 0x72, 0x02, 0x04, 0x0A, 0, 0, 0, 0]),
    }
    for name, data in seeds.items():
        write("fuzz_vpd", name, data)


if __name__ == "__main__":
    handshake_seeds()
    transmission_seeds()
    control_seeds()
    vpd_seeds()
