#!/usr/bin/env python3
"""An unauthenticated stranger for hostile_redirect.sh (test/e2e only).

usage:
  stranger.py forge LOCAL_IP TARGET_IP:PORT INDEX SECONDS
      send TARGET a bare 16-byte header: handshake (type 0, subtype 0),
      remote index INDEX, counter 2 -- a "late message 2" for the
      target's tunnel with that local index -- then listen.
  stranger.py replay LOCAL_IP TARGET_IP:PORT FILE SECONDS
      send TARGET the datagram in FILE (a sniffed message 1), then listen.
  stranger.py sniff IFACE PORT OUTFILE SECONDS
      capture (AF_PACKET on IFACE) the first handshake message 1 sent to
      UDP port PORT and write its UDP payload to OUTFILE.

forge and replay send from LOCAL_IP:4242, print "sent N bytes", then for
SECONDS print every datagram received ("got type=T subtype=S len=N
from=IP:PORT") and at the end "type1 COUNT" (data packets received) and
"done".  sniff prints "ready" once it listens and "captured N" (exit 0)
or "nothing captured" (exit 1).  Every line is flushed at once.
"""
import os
import socket
import struct
import sys
import time


def say(*a):
    print(*a, flush=True)


def addr(s):
    host, port = s.rsplit(":", 1)
    return host, int(port)


def send_and_listen(local, target, data, seconds):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind((local, 4242))
    s.sendto(data, addr(target))
    say("sent %d bytes" % len(data))
    end = time.time() + seconds
    type1 = 0
    while time.time() < end:
        s.settimeout(max(0.01, end - time.time()))
        try:
            pkt, src = s.recvfrom(65535)
        except socket.timeout:
            break
        t = pkt[0] & 15 if pkt else -1
        sub = pkt[1] if len(pkt) > 1 else -1
        if t == 1:
            type1 += 1
        say("got type=%d subtype=%d len=%d from=%s:%d" % (t, sub, len(pkt), src[0], src[1]))
    say("type1 %d" % type1)
    say("done")


def sniff(iface, port, out, seconds):
    raw = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.ntohs(0x0800))
    raw.bind((iface, 0))
    raw.settimeout(0.2)
    say("ready")
    end = time.time() + seconds
    while time.time() < end:
        try:
            frame = raw.recv(65535)
        except socket.timeout:
            continue
        ip = frame[14:]
        if len(ip) < 28 or ip[0] >> 4 != 4 or ip[9] != 17:
            continue
        ihl = (ip[0] & 15) * 4
        udp = ip[ihl:]
        if len(udp) < 8 or struct.unpack(">H", udp[2:4])[0] != port:
            continue
        payload = udp[8:struct.unpack(">H", udp[4:6])[0]]
        if len(payload) > 16 and payload[0] == 0x10 and payload[1] == 0 and \
                struct.unpack(">Q", payload[8:16])[0] == 1:
            with open(out + ".tmp", "wb") as f:
                f.write(payload)
            os.rename(out + ".tmp", out)
            say("captured %d" % len(payload))
            return 0
    say("nothing captured")
    return 1


def main():
    a = sys.argv[1:]
    if len(a) == 5 and a[0] == "forge":
        hdr = struct.pack(">BBHIQ", 0x10, 0, 0, int(a[3]), 2)
        send_and_listen(a[1], a[2], hdr, float(a[4]))
    elif len(a) == 5 and a[0] == "replay":
        with open(a[3], "rb") as f:
            data = f.read()
        send_and_listen(a[1], a[2], data, float(a[4]))
    elif len(a) == 5 and a[0] == "sniff":
        sys.exit(sniff(a[1], int(a[2]), a[3], float(a[4])))
    else:
        sys.stderr.write(__doc__)
        sys.exit(64)


main()
