#!/usr/bin/env python3
"""The attacker's tools for hostile_traffic.sh (test/e2e only).

Everything is sent to one TARGET IP:PORT given on the command line (an
address inside the test's namespaces), in bounded numbers, paced so that
the receiving socket keeps up.  Each command prints what it sent, one
"sent KIND N" line (and a few "KEY N" lines), flushed at once.

usage:
  hostile_traffic.py capture IFACE PORT SECONDS MAX OUT
      record (AF_PACKET, both directions) the UDP datagrams to or from
      PORT seen on IFACE, for SECONDS or until MAX of them: "ready", then
      "captured N".  Datagrams the kernel joined (UDP GSO/GRO) are cut
      back into the sender's datagrams (PACKET_VNET_HDR's gso_size).
  hostile_traffic.py flows CAP
      one line per flow of the capture: "flow SRC DST n N types T idx I
      maxctr C" (I: the header index of its transport packets).
  hostile_traffic.py flood TARGET COUNT
      COUNT datagrams of random bytes, random lengths 0-1472.
  hostile_traffic.py trunc TARGET CAP SRC DST REPS
      REPS times every length 0..32: random bytes, and the first bytes of
      a real packet of flow SRC>DST with a fresh counter; prints "sent
      trunc N", "short S" (shorter than a header), "auth A" (a real
      header, too short to open or a forged tag).
  hostile_traffic.py oversize TARGET COUNT
      COUNT datagrams of 9002-65507 bytes (both ends included).
  hostile_traffic.py replay TARGET CAP SRC DST [LEN]
      send again every datagram of flow SRC>DST (only those LEN bytes
      long with LEN): "sent replay N", "transport T" (T of them are
      messages under a tunnel's index and replay window).
  hostile_traffic.py count CAP SRC DST LEN
      the number of datagrams of flow SRC>DST that are LEN bytes long.
  hostile_traffic.py forge TARGET CAP SRC DST KIND COUNT
      COUNT forgeries with the header index of flow SRC>DST: recverror
      (type 2, counter 0), close (closeTunnel with fresh counters and a
      random tag), closeold (closeTunnel with the counters of captured
      packets), lhquery (a HostQuery for a random IP, fresh counter,
      random tag); lhqueryrand (the same under random indexes) and
      lhquerybare (the protobuf alone) ignore SRC and DST.
  hostile_traffic.py dns TARGET REPS
      DNS datagrams of every malformed shape, REPS times each, and
      random ones; prints "sent dns N", "noreply K", "rcode R K" per
      rcode received, and "mismatch SHAPE want W got G" for a shape whose
      answer is not the one lib/dns.h promises.
  hostile_traffic.py sender IP PORT RATE STOPFILE LIMIT
      send random bytes over TCP at RATE bytes/s until STOPFILE exists
      or LIMIT bytes are sent: "sent N sha256 HEX" (of what was sent).
"""
import hashlib
import os
import random
import socket
import struct
import sys
import time

ETH_P_ALL = 3
SOL_PACKET = 263
PACKET_VNET_HDR = 15
VNET_HDR_LEN = 10


def say(*a):
    print(*a, flush=True)


def addr(s):
    host, port = s.rsplit(":", 1)
    return host, int(port)


def udp_out():
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 1 << 20)
    # big datagrams leave in fragments
    s.setsockopt(socket.IPPROTO_IP, 10, 0)  # IP_MTU_DISCOVER: DONT
    return s


class Pacer:
    """At most `burst` datagrams, then a pause: ~burst/pause a second."""

    def __init__(self, burst=32, pause=0.002):
        self.n, self.burst, self.pause = 0, burst, pause

    def tick(self):
        self.n += 1
        if self.n % self.burst == 0:
            time.sleep(self.pause)


def send_all(target, datagrams, pacer=None):
    s = udp_out()
    if os.environ.get("HT_SRC"):  # a forged source, IP:PORT
        s.bind(addr(os.environ["HT_SRC"]))
    pacer = pacer or Pacer()
    n = 0
    for d in datagrams:
        while True:
            try:
                s.sendto(d, target)
                break
            except OSError:  # a full send queue: wait, never drop
                time.sleep(0.002)
        n += 1
        pacer.tick()
    return n


# --- capture ---------------------------------------------------------------

