-- ===================================================================
-- Compressed chunks (src/compress, docs/hypertables.md): the table
-- access method zvt_compressed, the table of batches behind it,
-- compress_chunk / decompress_chunk, compression policies applied by the
-- maintenance worker, and zvt.chunks.
-- ===================================================================

CREATE FUNCTION zvt._compressed_handler(pg_catalog.internal)
    RETURNS pg_catalog.table_am_handler
    LANGUAGE C STRICT
    AS 'MODULE_PATHNAME', 'zvt_compressed_handler';
COMMENT ON FUNCTION zvt._compressed_handler(pg_catalog.internal) IS
    'Internal: the handler of the zvt_compressed table access method.';
-- only the server calls a handler (it takes internal)
REVOKE ALL ON FUNCTION zvt._compressed_handler(pg_catalog.internal) FROM PUBLIC;

CREATE ACCESS METHOD zvt_compressed TYPE TABLE HANDLER zvt._compressed_handler;
COMMENT ON ACCESS METHOD zvt_compressed IS
    'Compressed chunks: rows kept as column-compressed batches in zvt._compressed_batches; use zvt.compress_chunk.';

-- One row per batch of up to 1000 rows of a compressed chunk, keyed by
-- the chunk storage's random id (in its metapage) and the batch number.
-- An extension member without pg_extension_config_dump: pg_dump leaves
-- it out and writes the chunks' rows instead, which restore as batches.
CREATE TABLE zvt._compressed_batches (
    storage_id  pg_catalog.int8 NOT NULL,
    seq         pg_catalog.int8 NOT NULL,
    nrows       pg_catalog.int4 NOT NULL,
    late        pg_catalog.bool NOT NULL,
    batch       pg_catalog.bytea NOT NULL,
    PRIMARY KEY (storage_id, seq)
);
-- batches are compressed already: TOAST stores them as they are
ALTER TABLE zvt._compressed_batches ALTER COLUMN batch SET STORAGE EXTERNAL;
COMMENT ON TABLE zvt._compressed_batches IS
    'Internal: the batches of compressed chunks, read and written only by zvt''s C code through the chunks.';
-- rows of every role's chunks: reached only through the chunks, whose privileges apply
REVOKE ALL ON zvt._compressed_batches FROM PUBLIC;

-- Rows of compressed chunks removed by DELETE or UPDATE (or moved to
-- another chunk): one row per removed row, its MVCC visibility that of
-- the removal; new_seq/new_row name the updated version (new_seq -1: the
-- row moved to another partition).  Dropped with their storage's
-- batches; compress_chunk leaves the removed rows out.  Not dumped
-- either: pg_dump writes the chunks' live rows.
CREATE TABLE zvt._compressed_deleted (
    storage_id  pg_catalog.int8 NOT NULL,
    seq         pg_catalog.int8 NOT NULL,
    row_no      pg_catalog.int4 NOT NULL,
    new_seq     pg_catalog.int8,
    new_row     pg_catalog.int4
);
CREATE INDEX _compressed_deleted_key ON zvt._compressed_deleted (storage_id, seq, row_no);
COMMENT ON TABLE zvt._compressed_deleted IS
    'Internal: rows deleted or updated in compressed chunks, written and read only by zvt''s C code through the chunks.';
-- rows of every role's chunks: reached only through the chunks, whose privileges apply
REVOKE ALL ON zvt._compressed_deleted FROM PUBLIC;

-- Compression settings and policy of a hypertable.
CREATE TABLE zvt._compression_settings (
    relid           pg_catalog.regclass PRIMARY KEY,
    compress_after  pg_catalog.interval NOT NULL,
    segment_by      pg_catalog.name[],
    order_by        pg_catalog.text
);
COMMENT ON TABLE zvt._compression_settings IS
    'Internal: compression policies (zvt.add_compression_policy); see zvt.chunks for their effect.';
