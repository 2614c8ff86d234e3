-- ===================================================================
-- Order books: the live books in shared memory, and their history
-- ===================================================================

-- The live book (src/book/functions.c): shared memory only, no table read.
CREATE FUNCTION zvt.book(exchange pg_catalog.text, symbol pg_catalog.text,
                         depth pg_catalog.int4 DEFAULT 10)
    RETURNS TABLE (side pg_catalog.text, level pg_catalog.int4,
                   price pg_catalog.numeric, size pg_catalog.numeric)
    LANGUAGE C STRICT VOLATILE
    AS 'MODULE_PATHNAME', 'zvt_book';
COMMENT ON FUNCTION zvt.book(pg_catalog.text, pg_catalog.text, pg_catalog.int4) IS
    'The live order book of a subscribed symbol (channel book) from shared memory: bids best first, then asks, depth levels a side, sizes in base units; no rows before its first snapshot.';

CREATE FUNCTION zvt._books(
        OUT exchange pg_catalog.text, OUT symbol pg_catalog.text, OUT depth pg_catalog.int4,
        OUT live pg_catalog.bool, OUT seq pg_catalog.int8, OUT updated_at pg_catalog.timestamptz,
        OUT updates pg_catalog.int8, OUT level_updates pg_catalog.int8, OUT resyncs pg_catalog.int8,
        OUT bids pg_catalog.int4, OUT asks pg_catalog.int4)
    RETURNS SETOF record
    LANGUAGE C VOLATILE
    AS 'MODULE_PATHNAME', 'zvt_books';
COMMENT ON FUNCTION zvt._books() IS 'Internal: the live books'' state in shared memory.';

CREATE VIEW zvt.books WITH (security_invoker = true) AS
SELECT b.exchange, b.symbol, b.depth, b.live, b.seq, b.updated_at, b.updates, b.level_updates,
       b.resyncs, b.bids, b.asks
  FROM zvt._books() b;
COMMENT ON VIEW zvt.books IS
    'One row per live order book: depth kept, whether it is in step with the exchange (live), the exchange''s last update id applied (seq), when it was last published, messages applied and the levels they set, and resyncs since the feed worker took it, and levels per side.';

-- books are public market data, like zvt.quotes
GRANT SELECT ON zvt.books TO PUBLIC;

CREATE TABLE zvt.book_snapshots (
    ts              pg_catalog.timestamptz NOT NULL,
    instrument_id   pg_catalog.int4 NOT NULL,
    seq             pg_catalog.int8 NOT NULL DEFAULT 0,
    bid_price       pg_catalog.numeric[] NOT NULL,
    bid_size        pg_catalog.numeric[] NOT NULL,
    ask_price       pg_catalog.numeric[] NOT NULL,
    ask_size        pg_catalog.numeric[] NOT NULL,
    UNIQUE (instrument_id, ts)
) PARTITION BY RANGE (ts);
COMMENT ON TABLE zvt.book_snapshots IS
    'The top levels of each live order book every zvt.book_snapshot_interval (hypertable, 1-day chunks): prices best first, sizes in base units, seq the exchange''s last update id. Written by the feed workers; read with zvt.book_at.';
SELECT zvt.create_hypertable('zvt.book_snapshots', 'ts', '1 day');
UPDATE zvt._hypertables SET builtin = true WHERE relid = 'zvt.book_snapshots'::pg_catalog.regclass;

-- its default partition under a fixed name, kept by pg_dump (as trades' in 20_market.sql)
DO $defaults$
DECLARE
    d pg_catalog.regclass;
BEGIN
    SELECT c.chunk INTO STRICT d FROM zvt._chunks('zvt.book_snapshots'::pg_catalog.regclass) c
     WHERE c.is_default;
    EXECUTE pg_catalog.format('ALTER TABLE %s RENAME TO book_snapshots_default', d);
    COMMENT ON TABLE _zvt_chunks.book_snapshots_default IS
        'zvt: default partition of zvt.book_snapshots (rows waiting for their chunk)';
    PERFORM pg_catalog.pg_extension_config_dump('_zvt_chunks.book_snapshots_default', '');
END
$defaults$;

-- market data is for everyone to read; the feed workers (superuser) write it
GRANT SELECT ON zvt.book_snapshots TO PUBLIC;

CREATE FUNCTION zvt.book_at(exchange pg_catalog.text, symbol pg_catalog.text,
                            at pg_catalog.timestamptz, depth pg_catalog.int4 DEFAULT NULL)
    RETURNS TABLE (side pg_catalog.text, level pg_catalog.int4, price pg_catalog.numeric,
                   size pg_catalog.numeric, snapshot_ts pg_catalog.timestamptz)
    LANGUAGE sql STABLE
    SET search_path = pg_catalog, pg_temp
AS $$
    WITH s AS (
        SELECT b.* FROM zvt.book_snapshots b
          JOIN zvt.instruments i ON i.id = b.instrument_id
         WHERE i.exchange = book_at.exchange AND i.symbol = book_at.symbol AND b.ts <= book_at.at
         ORDER BY b.ts DESC
         LIMIT 1)
    SELECT x.side, x.level, x.price, x.size, x.ts FROM (
        SELECT 'bid' AS side, l.n::int4 AS level, l.p AS price, l.q AS size, s.ts
          FROM s, unnest(s.bid_price, s.bid_size) WITH ORDINALITY AS l(p, q, n)
        UNION ALL
        SELECT 'ask', l.n::int4, l.p, l.q, s.ts
          FROM s, unnest(s.ask_price, s.ask_size) WITH ORDINALITY AS l(p, q, n)) x
     WHERE book_at.depth IS NULL OR x.level <= book_at.depth
     ORDER BY x.side = 'ask', x.level
$$;
COMMENT ON FUNCTION zvt.book_at(pg_catalog.text, pg_catalog.text, pg_catalog.timestamptz, pg_catalog.int4) IS
    'The order book as stored at or before a time (the latest zvt.book_snapshots row): bids then asks, best first, with the snapshot''s time; depth NULL gives every level stored.';

CREATE FUNCTION zvt._book_fill_price(instrument_id pg_catalog.int4, side pg_catalog.text,
                                     qty pg_catalog.numeric, limit_price pg_catalog.numeric)
    RETURNS pg_catalog.numeric
    LANGUAGE C VOLATILE
    AS 'MODULE_PATHNAME', 'zvt_book_fill_price';
COMMENT ON FUNCTION zvt._book_fill_price(pg_catalog.int4, pg_catalog.text, pg_catalog.numeric, pg_catalog.numeric) IS
    'Internal: the VWAP a taker of qty pays walking the instrument''s live order book (no level beyond limit_price when given); NULL without a live book.';
-- the paper matcher's (zvt._paper_match, run as zvt's owner); place_order walks the book in C
REVOKE ALL ON FUNCTION zvt._book_fill_price(pg_catalog.int4, pg_catalog.text, pg_catalog.numeric, pg_catalog.numeric) FROM PUBLIC;
