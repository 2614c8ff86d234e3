--
-- The Redis publisher's settings and status (its streams are tested
-- against a real Redis in test/integration/redis_fanout.sh)
--
\set SHOW_CONTEXT never
\set VERBOSITY default

-- zvt.redis_url: refused with the reason; rediss:// (TLS) is taken
ALTER SYSTEM SET zvt.redis_url = 'http://127.0.0.1:6379';
\echo SQLSTATE :LAST_ERROR_SQLSTATE
ALTER SYSTEM SET zvt.redis_url = 'redis://127.0.0.1:99999';
\echo SQLSTATE :LAST_ERROR_SQLSTATE
ALTER SYSTEM SET zvt.redis_url = 'rediss://cache.example.com';
ALTER SYSTEM RESET zvt.redis_url;
SELECT name, setting, context FROM pg_settings
 WHERE name LIKE 'zvt.redis%' OR name = 'zvt.event_ring_size' ORDER BY name;

-- the status without a URL: nothing runs, the ring is there
SELECT enabled, pid, connected, events_sent, dropped, ring_size FROM zvt.redis_status;

-- monitoring roles read the status, others do not
CREATE ROLE zvt_redis_nobody;
SET ROLE zvt_redis_nobody;
SELECT enabled FROM zvt.redis_status;
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT zvt._redis_status();
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SHOW zvt.redis_url;	-- it holds a password: superusers and pg_read_all_settings only
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SHOW zvt.redis_tls_key_file;	-- where the client key lives: the same
\echo SQLSTATE :LAST_ERROR_SQLSTATE
ALTER SYSTEM SET zvt.redis_tls_ca_file = '/tmp/attacker-ca.pem';
\echo SQLSTATE :LAST_ERROR_SQLSTATE
RESET ROLE;
GRANT pg_monitor TO zvt_redis_nobody;
SET ROLE zvt_redis_nobody;
SELECT enabled FROM zvt.redis_status;
RESET ROLE;
DROP ROLE zvt_redis_nobody;
