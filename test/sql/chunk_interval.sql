--
-- chunk_interval: zvt.set_chunk_interval changes the interval of chunks
-- made from then on; existing chunks keep theirs, and new chunks are cut
-- to fit beside them so that no two overlap
--
\set SHOW_CONTEXT never
SET TimeZone = 'UTC';

CREATE TABLE iv_ticks (ts timestamptz NOT NULL, v int);
SELECT chunk_interval FROM zvt.create_hypertable('iv_ticks', 'ts', '1 day');
INSERT INTO iv_ticks SELECT timestamptz '2031-03-10' + i * interval '6 hours', i FROM generate_series(0, 7) i;
SELECT zvt._ensure_chunk('iv_ticks', '2031-03-10') IS NOT NULL AS made;
SELECT zvt._ensure_chunk('iv_ticks', '2031-03-11') IS NOT NULL AS made;

-- the chunks with their ranges, named by their start
CREATE FUNCTION pg_temp.ranges(rel regclass) RETURNS TABLE (chunk text, range_start timestamptz, range_end timestamptz, span interval)
LANGUAGE sql AS $$
    SELECT regexp_replace(c.chunk::text, '_hyper_[0-9]+_', '_hyper_N_'), c.range_start, c.range_end,
           c.range_end - c.range_start
      FROM zvt._chunks(rel) c WHERE NOT c.is_default ORDER BY c.range_start
$$;
-- no two partitions overlap, and every row is in a chunk holding it
CREATE FUNCTION pg_temp.check_layout(rel regclass) RETURNS TABLE (overlaps bigint, misplaced bigint)
LANGUAGE sql AS $$
    SELECT (SELECT count(*) FROM zvt._chunks(rel) a JOIN zvt._chunks(rel) b
              ON a.chunk < b.chunk AND NOT a.is_default AND NOT b.is_default
             AND a.range_start < b.range_end AND b.range_start < a.range_end),
           (SELECT count(*) FROM iv_ticks t JOIN zvt._chunks(rel) c ON c.chunk = t.tableoid
             WHERE c.is_default OR NOT (t.ts >= c.range_start AND t.ts < c.range_end))
$$;
SELECT * FROM pg_temp.ranges('iv_ticks');

-- 1 day -> 7 days: the 7-day cell [2031-03-06, 2031-03-13) already holds
-- two 1-day chunks; rows before and after them get chunks cut to fit
SELECT zvt.set_chunk_interval('iv_ticks', '7 days');
SELECT chunk_interval FROM zvt.hypertables WHERE relation = 'iv_ticks'::regclass;
INSERT INTO iv_ticks VALUES ('2031-03-07 12:00', 100), ('2031-03-12 01:00', 101),
                            ('2031-03-20 00:00', 102), ('2031-03-08', 103);
-- an old chunk holds it: found without creating anything
SELECT regexp_replace(chunk::text, '_hyper_[0-9]+_', '_hyper_N_') AS chunk, created
  FROM zvt._ensure_chunk('iv_ticks', '2031-03-10 12:00');
CALL zvt.run_maintenance();
SELECT * FROM pg_temp.ranges('iv_ticks') WHERE range_start >= '2031-01-01' AND range_start < '2031-04-01';
SELECT * FROM pg_temp.check_layout('iv_ticks');
-- rows of an old chunk's range still go there, cut chunks take theirs
SELECT v, regexp_replace(tableoid::regclass::text, '_hyper_[0-9]+_', '_hyper_N_') AS chunk
  FROM iv_ticks WHERE v >= 100 OR v = 1 ORDER BY v;

-- 7 days -> 6 hours: new chunks on the 6-hour grid, none over the old
SELECT zvt.set_chunk_interval('iv_ticks', '6 hours');
INSERT INTO iv_ticks VALUES ('2031-05-01 07:00', 200), ('2031-03-20 03:00', 201);
CALL zvt.run_maintenance();
SELECT * FROM pg_temp.ranges('iv_ticks') WHERE range_start >= '2031-03-13' AND range_start < '2031-06-01';
SELECT * FROM pg_temp.check_layout('iv_ticks');
-- the maintenance pass made the chunks ahead of now on the new grid
SELECT count(*) > 0 AS ahead
  FROM zvt._chunks('iv_ticks') c
 WHERE c.range_end - c.range_start = interval '6 hours' AND c.range_end > now();

-- errors
\set VERBOSITY default
SELECT zvt.set_chunk_interval('iv_ticks', '1 month');
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT zvt.set_chunk_interval('iv_ticks', '0 hours');
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT zvt.set_chunk_interval('iv_ticks', NULL);
\echo SQLSTATE :LAST_ERROR_SQLSTATE
CREATE TABLE iv_plain (ts timestamptz NOT NULL);
SELECT zvt.set_chunk_interval('iv_plain', '1 day');
\echo SQLSTATE :LAST_ERROR_SQLSTATE
CREATE ROLE zvt_iv_other;
SET ROLE zvt_iv_other;
SELECT zvt.set_chunk_interval('iv_ticks', '1 day');
\echo SQLSTATE :LAST_ERROR_SQLSTATE
RESET ROLE;
DROP ROLE zvt_iv_other;
SELECT chunk_interval FROM zvt.hypertables WHERE relation = 'iv_ticks'::regclass;

-- an adopted partition off the grid still blocks a chunk overlapping it (55000)
CREATE TABLE iv_book (ts timestamptz NOT NULL, v int) PARTITION BY RANGE (ts);
CREATE TABLE iv_book_odd PARTITION OF iv_book FOR VALUES FROM ('2031-06-01 01:00+00') TO ('2031-06-01 02:00+00');
SELECT chunk_interval FROM zvt.create_hypertable('iv_book', 'ts', '1 hour');
SELECT zvt.set_chunk_interval('iv_book', '1 day');
SELECT (zvt._ensure_chunk('iv_book', '2031-06-01 05:00+00')).created;
\echo SQLSTATE :LAST_ERROR_SQLSTATE

DROP TABLE iv_ticks, iv_plain, iv_book;
