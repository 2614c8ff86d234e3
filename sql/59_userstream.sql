-- ===================================================================
-- Live trading, part 3: the private streams.
--
-- Each router (src/live/router.c) keeps a stream thread
-- (src/live/userstream.c) logged in to the private stream of every live
-- account of its exchange that has a key; router_stream.c books what it
-- says here, through the paths the query replies take (zvt._router_apply,
-- zvt._fill): order updates move the order, executions become fills
-- deduplicated by the exchange's trade id, balances are kept as the
-- exchange last reported them.
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
-- by zvt._book_trade (sql/59_trades.sql): once per trade id; the part of
-- it the ledger's filled quantity already covers (the cumulative quantity
-- after it: filled, or the order's quantity less leaves) was booked by a
-- query reply without a trade id and is identified, not booked again.
-- Its fee replaces the schedule's, in the asset the exchange charged it
-- in (fee_source 'exchange').
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
