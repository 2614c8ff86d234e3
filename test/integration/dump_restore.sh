#!/usr/bin/env bash
# pg_dump and pg_restore of a database with zvt: zvt's own hypertables
# (with rows in chunks and rows still waiting in their default
# partitions), user hypertables with grants, identity columns and
# retention, instruments, accounts under row-level security with a grant,
# orders, fills, positions, risk limits and a backtest run.  The dump
# restores with an empty stderr three ways: into a new database of the
# test cluster, by sections with post-data in parallel (-j), and with
# --single-transaction into the
# database a second cluster's workers serve.  The copies hold the same
# rows, and the served one works: its maintenance worker creates chunks
# under the new OIDs, moves waiting rows and applies retention, writers
# insert through the feeds' path, the paper matcher fills a restored
# resting order, orders place and backtests run.
set -u
. "$(dirname "$0")/common.bash"

src=zdr_src
work=$ZVT_TEST_DIR/dump_restore
mkdir -p "$work"
chmod 777 "$work"
dump=$work/zdr.dump
dir2=$ZVT_TEST_DIR/dump_restore_cluster
main_host=$PGHOST main_port=$PGPORT
cleanup() {
	cluster_stop "$dir2"
	PGHOST=$main_host PGPORT=$main_port psql -X -q -d postgres \
		-c "DROP DATABASE IF EXISTS zdr_src WITH (FORCE)" \
		-c "DROP DATABASE IF EXISTS zdr_copy WITH (FORCE)" \
		-c "DROP DATABASE IF EXISTS zdr_par WITH (FORCE)" \
		-c "DROP ROLE IF EXISTS zdr_trader" -c "DROP ROLE IF EXISTS zdr_viewer" -c "DROP ROLE IF EXISTS zdr_nobody" >/dev/null 2>&1
}
trap cleanup EXIT

roles="DO \$\$ BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'zdr_trader') THEN CREATE ROLE zdr_trader; END IF;
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'zdr_viewer') THEN CREATE ROLE zdr_viewer; END IF;
END \$\$"

# --- the source database ---------------------------------------------------
q -d postgres -c "SET client_min_messages = warning" -c "DROP DATABASE IF EXISTS $src WITH (FORCE)" -c "CREATE DATABASE $src" -c "$roles" >/dev/null \
	|| fail "source database"
q -d $src >/dev/null <<'SQL' || fail "filling the source database"
SET client_min_messages = warning;
SET TimeZone = 'UTC';
CREATE EXTENSION zvt;
INSERT INTO zvt.exchanges (name, ws_url, rest_url) VALUES ('zdrx', 'ws://127.0.0.1:1', 'http://127.0.0.1:1');
INSERT INTO zvt.assets (symbol, name) VALUES ('ZDR', 'dump coin');
INSERT INTO zvt.instruments (exchange, symbol, raw_symbol, base, quote, kind, tick_size, lot_size)
VALUES ('binance', 'ZDR-USDT', 'ZDRUSDT', 'ZDR', 'USDT', 'spot', 0.01, 0.001),
       ('zdrx', 'ZDR-USDT', 'ZDRUSDT', 'ZDR', 'USDT', 'spot', 0.01, 0.001);
-- market data: three days of trades and quotes, 600 1m candles
INSERT INTO zvt.trades (ts, instrument_id, trade_id, price, qty, side)
SELECT timestamptz '2026-01-01' + i * interval '1 hour', 1, 't' || i, 100 + i, 1, 'buy'
  FROM generate_series(0, 71) i;
INSERT INTO zvt.quotes (ts, instrument_id, seq, bid, ask)
SELECT timestamptz '2026-01-01' + i * interval '1 hour', 1, i, 99 + i, 101 + i
  FROM generate_series(0, 71) i;
