#!/usr/bin/env python3
"""Send malformed and replayed datagrams at a node (test/e2e only).

usage: badpackets.py TARGET_IP PORT IFACE
Sends: random garbage, a short datagram, a data header with an unknown
index, a handshake message 1 whose payload is truncated, and a replay of
a real data packet sniffed on IFACE (AF_PACKET) on its way to TARGET.
Prints one line per kind sent; exits 1 if no data packet was seen.
"""
import os
import socket
import struct
import sys
import time

target, port, iface = sys.argv[1], int(sys.argv[2]), sys.argv[3]
out = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)


def send(kind, data):
    out.sendto(data, (target, port))
    print("sent", kind, len(data))


send("garbage", os.urandom(200))
send("short", b"\x11" * 10)
send("unknown-index", struct.pack(">BBHIQ", 0x11, 0, 0, 0xDEADBEEF, 5) + os.urandom(32))
send("truncated-handshake", struct.pack(">BBHIQ", 0x10, 0, 0, 0, 1) + os.urandom(64) + b"\x0a\xff\x01\x0a")
send("type-15", struct.pack(">BBHIQ", 0x1F, 0, 0, 1, 1))

# Sniff one data packet (type 1) addressed to target:port and replay it.
raw = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.ntohs(0x0800))
raw.bind((iface, 0))
raw.settimeout(0.5)
deadline = time.time() + 5
tip = socket.inet_aton(target)
while time.time() < deadline:
    try:
        frame = raw.recv(65535)
    except socket.timeout:
        continue
    ip = frame[14:]
    if len(ip) < 28 or ip[9] != 17 or ip[16:20] != tip:
        continue
    ihl = (ip[0] & 15) * 4
    udp = ip[ihl:]
    if struct.unpack(">H", udp[2:4])[0] != port:
        continue
    payload = udp[8:]
    if len(payload) > 32 and payload[0] == 0x11:
        send("replay", payload)
        sys.exit(0)
print("no data packet seen")
sys.exit(1)
