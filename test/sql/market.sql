--
-- Market-data schema: exchanges, instruments, subscriptions, idempotent ingest
--
\set SHOW_CONTEXT never
SET TimeZone = 'UTC';

-- the four exchanges, seeded with their real production bases
SELECT name, ws_url, rest_url, enabled FROM zvt.exchanges ORDER BY name;

-- instruments: normalized names, perpetuals end in -PERP
INSERT INTO zvt.instruments (exchange, symbol, raw_symbol, base, quote, kind, tick_size, lot_size)
VALUES ('binance', 'BTC-USDT', 'BTCUSDT', 'BTC', 'USDT', 'spot', 0.01, 0.00001),
       ('binance', 'ETH-USDT', 'ETHUSDT', 'ETH', 'USDT', 'spot', 0.01, 0.0001),
       ('bybit', 'BTC-USDT-PERP', 'BTCUSDT', 'BTC', 'USDT', 'perp', 0.1, 0.001);
SELECT id, exchange, symbol, raw_symbol, kind FROM zvt.instruments ORDER BY id;
-- a perpetual without -PERP is refused
\set VERBOSITY terse
INSERT INTO zvt.instruments (exchange, symbol, raw_symbol, base, quote, kind)
VALUES ('okx', 'BTC-USDT', 'BTC-USDT-SWAP', 'BTC', 'USDT', 'perp');

\set VERBOSITY default

-- subscribe: idempotent, normalizes case
SELECT exchange, symbol, channel FROM zvt.subscribe('binance', 'btc-usdt', 'trades');
SELECT exchange, symbol, channel FROM zvt.subscribe('binance', 'BTC-USDT', 'candles_1m');
SELECT count(*) FROM (SELECT zvt.subscribe('binance', 'BTC-USDT', 'trades')) s;
SELECT exchange, symbol, channel FROM zvt.subscriptions ORDER BY id;
-- an exchange whose instruments are not synced yet takes any well-formed symbol
SELECT exchange, symbol, channel FROM zvt.subscribe('okx', 'SOL-USDT', 'quotes');
SELECT zvt.unsubscribe('okx', 'SOL-USDT', 'quotes');
SELECT zvt.unsubscribe('okx', 'SOL-USDT', 'quotes');

-- subscribe errors
\set VERBOSITY default
SELECT zvt.subscribe('kraken', 'BTC-USDT', 'trades');
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT zvt.subscribe('binance', 'BTC-USDT', 'candles_2m');
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT zvt.subscribe('binance', 'BTC-USDT', NULL);
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT zvt.subscribe('binance', 'BTC-USDT', 'book', depth => 5000);
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT zvt.subscribe('binance', 'BTC-USDT', 'trades', depth => 5);
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT zvt.subscribe('binance', 'BTCUSDT', 'trades');
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT zvt.subscribe('binance', 'DOGE-USDT', 'trades');
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT zvt.unsubscribe('binance', 'BTC-USDT', 'nope');
\echo SQLSTATE :LAST_ERROR_SQLSTATE
\set VERBOSITY terse

-- trades: the documented idempotent path is ON CONFLICT DO NOTHING
INSERT INTO zvt.trades (ts, instrument_id, trade_id, price, qty, side, local_ts)
VALUES ('2024-01-01 00:00:01.5+00', 1, '1001', 42000.5, 0.01, 'buy', '2024-01-01 00:00:01.6+00'),
       ('2024-01-01 00:00:02+00', 1, '1002', 42001, 0.5, 'sell', '2024-01-01 00:00:02.1+00'),
       ('2024-01-01 00:00:02+00', 3, '1002', 42010, 1, 'buy', '2024-01-01 00:00:02.1+00')
ON CONFLICT (instrument_id, trade_id, ts) DO NOTHING;
INSERT INTO zvt.trades (ts, instrument_id, trade_id, price, qty, side, local_ts)
VALUES ('2024-01-01 00:00:01.5+00', 1, '1001', 42000.5, 0.01, 'buy', '2024-01-01 00:00:09+00'),
       ('2024-01-01 00:00:02+00', 1, '1002', 42001, 0.5, 'sell', '2024-01-01 00:00:09+00')
ON CONFLICT (instrument_id, trade_id, ts) DO NOTHING;
SELECT ts, exchange, symbol, trade_id, price, qty, side, local_ts - ts AS latency
  FROM zvt.trades_v ORDER BY instrument_id, ts;
-- a plain duplicate is refused by the natural key (23505), bad values by
-- the checks (23514); the messages name the partition, whose name holds
-- the table's OID, so only the SQLSTATEs are shown
\set VERBOSITY sqlstate
INSERT INTO zvt.trades (ts, instrument_id, trade_id, price, qty, side)
VALUES ('2024-01-01 00:00:02+00', 1, '1002', 42001, 0.5, 'sell');
INSERT INTO zvt.trades (ts, instrument_id, trade_id, price, qty, side)
VALUES ('2024-01-01 00:00:03+00', 1, '1003', 42001, 0.5, 'taker');
INSERT INTO zvt.trades (ts, instrument_id, trade_id, price, qty, side)
VALUES ('2024-01-01 00:00:03+00', 1, '1003', 42001, 0, 'buy');
\set VERBOSITY terse

