-- ===================================================================
-- Trading core, part 1: the ledger (accounts, balances, orders, fills,
-- holdings, order events, risk limits), who may see and use what, and
-- the account functions.  Orders and matching are in 55_orders.sql.
--
-- Users never write these tables: each public trading function is the C
-- trampoline zvt_ledger_call (src/trading/ledger_call.c), which notes the
-- caller (GetUserId()) and runs the body zvt._<name>(caller, ...) as the
-- extension's owner; the body checks the caller's right to the account.
-- Row-level security shows each role only the accounts it owns or was
-- granted (members of zvt_admin see all).
-- ===================================================================

DO $roles$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = 'zvt_admin') THEN
        CREATE ROLE zvt_admin NOLOGIN;
    END IF;
END
$roles$;

CREATE TABLE zvt.accounts (
    account_id      pg_catalog.int4 GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name            pg_catalog.text NOT NULL UNIQUE CHECK (name <> ''),
    kind            pg_catalog.text NOT NULL CHECK (kind IN ('paper', 'live')),
    exchange        pg_catalog.text REFERENCES zvt.exchanges (name) ON UPDATE CASCADE,
    currency        pg_catalog.text NOT NULL CHECK (currency <> ''),
    owner           pg_catalog.regrole NOT NULL,
    state           pg_catalog.text NOT NULL DEFAULT 'active'
                    CHECK (state IN ('active', 'reducing', 'halted')),
    leverage        pg_catalog.numeric NOT NULL DEFAULT 1 CHECK (leverage >= 1 AND leverage <= 125),
    maker_fee_bps   pg_catalog.numeric NOT NULL DEFAULT 10 CHECK (maker_fee_bps > -100 AND maker_fee_bps < 1000),
    taker_fee_bps   pg_catalog.numeric NOT NULL DEFAULT 10 CHECK (taker_fee_bps >= 0 AND taker_fee_bps < 1000),
    slippage_bps    pg_catalog.numeric NOT NULL DEFAULT 0 CHECK (slippage_bps >= 0 AND slippage_bps < 10000),
    initial_cash    pg_catalog.numeric NOT NULL CHECK (initial_cash >= 0),
    created_at      pg_catalog.timestamptz NOT NULL DEFAULT pg_catalog.now()
);
COMMENT ON TABLE zvt.accounts IS
    'Trading accounts (paper or live): owner role, trading state, leverage for perpetuals, maker/taker fees and paper slippage in basis points.';

CREATE TABLE zvt.account_grants (
    account_id  pg_catalog.int4 NOT NULL REFERENCES zvt.accounts ON DELETE CASCADE,
    grantee     pg_catalog.regrole NOT NULL,
    granted_at  pg_catalog.timestamptz NOT NULL DEFAULT pg_catalog.now(),
    PRIMARY KEY (account_id, grantee)
);
COMMENT ON TABLE zvt.account_grants IS
    'Roles besides the owner that may see and trade an account (zvt.grant_account).';

CREATE TABLE zvt.balances (
    account_id  pg_catalog.int4 NOT NULL REFERENCES zvt.accounts ON DELETE CASCADE,
    asset       pg_catalog.text NOT NULL,
    amount      pg_catalog.numeric NOT NULL,
    updated_at  pg_catalog.timestamptz NOT NULL DEFAULT pg_catalog.now(),
    PRIMARY KEY (account_id, asset)
);
COMMENT ON TABLE zvt.balances IS
    'Balance of each asset of an account: deposits, traded notional and fees (spot); realized PnL and fees (perpetuals).';

