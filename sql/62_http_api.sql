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
