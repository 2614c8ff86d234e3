--
-- What one paper order costs does not grow with the orders resting or with
-- the orders an account closed before (bench/soak: the run time of each
-- order grew all along a 60-minute soak).  Counted, not timed: the shared
-- buffers a statement touched (hits and reads, its functions' included;
-- EXPLAIN (ANALYZE, BUFFERS)), the least of three tries, once with 100
-- orders resting far from the market and once with 10,000 resting and an
-- account's 10,000 closed.  Reading the resting or closed orders would
-- touch a buffer for each at least; an index grown a level deeper costs
-- one per descent.  Each line says ok, or the two counts.  Before
-- orders_open_idx, the oldest open order of the account with 10,000 closed
-- orders cost 10,304 buffers instead of 3, and cancel_all 465 instead of 93.
--
\set SHOW_CONTEXT never
SET client_min_messages = warning;

INSERT INTO zvt.instruments (id, exchange, symbol, raw_symbol, base, quote, kind, tick_size, lot_size)
OVERRIDING SYSTEM VALUE VALUES (9701, 'binance', 'CST-USDT', 'CSTUSDT', 'CST', 'USDT', 'spot', 0.01, 0.001);
SELECT a.name FROM generate_series(1, 3) i, zvt.create_account('cost' || i, initial_cash => 1e9) a ORDER BY i;
SELECT zvt.bus_publish('binance', 'CST-USDT', 100, 1, 99.9, 1, 100.1, 1) IS NULL AS published;
-- base to sell
SELECT o.status FROM generate_series(1, 2) i, zvt.place_order('cost' || i, 'binance', 'CST-USDT', 'buy', 100000) o;

-- the buffers a statement touches, its planning aside
CREATE FUNCTION pg_temp.buffers(q text) RETURNS int8 LANGUAGE plpgsql AS $$
DECLARE
    p json;
BEGIN
    EXECUTE 'EXPLAIN (ANALYZE, BUFFERS, TIMING OFF, FORMAT JSON) ' || q INTO p;
    RETURN (p -> 0 -> 'Plan' ->> 'Shared Hit Blocks')::int8 + (p -> 0 -> 'Plan' ->> 'Shared Read Blocks')::int8;
END $$;

-- n limits of acct resting far from the market: buys at 50-60, sells at 140-150
CREATE FUNCTION pg_temp.rest(acct text, n int) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    FOR i IN 1 .. n LOOP
        PERFORM zvt.place_order(acct, 'binance', 'CST-USDT', CASE WHEN i % 2 = 0 THEN 'buy' ELSE 'sell' END, 1,
                                'limit', price => CASE WHEN i % 2 = 0 THEN 50 ELSE 140 END + (i % 1000) / 100.0);
    END LOOP;
END $$;

CREATE FUNCTION pg_temp.acct(name text) RETURNS int4 LANGUAGE sql AS
$$ SELECT account_id FROM zvt.accounts WHERE accounts.name = acct.name $$;

-- wait until no other session of this database has a snapshot older than
-- cut (seen under ASan: a worker's transaction or an autovacuum's ANALYZE
-- that began before a mass cancel keeps the canceled orders' index entries
-- alive, so that every try walks them); false after 60 s
CREATE FUNCTION pg_temp.wait_horizon(cut xid) RETURNS bool LANGUAGE plpgsql AS $$
BEGIN
    FOR i IN 1 .. 600 LOOP
        PERFORM pg_stat_clear_snapshot();
        IF NOT EXISTS (SELECT FROM pg_stat_activity
                        WHERE datname = current_database() AND pid <> pg_backend_pid()
                          AND age(backend_xmin) > age(cut)) THEN
            RETURN true;
        END IF;
        PERFORM pg_sleep(0.1);
    END LOOP;
    RETURN false;
END $$;

-- the least of three tries of each, into cost (run = 'few' or 'many')
CREATE TEMP TABLE cost (run text, what text, buffers int8);
CREATE FUNCTION pg_temp.measure(run text) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    b int8;
    id int8;