INSERT INTO zvt.candles (ts, instrument_id, timeframe, open, high, low, close, closed)
SELECT ts, 1, '1 minute', o, greatest(o, c) + 0.5, least(o, c) - 0.5, c, true
  FROM (SELECT timestamptz '2026-01-01' + (i - 1) * interval '1 minute' AS ts,
               round((100 + 10 * sin((i - 1) / 5.0))::numeric, 2)::float8 AS o,
               round((100 + 10 * sin(i / 5.0))::numeric, 2)::float8 AS c
          FROM generate_series(1, 600) i) s;
-- user hypertables: one with a grant, an identity column and a retention
-- policy that keeps everything, one whose rows retention will drop
CREATE TABLE public.ticks (ts timestamptz NOT NULL, symbol text NOT NULL, price float8,
                           id bigint GENERATED ALWAYS AS IDENTITY, PRIMARY KEY (symbol, ts));
CREATE INDEX ticks_price_idx ON public.ticks (price);
SELECT 1 FROM zvt.create_hypertable('public.ticks', 'ts', '1 day');
SELECT zvt.add_retention_policy('public.ticks', interval '36500 days');
GRANT SELECT ON public.ticks TO zdr_viewer;
INSERT INTO public.ticks (ts, symbol, price)
SELECT timestamptz '2026-02-01' + i * interval '2 hours', 'ZDR', i FROM generate_series(0, 47) i;
INSERT INTO public.ticks (ts, symbol, price) VALUES ('infinity', 'ZDR', -1);
CREATE TABLE public.old_ticks (ts timestamptz NOT NULL, v int);
SELECT 1 FROM zvt.create_hypertable('public.old_ticks', 'ts', '7 days');
INSERT INTO public.old_ticks SELECT timestamptz '2020-01-01' + i * interval '1 day', i FROM generate_series(0, 20) i;
-- accounts under row-level security, with a grant; orders, fills, a position
SELECT zvt.bus_publish('binance', 'ZDR-USDT', price => 100, qty => 1, bid => 99.9, ask => 100.1);
SET ROLE zdr_trader;
SELECT 1 FROM zvt.create_account('zdr_spot', initial_cash => 10000);
SELECT 1 FROM zvt.grant_account('zdr_spot', 'zdr_viewer');
SELECT 1 FROM zvt.place_order('zdr_spot', 'binance', 'ZDR-USDT', 'buy', 2, 'market');
SELECT 1 FROM zvt.place_order('zdr_spot', 'binance', 'ZDR-USDT', 'buy', 1, 'limit', price => 50,
                              client_order_id => 'resting');
RESET ROLE;
SELECT 1 FROM zvt.create_account('zdr_admin', initial_cash => 500);
SELECT 1 FROM zvt.set_risk_limits('zdr_admin', max_order_qty => 10);
-- a backtest run with its trades and equity
SELECT 1 FROM zvt.backtest('sma_cross', 'binance', 'ZDR-USDT', '1 minute',
                           '2026-01-01', '2026-01-02', '{"fast": 3, "slow": 8}', store => 'all');
-- chunks for all of it (no worker serves this database)
CALL zvt.run_maintenance();
-- then rows that wait in the default partitions, as between two passes
INSERT INTO zvt.trades (ts, instrument_id, trade_id, price, qty, side)
VALUES ('2026-03-01 12:00+00', 1, 'late', 101, 2, 'sell'), ('infinity', 1, 'inf', 1, 1, 'buy');
INSERT INTO zvt.quotes (ts, instrument_id, seq, bid, ask) VALUES ('2026-03-01 12:00+00', 1, 1000, 1, 2);
INSERT INTO zvt.candles (ts, instrument_id, timeframe, open, high, low, close)
VALUES ('2026-06-01', 1, '1 day', 1, 2, 1, 2);
INSERT INTO public.ticks (ts, symbol, price) VALUES ('2026-03-05', 'ZDR', 7);
-- old_ticks' retention applies from the next pass on (in the restored copy)
SELECT zvt.add_retention_policy('public.old_ticks', interval '30 days');
SQL

q -d $src -c "SELECT count(*) FROM ONLY _zvt_chunks.trades_default" | grep -qx 2 || fail "no trades waiting in the default partition"

