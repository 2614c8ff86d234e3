#!/usr/bin/env bash
# test/integration/upgrade.sh: ALTER EXTENSION zvt UPDATE from every
# released version (sql/releases/zvt--V.sql, kept as released) gives what
# a fresh installation of the current version gives, and keeps the data.
#
# For each released version V, in databases of the test cluster:
#   - fresh:  CREATE EXTENSION zvt (the current version);
#   - empty:  CREATE EXTENSION zvt VERSION 'V', then UPDATE;
#   - filled: V installed, filled with instruments, trades and candles in
#     chunks and in the default partitions, accounts with grants and
#     limits, orders (filled, resting, cancelled), a backtest run; every
#     table's content checksummed; UPDATE; the checksums again.
# The catalogs (test/upgrade/catalog.sql: every function signature and
# body, table, column, index, constraint, trigger, grant, policy, comment)
# of empty and filled must equal fresh's, as must the rows the install
# script seeds; after the update the filled one still trades, cancels,
# backtests and is maintained.
set -u
. "$(dirname "$0")/common.bash"
top=$(cd "$(dirname "$0")/../.." && pwd)
current=$(sed -n "s/^default_version = '\(.*\)'/\1/p" "$top/zvt.control")
work=$(mktemp -d /tmp/zvt-upgrade.XXXXXX)
dbs="up_fresh up_empty up_filled"
cleanup() {
	for d in $dbs; do psql -X -q -d postgres -c "DROP DATABASE IF EXISTS $d WITH (FORCE)" >/dev/null 2>&1; done
	psql -X -q -d postgres -c "DROP ROLE IF EXISTS upg_trader" >/dev/null 2>&1
	rm -rf "$work"
}
trap cleanup EXIT

catalog() { psql -X -q -d "$1" -v ON_ERROR_STOP=1 -f "$top/test/upgrade/catalog.sql"; }
# every row of every table of zvt and _zvt_chunks, as one digest per table
# (partitions by their parent and bounds: their names hold OIDs, and the
# update renames the default ones); "seeded" leaves out the
# creation times the install script stamps
# contents DB [seeded|filled] [OID]: with OID, zvt._hypertables rows of
# relations made after it (hypertables an update adds) are left out
contents() {
	# columns an update adds to a table of the old version (zvt.fills'
	# exchange_trade_id and fee_source, sql/59_userstream.sql) are left out:
	# the old rows are compared as they were
	local strip="'{exchange_trade_id,fee_source}'" upto=${3:-4294967295}
	[ "${2:-}" = seeded ] && strip="'{created_at,exchange_trade_id,fee_source}'"
	psql -X -qAt -d "$1" -v ON_ERROR_STOP=1 <<SQL
SELECT CASE WHEN c.relispartition
            THEN 'partition of ' || (SELECT i.inhparent::regclass::text FROM pg_inherits i WHERE i.inhrelid = c.oid)
                 || ' ' || pg_get_expr(c.relpartbound, c.oid)
            ELSE n.nspname || '.' || c.relname END || ' '
       || (xpath('/row/c/text()', query_to_xml(format(
            'SELECT count(*) || '':'' || coalesce(md5(string_agg(r, E''\\n'' ORDER BY r)), ''-'') AS c
               FROM (SELECT (to_jsonb(t) - %L::text[])::text AS r FROM ONLY %s t %s) s',
            $strip, c.oid::regclass,
            CASE WHEN c.oid = 'zvt._hypertables'::regclass THEN 'WHERE relid::oid::int8 <= $upto' ELSE '' END),
            false, true, '')))[1]::text
  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE n.nspname IN ('zvt', '_zvt_chunks') AND c.relkind = 'r'
 ORDER BY 1;
SQL
}
newdb() { psql -X -q -d postgres -v ON_ERROR_STOP=1 -c "DROP DATABASE IF EXISTS $1 WITH (FORCE)" -c "CREATE DATABASE $1" >/dev/null; }

newdb up_fresh
q -d up_fresh -c "CREATE EXTENSION zvt" || fail "fresh install of $current"
catalog up_fresh >"$work/fresh.cat" || fail "catalog of the fresh install"
contents up_fresh seeded >"$work/fresh.rows" || fail "contents of the fresh install"

