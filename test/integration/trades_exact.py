#!/usr/bin/env python3
"""Stored trades against the simulator's record, for the gap repair tests.

    trades_exact.py CAP TOTAL

CAP/record.jsonl is what the simulator published (--record), CAP/db.tsv
the stored trades (exchange, symbol, trade_id, ts in ms, price, qty, side,
from zvt.trades_v).  Passes when the record holds TOTAL trades and every
one is stored exactly once with its time, price, size and side, and no
stored trade was never published.
"""
import json
import sys
from collections import Counter

cap, total = sys.argv[1], int(sys.argv[2])
rec = {}
for line in open(f"{cap}/record.jsonl"):
    r = json.loads(line)
    if r["channel"] == "trades":
        rec[(r["exchange"], r["symbol"], r["id"])] = (r["ts"], float(r["price"]), float(r["qty"]), r["side"])
db = Counter()
for line in open(f"{cap}/db.tsv"):
    ex, sym, tid, ts, p, q, side = line.rstrip("\n").split("\t")
    key = (ex, sym, tid)
    db[key] += 1
    assert key in rec, f"{key} stored but never published"
    assert rec[key] == (int(ts), float(p), float(q), side), (key, rec[key], (ts, p, q, side))
assert len(rec) == total, f"{len(rec)} trades in the record, not {total}"
twice = [k for k, n in db.items() if n > 1]
assert not twice, f"{len(twice)} trades stored twice"
missing = [k for k in rec if k not in db]
assert not missing, f"{len(missing)} trades missing, e.g. {missing[:3]}"
print(f"ok: {len(rec)} trades stored exactly once")
