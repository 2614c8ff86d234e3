--
-- Order events go to the market event ring when their transaction
-- commits, never when it (or the subtransaction that wrote them) rolls
-- back; both ways of writing them count: place_order's direct writes and
-- the PL/pgSQL paths through the order_events_publish trigger.  (After
-- trading.sql: its expected output names order ids.)
--
\set SHOW_CONTEXT never
\set VERBOSITY default

-- the ring's head counts every writer: keep the paper matcher (which could
-- still fill an order another test left resting) out of it meanwhile
ALTER SYSTEM SET zvt.paper_matcher = off;
SELECT pg_reload_conf();
DO $$
BEGIN
    FOR i IN 1 .. 600 LOOP
        EXIT WHEN NOT EXISTS (SELECT FROM pg_stat_activity WHERE backend_type = 'zvt paper matcher');
        PERFORM pg_sleep(0.05);
    END LOOP;
END $$;
SELECT count(*) AS matchers FROM pg_stat_activity WHERE backend_type = 'zvt paper matcher';

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

ALTER SYSTEM RESET zvt.paper_matcher;
SELECT pg_reload_conf();