CREATE TABLE zvt.orders (
    order_id        pg_catalog.int8 GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    account_id      pg_catalog.int4 NOT NULL REFERENCES zvt.accounts,
    instrument_id   pg_catalog.int4 NOT NULL REFERENCES zvt.instruments (id),
    exchange        pg_catalog.text NOT NULL,
    symbol          pg_catalog.text NOT NULL,
    side            pg_catalog.text NOT NULL CHECK (side IN ('buy', 'sell')),
    type            pg_catalog.text NOT NULL
                    CHECK (type IN ('market', 'limit', 'stop', 'stop_limit', 'trailing_stop')),
    qty             pg_catalog.numeric NOT NULL CHECK (qty > 0),
    price           pg_catalog.numeric,
    stop_price      pg_catalog.numeric,     -- a trailing stop's current trigger price
    trail_pct       pg_catalog.numeric,
    tif             pg_catalog.text NOT NULL CHECK (tif IN ('gtc', 'ioc', 'fok')),
    post_only       pg_catalog.bool NOT NULL DEFAULT false,
    reduce_only     pg_catalog.bool NOT NULL DEFAULT false,
    client_order_id pg_catalog.text,
    status          pg_catalog.text NOT NULL
                    CHECK (status IN ('new', 'accepted', 'partially_filled', 'filled',
                                      'canceled', 'rejected', 'expired',
                                      'pending_new', 'sending', 'unknown', 'pending_cancel')),
    filled_qty      pg_catalog.numeric NOT NULL DEFAULT 0,
    avg_fill_price  pg_catalog.numeric,
    fees            pg_catalog.numeric NOT NULL DEFAULT 0,
    reason          pg_catalog.text,        -- why rejected or expired
    triggered       pg_catalog.bool NOT NULL DEFAULT false,    -- stop types: trigger price crossed
    trail_ref       pg_catalog.numeric,     -- trailing_stop: best price since placement
    reserve_price   pg_catalog.numeric,     -- the price its notional counts at while open
    bus_trades_seen pg_catalog.int8,        -- paper matching: bus counters already matched against
    bus_quotes_seen pg_catalog.int8,
    created_at      pg_catalog.timestamptz NOT NULL DEFAULT pg_catalog.clock_timestamp(),
    updated_at      pg_catalog.timestamptz NOT NULL DEFAULT pg_catalog.clock_timestamp(),
    UNIQUE (account_id, client_order_id)
);
CREATE INDEX orders_resting_idx ON zvt.orders (instrument_id, order_id)
    WHERE status IN ('accepted', 'partially_filled');
CREATE INDEX orders_account_time_idx ON zvt.orders (account_id, created_at);
-- An account's open orders (paper and live), oldest first: zvt.cancel_all
-- and a client listing them read these, not the account's whole history
-- (test/sql/trading_cost.sql).
CREATE INDEX orders_open_idx ON zvt.orders (account_id, order_id)
    WHERE status IN ('accepted', 'partially_filled', 'pending_new', 'sending', 'unknown', 'new', 'pending_cancel');
COMMENT ON INDEX zvt.orders_open_idx IS
    'An account''s open orders (paper and live) by order_id, so that listing or canceling them does not read its closed ones.';
COMMENT ON TABLE zvt.orders IS
    'Orders: what was asked (type, tif, prices), its status (paper: accepted, partially_filled, filled, canceled, rejected, expired; live also pending_new, sending, unknown, new, pending_cancel) and fills so far.';

CREATE TABLE zvt.order_events (
    event_id    pg_catalog.int8 GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    order_id    pg_catalog.int8 NOT NULL REFERENCES zvt.orders,
    account_id  pg_catalog.int4 NOT NULL,
    ts          pg_catalog.timestamptz NOT NULL DEFAULT pg_catalog.clock_timestamp(),
    event       pg_catalog.text NOT NULL
                CHECK (event IN ('new', 'accepted', 'rejected', 'triggered', 'fill',
                                 'canceled', 'expired', 'sent', 'unknown', 'pending_cancel')),
    status      pg_catalog.text NOT NULL,   -- the order's status after the event
    qty         pg_catalog.numeric,
    price       pg_catalog.numeric,
    reason      pg_catalog.text
);
CREATE INDEX order_events_order_idx ON zvt.order_events (order_id);
COMMENT ON TABLE zvt.order_events IS
    'Append-only audit of every order transition: UPDATE, DELETE and TRUNCATE raise, even for the owner.';

CREATE TABLE zvt.fills (
    fill_id         pg_catalog.int8 GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    order_id        pg_catalog.int8 NOT NULL REFERENCES zvt.orders,
    account_id      pg_catalog.int4 NOT NULL,
    instrument_id   pg_catalog.int4 NOT NULL,
    exchange        pg_catalog.text NOT NULL,
    symbol          pg_catalog.text NOT NULL,
    ts              pg_catalog.timestamptz NOT NULL DEFAULT pg_catalog.clock_timestamp(),
    side            pg_catalog.text NOT NULL,
    qty             pg_catalog.numeric NOT NULL,
    price           pg_catalog.numeric NOT NULL,
    fee             pg_catalog.numeric NOT NULL,
    fee_asset       pg_catalog.text NOT NULL,
    liquidity       pg_catalog.text NOT NULL CHECK (liquidity IN ('maker', 'taker')),
    realized_pnl    pg_catalog.numeric NOT NULL DEFAULT 0,
    price_ts        pg_catalog.timestamptz   -- time of the bus price the fill was made on
);
CREATE INDEX fills_account_time_idx ON zvt.fills (account_id, ts);
CREATE INDEX fills_order_idx ON zvt.fills (order_id);
COMMENT ON TABLE zvt.fills IS
    'Executions: quantity, price, fee, maker or taker, PnL realized by the fill; ts - price_ts is the delay from price to fill.';

