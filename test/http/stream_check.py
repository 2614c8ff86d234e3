"""test/http/stream_check.py: the /stream WebSocket against a live feed
(test/integration/http_stream.sh sets up the cluster, the roles and the
simulator command, and reads the verdict from the exit status).

Environment: HTTP_PORT, TOKEN_A, TOKEN_B (traders A and B), BAD_TOKEN
(expired), TOKEN_QUOTED (a granted role named with quotes and a
semicolon), TOKEN_NOBODY (an unknown role named so), TOKEN_STRANGER (a
role not granted to the authenticator), TOKEN_SUPER (postgres), QUOTED
and NOBODY (those two names), ACCT_A, ACCT_B (their account names), SIM (the simulator's
command line), METRICS_PORT, CAP (a directory for what is kept), and
PG* for psql.

Clients: A (trader A, token in the query), B (trader B, token in the
header), C (anonymous: trades, quotes, candles:1m, tickers) and S
(anonymous, a tiny receive buffer, never reads until the feed ends).
Checks, each printed "ok ...":
  - refused upgrades: a bad token (header and query) gets PostgREST's
    401 with WWW-Authenticate; another path gets 404;
  - the role claim is a value, never SQL: a granted role named with
    quotes and a semicolon connects and may subscribe to orders, an
    unknown one so named gets PostgREST's 400 22023, a role the
    authenticator may not become or a superuser 403 42501, and none of
    the SQL in the names ran;
  - bad messages get {"op":"error"} and the connection goes on;
  - A's trades arrive in seq order, with no duplicate, and per symbol
    equal the stored rows (zvt.trades, the simulator repeats 5% of its
    frames); C gets the same trades;
  - S was told how many it lost ({"op":"dropped"}), its messages plus
    the drops account for all it subscribed, and the feed still stored
    every trade the simulator sent, with A missing none;
  - orders: A gets exactly the order events of A's account, B of B's,
    C none (and C may not subscribe to orders);
  - tickers reach C with the last stored price.
"""
import json
import os
import subprocess
import sys
import threading
import time
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from wsclient import Refused, WsClient  # noqa: E402

PORT = int(os.environ["HTTP_PORT"])
CAP = os.environ["CAP"]
SYMS = ["binance:BTC-USDT", "binance:ETH-USDT"]


def ok(what):
    print("ok " + what, flush=True)


def fail(what):
    print("FAIL: " + what, file=sys.stderr, flush=True)
    sys.exit(1)


def check(cond, what):
    if not cond:
        fail(what)
    ok(what)


def q(sql):
    return subprocess.run(["psql", "-X", "-qAt", "-v", "ON_ERROR_STOP=1", "-c", sql],
                          check=True, capture_output=True, text=True).stdout.strip()


def connect(path="/stream", headers=None, **kw):
    return WsClient("127.0.0.1", PORT, path, headers=headers, **kw)


