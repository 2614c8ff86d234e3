-- ===================================================================
-- Market data: exchanges, instruments, and the trades / candles /
-- quotes hypertables with their friendly views
-- ===================================================================
--
-- Market data is float8 (analytics speed) and keyed on a small integer
-- instrument id; every unique key includes instrument_id and ts, so the
-- tables can later be distributed on instrument_id.  There is no foreign
-- key from the hypertables to zvt.instruments: the feed workers resolve
-- ids before writing, and a per-row check would cost the ingest path.

CREATE TABLE zvt.exchanges (
    name        pg_catalog.text PRIMARY KEY,
    ws_url      pg_catalog.text NOT NULL CHECK (ws_url ~ '^wss?://[^/]+$'),
    rest_url    pg_catalog.text NOT NULL CHECK (rest_url ~ '^https?://[^/]+$'),
    enabled     pg_catalog.bool NOT NULL DEFAULT true,
    -- Binance USD-M perpetuals live on other hosts (fstream, fapi); NULL: none
    futures_ws_url   pg_catalog.text CHECK (futures_ws_url ~ '^wss?://[^/]+$'),
    futures_rest_url pg_catalog.text CHECK (futures_rest_url ~ '^https?://[^/]+$')
);
COMMENT ON TABLE zvt.exchanges IS
    'Exchanges zvt connects to. ws_url and rest_url are scheme://host:port bases; each adapter appends its exchange''s real paths, so pointing them at the simulator changes nothing else. futures_ws_url and futures_rest_url are the bases of an exchange whose perpetuals are served elsewhere (Binance USD-M futures).';
INSERT INTO zvt.exchanges (name, ws_url, rest_url, futures_ws_url, futures_rest_url) VALUES
    ('binance',  'wss://stream.binance.com:9443',          'https://api.binance.com:443',
     'wss://fstream.binance.com:443', 'https://fapi.binance.com:443');
INSERT INTO zvt.exchanges (name, ws_url, rest_url) VALUES
    ('bybit',    'wss://stream.bybit.com:443',             'https://api.bybit.com:443'),
    ('okx',      'wss://ws.okx.com:8443',                  'https://www.okx.com:443'),
    ('coinbase', 'wss://advanced-trade-ws.coinbase.com:443', 'https://api.coinbase.com:443');
-- pg_dump keeps exchanges a user added; the seeded four come with the extension
SELECT pg_catalog.pg_extension_config_dump('zvt.exchanges',
    $$WHERE name NOT IN ('binance', 'bybit', 'okx', 'coinbase')$$);

CREATE TABLE zvt.assets (
    symbol      pg_catalog.text PRIMARY KEY,
    name        pg_catalog.text,
    market_cap  pg_catalog.numeric,
    max_supply  pg_catalog.numeric
);
COMMENT ON TABLE zvt.assets IS 'Assets (BTC, USDT, ...) with reference data.';
SELECT pg_catalog.pg_extension_config_dump('zvt.assets', '');

CREATE TABLE zvt.instruments (
    id              pg_catalog.int4 GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    exchange        pg_catalog.text NOT NULL REFERENCES zvt.exchanges (name) ON UPDATE CASCADE,
    symbol          pg_catalog.text NOT NULL,
    raw_symbol      pg_catalog.text NOT NULL,
    base            pg_catalog.text NOT NULL,
    quote           pg_catalog.text NOT NULL,
    kind            pg_catalog.text NOT NULL CHECK (kind IN ('spot', 'perp')),
    tick_size       pg_catalog.numeric CHECK (tick_size > 0),
    lot_size        pg_catalog.numeric CHECK (lot_size > 0),
    min_notional    pg_catalog.numeric CHECK (min_notional >= 0),
    contract_size   pg_catalog.numeric CHECK (contract_size > 0),
    status          pg_catalog.text NOT NULL DEFAULT 'trading',
    updated_at      pg_catalog.timestamptz NOT NULL DEFAULT pg_catalog.now(),
    UNIQUE (exchange, symbol),
    -- 'BTC-USDT' spot, 'BTC-USDT-PERP' perpetual
    CHECK (symbol = base || '-' || quote || CASE WHEN kind = 'perp' THEN '-PERP' ELSE '' END)
);
COMMENT ON TABLE zvt.instruments IS
    'Instruments per exchange under normalized names (BTC-USDT spot, BTC-USDT-PERP perpetual) with the exchange''s raw symbol and trading rules.';
SELECT pg_catalog.pg_extension_config_dump('zvt.instruments', '');
SELECT pg_catalog.pg_extension_config_dump('zvt.instruments_id_seq', '');

