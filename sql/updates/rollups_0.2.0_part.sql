-- sql/updates/rollups_0.2.0_part.sql
--   Issue 18 (continuous candle roll-ups, zvt.set_chunk_interval): the
--   update steps from the SQL this branch started from (commit 102403b,
--   whose sql/NN_*.sql main's 0.2.0 still has) to this branch's.  The
--   branch predates sql/updates/zvt--0.1.0--0.2.0.sql: on merging, append
--   the steps below to that script (0.2.0 is not released) and remove
--   this file, which the Makefile does not install.  Checked: the 0.1.0
--   release, updated by main's script with these steps appended, gives
--   the catalog of a fresh install of this branch (test/upgrade/catalog.sql,
--   2,778 lines equal), the trigger's clones on the default partitions
--   included.

-- ===================================================================
-- Hypertables: the chunk interval can change (zvt.set_chunk_interval);
-- maintenance makes chunks ahead and moves stray rows chunk by chunk, so
-- chunks cut to fit beside older ones are filled too; run_maintenance
-- refreshes the candle roll-ups.
-- ===================================================================
CREATE FUNCTION zvt.set_chunk_interval(relation pg_catalog.regclass,
                                       chunk_interval pg_catalog.interval)
    RETURNS void
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    h zvt._hypertables := zvt._hypertable_or_error(relation);
BEGIN
    PERFORM zvt._check_chunk_interval(chunk_interval);
    UPDATE zvt._hypertables SET chunk_interval = set_chunk_interval.chunk_interval
     WHERE relid = relation;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'must be owner of table %', relation USING ERRCODE = '42501';
    END IF;
END;
$$;
COMMENT ON FUNCTION zvt.set_chunk_interval(pg_catalog.regclass, pg_catalog.interval) IS
    'Change the interval of the chunks a hypertable gets from now on; existing chunks keep theirs, and a new chunk that would overlap one is cut to the gap between them.';
-- owners call it: zvt._hypertables row-level security limits the UPDATE to them
GRANT EXECUTE ON FUNCTION zvt.set_chunk_interval(pg_catalog.regclass, pg_catalog.interval) TO PUBLIC;

CREATE OR REPLACE FUNCTION zvt._maintenance_steps(rel pg_catalog.regclass,
        OUT chunks_created pg_catalog.int8,
        OUT rows_moved pg_catalog.int8,
        OUT chunks_dropped pg_catalog.int8)
    RETURNS record
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    h zvt._hypertables;
    ahead int := COALESCE(current_setting('zvt.chunks_ahead', true)::int, 1);
    is_tz bool;
    tcol text;
    deflt regclass;
    t timestamptz;
    horizon timestamptz;
    r record;
BEGIN
    chunks_created := 0;
    rows_moved := 0;
    chunks_dropped := 0;
    SELECT * INTO h FROM zvt._hypertables x WHERE x.relid = rel;
    IF NOT FOUND THEN
        RETURN;
    END IF;
    SELECT a.atttypid = 'timestamptz'::regtype INTO is_tz
      FROM pg_attribute a WHERE a.attrelid = rel AND a.attname = h.time_column;
    -- a timestamp column's values are read as UTC, like its chunk bounds
    tcol := CASE WHEN is_tz THEN quote_ident(h.time_column)
                 ELSE format('(%I AT TIME ZONE ''UTC'')', h.time_column) END;

    -- chunks from now to the end of the grid cell `ahead` cells on, chunk
    -- after chunk (after zvt.set_chunk_interval a cell may hold a chunk
    -- of the old interval and a new chunk cut to fit beside it)
    horizon := COALESCE(zvt._chunk_start(now(), h.chunk_interval, ahead + 1), 'infinity');
    t := now();
    WHILE t < horizon LOOP
        SELECT * INTO r FROM zvt._ensure_chunk(rel, t);
        EXIT WHEN r.chunk IS NULL;
        chunks_created := chunks_created + r.created::int;
        rows_moved := rows_moved + r.rows_moved;
        SELECT c.range_end INTO t FROM zvt._chunks(rel) c WHERE c.chunk = r.chunk;
        EXIT WHEN t IS NULL;
    END LOOP;

    IF h.retention IS NOT NULL THEN
        SELECT count(*) INTO chunks_dropped
          FROM zvt.drop_chunks(rel, now() - h.retention);
    END IF;

    -- the rows waiting in the default partition, earliest first: each
    -- _ensure_chunk moves the rows of its chunk's range, so the next
    -- earliest row lies past it (a chunk cut to fit beside one of an older
    -- interval covers less than a grid cell, hence by row, not by cell)
    SELECT c.chunk INTO deflt FROM zvt._chunks(rel) c WHERE c.is_default;
    t := '-infinity';
    WHILE deflt IS NOT NULL LOOP
        EXECUTE format('SELECT min(%s) FROM ONLY %s WHERE %s > $1
                           AND zvt._chunk_start(%s, $2) IS NOT NULL', tcol, deflt, tcol, tcol)
            INTO t USING t, h.chunk_interval;
        EXIT WHEN t IS NULL;
        SELECT * INTO r FROM zvt._ensure_chunk(rel, t);
        chunks_created := chunks_created + r.created::int;
        rows_moved := rows_moved + r.rows_moved;
        IF r.chunk IS NULL THEN
            -- busy: skip the rest of its grid cell, for the next pass
            t := zvt._chunk_start(t, h.chunk_interval, 1) - interval '1 microsecond';
        END IF;
    END LOOP;
END;
$$;
COMMENT ON FUNCTION zvt._maintenance_steps(pg_catalog.regclass) IS
    'Internal: one maintenance pass over one hypertable, as the caller; use zvt._maintain_hypertable.';

CREATE OR REPLACE PROCEDURE zvt.run_maintenance()
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    h record;
    r record;
    msg text;
    state text;
    failed int := 0;
BEGIN
    FOR h IN SELECT x.relid FROM zvt._hypertables x
               JOIN pg_class c ON c.oid = x.relid
              WHERE pg_has_role(c.relowner, 'USAGE')
              ORDER BY x.relid
    LOOP
        BEGIN
            SELECT * INTO r FROM zvt._maintain_hypertable(h.relid);
            IF r.chunks_created > 0 OR r.rows_moved > 0 OR r.chunks_dropped > 0 THEN
                RAISE LOG 'zvt maintenance of "%": created % chunks, moved % rows, dropped % chunks',
                    r.relation, r.chunks_created, r.rows_moved, r.chunks_dropped;
            END IF;
        EXCEPTION WHEN OTHERS THEN
            GET STACKED DIAGNOSTICS msg = MESSAGE_TEXT, state = RETURNED_SQLSTATE;
            failed := failed + 1;
            RAISE WARNING 'zvt maintenance of "%" failed: %', h.relid, msg
                USING DETAIL = format('SQLSTATE %s; the other hypertables were maintained.', state);
        END;
    END LOOP;
    IF failed > 0 THEN
        RAISE WARNING 'zvt maintenance failed for % of the hypertables; the others were maintained', failed;
    END IF;
    -- the candle roll-ups (sql/22_rollups.sql), for their owner only
    IF pg_has_role((SELECT c.relowner FROM pg_class c
                     WHERE c.oid = 'zvt._rollup_candles'::regclass), 'USAGE') THEN
        PERFORM zvt._refresh_candle_rollups();
    END IF;
END;
$$;
COMMENT ON PROCEDURE zvt.run_maintenance() IS
    'Do now what the maintenance worker does every zvt.maintenance_naptime, for the hypertables the caller owns (every one for a superuser), each as its owner: create chunks ahead of now, apply retention policies, move rows out of default partitions; and, for the owner of zvt.candles, refresh the candle roll-ups.';

-- ===================================================================
-- Continuous candle roll-ups (sql/22_rollups.sql, whole): the catalog,
-- the invalidation trigger on zvt.candles (cloned to its existing
-- chunks by CREATE TRIGGER), and zvt.ohlcv, now C, under the same
-- signature.  The first maintenance pass afterwards materializes all
-- history.
-- ===================================================================
-- ===================================================================
-- Continuous candle roll-ups: materialized 5m, 15m, 1h, 4h, 1d (and
-- any timeframe added) candles from the 1-minute candles, and zvt.ohlcv
-- ===================================================================
--
-- src/storage/rollup.c keeps them: a trigger on zvt.candles logs which
-- hours of which instrument's 1-minute candles were written, changed or
-- deleted (zvt._candle_invalidations), and the maintenance worker, as
-- the owner of these tables, recomputes the logged buckets below each
-- timeframe's watermark and moves the watermark up to the current
-- bucket.  zvt.ohlcv (src/storage/ohlcv.c) reads materialized bars below
-- the watermark that no pending log entry touches and computes the rest
-- (the tail, the stale buckets) from 1-minute candles, all under one
-- snapshot, so its result is always exactly the roll-up from scratch.
-- Only the owner writes these tables; everyone may read them, like the
-- market data they derive from.

CREATE TABLE zvt.candle_rollups (
    timeframe   pg_catalog.interval PRIMARY KEY,
    builtin     pg_catalog.bool NOT NULL DEFAULT false,
    created_at  pg_catalog.timestamptz NOT NULL DEFAULT pg_catalog.now()
);
COMMENT ON TABLE zvt.candle_rollups IS
    'Timeframes whose candles are materialized from the 1-minute candles (zvt.add_candle_rollup adds one). zvt.ohlcv reads them; the maintenance worker keeps them current.';
INSERT INTO zvt.candle_rollups (timeframe, builtin) VALUES
    ('5 minutes', true), ('15 minutes', true), ('1 hour', true), ('4 hours', true), ('1 day', true);
-- pg_dump keeps timeframes a user added; the data is recomputed after a restore
SELECT pg_catalog.pg_extension_config_dump('zvt.candle_rollups', 'WHERE NOT builtin');

CREATE TABLE zvt._rollup_state (
    timeframe           pg_catalog.interval PRIMARY KEY
                        REFERENCES zvt.candle_rollups ON DELETE CASCADE,
    materialized_until  pg_catalog.timestamptz NOT NULL
);
COMMENT ON TABLE zvt._rollup_state IS
    'Internal: per timeframe, the watermark: buckets opening before it are materialized in zvt._rollup_candles (except those a pending zvt._candle_invalidations entry touches); none: nothing is.';

CREATE TABLE zvt._rollup_candles (
    instrument_id   pg_catalog.int4 NOT NULL,
    timeframe       pg_catalog.interval NOT NULL,
    ts              pg_catalog.timestamptz NOT NULL,
    open            pg_catalog.float8 NOT NULL,
    high            pg_catalog.float8 NOT NULL,
    low             pg_catalog.float8 NOT NULL,
    close           pg_catalog.float8 NOT NULL,
    volume          pg_catalog.float8 NOT NULL,
    quote_volume    pg_catalog.float8,
    trade_count     pg_catalog.int8,
    closed          pg_catalog.bool NOT NULL,
    source          pg_catalog.text NOT NULL,
    local_ts        pg_catalog.timestamptz NOT NULL,
    PRIMARY KEY (instrument_id, timeframe, ts)
);
COMMENT ON TABLE zvt._rollup_candles IS
    'Internal: the materialized candles of zvt.candle_rollups''s timeframes, one row per instrument and non-empty bucket, as zvt.ohlcv returns them; read them through zvt.ohlcv.';

CREATE TABLE zvt._candle_invalidations (
    instrument_id   pg_catalog.int4,        -- NULL: every instrument (TRUNCATE)
    lo              pg_catalog.timestamptz NOT NULL,
    hi              pg_catalog.timestamptz NOT NULL,
    logged_at       pg_catalog.timestamptz NOT NULL DEFAULT pg_catalog.now()
);
CREATE INDEX ON zvt._candle_invalidations (instrument_id, hi);
COMMENT ON TABLE zvt._candle_invalidations IS
    'Internal: ranges [lo, hi) of 1-minute candles written, changed or deleted since the roll-ups last took them in; filled by a trigger on zvt.candles, emptied by the maintenance worker.';

-- readers (zvt.ohlcv, as the caller) need all four; only the owner writes
GRANT SELECT ON zvt.candle_rollups, zvt._rollup_state, zvt._rollup_candles,
                zvt._candle_invalidations TO PUBLIC;

-- -------------------------------------------------------------------
-- The invalidation log's trigger (src/storage/rollup.c)
-- -------------------------------------------------------------------

CREATE FUNCTION zvt._candles_invalidate() RETURNS trigger
    LANGUAGE C
    AS 'MODULE_PATHNAME', 'zvt_candles_invalidate';
COMMENT ON FUNCTION zvt._candles_invalidate() IS
    'Internal: trigger on zvt.candles logging the hours of 1-minute candles written, changed or deleted (as the log''s owner) for the roll-ups.';
-- a trigger function: only triggers call it, and it writes as the log's owner
REVOKE ALL ON FUNCTION zvt._candles_invalidate() FROM PUBLIC;

-- row triggers on a partitioned table are cloned to every chunk, so
-- writes straight into a chunk are logged too; BEFORE, as an AFTER row
-- trigger would fetch every row again (a row that is then not written,
-- such as a conflict's, only logs an hour needlessly)
CREATE TRIGGER candles_invalidate BEFORE INSERT OR UPDATE OR DELETE ON zvt.candles
    FOR EACH ROW EXECUTE FUNCTION zvt._candles_invalidate();
CREATE TRIGGER candles_invalidate_truncate AFTER TRUNCATE ON zvt.candles
    FOR EACH STATEMENT EXECUTE FUNCTION zvt._candles_invalidate();

-- -------------------------------------------------------------------
-- Refresh, add, remove
-- -------------------------------------------------------------------

CREATE FUNCTION zvt._refresh_candle_rollups(OUT invalidations pg_catalog.int8,
                                            OUT buckets pg_catalog.int8)
    RETURNS record
    LANGUAGE C STRICT VOLATILE
    AS 'MODULE_PATHNAME', 'zvt_refresh_candle_rollups';
COMMENT ON FUNCTION zvt._refresh_candle_rollups() IS
    'Internal: take in the invalidation log and move every roll-up''s watermark to the current bucket, as the roll-ups'' owner; what the maintenance worker does each pass. invalidations: log entries taken; buckets: bars written.';
-- the maintenance worker and run_maintenance; it checks the owner's privileges itself
GRANT EXECUTE ON FUNCTION zvt._refresh_candle_rollups() TO PUBLIC;

CREATE FUNCTION zvt._check_timeframe(timeframe pg_catalog.interval) RETURNS void
    LANGUAGE C STRICT IMMUTABLE PARALLEL SAFE
    AS 'MODULE_PATHNAME', 'zvt_check_timeframe';
COMMENT ON FUNCTION zvt._check_timeframe(pg_catalog.interval) IS
    'Internal: raise 22023 unless timeframe is a whole number of minutes dividing a day, or 1 week.';
-- validation only
GRANT EXECUTE ON FUNCTION zvt._check_timeframe(pg_catalog.interval) TO PUBLIC;

CREATE FUNCTION zvt._rollup_owner_or_error() RETURNS void
    LANGUAGE plpgsql STABLE
    SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF NOT pg_has_role((SELECT c.relowner FROM pg_class c
                         WHERE c.oid = 'zvt._rollup_candles'::regclass), 'USAGE') THEN
        RAISE EXCEPTION 'permission denied to change the candle roll-ups'
            USING ERRCODE = '42501',
                  DETAIL = 'Only the owner of zvt.candles and its roll-ups (the extension''s owner) may add or remove a roll-up.';
    END IF;
END;
$$;
COMMENT ON FUNCTION zvt._rollup_owner_or_error() IS
    'Internal: raise 42501 unless the caller has the privileges of the roll-ups'' owner.';
-- a check only: add/remove_candle_rollup call it as the caller
GRANT EXECUTE ON FUNCTION zvt._rollup_owner_or_error() TO PUBLIC;

CREATE FUNCTION zvt.add_candle_rollup(timeframe pg_catalog.interval,
                                      if_not_exists pg_catalog.bool DEFAULT false)
    RETURNS zvt.candle_rollups
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
AS $$
#variable_conflict use_variable
DECLARE
    r zvt.candle_rollups;
BEGIN
    IF timeframe IS NULL THEN
        RAISE EXCEPTION 'timeframe must not be null' USING ERRCODE = '22023';
    END IF;
    PERFORM zvt._check_timeframe(timeframe);
    PERFORM zvt._rollup_owner_or_error();
    IF timeframe = interval '1 minute' THEN
        RAISE EXCEPTION 'the 1-minute candles are the source of every roll-up'
            USING ERRCODE = '22023', HINT = 'Roll up a longer timeframe.';
    END IF;
    SELECT * INTO r FROM zvt.candle_rollups c WHERE c.timeframe = timeframe;
    IF FOUND THEN
        IF if_not_exists THEN
            RAISE NOTICE 'candle roll-up % already exists, skipping', timeframe;
            RETURN r;
        END IF;
        RAISE EXCEPTION 'candle roll-up % already exists', timeframe
            USING ERRCODE = '55000';
    END IF;
    INSERT INTO zvt.candle_rollups (timeframe) VALUES (timeframe) RETURNING * INTO r;
    RETURN r;
END;
$$;
COMMENT ON FUNCTION zvt.add_candle_rollup(pg_catalog.interval, pg_catalog.bool) IS
    'Materialize candles of another timeframe (whole minutes dividing a day, or 1 week) from the 1-minute candles; the maintenance worker fills it on its next pass, and zvt.ohlcv is exact meanwhile. Owner of zvt.candles only.';
-- anyone may call; it checks the roll-ups' owner's privileges (42501)
GRANT EXECUTE ON FUNCTION zvt.add_candle_rollup(pg_catalog.interval, pg_catalog.bool) TO PUBLIC;

CREATE FUNCTION zvt.remove_candle_rollup(timeframe pg_catalog.interval,
                                         if_exists pg_catalog.bool DEFAULT false)
    RETURNS pg_catalog.bool
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
AS $$
#variable_conflict use_variable
BEGIN
    PERFORM zvt._rollup_owner_or_error();
    DELETE FROM zvt.candle_rollups c WHERE c.timeframe = timeframe;
    IF NOT FOUND THEN
        IF if_exists THEN
            RETURN false;
        END IF;
        RAISE EXCEPTION 'no candle roll-up %', timeframe
            USING ERRCODE = '42704',
                  HINT = 'zvt.candle_rollups lists them.';
    END IF;
    DELETE FROM zvt._rollup_candles c WHERE c.timeframe = timeframe;
    RETURN true;
END;
$$;
COMMENT ON FUNCTION zvt.remove_candle_rollup(pg_catalog.interval, pg_catalog.bool) IS
    'Stop materializing a timeframe and delete its candles; zvt.ohlcv then computes it from the 1-minute candles. Owner of zvt.candles only.';
-- anyone may call; it checks the roll-ups' owner's privileges (42501)
GRANT EXECUTE ON FUNCTION zvt.remove_candle_rollup(pg_catalog.interval, pg_catalog.bool) TO PUBLIC;

-- -------------------------------------------------------------------
-- ohlcv (src/storage/ohlcv.c)
-- -------------------------------------------------------------------

CREATE OR REPLACE FUNCTION zvt.ohlcv(exchange pg_catalog.text, symbol pg_catalog.text,
                          timeframe pg_catalog.interval,
                          start pg_catalog.timestamptz, finish pg_catalog.timestamptz)
    RETURNS SETOF zvt.candles_v
    LANGUAGE C STABLE
    AS 'MODULE_PATHNAME', 'zvt_ohlcv';
COMMENT ON FUNCTION zvt.ohlcv(pg_catalog.text, pg_catalog.text, pg_catalog.interval, pg_catalog.timestamptz, pg_catalog.timestamptz) IS
    'Candles of any timeframe (whole minutes dividing a day, 1 day, 1 week) whose open lies in [start, finish), rolled up from stored 1m candles (source exchange preferred); closed only when all constituent minutes are present and closed. Materialized timeframes (zvt.candle_rollups) are read from the roll-ups, the rest of the range computed on the fly: always exact.';
GRANT EXECUTE ON FUNCTION zvt.ohlcv(pg_catalog.text, pg_catalog.text, pg_catalog.interval, pg_catalog.timestamptz, pg_catalog.timestamptz) TO PUBLIC;
