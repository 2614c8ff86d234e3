#!/usr/bin/env python3
"""test/exsim/raw_ws.py: a bare WebSocket client that never answers pings.

Usage: raw_ws.py HOST PORT PATH SECONDS

Reads frames for SECONDS (or until the server closes) without sending a
pong, and prints one line per control frame: "ping", "close CODE", and
at the end "data N" (text frames seen) and "eof AFTER_SECONDS" when the
server dropped the connection.  Tests use it to see Binance's server
pings and its disconnect of a client that does not pong.
"""
import base64
import os
import socket
import struct
import sys
import time


def main():
    host, port, path, secs = sys.argv[1], int(sys.argv[2]), sys.argv[3], float(sys.argv[4])
    s = socket.create_connection((host, port), timeout=secs)
    key = base64.b64encode(os.urandom(16)).decode()
    s.sendall((f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\nUpgrade: websocket\r\n"
               f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n").encode())
    buf = b""
    while b"\r\n\r\n" not in buf:
        chunk = s.recv(4096)
        if not chunk:
            print("eof handshake")
            return 1
        buf += chunk
    head, buf = buf.split(b"\r\n\r\n", 1)
    if b" 101 " not in head.split(b"\r\n")[0]:
        print("refused", head.split(b"\r\n")[0].decode())
        return 1
    start = time.time()
    data = 0
    s.settimeout(0.2)
    while time.time() - start < secs:
        try:
            chunk = s.recv(65536)
        except socket.timeout:
            continue
        except ConnectionResetError:
            chunk = b""
        if not chunk:
            print(f"data {data}")
            print(f"eof {time.time() - start:.1f}")
            return 0
        buf += chunk
        while len(buf) >= 2:
            op = buf[0] & 0x0F
            n = buf[1] & 0x7F
            off = 2
            if n == 126:
                if len(buf) < 4:
                    break
                n = struct.unpack(">H", buf[2:4])[0]
                off = 4
            elif n == 127:
                if len(buf) < 10:
                    break
                n = struct.unpack(">Q", buf[2:10])[0]
                off = 10
            if len(buf) < off + n:
                break
            payload = buf[off:off + n]
            buf = buf[off + n:]
            if op == 0x9:
                print(f"ping {time.time() - start:.1f}")
            elif op == 0x8:
                code = struct.unpack(">H", payload[:2])[0] if len(payload) >= 2 else 0
                print(f"close {code}")
            elif op in (0x1, 0x0):
                data += 1
        sys.stdout.flush()
    print(f"data {data}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
