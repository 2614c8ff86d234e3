-- test/http/fixture.sql: the schema the request suite (test/http/run.py)
-- runs against, exposed through zvt.http_schemas = 'zvt_api_test,
-- zvt_api_test2'.  Recreated from scratch by every run.  Roles:
-- zvt_test_anon (the anonymous role: reads, a few writes) and
-- zvt_test_user (more).  zvt_canary.canary is outside every exposed
-- schema: the injection cases check that nothing ever changes it.

DROP SCHEMA IF EXISTS zvt_api_test CASCADE;
DROP SCHEMA IF EXISTS zvt_api_test2 CASCADE;
DROP SCHEMA IF EXISTS zvt_canary CASCADE;
DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'zvt_test_anon') THEN
        CREATE ROLE zvt_test_anon NOLOGIN;
    END IF;
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'zvt_test_user') THEN
        CREATE ROLE zvt_test_user NOLOGIN;
    END IF;
END $$;

CREATE SCHEMA zvt_canary;
CREATE TABLE zvt_canary.canary (id int PRIMARY KEY, v text NOT NULL);
INSERT INTO zvt_canary.canary VALUES (1, 'alive');
GRANT USAGE ON SCHEMA zvt_canary TO zvt_test_anon, zvt_test_user;
GRANT SELECT ON zvt_canary.canary TO zvt_test_anon, zvt_test_user;

CREATE SCHEMA zvt_api_test;
COMMENT ON SCHEMA zvt_api_test IS 'request suite fixture';
GRANT USAGE ON SCHEMA zvt_api_test TO zvt_test_anon, zvt_test_user;

CREATE TABLE zvt_api_test.clients (id int PRIMARY KEY, name text NOT NULL);
COMMENT ON TABLE zvt_api_test.clients IS 'Clients
who own projects';
INSERT INTO zvt_api_test.clients VALUES (1, 'Microsoft'), (2, 'Apple'), (3, 'Canonical');

CREATE TABLE zvt_api_test.projects (
    id int PRIMARY KEY, name text NOT NULL,
    client_id int REFERENCES zvt_api_test.clients);
INSERT INTO zvt_api_test.projects VALUES
    (1, 'Windows 7', 1), (2, 'Windows 10', 1), (3, 'IOS', 2), (4, 'OSX', 2), (5, 'Orphan', NULL);

CREATE TABLE zvt_api_test.tasks (
    id int PRIMARY KEY, name text NOT NULL,
    project_id int REFERENCES zvt_api_test.projects);
INSERT INTO zvt_api_test.tasks VALUES
    (1, 'Design w7', 1), (2, 'Code w7', 1), (3, 'Design w10', 2), (4, 'Code w10', 2),
    (5, 'Design IOS', 3), (6, 'Code IOS', 3), (7, 'Design OSX', 4), (8, 'Code OSX', 4);

CREATE TABLE zvt_api_test.items (id int PRIMARY KEY);
INSERT INTO zvt_api_test.items SELECT generate_series(1, 15);

CREATE TABLE zvt_api_test.things (
    id serial PRIMARY KEY,
    name text,
    price numeric,
    qty int,
    tags text[],
    data jsonb,
    ts timestamptz,
    flag boolean,
    rng int4range,
    doc tsvector,
    note text DEFAULT 'none'
);
COMMENT ON COLUMN zvt_api_test.things.price IS 'price in USDT';
INSERT INTO zvt_api_test.things (id, name, price, qty, tags, data, ts, flag, rng, doc) VALUES
    (1, 'apple', 1.5, 10, '{fruit,red}', '{"color": "red", "size": {"w": 3}, "list": [1, 2]}',
     '2024-01-01 00:00+00', true, '[1,5)', to_tsvector('english', 'the quick brown fox')),
    (2, 'banana', 0.25, 0, '{fruit,yellow}', '{"color": "yellow", "size": {"w": 8}}',
     '2024-01-02 00:00+00', false, '[5,10)', to_tsvector('english', 'lazy dogs sleep')),
    (3, 'carrot', NULL, 5, '{vegetable}', '{"color": "orange"}',
     NULL, NULL, '[20,30)', to_tsvector('english', 'quick carrots grow')),
    (4, 'a,b "quoted"', 9, NULL, '{}', NULL, '2024-01-04 00:00+00', true, NULL, NULL),
    (5, 'per%cent_under', 2, 1, NULL, '{"color": "red"}', NULL, false, 'empty', NULL);
