-- ===================================================================
-- Trading core, part 2: placing and canceling orders, risk checks, fills
-- (positions, balances, daily PnL), paper matching against the market
-- bus, and the positions and portfolio read side.
--
-- Every write of an account happens under its account lock
-- (zvt._lock_account, src/base/locks.c: a lock no role can take from
-- SQL), taken before any order row is locked: risk checks read and write
-- the account's state atomically across sessions.
-- ===================================================================

CREATE FUNCTION zvt._bus_entry(instrument_id pg_catalog.int4,
        OUT last pg_catalog.float8, OUT last_qty pg_catalog.float8, OUT last_ts pg_catalog.timestamptz,
        OUT bid pg_catalog.float8, OUT bid_qty pg_catalog.float8, OUT ask pg_catalog.float8,
        OUT ask_qty pg_catalog.float8, OUT quote_ts pg_catalog.timestamptz,
        OUT trades pg_catalog.int8, OUT quotes pg_catalog.int8)
    RETURNS record
    LANGUAGE C VOLATILE PARALLEL RESTRICTED
    AS 'MODULE_PATHNAME', 'zvt_bus_entry';
COMMENT ON FUNCTION zvt._bus_entry(pg_catalog.int4) IS
    'Internal: an instrument''s latest trade and quote on the market bus with its trade and quote counters (NULL when none).';

-- the mark price: last trade, else the mid of the quote, else NULL
CREATE FUNCTION zvt._mark_price(instrument_id pg_catalog.int4) RETURNS pg_catalog.numeric
    LANGUAGE plpgsql VOLATILE
AS $$
DECLARE
    e record;
BEGIN
    SELECT * INTO e FROM zvt._bus_entry(instrument_id);
    RETURN coalesce(e.last::numeric, ((e.bid + e.ask) / 2)::numeric);
END;
$$;
COMMENT ON FUNCTION zvt._mark_price(pg_catalog.int4) IS
    'Internal: mark price of an instrument from the bus: last trade, else mid quote, else NULL.';

-- add to (or take from) an account's open-order totals: dcount orders and
-- dqty of unfilled quantity of order o, at its reserve price
CREATE FUNCTION zvt._exposure(o zvt.orders, dcount pg_catalog.int4, dqty pg_catalog.numeric,
                              reserve pg_catalog.numeric)
    RETURNS void
    LANGUAGE plpgsql
AS $$
DECLARE
    buy bool := o.side = 'buy';
BEGIN
    INSERT INTO zvt.exposure AS x (account_id, instrument_id, open_orders, buy_qty, sell_qty,
                                   buy_notional, sell_notional)
    VALUES (o.account_id, o.instrument_id, dcount,
            CASE WHEN buy THEN dqty ELSE 0 END, CASE WHEN buy THEN 0 ELSE dqty END,
            CASE WHEN buy THEN dqty * reserve ELSE 0 END, CASE WHEN buy THEN 0 ELSE dqty * reserve END)
    ON CONFLICT (account_id, instrument_id) DO UPDATE
       SET open_orders = x.open_orders + EXCLUDED.open_orders,
           buy_qty = trim_scale(x.buy_qty + EXCLUDED.buy_qty),
           sell_qty = trim_scale(x.sell_qty + EXCLUDED.sell_qty),
           buy_notional = trim_scale(x.buy_notional + EXCLUDED.buy_notional),
           sell_notional = trim_scale(x.sell_notional + EXCLUDED.sell_notional);
END;
$$;
COMMENT ON FUNCTION zvt._exposure(zvt.orders, pg_catalog.int4, pg_catalog.numeric, pg_catalog.numeric) IS
    'Internal: add to (or take from) an account''s open-order totals in zvt.exposure.';
REVOKE ALL ON FUNCTION zvt._exposure(zvt.orders, pg_catalog.int4, pg_catalog.numeric, pg_catalog.numeric) FROM PUBLIC;


-- ---------------------------------------------------------------------
-- Fills
-- ---------------------------------------------------------------------

