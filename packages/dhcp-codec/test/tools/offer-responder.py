#!/usr/bin/env python3
"""Throwaway DHCPv4 responder used only by scripts/capture-fixtures.sh.

It answers every DISCOVER with a minimal OFFER and every REQUEST with an ACK so that
real clients move on from DISCOVER to REQUEST while the capture runs. It is not a
server: no lease state, no checks beyond what the capture needs, and it must only ever
run inside the capture script's own network namespace (it binds to one interface).

Usage: offer-responder.py IFACE SERVER_IP LOG_FILE

The address offered to a client is 192.0.2.(100 + last byte of its MAC), so each client
of a run gets a distinct, predictable address. Each reply is logged as one line
"<OFFER|ACK> <mac> <xid-hex> <yiaddr>" to LOG_FILE, which the capture script polls.
"""

import socket
import struct
import sys

MAGIC_COOKIE = b"\x63\x82\x53\x63"
BOOTP_FIXED_LEN = 236
LEASE_SECONDS = 3600


def parse_options(data: bytes) -> dict[int, bytes]:
    """Returns the options after the magic cookie; stops at END or at a truncated option."""
    options: dict[int, bytes] = {}
    i = BOOTP_FIXED_LEN + len(MAGIC_COOKIE)
    while i < len(data):
        code = data[i]
        if code == 0:
            i += 1
            continue
        if code == 255 or i + 1 >= len(data):
            break
        length = data[i + 1]
        options[code] = options.get(code, b"") + data[i + 2 : i + 2 + length]
        i += 2 + length
    return options


def build_reply(request: bytes, message_type: int, yiaddr: bytes, server: bytes) -> bytes:
    xid, _secs, flags = struct.unpack_from("!IHH", request, 4)
    giaddr = request[24:28]
    chaddr = request[28:44]
    header = struct.pack(
        "!BBBBIHH4s4s4s4s16s64s128s",
        2,  # op: BOOTREPLY
        1,  # htype: Ethernet
        6,  # hlen
        0,  # hops
        xid,
        0,  # secs
        flags,
        b"\0" * 4,  # ciaddr
        yiaddr,
        b"\0" * 4,  # siaddr
        giaddr,
        chaddr,
        b"",
        b"",
    )
    mask = socket.inet_aton("255.255.255.0")
    options = (
        bytes([53, 1, message_type])
        + bytes([54, 4])
        + server
        + bytes([51, 4])
        + struct.pack("!I", LEASE_SECONDS)
        + bytes([1, 4])
        + mask
        + bytes([3, 4])
        + server
        + bytes([255])
    )
    return header + MAGIC_COOKIE + options


def main() -> None:
    iface, server_ip, log_path = sys.argv[1], sys.argv[2], sys.argv[3]
    server = socket.inet_aton(server_ip)
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_BROADCAST, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_BINDTODEVICE, iface.encode())
    sock.bind(("0.0.0.0", 67))
    with open(log_path, "a", buffering=1) as log:
        log.write("READY\n")
        while True:
            data, _peer = sock.recvfrom(4096)
            if len(data) < BOOTP_FIXED_LEN + 4 or data[0] != 1:
                continue
            if data[BOOTP_FIXED_LEN : BOOTP_FIXED_LEN + 4] != MAGIC_COOKIE:
                continue
            kind = parse_options(data).get(53, b"")
            mac = data[28:34]
            yiaddr = socket.inet_aton(f"192.0.2.{100 + mac[5] % 100}")
            if kind == b"\x01":
                reply, label = build_reply(data, 2, yiaddr, server), "OFFER"
            elif kind == b"\x03":
                reply, label = build_reply(data, 5, yiaddr, server), "ACK"
            else:
                continue
            sock.sendto(reply, ("255.255.255.255", 68))
            xid = data[4:8].hex()
            log.write(f"{label} {mac.hex(':')} {xid} {socket.inet_ntoa(yiaddr)}\n")


if __name__ == "__main__":
    main()