-- public knowledge; a table's owner edits its own row
ALTER TABLE zvt._compression_settings ENABLE ROW LEVEL SECURITY;
CREATE POLICY compression_settings_read ON zvt._compression_settings FOR SELECT USING (true);
CREATE POLICY compression_settings_owner ON zvt._compression_settings FOR ALL
    USING (pg_catalog.pg_has_role((SELECT c.relowner FROM pg_catalog.pg_class c
                                    WHERE c.oid = relid), 'USAGE'))
    WITH CHECK (pg_catalog.pg_has_role((SELECT c.relowner FROM pg_catalog.pg_class c
                                         WHERE c.oid = relid), 'USAGE'));
GRANT SELECT, INSERT, UPDATE, DELETE ON zvt._compression_settings TO PUBLIC;
SELECT pg_catalog.pg_extension_config_dump('zvt._compression_settings', '');

-- What a chunk was before its first compression.
CREATE TABLE zvt._compressed_chunks (
    chunk           pg_catalog.regclass PRIMARY KEY,
    hypertable      pg_catalog.regclass NOT NULL,
    rows_before     pg_catalog.int8 NOT NULL,
    bytes_before    pg_catalog.int8 NOT NULL,
    compressed_at   pg_catalog.timestamptz NOT NULL DEFAULT pg_catalog.now()
);
COMMENT ON TABLE zvt._compressed_chunks IS
    'Internal: rows and bytes of chunks before compression; see zvt.chunks.';
ALTER TABLE zvt._compressed_chunks ENABLE ROW LEVEL SECURITY;
CREATE POLICY compressed_chunks_read ON zvt._compressed_chunks FOR SELECT USING (true);
CREATE POLICY compressed_chunks_owner ON zvt._compressed_chunks FOR ALL
    USING (pg_catalog.pg_has_role((SELECT c.relowner FROM pg_catalog.pg_class c
                                    WHERE c.oid = hypertable), 'USAGE'))
    WITH CHECK (pg_catalog.pg_has_role((SELECT c.relowner FROM pg_catalog.pg_class c
                                         WHERE c.oid = hypertable), 'USAGE'));
-- compress_chunk runs as its caller, who owns the hypertable
GRANT SELECT, INSERT, UPDATE, DELETE ON zvt._compressed_chunks TO PUBLIC;
SELECT pg_catalog.pg_extension_config_dump('zvt._compressed_chunks', '');

-- -------------------------------------------------------------------
-- C primitives (src/compress/compress.c)
-- -------------------------------------------------------------------

CREATE FUNCTION zvt._rewrite_chunk(chunk pg_catalog.regclass,
                                   compress pg_catalog.bool,
                                   segment_by pg_catalog.name[],
                                   order_by pg_catalog.text,
                                   OUT rows pg_catalog.int8,
                                   OUT batches pg_catalog.int8)
    RETURNS record
    LANGUAGE C VOLATILE
    AS 'MODULE_PATHNAME', 'zvt_rewrite_chunk';
COMMENT ON FUNCTION zvt._rewrite_chunk(pg_catalog.regclass, pg_catalog.bool, pg_catalog.name[], pg_catalog.text) IS
    'Internal: compress or decompress one chunk, as its hypertable''s owner; use zvt.compress_chunk and zvt.decompress_chunk.';
-- it checks that the caller has the hypertable owner's privileges itself
GRANT EXECUTE ON FUNCTION zvt._rewrite_chunk(pg_catalog.regclass, pg_catalog.bool, pg_catalog.name[], pg_catalog.text) TO PUBLIC;

CREATE FUNCTION zvt._compressed_stats(chunk pg_catalog.regclass,
                                      OUT batches pg_catalog.int8,
                                      OUT rows pg_catalog.int8,
                                      OUT late_rows pg_catalog.int8,
                                      OUT batch_bytes pg_catalog.int8)
    RETURNS SETOF record
    LANGUAGE C STRICT STABLE
    AS 'MODULE_PATHNAME', 'zvt_compressed_stats';
COMMENT ON FUNCTION zvt._compressed_stats(pg_catalog.regclass) IS
    'Internal: batches, live rows, late rows (inserted, updated or deleted since the last compression) and stored bytes of a compressed chunk (no row when it is not compressed or not readable).';
-- it answers only for chunks the caller may SELECT
GRANT EXECUTE ON FUNCTION zvt._compressed_stats(pg_catalog.regclass) TO PUBLIC;

