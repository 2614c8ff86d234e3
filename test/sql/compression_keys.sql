--
-- compression_keys: the indexes of compressed chunks hold entries for late
-- rows only (src/compress/keys.c), the planner never uses them
-- (src/compress/plan.c), and unique keys stay exact: a key equal to a
-- compressed row's is 23505, skipped by ON CONFLICT DO NOTHING and
-- updated in place by DO UPDATE, whatever the way in (INSERT, COPY,
-- UPDATE)
--
\set SHOW_CONTEXT never
SET TimeZone = 'UTC';
SET client_min_messages = warning;

-- a statement that must fail: its SQLSTATE and message, chunk names
-- without their hypertable's OID
CREATE FUNCTION ck_try(q text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE st text; msg text;
BEGIN
    EXECUTE q;
    RETURN 'no error';
EXCEPTION WHEN OTHERS THEN
    GET STACKED DIAGNOSTICS st = RETURNED_SQLSTATE, msg = MESSAGE_TEXT;
    RETURN regexp_replace(st || ': ' || msg, '_hyper_[0-9]+_', '_hyper_N_', 'g');
END $$;

-- every row's text, hashed, and the count
CREATE FUNCTION ck_sum(q text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE h text;
BEGIN
    EXECUTE format('SELECT md5(string_agg(t::text, E''\n'' ORDER BY t::text COLLATE "C")) || '' '' || count(*) FROM (%s) t', q)
       INTO h;
    RETURN h;
END $$;

-- a plan without costs, chunk names without their hypertable's OID
CREATE FUNCTION ck_explain(q text) RETURNS SETOF text LANGUAGE plpgsql AS $$
DECLARE l text;
BEGIN
    FOR l IN EXECUTE 'EXPLAIN (COSTS OFF) ' || q LOOP
        RETURN NEXT regexp_replace(l, '_hyper_[0-9]+_', '_hyper_N_', 'g');
    END LOOP;
END $$;

-- the indexes of a chunk: name (without the OID) and whether they are
-- at most two pages (a metapage and a root)
CREATE FUNCTION ck_indexes(c regclass) RETURNS TABLE (index text, small bool) LANGUAGE sql AS $$
    SELECT regexp_replace(i.relname, '_hyper_[0-9]+_', '_hyper_N_'), pg_relation_size(i.oid) <= 16384
      FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid
     WHERE x.indrelid = c ORDER BY 1 $$;

-- ===================================================================
-- Trades of three instruments over a day, the way zvt.trades keys them
-- ===================================================================
CREATE TABLE ck_trades (
    ts          timestamptz NOT NULL,
    instrument  int4 NOT NULL,
    trade_id    text COLLATE "C" NOT NULL,
    price       float8 NOT NULL,
    UNIQUE (instrument, trade_id, ts));
CREATE INDEX ON ck_trades (instrument, ts DESC);
SELECT relation FROM zvt.create_hypertable('ck_trades', 'ts', '1 day');
SELECT count(zvt._ensure_chunk('ck_trades', d))
  FROM (VALUES (timestamptz '2004-03-01'), ('2004-03-02')) v(d);
INSERT INTO ck_trades
SELECT timestamptz '2004-03-01' + i * interval '10 seconds', i % 3, (1000000 + i)::text, 100 + i % 17
  FROM generate_series(0, 8639) i;
INSERT INTO ck_trades VALUES ('2004-03-02 00:00', 0, 'next day', 1);
SELECT format('%s', c) AS ck_chunk FROM zvt.show_chunks('ck_trades') c
 WHERE c::text LIKE '%p20040301' \gset
CREATE TEMP TABLE ck_before AS SELECT ck_sum('SELECT * FROM ck_trades') AS h;

-- before: every row has its entries
SELECT * FROM ck_indexes(:'ck_chunk');
SELECT count(zvt.compress_chunk(:'ck_chunk'));

-- after: the indexes are empty, the rows all there
SELECT * FROM ck_indexes(:'ck_chunk');
SELECT ck_sum('SELECT * FROM ck_trades') = h AS same_rows FROM ck_before;
-- the chunk's row count stays the planner's (the index build counts every row)
SELECT reltuples FROM pg_class WHERE oid = :'ck_chunk'::regclass;

-- the planner does not use a compressed chunk's indexes, an
-- uncompressed chunk's it does
SET enable_seqscan = off;
SELECT ck_explain($$SELECT * FROM ck_trades WHERE instrument = 1 AND ts = '2004-03-01 00:00:10'$$);
SELECT ck_explain($$SELECT * FROM ck_trades WHERE instrument = 0 AND ts >= '2004-03-01 23:00'
                                         AND ts < '2004-03-03'$$);
SELECT ck_explain($$SELECT 1 FROM ck_trades WHERE instrument = 2 AND trade_id = '1000002'
                                         AND ts = '2004-03-01 00:00:20'$$);
SELECT ck_explain($$SELECT max(ts) FROM ck_trades WHERE ts < '2004-03-02'$$);
RESET enable_seqscan;
SELECT * FROM ck_trades WHERE instrument = 1 AND ts = '2004-03-01 00:00:10';

-- ===================================================================
-- Keys stay exact
-- ===================================================================
-- a duplicate of a compressed row: 23505 by INSERT, COPY and UPDATE
SELECT ck_try($$INSERT INTO ck_trades VALUES ('2004-03-01 00:00:10', 1, '1000001', 5)$$);
SELECT ck_try($$INSERT INTO ck_trades VALUES ('2004-03-01 23:59:50', 2, '1008639', 5)$$);
SELECT ck_try(format($$COPY %s FROM PROGRAM 'printf "2004-03-01 12:00:00+00\t0\t1004320\t1\n"'$$, 'ck_trades'));
INSERT INTO ck_trades VALUES ('2004-03-01 12:00:00', 0, 'late', 7);
SELECT ck_try($$UPDATE ck_trades SET trade_id = '1004320' WHERE trade_id = 'late'$$);
-- a compressed row updated onto another compressed row's key
SELECT ck_try($$UPDATE ck_trades SET ts = '2004-03-01 00:00:30', trade_id = '1000003' WHERE trade_id = '1000000'$$);
-- not a duplicate: another instrument, another time, another id
INSERT INTO ck_trades VALUES ('2004-03-01 00:00:10', 2, '1000001', 5), ('2004-03-01 00:00:11', 1, '1000001', 5),
                             ('2004-03-01 00:00:10', 1, '1000001x', 5);

-- ON CONFLICT DO NOTHING skips it, DO UPDATE updates the compressed row
INSERT INTO ck_trades VALUES ('2004-03-01 00:00:10', 1, '1000001', 5) ON CONFLICT DO NOTHING;
INSERT INTO ck_trades VALUES ('2004-03-01 00:00:20', 2, '1000002', 5)
    ON CONFLICT (instrument, trade_id, ts) DO UPDATE SET price = ck_trades.price + excluded.price
    RETURNING *;
SELECT * FROM ck_trades WHERE instrument = 2 AND ts = '2004-03-01 00:00:20';
-- and the updated row's key is taken by its new version
SELECT ck_try($$INSERT INTO ck_trades VALUES ('2004-03-01 00:00:20', 2, '1000002', 5)$$);
-- a deleted compressed row frees its key
DELETE FROM ck_trades WHERE trade_id = '1000004';
INSERT INTO ck_trades VALUES ('2004-03-01 00:00:40', 1, '1000004', 44);
SELECT ck_try($$INSERT INTO ck_trades VALUES ('2004-03-01 00:00:40', 1, '1000004', 45)$$);
-- an UPDATE that keeps the key of the compressed row it updates
UPDATE ck_trades SET price = 1 WHERE trade_id = '1000005';
SELECT ts, instrument, trade_id, price FROM ck_trades WHERE trade_id = '1000005';

-- repeated conflicts with one compressed row give it one index entry
DO $$
BEGIN
    FOR i IN 1..600 LOOP
        INSERT INTO ck_trades VALUES ('2004-03-01 00:00:50', 2, '1000005', 5) ON CONFLICT DO NOTHING;
    END LOOP;
END $$;
SELECT * FROM ck_indexes(:'ck_chunk');

-- every key once
SELECT count(*) AS rows, count(DISTINCT (instrument, trade_id, ts)) AS keys FROM ck_trades;

-- REINDEX and compressing again keep the indexes empty and the keys exact
REINDEX TABLE :ck_chunk;
SELECT * FROM ck_indexes(:'ck_chunk');
SELECT ck_try($$INSERT INTO ck_trades VALUES ('2004-03-01 00:00:20', 2, '1000002', 5)$$);
SELECT count(zvt.compress_chunk(:'ck_chunk'));
SELECT * FROM ck_indexes(:'ck_chunk');
SELECT ck_try($$INSERT INTO ck_trades VALUES ('2004-03-01 00:00:40', 1, '1000004', 45)$$);
INSERT INTO ck_trades VALUES ('2004-03-01 00:00:40', 1, '1000004', 45) ON CONFLICT DO NOTHING;
SELECT count(*) AS rows, count(DISTINCT (instrument, trade_id, ts)) AS keys FROM ck_trades;

-- decompressing brings every row and entry back
CREATE TEMP TABLE ck_mid AS SELECT ck_sum('SELECT * FROM ck_trades') AS h;
SELECT count(zvt.decompress_chunk(:'ck_chunk'));
SELECT * FROM ck_indexes(:'ck_chunk');
SELECT ck_sum('SELECT * FROM ck_trades') = h AS same_rows FROM ck_mid;
SELECT ck_try($$INSERT INTO ck_trades VALUES ('2004-03-01 00:00:40', 1, '1000004', 45)$$);

-- ===================================================================
-- Unique indexes the probe cannot serve keep every row's entry
-- ===================================================================
CREATE TABLE ck_other (
    ts      timestamptz NOT NULL,
    code    text NOT NULL,
    k       int4,
    CONSTRAINT ck_other_code UNIQUE (code, ts),     -- ts filters batches
    CONSTRAINT ck_other_k UNIQUE NULLS NOT DISTINCT (k, ts));
CREATE UNIQUE INDEX ck_other_expr ON ck_other (lower(code), ts);
SELECT relation FROM zvt.create_hypertable('ck_other', 'ts', '1 day');
SELECT count(zvt._ensure_chunk('ck_other', '2004-03-01'));
INSERT INTO ck_other SELECT timestamptz '2004-03-01' + i * interval '1 minute', 'C' || i, NULLIF(i % 50, 0)
  FROM generate_series(0, 1439) i;
SELECT format('%s', c) AS ck_ochunk FROM zvt.show_chunks('ck_other') c
 WHERE c::text LIKE '%p20040301' \gset
SELECT count(zvt.compress_chunk(:'ck_ochunk'));
-- (code, ts) is sparse; NULLS NOT DISTINCT and the expression are not
SELECT * FROM ck_indexes(:'ck_ochunk');
SELECT ck_try($$INSERT INTO ck_other VALUES ('2004-03-01 00:01', 'C1', 99)$$);
SELECT ck_try($$INSERT INTO ck_other VALUES ('2004-03-01 00:01', 'c1', 99)$$);
SELECT ck_try($$INSERT INTO ck_other VALUES ('2004-03-01 00:00', 'X', NULL)$$);
INSERT INTO ck_other VALUES ('2004-03-01 00:00', 'C0', 1) ON CONFLICT DO NOTHING;
SELECT count(*) FROM ck_other;

-- NULLs never conflict in an ordinary unique index
CREATE TABLE ck_nulls (ts timestamptz NOT NULL, k int4, UNIQUE (k, ts));
SELECT relation FROM zvt.create_hypertable('ck_nulls', 'ts', '1 day');
SELECT count(zvt._ensure_chunk('ck_nulls', '2004-03-01'));
INSERT INTO ck_nulls VALUES ('2004-03-01 01:00', NULL), ('2004-03-01 01:00', 1);
SELECT count(zvt.compress_chunk(c)) FROM zvt.show_chunks('ck_nulls') c WHERE c::text LIKE '%p20040301';
INSERT INTO ck_nulls VALUES ('2004-03-01 01:00', NULL);
SELECT ck_try($$INSERT INTO ck_nulls VALUES ('2004-03-01 01:00', 1)$$);
SELECT count(*) FROM ck_nulls;

-- ===================================================================
-- A new unique index over compressed rows is checked over every row
-- ===================================================================
CREATE TABLE ck_new (ts timestamptz NOT NULL, k int4 NOT NULL);
SELECT relation FROM zvt.create_hypertable('ck_new', 'ts', '1 day');
SELECT count(zvt._ensure_chunk('ck_new', '2004-03-01'));
INSERT INTO ck_new SELECT timestamptz '2004-03-01' + (i % 100) * interval '1 minute', i % 100 FROM generate_series(0, 199) i;
SELECT count(zvt.compress_chunk(c)) FROM zvt.show_chunks('ck_new') c WHERE c::text LIKE '%p20040301';
SELECT ck_try($$ALTER TABLE ck_new ADD UNIQUE (k, ts)$$);
DELETE FROM ck_new WHERE ctid IN (SELECT min(ctid) FROM ck_new GROUP BY k, ts);
ALTER TABLE ck_new ADD UNIQUE (k, ts);
SELECT ck_try($$INSERT INTO ck_new VALUES ('2004-03-01 00:05', 5)$$);
SELECT count(*) FROM ck_new;

-- ===================================================================
-- The check runs as the inserter, with a heap's answers: a role that may
-- insert but not read learns that the key exists (23505), not the row
-- ===================================================================
SELECT count(zvt.compress_chunk(:'ck_chunk'));
CREATE ROLE ck_writer;
GRANT INSERT ON ck_trades TO ck_writer;
SET ROLE ck_writer;
DO $$
DECLARE det text;
BEGIN
    INSERT INTO ck_trades VALUES ('2004-03-01 00:01:00', 0, '1000006', 5);
EXCEPTION WHEN unique_violation THEN
    GET STACKED DIAGNOSTICS det = PG_EXCEPTION_DETAIL;
    RAISE WARNING 'unique_violation, detail: %', coalesce(nullif(det, ''), 'none');
END $$;
SELECT ck_try($$SELECT * FROM ck_trades LIMIT 1$$);
RESET ROLE;
SELECT ts, instrument, trade_id, price FROM ck_trades WHERE trade_id = '1000006';
DROP OWNED BY ck_writer;
DROP ROLE ck_writer;

DROP TABLE ck_trades, ck_other, ck_nulls, ck_new;
DROP FUNCTION ck_try(text), ck_sum(text), ck_explain(text), ck_indexes(regclass);