def capture(iface, port, seconds, limit, out):
    raw = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
    raw.setsockopt(SOL_PACKET, PACKET_VNET_HDR, 1)
    raw.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8 << 20)
    raw.bind((iface, 0))
    raw.settimeout(0.2)
    say("ready")
    end = time.time() + seconds
    recs = []
    while time.time() < end and len(recs) < limit:
        try:
            pkt = raw.recv(1 << 17)
        except socket.timeout:
            continue
        vh, frame = pkt[:VNET_HDR_LEN], pkt[VNET_HDR_LEN:]
        _flags, gso_type, _hl, gso_size = struct.unpack("<BBHH", vh[:6])
        if len(frame) < 14 + 28 or frame[12:14] != b"\x08\x00":
            continue
        ip = frame[14:]
        if ip[0] >> 4 != 4 or ip[9] != 17:
            continue
        ihl = (ip[0] & 15) * 4
        if (struct.unpack(">H", ip[6:8])[0] & 0x3fff) != 0:
            continue  # a fragment: not one of the nodes' datagrams
        udp = ip[ihl:]
        sport, dport = struct.unpack(">HH", udp[:4])
        if port not in (sport, dport):
            continue
        payload = udp[8:]
        if gso_type == 0 or gso_size == 0:
            ulen = struct.unpack(">H", udp[4:6])[0]
            segs = [payload[:max(0, ulen - 8)]]
        else:
            segs = [payload[i:i + gso_size] for i in range(0, len(payload), gso_size)]
        for p in segs:
            recs.append((ip[12:16], sport, ip[16:20], dport, p))
    with open(out + ".tmp", "wb") as f:
        for src, sp, dst, dp, p in recs:
            f.write(src + struct.pack(">H", sp) + dst + struct.pack(">HI", dp, len(p)) + p)
    os.rename(out + ".tmp", out)
    say("captured %d" % len(recs))


def load(cap):
    recs = []
    with open(cap, "rb") as f:
        b = f.read()
    i = 0
    while i < len(b):
        src, sp, dst, dp, n = b[i:i + 4], *struct.unpack(">H", b[i + 4:i + 6]), \
            b[i + 6:i + 10], *struct.unpack(">HI", b[i + 10:i + 16])
        i += 16
        recs.append(("%s:%d" % (socket.inet_ntoa(src), sp),
                     "%s:%d" % (socket.inet_ntoa(dst), dp), b[i:i + n]))
        i += n
    return recs


def flow(cap, src, dst):
    """The datagrams of flow src>dst (IP or IP:PORT each)."""
    def match(a, want):
        return a == want or a.split(":")[0] == want
    return [p for s, d, p in load(cap) if match(s, src) and match(d, dst)]


def transport(pkts):
    """(index, max counter) of a flow's transport packets (types 1, 3-6)."""
    idx, ctr = None, 0
    for p in pkts:
        if is_transport(p):
            i, c = struct.unpack(">IQ", p[4:16])
            idx = i if idx is None else idx
            ctr = max(ctr, c)
    return idx, ctr


def flows(cap):
    seen = {}
    for s, d, p in load(cap):
        seen.setdefault((s, d), []).append(p)
    for (s, d), ps in sorted(seen.items()):
        types = sorted({p[0] & 15 for p in ps if p})
        idx, ctr = transport(ps)
        say("flow %s %s n %d types %s idx %s maxctr %d" %
            (s, d, len(ps), ",".join(map(str, types)), idx, ctr))


def header(typ, sub, idx, ctr):
    return struct.pack(">BBHIQ", 0x10 | typ, sub, 0, idx, ctr)


FRESH = 1 << 40  # counters this far ahead pass any replay window check


def real_base(cap, src, dst):
    pkts = flow(cap, src, dst)
    idx, ctr = transport(pkts)
    if idx is None:
        say("no transport packet in flow %s>%s" % (src, dst))
        sys.exit(1)
    return pkts, idx, ctr


# --- attacks ---------------------------------------------------------------

def flood(target, count):
    rnd = random.Random(os.getpid())
    n = send_all(target, (os.urandom(rnd.randint(0, 1472)) for _ in range(count)))
    say("sent flood %d" % n)


