-- sql/62_http_api.sql: the HTTP front's API layer reached from SQL.
--
-- The HTTP workers call the API layer (src/http/api.c) directly; this
-- function calls the same code from a session, so tests exercise the
-- grammar, the SQL it builds and the responses without the transport.

CREATE FUNCTION zvt._http_serve(method pg_catalog.text, path pg_catalog.text,
        query pg_catalog.text DEFAULT '',
        req_headers pg_catalog.jsonb DEFAULT '{}',
        req_body pg_catalog.text DEFAULT NULL,
        role pg_catalog.text DEFAULT NULL,
        anonymous pg_catalog.bool DEFAULT true,
        OUT status pg_catalog.int4, OUT headers pg_catalog.jsonb, OUT body pg_catalog.text)
    RETURNS record
    LANGUAGE C VOLATILE
    AS 'MODULE_PATHNAME', 'zvt_http_serve';
COMMENT ON FUNCTION zvt._http_serve(pg_catalog.text, pg_catalog.text, pg_catalog.text,
        pg_catalog.jsonb, pg_catalog.text, pg_catalog.text, pg_catalog.bool) IS
    'Internal, for tests: serve one HTTP request (method, path, query string, headers, body) through the API layer as role (SET ROLE, restored on return) and return PostgREST''s status, headers and body; an error becomes PostgREST''s error response. Superuser only.';
-- it runs a request as any role: superusers only (also checked in C)
REVOKE ALL ON FUNCTION zvt._http_serve(pg_catalog.text, pg_catalog.text, pg_catalog.text,
        pg_catalog.jsonb, pg_catalog.text, pg_catalog.text, pg_catalog.bool) FROM PUBLIC;
-- json_agg's text, rendered faster, for the bodies of the API layer's
-- statements (src/http/json_agg.c): byte for byte json_agg(_r)::text.
CREATE FUNCTION zvt._http_json_agg_step(pg_catalog.internal, pg_catalog.record)
    RETURNS pg_catalog.internal
    LANGUAGE C STABLE PARALLEL SAFE
    AS 'MODULE_PATHNAME', 'zvt_http_json_agg_step';
COMMENT ON FUNCTION zvt._http_json_agg_step(pg_catalog.internal, pg_catalog.record) IS
    'Internal: the transition of zvt._http_json_agg.';
CREATE FUNCTION zvt._http_json_agg_final(pg_catalog.internal)
    RETURNS pg_catalog.text
    LANGUAGE C STABLE PARALLEL SAFE
    AS 'MODULE_PATHNAME', 'zvt_http_json_agg_final';
COMMENT ON FUNCTION zvt._http_json_agg_final(pg_catalog.internal) IS
    'Internal: the final function of zvt._http_json_agg.';
CREATE AGGREGATE zvt._http_json_agg(pg_catalog.record) (
    SFUNC = zvt._http_json_agg_step, STYPE = internal,
    FINALFUNC = zvt._http_json_agg_final, FINALFUNC_MODIFY = READ_ONLY);
COMMENT ON AGGREGATE zvt._http_json_agg(pg_catalog.record) IS
    'Internal, for the HTTP front: json_agg(rows)::text, the same text, faster (column types looked up once per statement, not per value); NULL without rows.';
-- PUBLIC keeps EXECUTE on the three: every request's role runs them over
-- rows it has just read itself; they read nothing else and write nothing
