--
-- Hypertables: creation, chunks, default partition, maintenance, retention
--
\set SHOW_CONTEXT never
SET TimeZone = 'UTC';

-- Chunk names carry their hypertable's OID, which changes from run to
-- run: print it as the table's name in <>.
CREATE FUNCTION mask(t text, rel regclass) RETURNS text
LANGUAGE sql STABLE AS $$
    SELECT replace(t, '_hyper_' || rel::oid || '_', '_hyper_<' || rel::text || '>_')
$$;
CREATE FUNCTION label(c regclass) RETURNS text
LANGUAGE sql STABLE AS $$
    SELECT COALESCE(mask(c::text, m[1]::oid::regclass), c::text)
      FROM regexp_match(c::text, '_hyper_(\d+)_') m
$$;
CREATE FUNCTION explain_masked(q text, rel regclass) RETURNS SETOF text
LANGUAGE plpgsql AS $$
DECLARE
    l text;
BEGIN
    FOR l IN EXECUTE 'EXPLAIN (COSTS OFF) ' || q LOOP
        RETURN NEXT mask(l, rel);
    END LOOP;
END;
$$;

-- Chunks of a table, leaving out those maintenance keeps ahead of now()
-- (their names depend on the day the test runs).
CREATE FUNCTION test_chunks(rel regclass)
RETURNS TABLE (chunk text, range_start timestamptz, range_end timestamptz)
LANGUAGE sql AS $$
    SELECT label(c.chunk), c.range_start, c.range_end
      FROM zvt._chunks(rel) c
      JOIN zvt._hypertables h ON h.relid = rel
     WHERE NOT c.is_default
       AND NOT (c.range_end > now() - h.chunk_interval
                AND c.range_start <= now() + 3 * h.chunk_interval)
     ORDER BY c.range_start
$$;

-- an empty plain table
CREATE TABLE ticks (ts timestamptz NOT NULL, sym text NOT NULL, px float8,
                    PRIMARY KEY (sym, ts));
SELECT relation, time_column, chunk_interval, retention, chunks
  FROM zvt.create_hypertable('ticks', 'ts', '1 day');
SELECT relkind FROM pg_class WHERE oid = 'ticks'::regclass;
-- its default partition waits in _zvt_chunks, named after the table's OID
SELECT label(chunk), is_default FROM zvt._chunks('ticks') WHERE is_default;

-- INSERT and COPY at past and future times: all there at once
INSERT INTO ticks VALUES
    ('1969-12-31 23:59:59.999999+00', 'A', 1),
    ('2000-02-29 12:00:00+00', 'A', 2),
    ('2100-01-01 00:00:00+00', 'A', 3);
COPY ticks (ts, sym, px) FROM stdin;
1969-12-31 00:00:00+00	B	4
2000-02-29 23:59:59+00	B	5
2100-01-01 06:30:00+00	B	6
\.
SELECT ts, sym, px FROM ticks ORDER BY ts, sym;
-- they wait in the default partition
SELECT label(tableoid), count(*) FROM ticks GROUP BY 1 ORDER BY 1;

-- maintenance moves them into aligned chunks
CALL zvt.run_maintenance();
SELECT * FROM test_chunks('ticks');
SELECT label(tableoid), ts, sym FROM ticks ORDER BY ts, sym;
SELECT count(*) AS left_in_default FROM ticks
 WHERE tableoid = (SELECT chunk FROM zvt._chunks('ticks') WHERE is_default);
SELECT count(*) AS rows FROM ticks;

-- every chunk bound is a multiple of the interval from 1970-01-01 UTC
SELECT bool_and(extract(epoch FROM range_start)::numeric % 86400 = 0
                AND range_end - range_start = interval '1 day') AS aligned
  FROM zvt._chunks('ticks') WHERE NOT is_default;

-- a range query touches only its chunk
SELECT explain_masked($$SELECT * FROM ticks WHERE ts >= '2000-02-29' AND ts < '2000-03-01'$$, 'ticks');

