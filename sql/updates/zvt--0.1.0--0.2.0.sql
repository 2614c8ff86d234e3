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

    -- compression policy (sql/12_compression.sql)
    PERFORM zvt._compression_steps(rel);

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
