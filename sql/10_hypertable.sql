-- ===================================================================
-- Hypertables: time-partitioned tables with chunks made on demand
-- ===================================================================
--
-- A hypertable is a table PARTITION BY RANGE (time_column) whose chunks
-- (partitions) live in schema _zvt_chunks, are created by
-- zvt._ensure_chunk, and whose rows that arrive before their chunk exists
-- wait in a DEFAULT partition until maintenance moves them.  See
-- src/storage/chunk.c for the locking rules and src/storage/as_owner.c for
-- why maintenance runs as each table's owner.

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
-- maintenance runs as each table's owner, who must be able to call it
GRANT EXECUTE ON FUNCTION zvt._chunks(pg_catalog.regclass) TO PUBLIC;

CREATE FUNCTION zvt._ensure_chunk(relation pg_catalog.regclass,
                                  ts pg_catalog.timestamptz,
                                  OUT chunk pg_catalog.regclass,
                                  OUT created pg_catalog.bool,
                                  OUT rows_moved pg_catalog.int8)
    RETURNS record
    LANGUAGE C STRICT VOLATILE
    AS 'MODULE_PATHNAME', 'zvt_ensure_chunk';
COMMENT ON FUNCTION zvt._ensure_chunk(pg_catalog.regclass, pg_catalog.timestamptz) IS
    'The chunk holding ts, created (with its rows moved out of the default partition) when missing. Call before writing in the same transaction: a transaction that already locked the table gets a NULL chunk, rather than a deadlock, while another creates or drops chunks.';