BEGIN
    ANALYZE zvt.orders;
    FOR try IN 1 .. 3 LOOP
        -- a limit that rests
        b := pg_temp.buffers($q$SELECT * FROM zvt.place_order('cost1', 'binance', 'CST-USDT', 'buy', 1, 'limit', price => 60)$q$);
        INSERT INTO cost VALUES (run, 'place_order (rests)', b);
        -- a marketable limit, filled at once
        b := pg_temp.buffers($q$SELECT * FROM zvt.place_order('cost1', 'binance', 'CST-USDT', 'buy', 1, 'limit', price => 101)$q$);
        INSERT INTO cost VALUES (run, 'place_order (fills)', b);
        SELECT max(order_id) INTO id FROM zvt.orders WHERE account_id = pg_temp.acct('cost1') AND status = 'accepted';
        b := pg_temp.buffers(format('SELECT * FROM zvt.cancel_order(%s)', id));
        INSERT INTO cost VALUES (run, 'cancel_order', b);
        -- the oldest open order of an account with a long history, and cancel_all
        PERFORM zvt.place_order('cost3', 'binance', 'CST-USDT', 'buy', 1, 'limit', price => 60)
          FROM generate_series(1, 2);
        b := pg_temp.buffers(format('SELECT order_id FROM zvt.orders WHERE account_id = %s
                                      AND status IN (''accepted'', ''partially_filled'') ORDER BY order_id LIMIT 1',
                                    pg_temp.acct('cost3')));
        INSERT INTO cost VALUES (run, 'oldest open order', b);
        b := pg_temp.buffers($q$SELECT * FROM zvt.cancel_all('cost3')$q$);
        INSERT INTO cost VALUES (run, 'cancel_all', b);
        -- a matcher pass: a trade at 99.4 fills two buys at 99.5 (uncommitted
        -- until this statement ends, so the matcher worker cannot take them)
        PERFORM zvt.place_order('cost1', 'binance', 'CST-USDT', 'buy', 1, 'limit', price => 99.5)
          FROM generate_series(1, 2);
        PERFORM zvt.bus_publish('binance', 'CST-USDT', 99.4, 10);
        b := pg_temp.buffers('SELECT * FROM zvt._paper_match(9701, true)');
        INSERT INTO cost VALUES (run, 'matcher pass', b);
        PERFORM zvt.bus_publish('binance', 'CST-USDT', 100, 1);
        b := pg_temp.buffers('SELECT * FROM zvt._paper_instruments(0)');
        INSERT INTO cost VALUES (run, 'matcher instruments', b);
    END LOOP;
END $$;

-- 100 resting
SELECT pg_temp.rest('cost1', 50), pg_temp.rest('cost2', 50);
SELECT pg_temp.measure('few');
-- 10,000 resting, and cost3 10,000 closed: its buys canceled, its sells
-- rejected (it has no CST to sell)
SELECT pg_temp.rest('cost1', 4950), pg_temp.rest('cost2', 4950);
SELECT pg_temp.rest('cost3', 10000);
SELECT count(*) FROM zvt.cancel_all('cost3');
-- the canceled orders dead to every snapshot, so that the first try's scans
-- mark their index entries dead and the next tries skip them
SELECT pg_current_xact_id()::text::xid AS cut \gset
SELECT pg_temp.wait_horizon(:'cut') AS dead_to_all;
SELECT pg_temp.measure('many');
SELECT count(*) AS resting FROM zvt.orders WHERE instrument_id = 9701 AND status = 'accepted';
SELECT count(*) AS matched FROM zvt.orders WHERE instrument_id = 9701 AND price = 99.5 AND status = 'filled';

SELECT f.what, CASE WHEN m.b - f.b < 100 THEN 'ok'
                    ELSE format('%s buffers with 100 resting, %s with 10,000', f.b, m.b) END AS cost
  FROM (SELECT what, min(buffers) AS b FROM cost WHERE run = 'few' GROUP BY what) f
  JOIN (SELECT what, min(buffers) AS b FROM cost WHERE run = 'many' GROUP BY what) m USING (what)
 ORDER BY f.what;

-- nothing left resting
SELECT count(*) > 0 AS canceled FROM generate_series(1, 3) i, zvt.cancel_all('cost' || i) o;
SELECT count(*) AS open FROM zvt.orders WHERE instrument_id = 9701 AND status IN ('accepted', 'partially_filled');
