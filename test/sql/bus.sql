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
-- and so does any statement that changes zvt.subscriptions; one that
-- changes no row does not
INSERT INTO zvt.subscriptions (exchange, symbol, channel) VALUES ('binance', 'BTC-USDT', 'trades');
SELECT subscriptions - :before AS after_insert FROM zvt._bus_counters();
UPDATE zvt.subscriptions SET symbol = 'ETH-USDT' WHERE exchange = 'binance' AND symbol = 'BTC-USDT';
SELECT subscriptions - :before AS after_update FROM zvt._bus_counters();
DELETE FROM zvt.subscriptions WHERE exchange = 'nowhere';
SELECT subscriptions - :before AS after_no_row FROM zvt._bus_counters();
DELETE FROM zvt.subscriptions WHERE exchange = 'binance' AND symbol = 'ETH-USDT';
SELECT subscriptions - :before AS after_delete FROM zvt._bus_counters();
INSERT INTO zvt.subscriptions (exchange, symbol, channel) VALUES ('binance', 'BTC-USDT', 'trades');
TRUNCATE zvt.subscriptions;
SELECT subscriptions - :before AS after_truncate FROM zvt._bus_counters();

-- only roles that may change subscriptions may wake the feed workers
CREATE ROLE zvt_bus_waker;
SET ROLE zvt_bus_waker;
SELECT zvt._subscriptions_changed('binance');
\echo SQLSTATE :LAST_ERROR_SQLSTATE
RESET ROLE;
DROP ROLE zvt_bus_waker;

--
-- Attacks on the bus through zvt._bus_forget, the trigger of zvt.instruments
--
CREATE ROLE zvt_bus_attacker;
CREATE SCHEMA zvt_bus_attack AUTHORIZATION zvt_bus_attacker;
SET ROLE zvt_bus_attacker;
CREATE TABLE zvt_bus_attack.mine (id int);
-- a plain role may not attach it to a table of its own
CREATE TRIGGER wipe AFTER DELETE ON zvt_bus_attack.mine
    FOR EACH ROW EXECUTE FUNCTION zvt._bus_forget();
\echo SQLSTATE :LAST_ERROR_SQLSTATE
-- nor delete instruments through a trigger of its own
CREATE FUNCTION zvt_bus_attack.forget() RETURNS trigger LANGUAGE plpgsql AS
$$ BEGIN DELETE FROM zvt.instruments WHERE id = OLD.id; RETURN OLD; END $$;
CREATE TRIGGER wipe AFTER DELETE ON zvt_bus_attack.mine
    FOR EACH ROW EXECUTE FUNCTION zvt_bus_attack.forget();
INSERT INTO zvt_bus_attack.mine SELECT id FROM zvt.instruments;
DELETE FROM zvt_bus_attack.mine;
\echo SQLSTATE :LAST_ERROR_SQLSTATE
DROP TRIGGER wipe ON zvt_bus_attack.mine;
RESET ROLE;
-- a superuser's trigger on another table: it refuses to act, whatever the ids
-- (0 and -1 once matched every free slot: 5000 of them filled the bus)
CREATE TRIGGER wipe AFTER DELETE ON zvt_bus_attack.mine
    FOR EACH ROW EXECUTE FUNCTION zvt._bus_forget();
INSERT INTO zvt_bus_attack.mine SELECT 0 FROM generate_series(1, 5000);
INSERT INTO zvt_bus_attack.mine SELECT -1 FROM generate_series(1, 5000);
INSERT INTO zvt_bus_attack.mine SELECT id FROM zvt.instruments;
DELETE FROM zvt_bus_attack.mine WHERE id = 0;
\echo SQLSTATE :LAST_ERROR_SQLSTATE
DELETE FROM zvt_bus_attack.mine WHERE id = -1;
\echo SQLSTATE :LAST_ERROR_SQLSTATE
DELETE FROM zvt_bus_attack.mine WHERE id > 0;
\echo SQLSTATE :LAST_ERROR_SQLSTATE
DROP SCHEMA zvt_bus_attack CASCADE;
DROP ROLE zvt_bus_attacker;
-- the prices are all there, and a new instrument still gets on the bus
SELECT exchange, symbol, last FROM zvt.tickers ORDER BY exchange, symbol;
INSERT INTO zvt.instruments (exchange, symbol, raw_symbol, base, quote, kind)
VALUES ('bybit', 'SOL-USDT', 'SOLUSDT', 'SOL', 'USDT', 'spot');
SELECT zvt.bus_publish('bybit', 'SOL-USDT', price => 150, ts => '2026-01-01 00:00:04+00');
SELECT zvt.last_price('bybit', 'SOL-USDT');

--
-- Deleted instruments leave the bus when the DELETE commits
--
-- a rolled-back DELETE leaves the price
BEGIN;
DELETE FROM zvt.instruments WHERE symbol = 'SOL-USDT';
ROLLBACK;
SELECT zvt.last_price('bybit', 'SOL-USDT');
-- so does one in a subtransaction released into one that rolls back
BEGIN;
SAVEPOINT outer_s;
SAVEPOINT inner_s;
DELETE FROM zvt.instruments WHERE symbol = 'SOL-USDT';
RELEASE SAVEPOINT inner_s;
ROLLBACK TO SAVEPOINT outer_s;
COMMIT;
SELECT zvt.last_price('bybit', 'SOL-USDT');
-- a committed one takes it, with a price published before the commit
SELECT id AS sol_id FROM zvt.instruments WHERE symbol = 'SOL-USDT' \gset
BEGIN;
DELETE FROM zvt.instruments WHERE symbol = 'SOL-USDT';
SELECT zvt._bus_publish(:sol_id, 151, NULL, NULL, NULL, NULL, NULL, '2026-01-01 00:00:05+00');
COMMIT;
-- an instrument that gets the id again starts with nothing
INSERT INTO zvt.instruments (id, exchange, symbol, raw_symbol, base, quote, kind)
OVERRIDING SYSTEM VALUE VALUES (:sol_id, 'bybit', 'DOGE-USDT', 'DOGEUSDT', 'DOGE', 'USDT', 'spot');
SELECT zvt.last_price('bybit', 'DOGE-USDT');
SELECT count(*) FROM zvt.tickers WHERE symbol = 'DOGE-USDT';

DELETE FROM zvt.instruments;
-- later tests expect instrument ids from 1
ALTER TABLE zvt.instruments ALTER COLUMN id RESTART;
