-- zvt install script, built by concatenating sql/NN_*.sql in name order.
--
-- Every object is schema-qualified: the script runs with search_path set to
-- pg_catalog and pg_temp only, so nothing a user put on the path can
-- capture a name.

\echo Use "CREATE EXTENSION zvt" to load this file. \quit

SET LOCAL search_path = pg_catalog, pg_temp;

COMMENT ON SCHEMA zvt IS 'zvt: crypto market data, trading and backtesting';
-- everyone may look up zvt's objects; each object carries its own grants
GRANT USAGE ON SCHEMA zvt TO PUBLIC;

-- 55000 unless zvt was loaded through shared_preload_libraries
CREATE FUNCTION zvt._require_preload(feature text) RETURNS void
    LANGUAGE C STRICT
    AS 'MODULE_PATHNAME', 'zvt_require_preload_sql';
COMMENT ON FUNCTION zvt._require_preload(text) IS
    'Internal: raise 55000 naming the feature unless zvt is in shared_preload_libraries.';
-- ===================================================================
-- Hypertables: time-partitioned tables with chunks made on demand
-- ===================================================================
--
-- A hypertable is a table PARTITION BY RANGE (time_column) whose chunks
-- (partitions) live in schema _zvt_chunks, are created by
-- zvt._ensure_chunk, and whose rows that arrive before their chunk exists
-- wait in a DEFAULT partition until maintenance moves them.  See
-- src/storage/chunk.c for the locking rules.

CREATE SCHEMA _zvt_chunks;
COMMENT ON SCHEMA _zvt_chunks IS 'zvt: chunks (partitions) of hypertables';
-- only zvt (as superuser) creates tables here, so nobody can squat a chunk name
REVOKE ALL ON SCHEMA _zvt_chunks FROM PUBLIC;
-- reading a chunk directly still needs privileges on the chunk itself
GRANT USAGE ON SCHEMA _zvt_chunks TO PUBLIC;

CREATE TABLE zvt._hypertables (
    relid           pg_catalog.regclass PRIMARY KEY,
    time_column     pg_catalog.name NOT NULL,
    chunk_interval  pg_catalog.interval NOT NULL,
    retention       pg_catalog.interval,
    builtin         pg_catalog.bool NOT NULL DEFAULT false,
    created_at      pg_catalog.timestamptz NOT NULL DEFAULT pg_catalog.now()
);
COMMENT ON TABLE zvt._hypertables IS
    'Internal catalog of hypertables; use the zvt.hypertables view.';
-- the catalog is public knowledge; a table's owner edits its own row
ALTER TABLE zvt._hypertables ENABLE ROW LEVEL SECURITY;
CREATE POLICY hypertables_read ON zvt._hypertables FOR SELECT USING (true);
CREATE POLICY hypertables_owner ON zvt._hypertables FOR ALL
    USING (pg_catalog.pg_has_role((SELECT c.relowner FROM pg_catalog.pg_class c
                                    WHERE c.oid = relid), 'USAGE'))
    WITH CHECK (pg_catalog.pg_has_role((SELECT c.relowner FROM pg_catalog.pg_class c
                                         WHERE c.oid = relid), 'USAGE'));
GRANT SELECT, INSERT, UPDATE, DELETE ON zvt._hypertables TO PUBLIC;
SELECT pg_catalog.pg_extension_config_dump('zvt._hypertables', 'WHERE NOT builtin');

-- -------------------------------------------------------------------
-- C primitives (src/storage/chunk.c, src/storage/time_bucket.c)
-- -------------------------------------------------------------------

CREATE FUNCTION zvt._chunks(relation pg_catalog.regclass,
                            OUT chunk pg_catalog.regclass,
                            OUT range_start pg_catalog.timestamptz,
                            OUT range_end pg_catalog.timestamptz,
                            OUT is_default pg_catalog.bool)
    RETURNS SETOF record
    LANGUAGE C STRICT STABLE
    AS 'MODULE_PATHNAME', 'zvt_chunks';
COMMENT ON FUNCTION zvt._chunks(pg_catalog.regclass) IS
    'Internal: the partitions of a table with their range bounds.';

CREATE FUNCTION zvt._ensure_chunk(relation pg_catalog.regclass,
                                  ts pg_catalog.timestamptz,
                                  OUT chunk pg_catalog.regclass,
                                  OUT created pg_catalog.bool,
                                  OUT rows_moved pg_catalog.int8)
    RETURNS record
    LANGUAGE C STRICT VOLATILE
    AS 'MODULE_PATHNAME', 'zvt_ensure_chunk';
COMMENT ON FUNCTION zvt._ensure_chunk(pg_catalog.regclass, pg_catalog.timestamptz) IS
    'The chunk holding ts, created (with its rows moved out of the default partition) when missing. Call before writing in the same transaction.';

CREATE FUNCTION zvt._attach_default(relation pg_catalog.regclass)
    RETURNS pg_catalog.regclass
    LANGUAGE C STRICT VOLATILE
    AS 'MODULE_PATHNAME', 'zvt_attach_default';
COMMENT ON FUNCTION zvt._attach_default(pg_catalog.regclass) IS
    'Internal: create the default partition of a partitioned table in _zvt_chunks.';

CREATE FUNCTION zvt.time_bucket(bucket_width pg_catalog.interval,
                                ts pg_catalog.timestamptz,
                                origin pg_catalog.timestamptz DEFAULT NULL)
    RETURNS pg_catalog.timestamptz
    LANGUAGE C IMMUTABLE PARALLEL SAFE
    AS 'MODULE_PATHNAME', 'zvt_time_bucket';
COMMENT ON FUNCTION zvt.time_bucket(pg_catalog.interval, pg_catalog.timestamptz, pg_catalog.timestamptz) IS
    'Start of the bucket of width bucket_width holding ts, computed in UTC; origin defaults to 2000-01-03 (2000-01-01 for month widths).';

CREATE FUNCTION zvt.time_bucket(bucket_width pg_catalog.interval,
                                ts pg_catalog.timestamp,
                                origin pg_catalog.timestamp DEFAULT NULL)
    RETURNS pg_catalog.timestamp
    LANGUAGE C IMMUTABLE PARALLEL SAFE
    AS 'MODULE_PATHNAME', 'zvt_time_bucket';
COMMENT ON FUNCTION zvt.time_bucket(pg_catalog.interval, pg_catalog.timestamp, pg_catalog.timestamp) IS
    'Start of the bucket of width bucket_width holding ts; origin defaults to 2000-01-03 (2000-01-01 for month widths).';

CREATE FUNCTION zvt.show_chunks(relation pg_catalog.regclass,
                                older_than "any" DEFAULT NULL,
                                newer_than "any" DEFAULT NULL)
    RETURNS SETOF pg_catalog.regclass
    LANGUAGE C STABLE
    AS 'MODULE_PATHNAME', 'zvt_show_chunks';
COMMENT ON FUNCTION zvt.show_chunks(pg_catalog.regclass, "any", "any") IS
    'Chunks of a hypertable by time, optionally only those wholly before older_than and/or wholly at or after newer_than (timestamptz, or an interval before now()).';

CREATE FUNCTION zvt.drop_chunks(relation pg_catalog.regclass,
                                older_than "any",
                                newer_than "any" DEFAULT NULL)
    RETURNS SETOF pg_catalog.text
    LANGUAGE C VOLATILE
    AS 'MODULE_PATHNAME', 'zvt_drop_chunks';
COMMENT ON FUNCTION zvt.drop_chunks(pg_catalog.regclass, "any", "any") IS
    'Drop the chunks wholly before older_than (and/or wholly at or after newer_than); returns their names.';

CREATE FUNCTION zvt.maintenance_status(
        OUT launcher_pid pg_catalog.int4,
        OUT passes pg_catalog.int8,
        OUT failures pg_catalog.int8,
        OUT chunks_created pg_catalog.int8,
        OUT rows_moved pg_catalog.int8,
        OUT chunks_dropped pg_catalog.int8,
        OUT last_pass_start pg_catalog.timestamptz,
        OUT last_pass_end pg_catalog.timestamptz,
        OUT last_error pg_catalog.text)
    RETURNS record
    LANGUAGE C STRICT VOLATILE
    AS 'MODULE_PATHNAME', 'zvt_maintenance_status';
COMMENT ON FUNCTION zvt.maintenance_status() IS
    'Counters of the maintenance worker and of chunk creation since server start.';

-- -------------------------------------------------------------------
-- The hypertables view
-- -------------------------------------------------------------------

CREATE VIEW zvt.hypertables WITH (security_invoker = true) AS
SELECT h.relid AS relation,
       h.time_column,
       h.chunk_interval,
       h.retention,
       (SELECT pg_catalog.count(*) FROM zvt._chunks(h.relid) c
         WHERE NOT c.is_default) AS chunks,
       (SELECT COALESCE(pg_catalog.sum(GREATEST(c.reltuples, 0)), 0)::pg_catalog.int8
          FROM pg_catalog.pg_inherits i
          JOIN pg_catalog.pg_class c ON c.oid = i.inhrelid
         WHERE i.inhparent = h.relid) AS rows_estimate,
       (SELECT COALESCE(pg_catalog.sum(pg_catalog.pg_total_relation_size(i.inhrelid)), 0)::pg_catalog.int8
          FROM pg_catalog.pg_inherits i
         WHERE i.inhparent = h.relid) AS bytes
  FROM zvt._hypertables h;
COMMENT ON VIEW zvt.hypertables IS
    'One row per hypertable: time column, chunk interval, retention, chunk count, estimated rows (from ANALYZE) and bytes on disk.';
GRANT SELECT ON zvt.hypertables TO PUBLIC;

-- -------------------------------------------------------------------
-- create_hypertable
-- -------------------------------------------------------------------

-- 22023 unless iv is a positive fixed length (no months)
CREATE FUNCTION zvt._check_chunk_interval(iv pg_catalog.interval) RETURNS void
    LANGUAGE plpgsql IMMUTABLE
    SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF iv IS NULL THEN
        RAISE EXCEPTION 'chunk_interval must not be null'
            USING ERRCODE = '22023';
    END IF;
    IF extract(year FROM iv) <> 0 OR extract(month FROM iv) <> 0 THEN
        RAISE EXCEPTION 'chunk_interval cannot contain months or years: %', iv
            USING ERRCODE = '22023',
                  HINT = 'Chunks have a fixed length; use days or hours, such as ''30 days''.';
    END IF;
    IF iv <= interval '0' OR extract(day FROM iv) < 0 THEN
        RAISE EXCEPTION 'chunk_interval must be greater than zero: %', iv
            USING ERRCODE = '22023';
    END IF;
END;
$$;
COMMENT ON FUNCTION zvt._check_chunk_interval(pg_catalog.interval) IS
    'Internal: validate a chunk interval.';

-- Objects PostgreSQL would lose or break if the table were rebuilt, as text.
CREATE FUNCTION zvt._conversion_blockers(relation pg_catalog.regclass)
    RETURNS SETOF pg_catalog.text
    LANGUAGE sql STABLE
    SET search_path = pg_catalog, pg_temp
AS $$
    SELECT DISTINCT format('view %s depends on it', r.ev_class::regclass)
      FROM pg_depend d JOIN pg_rewrite r ON r.oid = d.objid
     WHERE d.classid = 'pg_rewrite'::regclass AND d.refobjid = relation
       AND r.ev_class <> relation
    UNION ALL
    SELECT format('foreign key %s on %s', c.conname, c.conrelid::regclass)
      FROM pg_constraint c
     WHERE c.contype = 'f' AND (c.conrelid = relation OR c.confrelid = relation)
    UNION ALL
    SELECT format('policy %s', p.polname) FROM pg_policy p WHERE p.polrelid = relation
    UNION ALL
    SELECT format('trigger %s', t.tgname) FROM pg_trigger t
     WHERE t.tgrelid = relation AND NOT t.tgisinternal
    UNION ALL
    SELECT format('rule %s', r.rulename) FROM pg_rewrite r
     WHERE r.ev_class = relation AND r.rulename <> '_RETURN'
    UNION ALL
    SELECT format('inheritance with %s', i.inhparent::regclass) FROM pg_inherits i
     WHERE i.inhrelid = relation
    UNION ALL
    SELECT format('inheritance with %s', i.inhrelid::regclass) FROM pg_inherits i
     WHERE i.inhparent = relation
    UNION ALL
    SELECT format('publication %s', p.pubname) FROM pg_publication_rel pr
      JOIN pg_publication p ON p.oid = pr.prpubid WHERE pr.prrelid = relation
    UNION ALL
    SELECT format('row-level security is enabled') FROM pg_class c
     WHERE c.oid = relation AND c.relrowsecurity;
$$;
COMMENT ON FUNCTION zvt._conversion_blockers(pg_catalog.regclass) IS
    'Internal: why a table cannot be rebuilt as a partitioned table, one line per dependent object.';

-- Rebuild plain table `relation` as a table partitioned by time_column,
-- with chunks for its rows; returns the new table.
CREATE FUNCTION zvt._convert_table(relation pg_catalog.regclass,
                                   time_column pg_catalog.name,
                                   chunk_interval pg_catalog.interval)
    RETURNS pg_catalog.regclass
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    blockers text;
    nsp name;
    relname name;
    old_name name;
    qold text;
    qnew text;
    newrel regclass;
    cols text;
    b record;
    g record;
    s record;
    tcomment text;
BEGIN
    SELECT string_agg(x, '; ') INTO blockers FROM zvt._conversion_blockers(relation) x;
    IF blockers IS NOT NULL THEN
        RAISE EXCEPTION 'cannot convert table "%" into a hypertable in place', relation
            USING ERRCODE = '0A000',
                  DETAIL = format('PostgreSQL cannot partition an existing table, so zvt rebuilds it, which would break: %s.', blockers),
                  HINT = 'Drop those objects, call zvt.create_hypertable, then create them again; or create the table with PARTITION BY RANGE on its time column.';
    END IF;

    PERFORM 1 FROM pg_index i
      JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attname = time_column
     WHERE i.indrelid = relation AND i.indisunique
       AND NOT (a.attnum = ANY (i.indkey::int2[]));
    IF FOUND THEN
        RAISE EXCEPTION 'unique indexes of a hypertable must include its time column "%"', time_column
            USING ERRCODE = '0A000',
                  DETAIL = 'PostgreSQL can only enforce uniqueness within one partition.',
                  HINT = format('Add %I to the primary key and unique constraints of %s.', time_column, relation);
    END IF;

    SELECT n.nspname, c.relname INTO nsp, relname
      FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
     WHERE c.oid = relation;
    old_name := left(relname, 50) || '_zvt_old';
    qold := format('%I.%I', nsp, old_name);
    qnew := format('%I.%I', nsp, relname);
    tcomment := obj_description(relation, 'pg_class');
    EXECUTE format('LOCK TABLE %s IN ACCESS EXCLUSIVE MODE', relation);

    EXECUTE format('ALTER TABLE %s RENAME TO %I', relation, old_name);
    EXECUTE format('CREATE TABLE %s (LIKE %s INCLUDING ALL) PARTITION BY RANGE (%I)',
                   qnew, qold, time_column);
    newrel := qnew::regclass;
    EXECUTE format('ALTER TABLE %s OWNER TO %I', newrel,
                   (SELECT pg_get_userbyid(c.relowner) FROM pg_class c WHERE c.oid = relation));
    IF tcomment IS NOT NULL THEN
        EXECUTE format('COMMENT ON TABLE %s IS %L', newrel, tcomment);
    END IF;
    -- table privileges (column privileges are not carried over)
    FOR g IN SELECT a.grantee, a.privilege_type, a.is_grantable
               FROM pg_class c, aclexplode(c.relacl) a
              WHERE c.oid = relation AND a.grantee <> c.relowner
    LOOP
        EXECUTE format('GRANT %s ON %s TO %s%s', g.privilege_type, newrel,
                       CASE WHEN g.grantee = 0 THEN 'PUBLIC'
                            ELSE quote_ident(pg_get_userbyid(g.grantee)) END,
                       CASE WHEN g.is_grantable THEN ' WITH GRANT OPTION' ELSE '' END);
    END LOOP;

    INSERT INTO zvt._hypertables (relid, time_column, chunk_interval)
    VALUES (newrel, time_column, chunk_interval);
    PERFORM zvt._attach_default(newrel);

    -- chunks first, so the copy below routes every row straight to its chunk
    FOR b IN EXECUTE format(
        'SELECT DISTINCT zvt.time_bucket($1, %I, %L) AS t FROM %s WHERE %I > %L AND %I < %L',
        time_column, 'epoch', qold, time_column, '-infinity', time_column, 'infinity')
        USING chunk_interval
    LOOP
        PERFORM zvt._ensure_chunk(newrel, b.t::timestamptz);
    END LOOP;

    SELECT string_agg(quote_ident(a.attname), ', ' ORDER BY a.attnum) INTO cols
      FROM pg_attribute a
     WHERE a.attrelid = relation AND a.attnum > 0 AND NOT a.attisdropped
       AND a.attgenerated = '';
    EXECUTE format('INSERT INTO %s (%s) OVERRIDING SYSTEM VALUE SELECT %s FROM %s',
                   newrel, cols, cols, qold);

    -- sequences of serial columns follow the new table; identity columns resume
    FOR s IN SELECT d.objid::regclass AS seq, a.attname, d.deptype
               FROM pg_depend d
               JOIN pg_class sc ON sc.oid = d.objid AND sc.relkind = 'S'
               JOIN pg_attribute a ON a.attrelid = d.refobjid AND a.attnum = d.refobjsubid
              WHERE d.classid = 'pg_class'::regclass AND d.refobjid = relation
                AND d.deptype IN ('a', 'i')
    LOOP
        IF s.deptype = 'a' THEN
            EXECUTE format('ALTER SEQUENCE %s OWNED BY %s.%I', s.seq, newrel, s.attname);
        ELSE
            EXECUTE format('SELECT pg_catalog.setval(%L, last_value, is_called) FROM %s',
                           pg_get_serial_sequence(newrel::text, s.attname), s.seq);
        END IF;
    END LOOP;

    EXECUTE format('DROP TABLE %s', qold);
    RETURN newrel;
