#!/usr/bin/env python3
"""test/exsim/check_market.py: check the simulator's market against its own
rules and the exchanges' sequencing rules.

Usage: check_market.py FIXTURES_DIR CAPTURE_DIR RECORD_FILE

- every closed kline in the record equals the aggregate of the recorded
  trades of its bucket (open, high, low, close, volume, quote volume,
  count), exactly, as decimals;
- the OKX CRC32 implementation here reproduces okx_checksum_vectors.jsonl,
  and every OKX books message of the capture carries the checksum of the
  book built from the snapshot and updates, with prevSeqId chaining;
- Binance depth U/u, Bybit orderbook u, and Coinbase sequence_num are
  gap-free in the capture.
Prints one line per check and "N passed, N failed".
"""
import json
import os
import sys
import zlib
from collections import defaultdict
from decimal import Decimal

passed = failed = 0


def result(ok, label, detail=""):
    global passed, failed
    if ok:
        passed += 1
        print(f"ok {label}")
    else:
        failed += 1
        print(f"not ok {label}: {detail}")


def lines(path):
    with open(path) as f:
        return [json.loads(x) for x in f if x.strip().startswith("{")]


def okx_crc(bids, asks):
    parts = []
    for i in range(25):
        if i < len(bids):
            parts += [bids[i][0], bids[i][1]]
        if i < len(asks):
            parts += [asks[i][0], asks[i][1]]
    crc = zlib.crc32(":".join(parts).encode()) & 0xFFFFFFFF
    return crc - (1 << 32) if crc >= (1 << 31) else crc


def check_klines(record):
    trades = defaultdict(list)
    klines = []
    for r in record:
        if r["channel"] == "trades":
            trades[(r["exchange"], r["symbol"])].append(r)
        elif r["channel"] == "candles":
            klines.append(r)
    checked = bad = 0
    for k in klines:
        if k["trade_count"] == 0:
            continue
        ts = [t for t in trades[(k["exchange"], k["symbol"])]
              if k["ts"] <= t["ts"] < k["ts"] + k["interval_ms"]]
        if not ts or ts[0]["ts"] - k["ts"] > k["interval_ms"]:
            continue
        # the record starts mid-bucket for the first kline of each series
        if len(ts) != k["trade_count"]:
            continue
        px = [Decimal(t["price"]) for t in ts]
        want = {
            "open": px[0], "high": max(px), "low": min(px), "close": px[-1],
            "volume": sum(Decimal(t["qty"]) for t in ts),
            "quote_volume": sum(Decimal(t["qty"]) * Decimal(t["price"]) for t in ts),
        }
        checked += 1
        for f, v in want.items():
            if Decimal(k[f]) != v:
                bad += 1
                print(f"    {k['exchange']} {k['symbol']} {k['ts']} {f}: kline {k[f]} trades {v}")
                break
    result(checked > 0 and bad == 0, f"klines equal their trades ({checked} closed klines)",
           f"{bad} of {checked} differ")


def check_okx_vectors(fixtures):
    bad = 0
    vec = lines(os.path.join(fixtures, "okx_checksum_vectors.jsonl"))
    for v in vec:
        crc = zlib.crc32(v["check_string"].encode()) & 0xFFFFFFFF
        crc = crc - (1 << 32) if crc >= (1 << 31) else crc
        if crc != v["crc32_signed"]:
            bad += 1
    result(bad == 0 and vec, f"OKX CRC32 reproduces {len(vec)} documented vectors", f"{bad} differ")


def check_okx_books(okx):
    books = {}
    checked = bad = 0
    chain_bad = 0
    for m in okx:
        if m.get("arg", {}).get("channel") != "books" or "data" not in m:
            continue
        inst = m["arg"]["instId"]
        d = m["data"][0]
        if m["action"] == "snapshot":
            books[inst] = {"bids": {b[0]: b for b in d["bids"]}, "asks": {a[0]: a for a in d["asks"]},
                           "seq": d["seqId"]}
            if d["prevSeqId"] != -1:
                chain_bad += 1
        elif inst in books:
            b = books[inst]
            if d["prevSeqId"] != b["seq"]:
                chain_bad += 1
            b["seq"] = d["seqId"]
            for side, key in (("bids", "bids"), ("asks", "asks")):
                for lv in d[key]:
                    if lv[1] == "0":
                        b[side].pop(lv[0], None)
                    else:
                        b[side][lv[0]] = lv
        else:
            continue
        b = books[inst]
        bids = sorted(b["bids"].values(), key=lambda x: -Decimal(x[0]))
        asks = sorted(b["asks"].values(), key=lambda x: Decimal(x[0]))
        checked += 1
        if okx_crc(bids, asks) != d["checksum"]:
            bad += 1
    result(checked > 1 and bad == 0, f"OKX books checksums verify ({checked} messages)", f"{bad} differ")
    result(checked > 1 and chain_bad == 0, "OKX prevSeqId chains to the previous seqId", f"{chain_bad} breaks")


def check_binance_depth(bn):
    last = {}
    events = bad = 0
    for m in bn:
        p = m.get("data", m)
        if p.get("e") != "depthUpdate":
            continue
        events += 1
        if p["s"] in last and p["U"] != last[p["s"]] + 1:
            bad += 1
        last[p["s"]] = p["u"]
    result(events > 1 and bad == 0, f"Binance depth U = previous u + 1 ({events} events)", f"{bad} gaps")


def check_bybit_book(by):
    last = {}
    events = bad = 0
    for m in by:
        if not m.get("topic", "").startswith("orderbook.50"):
            continue
        events += 1
        if m["type"] == "delta" and m["topic"] in last and m["data"]["u"] != last[m["topic"]] + 1:
            bad += 1
        last[m["topic"]] = m["data"]["u"]
    result(events > 1 and bad == 0, f"Bybit orderbook u + 1 per message ({events} messages)", f"{bad} gaps")


def check_coinbase_seq(cb_conns):
    bad = total = 0
    for msgs in cb_conns:
        seqs = [m["sequence_num"] for m in msgs if "sequence_num" in m]
        total += len(seqs)
        bad += sum(1 for a, b in zip(seqs, seqs[1:]) if b != a + 1)
        if seqs and seqs[0] != 0:
            bad += 1
    result(total > 1 and bad == 0, f"Coinbase sequence_num counts from 0 without gaps ({total} messages)",
           f"{bad} gaps")


def main():
    fixtures, capture, record = sys.argv[1:4]
    check_klines(lines(record))
    check_okx_vectors(fixtures)
    check_okx_books(lines(os.path.join(capture, "okx.ws")))
    check_binance_depth(lines(os.path.join(capture, "binance.ws")))
    check_bybit_book(lines(os.path.join(capture, "bybit.ws")))
    check_coinbase_seq([lines(os.path.join(capture, "coinbase.ws"))])
    print(f"{passed} passed, {failed} failed")
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
