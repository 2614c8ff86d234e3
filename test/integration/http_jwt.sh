#!/usr/bin/env bash
# test/integration/http_jwt.sh: authentication and roles of the HTTP front
# (src/http/auth.c, jwt.c, run.c), as an attacker would try them.
#
# Each bad token (expired, not yet valid, issued in the future, wrong
# signature, alg none, wrong audience, a role that does not exist, a role
# not granted to the authenticator, a superuser) gets its status, code,
# message and WWW-Authenticate header as PostgREST gives them, and runs
# nothing: a canary function counts its calls.  A good token (HS256 from
# zvt.jwt_sign, RS256 and ES256 from a JWKS file) runs as its role, with
# the session user the authenticator and the request.* settings made;
# without a token the request runs as zvt_anon, and with no anonymous
# role it gets 401.  Also: response.status/response.headers, the
# pre-request function, Prefer: tx=rollback, and that the secret and
# zvt.jwt_sign are superusers' only.
set -u
. "$(dirname "$0")/http_lib.bash"

keys=$ZVT_TEST_DIR/http_jwt
mkdir -p "$keys"
cleanup() {
	local rc=$?
	http_stop
	q -c "SET client_min_messages = warning" \
	  -c "DROP FUNCTION IF EXISTS zvt_api.canary_touch(), zvt_api.whoami(), zvt_api.teapot(), public.http_pre()" \
	  -c "DROP TABLE IF EXISTS public.http_canary" \
	  -c "DROP ROLE IF EXISTS http_alice" -c "DROP ROLE IF EXISTS http_mallory" >/dev/null
	[ "$rc" = 0 ] || grep 'zvt http' "$ZVT_TEST_DIR/log" | tail -20 >&2
}
trap cleanup EXIT

q -c "SET client_min_messages = warning" \
  -c "CREATE TABLE public.http_canary (who text, at timestamptz DEFAULT now())" \
  -c "GRANT INSERT, SELECT ON public.http_canary TO PUBLIC" \
  -c "CREATE FUNCTION zvt_api.canary_touch() RETURNS int LANGUAGE sql
        AS \$\$ INSERT INTO public.http_canary (who) VALUES (current_user) RETURNING 1 \$\$" \
  -c "CREATE FUNCTION zvt_api.whoami() RETURNS json LANGUAGE sql STABLE AS \$\$
        SELECT json_build_object('user', current_user, 'session', session_user,
          'method', current_setting('request.method'), 'path', current_setting('request.path'),
          'claims', current_setting('request.jwt.claims')::json,
          'agent', current_setting('request.headers')::json->>'user-agent',
          'prefer', current_setting('request.headers')::json->>'prefer',
          'cookies', current_setting('request.cookies')::json,
          'tz', current_setting('TimeZone')) \$\$" \
  -c "CREATE FUNCTION zvt_api.teapot() RETURNS int LANGUAGE sql AS \$\$
        SELECT set_config('response.status', '418', true), set_config('response.headers', '[{\"X-Zvt\": \"tea\"}]', true);
        SELECT 1 \$\$" \
  -c "CREATE FUNCTION public.http_pre() RETURNS void LANGUAGE plpgsql AS \$\$ BEGIN
        IF current_setting('request.headers')::json->>'x-forwarded-for' = '10.6.6.6' THEN
          RAISE insufficient_privilege USING MESSAGE = 'blocked address'; END IF; END \$\$" \
  -c "GRANT EXECUTE ON FUNCTION zvt_api.canary_touch(), zvt_api.whoami(), zvt_api.teapot(), public.http_pre() TO PUBLIC" \
  -c "CREATE ROLE http_alice NOLOGIN" -c "GRANT zvt_trader TO http_alice" \
  -c "GRANT http_alice TO zvt_authenticator" \
  -c "CREATE ROLE http_mallory NOLOGIN" -c "GRANT zvt_trader TO http_mallory" >/dev/null || fail "setup"