def trunc(target, cap, src, dst, reps):
    _pkts, idx, ctr = real_base(cap, src, dst)
    out, short, auth = [], 0, 0
    for r in range(reps):
        for n in range(0, 33):
            out.append(os.urandom(n))
            short += n < 16
            real = header(1, 0, idx, ctr + FRESH + r * 64 + n) + os.urandom(16)
            out.append(real[:n])
            short += n < 16
            auth += n >= 16
    say("sent trunc %d" % send_all(target, out))
    say("short %d" % short)
    say("auth %d" % auth)


def oversize(target, count):
    rnd = random.Random(os.getpid())
    sizes = [9002, 65507] + [rnd.randint(9002, 65507) for _ in range(count - 2)]
    n = send_all(target, (os.urandom(s) for s in sizes[:count]), Pacer(4, 0.004))
    say("sent oversize %d" % n)


def is_transport(p):
    """A message under a tunnel's index and replay window."""
    return len(p) >= 32 and p[0] >> 4 == 1 and (p[0] & 15) in (1, 3, 4, 5, 6) \
        and not (p[0] & 15 == 1 and p[1] != 0)


def replay(target, cap, src, dst, length=None):
    pkts = [p for p in flow(cap, src, dst) if length is None or len(p) == length]
    say("sent replay %d" % send_all(target, pkts))
    say("transport %d" % sum(1 for p in pkts if is_transport(p)))


def count(cap, src, dst, length):
    say(sum(1 for p in flow(cap, src, dst) if len(p) == length))


def hostquery(ip):
    """NebulaMeta{Type: HostQuery, Details: {VpnIp: ip}} (wire.md 8)."""
    v, b = ip, b""
    while True:
        if v < 0x80:
            b += bytes([v])
            break
        b += bytes([v & 0x7f | 0x80])
        v >>= 7
    det = b"\x08" + b
    return b"\x08\x01\x12" + bytes([len(det)]) + det


def forge(target, cap, src, dst, kind, count):
    rnd = random.Random(os.getpid())
    if kind in ("lhqueryrand", "lhquerybare"):
        idx, ctr, pkts = 0, 0, []
    else:
        pkts, idx, ctr = real_base(cap, src, dst)
    old = [struct.unpack(">Q", p[8:16])[0] for p in pkts if len(p) >= 16]
    out = []
    for i in range(count):
        q = hostquery(rnd.getrandbits(32))
        if kind == "recverror":
            out.append(header(2, 0, idx, 0))
        elif kind == "close":
            out.append(header(5, 0, idx, ctr + FRESH + i) + os.urandom(16))
        elif kind == "closeold":
            out.append(header(5, 0, idx, old[i % len(old)]) + os.urandom(16))
        elif kind == "lhquery":
            out.append(header(3, 0, idx, ctr + FRESH + i) + q + os.urandom(16))
        elif kind == "lhqueryrand":
            out.append(header(3, 0, rnd.getrandbits(32) | 1, rnd.randint(3, 1 << 20))
                       + q + os.urandom(16))
        elif kind == "lhquerybare":
            out.append(q)
        else:
            say("unknown kind %s" % kind)
            sys.exit(64)
    say("sent %s %d" % (kind, send_all(target, out)))


# --- DNS -------------------------------------------------------------------

def qname(*labels):
    return b"".join(bytes([len(x)]) + x for x in labels) + b"\0"


def dnshdr(qid, flags=0x0100, qd=1, an=0, ns=0, ar=0):
    return struct.pack(">HHHHHH", qid, flags, qd, an, ns, ar)


def question(name=None, qtype=1, qclass=1):
    return (name if name is not None else qname(b"a")) + struct.pack(">HH", qtype, qclass)


def rr(typ, rdata, name=b"\0", cls=1):
    return name + struct.pack(">HHIH", typ, cls, 0, len(rdata)) + rdata