-- writers and maintenance (as each table's owner) call it; it checks INSERT or ownership
GRANT EXECUTE ON FUNCTION zvt._ensure_chunk(pg_catalog.regclass, pg_catalog.timestamptz) TO PUBLIC;

CREATE FUNCTION zvt._attach_default(relation pg_catalog.regclass)
    RETURNS pg_catalog.regclass
    LANGUAGE C STRICT VOLATILE
    AS 'MODULE_PATHNAME', 'zvt_attach_default';
COMMENT ON FUNCTION zvt._attach_default(pg_catalog.regclass) IS
    'Internal: create the default partition of a partitioned table in _zvt_chunks.';

CREATE FUNCTION zvt._chunk_start(ts pg_catalog.timestamptz,
                                 chunk_interval pg_catalog.interval,
                                 ahead pg_catalog.int4 DEFAULT 0)
    RETURNS pg_catalog.timestamptz
    LANGUAGE C STRICT IMMUTABLE PARALLEL SAFE
    AS 'MODULE_PATHNAME', 'zvt_chunk_start';
COMMENT ON FUNCTION zvt._chunk_start(pg_catalog.timestamptz, pg_catalog.interval, pg_catalog.int4) IS
    'Internal: start of the chunk ahead chunks after the one holding ts, or NULL when no chunk can hold it (it would reach past the ends of the timestamp range).';
-- arithmetic only: anyone may compute it
GRANT EXECUTE ON FUNCTION zvt._chunk_start(pg_catalog.timestamptz, pg_catalog.interval, pg_catalog.int4) TO PUBLIC;

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
-- owners call it, and retention does as each table's owner; it checks ownership
GRANT EXECUTE ON FUNCTION zvt.drop_chunks(pg_catalog.regclass, "any", "any") TO PUBLIC;

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
    -- chunk arithmetic counts microseconds in an int8
    IF extract(epoch FROM iv) >= 9223372036854.775807 THEN
        RAISE EXCEPTION 'chunk_interval is too long: %', iv
            USING ERRCODE = '22023',
                  HINT = 'A chunk interval must be shorter than 292,000 years.';
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

-- -------------------------------------------------------------------
-- Maintenance
-- -------------------------------------------------------------------

-- The locks of one pass (src/storage/pass_lock.c), taken before the pass
-- touches a chunk: ACCESS EXCLUSIVE after the chunk lock when a chunk is
-- missing up to horizon, ends at or before drop_before, or is owed rows
-- by the default partition; else SHARE UPDATE EXCLUSIVE when compress;
-- else none (NULL).  Never a weaker lock first: a pass that listed its
-- chunks and then locked the hypertable for retention or compression
-- deadlocked with compressions and readers (issue 16).
CREATE FUNCTION zvt._maintenance_lock(rel pg_catalog.regclass,
                                      horizon pg_catalog.timestamptz,
                                      drop_before pg_catalog.timestamptz,
                                      compress pg_catalog.bool)
    RETURNS pg_catalog.text
    LANGUAGE C VOLATILE
    AS 'MODULE_PATHNAME', 'zvt_maintenance_lock';
COMMENT ON FUNCTION zvt._maintenance_lock(pg_catalog.regclass, pg_catalog.timestamptz, pg_catalog.timestamptz, pg_catalog.bool) IS
    'Internal: lock a hypertable for one maintenance pass, in the strongest mode the pass needs, before any of its chunks; the lock mode taken, or NULL when the pass has nothing to do.';
-- it checks that the caller has the owner's privileges itself
GRANT EXECUTE ON FUNCTION zvt._maintenance_lock(pg_catalog.regclass, pg_catalog.timestamptz, pg_catalog.timestamptz, pg_catalog.bool) TO PUBLIC;

-- One hypertable's pass: chunks ahead of now, retention, the compression
-- policy, then rows waiting in the default partition moved into chunks.
-- zvt._maintenance_lock locks the hypertable first, before any chunk, in
-- the strongest mode the pass needs: ACCESS EXCLUSIVE (after the chunk
-- lock) when a chunk is to be made, dropped or filled, else SHARE UPDATE
-- EXCLUSIVE for the compression policy alone; no step takes a stronger
-- lock on it later (docs/architecture.md, "Locks and their order").  It
-- runs as its caller; zvt._maintain_hypertable calls it as the table's
-- owner.  Rows no chunk can hold (zvt._chunk_start is NULL) stay in the
-- default partition.
CREATE FUNCTION zvt._maintenance_steps(rel pg_catalog.regclass,
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
    mode text;
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
    horizon := COALESCE(zvt._chunk_start(now(), h.chunk_interval, ahead + 1), 'infinity');

    mode := zvt._maintenance_lock(rel, horizon, now() - h.retention,
                                  EXISTS (SELECT 1 FROM zvt._compression_settings s
                                           WHERE s.relid = rel));
    IF mode IS NULL THEN
        RETURN;
    ELSIF mode = 'SHARE UPDATE EXCLUSIVE' THEN
        -- nothing to make, drop or fill: the compression policy alone
        PERFORM zvt._compression_steps(rel);
        RETURN;
    END IF;

    -- chunks from now to the end of the grid cell `ahead` cells on, chunk
    -- after chunk (after zvt.set_chunk_interval a cell may hold a chunk
    -- of the old interval and a new chunk cut to fit beside it)
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

    -- compression policy (sql/12_compression.sql)
    PERFORM zvt._compression_steps(rel);

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
-- it does only what its caller may do (_maintenance_lock checks ownership)
GRANT EXECUTE ON FUNCTION zvt._maintenance_steps(pg_catalog.regclass) TO PUBLIC;

CREATE FUNCTION zvt._maintain_hypertable(rel pg_catalog.regclass,
        OUT relation pg_catalog.regclass,
        OUT chunks_created pg_catalog.int8,
        OUT rows_moved pg_catalog.int8,
        OUT chunks_dropped pg_catalog.int8)
    RETURNS record
    LANGUAGE C STRICT VOLATILE
    AS 'MODULE_PATHNAME', 'zvt_maintain_hypertable';
COMMENT ON FUNCTION zvt._maintain_hypertable(pg_catalog.regclass) IS
    'Internal: one maintenance pass over one hypertable, run as the table''s owner under SECURITY_RESTRICTED_OPERATION; the caller must have the owner''s privileges.';
-- it checks that the caller has the owner's privileges itself
GRANT EXECUTE ON FUNCTION zvt._maintain_hypertable(pg_catalog.regclass) TO PUBLIC;

-- Every hypertable the caller owns (all of them for a superuser), each in
-- a subtransaction of its own so that one failing table neither stops
-- nor undoes the others; a failure is a WARNING.
CREATE PROCEDURE zvt.run_maintenance()
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
