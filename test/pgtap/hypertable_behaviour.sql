-- test/pgtap/hypertable_behaviour.sql: hypertable behaviour as a table
-- owner who is not a superuser sees it, and maintenance as an attacker
-- who owns a hypertable would like it to run.
BEGIN;
SELECT plan(27);

CREATE ROLE zvt_tap_owner LOGIN;
GRANT CREATE ON SCHEMA public TO zvt_tap_owner;
SET ROLE zvt_tap_owner;

CREATE TABLE public.tap_ticks (ts timestamptz NOT NULL, v int);
SELECT lives_ok($$SELECT zvt.create_hypertable('public.tap_ticks', 'ts', '1 day')$$,
                'a non-superuser owner makes a hypertable');
SELECT lives_ok($$INSERT INTO public.tap_ticks VALUES ('2033-03-03 03:00+00', 1), ('1999-09-09', 2)$$,
                'inserts at any time succeed');
SELECT is((SELECT count(*)::int FROM public.tap_ticks), 2, 'rows are visible at once');
SELECT lives_ok($$SELECT zvt._ensure_chunk('public.tap_ticks', '2033-03-03 03:00+00')$$,
                'the owner creates a chunk');
SELECT is((SELECT pg_get_userbyid(c.relowner)::text FROM pg_class c
            WHERE c.oid = format('_zvt_chunks._hyper_%s_p20330303',
                                 'public.tap_ticks'::regclass::oid)::regclass),
          'zvt_tap_owner', 'the chunk, named after the table''s OID, belongs to the table''s owner');
SELECT is((SELECT tableoid::regclass FROM public.tap_ticks WHERE v = 1),
          format('_zvt_chunks._hyper_%s_p20330303', 'public.tap_ticks'::regclass::oid)::regclass,
          'the row moved into its chunk');
SELECT lives_ok($$SELECT zvt.add_retention_policy('public.tap_ticks', interval '7 days')$$,
                'the owner sets a retention policy');
SELECT throws_ok($$CREATE TABLE _zvt_chunks.squat (i int)$$, '42501', NULL,
                 'users cannot create tables among the chunks');
-- run_maintenance by a plain role maintains the tables it owns, not others
SELECT lives_ok($$CALL zvt.run_maintenance()$$,
                'a table owner runs maintenance');
SELECT isnt((SELECT tableoid::regclass FROM public.tap_ticks WHERE v = 2),
            (SELECT chunk FROM zvt._chunks('public.tap_ticks') WHERE is_default),
            'her stray row reached its chunk');
SELECT is(current_user::text, 'zvt_tap_owner', 'the caller is herself again');
RESET ROLE;

-- another role may not create chunks, change the policy or maintain it
CREATE ROLE zvt_tap_other;
SET ROLE zvt_tap_other;
SELECT throws_ok($$SELECT zvt._ensure_chunk('public.tap_ticks', '2034-01-01')$$, '42501', NULL,
                 'no chunks without INSERT privilege');
SELECT throws_ok($$SELECT zvt.drop_chunks('public.tap_ticks', now())$$, '42501', NULL,
                 'only the owner drops chunks');
SELECT throws_ok($$SELECT zvt.remove_retention_policy('public.tap_ticks')$$, '42501', NULL,
                 'only the owner removes the policy');
SELECT throws_ok($$SELECT zvt._maintain_hypertable('public.tap_ticks')$$, '42501', NULL,
                 'only the owner (or a superuser) runs its maintenance');
SELECT throws_ok($$SELECT zvt._maintenance_steps('public.tap_ticks')$$, '42501', NULL,
                 'the pass''s steps, called directly, do only what the caller may');
SELECT throws_ok($$SELECT zvt._maintenance_lock('public.tap_ticks', 'infinity', now(), true)$$, '42501', NULL,
                 'nor may it lock the table for a pass');
