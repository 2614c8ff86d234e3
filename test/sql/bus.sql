--
-- The market bus: last price and best bid/ask in shared memory
--
\set SHOW_CONTEXT never
SET TimeZone = 'UTC';

INSERT INTO zvt.instruments (exchange, symbol, raw_symbol, base, quote, kind)
VALUES ('binance', 'BTC-USDT', 'BTCUSDT', 'BTC', 'USDT', 'spot'),
       ('okx', 'ETH-USDT-PERP', 'ETH-USDT-SWAP', 'ETH', 'USDT', 'perp');

-- nothing known yet
SELECT zvt.last_price('binance', 'BTC-USDT');

-- a trade, then a quote, as a feed would publish them
SELECT zvt.bus_publish('binance', 'BTC-USDT', price => 60123.5, qty => 0.25,
                       ts => '2026-01-01 00:00:01+00');
SELECT zvt.bus_publish('binance', 'BTC-USDT', bid => 60123.4, bid_qty => 1.5,
                       ask => 60123.6, ask_qty => 2, ts => '2026-01-01 00:00:02+00');
SELECT zvt.last_price('binance', 'BTC-USDT');
-- an older trade does not overwrite a newer one
SELECT zvt.bus_publish('binance', 'BTC-USDT', price => 1, ts => '2025-12-31 23:59:59+00');
SELECT zvt.last_price('binance', 'BTC-USDT');
SELECT zvt.bus_publish('okx', 'ETH-USDT-PERP', price => 3000.25, qty => 2,
                       bid => 3000.2, ask => 3000.3, ts => '2026-01-01 00:00:03+00');
SELECT exchange, symbol, last, last_qty, last_ts, bid, bid_qty, ask, ask_qty, quote_ts, updates
  FROM zvt.tickers ORDER BY exchange, symbol;

-- errors
\set VERBOSITY default
SELECT zvt.bus_publish('binance', 'BTC-USDT', price => -1);
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT zvt.bus_publish('binance', 'BTC-USDT', bid => 10, ask => 9);
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT zvt.last_price('binance', 'DOGE-USDT');
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT zvt.last_price('kraken', 'BTC-USDT');
\echo SQLSTATE :LAST_ERROR_SQLSTATE

-- ordinary roles read the bus but may not publish
CREATE ROLE zvt_bus_reader;
SET ROLE zvt_bus_reader;
SELECT zvt.last_price('binance', 'BTC-USDT');
SELECT zvt.bus_publish('binance', 'BTC-USDT', price => 1);
\echo SQLSTATE :LAST_ERROR_SQLSTATE
RESET ROLE;
DROP ROLE zvt_bus_reader;

-- subscribe and unsubscribe wake the feeds at commit, never on rollback
SELECT subscriptions AS before FROM zvt._bus_counters() \gset
BEGIN;
SELECT channel FROM zvt.subscribe('binance', 'BTC-USDT', 'trades');
ROLLBACK;
SELECT subscriptions - :before AS after_rollback FROM zvt._bus_counters();
SELECT channel FROM zvt.subscribe('binance', 'BTC-USDT', 'trades');
SELECT subscriptions - :before AS after_commit FROM zvt._bus_counters();
SELECT zvt.unsubscribe('binance', 'BTC-USDT', 'trades');
SELECT subscriptions - :before AS after_unsubscribe FROM zvt._bus_counters();

DELETE FROM zvt.instruments;
-- later tests expect instrument ids from 1
ALTER TABLE zvt.instruments ALTER COLUMN id RESTART;
