"""test/http/wsclient.py: a minimal WebSocket client (RFC 6455) for the
/stream tests and bench/stream, Python's standard library only.

    ws = WsClient("127.0.0.1", port, "/stream?token=...", headers={...})
    ws.send_json({"op": "subscribe", ...})
    msg = ws.recv_json(timeout=5)        # None on timeout

connect() returns (status, headers, body) of a refused upgrade instead of
raising, so tests can check the 401.  Pings from the server are answered
with pongs inside recv(); recv returns text messages only.
"""
import base64
import json
import os
import select
import socket
import struct


class Refused(Exception):
    def __init__(self, status, headers, body):
        super().__init__("upgrade refused: %d %s" % (status, body))
        self.status, self.headers, self.body = status, headers, body


class WsClient:
    def __init__(self, host, port, path, headers=None, timeout=10, rcvbuf=None):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        if rcvbuf:
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        self.sock.settimeout(timeout)
        self.sock.connect((host, port))
        key = base64.b64encode(os.urandom(16)).decode()
        lines = ["GET %s HTTP/1.1" % path, "Host: %s:%d" % (host, port),
                 "Upgrade: websocket", "Connection: Upgrade",
                 "Sec-WebSocket-Key: " + key, "Sec-WebSocket-Version: 13"]
        for k, v in (headers or {}).items():
            lines.append("%s: %s" % (k, v))
        self.sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
        self.buf = b""
        while b"\r\n\r\n" not in self.buf:
            chunk = self.sock.recv(4096)
            if not chunk:
                raise ConnectionError("closed during the handshake")
            self.buf += chunk
        head, rest = self.buf.split(b"\r\n\r\n", 1)
        self.buf = bytearray(rest)
        self.pos = 0
        lines = head.decode("latin-1").split("\r\n")
        status = int(lines[0].split()[1])
        hdrs = {}
        for line in lines[1:]:
            k, _, v = line.partition(":")
            hdrs[k.strip().lower()] = v.strip()
        if status != 101:
            n = int(hdrs.get("content-length", "0"))
            while len(self.buf) < n:
                chunk = self.sock.recv(4096)
                if not chunk:
                    break
                self.buf += chunk
            raise Refused(status, hdrs, bytes(self.buf[:n]).decode())
        self.closed = None   # (code, reason) once the server closed

    # --- frames -------------------------------------------------------
    def _send_frame(self, opcode, payload):
        mask = os.urandom(4)
        n = len(payload)
        if n < 126:
            head = struct.pack("!BB", 0x80 | opcode, 0x80 | n)
        elif n < 65536:
            head = struct.pack("!BBH", 0x80 | opcode, 0x80 | 126, n)
        else:
            head = struct.pack("!BBQ", 0x80 | opcode, 0x80 | 127, n)
        masked = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
        self.sock.sendall(head + mask + masked)

    def send_text(self, text):
        self._send_frame(0x1, text.encode())

    def send_json(self, obj):
        self.send_text(json.dumps(obj))

    def ping(self, payload=b"hi"):
        self._send_frame(0x9, payload)

    def _need(self, n, deadline_s):
        """True once n bytes are buffered (from self.pos on)."""
        if self.pos > 65536:
            del self.buf[:self.pos]
            self.pos = 0
        while len(self.buf) - self.pos < n:
            r, _, _ = select.select([self.sock], [], [], deadline_s)
            if not r:
                return False
            chunk = self.sock.recv(1 << 16)
            if not chunk:
                raise ConnectionError("connection closed")
            self.buf += chunk
        return True

    def _frame(self, timeout):
        """One frame (fin, opcode, payload), or None on timeout."""
        if not self._need(2, timeout):
            return None
        p = self.pos
        b0, b1 = self.buf[p], self.buf[p + 1]
        n = b1 & 0x7F
        off = 2
        if n == 126:
            if not self._need(4, timeout):
                return None
            n = struct.unpack("!H", self.buf[p + 2:p + 4])[0]
            off = 4
        elif n == 127:
            if not self._need(10, timeout):
                return None
            n = struct.unpack("!Q", self.buf[p + 2:p + 10])[0]
            off = 10
        if not self._need(off + n, timeout):
            return None
        payload = bytes(self.buf[p + off:p + off + n])
        self.pos = p + off + n
        return b0 & 0x80, b0 & 0x0F, payload

    def recv(self, timeout=5):
        """The next text message (str), or None on timeout or close."""
        parts = []
        while True:
            f = self._frame(timeout)
            if f is None:
                return None
            fin, op, payload = f
            if op == 0x9:
                self._send_frame(0xA, payload)
                continue
            if op == 0xA:
                continue
            if op == 0x8:
                code = struct.unpack("!H", payload[:2])[0] if len(payload) >= 2 else None
                self.closed = (code, payload[2:].decode(errors="replace"))
                return None
            parts.append(payload)
            if fin:
                return b"".join(parts).decode()

    def recv_json(self, timeout=5):
        m = self.recv(timeout)
        return None if m is None else json.loads(m)

    def close(self):
        try:
            self._send_frame(0x8, struct.pack("!H", 1000))
        except OSError:
            pass
        self.sock.close()