def expect_op(ws, op, timeout=10):
    """The next message whose op is op (others kept), or fail."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        m = ws.recv_json(timeout=max(0.1, deadline - time.time()))
        if m is None:
            break
        if m["op"] == op:
            return m
        ws.kept.append(m)
    fail("no %s message" % op)


def refused(path, headers=None):
    try:
        connect(path, headers).close()
    except Refused as r:
        return r
    return None


# --- refused upgrades ------------------------------------------------------
bad = os.environ["BAD_TOKEN"]
for how, path, hdr in (("header", "/stream", {"Authorization": "Bearer " + bad}),
                       ("query", "/stream?token=" + bad, None)):
    r = refused(path, hdr)
    check(r is not None and r.status == 401 and json.loads(r.body)["code"] == "PGRST303"
          and r.headers.get("www-authenticate", "").startswith('Bearer error="invalid_token"'),
          "a bad token in the %s gets 401 with PostgREST's body (%s)" % (how, r and r.body))
r = refused("/stream?token=abc.def")
check(r is not None and r.status == 401 and json.loads(r.body)["code"] == "PGRST301",
      "a malformed token gets 401 PGRST301")
r = refused("/candles")
check(r is not None and r.status == 404, "an upgrade on another path gets 404")

# --- the role claim: a value, never SQL --------------------------------------
def role_refused(env, status, code, message, what):
    r = refused("/stream", {"Authorization": "Bearer " + os.environ[env]})
    check(r is not None and r.status == status and
          json.loads(r.body) == {"code": code, "details": None, "hint": None, "message": message},
          "%s gets %s %s (%s)" % (what, status, code, r and (r.status, r.body)))


role_refused("TOKEN_NOBODY", 400, "22023", 'role "%s" does not exist' % os.environ["NOBODY"],
             "an unknown role named with quotes and a semicolon")
role_refused("TOKEN_STRANGER", 403, "42501", 'permission denied to set role "st_stranger"',
             "a role the authenticator may not become")
role_refused("TOKEN_SUPER", 403, "42501", 'permission denied to set role "postgres"', "a superuser's role")
Q = connect("/stream?token=" + os.environ["TOKEN_QUOTED"])
Q.kept = []
Q.send_json({"op": "subscribe", "channels": ["orders"]})
expect_op(Q, "subscribed")
Q.close()
ok("a granted role named %s connects and subscribes to its orders" % os.environ["QUOTED"])
check(q("SELECT to_regclass('public.stream_pwned') IS NULL AND to_regclass('public.stream_pwned2') IS NULL") == "t",
      "the SQL in the role names never ran")

# --- clients ---------------------------------------------------------------
A = connect("/stream?token=" + os.environ["TOKEN_A"])
B = connect(headers={"Authorization": "Bearer " + os.environ["TOKEN_B"]})
C = connect()
S = connect(rcvbuf=2048)
for ws in (A, B, C, S):
    ws.kept = []

# bad messages: errors, and the connection goes on
C.send_text("{not json")
check(expect_op(C, "error")["message"] == "invalid JSON", "invalid JSON gets an error")
C.send_json({"op": "frobnicate"})
m = expect_op(C, "error")
check(m["message"] == "unknown op" and m["detail"] == "frobnicate", "an unknown op gets an error")
C.send_json({"op": "subscribe", "channels": ["trades"], "symbols": ["binance:NOPE-USDT"]})
m = expect_op(C, "error")
check(m["message"] == "unknown symbol" and m["detail"] == "binance:NOPE-USDT",
      "an unknown symbol gets an error")
C.send_json({"op": "subscribe", "channels": ["bogus"], "symbols": SYMS})
check(expect_op(C, "error")["message"] == "unknown channel", "an unknown channel gets an error")
C.send_json({"op": "subscribe", "channels": ["orders"]})
check(expect_op(C, "error")["message"] == "the orders channel needs a token",
      "the anonymous role may not subscribe to orders")
C.send_json({"op": "ping"})
expect_op(C, "pong")
ok("the connection goes on after errors (ping, pong)")

A.send_json({"op": "subscribe", "channels": ["trades", "orders"], "symbols": SYMS})
m = expect_op(A, "subscribed")
check(m["channels"] == ["trades", "orders"] and m["symbols"] == SYMS, "A subscribed")
B.send_json({"op": "subscribe", "channels": ["orders"]})
expect_op(B, "subscribed")
C.send_json({"op": "subscribe", "channels": ["trades", "quotes", "candles:1m", "tickers"],
             "symbols": SYMS})
expect_op(C, "subscribed")
S.send_json({"op": "subscribe", "channels": ["trades", "quotes"], "symbols": ["*"]})
# S reads nothing from now on (its ack stays in its socket)

# --- the feed --------------------------------------------------------------
q("TRUNCATE zvt.trades, zvt.quotes")
ring0 = int(q("SELECT ring_head FROM zvt.redis_status"))
sim = subprocess.Popen(os.environ["SIM"], shell=True, stdout=open(CAP + "/exsim.out", "w"),
                       stderr=subprocess.STDOUT)
time.sleep(0.5)
q("SELECT zvt.subscribe('binance', s, c) FROM unnest(ARRAY['BTC-USDT', 'ETH-USDT']) s, "
  "unnest(ARRAY['trades', 'quotes']) c")
got = {A: [], B: [], C: []}


def reader(ws, stop):
    """Reads ws until stop is set, keeping the raw messages (parsed after
    the run): each reading client on a thread of its own, so that none
    waits for another's turn or for the JSON parser on a loaded machine."""
    while not stop.is_set():
        m = ws.recv(timeout=0.2)
        if m is not None:
            got[ws].append(m)
        elif ws.closed:
            break