"$PGBIN/pg_dump" -Fc -d $src -f "$dump" 2>"$work/dump.err" || fail "pg_dump: $(cat "$work/dump.err")"
[ -s "$work/dump.err" ] && fail "pg_dump printed: $(cat "$work/dump.err")"

# The rows of every table that matters, in a fixed order, as one md5 each.
tables="zvt.trades zvt.quotes zvt.candles public.ticks zvt.exchanges zvt.assets zvt.instruments
	zvt.subscriptions zvt.feed_gaps zvt.accounts zvt.account_grants zvt.balances zvt.orders
	zvt.order_events zvt.fills zvt.holdings zvt.exposure zvt.daily_pnl zvt.risk_limits
	zvt.backtest_runs zvt.backtest_trades zvt.backtest_equity zvt.hypertables"
fingerprint() {
	local t out=""
	for t in $tables; do
		out+="$t $(q "$@" -c "SELECT count(*) || ' ' || md5(coalesce(string_agg(x::text, '|' ORDER BY x::text), ''))
		                      FROM (SELECT * FROM $t) x" 2>&1)"$'\n'
	done
	# zvt.hypertables without the columns that depend on OIDs and sizes
	echo "$out" | sed '/^zvt.hypertables/d'
	q "$@" -c "SELECT relation::text, time_column, chunk_interval, retention FROM zvt.hypertables ORDER BY 1"
	q "$@" -c "SELECT last_value FROM zvt.instruments_id_seq" -c "SELECT last_value FROM zvt.orders_order_id_seq" \
	       -c "SELECT last_value FROM zvt.accounts_account_id_seq" -c "SELECT last_value FROM public.ticks_id_seq1"
}
want=$(fingerprint -d $src)
echo "$want" | grep -q '^zvt.trades 74 ' || fail "unexpected source rows: $want"

# restore: empty stderr, the same rows
restore_into() {
	local db=$1
	shift
	q -d postgres -c "SET client_min_messages = warning" -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" -c "CREATE DATABASE $db" >/dev/null || fail "create $db"
	local rc=0
	if [ "${1:-}" = sections ]; then
		# zvt's tables have foreign keys before their data loads, so the
		# data goes in one session; the post-data section (indexes) in parallel
		"$PGBIN/pg_restore" --section=pre-data --section=data -d "$db" "$dump" 2>"$work/$db.err" || rc=$?
		"$PGBIN/pg_restore" --section=post-data -j 2 -d "$db" "$dump" 2>>"$work/$db.err" || rc=$?
	else
		"$PGBIN/pg_restore" "$@" -d "$db" "$dump" 2>"$work/$db.err" || rc=$?
	fi
	[ -s "$work/$db.err" ] && fail "pg_restore into $db printed: $(head -20 "$work/$db.err")"
	[ "$rc" = 0 ] || fail "pg_restore into $db exited $rc"
	got=$(fingerprint -d "$db")
	[ "$got" = "$want" ] || fail "rows differ after restore into $db:
$(diff <(echo "$want") <(echo "$got"))"
}
restore_into zdr_copy
restore_into zdr_par sections
# the hypertables' chunks are the restored ones, with their indexes
[ "$(q -d zdr_copy -c "SELECT count(*) FROM ONLY _zvt_chunks.trades_default")" = 2 ] || fail "waiting trades not restored"
q -d zdr_copy -c "SELECT count(*) FROM pg_index i JOIN pg_class c ON c.oid = i.indrelid
                   WHERE c.relnamespace = '_zvt_chunks'::regnamespace AND NOT i.indisvalid" | grep -qx 0 \
	|| fail "invalid chunk indexes after restore"