SELECT is((SELECT count(*)::int FROM zvt.hypertables WHERE relation = 'public.tap_ticks'::regclass),
          1, 'but everyone sees the catalog');
RESET ROLE;

-- The attacker: a plain role owning a hypertable with a retention policy
-- and triggers that try to make it superuser whenever maintenance deletes
-- or moves its rows, recording who they ran as.  Maintenance by a
-- superuser must run them, if at all, as the attacker.
CREATE ROLE zvt_tap_attacker LOGIN;
GRANT CREATE ON SCHEMA public TO zvt_tap_attacker;
SET ROLE zvt_tap_attacker;
CREATE TABLE public.tap_evil (ts timestamptz NOT NULL, v int);
CREATE TABLE public.tap_evil_log (trigger_name name, ran_as name, outcome text);
DO $$
BEGIN
    PERFORM zvt.create_hypertable('public.tap_evil', 'ts', '1 day');
    PERFORM zvt.add_retention_policy('public.tap_evil', interval '30 days');
END;
$$;
CREATE FUNCTION public.tap_escalate() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM set_config('search_path', 'public', false);
    BEGIN
        ALTER ROLE zvt_tap_attacker SUPERUSER;
        INSERT INTO public.tap_evil_log VALUES (TG_NAME, current_user, 'escalated');
    EXCEPTION WHEN OTHERS THEN
        INSERT INTO public.tap_evil_log VALUES (TG_NAME, current_user, SQLSTATE);
    END;
    RETURN NULL;
END;
$$;
CREATE TRIGGER evil_row AFTER DELETE ON public.tap_evil
    FOR EACH ROW EXECUTE FUNCTION public.tap_escalate();
CREATE TRIGGER evil_insert AFTER INSERT ON public.tap_evil
    FOR EACH ROW EXECUTE FUNCTION public.tap_escalate();
DO $$
BEGIN
    EXECUTE format('CREATE TRIGGER evil_stmt AFTER DELETE ON %s FOR EACH STATEMENT '
                   'EXECUTE FUNCTION public.tap_escalate()',
                   (SELECT chunk FROM zvt._chunks('public.tap_evil') WHERE is_default));
END;
$$;
-- rows past retention (deleted from the default partition) and strays (moved)
INSERT INTO public.tap_evil VALUES (now() - interval '100 days', 1), ('2035-05-05', 2);
-- (the insert fired the triggers here, as the attacker, in this session)
DELETE FROM public.tap_evil_log;
RESET search_path;
RESET ROLE;

SELECT lives_ok($$CALL zvt.run_maintenance()$$, 'a superuser runs maintenance');
SELECT is((SELECT rolsuper FROM pg_roles WHERE rolname = 'zvt_tap_attacker'), false,
          'the attacker is still not superuser');
SELECT is((SELECT count(*)::int FROM public.tap_evil_log WHERE outcome = 'escalated'), 0,
          'no trigger managed to alter the role');
SELECT ok((SELECT count(*) FROM public.tap_evil_log WHERE trigger_name IN ('evil_row', 'evil_stmt')) >= 2,
          'the delete triggers did fire');
SELECT is((SELECT array_agg(DISTINCT ran_as::text) FROM public.tap_evil_log), ARRAY['zvt_tap_attacker'],
          'every trigger ran as the table''s owner');
SELECT is((SELECT array_agg(v ORDER BY v) FROM public.tap_evil), ARRAY[2],
          'retention removed the expired row');
SELECT isnt((SELECT tableoid::regclass FROM public.tap_evil WHERE v = 2),
            (SELECT chunk FROM zvt._chunks('public.tap_evil') WHERE is_default),
            'the stray row reached its chunk');
SELECT is(current_setting('search_path'), (SELECT reset_val FROM pg_settings WHERE name = 'search_path'),
          'nothing the owner''s code set outlives the pass');
SELECT is(current_user::text, session_user::text, 'the caller is itself again');

SELECT * FROM finish();
ROLLBACK;