def dns_shapes():
    """(shape, want, builder(qid) -> bytes): want is an rcode, "none"
    (no answer at all) or "any" (an answer, rcode not predicted)."""
    Q = question()
    S = []
    for n in range(12):  # shorter than the header
        S.append(("len%d" % n, "none", lambda i, n=n: (dnshdr(i) + Q)[:n]))
    S.append(("qr", "none", lambda i: dnshdr(i, 0x8100) + Q))
    S.append(("qr-garbage", "none", lambda i: dnshdr(i, 0x8000 | random.getrandbits(15))
              + os.urandom(random.randint(0, 300))))
    for op in (1, 2, 3, 5, 6, 15):
        S.append(("opcode%d" % op, 4, lambda i, op=op: dnshdr(i, op << 11) + Q))
    S.append(("notify", 0, lambda i: dnshdr(i, 4 << 11) + Q))
    S.append(("qd0", 1, lambda i: dnshdr(i, qd=0) + Q))
    S.append(("qd2", 1, lambda i: dnshdr(i, qd=2) + Q + Q))
    S.append(("qd65535", 1, lambda i: dnshdr(i, qd=65535) + Q))
    S.append(("an2", 1, lambda i: dnshdr(i, an=2) + Q))
    S.append(("ns2", 1, lambda i: dnshdr(i, ns=2) + Q))
    S.append(("ar3", 1, lambda i: dnshdr(i, ar=3) + Q))
    S.append(("label64", 1, lambda i: dnshdr(i) + b"\x40" + b"x" * 64 + b"\0\0\1\0\1"))
    S.append(("label0x80", 1, lambda i: dnshdr(i) + b"\x81x\0\0\1\0\1"))
    S.append(("name256", 1, lambda i: dnshdr(i) + question(qname(*[b"y" * 63] * 4 + [b"zzz"]))))
    S.append(("label-past-end", 1, lambda i: dnshdr(i) + b"\x20abc"))
    S.append(("unterminated", 1, lambda i: dnshdr(i) + b"\x01a\x01b"))
    S.append(("ptr-self", 1, lambda i: dnshdr(i) + b"\xc0\x0c\0\1\0\1"))
    S.append(("ptr-loop", 1, lambda i: dnshdr(i) + b"\xc0\x0e\xc0\x0c\0\1\0\1"))
    S.append(("ptr-past-end", 1, lambda i: dnshdr(i) + b"\xc1\xff\0\1\0\1"))
    S.append(("ptr-cut", 1, lambda i: dnshdr(i) + b"\xc0"))
    S.append(("qtype-cut", 1, lambda i: dnshdr(i) + qname(b"a") + b"\0"))
    S.append(("header-only", 0, lambda i: dnshdr(i)))
    S.append(("qclass-missing", 0, lambda i: dnshdr(i) + qname(b"a") + b"\0\1"))
    S.append(("qclass-cut", 0, lambda i: dnshdr(i) + qname(b"a") + b"\0\1\0"))
    S.append(("an-bad-a", 1, lambda i: dnshdr(i, an=1) + Q + rr(1, b"\1\2\3")))
    S.append(("an-bad-aaaa", 1, lambda i: dnshdr(i, an=1) + Q + rr(28, b"\0" * 4)))
    S.append(("an-rdlen-past-end", 1, lambda i: dnshdr(i, an=1) + Q
              + b"\0" + struct.pack(">HHIH", 1, 1, 0, 400) + b"\1\2\3\4"))
    S.append(("an-cut", 1, lambda i: dnshdr(i, an=1) + Q + b"\0\0\1"))
    S.append(("opt-bad", 1, lambda i: dnshdr(i, ar=1) + Q
              + rr(41, struct.pack(">HH", 8, 2) + b"\0\1", cls=4096)))
    S.append(("opt-overrun", 1, lambda i: dnshdr(i, ar=1) + Q
              + rr(41, struct.pack(">HH", 10, 50) + b"x", cls=4096)))
    S.append(("opt-ok", 0, lambda i: dnshdr(i, ar=1) + Q + rr(41, b"", cls=4096)))
    S.append(("an-count-lie", 0, lambda i: dnshdr(i, an=1, ns=1, ar=2) + Q))
    S.append(("type-any", 0, lambda i: dnshdr(i) + question(qtype=255)))
    S.append(("type-axfr", 0, lambda i: dnshdr(i) + question(qtype=252)))
    S.append(("class-ch", 0, lambda i: dnshdr(i) + question(qclass=3)))
    S.append(("txt-outsider", 0, lambda i: dnshdr(i) + question(qname(*b"192.168.86.2".split(b".")), 16)))
    S.append(("name-binary", 0, lambda i: dnshdr(i) + question(qname(b"a\0b", b" .\\\xff"))))
    S.append(("trailing-junk", 0, lambda i: dnshdr(i) + Q + os.urandom(200)))
    S.append(("long-600", "any", lambda i: dnshdr(i) + Q + b"\0" * 600))
    S.append(("huge-65507", "any", lambda i: (dnshdr(i) + Q).ljust(65507, b"\xc0")))
    S.append(("garbage", "any", lambda i: struct.pack(">HH", i, random.getrandbits(16) & 0x7fff)
              + os.urandom(random.randint(8, 500))))
    S.append(("legit-a", 0, lambda i: dnshdr(i) + Q))
    return S