END;
$$;
COMMENT ON FUNCTION zvt._convert_table(pg_catalog.regclass, pg_catalog.name, pg_catalog.interval) IS
    'Internal: rebuild a plain table as a hypertable, moving its rows into chunks.';

CREATE FUNCTION zvt.create_hypertable(relation pg_catalog.regclass,
                                      time_column pg_catalog.name,
                                      chunk_interval pg_catalog.interval DEFAULT '1 day',
                                      if_not_exists pg_catalog.bool DEFAULT false)
    RETURNS zvt.hypertables
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    rel record;
    att record;
    part record;
    target regclass := relation;
    result zvt.hypertables;
BEGIN
    IF relation IS NULL OR time_column IS NULL THEN
        RAISE EXCEPTION 'relation and time_column must not be null'
            USING ERRCODE = '22023';
    END IF;
    PERFORM zvt._check_chunk_interval(chunk_interval);

    IF EXISTS (SELECT 1 FROM zvt._hypertables h WHERE h.relid = relation) THEN
        IF if_not_exists THEN
            RAISE NOTICE 'table "%" is already a hypertable, skipping', relation;
            SELECT * INTO result FROM zvt.hypertables h
             WHERE h.relation = create_hypertable.relation;
            RETURN result;
        END IF;
        RAISE EXCEPTION 'table "%" is already a hypertable', relation
            USING ERRCODE = '55000';
    END IF;

    SELECT c.relkind, c.relowner INTO rel FROM pg_class c WHERE c.oid = relation;
    IF rel.relkind NOT IN ('r', 'p') THEN
        RAISE EXCEPTION '"%" is not a table', relation
            USING ERRCODE = '42809';
    END IF;
    IF NOT pg_has_role(rel.relowner, 'USAGE') THEN
        RAISE EXCEPTION 'must be owner of table %', relation
            USING ERRCODE = '42501';
    END IF;

    SELECT a.attnum, a.atttypid INTO att FROM pg_attribute a
     WHERE a.attrelid = relation AND a.attname = time_column
       AND a.attnum > 0 AND NOT a.attisdropped;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'column "%" of relation "%" does not exist', time_column, relation
            USING ERRCODE = '42703';
    END IF;
    IF att.atttypid NOT IN ('timestamptz'::regtype, 'timestamp'::regtype) THEN
        RAISE EXCEPTION 'time column "%" must be of type timestamptz or timestamp, not %',
                        time_column, format_type(att.atttypid, NULL)
            USING ERRCODE = '22023';
    END IF;

    IF rel.relkind = 'p' THEN
        SELECT p.partstrat, p.partnatts, p.partattrs[0] AS attnum INTO part
          FROM pg_partitioned_table p WHERE p.partrelid = relation;
        IF part.partstrat <> 'r' OR part.partnatts <> 1 OR part.attnum <> att.attnum THEN
            RAISE EXCEPTION 'table "%" is partitioned, but not by range on "%" alone', relation, time_column
                USING ERRCODE = '0A000',
                      HINT = 'A hypertable is partitioned BY RANGE on its time column.';
        END IF;
        INSERT INTO zvt._hypertables (relid, time_column, chunk_interval)
        VALUES (relation, time_column, chunk_interval);
        PERFORM zvt._attach_default(relation);
    ELSE
        target := zvt._convert_table(relation, time_column, chunk_interval);
    END IF;

    SELECT * INTO result FROM zvt.hypertables h WHERE h.relation = target;
    RETURN result;
END;
$$;
COMMENT ON FUNCTION zvt.create_hypertable(pg_catalog.regclass, pg_catalog.name, pg_catalog.interval, pg_catalog.bool) IS
    'Turn a table into a hypertable partitioned by time_column in chunks of chunk_interval (UTC multiples from 1970-01-01). A plain table is rebuilt (its OID changes) and its rows move into chunks.';

-- -------------------------------------------------------------------
-- Retention
-- -------------------------------------------------------------------

CREATE FUNCTION zvt._hypertable_or_error(relation pg_catalog.regclass)
    RETURNS zvt._hypertables
    LANGUAGE plpgsql STABLE
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    h zvt._hypertables;
BEGIN
    SELECT * INTO h FROM zvt._hypertables x WHERE x.relid = relation;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'table "%" is not a hypertable', relation
            USING ERRCODE = '42704',
                  HINT = 'Call zvt.create_hypertable first.';
    END IF;
    RETURN h;
END;
$$;
COMMENT ON FUNCTION zvt._hypertable_or_error(pg_catalog.regclass) IS
    'Internal: the catalog row of a hypertable, or 42704.';

CREATE FUNCTION zvt.add_retention_policy(relation pg_catalog.regclass,
                                         drop_after pg_catalog.interval,
                                         if_not_exists pg_catalog.bool DEFAULT false)
    RETURNS void
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    h zvt._hypertables := zvt._hypertable_or_error(relation);
BEGIN
    IF drop_after IS NULL OR drop_after <= interval '0' THEN
        RAISE EXCEPTION 'drop_after must be greater than zero'
            USING ERRCODE = '22023';
    END IF;
    IF h.retention IS NOT NULL THEN
        IF if_not_exists THEN
            RAISE NOTICE 'retention policy already exists for "%", skipping', relation;
            RETURN;
        END IF;
        RAISE EXCEPTION 'retention policy already exists for "%"', relation
            USING ERRCODE = '55000',
                  HINT = 'Call zvt.remove_retention_policy first to change it.';
    END IF;
    UPDATE zvt._hypertables SET retention = drop_after WHERE relid = relation;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'must be owner of table %', relation USING ERRCODE = '42501';
    END IF;
END;
$$;
COMMENT ON FUNCTION zvt.add_retention_policy(pg_catalog.regclass, pg_catalog.interval, pg_catalog.bool) IS
    'Have the maintenance worker drop chunks whose data is all older than drop_after.';

CREATE FUNCTION zvt.remove_retention_policy(relation pg_catalog.regclass,
                                            if_exists pg_catalog.bool DEFAULT false)
    RETURNS void
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    h zvt._hypertables := zvt._hypertable_or_error(relation);
BEGIN
    IF h.retention IS NULL THEN
        IF if_exists THEN
            RAISE NOTICE 'no retention policy for "%", skipping', relation;
            RETURN;
        END IF;
        RAISE EXCEPTION 'no retention policy for "%"', relation
            USING ERRCODE = '42704';
    END IF;
    UPDATE zvt._hypertables SET retention = NULL WHERE relid = relation;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'must be owner of table %', relation USING ERRCODE = '42501';
    END IF;
END;
$$;
COMMENT ON FUNCTION zvt.remove_retention_policy(pg_catalog.regclass, pg_catalog.bool) IS
    'Stop dropping old chunks of a hypertable.';

-- -------------------------------------------------------------------
-- Maintenance
-- -------------------------------------------------------------------

-- One hypertable's pass: chunks ahead of now, retention, then rows waiting
-- in the default partition moved into chunks.
CREATE FUNCTION zvt._maintain_hypertable(rel pg_catalog.regclass,
        OUT relation pg_catalog.regclass,
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
    r record;
    b record;
BEGIN
    relation := rel;
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

    FOR i IN 0 .. ahead LOOP
        SELECT * INTO r FROM zvt._ensure_chunk(rel, now() + i * h.chunk_interval);
        chunks_created := chunks_created + r.created::int;
        rows_moved := rows_moved + r.rows_moved;
    END LOOP;

    IF h.retention IS NOT NULL THEN
        SELECT count(*) INTO chunks_dropped
          FROM zvt.drop_chunks(rel, now() - h.retention);
    END IF;

    SELECT c.chunk INTO deflt FROM zvt._chunks(rel) c WHERE c.is_default;
    IF deflt IS NOT NULL THEN
        FOR b IN EXECUTE format(
            'SELECT DISTINCT zvt.time_bucket($1, %s, %L) AS t FROM ONLY %s
              WHERE %s > %L AND %s < %L',
            tcol, 'epoch', deflt, tcol, '-infinity', tcol, 'infinity')
            USING h.chunk_interval
        LOOP
            SELECT * INTO r FROM zvt._ensure_chunk(rel, b.t);
            chunks_created := chunks_created + r.created::int;
            rows_moved := rows_moved + r.rows_moved;
        END LOOP;
    END IF;
END;
$$;
COMMENT ON FUNCTION zvt._maintain_hypertable(pg_catalog.regclass) IS
    'Internal: one maintenance pass over one hypertable.';

CREATE PROCEDURE zvt.run_maintenance()
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    r record;
BEGIN
    FOR r IN SELECT m.* FROM zvt._hypertables h,
                    LATERAL zvt._maintain_hypertable(h.relid) m
              ORDER BY h.relid
    LOOP
        IF r.chunks_created > 0 OR r.rows_moved > 0 OR r.chunks_dropped > 0 THEN
            RAISE LOG 'zvt maintenance of "%": created % chunks, moved % rows, dropped % chunks',
                r.relation, r.chunks_created, r.rows_moved, r.chunks_dropped;
        END IF;
    END LOOP;
END;
$$;
COMMENT ON PROCEDURE zvt.run_maintenance() IS
    'Do now what the maintenance worker does every zvt.maintenance_naptime: create chunks ahead of now, apply retention policies, move rows out of default partitions.';

-- Forget hypertables that are dropped.
-- SECURITY DEFINER: the dropped table's owner row no longer passes RLS
CREATE FUNCTION zvt._on_sql_drop() RETURNS event_trigger
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    DELETE FROM zvt._hypertables h
     USING pg_event_trigger_dropped_objects() d
     WHERE d.classid = 'pg_class'::regclass AND d.objid = h.relid::oid
       AND d.objsubid = 0;
END;
$$;
COMMENT ON FUNCTION zvt._on_sql_drop() IS
    'Internal: remove dropped tables from the hypertable catalog.';
CREATE EVENT TRIGGER zvt_sql_drop ON sql_drop
    EXECUTE FUNCTION zvt._on_sql_drop();
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
    enabled     pg_catalog.bool NOT NULL DEFAULT true
);
COMMENT ON TABLE zvt.exchanges IS
    'Exchanges zvt connects to. ws_url and rest_url are scheme://host:port bases; each adapter appends its exchange''s real paths, so pointing them at the simulator changes nothing else.';
INSERT INTO zvt.exchanges (name, ws_url, rest_url) VALUES
    ('binance',  'wss://stream.binance.com:9443',          'https://api.binance.com:443'),
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

CREATE FUNCTION zvt.ohlcv(exchange pg_catalog.text, symbol pg_catalog.text,
                          timeframe pg_catalog.interval,
                          start pg_catalog.timestamptz, finish pg_catalog.timestamptz)
    RETURNS SETOF zvt.candles_v
    LANGUAGE plpgsql STABLE
    SET search_path = pg_catalog, pg_temp
AS $$
#variable_conflict use_variable
DECLARE
    iid int;
    secs numeric;
    minutes int;
    upper_ts timestamptz;
BEGIN
    IF timeframe IS NULL OR start IS NULL OR finish IS NULL THEN
        RAISE EXCEPTION 'timeframe, start and finish must not be null'
            USING ERRCODE = '22023';
    END IF;
    IF finish <= start THEN
        RAISE EXCEPTION 'finish (%) must be after start (%)', finish, start
            USING ERRCODE = '22023';
    END IF;
    secs := extract(epoch FROM timeframe);
    IF extract(year FROM timeframe) <> 0 OR extract(month FROM timeframe) <> 0
       OR secs < 60 OR secs % 60 <> 0
       OR NOT (86400 % secs = 0 OR secs = 604800) THEN
        RAISE EXCEPTION 'unsupported timeframe %', timeframe
            USING ERRCODE = '22023',
                  HINT = 'Use a whole number of minutes that divides a day (1m, 5m, 15m, 30m, 1h, 4h, ...), 1 day or 1 week.';
    END IF;
    iid := zvt._instrument_id(exchange, symbol);
    minutes := (secs / 60)::int;
    -- the last bar opening before finish runs to its own end
    upper_ts := zvt.time_bucket(timeframe, finish - interval '1 microsecond') + timeframe;

    RETURN QUERY
    WITH minute AS (
        -- one row per minute: the exchange's candle wins over ours
        SELECT DISTINCT ON (c.ts) c.*
          FROM zvt.candles c
         WHERE c.instrument_id = iid
           AND c.timeframe = interval '1 minute'
           AND c.ts >= start AND c.ts < upper_ts
         ORDER BY c.ts, (c.source = 'exchange') DESC
    ), bucketed AS (
        SELECT zvt.time_bucket(timeframe, m.ts) AS bucket, m.*
          FROM minute m
    )
    SELECT b.bucket,
           exchange,
           symbol,
           iid,
           timeframe,
           (array_agg(b.open ORDER BY b.ts))[1],
           max(b.high),
           min(b.low),
           (array_agg(b.close ORDER BY b.ts DESC))[1],
           sum(b.volume),
           sum(b.quote_volume),
           sum(b.trade_count)::int8,
           bool_and(b.closed) AND count(*) = minutes,
           CASE WHEN bool_and(b.source = 'exchange') THEN 'exchange' ELSE 'trades' END,
           max(b.local_ts)
      FROM bucketed b
     WHERE b.bucket >= start AND b.bucket < finish
     GROUP BY b.bucket
     ORDER BY b.bucket;
END;
$$;
COMMENT ON FUNCTION zvt.ohlcv(pg_catalog.text, pg_catalog.text, pg_catalog.interval, pg_catalog.timestamptz, pg_catalog.timestamptz) IS
    'Candles of any timeframe (whole minutes dividing a day, 1 day, 1 week) whose open lies in [start, finish), rolled up from stored 1m candles (source exchange preferred); closed only when all constituent minutes are present and closed.';