# --- RS256 and ES256 keys in a JWKS file ------------------------------------
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$keys/rsa.pem" 2>/dev/null || fail "rsa key"
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$keys/ec.pem" 2>/dev/null || fail "ec key"
n=$(openssl rsa -in "$keys/rsa.pem" -noout -modulus | cut -d= -f2)
xy=$(openssl pkey -in "$keys/ec.pem" -pubout -outform DER | tail -c 64 | od -An -tx1 | tr -d ' \n')
python3 - "$n" "$xy" > "$keys/jwks.json" <<'PY'
import base64, json, sys
b = lambda h: base64.urlsafe_b64encode(bytes.fromhex(h)).rstrip(b'=').decode()
print(json.dumps({"keys": [
    {"kty": "RSA", "kid": "r1", "n": b(sys.argv[1]), "e": "AQAB"},
    {"kty": "EC", "kid": "e1", "crv": "P-256", "x": b(sys.argv[2][:64]), "y": b(sys.argv[2][64:])}]}))
PY
chmod -R a+rX "$keys"

# sign HEADER-JSON CLAIMS-JSON KEY: a token signed by openssl (RS256/ES256)
# or by HMAC (KEY "hs:<secret>"), or unsigned (KEY "none")
sign() {
	python3 - "$@" <<'PY'
import base64, hashlib, hmac, json, subprocess, sys
hdr, claims, key = sys.argv[1:4]
e = lambda b: base64.urlsafe_b64encode(b).rstrip(b'=').decode()
msg = e(hdr.encode()) + "." + e(claims.encode())
if key == "none":
    sig = b""
elif key.startswith("hs:"):
    sig = hmac.new(key[3:].encode(), msg.encode(), hashlib.sha256).digest()
else:
    der = subprocess.run(["openssl", "dgst", "-sha256", "-sign", key], input=msg.encode(),
                         capture_output=True, check=True).stdout
    if "ES256" in hdr:      # DER ECDSA-Sig-Value -> r||s
        i = 2 + (der[1] & 0x80 and der[1] & 0x7f)
        rl = der[i + 1]; r = der[i + 2:i + 2 + rl]; j = i + 2 + rl
        sl = der[j + 1]; s = der[j + 2:j + 2 + sl]
        sig = r.lstrip(b'\0').rjust(32, b'\0') + s.lstrip(b'\0').rjust(32, b'\0')
    else:
        sig = der
print(msg + "." + e(sig))
PY
}

http_start "zvt.jwt_jwks_file = '$keys/jwks.json'" "zvt.jwt_aud = 'zvt-api'" \
	"zvt.http_pre_request = 'public.http_pre'"
now=$(date +%s)
rpc() { local t=$1; shift; hit -X POST -H "Authorization: Bearer $t" -H 'Content-Type: application/json' -d '{}' "$@"; }
canary() { q -c "SELECT count(*) FROM public.http_canary"; }
www() { header WWW-Authenticate -X POST -H "Authorization: Bearer $1" -H 'Content-Type: application/json' -d '{}' "$BASE/rpc/canary_touch"; }

# --- good tokens --------------------------------------------------------------
alice=$(token '{"role": "http_alice"}')
out=$(hit -X POST -H "Authorization: Bearer $alice" -H 'Prefer: count=exact' -H 'Cookie: a=1; b=two' \
	-A 'zvt-test/1' -H 'Content-Type: application/json' -d '{}' "$BASE/rpc/whoami")
