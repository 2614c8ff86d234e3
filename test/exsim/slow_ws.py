#!/usr/bin/env python3
"""test/exsim/slow_ws.py: a Coinbase client that reads slowly, or not at all.

Usage:
  slow_ws.py read  PORT PRODUCTS SECONDS [AT:PAUSE ...]
  slow_ws.py stall PORT PRODUCTS GO_FILE

Both connect to the simulator's Coinbase port with a small receive buffer
(64 kB, so what the client leaves unread backs up into the simulator
rather than the kernel) and subscribe to market_trades for PRODUCTS
(comma-separated).

read: reads for SECONDS (or until SIGTERM), stopping reading for PAUSE seconds at AT seconds
after the subscribe (each AT:PAUSE pair), and checks every trade of every
market_trades message: per product, each trade id is the one after the
last (from the snapshot on, which lists the latest trades newest
first), so every trade arrives exactly once and in
order.  Prints one line of JSON: frames, the largest frame, the frames
over 64 kB, trades, how the connection ended ("open" when it was still up
at the end, else "eof" or "close CODE REASON") and the errors found
(the first few).  Exits 0 when the connection stayed open and no error
was found.

stall: also subscribes to ticker and level2 (more bytes a second), then
reads nothing until GO_FILE exists; then reads everything left and
prints how the connection ended: "close CODE REASON", "eof" or "reset"
(it waits at most 60 s for the end: "open" if it did not come).
"""
import base64
import json
import os
import signal
import socket
import struct
import sys
import time


def connect(port, products, channels):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 65536)
    s.settimeout(30)
    s.connect(("127.0.0.1", port))
    key = base64.b64encode(os.urandom(16)).decode()
    s.sendall((f"GET / HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUpgrade: websocket\r\n"
               f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
               f"Sec-WebSocket-Version: 13\r\n\r\n").encode())
    buf = b""
    while b"\r\n\r\n" not in buf:
        chunk = s.recv(4096)
        if not chunk:
            raise SystemExit("eof in the handshake")
        buf += chunk
    head, rest = buf.split(b"\r\n\r\n", 1)
    if b" 101 " not in head.split(b"\r\n")[0]:
        raise SystemExit("refused: " + head.split(b"\r\n")[0].decode())
    for ch in channels:
        send_text(s, json.dumps({"type": "subscribe", "product_ids": products, "channel": ch}))
    return s, bytearray(rest)


def send_text(s, text):
    payload = text.encode()
    mask = os.urandom(4)
    n = len(payload)
    head = bytes([0x81])
    if n < 126:
        head += bytes([0x80 | n])
    else:
        head += bytes([0x80 | 126]) + struct.pack(">H", n)
    s.sendall(head + mask + bytes(b ^ mask[i & 3] for i, b in enumerate(payload)))


def frames(buf):
    """Complete frames at the start of buf: yields (opcode, payload), then
    deletes what it consumed."""
    off = 0
    out = []
    while len(buf) - off >= 2:
        op = buf[off] & 0x0F
        n = buf[off + 1] & 0x7F
        h = 2
        if n == 126:
            if len(buf) - off < 4:
                break
            n = struct.unpack_from(">H", buf, off + 2)[0]
            h = 4
        elif n == 127:
            if len(buf) - off < 10:
                break
            n = struct.unpack_from(">Q", buf, off + 2)[0]
            h = 10
        if len(buf) - off < h + n:
            break
        out.append((op, bytes(buf[off + h:off + h + n])))
        off += h + n
    del buf[:off]
    return out


def ending(op, payload):
    code = struct.unpack(">H", payload[:2])[0] if len(payload) >= 2 else 0
    return f"close {code} {payload[2:].decode(errors='replace')}".strip()


def read_mode(port, products, secs, pauses):
    stop = []
    signal.signal(signal.SIGTERM, lambda *_: stop.append(1))
    s, buf = connect(port, products, ["market_trades"])
    s.settimeout(0.2)
    start = time.time()
    last = {}
    st = {"frames": 0, "max_frame": 0, "big_frames": 0, "trades": 0,
          "paused_s": 0.0, "end": "open", "errors": []}
    pauses = sorted(pauses)

    def error(msg):
        if len(st["errors"]) < 5:
            st["errors"].append(msg)

    while time.time() - start < secs and st["end"] == "open" and not stop:
        if pauses and time.time() - start >= pauses[0][0]:
            time.sleep(pauses[0][1])  # read nothing: the simulator must hold on
            st["paused_s"] += pauses[0][1]
            pauses.pop(0)
        try:
            chunk = s.recv(262144)
        except socket.timeout:
            continue
        except ConnectionResetError:
            chunk = b""
        if not chunk:
            st["end"] = "eof"
            break
        buf += chunk
        for op, payload in frames(buf):
            if op == 0x8:
                st["end"] = ending(op, payload)
                break
            if op != 0x1:
                continue
            st["frames"] += 1
            st["max_frame"] = max(st["max_frame"], len(payload))
            if len(payload) > 65536:
                st["big_frames"] += 1
            try:
                msg = json.loads(payload)
            except ValueError:
                error(f"frame {st['frames']} is not JSON ({len(payload)} bytes)")
                continue
            if msg.get("channel") != "market_trades":
                continue
            for ev in msg["events"]:
                # a snapshot lists the latest trades newest first
                trades = ev["trades"]
                if ev.get("type") == "snapshot":
                    trades = sorted(trades, key=lambda t: int(t["trade_id"]))
                for t in trades:
                    p, tid = t["product_id"], int(t["trade_id"])
                    if p in last and tid != last[p] + 1:
                        error(f"{p}: trade {tid} after {last[p]}")
                    last[p] = tid
                    st["trades"] += 1
    st["last_ids"] = last
    print(json.dumps(st))
    return 0 if st["end"] == "open" and not st["errors"] else 1


def stall_mode(port, products, go_file):
    s, buf = connect(port, products, ["market_trades", "ticker", "level2"])
    while not os.path.exists(go_file):
        time.sleep(0.2)
    s.settimeout(60)
    end = "open"
    while end == "open":
        try:
            chunk = s.recv(262144)
        except socket.timeout:
            break
        except ConnectionResetError:
            end = "reset"
            break
        if not chunk:
            end = "eof"
            break
        buf += chunk
        for op, payload in frames(buf):
            if op == 0x8:
                end = ending(op, payload)
                break
    print(end)
    return 0


def main():
    mode, port, products = sys.argv[1], int(sys.argv[2]), sys.argv[3].split(",")
    if mode == "read":
        pauses = [tuple(float(x) for x in a.split(":")) for a in sys.argv[5:]]
        return read_mode(port, products, float(sys.argv[4]), pauses)
    if mode == "stall":
        return stall_mode(port, products, sys.argv[4])
    raise SystemExit(__doc__)


if __name__ == "__main__":
    sys.exit(main())
