#!/usr/bin/env python3
"""test/http/run.py: the HTTP front's request-level suite.

Runs every case of test/http/cases/*.json, in file and list order, against
the fixture schema (test/http/fixture.sql, loaded first):

  * over real HTTP when ZVT_HTTP_URL is set (e.g. http://127.0.0.1:3000):
    the server must expose zvt.http_schemas = 'zvt_api_test, zvt_api_test2'
    with zvt_test_anon as its anonymous role; a case with "role" sends a
    token minted with zvt.jwt_sign;
  * otherwise through zvt._http_serve in one psql session (PGHOST etc. from
    the environment), each case its own transaction, as the case's role
    (default zvt_test_anon, anonymous).

A case: {"name", "req": "METHOD /path?query", "headers": {...}, "body":
JSON value or string, "role", "status", "json": expected body (compared as
JSON), "text": expected body text, "headers_expect": {name: value} (a
subset), "code": expected error code, "contains"/"absent": substrings the body must/must not have,
"sql_after": [query, expected text] checked after the case}.

Then checks the canary (zvt_canary.canary) is unchanged.  Prints one line
per failure and "http suite: N passed, M failed"; exit status 1 on any
failure.  Python 3 standard library only.
"""
import glob
import json
import os
import subprocess
import sys
import urllib.error
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
SCHEMAS = "zvt_api_test, zvt_api_test2"
ANON = "zvt_test_anon"
US, RS = "\x1f", "\x1e"


def psql(sql, extra=()):
    out = subprocess.run(["psql", "-X", "-q", "-At", "-v", "ON_ERROR_STOP=1", *extra],
                         input=sql, capture_output=True, text=True)
    if out.returncode != 0:
        raise RuntimeError("psql failed: " + out.stderr.strip())
    return out.stdout


def lit(s):
    if s is None:
        return "NULL"
    return "'" + s.replace("'", "''") + "'"


def split_req(req):
    method, _, target = req.partition(" ")
    path, _, query = target.partition("?")
    return method, path, query


def body_text(case):
    b = case.get("body")
    if b is None:
        return None
    return b if isinstance(b, str) else json.dumps(b)


def run_psql(cases):
    """All cases in one session: one SELECT (one transaction) each; every
    result is one text field ending in RS, its parts split by US."""
    parts = ["SET zvt.http_schemas = %s;" % lit(SCHEMAS)]
    for c in cases:
        m, p, q = split_req(c["req"])
        role = c.get("role", ANON)
        parts.append("SELECT r.status || E'\\x1f' || r.headers::text || E'\\x1f' || coalesce(r.body, '')"
                     " || E'\\x1e' FROM zvt._http_serve(%s, %s, %s, %s::jsonb, %s, %s, %s) r;" % (
                         lit(m), lit(p), lit(q), lit(json.dumps(c.get("headers", {}))),
                         lit(body_text(c)), lit(role), "true" if role == ANON else "false"))
        for sql, _ in c.get("sql_after", []):
            parts.append("SELECT '0' || E'\\x1f{}\\x1f' || (%s)::text || E'\\x1e';" % sql)
    out = psql("\n".join(parts) + "\n", extra=("-v", "ON_ERROR_STOP=0"))
    rows = out.split(RS + "\n")
    results = []
    i = 0
    for c in cases:
        st, hd, bd = rows[i].split(US, 2)
        i += 1
        after = []
        for _ in c.get("sql_after", []):
            after.append(rows[i].split(US, 2)[2])
            i += 1
        results.append((int(st), json.loads(hd), bd, after))
    return results


def token(role):
    return psql("SELECT zvt.jwt_sign(json_build_object('role', %s)::jsonb)" % lit(role)).strip()


def run_http(cases, base):
    results = []
    tokens = {}
    for c in cases:
        m, p, q = split_req(c["req"])
        url = base.rstrip("/") + p + ("?" + q if q else "")
        data = body_text(c)
        req = urllib.request.Request(url, method=m, data=data.encode() if data is not None else None)
        for k, v in c.get("headers", {}).items():
            req.add_header(k, v)
        if data is not None and "Content-Type" not in c.get("headers", {}):
            req.add_header("Content-Type", "application/json")
        role = c.get("role", ANON)
        if role != ANON:
            tokens.setdefault(role, token(role))
            req.add_header("Authorization", "Bearer " + tokens[role])
        try:
            with urllib.request.urlopen(req, timeout=30) as r:
                st, hd, bd = r.status, dict(r.headers.items()), r.read().decode()
        except urllib.error.HTTPError as e:
            st, hd, bd = e.code, dict(e.headers.items()), e.read().decode()
        after = [psql("SELECT (%s)::text" % sql).strip() for sql, _ in c.get("sql_after", [])]
        results.append((st, hd, bd, after))
    return results


def check(c, res):
    st, hd, bd, after = res
    errs = []
    if "status" in c and st != c["status"]:
        errs.append("status %d, want %d" % (st, c["status"]))
    if "json" in c or "code" in c:
        try:
            got = json.loads(bd) if bd != "" else None
        except ValueError:
            got = "<not JSON: %r>" % bd[:200]
        if "json" in c and got != c["json"]:
            errs.append("body %s, want %s" % (json.dumps(got)[:600], json.dumps(c["json"])[:600]))
        if "code" in c and (not isinstance(got, dict) or got.get("code") != c["code"]):
            errs.append("code of %s, want %s" % (bd[:300], c["code"]))
    if "text" in c and bd != c["text"]:
        errs.append("body %r, want %r" % (bd[:400], c["text"]))
    for want in c.get("contains", []):
        if want not in bd:
            errs.append("body %r lacks %r" % (bd[:400], want))
    for unwanted in c.get("absent", []):
        if unwanted in bd:
            errs.append("body has %r" % unwanted)
    lower = {k.lower(): v for k, v in hd.items()}
    for k, v in c.get("headers_expect", {}).items():
        if v is None:
            if k.lower() in lower:
                errs.append("header %s present (%s), want none" % (k, lower[k.lower()]))
        elif lower.get(k.lower()) != v:
            errs.append("header %s = %r, want %r" % (k, lower.get(k.lower()), v))
    for (sql, want), got in zip(c.get("sql_after", []), after):
        if got != want:
            errs.append("after: %s gave %r, want %r" % (sql, got, want))
    return errs


def main():
    psql(open(os.path.join(HERE, "fixture.sql")).read(), extra=("-v", "ON_ERROR_STOP=1"))
    cases = []
    for f in sorted(glob.glob(os.path.join(HERE, "cases", "*.json"))):
        for c in json.load(open(f)):
            c["file"] = os.path.basename(f)
            cases.append(c)
    only = os.environ.get("ZVT_HTTP_ONLY")
    if only:
        cases = [c for c in cases if only in c["name"] or only in c["file"]]
    base = os.environ.get("ZVT_HTTP_URL")
    results = run_http(cases, base) if base else run_psql(cases)
    passed = failed = 0
    for c, r in zip(cases, results):
        errs = check(c, r)
        if errs:
            failed += 1
            print("FAIL %s: %s [%s]" % (c["file"], c["name"], c["req"]))
            for e in errs:
                print("     " + e)
        else:
            passed += 1
    canary = psql("SELECT string_agg(id || ':' || v, ',' ORDER BY id) FROM zvt_canary.canary").strip()
    if canary == "1:alive":
        passed += 1
    else:
        failed += 1
        print("FAIL canary changed: %r" % canary)
    print("http suite (%s): %d passed, %d failed" % ("http" if base else "psql", passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