expect "HS256 token: status" 200 "${out%% *}"
body=${out#* }
expect "runs as the token's role" http_alice "$(echo "$body" | python3 -c 'import json,sys; print(json.load(sys.stdin)["user"])')"
expect "session user is the authenticator" zvt_authenticator \
	"$(echo "$body" | python3 -c 'import json,sys; print(json.load(sys.stdin)["session"])')"
expect "request.method, path, headers, cookies, claims" \
	"POST /rpc/whoami zvt-test/1 count=exact 1 two http_alice" \
	"$(echo "$body" | python3 -c 'import json,sys; d=json.load(sys.stdin); print(d["method"], d["path"], d["agent"], d["prefer"], d["cookies"]["a"], d["cookies"]["b"], d["claims"]["role"])')"
out=$(hit -X POST -H 'Content-Type: application/json' -d '{}' "$BASE/rpc/whoami")
expect "no token runs as zvt_anon" zvt_anon \
	"$(echo "${out#* }" | python3 -c 'import json,sys; print(json.load(sys.stdin)["user"])')"
expect "anonymous claims" '{"role":"zvt_anon"}' \
	"$(echo "${out#* }" | python3 -c 'import json,sys; print(json.dumps(json.load(sys.stdin)["claims"], separators=(",", ":")))')"

rs=$(sign '{"alg":"RS256","kid":"r1"}' '{"role":"http_alice","aud":"zvt-api"}' "$keys/rsa.pem")
expect "RS256 token from the JWKS" 200 "$(rpc "$rs" "$BASE/rpc/whoami" | cut -d' ' -f1)"
es=$(sign '{"alg":"ES256","kid":"e1"}' '{"role":"http_alice"}' "$keys/ec.pem")
expect "ES256 token from the JWKS" 200 "$(rpc "$es" "$BASE/rpc/whoami" | cut -d' ' -f1)"
aud=$(token '{"role": "http_alice", "aud": ["x", "zvt-api"]}')
expect "token for our audience" 200 "$(rpc "$aud" "$BASE/rpc/whoami" | cut -d' ' -f1)"

# --- bad tokens: 401/403/400, the exact body, nothing run -------------------------
before=$(canary)
bad() {
	local what=$1 tok=$2 status=$3 body=$4
	expect "$what" "$status $body" "$(rpc "$tok" "$BASE/rpc/canary_touch")"
}
bad "expired" "$(token "{\"role\": \"http_alice\", \"exp\": $((now - 60))}")" 401 \
	'{"code":"PGRST303","details":null,"hint":null,"message":"JWT expired"}'
expect "expired: WWW-Authenticate" 'Bearer error="invalid_token", error_description="JWT expired"' \
	"$(www "$(token "{\"role\": \"http_alice\", \"exp\": $((now - 60))}")")"
expect "expired within the 30 s skew is accepted" 200 \
	"$(rpc "$(token "{\"role\": \"http_alice\", \"exp\": $((now - 10))}")" "$BASE/rpc/whoami" | cut -d' ' -f1)"
bad "not yet valid" "$(token "{\"role\": \"http_alice\", \"nbf\": $((now + 120))}")" 401 \
	'{"code":"PGRST303","details":null,"hint":null,"message":"JWT not yet valid"}'
bad "issued in the future" "$(token "{\"role\": \"http_alice\", \"iat\": $((now + 120))}")" 401 \
	'{"code":"PGRST303","details":null,"hint":null,"message":"JWT issued at future"}'
forged=$(sign '{"alg":"HS256","typ":"JWT"}' '{"role":"http_alice"}' "hs:not-the-secret-not-the-secret-00")
bad "bad signature" "$forged" 401 \
	'{"code":"PGRST301","details":null,"hint":null,"message":"JWT cryptographic operation failed"}'
expect "bad signature: WWW-Authenticate" \
	'Bearer error="invalid_token", error_description="JWT cryptographic operation failed"' "$(www "$forged")"
bad "alg none" "$(sign '{"alg":"none","typ":"JWT"}' '{"role":"postgres"}' none)" 401 \
	'{"code":"PGRST301","details":null,"hint":null,"message":"Wrong or unsupported encoding algorithm"}'
bad "RS256 signed by another key" \
	"$(openssl genpkey -algorithm RSA -out "$keys/other.pem" 2>/dev/null; sign '{"alg":"RS256"}' '{"role":"http_alice"}' "$keys/other.pem")" 401 \
	'{"code":"PGRST301","details":null,"hint":null,"message":"JWT cryptographic operation failed"}'
bad "HS256 header on an RS256-signed token (key confusion)" \
	"$(sign '{"alg":"HS256"}' '{"role":"http_alice"}' "$keys/rsa.pem")" 401 \
	'{"code":"PGRST301","details":null,"hint":null,"message":"JWT cryptographic operation failed"}'
bad "two parts" "a.b" 401 \
	'{"code":"PGRST301","details":null,"hint":null,"message":"Expected 3 parts in JWT; got 2"}'
bad "wrong audience" "$(token '{"role": "http_alice", "aud": "someone-else"}')" 401 \
	'{"code":"PGRST303","details":null,"hint":null,"message":"JWT not in audience"}'
bad "unknown role" "$(token '{"role": "http_nobody"}')" 400 \
	'{"code":"22023","details":null,"hint":null,"message":"role \"http_nobody\" does not exist"}'
bad "role not granted to the authenticator" "$(token '{"role": "http_mallory"}')" 403 \
	'{"code":"42501","details":null,"hint":null,"message":"permission denied to set role \"http_mallory\""}'
bad "superuser role" "$(token '{"role": "postgres"}')" 403 \
	'{"code":"42501","details":null,"hint":null,"message":"permission denied to set role \"postgres\""}'
# the authenticator is its own member, but it has no privileges at all
bad "the authenticator itself" "$(token '{"role": "zvt_authenticator"}')" 403 \
	'{"code":"42501","details":null,"hint":null,"message":"permission denied for schema zvt_api"}'
expect "no bad token ran anything" "$before" "$(canary)"

# --- a granted role runs; response settings; Prefer: tx=rollback; pre-request --------
expect "a good token runs the function" "200 1" "$(rpc "$alice" "$BASE/rpc/canary_touch")"
expect "canary counted once" "$((before + 1))" "$(canary)"
expect "Prefer: tx=rollback answers" "200 1" "$(rpc "$alice" -H 'Prefer: tx=rollback' "$BASE/rpc/canary_touch")"
expect "Prefer: tx=rollback rolled back" "$((before + 1))" "$(canary)"
expect "Preference-Applied" "tx=rollback" \
	"$(header Preference-Applied -X POST -H "Authorization: Bearer $alice" -H 'Prefer: tx=rollback' -H 'Content-Type: application/json' -d '{}' "$BASE/rpc/canary_touch")"
tzof() { echo "${1#* }" | python3 -c 'import json,sys; print(json.load(sys.stdin)["tz"])'; }
expect "Prefer: timezone" America/Los_Angeles \
	"$(tzof "$(rpc "$alice" -H 'Prefer: timezone=America/Los_Angeles' "$BASE/rpc/whoami")")"
expect "Prefer: timezone applied" "timezone=America/Los_Angeles" \
	"$(header Preference-Applied -X POST -H 'Prefer: timezone=America/Los_Angeles' -H 'Content-Type: application/json' -d '{}' "$BASE/rpc/whoami")"
expect "an invalid timezone is ignored" "200 $(q -c "SHOW TimeZone")" \
	"$(out=$(rpc "$alice" -H 'Prefer: timezone=Mars/Olympus' "$BASE/rpc/whoami"); echo "${out%% *} $(tzof "$out")")"
expect "an invalid timezone with handling=strict" \
	'400 {"code":"PGRST122","details":"Invalid preferences: timezone=Mars/Olympus","hint":null,"message":"Invalid preferences given with handling=strict"}' \
	"$(rpc "$alice" -H 'Prefer: handling=strict, timezone=Mars/Olympus' "$BASE/rpc/whoami")"
expect "response.status" "418 1" "$(rpc "$alice" "$BASE/rpc/teapot")"
expect "response.headers" "tea" "$(header X-Zvt -X POST -H 'Content-Type: application/json' -d '{}' "$BASE/rpc/teapot")"
expect "pre-request refuses" \
	'403 {"code":"42501","details":null,"hint":null,"message":"blocked address"}' \
	"$(rpc "$alice" -H 'X-Forwarded-For: 10.6.6.6' "$BASE/rpc/canary_touch")"
expect "pre-request refusal ran nothing" "$((before + 1))" "$(canary)"
expect "anonymous 42501 is 401" \
	'401 {"code":"42501","details":null,"hint":null,"message":"permission denied for view accounts"}' \
	"$(hit "$BASE/accounts")"

# --- the secret and the signer are superusers' ------------------------------------
expect "the secret is hidden from others" 42501 \
	"$(psql -X -qAt -v VERBOSITY=sqlstate -c "SET ROLE http_alice" -c "SHOW zvt.jwt_secret" 2>&1 | grep -o 42501)"
expect "zvt.jwt_sign refuses others" 42501 \
	"$(psql -X -qAt -v VERBOSITY=sqlstate -c "SET ROLE http_alice" -c "SELECT zvt.jwt_sign('{}')" 2>&1 | grep -o 42501)"
expect "a short secret is refused" 22023 \
	"$(psql -X -qAt -v VERBOSITY=sqlstate -c "ALTER SYSTEM SET zvt.jwt_secret = 'short'" 2>&1 | grep -o 22023)"

# --- no anonymous role: a token is required ----------------------------------------
q -c "ALTER SYSTEM SET zvt.http_anon_role = ''" -c "SELECT pg_reload_conf()" >/dev/null
http_settings+=(zvt.http_anon_role)
want='401 {"code":"PGRST302","details":null,"hint":null,"message":"Anonymous access is disabled"}'
for ((i = 0; i < 50; i++)); do
	got=$(hit "$BASE/instruments")
	[ "$got" = "$want" ] && got2=$(hit "$BASE/instruments") && [ "$got2" = "$want" ] && break
	sleep 0.1
done
expect "anonymous access disabled" "$want" "$got"
expect "anonymous access disabled: WWW-Authenticate" "Bearer" "$(header WWW-Authenticate "$BASE/instruments")"
expect "a token still works" 200 "$(rpc "$alice" "$BASE/rpc/whoami" | cut -d' ' -f1)"

# --- a new secret: a token verified a moment ago under the old one is refused ------
# (auth.c keeps tokens verified in the current second; a reload must forget
# them.)  On one keep-alive connection, so one worker: the old token,
# verified and kept, then the reload, then the old token and one signed
# with the new secret in turn until the new one is accepted; the old one
# sent right after must be refused.
secret2=zvt-test-secret-the-second-one-0123456789
got=$(python3 - "$HTTP_PORT" "$alice" "$secret2" <<'PY'
import base64, hashlib, hmac, socket, subprocess, sys, time
port, old, secret = int(sys.argv[1]), sys.argv[2], sys.argv[3]
e = lambda b: base64.urlsafe_b64encode(b).rstrip(b"=")
msg = e(b'{"alg":"HS256","typ":"JWT"}') + b"." + e(b'{"role":"http_alice"}')
new = (msg + b"." + e(hmac.new(secret.encode(), msg, hashlib.sha256).digest())).decode()
s = socket.create_connection(("127.0.0.1", port))
s.settimeout(10)
f = s.makefile("rb")
def status(tok):
    s.sendall(("POST /rpc/whoami HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\n"
               "Content-Type: application/json\r\nContent-Length: 2\r\n\r\n{}" % tok).encode())
    code = int(f.readline().split()[1])
    n = 0
    while True:
        h = f.readline()
        if h in (b"\r\n", b""):
            break
        if h.lower().startswith(b"content-length:"):
            n = int(h.split(b":")[1])
    f.read(n)
    return code
first = status(old)
subprocess.run(["psql", "-X", "-qAt", "-o", "/dev/null", "-c",
                "ALTER SYSTEM SET zvt.jwt_secret = '%s'" % secret, "-c", "SELECT pg_reload_conf()"], check=True)
for i in range(2000):
    old_code = status(old)
    if status(new) == 200:
        print(first, status(old))
        break
else:
    print(first, "the new secret was never used")
PY
)
expect "the old token before the reload" 200 "${got%% *}"
expect "after the reload the old secret's token is refused at once" 401 "${got##* }"
echo "http_jwt: all passed"
