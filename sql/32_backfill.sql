-- ===================================================================
-- Backfill and gap repair: history over the exchanges' REST APIs,
-- written by the "zvt backfill" worker through the feeds' idempotent path
-- ===================================================================

-- what the repair of a zvt.feed_gaps row did
ALTER TABLE zvt.feed_gaps
    ADD COLUMN rows_repaired pg_catalog.int8,
    ADD COLUMN repair_error  pg_catalog.text;
COMMENT ON COLUMN zvt.feed_gaps.rows_repaired IS
    'Rows the repair wrote that were missing (0: nothing was missing); NULL until repaired.';
COMMENT ON COLUMN zvt.feed_gaps.repair_error IS
    'Why the gap could not be repaired, or ''not repairable'' for channels REST cannot serve (quotes); NULL otherwise.';

CREATE TABLE zvt._backfill_jobs (
    id            pg_catalog.int8 GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    exchange      pg_catalog.text NOT NULL REFERENCES zvt.exchanges (name) ON UPDATE CASCADE,
    symbol        pg_catalog.text NOT NULL,
    channel       pg_catalog.text NOT NULL,
    start_ts      pg_catalog.timestamptz NOT NULL,
    finish_ts     pg_catalog.timestamptz NOT NULL,
    gap_id        pg_catalog.int8,
    -- the exchange's rest_url when queued: a job never mixes two sources
    rest_url      pg_catalog.text,
    state         pg_catalog.text NOT NULL DEFAULT 'queued'
                  CHECK (state IN ('queued', 'running', 'waiting', 'done', 'failed', 'canceled')),
    -- where the next page starts: a time, and for trades by id the next id
    cursor_ts     pg_catalog.timestamptz,
    next_id       pg_catalog.int8,
    end_id        pg_catalog.int8,
    rows_fetched  pg_catalog.int8 NOT NULL DEFAULT 0,
    rows_written  pg_catalog.int8 NOT NULL DEFAULT 0,
    pages         pg_catalog.int8 NOT NULL DEFAULT 0,
    rate_waits    pg_catalog.int8 NOT NULL DEFAULT 0,
    wait_until    pg_catalog.timestamptz,
    errors        pg_catalog.int4 NOT NULL DEFAULT 0,
    last_error    pg_catalog.text,
    hole          pg_catalog.text,
    created_at    pg_catalog.timestamptz NOT NULL DEFAULT pg_catalog.now(),
    started_at    pg_catalog.timestamptz,
    finished_at   pg_catalog.timestamptz,
    CHECK (finish_ts > start_ts)
);
COMMENT ON TABLE zvt._backfill_jobs IS
    'Internal: backfill and repair jobs and their progress; read zvt.backfill_jobs.';
CREATE INDEX ON zvt._backfill_jobs (gap_id);
CREATE INDEX ON zvt._backfill_jobs (state) WHERE state IN ('queued', 'running', 'waiting');
SELECT pg_catalog.pg_extension_config_dump('zvt._backfill_jobs', '');
SELECT pg_catalog.pg_extension_config_dump('zvt._backfill_jobs_id_seq', '');

CREATE VIEW zvt.backfill_jobs WITH (security_invoker = true) AS
SELECT j.id, j.exchange, j.symbol, j.channel, j.start_ts, j.finish_ts, j.gap_id, j.state,
       j.rows_fetched, j.rows_written, j.pages,
       pg_catalog.round((100 * CASE
           WHEN j.state = 'done' THEN 1
           WHEN j.cursor_ts IS NULL THEN 0
           -- OKX and Coinbase page trades backward: the cursor moves down from finish
           WHEN j.channel = 'trades' AND j.exchange IN ('okx', 'coinbase') THEN least(1, greatest(0,
                    extract(epoch FROM j.finish_ts - j.cursor_ts) /
                    extract(epoch FROM j.finish_ts - j.start_ts)))
           ELSE least(1, greatest(0,
                    extract(epoch FROM j.cursor_ts - j.start_ts) /
                    extract(epoch FROM j.finish_ts - j.start_ts))) END)::pg_catalog.numeric, 1)
           AS pct_done,
       j.cursor_ts, j.rate_waits, j.wait_until, j.last_error, j.hole,
       j.created_at, j.started_at, j.finished_at
  FROM zvt._backfill_jobs j;
COMMENT ON VIEW zvt.backfill_jobs IS
    'Backfill and gap-repair jobs: state (queued, running, waiting for a rate limit, done, failed, canceled), rows fetched and actually written, pages, % of the time range covered, waits for the exchange''s rate limits, the last error, and any part of the range the exchange''s REST cannot serve (hole).';
-- progress is no secret; the table itself stays the worker's
GRANT SELECT ON zvt._backfill_jobs TO PUBLIC;
GRANT SELECT ON zvt.backfill_jobs TO PUBLIC;

CREATE FUNCTION zvt._backfill_wake() RETURNS void
    LANGUAGE C STRICT VOLATILE
    AS 'MODULE_PATHNAME', 'zvt_backfill_wake';
COMMENT ON FUNCTION zvt._backfill_wake() IS
    'Internal: have the launcher start the backfill worker when this transaction commits.';
REVOKE ALL ON FUNCTION zvt._backfill_wake() FROM PUBLIC;