-- _ensure_chunk creates and reports, and is idempotent
SELECT label(chunk), created, rows_moved FROM zvt._ensure_chunk('ticks', '2050-06-06 06:00+00');
SELECT label(chunk), created, rows_moved FROM zvt._ensure_chunk('ticks', '2050-06-06 23:59:59+00');
-- an infinite time has no chunk (such rows stay in the default partition)
SELECT chunk, created FROM zvt._ensure_chunk('ticks', 'infinity');
SELECT chunk, created FROM zvt._ensure_chunk('ticks', '-infinity');
INSERT INTO ticks VALUES ('infinity', 'C', 7);
CALL zvt.run_maintenance();
SELECT label(tableoid), ts FROM ticks WHERE sym = 'C';

-- ensure_chunk moves the rows of its range out of the default partition
INSERT INTO ticks VALUES ('2040-01-01 10:00+00', 'D', 8), ('2040-01-01 11:00+00', 'D', 9);
SELECT label(chunk), created, rows_moved FROM zvt._ensure_chunk('ticks', '2040-01-01');
SELECT label(tableoid), count(*) FROM ticks WHERE sym = 'D' GROUP BY 1;

-- show_chunks with bounds: timestamptz, date, or an interval before now()
SELECT label(c) FROM zvt.show_chunks('ticks', older_than => '2000-03-01'::timestamptz) c;
SELECT label(c) FROM zvt.show_chunks('ticks', older_than => '2000-02-29'::date) c;
SELECT label(c) FROM zvt.show_chunks('ticks', newer_than => '2050-01-01'::timestamptz) c;
SELECT label(c) FROM zvt.show_chunks('ticks', older_than => '2045-01-01'::timestamptz,
                                     newer_than => '2030-01-01'::timestamptz) c;
SELECT count(*) FROM zvt.show_chunks('ticks', older_than => interval '1 day');
SELECT label(c) FROM zvt.show_chunks('ticks', older_than => '1970-01-01') c;

-- drop_chunks drops whole chunks only
SELECT mask(d, 'ticks') FROM zvt.drop_chunks('ticks', '2000-02-29 12:00+00'::timestamptz) d;
SELECT mask(d, 'ticks') FROM zvt.drop_chunks('ticks', '2000-03-01'::timestamptz) d;
SELECT ts, sym FROM ticks WHERE ts < '2001-01-01' ORDER BY ts;
SELECT mask(d, 'ticks') FROM zvt.drop_chunks('ticks', older_than => NULL::timestamptz,
                                             newer_than => '2099-01-01'::timestamptz) d;
SELECT count(*) FROM ticks WHERE ts >= '2099-01-01' AND ts < 'infinity';

-- the hypertables view
SELECT relation, time_column, chunk_interval, retention, chunks > 0 AS has_chunks,
       bytes > 0 AS has_bytes
  FROM zvt.hypertables WHERE relation = 'ticks'::regclass;

-- a table with rows becomes a hypertable; rows, defaults, identity, grants move along
CREATE TABLE readings (id bigint GENERATED ALWAYS AS IDENTITY,
                       at timestamp NOT NULL,
                       v numeric DEFAULT 42,
                       PRIMARY KEY (id, at));
COMMENT ON TABLE readings IS 'sensor readings';
INSERT INTO readings (at) SELECT timestamp '2020-01-01' + i * interval '7 hours'
  FROM generate_series(0, 9) i;
GRANT SELECT ON readings TO PUBLIC;
SELECT relation, chunks FROM zvt.create_hypertable('readings', 'at', '1 day');
SELECT count(*), min(id), max(id), sum(v) FROM readings;
SELECT count(DISTINCT tableoid) AS chunks_used FROM readings;
SELECT count(*) FROM readings
 WHERE tableoid = (SELECT chunk FROM zvt._chunks('readings') WHERE is_default);
INSERT INTO readings (at) VALUES ('2020-01-02 12:00') RETURNING id, v;
SELECT obj_description('readings'::regclass, 'pg_class');
SELECT has_table_privilege('public', 'readings', 'SELECT') AS public_can_read;
SELECT * FROM test_chunks('readings');

