#!/usr/bin/env python3
"""The soak run's verdict (test/soak/soak.sh): reads the CSV files and
ping logs the run wrote to OUT and prints one line per assertion, "ok
DESC" or "not ok DESC" (soak.sh numbers them as TAP), and "# " lines: a
table per daemon life, one per event and the worst ping pairs.  Writes
OUT/summary.txt (the same) and OUT/pings.csv (per ordered pair)."""
import argparse
import csv
import datetime
import glob
import os
import re
import statistics

BLOB = 4000000          # bytes per transfer (soak.sh)
RSS_SLACK_KIB = 1024    # RSS may grow by max(1 MiB, 10 %)
RSS_SLACK_FRAC = 0.10
FD_SLACK = 2
MIN_STEADY = 8          # samples after warm-up before a series is judged
RESTART_WARM = 30       # a restarted daemon's warm-up, seconds

ap = argparse.ArgumentParser()
ap.add_argument("--out", required=True)
ap.add_argument("--t0", type=float, required=True)
ap.add_argument("--t-end", type=float, required=True)
ap.add_argument("--warm", type=float, required=True)
ap.add_argument("--gap", type=float, required=True)
ap.add_argument("--grace", type=float, required=True)
ap.add_argument("--ours", required=True)
ap.add_argument("--all", required=True)
a = ap.parse_args()
OURS = a.ours.split()
ALL = a.all.split()
T0, TEND = a.t0, a.t_end

lines = []


def emit(s):
    lines.append(s)
    print(s, flush=True)


def ok(cond, desc):
    emit(("ok " if cond else "not ok ") + desc)


def note(s=""):
    emit("# " + s if s else "#")


def rel(t):
    return "+%.0fs" % (t - T0)


def rows(name):
    with open(os.path.join(a.out, name), newline="") as f:
        return list(csv.DictReader(f))


samples = rows("samples.csv")
lives = rows("lives.csv")
events = rows("events.csv")
transfers = rows("transfers.csv")
for s in samples:
    s["t"] = float(s["time"])
for e in events:
    e["b"] = float(e["begin"])
    e["e"] = float(e["end"])

# planned disruption windows per node: its restarts
windows = {n: [] for n in ALL}
for e in events:
    if e["kind"] == "restart":
        windows[e["target"]].append((float(e["win_begin"]), float(e["win_end"])))


def uncovered(lo, hi, wins):
    """The longest part of [lo, hi] outside every window in wins."""
    cur, best = lo, 0.0
    for b, e in sorted(wins):
        if e <= cur or b >= hi:
            continue
        best = max(best, min(b, hi) - cur)
        cur = max(cur, e)
        if cur >= hi:
            break
    return max(best, hi - cur)