SELECT setval('zvt_api_test.things_id_seq', 100);

-- two keys between the same tables: ambiguous embedding
CREATE TABLE zvt_api_test.persons (id int PRIMARY KEY, name text);
INSERT INTO zvt_api_test.persons VALUES (1, 'ann'), (2, 'bob');
CREATE TABLE zvt_api_test.messages (
    id int PRIMARY KEY, body text,
    sender int CONSTRAINT message_sender_fkey REFERENCES zvt_api_test.persons,
    recipient int CONSTRAINT message_recipient_fkey REFERENCES zvt_api_test.persons);
INSERT INTO zvt_api_test.messages VALUES (1, 'hi bob', 1, 2), (2, 'hi ann', 2, 1);

-- many-to-many through a junction
CREATE TABLE zvt_api_test.films (id int PRIMARY KEY, title text);
CREATE TABLE zvt_api_test.actors (id int PRIMARY KEY, name text);
CREATE TABLE zvt_api_test.roles (
    film_id int REFERENCES zvt_api_test.films, actor_id int REFERENCES zvt_api_test.actors,
    character text, PRIMARY KEY (film_id, actor_id));
INSERT INTO zvt_api_test.films VALUES (1, 'Heat'), (2, 'Ronin'), (3, 'Solo');
INSERT INTO zvt_api_test.actors VALUES (1, 'De Niro'), (2, 'Pacino'), (3, 'Reno');
INSERT INTO zvt_api_test.roles VALUES (1, 1, 'McCauley'), (1, 2, 'Hanna'), (2, 1, 'Sam'), (2, 3, 'Vincent');

-- the anonymous role may not read it
CREATE TABLE zvt_api_test.secrets (id int PRIMARY KEY, secret text);
INSERT INTO zvt_api_test.secrets VALUES (1, 'hunter2');

-- writable by both roles (the write cases restore what they change)
CREATE TABLE zvt_api_test.notes (id int PRIMARY KEY, body text, n int DEFAULT 7);
INSERT INTO zvt_api_test.notes VALUES (1, 'first', 1), (2, 'second', 2);

CREATE VIEW zvt_api_test.cheap_things WITH (security_invoker = true) AS
    SELECT id, name, price FROM zvt_api_test.things WHERE price < 5;
COMMENT ON VIEW zvt_api_test.cheap_things IS 'Things under 5';

-- views keep their tables' keys: embedding works through them
CREATE VIEW zvt_api_test.project_list WITH (security_invoker = true) AS
    SELECT p.id, p.name AS title, p.client_id FROM zvt_api_test.projects p;
CREATE VIEW zvt_api_test.project_counts WITH (security_invoker = true) AS
    SELECT client_id, count(*) AS n FROM zvt_api_test.projects GROUP BY client_id;
CREATE VIEW zvt_api_test.client_list WITH (security_invoker = true) AS
    SELECT c.id, upper(c.name) AS shout FROM zvt_api_test.clients c;

CREATE FUNCTION zvt_api_test.add(a int, b int) RETURNS int
    LANGUAGE sql IMMUTABLE AS 'SELECT a + b';
COMMENT ON FUNCTION zvt_api_test.add(int, int) IS 'Adds two numbers';
CREATE FUNCTION zvt_api_test.get_items(lo int, hi int) RETURNS SETOF zvt_api_test.items
    LANGUAGE sql STABLE AS 'SELECT * FROM zvt_api_test.items WHERE id BETWEEN lo AND hi ORDER BY id';