-- an already partitioned table is adopted as it is
CREATE TABLE book (ts timestamptz NOT NULL, lvl int) PARTITION BY RANGE (ts);
SELECT relation, chunks FROM zvt.create_hypertable('book', 'ts', '6 hours');
INSERT INTO book VALUES ('2030-05-05 07:00+00', 1);
SELECT label(chunk), created FROM zvt._ensure_chunk('book', '2030-05-05 07:00+00');
SELECT label(tableoid) FROM book;

-- if_not_exists
SELECT relation FROM zvt.create_hypertable('ticks', 'ts', if_not_exists => true);

-- retention policies: maintenance drops whole chunks older than the policy
INSERT INTO ticks VALUES ('2001-01-01 00:00+00', 'E', 1),
                         (now() - interval '40 days', 'E', 2),
                         (now() - interval '10 days', 'E', 3);
CALL zvt.run_maintenance();
SELECT px FROM ticks WHERE sym = 'E' ORDER BY px;
SELECT zvt.add_retention_policy('ticks', interval '30 days');
SELECT retention FROM zvt.hypertables WHERE relation = 'ticks'::regclass;
SELECT zvt.add_retention_policy('ticks', interval '30 days', if_not_exists => true);
CALL zvt.run_maintenance();
SELECT count(*) AS old_chunks FROM zvt.show_chunks('ticks', older_than => interval '30 days');
SELECT px FROM ticks WHERE sym = 'E' ORDER BY px;
SELECT zvt.remove_retention_policy('ticks');
SELECT zvt.remove_retention_policy('ticks', if_exists => true);

-- errors: bad intervals (22023)
\set VERBOSITY default
CREATE TABLE plain (ts timestamptz NOT NULL, n int4, d date);
SELECT zvt.create_hypertable('plain', 'ts', '0 days');
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT zvt.create_hypertable('plain', 'ts', '-1 hour');
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT zvt.create_hypertable('plain', 'ts', '1 month');
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT zvt.create_hypertable('plain', 'ts', '1 year 2 days');
\echo SQLSTATE :LAST_ERROR_SQLSTATE
-- a time column that is not a timestamp (22023), or not there (42703)
SELECT zvt.create_hypertable('plain', 'n');
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT zvt.create_hypertable('plain', 'd');
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT zvt.create_hypertable('plain', 'nope');
\echo SQLSTATE :LAST_ERROR_SQLSTATE
-- a missing table (42P01)
SELECT zvt.create_hypertable('no_such_table', 'ts');
\echo SQLSTATE :LAST_ERROR_SQLSTATE
-- already a hypertable (55000)
SELECT zvt.create_hypertable('ticks', 'ts');
\echo SQLSTATE :LAST_ERROR_SQLSTATE
-- not a table
CREATE VIEW plain_v AS SELECT * FROM plain;
SELECT zvt.create_hypertable('plain_v', 'ts');
\echo SQLSTATE :LAST_ERROR_SQLSTATE
-- dependent objects would break (0A000), and nothing changed
SELECT zvt.create_hypertable('plain', 'ts');
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT relkind FROM pg_class WHERE oid = 'plain'::regclass;
DROP VIEW plain_v;
-- unique keys without the time column (0A000)
CREATE TABLE keyed (id int PRIMARY KEY, ts timestamptz NOT NULL);
SELECT zvt.create_hypertable('keyed', 'ts');
\echo SQLSTATE :LAST_ERROR_SQLSTATE
-- partitioned some other way (0A000)
CREATE TABLE by_list (ts timestamptz NOT NULL, k int) PARTITION BY LIST (k);
SELECT zvt.create_hypertable('by_list', 'ts');
\echo SQLSTATE :LAST_ERROR_SQLSTATE
-- not a hypertable (42704)
SELECT zvt.show_chunks('plain');
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT zvt.drop_chunks('plain', now());
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT zvt.add_retention_policy('plain', interval '1 day');
\echo SQLSTATE :LAST_ERROR_SQLSTATE
-- bad bounds (22023)
SELECT zvt.drop_chunks('ticks', NULL::timestamptz);
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT zvt.drop_chunks('ticks', 5);
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT zvt.drop_chunks('ticks', '2000-01-01'::timestamptz, '2001-01-01'::timestamptz);
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT zvt.add_retention_policy('ticks', interval '0 days');
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT zvt.remove_retention_policy('ticks');
\echo SQLSTATE :LAST_ERROR_SQLSTATE