-- The channels a backfill can load: trades, exchange candles and funding.
CREATE FUNCTION zvt._backfill_channel(channel pg_catalog.text) RETURNS pg_catalog.text
    LANGUAGE plpgsql IMMUTABLE
    SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF channel = 'candles' THEN
        RETURN 'candles_1m';
    ELSIF channel IN ('trades', 'funding') OR channel LIKE 'candles\_%' AND channel IN (SELECT zvt.channels()) THEN
        RETURN channel;
    END IF;
    RAISE EXCEPTION 'cannot backfill channel "%"', channel
        USING ERRCODE = '22023',
              HINT = 'Backfill trades, candles (candles_1m ... candles_1d) or funding; quotes and books have no REST history.';
END;
$$;
COMMENT ON FUNCTION zvt._backfill_channel(pg_catalog.text) IS
    'Internal: the subscription channel a backfill of channel loads (candles is candles_1m).';

CREATE FUNCTION zvt.backfill(exchange pg_catalog.text, symbol pg_catalog.text,
                             channel pg_catalog.text, start pg_catalog.timestamptz,
                             finish pg_catalog.timestamptz DEFAULT pg_catalog.now())
    RETURNS pg_catalog.int8
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    ch text := zvt._backfill_channel(channel);
    sym text := zvt._check_subscription(exchange, symbol, ch);
    job bigint;
BEGIN
    PERFORM zvt._require_preload('zvt.backfill');
    IF start IS NULL OR finish IS NULL OR finish <= start THEN
        RAISE EXCEPTION 'invalid backfill range [%, %)', start, finish
            USING ERRCODE = '22023',
                  HINT = 'start must be before finish.';
    END IF;
    IF NOT EXISTS (SELECT 1 FROM zvt.instruments i
                    WHERE i.exchange = backfill.exchange AND i.symbol = sym) THEN
        RAISE EXCEPTION 'unknown symbol "%" on exchange "%"', sym, exchange
            USING ERRCODE = '42704',
                  HINT = 'Run zvt.sync_instruments first: a backfill writes rows of a known instrument.';
    END IF;
    PERFORM zvt._backfill_wake();
    -- a perpetual's history is on futures_rest_url where the exchange has one (Binance fapi)
    INSERT INTO zvt._backfill_jobs (exchange, symbol, channel, start_ts, finish_ts, rest_url)
    SELECT backfill.exchange, sym, ch, start, finish,
           CASE WHEN sym LIKE '%-PERP' AND e.futures_rest_url IS NOT NULL
                THEN e.futures_rest_url ELSE e.rest_url END
      FROM zvt.exchanges e WHERE e.name = backfill.exchange
    RETURNING id INTO job;
    RETURN job;
END;
$$;
COMMENT ON FUNCTION zvt.backfill(pg_catalog.text, pg_catalog.text, pg_catalog.text, pg_catalog.timestamptz, pg_catalog.timestamptz) IS
    'Queue a backfill of trades, candles or funding of a symbol over [start, finish) from the exchange''s REST API and return its job id at once; the backfill worker loads it page by page through the feeds'' idempotent path, within the exchange''s rate limits (zvt.backfill_jobs shows progress).';
-- an admin call: the worker writes zvt.trades and zvt.candles, which only zvt's owner may
REVOKE ALL ON FUNCTION zvt.backfill(pg_catalog.text, pg_catalog.text, pg_catalog.text, pg_catalog.timestamptz, pg_catalog.timestamptz) FROM PUBLIC;

CREATE FUNCTION zvt.cancel_backfill(job pg_catalog.int8) RETURNS pg_catalog.bool
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    UPDATE zvt._backfill_jobs j SET state = 'canceled', finished_at = now(), wait_until = NULL
     WHERE j.id = job AND j.state IN ('queued', 'running', 'waiting');
    RETURN FOUND;
END;
$$;
COMMENT ON FUNCTION zvt.cancel_backfill(pg_catalog.int8) IS
    'Cancel a backfill job that has not finished (the rows already written stay); false when it had finished or does not exist.';
-- an admin call, as zvt.backfill
REVOKE ALL ON FUNCTION zvt.cancel_backfill(pg_catalog.int8) FROM PUBLIC;

CREATE FUNCTION zvt.resume_backfill(job pg_catalog.int8) RETURNS pg_catalog.bool
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    PERFORM zvt._backfill_wake();
    UPDATE zvt._backfill_jobs j SET state = 'queued', finished_at = NULL, errors = 0,
           rest_url = (SELECT CASE WHEN j.symbol LIKE '%-PERP' AND e.futures_rest_url IS NOT NULL
                                   THEN e.futures_rest_url ELSE e.rest_url END
                         FROM zvt.exchanges e WHERE e.name = j.exchange)
     WHERE j.id = job AND j.state IN ('canceled', 'failed');
    RETURN FOUND;
END;
$$;
COMMENT ON FUNCTION zvt.resume_backfill(pg_catalog.int8) IS
    'Queue a canceled or failed backfill job again, from the exchange''s current rest_url; it continues where it stopped. False when it was not canceled or failed.';
-- an admin call, as zvt.backfill
REVOKE ALL ON FUNCTION zvt.resume_backfill(pg_catalog.int8) FROM PUBLIC;

CREATE FUNCTION zvt._backfill_stats(OUT pid pg_catalog.int4, OUT jobs_done pg_catalog.int8,
                                    OUT pages pg_catalog.int8, OUT gaps_repaired pg_catalog.int8)
    RETURNS record
    LANGUAGE C VOLATILE
    AS 'MODULE_PATHNAME', 'zvt_backfill_stats';
COMMENT ON FUNCTION zvt._backfill_stats() IS
    'Internal: the backfill worker''s pid (NULL when not running) and its counters since server start.';
