-- zvt 0.1.0 -> 0.2.0: ALTER EXTENSION zvt UPDATE TO '0.2.0'.
--
-- Each step below names what changed and why; the end state equals a
-- fresh CREATE EXTENSION zvt VERSION '0.2.0' (test/integration/upgrade.sh
-- compares the two catalogs, test/upgrade/catalog.sql, and checks that the
-- data of a filled 0.1.0 installation is intact).  Function bodies are
-- those of sql/NN_*.sql at 0.2.0, repeated here as CREATE OR REPLACE.
\echo Use "ALTER EXTENSION zvt UPDATE TO '0.2.0'" to load this file. \quit

-- ===================================================================
-- Hypertables: maintenance runs as each table's owner
-- (src/storage/as_owner.c); chunk arithmetic that cannot overflow.
-- ===================================================================
CREATE OR REPLACE FUNCTION zvt._check_chunk_interval(iv pg_catalog.interval) RETURNS void
    LANGUAGE plpgsql IMMUTABLE
    SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF iv IS NULL THEN
        RAISE EXCEPTION 'chunk_interval must not be null'
            USING ERRCODE = '22023';
    END IF;
    IF extract(year FROM iv) <> 0 OR extract(month FROM iv) <> 0 THEN
        RAISE EXCEPTION 'chunk_interval cannot contain months or years: %', iv
            USING ERRCODE = '22023',
                  HINT = 'Chunks have a fixed length; use days or hours, such as ''30 days''.';
    END IF;
    IF iv <= interval '0' OR extract(day FROM iv) < 0 THEN
        RAISE EXCEPTION 'chunk_interval must be greater than zero: %', iv
            USING ERRCODE = '22023';
    END IF;
    -- chunk arithmetic counts microseconds in an int8
    IF extract(epoch FROM iv) >= 9223372036854.775807 THEN
        RAISE EXCEPTION 'chunk_interval is too long: %', iv
            USING ERRCODE = '22023',
                  HINT = 'A chunk interval must be shorter than 292,000 years.';
    END IF;
END;
$$;
COMMENT ON FUNCTION zvt._check_chunk_interval(pg_catalog.interval) IS
    'Internal: validate a chunk interval.';

CREATE OR REPLACE FUNCTION zvt._chunk_start(ts pg_catalog.timestamptz,
                                 chunk_interval pg_catalog.interval,
                                 ahead pg_catalog.int4 DEFAULT 0)
    RETURNS pg_catalog.timestamptz
    LANGUAGE C STRICT IMMUTABLE PARALLEL SAFE
    AS 'MODULE_PATHNAME', 'zvt_chunk_start';
COMMENT ON FUNCTION zvt._chunk_start(pg_catalog.timestamptz, pg_catalog.interval, pg_catalog.int4) IS
    'Internal: start of the chunk ahead chunks after the one holding ts, or NULL when no chunk can hold it (it would reach past the ends of the timestamp range).';
-- arithmetic only: anyone may compute it
GRANT EXECUTE ON FUNCTION zvt._chunk_start(pg_catalog.timestamptz, pg_catalog.interval, pg_catalog.int4) TO PUBLIC;

-- maintenance runs as each table's owner, who must be able to call them
GRANT EXECUTE ON FUNCTION zvt._chunks(pg_catalog.regclass) TO PUBLIC;
GRANT EXECUTE ON FUNCTION zvt._ensure_chunk(pg_catalog.regclass, pg_catalog.timestamptz) TO PUBLIC;
GRANT EXECUTE ON FUNCTION zvt.drop_chunks(pg_catalog.regclass, "any", "any") TO PUBLIC;
COMMENT ON FUNCTION zvt._ensure_chunk(pg_catalog.regclass, pg_catalog.timestamptz) IS
    'The chunk holding ts, created (with its rows moved out of the default partition) when missing. Call before writing in the same transaction: a transaction that already locked the table gets a NULL chunk, rather than a deadlock, while another creates or drops chunks.';

-- 0.1.0's plpgsql pass becomes _maintenance_steps; _maintain_hypertable
-- (same signature) is now C, running the steps as the table's owner
CREATE OR REPLACE FUNCTION zvt._maintenance_steps(rel pg_catalog.regclass,
        OUT chunks_created pg_catalog.int8,
        OUT rows_moved pg_catalog.int8,
        OUT chunks_dropped pg_catalog.int8)
    RETURNS record
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    h zvt._hypertables;
    ahead int := COALESCE(current_setting('zvt.chunks_ahead', true)::int, 1);
    is_tz bool;
    tcol text;
    deflt regclass;
    t timestamptz;
    r record;
    b record;
BEGIN
    chunks_created := 0;
    rows_moved := 0;
    chunks_dropped := 0;
    SELECT * INTO h FROM zvt._hypertables x WHERE x.relid = rel;
    IF NOT FOUND THEN
        RETURN;
    END IF;
    SELECT a.atttypid = 'timestamptz'::regtype INTO is_tz
      FROM pg_attribute a WHERE a.attrelid = rel AND a.attname = h.time_column;
    -- a timestamp column's values are read as UTC, like its chunk bounds
    tcol := CASE WHEN is_tz THEN quote_ident(h.time_column)
                 ELSE format('(%I AT TIME ZONE ''UTC'')', h.time_column) END;

    FOR i IN 0 .. ahead LOOP
        t := zvt._chunk_start(now(), h.chunk_interval, i);
        EXIT WHEN t IS NULL;
        SELECT * INTO r FROM zvt._ensure_chunk(rel, t);
        chunks_created := chunks_created + r.created::int;
        rows_moved := rows_moved + r.rows_moved;
    END LOOP;

    IF h.retention IS NOT NULL THEN
        SELECT count(*) INTO chunks_dropped
          FROM zvt.drop_chunks(rel, now() - h.retention);
    END IF;

    SELECT c.chunk INTO deflt FROM zvt._chunks(rel) c WHERE c.is_default;
    IF deflt IS NOT NULL THEN
        FOR b IN EXECUTE format(
            'SELECT s.t FROM (SELECT DISTINCT zvt._chunk_start(%s, $1) AS t FROM ONLY %s) s
              WHERE s.t IS NOT NULL', tcol, deflt)
            USING h.chunk_interval
        LOOP
            SELECT * INTO r FROM zvt._ensure_chunk(rel, b.t);
            chunks_created := chunks_created + r.created::int;
            rows_moved := rows_moved + r.rows_moved;
        END LOOP;
    END IF;
END;
$$;
COMMENT ON FUNCTION zvt._maintenance_steps(pg_catalog.regclass) IS
    'Internal: one maintenance pass over one hypertable, as the caller; use zvt._maintain_hypertable.';
-- it does only what its caller may do (_ensure_chunk and drop_chunks check)
GRANT EXECUTE ON FUNCTION zvt._maintenance_steps(pg_catalog.regclass) TO PUBLIC;

CREATE OR REPLACE FUNCTION zvt._maintain_hypertable(rel pg_catalog.regclass,
        OUT relation pg_catalog.regclass,
        OUT chunks_created pg_catalog.int8,
        OUT rows_moved pg_catalog.int8,
        OUT chunks_dropped pg_catalog.int8)
    RETURNS record
    LANGUAGE C STRICT VOLATILE
    AS 'MODULE_PATHNAME', 'zvt_maintain_hypertable';
COMMENT ON FUNCTION zvt._maintain_hypertable(pg_catalog.regclass) IS
    'Internal: one maintenance pass over one hypertable, run as the table''s owner under SECURITY_RESTRICTED_OPERATION; the caller must have the owner''s privileges.';
-- it checks that the caller has the owner's privileges itself
GRANT EXECUTE ON FUNCTION zvt._maintain_hypertable(pg_catalog.regclass) TO PUBLIC;

CREATE OR REPLACE PROCEDURE zvt.run_maintenance()
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    h record;
    r record;
    msg text;
    state text;
    failed int := 0;
BEGIN
    FOR h IN SELECT x.relid FROM zvt._hypertables x
               JOIN pg_class c ON c.oid = x.relid
              WHERE pg_has_role(c.relowner, 'USAGE')
              ORDER BY x.relid
    LOOP
        BEGIN
            SELECT * INTO r FROM zvt._maintain_hypertable(h.relid);
            IF r.chunks_created > 0 OR r.rows_moved > 0 OR r.chunks_dropped > 0 THEN
                RAISE LOG 'zvt maintenance of "%": created % chunks, moved % rows, dropped % chunks',
                    r.relation, r.chunks_created, r.rows_moved, r.chunks_dropped;
            END IF;
        EXCEPTION WHEN OTHERS THEN
            GET STACKED DIAGNOSTICS msg = MESSAGE_TEXT, state = RETURNED_SQLSTATE;
            failed := failed + 1;
            RAISE WARNING 'zvt maintenance of "%" failed: %', h.relid, msg
                USING DETAIL = format('SQLSTATE %s; the other hypertables were maintained.', state);
        END;
    END LOOP;
    IF failed > 0 THEN
        RAISE WARNING 'zvt maintenance failed for % of the hypertables; the others were maintained', failed;
    END IF;
END;
$$;
COMMENT ON PROCEDURE zvt.run_maintenance() IS
    'Do now what the maintenance worker does every zvt.maintenance_naptime, for the hypertables the caller owns (every one for a superuser), each as its owner: create chunks ahead of now, apply retention policies, move rows out of default partitions.';

-- The default partitions of zvt.trades, candles and quotes get fixed names
-- and become configuration tables, so pg_dump keeps their rows.
DO $defaults$
DECLARE
    t pg_catalog.text;
    d pg_catalog.regclass;
BEGIN
    FOREACH t IN ARRAY ARRAY['trades', 'candles', 'quotes']
    LOOP
        SELECT c.chunk INTO STRICT d FROM zvt._chunks(('zvt.' || t)::pg_catalog.regclass) c
         WHERE c.is_default;
        EXECUTE pg_catalog.format('ALTER TABLE %s RENAME TO %I', d, t || '_default');
        EXECUTE pg_catalog.format('COMMENT ON TABLE _zvt_chunks.%I IS %L', t || '_default',
            pg_catalog.format('zvt: default partition of zvt.%s (rows waiting for their chunk)', t));
        PERFORM pg_catalog.pg_extension_config_dump('_zvt_chunks.' || t || '_default', '');
    END LOOP;
END
$defaults$;

-- ===================================================================
-- The market bus: keyed by database and installation; _bus_forget only
-- for zvt.instruments' own trigger.
-- ===================================================================
COMMENT ON FUNCTION zvt._bus_entries() IS 'Internal: every instrument of this database on the market bus.';
COMMENT ON FUNCTION zvt._bus_forget() IS
    'Internal: the trigger of zvt.instruments that removes deleted instruments from the market bus at commit.';
REVOKE ALL ON FUNCTION zvt._bus_forget() FROM PUBLIC;
COMMENT ON TRIGGER instruments_leave_bus ON zvt.instruments IS
    'A deleted instrument leaves the market bus when the DELETE commits (its id may come back).';

-- ===================================================================
-- Feeds: per-exchange wake-ups; feed_status gains unmapped and
-- flush_retries (new OUT columns: the function and view are re-created).
-- ===================================================================
DROP VIEW zvt.feed_status;
DROP FUNCTION zvt._feed_stats();
CREATE FUNCTION zvt._feed_stats(
        OUT exchange pg_catalog.text, OUT pid pg_catalog.int4, OUT state pg_catalog.text,
        OUT connected_since pg_catalog.timestamptz, OUT last_message_at pg_catalog.timestamptz,
        OUT messages pg_catalog.int8, OUT events pg_catalog.int8, OUT rows_written pg_catalog.int8,
        OUT parse_errors pg_catalog.int8, OUT exchange_errors pg_catalog.int8,
        OUT reconnects pg_catalog.int8, OUT unmapped pg_catalog.int8,
        OUT flush_retries pg_catalog.int8)
    RETURNS SETOF record
    LANGUAGE C VOLATILE
    AS 'MODULE_PATHNAME', 'zvt_feed_stats';
COMMENT ON FUNCTION zvt._feed_stats() IS 'Internal: the feed workers'' counters in shared memory.';

CREATE VIEW zvt.feed_status WITH (security_invoker = true) AS
SELECT f.exchange, f.exchange AS connection, f.state, f.pid, f.connected_since, f.messages,
       f.events, f.rows_written, f.parse_errors, f.exchange_errors, f.reconnects,
       f.unmapped, f.last_message_at, pg_catalog.now() - f.last_message_at AS lag,
       f.flush_retries
  FROM zvt._feed_stats() f;
COMMENT ON VIEW zvt.feed_status IS
    'One row per exchange feed: state, counters since server start (messages, events parsed, rows written, malformed messages skipped, exchange error replies, reconnects, events skipped because their symbol is not in zvt.instruments), the time since the last message, and flushes rolled back by a deadlock, serialization failure or lock timeout whose batch was written again.';
GRANT SELECT ON zvt.feed_status TO PUBLIC;

DROP FUNCTION zvt._subscriptions_changed();
CREATE FUNCTION zvt._subscriptions_changed(exchange pg_catalog.text) RETURNS void
    LANGUAGE C STRICT VOLATILE
    AS 'MODULE_PATHNAME', 'zvt_feed_subscriptions_changed';
COMMENT ON FUNCTION zvt._subscriptions_changed(pg_catalog.text) IS
    'Internal: make the exchange''s feed worker (and no other) re-read zvt.subscriptions when this transaction commits.';

CREATE OR REPLACE FUNCTION zvt.subscribe(exchange pg_catalog.text, symbol pg_catalog.text,
                              channel pg_catalog.text)
    RETURNS zvt.subscriptions
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    sym text := zvt._check_subscription(exchange, symbol, channel);
    result zvt.subscriptions;
BEGIN
    PERFORM zvt._require_preload('zvt.subscribe');
    PERFORM zvt._subscriptions_changed(subscribe.exchange);
    INSERT INTO zvt.subscriptions AS s (exchange, symbol, channel)
    VALUES (subscribe.exchange, sym, subscribe.channel)
    ON CONFLICT ON CONSTRAINT subscriptions_exchange_symbol_channel_key DO NOTHING
    RETURNING s.* INTO result;
    IF NOT FOUND THEN
        SELECT s.* INTO result FROM zvt.subscriptions s
         WHERE s.exchange = subscribe.exchange AND s.symbol = sym
           AND s.channel = subscribe.channel;
    END IF;
    RETURN result;
END;
$$;
COMMENT ON FUNCTION zvt.subscribe(pg_catalog.text, pg_catalog.text, pg_catalog.text) IS
    'Have the exchange''s feed worker stream a channel of a symbol (idempotent; returns the subscription).';

CREATE OR REPLACE FUNCTION zvt.unsubscribe(exchange pg_catalog.text, symbol pg_catalog.text,
                                channel pg_catalog.text)
    RETURNS pg_catalog.bool
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    sym text := zvt._check_subscription(exchange, symbol, channel);
BEGIN
    PERFORM zvt._subscriptions_changed(unsubscribe.exchange);
    DELETE FROM zvt.subscriptions s
     WHERE s.exchange = unsubscribe.exchange AND s.symbol = sym
       AND s.channel = unsubscribe.channel;
    RETURN FOUND;
END;
$$;
COMMENT ON FUNCTION zvt.unsubscribe(pg_catalog.text, pg_catalog.text, pg_catalog.text) IS
    'Stop streaming a channel of a symbol; false when there was no such subscription.';

-- ===================================================================
-- Backtests: runs are private to their creator (row-level security) and
-- written only by zvt.backtest and zvt.backtest_grid.
-- ===================================================================
ALTER TABLE zvt.backtest_runs ALTER COLUMN created_by DROP DEFAULT;
COMMENT ON TABLE zvt.backtest_runs IS
    'One row per zvt.backtest run: its parameters and every metric (definitions in docs/backtesting.md); NULL where a metric is undefined. Each role sees and may delete only its own runs (created_by, set by zvt.backtest and zvt.backtest_grid); members of zvt_admin see all.';

ALTER TABLE zvt.backtest_runs ENABLE ROW LEVEL SECURITY;
ALTER TABLE zvt.backtest_trades ENABLE ROW LEVEL SECURITY;
ALTER TABLE zvt.backtest_equity ENABLE ROW LEVEL SECURITY;
CREATE POLICY backtest_runs_read ON zvt.backtest_runs FOR SELECT
    USING (created_by = CURRENT_USER
           OR (SELECT pg_catalog.pg_has_role('zvt_admin', 'USAGE')));
CREATE POLICY backtest_runs_delete ON zvt.backtest_runs FOR DELETE
    USING (created_by = CURRENT_USER
           OR (SELECT pg_catalog.pg_has_role('zvt_admin', 'USAGE')));
-- trades and equity: of the runs the role sees (the runs' policy applies)
CREATE POLICY backtest_trades_read ON zvt.backtest_trades FOR SELECT
    USING (run_id IN (SELECT r.run_id FROM zvt.backtest_runs r));
CREATE POLICY backtest_equity_read ON zvt.backtest_equity FOR SELECT
    USING (run_id IN (SELECT r.run_id FROM zvt.backtest_runs r));
COMMENT ON POLICY backtest_runs_read ON zvt.backtest_runs IS
    'A role sees the runs it made; members of zvt_admin see all.';
COMMENT ON POLICY backtest_runs_delete ON zvt.backtest_runs IS
    'A role may delete the runs it made (their trades and equity cascade); members of zvt_admin any.';
COMMENT ON POLICY backtest_trades_read ON zvt.backtest_trades IS
    'The trades of the runs the role sees.';
COMMENT ON POLICY backtest_equity_read ON zvt.backtest_equity IS
    'The equity curves of the runs the role sees.';

-- reading: anyone, their own runs (the policies above); deleting: their
-- own runs; no INSERT or UPDATE: runs are written by zvt.backtest and
-- zvt.backtest_grid only, so none can be forged or put in another's name
REVOKE ALL ON zvt.backtest_runs, zvt.backtest_trades, zvt.backtest_equity FROM PUBLIC;
GRANT SELECT, DELETE ON zvt.backtest_runs TO PUBLIC;
GRANT SELECT ON zvt.backtest_trades, zvt.backtest_equity TO PUBLIC;

COMMENT ON FUNCTION zvt.backtest_grid(pg_catalog.text, pg_catalog.text, pg_catalog.text, pg_catalog.interval, pg_catalog.timestamptz, pg_catalog.timestamptz, pg_catalog.jsonb, pg_catalog.text, pg_catalog.jsonb, pg_catalog.numeric, pg_catalog.numeric, pg_catalog.numeric, pg_catalog.bool, pg_catalog.int4) IS
    'Run a built-in strategy for every combination of the grid (a JSON object of arrays of values, such as {"fast": [5, 10], "slow": [50, 100]}; params holds the fixed ones) over the same closed candles, in parallel (workers: NULL = max_parallel_workers_per_gather, which also caps it); combinations the strategy rejects are skipped with a NOTICE; stores each run with store = metrics and returns them sorted by sort_by (a metric column, NULLs last).';

-- ===================================================================
-- Trading: the account lock in a lock space no role reaches
-- (src/base/locks.c); unknown and unusable accounts and orders give the
-- same error; zvt.reassign_account; the paper matcher reads only crossed
-- orders through price-sorted indexes and never waits for an account.
-- ===================================================================
CREATE OR REPLACE FUNCTION zvt._lock_account(account_id pg_catalog.int4) RETURNS void
    LANGUAGE C STRICT VOLATILE
    AS 'MODULE_PATHNAME', 'zvt_lock_account_sql';
COMMENT ON FUNCTION zvt._lock_account(pg_catalog.int4) IS
    'Internal: wait for and hold to the end of the transaction an account''s ledger lock.';
-- only zvt's own SECURITY DEFINER bodies may hold an account's lock
REVOKE ALL ON FUNCTION zvt._lock_account(pg_catalog.int4) FROM PUBLIC;

CREATE OR REPLACE FUNCTION zvt._try_lock_account(account_id pg_catalog.int4) RETURNS pg_catalog.bool
    LANGUAGE C STRICT VOLATILE
    AS 'MODULE_PATHNAME', 'zvt_try_lock_account_sql';
COMMENT ON FUNCTION zvt._try_lock_account(pg_catalog.int4) IS
    'Internal: take an account''s ledger lock if it is free; false when another transaction holds it.';
-- the paper matcher's; no role of its own
REVOKE ALL ON FUNCTION zvt._try_lock_account(pg_catalog.int4) FROM PUBLIC;

CREATE OR REPLACE FUNCTION zvt._account(caller pg_catalog.oid, name pg_catalog.text,
                             manage pg_catalog.bool DEFAULT false)
    RETURNS zvt.accounts
    LANGUAGE plpgsql STABLE
AS $$
DECLARE
    a zvt.accounts;
BEGIN
    SELECT * INTO a FROM zvt.accounts WHERE accounts.name = _account.name;
    IF NOT FOUND OR NOT zvt._may_use(caller, a.account_id) THEN
        RAISE EXCEPTION 'unknown account "%"', coalesce(name, 'NULL')
            USING ERRCODE = '42704',
                  HINT = 'zvt.accounts lists the accounts you may use; zvt.create_account makes one.';
    END IF;
    IF manage AND NOT (pg_has_role(caller, a.owner, 'USAGE') OR pg_has_role(caller, 'zvt_admin', 'USAGE')) THEN
        RAISE EXCEPTION 'permission denied for account "%"', name
            USING ERRCODE = '42501',
                  DETAIL = 'Only the account''s owner and members of zvt_admin may change its grants, limits and state.';
    END IF;
    RETURN a;
END;
$$;
COMMENT ON FUNCTION zvt._account(pg_catalog.oid, pg_catalog.text, pg_catalog.bool) IS
    'Internal: the account named name if caller may use it (42704 unknown or not usable; with manage, 42501 for a grantee).';
REVOKE ALL ON FUNCTION zvt._account(pg_catalog.oid, pg_catalog.text, pg_catalog.bool) FROM PUBLIC;

CREATE OR REPLACE FUNCTION zvt._set_trading_state(caller pg_catalog.oid, account pg_catalog.text, state pg_catalog.text)
    RETURNS zvt.accounts
    LANGUAGE plpgsql
AS $$
DECLARE
    a zvt.accounts := zvt._account(caller, account, true);
BEGIN
    IF state IS NULL OR state NOT IN ('active', 'reducing', 'halted') THEN
        RAISE EXCEPTION 'unknown trading state "%"', coalesce(state, 'NULL')
            USING ERRCODE = '22023',
                  HINT = 'States are active, reducing (only orders that reduce a position) and halted (no orders).';
    END IF;
    PERFORM zvt._lock_account(a.account_id);
    UPDATE zvt.accounts x SET state = _set_trading_state.state
     WHERE x.account_id = a.account_id RETURNING * INTO a;
    RETURN a;
END;
$$;
COMMENT ON FUNCTION zvt._set_trading_state(pg_catalog.oid, pg_catalog.text, pg_catalog.text) IS
    'Internal: zvt.set_trading_state''s body.';
REVOKE ALL ON FUNCTION zvt._set_trading_state(pg_catalog.oid, pg_catalog.text, pg_catalog.text) FROM PUBLIC;

CREATE OR REPLACE FUNCTION zvt._reassign_account(caller pg_catalog.oid, account pg_catalog.text,
                                      new_owner pg_catalog.regrole)
    RETURNS zvt.accounts
    LANGUAGE plpgsql
AS $$
DECLARE
    a zvt.accounts;
BEGIN
    -- checked before the account is looked up: no answer tells a non-admin whether it exists
    IF NOT pg_has_role(caller, 'zvt_admin', 'USAGE') THEN
        RAISE EXCEPTION 'permission denied to reassign account "%"', coalesce(account, 'NULL')
            USING ERRCODE = '42501',
                  DETAIL = 'Only members of zvt_admin may give an account a new owner.';
    END IF;
    a := zvt._account(caller, account, true);
    IF new_owner IS NULL THEN
        RAISE EXCEPTION 'new_owner must be a role, not NULL' USING ERRCODE = '22023';
    END IF;
    PERFORM zvt._lock_account(a.account_id);
    UPDATE zvt.accounts x SET owner = new_owner
     WHERE x.account_id = a.account_id RETURNING * INTO a;
    RETURN a;
END;
$$;
COMMENT ON FUNCTION zvt._reassign_account(pg_catalog.oid, pg_catalog.text, pg_catalog.regrole) IS
    'Internal: zvt.reassign_account''s body.';
REVOKE ALL ON FUNCTION zvt._reassign_account(pg_catalog.oid, pg_catalog.text, pg_catalog.regrole) FROM PUBLIC;

CREATE OR REPLACE FUNCTION zvt.reassign_account(account pg_catalog.text, new_owner pg_catalog.regrole)
    RETURNS zvt.accounts
    LANGUAGE C VOLATILE CALLED ON NULL INPUT
    AS 'MODULE_PATHNAME', 'zvt_ledger_call';
COMMENT ON FUNCTION zvt.reassign_account(pg_catalog.text, pg_catalog.regrole) IS
    'Give an account a new owner role (zvt_admin only): how an account whose owner role was dropped, and so is halted, trades again.';
-- an administrator's tool: only zvt_admin may change who owns an account
REVOKE ALL ON FUNCTION zvt.reassign_account(pg_catalog.text, pg_catalog.regrole) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION zvt.reassign_account(pg_catalog.text, pg_catalog.regrole) TO zvt_admin;

CREATE OR REPLACE FUNCTION zvt._set_risk_limits(caller pg_catalog.oid, account pg_catalog.text, exchange pg_catalog.text,
        symbol pg_catalog.text, max_order_qty pg_catalog.numeric, max_order_notional pg_catalog.numeric,
        max_position_qty pg_catalog.numeric, max_position_notional pg_catalog.numeric,
        max_open_orders pg_catalog.int4, max_daily_loss pg_catalog.numeric,
        price_band_pct pg_catalog.numeric, max_orders_per_sec pg_catalog.int4)
    RETURNS zvt.risk_limits
    LANGUAGE plpgsql
AS $$
DECLARE
    a zvt.accounts := zvt._account(caller, account, true);
    iid int4;
    r zvt.risk_limits;
BEGIN
    IF (exchange IS NULL) <> (symbol IS NULL) THEN
        RAISE EXCEPTION 'risk limits apply to a whole account or to one instrument of it'
            USING ERRCODE = '22023',
                  HINT = 'Give both exchange and symbol, or neither.';
    END IF;
    IF exchange IS NOT NULL THEN
        iid := zvt._instrument_id(exchange, symbol);
    END IF;
    IF max_order_qty IS NOT NULL THEN PERFORM zvt._check_amount('max_order_qty', max_order_qty); END IF;
    IF max_order_notional IS NOT NULL THEN PERFORM zvt._check_amount('max_order_notional', max_order_notional); END IF;
    IF max_position_qty IS NOT NULL THEN PERFORM zvt._check_amount('max_position_qty', max_position_qty, false); END IF;
    IF max_position_notional IS NOT NULL THEN PERFORM zvt._check_amount('max_position_notional', max_position_notional, false); END IF;
    IF max_daily_loss IS NOT NULL THEN PERFORM zvt._check_amount('max_daily_loss', max_daily_loss, false); END IF;
    IF price_band_pct IS NOT NULL THEN PERFORM zvt._check_amount('price_band_pct', price_band_pct); END IF;
    IF max_open_orders < 0 OR max_orders_per_sec < 1 THEN
        RAISE EXCEPTION 'max_open_orders must be >= 0 and max_orders_per_sec >= 1'
            USING ERRCODE = '22023';
    END IF;
    PERFORM zvt._lock_account(a.account_id);
    INSERT INTO zvt.risk_limits AS l (account_id, instrument_id, exchange, symbol, max_order_qty,
                                      max_order_notional, max_position_qty, max_position_notional,
                                      max_open_orders, max_daily_loss, price_band_pct, max_orders_per_sec)
    VALUES (a.account_id, iid, exchange, symbol, max_order_qty, max_order_notional, max_position_qty,
            max_position_notional, max_open_orders, max_daily_loss, price_band_pct, max_orders_per_sec)
    ON CONFLICT (account_id, instrument_id) DO UPDATE
       SET max_order_qty = EXCLUDED.max_order_qty, max_order_notional = EXCLUDED.max_order_notional,
           max_position_qty = EXCLUDED.max_position_qty,
           max_position_notional = EXCLUDED.max_position_notional,
           max_open_orders = EXCLUDED.max_open_orders, max_daily_loss = EXCLUDED.max_daily_loss,
           price_band_pct = EXCLUDED.price_band_pct, max_orders_per_sec = EXCLUDED.max_orders_per_sec,
           updated_at = pg_catalog.now()
    RETURNING * INTO r;
    RETURN r;
END;
$$;
COMMENT ON FUNCTION zvt._set_risk_limits(pg_catalog.oid, pg_catalog.text, pg_catalog.text, pg_catalog.text,
    pg_catalog.numeric, pg_catalog.numeric, pg_catalog.numeric, pg_catalog.numeric, pg_catalog.int4,
    pg_catalog.numeric, pg_catalog.numeric, pg_catalog.int4) IS 'Internal: zvt.set_risk_limits''s body.';
REVOKE ALL ON FUNCTION zvt._set_risk_limits(pg_catalog.oid, pg_catalog.text, pg_catalog.text, pg_catalog.text,
    pg_catalog.numeric, pg_catalog.numeric, pg_catalog.numeric, pg_catalog.numeric, pg_catalog.int4,
    pg_catalog.numeric, pg_catalog.numeric, pg_catalog.int4) FROM PUBLIC;

CREATE OR REPLACE FUNCTION zvt._cancel_order(caller pg_catalog.oid, order_id pg_catalog.int8)
    RETURNS zvt.orders
    LANGUAGE plpgsql
AS $$
DECLARE
    o zvt.orders;
    acct int4;
BEGIN
    SELECT x.account_id INTO acct FROM zvt.orders x WHERE x.order_id = _cancel_order.order_id;
    -- an order of an account the caller may not use is unknown to it, as
    -- one that does not exist: the error tells nobody which orders exist
    IF NOT FOUND OR NOT zvt._may_use(caller, acct) THEN
        RAISE EXCEPTION 'unknown order %', coalesce(order_id::text, 'NULL')
            USING ERRCODE = '42704', HINT = 'zvt.orders lists the orders of the accounts you may use.';
    END IF;
    PERFORM zvt._lock_account(acct);
    SELECT * INTO o FROM zvt.orders x WHERE x.order_id = _cancel_order.order_id FOR UPDATE;
    IF o.status NOT IN ('accepted', 'partially_filled') THEN
        RAISE EXCEPTION 'order % is %', order_id, o.status
            USING ERRCODE = '55000', HINT = 'Only accepted and partially filled orders can be canceled.';
    END IF;
    RETURN zvt._close_order(o, 'canceled', NULL, true);
END;
$$;
COMMENT ON FUNCTION zvt._cancel_order(pg_catalog.oid, pg_catalog.int8) IS 'Internal: zvt.cancel_order''s body.';
REVOKE ALL ON FUNCTION zvt._cancel_order(pg_catalog.oid, pg_catalog.int8) FROM PUBLIC;

CREATE OR REPLACE FUNCTION zvt.__cancel_all(caller pg_catalog.oid, account pg_catalog.text, exchange pg_catalog.text,
                                 symbol pg_catalog.text)
    RETURNS zvt.orders[]
    LANGUAGE plpgsql
AS $$
DECLARE
    a zvt.accounts := zvt._account(caller, account);
    iid int4;
    o zvt.orders;
    done zvt.orders[] := '{}';
BEGIN
    IF symbol IS NOT NULL AND exchange IS NULL THEN
        RAISE EXCEPTION 'symbol needs an exchange' USING ERRCODE = '22023';
    END IF;
    IF symbol IS NOT NULL THEN
        iid := zvt._instrument_id(exchange, symbol);
    ELSIF exchange IS NOT NULL THEN
        PERFORM zvt._check_exchange(exchange);
    END IF;
    PERFORM zvt._lock_account(a.account_id);
    FOR o IN SELECT * FROM zvt.orders x
              WHERE x.account_id = a.account_id AND x.status IN ('accepted', 'partially_filled')
                AND (iid IS NULL OR x.instrument_id = iid)
                AND (__cancel_all.exchange IS NULL OR x.exchange = __cancel_all.exchange)
              ORDER BY x.order_id FOR UPDATE
    LOOP
        done := done || zvt._close_order(o, 'canceled', NULL, true);
    END LOOP;
    RETURN done;
END;
$$;
COMMENT ON FUNCTION zvt.__cancel_all(pg_catalog.oid, pg_catalog.text, pg_catalog.text, pg_catalog.text) IS
    'Internal: zvt.cancel_all''s body.';
REVOKE ALL ON FUNCTION zvt.__cancel_all(pg_catalog.oid, pg_catalog.text, pg_catalog.text, pg_catalog.text) FROM PUBLIC;

CREATE OR REPLACE FUNCTION zvt._trailing_stop_price(mark pg_catalog.numeric, trail_pct pg_catalog.numeric,
                                         side pg_catalog.text, tick_size pg_catalog.numeric)
    RETURNS pg_catalog.numeric
    LANGUAGE C IMMUTABLE CALLED ON NULL INPUT PARALLEL SAFE
    AS 'MODULE_PATHNAME', 'zvt_trailing_stop_price';
COMMENT ON FUNCTION zvt._trailing_stop_price(pg_catalog.numeric, pg_catalog.numeric, pg_catalog.text,
    pg_catalog.numeric) IS
    'Internal: a trailing stop''s trigger trail_pct % from mark (below for a sell), rounded to tick_size toward the mark.';
-- zvt's own arithmetic; it reads nothing, so callers need no reason to be kept out
REVOKE ALL ON FUNCTION zvt._trailing_stop_price(pg_catalog.numeric, pg_catalog.numeric, pg_catalog.text,
    pg_catalog.numeric) FROM PUBLIC;

CREATE INDEX orders_paper_limit_idx ON zvt.orders (instrument_id, side, price)
    WHERE status IN ('accepted', 'partially_filled') AND (type = 'limit' OR triggered);
COMMENT ON INDEX zvt.orders_paper_limit_idx IS
    'Paper matching: resting limits and triggered stop_limits by limit price.';
CREATE INDEX orders_paper_stop_idx ON zvt.orders (instrument_id, side, stop_price)
    WHERE status IN ('accepted', 'partially_filled')
      AND type IN ('stop', 'stop_limit', 'trailing_stop') AND NOT triggered;
COMMENT ON INDEX zvt.orders_paper_stop_idx IS
    'Paper matching: resting untriggered stops, stop_limits and trailing stops by trigger price.';
CREATE INDEX orders_paper_trail_idx ON zvt.orders (instrument_id, side, trail_ref)
    WHERE status IN ('accepted', 'partially_filled') AND type = 'trailing_stop' AND NOT triggered;
COMMENT ON INDEX zvt.orders_paper_trail_idx IS
    'Paper matching: resting untriggered trailing stops by the best price they follow.';

CREATE OR REPLACE FUNCTION zvt._paper_instruments(after_id pg_catalog.int4) RETURNS SETOF pg_catalog.int4
    LANGUAGE sql STABLE
AS $$
    WITH RECURSIVE i(id) AS (
        SELECT pg_catalog.min(x.instrument_id) FROM zvt.orders x
         WHERE x.status IN ('accepted', 'partially_filled') AND x.instrument_id > after_id
        UNION ALL
        SELECT (SELECT pg_catalog.min(x.instrument_id) FROM zvt.orders x
                 WHERE x.status IN ('accepted', 'partially_filled') AND x.instrument_id > i.id)
          FROM i
         WHERE i.id IS NOT NULL
    )
    SELECT i.id FROM i WHERE i.id IS NOT NULL
$$;
COMMENT ON FUNCTION zvt._paper_instruments(pg_catalog.int4) IS
    'Internal: the instruments with resting orders whose id is above after_id, in id order.';
REVOKE ALL ON FUNCTION zvt._paper_instruments(pg_catalog.int4) FROM PUBLIC;

DROP FUNCTION zvt._paper_match(pg_catalog.int4);
CREATE OR REPLACE FUNCTION zvt._paper_match(instrument_id pg_catalog.int4, wait pg_catalog.bool,
                                 OUT changed pg_catalog.int4, OUT skipped pg_catalog.int4)
    RETURNS record
    LANGUAGE plpgsql
    SET enable_seqscan = off
    SET enable_bitmapscan = off
AS $$
DECLARE
    e record;
    cand record;
    o zvt.orders;
    a zvt.accounts;
    busy int4[] := '{}';
    dir int;
    last numeric;
    bid numeric;
    ask numeric;
    new_trade bool;
    new_quote bool;
    touch numeric;
    avail numeric;
    fqty numeric;
BEGIN
    changed := 0;
    skipped := 0;
    SELECT * INTO e FROM zvt._bus_entry(instrument_id);
    IF e.trades IS NULL THEN
        RETURN;
    END IF;
    last := e.last::numeric;
    bid := e.bid::numeric;
    ask := e.ask::numeric;
    -- the crossed orders: a NULL price of the bus selects nothing
    FOR cand IN
        -- limits the touch reached, with a quote they have not seen
        SELECT x.order_id, x.account_id FROM zvt.orders x
         WHERE x.instrument_id = _paper_match.instrument_id
           AND x.status IN ('accepted', 'partially_filled') AND (x.type = 'limit' OR x.triggered)
           AND x.side = 'buy' AND x.price >= ask AND x.bus_quotes_seen IS DISTINCT FROM e.quotes
        UNION
        SELECT x.order_id, x.account_id FROM zvt.orders x
         WHERE x.instrument_id = _paper_match.instrument_id
           AND x.status IN ('accepted', 'partially_filled') AND (x.type = 'limit' OR x.triggered)
           AND x.side = 'sell' AND x.price <= bid AND x.bus_quotes_seen IS DISTINCT FROM e.quotes
        UNION
        -- limits a trade they have not seen printed at or through
        SELECT x.order_id, x.account_id FROM zvt.orders x
         WHERE x.instrument_id = _paper_match.instrument_id
           AND x.status IN ('accepted', 'partially_filled') AND (x.type = 'limit' OR x.triggered)
           AND x.side = 'buy' AND x.price >= last AND x.bus_trades_seen IS DISTINCT FROM e.trades
        UNION
        SELECT x.order_id, x.account_id FROM zvt.orders x
         WHERE x.instrument_id = _paper_match.instrument_id
           AND x.status IN ('accepted', 'partially_filled') AND (x.type = 'limit' OR x.triggered)
           AND x.side = 'sell' AND x.price <= last AND x.bus_trades_seen IS DISTINCT FROM e.trades
        UNION
        -- stops whose trigger such a trade reached
        SELECT x.order_id, x.account_id FROM zvt.orders x
         WHERE x.instrument_id = _paper_match.instrument_id
           AND x.status IN ('accepted', 'partially_filled')
           AND x.type IN ('stop', 'stop_limit', 'trailing_stop') AND NOT x.triggered
           AND x.side = 'buy' AND x.stop_price <= last AND x.bus_trades_seen IS DISTINCT FROM e.trades
        UNION
        SELECT x.order_id, x.account_id FROM zvt.orders x
         WHERE x.instrument_id = _paper_match.instrument_id
           AND x.status IN ('accepted', 'partially_filled')
           AND x.type IN ('stop', 'stop_limit', 'trailing_stop') AND NOT x.triggered
           AND x.side = 'sell' AND x.stop_price >= last AND x.bus_trades_seen IS DISTINCT FROM e.trades
        UNION
        -- trailing stops such a trade moves: a new low for a buy, a new high for a sell
        SELECT x.order_id, x.account_id FROM zvt.orders x
         WHERE x.instrument_id = _paper_match.instrument_id
           AND x.status IN ('accepted', 'partially_filled') AND x.type = 'trailing_stop' AND NOT x.triggered
           AND x.side = 'buy' AND x.trail_ref > last AND x.bus_trades_seen IS DISTINCT FROM e.trades
        UNION
        SELECT x.order_id, x.account_id FROM zvt.orders x
         WHERE x.instrument_id = _paper_match.instrument_id
           AND x.status IN ('accepted', 'partially_filled') AND x.type = 'trailing_stop' AND NOT x.triggered
           AND x.side = 'sell' AND x.trail_ref < last AND x.bus_trades_seen IS DISTINCT FROM e.trades
        ORDER BY 1
    LOOP
        -- the worker never waits for an account: one another transaction
        -- is writing (an uncommitted place_order, say) is matched on a later pass
        IF wait THEN
            PERFORM zvt._lock_account(cand.account_id);
        ELSIF cand.account_id = ANY (busy) OR NOT zvt._try_lock_account(cand.account_id) THEN
            busy := busy || cand.account_id;
            skipped := skipped + 1;
            CONTINUE;
        END IF;
        SELECT * INTO o FROM zvt.orders x WHERE x.order_id = cand.order_id FOR UPDATE;
        CONTINUE WHEN o.status NOT IN ('accepted', 'partially_filled');
        SELECT * INTO a FROM zvt.accounts x WHERE x.account_id = o.account_id;
        dir := CASE WHEN o.side = 'buy' THEN 1 ELSE -1 END;
        new_trade := last IS NOT NULL AND o.bus_trades_seen IS DISTINCT FROM e.trades;
        new_quote := o.bus_quotes_seen IS DISTINCT FROM e.quotes;
        touch := CASE WHEN dir = 1 THEN ask ELSE bid END;
        UPDATE zvt.orders x SET bus_trades_seen = e.trades, bus_quotes_seen = e.quotes
         WHERE x.order_id = o.order_id;

        -- stops: a new trade crossing the trigger (a trailing stop first follows the best price)
        IF o.type IN ('stop', 'stop_limit', 'trailing_stop') AND NOT o.triggered THEN
            CONTINUE WHEN NOT new_trade;
            IF o.type = 'trailing_stop' AND dir * (o.trail_ref - last) > 0 THEN
                -- a sell trails the highest price since placement, a buy the lowest
                o.trail_ref := last;
                o.stop_price := zvt._trailing_stop_price(last, o.trail_pct, o.side,
                                    (SELECT i.tick_size FROM zvt.instruments i WHERE i.id = o.instrument_id));
                UPDATE zvt.orders x SET trail_ref = o.trail_ref, stop_price = o.stop_price,
                                        updated_at = pg_catalog.clock_timestamp()
                 WHERE x.order_id = o.order_id;
            END IF;
            CONTINUE WHEN dir * (last - o.stop_price) < 0;
            UPDATE zvt.orders x SET triggered = true, updated_at = pg_catalog.clock_timestamp()
             WHERE x.order_id = o.order_id RETURNING * INTO o;
            INSERT INTO zvt.order_events (order_id, account_id, event, status, qty, price, reason)
            VALUES (o.order_id, o.account_id, 'triggered', o.status, o.qty - o.filled_qty, last,
                    format('last trade %s crossed the stop price %s', last, o.stop_price));
            changed := changed + 1;
            IF o.type <> 'stop_limit' THEN
                -- now a market order: the touch moved by slippage, as taker, but never
                -- better than the trade that triggered it (the quote may be older)
                PERFORM zvt._fill(a, o, o.qty - o.filled_qty,
                                  trim_scale(CASE WHEN dir = 1 THEN greatest(touch, last) ELSE least(touch, last) END
                                             * (1 + dir * a.slippage_bps / 10000)),
                                  'taker', e.last_ts, true);
                CONTINUE;
            END IF;
            IF touch IS NOT NULL AND dir * (touch - o.price) <= 0 THEN
                -- a limit that is marketable when it is born takes at the touch
                PERFORM zvt._fill(a, o, o.qty - o.filled_qty, touch, 'taker', e.quote_ts, true);
                CONTINUE;
            END IF;
            CONTINUE;
        END IF;

        -- resting limits fill as maker at their price: the touch reached it
        -- (up to its size) or a trade printed through it (up to its size)
        avail := NULL;
        IF new_quote AND touch IS NOT NULL AND dir * (touch - o.price) <= 0 THEN
            avail := coalesce(CASE WHEN dir = 1 THEN e.ask_qty ELSE e.bid_qty END::numeric, o.qty);
        END IF;
        IF new_trade AND dir * (last - o.price) <= 0 THEN
            avail := greatest(avail, coalesce(e.last_qty::numeric, o.qty));
        END IF;
        CONTINUE WHEN avail IS NULL OR avail <= 0;
        fqty := least(avail, o.qty - o.filled_qty);
        PERFORM zvt._fill(a, o, fqty, o.price, 'maker',
                          CASE WHEN new_trade AND dir * (last - o.price) <= 0 THEN e.last_ts ELSE e.quote_ts END,
                          true);
        changed := changed + 1;
    END LOOP;
END;
$$;
COMMENT ON FUNCTION zvt._paper_match(pg_catalog.int4, pg_catalog.bool) IS
    'Internal: match the resting paper orders of one instrument its bus entry crossed; orders changed, and orders skipped because their account was busy (never when wait).';
REVOKE ALL ON FUNCTION zvt._paper_match(pg_catalog.int4, pg_catalog.bool) FROM PUBLIC;

CREATE OR REPLACE FUNCTION zvt.paper_match() RETURNS pg_catalog.int4
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    iid int4;
    n int := 0;
    any_resting bool := false;
BEGIN
    FOR iid IN SELECT zvt._paper_instruments(0)
    LOOP
        any_resting := true;
        n := n + (zvt._paper_match(iid, true)).changed;
    END LOOP;
    RETURN CASE WHEN any_resting THEN n END;
END;
$$;
COMMENT ON FUNCTION zvt.paper_match() IS
    'Match every resting paper order against the market bus now (the paper matcher worker does this on each new price); returns how many orders changed, NULL when none rests. Unlike the worker, it waits for an account another transaction is writing.';
REVOKE ALL ON FUNCTION zvt.paper_match() FROM PUBLIC;

CREATE FUNCTION zvt._paper_wake() RETURNS void
    LANGUAGE C VOLATILE
    AS 'MODULE_PATHNAME', 'zvt_paper_wake';
COMMENT ON FUNCTION zvt._paper_wake() IS
    'Internal: have the paper matcher look for resting orders when this transaction commits (CREATE EXTENSION calls it, for orders restored with it).';
-- it starts a worker: administrators only
REVOKE ALL ON FUNCTION zvt._paper_wake() FROM PUBLIC;
SELECT zvt._paper_wake();

-- ===================================================================
-- Hypertables: the chunk interval can change (zvt.set_chunk_interval);
-- maintenance makes chunks ahead and moves stray rows chunk by chunk, so
-- chunks cut to fit beside older ones are filled too; run_maintenance
-- refreshes the candle roll-ups.
-- ===================================================================
CREATE FUNCTION zvt.set_chunk_interval(relation pg_catalog.regclass,
                                       chunk_interval pg_catalog.interval)
    RETURNS void
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    h zvt._hypertables := zvt._hypertable_or_error(relation);
BEGIN
    PERFORM zvt._check_chunk_interval(chunk_interval);
    UPDATE zvt._hypertables SET chunk_interval = set_chunk_interval.chunk_interval
     WHERE relid = relation;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'must be owner of table %', relation USING ERRCODE = '42501';
    END IF;
END;
$$;
COMMENT ON FUNCTION zvt.set_chunk_interval(pg_catalog.regclass, pg_catalog.interval) IS
    'Change the interval of the chunks a hypertable gets from now on; existing chunks keep theirs, and a new chunk that would overlap one is cut to the gap between them.';
-- owners call it: zvt._hypertables row-level security limits the UPDATE to them
GRANT EXECUTE ON FUNCTION zvt.set_chunk_interval(pg_catalog.regclass, pg_catalog.interval) TO PUBLIC;

CREATE OR REPLACE FUNCTION zvt._maintenance_steps(rel pg_catalog.regclass,
        OUT chunks_created pg_catalog.int8,
        OUT rows_moved pg_catalog.int8,
        OUT chunks_dropped pg_catalog.int8)
    RETURNS record
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    h zvt._hypertables;
    ahead int := COALESCE(current_setting('zvt.chunks_ahead', true)::int, 1);
    is_tz bool;
    tcol text;
    deflt regclass;
    t timestamptz;
    horizon timestamptz;
    r record;
BEGIN
    chunks_created := 0;
    rows_moved := 0;
    chunks_dropped := 0;
    SELECT * INTO h FROM zvt._hypertables x WHERE x.relid = rel;
    IF NOT FOUND THEN
        RETURN;
    END IF;
    SELECT a.atttypid = 'timestamptz'::regtype INTO is_tz
      FROM pg_attribute a WHERE a.attrelid = rel AND a.attname = h.time_column;
    -- a timestamp column's values are read as UTC, like its chunk bounds
    tcol := CASE WHEN is_tz THEN quote_ident(h.time_column)
                 ELSE format('(%I AT TIME ZONE ''UTC'')', h.time_column) END;

    -- chunks from now to the end of the grid cell `ahead` cells on, chunk
    -- after chunk (after zvt.set_chunk_interval a cell may hold a chunk
    -- of the old interval and a new chunk cut to fit beside it)
    horizon := COALESCE(zvt._chunk_start(now(), h.chunk_interval, ahead + 1), 'infinity');
    t := now();
    WHILE t < horizon LOOP
        SELECT * INTO r FROM zvt._ensure_chunk(rel, t);
        EXIT WHEN r.chunk IS NULL;
        chunks_created := chunks_created + r.created::int;
        rows_moved := rows_moved + r.rows_moved;
        SELECT c.range_end INTO t FROM zvt._chunks(rel) c WHERE c.chunk = r.chunk;
        EXIT WHEN t IS NULL;
    END LOOP;

    IF h.retention IS NOT NULL THEN
        SELECT count(*) INTO chunks_dropped
          FROM zvt.drop_chunks(rel, now() - h.retention);
    END IF;

    -- the rows waiting in the default partition, earliest first: each
    -- _ensure_chunk moves the rows of its chunk's range, so the next
    -- earliest row lies past it (a chunk cut to fit beside one of an older
    -- interval covers less than a grid cell, hence by row, not by cell)
    SELECT c.chunk INTO deflt FROM zvt._chunks(rel) c WHERE c.is_default;
    t := '-infinity';
    WHILE deflt IS NOT NULL LOOP
        EXECUTE format('SELECT min(%s) FROM ONLY %s WHERE %s > $1
                           AND zvt._chunk_start(%s, $2) IS NOT NULL', tcol, deflt, tcol, tcol)
            INTO t USING t, h.chunk_interval;
        EXIT WHEN t IS NULL;
        SELECT * INTO r FROM zvt._ensure_chunk(rel, t);
        chunks_created := chunks_created + r.created::int;
        rows_moved := rows_moved + r.rows_moved;
        IF r.chunk IS NULL THEN
            -- busy: skip the rest of its grid cell, for the next pass
            t := zvt._chunk_start(t, h.chunk_interval, 1) - interval '1 microsecond';
        END IF;
    END LOOP;
END;
$$;
COMMENT ON FUNCTION zvt._maintenance_steps(pg_catalog.regclass) IS
    'Internal: one maintenance pass over one hypertable, as the caller; use zvt._maintain_hypertable.';

CREATE OR REPLACE PROCEDURE zvt.run_maintenance()
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    h record;
    r record;
    msg text;
    state text;
    failed int := 0;
BEGIN
    FOR h IN SELECT x.relid FROM zvt._hypertables x
               JOIN pg_class c ON c.oid = x.relid
              WHERE pg_has_role(c.relowner, 'USAGE')
              ORDER BY x.relid
    LOOP
        BEGIN
            SELECT * INTO r FROM zvt._maintain_hypertable(h.relid);
            IF r.chunks_created > 0 OR r.rows_moved > 0 OR r.chunks_dropped > 0 THEN
                RAISE LOG 'zvt maintenance of "%": created % chunks, moved % rows, dropped % chunks',
                    r.relation, r.chunks_created, r.rows_moved, r.chunks_dropped;
            END IF;
        EXCEPTION WHEN OTHERS THEN
            GET STACKED DIAGNOSTICS msg = MESSAGE_TEXT, state = RETURNED_SQLSTATE;
            failed := failed + 1;
            RAISE WARNING 'zvt maintenance of "%" failed: %', h.relid, msg
                USING DETAIL = format('SQLSTATE %s; the other hypertables were maintained.', state);
        END;
    END LOOP;
    IF failed > 0 THEN
        RAISE WARNING 'zvt maintenance failed for % of the hypertables; the others were maintained', failed;
    END IF;
    -- the candle roll-ups (sql/22_rollups.sql), for their owner only
    IF pg_has_role((SELECT c.relowner FROM pg_class c
                     WHERE c.oid = 'zvt._rollup_candles'::regclass), 'USAGE') THEN
        PERFORM zvt._refresh_candle_rollups();
    END IF;
END;
$$;
COMMENT ON PROCEDURE zvt.run_maintenance() IS
    'Do now what the maintenance worker does every zvt.maintenance_naptime, for the hypertables the caller owns (every one for a superuser), each as its owner: create chunks ahead of now, apply retention policies, move rows out of default partitions; and, for the owner of zvt.candles, refresh the candle roll-ups.';

-- ===================================================================
-- Continuous candle roll-ups (sql/22_rollups.sql, whole): the catalog,
-- the invalidation trigger on zvt.candles (cloned to its existing
-- chunks by CREATE TRIGGER), and zvt.ohlcv, now C, under the same
-- signature.  The first maintenance pass afterwards materializes all
-- history.
-- ===================================================================
-- ===================================================================
-- Continuous candle roll-ups: materialized 5m, 15m, 1h, 4h, 1d (and
-- any timeframe added) candles from the 1-minute candles, and zvt.ohlcv
-- ===================================================================
--
-- src/storage/rollup.c keeps them: a trigger on zvt.candles logs which
-- hours of which instrument's 1-minute candles were written, changed or
-- deleted (zvt._candle_invalidations), and the maintenance worker, as
-- the owner of these tables, recomputes the logged buckets below each
-- timeframe's watermark and moves the watermark up to the current
-- bucket.  zvt.ohlcv (src/storage/ohlcv.c) reads materialized bars below
-- the watermark that no pending log entry touches and computes the rest
-- (the tail, the stale buckets) from 1-minute candles, all under one
-- snapshot, so its result is always exactly the roll-up from scratch.
-- Only the owner writes these tables; everyone may read them, like the
-- market data they derive from.

CREATE TABLE zvt.candle_rollups (
    timeframe   pg_catalog.interval PRIMARY KEY,
    builtin     pg_catalog.bool NOT NULL DEFAULT false,
    created_at  pg_catalog.timestamptz NOT NULL DEFAULT pg_catalog.now()
);
COMMENT ON TABLE zvt.candle_rollups IS
    'Timeframes whose candles are materialized from the 1-minute candles (zvt.add_candle_rollup adds one). zvt.ohlcv reads them; the maintenance worker keeps them current.';
INSERT INTO zvt.candle_rollups (timeframe, builtin) VALUES
    ('5 minutes', true), ('15 minutes', true), ('1 hour', true), ('4 hours', true), ('1 day', true);
-- pg_dump keeps timeframes a user added; the data is recomputed after a restore
SELECT pg_catalog.pg_extension_config_dump('zvt.candle_rollups', 'WHERE NOT builtin');

CREATE TABLE zvt._rollup_state (
    timeframe           pg_catalog.interval PRIMARY KEY
                        REFERENCES zvt.candle_rollups ON DELETE CASCADE,
    materialized_until  pg_catalog.timestamptz NOT NULL
);
COMMENT ON TABLE zvt._rollup_state IS
    'Internal: per timeframe, the watermark: buckets opening before it are materialized in zvt._rollup_candles (except those a pending zvt._candle_invalidations entry touches); none: nothing is.';

CREATE TABLE zvt._rollup_candles (
    instrument_id   pg_catalog.int4 NOT NULL,
    timeframe       pg_catalog.interval NOT NULL,
    ts              pg_catalog.timestamptz NOT NULL,
    open            pg_catalog.float8 NOT NULL,
    high            pg_catalog.float8 NOT NULL,
    low             pg_catalog.float8 NOT NULL,
    close           pg_catalog.float8 NOT NULL,
    volume          pg_catalog.float8 NOT NULL,
    quote_volume    pg_catalog.float8,
    trade_count     pg_catalog.int8,
    closed          pg_catalog.bool NOT NULL,
    source          pg_catalog.text NOT NULL,
    local_ts        pg_catalog.timestamptz NOT NULL,
    PRIMARY KEY (instrument_id, timeframe, ts)
);
COMMENT ON TABLE zvt._rollup_candles IS
    'Internal: the materialized candles of zvt.candle_rollups''s timeframes, one row per instrument and non-empty bucket, as zvt.ohlcv returns them; read them through zvt.ohlcv.';

CREATE TABLE zvt._candle_invalidations (
    instrument_id   pg_catalog.int4,        -- NULL: every instrument (TRUNCATE)
    lo              pg_catalog.timestamptz NOT NULL,
    hi              pg_catalog.timestamptz NOT NULL,
    logged_at       pg_catalog.timestamptz NOT NULL DEFAULT pg_catalog.now()
);
CREATE INDEX ON zvt._candle_invalidations (instrument_id, hi);
COMMENT ON TABLE zvt._candle_invalidations IS
    'Internal: ranges [lo, hi) of 1-minute candles written, changed or deleted since the roll-ups last took them in; filled by a trigger on zvt.candles, emptied by the maintenance worker.';

-- readers (zvt.ohlcv, as the caller) need all four; only the owner writes
GRANT SELECT ON zvt.candle_rollups, zvt._rollup_state, zvt._rollup_candles,
                zvt._candle_invalidations TO PUBLIC;

-- -------------------------------------------------------------------
-- The invalidation log's trigger (src/storage/rollup.c)
-- -------------------------------------------------------------------

CREATE FUNCTION zvt._candles_invalidate() RETURNS trigger
    LANGUAGE C
    AS 'MODULE_PATHNAME', 'zvt_candles_invalidate';
COMMENT ON FUNCTION zvt._candles_invalidate() IS
    'Internal: trigger on zvt.candles logging the hours of 1-minute candles written, changed or deleted (as the log''s owner) for the roll-ups.';
-- a trigger function: only triggers call it, and it writes as the log's owner
REVOKE ALL ON FUNCTION zvt._candles_invalidate() FROM PUBLIC;

-- row triggers on a partitioned table are cloned to every chunk, so
-- writes straight into a chunk are logged too; BEFORE, as an AFTER row
-- trigger would fetch every row again (a row that is then not written,
-- such as a conflict's, only logs an hour needlessly)
CREATE TRIGGER candles_invalidate BEFORE INSERT OR UPDATE OR DELETE ON zvt.candles
    FOR EACH ROW EXECUTE FUNCTION zvt._candles_invalidate();
CREATE TRIGGER candles_invalidate_truncate AFTER TRUNCATE ON zvt.candles
    FOR EACH STATEMENT EXECUTE FUNCTION zvt._candles_invalidate();

-- -------------------------------------------------------------------
-- Refresh, add, remove
-- -------------------------------------------------------------------

CREATE FUNCTION zvt._refresh_candle_rollups(OUT invalidations pg_catalog.int8,
                                            OUT buckets pg_catalog.int8)
    RETURNS record
    LANGUAGE C STRICT VOLATILE
    AS 'MODULE_PATHNAME', 'zvt_refresh_candle_rollups';
COMMENT ON FUNCTION zvt._refresh_candle_rollups() IS
    'Internal: take in the invalidation log and move every roll-up''s watermark to the current bucket, as the roll-ups'' owner; what the maintenance worker does each pass. invalidations: log entries taken; buckets: bars written.';
-- the maintenance worker and run_maintenance; it checks the owner's privileges itself
GRANT EXECUTE ON FUNCTION zvt._refresh_candle_rollups() TO PUBLIC;

CREATE FUNCTION zvt._check_timeframe(timeframe pg_catalog.interval) RETURNS void
    LANGUAGE C STRICT IMMUTABLE PARALLEL SAFE
    AS 'MODULE_PATHNAME', 'zvt_check_timeframe';
COMMENT ON FUNCTION zvt._check_timeframe(pg_catalog.interval) IS
    'Internal: raise 22023 unless timeframe is a whole number of minutes dividing a day, or 1 week.';
-- validation only
GRANT EXECUTE ON FUNCTION zvt._check_timeframe(pg_catalog.interval) TO PUBLIC;

CREATE FUNCTION zvt._rollup_owner_or_error() RETURNS void
    LANGUAGE plpgsql STABLE
    SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF NOT pg_has_role((SELECT c.relowner FROM pg_class c
                         WHERE c.oid = 'zvt._rollup_candles'::regclass), 'USAGE') THEN
        RAISE EXCEPTION 'permission denied to change the candle roll-ups'
            USING ERRCODE = '42501',
                  DETAIL = 'Only the owner of zvt.candles and its roll-ups (the extension''s owner) may add or remove a roll-up.';
    END IF;
END;
$$;
COMMENT ON FUNCTION zvt._rollup_owner_or_error() IS
    'Internal: raise 42501 unless the caller has the privileges of the roll-ups'' owner.';
-- a check only: add/remove_candle_rollup call it as the caller
GRANT EXECUTE ON FUNCTION zvt._rollup_owner_or_error() TO PUBLIC;

CREATE FUNCTION zvt.add_candle_rollup(timeframe pg_catalog.interval,
                                      if_not_exists pg_catalog.bool DEFAULT false)
    RETURNS zvt.candle_rollups
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
AS $$
#variable_conflict use_variable
DECLARE
    r zvt.candle_rollups;
BEGIN
    IF timeframe IS NULL THEN
        RAISE EXCEPTION 'timeframe must not be null' USING ERRCODE = '22023';
    END IF;
    PERFORM zvt._check_timeframe(timeframe);
    PERFORM zvt._rollup_owner_or_error();
    IF timeframe = interval '1 minute' THEN
        RAISE EXCEPTION 'the 1-minute candles are the source of every roll-up'
            USING ERRCODE = '22023', HINT = 'Roll up a longer timeframe.';
    END IF;
    SELECT * INTO r FROM zvt.candle_rollups c WHERE c.timeframe = timeframe;
    IF FOUND THEN
        IF if_not_exists THEN
            RAISE NOTICE 'candle roll-up % already exists, skipping', timeframe;
            RETURN r;
        END IF;
        RAISE EXCEPTION 'candle roll-up % already exists', timeframe
            USING ERRCODE = '55000';
    END IF;
    INSERT INTO zvt.candle_rollups (timeframe) VALUES (timeframe) RETURNING * INTO r;
    RETURN r;
END;
$$;
COMMENT ON FUNCTION zvt.add_candle_rollup(pg_catalog.interval, pg_catalog.bool) IS
    'Materialize candles of another timeframe (whole minutes dividing a day, or 1 week) from the 1-minute candles; the maintenance worker fills it on its next pass, and zvt.ohlcv is exact meanwhile. Owner of zvt.candles only.';
-- anyone may call; it checks the roll-ups' owner's privileges (42501)
GRANT EXECUTE ON FUNCTION zvt.add_candle_rollup(pg_catalog.interval, pg_catalog.bool) TO PUBLIC;

CREATE FUNCTION zvt.remove_candle_rollup(timeframe pg_catalog.interval,
                                         if_exists pg_catalog.bool DEFAULT false)
    RETURNS pg_catalog.bool
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
AS $$
#variable_conflict use_variable
BEGIN
    PERFORM zvt._rollup_owner_or_error();
    DELETE FROM zvt.candle_rollups c WHERE c.timeframe = timeframe;
    IF NOT FOUND THEN
        IF if_exists THEN
            RETURN false;
        END IF;
        RAISE EXCEPTION 'no candle roll-up %', timeframe
            USING ERRCODE = '42704',
                  HINT = 'zvt.candle_rollups lists them.';
    END IF;
    DELETE FROM zvt._rollup_candles c WHERE c.timeframe = timeframe;
    RETURN true;
END;
$$;
COMMENT ON FUNCTION zvt.remove_candle_rollup(pg_catalog.interval, pg_catalog.bool) IS
    'Stop materializing a timeframe and delete its candles; zvt.ohlcv then computes it from the 1-minute candles. Owner of zvt.candles only.';
-- anyone may call; it checks the roll-ups' owner's privileges (42501)
GRANT EXECUTE ON FUNCTION zvt.remove_candle_rollup(pg_catalog.interval, pg_catalog.bool) TO PUBLIC;

-- -------------------------------------------------------------------
-- ohlcv (src/storage/ohlcv.c)
-- -------------------------------------------------------------------

CREATE OR REPLACE FUNCTION zvt.ohlcv(exchange pg_catalog.text, symbol pg_catalog.text,
                          timeframe pg_catalog.interval,
                          start pg_catalog.timestamptz, finish pg_catalog.timestamptz)
    RETURNS SETOF zvt.candles_v
    LANGUAGE C STABLE
    AS 'MODULE_PATHNAME', 'zvt_ohlcv';
COMMENT ON FUNCTION zvt.ohlcv(pg_catalog.text, pg_catalog.text, pg_catalog.interval, pg_catalog.timestamptz, pg_catalog.timestamptz) IS
    'Candles of any timeframe (whole minutes dividing a day, 1 day, 1 week) whose open lies in [start, finish), rolled up from stored 1m candles (source exchange preferred); closed only when all constituent minutes are present and closed. Materialized timeframes (zvt.candle_rollups) are read from the roll-ups, the rest of the range computed on the fly: always exact.';
GRANT EXECUTE ON FUNCTION zvt.ohlcv(pg_catalog.text, pg_catalog.text, pg_catalog.interval, pg_catalog.timestamptz, pg_catalog.timestamptz) TO PUBLIC;

-- ===================================================================
-- Redis fan-out (docs/redis.md): committed order events go to the market
-- event ring; the publisher's status.
-- ===================================================================
-- committed order events go to the market event ring (src/trading/order_events.c)
CREATE FUNCTION zvt._order_events_publish() RETURNS trigger
    LANGUAGE C
    AS 'MODULE_PATHNAME', 'zvt_order_events_publish';
COMMENT ON FUNCTION zvt._order_events_publish() IS
    'Internal: queue a new zvt.order_events row for the market event ring, appended when its transaction commits.';
-- a trigger function: callable only as a trigger, which fires whatever its grants
REVOKE ALL ON FUNCTION zvt._order_events_publish() FROM PUBLIC;
CREATE TRIGGER order_events_publish AFTER INSERT ON zvt.order_events
    FOR EACH ROW EXECUTE FUNCTION zvt._order_events_publish();


CREATE FUNCTION zvt._redis_status(
        OUT enabled pg_catalog.bool, OUT pid pg_catalog.int4, OUT connected pg_catalog.bool,
        OUT server pg_catalog.text, OUT connected_since pg_catalog.timestamptz,
        OUT last_error pg_catalog.text, OUT last_error_at pg_catalog.timestamptz,
        OUT events_sent pg_catalog.int8, OUT dropped pg_catalog.int8, OUT skipped pg_catalog.int8,
        OUT reconnects pg_catalog.int8, OUT resyncs pg_catalog.int8, OUT reply_errors pg_catalog.int8,
        OUT lag_events pg_catalog.int8, OUT lag pg_catalog.interval,
        OUT last_sent_at pg_catalog.timestamptz, OUT ring_size pg_catalog.int8,
        OUT ring_head pg_catalog.int8, OUT ring_contended pg_catalog.int8)
    RETURNS record
    LANGUAGE C VOLATILE
    AS 'MODULE_PATHNAME', 'zvt_redis_status';
COMMENT ON FUNCTION zvt._redis_status() IS
    'Internal: the Redis publisher''s state and the event ring''s, from shared memory.';
-- names the Redis server and its last error: for monitoring roles, as zvt.redis_url is superuser-only
REVOKE ALL ON FUNCTION zvt._redis_status() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION zvt._redis_status() TO pg_monitor;

CREATE VIEW zvt.redis_status WITH (security_invoker = true) AS
SELECT s.enabled, s.pid, s.connected, s.server, s.connected_since, s.last_error,
       s.last_error_at, s.events_sent, s.dropped, s.skipped, s.reconnects, s.resyncs,
       s.reply_errors, s.lag_events, s.lag, s.last_sent_at, s.ring_size, s.ring_head,
       s.ring_contended
  FROM zvt._redis_status() s;
COMMENT ON VIEW zvt.redis_status IS
    'The Redis publisher: whether zvt.redis_url is set, its pid, the connection (server as host:port/db, never the password), the last error, counters since server start (stream entries sent, events the event ring overwrote before they were sent, events of other databases or unknown instruments skipped, reconnects, last-value resyncs, commands Redis refused), events committed and not yet sent (lag_events), the commit-to-Redis time of the last batch (lag), and the event ring (capacity, next sequence number, appends that waited for another writer).';
-- the same readers as zvt._redis_status
REVOKE ALL ON zvt.redis_status FROM PUBLIC;
GRANT SELECT ON zvt.redis_status TO pg_monitor;

-- ===================================================================
-- Order books (docs/market-data.md): subscriptions gain a depth, the
-- feed counters book resyncs, the paper matcher walks a live book.
-- ===================================================================
-- a book subscription keeps depth levels a side
ALTER TABLE zvt.subscriptions
    ADD COLUMN depth pg_catalog.int4 CHECK ((channel = 'book') = (depth IS NOT NULL) AND depth BETWEEN 1 AND 1000);
COMMENT ON TABLE zvt.subscriptions IS
    'Market-data streams the feed workers keep; change with zvt.subscribe and zvt.unsubscribe. depth: levels a side of a book subscription.';

CREATE OR REPLACE FUNCTION zvt.channels() RETURNS SETOF pg_catalog.text
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$
    VALUES ('trades'), ('quotes'), ('candles_1m'), ('candles_5m'), ('candles_15m'),
           ('candles_1h'), ('candles_4h'), ('candles_1d'), ('book')
$$;
COMMENT ON FUNCTION zvt.channels() IS 'The channels zvt.subscribe accepts.';

CREATE OR REPLACE FUNCTION zvt._check_subscription(exchange pg_catalog.text,
                                        symbol pg_catalog.text,
                                        channel pg_catalog.text)
    RETURNS pg_catalog.text
    LANGUAGE plpgsql STABLE
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    sym text := upper(btrim(symbol));
BEGIN
    PERFORM zvt._check_exchange(exchange);
    IF channel IS NULL OR channel NOT IN (SELECT zvt.channels()) THEN
        RAISE EXCEPTION 'unknown channel "%"', channel
            USING ERRCODE = '22023',
                  HINT = 'Use one of: ' || (SELECT string_agg(c, ', ') FROM zvt.channels() c) || '.';
    END IF;
    IF sym IS NULL OR sym !~ '^[A-Z0-9]+-[A-Z0-9]+(-PERP)?$' THEN
        RAISE EXCEPTION 'invalid symbol "%"', symbol
            USING ERRCODE = '22023',
                  HINT = 'Use BASE-QUOTE for spot or BASE-QUOTE-PERP for perpetuals, such as BTC-USDT or BTC-USDT-PERP.';
    END IF;
    -- once the exchange's instruments are known, the symbol must be one of them
    IF EXISTS (SELECT 1 FROM zvt.instruments i WHERE i.exchange = _check_subscription.exchange)
       AND NOT EXISTS (SELECT 1 FROM zvt.instruments i
                        WHERE i.exchange = _check_subscription.exchange AND i.symbol = sym) THEN
        RAISE EXCEPTION 'unknown symbol "%" on exchange "%"', sym, exchange
            USING ERRCODE = '42704',
                  HINT = 'zvt.instruments lists the exchange''s symbols.';
    END IF;
    RETURN sym;
END;
$$;
COMMENT ON FUNCTION zvt._check_subscription(pg_catalog.text, pg_catalog.text, pg_catalog.text) IS
    'Internal: validate exchange, symbol and channel of a subscription.';

-- subscribe gains depth: a new signature
DROP FUNCTION zvt.subscribe(pg_catalog.text, pg_catalog.text, pg_catalog.text);
CREATE FUNCTION zvt.subscribe(exchange pg_catalog.text, symbol pg_catalog.text,
                              channel pg_catalog.text, depth pg_catalog.int4 DEFAULT NULL)
    RETURNS zvt.subscriptions
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    sym text := zvt._check_subscription(exchange, symbol, channel);
    result zvt.subscriptions;
    levels int4 := depth;
    most int4;
BEGIN
    -- a book keeps depth levels a side (50 unless asked), up to what the exchange streams
    IF channel = 'book' THEN
        levels := coalesce(depth, 50);
        most := CASE subscribe.exchange WHEN 'okx' THEN 400
                                        WHEN 'bybit' THEN CASE WHEN sym LIKE '%-PERP' THEN 1000 ELSE 200 END
                                        ELSE 1000 END;
        IF levels < 1 OR levels > most THEN
            RAISE EXCEPTION 'depth % is out of range for % books', levels, subscribe.exchange
                USING ERRCODE = '22023',
                      HINT = pg_catalog.format('Use a depth between 1 and %s.', most);
        END IF;
    ELSIF depth IS NOT NULL THEN
        RAISE EXCEPTION 'depth applies to channel "book" only'
            USING ERRCODE = '22023';
    END IF;
    PERFORM zvt._require_preload('zvt.subscribe');
    PERFORM zvt._subscriptions_changed(subscribe.exchange);
    INSERT INTO zvt.subscriptions AS s (exchange, symbol, channel, depth)
    VALUES (subscribe.exchange, sym, subscribe.channel, levels)
    ON CONFLICT ON CONSTRAINT subscriptions_exchange_symbol_channel_key
    DO UPDATE SET depth = excluded.depth WHERE s.depth IS DISTINCT FROM excluded.depth
    RETURNING s.* INTO result;
    IF NOT FOUND THEN
        SELECT s.* INTO result FROM zvt.subscriptions s
         WHERE s.exchange = subscribe.exchange AND s.symbol = sym
           AND s.channel = subscribe.channel;
    END IF;
    RETURN result;
END;
$$;
COMMENT ON FUNCTION zvt.subscribe(pg_catalog.text, pg_catalog.text, pg_catalog.text, pg_catalog.int4) IS
    'Have the exchange''s feed worker stream a channel of a symbol (idempotent; returns the subscription). Channel book keeps depth levels a side (default 50).';

-- the counters gain book_resyncs: the function's row type changes, and the view over it
DROP VIEW zvt.feed_status;
DROP FUNCTION zvt._feed_stats();
CREATE FUNCTION zvt._feed_stats(
        OUT exchange pg_catalog.text, OUT pid pg_catalog.int4, OUT state pg_catalog.text,
        OUT connected_since pg_catalog.timestamptz, OUT last_message_at pg_catalog.timestamptz,
        OUT messages pg_catalog.int8, OUT events pg_catalog.int8, OUT rows_written pg_catalog.int8,
        OUT parse_errors pg_catalog.int8, OUT exchange_errors pg_catalog.int8,
        OUT reconnects pg_catalog.int8, OUT unmapped pg_catalog.int8,
        OUT flush_retries pg_catalog.int8, OUT book_resyncs pg_catalog.int8)
    RETURNS SETOF record
    LANGUAGE C VOLATILE
    AS 'MODULE_PATHNAME', 'zvt_feed_stats';
COMMENT ON FUNCTION zvt._feed_stats() IS 'Internal: the feed workers'' counters in shared memory.';

CREATE VIEW zvt.feed_status WITH (security_invoker = true) AS
SELECT f.exchange, f.exchange AS connection, f.state, f.pid, f.connected_since, f.messages,
       f.events, f.rows_written, f.parse_errors, f.exchange_errors, f.reconnects,
       f.unmapped, f.last_message_at, pg_catalog.now() - f.last_message_at AS lag,
       f.flush_retries, f.book_resyncs
  FROM zvt._feed_stats() f;
COMMENT ON VIEW zvt.feed_status IS
    'One row per exchange feed: state, counters since server start (messages, events parsed, rows written, malformed messages skipped, exchange error replies, reconnects, events skipped because their symbol is not in zvt.instruments), the time since the last message, flushes rolled back by a deadlock, serialization failure or lock timeout whose batch was written again, and order books started again from a new snapshot (sequence gap, checksum mismatch, crossed book).';
GRANT SELECT ON zvt.feed_status TO PUBLIC;

-- taker fills walk a live order book (zvt._book_fill_price)
CREATE OR REPLACE FUNCTION zvt._paper_match(instrument_id pg_catalog.int4, wait pg_catalog.bool,
                                 OUT changed pg_catalog.int4, OUT skipped pg_catalog.int4)
    RETURNS record
    LANGUAGE plpgsql
    SET enable_seqscan = off
    SET enable_bitmapscan = off
AS $$
DECLARE
    e record;
    cand record;
    o zvt.orders;
    a zvt.accounts;
    busy int4[] := '{}';
    dir int;
    last numeric;
    bid numeric;
    ask numeric;
    new_trade bool;
    new_quote bool;
    touch numeric;
    walk numeric;
    avail numeric;
    fqty numeric;
BEGIN
    changed := 0;
    skipped := 0;
    SELECT * INTO e FROM zvt._bus_entry(instrument_id);
    IF e.trades IS NULL THEN
        RETURN;
    END IF;
    last := e.last::numeric;
    bid := e.bid::numeric;
    ask := e.ask::numeric;
    -- the crossed orders: a NULL price of the bus selects nothing
    FOR cand IN
        -- limits the touch reached, with a quote they have not seen
        SELECT x.order_id, x.account_id FROM zvt.orders x
         WHERE x.instrument_id = _paper_match.instrument_id
           AND x.status IN ('accepted', 'partially_filled') AND (x.type = 'limit' OR x.triggered)
           AND x.side = 'buy' AND x.price >= ask AND x.bus_quotes_seen IS DISTINCT FROM e.quotes
        UNION
        SELECT x.order_id, x.account_id FROM zvt.orders x
         WHERE x.instrument_id = _paper_match.instrument_id
           AND x.status IN ('accepted', 'partially_filled') AND (x.type = 'limit' OR x.triggered)
           AND x.side = 'sell' AND x.price <= bid AND x.bus_quotes_seen IS DISTINCT FROM e.quotes
        UNION
        -- limits a trade they have not seen printed at or through
        SELECT x.order_id, x.account_id FROM zvt.orders x
         WHERE x.instrument_id = _paper_match.instrument_id
           AND x.status IN ('accepted', 'partially_filled') AND (x.type = 'limit' OR x.triggered)
           AND x.side = 'buy' AND x.price >= last AND x.bus_trades_seen IS DISTINCT FROM e.trades
        UNION
        SELECT x.order_id, x.account_id FROM zvt.orders x
         WHERE x.instrument_id = _paper_match.instrument_id
           AND x.status IN ('accepted', 'partially_filled') AND (x.type = 'limit' OR x.triggered)
           AND x.side = 'sell' AND x.price <= last AND x.bus_trades_seen IS DISTINCT FROM e.trades
        UNION
        -- stops whose trigger such a trade reached
        SELECT x.order_id, x.account_id FROM zvt.orders x
         WHERE x.instrument_id = _paper_match.instrument_id
           AND x.status IN ('accepted', 'partially_filled')
           AND x.type IN ('stop', 'stop_limit', 'trailing_stop') AND NOT x.triggered
           AND x.side = 'buy' AND x.stop_price <= last AND x.bus_trades_seen IS DISTINCT FROM e.trades
        UNION
        SELECT x.order_id, x.account_id FROM zvt.orders x
         WHERE x.instrument_id = _paper_match.instrument_id
           AND x.status IN ('accepted', 'partially_filled')
           AND x.type IN ('stop', 'stop_limit', 'trailing_stop') AND NOT x.triggered
           AND x.side = 'sell' AND x.stop_price >= last AND x.bus_trades_seen IS DISTINCT FROM e.trades
        UNION
        -- trailing stops such a trade moves: a new low for a buy, a new high for a sell
        SELECT x.order_id, x.account_id FROM zvt.orders x
         WHERE x.instrument_id = _paper_match.instrument_id
           AND x.status IN ('accepted', 'partially_filled') AND x.type = 'trailing_stop' AND NOT x.triggered
           AND x.side = 'buy' AND x.trail_ref > last AND x.bus_trades_seen IS DISTINCT FROM e.trades
        UNION
        SELECT x.order_id, x.account_id FROM zvt.orders x
         WHERE x.instrument_id = _paper_match.instrument_id
           AND x.status IN ('accepted', 'partially_filled') AND x.type = 'trailing_stop' AND NOT x.triggered
           AND x.side = 'sell' AND x.trail_ref < last AND x.bus_trades_seen IS DISTINCT FROM e.trades
        ORDER BY 1
    LOOP
        -- the worker never waits for an account: one another transaction
        -- is writing (an uncommitted place_order, say) is matched on a later pass
        IF wait THEN
            PERFORM zvt._lock_account(cand.account_id);
        ELSIF cand.account_id = ANY (busy) OR NOT zvt._try_lock_account(cand.account_id) THEN
            busy := busy || cand.account_id;
            skipped := skipped + 1;
            CONTINUE;
        END IF;
        SELECT * INTO o FROM zvt.orders x WHERE x.order_id = cand.order_id FOR UPDATE;
        CONTINUE WHEN o.status NOT IN ('accepted', 'partially_filled');
        SELECT * INTO a FROM zvt.accounts x WHERE x.account_id = o.account_id;
        dir := CASE WHEN o.side = 'buy' THEN 1 ELSE -1 END;
        new_trade := last IS NOT NULL AND o.bus_trades_seen IS DISTINCT FROM e.trades;
        new_quote := o.bus_quotes_seen IS DISTINCT FROM e.quotes;
        touch := CASE WHEN dir = 1 THEN ask ELSE bid END;
        UPDATE zvt.orders x SET bus_trades_seen = e.trades, bus_quotes_seen = e.quotes
         WHERE x.order_id = o.order_id;

        -- stops: a new trade crossing the trigger (a trailing stop first follows the best price)
        IF o.type IN ('stop', 'stop_limit', 'trailing_stop') AND NOT o.triggered THEN
            CONTINUE WHEN NOT new_trade;
            IF o.type = 'trailing_stop' AND dir * (o.trail_ref - last) > 0 THEN
                -- a sell trails the highest price since placement, a buy the lowest
                o.trail_ref := last;
                o.stop_price := zvt._trailing_stop_price(last, o.trail_pct, o.side,
                                    (SELECT i.tick_size FROM zvt.instruments i WHERE i.id = o.instrument_id));
                UPDATE zvt.orders x SET trail_ref = o.trail_ref, stop_price = o.stop_price,
                                        updated_at = pg_catalog.clock_timestamp()
                 WHERE x.order_id = o.order_id;
            END IF;
            CONTINUE WHEN dir * (last - o.stop_price) < 0;
            UPDATE zvt.orders x SET triggered = true, updated_at = pg_catalog.clock_timestamp()
             WHERE x.order_id = o.order_id RETURNING * INTO o;
            INSERT INTO zvt.order_events (order_id, account_id, event, status, qty, price, reason)
            VALUES (o.order_id, o.account_id, 'triggered', o.status, o.qty - o.filled_qty, last,
                    format('last trade %s crossed the stop price %s', last, o.stop_price));
            changed := changed + 1;
            IF o.type <> 'stop_limit' THEN
                -- now a market order: the touch (or, on a live order book, the VWAP of
                -- the levels it takes) moved by slippage, as taker, but never better
                -- than the trade that triggered it (the quote may be older)
                walk := zvt._book_fill_price(o.instrument_id, o.side, o.qty - o.filled_qty, NULL);
                PERFORM zvt._fill(a, o, o.qty - o.filled_qty,
                                  trim_scale(CASE WHEN dir = 1 THEN greatest(coalesce(walk, touch), last)
                                                  ELSE least(coalesce(walk, touch), last) END
                                             * (1 + dir * a.slippage_bps / 10000)),
                                  'taker', e.last_ts, true);
                CONTINUE;
            END IF;
            IF touch IS NOT NULL AND dir * (touch - o.price) <= 0 THEN
                -- a limit that is marketable when it is born takes at the touch (or
                -- the VWAP of the book's levels up to its price)
                PERFORM zvt._fill(a, o, o.qty - o.filled_qty,
                                  coalesce(zvt._book_fill_price(o.instrument_id, o.side, o.qty - o.filled_qty, o.price),
                                           touch),
                                  'taker', e.quote_ts, true);
                CONTINUE;
            END IF;
            CONTINUE;
        END IF;

        -- resting limits fill as maker at their price: the touch reached it
        -- (up to its size) or a trade printed through it (up to its size)
        avail := NULL;
        IF new_quote AND touch IS NOT NULL AND dir * (touch - o.price) <= 0 THEN
            avail := coalesce(CASE WHEN dir = 1 THEN e.ask_qty ELSE e.bid_qty END::numeric, o.qty);
        END IF;
        IF new_trade AND dir * (last - o.price) <= 0 THEN
            avail := greatest(avail, coalesce(e.last_qty::numeric, o.qty));
        END IF;
        CONTINUE WHEN avail IS NULL OR avail <= 0;
        fqty := least(avail, o.qty - o.filled_qty);
        PERFORM zvt._fill(a, o, fqty, o.price, 'maker',
                          CASE WHEN new_trade AND dir * (last - o.price) <= 0 THEN e.last_ts ELSE e.quote_ts END,
                          true);
        changed := changed + 1;
    END LOOP;
END;
$$;
COMMENT ON FUNCTION zvt._paper_match(pg_catalog.int4, pg_catalog.bool) IS
    'Internal: match the resting paper orders of one instrument its bus entry crossed; orders changed, and orders skipped because their account was busy (never when wait).';
REVOKE ALL ON FUNCTION zvt._paper_match(pg_catalog.int4, pg_catalog.bool) FROM PUBLIC;

-- ===================================================================
-- sql/35_book.sql (new in 0.2.0), whole
-- ===================================================================
-- ===================================================================
-- Order books: the live books in shared memory, and their history
-- ===================================================================

-- The live book (src/book/functions.c): shared memory only, no table read.
CREATE FUNCTION zvt.book(exchange pg_catalog.text, symbol pg_catalog.text,
                         depth pg_catalog.int4 DEFAULT 10)
    RETURNS TABLE (side pg_catalog.text, level pg_catalog.int4,
                   price pg_catalog.numeric, size pg_catalog.numeric)
    LANGUAGE C STRICT VOLATILE
    AS 'MODULE_PATHNAME', 'zvt_book';
COMMENT ON FUNCTION zvt.book(pg_catalog.text, pg_catalog.text, pg_catalog.int4) IS
    'The live order book of a subscribed symbol (channel book) from shared memory: bids best first, then asks, depth levels a side, sizes in base units; no rows before its first snapshot.';

CREATE FUNCTION zvt._books(
        OUT exchange pg_catalog.text, OUT symbol pg_catalog.text, OUT depth pg_catalog.int4,
        OUT live pg_catalog.bool, OUT seq pg_catalog.int8, OUT updated_at pg_catalog.timestamptz,
        OUT updates pg_catalog.int8, OUT level_updates pg_catalog.int8, OUT resyncs pg_catalog.int8,
        OUT bids pg_catalog.int4, OUT asks pg_catalog.int4)
    RETURNS SETOF record
    LANGUAGE C VOLATILE
    AS 'MODULE_PATHNAME', 'zvt_books';
COMMENT ON FUNCTION zvt._books() IS 'Internal: the live books'' state in shared memory.';

CREATE VIEW zvt.books WITH (security_invoker = true) AS
SELECT b.exchange, b.symbol, b.depth, b.live, b.seq, b.updated_at, b.updates, b.level_updates,
       b.resyncs, b.bids, b.asks
  FROM zvt._books() b;
COMMENT ON VIEW zvt.books IS
    'One row per live order book: depth kept, whether it is in step with the exchange (live), the exchange''s last update id applied (seq), when it was last published, messages applied and the levels they set, and resyncs since the feed worker took it, and levels per side.';

-- books are public market data, like zvt.quotes
GRANT SELECT ON zvt.books TO PUBLIC;

CREATE TABLE zvt.book_snapshots (
    ts              pg_catalog.timestamptz NOT NULL,
    instrument_id   pg_catalog.int4 NOT NULL,
    seq             pg_catalog.int8 NOT NULL DEFAULT 0,
    bid_price       pg_catalog.numeric[] NOT NULL,
    bid_size        pg_catalog.numeric[] NOT NULL,
    ask_price       pg_catalog.numeric[] NOT NULL,
    ask_size        pg_catalog.numeric[] NOT NULL,
    UNIQUE (instrument_id, ts)
) PARTITION BY RANGE (ts);
COMMENT ON TABLE zvt.book_snapshots IS
    'The top levels of each live order book every zvt.book_snapshot_interval (hypertable, 1-day chunks): prices best first, sizes in base units, seq the exchange''s last update id. Written by the feed workers; read with zvt.book_at.';
SELECT zvt.create_hypertable('zvt.book_snapshots', 'ts', '1 day');
UPDATE zvt._hypertables SET builtin = true WHERE relid = 'zvt.book_snapshots'::pg_catalog.regclass;

-- its default partition under a fixed name, kept by pg_dump (as trades' in 20_market.sql)
DO $defaults$
DECLARE
    d pg_catalog.regclass;
BEGIN
    SELECT c.chunk INTO STRICT d FROM zvt._chunks('zvt.book_snapshots'::pg_catalog.regclass) c
     WHERE c.is_default;
    EXECUTE pg_catalog.format('ALTER TABLE %s RENAME TO book_snapshots_default', d);
    COMMENT ON TABLE _zvt_chunks.book_snapshots_default IS
        'zvt: default partition of zvt.book_snapshots (rows waiting for their chunk)';
    PERFORM pg_catalog.pg_extension_config_dump('_zvt_chunks.book_snapshots_default', '');
END
$defaults$;

-- market data is for everyone to read; the feed workers (superuser) write it
GRANT SELECT ON zvt.book_snapshots TO PUBLIC;

CREATE FUNCTION zvt.book_at(exchange pg_catalog.text, symbol pg_catalog.text,
                            at pg_catalog.timestamptz, depth pg_catalog.int4 DEFAULT NULL)
    RETURNS TABLE (side pg_catalog.text, level pg_catalog.int4, price pg_catalog.numeric,
                   size pg_catalog.numeric, snapshot_ts pg_catalog.timestamptz)
    LANGUAGE sql STABLE
    SET search_path = pg_catalog, pg_temp
AS $$
    WITH s AS (
        SELECT b.* FROM zvt.book_snapshots b
          JOIN zvt.instruments i ON i.id = b.instrument_id
         WHERE i.exchange = book_at.exchange AND i.symbol = book_at.symbol AND b.ts <= book_at.at
         ORDER BY b.ts DESC
         LIMIT 1)
    SELECT x.side, x.level, x.price, x.size, x.ts FROM (
        SELECT 'bid' AS side, l.n::int4 AS level, l.p AS price, l.q AS size, s.ts
          FROM s, unnest(s.bid_price, s.bid_size) WITH ORDINALITY AS l(p, q, n)
        UNION ALL
        SELECT 'ask', l.n::int4, l.p, l.q, s.ts
          FROM s, unnest(s.ask_price, s.ask_size) WITH ORDINALITY AS l(p, q, n)) x
     WHERE book_at.depth IS NULL OR x.level <= book_at.depth
     ORDER BY x.side = 'ask', x.level
$$;
COMMENT ON FUNCTION zvt.book_at(pg_catalog.text, pg_catalog.text, pg_catalog.timestamptz, pg_catalog.int4) IS
    'The order book as stored at or before a time (the latest zvt.book_snapshots row): bids then asks, best first, with the snapshot''s time; depth NULL gives every level stored.';

CREATE FUNCTION zvt._book_fill_price(instrument_id pg_catalog.int4, side pg_catalog.text,
                                     qty pg_catalog.numeric, limit_price pg_catalog.numeric)
    RETURNS pg_catalog.numeric
    LANGUAGE C VOLATILE
    AS 'MODULE_PATHNAME', 'zvt_book_fill_price';
COMMENT ON FUNCTION zvt._book_fill_price(pg_catalog.int4, pg_catalog.text, pg_catalog.numeric, pg_catalog.numeric) IS
    'Internal: the VWAP a taker of qty pays walking the instrument''s live order book (no level beyond limit_price when given); NULL without a live book.';
-- the paper matcher's (zvt._paper_match, run as zvt's owner); place_order walks the book in C
REVOKE ALL ON FUNCTION zvt._book_fill_price(pg_catalog.int4, pg_catalog.text, pg_catalog.numeric, pg_catalog.numeric) FROM PUBLIC;

-- ===================================================================
-- sql/60_http.sql (new in 0.2.0), whole
-- ===================================================================
-- ===================================================================
-- The HTTP front's roles and its API schema zvt_api (docs/http.md).
--
-- PostgREST's role model: the HTTP workers log in as zvt_authenticator
-- (NOINHERIT, no privileges of its own) and run each request under
-- SET LOCAL ROLE to the token's role or zvt_anon; PostgreSQL refuses a
-- role the authenticator was not granted.  zvt_anon reads public market
-- data; zvt_trader is the group role of traders (each trader is a role
-- that is a member of zvt_trader, granted to zvt_authenticator), who
-- also see and use their own accounts through row-level security,
-- exactly as from psql.
--
-- zvt_api holds only views (security_invoker, so the ledger's policies
-- apply to the requesting role) and thin wrapper functions (SECURITY
-- INVOKER) over zvt's own; nothing here widens what a role may do.
-- Roles are cluster-wide: DROP EXTENSION leaves them.
-- ===================================================================

DO $roles$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = 'zvt_anon') THEN
        CREATE ROLE zvt_anon NOLOGIN;
    END IF;
    IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = 'zvt_trader') THEN
        CREATE ROLE zvt_trader NOLOGIN;
    END IF;
    IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = 'zvt_authenticator') THEN
        -- no password: only the HTTP workers (background workers) log in as it
        CREATE ROLE zvt_authenticator LOGIN NOINHERIT NOSUPERUSER NOCREATEDB NOCREATEROLE;
    END IF;
END
$roles$;
-- the roles requests may run as; NOINHERIT keeps their rights away from the authenticator itself
GRANT zvt_anon TO zvt_authenticator;
GRANT zvt_trader TO zvt_authenticator;

CREATE FUNCTION zvt.jwt_sign(claims pg_catalog.jsonb) RETURNS pg_catalog.text
    LANGUAGE C STRICT VOLATILE
    AS 'MODULE_PATHNAME', 'zvt_jwt_sign';
COMMENT ON FUNCTION zvt.jwt_sign(pg_catalog.jsonb) IS
    'An HS256 token of the claims signed with zvt.jwt_secret, for the HTTP front (superusers only).';
-- whoever signs becomes any role the authenticator has: superusers only
REVOKE ALL ON FUNCTION zvt.jwt_sign(pg_catalog.jsonb) FROM PUBLIC;

CREATE SCHEMA zvt_api;
COMMENT ON SCHEMA zvt_api IS
    'zvt''s HTTP API (PostgREST''s grammar over it): market data, trading and backtests.';
-- the API's roles may look up its objects; each object carries its own grants
GRANT USAGE ON SCHEMA zvt_api TO zvt_anon, zvt_trader;

-- -------------------------------------------------------------------
-- Market data: for zvt_anon and zvt_trader
-- -------------------------------------------------------------------

CREATE VIEW zvt_api.exchanges WITH (security_invoker = true) AS
SELECT e.name, e.enabled FROM zvt.exchanges e;
COMMENT ON VIEW zvt_api.exchanges IS 'The exchanges zvt knows and whether their feeds are enabled.';

CREATE VIEW zvt_api.instruments WITH (security_invoker = true) AS
SELECT i.id, i.exchange, i.symbol, i.raw_symbol, i.base, i.quote, i.kind, i.tick_size,
       i.lot_size, i.min_notional, i.contract_size, i.status, i.updated_at
  FROM zvt.instruments i;
COMMENT ON VIEW zvt_api.instruments IS 'Instruments: normalized symbol, base and quote, kind (spot, perp), tick and lot sizes.';

CREATE VIEW zvt_api.trades WITH (security_invoker = true) AS
SELECT t.ts, t.exchange, t.symbol, t.instrument_id, t.trade_id, t.price, t.qty, t.side, t.local_ts
  FROM zvt.trades_v t;
COMMENT ON VIEW zvt_api.trades IS 'Trades (ts: exchange time; side: the taker''s; qty in base units).';

CREATE VIEW zvt_api.candles WITH (security_invoker = true) AS
SELECT c.ts, c.exchange, c.symbol, c.instrument_id, c.timeframe, c.open, c.high, c.low, c.close,
       c.volume, c.quote_volume, c.trade_count, c.closed, c.source
  FROM zvt.candles_v c;
COMMENT ON VIEW zvt_api.candles IS 'Stored candles (ts: bucket open); other timeframes through /rpc/ohlcv.';

CREATE VIEW zvt_api.quotes WITH (security_invoker = true) AS
SELECT q.ts, q.exchange, q.symbol, q.instrument_id, q.seq, q.bid, q.bid_qty, q.ask, q.ask_qty
  FROM zvt.quotes_v q;
COMMENT ON VIEW zvt_api.quotes IS 'Best bid and ask updates.';

CREATE VIEW zvt_api.tickers WITH (security_invoker = true) AS
SELECT t.exchange, t.symbol, t.last, t.last_qty, t.last_ts, t.bid, t.bid_qty, t.ask, t.ask_qty,
       t.quote_ts, t.updates
  FROM zvt.tickers t;
COMMENT ON VIEW zvt_api.tickers IS 'Latest trade and best bid/ask of every instrument, from the market bus in shared memory.';

CREATE VIEW zvt_api.feed_status WITH (security_invoker = true) AS
SELECT f.exchange, f.state, f.connected_since, f.messages, f.rows_written, f.parse_errors,
       f.reconnects, f.last_message_at, f.lag
  FROM zvt.feed_status f;
COMMENT ON VIEW zvt_api.feed_status IS 'One row per exchange feed: state and counters.';

CREATE VIEW zvt_api.gaps WITH (security_invoker = true) AS
SELECT g.exchange, g.symbol, g.channel, g.from_ts, g.to_ts, g.reason, g.repaired_at
  FROM zvt.feed_gaps g;
COMMENT ON VIEW zvt_api.gaps IS 'Periods a feed may have missed data, and when they were repaired.';

CREATE FUNCTION zvt_api.ohlcv(exchange pg_catalog.text, symbol pg_catalog.text,
                              timeframe pg_catalog.interval,
                              start pg_catalog.timestamptz, finish pg_catalog.timestamptz)
    RETURNS SETOF zvt.candles_v
    LANGUAGE sql STABLE
    SET search_path = pg_catalog, pg_temp
    AS $$ SELECT * FROM zvt.ohlcv(exchange, symbol, timeframe, start, finish) $$;
COMMENT ON FUNCTION zvt_api.ohlcv(pg_catalog.text, pg_catalog.text, pg_catalog.interval,
    pg_catalog.timestamptz, pg_catalog.timestamptz) IS
    'Candles of any timeframe in [start, finish), rolled up from 1-minute candles (zvt.ohlcv).';

-- public market data: readable without a token
GRANT SELECT ON zvt_api.exchanges, zvt_api.instruments, zvt_api.trades, zvt_api.candles,
                zvt_api.quotes, zvt_api.tickers, zvt_api.feed_status, zvt_api.gaps
    TO zvt_anon, zvt_trader;

-- -------------------------------------------------------------------
-- Trading: zvt_trader only; row-level security shows each role its own
-- -------------------------------------------------------------------

CREATE VIEW zvt_api.accounts WITH (security_invoker = true) AS
SELECT a.account_id, a.name, a.kind, a.exchange, a.currency, a.owner::pg_catalog.text AS owner,
       a.state, a.leverage, a.maker_fee_bps, a.taker_fee_bps, a.slippage_bps, a.initial_cash,
       a.created_at
  FROM zvt.accounts a;
COMMENT ON VIEW zvt_api.accounts IS 'The accounts the requesting role owns or was granted.';

CREATE VIEW zvt_api.balances WITH (security_invoker = true) AS
SELECT b.account_id, b.asset, b.amount, b.updated_at FROM zvt.balances b;
COMMENT ON VIEW zvt_api.balances IS 'Balances of the requesting role''s accounts.';

CREATE VIEW zvt_api.orders WITH (security_invoker = true) AS
SELECT o.order_id, o.account_id, o.exchange, o.symbol, o.side, o.type, o.qty, o.price,
       o.stop_price, o.trail_pct, o.tif, o.post_only, o.reduce_only, o.client_order_id,
       o.status, o.filled_qty, o.avg_fill_price, o.fees, o.reason, o.created_at, o.updated_at
  FROM zvt.orders o;
COMMENT ON VIEW zvt_api.orders IS 'Orders of the requesting role''s accounts.';

CREATE VIEW zvt_api.order_events WITH (security_invoker = true) AS
SELECT e.event_id, e.order_id, e.account_id, e.ts, e.event, e.status, e.qty, e.price, e.reason
  FROM zvt.order_events e;
COMMENT ON VIEW zvt_api.order_events IS 'The append-only history of the requesting role''s orders.';

CREATE VIEW zvt_api.fills WITH (security_invoker = true) AS
SELECT f.fill_id, f.order_id, f.account_id, f.exchange, f.symbol, f.ts, f.side, f.qty, f.price,
       f.fee, f.fee_asset, f.liquidity, f.realized_pnl
  FROM zvt.fills f;
COMMENT ON VIEW zvt_api.fills IS 'Fills of the requesting role''s orders.';

CREATE VIEW zvt_api.positions WITH (security_invoker = true) AS
SELECT p.account, p.exchange, p.symbol, p.qty, p.avg_price, p.realized_pnl, p.mark_price,
       p.unrealized_pnl, p.notional, p.account_id, p.updated_at
  FROM zvt.positions p;
COMMENT ON VIEW zvt_api.positions IS 'Netting positions of the requesting role''s accounts, marked to the market bus.';

CREATE VIEW zvt_api.risk_limits WITH (security_invoker = true) AS
SELECT r.* FROM zvt.risk_limits r;
COMMENT ON VIEW zvt_api.risk_limits IS 'Risk limits of the requesting role''s accounts.';

CREATE FUNCTION zvt_api.create_account(name pg_catalog.text, kind pg_catalog.text DEFAULT 'paper',
                                       exchange pg_catalog.text DEFAULT NULL,
                                       initial_cash pg_catalog.numeric DEFAULT 0,
                                       currency pg_catalog.text DEFAULT 'USDT')
    RETURNS zvt.accounts
    LANGUAGE sql VOLATILE
    SET search_path = pg_catalog, pg_temp
    AS $$ SELECT * FROM zvt.create_account(name, kind, exchange, initial_cash, currency) $$;
COMMENT ON FUNCTION zvt_api.create_account(pg_catalog.text, pg_catalog.text, pg_catalog.text,
    pg_catalog.numeric, pg_catalog.text) IS 'Create an account owned by the requesting role (zvt.create_account).';

CREATE FUNCTION zvt_api.place_order(account pg_catalog.text, exchange pg_catalog.text, symbol pg_catalog.text,
        side pg_catalog.text, qty pg_catalog.numeric, type pg_catalog.text DEFAULT 'market',
        price pg_catalog.numeric DEFAULT NULL, stop_price pg_catalog.numeric DEFAULT NULL,
        trail_pct pg_catalog.numeric DEFAULT NULL, tif pg_catalog.text DEFAULT 'gtc',
        client_order_id pg_catalog.text DEFAULT NULL, post_only pg_catalog.bool DEFAULT false,
        reduce_only pg_catalog.bool DEFAULT false)
    RETURNS zvt.orders
    LANGUAGE sql VOLATILE
    SET search_path = pg_catalog, pg_temp
    AS $$ SELECT * FROM zvt.place_order(account, exchange, symbol, side, qty, type, price, stop_price,
                                        trail_pct, tif, client_order_id, post_only, reduce_only) $$;
COMMENT ON FUNCTION zvt_api.place_order(pg_catalog.text, pg_catalog.text, pg_catalog.text, pg_catalog.text,
    pg_catalog.numeric, pg_catalog.text, pg_catalog.numeric, pg_catalog.numeric, pg_catalog.numeric,
    pg_catalog.text, pg_catalog.text, pg_catalog.bool, pg_catalog.bool) IS
    'Place an order on an account the requesting role may use (zvt.place_order).';

CREATE FUNCTION zvt_api.cancel_order(order_id pg_catalog.int8)
    RETURNS zvt.orders
    LANGUAGE sql VOLATILE
    SET search_path = pg_catalog, pg_temp
    AS $$ SELECT * FROM zvt.cancel_order(order_id) $$;
COMMENT ON FUNCTION zvt_api.cancel_order(pg_catalog.int8) IS
    'Cancel an open order of an account the requesting role may use (zvt.cancel_order).';

CREATE FUNCTION zvt_api.cancel_all(account pg_catalog.text, exchange pg_catalog.text DEFAULT NULL,
                                   symbol pg_catalog.text DEFAULT NULL)
    RETURNS SETOF zvt.orders
    LANGUAGE sql VOLATILE
    SET search_path = pg_catalog, pg_temp
    AS $$ SELECT * FROM zvt.cancel_all(account, exchange, symbol) $$;
COMMENT ON FUNCTION zvt_api.cancel_all(pg_catalog.text, pg_catalog.text, pg_catalog.text) IS
    'Cancel every open order of an account (zvt.cancel_all).';

CREATE FUNCTION zvt_api.portfolio(account pg_catalog.text)
    RETURNS TABLE (currency text, cash numeric, equity numeric, exposure numeric,
                   unrealized_pnl numeric, realized_pnl numeric, fees numeric, pnl_today numeric,
                   pnl_total numeric, open_orders int4)
    LANGUAGE sql VOLATILE
    SET search_path = pg_catalog, pg_temp
    AS $$ SELECT * FROM zvt.portfolio(account) $$;
COMMENT ON FUNCTION zvt_api.portfolio(pg_catalog.text) IS
    'An account''s cash, equity, exposure and PnL (zvt.portfolio).';

CREATE FUNCTION zvt_api.set_risk_limits(account pg_catalog.text, exchange pg_catalog.text DEFAULT NULL,
        symbol pg_catalog.text DEFAULT NULL, max_order_qty pg_catalog.numeric DEFAULT NULL,
        max_order_notional pg_catalog.numeric DEFAULT NULL, max_position_qty pg_catalog.numeric DEFAULT NULL,
        max_position_notional pg_catalog.numeric DEFAULT NULL, max_open_orders pg_catalog.int4 DEFAULT NULL,
        max_daily_loss pg_catalog.numeric DEFAULT NULL, price_band_pct pg_catalog.numeric DEFAULT NULL,
        max_orders_per_sec pg_catalog.int4 DEFAULT NULL)
    RETURNS zvt.risk_limits
    LANGUAGE sql VOLATILE
    SET search_path = pg_catalog, pg_temp
    AS $$ SELECT * FROM zvt.set_risk_limits(account, exchange, symbol, max_order_qty, max_order_notional,
                                            max_position_qty, max_position_notional, max_open_orders,
                                            max_daily_loss, price_band_pct, max_orders_per_sec) $$;
COMMENT ON FUNCTION zvt_api.set_risk_limits(pg_catalog.text, pg_catalog.text, pg_catalog.text,
    pg_catalog.numeric, pg_catalog.numeric, pg_catalog.numeric, pg_catalog.numeric, pg_catalog.int4,
    pg_catalog.numeric, pg_catalog.numeric, pg_catalog.int4) IS
    'Replace the risk limits of an account or one of its instruments (zvt.set_risk_limits).';

-- -------------------------------------------------------------------
-- Backtests: zvt_trader only; each role sees its own runs
-- -------------------------------------------------------------------

CREATE VIEW zvt_api.backtest_runs WITH (security_invoker = true) AS
SELECT r.* FROM zvt.backtest_runs r;
COMMENT ON VIEW zvt_api.backtest_runs IS 'The requesting role''s backtest runs and their metrics.';

CREATE VIEW zvt_api.backtest_trades WITH (security_invoker = true) AS
SELECT t.* FROM zvt.backtest_trades t;
COMMENT ON VIEW zvt_api.backtest_trades IS 'Trades of the requesting role''s backtest runs.';

CREATE VIEW zvt_api.backtest_equity WITH (security_invoker = true) AS
SELECT e.* FROM zvt.backtest_equity e;
COMMENT ON VIEW zvt_api.backtest_equity IS 'Equity curves of the requesting role''s backtest runs.';

CREATE FUNCTION zvt_api.backtest(strategy pg_catalog.text, exchange pg_catalog.text, symbol pg_catalog.text,
                                 timeframe pg_catalog.interval,
                                 start pg_catalog.timestamptz, finish pg_catalog.timestamptz,
                                 params pg_catalog.jsonb DEFAULT '{}',
                                 initial_cash pg_catalog.numeric DEFAULT 10000,
                                 fee_bps pg_catalog.numeric DEFAULT 10,
                                 slippage_bps pg_catalog.numeric DEFAULT 0,
                                 store pg_catalog.text DEFAULT 'trades')
    RETURNS zvt.backtest_runs
    LANGUAGE sql VOLATILE
    SET search_path = pg_catalog, pg_temp
    AS $$ SELECT * FROM zvt.backtest(strategy, exchange, symbol, timeframe, start, finish, params,
                                     initial_cash, fee_bps, slippage_bps, NULL, NULL, store) $$;
COMMENT ON FUNCTION zvt_api.backtest(pg_catalog.text, pg_catalog.text, pg_catalog.text, pg_catalog.interval,
    pg_catalog.timestamptz, pg_catalog.timestamptz, pg_catalog.jsonb, pg_catalog.numeric, pg_catalog.numeric,
    pg_catalog.numeric, pg_catalog.text) IS
    'Run a built-in strategy over stored candles and keep the run (zvt.backtest; signals queries and step functions are SQL-only).';

CREATE FUNCTION zvt_api.backtest_grid(strategy pg_catalog.text, exchange pg_catalog.text, symbol pg_catalog.text,
                                      timeframe pg_catalog.interval,
                                      start pg_catalog.timestamptz, finish pg_catalog.timestamptz,
                                      grid pg_catalog.jsonb,
                                      sort_by pg_catalog.text DEFAULT 'sharpe',
                                      params pg_catalog.jsonb DEFAULT '{}',
                                      initial_cash pg_catalog.numeric DEFAULT 10000,
                                      fee_bps pg_catalog.numeric DEFAULT 10,
                                      slippage_bps pg_catalog.numeric DEFAULT 0,
                                      descending pg_catalog.bool DEFAULT true)
    RETURNS SETOF zvt.backtest_runs
    LANGUAGE sql VOLATILE
    SET search_path = pg_catalog, pg_temp
    AS $$ SELECT * FROM zvt.backtest_grid(strategy, exchange, symbol, timeframe, start, finish, grid,
                                          sort_by, params, initial_cash, fee_bps, slippage_bps,
                                          descending, NULL) $$;
COMMENT ON FUNCTION zvt_api.backtest_grid(pg_catalog.text, pg_catalog.text, pg_catalog.text, pg_catalog.interval,
    pg_catalog.timestamptz, pg_catalog.timestamptz, pg_catalog.jsonb, pg_catalog.text, pg_catalog.jsonb,
    pg_catalog.numeric, pg_catalog.numeric, pg_catalog.numeric, pg_catalog.bool) IS
    'Run a built-in strategy for every combination of a parameter grid (zvt.backtest_grid).';

-- functions are executable by PUBLIC by default: the API's are the API roles' only
REVOKE ALL ON ALL FUNCTIONS IN SCHEMA zvt_api FROM PUBLIC;
-- public market data
GRANT EXECUTE ON FUNCTION zvt_api.ohlcv(pg_catalog.text, pg_catalog.text, pg_catalog.interval,
    pg_catalog.timestamptz, pg_catalog.timestamptz) TO zvt_anon, zvt_trader;
-- trading and backtests: traders, each within its own accounts and runs
GRANT SELECT ON zvt_api.accounts, zvt_api.balances, zvt_api.orders, zvt_api.order_events,
                zvt_api.fills, zvt_api.positions, zvt_api.risk_limits,
                zvt_api.backtest_runs, zvt_api.backtest_trades, zvt_api.backtest_equity
    TO zvt_trader;
GRANT EXECUTE ON FUNCTION
    zvt_api.create_account(pg_catalog.text, pg_catalog.text, pg_catalog.text, pg_catalog.numeric, pg_catalog.text),
    zvt_api.place_order(pg_catalog.text, pg_catalog.text, pg_catalog.text, pg_catalog.text,
        pg_catalog.numeric, pg_catalog.text, pg_catalog.numeric, pg_catalog.numeric, pg_catalog.numeric,
        pg_catalog.text, pg_catalog.text, pg_catalog.bool, pg_catalog.bool),
    zvt_api.cancel_order(pg_catalog.int8),
    zvt_api.cancel_all(pg_catalog.text, pg_catalog.text, pg_catalog.text),
    zvt_api.portfolio(pg_catalog.text),
    zvt_api.set_risk_limits(pg_catalog.text, pg_catalog.text, pg_catalog.text,
        pg_catalog.numeric, pg_catalog.numeric, pg_catalog.numeric, pg_catalog.numeric, pg_catalog.int4,
        pg_catalog.numeric, pg_catalog.numeric, pg_catalog.int4),
    zvt_api.backtest(pg_catalog.text, pg_catalog.text, pg_catalog.text, pg_catalog.interval,
        pg_catalog.timestamptz, pg_catalog.timestamptz, pg_catalog.jsonb, pg_catalog.numeric, pg_catalog.numeric,
        pg_catalog.numeric, pg_catalog.text),
    zvt_api.backtest_grid(pg_catalog.text, pg_catalog.text, pg_catalog.text, pg_catalog.interval,
        pg_catalog.timestamptz, pg_catalog.timestamptz, pg_catalog.jsonb, pg_catalog.text, pg_catalog.jsonb,
        pg_catalog.numeric, pg_catalog.numeric, pg_catalog.numeric, pg_catalog.bool)
    TO zvt_trader;

-- ===================================================================
-- sql/62_http_api.sql (new in 0.2.0), whole
-- ===================================================================
-- sql/62_http_api.sql: the HTTP front's API layer reached from SQL.
--
-- The HTTP workers call the API layer (src/http/api.c) directly; this
-- function calls the same code from a session, so tests exercise the
-- grammar, the SQL it builds and the responses without the transport.

CREATE FUNCTION zvt._http_serve(method pg_catalog.text, path pg_catalog.text,
        query pg_catalog.text DEFAULT '',
        req_headers pg_catalog.jsonb DEFAULT '{}',
        req_body pg_catalog.text DEFAULT NULL,
        role pg_catalog.text DEFAULT NULL,
        anonymous pg_catalog.bool DEFAULT true,
        OUT status pg_catalog.int4, OUT headers pg_catalog.jsonb, OUT body pg_catalog.text)
    RETURNS record
    LANGUAGE C VOLATILE
    AS 'MODULE_PATHNAME', 'zvt_http_serve';
COMMENT ON FUNCTION zvt._http_serve(pg_catalog.text, pg_catalog.text, pg_catalog.text,
        pg_catalog.jsonb, pg_catalog.text, pg_catalog.text, pg_catalog.bool) IS
    'Internal, for tests: serve one HTTP request (method, path, query string, headers, body) through the API layer as role (SET ROLE, restored on return) and return PostgREST''s status, headers and body; an error becomes PostgREST''s error response. Superuser only.';
-- it runs a request as any role: superusers only (also checked in C)
REVOKE ALL ON FUNCTION zvt._http_serve(pg_catalog.text, pg_catalog.text, pg_catalog.text,
        pg_catalog.jsonb, pg_catalog.text, pg_catalog.text, pg_catalog.bool) FROM PUBLIC;

-- ===================================================================
-- sql/32_backfill.sql (new in 0.2.0), whole
-- ===================================================================
-- ===================================================================
-- Backfill and gap repair: history over the exchanges' REST APIs,
-- written by the "zvt backfill" worker through the feeds' idempotent path
-- ===================================================================

-- what the repair of a zvt.feed_gaps row did
ALTER TABLE zvt.feed_gaps
    ADD COLUMN rows_repaired pg_catalog.int8,
    ADD COLUMN repair_error  pg_catalog.text;
COMMENT ON COLUMN zvt.feed_gaps.rows_repaired IS
    'Rows the repair wrote that were missing (0: nothing was missing); NULL until repaired.';
COMMENT ON COLUMN zvt.feed_gaps.repair_error IS
    'Why the gap could not be repaired, or ''not repairable'' for channels REST cannot serve (quotes); NULL otherwise.';

CREATE TABLE zvt._backfill_jobs (
    id            pg_catalog.int8 GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    exchange      pg_catalog.text NOT NULL REFERENCES zvt.exchanges (name) ON UPDATE CASCADE,
    symbol        pg_catalog.text NOT NULL,
    channel       pg_catalog.text NOT NULL,
    start_ts      pg_catalog.timestamptz NOT NULL,
    finish_ts     pg_catalog.timestamptz NOT NULL,
    gap_id        pg_catalog.int8,
    -- the exchange's rest_url when queued: a job never mixes two sources
    rest_url      pg_catalog.text,
    state         pg_catalog.text NOT NULL DEFAULT 'queued'
                  CHECK (state IN ('queued', 'running', 'waiting', 'done', 'failed', 'canceled')),
    -- where the next page starts: a time, and for trades by id the next id
    cursor_ts     pg_catalog.timestamptz,
    next_id       pg_catalog.int8,
    end_id        pg_catalog.int8,
    rows_fetched  pg_catalog.int8 NOT NULL DEFAULT 0,
    rows_written  pg_catalog.int8 NOT NULL DEFAULT 0,
    pages         pg_catalog.int8 NOT NULL DEFAULT 0,
    rate_waits    pg_catalog.int8 NOT NULL DEFAULT 0,
    wait_until    pg_catalog.timestamptz,
    errors        pg_catalog.int4 NOT NULL DEFAULT 0,
    last_error    pg_catalog.text,
    hole          pg_catalog.text,
    created_at    pg_catalog.timestamptz NOT NULL DEFAULT pg_catalog.now(),
    started_at    pg_catalog.timestamptz,
    finished_at   pg_catalog.timestamptz,
    CHECK (finish_ts > start_ts)
);
COMMENT ON TABLE zvt._backfill_jobs IS
    'Internal: backfill and repair jobs and their progress; read zvt.backfill_jobs.';
CREATE INDEX ON zvt._backfill_jobs (gap_id);
CREATE INDEX ON zvt._backfill_jobs (state) WHERE state IN ('queued', 'running', 'waiting');
SELECT pg_catalog.pg_extension_config_dump('zvt._backfill_jobs', '');
SELECT pg_catalog.pg_extension_config_dump('zvt._backfill_jobs_id_seq', '');

CREATE VIEW zvt.backfill_jobs WITH (security_invoker = true) AS
SELECT j.id, j.exchange, j.symbol, j.channel, j.start_ts, j.finish_ts, j.gap_id, j.state,
       j.rows_fetched, j.rows_written, j.pages,
       pg_catalog.round((100 * CASE
           WHEN j.state = 'done' THEN 1
           WHEN j.cursor_ts IS NULL THEN 0
           ELSE least(1, greatest(0,
                    extract(epoch FROM j.cursor_ts - j.start_ts) /
                    extract(epoch FROM j.finish_ts - j.start_ts))) END)::pg_catalog.numeric, 1)
           AS pct_done,
       j.cursor_ts, j.rate_waits, j.wait_until, j.last_error, j.hole,
       j.created_at, j.started_at, j.finished_at
  FROM zvt._backfill_jobs j;
COMMENT ON VIEW zvt.backfill_jobs IS
    'Backfill and gap-repair jobs: state (queued, running, waiting for a rate limit, done, failed, canceled), rows fetched and actually written, pages, % of the time range covered, waits for the exchange''s rate limits, the last error, and any part of the range the exchange''s REST cannot serve (hole).';
-- progress is no secret; the table itself stays the worker's
GRANT SELECT ON zvt._backfill_jobs TO PUBLIC;
GRANT SELECT ON zvt.backfill_jobs TO PUBLIC;

CREATE FUNCTION zvt._backfill_wake() RETURNS void
    LANGUAGE C STRICT VOLATILE
    AS 'MODULE_PATHNAME', 'zvt_backfill_wake';
COMMENT ON FUNCTION zvt._backfill_wake() IS
    'Internal: have the launcher start the backfill worker when this transaction commits.';
REVOKE ALL ON FUNCTION zvt._backfill_wake() FROM PUBLIC;

-- The channels a backfill can load: trades and exchange candles.
CREATE FUNCTION zvt._backfill_channel(channel pg_catalog.text) RETURNS pg_catalog.text
    LANGUAGE plpgsql IMMUTABLE
    SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF channel = 'candles' THEN
        RETURN 'candles_1m';
    ELSIF channel = 'trades' OR channel LIKE 'candles\_%' AND channel IN (SELECT zvt.channels()) THEN
        RETURN channel;
    END IF;
    RAISE EXCEPTION 'cannot backfill channel "%"', channel
        USING ERRCODE = '22023',
              HINT = 'Backfill trades or candles (candles_1m ... candles_1d); quotes and books have no REST history.';
END;
$$;
COMMENT ON FUNCTION zvt._backfill_channel(pg_catalog.text) IS
    'Internal: the subscription channel a backfill of channel loads (candles is candles_1m).';

CREATE FUNCTION zvt.backfill(exchange pg_catalog.text, symbol pg_catalog.text,
                             channel pg_catalog.text, start pg_catalog.timestamptz,
                             finish pg_catalog.timestamptz DEFAULT pg_catalog.now())
    RETURNS pg_catalog.int8
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    ch text := zvt._backfill_channel(channel);
    sym text := zvt._check_subscription(exchange, symbol, ch);
    job bigint;
BEGIN
    PERFORM zvt._require_preload('zvt.backfill');
    IF start IS NULL OR finish IS NULL OR finish <= start THEN
        RAISE EXCEPTION 'invalid backfill range [%, %)', start, finish
            USING ERRCODE = '22023',
                  HINT = 'start must be before finish.';
    END IF;
    IF NOT EXISTS (SELECT 1 FROM zvt.instruments i
                    WHERE i.exchange = backfill.exchange AND i.symbol = sym) THEN
        RAISE EXCEPTION 'unknown symbol "%" on exchange "%"', sym, exchange
            USING ERRCODE = '42704',
                  HINT = 'Run zvt.sync_instruments first: a backfill writes rows of a known instrument.';
    END IF;
    PERFORM zvt._backfill_wake();
    INSERT INTO zvt._backfill_jobs (exchange, symbol, channel, start_ts, finish_ts, rest_url)
    SELECT backfill.exchange, sym, ch, start, finish, e.rest_url
      FROM zvt.exchanges e WHERE e.name = backfill.exchange
    RETURNING id INTO job;
    RETURN job;
END;
$$;
COMMENT ON FUNCTION zvt.backfill(pg_catalog.text, pg_catalog.text, pg_catalog.text, pg_catalog.timestamptz, pg_catalog.timestamptz) IS
    'Queue a backfill of trades or candles of a symbol over [start, finish) from the exchange''s REST API and return its job id at once; the backfill worker loads it page by page through the feeds'' idempotent path, within the exchange''s rate limits (zvt.backfill_jobs shows progress).';
-- an admin call: the worker writes zvt.trades and zvt.candles, which only zvt's owner may
REVOKE ALL ON FUNCTION zvt.backfill(pg_catalog.text, pg_catalog.text, pg_catalog.text, pg_catalog.timestamptz, pg_catalog.timestamptz) FROM PUBLIC;

CREATE FUNCTION zvt.cancel_backfill(job pg_catalog.int8) RETURNS pg_catalog.bool
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    UPDATE zvt._backfill_jobs j SET state = 'canceled', finished_at = now(), wait_until = NULL
     WHERE j.id = job AND j.state IN ('queued', 'running', 'waiting');
    RETURN FOUND;
END;
$$;
COMMENT ON FUNCTION zvt.cancel_backfill(pg_catalog.int8) IS
    'Cancel a backfill job that has not finished (the rows already written stay); false when it had finished or does not exist.';
-- an admin call, as zvt.backfill
REVOKE ALL ON FUNCTION zvt.cancel_backfill(pg_catalog.int8) FROM PUBLIC;

CREATE FUNCTION zvt.resume_backfill(job pg_catalog.int8) RETURNS pg_catalog.bool
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    PERFORM zvt._backfill_wake();
    UPDATE zvt._backfill_jobs j SET state = 'queued', finished_at = NULL, errors = 0,
           rest_url = (SELECT e.rest_url FROM zvt.exchanges e WHERE e.name = j.exchange)
     WHERE j.id = job AND j.state IN ('canceled', 'failed');
    RETURN FOUND;
END;
$$;
COMMENT ON FUNCTION zvt.resume_backfill(pg_catalog.int8) IS
    'Queue a canceled or failed backfill job again, from the exchange''s current rest_url; it continues where it stopped. False when it was not canceled or failed.';
-- an admin call, as zvt.backfill
REVOKE ALL ON FUNCTION zvt.resume_backfill(pg_catalog.int8) FROM PUBLIC;

CREATE FUNCTION zvt._backfill_stats(OUT pid pg_catalog.int4, OUT jobs_done pg_catalog.int8,
                                    OUT pages pg_catalog.int8, OUT gaps_repaired pg_catalog.int8)
    RETURNS record
    LANGUAGE C VOLATILE
    AS 'MODULE_PATHNAME', 'zvt_backfill_stats';
COMMENT ON FUNCTION zvt._backfill_stats() IS
    'Internal: the backfill worker''s pid (NULL when not running) and its counters since server start.';

-- ===================================================================
-- sql/57_live.sql (new in 0.2.0), whole
-- ===================================================================
-- ===================================================================
-- Live trading, part 1: API keys of live accounts, sealed at rest.
--
-- zvt._api_keys holds one row per live account: the exchange API key,
-- secret and passphrase sealed with AES-256-GCM under the master key of
-- the file zvt.key_file names (a superuser-only setting), a fresh nonce
-- per row and the account id as associated data (src/live/vault.c).  No
-- role reads the table; zvt.api_keys shows the public face of the keys
-- of the accounts a role may use.  The functions are zvt_ledger_call
-- trampolines (sql/50_trading.sql) whose C bodies (src/live/keys.c) run
-- as the extension's owner and check the caller's right themselves.
-- ===================================================================

CREATE TABLE zvt._api_keys (
    key_id      pg_catalog.int8 GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    account_id  pg_catalog.int4 NOT NULL UNIQUE REFERENCES zvt.accounts ON DELETE CASCADE,
    fingerprint pg_catalog.text NOT NULL,   -- first 8 bytes of SHA-256(api key), hex
    master_fp   pg_catalog.text NOT NULL,   -- same of the master key that sealed it
    nonce       pg_catalog.bytea NOT NULL CHECK (pg_catalog.length(nonce) = 12),
    sealed      pg_catalog.bytea NOT NULL,  -- AES-256-GCM ciphertext || 16-byte tag
    created_at  pg_catalog.timestamptz NOT NULL DEFAULT pg_catalog.now()
);
COMMENT ON TABLE zvt._api_keys IS
    'Internal: the API key, secret and passphrase of each live account, sealed with AES-256-GCM under the master key (zvt.key_file); readable by no role.';
-- nobody reads or writes the sealed rows but zvt's own functions
REVOKE ALL ON zvt._api_keys FROM PUBLIC;
-- pg_dump keeps the sealed rows (ciphertext only) with the ledger
SELECT pg_catalog.pg_extension_config_dump('zvt._api_keys', '');
SELECT pg_catalog.pg_extension_config_dump('zvt._api_keys_key_id_seq', '');

-- the public face of the caller's keys: read as the table's owner, non-secret columns only
CREATE FUNCTION zvt._api_key_list()
    RETURNS TABLE (account pg_catalog.text, exchange pg_catalog.text, key_id pg_catalog.int8,
                   fingerprint pg_catalog.text, created_at pg_catalog.timestamptz, account_id pg_catalog.int4)
    LANGUAGE C STABLE
    AS 'MODULE_PATHNAME', 'zvt_api_key_list';
COMMENT ON FUNCTION zvt._api_key_list() IS
    'Internal: key id, fingerprint and creation time of the API keys of the accounts the calling role may use (the zvt.api_keys view).';

CREATE VIEW zvt.api_keys WITH (security_invoker = true) AS
SELECT account, exchange, key_id, fingerprint, created_at, account_id FROM zvt._api_key_list();
COMMENT ON VIEW zvt.api_keys IS
    'The API keys of the accounts you may use: key id, fingerprint of the exchange API key, creation time; never a secret.';
-- every role sees the keys of its own accounts (the function filters)
GRANT SELECT ON zvt.api_keys TO PUBLIC;

CREATE FUNCTION zvt._set_api_key(caller pg_catalog.oid, account pg_catalog.text, api_key pg_catalog.text,
                                 secret pg_catalog.text, passphrase pg_catalog.text)
    RETURNS zvt.api_keys
    LANGUAGE C VOLATILE CALLED ON NULL INPUT
    AS 'MODULE_PATHNAME', 'zvt_set_api_key';
COMMENT ON FUNCTION zvt._set_api_key(pg_catalog.oid, pg_catalog.text, pg_catalog.text, pg_catalog.text,
    pg_catalog.text) IS 'Internal: zvt.set_api_key''s body.';
REVOKE ALL ON FUNCTION zvt._set_api_key(pg_catalog.oid, pg_catalog.text, pg_catalog.text, pg_catalog.text,
    pg_catalog.text) FROM PUBLIC;

CREATE FUNCTION zvt.set_api_key(account pg_catalog.text, api_key pg_catalog.text, secret pg_catalog.text,
                                passphrase pg_catalog.text DEFAULT NULL)
    RETURNS zvt.api_keys
    LANGUAGE C VOLATILE CALLED ON NULL INPUT
    AS 'MODULE_PATHNAME', 'zvt_ledger_call';
COMMENT ON FUNCTION zvt.set_api_key(pg_catalog.text, pg_catalog.text, pg_catalog.text, pg_catalog.text) IS
    'Store a live account''s exchange API key, secret and passphrase (OKX), sealed under the master key, in place of the previous ones; the account''s owner only.';

CREATE FUNCTION zvt._check_api_key(caller pg_catalog.oid, account pg_catalog.text)
    RETURNS zvt.api_keys
    LANGUAGE C VOLATILE CALLED ON NULL INPUT
    AS 'MODULE_PATHNAME', 'zvt_check_api_key';
COMMENT ON FUNCTION zvt._check_api_key(pg_catalog.oid, pg_catalog.text) IS 'Internal: zvt.check_api_key''s body.';
REVOKE ALL ON FUNCTION zvt._check_api_key(pg_catalog.oid, pg_catalog.text) FROM PUBLIC;

CREATE FUNCTION zvt.check_api_key(account pg_catalog.text)
    RETURNS zvt.api_keys
    LANGUAGE C VOLATILE CALLED ON NULL INPUT
    AS 'MODULE_PATHNAME', 'zvt_ledger_call';
COMMENT ON FUNCTION zvt.check_api_key(pg_catalog.text) IS
    'Prove that a live account''s API key opens under the current master key and return its public face (55000 if not); for roles that may use the account.';

CREATE FUNCTION zvt.rotate_key_file(new_path pg_catalog.text, old_path pg_catalog.text DEFAULT NULL)
    RETURNS pg_catalog.int4
    LANGUAGE C VOLATILE CALLED ON NULL INPUT
    SET search_path = pg_catalog, pg_temp
    AS 'MODULE_PATHNAME', 'zvt_rotate_key_file';
COMMENT ON FUNCTION zvt.rotate_key_file(pg_catalog.text, pg_catalog.text) IS
    'Re-seal every API key from the master key in old_path (default zvt.key_file) under the one in new_path (superusers only); then set zvt.key_file to new_path and reload.';
-- the master key is a superuser's business (the function checks too)
REVOKE ALL ON FUNCTION zvt.rotate_key_file(pg_catalog.text, pg_catalog.text) FROM PUBLIC;

-- ===================================================================
-- New in 0.2.0: compressed chunks (src/compress, docs/hypertables.md): the table
-- access method zvt_compressed, the table of batches behind it,
-- compress_chunk / decompress_chunk, compression policies applied by the
-- maintenance worker, and zvt.chunks.
-- ===================================================================

CREATE FUNCTION zvt._compressed_handler(pg_catalog.internal)
    RETURNS pg_catalog.table_am_handler
    LANGUAGE C STRICT
    AS 'MODULE_PATHNAME', 'zvt_compressed_handler';
COMMENT ON FUNCTION zvt._compressed_handler(pg_catalog.internal) IS
    'Internal: the handler of the zvt_compressed table access method.';
-- only the server calls a handler (it takes internal)
REVOKE ALL ON FUNCTION zvt._compressed_handler(pg_catalog.internal) FROM PUBLIC;

CREATE ACCESS METHOD zvt_compressed TYPE TABLE HANDLER zvt._compressed_handler;
COMMENT ON ACCESS METHOD zvt_compressed IS
    'Compressed chunks: rows kept as column-compressed batches in zvt._compressed_batches; use zvt.compress_chunk.';

-- One row per batch of up to 1000 rows of a compressed chunk, keyed by
-- the chunk storage's random id (in its metapage) and the batch number.
-- An extension member without pg_extension_config_dump: pg_dump leaves
-- it out and writes the chunks' rows instead, which restore as batches.
CREATE TABLE zvt._compressed_batches (
    storage_id  pg_catalog.int8 NOT NULL,
    seq         pg_catalog.int8 NOT NULL,
    nrows       pg_catalog.int4 NOT NULL,
    late        pg_catalog.bool NOT NULL,
    batch       pg_catalog.bytea NOT NULL,
    PRIMARY KEY (storage_id, seq)
);
-- batches are compressed already: TOAST stores them as they are
ALTER TABLE zvt._compressed_batches ALTER COLUMN batch SET STORAGE EXTERNAL;
COMMENT ON TABLE zvt._compressed_batches IS
    'Internal: the batches of compressed chunks, read and written only by zvt''s C code through the chunks.';
-- rows of every role's chunks: reached only through the chunks, whose privileges apply
REVOKE ALL ON zvt._compressed_batches FROM PUBLIC;

-- Compression settings and policy of a hypertable.
CREATE TABLE zvt._compression_settings (
    relid           pg_catalog.regclass PRIMARY KEY,
    compress_after  pg_catalog.interval NOT NULL,
    segment_by      pg_catalog.name[],
    order_by        pg_catalog.text
);
COMMENT ON TABLE zvt._compression_settings IS
    'Internal: compression policies (zvt.add_compression_policy); see zvt.chunks for their effect.';
-- public knowledge; a table's owner edits its own row
ALTER TABLE zvt._compression_settings ENABLE ROW LEVEL SECURITY;
CREATE POLICY compression_settings_read ON zvt._compression_settings FOR SELECT USING (true);
CREATE POLICY compression_settings_owner ON zvt._compression_settings FOR ALL
    USING (pg_catalog.pg_has_role((SELECT c.relowner FROM pg_catalog.pg_class c
                                    WHERE c.oid = relid), 'USAGE'))
    WITH CHECK (pg_catalog.pg_has_role((SELECT c.relowner FROM pg_catalog.pg_class c
                                         WHERE c.oid = relid), 'USAGE'));
GRANT SELECT, INSERT, UPDATE, DELETE ON zvt._compression_settings TO PUBLIC;
SELECT pg_catalog.pg_extension_config_dump('zvt._compression_settings', '');

-- What a chunk was before its first compression.
CREATE TABLE zvt._compressed_chunks (
    chunk           pg_catalog.regclass PRIMARY KEY,
    hypertable      pg_catalog.regclass NOT NULL,
    rows_before     pg_catalog.int8 NOT NULL,
    bytes_before    pg_catalog.int8 NOT NULL,
    compressed_at   pg_catalog.timestamptz NOT NULL DEFAULT pg_catalog.now()
);
COMMENT ON TABLE zvt._compressed_chunks IS
    'Internal: rows and bytes of chunks before compression; see zvt.chunks.';
ALTER TABLE zvt._compressed_chunks ENABLE ROW LEVEL SECURITY;
CREATE POLICY compressed_chunks_read ON zvt._compressed_chunks FOR SELECT USING (true);
CREATE POLICY compressed_chunks_owner ON zvt._compressed_chunks FOR ALL
    USING (pg_catalog.pg_has_role((SELECT c.relowner FROM pg_catalog.pg_class c
                                    WHERE c.oid = hypertable), 'USAGE'))
    WITH CHECK (pg_catalog.pg_has_role((SELECT c.relowner FROM pg_catalog.pg_class c
                                         WHERE c.oid = hypertable), 'USAGE'));
-- compress_chunk runs as its caller, who owns the hypertable
GRANT SELECT, INSERT, UPDATE, DELETE ON zvt._compressed_chunks TO PUBLIC;
SELECT pg_catalog.pg_extension_config_dump('zvt._compressed_chunks', '');

-- -------------------------------------------------------------------
-- C primitives (src/compress/compress.c)
-- -------------------------------------------------------------------

CREATE FUNCTION zvt._rewrite_chunk(chunk pg_catalog.regclass,
                                   compress pg_catalog.bool,
                                   segment_by pg_catalog.name[],
                                   order_by pg_catalog.text,
                                   OUT rows pg_catalog.int8,
                                   OUT batches pg_catalog.int8)
    RETURNS record
    LANGUAGE C VOLATILE
    AS 'MODULE_PATHNAME', 'zvt_rewrite_chunk';
COMMENT ON FUNCTION zvt._rewrite_chunk(pg_catalog.regclass, pg_catalog.bool, pg_catalog.name[], pg_catalog.text) IS
    'Internal: compress or decompress one chunk, as its hypertable''s owner; use zvt.compress_chunk and zvt.decompress_chunk.';
-- it checks that the caller has the hypertable owner's privileges itself
GRANT EXECUTE ON FUNCTION zvt._rewrite_chunk(pg_catalog.regclass, pg_catalog.bool, pg_catalog.name[], pg_catalog.text) TO PUBLIC;

CREATE FUNCTION zvt._compressed_stats(chunk pg_catalog.regclass,
                                      OUT batches pg_catalog.int8,
                                      OUT rows pg_catalog.int8,
                                      OUT late_rows pg_catalog.int8,
                                      OUT batch_bytes pg_catalog.int8)
    RETURNS SETOF record
    LANGUAGE C STRICT STABLE
    AS 'MODULE_PATHNAME', 'zvt_compressed_stats';
COMMENT ON FUNCTION zvt._compressed_stats(pg_catalog.regclass) IS
    'Internal: batches, rows, late rows and stored bytes of a compressed chunk (no row when it is not compressed or not readable).';
-- it answers only for chunks the caller may SELECT
GRANT EXECUTE ON FUNCTION zvt._compressed_stats(pg_catalog.regclass) TO PUBLIC;

-- -------------------------------------------------------------------
-- Compressing and decompressing chunks
-- -------------------------------------------------------------------

-- segment_by when no policy names one: instrument_id, when the table has it
CREATE FUNCTION zvt._default_segment_by(relation pg_catalog.regclass)
    RETURNS pg_catalog.name[]
    LANGUAGE sql STABLE
    SET search_path = pg_catalog, pg_temp
AS $$
    SELECT CASE WHEN EXISTS (SELECT 1 FROM pg_attribute a
                              WHERE a.attrelid = relation AND a.attname = 'instrument_id'
                                AND NOT a.attisdropped)
                THEN ARRAY['instrument_id']::name[] END
$$;
COMMENT ON FUNCTION zvt._default_segment_by(pg_catalog.regclass) IS
    'Internal: the segment_by used without a compression policy.';

CREATE FUNCTION zvt.compress_chunk(chunk pg_catalog.regclass)
    RETURNS pg_catalog.regclass
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    parent regclass;
    s zvt._compression_settings;
    seg name[];
    was bool;
    bytes_before int8;
    r record;
BEGIN
    IF chunk IS NULL THEN
        RAISE EXCEPTION 'chunk must not be null' USING ERRCODE = '22023';
    END IF;
    SELECT i.inhparent INTO parent FROM pg_inherits i WHERE i.inhrelid = chunk;
    SELECT * INTO s FROM zvt._compression_settings x WHERE x.relid = parent;
    seg := CASE WHEN FOUND THEN s.segment_by ELSE zvt._default_segment_by(parent) END;
    was := EXISTS (SELECT 1 FROM pg_class c JOIN pg_am am ON am.oid = c.relam
                    WHERE c.oid = chunk AND am.amname = 'zvt_compressed');
    IF NOT was THEN
        bytes_before := pg_total_relation_size(chunk);
    END IF;
    -- checks that chunk is a chunk and the caller owns its hypertable
    SELECT * INTO r FROM zvt._rewrite_chunk(chunk, true, seg, s.order_by);
    IF was THEN
        UPDATE zvt._compressed_chunks SET compressed_at = now() WHERE zvt._compressed_chunks.chunk = $1;
    ELSE
        INSERT INTO zvt._compressed_chunks AS c (chunk, hypertable, rows_before, bytes_before)
        VALUES ($1, parent, r.rows, bytes_before)
        ON CONFLICT ON CONSTRAINT _compressed_chunks_pkey DO UPDATE
           SET hypertable = excluded.hypertable, rows_before = excluded.rows_before,
               bytes_before = excluded.bytes_before, compressed_at = now();
    END IF;
    RETURN chunk;
END;
$$;
COMMENT ON FUNCTION zvt.compress_chunk(pg_catalog.regclass) IS
    'Compress a chunk into column-compressed batches (it stays a partition of its hypertable); compressing it again merges rows written since. Needs the hypertable owner''s privileges.';

CREATE FUNCTION zvt.decompress_chunk(chunk pg_catalog.regclass)
    RETURNS pg_catalog.regclass
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    r record;
BEGIN
    IF chunk IS NULL THEN
        RAISE EXCEPTION 'chunk must not be null' USING ERRCODE = '22023';
    END IF;
    SELECT * INTO r FROM zvt._rewrite_chunk(chunk, false, NULL, NULL);
    IF r.rows IS NULL THEN
        RAISE NOTICE 'chunk % is not compressed', chunk;
    END IF;
    DELETE FROM zvt._compressed_chunks c WHERE c.chunk = $1;
    RETURN chunk;
END;
$$;
COMMENT ON FUNCTION zvt.decompress_chunk(pg_catalog.regclass) IS
    'Turn a compressed chunk back into an ordinary table (UPDATE and DELETE work again). Needs the hypertable owner''s privileges.';

-- -------------------------------------------------------------------
-- Policies
-- -------------------------------------------------------------------

-- 22023 unless order_by is "col [ASC|DESC] [NULLS FIRST|LAST], ..." over
-- columns of relation; 42703 for a segment_by column it lacks
CREATE FUNCTION zvt._check_compression_settings(relation pg_catalog.regclass,
                                                segment_by pg_catalog.name[],
                                                order_by pg_catalog.text)
    RETURNS void
    LANGUAGE plpgsql STABLE
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    col text;
    item text;
    m text[];
BEGIN
    FOREACH col IN ARRAY COALESCE(segment_by, '{}') LOOP
        IF NOT EXISTS (SELECT 1 FROM pg_attribute a WHERE a.attrelid = relation
                          AND a.attname = col AND a.attnum > 0 AND NOT a.attisdropped) THEN
            RAISE EXCEPTION 'column "%" of "%" does not exist', col, relation
                USING ERRCODE = '42703';
        END IF;
    END LOOP;
    FOREACH item IN ARRAY COALESCE(string_to_array(order_by, ','), '{}') LOOP
        m := regexp_match(item, '^\s*("(?:[^"]|"")+"|[A-Za-z_][A-Za-z0-9_$]*)(\s+(?:asc|desc))?(\s+nulls\s+(?:first|last))?\s*$', 'i');
        IF m IS NULL THEN
            RAISE EXCEPTION 'invalid order_by: "%"', order_by
                USING ERRCODE = '22023',
                      HINT = 'Write columns with optional ASC or DESC and NULLS FIRST or LAST, separated by commas: ''ts DESC''.';
        END IF;
        col := CASE WHEN left(m[1], 1) = '"' THEN replace(substr(m[1], 2, length(m[1]) - 2), '""', '"')
                    ELSE lower(m[1]) END;
        IF NOT EXISTS (SELECT 1 FROM pg_attribute a WHERE a.attrelid = relation
                          AND a.attname = col AND a.attnum > 0 AND NOT a.attisdropped) THEN
            RAISE EXCEPTION 'column "%" of "%" does not exist', col, relation
                USING ERRCODE = '42703';
        END IF;
    END LOOP;
END;
$$;
COMMENT ON FUNCTION zvt._check_compression_settings(pg_catalog.regclass, pg_catalog.name[], pg_catalog.text) IS
    'Internal: validate segment_by and order_by of a compression policy.';

CREATE FUNCTION zvt.add_compression_policy(relation pg_catalog.regclass,
                                           compress_after pg_catalog.interval,
                                           segment_by pg_catalog.name[] DEFAULT NULL,
                                           order_by pg_catalog.text DEFAULT NULL,
                                           if_not_exists pg_catalog.bool DEFAULT false)
    RETURNS void
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    h zvt._hypertables := zvt._hypertable_or_error(relation);
BEGIN
    IF compress_after IS NULL OR compress_after <= interval '0' THEN
        RAISE EXCEPTION 'compress_after must be greater than zero'
            USING ERRCODE = '22023';
    END IF;
    PERFORM zvt._check_compression_settings(relation, segment_by, order_by);
    IF EXISTS (SELECT 1 FROM zvt._compression_settings s WHERE s.relid = relation) THEN
        IF if_not_exists THEN
            RAISE NOTICE 'compression policy already exists for "%", skipping', relation;
            RETURN;
        END IF;
        RAISE EXCEPTION 'compression policy already exists for "%"', relation
            USING ERRCODE = '55000',
                  HINT = 'Call zvt.remove_compression_policy first to change it.';
    END IF;
    BEGIN
        INSERT INTO zvt._compression_settings (relid, compress_after, segment_by, order_by)
        VALUES (relation, compress_after, COALESCE(segment_by, zvt._default_segment_by(relation)), order_by);
    EXCEPTION WHEN insufficient_privilege THEN
        RAISE EXCEPTION 'must be owner of table %', relation USING ERRCODE = '42501';
    END;
END;
$$;
COMMENT ON FUNCTION zvt.add_compression_policy(pg_catalog.regclass, pg_catalog.interval, pg_catalog.name[], pg_catalog.text, pg_catalog.bool) IS
    'Have the maintenance worker compress chunks whose data is all older than compress_after, in batches per segment_by value (default instrument_id when the table has it) ordered by order_by (default the time column).';

CREATE FUNCTION zvt.remove_compression_policy(relation pg_catalog.regclass,
                                              if_exists pg_catalog.bool DEFAULT false)
    RETURNS void
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    h zvt._hypertables := zvt._hypertable_or_error(relation);
BEGIN
    IF NOT EXISTS (SELECT 1 FROM zvt._compression_settings s WHERE s.relid = relation) THEN
        IF if_exists THEN
            RAISE NOTICE 'no compression policy for "%", skipping', relation;
            RETURN;
        END IF;
        RAISE EXCEPTION 'no compression policy for "%"', relation
            USING ERRCODE = '42704';
    END IF;
    DELETE FROM zvt._compression_settings s WHERE s.relid = relation;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'must be owner of table %', relation USING ERRCODE = '42501';
    END IF;
END;
$$;
COMMENT ON FUNCTION zvt.remove_compression_policy(pg_catalog.regclass, pg_catalog.bool) IS
    'Stop compressing chunks of a hypertable (chunks compressed already stay compressed).';

-- The policy's part of one maintenance pass (zvt._maintenance_steps, as
-- the table's owner): compress the oldest chunk past compress_after that
-- is not compressed, or whose late rows reach 5% of its rows.  One chunk
-- a pass: the pass is one transaction, and holding ACCESS EXCLUSIVE on
-- several chunks at once could deadlock with a query that locks them in
-- another order.  A chunk whose lock is busy waits for the next pass.
CREATE FUNCTION zvt._compression_steps(rel pg_catalog.regclass)
    RETURNS pg_catalog.int8
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    s zvt._compression_settings;
    c record;
    n int8 := 0;
BEGIN
    SELECT * INTO s FROM zvt._compression_settings x WHERE x.relid = rel;
    IF NOT FOUND THEN
        RETURN 0;
    END IF;
    FOR c IN SELECT ch.chunk
               FROM zvt._chunks(rel) ch
               JOIN pg_class cl ON cl.oid = ch.chunk
               LEFT JOIN pg_am am ON am.oid = cl.relam
               LEFT JOIN LATERAL zvt._compressed_stats(ch.chunk) st ON true
              WHERE NOT ch.is_default AND ch.range_end <= now() - s.compress_after
                AND (am.amname IS DISTINCT FROM 'zvt_compressed' OR st.late_rows * 20 >= st.rows AND st.late_rows > 0)
              ORDER BY ch.range_start
              LIMIT 1
    LOOP
        BEGIN
            PERFORM zvt.compress_chunk(c.chunk);
            n := n + 1;
            RAISE LOG 'zvt maintenance of "%": compressed chunk %', rel, c.chunk;
        EXCEPTION WHEN lock_not_available THEN
            RAISE LOG 'zvt maintenance: chunk % is busy, compressing it at the next pass', c.chunk;
        END;
    END LOOP;
    RETURN n;
END;
$$;
COMMENT ON FUNCTION zvt._compression_steps(pg_catalog.regclass) IS
    'Internal: apply a hypertable''s compression policy once, as the caller; part of zvt._maintenance_steps.';
-- it does only what its caller may do (compress_chunk checks)
GRANT EXECUTE ON FUNCTION zvt._compression_steps(pg_catalog.regclass) TO PUBLIC;

-- -------------------------------------------------------------------
-- zvt.chunks
-- -------------------------------------------------------------------

-- A view's row type gets an array type named after it with a leading
-- underscore: zvt._chunks would be that array type, and then
-- zvt._chunks('t') would parse as a cast to it instead of calling the
-- function zvt._chunks.  A placeholder type holds the name while the view
-- is made, so its array type is zvt.__chunks.
CREATE TYPE zvt._chunks AS (placeholder pg_catalog.int4);
CREATE VIEW zvt.chunks WITH (security_invoker = true) AS
SELECT h.relid AS hypertable,
       c.chunk,
       c.range_start,
       c.range_end,
       c.is_default,
       am.amname IS NOT DISTINCT FROM 'zvt_compressed' AS compressed,
       pg_catalog.pg_total_relation_size(c.chunk) + COALESCE(st.batch_bytes, 0) AS total_bytes,
       cc.rows_before,
       cc.bytes_before,
       st.rows AS rows_after,
       pg_catalog.pg_total_relation_size(c.chunk) + st.batch_bytes AS bytes_after,
       st.batches,
       st.late_rows,
       cc.compressed_at
  FROM zvt._hypertables h
 CROSS JOIN LATERAL zvt._chunks(h.relid) c
  JOIN pg_catalog.pg_class cl ON cl.oid = c.chunk
  LEFT JOIN pg_catalog.pg_am am ON am.oid = cl.relam
  LEFT JOIN zvt._compressed_chunks cc ON cc.chunk = c.chunk
  LEFT JOIN LATERAL zvt._compressed_stats(c.chunk) st ON true;
COMMENT ON VIEW zvt.chunks IS
    'Chunks of the hypertables the caller may read, with their compression: bytes and rows before the first compression and now (bytes_after counts the batches, the metapage and the indexes), batches, late_rows written since the last compression.';
GRANT SELECT ON zvt.chunks TO PUBLIC;
DROP TYPE zvt._chunks;

-- Forget dropped chunks' compression records.
-- SECURITY DEFINER: the dropped chunk's owner row no longer passes RLS
CREATE FUNCTION zvt._on_sql_drop_compressed() RETURNS event_trigger
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    DELETE FROM zvt._compressed_chunks c
     USING pg_event_trigger_dropped_objects() d
     WHERE d.classid = 'pg_class'::regclass AND d.objid = c.chunk::oid AND d.objsubid = 0;
    DELETE FROM zvt._compression_settings s
     USING pg_event_trigger_dropped_objects() d
     WHERE d.classid = 'pg_class'::regclass AND d.objid = s.relid::oid AND d.objsubid = 0;
END;
$$;
COMMENT ON FUNCTION zvt._on_sql_drop_compressed() IS
    'Internal: remove dropped tables from the compression catalogs.';
CREATE EVENT TRIGGER zvt_sql_drop_compressed ON sql_drop
    EXECUTE FUNCTION zvt._on_sql_drop_compressed();

-- the maintenance steps apply the compression policy too (sql/10_hypertable.sql)
CREATE OR REPLACE FUNCTION zvt._maintenance_steps(rel pg_catalog.regclass,
        OUT chunks_created pg_catalog.int8,
        OUT rows_moved pg_catalog.int8,
        OUT chunks_dropped pg_catalog.int8)
    RETURNS record
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    h zvt._hypertables;
    ahead int := COALESCE(current_setting('zvt.chunks_ahead', true)::int, 1);
    is_tz bool;
    tcol text;
    deflt regclass;
    t timestamptz;
    horizon timestamptz;
    r record;
BEGIN
    chunks_created := 0;
    rows_moved := 0;
    chunks_dropped := 0;
    SELECT * INTO h FROM zvt._hypertables x WHERE x.relid = rel;
    IF NOT FOUND THEN
        RETURN;
    END IF;
    SELECT a.atttypid = 'timestamptz'::regtype INTO is_tz
      FROM pg_attribute a WHERE a.attrelid = rel AND a.attname = h.time_column;
    -- a timestamp column's values are read as UTC, like its chunk bounds
    tcol := CASE WHEN is_tz THEN quote_ident(h.time_column)
                 ELSE format('(%I AT TIME ZONE ''UTC'')', h.time_column) END;

    -- chunks from now to the end of the grid cell `ahead` cells on, chunk
    -- after chunk (after zvt.set_chunk_interval a cell may hold a chunk
    -- of the old interval and a new chunk cut to fit beside it)
    horizon := COALESCE(zvt._chunk_start(now(), h.chunk_interval, ahead + 1), 'infinity');
    t := now();
    WHILE t < horizon LOOP
        SELECT * INTO r FROM zvt._ensure_chunk(rel, t);
        EXIT WHEN r.chunk IS NULL;
        chunks_created := chunks_created + r.created::int;
        rows_moved := rows_moved + r.rows_moved;
        SELECT c.range_end INTO t FROM zvt._chunks(rel) c WHERE c.chunk = r.chunk;
        EXIT WHEN t IS NULL;
    END LOOP;

    IF h.retention IS NOT NULL THEN
        SELECT count(*) INTO chunks_dropped
          FROM zvt.drop_chunks(rel, now() - h.retention);
    END IF;

    -- compression policy (sql/12_compression.sql)
    PERFORM zvt._compression_steps(rel);

    -- the rows waiting in the default partition, earliest first: each
    -- _ensure_chunk moves the rows of its chunk's range, so the next
    -- earliest row lies past it (a chunk cut to fit beside one of an older
    -- interval covers less than a grid cell, hence by row, not by cell)
    SELECT c.chunk INTO deflt FROM zvt._chunks(rel) c WHERE c.is_default;
    t := '-infinity';
    WHILE deflt IS NOT NULL LOOP
        EXECUTE format('SELECT min(%s) FROM ONLY %s WHERE %s > $1
                           AND zvt._chunk_start(%s, $2) IS NOT NULL', tcol, deflt, tcol, tcol)
            INTO t USING t, h.chunk_interval;
        EXIT WHEN t IS NULL;
        SELECT * INTO r FROM zvt._ensure_chunk(rel, t);
        chunks_created := chunks_created + r.created::int;
        rows_moved := rows_moved + r.rows_moved;
        IF r.chunk IS NULL THEN
            -- busy: skip the rest of its grid cell, for the next pass
            t := zvt._chunk_start(t, h.chunk_interval, 1) - interval '1 microsecond';
        END IF;
    END LOOP;
END;
$$;
COMMENT ON FUNCTION zvt._maintenance_steps(pg_catalog.regclass) IS
    'Internal: one maintenance pass over one hypertable, as the caller; use zvt._maintain_hypertable.';

-- ===================================================================
-- wt-compress2: UPDATE, DELETE and row locks on compressed chunks
-- ===================================================================

-- Rows of compressed chunks removed by DELETE or UPDATE (or moved to
-- another chunk): one row per removed row, its MVCC visibility that of
-- the removal; new_seq/new_row name the updated version (new_seq -1: the
-- row moved to another partition).  Dropped with their storage's
-- batches; compress_chunk leaves the removed rows out.  Not dumped
-- either: pg_dump writes the chunks' live rows.
CREATE TABLE zvt._compressed_deleted (
    storage_id  pg_catalog.int8 NOT NULL,
    seq         pg_catalog.int8 NOT NULL,
    row_no      pg_catalog.int4 NOT NULL,
    new_seq     pg_catalog.int8,
    new_row     pg_catalog.int4
);
CREATE INDEX _compressed_deleted_key ON zvt._compressed_deleted (storage_id, seq, row_no);
COMMENT ON TABLE zvt._compressed_deleted IS
    'Internal: rows deleted or updated in compressed chunks, written and read only by zvt''s C code through the chunks.';
-- rows of every role's chunks: reached only through the chunks, whose privileges apply
REVOKE ALL ON zvt._compressed_deleted FROM PUBLIC;
COMMENT ON FUNCTION zvt._compressed_stats(pg_catalog.regclass) IS
    'Internal: batches, live rows, late rows (inserted, updated or deleted since the last compression) and stored bytes of a compressed chunk (no row when it is not compressed or not readable).';
COMMENT ON VIEW zvt.chunks IS
    'Chunks of the hypertables the caller may read, with their compression: bytes and rows before the first compression and now (bytes_after counts the batches, the metapage and the indexes), batches, late_rows inserted, updated or deleted since the last compression.';

-- ===================================================================
-- The web dashboard (issue 17, sql/63_dashboard.sql): zvt_api.markets,
-- indicators, book and backfill_jobs for the pages at /ui/.
-- ===================================================================

CREATE VIEW zvt_api.markets WITH (security_invoker = true) AS
SELECT t.exchange, t.symbol, i.base, i.quote, i.kind, t.last, t.bid, t.ask, t.last_ts,
       d.open_24h,
       CASE WHEN d.open_24h > 0 THEN 100 * (t.last - d.open_24h) / d.open_24h END AS change_24h_pct,
       d.volume_24h
  FROM zvt.tickers t
  JOIN zvt.instruments i ON i.exchange = t.exchange AND i.symbol = t.symbol
  LEFT JOIN LATERAL (
       SELECT (pg_catalog.array_agg(c.open ORDER BY c.ts))[1] AS open_24h,
              pg_catalog.sum(c.volume) AS volume_24h
         FROM zvt.candles c
        WHERE c.instrument_id = i.id AND c.timeframe = interval '1 minute'
          AND c.ts >= pg_catalog.now() - interval '24 hours') d ON true;
COMMENT ON VIEW zvt_api.markets IS
    'Every instrument on the market bus: last, bid, ask, and over the last 24 hours of 1-minute candles the first open, the change in percent and the base volume.';

CREATE FUNCTION zvt_api.indicators(exchange pg_catalog.text, symbol pg_catalog.text,
        timeframe pg_catalog.interval, start pg_catalog.timestamptz, finish pg_catalog.timestamptz,
        ema_fast pg_catalog.int4 DEFAULT 12, ema_slow pg_catalog.int4 DEFAULT 26,
        bb_period pg_catalog.int4 DEFAULT 20, bb_k pg_catalog.float8 DEFAULT 2,
        rsi_period pg_catalog.int4 DEFAULT 14)
    RETURNS TABLE (ts pg_catalog.timestamptz, close pg_catalog.float8,
                   ema_fast pg_catalog.float8, ema_slow pg_catalog.float8,
                   bb_mid pg_catalog.float8, bb_upper pg_catalog.float8, bb_lower pg_catalog.float8,
                   rsi pg_catalog.float8)
    LANGUAGE sql STABLE
    SET search_path = pg_catalog, pg_temp
    AS $$
    SELECT o.ts, o.close::float8,
           zvt.ema(o.close::float8, ema_fast) OVER w,
           zvt.ema(o.close::float8, ema_slow) OVER w,
           (zvt.bollinger(o.close::float8, bb_period, bb_k) OVER w).mid,
           (zvt.bollinger(o.close::float8, bb_period, bb_k) OVER w).upper,
           (zvt.bollinger(o.close::float8, bb_period, bb_k) OVER w).lower,
           zvt.rsi(o.close::float8, rsi_period) OVER w
      FROM zvt.ohlcv(exchange, symbol, timeframe, start, finish) o
    WINDOW w AS (ORDER BY o.ts)
     ORDER BY o.ts $$;
COMMENT ON FUNCTION zvt_api.indicators(pg_catalog.text, pg_catalog.text, pg_catalog.interval,
    pg_catalog.timestamptz, pg_catalog.timestamptz, pg_catalog.int4, pg_catalog.int4, pg_catalog.int4,
    pg_catalog.float8, pg_catalog.int4) IS
    'EMA (fast, slow), Bollinger bands and RSI of the closes of zvt.ohlcv over [start, finish), by zvt''s window aggregates; they warm up from start.';

CREATE FUNCTION zvt_api.book(exchange pg_catalog.text, symbol pg_catalog.text,
                             depth pg_catalog.int4 DEFAULT 20)
    RETURNS TABLE (side pg_catalog.text, level pg_catalog.int4,
                   price pg_catalog.numeric, size pg_catalog.numeric)
    LANGUAGE sql VOLATILE
    SET search_path = pg_catalog, pg_temp
    AS $$ SELECT * FROM zvt.book(exchange, symbol, depth) $$;
COMMENT ON FUNCTION zvt_api.book(pg_catalog.text, pg_catalog.text, pg_catalog.int4) IS
    'The live order book of a symbol subscribed to channel book (zvt.book): bids best first, then asks.';

CREATE VIEW zvt_api.backfill_jobs WITH (security_invoker = true) AS
SELECT j.id, j.exchange, j.symbol, j.channel, j.start_ts, j.finish_ts, j.state, j.rows_fetched,
       j.rows_written, j.pages, j.pct_done, j.cursor_ts, j.rate_waits, j.last_error,
       j.created_at, j.started_at, j.finished_at
  FROM zvt.backfill_jobs j;
COMMENT ON VIEW zvt_api.backfill_jobs IS
    'Backfill and gap-repair jobs with their progress (zvt.backfill_jobs).';

-- public market data and feed health, as the rest of zvt_api's market views
GRANT SELECT ON zvt_api.markets, zvt_api.backfill_jobs TO zvt_anon, zvt_trader;
-- functions are executable by PUBLIC by default: these are the API roles' only
REVOKE ALL ON FUNCTION zvt_api.indicators(pg_catalog.text, pg_catalog.text, pg_catalog.interval,
    pg_catalog.timestamptz, pg_catalog.timestamptz, pg_catalog.int4, pg_catalog.int4, pg_catalog.int4,
    pg_catalog.float8, pg_catalog.int4) FROM PUBLIC;
REVOKE ALL ON FUNCTION zvt_api.book(pg_catalog.text, pg_catalog.text, pg_catalog.int4) FROM PUBLIC;
-- public market data
GRANT EXECUTE ON FUNCTION zvt_api.indicators(pg_catalog.text, pg_catalog.text, pg_catalog.interval,
    pg_catalog.timestamptz, pg_catalog.timestamptz, pg_catalog.int4, pg_catalog.int4, pg_catalog.int4,
    pg_catalog.float8, pg_catalog.int4) TO zvt_anon, zvt_trader;
GRANT EXECUTE ON FUNCTION zvt_api.book(pg_catalog.text, pg_catalog.text, pg_catalog.int4)
    TO zvt_anon, zvt_trader;

-- ---- wt-history: trade history of OKX and Coinbase pages backward (pct_done) ----
CREATE OR REPLACE VIEW zvt.backfill_jobs WITH (security_invoker = true) AS
SELECT j.id, j.exchange, j.symbol, j.channel, j.start_ts, j.finish_ts, j.gap_id, j.state,
       j.rows_fetched, j.rows_written, j.pages,
       pg_catalog.round((100 * CASE
           WHEN j.state = 'done' THEN 1
           WHEN j.cursor_ts IS NULL THEN 0
           -- OKX and Coinbase page trades backward: the cursor moves down from finish
           WHEN j.channel = 'trades' AND j.exchange IN ('okx', 'coinbase') THEN least(1, greatest(0,
                    extract(epoch FROM j.finish_ts - j.cursor_ts) /
                    extract(epoch FROM j.finish_ts - j.start_ts)))
           ELSE least(1, greatest(0,
                    extract(epoch FROM j.cursor_ts - j.start_ts) /
                    extract(epoch FROM j.finish_ts - j.start_ts))) END)::pg_catalog.numeric, 1)
           AS pct_done,
       j.cursor_ts, j.rate_waits, j.wait_until, j.last_error, j.hole,
       j.created_at, j.started_at, j.finished_at
  FROM zvt._backfill_jobs j;
COMMENT ON VIEW zvt.backfill_jobs IS
    'Backfill and gap-repair jobs: state (queued, running, waiting for a rate limit, done, failed, canceled), rows fetched and actually written, pages, % of the time range covered, waits for the exchange''s rate limits, the last error, and any part of the range the exchange''s REST cannot serve (hole).';
-- progress is no secret
GRANT SELECT ON zvt.backfill_jobs TO PUBLIC;


-- ===================================================================
-- Live trading: the order router (issue #14 item 3; sql/58_router.sql).
-- ===================================================================

-- live orders' states and events
ALTER TABLE zvt.orders DROP CONSTRAINT orders_status_check;
ALTER TABLE zvt.orders ADD CONSTRAINT orders_status_check
    CHECK (status IN ('new', 'accepted', 'partially_filled', 'filled',
                      'canceled', 'rejected', 'expired',
                      'pending_new', 'sending', 'unknown', 'pending_cancel'));
ALTER TABLE zvt.order_events DROP CONSTRAINT order_events_event_check;
ALTER TABLE zvt.order_events ADD CONSTRAINT order_events_event_check
    CHECK (event IN ('new', 'accepted', 'rejected', 'triggered', 'fill',
                     'canceled', 'expired', 'sent', 'unknown', 'pending_cancel'));
COMMENT ON TABLE zvt.orders IS
    'Orders: what was asked (type, tif, prices), its status (paper: accepted, partially_filled, filled, canceled, rejected, expired; live also pending_new, sending, unknown, new, pending_cancel) and fills so far.';

-- a live order's fills keep its status until it is filled
CREATE OR REPLACE FUNCTION zvt._fill(a zvt.accounts, o zvt.orders, fqty pg_catalog.numeric, fprice pg_catalog.numeric,
                          liquidity pg_catalog.text, price_ts pg_catalog.timestamptz,
                          resting pg_catalog.bool)
    RETURNS zvt.orders
    LANGUAGE plpgsql
AS $$
DECLARE
    ins zvt.instruments;
    dir int := CASE WHEN o.side = 'buy' THEN 1 ELSE -1 END;
    fee numeric;
    q numeric := 0;
    avg numeric := 0;
    newq numeric;
    newavg numeric;
    realized numeric := 0;
    done bool;
BEGIN
    SELECT * INTO STRICT ins FROM zvt.instruments WHERE id = o.instrument_id;
    fee := trim_scale(fqty * fprice * CASE WHEN liquidity = 'maker' THEN a.maker_fee_bps
                                           ELSE a.taker_fee_bps END / 10000);

    -- the netting position
    SELECT h.qty, h.avg_price INTO q, avg FROM zvt.holdings h
     WHERE h.account_id = o.account_id AND h.instrument_id = o.instrument_id FOR UPDATE;
    q := coalesce(q, 0);
    avg := coalesce(avg, 0);
    newq := trim_scale(q + dir * fqty);
    IF q = 0 OR sign(q) = dir THEN
        newavg := trim_scale(round((abs(q) * avg + fqty * fprice) / (abs(q) + fqty), 10));
    ELSE
        realized := trim_scale(least(fqty, abs(q)) * (fprice - avg) * sign(q));
        newavg := CASE WHEN newq = 0 THEN 0 WHEN sign(newq) = sign(q) THEN avg ELSE fprice END;
    END IF;
    INSERT INTO zvt.holdings AS h (account_id, instrument_id, qty, avg_price, realized_pnl)
    VALUES (o.account_id, o.instrument_id, newq, newavg, realized)
    ON CONFLICT (account_id, instrument_id) DO UPDATE
       SET qty = EXCLUDED.qty, avg_price = EXCLUDED.avg_price,
           realized_pnl = trim_scale(h.realized_pnl + EXCLUDED.realized_pnl), updated_at = pg_catalog.now();

    -- money: spot moves both assets; a perpetual books PnL and fees in its quote
    IF ins.kind = 'spot' THEN
        INSERT INTO zvt.balances AS b (account_id, asset, amount)
        VALUES (o.account_id, ins.quote, -(dir * fqty * fprice) - fee), (o.account_id, ins.base, dir * fqty)
        ON CONFLICT (account_id, asset) DO UPDATE
           SET amount = trim_scale(b.amount + EXCLUDED.amount), updated_at = pg_catalog.now();
    ELSE
        INSERT INTO zvt.balances AS b (account_id, asset, amount)
        VALUES (o.account_id, ins.quote, realized - fee)
        ON CONFLICT (account_id, asset) DO UPDATE
           SET amount = trim_scale(b.amount + EXCLUDED.amount), updated_at = pg_catalog.now();
    END IF;
    INSERT INTO zvt.daily_pnl AS d (account_id, day, realized, fees)
    VALUES (o.account_id, (pg_catalog.clock_timestamp() AT TIME ZONE 'UTC')::date, realized, fee)
    ON CONFLICT (account_id, day) DO UPDATE
       SET realized = trim_scale(d.realized + EXCLUDED.realized), fees = trim_scale(d.fees + EXCLUDED.fees);

    INSERT INTO zvt.fills (order_id, account_id, instrument_id, exchange, symbol, side, qty, price, fee,
                           fee_asset, liquidity, realized_pnl, price_ts)
    VALUES (o.order_id, o.account_id, o.instrument_id, o.exchange, o.symbol, o.side, fqty, fprice, fee,
            ins.quote, liquidity, realized, price_ts);

    done := o.filled_qty + fqty >= o.qty;
    IF resting THEN
        PERFORM zvt._exposure(o, CASE WHEN done THEN -1 ELSE 0 END, -fqty, o.reserve_price);
    END IF;
    UPDATE zvt.orders x
       SET avg_fill_price = trim_scale(round((coalesce(x.avg_fill_price, 0) * x.filled_qty + fqty * fprice)
                                             / (x.filled_qty + fqty), 10)),
           filled_qty = trim_scale(x.filled_qty + fqty),
           fees = trim_scale(x.fees + fee),
           -- a live order's status says where it stands with the exchange
           -- (new, pending_cancel...) until it is filled; paper's becomes
           -- partially_filled, which the paper matcher reads
           status = CASE WHEN done THEN 'filled'
                         WHEN x.status IN ('accepted', 'partially_filled') THEN 'partially_filled'
                         ELSE x.status END,
           updated_at = pg_catalog.clock_timestamp()
     WHERE x.order_id = o.order_id
    RETURNING * INTO o;
    INSERT INTO zvt.order_events (order_id, account_id, event, status, qty, price)
    VALUES (o.order_id, o.account_id, 'fill', o.status, fqty, fprice);
    RETURN o;
END;
$$;

-- cancel_order and cancel_all on a live order: its router sends the cancel
CREATE OR REPLACE FUNCTION zvt._cancel_order(caller pg_catalog.oid, order_id pg_catalog.int8)
    RETURNS zvt.orders
    LANGUAGE plpgsql
AS $$
DECLARE
    o zvt.orders;
    acct int4;
BEGIN
    SELECT x.account_id INTO acct FROM zvt.orders x WHERE x.order_id = _cancel_order.order_id;
    -- an order of an account the caller may not use is unknown to it, as
    -- one that does not exist: the error tells nobody which orders exist
    IF NOT FOUND OR NOT zvt._may_use(caller, acct) THEN
        RAISE EXCEPTION 'unknown order %', coalesce(order_id::text, 'NULL')
            USING ERRCODE = '42704', HINT = 'zvt.orders lists the orders of the accounts you may use.';
    END IF;
    PERFORM zvt._lock_account(acct);
    SELECT * INTO o FROM zvt.orders x WHERE x.order_id = _cancel_order.order_id FOR UPDATE;
    -- a live order: the router sends the cancel (sql/58_router.sql)
    IF o.status IN ('pending_new', 'sending', 'unknown', 'new', 'pending_cancel') THEN
        RETURN zvt._live_cancel(o);
    END IF;
    IF o.status NOT IN ('accepted', 'partially_filled') THEN
        RAISE EXCEPTION 'order % is %', order_id, o.status
            USING ERRCODE = '55000', HINT = 'Only accepted and partially filled orders can be canceled.';
    END IF;
    RETURN zvt._close_order(o, 'canceled', NULL, true);
END;
$$;

CREATE OR REPLACE FUNCTION zvt.__cancel_all(caller pg_catalog.oid, account pg_catalog.text, exchange pg_catalog.text,
                                 symbol pg_catalog.text)
    RETURNS zvt.orders[]
    LANGUAGE plpgsql
AS $$
DECLARE
    a zvt.accounts := zvt._account(caller, account);
    iid int4;
    o zvt.orders;
    done zvt.orders[] := '{}';
BEGIN
    IF symbol IS NOT NULL AND exchange IS NULL THEN
        RAISE EXCEPTION 'symbol needs an exchange' USING ERRCODE = '22023';
    END IF;
    IF symbol IS NOT NULL THEN
        iid := zvt._instrument_id(exchange, symbol);
    ELSIF exchange IS NOT NULL THEN
        PERFORM zvt._check_exchange(exchange);
    END IF;
    PERFORM zvt._lock_account(a.account_id);
    FOR o IN SELECT * FROM zvt.orders x
              WHERE x.account_id = a.account_id
                AND x.status IN ('accepted', 'partially_filled', 'pending_new', 'sending', 'unknown', 'new')
                AND (iid IS NULL OR x.instrument_id = iid)
                AND (__cancel_all.exchange IS NULL OR x.exchange = __cancel_all.exchange)
              ORDER BY x.order_id FOR UPDATE
    LOOP
        -- a live order: canceled if not yet sent, else its router sends the cancel
        IF o.status IN ('accepted', 'partially_filled') THEN
            done := done || zvt._close_order(o, 'canceled', NULL, true);
        ELSE
            done := done || zvt._live_cancel(o);
        END IF;
    END LOOP;
    RETURN done;
END;
$$;

-- the kill switch: halting a live account cancels its open orders on the exchange
CREATE OR REPLACE FUNCTION zvt._set_trading_state(caller pg_catalog.oid, account pg_catalog.text, state pg_catalog.text)
    RETURNS zvt.accounts
    LANGUAGE plpgsql
AS $$
DECLARE
    a zvt.accounts := zvt._account(caller, account, true);
BEGIN
    IF state IS NULL OR state NOT IN ('active', 'reducing', 'halted') THEN
        RAISE EXCEPTION 'unknown trading state "%"', coalesce(state, 'NULL')
            USING ERRCODE = '22023',
                  HINT = 'States are active, reducing (only orders that reduce a position) and halted (no orders).';
    END IF;
    PERFORM zvt._lock_account(a.account_id);
    UPDATE zvt.accounts x SET state = _set_trading_state.state
     WHERE x.account_id = a.account_id RETURNING * INTO a;
    -- the kill switch: halting a live account cancels its open orders on
    -- the exchange (its router sends the cancels; sql/58_router.sql)
    IF state = 'halted' AND a.kind = 'live' THEN
        PERFORM zvt._live_cancel(o)
           FROM zvt.orders o
          WHERE o.account_id = a.account_id
            AND o.status IN ('pending_new', 'sending', 'unknown', 'new')
          ORDER BY o.order_id;
    END IF;
    RETURN a;
END;
$$;
COMMENT ON FUNCTION zvt.set_trading_state(pg_catalog.text, pg_catalog.text) IS
    'Set an account''s trading state: active, reducing (only orders that reduce a position) or halted (every order rejected; a live account''s open orders are canceled on its exchange).';
COMMENT ON FUNCTION zvt.cancel_order(pg_catalog.int8) IS
    'Cancel an open order (accepted or partially filled; a live order not yet sent, or open on its exchange: pending_cancel, the router sends the cancel) of an account the caller may use; returns it.';
COMMENT ON FUNCTION zvt.place_order(pg_catalog.text, pg_catalog.text, pg_catalog.text, pg_catalog.text,
    pg_catalog.numeric, pg_catalog.text, pg_catalog.numeric, pg_catalog.numeric, pg_catalog.numeric,
    pg_catalog.text, pg_catalog.text, pg_catalog.bool, pg_catalog.bool) IS
    'Place an order on an account the caller may use: validated, risk-checked under the account''s lock, then filled, rested or rejected (paper), or committed as pending_new for the exchange''s router (live, with zvt.live_trading on); returns the order.';

-- the outbox's side table, the router's functions (as sql/58_router.sql)

CREATE TABLE zvt._live_orders (
    order_id    pg_catalog.int8 PRIMARY KEY REFERENCES zvt.orders,
    account_id  pg_catalog.int4 NOT NULL,
    exchange_id pg_catalog.text,            -- the exchange's id, once it said
    sent_at     pg_catalog.timestamptz,     -- when marked sending (just before the request)
    acked_at    pg_catalog.timestamptz,     -- when the exchange's acknowledgement arrived
    sends       pg_catalog.int4 NOT NULL DEFAULT 0,    -- place requests made (a resend follows "not found")
    tries       pg_catalog.int4 NOT NULL DEFAULT 0,    -- failed attempts in a row (back-off)
    next_at     pg_catalog.timestamptz,     -- not before then (back-off, polling); NULL: now
    error       pg_catalog.text             -- the last failure, cleared by a good reply
);
COMMENT ON TABLE zvt._live_orders IS
    'Internal: the router''s side of each live order sent: the exchange''s order id, when it was sent and acknowledged, retries and the last error.';
-- written by the router and the trading functions only; each role reads its accounts' rows, as zvt.orders
REVOKE ALL ON zvt._live_orders FROM PUBLIC;
GRANT SELECT ON zvt._live_orders TO PUBLIC;
ALTER TABLE zvt._live_orders ENABLE ROW LEVEL SECURITY;
CREATE POLICY _live_orders_visible ON zvt._live_orders FOR SELECT
    USING (account_id OPERATOR(pg_catalog.=) ANY ((SELECT zvt._my_accounts())::pg_catalog.int4[]));
SELECT pg_catalog.pg_extension_config_dump('zvt._live_orders', '');

-- the live orders not yet final, per exchange (paper orders never take these states)
CREATE INDEX orders_live_idx ON zvt.orders (exchange, order_id)
    WHERE status IN ('pending_new', 'sending', 'unknown', 'new', 'pending_cancel');
COMMENT ON INDEX zvt.orders_live_idx IS
    'Live routing: the orders of each exchange its router has yet to send, resolve, poll or cancel.';

-- what is due: a pass reads the due rows only, however many orders are open
CREATE INDEX _live_orders_due_idx ON zvt._live_orders (next_at NULLS FIRST);
COMMENT ON INDEX zvt._live_orders_due_idx IS
    'Live routing: the sent orders due a query or cancel (next_at NULL or past; final orders are parked at infinity).';

CREATE VIEW zvt.live_orders WITH (security_invoker = true) AS
SELECT o.order_id, o.account_id, o.exchange, o.symbol, o.status, l.exchange_id, l.sent_at, l.acked_at,
       l.sends, l.error
  FROM zvt.orders o JOIN zvt._live_orders l USING (order_id);
COMMENT ON VIEW zvt.live_orders IS
    'Live orders the router sent: the exchange''s order id, sent and acknowledged times, place requests made, the last error.';
-- read as the caller: row security shows the orders of your accounts
GRANT SELECT ON zvt.live_orders TO PUBLIC;

-- zvt.cancel_order's live half, called under the account's lock with
-- the order locked: an order not yet sent is canceled at once; one sent
-- becomes pending_cancel and its router sends the cancel.
CREATE FUNCTION zvt._live_cancel(o zvt.orders) RETURNS zvt.orders
    LANGUAGE plpgsql
AS $$
BEGIN
    IF o.status = 'pending_new' THEN
        RETURN zvt._close_order(o, 'canceled', 'canceled before it was sent', true);
    END IF;
    IF o.status = 'pending_cancel' THEN
        RETURN o;
    END IF;
    UPDATE zvt.orders x SET status = 'pending_cancel', updated_at = pg_catalog.clock_timestamp()
     WHERE x.order_id = o.order_id
    RETURNING * INTO o;
    UPDATE zvt._live_orders l SET next_at = NULL WHERE l.order_id = o.order_id;
    INSERT INTO zvt.order_events (order_id, account_id, event, status, qty)
    VALUES (o.order_id, o.account_id, 'pending_cancel', 'pending_cancel', o.qty - o.filled_qty);
    PERFORM zvt._router_wake(o.exchange);
    RETURN o;
END;
$$;
COMMENT ON FUNCTION zvt._live_cancel(zvt.orders) IS
    'Internal: cancel a live order: at once if not yet sent, else pending_cancel for its router.';
REVOKE ALL ON FUNCTION zvt._live_cancel(zvt.orders) FROM PUBLIC;

CREATE FUNCTION zvt._router_wake(exchange pg_catalog.text) RETURNS void
    LANGUAGE C VOLATILE STRICT
    AS 'MODULE_PATHNAME', 'zvt_router_wake';
COMMENT ON FUNCTION zvt._router_wake(pg_catalog.text) IS
    'Internal: wake the exchange''s order router when the transaction commits.';
REVOKE ALL ON FUNCTION zvt._router_wake(pg_catalog.text) FROM PUBLIC;

-- What the router of exchange should do now, up to lim requests: first
-- the pending orders, marked sending here (the caller commits before it
-- sends: the outbox's "sent" mark), as op 'place'; then the orders due a
-- query (sending or unknown, not in flight: after a crash or a lost
-- reply; open ones every poll) or a cancel.  inflight: the orders the
-- router has a request out for.
CREATE FUNCTION zvt._router_work(exchange pg_catalog.text, inflight pg_catalog.int8[], lim pg_catalog.int4)
    RETURNS TABLE (op pg_catalog.text, order_id pg_catalog.int8, account_id pg_catalog.int4,
                   symbol pg_catalog.text, side pg_catalog.text, type pg_catalog.text,
                   qty pg_catalog.text, price pg_catalog.text, tif pg_catalog.text,
                   post_only pg_catalog.bool, reduce_only pg_catalog.bool, exchange_id pg_catalog.text)
    LANGUAGE plpgsql
AS $$
DECLARE
    n int;
BEGIN
    RETURN QUERY
    WITH due AS (
        SELECT x.order_id FROM zvt.orders x
         WHERE x.exchange = _router_work.exchange AND x.status = 'pending_new'
           AND x.order_id <> ALL (inflight)
         ORDER BY x.order_id LIMIT lim
           FOR UPDATE SKIP LOCKED
    ), sent AS (
        UPDATE zvt.orders x SET status = 'sending', updated_at = pg_catalog.clock_timestamp()
          FROM due WHERE x.order_id = due.order_id AND x.status = 'pending_new'
        RETURNING x.*
    ), ev AS (
        INSERT INTO zvt.order_events (order_id, account_id, event, status, qty)
        SELECT s.order_id, s.account_id, 'sent', 'sending', s.qty FROM sent s
    ), l AS (
        INSERT INTO zvt._live_orders AS l (order_id, account_id, sent_at, sends)
        SELECT s.order_id, s.account_id, pg_catalog.clock_timestamp(), 1 FROM sent s
        ON CONFLICT ON CONSTRAINT _live_orders_pkey DO UPDATE
           SET sent_at = EXCLUDED.sent_at, sends = l.sends + 1, next_at = NULL
    )
    SELECT 'place', s.order_id, s.account_id, s.symbol, s.side, s.type, s.qty::text, s.price::text,
           s.tif, s.post_only, s.reduce_only, NULL::text
      FROM sent s ORDER BY s.order_id;
    GET DIAGNOSTICS n = ROW_COUNT;
    IF n >= lim THEN
        RETURN;
    END IF;
    -- final orders that fell due are parked, so that the due rows stay few
    UPDATE zvt._live_orders l SET next_at = 'infinity'
      FROM zvt.orders x
     WHERE x.order_id = l.order_id
       AND (l.next_at IS NULL OR l.next_at <= pg_catalog.clock_timestamp())
       AND x.status NOT IN ('pending_new', 'sending', 'unknown', 'new', 'pending_cancel');
    RETURN QUERY
    SELECT CASE WHEN x.status = 'pending_cancel' AND l.exchange_id IS NOT NULL THEN 'cancel' ELSE 'query' END,
           x.order_id, x.account_id, x.symbol, x.side, x.type, x.qty::text, x.price::text,
           x.tif, x.post_only, x.reduce_only, l.exchange_id
      FROM zvt._live_orders l JOIN zvt.orders x ON x.order_id = l.order_id
     WHERE (l.next_at IS NULL OR l.next_at <= pg_catalog.clock_timestamp())
       AND x.exchange = _router_work.exchange
       AND x.status IN ('sending', 'unknown', 'new', 'pending_cancel')
       AND x.order_id <> ALL (inflight)
       AND l.sent_at < pg_catalog.now()     -- not those just marked for sending above
     ORDER BY l.next_at NULLS FIRST, x.order_id
     LIMIT lim - n;
END;
$$;
COMMENT ON FUNCTION zvt._router_work(pg_catalog.text, pg_catalog.int8[], pg_catalog.int4) IS
    'Internal: the order router''s next requests: pending orders marked sending (to place), then queries and cancels due.';
REVOKE ALL ON FUNCTION zvt._router_work(pg_catalog.text, pg_catalog.int8[], pg_catalog.int4) FROM PUBLIC;

-- A router's start: every order of its exchange it has yet to finish is
-- due at once (those a crash left sending or unknown are queried, open
-- ones polled, cancels sent): what the ledger holds is checked against
-- the exchange before anything else.
CREATE FUNCTION zvt._router_start(exchange pg_catalog.text) RETURNS pg_catalog.int4
    LANGUAGE sql
AS $$
    WITH due AS (
        UPDATE zvt._live_orders l SET next_at = NULL, tries = 0
          FROM zvt.orders x
         WHERE x.order_id = l.order_id AND x.exchange = _router_start.exchange
           AND x.status IN ('sending', 'unknown', 'new', 'pending_cancel')
        RETURNING 1
    )
    SELECT pg_catalog.count(*)::pg_catalog.int4 FROM due
$$;
COMMENT ON FUNCTION zvt._router_start(pg_catalog.text) IS
    'Internal: at a router''s start, make every unfinished live order of its exchange due for a query or cancel now.';
REVOKE ALL ON FUNCTION zvt._router_start(pg_catalog.text) FROM PUBLIC;

-- Whether the exchange has live orders its router has yet to finish.
CREATE FUNCTION zvt._router_busy(exchange pg_catalog.text) RETURNS pg_catalog.bool
    LANGUAGE sql STABLE
AS $$
    SELECT EXISTS (SELECT 1 FROM zvt.orders x
                    WHERE x.exchange = _router_busy.exchange
                      AND x.status IN ('pending_new', 'sending', 'unknown', 'new', 'pending_cancel'))
$$;
COMMENT ON FUNCTION zvt._router_busy(pg_catalog.text) IS
    'Internal: does the exchange have live orders not yet final (the router keeps running while it does)?';
REVOKE ALL ON FUNCTION zvt._router_busy(pg_catalog.text) FROM PUBLIC;

-- Book the exchange's reply to a request for live order order_id, under
-- the account's lock.  op: place, query, cancel; kind: ok, rejected,
-- not_found, auth, clock, rate, unknown (src/live/route.h); xstatus the
-- order's status as the exchange gave it; filled and filled_quote its
-- cumulative executed quantity and quote amount (a fill is what grew
-- since the ledger last booked, so the same reply read twice books
-- nothing twice); poll_ms when to look at an open order again, retry_ms
-- the back-off after a failure.  Returns the order's status after.
CREATE FUNCTION zvt._router_apply(order_id pg_catalog.int8, op pg_catalog.text, kind pg_catalog.text,
                                  xstatus pg_catalog.text, exchange_id pg_catalog.text,
                                  filled pg_catalog.numeric, filled_quote pg_catalog.numeric,
                                  reason pg_catalog.text, poll_ms pg_catalog.int4, retry_ms pg_catalog.int4)
    RETURNS pg_catalog.text
    LANGUAGE plpgsql
AS $$
DECLARE
    o zvt.orders;
    a zvt.accounts;
    lo zvt._live_orders;
    acct int4;
    first bool;
    dq numeric;
    px numeric;
    now timestamptz := pg_catalog.clock_timestamp();
    backoff interval;
BEGIN
    SELECT x.account_id INTO acct FROM zvt.orders x WHERE x.order_id = _router_apply.order_id;
    IF NOT FOUND THEN
        RETURN NULL;
    END IF;
    PERFORM zvt._lock_account(acct);
    SELECT * INTO o FROM zvt.orders x WHERE x.order_id = _router_apply.order_id FOR UPDATE;
    SELECT * INTO a FROM zvt.accounts x WHERE x.account_id = acct;
    SELECT * INTO lo FROM zvt._live_orders l WHERE l.order_id = _router_apply.order_id FOR UPDATE;
    IF o.status NOT IN ('sending', 'unknown', 'new', 'pending_cancel') OR lo.order_id IS NULL THEN
        RETURN o.status;        -- final already, or canceled before it was sent
    END IF;
    backoff := pg_catalog.make_interval(secs => least(retry_ms * 2 ^ least(lo.tries, 6), 60000) / 1000.0);
    first := o.status IN ('sending', 'unknown');

    IF kind = 'ok' THEN
        UPDATE zvt._live_orders l
           SET exchange_id = coalesce(nullif(_router_apply.exchange_id, ''), l.exchange_id),
               acked_at = coalesce(l.acked_at, now), tries = 0, error = NULL,
               next_at = CASE WHEN op = 'cancel' THEN NULL
                              ELSE now + pg_catalog.make_interval(secs => poll_ms / 1000.0) END
         WHERE l.order_id = o.order_id;
        IF first AND coalesce(xstatus, '') <> 'rejected' THEN
            UPDATE zvt.orders x SET status = 'new', updated_at = now WHERE x.order_id = o.order_id
            RETURNING * INTO o;
            INSERT INTO zvt.order_events (order_id, account_id, event, status, qty)
            VALUES (o.order_id, o.account_id, 'accepted', 'new', o.qty);
        END IF;
        -- what was executed since the ledger last looked
        dq := coalesce(filled, 0) - o.filled_qty;
        IF dq > 0 AND filled_quote IS NOT NULL THEN
            px := pg_catalog.trim_scale(pg_catalog.round(
                (filled_quote - coalesce(o.avg_fill_price * o.filled_qty, 0)) / dq, 10));
            o := zvt._fill(a, o, dq, px,
                           CASE WHEN o.type = 'market' OR first THEN 'taker' ELSE 'maker' END, NULL, true);
        END IF;
        IF o.status <> 'filled' AND xstatus IN ('canceled', 'expired', 'rejected') THEN
            o := zvt._close_order(o, xstatus, nullif(reason, ''), true);
        END IF;
        RETURN o.status;
    END IF;

    IF kind = 'rejected' AND op = 'place' AND reason ~* 'duplicat' THEN
        -- the exchange has this client order id already: ours, sent before; ask it
        kind := 'unknown';
    END IF;
    IF kind = 'rejected' AND op = 'place' OR kind IN ('auth', 'clock') AND op = 'place' THEN
        -- the exchange refused the order, the key or the clock: final, never retried
        UPDATE zvt._live_orders l SET error = reason WHERE l.order_id = o.order_id;
        o := zvt._close_order(o, 'rejected', pg_catalog.format('%s %s: %s', o.exchange,
                              CASE kind WHEN 'auth' THEN 'refused the API key'
                                        WHEN 'clock' THEN 'refused the timestamp (clock skew past its window)'
                                        ELSE 'rejected the order' END, reason), true);
        RETURN o.status;
    END IF;

    IF kind = 'not_found' AND op = 'query' AND lo.acked_at IS NULL THEN
        -- it never reached the exchange: canceled if that was asked, else sent again
        IF o.status = 'pending_cancel' THEN
            o := zvt._close_order(o, 'canceled', 'canceled: the exchange never received it', true);
            RETURN o.status;
        END IF;
        UPDATE zvt.orders x SET status = 'pending_new', updated_at = now WHERE x.order_id = o.order_id;
        UPDATE zvt._live_orders l SET error = 'not found on the exchange: sent again', next_at = NULL
         WHERE l.order_id = o.order_id;
        INSERT INTO zvt.order_events (order_id, account_id, event, status, qty, reason)
        VALUES (o.order_id, o.account_id, 'unknown', 'pending_new', o.qty,
                'not found on the exchange: sending it again under the same client order id');
        PERFORM zvt._router_wake(o.exchange);
        RETURN 'pending_new';
    END IF;

    -- no verdict (no reply, 5xx, rate limit, a refused query or cancel):
    -- an order whose placement has no answer is unknown until a query tells
    UPDATE zvt._live_orders l
       SET tries = l.tries + 1, error = pg_catalog.format('%s %s: %s', op, kind, reason),
           next_at = now + CASE WHEN kind = 'rate' THEN greatest(backoff, interval '1 second') ELSE backoff END
     WHERE l.order_id = o.order_id;
    IF o.status = 'sending' AND kind <> 'rate' THEN
        UPDATE zvt.orders x SET status = 'unknown', updated_at = now WHERE x.order_id = o.order_id
        RETURNING * INTO o;
        INSERT INTO zvt.order_events (order_id, account_id, event, status, qty, reason)
        VALUES (o.order_id, o.account_id, 'unknown', 'unknown', o.qty, pg_catalog.format('%s: %s', kind, reason));
    END IF;
    RETURN o.status;
END;
$$;
COMMENT ON FUNCTION zvt._router_apply(pg_catalog.int8, pg_catalog.text, pg_catalog.text, pg_catalog.text,
    pg_catalog.text, pg_catalog.numeric, pg_catalog.numeric, pg_catalog.text, pg_catalog.int4, pg_catalog.int4) IS
    'Internal: book an exchange''s reply about a live order (state, exchange id, fills by cumulative quantity) under the account''s lock.';
REVOKE ALL ON FUNCTION zvt._router_apply(pg_catalog.int8, pg_catalog.text, pg_catalog.text, pg_catalog.text,
    pg_catalog.text, pg_catalog.numeric, pg_catalog.numeric, pg_catalog.text, pg_catalog.int4, pg_catalog.int4) FROM PUBLIC;

-- ===================================================================
-- Compressions of one hypertable take turns (zvt._compression_lock): a
-- manual compress_chunk and the maintenance worker's no longer deadlock
-- ===================================================================
-- Compressions of one hypertable take turns: SHARE UPDATE EXCLUSIVE on the
-- hypertable (it conflicts with itself, not with reads or writes), taken
-- before anything locks a chunk, then ACCESS EXCLUSIVE on the chunk, parent
-- before partition as queries lock.  Reading a chunk's size or stats
-- first would hold ACCESS SHARE on it, and two compressions (a manual one
-- and the maintenance worker's) each upgrading to ACCESS EXCLUSIVE would
-- deadlock.  Only for the hypertable's owner: anyone else is refused by
-- zvt._rewrite_chunk, with its own message, and must not queue a lock.
CREATE FUNCTION zvt._compression_lock(parent pg_catalog.regclass, chunk pg_catalog.regclass)
    RETURNS void
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF parent IS NULL OR NOT pg_catalog.pg_has_role(
            (SELECT c.relowner FROM pg_catalog.pg_class c WHERE c.oid = parent), 'USAGE') THEN
        RETURN;
    END IF;
    EXECUTE pg_catalog.format('LOCK TABLE ONLY %s IN SHARE UPDATE EXCLUSIVE MODE', parent);
    IF chunk IS NOT NULL THEN
        EXECUTE pg_catalog.format('LOCK TABLE ONLY %s IN ACCESS EXCLUSIVE MODE', chunk);
    END IF;
END;
$$;
COMMENT ON FUNCTION zvt._compression_lock(pg_catalog.regclass, pg_catalog.regclass) IS
    'Internal: the locks a compression takes first, in order (hypertable, then chunk); for the hypertable''s owner only.';
-- it locks only what its caller owns (LOCK TABLE checks the privilege too)
GRANT EXECUTE ON FUNCTION zvt._compression_lock(pg_catalog.regclass, pg_catalog.regclass) TO PUBLIC;

CREATE OR REPLACE FUNCTION zvt.compress_chunk(chunk pg_catalog.regclass)
    RETURNS pg_catalog.regclass
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    parent regclass;
    s zvt._compression_settings;
    seg name[];
    was bool;
    bytes_before int8;
    r record;
BEGIN
    IF chunk IS NULL THEN
        RAISE EXCEPTION 'chunk must not be null' USING ERRCODE = '22023';
    END IF;
    SELECT i.inhparent INTO parent FROM pg_inherits i WHERE i.inhrelid = chunk;
    PERFORM zvt._compression_lock(parent, chunk);
    SELECT * INTO s FROM zvt._compression_settings x WHERE x.relid = parent;
    seg := CASE WHEN FOUND THEN s.segment_by ELSE zvt._default_segment_by(parent) END;
    was := EXISTS (SELECT 1 FROM pg_class c JOIN pg_am am ON am.oid = c.relam
                    WHERE c.oid = chunk AND am.amname = 'zvt_compressed');
    IF NOT was THEN
        bytes_before := pg_total_relation_size(chunk);
    END IF;
    -- checks that chunk is a chunk and the caller owns its hypertable
    SELECT * INTO r FROM zvt._rewrite_chunk(chunk, true, seg, s.order_by);
    IF was THEN
        UPDATE zvt._compressed_chunks SET compressed_at = now() WHERE zvt._compressed_chunks.chunk = $1;
    ELSE
        INSERT INTO zvt._compressed_chunks AS c (chunk, hypertable, rows_before, bytes_before)
        VALUES ($1, parent, r.rows, bytes_before)
        ON CONFLICT ON CONSTRAINT _compressed_chunks_pkey DO UPDATE
           SET hypertable = excluded.hypertable, rows_before = excluded.rows_before,
               bytes_before = excluded.bytes_before, compressed_at = now();
    END IF;
    RETURN chunk;
END;
$$;

CREATE OR REPLACE FUNCTION zvt.decompress_chunk(chunk pg_catalog.regclass)
    RETURNS pg_catalog.regclass
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    r record;
BEGIN
    IF chunk IS NULL THEN
        RAISE EXCEPTION 'chunk must not be null' USING ERRCODE = '22023';
    END IF;
    PERFORM zvt._compression_lock((SELECT i.inhparent FROM pg_inherits i WHERE i.inhrelid = chunk), chunk);
    SELECT * INTO r FROM zvt._rewrite_chunk(chunk, false, NULL, NULL);
    IF r.rows IS NULL THEN
        RAISE NOTICE 'chunk % is not compressed', chunk;
    END IF;
    DELETE FROM zvt._compressed_chunks c WHERE c.chunk = $1;
    RETURN chunk;
END;
$$;

CREATE OR REPLACE FUNCTION zvt._compression_steps(rel pg_catalog.regclass)
    RETURNS pg_catalog.int8
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    s zvt._compression_settings;
    c record;
    n int8 := 0;
BEGIN
    SELECT * INTO s FROM zvt._compression_settings x WHERE x.relid = rel;
    IF NOT FOUND THEN
        RETURN 0;
    END IF;
    -- one compression of this table at a time, before the stats below
    -- lock its chunks (see zvt._compression_lock)
    PERFORM zvt._compression_lock(rel, NULL);
    FOR c IN SELECT ch.chunk
               FROM zvt._chunks(rel) ch
               JOIN pg_class cl ON cl.oid = ch.chunk
               LEFT JOIN pg_am am ON am.oid = cl.relam
               LEFT JOIN LATERAL zvt._compressed_stats(ch.chunk) st ON true
              WHERE NOT ch.is_default AND ch.range_end <= now() - s.compress_after
                AND (am.amname IS DISTINCT FROM 'zvt_compressed' OR st.late_rows * 20 >= st.rows AND st.late_rows > 0)
              ORDER BY ch.range_start
              LIMIT 1
    LOOP
        BEGIN
            PERFORM zvt.compress_chunk(c.chunk);
            n := n + 1;
            RAISE LOG 'zvt maintenance of "%": compressed chunk %', rel, c.chunk;
        EXCEPTION WHEN lock_not_available THEN
            RAISE LOG 'zvt maintenance: chunk % is busy, compressing it at the next pass', c.chunk;
        END;
    END LOOP;
    RETURN n;
END;
$$;

-- ===================================================================
-- New in 0.2.0: zvt._http_json_agg, the HTTP front's faster json_agg
-- (src/http/json_agg.c, docs/http.md "Measured").
-- ===================================================================

-- json_agg's text, rendered faster, for the bodies of the API layer's
-- statements (src/http/json_agg.c): byte for byte json_agg(_r)::text.
CREATE FUNCTION zvt._http_json_agg_step(pg_catalog.internal, pg_catalog.record)
    RETURNS pg_catalog.internal
    LANGUAGE C STABLE PARALLEL SAFE
    AS 'MODULE_PATHNAME', 'zvt_http_json_agg_step';
COMMENT ON FUNCTION zvt._http_json_agg_step(pg_catalog.internal, pg_catalog.record) IS
    'Internal: the transition of zvt._http_json_agg.';
CREATE FUNCTION zvt._http_json_agg_final(pg_catalog.internal)
    RETURNS pg_catalog.text
    LANGUAGE C STABLE PARALLEL SAFE
    AS 'MODULE_PATHNAME', 'zvt_http_json_agg_final';
COMMENT ON FUNCTION zvt._http_json_agg_final(pg_catalog.internal) IS
    'Internal: the final function of zvt._http_json_agg.';
CREATE AGGREGATE zvt._http_json_agg(pg_catalog.record) (
    SFUNC = zvt._http_json_agg_step, STYPE = internal,
    FINALFUNC = zvt._http_json_agg_final, FINALFUNC_MODIFY = READ_ONLY);
COMMENT ON AGGREGATE zvt._http_json_agg(pg_catalog.record) IS
    'Internal, for the HTTP front: json_agg(rows)::text, the same text, faster (column types looked up once per statement, not per value); NULL without rows.';
-- PUBLIC keeps EXECUTE on the three: every request's role runs them over
-- rows it has just read itself; they read nothing else and write nothing

-- -------------------------------------------------------------------
-- Perpetuals complete (issue 13, item 5): Binance USD-M futures bases,
-- channel funding, zvt.funding, funding settlements and payments.
-- -------------------------------------------------------------------

-- Binance's perpetuals live on other hosts (fstream, fapi)
ALTER TABLE zvt.exchanges
    ADD COLUMN futures_ws_url   pg_catalog.text CHECK (futures_ws_url ~ '^wss?://[^/]+$'),
    ADD COLUMN futures_rest_url pg_catalog.text CHECK (futures_rest_url ~ '^https?://[^/]+$');
UPDATE zvt.exchanges SET futures_ws_url = 'wss://fstream.binance.com:443',
                         futures_rest_url = 'https://fapi.binance.com:443'
 WHERE name = 'binance';
COMMENT ON TABLE zvt.exchanges IS
    'Exchanges zvt connects to. ws_url and rest_url are scheme://host:port bases; each adapter appends its exchange''s real paths, so pointing them at the simulator changes nothing else. futures_ws_url and futures_rest_url are the bases of an exchange whose perpetuals are served elsewhere (Binance USD-M futures).';

-- the funding channel
CREATE OR REPLACE FUNCTION zvt.channels() RETURNS SETOF pg_catalog.text
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$
    VALUES ('trades'), ('quotes'), ('candles_1m'), ('candles_5m'), ('candles_15m'),
           ('candles_1h'), ('candles_4h'), ('candles_1d'), ('book'), ('funding')
$$;

-- channel funding is for perpetuals
-- Validate a subscription's arguments; returns the normalized symbol.
CREATE OR REPLACE FUNCTION zvt._check_subscription(exchange pg_catalog.text,
                                        symbol pg_catalog.text,
                                        channel pg_catalog.text)
    RETURNS pg_catalog.text
    LANGUAGE plpgsql STABLE
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    sym text := upper(btrim(symbol));
BEGIN
    PERFORM zvt._check_exchange(exchange);
    IF channel IS NULL OR channel NOT IN (SELECT zvt.channels()) THEN
        RAISE EXCEPTION 'unknown channel "%"', channel
            USING ERRCODE = '22023',
                  HINT = 'Use one of: ' || (SELECT string_agg(c, ', ') FROM zvt.channels() c) || '.';
    END IF;
    IF sym IS NULL OR sym !~ '^[A-Z0-9]+-[A-Z0-9]+(-PERP)?$' THEN
        RAISE EXCEPTION 'invalid symbol "%"', symbol
            USING ERRCODE = '22023',
                  HINT = 'Use BASE-QUOTE for spot or BASE-QUOTE-PERP for perpetuals, such as BTC-USDT or BTC-USDT-PERP.';
    END IF;
    IF channel = 'funding' AND sym !~ '-PERP$' THEN
        RAISE EXCEPTION 'channel "funding" is for perpetuals, not "%"', sym
            USING ERRCODE = '22023',
                  HINT = 'Subscribe the perpetual, such as BTC-USDT-PERP.';
    END IF;
    -- once the exchange's instruments are known, the symbol must be one of them
    IF EXISTS (SELECT 1 FROM zvt.instruments i WHERE i.exchange = _check_subscription.exchange)
       AND NOT EXISTS (SELECT 1 FROM zvt.instruments i
                        WHERE i.exchange = _check_subscription.exchange AND i.symbol = sym) THEN
        RAISE EXCEPTION 'unknown symbol "%" on exchange "%"', sym, exchange
            USING ERRCODE = '42704',
                  HINT = 'zvt.instruments lists the exchange''s symbols.';
    END IF;
    RETURN sym;
END;
$$;
COMMENT ON FUNCTION zvt._check_subscription(pg_catalog.text, pg_catalog.text, pg_catalog.text) IS
    'Internal: validate exchange, symbol and channel of a subscription.';

-- zvt.funding, its views, settlements, payments and zvt.settle_funding: as installed
-- ===================================================================
-- Perpetuals: mark price and funding (zvt.funding, a hypertable the
-- feeds write; zvt.funding_now from the market bus), and the funding
-- paper perpetual positions pay and receive at each funding time
-- (zvt.funding_settlements, zvt.funding_payments; docs/trading.md
-- "Funding").
--
-- The rule, as the exchanges state it: at a funding time T a position of
-- qty (> 0 long) pays qty x mark x rate, where rate is the funding rate
-- published for T and mark the mark price at T: longs pay shorts when the
-- rate is positive, shorts pay longs when it is negative.  zvt takes the
-- rate and mark of the last zvt.funding row before T that names T as its
-- next funding time, and the position from the account's fills up to T.
-- ===================================================================

CREATE TABLE zvt.funding (
    ts                  pg_catalog.timestamptz NOT NULL,
    instrument_id       pg_catalog.int4 NOT NULL,
    mark_price          pg_catalog.float8,
    index_price         pg_catalog.float8,
    funding_rate        pg_catalog.float8,          -- for next_funding_time, a fraction
    next_funding_time   pg_catalog.timestamptz,
    open_interest       pg_catalog.float8,          -- base units, where the exchange streams it
    local_ts            pg_catalog.timestamptz NOT NULL DEFAULT pg_catalog.now(),
    UNIQUE (instrument_id, ts)
) PARTITION BY RANGE (ts);
COMMENT ON TABLE zvt.funding IS
    'Perpetuals'' mark price, index price, funding rate of the next funding time, that time, and open interest (hypertable, 1-day chunks), from channel funding. Idempotent write: INSERT ... ON CONFLICT (instrument_id, ts) DO NOTHING.';
CREATE INDEX funding_instrument_next_idx ON zvt.funding (instrument_id, next_funding_time, ts);
SELECT zvt.create_hypertable('zvt.funding', 'ts', '1 day');
UPDATE zvt._hypertables SET builtin = true WHERE relid = 'zvt.funding'::pg_catalog.regclass;

CREATE VIEW zvt.funding_v WITH (security_invoker = true) AS
SELECT f.ts, i.exchange, i.symbol, f.instrument_id, f.mark_price, f.index_price, f.funding_rate,
       f.next_funding_time, f.open_interest, f.local_ts
  FROM zvt.funding f
  JOIN zvt.instruments i ON i.id = f.instrument_id;
COMMENT ON VIEW zvt.funding_v IS 'zvt.funding with exchange and symbol.';

CREATE FUNCTION zvt._bus_funding(
        OUT instrument_id pg_catalog.int4, OUT mark_price pg_catalog.float8,
        OUT index_price pg_catalog.float8, OUT funding_rate pg_catalog.float8,
        OUT next_funding_time pg_catalog.timestamptz, OUT open_interest pg_catalog.float8,
        OUT ts pg_catalog.timestamptz)
    RETURNS SETOF record
    LANGUAGE C VOLATILE PARALLEL RESTRICTED
    AS 'MODULE_PATHNAME', 'zvt_bus_funding';
COMMENT ON FUNCTION zvt._bus_funding() IS 'Internal: every perpetual of this database with funding on the market bus.';
-- read by zvt.funding_now, a security_invoker view granted to PUBLIC: prices are public data

CREATE VIEW zvt.funding_now WITH (security_invoker = true) AS
SELECT i.exchange, i.symbol, b.mark_price, b.index_price, b.funding_rate, b.next_funding_time,
       b.open_interest, b.ts
  FROM zvt._bus_funding() b
  JOIN zvt.instruments i ON i.id = b.instrument_id;
COMMENT ON VIEW zvt.funding_now IS
    'Latest mark price, index price, funding rate and next funding time of every perpetual on the market bus (shared memory).';

-- funding is market data: everyone reads it; the feed workers (superuser) write it
GRANT SELECT ON zvt.funding, zvt.funding_v, zvt.funding_now TO PUBLIC;

-- What each funding time settled at, once per instrument and time.
CREATE TABLE zvt.funding_settlements (
    instrument_id   pg_catalog.int4 NOT NULL REFERENCES zvt.instruments (id),
    funding_time    pg_catalog.timestamptz NOT NULL,
    funding_rate    pg_catalog.numeric NOT NULL,
    mark_price      pg_catalog.numeric NOT NULL,
    source_ts       pg_catalog.timestamptz NOT NULL,   -- the zvt.funding row used
    payments        pg_catalog.int4 NOT NULL DEFAULT 0,
    settled_at      pg_catalog.timestamptz NOT NULL DEFAULT pg_catalog.clock_timestamp(),
    PRIMARY KEY (instrument_id, funding_time)
);
COMMENT ON TABLE zvt.funding_settlements IS
    'Each funding time of each perpetual, settled once: the rate and mark paper positions were charged at (from zvt.funding), and how many payments were made.';
-- the rates and marks are market data
GRANT SELECT ON zvt.funding_settlements TO PUBLIC;
SELECT pg_catalog.pg_extension_config_dump('zvt.funding_settlements', '');

CREATE TABLE zvt.funding_payments (
    payment_id      pg_catalog.int8 GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    account_id      pg_catalog.int4 NOT NULL REFERENCES zvt.accounts ON DELETE CASCADE,
    instrument_id   pg_catalog.int4 NOT NULL REFERENCES zvt.instruments (id),
    funding_time    pg_catalog.timestamptz NOT NULL,
    qty             pg_catalog.numeric NOT NULL,    -- the position at funding_time, > 0 long
    mark_price      pg_catalog.numeric NOT NULL,
    funding_rate    pg_catalog.numeric NOT NULL,
    amount          pg_catalog.numeric NOT NULL,    -- received (> 0) or paid (< 0): -(qty x mark x rate)
    asset           pg_catalog.text NOT NULL,
    ts              pg_catalog.timestamptz NOT NULL DEFAULT pg_catalog.clock_timestamp(),
    -- exactly once per position and funding time, whoever settles and however often
    UNIQUE (account_id, instrument_id, funding_time)
);
CREATE INDEX funding_payments_account_time_idx ON zvt.funding_payments (account_id, funding_time);
COMMENT ON TABLE zvt.funding_payments IS
    'Funding paid (amount < 0) or received (amount > 0) by paper perpetual positions at each funding time: -(qty x mark_price x funding_rate), booked to the balance, the position''s realized PnL and the day''s PnL.';
ALTER TABLE zvt.funding_payments ENABLE ROW LEVEL SECURITY;
-- a ledger table: each role sees only the accounts it may use
CREATE POLICY funding_payments_visible ON zvt.funding_payments FOR SELECT USING
    (account_id OPERATOR(pg_catalog.=) ANY ((SELECT zvt._my_accounts())::pg_catalog.int4[]));
REVOKE ALL ON zvt.funding_payments FROM PUBLIC;
GRANT SELECT ON zvt.funding_payments TO PUBLIC;
SELECT pg_catalog.pg_extension_config_dump('zvt.funding_payments', '');
SELECT pg_catalog.pg_extension_config_dump('zvt.funding_payments_payment_id_seq', '');

-- The funding times of an instrument in [after, upto) that stored funding
-- data has passed (a row at or after them exists), each with the rate and
-- mark of the last row before it that announced it (else the first after
-- it): what zvt.settle_funding() charges and backtests with params
-- {"funding": true} charge.  mark_price is NULL where the exchange's
-- channel has none (OKX funding-rate); the callers take a price instead.
CREATE FUNCTION zvt._funding_events(instrument_id pg_catalog.int4, after pg_catalog.timestamptz,
        upto pg_catalog.timestamptz,
        OUT funding_time pg_catalog.timestamptz, OUT funding_rate pg_catalog.float8,
        OUT mark_price pg_catalog.float8, OUT source_ts pg_catalog.timestamptz)
    RETURNS SETOF record
    LANGUAGE sql STABLE
    SET search_path = pg_catalog, pg_temp
AS $$
    SELECT t.funding_time, s.funding_rate, s.mark_price, s.ts
      FROM (SELECT DISTINCT f.next_funding_time AS funding_time FROM zvt.funding f
             WHERE f.instrument_id = _funding_events.instrument_id
               AND f.next_funding_time >= after AND f.next_funding_time < upto) t
     CROSS JOIN LATERAL (
            SELECT f.ts, f.funding_rate, f.mark_price FROM zvt.funding f
             WHERE f.instrument_id = _funding_events.instrument_id
               AND f.next_funding_time = t.funding_time AND f.funding_rate IS NOT NULL
             ORDER BY f.ts <= t.funding_time DESC, abs(extract(epoch FROM f.ts - t.funding_time))
             LIMIT 1) s
     WHERE EXISTS (SELECT 1 FROM zvt.funding g
                    WHERE g.instrument_id = _funding_events.instrument_id AND g.ts >= t.funding_time)
$$;
COMMENT ON FUNCTION zvt._funding_events(pg_catalog.int4, pg_catalog.timestamptz, pg_catalog.timestamptz) IS
    'Internal: an instrument''s funding times in [after, upto) that stored data has passed, with the rate and mark they settle at.';
-- public data (zvt.funding is readable by all); zvt.backtest calls it as the caller
GRANT EXECUTE ON FUNCTION zvt._funding_events(pg_catalog.int4, pg_catalog.timestamptz, pg_catalog.timestamptz) TO PUBLIC;

-- Settle every funding time that the stored funding data has passed and
-- that is not settled yet; returns the payments made.  One transaction:
-- the settlement row and its payments commit together, and the unique
-- keys make a second run (another session, a pass after a crash) a no-op.
CREATE FUNCTION zvt.settle_funding() RETURNS pg_catalog.int4
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    d record;
    p record;
    mark numeric;
    rate numeric;
    amount numeric;
    n int;
    paid int := 0;
BEGIN
    FOR d IN
        SELECT i.id AS instrument_id, i.quote, e.funding_time, e.funding_rate, e.mark_price, e.source_ts
          FROM zvt.instruments i
          CROSS JOIN LATERAL (SELECT max(s.funding_time) AS done FROM zvt.funding_settlements s
                               WHERE s.instrument_id = i.id) l
          CROSS JOIN LATERAL zvt._funding_events(i.id, coalesce(l.done + interval '1 microsecond', '-infinity'),
                                                 'infinity') e
         WHERE i.kind = 'perp'
         ORDER BY 1, 3
    LOOP
        rate := d.funding_rate::numeric;
        -- OKX's funding-rate channel has no mark: the last trade at or before T
        mark := coalesce(d.mark_price,
                         (SELECT t.price FROM zvt.trades t
                           WHERE t.instrument_id = d.instrument_id AND t.ts <= d.funding_time
                             AND t.ts > d.funding_time - interval '1 day'
                           ORDER BY t.ts DESC LIMIT 1))::numeric;
        CONTINUE WHEN mark IS NULL;
        INSERT INTO zvt.funding_settlements (instrument_id, funding_time, funding_rate, mark_price, source_ts)
        VALUES (d.instrument_id, d.funding_time, rate, mark, d.source_ts)
        ON CONFLICT DO NOTHING;
        GET DIAGNOSTICS n = ROW_COUNT;
        CONTINUE WHEN n = 0;    -- another session settled it
        n := 0;
        -- paper positions at T, from their fills up to T, in account order (the lock order)
        FOR p IN
            SELECT f.account_id, sum(CASE WHEN f.side = 'buy' THEN f.qty ELSE -f.qty END) AS qty
              FROM zvt.fills f
              JOIN zvt.accounts a ON a.account_id = f.account_id AND a.kind = 'paper'
             WHERE f.instrument_id = d.instrument_id AND f.ts <= d.funding_time
             GROUP BY f.account_id
            HAVING sum(CASE WHEN f.side = 'buy' THEN f.qty ELSE -f.qty END) <> 0
             ORDER BY f.account_id
        LOOP
            PERFORM zvt._lock_account(p.account_id);
            amount := trim_scale(-(p.qty * mark * rate));
            INSERT INTO zvt.funding_payments (account_id, instrument_id, funding_time, qty, mark_price,
                                              funding_rate, amount, asset)
            VALUES (p.account_id, d.instrument_id, d.funding_time, p.qty, mark, rate, amount, d.quote)
            ON CONFLICT DO NOTHING;
            CONTINUE WHEN NOT FOUND;
            INSERT INTO zvt.balances AS b (account_id, asset, amount)
            VALUES (p.account_id, d.quote, amount)
            ON CONFLICT (account_id, asset) DO UPDATE
               SET amount = trim_scale(b.amount + EXCLUDED.amount), updated_at = pg_catalog.now();
            UPDATE zvt.holdings h SET realized_pnl = trim_scale(h.realized_pnl + amount), updated_at = pg_catalog.now()
             WHERE h.account_id = p.account_id AND h.instrument_id = d.instrument_id;
            INSERT INTO zvt.daily_pnl AS x (account_id, day, realized, fees)
            VALUES (p.account_id, (d.funding_time AT TIME ZONE 'UTC')::date, amount, 0)
            ON CONFLICT (account_id, day) DO UPDATE SET realized = trim_scale(x.realized + EXCLUDED.realized);
            n := n + 1;
        END LOOP;
        UPDATE zvt.funding_settlements s SET payments = n
         WHERE s.instrument_id = d.instrument_id AND s.funding_time = d.funding_time;
        paid := paid + n;
    END LOOP;
    RETURN paid;
END;
$$;
COMMENT ON FUNCTION zvt.settle_funding() IS
    'Settle the funding times the stored funding data has passed: each paper perpetual position at the time pays or receives -(qty x mark x rate) once (zvt.funding_payments), into its balance, realized PnL and daily PnL. The maintenance worker runs it every pass; returns the payments made.';
-- it writes every account's ledger: administrators (and the maintenance worker) only
REVOKE ALL ON FUNCTION zvt.settle_funding() FROM PUBLIC;

-- ===================================================================
-- 0.2.0: reconciliation of live accounts (issue #14 item 5):
-- zvt.reconciliations and its functions (sql/59_reconcile.sql, whole),
-- and zvt._router_work, which holds the pending orders of an account
-- while it reconciles (sql/58_router.sql).
-- ===================================================================
CREATE OR REPLACE FUNCTION zvt._router_work(exchange pg_catalog.text, inflight pg_catalog.int8[], lim pg_catalog.int4)
    RETURNS TABLE (op pg_catalog.text, order_id pg_catalog.int8, account_id pg_catalog.int4,
                   symbol pg_catalog.text, side pg_catalog.text, type pg_catalog.text,
                   qty pg_catalog.text, price pg_catalog.text, tif pg_catalog.text,
                   post_only pg_catalog.bool, reduce_only pg_catalog.bool, exchange_id pg_catalog.text)
    LANGUAGE plpgsql
AS $$
DECLARE
    n int;
BEGIN
    RETURN QUERY
    WITH due AS (
        SELECT x.order_id FROM zvt.orders x
         WHERE x.exchange = _router_work.exchange AND x.status = 'pending_new'
           AND x.order_id <> ALL (inflight)
           -- not while the account reconciles (sql/59_reconcile.sql)
           AND NOT EXISTS (SELECT 1 FROM zvt.reconciliations r
                            WHERE r.account_id = x.account_id AND r.finished_at IS NULL)
         ORDER BY x.order_id LIMIT lim
           FOR UPDATE SKIP LOCKED
    ), sent AS (
        UPDATE zvt.orders x SET status = 'sending', updated_at = pg_catalog.clock_timestamp()
          FROM due WHERE x.order_id = due.order_id AND x.status = 'pending_new'
        RETURNING x.*
    ), ev AS (
        INSERT INTO zvt.order_events (order_id, account_id, event, status, qty)
        SELECT s.order_id, s.account_id, 'sent', 'sending', s.qty FROM sent s
    ), l AS (
        INSERT INTO zvt._live_orders AS l (order_id, account_id, sent_at, sends)
        SELECT s.order_id, s.account_id, pg_catalog.clock_timestamp(), 1 FROM sent s
        ON CONFLICT ON CONSTRAINT _live_orders_pkey DO UPDATE
           SET sent_at = EXCLUDED.sent_at, sends = l.sends + 1, next_at = NULL
    )
    SELECT 'place', s.order_id, s.account_id, s.symbol, s.side, s.type, s.qty::text, s.price::text,
           s.tif, s.post_only, s.reduce_only, NULL::text
      FROM sent s ORDER BY s.order_id;
    GET DIAGNOSTICS n = ROW_COUNT;
    IF n >= lim THEN
        RETURN;
    END IF;
    -- final orders that fell due are parked, so that the due rows stay few
    UPDATE zvt._live_orders l SET next_at = 'infinity'
      FROM zvt.orders x
     WHERE x.order_id = l.order_id
       AND (l.next_at IS NULL OR l.next_at <= pg_catalog.clock_timestamp())
       AND x.status NOT IN ('pending_new', 'sending', 'unknown', 'new', 'pending_cancel');
    RETURN QUERY
    SELECT CASE WHEN x.status = 'pending_cancel' AND l.exchange_id IS NOT NULL THEN 'cancel' ELSE 'query' END,
           x.order_id, x.account_id, x.symbol, x.side, x.type, x.qty::text, x.price::text,
           x.tif, x.post_only, x.reduce_only, l.exchange_id
      FROM zvt._live_orders l JOIN zvt.orders x ON x.order_id = l.order_id
     WHERE (l.next_at IS NULL OR l.next_at <= pg_catalog.clock_timestamp())
       AND x.exchange = _router_work.exchange
       AND x.status IN ('sending', 'unknown', 'new', 'pending_cancel')
       AND x.order_id <> ALL (inflight)
       AND l.sent_at < pg_catalog.now()     -- not those just marked for sending above
     ORDER BY l.next_at NULLS FIRST, x.order_id
     LIMIT lim - n;
END;
$$;
COMMENT ON FUNCTION zvt._router_work(pg_catalog.text, pg_catalog.int8[], pg_catalog.int4) IS
    'Internal: the order router''s next requests: pending orders marked sending (to place), then queries and cancels due.';
REVOKE ALL ON FUNCTION zvt._router_work(pg_catalog.text, pg_catalog.int8[], pg_catalog.int4) FROM PUBLIC;

-- ===================================================================
-- Live trading, part 3: reconciliation of each live account against
-- its exchange's own lists (src/live/reconcile.c, docs/live-trading.md).
--
-- The router of an exchange reconciles every live account of it that has
-- an API key: at its start, after an outage of the exchange's REST (no
-- reply or 5xx, then a reply again), and every zvt.reconcile_interval.
-- A run, per account:
--   1. zvt._reconcile_begin: the run's row (kind 'run', finished_at NULL)
--      is committed first; while it is unfinished the router sends none
--      of the account's pending orders (zvt._router_work skips them, and
--      place_order still commits them as pending_new);
--   2. the exchange's open orders, its balances, and its open orders
--      again (signed REST); zvt._reconcile_orders books what the list
--      shows (fills the ledger missed, through zvt._router_apply), records
--      orders the ledger does not know, and returns the ledger's open
--      orders the exchange no longer lists; each is queried by its client
--      order id and its answer booked by zvt._reconcile_missing (the
--      router's own path again);
--   3. zvt._reconcile_balances compares every balance and sets the
--      assets the ledger tracks to the exchange's (an adjustment the
--      reconciliation row explains);
--   4. zvt._reconcile_end finishes the run (an error if it failed).
-- Every difference is a row of zvt.reconciliations.
-- ===================================================================

CREATE TABLE zvt.reconciliations (
    recon_id    pg_catalog.int8 GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    run_id      pg_catalog.int8 NOT NULL,   -- the recon_id of the run's own row (kind 'run')
    account_id  pg_catalog.int4 NOT NULL REFERENCES zvt.accounts ON DELETE CASCADE,
    exchange    pg_catalog.text NOT NULL,
    started_at  pg_catalog.timestamptz NOT NULL,    -- when the run began
    finished_at pg_catalog.timestamptz,             -- when it ended; NULL while it runs
    kind        pg_catalog.text NOT NULL
                CHECK (kind IN ('run', 'order_missing', 'order_unknown', 'fill_missed', 'balance')),
    order_id    pg_catalog.int8,            -- zvt's order the row is about, if any
    asset       pg_catalog.text,            -- kind 'balance': the asset
    amount      pg_catalog.numeric,         -- kind 'balance': the adjustment (exchange - ledger)
    details     pg_catalog.jsonb NOT NULL DEFAULT '{}',
    applied     pg_catalog.bool NOT NULL DEFAULT false
);
CREATE INDEX reconciliations_account_idx ON zvt.reconciliations (account_id, recon_id);
CREATE INDEX reconciliations_running_idx ON zvt.reconciliations (account_id) WHERE finished_at IS NULL;
COMMENT ON TABLE zvt.reconciliations IS
    'Reconciliation of live accounts against their exchange: one row per run (kind run: trigger, counts, error; applied = the run completed) and one per difference found: order_missing (open in the ledger, gone from the exchange: queried and booked), fill_missed (executed on the exchange, not in the ledger: booked as fills), order_unknown (open on the exchange, not placed through zvt: recorded once, never canceled), balance (exchange total differs from the ledger: amount is exchange minus ledger, applied to zvt.balances for the assets the ledger tracks).';
COMMENT ON COLUMN zvt.reconciliations.run_id IS 'The run the row belongs to: the recon_id of its kind = ''run'' row.';
COMMENT ON COLUMN zvt.reconciliations.finished_at IS 'When the run ended (NULL while it runs: the account''s pending orders wait until then).';
COMMENT ON COLUMN zvt.reconciliations.amount IS 'Kind balance: exchange total minus ledger balance; added to zvt.balances when applied.';
COMMENT ON COLUMN zvt.reconciliations.applied IS 'Whether the difference was booked in the ledger (run rows: whether the run completed).';
COMMENT ON INDEX zvt.reconciliations_account_idx IS 'Reconciliation: an account''s runs and differences in order.';
COMMENT ON INDEX zvt.reconciliations_running_idx IS 'Reconciliation: the accounts with a run under way (their pending orders wait).';
-- written by the routers only; each role reads the rows of the accounts it may use, as zvt.orders
REVOKE ALL ON zvt.reconciliations FROM PUBLIC;
GRANT SELECT ON zvt.reconciliations TO PUBLIC;
ALTER TABLE zvt.reconciliations ENABLE ROW LEVEL SECURITY;
CREATE POLICY reconciliations_visible ON zvt.reconciliations FOR SELECT
    USING (account_id OPERATOR(pg_catalog.=) ANY ((SELECT zvt._my_accounts())::pg_catalog.int4[]));
SELECT pg_catalog.pg_extension_config_dump('zvt.reconciliations', '');
SELECT pg_catalog.pg_extension_config_dump('zvt.reconciliations_recon_id_seq', '');

-- The live accounts of exchange its router reconciles: those with an API key.
CREATE FUNCTION zvt._reconcile_accounts(exchange pg_catalog.text) RETURNS SETOF pg_catalog.int4
    LANGUAGE sql STABLE
AS $$
    SELECT a.account_id FROM zvt.accounts a
     WHERE a.kind = 'live' AND a.exchange = _reconcile_accounts.exchange
       AND EXISTS (SELECT 1 FROM zvt._api_keys k WHERE k.account_id = a.account_id)
     ORDER BY a.account_id
$$;
COMMENT ON FUNCTION zvt._reconcile_accounts(pg_catalog.text) IS
    'Internal: the live accounts of an exchange with an API key, which its router reconciles.';
REVOKE ALL ON FUNCTION zvt._reconcile_accounts(pg_catalog.text) FROM PUBLIC;

-- Whether the router of exchange stays running for its periodic
-- reconciliation although no order is open.
CREATE FUNCTION zvt._reconcile_stay(exchange pg_catalog.text, interval_ms pg_catalog.int4) RETURNS pg_catalog.bool
    LANGUAGE sql STABLE
AS $$
    SELECT _reconcile_stay.interval_ms > 0 AND EXISTS (SELECT 1 FROM zvt._reconcile_accounts(_reconcile_stay.exchange))
$$;
COMMENT ON FUNCTION zvt._reconcile_stay(pg_catalog.text, pg_catalog.int4) IS
    'Internal: does the exchange''s router stay for periodic reconciliation (an interval set and a live account with a key)?';
REVOKE ALL ON FUNCTION zvt._reconcile_stay(pg_catalog.text, pg_catalog.int4) FROM PUBLIC;

-- Begin a run for account_id: its row, committed by the caller before the
-- exchange is asked.  A run a crash left unfinished is closed first.
CREATE FUNCTION zvt._reconcile_begin(account_id pg_catalog.int4, trigger pg_catalog.text) RETURNS pg_catalog.int8
    LANGUAGE plpgsql
AS $$
DECLARE
    id int8;
    ex text;
BEGIN
    UPDATE zvt.reconciliations r SET finished_at = pg_catalog.clock_timestamp(),
           details = r.details OPERATOR(pg_catalog.||) '{"error": "interrupted (the router stopped)"}'
     WHERE r.account_id = _reconcile_begin.account_id AND r.finished_at IS NULL;
    SELECT a.exchange INTO ex FROM zvt.accounts a WHERE a.account_id = _reconcile_begin.account_id;
    INSERT INTO zvt.reconciliations (run_id, account_id, exchange, started_at, kind, details)
    VALUES (0, _reconcile_begin.account_id, ex, pg_catalog.clock_timestamp(), 'run',
            pg_catalog.jsonb_build_object('trigger', _reconcile_begin.trigger))
    RETURNING recon_id INTO id;
    UPDATE zvt.reconciliations r SET run_id = id WHERE r.recon_id = id;
    RETURN id;
END;
$$;
COMMENT ON FUNCTION zvt._reconcile_begin(pg_catalog.int4, pg_catalog.text) IS
    'Internal: start a reconciliation run of a live account (its row, committed before the exchange is asked).';
REVOKE ALL ON FUNCTION zvt._reconcile_begin(pg_catalog.int4, pg_catalog.text) FROM PUBLIC;

-- A difference of run run_id
CREATE FUNCTION zvt._reconcile_note(run_id pg_catalog.int8, kind pg_catalog.text, order_id pg_catalog.int8,
                                    details pg_catalog.jsonb, applied pg_catalog.bool,
                                    asset pg_catalog.text DEFAULT NULL, amount pg_catalog.numeric DEFAULT NULL)
    RETURNS void
    LANGUAGE sql
AS $$
    INSERT INTO zvt.reconciliations (run_id, account_id, exchange, started_at, kind, order_id, asset, amount,
                                     details, applied)
    SELECT r.recon_id, r.account_id, r.exchange, r.started_at, _reconcile_note.kind, _reconcile_note.order_id,
           _reconcile_note.asset, _reconcile_note.amount, _reconcile_note.details, _reconcile_note.applied
      FROM zvt.reconciliations r WHERE r.recon_id = _reconcile_note.run_id
$$;
COMMENT ON FUNCTION zvt._reconcile_note(pg_catalog.int8, pg_catalog.text, pg_catalog.int8, pg_catalog.jsonb,
    pg_catalog.bool, pg_catalog.text, pg_catalog.numeric) IS
    'Internal: record a difference found by a reconciliation run.';
REVOKE ALL ON FUNCTION zvt._reconcile_note(pg_catalog.int8, pg_catalog.text, pg_catalog.int8, pg_catalog.jsonb,
    pg_catalog.bool, pg_catalog.text, pg_catalog.numeric) FROM PUBLIC;

-- The exchange's open orders of the run's account, as the router read
-- them: a jsonb array of {order_id (zvt's, from the client order id, or
-- null), client_id, exchange_id, symbol, side, qty, price, status,
-- filled, filled_quote}.  Under the account's lock: fills the ledger
-- missed are booked through zvt._router_apply (the router's own path,
-- cumulative quantities), orders zvt did not place are recorded (once
-- per exchange order id), and the ledger's open orders missing from the
-- list are returned for the router to query by client order id.
CREATE FUNCTION zvt._reconcile_orders(run_id pg_catalog.int8, xorders pg_catalog.jsonb,
                                      poll_ms pg_catalog.int4, retry_ms pg_catalog.int4)
    RETURNS TABLE (order_id pg_catalog.int8, symbol pg_catalog.text, exchange_id pg_catalog.text)
    LANGUAGE plpgsql
AS $$
DECLARE
    acct int4;
    x record;
    o zvt.orders;
    before numeric;
    st text;
    seen int8[] := '{}';
    unknown int := 0;
BEGIN
    SELECT r.account_id INTO STRICT acct FROM zvt.reconciliations r WHERE r.recon_id = _reconcile_orders.run_id;
    PERFORM zvt._lock_account(acct);
    FOR x IN SELECT * FROM pg_catalog.jsonb_to_recordset(xorders)
                        AS t(order_id int8, client_id text, exchange_id text, symbol text, side text,
                             qty text, price text, status text, filled numeric, filled_quote numeric)
    LOOP
        SELECT * INTO o FROM zvt.orders y WHERE y.order_id = x.order_id AND y.account_id = acct;
        IF FOUND THEN
            seen := seen OPERATOR(pg_catalog.||) o.order_id;
        END IF;
        IF FOUND AND o.status IN ('sending', 'unknown', 'new', 'pending_cancel') THEN
            before := o.filled_qty;
            IF coalesce(x.filled, 0) > before OR o.status IN ('sending', 'unknown') THEN
                -- what the list shows is an answer as good as a query's
                st := zvt._router_apply(o.order_id, 'query', 'ok', x.status, x.exchange_id, x.filled,
                                        x.filled_quote, '', poll_ms, retry_ms);
            END IF;
            IF coalesce(x.filled, 0) > before THEN
                PERFORM zvt._reconcile_note(run_id, 'fill_missed', o.order_id,
                    pg_catalog.jsonb_build_object('client_order_id', x.client_id, 'exchange_id', x.exchange_id,
                        'ledger_filled', before, 'exchange_filled', x.filled, 'booked', x.filled - before,
                        'exchange_status', x.status, 'status', st),
                    true);
            END IF;
            CONTINUE;
        END IF;
        -- a resend the router has yet to make (its "duplicate" answer is then asked about)
        CONTINUE WHEN FOUND AND o.status = 'pending_new';
        -- not placed through zvt by this account (or final in the ledger yet open there)
        unknown := unknown + 1;
        IF NOT EXISTS (SELECT 1 FROM zvt.reconciliations r
                        WHERE r.account_id = acct AND r.kind = 'order_unknown'
                          AND r.details OPERATOR(pg_catalog.->>) 'exchange_id' = x.exchange_id) THEN
            PERFORM zvt._reconcile_note(run_id, 'order_unknown', CASE WHEN o.order_id IS NOT NULL THEN o.order_id END,
                pg_catalog.jsonb_build_object('exchange_id', x.exchange_id, 'client_order_id', x.client_id,
                    'symbol', x.symbol, 'side', x.side, 'qty', x.qty, 'price', x.price,
                    'exchange_status', x.status, 'exchange_filled', x.filled)
                OPERATOR(pg_catalog.||) CASE WHEN o.order_id IS NOT NULL
                    THEN pg_catalog.jsonb_build_object('ledger_status', o.status) ELSE '{}' END,
                false);
        END IF;
    END LOOP;
    UPDATE zvt.reconciliations r
       SET details = r.details OPERATOR(pg_catalog.||) pg_catalog.jsonb_build_object(
               'exchange_open_orders', pg_catalog.jsonb_array_length(xorders), 'unknown_open_orders', unknown)
     WHERE r.recon_id = _reconcile_orders.run_id;
    -- sent and not final in the ledger, but not in the exchange's open list
    -- (an order whose reply was lost may have filled: asked now, before
    -- the balances are compared)
    RETURN QUERY
    SELECT y.order_id, y.symbol, l.exchange_id
      FROM zvt.orders y JOIN zvt._live_orders l ON l.order_id = y.order_id
     WHERE y.account_id = acct AND y.status IN ('sending', 'unknown', 'new', 'pending_cancel')
       AND y.order_id <> ALL (seen)
     ORDER BY y.order_id;
END;
$$;
COMMENT ON FUNCTION zvt._reconcile_orders(pg_catalog.int8, pg_catalog.jsonb, pg_catalog.int4, pg_catalog.int4) IS
    'Internal: compare the exchange''s open orders with the ledger''s: book missed fills, record unknown orders, return the ledger''s open orders the exchange no longer lists.';
REVOKE ALL ON FUNCTION zvt._reconcile_orders(pg_catalog.int8, pg_catalog.jsonb, pg_catalog.int4, pg_catalog.int4) FROM PUBLIC;

-- The exchange's answer to the query of order_id, an open order of the
-- ledger its open orders no longer list: booked by zvt._router_apply
-- (arguments as there), and recorded (applied: the answer changed the
-- order, or was one; "not found" for an order never acknowledged sends
-- it again, as after any lost reply).
CREATE FUNCTION zvt._reconcile_missing(run_id pg_catalog.int8, order_id pg_catalog.int8, kind pg_catalog.text,
                                       xstatus pg_catalog.text, exchange_id pg_catalog.text,
                                       filled pg_catalog.numeric, filled_quote pg_catalog.numeric,
                                       reason pg_catalog.text, poll_ms pg_catalog.int4, retry_ms pg_catalog.int4)
    RETURNS pg_catalog.text
    LANGUAGE plpgsql
AS $$
DECLARE
    o zvt.orders;
    st text;
BEGIN
    SELECT * INTO o FROM zvt.orders y WHERE y.order_id = _reconcile_missing.order_id;
    st := zvt._router_apply(order_id, 'query', kind, xstatus, exchange_id, filled, filled_quote, reason,
                            poll_ms, retry_ms);
    PERFORM zvt._reconcile_note(run_id, 'order_missing', order_id,
        pg_catalog.jsonb_build_object('exchange_id', exchange_id,
            'ledger_status', o.status, 'reply', kind, 'exchange_status', nullif(xstatus, ''),
            'exchange_filled', filled, 'status', st, 'reason', nullif(reason, '')),
        kind = 'ok' OR st IS DISTINCT FROM o.status);
    IF kind = 'ok' AND coalesce(filled, 0) > o.filled_qty THEN
        PERFORM zvt._reconcile_note(run_id, 'fill_missed', order_id,
            pg_catalog.jsonb_build_object('exchange_id', exchange_id, 'ledger_filled', o.filled_qty,
                'exchange_filled', filled, 'booked', filled - o.filled_qty, 'exchange_status', xstatus,
                'status', st),
            true);
    END IF;
    RETURN st;
END;
$$;
COMMENT ON FUNCTION zvt._reconcile_missing(pg_catalog.int8, pg_catalog.int8, pg_catalog.text, pg_catalog.text,
    pg_catalog.text, pg_catalog.numeric, pg_catalog.numeric, pg_catalog.text, pg_catalog.int4, pg_catalog.int4) IS
    'Internal: book and record the exchange''s answer about a ledger order missing from its open orders.';
REVOKE ALL ON FUNCTION zvt._reconcile_missing(pg_catalog.int8, pg_catalog.int8, pg_catalog.text, pg_catalog.text,
    pg_catalog.text, pg_catalog.numeric, pg_catalog.numeric, pg_catalog.text, pg_catalog.int4, pg_catalog.int4) FROM PUBLIC;

-- The exchange's balances of the run's account: a jsonb array of {asset,
-- free, locked}.  Under the account's lock, each asset whose exchange
-- total (free + locked) differs from zvt.balances is recorded; the assets
-- the ledger tracks (the account's currency, any asset it has a balance
-- row for, the base and quote of the instruments it has orders in) are
-- set to the exchange's total, the row's amount being the adjustment, so
-- that balance = initial cash + fills + applied adjustments.  An asset
-- the ledger does not track is recorded only (again when its total
-- changes).  Nothing is compared (-1) while an order of the account is
-- in doubt (sending or unknown: it may have executed unseen).
CREATE FUNCTION zvt._reconcile_balances(run_id pg_catalog.int8, xbalances pg_catalog.jsonb)
    RETURNS pg_catalog.int4
    LANGUAGE plpgsql
AS $$
DECLARE
    acct int4;
    b record;
    n int := 0;
BEGIN
    SELECT r.account_id INTO STRICT acct FROM zvt.reconciliations r WHERE r.recon_id = _reconcile_balances.run_id;
    PERFORM zvt._lock_account(acct);
    IF EXISTS (SELECT 1 FROM zvt.orders y WHERE y.account_id = acct AND y.status IN ('sending', 'unknown')) THEN
        UPDATE zvt.reconciliations r
           SET details = r.details OPERATOR(pg_catalog.||) '{"balances_skipped": "orders in doubt (sending or unknown)"}'
         WHERE r.recon_id = _reconcile_balances.run_id;
        RETURN -1;
    END IF;
    FOR b IN
        WITH x AS (
            SELECT t.asset, sum(coalesce(t.free, 0) + coalesce(t.locked, 0)) AS total
              FROM pg_catalog.jsonb_to_recordset(xbalances) AS t(asset text, free numeric, locked numeric)
             GROUP BY t.asset
        ), tracked AS (
            SELECT a.currency AS asset FROM zvt.accounts a WHERE a.account_id = acct
            UNION SELECT l.asset FROM zvt.balances l WHERE l.account_id = acct
            UNION SELECT i.base FROM zvt.orders y JOIN zvt.instruments i ON i.id = y.instrument_id
                   WHERE y.account_id = acct
            UNION SELECT i.quote FROM zvt.orders y JOIN zvt.instruments i ON i.id = y.instrument_id
                   WHERE y.account_id = acct
        )
        SELECT coalesce(x.asset, t.asset) AS asset, coalesce(x.total, 0) AS xtotal,
               coalesce(l.amount, 0) AS ltotal, t.asset IS NOT NULL AS tracked
          FROM x FULL JOIN tracked t ON t.asset = x.asset
          LEFT JOIN zvt.balances l ON l.account_id = acct AND l.asset = coalesce(x.asset, t.asset)
         ORDER BY 1
    LOOP
        CONTINUE WHEN b.xtotal = b.ltotal;
        IF b.tracked THEN
            INSERT INTO zvt.balances AS l (account_id, asset, amount)
            VALUES (acct, b.asset, b.xtotal)
            ON CONFLICT (account_id, asset) DO UPDATE
               SET amount = EXCLUDED.amount, updated_at = pg_catalog.now();
        ELSIF EXISTS (SELECT 1 FROM zvt.reconciliations r
                       WHERE r.recon_id = (SELECT max(q.recon_id) FROM zvt.reconciliations q
                                            WHERE q.account_id = acct AND q.kind = 'balance' AND q.asset = b.asset)
                         AND (r.details OPERATOR(pg_catalog.->>) 'exchange')::numeric = b.xtotal) THEN
            CONTINUE;           -- an untracked asset recorded already at this total
        END IF;
        PERFORM zvt._reconcile_note(run_id, 'balance', NULL,
            pg_catalog.jsonb_build_object('ledger', b.ltotal, 'exchange', b.xtotal, 'tracked', b.tracked),
            b.tracked, b.asset, pg_catalog.trim_scale(b.xtotal - b.ltotal));
        n := n + 1;
    END LOOP;
    RETURN n;
END;
$$;
COMMENT ON FUNCTION zvt._reconcile_balances(pg_catalog.int8, pg_catalog.jsonb) IS
    'Internal: compare the exchange''s balances with zvt.balances; set the tracked assets to the exchange''s and record every difference.';
REVOKE ALL ON FUNCTION zvt._reconcile_balances(pg_catalog.int8, pg_catalog.jsonb) FROM PUBLIC;

-- End run run_id: every row of it gets finished_at; error NULL means it
-- completed; stats (counts) go into the run row's details.
CREATE FUNCTION zvt._reconcile_end(run_id pg_catalog.int8, error pg_catalog.text, stats pg_catalog.jsonb)
    RETURNS void
    LANGUAGE sql
AS $$
    UPDATE zvt.reconciliations r SET finished_at = pg_catalog.clock_timestamp(),
           applied = CASE WHEN r.kind = 'run' THEN _reconcile_end.error IS NULL ELSE r.applied END,
           details = CASE WHEN r.kind <> 'run' THEN r.details
                          ELSE r.details OPERATOR(pg_catalog.||) coalesce(_reconcile_end.stats, '{}')
                               OPERATOR(pg_catalog.||) pg_catalog.jsonb_build_object(
                                   'error', _reconcile_end.error,
                                   'differences', (SELECT pg_catalog.count(*) FROM zvt.reconciliations d
                                                    WHERE d.run_id = _reconcile_end.run_id AND d.kind <> 'run')) END
     WHERE r.run_id = _reconcile_end.run_id;
$$;
COMMENT ON FUNCTION zvt._reconcile_end(pg_catalog.int8, pg_catalog.text, pg_catalog.jsonb) IS
    'Internal: finish a reconciliation run (error NULL: completed); the account''s pending orders go out again.';
REVOKE ALL ON FUNCTION zvt._reconcile_end(pg_catalog.int8, pg_catalog.text, pg_catalog.jsonb) FROM PUBLIC;

-- A router's start: runs a crash or a stop left unfinished are closed.
CREATE FUNCTION zvt._reconcile_reset(exchange pg_catalog.text) RETURNS pg_catalog.int4
    LANGUAGE sql
AS $$
    WITH done AS (
        UPDATE zvt.reconciliations r SET finished_at = pg_catalog.clock_timestamp(),
               details = r.details OPERATOR(pg_catalog.||) '{"error": "interrupted (the router stopped)"}'
         WHERE r.exchange = _reconcile_reset.exchange AND r.finished_at IS NULL
        RETURNING 1
    )
    SELECT pg_catalog.count(*)::pg_catalog.int4 FROM done
$$;
COMMENT ON FUNCTION zvt._reconcile_reset(pg_catalog.text) IS
    'Internal: at a router''s start, close the reconciliation runs of its exchange a crash left unfinished.';
REVOKE ALL ON FUNCTION zvt._reconcile_reset(pg_catalog.text) FROM PUBLIC;

-- ===================================================================
-- Live trading: the private streams (issue #14 item 4; sql/59_userstream.sql):
-- zvt.fills.exchange_trade_id and fee_source, zvt._stream_balances,
-- zvt.live_balances, zvt._stream_apply, _stream_balance, _stream_accounts.
-- ===================================================================

ALTER TABLE zvt.fills ADD COLUMN exchange_trade_id pg_catalog.text;
COMMENT ON COLUMN zvt.fills.exchange_trade_id IS
    'Live fills booked from an execution of the private stream: the exchange''s trade id (NULL for paper fills and fills learned from order queries).';
ALTER TABLE zvt.fills ADD COLUMN fee_source pg_catalog.text NOT NULL DEFAULT 'schedule'
    CHECK (fee_source IN ('schedule', 'exchange'));
COMMENT ON COLUMN zvt.fills.fee_source IS
    'Where fee comes from: schedule (the account''s maker_fee_bps/taker_fee_bps) or exchange (the fee the exchange reported with the execution).';
CREATE UNIQUE INDEX fills_exchange_trade_idx ON zvt.fills (order_id, exchange_trade_id)
    WHERE exchange_trade_id IS NOT NULL;
COMMENT ON INDEX zvt.fills_exchange_trade_idx IS
    'An execution of the exchange is booked once per order, whether the stream delivers it once or twice.';

CREATE TABLE zvt._stream_balances (
    account_id  pg_catalog.int4 NOT NULL REFERENCES zvt.accounts ON DELETE CASCADE,
    asset       pg_catalog.text NOT NULL,
    free        pg_catalog.numeric NOT NULL,
    locked      pg_catalog.numeric NOT NULL,
    updated_at  pg_catalog.timestamptz NOT NULL DEFAULT pg_catalog.clock_timestamp(),
    PRIMARY KEY (account_id, asset)
);
COMMENT ON TABLE zvt._stream_balances IS
    'Internal: each live account''s balances as its exchange''s private stream last reported them (free and locked).';
-- written by the routers only; each role reads its accounts' rows
REVOKE ALL ON zvt._stream_balances FROM PUBLIC;
GRANT SELECT ON zvt._stream_balances TO PUBLIC;
ALTER TABLE zvt._stream_balances ENABLE ROW LEVEL SECURITY;
CREATE POLICY _stream_balances_visible ON zvt._stream_balances FOR SELECT
    USING (account_id OPERATOR(pg_catalog.=) ANY ((SELECT zvt._my_accounts())::pg_catalog.int4[]));

CREATE VIEW zvt.live_balances WITH (security_invoker = true) AS
SELECT a.name AS account, a.exchange, b.asset, b.free, b.locked, b.updated_at, b.account_id
  FROM zvt._stream_balances b JOIN zvt.accounts a USING (account_id);
COMMENT ON VIEW zvt.live_balances IS
    'Live accounts'' balances as the exchange''s private stream last reported them (compare with zvt.balances, the ledger).';
-- read as the caller: row security shows your accounts' rows
GRANT SELECT ON zvt.live_balances TO PUBLIC;

-- Book one order update or execution of a private stream for live order
-- order_id, under the account's lock.  An execution (trade_id) is booked
-- through zvt._fill unless this order already has a fill with that trade
-- id or the ledger's filled quantity already covers the cumulative
-- quantity after it (filled, or the order's quantity less leaves): then
-- a query reply booked it first.  Its fee replaces the schedule's when
-- the exchange charged it in the quote asset (fee_source 'exchange').
-- The rest (acknowledgement, cumulative quantity not yet booked,
-- canceled or expired) goes through zvt._router_apply as a query reply
-- would.  Returns the order's status after.
CREATE FUNCTION zvt._stream_apply(order_id pg_catalog.int8, xstatus pg_catalog.text,
                                  exchange_id pg_catalog.text, filled pg_catalog.numeric,
                                  filled_quote pg_catalog.numeric, avg_px pg_catalog.numeric,
                                  leaves pg_catalog.numeric, trade_id pg_catalog.text,
                                  last_qty pg_catalog.numeric, last_px pg_catalog.numeric,
                                  fee pg_catalog.numeric, fee_asset pg_catalog.text,
                                  liquidity pg_catalog.text, reason pg_catalog.text,
                                  poll_ms pg_catalog.int4)
    RETURNS pg_catalog.text
    LANGUAGE plpgsql
AS $$
DECLARE
    o zvt.orders;
    a zvt.accounts;
    ins zvt.instruments;
    acct int4;
    cum numeric;
    dq numeric;
    f zvt.fills;
    d numeric;
BEGIN
    SELECT x.account_id INTO acct FROM zvt.orders x WHERE x.order_id = _stream_apply.order_id;
    IF NOT FOUND THEN
        RETURN NULL;
    END IF;
    PERFORM zvt._lock_account(acct);
    SELECT * INTO o FROM zvt.orders x WHERE x.order_id = _stream_apply.order_id FOR UPDATE;
    IF o.status NOT IN ('sending', 'unknown', 'new', 'pending_cancel')
       OR NOT EXISTS (SELECT 1 FROM zvt._live_orders l WHERE l.order_id = o.order_id) THEN
        RETURN o.status;
    END IF;
    cum := coalesce(filled, o.qty - leaves);
    IF filled_quote IS NULL AND avg_px IS NOT NULL AND filled IS NOT NULL THEN
        filled_quote := filled * avg_px;
    END IF;

    IF nullif(trade_id, '') IS NOT NULL AND last_qty > 0 AND last_px > 0 THEN
        IF o.status IN ('sending', 'unknown') THEN
            -- the first news of it: acknowledged, as a query reply saying "new" would
            PERFORM zvt._router_apply(o.order_id, 'query', 'ok', '', exchange_id, NULL, NULL, '', poll_ms,
                                      least(poll_ms, 1000));
            SELECT * INTO o FROM zvt.orders x WHERE x.order_id = _stream_apply.order_id;
        END IF;
        dq := least(last_qty, o.qty - o.filled_qty, coalesce(cum - o.filled_qty, last_qty));
        IF dq > 0 AND NOT EXISTS (SELECT 1 FROM zvt.fills x WHERE x.order_id = o.order_id
                                     AND x.exchange_trade_id = _stream_apply.trade_id) THEN
            SELECT * INTO a FROM zvt.accounts x WHERE x.account_id = acct;
            SELECT * INTO STRICT ins FROM zvt.instruments x WHERE x.id = o.instrument_id;
            o := zvt._fill(a, o, dq, last_px,
                           CASE WHEN liquidity IN ('maker', 'taker') THEN liquidity
                                WHEN o.type = 'market' THEN 'taker' ELSE 'maker' END, NULL, true);
            SELECT * INTO f FROM zvt.fills x WHERE x.order_id = o.order_id ORDER BY x.fill_id DESC LIMIT 1;
            UPDATE zvt.fills x SET exchange_trade_id = _stream_apply.trade_id WHERE x.fill_id = f.fill_id;
            IF fee IS NOT NULL AND fee_asset = ins.quote AND dq = last_qty AND ins.kind = 'spot' THEN
                -- the exchange's fee instead of the schedule's: the fill, the order, the money, the day
                d := pg_catalog.trim_scale(fee - f.fee);
                UPDATE zvt.fills x SET fee = _stream_apply.fee, fee_source = 'exchange' WHERE x.fill_id = f.fill_id;
                IF d <> 0 THEN
                    UPDATE zvt.orders x SET fees = pg_catalog.trim_scale(x.fees + d) WHERE x.order_id = o.order_id;
                    UPDATE zvt.balances b SET amount = pg_catalog.trim_scale(b.amount - d)
                     WHERE b.account_id = acct AND b.asset = ins.quote;
                    UPDATE zvt.daily_pnl p SET fees = pg_catalog.trim_scale(p.fees + d)
                     WHERE p.account_id = acct AND p.day = (f.ts AT TIME ZONE 'UTC')::date;
                END IF;
            END IF;
        END IF;
        -- an execution says nothing of the order's cumulative quote: only its state goes on
        IF filled_quote IS NULL THEN
            filled := NULL;
        END IF;
    ELSIF filled_quote IS NULL THEN
        filled := NULL;
    END IF;
    RETURN zvt._router_apply(o.order_id, 'query', 'ok', coalesce(xstatus, ''), exchange_id, filled, filled_quote,
                             coalesce(reason, ''), poll_ms, least(poll_ms, 1000));
END;
$$;
COMMENT ON FUNCTION zvt._stream_apply(pg_catalog.int8, pg_catalog.text, pg_catalog.text, pg_catalog.numeric,
    pg_catalog.numeric, pg_catalog.numeric, pg_catalog.numeric, pg_catalog.text, pg_catalog.numeric,
    pg_catalog.numeric, pg_catalog.numeric, pg_catalog.text, pg_catalog.text, pg_catalog.text, pg_catalog.int4) IS
    'Internal: book a private stream''s order update or execution (fills deduplicated by the exchange''s trade id) under the account''s lock.';
REVOKE ALL ON FUNCTION zvt._stream_apply(pg_catalog.int8, pg_catalog.text, pg_catalog.text, pg_catalog.numeric,
    pg_catalog.numeric, pg_catalog.numeric, pg_catalog.numeric, pg_catalog.text, pg_catalog.numeric,
    pg_catalog.numeric, pg_catalog.numeric, pg_catalog.text, pg_catalog.text, pg_catalog.text, pg_catalog.int4) FROM PUBLIC;

-- A private stream's report of one asset of a live account.
CREATE FUNCTION zvt._stream_balance(account_id pg_catalog.int4, asset pg_catalog.text,
                                    free pg_catalog.numeric, locked pg_catalog.numeric)
    RETURNS void
    LANGUAGE sql
AS $$
    INSERT INTO zvt._stream_balances AS b (account_id, asset, free, locked)
    SELECT _stream_balance.account_id, _stream_balance.asset, _stream_balance.free,
           coalesce(_stream_balance.locked, 0)
     WHERE EXISTS (SELECT 1 FROM zvt.accounts x WHERE x.account_id = _stream_balance.account_id)
    ON CONFLICT (account_id, asset) DO UPDATE
       SET free = EXCLUDED.free, locked = EXCLUDED.locked, updated_at = pg_catalog.clock_timestamp()
$$;
COMMENT ON FUNCTION zvt._stream_balance(pg_catalog.int4, pg_catalog.text, pg_catalog.numeric, pg_catalog.numeric) IS
    'Internal: keep a live account''s balance of one asset as its exchange''s private stream reported it.';
REVOKE ALL ON FUNCTION zvt._stream_balance(pg_catalog.int4, pg_catalog.text, pg_catalog.numeric, pg_catalog.numeric) FROM PUBLIC;

-- The live accounts of an exchange with a key: the router streams each.
CREATE FUNCTION zvt._stream_accounts(exchange pg_catalog.text) RETURNS SETOF pg_catalog.int4
    LANGUAGE sql STABLE
AS $$
    SELECT a.account_id FROM zvt.accounts a JOIN zvt._api_keys k USING (account_id)
     WHERE a.exchange = _stream_accounts.exchange AND a.kind = 'live'
     ORDER BY a.account_id
$$;
COMMENT ON FUNCTION zvt._stream_accounts(pg_catalog.text) IS
    'Internal: the live accounts of an exchange that have an API key (each gets a private stream while the router runs).';
REVOKE ALL ON FUNCTION zvt._stream_accounts(pg_catalog.text) FROM PUBLIC;

-- Live trading: the exchange's fill history, one fill per trade
-- (sql/59_trades.sql), and the private streams' executions booked through
-- zvt._book_trade (sql/59_userstream.sql).
-- ===================================================================
-- Live trading, part 3: the exchange's trades, one fill each.
--
-- A live order's fills come three ways: the private streams' executions
-- (with the exchange's trade id and fee), the replies of order queries
-- and open-order lists (cumulative quantity only: "anonymous" fills, no
-- trade id, the schedule's fee), and the exchange's fill history, which
-- reconciliation reads (src/live/reconcile.c, docs/live-trading.md).
-- zvt._book_trade books one exchange trade so that it is in the ledger
-- exactly once, with its trade id and the exchange's fee:
--   - a trade id the order already has: nothing (the unique index
--     fills_exchange_trade_idx holds it);
--   - else, the part of it the ledger already booked anonymously is
--     identified: moved out of the order's anonymous fills (oldest
--     first) into the trade's own fill row, at the trade's price; the
--     position and filled quantity do not move, the quote balance takes
--     the price difference;
--   - the rest (what the ledger never booked) is booked through zvt._fill;
--   - the exchange's fee then replaces the schedule's, in whatever asset
--     the exchange charged it (zvt._fill_exchange_fee).
-- Which anonymous quantity a trade may claim: an order's cumulative
-- quantity grows trade by trade, so its anonymous fills cover the
-- earliest of its trades the ledger has no trade id for.  The history is
-- booked in trade order, each order's trades without an id claiming from
-- its anonymous quantity first; a stream execution claims only the part
-- its own cumulative quantity says the ledger covers.
-- ===================================================================

-- Where the fill history was read up to, per account (and symbol, for
-- Binance, whose history is per symbol): the next run reads from there.
CREATE TABLE zvt._recon_marks (
    account_id  pg_catalog.int4 NOT NULL REFERENCES zvt.accounts ON DELETE CASCADE,
    symbol      pg_catalog.text NOT NULL DEFAULT '',   -- the exchange's symbol, '' for all
    mark        pg_catalog.text NOT NULL,              -- a trade id, a bill id or a time in ms
    updated_at  pg_catalog.timestamptz NOT NULL DEFAULT pg_catalog.clock_timestamp(),
    PRIMARY KEY (account_id, symbol)
);
COMMENT ON TABLE zvt._recon_marks IS
    'Internal: how far reconciliation read each live account''s fill history (Binance: the last trade id per symbol; OKX: the last bill id; Bybit, Coinbase: a time in ms).';
REVOKE ALL ON zvt._recon_marks FROM PUBLIC;

-- The fee of fill fill_id becomes the exchange's: fee in fee_asset.  In
-- the quote asset it replaces the schedule's in the fill, the order's
-- fees, the quote balance and the day's fees; in another asset (Binance's
-- BNB, the base asset a buy received) the schedule's fee is given back
-- to the quote balance, the order and the day, and the fee is taken from
-- fee_asset's balance (zvt.orders.fees and zvt.daily_pnl.fees count the
-- fees charged in the quote asset).  Under the account's lock.
CREATE FUNCTION zvt._fill_exchange_fee(fill_id pg_catalog.int8, fee pg_catalog.numeric, fee_asset pg_catalog.text)
    RETURNS void
    LANGUAGE plpgsql
AS $$
DECLARE
    f zvt.fills;
    ins zvt.instruments;
    d numeric;
    fa text;
BEGIN
    SELECT * INTO f FROM zvt.fills x WHERE x.fill_id = _fill_exchange_fee.fill_id FOR UPDATE;
    SELECT * INTO STRICT ins FROM zvt.instruments x WHERE x.id = f.instrument_id;
    fa := coalesce(nullif(fee_asset, ''), ins.quote);
    IF fee IS NULL OR fee < 0 OR ins.kind <> 'spot' THEN
        RETURN;
    END IF;
    -- undo the fee the fill carries now (quote: the order, the day, the balance; other: that balance)
    IF f.fee_asset = ins.quote THEN
        d := -f.fee;
    ELSE
        d := 0;
        UPDATE zvt.balances b SET amount = pg_catalog.trim_scale(b.amount + f.fee), updated_at = pg_catalog.now()
         WHERE b.account_id = f.account_id AND b.asset = f.fee_asset;
    END IF;
    IF fa = ins.quote THEN
        d := d + fee;
    ELSE
        INSERT INTO zvt.balances AS b (account_id, asset, amount) VALUES (f.account_id, fa, -fee)
        ON CONFLICT (account_id, asset) DO UPDATE
           SET amount = pg_catalog.trim_scale(b.amount + EXCLUDED.amount), updated_at = pg_catalog.now();
    END IF;
    UPDATE zvt.fills x SET fee = pg_catalog.trim_scale(_fill_exchange_fee.fee), fee_asset = fa,
                           fee_source = 'exchange'
     WHERE x.fill_id = f.fill_id;
    IF d <> 0 THEN
        UPDATE zvt.orders x SET fees = pg_catalog.trim_scale(x.fees + d) WHERE x.order_id = f.order_id;
        UPDATE zvt.balances b SET amount = pg_catalog.trim_scale(b.amount - d), updated_at = pg_catalog.now()
         WHERE b.account_id = f.account_id AND b.asset = ins.quote;
        UPDATE zvt.daily_pnl p SET fees = pg_catalog.trim_scale(p.fees + d)
         WHERE p.account_id = f.account_id AND p.day = (f.ts AT TIME ZONE 'UTC')::date;
    END IF;
END;
$$;
COMMENT ON FUNCTION zvt._fill_exchange_fee(pg_catalog.int8, pg_catalog.numeric, pg_catalog.text) IS
    'Internal: a live fill''s fee becomes the exchange''s, in the asset it was charged in (the balances, the order and the day follow).';
REVOKE ALL ON FUNCTION zvt._fill_exchange_fee(pg_catalog.int8, pg_catalog.numeric, pg_catalog.text) FROM PUBLIC;

-- Book exchange trade trade_id of live order order_id (qty at px, the
-- exchange's fee in fee_asset, NULL: unknown), under the account's lock
-- (the caller's).  claim: how much of it the ledger may already hold in
-- the order's anonymous fills (NULL: as much as they hold).  Returns
-- 'duplicate' (the order has the trade), 'identified' (all of it was
-- booked anonymously), 'booked' (none was), 'mixed', or 'nothing' (the
-- order is filled and no anonymous fill is left to claim from).
CREATE FUNCTION zvt._book_trade(order_id pg_catalog.int8, trade_id pg_catalog.text, qty pg_catalog.numeric,
                                px pg_catalog.numeric, fee pg_catalog.numeric, fee_asset pg_catalog.text,
                                liquidity pg_catalog.text, claim pg_catalog.numeric)
    RETURNS pg_catalog.text
    LANGUAGE plpgsql
AS $$
DECLARE
    o zvt.orders;
    a zvt.accounts;
    ins zvt.instruments;
    r zvt.fills;
    pool numeric;
    c numeric;
    nq numeric;
    rem numeric;
    take numeric;
    pf numeric;
    pr numeric;
    fid int8;
    dir int;
BEGIN
    IF nullif(trade_id, '') IS NULL OR qty IS NULL OR qty <= 0 OR px IS NULL OR px <= 0 THEN
        RETURN 'nothing';
    END IF;
    SELECT * INTO o FROM zvt.orders x WHERE x.order_id = _book_trade.order_id FOR UPDATE;
    IF NOT FOUND THEN
        RETURN 'nothing';
    END IF;
    IF EXISTS (SELECT 1 FROM zvt.fills x WHERE x.order_id = o.order_id AND x.exchange_trade_id = _book_trade.trade_id) THEN
        RETURN 'duplicate';
    END IF;
    SELECT * INTO a FROM zvt.accounts x WHERE x.account_id = o.account_id;
    SELECT * INTO STRICT ins FROM zvt.instruments x WHERE x.id = o.instrument_id;
    dir := CASE WHEN o.side = 'buy' THEN 1 ELSE -1 END;
    SELECT coalesce(sum(x.qty), 0) INTO pool FROM zvt.fills x
     WHERE x.order_id = o.order_id AND x.exchange_trade_id IS NULL;
    c := greatest(least(qty, pool, coalesce(claim, qty)), 0);
    nq := greatest(least(qty - c, o.qty - o.filled_qty), 0);
    IF c = 0 AND nq = 0 THEN
        RETURN 'nothing';
    END IF;

    -- what the ledger never booked: a fill of its own
    IF nq > 0 THEN
        o := zvt._fill(a, o, nq, px,
                       CASE WHEN liquidity IN ('maker', 'taker') THEN liquidity
                            WHEN o.type = 'market' THEN 'taker' ELSE 'maker' END, NULL, true);
        SELECT x.fill_id INTO fid FROM zvt.fills x WHERE x.order_id = o.order_id ORDER BY x.fill_id DESC LIMIT 1;
        UPDATE zvt.fills x SET exchange_trade_id = _book_trade.trade_id WHERE x.fill_id = fid;
    END IF;

    -- what it booked anonymously: moved into the trade's row, oldest anonymous fills first
    rem := c;
    FOR r IN SELECT * FROM zvt.fills x WHERE x.order_id = o.order_id AND x.exchange_trade_id IS NULL
              ORDER BY x.fill_id FOR UPDATE
    LOOP
        EXIT WHEN rem <= 0;
        take := least(rem, r.qty);
        IF take = r.qty THEN
            pf := r.fee;
            pr := r.realized_pnl;
        ELSE
            pf := pg_catalog.trim_scale(pg_catalog.round(r.fee * take / r.qty, 12));
            pr := pg_catalog.trim_scale(pg_catalog.round(r.realized_pnl * take / r.qty, 12));
        END IF;
        -- the trade's price instead of the anonymous fill's average
        IF ins.kind = 'spot' AND px <> r.price THEN
            UPDATE zvt.balances b SET amount = pg_catalog.trim_scale(b.amount - dir * take * (px - r.price)),
                   updated_at = pg_catalog.now()
             WHERE b.account_id = o.account_id AND b.asset = ins.quote;
        END IF;
        IF fid IS NULL AND take = r.qty THEN
            -- the anonymous fill is this trade: it gets the trade's id and price
            UPDATE zvt.fills x SET exchange_trade_id = _book_trade.trade_id, price = px WHERE x.fill_id = r.fill_id;
            fid := r.fill_id;
        ELSIF fid IS NULL THEN
            -- part of it: split off into the trade's row
            UPDATE zvt.fills x SET qty = pg_catalog.trim_scale(x.qty - take), fee = pg_catalog.trim_scale(x.fee - pf),
                                   realized_pnl = pg_catalog.trim_scale(x.realized_pnl - pr)
             WHERE x.fill_id = r.fill_id;
            INSERT INTO zvt.fills (order_id, account_id, instrument_id, exchange, symbol, ts, side, qty, price, fee,
                                   fee_asset, liquidity, realized_pnl, price_ts, exchange_trade_id, fee_source)
            VALUES (r.order_id, r.account_id, r.instrument_id, r.exchange, r.symbol, r.ts, r.side, take, px, pf,
                    r.fee_asset, r.liquidity, pr, r.price_ts, _book_trade.trade_id, r.fee_source)
            RETURNING fills.fill_id INTO fid;
        ELSE
            -- a trade straddling two fills: merged into its row
            UPDATE zvt.fills x SET qty = pg_catalog.trim_scale(x.qty + take), fee = pg_catalog.trim_scale(x.fee + pf),
                                   realized_pnl = pg_catalog.trim_scale(x.realized_pnl + pr)
             WHERE x.fill_id = fid;
            IF take = r.qty THEN
                DELETE FROM zvt.fills x WHERE x.fill_id = r.fill_id;
            ELSE
                UPDATE zvt.fills x SET qty = pg_catalog.trim_scale(x.qty - take), fee = pg_catalog.trim_scale(x.fee - pf),
                                       realized_pnl = pg_catalog.trim_scale(x.realized_pnl - pr)
                 WHERE x.fill_id = r.fill_id;
            END IF;
        END IF;
        rem := rem - take;
    END LOOP;
    IF c > 0 THEN
        UPDATE zvt.orders x
           SET avg_fill_price = (SELECT pg_catalog.trim_scale(pg_catalog.round(sum(f.qty * f.price) / sum(f.qty), 10))
                                   FROM zvt.fills f WHERE f.order_id = x.order_id)
         WHERE x.order_id = o.order_id;
    END IF;
    IF fee IS NOT NULL THEN
        PERFORM zvt._fill_exchange_fee(fid, fee, fee_asset);
    END IF;
    RETURN CASE WHEN nq = 0 THEN 'identified' WHEN c = 0 THEN 'booked' ELSE 'mixed' END;
END;
$$;
COMMENT ON FUNCTION zvt._book_trade(pg_catalog.int8, pg_catalog.text, pg_catalog.numeric, pg_catalog.numeric,
    pg_catalog.numeric, pg_catalog.text, pg_catalog.text, pg_catalog.numeric) IS
    'Internal: book one exchange trade of a live order once: identify what the ledger booked without a trade id, book the rest, take the exchange''s fee.';
REVOKE ALL ON FUNCTION zvt._book_trade(pg_catalog.int8, pg_catalog.text, pg_catalog.numeric, pg_catalog.numeric,
    pg_catalog.numeric, pg_catalog.text, pg_catalog.text, pg_catalog.numeric) FROM PUBLIC;

-- The fill history of the run's account as the router read it: a jsonb
-- array of {order_id (zvt's, from a client order id of this database, or
-- null), exchange_id (the exchange's order id), trade_id, qty, px, fee,
-- fee_asset, maker, ts (ms)}, and the marks to keep ({symbol: mark}).
-- Under the account's lock, the trades of this account's live orders are
-- booked by zvt._book_trade in trade order (ts, then trade id); a trade
-- the ledger had not booked at all is recorded as fill_missed (with its
-- trade id), the identified ones are counted in the run's details.
CREATE FUNCTION zvt._reconcile_trades(run_id pg_catalog.int8, trades pg_catalog.jsonb, marks pg_catalog.jsonb)
    RETURNS pg_catalog.int4
    LANGUAGE plpgsql
AS $$
DECLARE
    acct int4;
    t record;
    oid8 int8;
    res text;
    booked int := 0;
    identified int := 0;
    dup int := 0;
    foreign_ int := 0;
BEGIN
    SELECT r.account_id INTO STRICT acct FROM zvt.reconciliations r WHERE r.recon_id = _reconcile_trades.run_id;
    PERFORM zvt._lock_account(acct);
    FOR t IN SELECT * FROM pg_catalog.jsonb_to_recordset(trades)
                      AS x(order_id int8, exchange_id text, trade_id text, qty numeric, px numeric, fee numeric,
                           fee_asset text, maker bool, ts int8)
              ORDER BY x.ts, pg_catalog.length(x.trade_id), x.trade_id
    LOOP
        SELECT y.order_id INTO oid8 FROM zvt.orders y JOIN zvt._live_orders l ON l.order_id = y.order_id
         WHERE y.account_id = acct
           AND ((t.order_id IS NOT NULL AND y.order_id = t.order_id) OR l.exchange_id = t.exchange_id)
         ORDER BY (y.order_id = t.order_id) DESC
         LIMIT 1;
        IF oid8 IS NULL THEN
            foreign_ := foreign_ + 1;       -- not an order of zvt's (or not yet known by its exchange id)
            CONTINUE;
        END IF;
        res := zvt._book_trade(oid8, t.trade_id, t.qty, t.px, t.fee, t.fee_asset,
                               CASE WHEN t.maker THEN 'maker' WHEN NOT t.maker THEN 'taker' END, NULL);
        IF res = 'duplicate' THEN
            dup := dup + 1;
        ELSIF res = 'identified' THEN
            identified := identified + 1;
        ELSIF res IN ('booked', 'mixed') THEN
            booked := booked + 1;
            PERFORM zvt._reconcile_note(run_id, 'fill_missed', oid8,
                pg_catalog.jsonb_build_object('exchange_id', t.exchange_id, 'trade_id', t.trade_id,
                    'booked', t.qty, 'price', t.px, 'fee', t.fee, 'fee_asset', t.fee_asset, 'source', 'fill_history',
                    'status', (SELECT y.status FROM zvt.orders y WHERE y.order_id = oid8)),
                true);
        END IF;
    END LOOP;
    INSERT INTO zvt._recon_marks AS m (account_id, symbol, mark)
    SELECT acct, k.key, k.value FROM pg_catalog.jsonb_each_text(coalesce(marks, '{}')) k
    ON CONFLICT (account_id, symbol) DO UPDATE SET mark = EXCLUDED.mark, updated_at = pg_catalog.clock_timestamp();
    UPDATE zvt.reconciliations r
       SET details = r.details OPERATOR(pg_catalog.||) pg_catalog.jsonb_build_object(
               'history_trades', pg_catalog.jsonb_array_length(trades), 'history_booked', booked,
               'history_identified', identified, 'history_known', dup, 'history_not_ours', foreign_)
     WHERE r.recon_id = _reconcile_trades.run_id;
    RETURN booked;
END;
$$;
COMMENT ON FUNCTION zvt._reconcile_trades(pg_catalog.int8, pg_catalog.jsonb, pg_catalog.jsonb) IS
    'Internal: book the exchange''s fill history of a live account, each trade once (identified or booked), and keep how far it was read.';
REVOKE ALL ON FUNCTION zvt._reconcile_trades(pg_catalog.int8, pg_catalog.jsonb, pg_catalog.jsonb) FROM PUBLIC;

-- The run's account: its fill-history marks, per exchange symbol of its
-- live orders (Binance reads its history symbol by symbol) and '' (the
-- others read it whole), and since: the first live order's time less a
-- minute, in ms (how far back a first reading goes).
CREATE FUNCTION zvt._reconcile_history_from(run_id pg_catalog.int8)
    RETURNS TABLE (symbol pg_catalog.text, mark pg_catalog.text, since pg_catalog.int8)
    LANGUAGE sql STABLE
AS $$
    WITH acct AS (SELECT r.account_id FROM zvt.reconciliations r WHERE r.recon_id = _reconcile_history_from.run_id),
    syms AS (
        SELECT DISTINCT i.raw_symbol AS symbol
          FROM zvt.orders y JOIN zvt._live_orders l ON l.order_id = y.order_id
          JOIN zvt.instruments i ON i.id = y.instrument_id, acct
         WHERE y.account_id = acct.account_id
        UNION SELECT ''
    ),
    first AS (
        SELECT (pg_catalog.date_part('epoch', pg_catalog.min(y.created_at)) * 1000)::pg_catalog.int8 - 60000 AS ms
          FROM zvt.orders y JOIN zvt._live_orders l ON l.order_id = y.order_id, acct
         WHERE y.account_id = acct.account_id
    )
    SELECT s.symbol, m.mark, (SELECT first.ms FROM first) FROM syms s CROSS JOIN acct
      LEFT JOIN zvt._recon_marks m ON m.account_id = acct.account_id AND m.symbol = s.symbol
     ORDER BY 1
$$;
COMMENT ON FUNCTION zvt._reconcile_history_from(pg_catalog.int8) IS
    'Internal: where a reconciliation run reads an account''s fill history from (its marks per symbol of its live orders and '''' for all, and its first live order''s time).';
REVOKE ALL ON FUNCTION zvt._reconcile_history_from(pg_catalog.int8) FROM PUBLIC;

CREATE OR REPLACE FUNCTION zvt._stream_apply(order_id pg_catalog.int8, xstatus pg_catalog.text,
                                  exchange_id pg_catalog.text, filled pg_catalog.numeric,
                                  filled_quote pg_catalog.numeric, avg_px pg_catalog.numeric,
                                  leaves pg_catalog.numeric, trade_id pg_catalog.text,
                                  last_qty pg_catalog.numeric, last_px pg_catalog.numeric,
                                  fee pg_catalog.numeric, fee_asset pg_catalog.text,
                                  liquidity pg_catalog.text, reason pg_catalog.text,
                                  poll_ms pg_catalog.int4)
    RETURNS pg_catalog.text
    LANGUAGE plpgsql
AS $$
DECLARE
    o zvt.orders;
    acct int4;
    cum numeric;
BEGIN
    SELECT x.account_id INTO acct FROM zvt.orders x WHERE x.order_id = _stream_apply.order_id;
    IF NOT FOUND THEN
        RETURN NULL;
    END IF;
    PERFORM zvt._lock_account(acct);
    SELECT * INTO o FROM zvt.orders x WHERE x.order_id = _stream_apply.order_id FOR UPDATE;
    IF o.status NOT IN ('sending', 'unknown', 'new', 'pending_cancel')
       OR NOT EXISTS (SELECT 1 FROM zvt._live_orders l WHERE l.order_id = o.order_id) THEN
        RETURN o.status;
    END IF;
    cum := coalesce(filled, o.qty - leaves);
    IF filled_quote IS NULL AND avg_px IS NOT NULL AND filled IS NOT NULL THEN
        filled_quote := filled * avg_px;
    END IF;

    IF nullif(trade_id, '') IS NOT NULL AND last_qty > 0 AND last_px > 0 THEN
        IF o.status IN ('sending', 'unknown') THEN
            -- the first news of it: acknowledged, as a query reply saying "new" would
            PERFORM zvt._router_apply(o.order_id, 'query', 'ok', '', exchange_id, NULL, NULL, '', poll_ms,
                                      least(poll_ms, 1000));
            SELECT * INTO o FROM zvt.orders x WHERE x.order_id = _stream_apply.order_id;
        END IF;
        -- the part of it the ledger already holds without a trade id (its
        -- cumulative quantity says so) is identified, the rest booked
        PERFORM zvt._book_trade(o.order_id, trade_id, last_qty, last_px, fee, fee_asset, liquidity,
                                CASE WHEN cum IS NULL THEN 0
                                     ELSE least(last_qty, greatest(o.filled_qty - (cum - last_qty), 0)) END);
        -- an execution says nothing of the order's cumulative quote: only its state goes on
        IF filled_quote IS NULL THEN
            filled := NULL;
        END IF;
    ELSIF filled_quote IS NULL THEN
        filled := NULL;
    END IF;
    RETURN zvt._router_apply(o.order_id, 'query', 'ok', coalesce(xstatus, ''), exchange_id, filled, filled_quote,
                             coalesce(reason, ''), poll_ms, least(poll_ms, 1000));
END;
$$;
-- The router's send path apart (zvt._router_claim) and its outbox index;
-- zvt._router_work reads the due index with one clock reading.
-- the live orders waiting to be sent, per exchange: a claim reads these
-- rows only, however many orders rest open on the exchange
CREATE INDEX orders_live_pending_idx ON zvt.orders (exchange, order_id) WHERE status = 'pending_new';
COMMENT ON INDEX zvt.orders_live_pending_idx IS
    'Live routing: the outbox, the orders of each exchange committed and not yet sent.';

-- The router's send path: up to lim pending orders of exchange marked
-- sending (the caller commits before it sends: the outbox's "sent"
-- mark), as op 'place'.  inflight: the orders the router has a request
-- out for.  Orders of an account under reconciliation wait.
CREATE FUNCTION zvt._router_claim(exchange pg_catalog.text, inflight pg_catalog.int8[], lim pg_catalog.int4)
    RETURNS TABLE (op pg_catalog.text, order_id pg_catalog.int8, account_id pg_catalog.int4,
                   symbol pg_catalog.text, side pg_catalog.text, type pg_catalog.text,
                   qty pg_catalog.text, price pg_catalog.text, tif pg_catalog.text,
                   post_only pg_catalog.bool, reduce_only pg_catalog.bool, exchange_id pg_catalog.text)
    LANGUAGE plpgsql
AS $$
BEGIN
    -- PL/pgSQL: its plan is kept from one call to the next
    RETURN QUERY
    WITH due AS (
        SELECT x.order_id FROM zvt.orders x
         WHERE x.exchange = _router_claim.exchange AND x.status = 'pending_new'
           AND x.order_id <> ALL (inflight)
           -- not while the account reconciles (sql/59_reconcile.sql)
           AND NOT EXISTS (SELECT 1 FROM zvt.reconciliations r
                            WHERE r.account_id = x.account_id AND r.finished_at IS NULL)
         ORDER BY x.order_id LIMIT lim
           FOR UPDATE SKIP LOCKED
    ), sent AS (
        UPDATE zvt.orders x SET status = 'sending', updated_at = pg_catalog.clock_timestamp()
          FROM due WHERE x.order_id = due.order_id AND x.status = 'pending_new'
        RETURNING x.*
    ), ev AS (
        INSERT INTO zvt.order_events (order_id, account_id, event, status, qty)
        SELECT s.order_id, s.account_id, 'sent', 'sending', s.qty FROM sent s
    ), l AS (
        INSERT INTO zvt._live_orders AS l (order_id, account_id, sent_at, sends)
        SELECT s.order_id, s.account_id, pg_catalog.clock_timestamp(), 1 FROM sent s
        ON CONFLICT ON CONSTRAINT _live_orders_pkey DO UPDATE
           SET sent_at = EXCLUDED.sent_at, sends = l.sends + 1, next_at = NULL
    )
    SELECT 'place', s.order_id, s.account_id, s.symbol, s.side, s.type, s.qty::text, s.price::text,
           s.tif, s.post_only, s.reduce_only, NULL::text
      FROM sent s ORDER BY s.order_id;
END;
$$;
COMMENT ON FUNCTION zvt._router_claim(pg_catalog.text, pg_catalog.int8[], pg_catalog.int4) IS
    'Internal: the order router''s send path: up to lim pending orders marked sending (to place).';
REVOKE ALL ON FUNCTION zvt._router_claim(pg_catalog.text, pg_catalog.int8[], pg_catalog.int4) FROM PUBLIC;

-- What the router of exchange should do now, up to lim requests: first
-- the pending orders, marked sending by zvt._router_claim; then the
-- orders due a query (sending or unknown, not in flight: after a crash
-- or a lost reply; open ones every poll) or a cancel.  inflight: the
-- orders the router has a request out for.  "Due" is compared with one
-- clock reading, so that both statements read the due index.
CREATE OR REPLACE FUNCTION zvt._router_work(exchange pg_catalog.text, inflight pg_catalog.int8[], lim pg_catalog.int4)
    RETURNS TABLE (op pg_catalog.text, order_id pg_catalog.int8, account_id pg_catalog.int4,
                   symbol pg_catalog.text, side pg_catalog.text, type pg_catalog.text,
                   qty pg_catalog.text, price pg_catalog.text, tif pg_catalog.text,
                   post_only pg_catalog.bool, reduce_only pg_catalog.bool, exchange_id pg_catalog.text)
    LANGUAGE plpgsql
AS $$
DECLARE
    n int;
    t timestamptz;
BEGIN
    RETURN QUERY SELECT * FROM zvt._router_claim(exchange, inflight, lim);
    GET DIAGNOSTICS n = ROW_COUNT;
    IF n >= lim THEN
        RETURN;
    END IF;
    t := pg_catalog.clock_timestamp();
    -- final orders that fell due are parked, so that the due rows stay few
    UPDATE zvt._live_orders l SET next_at = 'infinity'
      FROM zvt.orders x
     WHERE x.order_id = l.order_id
       AND (l.next_at IS NULL OR l.next_at <= t)
       AND x.status NOT IN ('pending_new', 'sending', 'unknown', 'new', 'pending_cancel');
    RETURN QUERY
    SELECT CASE WHEN x.status = 'pending_cancel' AND l.exchange_id IS NOT NULL THEN 'cancel' ELSE 'query' END,
           x.order_id, x.account_id, x.symbol, x.side, x.type, x.qty::text, x.price::text,
           x.tif, x.post_only, x.reduce_only, l.exchange_id
      FROM zvt._live_orders l JOIN zvt.orders x ON x.order_id = l.order_id
     WHERE (l.next_at IS NULL OR l.next_at <= t)
       AND x.exchange = _router_work.exchange
       AND x.status IN ('sending', 'unknown', 'new', 'pending_cancel')
       AND x.order_id <> ALL (inflight)
       AND l.sent_at < pg_catalog.now()     -- not those just marked for sending above
     ORDER BY l.next_at NULLS FIRST, x.order_id
     LIMIT lim - n;
END;
$$;
COMMENT ON FUNCTION zvt._router_work(pg_catalog.text, pg_catalog.int8[], pg_catalog.int4) IS
    'Internal: the order router''s next requests: pending orders marked sending (to place), then queries and cancels due.';
REVOKE ALL ON FUNCTION zvt._router_work(pg_catalog.text, pg_catalog.int8[], pg_catalog.int4) FROM PUBLIC;
-- Binance -PERP history from futures_rest_url; funding backfills and repairs;
-- settlements wait for the repair of a funding gap (issue 13)
CREATE OR REPLACE FUNCTION zvt._backfill_channel(channel pg_catalog.text) RETURNS pg_catalog.text
    LANGUAGE plpgsql IMMUTABLE
    SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF channel = 'candles' THEN
        RETURN 'candles_1m';
    ELSIF channel IN ('trades', 'funding') OR channel LIKE 'candles\_%' AND channel IN (SELECT zvt.channels()) THEN
        RETURN channel;
    END IF;
    RAISE EXCEPTION 'cannot backfill channel "%"', channel
        USING ERRCODE = '22023',
              HINT = 'Backfill trades, candles (candles_1m ... candles_1d) or funding; quotes and books have no REST history.';
END;
$$;

CREATE OR REPLACE FUNCTION zvt.backfill(exchange pg_catalog.text, symbol pg_catalog.text,
                             channel pg_catalog.text, start pg_catalog.timestamptz,
                             finish pg_catalog.timestamptz DEFAULT pg_catalog.now())
    RETURNS pg_catalog.int8
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    ch text := zvt._backfill_channel(channel);
    sym text := zvt._check_subscription(exchange, symbol, ch);
    job bigint;
BEGIN
    PERFORM zvt._require_preload('zvt.backfill');
    IF start IS NULL OR finish IS NULL OR finish <= start THEN
        RAISE EXCEPTION 'invalid backfill range [%, %)', start, finish
            USING ERRCODE = '22023',
                  HINT = 'start must be before finish.';
    END IF;
    IF NOT EXISTS (SELECT 1 FROM zvt.instruments i
                    WHERE i.exchange = backfill.exchange AND i.symbol = sym) THEN
        RAISE EXCEPTION 'unknown symbol "%" on exchange "%"', sym, exchange
            USING ERRCODE = '42704',
                  HINT = 'Run zvt.sync_instruments first: a backfill writes rows of a known instrument.';
    END IF;
    PERFORM zvt._backfill_wake();
    -- a perpetual's history is on futures_rest_url where the exchange has one (Binance fapi)
    INSERT INTO zvt._backfill_jobs (exchange, symbol, channel, start_ts, finish_ts, rest_url)
    SELECT backfill.exchange, sym, ch, start, finish,
           CASE WHEN sym LIKE '%-PERP' AND e.futures_rest_url IS NOT NULL
                THEN e.futures_rest_url ELSE e.rest_url END
      FROM zvt.exchanges e WHERE e.name = backfill.exchange
    RETURNING id INTO job;
    RETURN job;
END;
$$;

COMMENT ON FUNCTION zvt.backfill(pg_catalog.text, pg_catalog.text, pg_catalog.text, pg_catalog.timestamptz, pg_catalog.timestamptz) IS
    'Queue a backfill of trades, candles or funding of a symbol over [start, finish) from the exchange''s REST API and return its job id at once; the backfill worker loads it page by page through the feeds'' idempotent path, within the exchange''s rate limits (zvt.backfill_jobs shows progress).';

CREATE OR REPLACE FUNCTION zvt.resume_backfill(job pg_catalog.int8) RETURNS pg_catalog.bool
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    PERFORM zvt._backfill_wake();
    UPDATE zvt._backfill_jobs j SET state = 'queued', finished_at = NULL, errors = 0,
           rest_url = (SELECT CASE WHEN j.symbol LIKE '%-PERP' AND e.futures_rest_url IS NOT NULL
                                   THEN e.futures_rest_url ELSE e.rest_url END
                         FROM zvt.exchanges e WHERE e.name = j.exchange)
     WHERE j.id = job AND j.state IN ('canceled', 'failed');
    RETURN FOUND;
END;
$$;

CREATE OR REPLACE FUNCTION zvt.settle_funding() RETURNS pg_catalog.int4
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    d record;
    p record;
    mark numeric;
    rate numeric;
    amount numeric;
    n int;
    paid int := 0;
BEGIN
    FOR d IN
        SELECT i.id AS instrument_id, i.quote, e.funding_time, e.funding_rate, e.mark_price, e.source_ts
          FROM zvt.instruments i
          CROSS JOIN LATERAL (SELECT max(s.funding_time) AS done FROM zvt.funding_settlements s
                               WHERE s.instrument_id = i.id) l
          CROSS JOIN LATERAL zvt._funding_events(i.id, coalesce(l.done + interval '1 microsecond', '-infinity'),
                                                 'infinity') e
         WHERE i.kind = 'perp'
           -- a funding gap not repaired yet may hide the rows T settles at:
           -- T and the times after it wait for the repair (a minute's slack
           -- between the gap's receive times and the exchange's)
           AND NOT EXISTS (SELECT 1 FROM zvt.feed_gaps g
                            WHERE g.exchange = i.exchange AND g.symbol = i.symbol
                              AND g.channel = 'funding' AND g.repaired_at IS NULL
                              AND g.repair_error IS NULL
                              AND e.funding_time >= g.from_ts - interval '1 minute')
         ORDER BY 1, 3
    LOOP
        rate := d.funding_rate::numeric;
        -- OKX's funding-rate channel has no mark: the last trade at or before T
        mark := coalesce(d.mark_price,
                         (SELECT t.price FROM zvt.trades t
                           WHERE t.instrument_id = d.instrument_id AND t.ts <= d.funding_time
                             AND t.ts > d.funding_time - interval '1 day'
                           ORDER BY t.ts DESC LIMIT 1))::numeric;
        CONTINUE WHEN mark IS NULL;
        INSERT INTO zvt.funding_settlements (instrument_id, funding_time, funding_rate, mark_price, source_ts)
        VALUES (d.instrument_id, d.funding_time, rate, mark, d.source_ts)
        ON CONFLICT DO NOTHING;
        GET DIAGNOSTICS n = ROW_COUNT;
        CONTINUE WHEN n = 0;    -- another session settled it
        n := 0;
        -- paper positions at T, from their fills up to T, in account order (the lock order)
        FOR p IN
            SELECT f.account_id, sum(CASE WHEN f.side = 'buy' THEN f.qty ELSE -f.qty END) AS qty
              FROM zvt.fills f
              JOIN zvt.accounts a ON a.account_id = f.account_id AND a.kind = 'paper'
             WHERE f.instrument_id = d.instrument_id AND f.ts <= d.funding_time
             GROUP BY f.account_id
            HAVING sum(CASE WHEN f.side = 'buy' THEN f.qty ELSE -f.qty END) <> 0
             ORDER BY f.account_id
        LOOP
            PERFORM zvt._lock_account(p.account_id);
            amount := trim_scale(-(p.qty * mark * rate));
            INSERT INTO zvt.funding_payments (account_id, instrument_id, funding_time, qty, mark_price,
                                              funding_rate, amount, asset)
            VALUES (p.account_id, d.instrument_id, d.funding_time, p.qty, mark, rate, amount, d.quote)
            ON CONFLICT DO NOTHING;
            CONTINUE WHEN NOT FOUND;
            INSERT INTO zvt.balances AS b (account_id, asset, amount)
            VALUES (p.account_id, d.quote, amount)
            ON CONFLICT (account_id, asset) DO UPDATE
               SET amount = trim_scale(b.amount + EXCLUDED.amount), updated_at = pg_catalog.now();
            UPDATE zvt.holdings h SET realized_pnl = trim_scale(h.realized_pnl + amount), updated_at = pg_catalog.now()
             WHERE h.account_id = p.account_id AND h.instrument_id = d.instrument_id;
            INSERT INTO zvt.daily_pnl AS x (account_id, day, realized, fees)
            VALUES (p.account_id, (d.funding_time AT TIME ZONE 'UTC')::date, amount, 0)
            ON CONFLICT (account_id, day) DO UPDATE SET realized = trim_scale(x.realized + EXCLUDED.realized);
            n := n + 1;
        END LOOP;
        UPDATE zvt.funding_settlements s SET payments = n
         WHERE s.instrument_id = d.instrument_id AND s.funding_time = d.funding_time;
        paid := paid + n;
    END LOOP;
    RETURN paid;
END;
$$;


-- zvt._router_work: its due statements start from the due rows and look
-- each order up by its key (no plan walks every open order each pass)
CREATE OR REPLACE FUNCTION zvt._router_work(exchange pg_catalog.text, inflight pg_catalog.int8[], lim pg_catalog.int4)
    RETURNS TABLE (op pg_catalog.text, order_id pg_catalog.int8, account_id pg_catalog.int4,
                   symbol pg_catalog.text, side pg_catalog.text, type pg_catalog.text,
                   qty pg_catalog.text, price pg_catalog.text, tif pg_catalog.text,
                   post_only pg_catalog.bool, reduce_only pg_catalog.bool, exchange_id pg_catalog.text)
    LANGUAGE plpgsql
AS $$
DECLARE
    n int;
    t timestamptz;
BEGIN
    RETURN QUERY SELECT * FROM zvt._router_claim(exchange, inflight, lim);
    GET DIAGNOSTICS n = ROW_COUNT;
    IF n >= lim THEN
        RETURN;
    END IF;
    t := pg_catalog.clock_timestamp();
    -- Both statements start from the due rows (the due index) and look
    -- each one's order up by its key, whatever the statistics say: a
    -- join the planner may turn around walks every open order, every
    -- pass (milliseconds with thousands resting, a delay for any order
    -- committed meanwhile).  "> '-infinity'" makes "due" a range, which
    -- a generic plan estimates as few rows.
    -- final orders that fell due are parked, so that the due rows stay few
    UPDATE zvt._live_orders l SET next_at = 'infinity'
     WHERE (l.next_at IS NULL OR l.next_at > '-infinity' AND l.next_at <= t)
       AND (SELECT x.status FROM zvt.orders x WHERE x.order_id = l.order_id)
           NOT IN ('pending_new', 'sending', 'unknown', 'new', 'pending_cancel');
    RETURN QUERY
    SELECT CASE WHEN x.status = 'pending_cancel' AND l.exchange_id IS NOT NULL THEN 'cancel' ELSE 'query' END,
           x.order_id, x.account_id, x.symbol, x.side, x.type, x.qty::text, x.price::text,
           x.tif, x.post_only, x.reduce_only, l.exchange_id
      FROM zvt._live_orders l
     CROSS JOIN LATERAL (SELECT * FROM zvt.orders x WHERE x.order_id = l.order_id OFFSET 0) x
     WHERE (l.next_at IS NULL OR l.next_at > '-infinity' AND l.next_at <= t)
       AND x.exchange = _router_work.exchange
       AND x.status IN ('sending', 'unknown', 'new', 'pending_cancel')
       AND x.order_id <> ALL (inflight)
       AND l.sent_at < pg_catalog.now()     -- not those just marked for sending above
     ORDER BY l.next_at NULLS FIRST, x.order_id
     LIMIT lim - n;
END;
$$;
COMMENT ON FUNCTION zvt._router_work(pg_catalog.text, pg_catalog.int8[], pg_catalog.int4) IS
    'Internal: the order router''s next requests: pending orders marked sending (to place), then queries and cancels due.';
REVOKE ALL ON FUNCTION zvt._router_work(pg_catalog.text, pg_catalog.int8[], pg_catalog.int4) FROM PUBLIC;


-- ---- wt-h2: a live fill's fee charged in the base asset leaves the position ----
-- zvt._hold: the netting arithmetic of zvt._fill, which zvt._fill_exchange_fee
-- also moves a position with (sql/55_orders.sql, sql/59_trades.sql)
CREATE FUNCTION zvt._hold(acct pg_catalog.int4, iid pg_catalog.int4, dq pg_catalog.numeric,
                          px pg_catalog.numeric, charge pg_catalog.numeric)
    RETURNS pg_catalog.numeric
    LANGUAGE plpgsql
AS $$
DECLARE
    q numeric;
    avg numeric;
    newq numeric;
    newavg numeric;
    realized numeric := 0;
BEGIN
    SELECT h.qty, h.avg_price INTO q, avg FROM zvt.holdings h
     WHERE h.account_id = acct AND h.instrument_id = iid FOR UPDATE;
    q := coalesce(q, 0);
    avg := coalesce(avg, 0);
    newq := trim_scale(q + dq);
    IF q = 0 OR sign(q) = sign(dq) THEN
        newavg := trim_scale(round((abs(q) * avg + abs(dq) * px) / (abs(q) + abs(dq)), 10));
    ELSE
        realized := trim_scale(least(abs(dq), abs(q)) * (px - avg) * sign(q));
        newavg := CASE WHEN newq = 0 THEN 0 WHEN sign(newq) = sign(q) THEN avg ELSE px END;
    END IF;
    realized := trim_scale(realized - charge);
    INSERT INTO zvt.holdings AS h (account_id, instrument_id, qty, avg_price, realized_pnl)
    VALUES (acct, iid, newq, newavg, realized)
    ON CONFLICT (account_id, instrument_id) DO UPDATE
       SET qty = EXCLUDED.qty, avg_price = EXCLUDED.avg_price,
           realized_pnl = trim_scale(h.realized_pnl + EXCLUDED.realized_pnl), updated_at = pg_catalog.now();
    RETURN realized;
END;
$$;
COMMENT ON FUNCTION zvt._hold(pg_catalog.int4, pg_catalog.int4, pg_catalog.numeric, pg_catalog.numeric,
    pg_catalog.numeric) IS
    'Internal: move a netting position by a signed quantity at a price (average price, realized PnL, flips); returns the PnL realized.';
REVOKE ALL ON FUNCTION zvt._hold(pg_catalog.int4, pg_catalog.int4, pg_catalog.numeric, pg_catalog.numeric,
    pg_catalog.numeric) FROM PUBLIC;

CREATE OR REPLACE FUNCTION zvt._fill(a zvt.accounts, o zvt.orders, fqty pg_catalog.numeric, fprice pg_catalog.numeric,
                          liquidity pg_catalog.text, price_ts pg_catalog.timestamptz,
                          resting pg_catalog.bool)
    RETURNS zvt.orders
    LANGUAGE plpgsql
AS $$
DECLARE
    ins zvt.instruments;
    dir int := CASE WHEN o.side = 'buy' THEN 1 ELSE -1 END;
    fee numeric;
    realized numeric;
    done bool;
BEGIN
    SELECT * INTO STRICT ins FROM zvt.instruments WHERE id = o.instrument_id;
    fee := trim_scale(fqty * fprice * CASE WHEN liquidity = 'maker' THEN a.maker_fee_bps
                                           ELSE a.taker_fee_bps END / 10000);

    -- the netting position
    realized := zvt._hold(o.account_id, o.instrument_id, dir * fqty, fprice, 0);

    -- money: spot moves both assets; a perpetual books PnL and fees in its quote
    IF ins.kind = 'spot' THEN
        INSERT INTO zvt.balances AS b (account_id, asset, amount)
        VALUES (o.account_id, ins.quote, -(dir * fqty * fprice) - fee), (o.account_id, ins.base, dir * fqty)
        ON CONFLICT (account_id, asset) DO UPDATE
           SET amount = trim_scale(b.amount + EXCLUDED.amount), updated_at = pg_catalog.now();
    ELSE
        INSERT INTO zvt.balances AS b (account_id, asset, amount)
        VALUES (o.account_id, ins.quote, realized - fee)
        ON CONFLICT (account_id, asset) DO UPDATE
           SET amount = trim_scale(b.amount + EXCLUDED.amount), updated_at = pg_catalog.now();
    END IF;
    INSERT INTO zvt.daily_pnl AS d (account_id, day, realized, fees)
    VALUES (o.account_id, (pg_catalog.clock_timestamp() AT TIME ZONE 'UTC')::date, realized, fee)
    ON CONFLICT (account_id, day) DO UPDATE
       SET realized = trim_scale(d.realized + EXCLUDED.realized), fees = trim_scale(d.fees + EXCLUDED.fees);

    INSERT INTO zvt.fills (order_id, account_id, instrument_id, exchange, symbol, side, qty, price, fee,
                           fee_asset, liquidity, realized_pnl, price_ts)
    VALUES (o.order_id, o.account_id, o.instrument_id, o.exchange, o.symbol, o.side, fqty, fprice, fee,
            ins.quote, liquidity, realized, price_ts);

    done := o.filled_qty + fqty >= o.qty;
    IF resting THEN
        PERFORM zvt._exposure(o, CASE WHEN done THEN -1 ELSE 0 END, -fqty, o.reserve_price);
    END IF;
    UPDATE zvt.orders x
       SET avg_fill_price = trim_scale(round((coalesce(x.avg_fill_price, 0) * x.filled_qty + fqty * fprice)
                                             / (x.filled_qty + fqty), 10)),
           filled_qty = trim_scale(x.filled_qty + fqty),
           fees = trim_scale(x.fees + fee),
           -- a live order's status says where it stands with the exchange
           -- (new, pending_cancel...) until it is filled; paper's becomes
           -- partially_filled, which the paper matcher reads
           status = CASE WHEN done THEN 'filled'
                         WHEN x.status IN ('accepted', 'partially_filled') THEN 'partially_filled'
                         ELSE x.status END,
           updated_at = pg_catalog.clock_timestamp()
     WHERE x.order_id = o.order_id
    RETURNING * INTO o;
    INSERT INTO zvt.order_events (order_id, account_id, event, status, qty, price)
    VALUES (o.order_id, o.account_id, 'fill', o.status, fqty, fprice);
    RETURN o;
END;
$$;
COMMENT ON FUNCTION zvt._fill(zvt.accounts, zvt.orders, pg_catalog.numeric, pg_catalog.numeric,
    pg_catalog.text, pg_catalog.timestamptz, pg_catalog.bool) IS
    'Internal: execute part of an order: fill row, order progress and event, netting position, balances, daily PnL.';
REVOKE ALL ON FUNCTION zvt._fill(zvt.accounts, zvt.orders, pg_catalog.numeric, pg_catalog.numeric,
    pg_catalog.text, pg_catalog.timestamptz, pg_catalog.bool) FROM PUBLIC;

CREATE OR REPLACE FUNCTION zvt._fill_exchange_fee(fill_id pg_catalog.int8, fee pg_catalog.numeric, fee_asset pg_catalog.text)
    RETURNS void
    LANGUAGE plpgsql
AS $$
DECLARE
    f zvt.fills;
    ins zvt.instruments;
    d numeric;
    fa text;
    r numeric;
BEGIN
    SELECT * INTO f FROM zvt.fills x WHERE x.fill_id = _fill_exchange_fee.fill_id FOR UPDATE;
    SELECT * INTO STRICT ins FROM zvt.instruments x WHERE x.id = f.instrument_id;
    fa := coalesce(nullif(fee_asset, ''), ins.quote);
    IF fee IS NULL OR fee < 0 OR ins.kind <> 'spot' OR f.fee_source = 'exchange' THEN
        RETURN;
    END IF;
    -- undo the schedule's fee, in the quote: the order, the day, the balance
    d := -f.fee;
    IF fa = ins.quote THEN
        d := d + fee;
    ELSE
        INSERT INTO zvt.balances AS b (account_id, asset, amount) VALUES (f.account_id, fa, -fee)
        ON CONFLICT (account_id, asset) DO UPDATE
           SET amount = pg_catalog.trim_scale(b.amount + EXCLUDED.amount), updated_at = pg_catalog.now();
    END IF;
    IF fa = ins.base AND fee > 0 THEN
        -- the base the fee took leaves the position too
        r := zvt._hold(f.account_id, f.instrument_id, -fee, f.price, fee * f.price);
        UPDATE zvt.fills x SET realized_pnl = pg_catalog.trim_scale(x.realized_pnl + r) WHERE x.fill_id = f.fill_id;
        INSERT INTO zvt.daily_pnl AS p (account_id, day, realized, fees)
        VALUES (f.account_id, (f.ts AT TIME ZONE 'UTC')::date, r, 0)
        ON CONFLICT (account_id, day) DO UPDATE SET realized = pg_catalog.trim_scale(p.realized + EXCLUDED.realized);
    END IF;
    UPDATE zvt.fills x SET fee = pg_catalog.trim_scale(_fill_exchange_fee.fee), fee_asset = fa,
                           fee_source = 'exchange'
     WHERE x.fill_id = f.fill_id;
    IF d <> 0 THEN
        UPDATE zvt.orders x SET fees = pg_catalog.trim_scale(x.fees + d) WHERE x.order_id = f.order_id;
        UPDATE zvt.balances b SET amount = pg_catalog.trim_scale(b.amount - d), updated_at = pg_catalog.now()
         WHERE b.account_id = f.account_id AND b.asset = ins.quote;
        UPDATE zvt.daily_pnl p SET fees = pg_catalog.trim_scale(p.fees + d)
         WHERE p.account_id = f.account_id AND p.day = (f.ts AT TIME ZONE 'UTC')::date;
    END IF;
END;
$$;
COMMENT ON FUNCTION zvt._fill_exchange_fee(pg_catalog.int8, pg_catalog.numeric, pg_catalog.text) IS
    'Internal: a live fill''s fee becomes the exchange''s, in the asset it was charged in (the balances, the order and the day follow).';
REVOKE ALL ON FUNCTION zvt._fill_exchange_fee(pg_catalog.int8, pg_catalog.numeric, pg_catalog.text) FROM PUBLIC;

-- An account's open orders by order_id (bench/soak: finding an account's
-- oldest open order read every order before it, so each cancel cost more
-- the longer the soak ran; zvt.cancel_all read the account's history)
CREATE INDEX orders_open_idx ON zvt.orders (account_id, order_id)
    WHERE status IN ('accepted', 'partially_filled', 'pending_new', 'sending', 'unknown', 'new', 'pending_cancel');
COMMENT ON INDEX zvt.orders_open_idx IS
    'An account''s open orders (paper and live) by order_id, so that listing or canceling them does not read its closed ones.';
-- zvt._stream_apply: the stream's copy of an acknowledgement already booked
-- (order new, unfilled) is passed over without a lock or a write
CREATE OR REPLACE FUNCTION zvt._stream_apply(order_id pg_catalog.int8, xstatus pg_catalog.text,
                                  exchange_id pg_catalog.text, filled pg_catalog.numeric,
                                  filled_quote pg_catalog.numeric, avg_px pg_catalog.numeric,
                                  leaves pg_catalog.numeric, trade_id pg_catalog.text,
                                  last_qty pg_catalog.numeric, last_px pg_catalog.numeric,
                                  fee pg_catalog.numeric, fee_asset pg_catalog.text,
                                  liquidity pg_catalog.text, reason pg_catalog.text,
                                  poll_ms pg_catalog.int4)
    RETURNS pg_catalog.text
    LANGUAGE plpgsql
AS $$
DECLARE
    o zvt.orders;
    acct int4;
    cum numeric;
BEGIN
    SELECT x.account_id INTO acct FROM zvt.orders x WHERE x.order_id = _stream_apply.order_id;
    IF NOT FOUND THEN
        RETURN NULL;
    END IF;
    -- An update that says no more than the ledger holds (the stream's
    -- copy of the acknowledgement of an order booked new, unfilled, from
    -- the place's reply: one per order) is passed over without a lock or
    -- a write; booked, it would only move the order's next poll.  Read
    -- without the lock: whatever changes meanwhile, it still says nothing.
    IF xstatus = 'new' AND nullif(trade_id, '') IS NULL
       AND EXISTS (SELECT 1 FROM zvt.orders x JOIN zvt._live_orders l ON l.order_id = x.order_id
                    WHERE x.order_id = _stream_apply.order_id AND x.status = 'new'
                      AND coalesce(filled, x.qty - leaves, 0) <= x.filled_qty
                      AND l.acked_at IS NOT NULL AND l.tries = 0 AND l.error IS NULL
                      AND l.exchange_id IS NOT DISTINCT FROM
                          coalesce(nullif(_stream_apply.exchange_id, ''), l.exchange_id)) THEN
        RETURN 'new';
    END IF;
    PERFORM zvt._lock_account(acct);
    SELECT * INTO o FROM zvt.orders x WHERE x.order_id = _stream_apply.order_id FOR UPDATE;
    IF o.status NOT IN ('sending', 'unknown', 'new', 'pending_cancel')
       OR NOT EXISTS (SELECT 1 FROM zvt._live_orders l WHERE l.order_id = o.order_id) THEN
        RETURN o.status;
    END IF;
    cum := coalesce(filled, o.qty - leaves);
    IF filled_quote IS NULL AND avg_px IS NOT NULL AND filled IS NOT NULL THEN
        filled_quote := filled * avg_px;
    END IF;

    IF nullif(trade_id, '') IS NOT NULL AND last_qty > 0 AND last_px > 0 THEN
        IF o.status IN ('sending', 'unknown') THEN
            -- the first news of it: acknowledged, as a query reply saying "new" would
            PERFORM zvt._router_apply(o.order_id, 'query', 'ok', '', exchange_id, NULL, NULL, '', poll_ms,
                                      least(poll_ms, 1000));
            SELECT * INTO o FROM zvt.orders x WHERE x.order_id = _stream_apply.order_id;
        END IF;
        -- the part of it the ledger already holds without a trade id (its
        -- cumulative quantity says so) is identified, the rest booked
        PERFORM zvt._book_trade(o.order_id, trade_id, last_qty, last_px, fee, fee_asset, liquidity,
                                CASE WHEN cum IS NULL THEN 0
                                     ELSE least(last_qty, greatest(o.filled_qty - (cum - last_qty), 0)) END);
        -- an execution says nothing of the order's cumulative quote: only its state goes on
        IF filled_quote IS NULL THEN
            filled := NULL;
        END IF;
    ELSIF filled_quote IS NULL THEN
        filled := NULL;
    END IF;
    RETURN zvt._router_apply(o.order_id, 'query', 'ok', coalesce(xstatus, ''), exchange_id, filled, filled_quote,
                             coalesce(reason, ''), poll_ms, least(poll_ms, 1000));
END;
$$;
COMMENT ON FUNCTION zvt._stream_apply(pg_catalog.int8, pg_catalog.text, pg_catalog.text, pg_catalog.numeric,
    pg_catalog.numeric, pg_catalog.numeric, pg_catalog.numeric, pg_catalog.text, pg_catalog.numeric,
    pg_catalog.numeric, pg_catalog.numeric, pg_catalog.text, pg_catalog.text, pg_catalog.text, pg_catalog.int4) IS
    'Internal: book a private stream''s order update or execution (fills deduplicated by the exchange''s trade id) under the account''s lock.';
REVOKE ALL ON FUNCTION zvt._stream_apply(pg_catalog.int8, pg_catalog.text, pg_catalog.text, pg_catalog.numeric,
    pg_catalog.numeric, pg_catalog.numeric, pg_catalog.numeric, pg_catalog.text, pg_catalog.numeric,
    pg_catalog.numeric, pg_catalog.numeric, pg_catalog.text, pg_catalog.text, pg_catalog.text, pg_catalog.int4) FROM PUBLIC;

-- zvt._router_apply reads the account only for a fill, and computes the
-- back-off only when there is no verdict (a cheaper acknowledgement)
CREATE OR REPLACE FUNCTION zvt._router_apply(order_id pg_catalog.int8, op pg_catalog.text, kind pg_catalog.text,
                                  xstatus pg_catalog.text, exchange_id pg_catalog.text,
                                  filled pg_catalog.numeric, filled_quote pg_catalog.numeric,
                                  reason pg_catalog.text, poll_ms pg_catalog.int4, retry_ms pg_catalog.int4)
    RETURNS pg_catalog.text
    LANGUAGE plpgsql
AS $$
DECLARE
    o zvt.orders;
    a zvt.accounts;
    lo zvt._live_orders;
    acct int4;
    first bool;
    dq numeric;
    px numeric;
    now timestamptz := pg_catalog.clock_timestamp();
    backoff interval;
BEGIN
    SELECT x.account_id INTO acct FROM zvt.orders x WHERE x.order_id = _router_apply.order_id;
    IF NOT FOUND THEN
        RETURN NULL;
    END IF;
    PERFORM zvt._lock_account(acct);
    SELECT * INTO o FROM zvt.orders x WHERE x.order_id = _router_apply.order_id FOR UPDATE;
    SELECT * INTO lo FROM zvt._live_orders l WHERE l.order_id = _router_apply.order_id FOR UPDATE;
    IF o.status NOT IN ('sending', 'unknown', 'new', 'pending_cancel') OR lo.order_id IS NULL THEN
        RETURN o.status;        -- final already, or canceled before it was sent
    END IF;
    first := o.status IN ('sending', 'unknown');

    IF kind = 'ok' THEN
        UPDATE zvt._live_orders l
           SET exchange_id = coalesce(nullif(_router_apply.exchange_id, ''), l.exchange_id),
               acked_at = coalesce(l.acked_at, now), tries = 0, error = NULL,
               next_at = CASE WHEN op = 'cancel' THEN NULL
                              ELSE now + pg_catalog.make_interval(secs => poll_ms / 1000.0) END
         WHERE l.order_id = o.order_id;
        IF first AND coalesce(xstatus, '') <> 'rejected' THEN
            UPDATE zvt.orders x SET status = 'new', updated_at = now WHERE x.order_id = o.order_id
            RETURNING * INTO o;
            INSERT INTO zvt.order_events (order_id, account_id, event, status, qty)
            VALUES (o.order_id, o.account_id, 'accepted', 'new', o.qty);
        END IF;
        -- what was executed since the ledger last looked
        dq := coalesce(filled, 0) - o.filled_qty;
        IF dq > 0 AND filled_quote IS NOT NULL THEN
            -- (the account is read only for a fill: an acknowledgement needs it not)
            SELECT * INTO a FROM zvt.accounts x WHERE x.account_id = acct;
            px := pg_catalog.trim_scale(pg_catalog.round(
                (filled_quote - coalesce(o.avg_fill_price * o.filled_qty, 0)) / dq, 10));
            o := zvt._fill(a, o, dq, px,
                           CASE WHEN o.type = 'market' OR first THEN 'taker' ELSE 'maker' END, NULL, true);
        END IF;
        IF o.status <> 'filled' AND xstatus IN ('canceled', 'expired', 'rejected') THEN
            o := zvt._close_order(o, xstatus, nullif(reason, ''), true);
        END IF;
        RETURN o.status;
    END IF;

    IF kind = 'rejected' AND op = 'place' AND reason ~* 'duplicat' THEN
        -- the exchange has this client order id already: ours, sent before; ask it
        kind := 'unknown';
    END IF;
    IF kind = 'rejected' AND op = 'place' OR kind IN ('auth', 'clock') AND op = 'place' THEN
        -- the exchange refused the order, the key or the clock: final, never retried
        UPDATE zvt._live_orders l SET error = reason WHERE l.order_id = o.order_id;
        o := zvt._close_order(o, 'rejected', pg_catalog.format('%s %s: %s', o.exchange,
                              CASE kind WHEN 'auth' THEN 'refused the API key'
                                        WHEN 'clock' THEN 'refused the timestamp (clock skew past its window)'
                                        ELSE 'rejected the order' END, reason), true);
        RETURN o.status;
    END IF;

    IF kind = 'not_found' AND op = 'query' AND lo.acked_at IS NULL THEN
        -- it never reached the exchange: canceled if that was asked, else sent again
        IF o.status = 'pending_cancel' THEN
            o := zvt._close_order(o, 'canceled', 'canceled: the exchange never received it', true);
            RETURN o.status;
        END IF;
        UPDATE zvt.orders x SET status = 'pending_new', updated_at = now WHERE x.order_id = o.order_id;
        UPDATE zvt._live_orders l SET error = 'not found on the exchange: sent again', next_at = NULL
         WHERE l.order_id = o.order_id;
        INSERT INTO zvt.order_events (order_id, account_id, event, status, qty, reason)
        VALUES (o.order_id, o.account_id, 'unknown', 'pending_new', o.qty,
                'not found on the exchange: sending it again under the same client order id');
        PERFORM zvt._router_wake(o.exchange);
        RETURN 'pending_new';
    END IF;

    -- no verdict (no reply, 5xx, rate limit, a refused query or cancel):
    -- an order whose placement has no answer is unknown until a query tells
    backoff := pg_catalog.make_interval(secs => least(retry_ms * 2 ^ least(lo.tries, 6), 60000) / 1000.0);
    UPDATE zvt._live_orders l
       SET tries = l.tries + 1, error = pg_catalog.format('%s %s: %s', op, kind, reason),
           next_at = now + CASE WHEN kind = 'rate' THEN greatest(backoff, interval '1 second') ELSE backoff END
     WHERE l.order_id = o.order_id;
    IF o.status = 'sending' AND kind <> 'rate' THEN
        UPDATE zvt.orders x SET status = 'unknown', updated_at = now WHERE x.order_id = o.order_id
        RETURNING * INTO o;
        INSERT INTO zvt.order_events (order_id, account_id, event, status, qty, reason)
        VALUES (o.order_id, o.account_id, 'unknown', 'unknown', o.qty, pg_catalog.format('%s: %s', kind, reason));
    END IF;
    RETURN o.status;
END;
$$;

-- issue 16: a maintenance pass takes the hypertable's lock first, in the
-- strongest mode it needs (zvt._maintenance_lock), before any chunk
-- The locks of one pass (src/storage/pass_lock.c), taken before the pass
-- touches a chunk: ACCESS EXCLUSIVE after the chunk lock when a chunk is
-- missing up to horizon, ends at or before drop_before, or is owed rows
-- by the default partition; else SHARE UPDATE EXCLUSIVE when compress;
-- else none (NULL).  Never a weaker lock first: a pass that listed its
-- chunks and then locked the hypertable for retention or compression
-- deadlocked with compressions and readers (issue 16).
CREATE FUNCTION zvt._maintenance_lock(rel pg_catalog.regclass,
                                      horizon pg_catalog.timestamptz,
                                      drop_before pg_catalog.timestamptz,
                                      compress pg_catalog.bool)
    RETURNS pg_catalog.text
    LANGUAGE C VOLATILE
    AS 'MODULE_PATHNAME', 'zvt_maintenance_lock';
COMMENT ON FUNCTION zvt._maintenance_lock(pg_catalog.regclass, pg_catalog.timestamptz, pg_catalog.timestamptz, pg_catalog.bool) IS
    'Internal: lock a hypertable for one maintenance pass, in the strongest mode the pass needs, before any of its chunks; the lock mode taken, or NULL when the pass has nothing to do.';
-- it checks that the caller has the owner's privileges itself
GRANT EXECUTE ON FUNCTION zvt._maintenance_lock(pg_catalog.regclass, pg_catalog.timestamptz, pg_catalog.timestamptz, pg_catalog.bool) TO PUBLIC;

-- One hypertable's pass: chunks ahead of now, retention, the compression
-- policy, then rows waiting in the default partition moved into chunks.
-- zvt._maintenance_lock locks the hypertable first, before any chunk, in
-- the strongest mode the pass needs: ACCESS EXCLUSIVE (after the chunk
-- lock) when a chunk is to be made, dropped or filled, else SHARE UPDATE
-- EXCLUSIVE for the compression policy alone; no step takes a stronger
-- lock on it later (docs/architecture.md, "Locks and their order").  It
-- runs as its caller; zvt._maintain_hypertable calls it as the table's
-- owner.  Rows no chunk can hold (zvt._chunk_start is NULL) stay in the
-- default partition.
CREATE OR REPLACE FUNCTION zvt._maintenance_steps(rel pg_catalog.regclass,
        OUT chunks_created pg_catalog.int8,
        OUT rows_moved pg_catalog.int8,
        OUT chunks_dropped pg_catalog.int8)
    RETURNS record
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    h zvt._hypertables;
    ahead int := COALESCE(current_setting('zvt.chunks_ahead', true)::int, 1);
    is_tz bool;
    tcol text;
    deflt regclass;
    t timestamptz;
    horizon timestamptz;
    mode text;
    r record;
BEGIN
    chunks_created := 0;
    rows_moved := 0;
    chunks_dropped := 0;
    SELECT * INTO h FROM zvt._hypertables x WHERE x.relid = rel;
    IF NOT FOUND THEN
        RETURN;
    END IF;
    SELECT a.atttypid = 'timestamptz'::regtype INTO is_tz
      FROM pg_attribute a WHERE a.attrelid = rel AND a.attname = h.time_column;
    -- a timestamp column's values are read as UTC, like its chunk bounds
    tcol := CASE WHEN is_tz THEN quote_ident(h.time_column)
                 ELSE format('(%I AT TIME ZONE ''UTC'')', h.time_column) END;
    horizon := COALESCE(zvt._chunk_start(now(), h.chunk_interval, ahead + 1), 'infinity');

    mode := zvt._maintenance_lock(rel, horizon, now() - h.retention,
                                  EXISTS (SELECT 1 FROM zvt._compression_settings s
                                           WHERE s.relid = rel));
    IF mode IS NULL THEN
        RETURN;
    ELSIF mode = 'SHARE UPDATE EXCLUSIVE' THEN
        -- nothing to make, drop or fill: the compression policy alone
        PERFORM zvt._compression_steps(rel);
        RETURN;
    END IF;

    -- chunks from now to the end of the grid cell `ahead` cells on, chunk
    -- after chunk (after zvt.set_chunk_interval a cell may hold a chunk
    -- of the old interval and a new chunk cut to fit beside it)
    t := now();
    WHILE t < horizon LOOP
        SELECT * INTO r FROM zvt._ensure_chunk(rel, t);
        EXIT WHEN r.chunk IS NULL;
        chunks_created := chunks_created + r.created::int;
        rows_moved := rows_moved + r.rows_moved;
        SELECT c.range_end INTO t FROM zvt._chunks(rel) c WHERE c.chunk = r.chunk;
        EXIT WHEN t IS NULL;
    END LOOP;

    IF h.retention IS NOT NULL THEN
        SELECT count(*) INTO chunks_dropped
          FROM zvt.drop_chunks(rel, now() - h.retention);
    END IF;

    -- compression policy (sql/12_compression.sql)
    PERFORM zvt._compression_steps(rel);

    -- the rows waiting in the default partition, earliest first: each
    -- _ensure_chunk moves the rows of its chunk's range, so the next
    -- earliest row lies past it (a chunk cut to fit beside one of an older
    -- interval covers less than a grid cell, hence by row, not by cell)
    SELECT c.chunk INTO deflt FROM zvt._chunks(rel) c WHERE c.is_default;
    t := '-infinity';
    WHILE deflt IS NOT NULL LOOP
        EXECUTE format('SELECT min(%s) FROM ONLY %s WHERE %s > $1
                           AND zvt._chunk_start(%s, $2) IS NOT NULL', tcol, deflt, tcol, tcol)
            INTO t USING t, h.chunk_interval;
        EXIT WHEN t IS NULL;
        SELECT * INTO r FROM zvt._ensure_chunk(rel, t);
        chunks_created := chunks_created + r.created::int;
        rows_moved := rows_moved + r.rows_moved;
        IF r.chunk IS NULL THEN
            -- busy: skip the rest of its grid cell, for the next pass
            t := zvt._chunk_start(t, h.chunk_interval, 1) - interval '1 microsecond';
        END IF;
    END LOOP;
END;
$$;
COMMENT ON FUNCTION zvt._maintenance_steps(pg_catalog.regclass) IS
    'Internal: one maintenance pass over one hypertable, as the caller; use zvt._maintain_hypertable.';
-- it does only what its caller may do (_maintenance_lock checks ownership)
GRANT EXECUTE ON FUNCTION zvt._maintenance_steps(pg_catalog.regclass) TO PUBLIC;

-- Any statement that changes zvt.subscriptions wakes the feed workers of
-- the exchanges whose rows it changed, not only zvt.subscribe and
-- zvt.unsubscribe: a worker told nothing kept streaming what its owner
-- had deleted by hand.  Statement triggers, with the rows each changed;
-- zvt._subscriptions_changed checks the caller may change the table.
CREATE FUNCTION zvt._subscriptions_dml() RETURNS trigger
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF TG_OP = 'TRUNCATE' THEN
        PERFORM zvt._subscriptions_changed(e.name) FROM zvt.exchanges e;
        RETURN NULL;
    END IF;
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        PERFORM zvt._subscriptions_changed(o.exchange) FROM (SELECT DISTINCT exchange FROM old_rows) o;
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        PERFORM zvt._subscriptions_changed(n.exchange) FROM (SELECT DISTINCT exchange FROM new_rows) n;
    END IF;
    RETURN NULL;
END;
$$;
COMMENT ON FUNCTION zvt._subscriptions_dml() IS
    'Internal: the triggers on zvt.subscriptions; wakes the feed workers of the exchanges whose subscriptions a statement changed.';
REVOKE ALL ON FUNCTION zvt._subscriptions_dml() FROM PUBLIC;
CREATE TRIGGER subscriptions_inserted AFTER INSERT ON zvt.subscriptions
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION zvt._subscriptions_dml();
CREATE TRIGGER subscriptions_updated AFTER UPDATE ON zvt.subscriptions
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION zvt._subscriptions_dml();
CREATE TRIGGER subscriptions_deleted AFTER DELETE ON zvt.subscriptions
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION zvt._subscriptions_dml();
CREATE TRIGGER subscriptions_truncated AFTER TRUNCATE ON zvt.subscriptions
    FOR EACH STATEMENT EXECUTE FUNCTION zvt._subscriptions_dml();
