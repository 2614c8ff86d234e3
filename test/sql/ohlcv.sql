--
-- ohlcv: roll stored 1m candles up to any supported timeframe
--
\set SHOW_CONTEXT never
SET TimeZone = 'UTC';

INSERT INTO zvt.instruments (exchange, symbol, raw_symbol, base, quote, kind)
VALUES ('okx', 'ETH-USDT', 'ETH-USDT', 'ETH', 'USDT', 'spot')
ON CONFLICT DO NOTHING;

-- Ten minutes from 2024-01-01 00:00 (a Monday).  Minute i from the exchange:
-- open 100+i, high 102+i, low 99+i, close 101+i, volume 1+i, trades 10+i;
-- minute 9 is still open.  Minute 3 also exists from trades (ignored: the
-- exchange wins), minute 5 only from trades.
INSERT INTO zvt.candles (ts, instrument_id, timeframe, open, high, low, close, volume,
                         quote_volume, trade_count, closed, source)
SELECT timestamptz '2024-01-01 00:00+00' + i * interval '1 minute',
       zvt._instrument_id('okx', 'ETH-USDT'), '1 minute',
       100 + i, 102 + i, 99 + i, 101 + i, 1 + i, (1 + i) * 100, 10 + i, i < 9, 'exchange'
  FROM generate_series(0, 9) i WHERE i <> 5;
INSERT INTO zvt.candles (ts, instrument_id, timeframe, open, high, low, close, volume,
                         quote_volume, trade_count, closed, source)
VALUES ('2024-01-01 00:03+00', zvt._instrument_id('okx', 'ETH-USDT'), '1 minute',
        999, 1000, 1, 999, 50, 5000, 99, true, 'trades'),
       ('2024-01-01 00:05+00', zvt._instrument_id('okx', 'ETH-USDT'), '1 minute',
        105, 110, 95, 106, 6, 600, 15, true, 'trades');
-- a 1h candle from the exchange is not a 1m candle and is not rolled up
INSERT INTO zvt.candles (ts, instrument_id, timeframe, open, high, low, close, volume, closed)
VALUES ('2024-01-01 00:00+00', zvt._instrument_id('okx', 'ETH-USDT'), '1 hour', 1, 1, 1, 1, 1, false);

-- 1m: one row per minute, exchange preferred
SELECT ts, open, high, low, close, volume, trade_count, closed, source
  FROM zvt.ohlcv('okx', 'ETH-USDT', '1 minute', '2024-01-01 00:02+00', '2024-01-01 00:06+00');

-- 5m: first bucket complete and closed; second has an open minute and a
-- trades-built minute (open 105 high 111 low 95 close 110 volume 40 trades 85)
SELECT ts, exchange, symbol, timeframe, open, high, low, close, volume, quote_volume,
       trade_count, closed, source
  FROM zvt.ohlcv('okx', 'ETH-USDT', '5 minutes', '2024-01-01', '2024-01-02');

-- bars are chosen by their open time in [start, finish)
SELECT ts, open, close FROM zvt.ohlcv('okx', 'ETH-USDT', '5 minutes',
                                      '2024-01-01 00:02+00', '2024-01-01 00:10+00');
SELECT ts, open, close FROM zvt.ohlcv('okx', 'ETH-USDT', '5 minutes',
                                      '2024-01-01 00:00+00', '2024-01-01 00:05+00');

-- 1h, 1d and 1w buckets are incomplete, hence not closed
SELECT ts, open, high, low, close, volume, trade_count, closed
  FROM zvt.ohlcv('okx', 'ETH-USDT', '1 hour', '2024-01-01', '2024-01-02');
SELECT ts, open, close, volume, closed
  FROM zvt.ohlcv('okx', 'ETH-USDT', '1 day', '2024-01-01', '2024-01-02');
SELECT ts, open, close, volume, closed
  FROM zvt.ohlcv('okx', 'ETH-USDT', '1 week', '2023-12-25', '2024-01-08');
-- a range with no data is empty
SELECT count(*) FROM zvt.ohlcv('okx', 'ETH-USDT', '4 hours', '2023-01-01', '2023-02-01');

-- errors
\set VERBOSITY default
SELECT * FROM zvt.ohlcv('okx', 'ETH-USDT', '7 minutes', '2024-01-01', '2024-01-02');
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT * FROM zvt.ohlcv('okx', 'ETH-USDT', '90 seconds', '2024-01-01', '2024-01-02');
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT * FROM zvt.ohlcv('okx', 'ETH-USDT', '1 month', '2024-01-01', '2024-01-02');
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT * FROM zvt.ohlcv('okx', 'ETH-USDT', '1 hour', '2024-01-02', '2024-01-01');
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT * FROM zvt.ohlcv('okx', 'DOGE-USDT', '1 hour', '2024-01-01', '2024-01-02');
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT * FROM zvt.ohlcv('kraken', 'ETH-USDT', '1 hour', '2024-01-01', '2024-01-02');
\echo SQLSTATE :LAST_ERROR_SQLSTATE

TRUNCATE zvt.candles;
DELETE FROM zvt.instruments;
