#!/usr/bin/env python3
"""A paced TCP stream for test/e2e/ca_rotation.sh: one that keeps flowing
while the mesh's certificates are rotated underneath it.

  rotation_stream.py recv BIND_IP PORT RESULT TIMEOUT
      Accept one connection, read it to EOF; every 0.2 s write the byte
      count so far to RESULT.progress; at the end write RESULT (JSON: bytes,
      sha256, max_gap = the longest wait between two reads once data
      flows, in seconds).  Gives up after TIMEOUT seconds in all.
  rotation_stream.py send HOST PORT RATE STOPFILE MAXSECS RESULT
      Connect (retrying for 5 s), send pseudo-random bytes at RATE bytes/s
      until STOPFILE exists or MAXSECS have passed, half-close, wait for the
      receiver to close, and write RESULT (JSON: bytes, sha256, seconds,
      max_block = the longest a send blocked, stopped = "file"|"time").

Every step is bounded; exit status 0 only on a clean end of stream.
"""
import hashlib
import json
import os
import socket
import sys
import time

CHUNK = 32768


def write_json(path, obj):
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        json.dump(obj, f)
    os.replace(tmp, path)


def recv(bind_ip, port, result, timeout):
    deadline = time.monotonic() + timeout
    ls = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind((bind_ip, port))
    ls.listen(1)
    ls.settimeout(max(0.1, deadline - time.monotonic()))
    s, _ = ls.accept()
    ls.close()
    h = hashlib.sha256()
    n = 0
    max_gap = 0.0
    last = None
    next_progress = 0.0
    prog = result + ".progress"
    ok = False
    try:
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                break
            s.settimeout(min(left, 1.0))
            try:
                b = s.recv(262144)
            except socket.timeout:
                b = None
            now = time.monotonic()
            if b == b"":
                ok = True
                break
            if b:
                h.update(b)
                n += len(b)
                if last is not None:
                    max_gap = max(max_gap, now - last)
                last = now
            if now >= next_progress:
                with open(prog + ".tmp", "w") as f:
                    f.write("%d\n" % n)
                os.replace(prog + ".tmp", prog)
                next_progress = now + 0.2
    finally:
        with open(prog + ".tmp", "w") as f:
            f.write("%d\n" % n)
        os.replace(prog + ".tmp", prog)
        write_json(result, {"bytes": n, "sha256": h.hexdigest(),
                            "max_gap": round(max_gap, 3), "eof": ok})
        s.close()
    return 0 if ok else 1


def send(host, port, rate, stopfile, maxsecs, result):
    t0 = time.monotonic()
    s = None
    while time.monotonic() - t0 < 5:
        try:
            s = socket.create_connection((host, port), timeout=2)
            break
        except OSError:
            time.sleep(0.1)
    if s is None:
        write_json(result, {"error": "could not connect"})
        return 1
    s.settimeout(10)  # a send blocked for 10 s is a failure
    h = hashlib.sha256()
    n = 0
    max_block = 0.0
    start = time.monotonic()
    stopped = "time"
    try:
        while True:
            now = time.monotonic()
            if os.path.exists(stopfile):
                stopped = "file"
                break
            if now - start >= maxsecs:
                break
            # pace: no more than rate * elapsed bytes, and no catching up
            # by more than a quarter of a second's worth after a stall
            due = rate * (now - start)
            if n > due:
                time.sleep(min(0.05, (n - due) / rate))
                continue
            if due - n > rate / 4:
                start = now - (n + rate / 4) / rate
            b = os.urandom(CHUNK)
            t = time.monotonic()
            s.sendall(b)
            max_block = max(max_block, time.monotonic() - t)
            h.update(b)
            n += len(b)
        s.shutdown(socket.SHUT_WR)
        s.settimeout(15)
        while s.recv(4096):
            pass
    except OSError as e:
        write_json(result, {"error": str(e), "bytes": n})
        return 1
    write_json(result, {"bytes": n, "sha256": h.hexdigest(),
                        "seconds": round(time.monotonic() - t0, 2),
                        "max_block": round(max_block, 3),
                        "stopped": stopped})
    return 0


def main(a):
    if len(a) == 5 and a[0] == "recv":
        return recv(a[1], int(a[2]), a[3], float(a[4]))
    if len(a) == 7 and a[0] == "send":
        return send(a[1], int(a[2]), float(a[3]), a[4], float(a[5]), a[6])
    sys.stderr.write(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