-- an adopted partition off the chunk grid: used when it holds the row,
-- a clear error (55000) when a chunk would overlap it
CREATE TABLE book_odd PARTITION OF book FOR VALUES FROM ('2030-06-01 01:00+00') TO ('2030-06-01 02:00+00');
SELECT label(chunk), created FROM zvt._ensure_chunk('book', '2030-06-01 01:30+00');
SELECT label(chunk), created FROM zvt._ensure_chunk('book', '2030-06-01 04:00+00');
SELECT label(chunk), created FROM zvt._ensure_chunk('book', '2030-06-01 00:30+00');
\echo SQLSTATE :LAST_ERROR_SQLSTATE

-- dropping a hypertable forgets it
DROP TABLE book;
SELECT count(*) FROM zvt._hypertables WHERE relid::text = 'book';

-- chunk_interval too long for microsecond arithmetic (22023)
SELECT zvt.create_hypertable('plain', 'ts', '106751992 days');
\echo SQLSTATE :LAST_ERROR_SQLSTATE

-- long names: chunks are named by the table's OID ("_hyper_<oid>_p..."),
-- so a 63-byte name gets as many chunks as any other, and two names that
-- only differ past the point PostgreSQL would cut them both work
-- (names cut to fit once collided, and chunk creation stopped after ~72)
CREATE TABLE a23456789_123456789_123456789_123456789_123456789_123456789_abc
    (ts timestamptz NOT NULL, v int);
CREATE TABLE a23456789_123456789_123456789_123456789_123456789_123456789_xyz
    (ts timestamptz NOT NULL, v int);
SELECT length(relation::text), chunks
  FROM zvt.create_hypertable('a23456789_123456789_123456789_123456789_123456789_123456789_abc', 'ts', '1 hour');
SELECT length(relation::text), chunks
  FROM zvt.create_hypertable('a23456789_123456789_123456789_123456789_123456789_123456789_xyz', 'ts', '1 hour');
INSERT INTO a23456789_123456789_123456789_123456789_123456789_123456789_abc
SELECT timestamptz '2030-01-01 00:00+00' + i * interval '1 hour', i FROM generate_series(0, 199) i;
INSERT INTO a23456789_123456789_123456789_123456789_123456789_123456789_xyz
SELECT timestamptz '2030-01-01 00:00+00' + i * interval '1 hour', i FROM generate_series(0, 9) i;
CALL zvt.run_maintenance();
SELECT right(h.relation::text, 3) AS name_ends,
       (SELECT count(*) FROM zvt.show_chunks(h.relation, older_than => '2031-01-01'::timestamptz,
                                             newer_than => '2030-01-01'::timestamptz)) AS chunks
  FROM zvt.hypertables h
 WHERE h.relation::text LIKE 'a23456789_%' ORDER BY 1;
SELECT count(*) AS rows, count(*) FILTER (WHERE c.is_default) AS left_in_default
  FROM a23456789_123456789_123456789_123456789_123456789_123456789_abc t
  JOIN zvt._chunks('a23456789_123456789_123456789_123456789_123456789_123456789_abc') c
    ON c.chunk = t.tableoid;
SELECT max(length(c.relname)) < 40 AS chunk_names_short
  FROM pg_class c WHERE c.relnamespace = '_zvt_chunks'::regnamespace AND c.relkind IN ('r', 'p');
DROP TABLE a23456789_123456789_123456789_123456789_123456789_123456789_abc,
           a23456789_123456789_123456789_123456789_123456789_123456789_xyz;