stop = threading.Event()
readers = [threading.Thread(target=reader, args=(ws, stop), daemon=True) for ws in (A, B, C)]
for t in readers:
    t.start()
deadline = time.time() + 180
sim_done = None
while time.time() < deadline:
    S.send_json({"op": "ping"})  # alive, never reading
    if sim_done is None and sim.poll() is not None:
        sim_done = time.time()
    if sim_done is not None and time.time() - sim_done > 3:
        break
    time.sleep(0.1)
stop.set()
for t in readers:
    t.join()
for ws in (A, B, C):
    got[ws] = [json.loads(m) for m in got[ws]]
check(sim.returncode == 0, "the simulator ran to its end")

# --- trades: in order, no duplicates, equal the stored rows -----------------
rows = q("COPY (SELECT symbol, trade_id, price::float8 FROM zvt.trades_v "
         "ORDER BY symbol, ts, trade_id::numeric) TO STDOUT").splitlines()
stored = {}
for line in rows:
    sym, tid, price = line.split("\t")
    stored.setdefault(sym, []).append((tid, float(price)))
check(sum(map(len, stored.values())) > 1000, "the feed stored %d trades" % len(rows))


def trades_of(msgs, who):
    t = [m for m in msgs if m["op"] == "trade"]
    seqs = [m["seq"] for m in t]
    check(seqs == sorted(seqs) and len(set(seqs)) == len(seqs),
          "%s: %d trades in seq order, no repeated seq" % (who, len(t)))
    ids = [(m["symbol"], m["trade_id"]) for m in t]
    check(len(set(ids)) == len(ids), "%s: no duplicate trade" % who)
    per = {}
    for m in t:
        per.setdefault(m["symbol"], []).append((m["trade_id"], m["price"]))
    for sym in stored:
        check(per.get(sym) == stored[sym], "%s: %s trades equal the stored rows" % (who, sym))
    return t


for who, ws in (("A", A), ("B", B), ("C", C)):
    ops = {}
    for m in got[ws]:
        ops[m["op"]] = ops.get(m["op"], 0) + (m["count"] if m["op"] == "dropped" else 1)
    print("%s received %s" % (who, ops))
trades_of(got[A], "A")
trades_of(got[C], "C")
check(not any(m["op"] == "dropped" for m in got[A] + got[C]), "A and C lost nothing")
check(any(m["op"] == "quote" for m in got[C]), "C got quotes")
check(not any(m["op"] in ("trade", "quote") for m in got[B]), "B (orders only) got no market data")

# --- the slow client: told what it lost; the feed unharmed -----------------
# S reads what the server kept for it, and the notice of what it dropped,
# until its messages and drops cover every stored row; on a loaded machine
# the server may pause for seconds between two writes to S, so only a long
# silence (or the bound) ends the reading early
quotes = int(q("SELECT count(*) FROM zvt.quotes"))
msgs, dropped = [], 0
bound = time.time() + 180
while time.time() < bound and not (dropped > 0 and len(msgs) + dropped >= len(rows) + quotes):
    m = S.recv_json(timeout=15)
    if m is None:
        break
    if m["op"] == "dropped":
        dropped += m["count"]
    elif m["op"] in ("trade", "quote"):
        msgs.append(m)
check(dropped > 0, "the slow client was told it lost %d messages" % dropped)
check(len(msgs) + dropped >= len(rows) + quotes,
      "its %d messages and %d drops cover the %d trades and %d quotes"
      % (len(msgs), dropped, len(rows), quotes))
out = open(CAP + "/exsim.out").read()
sent = sum(int(x.split("=")[1]) for x in out.split() if x.startswith("trades="))
print("simulator: " + out.strip().replace("\n", " | "))
appended = int(q("SELECT ring_head FROM zvt.redis_status")) - ring0
check(appended >= len(rows) + quotes, "every stored row went through the ring (%d events)" % appended)