def dns(target, reps):
    s = udp_out()
    s.bind(("0.0.0.0", 0))
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
    shapes = dns_shapes()
    sent, want, got = 0, {}, {}
    answers_a = 0
    qid = 1
    for r in range(reps):
        for name, w, build in shapes:
            d = build(qid)
            want[qid] = (name, w)
            qid += 1
            s.sendto(d, target)
            sent += 1
            if len(d) > 4096:
                time.sleep(0.02)  # the responder's default socket buffer
            elif sent % 16 == 0:  # let the responder keep up
                time.sleep(0.003)
    s.settimeout(1.0)
    while True:
        try:
            d, _ = s.recvfrom(65535)
        except socket.timeout:
            break
        if len(d) < 12:
            say("bad reply of %d bytes" % len(d))
            continue
        i, flags, _qd, an = struct.unpack(">HHHH", d[:8])
        got[i] = flags & 15
        if want.get(i, ("", ""))[0] == "legit-a" and an == 1 and d[-4:] == bytes([192, 168, 86, 2]):
            answers_a += 1
    say("sent dns %d" % sent)
    say("noreply %d" % (len(want) - len(got)))
    for rc in sorted(set(got.values())):
        say("rcode %d %d" % (rc, sum(1 for v in got.values() if v == rc)))
    say("legit answered %d of %d" % (answers_a, reps))
    bad = {}
    for i, (name, w) in want.items():
        g = got.get(i, "none")
        if w == "any" and g != "none":
            continue
        if g != w:
            bad.setdefault(name, (w, g))
    for name, (w, g) in sorted(bad.items()):
        say("mismatch %s want %s got %s" % (name, w, g))


# --- the transfer ------------------------------------------------------------

def sender(ip, port, rate, stop, limit):
    s = socket.create_connection((ip, port), timeout=60)
    h = hashlib.sha256()
    chunk, off, t0 = 16384, 0, time.time()
    while off < limit and not os.path.exists(stop):
        ahead = off / rate - (time.time() - t0)
        if ahead > 0:
            time.sleep(min(ahead, 0.05))
            continue
        d = os.urandom(chunk)
        s.sendall(d)
        h.update(d)
        off += chunk
    s.shutdown(socket.SHUT_WR)
    s.recv(1)
    s.close()
    say("sent %d sha256 %s" % (off, h.hexdigest()))


def main():
    a = sys.argv[1:]
    cmd = a[0] if a else ""
    if cmd == "capture" and len(a) == 6:
        capture(a[1], int(a[2]), float(a[3]), int(a[4]), a[5])
    elif cmd == "flows" and len(a) == 2:
        flows(a[1])
    elif cmd == "flood" and len(a) == 3:
        flood(addr(a[1]), int(a[2]))
    elif cmd == "trunc" and len(a) == 6:
        trunc(addr(a[1]), a[2], a[3], a[4], int(a[5]))
    elif cmd == "oversize" and len(a) == 3:
        oversize(addr(a[1]), int(a[2]))
    elif cmd == "replay" and len(a) in (5, 6):
        replay(addr(a[1]), a[2], a[3], a[4], int(a[5]) if len(a) == 6 else None)
    elif cmd == "count" and len(a) == 5:
        count(a[1], a[2], a[3], int(a[4]))
    elif cmd == "forge" and len(a) == 7:
        forge(addr(a[1]), a[2], a[3], a[4], a[5], int(a[6]))
    elif cmd == "dns" and len(a) == 3:
        dns(addr(a[1]), int(a[2]))
    elif cmd == "sender" and len(a) == 6:
        sender(a[1], int(a[2]), float(a[3]), a[4], int(a[5]))
    else:
        sys.stderr.write(__doc__)
        sys.exit(64)


main()
