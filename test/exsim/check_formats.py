#!/usr/bin/env python3
"""test/exsim/check_formats.py: compare zvt-exsim's messages with the real
exchange samples in test/fixtures/exchanges, field by field.

Usage: check_formats.py FIXTURES_DIR CAPTURE_DIR

CAPTURE_DIR holds what the simulator sent: <exchange>.ws (one WebSocket
message per line) and <exchange>.<name>.rest (one REST body per file).
For each kind of message the simulator emits, its structure (field names,
JSON types and nesting, positional types inside rows) must equal that of
at least one sample line of the matching fixture file.  WebSocket
messages and REST rows are compared strictly; REST instrument lists,
whose real entries carry dozens of optional fields, are compared as
"every generated field exists in the sample with the same type".
Prints one line per check and "N passed, N failed".
"""
import json
import os
import sys


def kind(v):
    if isinstance(v, bool):
        return "bool"
    if isinstance(v, (int, float)):
        return "number"
    if isinstance(v, str):
        return "string"
    if v is None:
        return "null"
    if isinstance(v, list):
        return "list"
    return "object"


def same(sample, gen, subset=False, path="$"):
    """None when gen has sample's structure, else a reason."""
    ks, kg = kind(sample), kind(gen)
    if ks != kg:
        return f"{path}: {kg} where the sample has {ks}"
    if ks == "object":
        missing = set(sample) - set(gen)
        extra = set(gen) - set(sample)
        if extra or (missing and not subset):
            return f"{path}: fields differ: missing {sorted(missing)}, extra {sorted(extra)}"
        for k in gen:
            r = same(sample[k], gen[k], subset, f"{path}.{k}")
            if r:
                return r
        return None
    if ks == "list":
        if not sample or not gen:
            return None
        if subset:
            # each generated element is like some sample element
            for i, g in enumerate(gen):
                reasons = [same(x, g, True, f"{path}[{i}]") for x in sample]
                if all(reasons):
                    return reasons[0]
            return None
        tuple_like = len({json.dumps(shape(x)) for x in sample}) > 1 or \
            len({json.dumps(shape(x)) for x in gen}) > 1
        if tuple_like:
            if len(sample) != len(gen):
                return f"{path}: row of {len(gen)} where the sample has {len(sample)}"
            for i, (a, b) in enumerate(zip(sample, gen)):
                r = same(a, b, subset, f"{path}[{i}]")
                if r:
                    return r
            return None
        for i, g in enumerate(gen):
            r = same(sample[0], g, subset, f"{path}[{i}]")
            if r:
                return r
    return None


def shape(v):
    if isinstance(v, dict):
        return {k: shape(x) for k, x in sorted(v.items())}
    if isinstance(v, list):
        return [shape(x) for x in v[:1]]
    return kind(v)


def load_lines(path):
    out = []
    with open(path) as f:
        for line in f:
            line = line.strip()
            if line:
                out.append(json.loads(line))
    return out


