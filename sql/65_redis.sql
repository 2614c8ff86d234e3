-- sql/65_redis.sql: the Redis publisher's status (src/redis/, docs/redis.md).

CREATE FUNCTION zvt._redis_status(
        OUT enabled pg_catalog.bool, OUT pid pg_catalog.int4, OUT connected pg_catalog.bool,
        OUT server pg_catalog.text, OUT connected_since pg_catalog.timestamptz,
        OUT last_error pg_catalog.text, OUT last_error_at pg_catalog.timestamptz,
        OUT events_sent pg_catalog.int8, OUT dropped pg_catalog.int8, OUT skipped pg_catalog.int8,
        OUT reconnects pg_catalog.int8, OUT resyncs pg_catalog.int8, OUT reply_errors pg_catalog.int8,
        OUT lag_events pg_catalog.int8, OUT lag pg_catalog.interval,
        OUT last_sent_at pg_catalog.timestamptz, OUT ring_size pg_catalog.int8,
        OUT ring_head pg_catalog.int8, OUT ring_contended pg_catalog.int8)
    RETURNS record
    LANGUAGE C VOLATILE
    AS 'MODULE_PATHNAME', 'zvt_redis_status';
COMMENT ON FUNCTION zvt._redis_status() IS
    'Internal: the Redis publisher''s state and the event ring''s, from shared memory.';
-- names the Redis server and its last error: for monitoring roles, as zvt.redis_url is superuser-only
REVOKE ALL ON FUNCTION zvt._redis_status() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION zvt._redis_status() TO pg_monitor;

CREATE VIEW zvt.redis_status WITH (security_invoker = true) AS
SELECT s.enabled, s.pid, s.connected, s.server, s.connected_since, s.last_error,
       s.last_error_at, s.events_sent, s.dropped, s.skipped, s.reconnects, s.resyncs,
       s.reply_errors, s.lag_events, s.lag, s.last_sent_at, s.ring_size, s.ring_head,
       s.ring_contended
  FROM zvt._redis_status() s;
COMMENT ON VIEW zvt.redis_status IS
    'The Redis publisher: whether zvt.redis_url is set, its pid, the connection (server as host:port/db, never the password), the last error, counters since server start (stream entries sent, events the event ring overwrote before they were sent, events of other databases or unknown instruments skipped, reconnects, last-value resyncs, commands Redis refused), events committed and not yet sent (lag_events), the commit-to-Redis time of the last batch (lag), and the event ring (capacity, next sequence number, appends that waited for another writer).';
-- the same readers as zvt._redis_status
REVOKE ALL ON zvt.redis_status FROM PUBLIC;
GRANT SELECT ON zvt.redis_status TO pg_monitor;