-- -------------------------------------------------------------------
-- Compressing and decompressing chunks
-- -------------------------------------------------------------------

-- segment_by when no policy names one: instrument_id, when the table has it
CREATE FUNCTION zvt._default_segment_by(relation pg_catalog.regclass)
    RETURNS pg_catalog.name[]
    LANGUAGE sql STABLE
    SET search_path = pg_catalog, pg_temp
AS $$
    SELECT CASE WHEN EXISTS (SELECT 1 FROM pg_attribute a
                              WHERE a.attrelid = relation AND a.attname = 'instrument_id'
                                AND NOT a.attisdropped)
                THEN ARRAY['instrument_id']::name[] END
$$;
COMMENT ON FUNCTION zvt._default_segment_by(pg_catalog.regclass) IS
    'Internal: the segment_by used without a compression policy.';

-- Compressions of one hypertable take turns: SHARE UPDATE EXCLUSIVE on the
-- hypertable (it conflicts with itself, not with reads or writes), taken
-- before anything locks a chunk, then ACCESS EXCLUSIVE on the chunk, parent
-- before partition as queries lock.  Reading a chunk's size or stats
-- first would hold ACCESS SHARE on it, and two compressions (a manual one
-- and the maintenance worker's) each upgrading to ACCESS EXCLUSIVE would
-- deadlock.  Only for the hypertable's owner: anyone else is refused by
-- zvt._rewrite_chunk, with its own message, and must not queue a lock.
CREATE FUNCTION zvt._compression_lock(parent pg_catalog.regclass, chunk pg_catalog.regclass)
    RETURNS void
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF parent IS NULL OR NOT pg_catalog.pg_has_role(
            (SELECT c.relowner FROM pg_catalog.pg_class c WHERE c.oid = parent), 'USAGE') THEN
        RETURN;
    END IF;
    EXECUTE pg_catalog.format('LOCK TABLE ONLY %s IN SHARE UPDATE EXCLUSIVE MODE', parent);
    IF chunk IS NOT NULL THEN
        EXECUTE pg_catalog.format('LOCK TABLE ONLY %s IN ACCESS EXCLUSIVE MODE', chunk);
    END IF;
END;
$$;
COMMENT ON FUNCTION zvt._compression_lock(pg_catalog.regclass, pg_catalog.regclass) IS
    'Internal: the locks a compression takes first, in order (hypertable, then chunk); for the hypertable''s owner only.';
-- it locks only what its caller owns (LOCK TABLE checks the privilege too)
GRANT EXECUTE ON FUNCTION zvt._compression_lock(pg_catalog.regclass, pg_catalog.regclass) TO PUBLIC;

CREATE FUNCTION zvt.compress_chunk(chunk pg_catalog.regclass)
    RETURNS pg_catalog.regclass
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    parent regclass;
    s zvt._compression_settings;
    seg name[];
    was bool;
    bytes_before int8;
    r record;
BEGIN
    IF chunk IS NULL THEN
        RAISE EXCEPTION 'chunk must not be null' USING ERRCODE = '22023';
    END IF;
    SELECT i.inhparent INTO parent FROM pg_inherits i WHERE i.inhrelid = chunk;
    PERFORM zvt._compression_lock(parent, chunk);
    SELECT * INTO s FROM zvt._compression_settings x WHERE x.relid = parent;
    seg := CASE WHEN FOUND THEN s.segment_by ELSE zvt._default_segment_by(parent) END;
    was := EXISTS (SELECT 1 FROM pg_class c JOIN pg_am am ON am.oid = c.relam
                    WHERE c.oid = chunk AND am.amname = 'zvt_compressed');
    IF NOT was THEN
        bytes_before := pg_total_relation_size(chunk);
    END IF;
    -- checks that chunk is a chunk and the caller owns its hypertable
    SELECT * INTO r FROM zvt._rewrite_chunk(chunk, true, seg, s.order_by);
    IF was THEN
        UPDATE zvt._compressed_chunks SET compressed_at = now() WHERE zvt._compressed_chunks.chunk = $1;
    ELSE
        INSERT INTO zvt._compressed_chunks AS c (chunk, hypertable, rows_before, bytes_before)
        VALUES ($1, parent, r.rows, bytes_before)
        ON CONFLICT ON CONSTRAINT _compressed_chunks_pkey DO UPDATE
           SET hypertable = excluded.hypertable, rows_before = excluded.rows_before,
               bytes_before = excluded.bytes_before, compressed_at = now();
    END IF;
    RETURN chunk;
END;
$$;
COMMENT ON FUNCTION zvt.compress_chunk(pg_catalog.regclass) IS
    'Compress a chunk into column-compressed batches (it stays a partition of its hypertable); compressing it again merges rows written since. Needs the hypertable owner''s privileges.';

CREATE FUNCTION zvt.decompress_chunk(chunk pg_catalog.regclass)
    RETURNS pg_catalog.regclass
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    r record;
BEGIN
    IF chunk IS NULL THEN
        RAISE EXCEPTION 'chunk must not be null' USING ERRCODE = '22023';
    END IF;
    PERFORM zvt._compression_lock((SELECT i.inhparent FROM pg_inherits i WHERE i.inhrelid = chunk), chunk);
    SELECT * INTO r FROM zvt._rewrite_chunk(chunk, false, NULL, NULL);
    IF r.rows IS NULL THEN
        RAISE NOTICE 'chunk % is not compressed', chunk;
    END IF;
    DELETE FROM zvt._compressed_chunks c WHERE c.chunk = $1;
    RETURN chunk;
END;
$$;
COMMENT ON FUNCTION zvt.decompress_chunk(pg_catalog.regclass) IS
    'Turn a compressed chunk back into an ordinary table (UPDATE and DELETE work again). Needs the hypertable owner''s privileges.';

-- -------------------------------------------------------------------
-- Policies
-- -------------------------------------------------------------------

-- 22023 unless order_by is "col [ASC|DESC] [NULLS FIRST|LAST], ..." over
-- columns of relation; 42703 for a segment_by column it lacks
CREATE FUNCTION zvt._check_compression_settings(relation pg_catalog.regclass,
                                                segment_by pg_catalog.name[],
                                                order_by pg_catalog.text)
    RETURNS void
    LANGUAGE plpgsql STABLE
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    col text;
    item text;
    m text[];
BEGIN
    FOREACH col IN ARRAY COALESCE(segment_by, '{}') LOOP
        IF NOT EXISTS (SELECT 1 FROM pg_attribute a WHERE a.attrelid = relation
                          AND a.attname = col AND a.attnum > 0 AND NOT a.attisdropped) THEN
            RAISE EXCEPTION 'column "%" of "%" does not exist', col, relation
                USING ERRCODE = '42703';
        END IF;
    END LOOP;
    FOREACH item IN ARRAY COALESCE(string_to_array(order_by, ','), '{}') LOOP
        m := regexp_match(item, '^\s*("(?:[^"]|"")+"|[A-Za-z_][A-Za-z0-9_$]*)(\s+(?:asc|desc))?(\s+nulls\s+(?:first|last))?\s*$', 'i');
        IF m IS NULL THEN
            RAISE EXCEPTION 'invalid order_by: "%"', order_by
                USING ERRCODE = '22023',
                      HINT = 'Write columns with optional ASC or DESC and NULLS FIRST or LAST, separated by commas: ''ts DESC''.';
        END IF;
        col := CASE WHEN left(m[1], 1) = '"' THEN replace(substr(m[1], 2, length(m[1]) - 2), '""', '"')
                    ELSE lower(m[1]) END;
        IF NOT EXISTS (SELECT 1 FROM pg_attribute a WHERE a.attrelid = relation
                          AND a.attname = col AND a.attnum > 0 AND NOT a.attisdropped) THEN
            RAISE EXCEPTION 'column "%" of "%" does not exist', col, relation
                USING ERRCODE = '42703';
        END IF;
    END LOOP;
END;
$$;
COMMENT ON FUNCTION zvt._check_compression_settings(pg_catalog.regclass, pg_catalog.name[], pg_catalog.text) IS
    'Internal: validate segment_by and order_by of a compression policy.';

CREATE FUNCTION zvt.add_compression_policy(relation pg_catalog.regclass,
                                           compress_after pg_catalog.interval,
                                           segment_by pg_catalog.name[] DEFAULT NULL,
                                           order_by pg_catalog.text DEFAULT NULL,
                                           if_not_exists pg_catalog.bool DEFAULT false)
    RETURNS void
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    h zvt._hypertables := zvt._hypertable_or_error(relation);
BEGIN
    IF compress_after IS NULL OR compress_after <= interval '0' THEN
        RAISE EXCEPTION 'compress_after must be greater than zero'
            USING ERRCODE = '22023';
    END IF;
    PERFORM zvt._check_compression_settings(relation, segment_by, order_by);
    IF EXISTS (SELECT 1 FROM zvt._compression_settings s WHERE s.relid = relation) THEN
        IF if_not_exists THEN
            RAISE NOTICE 'compression policy already exists for "%", skipping', relation;
            RETURN;
        END IF;
        RAISE EXCEPTION 'compression policy already exists for "%"', relation
            USING ERRCODE = '55000',
                  HINT = 'Call zvt.remove_compression_policy first to change it.';
    END IF;
    BEGIN
        INSERT INTO zvt._compression_settings (relid, compress_after, segment_by, order_by)
        VALUES (relation, compress_after, COALESCE(segment_by, zvt._default_segment_by(relation)), order_by);
    EXCEPTION WHEN insufficient_privilege THEN
        RAISE EXCEPTION 'must be owner of table %', relation USING ERRCODE = '42501';
    END;
END;
$$;
COMMENT ON FUNCTION zvt.add_compression_policy(pg_catalog.regclass, pg_catalog.interval, pg_catalog.name[], pg_catalog.text, pg_catalog.bool) IS
    'Have the maintenance worker compress chunks whose data is all older than compress_after, in batches per segment_by value (default instrument_id when the table has it) ordered by order_by (default the time column).';

CREATE FUNCTION zvt.remove_compression_policy(relation pg_catalog.regclass,
                                              if_exists pg_catalog.bool DEFAULT false)
    RETURNS void
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    h zvt._hypertables := zvt._hypertable_or_error(relation);
BEGIN
    IF NOT EXISTS (SELECT 1 FROM zvt._compression_settings s WHERE s.relid = relation) THEN
        IF if_exists THEN
            RAISE NOTICE 'no compression policy for "%", skipping', relation;
            RETURN;
        END IF;
        RAISE EXCEPTION 'no compression policy for "%"', relation
            USING ERRCODE = '42704';
    END IF;
    DELETE FROM zvt._compression_settings s WHERE s.relid = relation;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'must be owner of table %', relation USING ERRCODE = '42501';
    END IF;
END;
$$;
COMMENT ON FUNCTION zvt.remove_compression_policy(pg_catalog.regclass, pg_catalog.bool) IS
    'Stop compressing chunks of a hypertable (chunks compressed already stay compressed).';

-- The policy's part of one maintenance pass (zvt._maintenance_steps, as
-- the table's owner): compress the oldest chunk past compress_after that
-- is not compressed, or whose late rows reach 5% of its rows.  One chunk
-- a pass: the pass is one transaction, and holding ACCESS EXCLUSIVE on
-- several chunks at once could deadlock with a query that locks them in
-- another order.  A chunk whose lock is busy waits for the next pass.
CREATE FUNCTION zvt._compression_steps(rel pg_catalog.regclass)
    RETURNS pg_catalog.int8
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    s zvt._compression_settings;
    c record;
    n int8 := 0;
BEGIN
    SELECT * INTO s FROM zvt._compression_settings x WHERE x.relid = rel;
    IF NOT FOUND THEN
        RETURN 0;
    END IF;
    -- one compression of this table at a time, before the stats below
    -- lock its chunks (see zvt._compression_lock)
    PERFORM zvt._compression_lock(rel, NULL);
    FOR c IN SELECT ch.chunk
               FROM zvt._chunks(rel) ch
               JOIN pg_class cl ON cl.oid = ch.chunk
               LEFT JOIN pg_am am ON am.oid = cl.relam
               LEFT JOIN LATERAL zvt._compressed_stats(ch.chunk) st ON true
              WHERE NOT ch.is_default AND ch.range_end <= now() - s.compress_after
                AND (am.amname IS DISTINCT FROM 'zvt_compressed' OR st.late_rows * 20 >= st.rows AND st.late_rows > 0)
              ORDER BY ch.range_start
              LIMIT 1
    LOOP
        BEGIN
            PERFORM zvt.compress_chunk(c.chunk);
            n := n + 1;
            RAISE LOG 'zvt maintenance of "%": compressed chunk %', rel, c.chunk;
        EXCEPTION WHEN lock_not_available THEN
            RAISE LOG 'zvt maintenance: chunk % is busy, compressing it at the next pass', c.chunk;
        END;
    END LOOP;
    RETURN n;
END;
$$;
COMMENT ON FUNCTION zvt._compression_steps(pg_catalog.regclass) IS
    'Internal: apply a hypertable''s compression policy once, as the caller; part of zvt._maintenance_steps.';
-- it does only what its caller may do (compress_chunk checks)
GRANT EXECUTE ON FUNCTION zvt._compression_steps(pg_catalog.regclass) TO PUBLIC;

-- -------------------------------------------------------------------
-- zvt.chunks
-- -------------------------------------------------------------------

-- A view's row type gets an array type named after it with a leading
-- underscore: zvt._chunks would be that array type, and then
-- zvt._chunks('t') would parse as a cast to it instead of calling the
-- function zvt._chunks.  A placeholder type holds the name while the view
-- is made, so its array type is zvt.__chunks.
CREATE TYPE zvt._chunks AS (placeholder pg_catalog.int4);
CREATE VIEW zvt.chunks WITH (security_invoker = true) AS
SELECT h.relid AS hypertable,
       c.chunk,
       c.range_start,
       c.range_end,
       c.is_default,
       am.amname IS NOT DISTINCT FROM 'zvt_compressed' AS compressed,
       pg_catalog.pg_total_relation_size(c.chunk) + COALESCE(st.batch_bytes, 0) AS total_bytes,
       cc.rows_before,
       cc.bytes_before,
       st.rows AS rows_after,
       pg_catalog.pg_total_relation_size(c.chunk) + st.batch_bytes AS bytes_after,
       st.batches,
       st.late_rows,
       cc.compressed_at
  FROM zvt._hypertables h
 CROSS JOIN LATERAL zvt._chunks(h.relid) c
  JOIN pg_catalog.pg_class cl ON cl.oid = c.chunk
  LEFT JOIN pg_catalog.pg_am am ON am.oid = cl.relam
  LEFT JOIN zvt._compressed_chunks cc ON cc.chunk = c.chunk
  LEFT JOIN LATERAL zvt._compressed_stats(c.chunk) st ON true;
COMMENT ON VIEW zvt.chunks IS
    'Chunks of the hypertables the caller may read, with their compression: bytes and rows before the first compression and now (bytes_after counts the batches, the metapage and the indexes), batches, late_rows inserted, updated or deleted since the last compression.';
GRANT SELECT ON zvt.chunks TO PUBLIC;
DROP TYPE zvt._chunks;

-- Forget dropped chunks' compression records.
-- SECURITY DEFINER: the dropped chunk's owner row no longer passes RLS
CREATE FUNCTION zvt._on_sql_drop_compressed() RETURNS event_trigger
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    DELETE FROM zvt._compressed_chunks c
     USING pg_event_trigger_dropped_objects() d
     WHERE d.classid = 'pg_class'::regclass AND d.objid = c.chunk::oid AND d.objsubid = 0;
    DELETE FROM zvt._compression_settings s
     USING pg_event_trigger_dropped_objects() d
     WHERE d.classid = 'pg_class'::regclass AND d.objid = s.relid::oid AND d.objsubid = 0;
END;
$$;
COMMENT ON FUNCTION zvt._on_sql_drop_compressed() IS
    'Internal: remove dropped tables from the compression catalogs.';
CREATE EVENT TRIGGER zvt_sql_drop_compressed ON sql_drop
    EXECUTE FUNCTION zvt._on_sql_drop_compressed();