-- candles: the open bar is updated in place until it closes
INSERT INTO zvt.candles AS c (ts, instrument_id, timeframe, open, high, low, close, volume,
                              quote_volume, trade_count, closed)
VALUES ('2024-01-01 00:00+00', 1, '1 minute', 100, 101, 99, 100.5, 2, 200, 3, false)
ON CONFLICT (instrument_id, timeframe, source, ts) DO UPDATE
   SET high = excluded.high, low = excluded.low, close = excluded.close,
       volume = excluded.volume, quote_volume = excluded.quote_volume,
       trade_count = excluded.trade_count, closed = excluded.closed;
INSERT INTO zvt.candles AS c (ts, instrument_id, timeframe, open, high, low, close, volume,
                              quote_volume, trade_count, closed)
VALUES ('2024-01-01 00:00+00', 1, '1 minute', 100, 102, 98, 101, 5, 505, 8, true)
ON CONFLICT (instrument_id, timeframe, source, ts) DO UPDATE
   SET high = excluded.high, low = excluded.low, close = excluded.close,
       volume = excluded.volume, quote_volume = excluded.quote_volume,
       trade_count = excluded.trade_count, closed = excluded.closed;
-- replaying the closed bar changes nothing
INSERT INTO zvt.candles AS c (ts, instrument_id, timeframe, open, high, low, close, volume,
                              quote_volume, trade_count, closed)
VALUES ('2024-01-01 00:00+00', 1, '1 minute', 100, 102, 98, 101, 5, 505, 8, true)
ON CONFLICT (instrument_id, timeframe, source, ts) DO UPDATE
   SET high = excluded.high, low = excluded.low, close = excluded.close,
       volume = excluded.volume, quote_volume = excluded.quote_volume,
       trade_count = excluded.trade_count, closed = excluded.closed;
-- the same minute built from trades is a separate row (source = 'trades')
INSERT INTO zvt.candles (ts, instrument_id, timeframe, open, high, low, close, volume, source, closed)
VALUES ('2024-01-01 00:00+00', 1, '1 minute', 100, 102, 98, 101, 4.9, 'trades', true)
ON CONFLICT DO NOTHING;
SELECT ts, symbol, timeframe, open, high, low, close, volume, quote_volume, trade_count,
       closed, source
  FROM zvt.candles_v ORDER BY ts, source;

-- quotes: ON CONFLICT DO NOTHING on (instrument_id, ts, seq)
INSERT INTO zvt.quotes (ts, instrument_id, seq, bid, bid_qty, ask, ask_qty)
VALUES ('2024-01-01 00:00:01+00', 1, 400900217, 42000, 1.5, 42000.1, 2),
       ('2024-01-01 00:00:01+00', 1, 400900218, 42000, 1.4, 42000.1, 2)
ON CONFLICT (instrument_id, ts, seq) DO NOTHING;
INSERT INTO zvt.quotes (ts, instrument_id, seq, bid, bid_qty, ask, ask_qty)
VALUES ('2024-01-01 00:00:01+00', 1, 400900218, 42000, 1.4, 42000.1, 2)
ON CONFLICT (instrument_id, ts, seq) DO NOTHING;
SELECT ts, symbol, seq, bid, bid_qty, ask, ask_qty FROM zvt.quotes_v ORDER BY seq;

-- the rows landed in chunks once maintenance ran
CALL zvt.run_maintenance();
SELECT c.range_start, count(*) FROM zvt.trades t
  JOIN zvt._chunks('zvt.trades') c ON c.chunk = t.tableoid GROUP BY 1;
SELECT c.range_start, count(*) FROM zvt.candles t
  JOIN zvt._chunks('zvt.candles') c ON c.chunk = t.tableoid GROUP BY 1;
SELECT c.range_start, count(*) FROM zvt.quotes t
  JOIN zvt._chunks('zvt.quotes') c ON c.chunk = t.tableoid GROUP BY 1;

-- every view runs with the caller's rights
SELECT c.relname, c.reloptions FROM pg_class c
  JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE n.nspname = 'zvt' AND c.relkind = 'v' ORDER BY 1;

-- clean up what other tests do not expect
DELETE FROM zvt.subscriptions;
TRUNCATE zvt.trades, zvt.candles, zvt.quotes;
-- and the chunks those rows made, so a rerun starts alike
SELECT count(*) > 0 AS dropped FROM zvt.drop_chunks('zvt.trades', '2025-01-01'::timestamptz);
SELECT count(*) > 0 AS dropped FROM zvt.drop_chunks('zvt.quotes', '2025-01-01'::timestamptz);
SELECT count(*) > 0 AS dropped FROM zvt.drop_chunks('zvt.candles', '2025-01-01'::timestamptz);
