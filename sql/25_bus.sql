-- ===================================================================
-- The market bus: each instrument's last trade and best bid/ask in
-- shared memory (src/bus/bus.c), readable without touching a table.
-- An instrument id here is zvt.instruments.id of this database and this
-- installation: the bus keys entries by database and by the oid of
-- zvt.instruments, so no other database and no earlier installation of
-- zvt ever sees them.
-- ===================================================================

CREATE FUNCTION zvt._last_price(instrument_id pg_catalog.int4) RETURNS pg_catalog.float8
    LANGUAGE C STRICT VOLATILE PARALLEL RESTRICTED
    AS 'MODULE_PATHNAME', 'zvt_last_price';
COMMENT ON FUNCTION zvt._last_price(pg_catalog.int4) IS
    'Internal: the bus''s last trade price of an instrument id, NULL before any.';
-- prices are public data (zvt.tickers, zvt.last_price): anyone may read them

CREATE FUNCTION zvt._bus_entries(
        OUT instrument_id pg_catalog.int4, OUT last pg_catalog.float8, OUT last_qty pg_catalog.float8,
        OUT last_ts pg_catalog.timestamptz, OUT bid pg_catalog.float8, OUT bid_qty pg_catalog.float8,
        OUT ask pg_catalog.float8, OUT ask_qty pg_catalog.float8, OUT quote_ts pg_catalog.timestamptz,
        OUT updates pg_catalog.int8)
    RETURNS SETOF record
    LANGUAGE C VOLATILE PARALLEL RESTRICTED
    AS 'MODULE_PATHNAME', 'zvt_bus_entries';
COMMENT ON FUNCTION zvt._bus_entries() IS 'Internal: every instrument of this database on the market bus.';
-- read by zvt.tickers, a security_invoker view granted to PUBLIC

CREATE FUNCTION zvt.last_price(exchange pg_catalog.text, symbol pg_catalog.text)
    RETURNS pg_catalog.float8
    LANGUAGE sql VOLATILE
    SET search_path = pg_catalog, pg_temp
    AS $$ SELECT zvt._last_price(zvt._instrument_id(exchange, symbol)) $$;
COMMENT ON FUNCTION zvt.last_price(pg_catalog.text, pg_catalog.text) IS
    'Price of the latest trade of a symbol seen by its feed, from shared memory; NULL before any.';
GRANT EXECUTE ON FUNCTION zvt.last_price(pg_catalog.text, pg_catalog.text) TO PUBLIC;

CREATE VIEW zvt.tickers WITH (security_invoker = true) AS
SELECT i.exchange, i.symbol, b.last, b.last_qty, b.last_ts, b.bid, b.bid_qty, b.ask, b.ask_qty,
       b.quote_ts, b.updates
  FROM zvt._bus_entries() b
  JOIN zvt.instruments i ON i.id = b.instrument_id;
COMMENT ON VIEW zvt.tickers IS
    'Latest trade and best bid/ask of every instrument on the market bus (shared memory).';
GRANT SELECT ON zvt.tickers TO PUBLIC;

CREATE FUNCTION zvt._bus_publish(instrument_id pg_catalog.int4, price pg_catalog.float8,
        qty pg_catalog.float8, bid pg_catalog.float8, bid_qty pg_catalog.float8,
        ask pg_catalog.float8, ask_qty pg_catalog.float8, ts pg_catalog.timestamptz)
    RETURNS void
    LANGUAGE C VOLATILE
    AS 'MODULE_PATHNAME', 'zvt_bus_publish';
COMMENT ON FUNCTION zvt._bus_publish(pg_catalog.int4, pg_catalog.float8, pg_catalog.float8, pg_catalog.float8,
        pg_catalog.float8, pg_catalog.float8, pg_catalog.float8, pg_catalog.timestamptz) IS
    'Internal: put a trade and/or quote of an instrument id on the bus.';
REVOKE ALL ON FUNCTION zvt._bus_publish(pg_catalog.int4, pg_catalog.float8, pg_catalog.float8, pg_catalog.float8,
        pg_catalog.float8, pg_catalog.float8, pg_catalog.float8, pg_catalog.timestamptz) FROM PUBLIC;

CREATE FUNCTION zvt.bus_publish(exchange pg_catalog.text, symbol pg_catalog.text,
        price pg_catalog.float8 DEFAULT NULL, qty pg_catalog.float8 DEFAULT NULL,
        bid pg_catalog.float8 DEFAULT NULL, bid_qty pg_catalog.float8 DEFAULT NULL,
        ask pg_catalog.float8 DEFAULT NULL, ask_qty pg_catalog.float8 DEFAULT NULL,
        ts pg_catalog.timestamptz DEFAULT NULL)
    RETURNS void
    LANGUAGE sql VOLATILE
    SET search_path = pg_catalog, pg_temp
    AS $$ SELECT zvt._bus_publish(zvt._instrument_id(exchange, symbol), price, qty, bid, bid_qty,
                                  ask, ask_qty, ts) $$;
COMMENT ON FUNCTION zvt.bus_publish(pg_catalog.text, pg_catalog.text, pg_catalog.float8, pg_catalog.float8,
        pg_catalog.float8, pg_catalog.float8, pg_catalog.float8, pg_catalog.float8, pg_catalog.timestamptz) IS
    'Put a trade (price, qty) and/or a best bid/ask on the market bus as a feed would: the documented way for tests and offline work to feed prices. ts defaults to now.';
-- prices on the bus move paper orders: only trusted roles may publish
REVOKE ALL ON FUNCTION zvt.bus_publish(pg_catalog.text, pg_catalog.text, pg_catalog.float8, pg_catalog.float8,
        pg_catalog.float8, pg_catalog.float8, pg_catalog.float8, pg_catalog.float8, pg_catalog.timestamptz) FROM PUBLIC;

CREATE FUNCTION zvt._bus_counters(OUT generation pg_catalog.int8, OUT subscriptions pg_catalog.int8)
    RETURNS record
    LANGUAGE C VOLATILE
    AS 'MODULE_PATHNAME', 'zvt_bus_counters';
COMMENT ON FUNCTION zvt._bus_counters() IS
    'Internal: how often prices and committed subscriptions changed since server start.';
-- two counters, no prices: anyone may read them (tests and monitoring do)

-- an instrument that is deleted leaves the bus when the DELETE commits;
-- the function refuses to act as a trigger of any other table
CREATE FUNCTION zvt._bus_forget() RETURNS trigger
    LANGUAGE C
    AS 'MODULE_PATHNAME', 'zvt_bus_forget_trigger';
COMMENT ON FUNCTION zvt._bus_forget() IS
    'Internal: the trigger of zvt.instruments that removes deleted instruments from the market bus at commit.';
-- only zvt.instruments' own triggers use it: nobody may attach it elsewhere
REVOKE ALL ON FUNCTION zvt._bus_forget() FROM PUBLIC;
CREATE TRIGGER instruments_leave_bus AFTER DELETE ON zvt.instruments
    FOR EACH ROW EXECUTE FUNCTION zvt._bus_forget();
COMMENT ON TRIGGER instruments_leave_bus ON zvt.instruments IS
    'A deleted instrument leaves the market bus when the DELETE commits (its id may come back).';