# --- orders: each trader its own ---------------------------------------------
for who, acct, role in (("A", os.environ["ACCT_A"], "st_a"), ("B", os.environ["ACCT_B"], "st_b")):
    q("SET ROLE %s; SELECT zvt.place_order('%s', 'binance', 'BTC-USDT', 'buy', 0.01); "
      "SELECT zvt.cancel_order(order_id) FROM zvt.place_order('%s', 'binance', 'BTC-USDT', "
      "'buy', 1, 'limit', price => 10)" % (role, acct, acct))
want = {}
for who, acct in (("A", os.environ["ACCT_A"]), ("B", os.environ["ACCT_B"])):
    want[who] = [tuple(l.split("\t")) for l in q(
        "COPY (SELECT e.event_id, e.event, e.status FROM zvt.order_events e "
        "JOIN zvt.accounts a USING (account_id) WHERE a.name = '%s' ORDER BY e.event_id) TO STDOUT"
        % acct).splitlines()]
for who, ws in (("A", A), ("B", B)):
    evs = []
    deadline = time.time() + 20
    while len(evs) < len(want[who]) and time.time() < deadline:
        m = ws.recv_json(timeout=0.5)
        if m and m["op"] in ("order", "fill"):
            evs.append(m)
    gotw = [(str(m["event_id"]), m["event"], m["status"]) for m in evs]
    check(gotw == want[who], "%s got exactly its %d order events %s" % (who, len(want[who]), gotw))
    check(any(m["op"] == "fill" for m in evs) and all((m["op"] == "fill") == (m["event"] == "fill") for m in evs),
          "%s: fills come as op fill" % who)
    m = ws.recv_json(timeout=1)
    check(m is None or m["op"] not in ("order", "fill"), "%s got no other account's events" % who)
c_after = []
while True:
    m = C.recv_json(timeout=1)
    if m is None:
        break
    c_after.append(m)
check(not any(m["op"] in ("order", "fill") for m in got[C] + c_after + msgs), "anonymous clients got no order events")

# --- tickers ----------------------------------------------------------------
tick = [m for m in got[C] + c_after if m["op"] == "ticker" and m["symbol"] == "BTC-USDT"]
last = float(q("SELECT price FROM zvt.trades_v WHERE symbol = 'BTC-USDT' ORDER BY ts DESC, trade_id::numeric DESC LIMIT 1"))
btc = [m for m in got[C] if m["op"] == "trade" and m["symbol"] == "BTC-USDT"]
check(tick and tick[-1]["last"] == last, "C's last BTC-USDT ticker has the last price %s" % last)
check(len(tick) < len(btc), "tickers are throttled (%d tickers for %d trades)" % (len(tick), len(btc)))

# --- metrics ------------------------------------------------------------------
text = urllib.request.urlopen("http://127.0.0.1:%s/metrics" % os.environ["METRICS_PORT"]).read().decode()
vals = {}
for line in text.splitlines():
    if line.startswith("zvt_http_stream") or line.startswith('zvt_http_requests_total{method="GET",status="1xx"}') \
            or line.startswith('zvt_feed_') and '{exchange="binance"}' in line:
        k, v = line.rsplit(" ", 1)
        vals[k] = float(v)
check(vals.get('zvt_feed_dropped_events_total{exchange="binance"}') == 0
      and vals.get('zvt_feed_rows_written_total{exchange="binance"}', 0) >= len(rows) + quotes,
      "metrics: the feed dropped nothing and wrote every row while the slow client lagged")
check(vals.get("zvt_http_stream_clients") == 4, "metrics: 4 stream clients")
check(vals.get("zvt_http_stream_messages_dropped_total", 0) >= dropped, "metrics: the drops are counted")
check(vals.get("zvt_http_stream_messages_sent_total", 0) > len(rows), "metrics: messages sent are counted")
check(vals.get('zvt_http_requests_total{method="GET",status="1xx"}', 0) >= 4, "metrics: upgrades are counted")
for ws in (A, B, C, S):
    ws.close()
print("stream_check: all passed")
