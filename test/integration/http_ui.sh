#!/usr/bin/env bash
# test/integration/http_ui.sh: the dashboard's static files at /ui/
# (src/http/ui.c): the installed files as built in ui/dist, content
# types, CSP and the other security headers, ETag and 304, gzip, HEAD,
# 405, zvt.http_ui off, reload; and, as an attacker, path traversal in
# every spelling (../, %2e%2e, %2f, backslashes, NUL, a long path), a
# symbolic link, a hidden file, a FIFO and a subdirectory in the served
# directory: none of them reads anything but the served files.
set -u
. "$(dirname "$0")/http_lib.bash"

root=$(cd "$(dirname "$0")/../.." && pwd)
work=$(mktemp -d "${TMPDIR:-/tmp}/zvt-ui.XXXXXX")
chmod 755 "$work"
cleanup() {
	local rc=$?
	http_stop
	rm -rf "$work"
	[ "$rc" = 0 ] || grep 'zvt http' "$ZVT_TEST_DIR/log" | tail -20 >&2
}
trap cleanup EXIT

CSP="default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

# --- the installed dashboard ---------------------------------------------------------
http_start
expect "/ui redirects to /ui/" "301 /ui/" "$(curl -s -o /dev/null -w '%{http_code} %{redirect_url}' "$BASE/ui" | sed "s#$BASE##")"
code() { curl -s -o /dev/null --max-time 10 -w '%{http_code}' "$@"; }
expect "/ui/ is index.html" 200 "$(code "$BASE/ui/")"
expect "index.html type" "text/html; charset=utf-8" "$(header Content-Type "$BASE/ui/")"
expect "app.js type" "text/javascript; charset=utf-8" "$(header Content-Type "$BASE/ui/app.js")"
expect "app.css type" "text/css; charset=utf-8" "$(header Content-Type "$BASE/ui/app.css")"
expect "favicon type" "image/svg+xml" "$(header Content-Type "$BASE/ui/favicon.svg")"
expect "CSP" "$CSP" "$(header Content-Security-Policy "$BASE/ui/")"
expect "nosniff" nosniff "$(header X-Content-Type-Options "$BASE/ui/app.js")"
expect "no framing" DENY "$(header X-Frame-Options "$BASE/ui/")"
expect "Cache-Control" no-cache "$(header Cache-Control "$BASE/ui/app.js")"
for f in index.html app.js app.css favicon.svg; do
	cmp -s <(curl -s "$BASE/ui/$f") "$root/ui/dist/$f" || fail "/ui/$f is not ui/dist/$f"
	echo "ok /ui/$f is ui/dist/$f byte for byte"
