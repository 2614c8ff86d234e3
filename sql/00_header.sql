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
