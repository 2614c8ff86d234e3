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
--     the exchange charged it (zvt._fill_exchange_fee); a fee in the base
--     asset also leaves the position (the account holds that much less).
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

-- The fee of fill fill_id becomes the exchange's: fee in fee_asset, once
-- (a fill whose fee is the exchange's already keeps it).  In the quote
-- asset it replaces the schedule's in the fill, the order's fees, the
-- quote balance and the day's fees; in another asset (Binance's BNB, the
-- base asset a buy received) the schedule's fee is given back to the
-- quote balance, the order and the day, and the fee is taken from
-- fee_asset's balance (zvt.orders.fees and zvt.daily_pnl.fees count the
-- fees charged in the quote asset).  A fee in the instrument's base asset
-- also takes that quantity from the position (zvt._hold), as a sale at the
-- fill's price whose proceeds are the fee: against a long position its
-- cost, fee x the average price, is realized as a loss (in the fill's,
-- the position's and the day's realized PnL), the average price stays.
-- A fee in a third asset (BNB) moves no position.  Under the account's
-- lock.
CREATE FUNCTION zvt._fill_exchange_fee(fill_id pg_catalog.int8, fee pg_catalog.numeric, fee_asset pg_catalog.text)
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
