#!/usr/bin/env python3
"""test/e2e/jsonlog.py: checks of logging.format: json lines.

  jsonlog.py parse LOG
      every line is one JSON object with the keys level and msg (and time,
      a string); prints how many lines.
  jsonlog.py has LOG MSG KEY=VALUE...
      some line has msg MSG and each KEY (a.b: nested) equal to VALUE
      (compared as JSON text when VALUE parses as JSON, else as a string).
  jsonlog.py same OURS NEBULA MSG [STAGE]
      the first line with msg MSG (and handshake.stage STAGE) in each log
      has the same keys, nested ones too, with values of the same JSON
      types (time aside): our line is what a tool reading Nebula's gets.
  jsonlog.py covers OURS NEBULA MSG [STAGE]
      the same, but our line may have more keys than Nebula's.
"""
import json
import sys


def lines(path):
    out = []
    with open(path, encoding="utf-8") as f:
        for n, raw in enumerate(f, 1):
            raw = raw.rstrip("\n")
            if not raw:
                continue
            try:
                obj = json.loads(raw)
            except ValueError as e:
                sys.exit(f"{path}:{n}: not JSON ({e}): {raw[:200]}")
            if not isinstance(obj, dict):
                sys.exit(f"{path}:{n}: not an object: {raw[:200]}")
            out.append(obj)
    return out


def get(obj, dotted):
    for k in dotted.split("."):
        if not isinstance(obj, dict) or k not in obj:
            return None
        obj = obj[k]
    return obj


def find(objs, msg, stage=None):
    for o in objs:
        if o.get("msg") != msg:
            continue
        if stage is not None and get(o, "handshake.stage") != stage:
            continue
        return o
    return None


def shape(v):
    """The JSON type of a value; objects and arrays with their insides."""
    if isinstance(v, dict):
        return {k: shape(x) for k, x in v.items() if k != "time"}
    if isinstance(v, list):
        return ["array"] + ([shape(v[0])] if v else [])
    if isinstance(v, bool):
        return "bool"
    if isinstance(v, (int, float)):
        return "number"
    if v is None:
        return "null"
    return "string"


def covers(ours, neb):
    if isinstance(neb, dict):
        return isinstance(ours, dict) and all(
            k in ours and covers(ours[k], v) for k, v in neb.items())
    return ours == neb


def main():
    if len(sys.argv) >= 3 and sys.argv[1] == "parse":
        objs = lines(sys.argv[2])
        for n, o in enumerate(objs, 1):
            if not isinstance(o.get("level"), str) or "msg" not in o:
                sys.exit(f"line {n}: no level or msg: {o}")
            if "time" in o and not isinstance(o["time"], str):
                sys.exit(f"line {n}: time is not a string: {o}")
        print(f"{len(objs)} JSON lines")
        return
    if len(sys.argv) >= 4 and sys.argv[1] == "has":
        objs = lines(sys.argv[2])
        want = []
        for kv in sys.argv[4:]:
            k, _, v = kv.partition("=")
            try:
                v = json.loads(v)
            except ValueError:
                pass
            want.append((k, v))
        for o in objs:
            if o.get("msg") == sys.argv[3] and all(
                    get(o, k) == v for k, v in want):
                print(json.dumps(o, sort_keys=True))
                return
        sys.exit(f"no line with msg {sys.argv[3]!r} and {want}")
    if len(sys.argv) >= 5 and sys.argv[1] in ("same", "covers"):
        stage = int(sys.argv[5]) if len(sys.argv) > 5 else None
        ours = find(lines(sys.argv[2]), sys.argv[4], stage)
        neb = find(lines(sys.argv[3]), sys.argv[4], stage)
        if ours is None or neb is None:
            sys.exit(f"{sys.argv[4]!r}: ours {ours}, Nebula's {neb}")
        strict = sys.argv[1] == "same"
        if (shape(ours) != shape(neb) if strict else
                not covers(shape(ours), shape(neb))):
            sys.exit(f"{sys.argv[4]!r} differs:\n ours:   {shape(ours)}\n"
                     f" Nebula: {shape(neb)}")
        print(f"{sys.argv[4]!r}: {sorted(ours)}")
        return
    sys.exit(__doc__)


if __name__ == "__main__":
    main()
