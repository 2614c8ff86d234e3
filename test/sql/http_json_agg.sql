--
-- zvt._http_json_agg (src/http/json_agg.c), the HTTP front's faster
-- json_agg: the same text as json_agg(rows)::text for every kind of
-- column, in tables, subqueries and over NULL rows
--
\set SHOW_CONTEXT never
CREATE TYPE pg_temp.mood AS ENUM ('calm', 'say "hi"');
CREATE TYPE pg_temp.pair AS (a int, b text);
CREATE DOMAIN pg_temp.price AS numeric CHECK (VALUE >= 0);
CREATE DOMAIN pg_temp.when_ AS timestamptz;
-- a type of our own with a cast to json: json_agg uses the cast
CREATE TYPE pg_temp.tagged AS ENUM ('x', 'y');
CREATE FUNCTION pg_temp.tagged_json(pg_temp.tagged) RETURNS json
    LANGUAGE sql IMMUTABLE AS $$ SELECT json_build_object('tag', $1::text) $$;
CREATE CAST (pg_temp.tagged AS json) WITH FUNCTION pg_temp.tagged_json(pg_temp.tagged);
SET TimeZone = 'Asia/Kolkata';

CREATE TEMP TABLE kinds (
    id int, gone text, b bool, i2 int2, i8 int8, f4 float4, f8 float8, n numeric,
    d date, ts timestamp, tz timestamptz, j json, jb jsonb, t text, c char(3),
    v varchar, nm name, by bytea, iv interval, u uuid, arr int[], tarr text[],
    p pg_temp.pair, pr pg_temp.price, w pg_temp.when_, m pg_temp.mood,
    tg pg_temp.tagged, inet_ inet, "odd ""key""" text, rng int4range);
ALTER TABLE kinds DROP COLUMN gone;
INSERT INTO kinds VALUES
 (1, true, 1, 9007199254740993, 1.5, 0.1, 12.340, '2026-01-02', '2026-01-02 03:04:05.678',
  '2026-01-02 03:04:05+00', '{"a": [1, 2]}', '{"b": {"c": null}}', E'quote " backslash \\ tab \t nl \n bell \x07 é ✓',
  'ab', 'v', 'nm', '\x00ff', '1 day 02:03:04', 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11',
  '{1,NULL,3}', '{"a b","c\"d"}', ROW(1, 'x"y'), 5.5, '2026-06-01 00:00:00+00', 'say "hi"', 'y',
  '10.0.0.1/8', 'odd', '[1,5)'),
 (2, false, -1, -1, 'NaN', 'Infinity', 'NaN', 'infinity', '-infinity', 'infinity', 'null', '[]', '',
  NULL, NULL, NULL, NULL, NULL, NULL, '{}', '{}', ROW(NULL, NULL), 0, NULL, 'calm', 'x', NULL, NULL, 'empty'),
 (3, NULL, NULL, NULL, '-Infinity', '-0', '-0.000', NULL, NULL, NULL, NULL, NULL, NULL,
  NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL);

-- a table's rows
SELECT zvt._http_json_agg(k) = json_agg(k)::text AS same FROM kinds k;
-- a subquery's rows, as the API layer's statements read them
SELECT zvt._http_json_agg(_r) = json_agg(_r)::text AS same
  FROM (SELECT id, tz AS "when", p, arr, m, tg, 1.0 / 3 AS third FROM kinds ORDER BY id DESC) _r;
-- the text itself
SELECT zvt._http_json_agg(_r) FROM (SELECT id, b, f8, tz, m, tg FROM kinds ORDER BY id) _r;
-- no rows: NULL, as json_agg
SELECT zvt._http_json_agg(_r) IS NULL AS is_null FROM (SELECT id FROM kinds WHERE false) _r;
-- NULL rows among others
SELECT zvt._http_json_agg(CASE WHEN id = 2 THEN NULL ELSE k END)
     = json_agg(CASE WHEN id = 2 THEN NULL ELSE k END)::text AS same FROM kinds k;
-- grouped: one aggregate per group, each with its own state
SELECT id % 2 AS g, zvt._http_json_agg(k) = json_agg(k)::text AS same
  FROM kinds k GROUP BY id % 2 ORDER BY 1;
RESET TimeZone;
