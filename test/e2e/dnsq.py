#!/usr/bin/env python3
"""A tiny DNS client for the e2e tests: dnsq.py SERVER PORT NAME A|TXT.
Prints each answer's data (A: the address, TXT: the strings joined by
"|"), or "none"; exits 1 on no reply."""
import socket
import struct
import sys

server, port, name, qtype = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
qt = {"A": 1, "TXT": 16}[qtype]
q = struct.pack(">HHHHHH", 0x4242, 0x0100, 1, 0, 0, 0)
for label in name.rstrip(".").split("."):
    q += bytes([len(label)]) + label.encode()
q += b"\0" + struct.pack(">HH", qt, 1)
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(2)
s.sendto(q, (server, port))
try:
    r, _ = s.recvfrom(4096)
except socket.timeout:
    print("no reply")
    sys.exit(1)
an = struct.unpack(">H", r[6:8])[0]
off = len(q)  # the question is echoed, uncompressed
out = []
for _ in range(an):
    while r[off] != 0:  # our lighthouse never compresses
        off += r[off] + 1
    off += 1
    typ, _cls, _ttl, rdlen = struct.unpack(">HHIH", r[off:off + 10])
    off += 10
    data = r[off:off + rdlen]
    off += rdlen
    if typ == 1:
        out.append(socket.inet_ntoa(data))
    elif typ == 16:
        parts, i = [], 0
        while i < len(data):
            parts.append(data[i + 1:i + 1 + data[i]].decode())
            i += 1 + data[i]
        out.append("|".join(parts))
print("\n".join(out) if out else "none")
