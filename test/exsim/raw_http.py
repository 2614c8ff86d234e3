#!/usr/bin/env python3
"""test/exsim/raw_http.py: raw HTTP/1.1 requests, and every byte of the answers.

Usage: raw_http.py SECONDS CONNECTION [--next CONNECTION]...
       CONNECTION = PORT [--pipeline] REQUEST [REQUEST...]

Each REQUEST is METHOD|PATH[|HEADER: VALUE]...[|--body|TEXT | |--bytes|N |
|--chunked|TEXT], e.g. "DELETE|/api/v3/order|--body|symbol=BTCUSDT".  The
requests of a connection go out on it one after the other (each after
the previous answer, or all at once with --pipeline), the last with
"Connection: close" (so the server closes once it has answered) unless it
names a Connection of its own, with
Content-Length set for --body and --bytes (N bytes of "x"); --chunked sends
TEXT as one chunk and the last chunk.  Connections run one after the
other, each until the server closes it or SECONDS pass.  Prints one JSON
line per connection: {"answers":[{"status":N,"body":TEXT}...],
"garbage":TEXT (bytes after the answers that are no answer),
"eof":true|false (the server closed)}.  Tests use it to see that every
request gets exactly one answer (one process for many connections: a
Python start costs a second on a loaded machine).
"""
import json
import socket
import sys
import time


def build(spec, host, last):
    parts = spec.split("|")
    if last and not any(p.lower().startswith("connection:") for p in parts):
        parts.append("Connection: close")
    method, path, rest = parts[0], parts[1], parts[2:]
    headers, body, chunked = [], None, None
    i = 0
    while i < len(rest):
        if rest[i] == "--body":
            body = rest[i + 1].encode()
            i += 2
        elif rest[i] == "--bytes":
            body = b"x" * int(rest[i + 1])
            i += 2
        elif rest[i] == "--chunked":
            chunked = rest[i + 1].encode()
            i += 2
        else:
            headers.append(rest[i])
            i += 1
    head = f"{method} {path} HTTP/1.1\r\nHost: {host}\r\n"
    for h in headers:
        head += h + "\r\n"
    if body is not None:
        head += f"Content-Length: {len(body)}\r\n"
    if chunked is not None:
        head += "Transfer-Encoding: chunked\r\n"
        body = b"%x\r\n%s\r\n0\r\n\r\n" % (len(chunked), chunked)
    return head.encode() + b"\r\n" + (body or b"")


def parse(buf):
    """Split buf into answers; returns (answers, rest)."""
    out = []
    while buf:
        end = buf.find(b"\r\n\r\n")
        if not buf.startswith(b"HTTP/1.1 ") or end < 0:
            break
        lines = buf[:end].decode("latin-1").split("\r\n")
        length = 0
        for line in lines[1:]:
            name, _, value = line.partition(":")
            if name.strip().lower() == "content-length":
                length = int(value.strip())
        if len(buf) < end + 4 + length:
            break
        out.append({"status": int(lines[0].split()[1]),
                    "body": buf[end + 4:end + 4 + length].decode("latin-1")})
        buf = buf[end + 4 + length:]
    return out, buf


def connection(port, secs, args):
    pipeline = bool(args) and args[0] == "--pipeline"
    if pipeline:
        args = args[1:]
    host = f"127.0.0.1:{port}"
    s = socket.create_connection(("127.0.0.1", port), timeout=secs)
    deadline = time.monotonic() + secs
    buf, eof = b"", False

    def read_until(n_answers):
        nonlocal buf, eof
        while not eof and time.monotonic() < deadline:
            if n_answers is not None and len(parse(buf)[0]) >= n_answers:
                return
            s.settimeout(max(0.01, min(0.2, deadline - time.monotonic())))
            try:
                chunk = s.recv(65536)
            except socket.timeout:
                continue
            except ConnectionError:
                eof = True
                return
            if not chunk:
                eof = True
                return
            buf += chunk

    try:
        if pipeline:
            s.sendall(b"".join(build(a, host, k == len(args) - 1) for k, a in enumerate(args)))
        else:
            for k, a in enumerate(args):
                s.sendall(build(a, host, k == len(args) - 1))
                read_until(k + 1)
    except (BrokenPipeError, ConnectionError):
        pass
    read_until(None)
    s.close()
    answers, rest = parse(buf)
    return {"answers": answers, "garbage": rest[:200].decode("latin-1"), "eof": eof}


def main():
    secs = float(sys.argv[1])
    conns, cur = [], []
    for a in sys.argv[2:]:
        if a == "--next":
            conns.append(cur)
            cur = []
        else:
            cur.append(a)
    conns.append(cur)
    for c in conns:
        if c:
            print(json.dumps(connection(int(c[0]), secs, c[1:])), flush=True)


if __name__ == "__main__":
    main()