def main():
    fixtures, capture = sys.argv[1], sys.argv[2]
    passed = failed = 0

    def fixture(name):
        return load_lines(os.path.join(fixtures, name))

    def check(label, samples, gens, subset=False):
        nonlocal passed, failed
        if not gens:
            print(f"not ok {label}: the simulator sent no such message")
            failed += 1
            return
        for g in gens[:20]:
            reasons = [same(s, g, subset) for s in samples]
            if all(reasons):
                print(f"not ok {label}: {min(reasons, key=len)}\n    generated: {json.dumps(g)[:300]}")
                failed += 1
                return
        print(f"ok {label} ({len(gens)} messages)")
        passed += 1

    def ws(exchange):
        path = os.path.join(capture, exchange + ".ws")
        out = []
        with open(path) as f:
            for line in f:
                line = line.strip()
                if line.startswith("{"):
                    out.append(json.loads(line))
        return out

    def rest(exchange, name):
        with open(os.path.join(capture, f"{exchange}.{name}.rest")) as f:
            return json.load(f)

    def unwrap(m):
        return m["data"] if "stream" in m and "data" in m else m

    # ---- Binance --------------------------------------------------------
    bn = ws("binance")
    payloads = [unwrap(m) for m in bn]
    check("binance combined wrapper", [{"stream": "x", "data": {}}],
          [{"stream": m["stream"], "data": {}} for m in bn if "stream" in m])
    check("binance trade", fixture("binance_trade.jsonl"),
          [p for p in payloads if p.get("e") == "trade"])
    check("binance aggTrade", [unwrap(x) for x in fixture("binance_aggtrade.jsonl")],
          [p for p in payloads if p.get("e") == "aggTrade"])
    klines = [unwrap(x) for x in fixture("binance_kline.jsonl") +
              fixture("binance_kline_closed.reconstructed.jsonl")]
    check("binance kline (open)", klines,
          [p for p in payloads if p.get("e") == "kline" and not p["k"]["x"]])
    check("binance kline (closed)", klines,
          [p for p in payloads if p.get("e") == "kline" and p["k"]["x"]])
    check("binance bookTicker", [unwrap(x) for x in fixture("binance_bookticker.jsonl")],
          [p for p in payloads if "u" in p and "b" in p and "e" not in p])
    check("binance depthUpdate", [unwrap(x) for x in fixture("binance_depth_diff.jsonl")],
          [p for p in payloads if p.get("e") == "depthUpdate"])
    check("binance partial depth", fixture("binance_depth_partial.jsonl"),
          [p for p in payloads if "lastUpdateId" in p])
    ctl = fixture("binance_ws_control.jsonl")
    check("binance subscribe ack", [x for x in ctl if x.get("result", 1) is None],
          [m for m in bn if "result" in m and m["result"] is None])
    check("binance list subscriptions", [x for x in ctl if isinstance(x.get("result"), list)],
          [m for m in bn if isinstance(m.get("result"), list)])
    check("binance error reply", [x for x in fixture("binance_ws_errors.jsonl") if "error" in x],
          [m for m in bn if "error" in m])
    check("binance REST depth", fixture("binance_rest_depth.jsonl"), [rest("binance", "depth")])
    check("binance REST klines", fixture("binance_rest_klines.jsonl"), [rest("binance", "klines")])
    check("binance REST exchangeInfo", fixture("binance_rest_exchangeinfo.jsonl")[1:],
          [rest("binance", "exchangeinfo")], subset=True)

    # ---- Bybit -----------------------------------------------------------
    by = ws("bybit")
    check("bybit trade (spot)", fixture("bybit_trade.jsonl"),
          [m for m in by if m.get("topic", "").startswith("publicTrade") and "RPI" in m["data"][0]])
    check("bybit trade (linear)", fixture("bybit_trade.jsonl"),
          [m for m in by if m.get("topic", "").startswith("publicTrade") and "L" in m["data"][0]])
    bk = fixture("bybit_kline.jsonl") + fixture("bybit_kline_closed.reconstructed.jsonl")
    check("bybit kline (open)", bk,
          [m for m in by if m.get("topic", "").startswith("kline") and not m["data"][0]["confirm"]])
    check("bybit kline (closed)", bk,
          [m for m in by if m.get("topic", "").startswith("kline") and m["data"][0]["confirm"]])
    ticks = fixture("bybit_ticker.jsonl")
    check("bybit tickers (spot)", ticks[:1],
          [m for m in by if m.get("topic", "").startswith("tickers") and "usdIndexPrice" in m["data"]])
    check("bybit tickers (linear)", ticks,
          [m for m in by if m.get("topic", "").startswith("tickers") and "markPrice" in m["data"]])
    books = fixture("bybit_orderbook.jsonl") + \
        [x for x in fixture("bybit_orderbook_capture_spot.jsonl") if "topic" in x]
    check("bybit orderbook snapshot", books,
          [m for m in by if m.get("topic", "").startswith("orderbook.50") and m["type"] == "snapshot"])
    check("bybit orderbook delta", books,
          [m for m in by if m.get("topic", "").startswith("orderbook.50") and m["type"] == "delta"])
    check("bybit orderbook.1", books,
          [m for m in by if m.get("topic", "").startswith("orderbook.1.")])
    byctl = fixture("bybit_ws_control.jsonl")
    check("bybit subscribe ack", [x for x in byctl if x.get("op") == "subscribe" and "success" in x],
          [m for m in by if m.get("op") == "subscribe" and m.get("success")])
    check("bybit pong", [x for x in byctl if x.get("ret_msg") == "pong"],
          [m for m in by if m.get("ret_msg") == "pong"])
    check("bybit error reply", [x for x in fixture("bybit_ws_errors.jsonl") if "success" in x],
          [m for m in by if m.get("success") is False])
    check("bybit REST kline", fixture("bybit_rest_kline.jsonl"), [rest("bybit", "kline")])
    check("bybit REST instruments (spot)", fixture("bybit_rest_instruments.jsonl")[:1],
          [rest("bybit", "instruments_spot")], subset=True)
    check("bybit REST instruments (linear)", fixture("bybit_rest_instruments.jsonl")[1:],
          [rest("bybit", "instruments_linear")], subset=True)

    # ---- OKX -------------------------------------------------------------
    ok = ws("okx")
    check("okx trades", fixture("okx_trades.jsonl"),
          [m for m in ok if m.get("arg", {}).get("channel") == "trades" and "data" in m])
    check("okx candle (open)", fixture("okx_candle.jsonl") + fixture("okx_candle_closed.reconstructed.jsonl"),
          [m for m in ok if m.get("arg", {}).get("channel", "").startswith("candle") and "data" in m
           and m["data"][0][8] == "0"])
    check("okx candle (closed)", fixture("okx_candle.jsonl") + fixture("okx_candle_closed.reconstructed.jsonl"),
          [m for m in ok if m.get("arg", {}).get("channel", "").startswith("candle") and "data" in m
           and m["data"][0][8] == "1"])
    check("okx tickers", fixture("okx_tickers.jsonl"),
          [m for m in ok if m.get("arg", {}).get("channel") == "tickers" and "data" in m])
    obooks = fixture("okx_books_docs.jsonl")
    check("okx books snapshot", obooks,
          [m for m in ok if m.get("action") == "snapshot"])
    check("okx books update", obooks,
          [m for m in ok if m.get("action") == "update"])
    check("okx bbo-tbt", obooks,
          [m for m in ok if m.get("arg", {}).get("channel") == "bbo-tbt" and "data" in m])
    check("okx books5", obooks,
          [m for m in ok if m.get("arg", {}).get("channel") == "books5" and "data" in m])
    octl = fixture("okx_ws_control.jsonl")
    check("okx subscribe ack", [x for x in octl if x.get("event") == "subscribe"],
          [m for m in ok if m.get("event") == "subscribe"])
    check("okx error reply", [x for x in fixture("okx_ws_errors.jsonl") if x.get("event") == "error"],
          [m for m in ok if m.get("event") == "error"])
    check("okx REST candles", fixture("okx_rest_candles.jsonl"), [rest("okx", "candles")])
    check("okx REST instruments", fixture("okx_rest_instruments.jsonl"), [rest("okx", "instruments")],
          subset=True)

    # ---- Coinbase --------------------------------------------------------
    cb = ws("coinbase")

    def channel_map(m):
        # "subscriptions" maps channel names (data, not fields) to lists
        if m.get("channel") == "subscriptions":
            m = json.loads(json.dumps(m))
            for e in m["events"]:
                e["subscriptions"] = {"<channel>": next(iter(e["subscriptions"].values()), [])}
        return m
    for channel, fx in [("market_trades", "coinbase_market_trades.jsonl"),
                        ("ticker", "coinbase_ticker.jsonl"),
                        ("heartbeats", "coinbase_heartbeats.jsonl"),
                        ("status", "coinbase_status.jsonl"),
                        ("subscriptions", "coinbase_ws_control.jsonl")]:
        check(f"coinbase {channel}", [channel_map(x) for x in fixture(fx) if x.get("channel") == channel],
              [channel_map(m) for m in cb if m.get("channel") == channel])
    cnd = fixture("coinbase_candles.jsonl") + fixture("coinbase_candles_update.reconstructed.jsonl")
    check("coinbase candles", cnd, [m for m in cb if m.get("channel") == "candles"])
    l2 = fixture("coinbase_level2.jsonl") + fixture("coinbase_level2_update.reconstructed.jsonl")
    check("coinbase l2_data snapshot", l2,
          [m for m in cb if m.get("channel") == "l2_data" and m["events"][0]["type"] == "snapshot"])
    check("coinbase l2_data update", l2,
          [m for m in cb if m.get("channel") == "l2_data" and m["events"][0]["type"] == "update"])
    check("coinbase error reply", fixture("coinbase_ws_errors.jsonl"),
          [m for m in cb if m.get("type") == "error"])

    print(f"{passed} passed, {failed} failed")
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
