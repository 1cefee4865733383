#!/usr/bin/env python3
"""A bad wire between two interfaces (test/e2e only): what tc-netem does
to a link, for kernels built without sch_netem.

usage: impair.py IF1 IF2 STATSFILE [--loss P] [--delay MS] [--jitter MS]
                 [--dup P] [--reorder P] [--seed N]

Every Ethernet frame received on one interface goes out of the other
(an AF_PACKET bridge; run it in the namespace that holds both).  It
starts clean, forwarding at once; SIGUSR1 turns the impairment on and
SIGUSR2 off again.  Impaired, as netem does it: a frame is lost with
probability P % (--loss); otherwise it leaves after --delay ms plus or
minus up to --jitter ms (uniform), so that frames held for different
times overtake each other, except that with probability --reorder % it
leaves at once, overtaking those held; with probability --dup % a copy
follows it, delayed on its own.

The frames a sender's kernel hands to a veth carry UDP checksums left
for the hardware to fill (CHECKSUM_PARTIAL): re-sent as plain bytes they
would be wrong, so the checksum of every IPv4 UDP datagram is set to 0,
"none", which IPv4 allows.  Frames longer than the MTU (segmentation
offload: set gso_max_segs 1 on the devices that send into this one) are
dropped and counted as "oversize".

What happened is written to STATSFILE, one JSON object, at each toggle
and at SIGTERM: frames received, sent, lost, duplicated, and sent after
a frame that arrived later in the same direction ("reordered").
"""
import argparse
import heapq
import json
import os
import random
import select
import signal
import socket
import sys
import time

ETH_P_ALL = 0x0003
PACKET_OUTGOING = 4
MAX_FRAME = 1514


def zero_udp_csum(f):
    """f: a bytearray frame; IPv4 UDP (first fragment): checksum 0."""
    if len(f) < 34 or f[12:14] != b"\x08\x00" or f[14] >> 4 != 4:
        return
    ihl = (f[14] & 15) * 4
    frag = ((f[20] & 0x1F) << 8) | f[21]
    if f[23] != 17 or frag != 0 or len(f) < 14 + ihl + 8:
        return
    f[14 + ihl + 6] = 0
    f[14 + ihl + 7] = 0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("if1")
    ap.add_argument("if2")
    ap.add_argument("stats")
    ap.add_argument("--loss", type=float, default=0)
    ap.add_argument("--delay", type=float, default=0)
    ap.add_argument("--jitter", type=float, default=0)
    ap.add_argument("--dup", type=float, default=0)
    ap.add_argument("--reorder", type=float, default=0)
    ap.add_argument("--seed", type=int, default=1)
    a = ap.parse_args()
    rnd = random.Random(a.seed)
    socks = []
    for name in (a.if1, a.if2):
        s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW,
                          socket.htons(ETH_P_ALL))
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4 << 20)
        s.bind((name, ETH_P_ALL))
        s.setblocking(False)
        socks.append(s)
    st = {"impaired": False, "received": 0, "sent": 0, "lost": 0,
          "duplicated": 0, "reordered": 0, "oversize": 0, "sendErrors": 0}
    on = [False]
    held = []           # (due, order, direction, arrival number, frame)
    arrivals = [0, 0]   # per direction
    newest_sent = [0, 0]
    order = [0]

    def dump():
        st["impaired"] = on[0]
        tmp = a.stats + ".tmp"
        with open(tmp, "w") as fh:
            json.dump(st, fh)
        os.replace(tmp, a.stats)

    def toggle(v):
        def h(signum, frame):
            on[0] = v
            dump()
        return h

    def term(signum, frame):
        dump()
        sys.exit(0)

    signal.signal(signal.SIGUSR1, toggle(True))
    signal.signal(signal.SIGUSR2, toggle(False))
    signal.signal(signal.SIGTERM, term)
    dump()

    def send(d, num, f):
        if num < newest_sent[d]:
            st["reordered"] += 1
        else:
            newest_sent[d] = num
        try:
            socks[1 - d].send(f)
            st["sent"] += 1
        except OSError:
            st["sendErrors"] += 1

    def hold(d, num, f, ms):
        order[0] += 1
        heapq.heappush(held, (time.monotonic() + ms / 1000.0, order[0], d,
                              num, f))

    def delay_ms():
        return max(0.0, a.delay + rnd.uniform(-a.jitter, a.jitter))

    while True:
        now = time.monotonic()
        while held and held[0][0] <= now:
            _, _, d, num, f = heapq.heappop(held)
            send(d, num, f)
        timeout = max(0.0, held[0][0] - now) if held else 0.5
        try:
            r, _, _ = select.select(socks, [], [], timeout)
        except InterruptedError:
            continue
        for s in r:
            d = socks.index(s)
            for _ in range(256):
                try:
                    data, addr = s.recvfrom(65535)
                except BlockingIOError:
                    break
                if addr[2] == PACKET_OUTGOING:  # our own sends
                    continue
                st["received"] += 1
                if len(data) > MAX_FRAME:
                    st["oversize"] += 1
                    continue
                f = bytearray(data)
                zero_udp_csum(f)
                arrivals[d] += 1
                num = arrivals[d]
                if not on[0]:
                    send(d, num, f)
                    continue
                if rnd.random() * 100 < a.loss:
                    st["lost"] += 1
                    continue
                if rnd.random() * 100 < a.reorder:
                    send(d, num, f)
                else:
                    hold(d, num, f, delay_ms())
                if rnd.random() * 100 < a.dup:
                    st["duplicated"] += 1
                    hold(d, num, bytes(f), delay_ms())


if __name__ == "__main__":
    main()