GRANT EXECUTE ON FUNCTION zvt.ohlcv(pg_catalog.text, pg_catalog.text, pg_catalog.interval, pg_catalog.timestamptz, pg_catalog.timestamptz) TO PUBLIC;
-- ===================================================================
-- The market bus: each instrument's last trade and best bid/ask in
-- shared memory (src/bus/bus.c), readable without touching a table
-- ===================================================================

CREATE FUNCTION zvt._last_price(instrument_id pg_catalog.int4) RETURNS pg_catalog.float8
    LANGUAGE C STRICT VOLATILE PARALLEL RESTRICTED
    AS 'MODULE_PATHNAME', 'zvt_last_price';
COMMENT ON FUNCTION zvt._last_price(pg_catalog.int4) IS
    'Internal: the bus''s last trade price of an instrument id, NULL before any.';

CREATE FUNCTION zvt._bus_entries(
        OUT instrument_id pg_catalog.int4, OUT last pg_catalog.float8, OUT last_qty pg_catalog.float8,
        OUT last_ts pg_catalog.timestamptz, OUT bid pg_catalog.float8, OUT bid_qty pg_catalog.float8,
        OUT ask pg_catalog.float8, OUT ask_qty pg_catalog.float8, OUT quote_ts pg_catalog.timestamptz,
        OUT updates pg_catalog.int8)
    RETURNS SETOF record
    LANGUAGE C VOLATILE PARALLEL RESTRICTED
    AS 'MODULE_PATHNAME', 'zvt_bus_entries';
COMMENT ON FUNCTION zvt._bus_entries() IS 'Internal: every instrument on the market bus.';

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

-- an instrument that is deleted leaves the bus (its id may come back)
CREATE FUNCTION zvt._bus_forget() RETURNS trigger
    LANGUAGE C
    AS 'MODULE_PATHNAME', 'zvt_bus_forget_trigger';
COMMENT ON FUNCTION zvt._bus_forget() IS 'Internal: remove deleted instruments from the market bus.';
CREATE TRIGGER instruments_leave_bus AFTER DELETE ON zvt.instruments
    FOR EACH ROW EXECUTE FUNCTION zvt._bus_forget();
-- ===================================================================
-- Feeds: what the feed workers subscribe to, and the gaps they saw
-- ===================================================================

CREATE TABLE zvt.subscriptions (
    id          pg_catalog.int8 GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    exchange    pg_catalog.text NOT NULL REFERENCES zvt.exchanges (name) ON UPDATE CASCADE,
    symbol      pg_catalog.text NOT NULL,
    channel     pg_catalog.text NOT NULL,
    created_at  pg_catalog.timestamptz NOT NULL DEFAULT pg_catalog.now(),
    UNIQUE (exchange, symbol, channel)
);
COMMENT ON TABLE zvt.subscriptions IS
    'Market-data streams the feed workers keep; change with zvt.subscribe and zvt.unsubscribe.';
SELECT pg_catalog.pg_extension_config_dump('zvt.subscriptions', '');
SELECT pg_catalog.pg_extension_config_dump('zvt.subscriptions_id_seq', '');
GRANT SELECT ON zvt.subscriptions TO PUBLIC;

CREATE TABLE zvt.feed_gaps (
    id          pg_catalog.int8 GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    exchange    pg_catalog.text NOT NULL,
    symbol      pg_catalog.text NOT NULL,
    channel     pg_catalog.text NOT NULL,
    from_ts     pg_catalog.timestamptz NOT NULL,
    to_ts       pg_catalog.timestamptz,
    reason      pg_catalog.text NOT NULL,
    detected_at pg_catalog.timestamptz NOT NULL DEFAULT pg_catalog.now(),
    repaired_at pg_catalog.timestamptz,
    CHECK (to_ts IS NULL OR to_ts >= from_ts)
);
COMMENT ON TABLE zvt.feed_gaps IS
    'Periods a feed may have missed (disconnects, sequence gaps): from the last message before to the first after, with the reason; repaired_at is set once backfilled.';
SELECT pg_catalog.pg_extension_config_dump('zvt.feed_gaps', '');
SELECT pg_catalog.pg_extension_config_dump('zvt.feed_gaps_id_seq', '');
GRANT SELECT ON zvt.feed_gaps TO PUBLIC;

CREATE FUNCTION zvt._subscriptions_changed() RETURNS void
    LANGUAGE C VOLATILE
    AS 'MODULE_PATHNAME', 'zvt_subscriptions_changed';
COMMENT ON FUNCTION zvt._subscriptions_changed() IS
    'Internal: make feed workers re-read zvt.subscriptions when this transaction commits.';

-- Channels a subscription may name.
CREATE FUNCTION zvt.channels() RETURNS SETOF pg_catalog.text
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$
    VALUES ('trades'), ('quotes'), ('candles_1m'), ('candles_5m'), ('candles_15m'),
           ('candles_1h'), ('candles_4h'), ('candles_1d')
$$;
COMMENT ON FUNCTION zvt.channels() IS 'The channels zvt.subscribe accepts.';

-- Validate a subscription's arguments; returns the normalized symbol.
CREATE FUNCTION zvt._check_subscription(exchange pg_catalog.text,
                                        symbol pg_catalog.text,
                                        channel pg_catalog.text)
    RETURNS pg_catalog.text
    LANGUAGE plpgsql STABLE
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    sym text := upper(btrim(symbol));
BEGIN
    PERFORM zvt._check_exchange(exchange);
    IF channel = 'book' THEN
        RAISE EXCEPTION 'channel "book" is not supported yet'
            USING ERRCODE = '0A000',
                  DETAIL = 'Order books are not stored by this version of zvt.';
    END IF;
    IF channel IS NULL OR channel NOT IN (SELECT zvt.channels()) THEN
        RAISE EXCEPTION 'unknown channel "%"', channel
            USING ERRCODE = '22023',
                  HINT = 'Use one of: ' || (SELECT string_agg(c, ', ') FROM zvt.channels() c) || '.';
    END IF;
    IF sym IS NULL OR sym !~ '^[A-Z0-9]+-[A-Z0-9]+(-PERP)?$' THEN
        RAISE EXCEPTION 'invalid symbol "%"', symbol
            USING ERRCODE = '22023',
                  HINT = 'Use BASE-QUOTE for spot or BASE-QUOTE-PERP for perpetuals, such as BTC-USDT or BTC-USDT-PERP.';
    END IF;
    -- once the exchange's instruments are known, the symbol must be one of them
    IF EXISTS (SELECT 1 FROM zvt.instruments i WHERE i.exchange = _check_subscription.exchange)
       AND NOT EXISTS (SELECT 1 FROM zvt.instruments i
                        WHERE i.exchange = _check_subscription.exchange AND i.symbol = sym) THEN
        RAISE EXCEPTION 'unknown symbol "%" on exchange "%"', sym, exchange
            USING ERRCODE = '42704',
                  HINT = 'zvt.instruments lists the exchange''s symbols.';
    END IF;
    RETURN sym;
END;
$$;
COMMENT ON FUNCTION zvt._check_subscription(pg_catalog.text, pg_catalog.text, pg_catalog.text) IS
    'Internal: validate exchange, symbol and channel of a subscription.';

CREATE FUNCTION zvt.subscribe(exchange pg_catalog.text, symbol pg_catalog.text,
                              channel pg_catalog.text)
    RETURNS zvt.subscriptions
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    sym text := zvt._check_subscription(exchange, symbol, channel);
    result zvt.subscriptions;
BEGIN
    PERFORM zvt._require_preload('zvt.subscribe');
    PERFORM zvt._subscriptions_changed();
    INSERT INTO zvt.subscriptions AS s (exchange, symbol, channel)
    VALUES (subscribe.exchange, sym, subscribe.channel)
    ON CONFLICT ON CONSTRAINT subscriptions_exchange_symbol_channel_key DO NOTHING
    RETURNING s.* INTO result;
    IF NOT FOUND THEN
        SELECT s.* INTO result FROM zvt.subscriptions s
         WHERE s.exchange = subscribe.exchange AND s.symbol = sym
           AND s.channel = subscribe.channel;
    END IF;
    RETURN result;
END;
$$;
COMMENT ON FUNCTION zvt.subscribe(pg_catalog.text, pg_catalog.text, pg_catalog.text) IS
    'Have the exchange''s feed worker stream a channel of a symbol (idempotent; returns the subscription).';

CREATE FUNCTION zvt.unsubscribe(exchange pg_catalog.text, symbol pg_catalog.text,
                                channel pg_catalog.text)
    RETURNS pg_catalog.bool
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    sym text := zvt._check_subscription(exchange, symbol, channel);
BEGIN
    PERFORM zvt._subscriptions_changed();
    DELETE FROM zvt.subscriptions s
     WHERE s.exchange = unsubscribe.exchange AND s.symbol = sym
       AND s.channel = unsubscribe.channel;
    RETURN FOUND;
END;
$$;
COMMENT ON FUNCTION zvt.unsubscribe(pg_catalog.text, pg_catalog.text, pg_catalog.text) IS
    'Stop streaming a channel of a symbol; false when there was no such subscription.';

CREATE FUNCTION zvt.sync_instruments(exchange pg_catalog.text) RETURNS pg_catalog.int4
    LANGUAGE C STRICT VOLATILE
    AS 'MODULE_PATHNAME', 'zvt_sync_instruments';
COMMENT ON FUNCTION zvt.sync_instruments(pg_catalog.text) IS
    'Fetch the exchange''s instrument list over REST (in this backend, bounded by zvt.rest_timeout, cancellable) and upsert it into zvt.instruments; returns how many it lists. Instruments it no longer lists become status delisted.';
-- an admin call: it writes zvt.instruments, which only zvt's owner may
REVOKE ALL ON FUNCTION zvt.sync_instruments(pg_catalog.text) FROM PUBLIC;

CREATE FUNCTION zvt._feed_stats(
        OUT exchange pg_catalog.text, OUT pid pg_catalog.int4, OUT state pg_catalog.text,
        OUT connected_since pg_catalog.timestamptz, OUT last_message_at pg_catalog.timestamptz,
        OUT messages pg_catalog.int8, OUT events pg_catalog.int8, OUT rows_written pg_catalog.int8,
        OUT parse_errors pg_catalog.int8, OUT exchange_errors pg_catalog.int8,
        OUT reconnects pg_catalog.int8)
    RETURNS SETOF record
    LANGUAGE C VOLATILE
    AS 'MODULE_PATHNAME', 'zvt_feed_stats';
COMMENT ON FUNCTION zvt._feed_stats() IS 'Internal: the feed workers'' counters in shared memory.';

CREATE VIEW zvt.feed_status WITH (security_invoker = true) AS
SELECT f.exchange, f.exchange AS connection, f.state, f.pid, f.connected_since, f.messages,
       f.events, f.rows_written, f.parse_errors, f.exchange_errors, f.reconnects,
       f.last_message_at, pg_catalog.now() - f.last_message_at AS lag
  FROM zvt._feed_stats() f;
COMMENT ON VIEW zvt.feed_status IS
    'One row per exchange feed: state, counters since server start (messages, events parsed, rows written, malformed messages skipped, exchange error replies, reconnects) and the time since the last message.';