CREATE FUNCTION zvt_api_test.get_client(id int) RETURNS zvt_api_test.clients
    LANGUAGE sql STABLE AS 'SELECT * FROM zvt_api_test.clients c WHERE c.id = get_client.id';
CREATE FUNCTION zvt_api_test.hello(name text DEFAULT 'world') RETURNS text
    LANGUAGE sql STABLE AS $$SELECT 'Hello, ' || name$$;
CREATE FUNCTION zvt_api_test.echo(json) RETURNS json
    LANGUAGE sql IMMUTABLE AS 'SELECT $1';
CREATE FUNCTION zvt_api_test.stats(OUT n bigint, OUT total numeric)
    LANGUAGE sql STABLE AS 'SELECT count(*), sum(price) FROM zvt_api_test.things';
CREATE FUNCTION zvt_api_test.numbers(n int) RETURNS SETOF int
    LANGUAGE sql IMMUTABLE AS 'SELECT generate_series(1, n)';
CREATE FUNCTION zvt_api_test.touch_note(id int, body text) RETURNS void
    LANGUAGE sql VOLATILE AS 'UPDATE zvt_api_test.notes n SET body = touch_note.body WHERE n.id = touch_note.id';
CREATE FUNCTION zvt_api_test.fail(msg text) RETURNS int
    LANGUAGE plpgsql AS $$BEGIN RAISE EXCEPTION '%', msg USING HINT = 'a hint', DETAIL = 'a detail'; END$$;
-- declared STABLE but calls nextval: PostgREST runs it read-only, even by POST
CREATE FUNCTION zvt_api_test.stable_nextval() RETURNS bigint LANGUAGE plpgsql STABLE AS
    $$BEGIN RETURN nextval('zvt_api_test.things_id_seq'); END$$;
CREATE FUNCTION zvt_api_test.ov(a int) RETURNS text LANGUAGE sql IMMUTABLE AS $$SELECT 'int'$$;
CREATE FUNCTION zvt_api_test.ov(a text) RETURNS text LANGUAGE sql IMMUTABLE AS $$SELECT 'text'$$;
CREATE FUNCTION zvt_api_test.sum_arr(xs int[]) RETURNS int LANGUAGE sql IMMUTABLE AS
    'SELECT sum(x)::int FROM unnest(xs) x';
-- the anonymous role may not execute it
CREATE FUNCTION zvt_api_test.private_fn() RETURNS int LANGUAGE sql AS 'SELECT 42';
REVOKE ALL ON FUNCTION zvt_api_test.private_fn() FROM PUBLIC;

GRANT SELECT ON ALL TABLES IN SCHEMA zvt_api_test TO zvt_test_anon, zvt_test_user;
REVOKE SELECT ON zvt_api_test.secrets FROM zvt_test_anon;
GRANT INSERT, UPDATE, DELETE ON zvt_api_test.notes, zvt_api_test.things TO zvt_test_anon, zvt_test_user;
GRANT USAGE ON SEQUENCE zvt_api_test.things_id_seq TO zvt_test_anon, zvt_test_user;
GRANT EXECUTE ON FUNCTION zvt_api_test.private_fn() TO zvt_test_user;

-- a second exposed schema with a table of the same name
CREATE SCHEMA zvt_api_test2;
GRANT USAGE ON SCHEMA zvt_api_test2 TO zvt_test_anon, zvt_test_user;
CREATE TABLE zvt_api_test2.clients (id int PRIMARY KEY, name text);
INSERT INTO zvt_api_test2.clients VALUES (10, 'Other schema');
GRANT SELECT ON zvt_api_test2.clients TO zvt_test_anon, zvt_test_user;
ANALYZE zvt_api_test.items, zvt_api_test.things, zvt_api_test.clients, zvt_api_test.projects;