-- another user's names cannot take ours: "public_x"."y" and "public"."x_y"
-- once gave the same chunk names, so whoever came first broke the other;
-- and her hypertable failing its maintenance (a partition of her own off
-- the chunk grid) stops nobody else's (a WARNING, the others go on)
CREATE ROLE zvt_mallory;
CREATE SCHEMA public_x AUTHORIZATION zvt_mallory;
SET ROLE zvt_mallory;
CREATE TABLE public_x.y (ts timestamptz NOT NULL, v int);
SELECT relation FROM zvt.create_hypertable('public_x.y', 'ts');
INSERT INTO public_x.y VALUES ('2031-01-01 10:00+00', 1), ('2031-02-01 03:00+00', 2);
SELECT label(chunk) FROM zvt._ensure_chunk('public_x.y', '2031-01-01 10:00+00');
CREATE TABLE public_x.y_odd PARTITION OF public_x.y
    FOR VALUES FROM ('2031-02-01 12:00+00') TO ('2031-02-01 13:00+00');
RESET ROLE;
CREATE TABLE x_y (ts timestamptz NOT NULL, v int);
SELECT relation FROM zvt.create_hypertable('x_y', 'ts');
INSERT INTO x_y VALUES ('2031-01-01 10:00+00', 1), ('2031-02-01 03:00+00', 2);
CALL zvt.run_maintenance();
SELECT label(tableoid), v FROM x_y ORDER BY v;
SELECT label(tableoid), v FROM public_x.y ORDER BY v;
DROP SCHEMA public_x CASCADE;
DROP ROLE zvt_mallory;

-- the ends of the timestamp range: a row no chunk can hold (its chunk's
-- bounds would not be timestamps) waits in the default partition, and the
-- pass goes on, for this table and the others
CREATE TABLE far (ts timestamptz NOT NULL, v int);
SELECT relation FROM zvt.create_hypertable('far', 'ts', '7 days');
INSERT INTO far VALUES ('294276-12-31 23:59:59+00', 1), ('4714-11-24 00:00:00+00 BC', 2),
                       ('294276-12-20 00:00+00', 3), ('4714-12-24 00:00:00+00 BC', 4);
SELECT chunk, created FROM zvt._ensure_chunk('far', '294276-12-31 23:59:59+00');
SELECT zvt._chunk_start('294276-12-31 23:59:59+00', '7 days') AS last,
       zvt._chunk_start('294276-12-20 00:00+00', '7 days') AS before_last,
       zvt._chunk_start('4714-11-24 00:00:00+00 BC', '7 days') AS first,
       zvt._chunk_start('2026-11-25 13:00+00', '1 day', 2) AS two_ahead,
       zvt._chunk_start('2026-11-25 13:00+00', '1 day', 2147483647) AS too_far;
INSERT INTO x_y VALUES ('2031-03-01 03:00+00', 3);
CALL zvt.run_maintenance();
SELECT v, label(tableoid) FROM far ORDER BY v;
SELECT v, label(tableoid) FROM x_y ORDER BY v;
-- dropping every chunk leaves them: they are in no chunk's range
SELECT count(*) AS dropped FROM zvt.drop_chunks('far', 'infinity'::timestamptz);
SELECT v FROM far ORDER BY v;
DROP TABLE far, x_y;

-- clean up
DROP TABLE ticks, readings, plain, keyed, by_list;
DROP FUNCTION test_chunks(regclass);
DROP FUNCTION explain_masked(text, regclass);
SELECT relation FROM zvt.hypertables ORDER BY relation::text;

--
-- Listing chunks locks the hypertable: not for roles without a privilege on it
--
CREATE TABLE private_ht (ts timestamptz NOT NULL, v int);
SELECT relation FROM zvt.create_hypertable('private_ht', 'ts', '1 day');
SELECT created FROM zvt._ensure_chunk('private_ht', '2030-01-01');
CREATE ROLE zvt_locker;
SET ROLE zvt_locker;
BEGIN;
SELECT count(*) AS listed FROM zvt._chunks('private_ht');
SELECT count(*) AS locks_held FROM pg_locks WHERE relation = 'private_ht'::regclass AND pid = pg_backend_pid();
COMMIT;
SELECT zvt.show_chunks('private_ht');
RESET ROLE;
GRANT SELECT ON private_ht TO zvt_locker;
SET ROLE zvt_locker;
SELECT count(*) AS listed FROM zvt._chunks('private_ht') WHERE range_start = '2030-01-01 00:00+00';
RESET ROLE;
DROP TABLE private_ht;
DROP ROLE zvt_locker;
