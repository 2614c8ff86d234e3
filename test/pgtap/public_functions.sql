-- test/pgtap/public_functions.sql: every zvt function that PUBLIC may
-- execute has been reviewed.
--
-- A function granted to PUBLIC (every function not REVOKEd from PUBLIC)
-- is a door for any role: could a plain role use it to write shared
-- state, take locks, read other roles' data or act as another role?  The
-- list below names each one with its intended caller and what bounds it.
-- A new function that PUBLIC may execute fails the first test until it
-- has been reviewed and added here; a function revoked since fails the
-- second until it is taken out.  Signatures are name(argument types), as
-- oidvectortypes() prints them.
BEGIN;
SELECT plan(6);

CREATE TEMP TABLE reviewed (fn text PRIMARY KEY, caller text NOT NULL);
INSERT INTO reviewed VALUES
    -- set-up
    ('_require_preload(text)',
     'anyone: raises 55000 unless zvt is preloaded; no state'),

    -- hypertables (sql/10_hypertable.sql, src/storage/chunk.c)
    ('time_bucket(interval, timestamp with time zone, timestamp with time zone)', 'anyone: immutable arithmetic'),
    ('time_bucket(interval, timestamp without time zone, timestamp without time zone)', 'anyone: immutable arithmetic'),
    ('create_hypertable(regclass, name, interval, boolean)', 'anyone, for tables whose owner it has the privileges of (checked)'),
    ('_check_chunk_interval(interval)', 'create_hypertable, as the caller: validates a value'),
    ('_conversion_blockers(regclass)', 'create_hypertable, as the caller: reads the catalogs only'),
    -- runs as the caller; its ALTER TABLE ... RENAME needs ownership, so calling it
    -- directly only skips create_hypertable's own checks on one's own table
    ('_convert_table(regclass, name, interval)', 'create_hypertable, as the caller (table owners)'),
    ('_attach_default(regclass)', 'create_hypertable, as the caller: checks ownership'),
    ('_ensure_chunk(regclass, timestamp with time zone)',
     'writers of a hypertable (feeds, backfills, _maintain_hypertable): checks INSERT on it; the chunk is made for the owner'),
    -- takes ACCESS SHARE on any partitioned table without a privilege check (reported)
    ('_chunks(regclass)', 'the zvt.hypertables view, for anyone'),
    -- takes ACCESS SHARE on any hypertable without a privilege check (reported)
    ('show_chunks(regclass, "any", "any")', 'anyone: lists chunks (catalog data)'),
    ('drop_chunks(regclass, "any", "any")', 'hypertable owners (checked); maintenance'),
    ('_hypertable_or_error(regclass)', 'add/remove_retention_policy, as the caller: reads zvt._hypertables'),
    ('add_retention_policy(regclass, interval, boolean)', 'hypertable owners: zvt._hypertables row-level security'),
    ('remove_retention_policy(regclass, boolean)', 'hypertable owners: zvt._hypertables row-level security'),
    ('set_chunk_interval(regclass, interval)', 'hypertable owners: zvt._hypertables row-level security'),
    -- checks that the caller has the owner's privileges, then runs the pass as
    -- the owner under SECURITY_RESTRICTED_OPERATION
    ('_maintain_hypertable(regclass)', 'run_maintenance and the maintenance worker'),
    -- does only what its caller may do: _ensure_chunk and drop_chunks check
    ('_maintenance_steps(regclass)', '_maintain_hypertable, as the table''s owner'),
    -- takes the chunk lock and ACCESS EXCLUSIVE or SHARE UPDATE EXCLUSIVE on
    -- the table: checks that the caller has the owner's privileges (42501)
    ('_maintenance_lock(regclass, timestamp with time zone, timestamp with time zone, boolean)',
     '_maintenance_steps, as the table''s owner'),
    ('_chunk_start(timestamp with time zone, interval, integer)', 'anyone: arithmetic only'),
    ('run_maintenance()', 'anyone, for the hypertables it owns (all of them for a superuser)'),
    -- last_error may carry another role's table name or error text (reported)
    ('maintenance_status()', 'anyone: the maintenance worker''s counters'),
    ('_on_sql_drop()', 'the zvt_sql_drop event trigger only: event trigger functions cannot be called, and only superusers make event triggers'),

    -- compressed chunks (sql/12_compression.sql, src/compress/compress.c)
    -- checks that the caller has the hypertable owner's privileges, then
    -- rewrites as the owner under SECURITY_RESTRICTED_OPERATION
    ('_rewrite_chunk(regclass, boolean, name[], text)', 'compress_chunk and decompress_chunk, as the caller'),
    ('_compressed_stats(regclass)', 'the zvt.chunks view, for anyone: answers only for chunks the caller may SELECT'),
    ('_default_segment_by(regclass)', 'compress_chunk and add_compression_policy: reads the catalogs only'),
    ('_compression_lock(regclass, regclass)', 'compress_chunk, decompress_chunk and _compression_steps: locks only for the hypertable''s owner'),
    ('compress_chunk(regclass)', 'hypertable owners (checked by _rewrite_chunk); the maintenance worker as the owner'),
    ('decompress_chunk(regclass)', 'hypertable owners (checked by _rewrite_chunk)'),
    ('_check_compression_settings(regclass, name[], text)', 'add_compression_policy, as the caller: reads the catalogs only'),
    ('add_compression_policy(regclass, interval, name[], text, boolean)', 'hypertable owners: zvt._compression_settings row-level security'),
    ('remove_compression_policy(regclass, boolean)', 'hypertable owners: zvt._compression_settings row-level security'),
    ('_compression_steps(regclass)', '_maintenance_steps, as the table''s owner: compress_chunk checks'),
    ('_on_sql_drop_compressed()', 'the zvt_sql_drop_compressed event trigger only'),

    -- market data (sql/20_market.sql)
    ('_check_exchange(text)', 'zvt''s functions, as the caller: reads zvt.exchanges (public)'),
    ('_instrument_id(text, text)', 'zvt''s functions, as the caller: reads zvt.instruments (public)'),
    ('ohlcv(text, text, interval, timestamp with time zone, timestamp with time zone)', 'anyone: reads zvt.candles and the roll-ups (public) as the caller'),

    -- candle roll-ups (sql/22_rollups.sql, src/storage/rollup*.c)
    ('_refresh_candle_rollups()', 'the maintenance worker and run_maintenance: checks the roll-ups'' owner''s privileges (42501), then runs as that owner'),
    ('_check_timeframe(interval)', 'add_candle_rollup: validates a value'),
    ('_rollup_owner_or_error()', 'add/remove_candle_rollup, as the caller: raises 42501 unless the caller has the roll-ups'' owner''s privileges'),
    ('add_candle_rollup(interval, boolean)', 'the owner of zvt.candles (checked, 42501); writes as the caller'),
    ('remove_candle_rollup(interval, boolean)', 'the owner of zvt.candles (checked, 42501); writes as the caller'),

    -- the market bus (sql/25_bus.sql, src/bus/functions.c): prices are public
    ('_last_price(integer)', 'zvt.last_price, for anyone: reads this database''s bus'),
    ('last_price(text, text)', 'anyone'),
    ('_bus_entries()', 'the zvt.tickers view, for anyone: this database''s entries only'),
    ('_bus_funding()', 'the zvt.funding_now view, for anyone: this database''s perpetuals only'),
    ('_funding_events(integer, timestamp with time zone, timestamp with time zone)', 'zvt.backtest with funding, as the caller: reads the public zvt.funding'),
    ('_bus_entry(integer)', 'place_order, the paper matcher and _mark_price: reads one entry'),
    ('_bus_counters()', 'anyone: two counters (tests, monitoring)'),
    ('_mark_price(integer)', 'zvt.positions and portfolio: reads the bus'),
    -- raises 42501 unless the caller may INSERT or DELETE on zvt.subscriptions
    ('_subscriptions_changed(text)', 'subscribe and unsubscribe, as the caller'),

    -- feeds (sql/30_feed.sql)
    ('channels()', 'anyone: a constant list'),
    ('_check_subscription(text, text, text)', 'subscribe and unsubscribe: validates arguments'),
    ('subscribe(text, text, text, integer)', 'roles that may write zvt.subscriptions (its INSERT and _subscriptions_changed check)'),
    ('unsubscribe(text, text, text)', 'roles that may write zvt.subscriptions (its DELETE and _subscriptions_changed check)'),
    ('_feed_stats()', 'the zvt.feed_status view, for anyone: counters'),

    -- order books (sql/35_book.sql, src/book/functions.c): public market data
    ('book(text, text, integer)', 'anyone: reads this database''s books in shared memory'),
    ('_books()', 'the zvt.books view, for anyone: this database''s books only'),
    ('book_at(text, text, timestamp with time zone, integer)', 'anyone: reads zvt.book_snapshots (public) as the caller'),
    -- backfill (sql/32_backfill.sql); backfill, cancel_backfill, resume_backfill and _backfill_wake are revoked
    ('_backfill_channel(text)', 'backfill: validates a channel name; no state'),
    ('_backfill_stats()', 'anyone: the backfill worker''s pid and three counters (tests, monitoring)'),

    -- HTTP front (sql/62_http_api.sql): json_agg's text for the API layer's
    -- statements; the support functions take internal, like the indicators'
    ('_http_json_agg(record)', 'every HTTP request''s role: renders the rows its statement read; reads and writes nothing else'),
    ('_http_json_agg_step(internal, record)', 'zvt._http_json_agg only'),
    ('_http_json_agg_final(internal)', 'zvt._http_json_agg only'),

    -- indicators (sql/40_indicators.sql): aggregates; the support functions
    -- take internal, which no SQL expression can produce, so nobody calls them directly
    ('ema(double precision, integer)', 'anyone: aggregate'),
    ('_ema_step(internal, double precision, integer)', 'zvt.ema only'),
    ('_ema_final(internal)', 'zvt.ema only'),
    ('rsi(double precision, integer)', 'anyone: aggregate'),
    ('_rsi_step(internal, double precision, integer)', 'zvt.rsi only'),
    ('_rsi_final(internal)', 'zvt.rsi only'),
    ('macd(double precision, integer, integer, integer)', 'anyone: aggregate'),
    ('_macd_step(internal, double precision, integer, integer, integer)', 'zvt.macd only'),
    ('_macd_final(internal)', 'zvt.macd only'),
    ('bollinger(double precision, integer, double precision)', 'anyone: aggregate'),
    ('_bollinger_step(internal, double precision, integer, double precision)', 'zvt.bollinger only'),
    ('_bollinger_final(internal)', 'zvt.bollinger only'),
    ('atr(double precision, double precision, double precision, integer)', 'anyone: aggregate'),
    ('_atr_step(internal, double precision, double precision, double precision, integer)', 'zvt.atr only'),
    ('_atr_final(internal)', 'zvt.atr only'),
    ('vwap(double precision, double precision)', 'anyone: aggregate'),
    ('_vwap_step(internal, double precision, double precision)', 'zvt.vwap only'),
    ('_vwap_final(internal)', 'zvt.vwap only'),

    -- backtests (sql/45_backtest.sql): signals and step_fn run as the caller;
    -- the runs tables are issue 11 item 5; workers => up to 1024 (reported)
    ('backtest(text, text, text, interval, timestamp with time zone, timestamp with time zone, jsonb, numeric, numeric, numeric, text, regprocedure, text)',
     'anyone: runs are the caller''s'),
    ('backtest_grid(text, text, text, interval, timestamp with time zone, timestamp with time zone, jsonb, text, jsonb, numeric, numeric, numeric, boolean, integer)',
     'anyone: runs are the caller''s'),

    -- trading (sql/50_trading.sql, sql/55_orders.sql): each public function is
    -- zvt_ledger_call, which runs the body zvt._<name>(caller, ...) as the
    -- ledger's owner; the body checks the caller's right to the account
    ('_check_amount(text, numeric, boolean)', 'the trading bodies: validates a value'),
    ('_my_accounts()', 'the ledger''s row-level security policies: the caller''s own account ids'),
    ('_append_only()', 'the triggers of zvt.order_events: it only raises, on any table'),
    ('create_account(text, text, text, numeric, text, numeric, numeric, numeric, numeric)', 'anyone: the caller owns the account'),
    ('grant_account(text, regrole, boolean)', 'an account''s owner and zvt_admin (checked by the body)'),
    ('set_trading_state(text, text)', 'an account''s owner and zvt_admin (checked by the body)'),
    ('set_risk_limits(text, text, text, numeric, numeric, numeric, numeric, integer, numeric, numeric, integer)',
     'an account''s owner and zvt_admin (checked by the body)'),
    ('place_order(text, text, text, text, numeric, text, numeric, numeric, numeric, text, text, boolean, boolean)',
     'roles that may use the account (checked by the body)'),
    ('cancel_order(bigint)', 'roles that may use the order''s account (checked by the body)'),
    ('_cancel_all(text, text, text)', 'zvt.cancel_all: a ledger call like it'),
    ('cancel_all(text, text, text)', 'roles that may use the account (checked by the body)'),
    ('_portfolio_row(text)', 'zvt.portfolio: a ledger call like it'),
    ('portfolio(text)', 'roles that may use the account (checked by the body)'),

    -- live trading (sql/57_live.sql, src/live/keys.c): ledger calls too
    ('set_api_key(text, text, text, text)', 'an account''s owner only (checked by the body); secrets never come back'),
    ('check_api_key(text)', 'roles that may use the account (checked by the body); returns the public face only'),
    ('_api_key_list()', 'the zvt.api_keys view, for anyone: public columns of the caller''s own accounts'' keys');