# pg_restore's statements for the chunk indexes of zvt's own tables are
# no-ops because exactly those indexes exist; anything else still fails
chunk=$(q -d zdr_copy -c "SELECT c.chunk FROM zvt._chunks('zvt.trades') c WHERE c.range_start = '2026-01-01'")
idx=$(q -d zdr_copy -c "SELECT c.relname FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
                         WHERE i.indrelid = '$chunk'::regclass AND NOT i.indisunique")
key=$(q -d zdr_copy -c "SELECT conname FROM pg_constraint WHERE conrelid = '$chunk'::regclass AND contype = 'u'")
[ -n "$idx" ] && [ -n "$key" ] || fail "no index on $chunk"
def=$(q -d zdr_copy -c "SELECT pg_get_indexdef('_zvt_chunks.$idx'::regclass)")
q -d zdr_copy -c "SET search_path = ''" -c "$def" >/dev/null || fail "the dump's own CREATE INDEX failed: $def"
q -d zdr_copy -c "ALTER TABLE ONLY $chunk ADD CONSTRAINT $key UNIQUE (instrument_id, trade_id, ts)" >/dev/null \
	|| fail "the dump's own ADD CONSTRAINT failed"
q -d zdr_copy -c "CREATE INDEX $idx ON $chunk USING btree (ts)" 2>&1 | grep -q 'already exists' \
	|| fail "a different index under an existing name was accepted"
q -d zdr_copy -c "ALTER TABLE ONLY $chunk ADD CONSTRAINT $key UNIQUE (instrument_id, ts)" 2>&1 | grep -q 'already exists' \
	|| fail "a different constraint under an existing name was accepted"
q -d zdr_copy -c "ALTER TABLE ONLY $chunk ADD CONSTRAINT $key UNIQUE (instrument_id, trade_id, ts) DEFERRABLE" 2>&1 \
	| grep -q 'already exists' || fail "a deferrable constraint under an existing name was accepted"
q -d zdr_copy -c "CREATE ROLE zdr_nobody" >/dev/null 2>&1
q -d zdr_copy -c "SET ROLE zdr_nobody" -c "SET search_path = ''" -c "$def" 2>&1 | grep -q 'must be owner\|permission denied' \
	|| fail "a role that does not own the chunk ran its CREATE INDEX without an error"
q -d zdr_copy -c "DROP ROLE zdr_nobody" >/dev/null

# Restored chunks keep names made of their hypertable's old OID, which a
# new table may get.  As if public.fresh had had ticks' OID in the source
# (and so its chunk and default partition names): the restored chunk and
# default of ticks holding those names are renamed after ticks' new OID,
# and fresh gets its own (before: 55000 "exists but is not a chunk").
q -d zdr_copy >/dev/null <<'SQL' || fail "a restored chunk's stale name blocked another hypertable"
SET client_min_messages = warning;
CREATE TABLE public.fresh (ts timestamptz NOT NULL, v int) PARTITION BY RANGE (ts);
DO $$
DECLARE
    old text := (SELECT substring(c::text FROM '_hyper_([0-9]+)_p20260201$')
                   FROM zvt.show_chunks('public.ticks') c WHERE c::text LIKE '%_p20260201');
    fresh oid := 'public.fresh'::regclass::oid;
BEGIN
    EXECUTE format('ALTER TABLE _zvt_chunks.%I RENAME TO %I', '_hyper_' || old || '_p20260201',
                   '_hyper_' || fresh || '_p20260201');
    EXECUTE format('ALTER TABLE _zvt_chunks.%I RENAME TO %I', '_hyper_' || old || '_default',
                   '_hyper_' || fresh || '_default');
END $$;
SELECT 1 FROM zvt.create_hypertable('public.fresh', 'ts', '1 day');
SELECT zvt._ensure_chunk('public.fresh', '2026-02-01 05:00+00');
INSERT INTO public.fresh VALUES ('2026-02-01 05:00+00', 1);
SQL
[ "$(q -d zdr_copy -c "SELECT string_agg(c.chunk::text, ',' ORDER BY c.is_default) FROM zvt._chunks('public.fresh') c")" \
	= "_zvt_chunks._hyper_$(q -d zdr_copy -c "SELECT 'public.fresh'::regclass::oid")_p20260201,_zvt_chunks._hyper_$(q -d zdr_copy -c "SELECT 'public.fresh'::regclass::oid")_default" ] \
	|| fail "fresh's chunks: $(q -d zdr_copy -c "SELECT string_agg(c.chunk::text, ',' ORDER BY c.is_default) FROM zvt._chunks('public.fresh') c")"
ticks=$(q -d zdr_copy -c "SELECT 'public.ticks'::regclass::oid")
[ "$(q -d zdr_copy -c "SELECT count(*) FROM ONLY _zvt_chunks._hyper_${ticks}_p20260201") $(q -d zdr_copy -c "SELECT count(*) FROM ONLY _zvt_chunks._hyper_${ticks}_default")" = "12 2" ] \
	|| fail "ticks' renamed chunk and default partition: $(q -d zdr_copy -c "SELECT string_agg(c.chunk::text, ',') FROM zvt._chunks('public.ticks') c")"
echo "restored into new databases with an empty stderr (also with its post-data section in parallel); rows, sequences and catalog equal"

# --- a second cluster whose workers serve the restored database -------------
port2=$(free_port $((PGPORT + 20)))
(
	cluster_start "$dir2" "$port2" zdr_served "zvt.maintenance_naptime = 1" "zvt.chunks_ahead = 3"
) >/dev/null || fail "second cluster did not start"
export PGHOST=$dir2/sock PGPORT=$port2 PGDATABASE=zdr_served
# roles are global objects that pg_dump leaves out (pg_dumpall --globals-only)
q -d postgres -c "$roles" >/dev/null || fail "roles on the second cluster"
# one transaction: the workers see the extension only once all of it is there
"$PGBIN/pg_restore" --single-transaction -d zdr_served "$dump" 2>"$work/served.err" || fail "pg_restore -1: $(cat "$work/served.err")"
[ -s "$work/served.err" ] && fail "pg_restore -1 printed: $(head -20 "$work/served.err")"

# the maintenance worker: chunks ahead of now under the new OID (the
# source's pass made today's and tomorrow's under the old one), waiting
# rows moved into chunks, retention applied to old_ticks
newoid=$(q -c "SELECT 'public.ticks'::regclass::oid")
poll_until "SELECT count(*) FROM zvt.show_chunks('public.ticks') c
             WHERE c::text = '_zvt_chunks._hyper_${newoid}_p'
                   || to_char(now() AT TIME ZONE 'UTC' + interval '3 days', 'YYYYMMDD')" 1 30 \
	|| fail "no chunk three days ahead under the new OID $newoid"
poll_until "SELECT count(*) FROM ONLY _zvt_chunks.trades_default" 1 30 || fail "waiting trades not moved"
poll_until "SELECT (SELECT count(*) FROM zvt.show_chunks('public.old_ticks', older_than => timestamptz '2021-01-01')) || ' ' || (SELECT count(*) FROM public.old_ticks)" "0 0" 30 \
	|| fail "retention did not drop old_ticks' chunks"
# once the worker is done moving rows between partitions, the same rows
got=$(fingerprint)
[ "$got" = "$want" ] || fail "rows differ in the served copy:
$(diff <(echo "$want") <(echo "$got"))"
q -c "SELECT failures FROM zvt.maintenance_status()" | grep -qx 0 || fail "maintenance failures: $(q -c 'SELECT last_error FROM zvt.maintenance_status()')"
# a restored chunk (named after the old OID) is found for its range
q -c "SELECT c.chunk FROM zvt._ensure_chunk('public.ticks', '2026-02-01 05:00+00') c" | grep -q '_p20260201$' \
	|| fail "the restored chunk of 2026-02-01 is not found"

# writers: the feeds' path (ensure the chunk, then INSERT ... ON CONFLICT),
# a plain INSERT into a restored chunk's range, and the unique keys hold
q >/dev/null <<'SQL' || fail "writing after restore"
SELECT zvt._ensure_chunk('zvt.trades', now());
INSERT INTO zvt.trades (ts, instrument_id, trade_id, price, qty, side)
VALUES (now(), 1, 'after', 100, 1, 'buy') ON CONFLICT (instrument_id, trade_id, ts) DO NOTHING;
INSERT INTO zvt.quotes (ts, instrument_id, seq, bid, ask) VALUES ('2026-01-02 05:30+00', 1, 5000, 1, 2);
INSERT INTO zvt.candles (ts, instrument_id, timeframe, open, high, low, close, closed)
VALUES ('2026-01-01 09:00+00', 1, '1 minute', 1, 1, 1, 1, true)
ON CONFLICT (instrument_id, timeframe, source, ts) DO UPDATE SET close = 2;
INSERT INTO public.ticks (ts, symbol, price) VALUES (now(), 'ZDR', 1);
SQL
[ "$(q -c "SELECT close FROM zvt.candles WHERE ts = '2026-01-01 09:00+00' AND timeframe = '1 minute'")" = 2 ] \
	|| fail "ON CONFLICT did not find the restored candle"
q -c "INSERT INTO zvt.trades (ts, instrument_id, trade_id, price, qty, side)
      VALUES ('2026-01-01 00:00+00', 1, 't0', 1, 1, 'buy')" 2>&1 | grep -q 'duplicate key' \
	|| fail "a restored chunk's unique key does not hold"
[ "$(q -c "SELECT max(id) FROM public.ticks")" = 51 ] || fail "ticks' identity did not continue"
[ "$(q -c "INSERT INTO zvt.instruments (exchange, symbol, raw_symbol, base, quote, kind)
           VALUES ('zdrx', 'NEW-USDT', 'NEWUSDT', 'NEW', 'USDT', 'spot') RETURNING id")" = 3 ] \
	|| fail "instrument ids did not continue"
q -c "SELECT zvt.bus_publish('binance', 'ZDR-USDT', price => 100, qty => 1, bid => 99.9, ask => 100.1)" >/dev/null \
	|| fail "bus_publish"

# row-level security and grants came back
[ "$(q -c "SET ROLE zdr_viewer" -c "SELECT string_agg(name, ',') FROM zvt.accounts")" = zdr_spot ] \
	|| fail "zdr_viewer does not see exactly the granted account"
[ "$(q -c "SET ROLE zdr_trader" -c "SELECT count(*) FROM zvt.orders")" = 2 ] || fail "zdr_trader's orders"
q -c "SET ROLE zdr_viewer" -c "SELECT count(*) FROM public.ticks" >/dev/null || fail "grant on ticks lost"

# orders: a market order on the restored paper account fills at the bus
# price; the paper matcher fills the restored resting order
out=$(q -c "SET ROLE zdr_trader" -c "SELECT order_id > 2, status FROM zvt.place_order('zdr_spot', 'binance', 'ZDR-USDT', 'buy', 1, 'market')")
[ "$out" = "t|filled" ] || fail "market order after restore: $out"
q -c "SELECT zvt.bus_publish('binance', 'ZDR-USDT', price => 49, qty => 5, bid => 48.9, ask => 49.1)" >/dev/null
poll_until "SELECT status FROM zvt.orders WHERE client_order_id = 'resting'" filled 30 \
	|| fail "the matcher did not fill the restored resting order"
[ "$(q -c "SELECT qty FROM zvt.holdings h JOIN zvt.accounts a USING (account_id) WHERE a.name = 'zdr_spot'")" = 4 ] \
	|| fail "position after restore: $(q -c 'SELECT * FROM zvt.holdings')"

# backtests run and number on
[ "$(q -c "SELECT run_id, trades > 0 FROM zvt.backtest('sma_cross', 'binance', 'ZDR-USDT', '1 minute',
            '2026-01-01', '2026-01-02', '{\"fast\": 3, \"slow\": 8}')")" = "2|t" ] || fail "backtest after restore"

# the event trigger forgets a dropped hypertable
q -c "DROP TABLE public.old_ticks" >/dev/null
[ "$(q -c "SELECT count(*) FROM zvt._hypertables WHERE relid::text LIKE '%old_ticks%'")" = 0 ] \
	|| fail "the sql_drop event trigger did not run"
echo "served copy: worker created and moved chunks under OID $newoid and applied retention; writes, RLS, orders, matcher, backtest work"
