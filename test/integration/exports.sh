#!/usr/bin/env bash
# test/integration/exports.sh: zvt.so exports only what PostgreSQL calls.
#
# The SQL-callable functions (every PG_FUNCTION_INFO_V1 in src/) and their
# info functions, the background and parallel worker entry points
# (declared PGDLLEXPORT), _PG_init and Pg_magic_func; nothing of the core
# (risk_check, dec_mul, the parsers...) is reachable from outside, so no
# other library can call or interpose on them.
set -eu
top=$(cd "$(dirname "$0")/../.." && pwd)
. "$top/test/integration/common.bash"
so=$top/zvt.so
[ -f "$so" ] || fail "no $so (run make first)"

want=$(mktemp); got=$(mktemp)
trap 'rm -f "$want" "$got"' EXIT
{
	echo _PG_init
	echo Pg_magic_func
	grep -rhoE '^PG_FUNCTION_INFO_V1\([A-Za-z0-9_]+\)' "$top/src" --include='*.c' |
		sed -E 's/PG_FUNCTION_INFO_V1\((.*)\)/\1\npg_finfo_\1/'
	grep -rhoE '^(extern )?PGDLLEXPORT void [A-Za-z0-9_]+\(' "$top/src" --include='*.c' |
		sed -E 's/.* ([A-Za-z0-9_]+)\($/\1/'
} | sort -u >"$want"
nm -D --defined-only "$so" | awk '$2 ~ /^[TDBR]$/ {print $3}' | sort -u >"$got"

extra=$(comm -13 "$want" "$got")
missing=$(comm -23 "$want" "$got")
[ -z "$missing" ] || fail "not exported: $(echo $missing)"
[ -z "$extra" ] || fail "exported but internal: $(echo "$extra" | head -20 | tr '\n' ' ')($(echo "$extra" | wc -l) in all)"
# every C function an install script names, of this version or a released
# one (sql/releases: an update starts from those), is there
named=$(cat "$top"/sql/[0-9][0-9]_*.sql "$top"/sql/releases/*.sql |
	grep -oE "MODULE_PATHNAME', *'[A-Za-z0-9_]+'" | sed -E "s/.*'([A-Za-z0-9_]+)'/\1/" | sort -u)
for f in $named; do grep -qx "$f" "$got" || fail "$f, named by an install script, is not exported"; done
echo "ok zvt.so exports exactly $(wc -l <"$got") symbols: the SQL functions, their info functions, worker entry points, _PG_init, Pg_magic_func"