# --- daemon lives ----------------------------------------------------------
table = []
for lf in lives:
    n, gen = lf["daemon"], lf["series"]
    born, ended = float(lf["born"]), float(lf["ended"])
    ss = sorted((s for s in samples if s["daemon"] == n and s["series"] == gen),
                key=lambda s: s["t"])
    warm_until = T0 + a.warm if born < T0 else born + RESTART_WARM
    steady = [s for s in ss if s["t"] >= warm_until]
    survived = [e for e in events if born < e["b"] < ended and
                not (e["kind"] == "restart" and e["target"] == n)]
    try:
        with open(os.path.join(a.out, "logs", "%s.%s.log" % (n, gen)), errors="replace") as f:
            errs = sum(1 for l in f if "level=error" in l)
    except OSError:
        errs = "?"
    row = {"life": "%s#%s" % (n, gen), "impl": lf["impl"], "pid": lf["pid"], "errs": errs,
           "span": "%s..%s" % (rel(max(born, T0)), rel(ended)),
           "n": len(steady), "ended": "%s/%s" % (lf["how"], lf["status"]),
           "events": len(survived), "verdict": "-"}
    base = steady if steady else ss
    if base:
        rss = [int(s["rss_kib"]) for s in base]
        row.update(rss0=rss[0], rss1=rss[-1], rssmax=max(rss),
                   anon0=base[0]["anon_kib"], anon1=base[-1]["anon_kib"],
                   fd0=base[0]["fds"], fd1=base[-1]["fds"])
        tun = [int(s["tunnels"]) for s in base if s["tunnels"]]
        row["tun"] = ("%d (%d-%d)" % (tun[-1], min(tun), max(tun))) if tun else "-"
    if lf["impl"] != "ours":
        row["verdict"] = "not judged"
    elif len(steady) < MIN_STEADY:
        row["verdict"] = "short"
    else:
        q = max(2, len(steady) // 4)
        first = statistics.median(int(s["rss_kib"]) for s in steady[:q])
        last = statistics.median(int(s["rss_kib"]) for s in steady[-q:])
        bound = first + max(RSS_SLACK_KIB, RSS_SLACK_FRAC * first)
        f0, f1 = int(steady[0]["fds"]), int(steady[-1]["fds"])
        good_rss, good_fd = last <= bound, abs(f1 - f0) <= FD_SLACK
        ok(good_rss, "RSS flat: %s (pid %s, %d samples after warm-up, %d events): "
           "median of the first quarter %.0f KiB, of the last %.0f KiB, bound %.0f KiB "
           "(anonymous %s -> %s KiB)"
           % (row["life"], lf["pid"], len(steady), len(survived), first, last, bound,
              steady[0]["anon_kib"], steady[-1]["anon_kib"]))
        ok(good_fd, "fds flat: %s: %d after warm-up, %d at the end (max %d), bound +-%d"
           % (row["life"], f0, f1, max(int(s["fds"]) for s in steady), FD_SLACK))
        row["verdict"] = "ok" if good_rss and good_fd else "FAIL"
    table.append(row)

judged = [r for r in table if r["impl"] == "ours" and r["verdict"] in ("ok", "FAIL")]
ok(any(r["life"].startswith("c#") for r in judged) and len(judged) >= 2,
   "%d lives of ours long enough to judge, the never-restarted c among them"
   % len(judged))

# --- pings ---------------------------------------------------------------------
reply_re = re.compile(r"^\[(\d+\.\d+)\] \d+ bytes from ")
pairs = []
replies = {}
for path in sorted(glob.glob(os.path.join(a.out, "pings", "*.log"))):
    x, y = os.path.basename(path)[:-4].split("-")
    ts = []
    with open(path, errors="replace") as f:
        for l in f:
            m = reply_re.match(l)
            if m:
                ts.append(float(m.group(1)))
    ts.sort()
    replies[(x, y)] = ts
    pts = [T0] + [t for t in ts if T0 <= t <= TEND] + [TEND]
    wins = windows[x] + windows[y]
    worst, worst_at, bad, bad_at = 0.0, T0, 0.0, T0
    for lo, hi in zip(pts, pts[1:]):
        if hi - lo > worst:
            worst, worst_at = hi - lo, lo
        u = uncovered(lo, hi, wins)
        if u > bad:
            bad, bad_at = u, lo
    pairs.append({"from": x, "to": y, "replies": len(ts), "longest_gap": round(worst, 2),
                  "longest_gap_at": rel(worst_at), "longest_unexcused": round(bad, 2),
                  "unexcused_at": rel(bad_at)})
with open(os.path.join(a.out, "pings.csv"), "w", newline="") as f:
    w = csv.DictWriter(f, fieldnames=list(pairs[0].keys()) if pairs else ["from"])
    w.writeheader()
    w.writerows(pairs)
want_pairs = len(ALL) * (len(ALL) - 1)
ok(len(pairs) == want_pairs, "pings: %d ordered pairs pinged (of %d), %d replies"
   % (len(pairs), want_pairs, sum(p["replies"] for p in pairs)))
worst = max(pairs, key=lambda p: p["longest_unexcused"]) if pairs else None
for p in pairs:
    if p["longest_unexcused"] > a.gap:
        ok(False, "pings %s->%s: %.1f s without a reply outside its disruption windows, from %s"
           % (p["from"], p["to"], p["longest_unexcused"], p["unexcused_at"]))
if worst:
    ok(worst["longest_unexcused"] <= a.gap,
       "pings: longest silence outside the disruption windows %.1f s (%s->%s at %s), bound %.0f s"
       % (worst["longest_unexcused"], worst["from"], worst["to"], worst["unexcused_at"], a.gap))

# --- transfers ---------------------------------------------------------------
for pair in sorted({t["pair"] for t in transfers}):
    ts = [t for t in transfers if t["pair"] == pair]
    good = excused = failed = wrong = 0
    for t in ts:
        b, e = float(t["begin"]), float(t["end"])
        if t["prefix_ok"] != "yes" or (int(t["bytes"]) == BLOB and t["sha_ok"] != "yes"):
            wrong += 1
            note("transfer %s #%s %s->%s at %s: wrong bytes (%s received)"
                 % (pair, t["n"], t["from"], t["to"], rel(b), t["bytes"]))
        if t["sha_ok"] == "yes":
            good += 1
        elif any(wb < e and b < we for wb, we in windows[t["from"]] + windows[t["to"]]):
            excused += 1
        else:
            failed += 1
            note("transfer %s #%s %s->%s %s..%s failed outside a disruption window: "
                 "send status %s, receive status %s, %s bytes"
                 % (pair, t["n"], t["from"], t["to"], rel(b), rel(e),
                    t["send_status"], t["recv_status"], t["bytes"]))
    ok(failed == 0 and wrong == 0 and good > 0,
       "transfers %s: %d of %d sha256 matched, %d failed inside a disruption window, "
       "%d outside, %d delivered wrong bytes" % (pair, good, len(ts), excused, failed, wrong))

# --- tunnels that went down ---------------------------------------------------------
# The log lines of a tunnel's end (test/e2e/lib.sh, DOWN_RE), ours and
# Nebula's alike: each must fall in a restart window of one of its two
# ends (or in the final shutdown).
down_re = re.compile(r'msg="(Tunnel down|Close tunnel received, tearing down\.|Remote certificate '
                     r'is no longer valid, tearing down the tunnel)"|msg="Tunnel status" .*state:dead')
time_re = re.compile(r'^time="([^"]+)"')
cert_re = re.compile(r' certName=(\S+)')
names = {}
downs = unplanned = 0
for lf in lives:
    n, gen = lf["daemon"], lf["series"]
    try:
        f = open(os.path.join(a.out, "logs", "%s.%s.log" % (n, gen)), errors="replace")
    except OSError:
        continue
    with f:
        for l in f:
            if not down_re.search(l):
                continue
            m, c = time_re.match(l), cert_re.search(l)
            if not m:
                continue
            t = datetime.datetime.fromisoformat(m.group(1).replace("Z", "+00:00")).timestamp()
            peer = c.group(1) if c else "?"
            downs += 1
            if t >= TEND - 1 or any(wb - 2 <= t <= we + 2 for wb, we in
                                    windows[n] + windows.get(peer, [])):
                continue
            unplanned += 1
            note("%s#%s lost its tunnel to %s at %s: %s" % (n, gen, peer, rel(t),
                                                           l.strip()[:200]))
ok(unplanned == 0, "tunnels: %d went down, %d outside a restart of one of their ends"
   % (downs, unplanned))

# --- events ----------------------------------------------------------------------
for kind in ("reload", "restart", "roam"):
    es = [e for e in events if e["kind"] == kind]
    bad = [e for e in es if e["result"] != "ok"]
    for e in bad:
        note("event %s %s %s at %s: %s" % (e["n"], kind, e["target"], rel(e["b"]), e["result"]))
    desc = {"reload": "reloads: each logged by all of ours with the expected inbound rules",
            "restart": "restarts: ours exit 0 on SIGTERM within 5 s",
            "roam": "roams: the address moved"}[kind]
    ok(not bad, "%s (%d of %d)" % (desc, len(es) - len(bad), len(es)))


def recovery(e):
    """How long pings to and from an event's node stayed silent around it:
    for a restart, from the new start to the last pair's first reply; for
    a roam, the longest silence of its pairs that spans it."""
    n = e["target"]
    worst = 0.0
    for (x, y), ts in replies.items():
        if n not in (x, y):
            continue
        if e["kind"] == "restart":
            start = float(e["win_end"]) - a.grace
            after = [t for t in ts if t >= start]
            worst = max(worst, (after[0] - start) if after else TEND - start)
        else:
            before = [t for t in ts if t <= e["b"]]
            after = [t for t in ts if t > e["b"]]
            lo = before[-1] if before else T0
            hi = after[0] if after else TEND
            worst = max(worst, hi - lo)
    return worst


# --- the tables ------------------------------------------------------------------
table.sort(key=lambda r: (ALL.index(r["life"].split("#")[0]), int(r["life"].split("#")[1])))
note()
note("%-7s %-6s %-7s %-13s %5s %-20s %-11s %-5s %-9s %6s %-9s %6s %s"
     % ("life", "impl", "pid", "alive", "smpl", "RSS KiB start/end/max", "anon KiB",
        "fds", "tunnels", "events", "ended", "errors", "verdict"))
for r in table:
    note("%-7s %-6s %-7s %-13s %5d %-20s %-11s %-5s %-9s %6d %-9s %6s %s"
         % (r["life"], r["impl"], r["pid"], r["span"], r["n"],
            "%s/%s/%s" % (r.get("rss0", "-"), r.get("rss1", "-"), r.get("rssmax", "-")),
            "%s/%s" % (r.get("anon0", "-"), r.get("anon1", "-")),
            "%s/%s" % (r.get("fd0", "-"), r.get("fd1", "-")), r.get("tun", "-"),
            r["events"], r["ended"], r["errs"], r["verdict"]))
note("(smpl: samples after warm-up; start: the first of them; anon: RssAnon, start/end; "
     "tunnels: at the end (min-max); events: of the run, lived through; "
     "errors: level=error log lines)")
note()
note("%-3s %-6s %-9s %-7s %-24s %-20s %s" % ("n", "at", "kind", "target", "detail",
                                           "silence of its pings", "result"))
for e in events:
    tgt = e["target"] if e["kind"] != "reload" else "ours"
    sil = "%.1f s" % recovery(e) if e["kind"] in ("restart", "roam") else "-"
    if e["kind"] == "restart":
        sil += " after start"
    note("%-3s %-6s %-9s %-7s %-24s %-20s %s" % (e["n"], rel(e["b"]), e["kind"], tgt,
                                               e["detail"], sil, e["result"]))
note()
top = sorted(pairs, key=lambda p: -p["longest_gap"])[:5]
note("longest ping silences: " + ", ".join(
    "%s->%s %.1f s at %s (%.1f s unexcused)" % (p["from"], p["to"], p["longest_gap"],
                                                 p["longest_gap_at"], p["longest_unexcused"])
    for p in top))

with open(os.path.join(a.out, "summary.txt"), "w") as f:
    f.write("\n".join(lines) + "\n")