CREATE TEMP VIEW public_now AS
SELECT p.proname || '(' || pg_catalog.oidvectortypes(p.proargtypes) || ')' AS fn
  FROM pg_catalog.pg_proc p
 WHERE p.pronamespace = 'zvt'::regnamespace
   AND pg_catalog.has_function_privilege('public', p.oid, 'EXECUTE');

SELECT is_empty($$ SELECT fn FROM public_now EXCEPT SELECT fn FROM reviewed ORDER BY 1 $$,
    'every zvt function PUBLIC may execute was reviewed (review these and add them with their caller)');
SELECT is_empty($$ SELECT fn FROM reviewed EXCEPT SELECT fn FROM public_now ORDER BY 1 $$,
    'every reviewed function is still executable by PUBLIC (take those revoked out of the list)');

-- what must stay revoked: each would let a plain role write the bus
SELECT ok(NOT has_function_privilege('public', 'zvt._bus_forget()', 'EXECUTE'),
          'PUBLIC may not attach zvt._bus_forget to a table');
SELECT ok(NOT has_function_privilege('public',
              'zvt._bus_publish(int4, float8, float8, float8, float8, float8, float8, timestamptz)', 'EXECUTE'),
          'PUBLIC may not publish prices by instrument id');
SELECT ok(NOT has_function_privilege('public',
              'zvt.bus_publish(text, text, float8, float8, float8, float8, float8, float8, timestamptz)', 'EXECUTE'),
          'PUBLIC may not publish prices');

-- the roll-ups' trigger writes the invalidation log as its owner
SELECT ok(NOT has_function_privilege('public', 'zvt._candles_invalidate()', 'EXECUTE'),
          'PUBLIC may not attach zvt._candles_invalidate to a table');

SELECT * FROM finish();
ROLLBACK;
