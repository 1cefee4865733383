#!/usr/bin/env python3
"""UDP helpers for the hostile_* e2e tests (test/e2e only).

usage:
  udpprobe.py echo IP:PORT
      echo every datagram back to its sender, forever.
  udpprobe.py probe LOCAL_IP:PORT PEER_IP:PORT SECONDS READYFILE
      from LOCAL, send "legit-1" to PEER and wait 3 s for it to come
      back ("legit 1 reply" / "legit 1 noreply"); create READYFILE; then
      for SECONDS print every other datagram that arrives ("got IP:PORT
      TEXT"); then send "legit-2" and wait for it likewise.
  udpprobe.py flood COUNT BASE_IP PORT
      send one datagram to each of COUNT consecutive IPv4 addresses
      starting at BASE_IP (each enters the node's TUN device and starts a
      handshake); prints "sent COUNT".
Every line is flushed at once, so a test can watch the output.
"""
import ipaddress
import socket
import sys
import time


def addr(s):
    host, port = s.rsplit(":", 1)
    return host, int(port)


def say(*a):
    print(*a, flush=True)


def echo(local):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(addr(local))
    while True:
        data, src = s.recvfrom(65535)
        s.sendto(data, src)


def legit(s, peer, n, deadline):
    msg = b"legit-%d" % n
    s.sendto(msg, peer)
    while time.time() < deadline:
        s.settimeout(max(0.01, deadline - time.time()))
        try:
            data, src = s.recvfrom(65535)
        except socket.timeout:
            break
        if data == msg and src == peer:
            say("legit %d reply" % n)
            return
        say("got %s:%d %s" % (src[0], src[1], data.decode(errors="replace")))
    say("legit %d noreply" % n)


def probe(local, peer, seconds, ready):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(addr(local))
    peer = addr(peer)
    legit(s, peer, 1, time.time() + 3)
    open(ready, "w").close()
    end = time.time() + seconds
    while time.time() < end:
        s.settimeout(max(0.01, end - time.time()))
        try:
            data, src = s.recvfrom(65535)
        except socket.timeout:
            break
        say("got %s:%d %s" % (src[0], src[1], data.decode(errors="replace")))
    legit(s, peer, 2, time.time() + 3)


def flood(count, base, port):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    b = int(ipaddress.IPv4Address(base))
    for i in range(count):
        dst = str(ipaddress.IPv4Address(b + i))
        try:
            s.sendto(b"x", (dst, port))
        except OSError:
            time.sleep(0.001)  # a full queue: drop this one
        if i % 50 == 49:
            time.sleep(0.002)  # let the node keep up with its TUN queue
    say("sent %d" % count)


def main():
    a = sys.argv[1:]
    if len(a) == 2 and a[0] == "echo":
        echo(a[1])
    elif len(a) == 5 and a[0] == "probe":
        probe(a[1], a[2], float(a[3]), a[4])
    elif len(a) == 4 and a[0] == "flood":
        flood(int(a[1]), a[2], int(a[3]))
    else:
        sys.stderr.write(__doc__)
        sys.exit(64)


main()