fill() {
	q -d "$1" <<'SQL'
INSERT INTO zvt.instruments (id, exchange, symbol, raw_symbol, base, quote, kind, tick_size, lot_size)
OVERRIDING SYSTEM VALUE VALUES
    (9101, 'binance', 'UPG-USDT', 'UPGUSDT', 'UPG', 'USDT', 'spot', 0.01, 0.001),
    (9102, 'bybit', 'UPG-USDT-PERP', 'UPGUSDT', 'UPG', 'USDT', 'perp', 0.1, 0.01);
SELECT setval('zvt.instruments_id_seq', 9102);
-- trades: some in chunks, some far in the past (the default partition)
SELECT zvt._ensure_chunk('zvt.trades', now());
INSERT INTO zvt.trades (ts, instrument_id, trade_id, price, qty, side)
SELECT now() - i * interval '1 second', 9101, 't' || i, 100 + i % 7, 0.5, CASE WHEN i % 2 = 0 THEN 'buy' ELSE 'sell' END
  FROM generate_series(1, 500) i;
INSERT INTO zvt.trades (ts, instrument_id, trade_id, price, qty, side)
VALUES ('1999-01-01 00:00+00', 9101, 'old1', 50, 1, 'buy'), ('infinity', 9101, 'inf', 51, 1, 'sell');
SELECT zvt._ensure_chunk('zvt.candles', timestamptz '2024-01-01 00:00+00');
SELECT zvt._ensure_chunk('zvt.candles', timestamptz '2024-01-08 00:00+00');
INSERT INTO zvt.candles (ts, instrument_id, timeframe, open, high, low, close, volume, closed)
SELECT timestamptz '2024-01-01 00:00+00' + i * interval '1 minute', 9101, '1 minute',
       100 + 10 * sin(i / 50.0), 101 + 10 * sin(i / 50.0), 99 + 10 * sin(i / 50.0), 100 + 10 * sin((i + 1) / 50.0), 3, true
  FROM generate_series(0, 4000) i;
-- accounts, grants, limits, orders
DROP ROLE IF EXISTS upg_trader;
CREATE ROLE upg_trader;
SELECT zvt.create_account('upg', initial_cash => 100000, taker_fee_bps => 10);
SELECT zvt.grant_account('upg', 'upg_trader');
SELECT zvt.set_risk_limits('upg', max_order_qty => 50);
SELECT zvt._bus_publish(9101, 100, 1, 99.9, 5, 100.1, 5, now());
SELECT zvt.place_order('upg', 'binance', 'UPG-USDT', 'buy', 2);
SELECT zvt.place_order('upg', 'binance', 'UPG-USDT', 'buy', 1, 'limit', price => 90);
SELECT zvt.place_order('upg', 'binance', 'UPG-USDT', 'sell', 1, 'limit', price => 120);
SELECT zvt.cancel_order(order_id) FROM zvt.orders WHERE price = 120;
SELECT run_id FROM zvt.backtest('sma_cross', 'binance', 'UPG-USDT', '1 minute',
                                '2024-01-01', '2024-01-03', '{"fast": 5, "slow": 20}');
SQL
}

