#!/usr/bin/env python3
"""Servers and probes for the firewall e2e test (test/e2e only).

fwprobe.py serve IP TCPPORTS UDPPORTS   echo servers on IP (comma lists)
fwprobe.py tcp IP PORT [TIMEOUT]        connect; prints pass/refused/timeout
fwprobe.py udp IP PORT [TIMEOUT]        send, wait for the echo; same words
Exit status 0 for pass, 1 otherwise.
"""
import select
import socket
import sys
import time


def serve(ip, tcps, udps):
    socks = []
    for p in tcps:
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind((ip, p))
        s.listen(16)
        socks.append(("tcp", s))
    for p in udps:
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.bind((ip, p))
        socks.append(("udp", s))
    conns = []
    deadline = time.time() + 600
    while time.time() < deadline:
        r, _, _ = select.select([s for _, s in socks] + conns, [], [], 1)
        for s in r:
            kind = next((k for k, x in socks if x is s), "conn")
            try:
                if kind == "tcp":
                    c, _ = s.accept()
                    conns.append(c)
                elif kind == "udp":
                    data, addr = s.recvfrom(2048)
                    s.sendto(data, addr)
                else:
                    data = s.recv(2048)
                    if data:
                        s.sendall(data)
                    else:
                        conns.remove(s)
                        s.close()
            except OSError:
                if s in conns:
                    conns.remove(s)


def probe(kind, ip, port, timeout):
    t0 = time.time()
    try:
        if kind == "tcp":
            s = socket.create_connection((ip, port), timeout=timeout)
            s.sendall(b"ping")
            ok = s.recv(16) == b"ping"
        else:
            s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            s.settimeout(timeout)
            s.connect((ip, port))
            s.send(b"ping")
            ok = s.recv(16) == b"ping"
        print("pass" if ok else "bad-echo")
        return 0 if ok else 1
    except ConnectionRefusedError:
        print("refused %.2f" % (time.time() - t0))
    except (socket.timeout, TimeoutError):
        print("timeout")
    except OSError as e:
        print("error %s" % e.errno)
    return 1


if __name__ == "__main__":
    if sys.argv[1] == "serve":
        lst = lambda a: [int(x) for x in a.split(",") if x]
        serve(sys.argv[2], lst(sys.argv[3]), lst(sys.argv[4]))
    else:
        t = float(sys.argv[4]) if len(sys.argv) > 4 else 2.0
        sys.exit(probe(sys.argv[1], sys.argv[2], int(sys.argv[3]), t))
