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