for rel in "$top"/sql/releases/zvt--*.sql; do
	v=$(basename "$rel" .sql); v=${v#zvt--}
	[ "$v" = "$current" ] && continue

	newdb up_empty
	q -d up_empty -c "CREATE EXTENSION zvt VERSION '$v'" || fail "install $v"
	q -d up_empty -c "ALTER EXTENSION zvt UPDATE" || fail "update $v -> $current"
	[ "$(q -d up_empty -c "SELECT extversion FROM pg_extension WHERE extname = 'zvt'")" = "$current" ] || fail "$v did not reach $current"
	catalog up_empty >"$work/empty.cat"
	diff -u "$work/fresh.cat" "$work/empty.cat" >&2 || fail "the catalog of $v updated differs from a fresh $current (- fresh, + updated)"
	contents up_empty seeded >"$work/empty.rows"
	diff -u "$work/fresh.rows" "$work/empty.rows" >&2 || fail "the seeded rows of $v updated differ from a fresh $current"
	echo "ok $v -> $current: the catalog ($(grep -c . "$work/fresh.cat") lines) and seeded rows equal a fresh install"

	newdb up_filled
	q -d up_filled -c "CREATE EXTENSION zvt VERSION '$v'" || fail "install $v"
	fill up_filled >/dev/null || fail "fill $v"
	contents up_filled >"$work/before.rows"
	# tables an update may extend: hypertables it adds register in
	# _hypertables, columns it adds show in every row; their old rows
	# (as JSON) must each still be contained in a row after the update
	for t in zvt._hypertables zvt.exchanges; do
		q -d up_filled -c "SELECT to_jsonb(t)::text FROM $t t" >"$work/ext.$t"
	done
	q -d up_filled -c "ALTER EXTENSION zvt UPDATE" || fail "update a filled $v"
	contents up_filled >"$work/after.rows"
	for t in zvt._hypertables zvt.exchanges; do
		while IFS= read -r row; do
			[ "$(q -d up_filled -v row="$row" <<<"SELECT count(*) FROM $t t WHERE to_jsonb(t) @> :'row'::jsonb")" = 1 ] ||
				fail "the update changed a row of $t: $row"
		done <"$work/ext.$t"
	done
	# the tables that were there before (the update adds others)
	awk 'NR == FNR { had[$0 = substr($0, 1, length($0) - length($NF) - 1)]; next }
		 { k = substr($0, 1, length($0) - length($NF) - 1) } k in had' "$work/before.rows" "$work/after.rows" |
		grep -Ev '^(zvt\._hypertables|zvt\.exchanges) ' >"$work/kept.rows"
	grep -Ev '^(zvt\._hypertables|zvt\.exchanges) ' "$work/before.rows" >"$work/before.kept"
	diff -u "$work/before.kept" "$work/kept.rows" >&2 || fail "the update changed the data of $v"
	# its chunks are data, not catalog: leave them out
	catalog up_filled | grep -v '_hyper_N_p[0-9]' >"$work/filled.cat"
	diff -u "$work/fresh.cat" "$work/filled.cat" >&2 || fail "the catalog of a filled $v updated differs from a fresh $current"
	rows=$(q -d up_filled -c "SELECT (SELECT count(*) FROM zvt.trades) || ' trades, ' || (SELECT count(*) FROM zvt.candles) || ' candles, '
		|| (SELECT count(*) FROM zvt.orders) || ' orders, ' || (SELECT count(*) FROM zvt.fills) || ' fills, '
		|| (SELECT count(*) FROM zvt.backtest_runs) || ' backtest run'")
	[ "$rows" = "502 trades, 4001 candles, 3 orders, 1 fills, 1 backtest run" ] || fail "unexpected data after the update: $rows"

	# and it works as the current version does
	out=$(q -d up_filled <<'SQL'
DO $$ BEGIN PERFORM zvt._bus_publish(9101, 91, 1, 90.9, 5, 91.1, 5, now()); END $$;
SELECT status FROM zvt.place_order('upg', 'binance', 'UPG-USDT', 'sell', 1);
SELECT count(*) FROM zvt.orders WHERE status = 'filled';
SELECT count(*) FROM zvt.cancel_all('upg');
SELECT bars > 0 FROM zvt.backtest('sma_cross', 'binance', 'UPG-USDT', '1 minute', '2024-01-01', '2024-01-03', '{"fast": 5, "slow": 20}');
CALL zvt.run_maintenance();
SELECT count(*) FROM ONLY _zvt_chunks.trades_default WHERE ts = '1999-01-01 00:00+00';
SELECT count(*) FROM zvt.feed_status;
SELECT count(*) FROM zvt.backtest_runs;
SQL
	) || fail "the updated $v does not work: $out"
	want=$'filled\n2\n1\nt\n0\n4\n2'
	[ "$out" = "$want" ] || fail "the updated $v answered: $(echo $out) (want $(echo $want))"
	echo "ok $v -> $current with data: $rows kept byte for byte; it trades, cancels, backtests and is maintained after"
done