-- -------------------------------------------------------------------
-- Hypertables.  ts is the exchange's event time, local_ts when zvt
-- received it.
-- -------------------------------------------------------------------

CREATE TABLE zvt.trades (
    ts              pg_catalog.timestamptz NOT NULL,
    instrument_id   pg_catalog.int4 NOT NULL,
    trade_id        pg_catalog.text COLLATE "C" NOT NULL,  -- byte order: a key, not prose
    price           pg_catalog.float8 NOT NULL CHECK (price > 0),
    qty             pg_catalog.float8 NOT NULL CHECK (qty > 0),
    side            pg_catalog.text NOT NULL CHECK (side IN ('buy', 'sell')),
    local_ts        pg_catalog.timestamptz NOT NULL DEFAULT pg_catalog.now(),
    UNIQUE (instrument_id, trade_id, ts)
) PARTITION BY RANGE (ts);
COMMENT ON TABLE zvt.trades IS
    'Trades (hypertable, 1-day chunks). qty in base units; side is the taker''s. Idempotent write: INSERT ... ON CONFLICT (instrument_id, trade_id, ts) DO NOTHING.';
-- "latest N trades of a symbol" and "a time range of a symbol"
CREATE INDEX trades_instrument_ts_idx ON zvt.trades (instrument_id, ts DESC);
SELECT zvt.create_hypertable('zvt.trades', 'ts', '1 day');

CREATE TABLE zvt.candles (
    ts              pg_catalog.timestamptz NOT NULL,
    instrument_id   pg_catalog.int4 NOT NULL,
    timeframe       pg_catalog.interval NOT NULL CHECK (timeframe > interval '0'),
    open            pg_catalog.float8 NOT NULL,
    high            pg_catalog.float8 NOT NULL,
    low             pg_catalog.float8 NOT NULL,
    close           pg_catalog.float8 NOT NULL,
    volume          pg_catalog.float8 NOT NULL DEFAULT 0,
    quote_volume    pg_catalog.float8,
    trade_count     pg_catalog.int8,
    closed          pg_catalog.bool NOT NULL DEFAULT false,
    source          pg_catalog.text NOT NULL DEFAULT 'exchange'
                    CHECK (source IN ('exchange', 'trades')),
    local_ts        pg_catalog.timestamptz NOT NULL DEFAULT pg_catalog.now(),
    CHECK (low <= high),
    UNIQUE (instrument_id, timeframe, source, ts)
) PARTITION BY RANGE (ts);
COMMENT ON TABLE zvt.candles IS
    'OHLCV candles (hypertable, 30-day chunks); ts is the bucket''s open time, volume in base units. source ''exchange'' = the exchange''s klines, ''trades'' = built by zvt from stored trades. Idempotent write: INSERT ... ON CONFLICT (instrument_id, timeframe, source, ts) DO UPDATE.';
SELECT zvt.create_hypertable('zvt.candles', 'ts', '30 days');

CREATE TABLE zvt.quotes (
    ts              pg_catalog.timestamptz NOT NULL,
    instrument_id   pg_catalog.int4 NOT NULL,
    seq             pg_catalog.int8 NOT NULL DEFAULT 0,
    bid             pg_catalog.float8,
    bid_qty         pg_catalog.float8,
    ask             pg_catalog.float8,
    ask_qty         pg_catalog.float8,
    local_ts        pg_catalog.timestamptz NOT NULL DEFAULT pg_catalog.now(),
    UNIQUE (instrument_id, ts, seq)
) PARTITION BY RANGE (ts);
COMMENT ON TABLE zvt.quotes IS
    'Best bid and ask (hypertable, 1-day chunks); seq is the exchange''s update id where it has one. Idempotent write: INSERT ... ON CONFLICT (instrument_id, ts, seq) DO NOTHING.';
SELECT zvt.create_hypertable('zvt.quotes', 'ts', '1 day');

UPDATE zvt._hypertables SET builtin = true
 WHERE relid IN ('zvt.trades'::pg_catalog.regclass, 'zvt.candles'::pg_catalog.regclass,
                 'zvt.quotes'::pg_catalog.regclass);

