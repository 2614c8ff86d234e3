-- ===================================================================
-- Live trading, part 2: the order router's outbox.
--
-- zvt.place_order commits a live order as pending_new in the transaction
-- of its risk check (src/trading/place_order.c): that row is the outbox,
-- nothing is sent before it commits.  The router of the order's exchange
-- (src/live/router.c, a background worker) then, in transactions of its
-- own:
--   1. zvt._router_work: marks pending orders sending and commits that
--      before the request leaves (so a crash after it finds them sending
--      and asks the exchange rather than sending again), and lists what
--      else is due: queries of sending/unknown/open orders, cancels;
--   2. sends them (libcurl multi, client order id derived from the order,
--      src/live/route.c);
--   3. zvt._router_apply: books each reply under the account's lock:
--      new, rejected, unknown, fills (through zvt._fill), canceled...
-- States (zvt.orders.status) of a live order:
--   pending_new -> sending -> new -> filled | canceled | expired
--                          \-> rejected (the exchange said no, or the key
--                              or clock was refused: never retried)
--                          \-> unknown (no reply, 5xx): queried by client
--                              order id until known; "not found" means it
--                              never arrived: pending_new again (the same
--                              client order id, so a late copy is one order)
--   new | sending | unknown -> pending_cancel -> canceled (zvt.cancel_order)
--   pending_new -> canceled (cancel_order before it was sent)
-- ===================================================================

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
CREATE FUNCTION zvt._router_work(exchange pg_catalog.text, inflight pg_catalog.int8[], lim pg_catalog.int4)
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
COMMENT ON FUNCTION zvt._router_apply(pg_catalog.int8, pg_catalog.text, pg_catalog.text, pg_catalog.text,
    pg_catalog.text, pg_catalog.numeric, pg_catalog.numeric, pg_catalog.text, pg_catalog.int4, pg_catalog.int4) IS
    'Internal: book an exchange''s reply about a live order (state, exchange id, fills by cumulative quantity) under the account''s lock.';
REVOKE ALL ON FUNCTION zvt._router_apply(pg_catalog.int8, pg_catalog.text, pg_catalog.text, pg_catalog.text,
    pg_catalog.text, pg_catalog.numeric, pg_catalog.numeric, pg_catalog.text, pg_catalog.int4, pg_catalog.int4) FROM PUBLIC;