-- Move account acct's netting position in instrument iid by dq (> 0
-- bought, < 0 sold) at px: on the position's side (or from flat) the
-- average price moves; against it min(|dq|, |q|) x (px - avg) x sign(q) is
-- realized, and past zero the rest opens at px.  charge (a cost of the
-- move, e.g. a fee paid in the base asset it took) is realized as a loss
-- with it.  Returns the PnL realized, which is also added to the
-- position's realized_pnl.  Every change of a position goes through here:
-- fills (zvt._fill) and a live fill's fee charged in the base asset
-- (zvt._fill_exchange_fee, sql/59_trades.sql).  Under the account's lock.
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

-- Execute fqty of order o at fprice: the fill row, the order's progress
-- and event, the netting position (zvt._hold: realized PnL on reductions
-- and flips), balances and daily PnL.  resting: o was counted in
-- zvt.exposure.
CREATE FUNCTION zvt._fill(a zvt.accounts, o zvt.orders, fqty pg_catalog.numeric, fprice pg_catalog.numeric,
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

-- End an open order: canceled or expired, with the event
CREATE FUNCTION zvt._close_order(o zvt.orders, status pg_catalog.text, reason pg_catalog.text,
                                 resting pg_catalog.bool)
    RETURNS zvt.orders
    LANGUAGE plpgsql
AS $$
BEGIN
    IF resting THEN
        PERFORM zvt._exposure(o, -1, -(o.qty - o.filled_qty), o.reserve_price);
    END IF;
    UPDATE zvt.orders x
       SET status = _close_order.status, reason = _close_order.reason,
           updated_at = pg_catalog.clock_timestamp()
     WHERE x.order_id = o.order_id
    RETURNING * INTO o;
    INSERT INTO zvt.order_events (order_id, account_id, event, status, qty, reason)
    VALUES (o.order_id, o.account_id, status, status, o.qty - o.filled_qty, reason);
    RETURN o;
END;
$$;
COMMENT ON FUNCTION zvt._close_order(zvt.orders, pg_catalog.text, pg_catalog.text, pg_catalog.bool) IS
    'Internal: end an open order as canceled or expired, with its event.';
REVOKE ALL ON FUNCTION zvt._close_order(zvt.orders, pg_catalog.text, pg_catalog.text, pg_catalog.bool) FROM PUBLIC;

-- ---------------------------------------------------------------------
-- Risk
-- ---------------------------------------------------------------------

-- Why an order must be rejected, or NULL: the pre-trade risk check in C
-- (src/trading/risk.c, src/trading/risk_sql.c; docs/trading.md lists the
-- checks in order).  ref is the price its notional counts at, mkt the
-- market price.  Called under the account's lock.
CREATE FUNCTION zvt._risk_check(account_id pg_catalog.int4, instrument_id pg_catalog.int4,
        side pg_catalog.text, qty pg_catalog.numeric, type pg_catalog.text, tif pg_catalog.text,
        price pg_catalog.numeric, reduce_only pg_catalog.bool, ref pg_catalog.numeric,
        mkt pg_catalog.numeric)
    RETURNS pg_catalog.text
    LANGUAGE C VOLATILE CALLED ON NULL INPUT
    AS 'MODULE_PATHNAME', 'zvt_risk_check';
COMMENT ON FUNCTION zvt._risk_check(pg_catalog.int4, pg_catalog.int4, pg_catalog.text, pg_catalog.numeric,
    pg_catalog.text, pg_catalog.text, pg_catalog.numeric, pg_catalog.bool, pg_catalog.numeric,
    pg_catalog.numeric) IS 'Internal: the pre-trade risk check (C): the reason an order must be rejected, or NULL.';
REVOKE ALL ON FUNCTION zvt._risk_check(pg_catalog.int4, pg_catalog.int4, pg_catalog.text, pg_catalog.numeric,
    pg_catalog.text, pg_catalog.text, pg_catalog.numeric, pg_catalog.bool, pg_catalog.numeric,
    pg_catalog.numeric) FROM PUBLIC;

-- ---------------------------------------------------------------------
-- Placing orders
-- ---------------------------------------------------------------------

-- zvt.place_order's body, in C (src/trading/place_order.c): validates,
-- checks the caller's right to the account, takes the account's lock,
-- answers client_order_id retries, prices the order from the bus, runs
-- the risk check and writes the order, its events and its exposure; a
-- taker fills through zvt._fill, an ioc/fok remainder expires through
-- zvt._close_order.
CREATE FUNCTION zvt._place_order(caller pg_catalog.oid, account pg_catalog.text, exchange pg_catalog.text,
        symbol pg_catalog.text, side pg_catalog.text, qty pg_catalog.numeric, type pg_catalog.text,
        price pg_catalog.numeric, stop_price pg_catalog.numeric, trail_pct pg_catalog.numeric,
        tif pg_catalog.text, client_order_id pg_catalog.text, post_only pg_catalog.bool,
        reduce_only pg_catalog.bool)
    RETURNS zvt.orders
    LANGUAGE C VOLATILE CALLED ON NULL INPUT
    AS 'MODULE_PATHNAME', 'zvt_place_order';
COMMENT ON FUNCTION zvt._place_order(pg_catalog.oid, pg_catalog.text, pg_catalog.text, pg_catalog.text,
    pg_catalog.text, pg_catalog.numeric, pg_catalog.text, pg_catalog.numeric, pg_catalog.numeric,
    pg_catalog.numeric, pg_catalog.text, pg_catalog.text, pg_catalog.bool, pg_catalog.bool) IS
    'Internal: zvt.place_order''s body, run as the ledger''s owner for the caller.';
REVOKE ALL ON FUNCTION zvt._place_order(pg_catalog.oid, pg_catalog.text, pg_catalog.text, pg_catalog.text,
    pg_catalog.text, pg_catalog.numeric, pg_catalog.text, pg_catalog.numeric, pg_catalog.numeric,
    pg_catalog.numeric, pg_catalog.text, pg_catalog.text, pg_catalog.bool, pg_catalog.bool) FROM PUBLIC;

-- A trailing stop's trigger trail_pct % from the mark, rounded to the tick
-- size toward the mark (never onto it): the rule place_order uses, for the
-- paper matcher to move the trigger by (src/trading/order_price.c).
CREATE FUNCTION zvt._trailing_stop_price(mark pg_catalog.numeric, trail_pct pg_catalog.numeric,
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

CREATE FUNCTION zvt.place_order(account pg_catalog.text, exchange pg_catalog.text, symbol pg_catalog.text,
        side pg_catalog.text, qty pg_catalog.numeric, type pg_catalog.text DEFAULT 'market',
        price pg_catalog.numeric DEFAULT NULL, stop_price pg_catalog.numeric DEFAULT NULL,
        trail_pct pg_catalog.numeric DEFAULT NULL, tif pg_catalog.text DEFAULT 'gtc',
        client_order_id pg_catalog.text DEFAULT NULL, post_only pg_catalog.bool DEFAULT false,
        reduce_only pg_catalog.bool DEFAULT false)
    RETURNS zvt.orders
    LANGUAGE C VOLATILE CALLED ON NULL INPUT
    AS 'MODULE_PATHNAME', 'zvt_ledger_call';
COMMENT ON FUNCTION zvt.place_order(pg_catalog.text, pg_catalog.text, pg_catalog.text, pg_catalog.text,
    pg_catalog.numeric, pg_catalog.text, pg_catalog.numeric, pg_catalog.numeric, pg_catalog.numeric,
    pg_catalog.text, pg_catalog.text, pg_catalog.bool, pg_catalog.bool) IS
    'Place an order on an account the caller may use: validated, risk-checked under the account''s lock, then filled, rested or rejected (paper), or committed as pending_new for the exchange''s router (live, with zvt.live_trading on); returns the order.';

-- ---------------------------------------------------------------------
-- Canceling
-- ---------------------------------------------------------------------

CREATE FUNCTION zvt._cancel_order(caller pg_catalog.oid, order_id pg_catalog.int8)
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
COMMENT ON FUNCTION zvt._cancel_order(pg_catalog.oid, pg_catalog.int8) IS 'Internal: zvt.cancel_order''s body.';
REVOKE ALL ON FUNCTION zvt._cancel_order(pg_catalog.oid, pg_catalog.int8) FROM PUBLIC;

CREATE FUNCTION zvt.cancel_order(order_id pg_catalog.int8)
    RETURNS zvt.orders
    LANGUAGE C VOLATILE CALLED ON NULL INPUT
    AS 'MODULE_PATHNAME', 'zvt_ledger_call';
COMMENT ON FUNCTION zvt.cancel_order(pg_catalog.int8) IS
    'Cancel an open order (accepted or partially filled; a live order not yet sent, or open on its exchange: pending_cancel, the router sends the cancel) of an account the caller may use; returns it.';

CREATE FUNCTION zvt.__cancel_all(caller pg_catalog.oid, account pg_catalog.text, exchange pg_catalog.text,
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
COMMENT ON FUNCTION zvt.__cancel_all(pg_catalog.oid, pg_catalog.text, pg_catalog.text, pg_catalog.text) IS
    'Internal: zvt.cancel_all''s body.';
REVOKE ALL ON FUNCTION zvt.__cancel_all(pg_catalog.oid, pg_catalog.text, pg_catalog.text, pg_catalog.text) FROM PUBLIC;

CREATE FUNCTION zvt._cancel_all(account pg_catalog.text, exchange pg_catalog.text, symbol pg_catalog.text)
    RETURNS zvt.orders[]
    LANGUAGE C VOLATILE CALLED ON NULL INPUT
    AS 'MODULE_PATHNAME', 'zvt_ledger_call';
COMMENT ON FUNCTION zvt._cancel_all(pg_catalog.text, pg_catalog.text, pg_catalog.text) IS
    'Internal: zvt.cancel_all''s work, returning the canceled orders as an array.';

CREATE FUNCTION zvt.cancel_all(account pg_catalog.text, exchange pg_catalog.text DEFAULT NULL,
                               symbol pg_catalog.text DEFAULT NULL)
    RETURNS SETOF zvt.orders
    LANGUAGE sql VOLATILE
    SET search_path = pg_catalog, pg_temp
    AS $$ SELECT * FROM unnest(zvt._cancel_all(account, exchange, symbol)) $$;
COMMENT ON FUNCTION zvt.cancel_all(pg_catalog.text, pg_catalog.text, pg_catalog.text) IS
    'Cancel every open order of an account (optionally of one exchange or symbol); returns the canceled orders.';

-- ---------------------------------------------------------------------
-- Paper matching
-- ---------------------------------------------------------------------
--
-- A pass reads only the resting orders the market crossed, through one
-- index range per side and kind, never every resting order: a book of
-- 100,000 orders far from the market costs a few index probes, and no
-- row of theirs is written.  Every order keeps the bus counters it last
-- matched against (bus_trades_seen, bus_quotes_seen), so a price fills
-- it once; an order the market did not cross keeps them unchanged, which
-- decides nothing: the same trade or quote cannot cross it later either
-- (its prices only move when a pass touches it).  The worker only tries
-- an account's lock: an account another transaction is writing is left
-- for a later pass (src/trading/paper_matcher.c comes back soon after).

-- The resting orders sorted by the price that moves each: limits, and
-- stop_limits once triggered, by limit price; the untriggered stop types
-- by trigger price; untriggered trailing stops also by the best price
-- they follow.  (Stops and trailing stops fill in full when they trigger,
-- so none rests triggered.)  Queries repeat these predicates word for word
-- so that the planner can use the indexes.
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

-- The instruments with resting orders, in id order after after_id: a loose
-- scan of orders_resting_idx, one probe per instrument however many
-- orders rest.
CREATE FUNCTION zvt._paper_instruments(after_id pg_catalog.int4) RETURNS SETOF pg_catalog.int4
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

-- Match the resting paper orders of one instrument that its bus entry
-- crossed: changed counts the orders triggered, filled or partly filled,
-- skipped those left for a later pass because another transaction held
-- their account's lock (unless wait: then it waits for the lock, as
-- zvt.paper_match() does for a caller who wants the match done now).
-- Each order matches only trades and quotes that reached the bus after it
-- last looked (the bus's trade and quote counters).  The planner settings:
-- the crossed ranges must be read through the indexes above whatever the
-- statistics say (a fresh table has none), as a sequential scan would
-- read every order; they also hold for the fills made here, whose
-- statements are all index lookups.
CREATE FUNCTION zvt._paper_match(instrument_id pg_catalog.int4, wait pg_catalog.bool,
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

-- every instrument with resting paper orders; NULL when none rests (the
-- matcher worker then stops until the next order rests)
CREATE FUNCTION zvt.paper_match() RETURNS pg_catalog.int4
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

-- ---------------------------------------------------------------------
-- Read side
-- ---------------------------------------------------------------------

CREATE VIEW zvt.positions WITH (security_invoker = true) AS
SELECT a.name AS account, i.exchange, i.symbol, h.qty, h.avg_price, h.realized_pnl,
       m.mark AS mark_price,
       trim_scale(round((m.mark - h.avg_price) * h.qty, 8)) AS unrealized_pnl,
       trim_scale(round(abs(h.qty) * m.mark, 8)) AS notional,
       h.account_id, h.instrument_id, h.updated_at
  FROM zvt.holdings h
  JOIN zvt.accounts a ON a.account_id = h.account_id
  JOIN zvt.instruments i ON i.id = h.instrument_id
  CROSS JOIN LATERAL (SELECT zvt._mark_price(h.instrument_id) AS mark) m;
COMMENT ON VIEW zvt.positions IS
    'Netting positions marked to the market bus (last trade, else mid): unrealized PnL and notional; NULL marks before any price.';
GRANT SELECT ON zvt.positions TO PUBLIC;

CREATE FUNCTION zvt.__portfolio_row(caller pg_catalog.oid, name pg_catalog.text,
        OUT currency text, OUT cash numeric, OUT equity numeric,
        OUT exposure numeric, OUT unrealized_pnl numeric, OUT realized_pnl numeric,
        OUT fees numeric, OUT pnl_today numeric, OUT pnl_total numeric, OUT open_orders int4)
    RETURNS record
    LANGUAGE plpgsql STABLE
AS $$
#variable_conflict use_column
DECLARE
    a zvt.accounts := zvt._account(caller, __portfolio_row.name);
    spot_value numeric;
BEGIN
    __portfolio_row.currency := a.currency;
    SELECT coalesce(sum(b.amount), 0) INTO __portfolio_row.cash FROM zvt.balances b
     WHERE b.account_id = a.account_id AND b.asset = a.currency;
    SELECT coalesce(sum(CASE WHEN i.kind = 'spot' THEN h.qty * m.mark ELSE 0 END), 0),
           coalesce(sum(CASE WHEN i.kind = 'perp' THEN (m.mark - h.avg_price) * h.qty ELSE 0 END), 0),
           coalesce(sum(abs(h.qty) * m.mark), 0),
           coalesce(sum(h.realized_pnl), 0)
      INTO spot_value, __portfolio_row.unrealized_pnl, __portfolio_row.exposure, __portfolio_row.realized_pnl
      FROM zvt.holdings h
      JOIN zvt.instruments i ON i.id = h.instrument_id
      CROSS JOIN LATERAL (SELECT coalesce(zvt._mark_price(h.instrument_id), h.avg_price) AS mark) m
     WHERE h.account_id = a.account_id;
    -- spot holdings count at their mark; unrealized PnL of spot is mark against cost
    SELECT __portfolio_row.unrealized_pnl
           + coalesce(sum(CASE WHEN i.kind = 'spot' THEN (coalesce(zvt._mark_price(h.instrument_id), h.avg_price) - h.avg_price) * h.qty ELSE 0 END), 0)
      INTO __portfolio_row.unrealized_pnl
      FROM zvt.holdings h JOIN zvt.instruments i ON i.id = h.instrument_id
     WHERE h.account_id = a.account_id;
    equity := trim_scale(round(cash + spot_value + (SELECT coalesce(sum((coalesce(zvt._mark_price(h.instrument_id), h.avg_price) - h.avg_price) * h.qty), 0)
                                               FROM zvt.holdings h JOIN zvt.instruments i ON i.id = h.instrument_id
                                              WHERE h.account_id = a.account_id AND i.kind = 'perp'), 8));
    SELECT coalesce(sum(d.fees), 0) INTO fees FROM zvt.daily_pnl d WHERE d.account_id = a.account_id;
    SELECT trim_scale(round(coalesce(sum(d.realized - d.fees), 0) + __portfolio_row.unrealized_pnl, 8)) INTO pnl_today
      FROM zvt.daily_pnl d
     WHERE d.account_id = a.account_id AND d.day = (pg_catalog.clock_timestamp() AT TIME ZONE 'UTC')::date;
    pnl_total := trim_scale(equity - a.initial_cash);
    SELECT coalesce(sum(x.open_orders), 0) INTO open_orders FROM zvt.exposure x WHERE x.account_id = a.account_id;
    exposure := trim_scale(round(exposure, 8));
    unrealized_pnl := trim_scale(round(unrealized_pnl, 8));
    cash := trim_scale(cash);
END;
$$;
COMMENT ON FUNCTION zvt.__portfolio_row(pg_catalog.oid, pg_catalog.text) IS 'Internal: zvt.portfolio''s body.';
REVOKE ALL ON FUNCTION zvt.__portfolio_row(pg_catalog.oid, pg_catalog.text) FROM PUBLIC;

CREATE FUNCTION zvt._portfolio_row(name pg_catalog.text,
        OUT currency text, OUT cash numeric, OUT equity numeric,
        OUT exposure numeric, OUT unrealized_pnl numeric, OUT realized_pnl numeric,
        OUT fees numeric, OUT pnl_today numeric, OUT pnl_total numeric, OUT open_orders int4)
    RETURNS record
    LANGUAGE C VOLATILE CALLED ON NULL INPUT
    AS 'MODULE_PATHNAME', 'zvt_ledger_call';
COMMENT ON FUNCTION zvt._portfolio_row(pg_catalog.text) IS 'Internal: zvt.portfolio''s row.';

CREATE FUNCTION zvt.portfolio(account pg_catalog.text)
    RETURNS TABLE (currency text, cash numeric, equity numeric, exposure numeric,
                   unrealized_pnl numeric, realized_pnl numeric, fees numeric, pnl_today numeric,
                   pnl_total numeric, open_orders int4)
    LANGUAGE sql VOLATILE
    SET search_path = pg_catalog, pg_temp
    AS $$ SELECT * FROM zvt._portfolio_row(portfolio.account) $$;
COMMENT ON FUNCTION zvt.portfolio(pg_catalog.text) IS
    'An account''s cash (its currency), equity (cash + spot holdings at mark + perpetuals'' unrealized PnL), gross exposure, PnL (realized, unrealized, today since 00:00 UTC, total against the initial cash), fees and open orders.';

-- Orders loaded by pg_restore --single-transaction, in the transaction
-- that creates the extension, are matched: the matcher, idle since it
-- last found nothing resting, looks again when that transaction commits.
CREATE FUNCTION zvt._paper_wake() RETURNS void
    LANGUAGE C VOLATILE
    AS 'MODULE_PATHNAME', 'zvt_paper_wake';
COMMENT ON FUNCTION zvt._paper_wake() IS
    'Internal: have the paper matcher look for resting orders when this transaction commits (CREATE EXTENSION calls it, for orders restored with it).';
-- it starts a worker: administrators only
REVOKE ALL ON FUNCTION zvt._paper_wake() FROM PUBLIC;
SELECT zvt._paper_wake();