CREATE TABLE zvt.holdings (
    account_id      pg_catalog.int4 NOT NULL REFERENCES zvt.accounts ON DELETE CASCADE,
    instrument_id   pg_catalog.int4 NOT NULL REFERENCES zvt.instruments (id),
    qty             pg_catalog.numeric NOT NULL DEFAULT 0,  -- > 0 long, < 0 short
    avg_price       pg_catalog.numeric NOT NULL DEFAULT 0,
    realized_pnl    pg_catalog.numeric NOT NULL DEFAULT 0,
    updated_at      pg_catalog.timestamptz NOT NULL DEFAULT pg_catalog.now(),
    PRIMARY KEY (account_id, instrument_id)
);
COMMENT ON TABLE zvt.holdings IS
    'Netting position per account and instrument (zvt.positions marks it to the market bus).';

-- open orders per account and instrument, kept by the order functions so
-- that risk checks read one row instead of summing every resting order
CREATE TABLE zvt.exposure (
    account_id      pg_catalog.int4 NOT NULL REFERENCES zvt.accounts ON DELETE CASCADE,
    instrument_id   pg_catalog.int4 NOT NULL,
    open_orders     pg_catalog.int4 NOT NULL DEFAULT 0,
    buy_qty         pg_catalog.numeric NOT NULL DEFAULT 0,  -- unfilled qty of open buys
    sell_qty        pg_catalog.numeric NOT NULL DEFAULT 0,
    buy_notional    pg_catalog.numeric NOT NULL DEFAULT 0,  -- at limit (or stop) prices
    sell_notional   pg_catalog.numeric NOT NULL DEFAULT 0,
    PRIMARY KEY (account_id, instrument_id)
);
COMMENT ON TABLE zvt.exposure IS
    'Open orders of an account per instrument: count, unfilled quantity and notional per side (kept by the order functions).';

-- realized PnL and fees per UTC day, for max_daily_loss and zvt.portfolio
CREATE TABLE zvt.daily_pnl (
    account_id  pg_catalog.int4 NOT NULL REFERENCES zvt.accounts ON DELETE CASCADE,
    day         pg_catalog.date NOT NULL,
    realized    pg_catalog.numeric NOT NULL DEFAULT 0,
    fees        pg_catalog.numeric NOT NULL DEFAULT 0,
    PRIMARY KEY (account_id, day)
);
COMMENT ON TABLE zvt.daily_pnl IS 'Realized PnL and fees of each account per UTC day.';

CREATE TABLE zvt.risk_limits (
    account_id              pg_catalog.int4 NOT NULL REFERENCES zvt.accounts ON DELETE CASCADE,
    instrument_id           pg_catalog.int4 REFERENCES zvt.instruments (id),  -- NULL: whole account
    exchange                pg_catalog.text,
    symbol                  pg_catalog.text,
    max_order_qty           pg_catalog.numeric,
    max_order_notional      pg_catalog.numeric,
    max_position_qty        pg_catalog.numeric,
    max_position_notional   pg_catalog.numeric,
    max_open_orders         pg_catalog.int4,
    max_daily_loss          pg_catalog.numeric,
    price_band_pct          pg_catalog.numeric,
    max_orders_per_sec      pg_catalog.int4,
    updated_at              pg_catalog.timestamptz NOT NULL DEFAULT pg_catalog.now(),
    CONSTRAINT risk_limits_scope UNIQUE NULLS NOT DISTINCT (account_id, instrument_id)
);
COMMENT ON TABLE zvt.risk_limits IS
    'Risk limits per account (exchange and symbol NULL) and per account and instrument; NULL is no limit; where both apply the stricter wins.';

-- ---------------------------------------------------------------------
-- Who may use an account
-- ---------------------------------------------------------------------