GRANT SELECT ON zvt.feed_status TO PUBLIC;
-- ===================================================================
-- Indicators as aggregates, usable as window functions:
--   SELECT zvt.ema(close, 12) OVER (ORDER BY ts) FROM ...
-- The state machines are src/backtest/indicators.c, shared with the
-- backtest engine; definitions follow TA-Lib (see that file's head).
-- ===================================================================

CREATE TYPE zvt.macd_t AS (line pg_catalog.float8, signal pg_catalog.float8, histogram pg_catalog.float8);
COMMENT ON TYPE zvt.macd_t IS 'MACD line (EMA fast - EMA slow), its signal EMA, and their difference.';
CREATE TYPE zvt.bollinger_t AS (mid pg_catalog.float8, upper pg_catalog.float8, lower pg_catalog.float8);
COMMENT ON TYPE zvt.bollinger_t IS 'Bollinger bands: SMA and SMA +- k population standard deviations.';

CREATE FUNCTION zvt._ema_step(internal, pg_catalog.float8, pg_catalog.int4) RETURNS internal
    LANGUAGE C IMMUTABLE PARALLEL SAFE AS 'MODULE_PATHNAME', 'zvt_ema_step';
CREATE FUNCTION zvt._ema_final(internal) RETURNS pg_catalog.float8
    LANGUAGE C IMMUTABLE PARALLEL SAFE AS 'MODULE_PATHNAME', 'zvt_ema_final';
CREATE AGGREGATE zvt.ema(value pg_catalog.float8, period pg_catalog.int4) (
    SFUNC = zvt._ema_step, STYPE = internal, FINALFUNC = zvt._ema_final, FINALFUNC_MODIFY = READ_ONLY);
COMMENT ON AGGREGATE zvt.ema(pg_catalog.float8, pg_catalog.int4) IS
    'Exponential moving average (alpha = 2/(period+1), seeded with the average of the first period values); NULL before that.';

CREATE FUNCTION zvt._rsi_step(internal, pg_catalog.float8, pg_catalog.int4) RETURNS internal
    LANGUAGE C IMMUTABLE PARALLEL SAFE AS 'MODULE_PATHNAME', 'zvt_rsi_step';
CREATE FUNCTION zvt._rsi_final(internal) RETURNS pg_catalog.float8
    LANGUAGE C IMMUTABLE PARALLEL SAFE AS 'MODULE_PATHNAME', 'zvt_rsi_final';
CREATE AGGREGATE zvt.rsi(value pg_catalog.float8, period pg_catalog.int4) (
    SFUNC = zvt._rsi_step, STYPE = internal, FINALFUNC = zvt._rsi_final, FINALFUNC_MODIFY = READ_ONLY);
COMMENT ON AGGREGATE zvt.rsi(pg_catalog.float8, pg_catalog.int4) IS
    'Relative strength index with Wilder''s smoothing; NULL until period changes have been seen.';

CREATE FUNCTION zvt._macd_step(internal, pg_catalog.float8, pg_catalog.int4, pg_catalog.int4, pg_catalog.int4)
    RETURNS internal LANGUAGE C IMMUTABLE PARALLEL SAFE AS 'MODULE_PATHNAME', 'zvt_macd_step';
CREATE FUNCTION zvt._macd_final(internal) RETURNS zvt.macd_t
    LANGUAGE C IMMUTABLE PARALLEL SAFE AS 'MODULE_PATHNAME', 'zvt_macd_final';
CREATE AGGREGATE zvt.macd(value pg_catalog.float8, fast pg_catalog.int4, slow pg_catalog.int4, signal pg_catalog.int4) (
    SFUNC = zvt._macd_step, STYPE = internal, FINALFUNC = zvt._macd_final, FINALFUNC_MODIFY = READ_ONLY);
COMMENT ON AGGREGATE zvt.macd(pg_catalog.float8, pg_catalog.int4, pg_catalog.int4, pg_catalog.int4) IS
    'MACD: EMA(fast) - EMA(slow), its EMA(signal), and the histogram.';

CREATE FUNCTION zvt._bollinger_step(internal, pg_catalog.float8, pg_catalog.int4, pg_catalog.float8)
    RETURNS internal LANGUAGE C IMMUTABLE PARALLEL SAFE AS 'MODULE_PATHNAME', 'zvt_bollinger_step';
CREATE FUNCTION zvt._bollinger_final(internal) RETURNS zvt.bollinger_t
    LANGUAGE C IMMUTABLE PARALLEL SAFE AS 'MODULE_PATHNAME', 'zvt_bollinger_final';
CREATE AGGREGATE zvt.bollinger(value pg_catalog.float8, period pg_catalog.int4, k pg_catalog.float8) (
    SFUNC = zvt._bollinger_step, STYPE = internal, FINALFUNC = zvt._bollinger_final, FINALFUNC_MODIFY = READ_ONLY);
COMMENT ON AGGREGATE zvt.bollinger(pg_catalog.float8, pg_catalog.int4, pg_catalog.float8) IS
    'Bollinger bands over the last period values: mid = SMA, upper/lower = mid +- k population standard deviations.';

CREATE FUNCTION zvt._atr_step(internal, pg_catalog.float8, pg_catalog.float8, pg_catalog.float8, pg_catalog.int4)
    RETURNS internal LANGUAGE C IMMUTABLE PARALLEL SAFE AS 'MODULE_PATHNAME', 'zvt_atr_step';
CREATE FUNCTION zvt._atr_final(internal) RETURNS pg_catalog.float8
    LANGUAGE C IMMUTABLE PARALLEL SAFE AS 'MODULE_PATHNAME', 'zvt_atr_final';
CREATE AGGREGATE zvt.atr(high pg_catalog.float8, low pg_catalog.float8, close pg_catalog.float8, period pg_catalog.int4) (
    SFUNC = zvt._atr_step, STYPE = internal, FINALFUNC = zvt._atr_final, FINALFUNC_MODIFY = READ_ONLY);
COMMENT ON AGGREGATE zvt.atr(pg_catalog.float8, pg_catalog.float8, pg_catalog.float8, pg_catalog.int4) IS
    'Average true range with Wilder''s smoothing, seeded with the average of the first period true ranges.';

CREATE FUNCTION zvt._vwap_step(internal, pg_catalog.float8, pg_catalog.float8) RETURNS internal
    LANGUAGE C IMMUTABLE PARALLEL SAFE AS 'MODULE_PATHNAME', 'zvt_vwap_step';
CREATE FUNCTION zvt._vwap_final(internal) RETURNS pg_catalog.float8
    LANGUAGE C IMMUTABLE PARALLEL SAFE AS 'MODULE_PATHNAME', 'zvt_vwap_final';
CREATE AGGREGATE zvt.vwap(price pg_catalog.float8, qty pg_catalog.float8) (
    SFUNC = zvt._vwap_step, STYPE = internal, FINALFUNC = zvt._vwap_final, FINALFUNC_MODIFY = READ_ONLY);
COMMENT ON AGGREGATE zvt.vwap(pg_catalog.float8, pg_catalog.float8) IS
    'Volume-weighted average price: sum(price * qty) / sum(qty).';

COMMENT ON FUNCTION zvt._ema_step(internal, pg_catalog.float8, pg_catalog.int4) IS 'Internal: zvt.ema step.';
COMMENT ON FUNCTION zvt._ema_final(internal) IS 'Internal: zvt.ema value.';
COMMENT ON FUNCTION zvt._rsi_step(internal, pg_catalog.float8, pg_catalog.int4) IS 'Internal: zvt.rsi step.';
COMMENT ON FUNCTION zvt._rsi_final(internal) IS 'Internal: zvt.rsi value.';
COMMENT ON FUNCTION zvt._macd_step(internal, pg_catalog.float8, pg_catalog.int4, pg_catalog.int4, pg_catalog.int4) IS 'Internal: zvt.macd step.';
COMMENT ON FUNCTION zvt._macd_final(internal) IS 'Internal: zvt.macd value.';
COMMENT ON FUNCTION zvt._bollinger_step(internal, pg_catalog.float8, pg_catalog.int4, pg_catalog.float8) IS 'Internal: zvt.bollinger step.';
COMMENT ON FUNCTION zvt._bollinger_final(internal) IS 'Internal: zvt.bollinger value.';
COMMENT ON FUNCTION zvt._atr_step(internal, pg_catalog.float8, pg_catalog.float8, pg_catalog.float8, pg_catalog.int4) IS 'Internal: zvt.atr step.';
COMMENT ON FUNCTION zvt._atr_final(internal) IS 'Internal: zvt.atr value.';
COMMENT ON FUNCTION zvt._vwap_step(internal, pg_catalog.float8, pg_catalog.float8) IS 'Internal: zvt.vwap step.';
COMMENT ON FUNCTION zvt._vwap_final(internal) IS 'Internal: zvt.vwap value.';
-- ===================================================================
-- Backtests: zvt.backtest runs a built-in strategy, a signals query or a
-- step function through the C fill engine (src/backtest/) over closed
-- candles from zvt.ohlcv and keeps the run, its trades and its equity
-- curve here; zvt.backtest_grid sweeps a built-in strategy's parameters.
-- ===================================================================

CREATE TABLE zvt.backtest_runs (
    run_id              pg_catalog.int8 GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    created_at          pg_catalog.timestamptz NOT NULL DEFAULT pg_catalog.now(),
    created_by          pg_catalog.name NOT NULL DEFAULT CURRENT_USER,
    strategy            pg_catalog.text NOT NULL,
    exchange            pg_catalog.text NOT NULL,
    symbol              pg_catalog.text NOT NULL,
    timeframe           pg_catalog.interval NOT NULL,
    start               pg_catalog.timestamptz NOT NULL,
    finish              pg_catalog.timestamptz NOT NULL,
    params              pg_catalog.jsonb NOT NULL,
    initial_cash        pg_catalog.float8 NOT NULL,
    fee_bps             pg_catalog.float8 NOT NULL,
    slippage_bps        pg_catalog.float8 NOT NULL,
    store               pg_catalog.text NOT NULL,
    bars                pg_catalog.int8 NOT NULL,
    first_bar           pg_catalog.timestamptz NOT NULL,
    last_bar            pg_catalog.timestamptz NOT NULL,
    final_equity        pg_catalog.float8 NOT NULL,
    total_return        pg_catalog.float8,
    cagr                pg_catalog.float8,
    volatility          pg_catalog.float8,
    sharpe              pg_catalog.float8,
    sortino             pg_catalog.float8,
    calmar              pg_catalog.float8,
    max_drawdown        pg_catalog.float8,
    max_drawdown_pct    pg_catalog.float8,
    max_drawdown_start  pg_catalog.timestamptz,
    max_drawdown_end    pg_catalog.timestamptz,
    trades              pg_catalog.int8 NOT NULL,
    win_rate            pg_catalog.float8,
    profit_factor       pg_catalog.float8,
    expectancy          pg_catalog.float8,
    avg_win             pg_catalog.float8,
    avg_loss            pg_catalog.float8,
    best_trade          pg_catalog.float8,
    worst_trade         pg_catalog.float8,
    exposure_pct        pg_catalog.float8,
    fees_paid           pg_catalog.float8 NOT NULL,
    market_change       pg_catalog.float8,
    open_at_end         pg_catalog.bool NOT NULL
);
COMMENT ON TABLE zvt.backtest_runs IS
    'One row per zvt.backtest run: its parameters and every metric (definitions in docs/backtesting.md); NULL where a metric is undefined.';

CREATE TABLE zvt.backtest_trades (
    run_id          pg_catalog.int8 NOT NULL REFERENCES zvt.backtest_runs ON DELETE CASCADE,
    trade_no        pg_catalog.int4 NOT NULL,
    entry_ts        pg_catalog.timestamptz NOT NULL,
    entry_price     pg_catalog.float8 NOT NULL,
    exit_ts         pg_catalog.timestamptz NOT NULL,
    exit_price      pg_catalog.float8 NOT NULL,
    qty             pg_catalog.float8 NOT NULL,
    side            pg_catalog.text NOT NULL CHECK (side IN ('long', 'short')),
    pnl             pg_catalog.float8 NOT NULL,
    fees            pg_catalog.float8 NOT NULL,
    exit_reason     pg_catalog.text NOT NULL,
    PRIMARY KEY (run_id, trade_no)
);
COMMENT ON TABLE zvt.backtest_trades IS
    'Round trips of a backtest run, flat to flat: average entry and exit fill prices (slippage included), the largest size held, pnl net of fees; exit_reason is signal, stop_loss, take_profit, trailing_stop or end (still open at the last bar, closed at its close).';

CREATE TABLE zvt.backtest_equity (
    run_id      pg_catalog.int8 NOT NULL REFERENCES zvt.backtest_runs ON DELETE CASCADE,
    ts          pg_catalog.timestamptz NOT NULL,
    equity      pg_catalog.float8 NOT NULL,
    cash        pg_catalog.float8 NOT NULL,
    position    pg_catalog.float8 NOT NULL,
    drawdown    pg_catalog.float8 NOT NULL,
    PRIMARY KEY (run_id, ts)
);
COMMENT ON TABLE zvt.backtest_equity IS
    'Equity curve of a backtest run at bar closes (ts is the bar''s open time): every bar with store => ''all'', the last bar of each UTC day with store => ''trades''; drawdown is the fraction below the running peak.';

-- runs are user data: pg_dump keeps them
SELECT pg_catalog.pg_extension_config_dump('zvt.backtest_runs', '');
SELECT pg_catalog.pg_extension_config_dump('zvt.backtest_runs_run_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('zvt.backtest_trades', '');
SELECT pg_catalog.pg_extension_config_dump('zvt.backtest_equity', '');

GRANT SELECT, INSERT, DELETE ON zvt.backtest_runs, zvt.backtest_trades, zvt.backtest_equity TO PUBLIC;

CREATE FUNCTION zvt.backtest(strategy pg_catalog.text, exchange pg_catalog.text, symbol pg_catalog.text,
                             timeframe pg_catalog.interval,
                             start pg_catalog.timestamptz, finish pg_catalog.timestamptz,
                             params pg_catalog.jsonb DEFAULT '{}',
                             initial_cash pg_catalog.numeric DEFAULT 10000,
                             fee_bps pg_catalog.numeric DEFAULT 10,
                             slippage_bps pg_catalog.numeric DEFAULT 0,
                             signals pg_catalog.text DEFAULT NULL,
                             step_fn pg_catalog.regprocedure DEFAULT NULL,
                             store pg_catalog.text DEFAULT 'trades')
    RETURNS zvt.backtest_runs
    LANGUAGE C VOLATILE CALLED ON NULL INPUT AS 'MODULE_PATHNAME', 'zvt_backtest';
COMMENT ON FUNCTION zvt.backtest(pg_catalog.text, pg_catalog.text, pg_catalog.text, pg_catalog.interval, pg_catalog.timestamptz, pg_catalog.timestamptz, pg_catalog.jsonb, pg_catalog.numeric, pg_catalog.numeric, pg_catalog.numeric, pg_catalog.text, pg_catalog.regprocedure, pg_catalog.text) IS
    'Run a built-in strategy (or strategy ''signals'' with a signals query returning (ts, target), or ''step_fn'' with a function f(bar zvt.candles_v, INOUT state jsonb, OUT target float8) called once per closed bar with a state kept between calls) over the closed candles of (exchange, symbol, timeframe) in [start, finish): signals at a bar''s close fill at the next open; stores the run (store: metrics, trades, all) and returns it.';
GRANT EXECUTE ON FUNCTION zvt.backtest(pg_catalog.text, pg_catalog.text, pg_catalog.text, pg_catalog.interval, pg_catalog.timestamptz, pg_catalog.timestamptz, pg_catalog.jsonb, pg_catalog.numeric, pg_catalog.numeric, pg_catalog.numeric, pg_catalog.text, pg_catalog.regprocedure, pg_catalog.text) TO PUBLIC;

CREATE FUNCTION zvt.backtest_grid(strategy pg_catalog.text, exchange pg_catalog.text, symbol pg_catalog.text,
                                  timeframe pg_catalog.interval,
                                  start pg_catalog.timestamptz, finish pg_catalog.timestamptz,
                                  grid pg_catalog.jsonb,
                                  sort_by pg_catalog.text DEFAULT 'sharpe',
                                  params pg_catalog.jsonb DEFAULT '{}',
                                  initial_cash pg_catalog.numeric DEFAULT 10000,
                                  fee_bps pg_catalog.numeric DEFAULT 10,
                                  slippage_bps pg_catalog.numeric DEFAULT 0,
                                  descending pg_catalog.bool DEFAULT true,
                                  workers pg_catalog.int4 DEFAULT NULL)
    RETURNS SETOF zvt.backtest_runs
    LANGUAGE C VOLATILE CALLED ON NULL INPUT ROWS 100 AS 'MODULE_PATHNAME', 'zvt_backtest_grid';
COMMENT ON FUNCTION zvt.backtest_grid(pg_catalog.text, pg_catalog.text, pg_catalog.text, pg_catalog.interval, pg_catalog.timestamptz, pg_catalog.timestamptz, pg_catalog.jsonb, pg_catalog.text, pg_catalog.jsonb, pg_catalog.numeric, pg_catalog.numeric, pg_catalog.numeric, pg_catalog.bool, pg_catalog.int4) IS
    'Run a built-in strategy for every combination of the grid (a JSON object of arrays of values, such as {"fast": [5, 10], "slow": [50, 100]}; params holds the fixed ones) over the same closed candles, in parallel (workers: NULL = max_parallel_workers_per_gather); combinations the strategy rejects are skipped with a NOTICE; stores each run with store = metrics and returns them sorted by sort_by (a metric column, NULLs last).';
-- like zvt.backtest: anyone may run one; runs are the caller's, through the table grants
GRANT EXECUTE ON FUNCTION zvt.backtest_grid(pg_catalog.text, pg_catalog.text, pg_catalog.text, pg_catalog.interval, pg_catalog.timestamptz, pg_catalog.timestamptz, pg_catalog.jsonb, pg_catalog.text, pg_catalog.jsonb, pg_catalog.numeric, pg_catalog.numeric, pg_catalog.numeric, pg_catalog.bool, pg_catalog.int4) TO PUBLIC;
-- ===================================================================
-- Trading core, part 1: the ledger (accounts, balances, orders, fills,
-- holdings, order events, risk limits), who may see and use what, and
-- the account functions.  Orders and matching are in 55_orders.sql.
--
-- Users never write these tables: each public trading function is the C
-- trampoline zvt_ledger_call (src/trading/ledger_call.c), which notes the
-- caller (GetUserId()) and runs the body zvt._<name>(caller, ...) as the
-- extension's owner; the body checks the caller's right to the account.
-- Row-level security shows each role only the accounts it owns or was
-- granted (members of zvt_admin see all).
-- ===================================================================

DO $roles$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = 'zvt_admin') THEN
        CREATE ROLE zvt_admin NOLOGIN;
    END IF;
END
$roles$;

CREATE TABLE zvt.accounts (
    account_id      pg_catalog.int4 GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name            pg_catalog.text NOT NULL UNIQUE CHECK (name <> ''),
    kind            pg_catalog.text NOT NULL CHECK (kind IN ('paper', 'live')),
    exchange        pg_catalog.text REFERENCES zvt.exchanges (name) ON UPDATE CASCADE,
    currency        pg_catalog.text NOT NULL CHECK (currency <> ''),
    owner           pg_catalog.regrole NOT NULL,
    state           pg_catalog.text NOT NULL DEFAULT 'active'
                    CHECK (state IN ('active', 'reducing', 'halted')),
    leverage        pg_catalog.numeric NOT NULL DEFAULT 1 CHECK (leverage >= 1 AND leverage <= 125),
    maker_fee_bps   pg_catalog.numeric NOT NULL DEFAULT 10 CHECK (maker_fee_bps > -100 AND maker_fee_bps < 1000),
    taker_fee_bps   pg_catalog.numeric NOT NULL DEFAULT 10 CHECK (taker_fee_bps >= 0 AND taker_fee_bps < 1000),
    slippage_bps    pg_catalog.numeric NOT NULL DEFAULT 0 CHECK (slippage_bps >= 0 AND slippage_bps < 10000),
    initial_cash    pg_catalog.numeric NOT NULL CHECK (initial_cash >= 0),
    created_at      pg_catalog.timestamptz NOT NULL DEFAULT pg_catalog.now()
);
COMMENT ON TABLE zvt.accounts IS
    'Trading accounts (paper or live): owner role, trading state, leverage for perpetuals, maker/taker fees and paper slippage in basis points.';

CREATE TABLE zvt.account_grants (
    account_id  pg_catalog.int4 NOT NULL REFERENCES zvt.accounts ON DELETE CASCADE,
    grantee     pg_catalog.regrole NOT NULL,
    granted_at  pg_catalog.timestamptz NOT NULL DEFAULT pg_catalog.now(),
    PRIMARY KEY (account_id, grantee)
);
COMMENT ON TABLE zvt.account_grants IS
    'Roles besides the owner that may see and trade an account (zvt.grant_account).';

CREATE TABLE zvt.balances (
    account_id  pg_catalog.int4 NOT NULL REFERENCES zvt.accounts ON DELETE CASCADE,
    asset       pg_catalog.text NOT NULL,
    amount      pg_catalog.numeric NOT NULL,
    updated_at  pg_catalog.timestamptz NOT NULL DEFAULT pg_catalog.now(),
    PRIMARY KEY (account_id, asset)
);
COMMENT ON TABLE zvt.balances IS
    'Balance of each asset of an account: deposits, traded notional and fees (spot); realized PnL and fees (perpetuals).';

CREATE TABLE zvt.orders (
    order_id        pg_catalog.int8 GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    account_id      pg_catalog.int4 NOT NULL REFERENCES zvt.accounts,
    instrument_id   pg_catalog.int4 NOT NULL REFERENCES zvt.instruments (id),
    exchange        pg_catalog.text NOT NULL,
    symbol          pg_catalog.text NOT NULL,
    side            pg_catalog.text NOT NULL CHECK (side IN ('buy', 'sell')),
    type            pg_catalog.text NOT NULL
                    CHECK (type IN ('market', 'limit', 'stop', 'stop_limit', 'trailing_stop')),
    qty             pg_catalog.numeric NOT NULL CHECK (qty > 0),
    price           pg_catalog.numeric,
    stop_price      pg_catalog.numeric,     -- a trailing stop's current trigger price
    trail_pct       pg_catalog.numeric,
    tif             pg_catalog.text NOT NULL CHECK (tif IN ('gtc', 'ioc', 'fok')),
    post_only       pg_catalog.bool NOT NULL DEFAULT false,
    reduce_only     pg_catalog.bool NOT NULL DEFAULT false,
    client_order_id pg_catalog.text,
    status          pg_catalog.text NOT NULL
                    CHECK (status IN ('new', 'accepted', 'partially_filled', 'filled',
                                      'canceled', 'rejected', 'expired')),
    filled_qty      pg_catalog.numeric NOT NULL DEFAULT 0,
    avg_fill_price  pg_catalog.numeric,
    fees            pg_catalog.numeric NOT NULL DEFAULT 0,
    reason          pg_catalog.text,        -- why rejected or expired
    triggered       pg_catalog.bool NOT NULL DEFAULT false,    -- stop types: trigger price crossed
    trail_ref       pg_catalog.numeric,     -- trailing_stop: best price since placement
    reserve_price   pg_catalog.numeric,     -- the price its notional counts at while open
    bus_trades_seen pg_catalog.int8,        -- paper matching: bus counters already matched against
    bus_quotes_seen pg_catalog.int8,
    created_at      pg_catalog.timestamptz NOT NULL DEFAULT pg_catalog.clock_timestamp(),
    updated_at      pg_catalog.timestamptz NOT NULL DEFAULT pg_catalog.clock_timestamp(),
    UNIQUE (account_id, client_order_id)
);
CREATE INDEX orders_resting_idx ON zvt.orders (instrument_id, order_id)
    WHERE status IN ('accepted', 'partially_filled');
CREATE INDEX orders_account_time_idx ON zvt.orders (account_id, created_at);
COMMENT ON TABLE zvt.orders IS
    'Orders: what was asked (type, tif, prices), its status (new, accepted, partially_filled, filled, canceled, rejected, expired) and fills so far.';

CREATE TABLE zvt.order_events (
    event_id    pg_catalog.int8 GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    order_id    pg_catalog.int8 NOT NULL REFERENCES zvt.orders,
    account_id  pg_catalog.int4 NOT NULL,
    ts          pg_catalog.timestamptz NOT NULL DEFAULT pg_catalog.clock_timestamp(),
    event       pg_catalog.text NOT NULL
                CHECK (event IN ('new', 'accepted', 'rejected', 'triggered', 'fill',
                                 'canceled', 'expired')),
    status      pg_catalog.text NOT NULL,   -- the order's status after the event
    qty         pg_catalog.numeric,
    price       pg_catalog.numeric,
    reason      pg_catalog.text
);
CREATE INDEX order_events_order_idx ON zvt.order_events (order_id);
COMMENT ON TABLE zvt.order_events IS
    'Append-only audit of every order transition: UPDATE, DELETE and TRUNCATE raise, even for the owner.';

CREATE TABLE zvt.fills (
    fill_id         pg_catalog.int8 GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    order_id        pg_catalog.int8 NOT NULL REFERENCES zvt.orders,
    account_id      pg_catalog.int4 NOT NULL,
    instrument_id   pg_catalog.int4 NOT NULL,
    exchange        pg_catalog.text NOT NULL,
    symbol          pg_catalog.text NOT NULL,
    ts              pg_catalog.timestamptz NOT NULL DEFAULT pg_catalog.clock_timestamp(),
    side            pg_catalog.text NOT NULL,
    qty             pg_catalog.numeric NOT NULL,
    price           pg_catalog.numeric NOT NULL,
    fee             pg_catalog.numeric NOT NULL,
    fee_asset       pg_catalog.text NOT NULL,
    liquidity       pg_catalog.text NOT NULL CHECK (liquidity IN ('maker', 'taker')),
    realized_pnl    pg_catalog.numeric NOT NULL DEFAULT 0,
    price_ts        pg_catalog.timestamptz   -- time of the bus price the fill was made on
);
CREATE INDEX fills_account_time_idx ON zvt.fills (account_id, ts);
CREATE INDEX fills_order_idx ON zvt.fills (order_id);
COMMENT ON TABLE zvt.fills IS
    'Executions: quantity, price, fee, maker or taker, PnL realized by the fill; ts - price_ts is the delay from price to fill.';

CREATE TABLE zvt.holdings (
    account_id      pg_catalog.int4 NOT NULL REFERENCES zvt.accounts ON DELETE CASCADE,
    instrument_id   pg_catalog.int4 NOT NULL REFERENCES zvt.instruments (id),
    qty             pg_catalog.numeric NOT NULL DEFAULT 0,  -- > 0 long, < 0 short
    avg_price       pg_catalog.numeric NOT NULL DEFAULT 0,
    realized_pnl    pg_catalog.numeric NOT NULL DEFAULT 0,
    updated_at      pg_catalog.timestamptz NOT NULL DEFAULT pg_catalog.now(),
    PRIMARY KEY (account_id, instrument_id)
);
COMMENT ON TABLE zvt.holdings IS
    'Netting position per account and instrument (zvt.positions marks it to the market bus).';

-- open orders per account and instrument, kept by the order functions so
-- that risk checks read one row instead of summing every resting order
CREATE TABLE zvt.exposure (
    account_id      pg_catalog.int4 NOT NULL REFERENCES zvt.accounts ON DELETE CASCADE,
    instrument_id   pg_catalog.int4 NOT NULL,
    open_orders     pg_catalog.int4 NOT NULL DEFAULT 0,
    buy_qty         pg_catalog.numeric NOT NULL DEFAULT 0,  -- unfilled qty of open buys
    sell_qty        pg_catalog.numeric NOT NULL DEFAULT 0,
    buy_notional    pg_catalog.numeric NOT NULL DEFAULT 0,  -- at limit (or stop) prices
    sell_notional   pg_catalog.numeric NOT NULL DEFAULT 0,
    PRIMARY KEY (account_id, instrument_id)
);
COMMENT ON TABLE zvt.exposure IS
    'Open orders of an account per instrument: count, unfilled quantity and notional per side (kept by the order functions).';

-- realized PnL and fees per UTC day, for max_daily_loss and zvt.portfolio
CREATE TABLE zvt.daily_pnl (
    account_id  pg_catalog.int4 NOT NULL REFERENCES zvt.accounts ON DELETE CASCADE,
    day         pg_catalog.date NOT NULL,
    realized    pg_catalog.numeric NOT NULL DEFAULT 0,
    fees        pg_catalog.numeric NOT NULL DEFAULT 0,
    PRIMARY KEY (account_id, day)
);
COMMENT ON TABLE zvt.daily_pnl IS 'Realized PnL and fees of each account per UTC day.';

CREATE TABLE zvt.risk_limits (
    account_id              pg_catalog.int4 NOT NULL REFERENCES zvt.accounts ON DELETE CASCADE,
    instrument_id           pg_catalog.int4 REFERENCES zvt.instruments (id),  -- NULL: whole account
    exchange                pg_catalog.text,
    symbol                  pg_catalog.text,
    max_order_qty           pg_catalog.numeric,
    max_order_notional      pg_catalog.numeric,
    max_position_qty        pg_catalog.numeric,
    max_position_notional   pg_catalog.numeric,
    max_open_orders         pg_catalog.int4,
    max_daily_loss          pg_catalog.numeric,
    price_band_pct          pg_catalog.numeric,
    max_orders_per_sec      pg_catalog.int4,
    updated_at              pg_catalog.timestamptz NOT NULL DEFAULT pg_catalog.now(),
    CONSTRAINT risk_limits_scope UNIQUE NULLS NOT DISTINCT (account_id, instrument_id)
);
COMMENT ON TABLE zvt.risk_limits IS
    'Risk limits per account (exchange and symbol NULL) and per account and instrument; NULL is no limit; where both apply the stricter wins.';

-- ---------------------------------------------------------------------
-- Who may use an account
-- ---------------------------------------------------------------------

-- role may use account_id: it has the privileges of the owner, of a
-- grantee, or of zvt_admin (superusers may use everything)
CREATE FUNCTION zvt._may_use(role pg_catalog.oid, account_id pg_catalog.int4)
    RETURNS pg_catalog.bool
    LANGUAGE plpgsql STABLE SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    owner oid;
BEGIN
    SELECT a.owner INTO owner FROM zvt.accounts a WHERE a.account_id = _may_use.account_id;
    RETURN owner IS NOT NULL
       AND (pg_has_role(role, owner, 'USAGE')
            OR pg_has_role(role, 'zvt_admin', 'USAGE')
            OR EXISTS (SELECT 1 FROM zvt.account_grants g
                        WHERE g.account_id = _may_use.account_id AND pg_has_role(role, g.grantee, 'USAGE')));
END;
$$;
COMMENT ON FUNCTION zvt._may_use(pg_catalog.oid, pg_catalog.int4) IS
    'Internal: may the role use the account (owner, grantee or zvt_admin)?';
REVOKE ALL ON FUNCTION zvt._may_use(pg_catalog.oid, pg_catalog.int4) FROM PUBLIC;

-- the caller's account by name, locked for its trades when lock: 42704
-- when unknown, 42501 when the caller may not use it (or, with manage,
-- may not manage it: owner or zvt_admin only)
CREATE FUNCTION zvt._account(caller pg_catalog.oid, name pg_catalog.text,
                             manage pg_catalog.bool DEFAULT false)
    RETURNS zvt.accounts
    LANGUAGE plpgsql STABLE
AS $$
DECLARE
    a zvt.accounts;
BEGIN
    SELECT * INTO a FROM zvt.accounts WHERE accounts.name = _account.name;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'unknown account "%"', coalesce(name, 'NULL')
            USING ERRCODE = '42704',
                  HINT = 'zvt.accounts lists the accounts you may use; zvt.create_account makes one.';
    END IF;
    IF manage THEN
        IF NOT (pg_has_role(caller, a.owner, 'USAGE') OR pg_has_role(caller, 'zvt_admin', 'USAGE')) THEN
            RAISE EXCEPTION 'permission denied for account "%"', name
                USING ERRCODE = '42501',
                      DETAIL = format('Only its owner (%s) and members of zvt_admin may change the account''s grants, limits and state.', a.owner);
        END IF;
    ELSIF NOT (pg_has_role(caller, a.owner, 'USAGE') OR pg_has_role(caller, 'zvt_admin', 'USAGE')
               OR EXISTS (SELECT 1 FROM zvt.account_grants g
                           WHERE g.account_id = a.account_id AND pg_has_role(caller, g.grantee, 'USAGE'))) THEN
        RAISE EXCEPTION 'permission denied for account "%"', name
            USING ERRCODE = '42501',
                  HINT = 'The account''s owner can share it with zvt.grant_account.';
    END IF;
    RETURN a;
END;
$$;
COMMENT ON FUNCTION zvt._account(pg_catalog.oid, pg_catalog.text, pg_catalog.bool) IS
    'Internal: the account named name if caller may use it (42704 unknown, 42501 not allowed).';
REVOKE ALL ON FUNCTION zvt._account(pg_catalog.oid, pg_catalog.text, pg_catalog.bool) FROM PUBLIC;

-- a finite number >= 0 (or > 0), else 22023 naming the argument
CREATE FUNCTION zvt._check_amount(what pg_catalog.text, v pg_catalog.numeric,
                                  positive pg_catalog.bool DEFAULT true)
    RETURNS void
    LANGUAGE plpgsql IMMUTABLE
AS $$
BEGIN
    IF v IS NULL OR v = 'NaN' OR v = 'Infinity' OR v = '-Infinity'
       OR (positive AND v <= 0) OR (NOT positive AND v < 0) THEN
        RAISE EXCEPTION '% must be a % finite number, not %', what,
                        CASE WHEN positive THEN 'positive' ELSE 'non-negative' END,
                        coalesce(v::text, 'NULL')
            USING ERRCODE = '22023';
    END IF;
END;
$$;
COMMENT ON FUNCTION zvt._check_amount(pg_catalog.text, pg_catalog.numeric, pg_catalog.bool) IS
    'Internal: raise 22023 unless v is a finite number > 0 (>= 0 when not positive).';

-- ---------------------------------------------------------------------
-- Row-level security: every ledger table shows a role only its accounts
-- ---------------------------------------------------------------------

-- the accounts the calling role may use, read once per query by the policies
CREATE FUNCTION zvt._my_accounts() RETURNS pg_catalog.int4[]
    LANGUAGE C STABLE STRICT
    AS 'MODULE_PATHNAME', 'zvt_my_accounts';
COMMENT ON FUNCTION zvt._my_accounts() IS
    'Internal: ids of the accounts the calling role may use (owner, grantee or zvt_admin); the row-level security policies call it once per query.';

DO $rls$
DECLARE
    t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['accounts', 'account_grants', 'balances', 'orders', 'order_events',
                             'fills', 'holdings', 'exposure', 'daily_pnl', 'risk_limits']
    LOOP
        EXECUTE format('ALTER TABLE zvt.%I ENABLE ROW LEVEL SECURITY', t);
        EXECUTE format('CREATE POLICY %I ON zvt.%I FOR SELECT USING '
                       '(account_id OPERATOR(pg_catalog.=) ANY ((SELECT zvt._my_accounts())::pg_catalog.int4[]))',
                       t || '_visible', t);
        EXECUTE format('REVOKE ALL ON zvt.%I FROM PUBLIC', t);
        EXECUTE format('GRANT SELECT ON zvt.%I TO PUBLIC', t);
        EXECUTE format('SELECT pg_catalog.pg_extension_config_dump(%L, %L)', 'zvt.' || t, '');
    END LOOP;
END
$rls$;
SELECT pg_catalog.pg_extension_config_dump('zvt.accounts_account_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('zvt.orders_order_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('zvt.order_events_event_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('zvt.fills_fill_id_seq', '');

-- order_events is append-only, for everyone
CREATE FUNCTION zvt._append_only() RETURNS trigger
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    RAISE EXCEPTION '%.% is append-only', TG_TABLE_SCHEMA, TG_TABLE_NAME
        USING ERRCODE = '55000',
              DETAIL = format('%s is not allowed on the audit of order transitions.', TG_OP);
END;
$$;
COMMENT ON FUNCTION zvt._append_only() IS 'Internal: reject UPDATE, DELETE and TRUNCATE on an audit table.';
CREATE TRIGGER order_events_append_only BEFORE UPDATE OR DELETE ON zvt.order_events
    FOR EACH ROW EXECUTE FUNCTION zvt._append_only();
CREATE TRIGGER order_events_no_truncate BEFORE TRUNCATE ON zvt.order_events
    FOR EACH STATEMENT EXECUTE FUNCTION zvt._append_only();

-- ---------------------------------------------------------------------
-- Accounts
-- ---------------------------------------------------------------------

CREATE FUNCTION zvt._create_account(caller pg_catalog.oid, name pg_catalog.text, kind pg_catalog.text,
                                    exchange pg_catalog.text, initial_cash pg_catalog.numeric,
                                    currency pg_catalog.text, leverage pg_catalog.numeric,
                                    maker_fee_bps pg_catalog.numeric, taker_fee_bps pg_catalog.numeric,
                                    slippage_bps pg_catalog.numeric)
    RETURNS zvt.accounts
    LANGUAGE plpgsql
AS $$
DECLARE
    a zvt.accounts;
BEGIN
    IF name IS NULL OR name = '' THEN
        RAISE EXCEPTION 'account name must not be empty' USING ERRCODE = '22023';
    END IF;
    IF kind IS NULL OR kind NOT IN ('paper', 'live') THEN
        RAISE EXCEPTION 'unknown account kind "%"', coalesce(kind, 'NULL')
            USING ERRCODE = '22023', HINT = 'Account kinds are paper and live.';
    END IF;
    IF exchange IS NOT NULL THEN
        PERFORM zvt._check_exchange(exchange);
    END IF;
    PERFORM zvt._check_amount('initial_cash', initial_cash, false);
    IF currency IS NULL OR currency !~ '^[A-Z0-9]+$' THEN
        RAISE EXCEPTION 'currency must be an asset symbol such as USDT, not "%"', coalesce(currency, 'NULL')
            USING ERRCODE = '22023';
    END IF;
    IF leverage IS NULL OR leverage = 'NaN' OR leverage < 1 OR leverage > 125 THEN
        RAISE EXCEPTION 'leverage must be between 1 and 125, not %', coalesce(leverage::text, 'NULL')
            USING ERRCODE = '22023';
    END IF;
    IF maker_fee_bps IS NULL OR maker_fee_bps = 'NaN' OR maker_fee_bps <= -100 OR maker_fee_bps >= 1000
       OR taker_fee_bps IS NULL OR taker_fee_bps = 'NaN' OR taker_fee_bps < 0 OR taker_fee_bps >= 1000 THEN
        RAISE EXCEPTION 'fees must be basis points: maker_fee_bps in (-100, 1000), taker_fee_bps in [0, 1000)'
            USING ERRCODE = '22023';
    END IF;
    IF slippage_bps IS NULL OR slippage_bps = 'NaN' OR slippage_bps < 0 OR slippage_bps >= 10000 THEN
        RAISE EXCEPTION 'slippage_bps must be in [0, 10000), not %', coalesce(slippage_bps::text, 'NULL')
            USING ERRCODE = '22023';
    END IF;
    IF EXISTS (SELECT 1 FROM zvt.accounts x WHERE x.name = _create_account.name) THEN
        RAISE EXCEPTION 'account "%" already exists', name USING ERRCODE = '42710';
    END IF;
    INSERT INTO zvt.accounts (name, kind, exchange, currency, owner, leverage, maker_fee_bps,
                              taker_fee_bps, slippage_bps, initial_cash)
    VALUES (name, kind, exchange, currency, caller::regrole, leverage, maker_fee_bps,
            taker_fee_bps, slippage_bps, initial_cash)
    RETURNING * INTO a;
    INSERT INTO zvt.balances (account_id, asset, amount) VALUES (a.account_id, currency, initial_cash);
    RETURN a;
END;
$$;
COMMENT ON FUNCTION zvt._create_account(pg_catalog.oid, pg_catalog.text, pg_catalog.text, pg_catalog.text,
    pg_catalog.numeric, pg_catalog.text, pg_catalog.numeric, pg_catalog.numeric, pg_catalog.numeric,
    pg_catalog.numeric) IS 'Internal: zvt.create_account''s body, run as the ledger''s owner for the caller.';
REVOKE ALL ON FUNCTION zvt._create_account(pg_catalog.oid, pg_catalog.text, pg_catalog.text, pg_catalog.text,
    pg_catalog.numeric, pg_catalog.text, pg_catalog.numeric, pg_catalog.numeric, pg_catalog.numeric,
    pg_catalog.numeric) FROM PUBLIC;

CREATE FUNCTION zvt.create_account(name pg_catalog.text, kind pg_catalog.text DEFAULT 'paper',
                                   exchange pg_catalog.text DEFAULT NULL,
                                   initial_cash pg_catalog.numeric DEFAULT 0,
                                   currency pg_catalog.text DEFAULT 'USDT',
                                   leverage pg_catalog.numeric DEFAULT 1,
                                   maker_fee_bps pg_catalog.numeric DEFAULT 10,
                                   taker_fee_bps pg_catalog.numeric DEFAULT 10,
                                   slippage_bps pg_catalog.numeric DEFAULT 0)
    RETURNS zvt.accounts
    LANGUAGE C VOLATILE CALLED ON NULL INPUT
    AS 'MODULE_PATHNAME', 'zvt_ledger_call';
COMMENT ON FUNCTION zvt.create_account(pg_catalog.text, pg_catalog.text, pg_catalog.text, pg_catalog.numeric,
    pg_catalog.text, pg_catalog.numeric, pg_catalog.numeric, pg_catalog.numeric, pg_catalog.numeric) IS
    'Create a paper or live account owned by the calling role, with initial_cash of currency; names are unique.';

CREATE FUNCTION zvt._grant_account(caller pg_catalog.oid, account pg_catalog.text, role pg_catalog.regrole,
                                   allow pg_catalog.bool)
    RETURNS zvt.accounts
    LANGUAGE plpgsql
AS $$
DECLARE
    a zvt.accounts := zvt._account(caller, account, true);
BEGIN
    IF role IS NULL THEN
        RAISE EXCEPTION 'role must not be null' USING ERRCODE = '22023';
    END IF;
    IF allow THEN
        INSERT INTO zvt.account_grants (account_id, grantee) VALUES (a.account_id, role)
        ON CONFLICT DO NOTHING;
    ELSE
        DELETE FROM zvt.account_grants g WHERE g.account_id = a.account_id AND g.grantee = role;
    END IF;
    RETURN a;
END;
$$;
COMMENT ON FUNCTION zvt._grant_account(pg_catalog.oid, pg_catalog.text, pg_catalog.regrole, pg_catalog.bool) IS
    'Internal: zvt.grant_account''s body.';
REVOKE ALL ON FUNCTION zvt._grant_account(pg_catalog.oid, pg_catalog.text, pg_catalog.regrole, pg_catalog.bool) FROM PUBLIC;

CREATE FUNCTION zvt.grant_account(account pg_catalog.text, role pg_catalog.regrole,
                                  allow pg_catalog.bool DEFAULT true)
    RETURNS zvt.accounts
    LANGUAGE C VOLATILE CALLED ON NULL INPUT
    AS 'MODULE_PATHNAME', 'zvt_ledger_call';
COMMENT ON FUNCTION zvt.grant_account(pg_catalog.text, pg_catalog.regrole, pg_catalog.bool) IS
    'Let role see and trade the account (allow => false takes it back); only the owner and zvt_admin may.';

CREATE FUNCTION zvt._set_trading_state(caller pg_catalog.oid, account pg_catalog.text, state pg_catalog.text)
    RETURNS zvt.accounts
    LANGUAGE plpgsql
AS $$
DECLARE
    a zvt.accounts := zvt._account(caller, account, true);
BEGIN
    IF state IS NULL OR state NOT IN ('active', 'reducing', 'halted') THEN
        RAISE EXCEPTION 'unknown trading state "%"', coalesce(state, 'NULL')
            USING ERRCODE = '22023',
                  HINT = 'States are active, reducing (only orders that reduce a position) and halted (no orders).';
    END IF;
    PERFORM pg_advisory_xact_lock(8025716, a.account_id);
    UPDATE zvt.accounts x SET state = _set_trading_state.state
     WHERE x.account_id = a.account_id RETURNING * INTO a;
    RETURN a;
END;
$$;
COMMENT ON FUNCTION zvt._set_trading_state(pg_catalog.oid, pg_catalog.text, pg_catalog.text) IS
    'Internal: zvt.set_trading_state''s body.';
REVOKE ALL ON FUNCTION zvt._set_trading_state(pg_catalog.oid, pg_catalog.text, pg_catalog.text) FROM PUBLIC;

CREATE FUNCTION zvt.set_trading_state(account pg_catalog.text, state pg_catalog.text)
    RETURNS zvt.accounts
    LANGUAGE C VOLATILE CALLED ON NULL INPUT
    AS 'MODULE_PATHNAME', 'zvt_ledger_call';
COMMENT ON FUNCTION zvt.set_trading_state(pg_catalog.text, pg_catalog.text) IS
    'Set an account''s trading state: active, reducing (only orders that reduce a position) or halted (every order rejected).';

CREATE FUNCTION zvt._set_risk_limits(caller pg_catalog.oid, account pg_catalog.text, exchange pg_catalog.text,
        symbol pg_catalog.text, max_order_qty pg_catalog.numeric, max_order_notional pg_catalog.numeric,
        max_position_qty pg_catalog.numeric, max_position_notional pg_catalog.numeric,
        max_open_orders pg_catalog.int4, max_daily_loss pg_catalog.numeric,
        price_band_pct pg_catalog.numeric, max_orders_per_sec pg_catalog.int4)
    RETURNS zvt.risk_limits
    LANGUAGE plpgsql
AS $$
DECLARE
    a zvt.accounts := zvt._account(caller, account, true);
    iid int4;
    r zvt.risk_limits;
BEGIN
    IF (exchange IS NULL) <> (symbol IS NULL) THEN
        RAISE EXCEPTION 'risk limits apply to a whole account or to one instrument of it'
            USING ERRCODE = '22023',
                  HINT = 'Give both exchange and symbol, or neither.';
    END IF;
    IF exchange IS NOT NULL THEN
        iid := zvt._instrument_id(exchange, symbol);
    END IF;
    IF max_order_qty IS NOT NULL THEN PERFORM zvt._check_amount('max_order_qty', max_order_qty); END IF;
    IF max_order_notional IS NOT NULL THEN PERFORM zvt._check_amount('max_order_notional', max_order_notional); END IF;
    IF max_position_qty IS NOT NULL THEN PERFORM zvt._check_amount('max_position_qty', max_position_qty, false); END IF;
    IF max_position_notional IS NOT NULL THEN PERFORM zvt._check_amount('max_position_notional', max_position_notional, false); END IF;
    IF max_daily_loss IS NOT NULL THEN PERFORM zvt._check_amount('max_daily_loss', max_daily_loss, false); END IF;
    IF price_band_pct IS NOT NULL THEN PERFORM zvt._check_amount('price_band_pct', price_band_pct); END IF;
    IF max_open_orders < 0 OR max_orders_per_sec < 1 THEN
        RAISE EXCEPTION 'max_open_orders must be >= 0 and max_orders_per_sec >= 1'
            USING ERRCODE = '22023';
    END IF;
    PERFORM pg_advisory_xact_lock(8025716, a.account_id);
    INSERT INTO zvt.risk_limits AS l (account_id, instrument_id, exchange, symbol, max_order_qty,
                                      max_order_notional, max_position_qty, max_position_notional,
                                      max_open_orders, max_daily_loss, price_band_pct, max_orders_per_sec)
    VALUES (a.account_id, iid, exchange, symbol, max_order_qty, max_order_notional, max_position_qty,
            max_position_notional, max_open_orders, max_daily_loss, price_band_pct, max_orders_per_sec)
    ON CONFLICT (account_id, instrument_id) DO UPDATE
       SET max_order_qty = EXCLUDED.max_order_qty, max_order_notional = EXCLUDED.max_order_notional,
           max_position_qty = EXCLUDED.max_position_qty,
           max_position_notional = EXCLUDED.max_position_notional,
           max_open_orders = EXCLUDED.max_open_orders, max_daily_loss = EXCLUDED.max_daily_loss,
           price_band_pct = EXCLUDED.price_band_pct, max_orders_per_sec = EXCLUDED.max_orders_per_sec,
           updated_at = pg_catalog.now()
    RETURNING * INTO r;
    RETURN r;
END;
$$;
COMMENT ON FUNCTION zvt._set_risk_limits(pg_catalog.oid, pg_catalog.text, pg_catalog.text, pg_catalog.text,
    pg_catalog.numeric, pg_catalog.numeric, pg_catalog.numeric, pg_catalog.numeric, pg_catalog.int4,
    pg_catalog.numeric, pg_catalog.numeric, pg_catalog.int4) IS 'Internal: zvt.set_risk_limits''s body.';
REVOKE ALL ON FUNCTION zvt._set_risk_limits(pg_catalog.oid, pg_catalog.text, pg_catalog.text, pg_catalog.text,
    pg_catalog.numeric, pg_catalog.numeric, pg_catalog.numeric, pg_catalog.numeric, pg_catalog.int4,
    pg_catalog.numeric, pg_catalog.numeric, pg_catalog.int4) FROM PUBLIC;

CREATE FUNCTION zvt.set_risk_limits(account pg_catalog.text, exchange pg_catalog.text DEFAULT NULL,
        symbol pg_catalog.text DEFAULT NULL, max_order_qty pg_catalog.numeric DEFAULT NULL,
        max_order_notional pg_catalog.numeric DEFAULT NULL, max_position_qty pg_catalog.numeric DEFAULT NULL,
        max_position_notional pg_catalog.numeric DEFAULT NULL, max_open_orders pg_catalog.int4 DEFAULT NULL,
        max_daily_loss pg_catalog.numeric DEFAULT NULL, price_band_pct pg_catalog.numeric DEFAULT NULL,
        max_orders_per_sec pg_catalog.int4 DEFAULT NULL)
    RETURNS zvt.risk_limits
    LANGUAGE C VOLATILE CALLED ON NULL INPUT
    AS 'MODULE_PATHNAME', 'zvt_ledger_call';
COMMENT ON FUNCTION zvt.set_risk_limits(pg_catalog.text, pg_catalog.text, pg_catalog.text, pg_catalog.numeric,
    pg_catalog.numeric, pg_catalog.numeric, pg_catalog.numeric, pg_catalog.int4, pg_catalog.numeric,
    pg_catalog.numeric, pg_catalog.int4) IS
    'Replace the risk limits of an account (exchange and symbol NULL) or of one instrument of it; NULL is no limit. Only the owner and zvt_admin may.';
-- ===================================================================
-- Trading core, part 2: placing and canceling orders, risk checks, fills
-- (positions, balances, daily PnL), paper matching against the market
-- bus, and the positions and portfolio read side.
--
-- Every write of an account happens under pg_advisory_xact_lock(8025716,
-- account_id), taken before any order row is locked: risk checks read
-- and write the account's state atomically across sessions.
-- ===================================================================

CREATE FUNCTION zvt._bus_entry(instrument_id pg_catalog.int4,
        OUT last pg_catalog.float8, OUT last_qty pg_catalog.float8, OUT last_ts pg_catalog.timestamptz,
        OUT bid pg_catalog.float8, OUT bid_qty pg_catalog.float8, OUT ask pg_catalog.float8,
        OUT ask_qty pg_catalog.float8, OUT quote_ts pg_catalog.timestamptz,
        OUT trades pg_catalog.int8, OUT quotes pg_catalog.int8)
    RETURNS record
    LANGUAGE C VOLATILE PARALLEL RESTRICTED
    AS 'MODULE_PATHNAME', 'zvt_bus_entry';
COMMENT ON FUNCTION zvt._bus_entry(pg_catalog.int4) IS
    'Internal: an instrument''s latest trade and quote on the market bus with its trade and quote counters (NULL when none).';

-- the mark price: last trade, else the mid of the quote, else NULL
CREATE FUNCTION zvt._mark_price(instrument_id pg_catalog.int4) RETURNS pg_catalog.numeric
    LANGUAGE plpgsql VOLATILE
AS $$
DECLARE
    e record;
BEGIN
    SELECT * INTO e FROM zvt._bus_entry(instrument_id);
    RETURN coalesce(e.last::numeric, ((e.bid + e.ask) / 2)::numeric);
END;
$$;
COMMENT ON FUNCTION zvt._mark_price(pg_catalog.int4) IS
    'Internal: mark price of an instrument from the bus: last trade, else mid quote, else NULL.';

-- add to (or take from) an account's open-order totals: dcount orders and
-- dqty of unfilled quantity of order o, at its reserve price
CREATE FUNCTION zvt._exposure(o zvt.orders, dcount pg_catalog.int4, dqty pg_catalog.numeric,
                              reserve pg_catalog.numeric)
    RETURNS void
    LANGUAGE plpgsql
AS $$
DECLARE
    buy bool := o.side = 'buy';
BEGIN
    INSERT INTO zvt.exposure AS x (account_id, instrument_id, open_orders, buy_qty, sell_qty,
                                   buy_notional, sell_notional)
    VALUES (o.account_id, o.instrument_id, dcount,
            CASE WHEN buy THEN dqty ELSE 0 END, CASE WHEN buy THEN 0 ELSE dqty END,
            CASE WHEN buy THEN dqty * reserve ELSE 0 END, CASE WHEN buy THEN 0 ELSE dqty * reserve END)
    ON CONFLICT (account_id, instrument_id) DO UPDATE
       SET open_orders = x.open_orders + EXCLUDED.open_orders,
           buy_qty = trim_scale(x.buy_qty + EXCLUDED.buy_qty),
           sell_qty = trim_scale(x.sell_qty + EXCLUDED.sell_qty),
           buy_notional = trim_scale(x.buy_notional + EXCLUDED.buy_notional),
           sell_notional = trim_scale(x.sell_notional + EXCLUDED.sell_notional);
END;
$$;
COMMENT ON FUNCTION zvt._exposure(zvt.orders, pg_catalog.int4, pg_catalog.numeric, pg_catalog.numeric) IS
    'Internal: add to (or take from) an account''s open-order totals in zvt.exposure.';
REVOKE ALL ON FUNCTION zvt._exposure(zvt.orders, pg_catalog.int4, pg_catalog.numeric, pg_catalog.numeric) FROM PUBLIC;


-- ---------------------------------------------------------------------
-- Fills
-- ---------------------------------------------------------------------

-- Execute fqty of order o at fprice: the fill row, the order's progress
-- and event, the netting position (realized PnL on reductions and flips),
-- balances and daily PnL.  resting: o was counted in zvt.exposure.
CREATE FUNCTION zvt._fill(a zvt.accounts, o zvt.orders, fqty pg_catalog.numeric, fprice pg_catalog.numeric,
                          liquidity pg_catalog.text, price_ts pg_catalog.timestamptz,
                          resting pg_catalog.bool)
    RETURNS zvt.orders
    LANGUAGE plpgsql
AS $$
DECLARE
    ins zvt.instruments;
    dir int := CASE WHEN o.side = 'buy' THEN 1 ELSE -1 END;
    fee numeric;
    q numeric := 0;
    avg numeric := 0;
    newq numeric;
    newavg numeric;
    realized numeric := 0;
    done bool;
BEGIN
    SELECT * INTO STRICT ins FROM zvt.instruments WHERE id = o.instrument_id;
    fee := trim_scale(fqty * fprice * CASE WHEN liquidity = 'maker' THEN a.maker_fee_bps
                                           ELSE a.taker_fee_bps END / 10000);

    -- the netting position
    SELECT h.qty, h.avg_price INTO q, avg FROM zvt.holdings h
     WHERE h.account_id = o.account_id AND h.instrument_id = o.instrument_id FOR UPDATE;
    q := coalesce(q, 0);
    avg := coalesce(avg, 0);
    newq := trim_scale(q + dir * fqty);
    IF q = 0 OR sign(q) = dir THEN
        newavg := trim_scale(round((abs(q) * avg + fqty * fprice) / (abs(q) + fqty), 10));
    ELSE
        realized := trim_scale(least(fqty, abs(q)) * (fprice - avg) * sign(q));
        newavg := CASE WHEN newq = 0 THEN 0 WHEN sign(newq) = sign(q) THEN avg ELSE fprice END;
    END IF;
    INSERT INTO zvt.holdings AS h (account_id, instrument_id, qty, avg_price, realized_pnl)
    VALUES (o.account_id, o.instrument_id, newq, newavg, realized)
    ON CONFLICT (account_id, instrument_id) DO UPDATE
       SET qty = EXCLUDED.qty, avg_price = EXCLUDED.avg_price,
           realized_pnl = trim_scale(h.realized_pnl + EXCLUDED.realized_pnl), updated_at = pg_catalog.now();

    -- money: spot moves both assets; a perpetual books PnL and fees in its quote
    IF ins.kind = 'spot' THEN
        INSERT INTO zvt.balances AS b (account_id, asset, amount)
        VALUES (o.account_id, ins.quote, -(dir * fqty * fprice) - fee), (o.account_id, ins.base, dir * fqty)
        ON CONFLICT (account_id, asset) DO UPDATE
           SET amount = trim_scale(b.amount + EXCLUDED.amount), updated_at = pg_catalog.now();
    ELSE
        INSERT INTO zvt.balances AS b (account_id, asset, amount)
        VALUES (o.account_id, ins.quote, realized - fee)
        ON CONFLICT (account_id, asset) DO UPDATE
           SET amount = trim_scale(b.amount + EXCLUDED.amount), updated_at = pg_catalog.now();
    END IF;
    INSERT INTO zvt.daily_pnl AS d (account_id, day, realized, fees)
    VALUES (o.account_id, (pg_catalog.clock_timestamp() AT TIME ZONE 'UTC')::date, realized, fee)
    ON CONFLICT (account_id, day) DO UPDATE
       SET realized = trim_scale(d.realized + EXCLUDED.realized), fees = trim_scale(d.fees + EXCLUDED.fees);

    INSERT INTO zvt.fills (order_id, account_id, instrument_id, exchange, symbol, side, qty, price, fee,
                           fee_asset, liquidity, realized_pnl, price_ts)
    VALUES (o.order_id, o.account_id, o.instrument_id, o.exchange, o.symbol, o.side, fqty, fprice, fee,
            ins.quote, liquidity, realized, price_ts);

    done := o.filled_qty + fqty >= o.qty;
    IF resting THEN
        PERFORM zvt._exposure(o, CASE WHEN done THEN -1 ELSE 0 END, -fqty, o.reserve_price);
    END IF;
    UPDATE zvt.orders x
       SET avg_fill_price = trim_scale(round((coalesce(x.avg_fill_price, 0) * x.filled_qty + fqty * fprice)
                                             / (x.filled_qty + fqty), 10)),
           filled_qty = trim_scale(x.filled_qty + fqty),
           fees = trim_scale(x.fees + fee),
           status = CASE WHEN done THEN 'filled' ELSE 'partially_filled' END,
           updated_at = pg_catalog.clock_timestamp()
     WHERE x.order_id = o.order_id
    RETURNING * INTO o;
    INSERT INTO zvt.order_events (order_id, account_id, event, status, qty, price)
    VALUES (o.order_id, o.account_id, 'fill', o.status, fqty, fprice);
    RETURN o;
END;
$$;
COMMENT ON FUNCTION zvt._fill(zvt.accounts, zvt.orders, pg_catalog.numeric, pg_catalog.numeric,
    pg_catalog.text, pg_catalog.timestamptz, pg_catalog.bool) IS
    'Internal: execute part of an order: fill row, order progress and event, netting position, balances, daily PnL.';
REVOKE ALL ON FUNCTION zvt._fill(zvt.accounts, zvt.orders, pg_catalog.numeric, pg_catalog.numeric,
    pg_catalog.text, pg_catalog.timestamptz, pg_catalog.bool) FROM PUBLIC;

-- End an open order: canceled or expired, with the event
CREATE FUNCTION zvt._close_order(o zvt.orders, status pg_catalog.text, reason pg_catalog.text,
                                 resting pg_catalog.bool)
    RETURNS zvt.orders
    LANGUAGE plpgsql
AS $$
BEGIN
    IF resting THEN
        PERFORM zvt._exposure(o, -1, -(o.qty - o.filled_qty), o.reserve_price);
    END IF;
    UPDATE zvt.orders x
       SET status = _close_order.status, reason = _close_order.reason,
           updated_at = pg_catalog.clock_timestamp()
     WHERE x.order_id = o.order_id
    RETURNING * INTO o;
    INSERT INTO zvt.order_events (order_id, account_id, event, status, qty, reason)
    VALUES (o.order_id, o.account_id, status, status, o.qty - o.filled_qty, reason);
    RETURN o;
END;
$$;
COMMENT ON FUNCTION zvt._close_order(zvt.orders, pg_catalog.text, pg_catalog.text, pg_catalog.bool) IS
    'Internal: end an open order as canceled or expired, with its event.';
REVOKE ALL ON FUNCTION zvt._close_order(zvt.orders, pg_catalog.text, pg_catalog.text, pg_catalog.bool) FROM PUBLIC;

-- ---------------------------------------------------------------------
-- Risk
-- ---------------------------------------------------------------------

-- Why an order must be rejected, or NULL: the pre-trade risk check in C
-- (src/trading/risk.c, src/trading/risk_sql.c; docs/trading.md lists the
-- checks in order).  ref is the price its notional counts at, mkt the
-- market price.  Called under the account's advisory lock.
CREATE FUNCTION zvt._risk_check(account_id pg_catalog.int4, instrument_id pg_catalog.int4,
        side pg_catalog.text, qty pg_catalog.numeric, type pg_catalog.text, tif pg_catalog.text,
        price pg_catalog.numeric, reduce_only pg_catalog.bool, ref pg_catalog.numeric,
        mkt pg_catalog.numeric)
    RETURNS pg_catalog.text
    LANGUAGE C VOLATILE CALLED ON NULL INPUT
    AS 'MODULE_PATHNAME', 'zvt_risk_check';
COMMENT ON FUNCTION zvt._risk_check(pg_catalog.int4, pg_catalog.int4, pg_catalog.text, pg_catalog.numeric,
    pg_catalog.text, pg_catalog.text, pg_catalog.numeric, pg_catalog.bool, pg_catalog.numeric,
    pg_catalog.numeric) IS 'Internal: the pre-trade risk check (C): the reason an order must be rejected, or NULL.';
REVOKE ALL ON FUNCTION zvt._risk_check(pg_catalog.int4, pg_catalog.int4, pg_catalog.text, pg_catalog.numeric,
    pg_catalog.text, pg_catalog.text, pg_catalog.numeric, pg_catalog.bool, pg_catalog.numeric,
    pg_catalog.numeric) FROM PUBLIC;

-- ---------------------------------------------------------------------
-- Placing orders
-- ---------------------------------------------------------------------

-- zvt.place_order's body, in C (src/trading/place_order.c): validates,
-- checks the caller's right to the account, takes the account's lock,
-- answers client_order_id retries, prices the order from the bus, runs
-- the risk check and writes the order, its events and its exposure; a
-- taker fills through zvt._fill, an ioc/fok remainder expires through
-- zvt._close_order.
CREATE FUNCTION zvt._place_order(caller pg_catalog.oid, account pg_catalog.text, exchange pg_catalog.text,
        symbol pg_catalog.text, side pg_catalog.text, qty pg_catalog.numeric, type pg_catalog.text,
        price pg_catalog.numeric, stop_price pg_catalog.numeric, trail_pct pg_catalog.numeric,
        tif pg_catalog.text, client_order_id pg_catalog.text, post_only pg_catalog.bool,
        reduce_only pg_catalog.bool)
    RETURNS zvt.orders
    LANGUAGE C VOLATILE CALLED ON NULL INPUT
    AS 'MODULE_PATHNAME', 'zvt_place_order';
COMMENT ON FUNCTION zvt._place_order(pg_catalog.oid, pg_catalog.text, pg_catalog.text, pg_catalog.text,
    pg_catalog.text, pg_catalog.numeric, pg_catalog.text, pg_catalog.numeric, pg_catalog.numeric,
    pg_catalog.numeric, pg_catalog.text, pg_catalog.text, pg_catalog.bool, pg_catalog.bool) IS
    'Internal: zvt.place_order''s body, run as the ledger''s owner for the caller.';
REVOKE ALL ON FUNCTION zvt._place_order(pg_catalog.oid, pg_catalog.text, pg_catalog.text, pg_catalog.text,
    pg_catalog.text, pg_catalog.numeric, pg_catalog.text, pg_catalog.numeric, pg_catalog.numeric,
    pg_catalog.numeric, pg_catalog.text, pg_catalog.text, pg_catalog.bool, pg_catalog.bool) FROM PUBLIC;

CREATE FUNCTION zvt.place_order(account pg_catalog.text, exchange pg_catalog.text, symbol pg_catalog.text,
        side pg_catalog.text, qty pg_catalog.numeric, type pg_catalog.text DEFAULT 'market',
        price pg_catalog.numeric DEFAULT NULL, stop_price pg_catalog.numeric DEFAULT NULL,
        trail_pct pg_catalog.numeric DEFAULT NULL, tif pg_catalog.text DEFAULT 'gtc',
        client_order_id pg_catalog.text DEFAULT NULL, post_only pg_catalog.bool DEFAULT false,
        reduce_only pg_catalog.bool DEFAULT false)
    RETURNS zvt.orders
    LANGUAGE C VOLATILE CALLED ON NULL INPUT
    AS 'MODULE_PATHNAME', 'zvt_ledger_call';
COMMENT ON FUNCTION zvt.place_order(pg_catalog.text, pg_catalog.text, pg_catalog.text, pg_catalog.text,
    pg_catalog.numeric, pg_catalog.text, pg_catalog.numeric, pg_catalog.numeric, pg_catalog.numeric,
    pg_catalog.text, pg_catalog.text, pg_catalog.bool, pg_catalog.bool) IS
    'Place an order on an account the caller may use: validated, risk-checked under the account''s lock, then filled, rested or rejected; returns the order. Live accounts raise 0A000.';

-- ---------------------------------------------------------------------
-- Canceling
-- ---------------------------------------------------------------------

CREATE FUNCTION zvt._cancel_order(caller pg_catalog.oid, order_id pg_catalog.int8)
    RETURNS zvt.orders
    LANGUAGE plpgsql
AS $$
DECLARE
    o zvt.orders;
    acct int4;
BEGIN
    SELECT x.account_id INTO acct FROM zvt.orders x WHERE x.order_id = _cancel_order.order_id;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'unknown order %', coalesce(order_id::text, 'NULL') USING ERRCODE = '42704';
    END IF;
    IF NOT zvt._may_use(caller, acct) THEN
        RAISE EXCEPTION 'permission denied for order %', order_id
            USING ERRCODE = '42501', DETAIL = 'The order belongs to an account you may not use.';
    END IF;
    PERFORM pg_advisory_xact_lock(8025716, acct);
    SELECT * INTO o FROM zvt.orders x WHERE x.order_id = _cancel_order.order_id FOR UPDATE;
    IF o.status NOT IN ('accepted', 'partially_filled') THEN
        RAISE EXCEPTION 'order % is %', order_id, o.status
            USING ERRCODE = '55000', HINT = 'Only accepted and partially filled orders can be canceled.';
    END IF;
    RETURN zvt._close_order(o, 'canceled', NULL, true);
END;
$$;
COMMENT ON FUNCTION zvt._cancel_order(pg_catalog.oid, pg_catalog.int8) IS 'Internal: zvt.cancel_order''s body.';
REVOKE ALL ON FUNCTION zvt._cancel_order(pg_catalog.oid, pg_catalog.int8) FROM PUBLIC;

CREATE FUNCTION zvt.cancel_order(order_id pg_catalog.int8)
    RETURNS zvt.orders
    LANGUAGE C VOLATILE CALLED ON NULL INPUT
    AS 'MODULE_PATHNAME', 'zvt_ledger_call';
COMMENT ON FUNCTION zvt.cancel_order(pg_catalog.int8) IS
    'Cancel an open order (accepted or partially filled) of an account the caller may use; returns it.';

CREATE FUNCTION zvt.__cancel_all(caller pg_catalog.oid, account pg_catalog.text, exchange pg_catalog.text,
                                 symbol pg_catalog.text)
    RETURNS zvt.orders[]
    LANGUAGE plpgsql
AS $$
DECLARE
    a zvt.accounts := zvt._account(caller, account);
    iid int4;
    o zvt.orders;
    done zvt.orders[] := '{}';
BEGIN
    IF symbol IS NOT NULL AND exchange IS NULL THEN
        RAISE EXCEPTION 'symbol needs an exchange' USING ERRCODE = '22023';
    END IF;
    IF symbol IS NOT NULL THEN
        iid := zvt._instrument_id(exchange, symbol);
    ELSIF exchange IS NOT NULL THEN
        PERFORM zvt._check_exchange(exchange);
    END IF;
    PERFORM pg_advisory_xact_lock(8025716, a.account_id);
    FOR o IN SELECT * FROM zvt.orders x
              WHERE x.account_id = a.account_id AND x.status IN ('accepted', 'partially_filled')
                AND (iid IS NULL OR x.instrument_id = iid)
                AND (__cancel_all.exchange IS NULL OR x.exchange = __cancel_all.exchange)
              ORDER BY x.order_id FOR UPDATE
    LOOP
        done := done || zvt._close_order(o, 'canceled', NULL, true);
    END LOOP;
    RETURN done;
END;
$$;
COMMENT ON FUNCTION zvt.__cancel_all(pg_catalog.oid, pg_catalog.text, pg_catalog.text, pg_catalog.text) IS
    'Internal: zvt.cancel_all''s body.';
REVOKE ALL ON FUNCTION zvt.__cancel_all(pg_catalog.oid, pg_catalog.text, pg_catalog.text, pg_catalog.text) FROM PUBLIC;

CREATE FUNCTION zvt._cancel_all(account pg_catalog.text, exchange pg_catalog.text, symbol pg_catalog.text)
    RETURNS zvt.orders[]
    LANGUAGE C VOLATILE CALLED ON NULL INPUT
    AS 'MODULE_PATHNAME', 'zvt_ledger_call';
COMMENT ON FUNCTION zvt._cancel_all(pg_catalog.text, pg_catalog.text, pg_catalog.text) IS
    'Internal: zvt.cancel_all''s work, returning the canceled orders as an array.';

CREATE FUNCTION zvt.cancel_all(account pg_catalog.text, exchange pg_catalog.text DEFAULT NULL,
                               symbol pg_catalog.text DEFAULT NULL)
    RETURNS SETOF zvt.orders
    LANGUAGE sql VOLATILE
    SET search_path = pg_catalog, pg_temp
    AS $$ SELECT * FROM unnest(zvt._cancel_all(account, exchange, symbol)) $$;
COMMENT ON FUNCTION zvt.cancel_all(pg_catalog.text, pg_catalog.text, pg_catalog.text) IS
    'Cancel every open order of an account (optionally of one exchange or symbol); returns the canceled orders.';

-- ---------------------------------------------------------------------
-- Paper matching
-- ---------------------------------------------------------------------

-- Match the resting paper orders of one instrument against its bus entry;
-- returns how many orders changed (triggered, filled or partly filled).
-- Each order matches only trades and quotes that reached the bus after it
-- last looked (the bus's trade and quote counters).
CREATE FUNCTION zvt._paper_match(instrument_id pg_catalog.int4) RETURNS pg_catalog.int4
    LANGUAGE plpgsql
AS $$
DECLARE
    e record;
    cand record;
    o zvt.orders;
    a zvt.accounts;
    dir int;
    last numeric;
    bid numeric;
    ask numeric;
    new_trade bool;
    new_quote bool;
    touch numeric;
    avail numeric;
    fqty numeric;
    changed int := 0;
BEGIN
    SELECT * INTO e FROM zvt._bus_entry(instrument_id);
    IF e.trades IS NULL THEN
        RETURN 0;
    END IF;
    last := e.last::numeric;
    bid := e.bid::numeric;
    ask := e.ask::numeric;
    FOR cand IN SELECT x.order_id, x.account_id FROM zvt.orders x
                 WHERE x.instrument_id = _paper_match.instrument_id
                   AND x.status IN ('accepted', 'partially_filled')
                   AND (x.bus_trades_seen IS DISTINCT FROM e.trades OR x.bus_quotes_seen IS DISTINCT FROM e.quotes)
                 ORDER BY x.order_id
    LOOP
        PERFORM pg_advisory_xact_lock(8025716, cand.account_id);
        SELECT * INTO o FROM zvt.orders x WHERE x.order_id = cand.order_id FOR UPDATE;
        CONTINUE WHEN o.status NOT IN ('accepted', 'partially_filled');
        SELECT * INTO a FROM zvt.accounts x WHERE x.account_id = o.account_id;
        dir := CASE WHEN o.side = 'buy' THEN 1 ELSE -1 END;
        new_trade := last IS NOT NULL AND o.bus_trades_seen IS DISTINCT FROM e.trades;
        new_quote := o.bus_quotes_seen IS DISTINCT FROM e.quotes;
        touch := CASE WHEN dir = 1 THEN ask ELSE bid END;
        UPDATE zvt.orders x SET bus_trades_seen = e.trades, bus_quotes_seen = e.quotes
         WHERE x.order_id = o.order_id;

        -- stops: a new trade crossing the trigger (a trailing stop first follows the best price)
        IF o.type IN ('stop', 'stop_limit', 'trailing_stop') AND NOT o.triggered THEN
            CONTINUE WHEN NOT new_trade;
            IF o.type = 'trailing_stop' AND dir * (o.trail_ref - last) > 0 THEN
                -- a sell trails the highest price since placement, a buy the lowest
                o.trail_ref := last;
                o.stop_price := trim_scale(last * (1 + dir * o.trail_pct / 100));
                UPDATE zvt.orders x SET trail_ref = o.trail_ref, stop_price = o.stop_price,
                                        updated_at = pg_catalog.clock_timestamp()
                 WHERE x.order_id = o.order_id;
            END IF;
            CONTINUE WHEN dir * (last - o.stop_price) < 0;
            UPDATE zvt.orders x SET triggered = true, updated_at = pg_catalog.clock_timestamp()
             WHERE x.order_id = o.order_id RETURNING * INTO o;
            INSERT INTO zvt.order_events (order_id, account_id, event, status, qty, price, reason)
            VALUES (o.order_id, o.account_id, 'triggered', o.status, o.qty - o.filled_qty, last,
                    format('last trade %s crossed the stop price %s', last, o.stop_price));
            changed := changed + 1;
            IF o.type <> 'stop_limit' THEN
                -- now a market order: the touch moved by slippage, as taker, but never
                -- better than the trade that triggered it (the quote may be older)
                PERFORM zvt._fill(a, o, o.qty - o.filled_qty,
                                  trim_scale(CASE WHEN dir = 1 THEN greatest(touch, last) ELSE least(touch, last) END
                                             * (1 + dir * a.slippage_bps / 10000)),
                                  'taker', e.last_ts, true);
                CONTINUE;
            END IF;
            IF touch IS NOT NULL AND dir * (touch - o.price) <= 0 THEN
                -- a limit that is marketable when it is born takes at the touch
                PERFORM zvt._fill(a, o, o.qty - o.filled_qty, touch, 'taker', e.quote_ts, true);
                CONTINUE;
            END IF;
            CONTINUE;
        END IF;

        -- resting limits fill as maker at their price: the touch reached it
        -- (up to its size) or a trade printed through it (up to its size)
        avail := NULL;
        IF new_quote AND touch IS NOT NULL AND dir * (touch - o.price) <= 0 THEN
            avail := coalesce(CASE WHEN dir = 1 THEN e.ask_qty ELSE e.bid_qty END::numeric, o.qty);
        END IF;
        IF new_trade AND dir * (last - o.price) <= 0 THEN
            avail := greatest(avail, coalesce(e.last_qty::numeric, o.qty));
        END IF;
        CONTINUE WHEN avail IS NULL OR avail <= 0;
        fqty := least(avail, o.qty - o.filled_qty);
        PERFORM zvt._fill(a, o, fqty, o.price, 'maker',
                          CASE WHEN new_trade AND dir * (last - o.price) <= 0 THEN e.last_ts ELSE e.quote_ts END,
                          true);
        changed := changed + 1;
    END LOOP;
    RETURN changed;
END;
$$;
COMMENT ON FUNCTION zvt._paper_match(pg_catalog.int4) IS
    'Internal: match the resting paper orders of one instrument against its bus entry.';
REVOKE ALL ON FUNCTION zvt._paper_match(pg_catalog.int4) FROM PUBLIC;

-- every instrument with resting paper orders; NULL when none rests (the
-- matcher worker then stops until the next order rests)
CREATE FUNCTION zvt.paper_match() RETURNS pg_catalog.int4
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    iid int4;
    n int := 0;
    any_resting bool := false;
BEGIN
    FOR iid IN SELECT DISTINCT x.instrument_id FROM zvt.orders x
                WHERE x.status IN ('accepted', 'partially_filled')
    LOOP
        any_resting := true;
        n := n + zvt._paper_match(iid);
    END LOOP;
    RETURN CASE WHEN any_resting THEN n END;
END;
$$;
COMMENT ON FUNCTION zvt.paper_match() IS
    'Match every resting paper order against the market bus now (the paper matcher worker does this on each new price); returns how many orders changed, NULL when none rests.';
REVOKE ALL ON FUNCTION zvt.paper_match() FROM PUBLIC;

-- ---------------------------------------------------------------------
-- Read side
-- ---------------------------------------------------------------------

CREATE VIEW zvt.positions WITH (security_invoker = true) AS
SELECT a.name AS account, i.exchange, i.symbol, h.qty, h.avg_price, h.realized_pnl,
       m.mark AS mark_price,
       trim_scale(round((m.mark - h.avg_price) * h.qty, 8)) AS unrealized_pnl,
       trim_scale(round(abs(h.qty) * m.mark, 8)) AS notional,
       h.account_id, h.instrument_id, h.updated_at
  FROM zvt.holdings h
  JOIN zvt.accounts a ON a.account_id = h.account_id
  JOIN zvt.instruments i ON i.id = h.instrument_id
  CROSS JOIN LATERAL (SELECT zvt._mark_price(h.instrument_id) AS mark) m;
COMMENT ON VIEW zvt.positions IS
    'Netting positions marked to the market bus (last trade, else mid): unrealized PnL and notional; NULL marks before any price.';
GRANT SELECT ON zvt.positions TO PUBLIC;

CREATE FUNCTION zvt.__portfolio_row(caller pg_catalog.oid, name pg_catalog.text,
        OUT currency text, OUT cash numeric, OUT equity numeric,
        OUT exposure numeric, OUT unrealized_pnl numeric, OUT realized_pnl numeric,
        OUT fees numeric, OUT pnl_today numeric, OUT pnl_total numeric, OUT open_orders int4)
    RETURNS record
    LANGUAGE plpgsql STABLE
AS $$
#variable_conflict use_column
DECLARE
    a zvt.accounts := zvt._account(caller, __portfolio_row.name);
    spot_value numeric;
BEGIN
    __portfolio_row.currency := a.currency;
    SELECT coalesce(sum(b.amount), 0) INTO __portfolio_row.cash FROM zvt.balances b
     WHERE b.account_id = a.account_id AND b.asset = a.currency;
    SELECT coalesce(sum(CASE WHEN i.kind = 'spot' THEN h.qty * m.mark ELSE 0 END), 0),
           coalesce(sum(CASE WHEN i.kind = 'perp' THEN (m.mark - h.avg_price) * h.qty ELSE 0 END), 0),
           coalesce(sum(abs(h.qty) * m.mark), 0),
           coalesce(sum(h.realized_pnl), 0)
      INTO spot_value, __portfolio_row.unrealized_pnl, __portfolio_row.exposure, __portfolio_row.realized_pnl
      FROM zvt.holdings h
      JOIN zvt.instruments i ON i.id = h.instrument_id
      CROSS JOIN LATERAL (SELECT coalesce(zvt._mark_price(h.instrument_id), h.avg_price) AS mark) m
     WHERE h.account_id = a.account_id;
    -- spot holdings count at their mark; unrealized PnL of spot is mark against cost
    SELECT __portfolio_row.unrealized_pnl
           + coalesce(sum(CASE WHEN i.kind = 'spot' THEN (coalesce(zvt._mark_price(h.instrument_id), h.avg_price) - h.avg_price) * h.qty ELSE 0 END), 0)
      INTO __portfolio_row.unrealized_pnl
      FROM zvt.holdings h JOIN zvt.instruments i ON i.id = h.instrument_id
     WHERE h.account_id = a.account_id;
    equity := trim_scale(round(cash + spot_value + (SELECT coalesce(sum((coalesce(zvt._mark_price(h.instrument_id), h.avg_price) - h.avg_price) * h.qty), 0)
                                               FROM zvt.holdings h JOIN zvt.instruments i ON i.id = h.instrument_id
                                              WHERE h.account_id = a.account_id AND i.kind = 'perp'), 8));
    SELECT coalesce(sum(d.fees), 0) INTO fees FROM zvt.daily_pnl d WHERE d.account_id = a.account_id;
    SELECT trim_scale(round(coalesce(sum(d.realized - d.fees), 0) + __portfolio_row.unrealized_pnl, 8)) INTO pnl_today
      FROM zvt.daily_pnl d
     WHERE d.account_id = a.account_id AND d.day = (pg_catalog.clock_timestamp() AT TIME ZONE 'UTC')::date;
    pnl_total := trim_scale(equity - a.initial_cash);
    SELECT coalesce(sum(x.open_orders), 0) INTO open_orders FROM zvt.exposure x WHERE x.account_id = a.account_id;
    exposure := trim_scale(round(exposure, 8));
    unrealized_pnl := trim_scale(round(unrealized_pnl, 8));
    cash := trim_scale(cash);
END;
$$;
COMMENT ON FUNCTION zvt.__portfolio_row(pg_catalog.oid, pg_catalog.text) IS 'Internal: zvt.portfolio''s body.';
REVOKE ALL ON FUNCTION zvt.__portfolio_row(pg_catalog.oid, pg_catalog.text) FROM PUBLIC;

CREATE FUNCTION zvt._portfolio_row(name pg_catalog.text,
        OUT currency text, OUT cash numeric, OUT equity numeric,
        OUT exposure numeric, OUT unrealized_pnl numeric, OUT realized_pnl numeric,
        OUT fees numeric, OUT pnl_today numeric, OUT pnl_total numeric, OUT open_orders int4)
    RETURNS record
    LANGUAGE C VOLATILE CALLED ON NULL INPUT
    AS 'MODULE_PATHNAME', 'zvt_ledger_call';
COMMENT ON FUNCTION zvt._portfolio_row(pg_catalog.text) IS 'Internal: zvt.portfolio''s row.';

CREATE FUNCTION zvt.portfolio(account pg_catalog.text)
    RETURNS TABLE (currency text, cash numeric, equity numeric, exposure numeric,
                   unrealized_pnl numeric, realized_pnl numeric, fees numeric, pnl_today numeric,
                   pnl_total numeric, open_orders int4)
    LANGUAGE sql VOLATILE
    SET search_path = pg_catalog, pg_temp
    AS $$ SELECT * FROM zvt._portfolio_row(portfolio.account) $$;
COMMENT ON FUNCTION zvt.portfolio(pg_catalog.text) IS
    'An account''s cash (its currency), equity (cash + spot holdings at mark + perpetuals'' unrealized PnL), gross exposure, PnL (realized, unrealized, today since 00:00 UTC, total against the initial cash), fees and open orders.';
