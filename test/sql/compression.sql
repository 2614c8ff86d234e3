--
-- compression: compressed chunks (sql/12_compression.sql, src/compress):
-- every row round-trips, queries give the same answers compressed and
-- not, writes into a compressed range, policies, privileges
--
\set SHOW_CONTEXT never
SET TimeZone = 'UTC';
SET client_min_messages = warning;

-- a checksum of every column of every row, NULLs included (row text
-- prints floats exactly: NaN, Infinity, -0)
CREATE FUNCTION cz_sum(q text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE h text;
BEGIN
    EXECUTE format('SELECT md5(string_agg(t::text, E''\n'' ORDER BY t::text COLLATE "C")) || '' '' || count(*) FROM (%s) t', q)
       INTO h;
    RETURN h;
END $$;

-- runs a statement that must fail: its SQLSTATE, message, detail and hint,
-- chunk names without their hypertable's OID
CREATE FUNCTION cz_try(q text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE st text; msg text; det text; hint text;
BEGIN
    EXECUTE q;
    RETURN 'no error';
EXCEPTION WHEN OTHERS THEN
    GET STACKED DIAGNOSTICS st = RETURNED_SQLSTATE, msg = MESSAGE_TEXT, det = PG_EXCEPTION_DETAIL,
                            hint = PG_EXCEPTION_HINT;
    RETURN regexp_replace(concat_ws(E'\n', st || ': ' || msg, nullif(det, ''), nullif(hint, '')),
                          '_hyper_[0-9]+_', '_hyper_N_', 'g');
END $$;

-- ===================================================================
-- A user's own table with every kind of value
-- ===================================================================
CREATE TABLE cz_ticks (
    ts      timestamptz NOT NULL,
    id      int8 NOT NULL,
    sym     text,
    px      float8,
    qty     numeric,
    flag    bool,
    t2      timestamptz,
    small   int2,
    f4      float4,
    note    text,
    iv      interval,
    uid     uuid,
    UNIQUE (sym, id, ts));
SELECT relation FROM zvt.create_hypertable('cz_ticks', 'ts', '1 day');
SELECT setseed(0.18);
INSERT INTO cz_ticks
SELECT timestamptz '2003-05-01' + i * interval '7 seconds', i,
       (ARRAY['BTC-USDT', 'ETH-USDT', '', NULL])[1 + i % 4],
       CASE i % 97 WHEN 1 THEN float8 'NaN' WHEN 2 THEN 'Infinity' WHEN 3 THEN '-Infinity'
                   WHEN 4 THEN '-0' WHEN 5 THEN 5e-324 WHEN 6 THEN 1.7976931348623157e308
                   WHEN 7 THEN NULL ELSE round((60000 + 50 * sin(i / 40.0))::numeric, 2)::float8 END,
       CASE WHEN i % 11 = 0 THEN NULL ELSE round(random()::numeric, 8) END,
       CASE WHEN i % 13 = 0 THEN NULL ELSE i % 2 = 0 END,
       CASE i % 5 WHEN 0 THEN timestamptz 'infinity' WHEN 1 THEN '-infinity' WHEN 2 THEN '4713-01-01 00:00 BC'
                  WHEN 3 THEN '294276-12-31 23:59:59.999999' END,
       CASE i % 3 WHEN 0 THEN -32768 WHEN 1 THEN 32767 END,
       CASE i % 4 WHEN 0 THEN float4 'NaN' WHEN 1 THEN '-0' WHEN 2 THEN 1.5 END,
       CASE WHEN i % 500 = 0 THEN repeat(md5(i::text), 4000)      -- 128 kB
            WHEN i % 7 = 0 THEN NULL ELSE 'note ' || i END,
       CASE WHEN i % 6 = 0 THEN NULL ELSE make_interval(mins => i % 60, months => i % 2) END,
       CASE WHEN i % 9 = 0 THEN NULL ELSE md5(i::text)::uuid END
  FROM generate_series(1, 30000) i;
-- the time column at both ends of the range chunks cover
INSERT INTO cz_ticks (ts, id, sym, px) VALUES
    ('4713-01-01 12:00 BC', 1, 'OLD', 1), ('294276-12-30 12:00', 1, 'NEW', 2);
SELECT zvt._ensure_chunk('cz_ticks', ts) IS NOT NULL FROM (VALUES (timestamptz '4713-01-01 12:00 BC'), ('294276-12-30 12:00')) v(ts);
CALL zvt.run_maintenance();
SELECT count(*) AS chunks, sum(range_end - range_start) AS covered
  FROM zvt.chunks WHERE hypertable = 'cz_ticks'::regclass AND NOT is_default
   AND (range_start < '2000-01-01' OR range_start BETWEEN '2003-05-01' AND '2003-05-04' OR range_start > '294000-01-01');
CREATE TEMP TABLE cz_before AS SELECT cz_sum('SELECT * FROM cz_ticks') AS h;

-- the same queries, before
CREATE TEMP TABLE q_before AS
SELECT 1 AS q, t::text AS r FROM cz_ticks t WHERE ts >= '2003-05-01 10:00' AND ts < '2003-05-01 11:00'
UNION ALL SELECT 2, t::text FROM cz_ticks t WHERE sym = 'ETH-USDT' AND px > 60030
UNION ALL SELECT 3, row(sym, count(*), count(px), sum(qty), avg(small), min(ts), max(ts), sum(px::numeric) FILTER (WHERE px < 1e300 AND px > 0))::text
            FROM cz_ticks GROUP BY sym
UNION ALL SELECT 4, t::text FROM cz_ticks t WHERE sym = 'BTC-USDT' AND id = 12345 AND ts = '2003-05-01'::timestamptz + 12345 * interval '7 seconds'
UNION ALL SELECT 5, row(count(*), count(DISTINCT note), max(length(note)), count(t2), min(t2), max(t2))::text FROM cz_ticks
UNION ALL SELECT 6, t::text FROM (SELECT * FROM cz_ticks ORDER BY ts DESC LIMIT 3) t;

-- one chunk a transaction, as the maintenance worker does (the chunks of
-- 2003 and both ends of time; \gexec's statements name chunks by OID)
CREATE TEMP VIEW cz_chunks AS
SELECT chunk FROM zvt.chunks WHERE hypertable = 'cz_ticks'::regclass AND NOT is_default
   AND (range_start < '2010-01-01' OR range_start > '294000-01-01');
\set ECHO none
SELECT format('SELECT zvt.compress_chunk(%L) IS NOT NULL AS compressed', chunk) FROM cz_chunks ORDER BY chunk \gexec
\set ECHO all
SELECT cz_sum('SELECT * FROM cz_ticks') = h AS same_rows FROM cz_before;
SELECT count(*) FILTER (WHERE compressed) AS compressed, sum(rows_before) = sum(rows_after) AS same_count,
       bool_and(bytes_after < bytes_before) FILTER (WHERE rows_before > 1000) AS smaller, sum(late_rows) AS late
  FROM zvt.chunks WHERE chunk IN (SELECT chunk FROM cz_chunks);

-- the same queries, after: by sequential scans, then through the indexes
CREATE TEMP VIEW q_now AS
SELECT 1 AS q, t::text AS r FROM cz_ticks t WHERE ts >= '2003-05-01 10:00' AND ts < '2003-05-01 11:00'
UNION ALL SELECT 2, t::text FROM cz_ticks t WHERE sym = 'ETH-USDT' AND px > 60030
UNION ALL SELECT 3, row(sym, count(*), count(px), sum(qty), avg(small), min(ts), max(ts), sum(px::numeric) FILTER (WHERE px < 1e300 AND px > 0))::text
            FROM cz_ticks GROUP BY sym
UNION ALL SELECT 4, t::text FROM cz_ticks t WHERE sym = 'BTC-USDT' AND id = 12345 AND ts = '2003-05-01'::timestamptz + 12345 * interval '7 seconds'
UNION ALL SELECT 5, row(count(*), count(DISTINCT note), max(length(note)), count(t2), min(t2), max(t2))::text FROM cz_ticks
UNION ALL SELECT 6, t::text FROM (SELECT * FROM cz_ticks ORDER BY ts DESC LIMIT 3) t;
SELECT q, count(*) FROM q_before GROUP BY q ORDER BY q;
SELECT count(*) AS differences FROM ((TABLE q_before EXCEPT ALL TABLE q_now) UNION ALL (TABLE q_now EXCEPT ALL TABLE q_before)) d;
SET enable_seqscan = off;
SELECT count(*) AS differences FROM ((TABLE q_before EXCEPT ALL TABLE q_now) UNION ALL (TABLE q_now EXCEPT ALL TABLE q_before)) d;
RESET enable_seqscan;
ANALYZE cz_ticks;
SELECT count(*) AS differences FROM ((TABLE q_before EXCEPT ALL TABLE q_now) UNION ALL (TABLE q_now EXCEPT ALL TABLE q_before)) d;

-- decompressing gives back every row
\set ECHO none
SELECT format('SELECT zvt.decompress_chunk(%L) IS NOT NULL AS decompressed', chunk) FROM cz_chunks ORDER BY chunk \gexec
\set ECHO all
SELECT cz_sum('SELECT * FROM cz_ticks') = h AS same_rows FROM cz_before;
SELECT count(*) FILTER (WHERE compressed) AS compressed FROM zvt.chunks WHERE hypertable = 'cz_ticks'::regclass;


-- ===================================================================
-- zvt.trades and zvt.candles, zvt.ohlcv and a backtest
-- ===================================================================
INSERT INTO zvt.instruments (id, exchange, symbol, raw_symbol, base, quote, kind)
OVERRIDING SYSTEM VALUE VALUES (9101, 'binance', 'CZT-USDT', 'CZTUSDT', 'CZT', 'USDT', 'spot');
-- the chunks first, as the feeds make them
SELECT count(*) FROM generate_series(timestamptz '2002-03-01', '2002-03-03', '1 day') d,
       LATERAL (SELECT zvt._ensure_chunk('zvt.trades', d) UNION ALL SELECT zvt._ensure_chunk('zvt.candles', d)) c;
SELECT setseed(0.5);
INSERT INTO zvt.trades (ts, instrument_id, trade_id, price, qty, side, local_ts)
SELECT timestamptz '2002-03-01' + i * interval '29 seconds' + (random() * 1000)::int * interval '1 millisecond',
       9101, (700000000 + i)::text,
       round((100 + 5 * sin(i / 300.0) + random())::numeric, 2)::float8,
       round((random() * 3 + 0.001)::numeric, 6)::float8,
       CASE WHEN random() < 0.5 THEN 'buy' ELSE 'sell' END,
       timestamptz '2002-03-01' + i * interval '29 seconds' + interval '150 milliseconds'
  FROM generate_series(0, 8000) i;
INSERT INTO zvt.candles (ts, instrument_id, timeframe, open, high, low, close, volume,
                         quote_volume, trade_count, closed, source, local_ts)
SELECT ts, 9101, '1 minute', o, greatest(o, c) + 0.25, least(o, c) - 0.25, c, v, CASE WHEN i % 17 = 0 THEN NULL ELSE v * c END,
       (v * 10)::int8, true, 'exchange', ts + interval '61 seconds'
  FROM (SELECT i, timestamptz '2002-03-01' + i * interval '1 minute' AS ts,
               round((100 + 10 * sin(i / 50.0))::numeric, 2)::float8 AS o,
               round((100 + 10 * sin((i + 1) / 50.0))::numeric, 2)::float8 AS c,
               round((random() * 20)::numeric, 4)::float8 AS v
          FROM generate_series(0, 3 * 1440 - 1) i) s;
CREATE TEMP TABLE mk_before AS
SELECT cz_sum('SELECT * FROM zvt.trades WHERE instrument_id = 9101') AS trades,
       cz_sum('SELECT * FROM zvt.candles WHERE instrument_id = 9101') AS candles,
       cz_sum($$SELECT * FROM zvt.ohlcv('binance', 'CZT-USDT', '1 hour', '2002-03-01', '2002-03-04')$$) AS ohlcv,
       cz_sum($$SELECT count(*), sum(price * qty), max(price), min(ts) FROM zvt.trades
                 WHERE instrument_id = 9101 AND ts >= '2002-03-02' AND ts < '2002-03-02 06:00' AND price > 100$$) AS agg,
       cz_sum($$SELECT trades, bars, total_return, sharpe, max_drawdown_pct, fees_paid
                  FROM zvt.backtest('sma_cross', 'binance', 'CZT-USDT', '15 minutes', '2002-03-01', '2002-03-04',
                                    '{"fast": 4, "slow": 12}', initial_cash => 10000)$$) AS backtest;
CREATE TEMP TABLE mk_chunks AS
SELECT chunk FROM zvt.chunks
 WHERE hypertable IN ('zvt.trades'::regclass, 'zvt.candles'::regclass) AND NOT is_default
   AND range_start < '2002-03-04' AND range_end > '2002-03-01';
\set ECHO none
SELECT format('SELECT zvt.compress_chunk(%L) IS NOT NULL AS compressed', chunk) FROM mk_chunks ORDER BY chunk \gexec
\set ECHO all
SELECT hypertable, count(*) AS chunks, bool_and(compressed) AS compressed, sum(rows_after) AS rows,
       bool_and(bytes_after < bytes_before) AS smaller
  FROM zvt.chunks WHERE chunk IN (SELECT chunk FROM mk_chunks) GROUP BY 1 ORDER BY 1;
SELECT cz_sum('SELECT * FROM zvt.trades WHERE instrument_id = 9101') = trades AS trades,
       cz_sum('SELECT * FROM zvt.candles WHERE instrument_id = 9101') = candles AS candles,
       cz_sum($$SELECT * FROM zvt.ohlcv('binance', 'CZT-USDT', '1 hour', '2002-03-01', '2002-03-04')$$) = ohlcv AS ohlcv,
       cz_sum($$SELECT count(*), sum(price * qty), max(price), min(ts) FROM zvt.trades
                 WHERE instrument_id = 9101 AND ts >= '2002-03-02' AND ts < '2002-03-02 06:00' AND price > 100$$) = agg AS agg,
       cz_sum($$SELECT trades, bars, total_return, sharpe, max_drawdown_pct, fees_paid
                  FROM zvt.backtest('sma_cross', 'binance', 'CZT-USDT', '15 minutes', '2002-03-01', '2002-03-04',
                                    '{"fast": 4, "slow": 12}', initial_cash => 10000)$$) = backtest AS backtest
  FROM mk_before;

-- ===================================================================
-- Writes into a compressed range
-- ===================================================================
-- a new row goes in as a late batch
INSERT INTO zvt.trades (ts, instrument_id, trade_id, price, qty, side, local_ts)
VALUES ('2002-03-02 12:00:00.5', 9101, 'late-1', 101, 1, 'buy', '2002-03-02 12:00:01');
-- the natural key still holds
SELECT cz_try($$INSERT INTO zvt.trades (ts, instrument_id, trade_id, price, qty, side)
                SELECT ts, instrument_id, trade_id, price, qty, side FROM zvt.trades
                 WHERE instrument_id = 9101 AND trade_id = '700000100'$$);
-- what a feed writes: ON CONFLICT DO NOTHING skips the stored row, adds the new one
INSERT INTO zvt.trades (ts, instrument_id, trade_id, price, qty, side, local_ts)
SELECT ts, instrument_id, trade_id, price, qty, side, local_ts FROM zvt.trades
 WHERE instrument_id = 9101 AND trade_id = '700000200'
UNION ALL VALUES (timestamptz '2002-03-02 12:00:02', 9101, 'late-2', 102::float8, 2::float8, 'sell', timestamptz '2002-03-02 12:00:03')
ON CONFLICT (instrument_id, trade_id, ts) DO NOTHING;
-- a rolled-back insert leaves nothing
BEGIN;
INSERT INTO zvt.trades (ts, instrument_id, trade_id, price, qty, side)
VALUES ('2002-03-02 12:00:04', 9101, 'late-3', 103, 3, 'buy');
ROLLBACK;
SELECT trade_id, price, qty, side FROM zvt.trades WHERE instrument_id = 9101 AND trade_id LIKE 'late-%' ORDER BY 1;
SELECT sum(late_rows) AS late_rows FROM zvt.chunks WHERE chunk IN (SELECT chunk FROM mk_chunks);
-- UPDATE, DELETE, row locks and ON CONFLICT DO UPDATE work on compressed
-- rows: the same statements on a heap copy give the same rows
CREATE TEMP TABLE mk_heap AS SELECT * FROM zvt.trades WHERE instrument_id = 9101;
CREATE UNIQUE INDEX ON mk_heap (instrument_id, trade_id, ts);
CREATE FUNCTION cz_both(q text) RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE a bigint; b bigint;
BEGIN
  EXECUTE format(q, 'zvt.trades'); GET DIAGNOSTICS a = ROW_COUNT;
  EXECUTE format(q, 'mk_heap'); GET DIAGNOSTICS b = ROW_COUNT;
  IF a <> b THEN RAISE EXCEPTION 'compressed % rows, heap % rows: %', a, b, q; END IF;
  RETURN a;
END $$;
SELECT cz_both($$UPDATE %s SET price = 1 WHERE instrument_id = 9101 AND trade_id = '700000300'$$) AS updated;
SELECT cz_both($$DELETE FROM %s WHERE instrument_id = 9101 AND trade_id = 'late-1'$$) AS deleted;
-- one statement touching many rows of one batch, twice
SELECT cz_both($$UPDATE %s SET qty = qty + 1 WHERE instrument_id = 9101 AND ts >= '2002-03-02 01:00' AND ts < '2002-03-02 03:00'$$) AS updated;
SELECT cz_both($$UPDATE %s SET qty = qty * 2 WHERE instrument_id = 9101 AND ts >= '2002-03-02 02:00' AND ts < '2002-03-02 04:00'$$) AS updated;
SELECT cz_both($$DELETE FROM %s WHERE instrument_id = 9101 AND ts >= '2002-03-01 05:00' AND ts < '2002-03-01 05:30' AND side = 'buy'$$) AS deleted;
-- an update that moves rows to another chunk
SELECT cz_both($$UPDATE %s SET ts = ts + interval '1 day' WHERE instrument_id = 9101 AND trade_id IN ('700000400', '700000401')$$) AS moved;
-- a rolled-back update and delete leave the rows as they were
BEGIN;
SELECT cz_both($$UPDATE %s SET price = 5 WHERE instrument_id = 9101 AND trade_id = '700000500'$$) AS updated;
SELECT cz_both($$DELETE FROM %s WHERE instrument_id = 9101 AND trade_id = '700000501'$$) AS deleted;
ROLLBACK;
-- a removed key is free again; an updated row keeps its key
SELECT cz_both($$INSERT INTO %s (ts, instrument_id, trade_id, price, qty, side, local_ts)
                 VALUES ('2002-03-02 12:00:00.5', 9101, 'late-1', 99, 9, 'sell', '2002-03-02 12:00:01')$$) AS reinserted;
SELECT cz_try($$INSERT INTO zvt.trades (ts, instrument_id, trade_id, price, qty, side)
                SELECT ts, instrument_id, trade_id, price, qty, side FROM zvt.trades
                 WHERE instrument_id = 9101 AND trade_id = '700000300'$$);
SELECT cz_sum('SELECT ts, instrument_id, trade_id, price, qty, side, local_ts FROM zvt.trades WHERE instrument_id = 9101')
     = cz_sum('SELECT ts, instrument_id, trade_id, price, qty, side, local_ts FROM mk_heap') AS same_rows;
-- index scans (fetch by TID) see the same
SET enable_seqscan = off;
SET enable_bitmapscan = off;
SELECT trade_id, price, qty FROM zvt.trades
 WHERE instrument_id = 9101 AND trade_id IN ('700000300', 'late-1', '700000400', '700000500', '700000501')
 ORDER BY trade_id, ts;
RESET enable_seqscan;
RESET enable_bitmapscan;
SELECT trade_id, price FROM zvt.trades WHERE instrument_id = 9101 AND trade_id IN ('700000300', 'late-1') ORDER BY 1 FOR UPDATE;
-- a candle upsert: a new bar goes in, a stored bar is updated, and again
INSERT INTO zvt.candles (ts, instrument_id, timeframe, open, high, low, close, closed)
VALUES ('2002-03-02 00:00:30', 9101, '1 minute', 1, 1, 1, 1, true)
ON CONFLICT (instrument_id, timeframe, source, ts) DO UPDATE SET close = excluded.close;
INSERT INTO zvt.candles (ts, instrument_id, timeframe, open, high, low, close, closed)
VALUES ('2002-03-02 00:00', 9101, '1 minute', 1, 1, 1, 1, true), ('2002-03-02 00:01', 9101, '1 minute', 1, 1, 1, 1, true)
ON CONFLICT (instrument_id, timeframe, source, ts) DO UPDATE SET close = excluded.close;
INSERT INTO zvt.candles (ts, instrument_id, timeframe, open, high, low, close, closed)
VALUES ('2002-03-02 00:00', 9101, '1 minute', 2, 2, 2, 2, true)
ON CONFLICT (instrument_id, timeframe, source, ts) DO UPDATE SET close = excluded.close;
SELECT ts, close, count(*) OVER () FROM zvt.candles
 WHERE instrument_id = 9101 AND ts >= '2002-03-02 00:00' AND ts < '2002-03-02 00:02' ORDER BY ts;
-- compressing again merges the late rows; decompressing lets UPDATE work
\set ECHO none
SELECT format('SELECT zvt.compress_chunk(%L) IS NOT NULL AS recompressed', c.chunk) FROM mk_chunks c
 WHERE EXISTS (SELECT 1 FROM zvt.chunks z WHERE z.chunk = c.chunk AND z.late_rows > 0) ORDER BY c.chunk \gexec
\set ECHO all
SELECT sum(late_rows) AS late_rows, sum(rows_after) AS rows FROM zvt.chunks WHERE chunk IN (SELECT chunk FROM mk_chunks);
SELECT count(*) AS late_rows_found FROM zvt.trades WHERE instrument_id = 9101 AND trade_id LIKE 'late-%';
SELECT tableoid::regclass AS late_chunk FROM zvt.trades WHERE instrument_id = 9101 AND trade_id = 'late-1' \gset
SELECT zvt.decompress_chunk(:'late_chunk') IS NOT NULL AS decompressed;
UPDATE zvt.trades SET price = 100 WHERE instrument_id = 9101 AND trade_id = 'late-1';
UPDATE mk_heap SET price = 100 WHERE instrument_id = 9101 AND trade_id = 'late-1';
SELECT cz_sum('SELECT ts, instrument_id, trade_id, price, qty, side, local_ts FROM zvt.trades WHERE instrument_id = 9101')
     = cz_sum('SELECT ts, instrument_id, trade_id, price, qty, side, local_ts FROM mk_heap') AS same_rows;

-- ===================================================================
-- Misuse, privileges
-- ===================================================================
SELECT cz_try($$SELECT zvt.compress_chunk('cz_ticks')$$);
SELECT cz_try(format('SELECT zvt.compress_chunk(%L)', chunk)) FROM zvt.chunks
 WHERE hypertable = 'cz_ticks'::regclass AND is_default;
SELECT cz_try($$SELECT zvt.compress_chunk(NULL)$$);
CREATE ROLE cz_plain;
GRANT SELECT ON cz_ticks TO cz_plain;
GRANT EXECUTE ON FUNCTION cz_try(text) TO cz_plain;
SELECT chunk AS mk_chunk FROM mk_chunks ORDER BY chunk LIMIT 1 \gset
SELECT min(c) AS cz_chunk FROM zvt.show_chunks('cz_ticks') c \gset
SET ROLE cz_plain;
SELECT cz_try(format('SELECT zvt.compress_chunk(%L)', :'mk_chunk'));
SELECT cz_try(format('SELECT zvt.decompress_chunk(%L)', :'cz_chunk'));
SELECT cz_try(format('SELECT zvt._rewrite_chunk(%L, true, NULL, NULL)', :'cz_chunk'));
SELECT cz_try($$SELECT zvt.add_compression_policy('cz_ticks', '1 day')$$);
SELECT cz_try($$SELECT count(*) FROM zvt._compressed_batches$$);
SELECT cz_try($$SELECT count(*) FROM zvt._compressed_deleted$$);
-- the policy and history tables take writes only for tables one owns:
-- no forged policy, no forged or altered history for another's table
SELECT cz_try($$INSERT INTO zvt._compression_settings (relid, compress_after) VALUES ('cz_ticks', '1 second')$$);
SELECT cz_try(format('INSERT INTO zvt._compressed_chunks (chunk, hypertable, rows_before, bytes_before)
                      VALUES (%L, %L, 1, 1)', :'mk_chunk', 'cz_ticks'));
WITH u AS (UPDATE zvt._compressed_chunks SET rows_before = 0 RETURNING 1) SELECT count(*) AS updated FROM u;
WITH d AS (DELETE FROM zvt._compressed_chunks RETURNING 1) SELECT count(*) AS deleted FROM d;
SELECT count(*) > 0 AS history_visible FROM zvt._compressed_chunks;
-- it sees the chunks of the tables it may read
SELECT count(*) AS chunks, bool_or(compressed) AS compressed FROM zvt.chunks WHERE hypertable = 'cz_ticks'::regclass;
RESET ROLE;

-- ===================================================================
-- Policies
-- ===================================================================
SELECT cz_try($$SELECT zvt.add_compression_policy('cz_ticks', '0 days')$$);
SELECT cz_try($$SELECT zvt.add_compression_policy('cz_ticks', '1 day', order_by => 'ts sideways')$$);
SELECT cz_try($$SELECT zvt.add_compression_policy('cz_ticks', '1 day', segment_by => '{nope}')$$);
SELECT zvt.add_compression_policy('cz_ticks', '1 day', segment_by => '{sym}', order_by => 'id DESC, "ts" NULLS FIRST');
SELECT cz_try($$SELECT zvt.add_compression_policy('cz_ticks', '2 days')$$);
SELECT zvt.add_compression_policy('cz_ticks', '2 days', if_not_exists => true);
SELECT relid, compress_after, segment_by, order_by FROM zvt._compression_settings WHERE relid = 'cz_ticks'::regclass;
-- each maintenance pass compresses the oldest chunk past compress_after,
-- in sym segments (the maintenance worker may take some of these turns)
SELECT 'SELECT zvt._compression_steps(''cz_ticks'') >= 0 AS ran' FROM generate_series(1, 5) \gexec
SELECT range_start, compressed, rows_after
  FROM zvt.chunks WHERE hypertable = 'cz_ticks'::regclass AND NOT is_default
   AND (range_start < '2010-01-01' OR range_start > '294000-01-01') ORDER BY 1;
SELECT cz_sum('SELECT * FROM cz_ticks') = h AS same_rows FROM cz_before;
SELECT zvt.remove_compression_policy('cz_ticks');
SELECT cz_try($$SELECT zvt.remove_compression_policy('cz_ticks')$$);
SELECT zvt.remove_compression_policy('cz_ticks', if_exists => true);

-- ===================================================================
-- TRUNCATE and DROP take the batches with them
-- ===================================================================
CREATE TEMP TABLE n0 AS SELECT count(*) AS n FROM zvt._compressed_batches;
SELECT sum(batches) > 0 AS has_batches FROM zvt.chunks WHERE hypertable = 'cz_ticks'::regclass;
BEGIN;
TRUNCATE cz_ticks;
SELECT (SELECT count(*) FROM zvt._compressed_batches) < n AS fewer FROM n0;
ROLLBACK;
SELECT count(*) = n AS kept FROM zvt._compressed_batches, n0 GROUP BY n;
DROP VIEW q_now, cz_chunks;
DROP TABLE cz_ticks;
SELECT (SELECT count(*) FROM zvt._compressed_batches) < n AS fewer FROM n0;

-- clean up
SELECT count(*) > 0 AS dropped FROM zvt.drop_chunks('zvt.trades', timestamptz '2002-04-30', timestamptz '2002-01-01');
SELECT count(*) > 0 AS dropped FROM zvt.drop_chunks('zvt.candles', timestamptz '2002-04-30', timestamptz '2002-01-01');
DELETE FROM zvt.backtest_runs WHERE symbol = 'CZT-USDT';
DELETE FROM zvt.instruments WHERE id = 9101;
DROP FUNCTION cz_sum(text);
DROP FUNCTION cz_try(text);
DROP FUNCTION cz_both(text);
DROP ROLE cz_plain;
