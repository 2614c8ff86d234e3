-- test/pgtap/schema.sql: the objects API.md promises exist with their
-- shapes, comments, privileges and pg_dump registration.
BEGIN;
SELECT plan(82);

SELECT has_schema('zvt');
SELECT has_schema('_zvt_chunks');

-- tables and views
SELECT has_table('zvt', t, 'table zvt.' || t) FROM unnest(ARRAY[
    'exchanges', 'assets', 'instruments', 'subscriptions', 'feed_gaps',
    'trades', 'candles', 'quotes']) t;
SELECT has_view('zvt', v, 'view zvt.' || v) FROM unnest(ARRAY[
    'hypertables', 'trades_v', 'candles_v', 'quotes_v']) v;

-- functions with the argument types of API.md
SELECT has_function('zvt', 'create_hypertable', ARRAY['regclass', 'name', 'interval', 'boolean']);
SELECT has_function('zvt', 'show_chunks', ARRAY['regclass', '"any"', '"any"']);
SELECT has_function('zvt', 'drop_chunks', ARRAY['regclass', '"any"', '"any"']);
SELECT has_function('zvt', 'add_retention_policy', ARRAY['regclass', 'interval', 'boolean']);
SELECT has_function('zvt', 'remove_retention_policy', ARRAY['regclass', 'boolean']);
SELECT has_function('zvt', 'time_bucket', ARRAY['interval', 'timestamp with time zone', 'timestamp with time zone']);
SELECT has_function('zvt', 'subscribe', ARRAY['text', 'text', 'text', 'integer']);
SELECT has_function('zvt', 'unsubscribe', ARRAY['text', 'text', 'text']);
SELECT has_function('zvt', 'ohlcv', ARRAY['text', 'text', 'interval', 'timestamp with time zone', 'timestamp with time zone']);
SELECT ok(EXISTS (SELECT 1 FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
                   WHERE n.nspname = 'zvt' AND p.proname = 'run_maintenance' AND p.prokind = 'p'),
          'run_maintenance is a procedure');
SELECT is(pg_get_function_result('zvt.create_hypertable(regclass,name,interval,boolean)'::regprocedure),
          'zvt.hypertables', 'create_hypertable returns zvt.hypertables');
SELECT is(pg_get_function_result('zvt.subscribe(text,text,text,int4)'::regprocedure),
          'zvt.subscriptions', 'subscribe returns zvt.subscriptions');
SELECT is(pg_get_function_result('zvt.ohlcv(text,text,interval,timestamptz,timestamptz)'::regprocedure),
          'SETOF zvt.candles_v', 'ohlcv returns SETOF zvt.candles_v');
SELECT volatility_is('zvt', 'time_bucket', ARRAY['interval', 'timestamp with time zone', 'timestamp with time zone'], 'immutable');

-- column types of the hypertables
SELECT col_type_is('zvt', 'trades', 'ts', 'timestamp with time zone', 'zvt.trades.ts is timestamp with time zone');
SELECT col_type_is('zvt', 'trades', 'instrument_id', 'integer', 'zvt.trades.instrument_id is integer');
SELECT col_type_is('zvt', 'trades', 'trade_id', 'text', 'zvt.trades.trade_id is text');
SELECT col_type_is('zvt', 'trades', 'price', 'double precision', 'zvt.trades.price is double precision');
SELECT col_type_is('zvt', 'trades', 'qty', 'double precision', 'zvt.trades.qty is double precision');
SELECT col_type_is('zvt', 'trades', 'local_ts', 'timestamp with time zone', 'zvt.trades.local_ts is timestamp with time zone');
SELECT col_type_is('zvt', 'candles', 'timeframe', 'interval', 'zvt.candles.timeframe is interval');
SELECT col_type_is('zvt', 'candles', 'trade_count', 'bigint', 'zvt.candles.trade_count is bigint');
SELECT col_type_is('zvt', 'candles', 'closed', 'boolean', 'zvt.candles.closed is boolean');
SELECT col_type_is('zvt', 'quotes', 'seq', 'bigint', 'zvt.quotes.seq is bigint');
SELECT col_type_is('zvt', 'instruments', 'tick_size', 'numeric', 'zvt.instruments.tick_size is numeric');
SELECT col_is_pk('zvt', 'instruments', 'id', 'instruments are keyed on id');

-- natural keys
SELECT col_is_unique('zvt', 'trades', ARRAY['instrument_id', 'trade_id', 'ts'], 'natural key of zvt.trades');
SELECT col_is_unique('zvt', 'candles', ARRAY['instrument_id', 'timeframe', 'source', 'ts'], 'natural key of zvt.candles');
SELECT col_is_unique('zvt', 'quotes', ARRAY['instrument_id', 'ts', 'seq'], 'natural key of zvt.quotes');
SELECT col_is_unique('zvt', 'instruments', ARRAY['exchange', 'symbol'], 'natural key of zvt.instruments');

-- hypertables with the default chunk intervals of API.md
SELECT results_eq(
    $$SELECT relation::text, chunk_interval FROM zvt.hypertables ORDER BY 1$$,
    $$VALUES ('zvt.book_snapshots', interval '1 day'), ('zvt.candles', interval '30 days'),
             ('zvt.funding', interval '1 day'), ('zvt.quotes', interval '1 day'),
             ('zvt.trades', interval '1 day')$$,
    'built-in hypertables and their chunk intervals');
SELECT is((SELECT count(*)::int FROM pg_partitioned_table p
            WHERE p.partrelid IN ('zvt.trades'::regclass, 'zvt.candles'::regclass, 'zvt.quotes'::regclass)
              AND p.partstrat = 'r'),
          3, 'trades, candles and quotes are range-partitioned');