-- role may use account_id: it has the privileges of the owner, of a
-- grantee, or of zvt_admin (superusers may use everything)
CREATE FUNCTION zvt._may_use(role pg_catalog.oid, account_id pg_catalog.int4)
    RETURNS pg_catalog.bool
    LANGUAGE plpgsql STABLE SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    owner oid;
BEGIN
    SELECT a.owner INTO owner FROM zvt.accounts a WHERE a.account_id = _may_use.account_id;
    RETURN owner IS NOT NULL
       AND (pg_has_role(role, owner, 'USAGE')
            OR pg_has_role(role, 'zvt_admin', 'USAGE')
            OR EXISTS (SELECT 1 FROM zvt.account_grants g
                        WHERE g.account_id = _may_use.account_id AND pg_has_role(role, g.grantee, 'USAGE')));
END;
$$;
COMMENT ON FUNCTION zvt._may_use(pg_catalog.oid, pg_catalog.int4) IS
    'Internal: may the role use the account (owner, grantee or zvt_admin)?';
REVOKE ALL ON FUNCTION zvt._may_use(pg_catalog.oid, pg_catalog.int4) FROM PUBLIC;

-- The caller's account by name.  An account that does not exist and one
-- the caller may not use are the same error, 42704 "unknown account", so
-- that no error tells a role which accounts exist or who owns them.  With
-- manage, a role that may use the account (a grantee) but not manage it
-- (owner or zvt_admin only) gets 42501: it already sees the account.
CREATE FUNCTION zvt._account(caller pg_catalog.oid, name pg_catalog.text,
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

-- a finite number >= 0 (or > 0), else 22023 naming the argument
CREATE FUNCTION zvt._check_amount(what pg_catalog.text, v pg_catalog.numeric,
                                  positive pg_catalog.bool DEFAULT true)
    RETURNS void
    LANGUAGE plpgsql IMMUTABLE
AS $$
BEGIN
    IF v IS NULL OR v = 'NaN' OR v = 'Infinity' OR v = '-Infinity'
       OR (positive AND v <= 0) OR (NOT positive AND v < 0) THEN
        RAISE EXCEPTION '% must be a % finite number, not %', what,
                        CASE WHEN positive THEN 'positive' ELSE 'non-negative' END,
                        coalesce(v::text, 'NULL')
            USING ERRCODE = '22023';
    END IF;
END;
$$;
COMMENT ON FUNCTION zvt._check_amount(pg_catalog.text, pg_catalog.numeric, pg_catalog.bool) IS
    'Internal: raise 22023 unless v is a finite number > 0 (>= 0 when not positive).';

-- ---------------------------------------------------------------------
-- Row-level security: every ledger table shows a role only its accounts
-- ---------------------------------------------------------------------

-- the accounts the calling role may use, read once per query by the policies
CREATE FUNCTION zvt._my_accounts() RETURNS pg_catalog.int4[]
    LANGUAGE C STABLE STRICT
    AS 'MODULE_PATHNAME', 'zvt_my_accounts';
COMMENT ON FUNCTION zvt._my_accounts() IS
    'Internal: ids of the accounts the calling role may use (owner, grantee or zvt_admin); the row-level security policies call it once per query.';

DO $rls$
DECLARE
    t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['accounts', 'account_grants', 'balances', 'orders', 'order_events',
                             'fills', 'holdings', 'exposure', 'daily_pnl', 'risk_limits']
    LOOP
        EXECUTE format('ALTER TABLE zvt.%I ENABLE ROW LEVEL SECURITY', t);
        EXECUTE format('CREATE POLICY %I ON zvt.%I FOR SELECT USING '
                       '(account_id OPERATOR(pg_catalog.=) ANY ((SELECT zvt._my_accounts())::pg_catalog.int4[]))',
                       t || '_visible', t);
        EXECUTE format('REVOKE ALL ON zvt.%I FROM PUBLIC', t);
        EXECUTE format('GRANT SELECT ON zvt.%I TO PUBLIC', t);
        EXECUTE format('SELECT pg_catalog.pg_extension_config_dump(%L, %L)', 'zvt.' || t, '');
    END LOOP;
END
$rls$;
SELECT pg_catalog.pg_extension_config_dump('zvt.accounts_account_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('zvt.orders_order_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('zvt.order_events_event_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('zvt.fills_fill_id_seq', '');

-- order_events is append-only, for everyone
CREATE FUNCTION zvt._append_only() RETURNS trigger
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    RAISE EXCEPTION '%.% is append-only', TG_TABLE_SCHEMA, TG_TABLE_NAME
        USING ERRCODE = '55000',
              DETAIL = format('%s is not allowed on the audit of order transitions.', TG_OP);
END;
$$;
COMMENT ON FUNCTION zvt._append_only() IS 'Internal: reject UPDATE, DELETE and TRUNCATE on an audit table.';
CREATE TRIGGER order_events_append_only BEFORE UPDATE OR DELETE ON zvt.order_events
    FOR EACH ROW EXECUTE FUNCTION zvt._append_only();
CREATE TRIGGER order_events_no_truncate BEFORE TRUNCATE ON zvt.order_events
    FOR EACH STATEMENT EXECUTE FUNCTION zvt._append_only();

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

-- ---------------------------------------------------------------------
-- Accounts
-- ---------------------------------------------------------------------

CREATE FUNCTION zvt._create_account(caller pg_catalog.oid, name pg_catalog.text, kind pg_catalog.text,
                                    exchange pg_catalog.text, initial_cash pg_catalog.numeric,
                                    currency pg_catalog.text, leverage pg_catalog.numeric,
                                    maker_fee_bps pg_catalog.numeric, taker_fee_bps pg_catalog.numeric,
                                    slippage_bps pg_catalog.numeric)
    RETURNS zvt.accounts
    LANGUAGE plpgsql
AS $$
DECLARE
    a zvt.accounts;
BEGIN
    IF name IS NULL OR name = '' THEN
        RAISE EXCEPTION 'account name must not be empty' USING ERRCODE = '22023';
    END IF;
    IF kind IS NULL OR kind NOT IN ('paper', 'live') THEN
        RAISE EXCEPTION 'unknown account kind "%"', coalesce(kind, 'NULL')
            USING ERRCODE = '22023', HINT = 'Account kinds are paper and live.';
    END IF;
    IF exchange IS NOT NULL THEN
        PERFORM zvt._check_exchange(exchange);
    END IF;
    PERFORM zvt._check_amount('initial_cash', initial_cash, false);
    IF currency IS NULL OR currency !~ '^[A-Z0-9]+$' THEN
        RAISE EXCEPTION 'currency must be an asset symbol such as USDT, not "%"', coalesce(currency, 'NULL')
            USING ERRCODE = '22023';
    END IF;
    IF leverage IS NULL OR leverage = 'NaN' OR leverage < 1 OR leverage > 125 THEN
        RAISE EXCEPTION 'leverage must be between 1 and 125, not %', coalesce(leverage::text, 'NULL')
            USING ERRCODE = '22023';
    END IF;
    IF maker_fee_bps IS NULL OR maker_fee_bps = 'NaN' OR maker_fee_bps <= -100 OR maker_fee_bps >= 1000
       OR taker_fee_bps IS NULL OR taker_fee_bps = 'NaN' OR taker_fee_bps < 0 OR taker_fee_bps >= 1000 THEN
        RAISE EXCEPTION 'fees must be basis points: maker_fee_bps in (-100, 1000), taker_fee_bps in [0, 1000)'
            USING ERRCODE = '22023';
    END IF;
    IF slippage_bps IS NULL OR slippage_bps = 'NaN' OR slippage_bps < 0 OR slippage_bps >= 10000 THEN
        RAISE EXCEPTION 'slippage_bps must be in [0, 10000), not %', coalesce(slippage_bps::text, 'NULL')
            USING ERRCODE = '22023';
    END IF;
    IF EXISTS (SELECT 1 FROM zvt.accounts x WHERE x.name = _create_account.name) THEN
        RAISE EXCEPTION 'account "%" already exists', name USING ERRCODE = '42710';
    END IF;
    INSERT INTO zvt.accounts (name, kind, exchange, currency, owner, leverage, maker_fee_bps,
                              taker_fee_bps, slippage_bps, initial_cash)
    VALUES (name, kind, exchange, currency, caller::regrole, leverage, maker_fee_bps,
            taker_fee_bps, slippage_bps, initial_cash)
    RETURNING * INTO a;
    INSERT INTO zvt.balances (account_id, asset, amount) VALUES (a.account_id, currency, initial_cash);
    RETURN a;
END;
$$;
COMMENT ON FUNCTION zvt._create_account(pg_catalog.oid, pg_catalog.text, pg_catalog.text, pg_catalog.text,
    pg_catalog.numeric, pg_catalog.text, pg_catalog.numeric, pg_catalog.numeric, pg_catalog.numeric,
    pg_catalog.numeric) IS 'Internal: zvt.create_account''s body, run as the ledger''s owner for the caller.';
REVOKE ALL ON FUNCTION zvt._create_account(pg_catalog.oid, pg_catalog.text, pg_catalog.text, pg_catalog.text,
    pg_catalog.numeric, pg_catalog.text, pg_catalog.numeric, pg_catalog.numeric, pg_catalog.numeric,
    pg_catalog.numeric) FROM PUBLIC;

CREATE FUNCTION zvt.create_account(name pg_catalog.text, kind pg_catalog.text DEFAULT 'paper',
                                   exchange pg_catalog.text DEFAULT NULL,
                                   initial_cash pg_catalog.numeric DEFAULT 0,
                                   currency pg_catalog.text DEFAULT 'USDT',
                                   leverage pg_catalog.numeric DEFAULT 1,
                                   maker_fee_bps pg_catalog.numeric DEFAULT 10,
                                   taker_fee_bps pg_catalog.numeric DEFAULT 10,
                                   slippage_bps pg_catalog.numeric DEFAULT 0)
    RETURNS zvt.accounts
    LANGUAGE C VOLATILE CALLED ON NULL INPUT
    AS 'MODULE_PATHNAME', 'zvt_ledger_call';
COMMENT ON FUNCTION zvt.create_account(pg_catalog.text, pg_catalog.text, pg_catalog.text, pg_catalog.numeric,
    pg_catalog.text, pg_catalog.numeric, pg_catalog.numeric, pg_catalog.numeric, pg_catalog.numeric) IS
    'Create a paper or live account owned by the calling role, with initial_cash of currency; names are unique.';

CREATE FUNCTION zvt._grant_account(caller pg_catalog.oid, account pg_catalog.text, role pg_catalog.regrole,
                                   allow pg_catalog.bool)
    RETURNS zvt.accounts
    LANGUAGE plpgsql
AS $$
DECLARE
    a zvt.accounts := zvt._account(caller, account, true);
BEGIN
    IF role IS NULL THEN
        RAISE EXCEPTION 'role must not be null' USING ERRCODE = '22023';
    END IF;
    IF allow THEN
        INSERT INTO zvt.account_grants (account_id, grantee) VALUES (a.account_id, role)
        ON CONFLICT DO NOTHING;
    ELSE
        DELETE FROM zvt.account_grants g WHERE g.account_id = a.account_id AND g.grantee = role;
    END IF;
    RETURN a;
END;
$$;
COMMENT ON FUNCTION zvt._grant_account(pg_catalog.oid, pg_catalog.text, pg_catalog.regrole, pg_catalog.bool) IS
    'Internal: zvt.grant_account''s body.';
REVOKE ALL ON FUNCTION zvt._grant_account(pg_catalog.oid, pg_catalog.text, pg_catalog.regrole, pg_catalog.bool) FROM PUBLIC;

-- The account lock (src/base/locks.c): every write of an account's
-- ledger holds it.  It lives in a lock space no SQL function reaches, so
-- no role can take or hold it but through zvt's own functions.
CREATE FUNCTION zvt._lock_account(account_id pg_catalog.int4) RETURNS void
    LANGUAGE C STRICT VOLATILE
    AS 'MODULE_PATHNAME', 'zvt_lock_account_sql';
COMMENT ON FUNCTION zvt._lock_account(pg_catalog.int4) IS
    'Internal: wait for and hold to the end of the transaction an account''s ledger lock.';
-- only zvt's own SECURITY DEFINER bodies may hold an account's lock
REVOKE ALL ON FUNCTION zvt._lock_account(pg_catalog.int4) FROM PUBLIC;

CREATE FUNCTION zvt._try_lock_account(account_id pg_catalog.int4) RETURNS pg_catalog.bool
    LANGUAGE C STRICT VOLATILE
    AS 'MODULE_PATHNAME', 'zvt_try_lock_account_sql';
COMMENT ON FUNCTION zvt._try_lock_account(pg_catalog.int4) IS
    'Internal: take an account''s ledger lock if it is free; false when another transaction holds it.';
-- the paper matcher's; no role of its own
REVOKE ALL ON FUNCTION zvt._try_lock_account(pg_catalog.int4) FROM PUBLIC;

CREATE FUNCTION zvt.grant_account(account pg_catalog.text, role pg_catalog.regrole,
                                  allow pg_catalog.bool DEFAULT true)
    RETURNS zvt.accounts
    LANGUAGE C VOLATILE CALLED ON NULL INPUT
    AS 'MODULE_PATHNAME', 'zvt_ledger_call';
COMMENT ON FUNCTION zvt.grant_account(pg_catalog.text, pg_catalog.regrole, pg_catalog.bool) IS
    'Let role see and trade the account (allow => false takes it back); only the owner and zvt_admin may.';

CREATE FUNCTION zvt._set_trading_state(caller pg_catalog.oid, account pg_catalog.text, state pg_catalog.text)
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
COMMENT ON FUNCTION zvt._set_trading_state(pg_catalog.oid, pg_catalog.text, pg_catalog.text) IS
    'Internal: zvt.set_trading_state''s body.';
REVOKE ALL ON FUNCTION zvt._set_trading_state(pg_catalog.oid, pg_catalog.text, pg_catalog.text) FROM PUBLIC;

CREATE FUNCTION zvt.set_trading_state(account pg_catalog.text, state pg_catalog.text)
    RETURNS zvt.accounts
    LANGUAGE C VOLATILE CALLED ON NULL INPUT
    AS 'MODULE_PATHNAME', 'zvt_ledger_call';
COMMENT ON FUNCTION zvt.set_trading_state(pg_catalog.text, pg_catalog.text) IS
    'Set an account''s trading state: active, reducing (only orders that reduce a position) or halted (every order rejected; a live account''s open orders are canceled on its exchange).';

-- An account whose owner role was dropped (DROP ROLE leaves its oid in
-- zvt.accounts.owner: PostgreSQL records no dependency on a role for a
-- row) is frozen: place_order's risk check treats it as halted and says
-- why.  zvt_admin gives it a new owner here; nobody else may.
CREATE FUNCTION zvt._reassign_account(caller pg_catalog.oid, account pg_catalog.text,
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

CREATE FUNCTION zvt.reassign_account(account pg_catalog.text, new_owner pg_catalog.regrole)
    RETURNS zvt.accounts
    LANGUAGE C VOLATILE CALLED ON NULL INPUT
    AS 'MODULE_PATHNAME', 'zvt_ledger_call';
COMMENT ON FUNCTION zvt.reassign_account(pg_catalog.text, pg_catalog.regrole) IS
    'Give an account a new owner role (zvt_admin only): how an account whose owner role was dropped, and so is halted, trades again.';
-- an administrator's tool: only zvt_admin may change who owns an account
REVOKE ALL ON FUNCTION zvt.reassign_account(pg_catalog.text, pg_catalog.regrole) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION zvt.reassign_account(pg_catalog.text, pg_catalog.regrole) TO zvt_admin;

CREATE FUNCTION zvt._set_risk_limits(caller pg_catalog.oid, account pg_catalog.text, exchange pg_catalog.text,
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

CREATE FUNCTION zvt.set_risk_limits(account pg_catalog.text, exchange pg_catalog.text DEFAULT NULL,
        symbol pg_catalog.text DEFAULT NULL, max_order_qty pg_catalog.numeric DEFAULT NULL,
        max_order_notional pg_catalog.numeric DEFAULT NULL, max_position_qty pg_catalog.numeric DEFAULT NULL,
        max_position_notional pg_catalog.numeric DEFAULT NULL, max_open_orders pg_catalog.int4 DEFAULT NULL,
        max_daily_loss pg_catalog.numeric DEFAULT NULL, price_band_pct pg_catalog.numeric DEFAULT NULL,
        max_orders_per_sec pg_catalog.int4 DEFAULT NULL)
    RETURNS zvt.risk_limits
    LANGUAGE C VOLATILE CALLED ON NULL INPUT
    AS 'MODULE_PATHNAME', 'zvt_ledger_call';
COMMENT ON FUNCTION zvt.set_risk_limits(pg_catalog.text, pg_catalog.text, pg_catalog.text, pg_catalog.numeric,
    pg_catalog.numeric, pg_catalog.numeric, pg_catalog.numeric, pg_catalog.int4, pg_catalog.numeric,
    pg_catalog.numeric, pg_catalog.int4) IS
    'Replace the risk limits of an account (exchange and symbol NULL) or of one instrument of it; NULL is no limit. Only the owner and zvt_admin may.';