-- The default partitions of these three are created by this script, so
-- they are extension members, which pg_dump leaves out with their rows
-- (those maintenance has not yet moved into chunks, and those at
-- +-infinity).  Under fixed names (the other chunks are named after the
-- hypertable's OID, which a restore changes) they are configuration tables
-- whose rows pg_dump keeps and pg_restore loads into the new extension's.
DO $defaults$
DECLARE
    t pg_catalog.text;
    d pg_catalog.regclass;
BEGIN
    FOREACH t IN ARRAY ARRAY['trades', 'candles', 'quotes']
    LOOP
        SELECT c.chunk INTO STRICT d FROM zvt._chunks(('zvt.' || t)::pg_catalog.regclass) c
         WHERE c.is_default;
        EXECUTE pg_catalog.format('ALTER TABLE %s RENAME TO %I', d, t || '_default');
        EXECUTE pg_catalog.format('COMMENT ON TABLE _zvt_chunks.%I IS %L', t || '_default',
            pg_catalog.format('zvt: default partition of zvt.%s (rows waiting for their chunk)', t));
        PERFORM pg_catalog.pg_extension_config_dump('_zvt_chunks.' || t || '_default', '');
    END LOOP;
END
$defaults$;

-- -------------------------------------------------------------------
-- Views with exchange and symbol joined in
-- -------------------------------------------------------------------

CREATE VIEW zvt.trades_v WITH (security_invoker = true) AS
SELECT t.ts, i.exchange, i.symbol, t.instrument_id, t.trade_id, t.price, t.qty,
       t.side, t.local_ts
  FROM zvt.trades t
  JOIN zvt.instruments i ON i.id = t.instrument_id;
COMMENT ON VIEW zvt.trades_v IS 'zvt.trades with exchange and symbol.';

CREATE VIEW zvt.candles_v WITH (security_invoker = true) AS
SELECT c.ts, i.exchange, i.symbol, c.instrument_id, c.timeframe, c.open, c.high,
       c.low, c.close, c.volume, c.quote_volume, c.trade_count, c.closed,
       c.source, c.local_ts
  FROM zvt.candles c
  JOIN zvt.instruments i ON i.id = c.instrument_id;
COMMENT ON VIEW zvt.candles_v IS 'zvt.candles with exchange and symbol.';

CREATE VIEW zvt.quotes_v WITH (security_invoker = true) AS
SELECT q.ts, i.exchange, i.symbol, q.instrument_id, q.seq, q.bid, q.bid_qty,
       q.ask, q.ask_qty, q.local_ts
  FROM zvt.quotes q
  JOIN zvt.instruments i ON i.id = q.instrument_id;
COMMENT ON VIEW zvt.quotes_v IS 'zvt.quotes with exchange and symbol.';

-- market data is for everyone to read; zvt's workers (superuser) write it
GRANT SELECT ON zvt.exchanges, zvt.assets, zvt.instruments,
                zvt.trades, zvt.candles, zvt.quotes,
                zvt.trades_v, zvt.candles_v, zvt.quotes_v TO PUBLIC;

-- -------------------------------------------------------------------
-- ohlcv: candles of any timeframe rolled up from stored 1m candles
-- -------------------------------------------------------------------

-- 42704 unless the exchange is in zvt.exchanges.
CREATE FUNCTION zvt._check_exchange(exchange pg_catalog.text) RETURNS void
    LANGUAGE plpgsql STABLE
    SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM zvt.exchanges e WHERE e.name = exchange) THEN
        RAISE EXCEPTION 'unknown exchange "%"', exchange
            USING ERRCODE = '42704',
                  HINT = (SELECT 'Known exchanges: ' || string_agg(e.name, ', ' ORDER BY e.name)
                            FROM zvt.exchanges e);
    END IF;
END;
$$;
COMMENT ON FUNCTION zvt._check_exchange(pg_catalog.text) IS
    'Internal: raise 42704 naming the known exchanges unless exchange is one of them.';

-- Instrument id of (exchange, symbol), or 42704 naming what is unknown.
CREATE FUNCTION zvt._instrument_id(exchange pg_catalog.text, symbol pg_catalog.text)
    RETURNS pg_catalog.int4
    LANGUAGE plpgsql STABLE
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    iid int;
BEGIN
    PERFORM zvt._check_exchange(exchange);
    SELECT i.id INTO iid FROM zvt.instruments i
     WHERE i.exchange = _instrument_id.exchange AND i.symbol = _instrument_id.symbol;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'unknown symbol "%" on exchange "%"', symbol, exchange
            USING ERRCODE = '42704',
                  HINT = 'Symbols are normalized, such as BTC-USDT or BTC-USDT-PERP; zvt.instruments lists them.';
    END IF;
    RETURN iid;
END;
$$;
COMMENT ON FUNCTION zvt._instrument_id(pg_catalog.text, pg_catalog.text) IS
    'Internal: instrument id of a normalized symbol on an exchange, or 42704.';

-- zvt.ohlcv is defined with the candle roll-ups it reads, in sql/22_rollups.sql.