-- indexes for "latest N" and "a range" per instrument
SELECT has_index('zvt', 'trades', 'trades_instrument_ts_idx', ARRAY['instrument_id', 'ts'], 'trades are indexed by instrument and time');

-- every view is security_invoker
SELECT is((SELECT count(*)::int FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE n.nspname = 'zvt' AND c.relkind = 'v'
              AND NOT coalesce(c.reloptions @> ARRAY['security_invoker=true'], false)),
          0, 'no view runs with its owner''s rights');

-- every user-facing object carries a comment
SELECT is((SELECT string_agg(c.relname, ', ') FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE n.nspname = 'zvt' AND c.relkind IN ('r', 'p', 'v')
              AND obj_description(c.oid, 'pg_class') IS NULL),
          NULL, 'every table and view has a comment');
SELECT is((SELECT string_agg(p.proname, ', ') FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
            WHERE n.nspname = 'zvt' AND obj_description(p.oid, 'pg_proc') IS NULL),
          NULL, 'every function has a comment');

-- trading (API.md, Trading)
SELECT has_table('zvt', t, 'table zvt.' || t) FROM unnest(ARRAY[
    'accounts', 'orders', 'order_events', 'fills', 'balances', 'risk_limits']) t;
SELECT has_view('zvt', 'positions', 'view zvt.positions');
SELECT has_function('zvt', 'create_account', 'zvt.create_account exists');
SELECT has_function('zvt', 'place_order', ARRAY['text', 'text', 'text', 'text', 'numeric', 'text', 'numeric',
                    'numeric', 'numeric', 'text', 'text', 'boolean', 'boolean']);
SELECT has_function('zvt', 'cancel_order', ARRAY['bigint']);
SELECT has_function('zvt', 'cancel_all', ARRAY['text', 'text', 'text']);
SELECT has_function('zvt', 'portfolio', ARRAY['text']);
SELECT has_function('zvt', 'set_risk_limits', ARRAY['text', 'text', 'text', 'numeric', 'numeric', 'numeric',
                    'numeric', 'integer', 'numeric', 'numeric', 'integer']);
SELECT has_function('zvt', 'set_trading_state', ARRAY['text', 'text']);
SELECT is(pg_get_function_result('zvt.place_order(text,text,text,text,numeric,text,numeric,numeric,numeric,text,text,boolean,boolean)'::regprocedure),
          'zvt.orders', 'place_order returns zvt.orders');
SELECT ok((SELECT extconfig @> ARRAY['zvt.accounts'::regclass::oid, 'zvt.orders'::regclass::oid,
                                     'zvt.order_events'::regclass::oid, 'zvt.fills'::regclass::oid,
                                     'zvt.balances'::regclass::oid, 'zvt.holdings'::regclass::oid,
                                     'zvt.risk_limits'::regclass::oid]
             FROM pg_extension WHERE extname = 'zvt'),
          'the ledger is registered with pg_extension_config_dump');

-- pg_dump keeps user data
SELECT ok((SELECT extconfig @> ARRAY['zvt.instruments'::regclass::oid, 'zvt.subscriptions'::regclass::oid,
                                     'zvt.feed_gaps'::regclass::oid, 'zvt.assets'::regclass::oid,
                                     'zvt._hypertables'::regclass::oid, 'zvt.exchanges'::regclass::oid]
             FROM pg_extension WHERE extname = 'zvt'),
          'user-data tables are registered with pg_extension_config_dump');

-- market data is readable by everyone, writable by nobody but zvt
SELECT table_privs_are('zvt', 'trades', 'public', ARRAY['SELECT']);
SELECT table_privs_are('zvt', 'candles', 'public', ARRAY['SELECT']);
SELECT table_privs_are('zvt', 'quotes', 'public', ARRAY['SELECT']);
SELECT table_privs_are('zvt', 'subscriptions', 'public', ARRAY['SELECT']);
SELECT ok(NOT has_schema_privilege('public', '_zvt_chunks', 'CREATE'),
          'nobody but zvt creates tables in _zvt_chunks');

-- the seeded endpoints are scheme://host:port bases
SELECT is((SELECT count(*)::int FROM zvt.exchanges
            WHERE ws_url ~ '^wss://[a-z.-]+:[0-9]+$' AND rest_url ~ '^https://[a-z.-]+:[0-9]+$'),
          4, 'four exchanges with wss and https bases');

-- the event trigger that forgets dropped hypertables
SELECT ok(EXISTS (SELECT 1 FROM pg_event_trigger WHERE evtname = 'zvt_sql_drop' AND evtenabled = 'O'),
          'sql_drop event trigger is enabled');

-- feeds and the market bus
SELECT has_view('zvt', 'feed_status', 'view zvt.feed_status');
SELECT has_view('zvt', 'tickers', 'view zvt.tickers');
SELECT has_function('zvt', 'sync_instruments', ARRAY['text']);
SELECT has_function('zvt', 'last_price', ARRAY['text', 'text']);
SELECT function_returns('zvt', 'last_price', ARRAY['text', 'text'], 'double precision');
SELECT ok(NOT has_function_privilege('public', 'zvt.bus_publish(text,text,float8,float8,float8,float8,float8,float8,timestamptz)', 'EXECUTE'),
          'ordinary roles cannot publish prices');
SELECT ok(NOT has_function_privilege('public', 'zvt.sync_instruments(text)', 'EXECUTE'),
          'ordinary roles cannot sync instruments');
SELECT is((SELECT c.collname::text FROM pg_attribute a JOIN pg_collation c ON c.oid = a.attcollation
            WHERE a.attrelid = 'zvt.trades'::regclass AND a.attname = 'trade_id'),
          'C', 'trade ids compare as bytes');

SELECT * FROM finish();
ROLLBACK;