done
etag=$(header ETag "$BASE/ui/app.js")
[[ "$etag" =~ ^\"[0-9a-f]{16}\"$ ]] || fail "ETag: got [$etag]"
echo "ok ETag $etag"
expect "If-None-Match: 304" 304 "$(curl -s -o /dev/null -w '%{http_code}' -H "If-None-Match: $etag" "$BASE/ui/app.js")"
expect "304 has no body" 0 "$(curl -s -H "If-None-Match: W/\"x\", $etag" "$BASE/ui/app.js" | wc -c)"
expect "another ETag: 200" 200 "$(curl -s -o /dev/null -w '%{http_code}' -H 'If-None-Match: "0000000000000000"' "$BASE/ui/app.js")"
expect "gzip when accepted" gzip "$(header Content-Encoding -H 'Accept-Encoding: br, gzip' "$BASE/ui/app.js")"
cmp -s <(curl -s -H 'Accept-Encoding: gzip' "$BASE/ui/app.js" | gunzip) "$root/ui/dist/app.js" || fail "gunzip of app.js"
echo "ok gzip body unzips to app.js"
small=$(curl -s -H 'Accept-Encoding: gzip' "$BASE/ui/app.js" | wc -c)
[ "$small" -lt "$(wc -c <"$root/ui/dist/app.js")" ] || fail "gzip is not smaller"
expect "gzip;q=0 refuses it" "" "$(header Content-Encoding -H 'Accept-Encoding: gzip;q=0' "$BASE/ui/app.js")"
expect "no Accept-Encoding: identity" "" "$(header Content-Encoding "$BASE/ui/app.js")"
expect "Vary" Accept-Encoding "$(header Vary "$BASE/ui/app.js")"
expect "HEAD" "200 0" "$(curl -s -I -o /dev/null -w '%{http_code} %{size_download}' "$BASE/ui/app.js")"
expect "POST: 405" 405 "$(code -X POST -d x "$BASE/ui/app.js")"
expect "405 says Allow" "GET, HEAD" "$(header Allow -X DELETE "$BASE/ui/")"
expect "unknown file" 404 "$(code "$BASE/ui/nope.js")"
expect "/uix is the API's, not the dashboard's" "" "$(header Content-Security-Policy "$BASE/uix")"
expect "a token is not needed, a bad one is not read" 200 \
	"$(code -H 'Authorization: Bearer bad' "$BASE/ui/")"

# --- as an attacker: a directory with traps, served through zvt.http_ui_dir ----------
mkdir "$work/ui" "$work/ui/sub"
printf '<p>index</p>' >"$work/ui/index.html"
printf 'ok();' >"$work/ui/app.js"
echo 'SECRET-OUTSIDE' >"$work/outside.txt"
echo 'SECRET-SUB' >"$work/ui/sub/inner.txt"
echo 'SECRET-HIDDEN' >"$work/ui/.hidden.txt"
echo 'SECRET-NOEXT' >"$work/ui/README"
ln -s "$work/outside.txt" "$work/ui/link.txt"
ln -s /etc/passwd "$work/ui/passwd.txt"
ln -s "$work" "$work/ui/up"
mkfifo "$work/ui/fifo.txt"
chmod -R a+rX "$work"
chmod 644 "$work/ui/fifo.txt"
q -c "ALTER SYSTEM SET zvt.http_ui_dir = '$work/ui'" -c "SELECT pg_reload_conf()" >/dev/null
http_settings+=(zvt.http_ui_dir)
for ((i = 0; i < 50; i++)); do
	[ "$(curl -s "$BASE/ui/")" = '<p>index</p>' ] && break
	sleep 0.1
done
expect "zvt.http_ui_dir served after a reload" '<p>index</p>' "$(curl -s "$BASE/ui/")"
expect "a file in it" 'ok();' "$(curl -s "$BASE/ui/app.js")"
leaks=0
for p in /ui/../outside.txt /ui/..%2foutside.txt /ui/%2e%2e/outside.txt /ui/%2e%2e%2foutside.txt \
	/ui/..%5coutside.txt '/ui/..\outside.txt' /ui/./../outside.txt /ui//../outside.txt \
	/ui/../../../../../../etc/passwd /ui/%2e%2e/%2e%2e/%2e%2e/%2e%2e/etc/passwd /ui/%252e%252e/outside.txt \
	/ui/%c0%ae%c0%ae/outside.txt /ui/link.txt /ui/passwd.txt /ui/up/outside.txt /ui/sub/inner.txt \
	/ui/sub /ui/.hidden.txt /ui/README /ui/fifo.txt /ui/app.js%00.txt /ui/app.js%00 /ui/%00 \
	/ui/index.html/ /ui/.//app.js "/ui/$(head -c 6000 /dev/zero | tr '\0' 'a').js" \
	'/ui/..;/outside.txt' "/ui/app.js?../outside.txt" /ui/app.js/../../outside.txt; do
	out=$(curl -s --path-as-is --max-time 5 -w ' %{http_code}' "$BASE$p")
	code=${out##* }
	case "$out" in *SECRET* | *root:*) leaks=$((leaks + 1)); echo "LEAK $p: $out" >&2 ;; esac
	# lws normalizes some spellings (/ui/.//app.js, a NUL ends the path):
	# those may reach a served file, never anything else
	case "$code:${out% *}" in
		"200:<p>index</p>" | "200:ok();" | 404:* | 400:* | 403:* | 431:* | 000:*) ;;
		*) leaks=$((leaks + 1)); echo "unexpected $p: $out" >&2 ;;
	esac
	echo "ok $p -> $code"
done
expect "no traversal, link, hidden file, FIFO or subdirectory served" 0 "$leaks"
expect "still serving after the attack" 'ok();' "$(curl -s "$BASE/ui/app.js")"

# --- reload picks up new files; zvt.http_ui = off -----------------------------------
old=$(header ETag "$BASE/ui/app.js")
echo 'changed();' >"$work/ui/app.js"
q -c "SELECT pg_reload_conf()" >/dev/null
for ((i = 0; i < 50; i++)); do
	[ "$(curl -s "$BASE/ui/app.js")" = 'changed();' ] && break
	sleep 0.1
done
expect "reload reads the files again" 'changed();' "$(curl -s "$BASE/ui/app.js")"
[ "$(header ETag "$BASE/ui/app.js")" != "$old" ] || fail "the ETag did not change with the file"
echo "ok a changed file has a new ETag"
q -c "ALTER SYSTEM SET zvt.http_ui = off" -c "SELECT pg_reload_conf()" >/dev/null
http_settings+=(zvt.http_ui)
for ((i = 0; i < 50; i++)); do
	[ -z "$(header Content-Security-Policy "$BASE/ui/")" ] && break
	sleep 0.1
done
expect "zvt.http_ui = off: /ui/ is not served" "" "$(header Content-Security-Policy "$BASE/ui/")"
[ "$(curl -s -o /dev/null -w '%{http_code}' "$BASE/ui/")" != 200 ] || fail "/ui/ answered 200 with zvt.http_ui off"
echo "ok zvt.http_ui = off: no dashboard"
