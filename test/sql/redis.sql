--
-- The Redis publisher's settings and status, and the event ring's
-- order events: appended when their transaction commits, never when it
-- (or the subtransaction that wrote them) rolls back
--
\set SHOW_CONTEXT never
\set VERBOSITY default

-- zvt.redis_url: refused with the reason, rediss:// as not supported
ALTER SYSTEM SET zvt.redis_url = 'http://127.0.0.1:6379';
\echo SQLSTATE :LAST_ERROR_SQLSTATE
ALTER SYSTEM SET zvt.redis_url = 'redis://127.0.0.1:99999';
\echo SQLSTATE :LAST_ERROR_SQLSTATE
ALTER SYSTEM SET zvt.redis_url = 'rediss://cache.example.com';
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT name, setting, context FROM pg_settings
 WHERE name LIKE 'zvt.redis%' OR name = 'zvt.event_ring_size' ORDER BY name;

-- the status without a URL: nothing runs, the ring is there
SELECT enabled, pid, connected, events_sent, dropped, ring_size FROM zvt.redis_status;

-- monitoring roles read the status, others do not
CREATE ROLE zvt_redis_nobody;
SET ROLE zvt_redis_nobody;
SELECT enabled FROM zvt.redis_status;
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT zvt._redis_status();
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SHOW zvt.redis_url;	-- it holds a password: superusers and pg_read_all_settings only
\echo SQLSTATE :LAST_ERROR_SQLSTATE
RESET ROLE;
GRANT pg_monitor TO zvt_redis_nobody;
SET ROLE zvt_redis_nobody;
SELECT enabled FROM zvt.redis_status;
RESET ROLE;
DROP ROLE zvt_redis_nobody;

-- order events reach the ring at commit only: a market order is new,
-- accepted and fill (three events)
INSERT INTO zvt.instruments (exchange, symbol, raw_symbol, base, quote, kind)
VALUES ('binance', 'ZVTR-USDT', 'ZVTRUSDT', 'ZVTR', 'USDT', 'spot');
SELECT zvt.bus_publish('binance', 'ZVTR-USDT', price => 10, qty => 1, bid => 9.9, bid_qty => 5,
                       ask => 10.1, ask_qty => 5) IS NULL AS published;
SELECT name FROM zvt.create_account('redis_ring', initial_cash => 100000);
CREATE TEMP TABLE ring AS SELECT ring_head AS head FROM zvt.redis_status;
CREATE FUNCTION pg_temp.appended() RETURNS bigint LANGUAGE sql AS
$$ UPDATE ring SET head = s.ring_head FROM zvt.redis_status s RETURNING s.ring_head - (SELECT head FROM ring) $$;

SELECT status FROM zvt.place_order('redis_ring', 'binance', 'ZVTR-USDT', 'buy', 1);
SELECT pg_temp.appended();

BEGIN;
SELECT status FROM zvt.place_order('redis_ring', 'binance', 'ZVTR-USDT', 'buy', 1);
SELECT pg_temp.appended();	-- not yet
ROLLBACK;
SELECT pg_temp.appended();	-- never

BEGIN;
SAVEPOINT a;
SELECT status FROM zvt.place_order('redis_ring', 'binance', 'ZVTR-USDT', 'buy', 1);
ROLLBACK TO a;
SAVEPOINT b;
SELECT status FROM zvt.place_order('redis_ring', 'binance', 'ZVTR-USDT', 'sell', 1);
RELEASE b;
SELECT pg_temp.appended();	-- not yet
COMMIT;
SELECT pg_temp.appended();	-- the released subtransaction's three

-- a cancel (PL/pgSQL, through the trigger): new, accepted, canceled
SELECT status FROM zvt.cancel_order((SELECT order_id FROM zvt.place_order('redis_ring', 'binance',
       'ZVTR-USDT', 'buy', 1, 'limit', price => 5)));
SELECT pg_temp.appended();
SELECT event, status FROM zvt.order_events e JOIN zvt.accounts a USING (account_id)
 WHERE a.name = 'redis_ring' ORDER BY event_id;
