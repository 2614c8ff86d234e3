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
