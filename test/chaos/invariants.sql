-- test/chaos/invariants.sql: what must hold in the ledger whatever was
-- killed and when.  test/chaos/run runs it after every recovery; each row
-- is one invariant, the number of its violations and one example.  Run as
-- a superuser (it reads every account).  Only open, closed and money
-- arithmetic exact in numeric: nothing is compared with a tolerance.
\set ON_ERROR_STOP 1
WITH
-- orders still working, whatever states a later version adds
open_orders AS (
    SELECT o.* FROM zvt.orders o
     WHERE o.status NOT IN ('filled', 'canceled', 'rejected', 'expired')
),
last_event AS (
    SELECT DISTINCT ON (e.order_id) e.order_id, e.status
      FROM zvt.order_events e ORDER BY e.order_id, e.event_id DESC
),
first_event AS (
    SELECT DISTINCT ON (e.order_id) e.order_id, e.event
      FROM zvt.order_events e ORDER BY e.order_id, e.event_id
),
-- fees: an order's and a day's count those charged in the quote asset
-- (a live fill's fee may be in another: BNB, the base a buy received)
fill_sums AS (
    SELECT f.order_id, sum(f.qty) AS qty, coalesce(sum(f.fee) FILTER (WHERE f.fee_asset = i.quote), 0) AS fee,
           count(*) AS n
      FROM zvt.fills f JOIN zvt.instruments i ON i.id = f.instrument_id GROUP BY f.order_id
),
fill_events AS (
    SELECT e.order_id, sum(e.qty) AS qty, count(*) AS n
      FROM zvt.order_events e WHERE e.event = 'fill' GROUP BY e.order_id
),
-- dq: what the fill moved the position by: its quantity, less a fee the
-- exchange charged in the base asset (sql/59_trades.sql: the account
-- holds that much less)
signed_fills AS (
    SELECT f.*, i.kind, i.base, i.quote,
           CASE f.side WHEN 'buy' THEN 1 ELSE -1 END AS dir,
           CASE f.side WHEN 'buy' THEN f.qty ELSE -f.qty END
           - CASE WHEN i.kind = 'spot' AND f.fee_asset = i.base THEN f.fee ELSE 0 END AS dq
      FROM zvt.fills f JOIN zvt.instruments i ON i.id = f.instrument_id
),
-- every balance as a replay of the fills from the initial cash
money AS (
    SELECT account_id, asset, sum(amount) AS amount FROM (
        SELECT a.account_id, a.currency AS asset, a.initial_cash AS amount FROM zvt.accounts a
        UNION ALL
        SELECT account_id, quote, -(dir * qty * price) - CASE WHEN fee_asset = quote THEN fee ELSE 0 END
          FROM signed_fills WHERE kind = 'spot'
        UNION ALL
        SELECT account_id, fee_asset, -fee FROM signed_fills WHERE kind = 'spot' AND fee_asset <> quote
        UNION ALL
        SELECT account_id, base, dir * qty FROM signed_fills WHERE kind = 'spot'
        UNION ALL
        SELECT account_id, quote, realized_pnl - fee FROM signed_fills WHERE kind <> 'spot'
        UNION ALL
        -- live accounts: the adjustments reconciliation applied (sql/59_reconcile.sql)
        SELECT account_id, asset, amount FROM zvt.reconciliations WHERE kind = 'balance' AND applied
    ) m GROUP BY account_id, asset
),
positions AS (
    SELECT account_id, instrument_id, sum(dq) AS qty, sum(realized_pnl) AS realized
      FROM signed_fills GROUP BY account_id, instrument_id
),
-- the position after each fill, in fill order
running AS (
    SELECT f.account_id, f.instrument_id, f.fill_id,
           sum(f.dq) OVER (PARTITION BY f.account_id, f.instrument_id ORDER BY f.fill_id) AS pos
      FROM signed_fills f
),
position_limit AS (
    SELECT r.*, (SELECT min(l.max_position_qty) FROM zvt.risk_limits l
                  WHERE l.account_id = r.account_id
                    AND (l.instrument_id IS NULL OR l.instrument_id = r.instrument_id)) AS lim
      FROM running r
),
exposure_replay AS (
    SELECT account_id, instrument_id, count(*) AS n,
           coalesce(sum(qty - filled_qty) FILTER (WHERE side = 'buy'), 0) AS buy_qty,
           coalesce(sum(qty - filled_qty) FILTER (WHERE side = 'sell'), 0) AS sell_qty
      FROM open_orders GROUP BY account_id, instrument_id
)
SELECT 'every order has events, the first one "new" or "rejected"' AS invariant,
       count(*) AS violations, min(o.order_id)::text AS example
  FROM zvt.orders o LEFT JOIN first_event e USING (order_id)
 WHERE e.event IS NULL OR e.event NOT IN ('new', 'rejected')
UNION ALL
SELECT 'an order''s status is its last event''s', count(*), min(o.order_id || ': ' || o.status || ' vs ' || e.status)
  FROM zvt.orders o JOIN last_event e USING (order_id)
 WHERE e.status <> o.status
UNION ALL
SELECT 'fills sum to the filled quantity and the fees', count(*),
       min(o.order_id || ': ' || o.filled_qty || ' vs ' || coalesce(s.qty, 0))
  FROM zvt.orders o LEFT JOIN fill_sums s USING (order_id)
 WHERE o.filled_qty <> coalesce(s.qty, 0) OR o.fees <> coalesce(s.fee, 0)
UNION ALL
-- (a live fill booked from a cumulative quantity may be split into the
-- exchange's trades once their ids are known, sql/59_trades.sql: as many
-- fills as events or more, never fewer, the same quantity)
SELECT 'one fill event per fill, of the same quantity', count(*), min(coalesce(s.order_id, e.order_id)::text)
  FROM fill_sums s FULL JOIN fill_events e USING (order_id)
 WHERE s.n < e.n OR s.n IS NULL OR e.n IS NULL OR s.qty IS DISTINCT FROM e.qty
UNION ALL
SELECT 'no order filled past its quantity; filled ones filled exactly', count(*), min(o.order_id::text)
  FROM zvt.orders o
 WHERE o.filled_qty > o.qty OR (o.status = 'filled' AND o.filled_qty <> o.qty)
UNION ALL
SELECT 'holdings equal a replay of the fills', count(*),
       min(coalesce(h.account_id, p.account_id) || '/' || coalesce(h.instrument_id, p.instrument_id)
           || ': ' || coalesce(h.qty, 0) || ' vs ' || coalesce(p.qty, 0))
  FROM zvt.holdings h FULL JOIN positions p USING (account_id, instrument_id)
 WHERE coalesce(h.qty, 0) <> coalesce(p.qty, 0) OR coalesce(h.realized_pnl, 0) <> coalesce(p.realized, 0)
UNION ALL
SELECT 'balances equal the initial cash plus a replay of the fills', count(*),
       min(coalesce(b.account_id, m.account_id) || '/' || coalesce(b.asset, m.asset)
           || ': ' || coalesce(b.amount, 0) || ' vs ' || coalesce(m.amount, 0))
  FROM zvt.balances b FULL JOIN money m USING (account_id, asset)
 WHERE coalesce(b.amount, 0) <> coalesce(m.amount, 0)
UNION ALL
SELECT 'daily PnL sums to the fills'' realized PnL and fees', count(*), min(a.account_id::text)
  FROM zvt.accounts a
 WHERE (SELECT coalesce(sum(d.realized), 0) FROM zvt.daily_pnl d WHERE d.account_id = a.account_id)
       <> (SELECT coalesce(sum(f.realized_pnl), 0) FROM zvt.fills f WHERE f.account_id = a.account_id)
    OR (SELECT coalesce(sum(d.fees), 0) FROM zvt.daily_pnl d WHERE d.account_id = a.account_id)
       <> (SELECT coalesce(sum(f.fee), 0) FROM zvt.fills f JOIN zvt.instruments i ON i.id = f.instrument_id
            WHERE f.account_id = a.account_id AND f.fee_asset = i.quote)
UNION ALL
SELECT 'no position ever past max_position_qty', count(*),
       min(account_id || '/' || instrument_id || ' fill ' || fill_id || ': ' || pos || ' > ' || lim)
  FROM position_limit WHERE lim IS NOT NULL AND abs(pos) > lim
UNION ALL
SELECT 'no accepted order past max_order_qty', count(*), min(o.order_id::text)
  FROM zvt.orders o
 WHERE o.status <> 'rejected'
   AND o.qty > (SELECT min(l.max_order_qty) FROM zvt.risk_limits l
                 WHERE l.account_id = o.account_id
                   AND (l.instrument_id IS NULL OR l.instrument_id = o.instrument_id))
UNION ALL
SELECT 'exposure equals the open orders', count(*),
       min(coalesce(x.account_id, r.account_id) || '/' || coalesce(x.instrument_id, r.instrument_id))
  FROM (SELECT * FROM zvt.exposure WHERE open_orders <> 0 OR buy_qty <> 0 OR sell_qty <> 0) x
       FULL JOIN exposure_replay r USING (account_id, instrument_id)
 WHERE coalesce(x.open_orders, 0) <> coalesce(r.n, 0)
    OR coalesce(x.buy_qty, 0) <> coalesce(r.buy_qty, 0)
    OR coalesce(x.sell_qty, 0) <> coalesce(r.sell_qty, 0)
ORDER BY 1;
