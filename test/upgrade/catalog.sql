-- test/upgrade/catalog.sql
--   One line per fact of zvt's catalog footprint, sorted, so that two
--   databases can be diffed: an installation updated with ALTER EXTENSION
--   zvt UPDATE must print exactly what a fresh installation prints
--   (test/integration/upgrade.sh).  Covers every member object of the
--   extension (functions with their full definitions, grants, owners and
--   comments; tables, views and sequences with columns, defaults,
--   constraints, indexes, triggers, policies, RLS flags, partitioning,
--   grants and comments; types, schemas, event triggers) and the objects
--   the install script makes that are not members (indexes, constraints,
--   triggers and policies of member tables; default partitions).  Oids
--   inside names (_hyper_<oid>_...) are normalized.
\pset format unaligned
\pset tuples_only on
WITH ext AS (
	SELECT oid FROM pg_extension WHERE extname = 'zvt'
), members AS (
	SELECT classid, objid FROM pg_depend, ext
	 WHERE refclassid = 'pg_extension'::regclass AND refobjid = ext.oid AND deptype = 'e'
), rels AS (
	SELECT c.oid FROM pg_class c
	 WHERE c.oid IN (SELECT objid FROM members WHERE classid = 'pg_class'::regclass)
	    OR c.relnamespace = '_zvt_chunks'::regnamespace AND c.relkind IN ('r', 'p')
), facts AS (
	-- functions and procedures: the whole definition, grants, owner, comment
	SELECT 'function ' || p.oid::regprocedure::text || E'\n'
	       || CASE WHEN p.prokind = 'a' THEN
			(SELECT 'aggregate sfunc ' || a.aggtransfn::regprocedure::text
					|| ' stype ' || format_type(a.aggtranstype, NULL)
					|| ' final ' || a.aggfinalfn::text || ' combine ' || a.aggcombinefn::text
					|| ' serial ' || a.aggserialfn::text || ' deserial ' || a.aggdeserialfn::text
					|| ' init ' || coalesce(a.agginitval, '-') || ' parallel ' || p.proparallel::text
					|| ' returns ' || format_type(p.prorettype, NULL)
			   FROM pg_aggregate a WHERE a.aggfnoid = p.oid)
			ELSE pg_get_functiondef(p.oid) END
	       || E'\nacl ' || coalesce(p.proacl::text, 'default')
	       || E'\nowner ' || pg_get_userbyid(p.proowner)
	       || E'\ncomment ' || coalesce(obj_description(p.oid, 'pg_proc'), '(none)') AS fact
	  FROM pg_proc p WHERE p.oid IN (SELECT objid FROM members WHERE classid = 'pg_proc'::regclass)
	UNION ALL
	-- relations: kind, flags, options, partitioning, grants, owner, comment
	SELECT 'relation ' || c.oid::regclass::text || ' kind ' || c.relkind::text
	       || ' rls ' || c.relrowsecurity || '/' || c.relforcerowsecurity
	       || ' persistence ' || c.relpersistence::text
	       || ' options ' || coalesce(c.reloptions::text, '{}')
	       || ' partkey ' || coalesce(pg_get_partkeydef(c.oid), '-')
	       || ' bound ' || coalesce(pg_get_expr(c.relpartbound, c.oid), '-')
	       || ' acl ' || coalesce(c.relacl::text, 'default')
	       || ' owner ' || pg_get_userbyid(c.relowner)
	       || ' member ' || (c.oid IN (SELECT objid FROM members WHERE classid = 'pg_class'::regclass))
	       || ' comment ' || coalesce(obj_description(c.oid, 'pg_class'), '(none)')
	  FROM pg_class c WHERE c.oid IN (SELECT oid FROM rels)
	UNION ALL
	SELECT 'view ' || c.oid::regclass::text || E'\n' || pg_get_viewdef(c.oid)
	  FROM pg_class c WHERE c.oid IN (SELECT oid FROM rels) AND c.relkind IN ('v', 'm')
	UNION ALL
	-- columns, in order
	SELECT 'column ' || a.attrelid::regclass::text || ' #' || a.attnum || ' ' || a.attname
	       || ' ' || format_type(a.atttypid, a.atttypmod)
	       || CASE WHEN a.attnotnull THEN ' not null' ELSE '' END
	       || coalesce(' default ' || pg_get_expr(d.adbin, d.adrelid), '')
	       || CASE WHEN a.attidentity <> '' THEN ' identity ' || a.attidentity::text ELSE '' END
	       || CASE WHEN a.attgenerated <> '' THEN ' generated ' || a.attgenerated::text ELSE '' END
	       || coalesce(' collate ' || NULLIF(a.attcollation, 0)::regcollation::text, '')
	       || ' acl ' || coalesce(a.attacl::text, 'default')
	       || ' comment ' || coalesce(col_description(a.attrelid, a.attnum), '(none)')
	  FROM pg_attribute a LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
	 WHERE a.attrelid IN (SELECT oid FROM rels) AND a.attnum > 0 AND NOT a.attisdropped
	UNION ALL
	SELECT 'constraint ' || co.conrelid::regclass::text || ' ' || co.conname || ' ' || pg_get_constraintdef(co.oid)
	       || ' comment ' || coalesce(obj_description(co.oid, 'pg_constraint'), '(none)')
	  FROM pg_constraint co WHERE co.conrelid IN (SELECT oid FROM rels)
	UNION ALL
	SELECT 'index ' || pg_get_indexdef(i.indexrelid)
	       || ' comment ' || coalesce(obj_description(i.indexrelid, 'pg_class'), '(none)')
	  FROM pg_index i WHERE i.indrelid IN (SELECT oid FROM rels)
	UNION ALL
	SELECT 'trigger ' || pg_get_triggerdef(t.oid) || ' enabled ' || t.tgenabled::text
	       || ' comment ' || coalesce(obj_description(t.oid, 'pg_trigger'), '(none)')
	  FROM pg_trigger t WHERE t.tgrelid IN (SELECT oid FROM rels) AND NOT t.tgisinternal
	UNION ALL
	SELECT 'policy ' || pol.schemaname || '.' || pol.tablename || ' ' || pol.policyname || ' '
	       || pol.permissive || ' ' || pol.roles::text || ' ' || pol.cmd
	       || ' using ' || coalesce(pol.qual, '-') || ' check ' || coalesce(pol.with_check, '-')
	  FROM pg_policies pol WHERE (pol.schemaname || '.' || quote_ident(pol.tablename))::regclass IN (SELECT oid FROM rels)
	UNION ALL
	SELECT 'sequence ' || s.seqrelid::regclass::text || ' ' || format_type(s.seqtypid, NULL) || ' '
	       || s.seqstart || ' ' || s.seqincrement || ' ' || s.seqmax || ' ' || s.seqmin || ' ' || s.seqcache || ' ' || s.seqcycle
	  FROM pg_sequence s WHERE s.seqrelid IN (SELECT oid FROM rels)
	UNION ALL
	SELECT 'type ' || t.oid::regtype::text || ' ' || t.typtype::text
	       || coalesce(' enum ' || (SELECT string_agg(enumlabel, ',' ORDER BY enumsortorder) FROM pg_enum WHERE enumtypid = t.oid), '')
	       || ' acl ' || coalesce(t.typacl::text, 'default')
	       || ' comment ' || coalesce(obj_description(t.oid, 'pg_type'), '(none)')
	  FROM pg_type t WHERE t.oid IN (SELECT objid FROM members WHERE classid = 'pg_type'::regclass)
	UNION ALL
	SELECT 'schema ' || n.nspname || ' acl ' || coalesce(n.nspacl::text, 'default')
	       || ' owner ' || pg_get_userbyid(n.nspowner)
	       || ' comment ' || coalesce(obj_description(n.oid, 'pg_namespace'), '(none)')
	  FROM pg_namespace n WHERE n.oid IN (SELECT objid FROM members WHERE classid = 'pg_namespace'::regclass)
	     OR n.nspname = 'zvt'
	UNION ALL
	SELECT 'event trigger ' || e.evtname || ' ' || e.evtevent || ' ' || e.evtfoid::regproc::text
	       || ' ' || coalesce(e.evttags::text, '{}') || ' enabled ' || e.evtenabled::text
	  FROM pg_event_trigger e WHERE e.oid IN (SELECT objid FROM members WHERE classid = 'pg_event_trigger'::regclass)
	UNION ALL
	-- member objects of any other kind, by name, so nothing goes unseen
	SELECT 'member ' || pg_describe_object(m.classid, m.objid, 0)
	  FROM members m
	 WHERE m.classid NOT IN ('pg_proc'::regclass, 'pg_class'::regclass, 'pg_type'::regclass,
							 'pg_namespace'::regclass, 'pg_event_trigger'::regclass)
	UNION ALL
	SELECT 'extension config ' || cfg::regclass::text || ' filter ' || coalesce(cond, '-')
	  FROM pg_extension e, unnest(e.extconfig, e.extcondition) AS u(cfg, cond)
	 WHERE e.extname = 'zvt'
)
SELECT regexp_replace(fact, '_hyper_[0-9]+_', '_hyper_N_', 'g') FROM facts ORDER BY 1;
