-- test/pgtap/hypertable_behaviour.sql: hypertable behaviour as a table
-- owner who is not a superuser sees it.
BEGIN;
SELECT plan(12);

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
            WHERE c.oid = '_zvt_chunks.public_tap_ticks_p20330303'::regclass),
          'zvt_tap_owner', 'the chunk belongs to the table''s owner');
SELECT is((SELECT tableoid::regclass::text FROM public.tap_ticks WHERE v = 1),
          '_zvt_chunks.public_tap_ticks_p20330303', 'the row moved into its chunk');
SELECT lives_ok($$SELECT zvt.add_retention_policy('public.tap_ticks', interval '7 days')$$,
                'the owner sets a retention policy');
SELECT throws_ok($$CREATE TABLE _zvt_chunks.squat (i int)$$, '42501', NULL,
                 'users cannot create tables among the chunks');
RESET ROLE;

-- another role may not create chunks or change the policy
CREATE ROLE zvt_tap_other;
SET ROLE zvt_tap_other;
SELECT throws_ok($$SELECT zvt._ensure_chunk('public.tap_ticks', '2034-01-01')$$, '42501', NULL,
                 'no chunks without INSERT privilege');
SELECT throws_ok($$SELECT zvt.drop_chunks('public.tap_ticks', now())$$, '42501', NULL,
                 'only the owner drops chunks');
SELECT throws_ok($$SELECT zvt.remove_retention_policy('public.tap_ticks')$$, '42501', NULL,
                 'only the owner removes the policy');
SELECT is((SELECT count(*)::int FROM zvt.hypertables WHERE relation = 'public.tap_ticks'::regclass),
          1, 'but everyone sees the catalog');
RESET ROLE;

SELECT * FROM finish();
ROLLBACK;
