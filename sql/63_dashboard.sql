-- ===================================================================
-- What the dashboard (/ui/, docs/dashboard.md) reads through zvt_api
-- beyond the HTTP front's own objects: a market summary with 24 h change
-- and volume, indicator overlays computed by zvt's window aggregates,
-- the live order book, and backfill jobs.  Views are security_invoker
-- and functions SECURITY INVOKER, like the rest of zvt_api: each role
-- sees what it may see from psql, no more.
-- ===================================================================

CREATE VIEW zvt_api.markets WITH (security_invoker = true) AS
SELECT t.exchange, t.symbol, i.base, i.quote, i.kind, t.last, t.bid, t.ask, t.last_ts,
       d.open_24h,
       CASE WHEN d.open_24h > 0 THEN 100 * (t.last - d.open_24h) / d.open_24h END AS change_24h_pct,
       d.volume_24h
  FROM zvt.tickers t
  JOIN zvt.instruments i ON i.exchange = t.exchange AND i.symbol = t.symbol
  LEFT JOIN LATERAL (
       SELECT (pg_catalog.array_agg(c.open ORDER BY c.ts))[1] AS open_24h,
              pg_catalog.sum(c.volume) AS volume_24h
         FROM zvt.candles c
        WHERE c.instrument_id = i.id AND c.timeframe = interval '1 minute'
          AND c.ts >= pg_catalog.now() - interval '24 hours') d ON true;
COMMENT ON VIEW zvt_api.markets IS
    'Every instrument on the market bus: last, bid, ask, and over the last 24 hours of 1-minute candles the first open, the change in percent and the base volume.';

CREATE FUNCTION zvt_api.indicators(exchange pg_catalog.text, symbol pg_catalog.text,
        timeframe pg_catalog.interval, start pg_catalog.timestamptz, finish pg_catalog.timestamptz,
        ema_fast pg_catalog.int4 DEFAULT 12, ema_slow pg_catalog.int4 DEFAULT 26,
        bb_period pg_catalog.int4 DEFAULT 20, bb_k pg_catalog.float8 DEFAULT 2,
        rsi_period pg_catalog.int4 DEFAULT 14)
    RETURNS TABLE (ts pg_catalog.timestamptz, close pg_catalog.float8,
                   ema_fast pg_catalog.float8, ema_slow pg_catalog.float8,
                   bb_mid pg_catalog.float8, bb_upper pg_catalog.float8, bb_lower pg_catalog.float8,
                   rsi pg_catalog.float8)
    LANGUAGE sql STABLE
    SET search_path = pg_catalog, pg_temp
    AS $$
    SELECT o.ts, o.close::float8,
           zvt.ema(o.close::float8, ema_fast) OVER w,
           zvt.ema(o.close::float8, ema_slow) OVER w,
           (zvt.bollinger(o.close::float8, bb_period, bb_k) OVER w).mid,
           (zvt.bollinger(o.close::float8, bb_period, bb_k) OVER w).upper,
           (zvt.bollinger(o.close::float8, bb_period, bb_k) OVER w).lower,
           zvt.rsi(o.close::float8, rsi_period) OVER w
      FROM zvt.ohlcv(exchange, symbol, timeframe, start, finish) o
    WINDOW w AS (ORDER BY o.ts)
     ORDER BY o.ts $$;
COMMENT ON FUNCTION zvt_api.indicators(pg_catalog.text, pg_catalog.text, pg_catalog.interval,
    pg_catalog.timestamptz, pg_catalog.timestamptz, pg_catalog.int4, pg_catalog.int4, pg_catalog.int4,
    pg_catalog.float8, pg_catalog.int4) IS
    'EMA (fast, slow), Bollinger bands and RSI of the closes of zvt.ohlcv over [start, finish), by zvt''s window aggregates; they warm up from start.';

CREATE FUNCTION zvt_api.book(exchange pg_catalog.text, symbol pg_catalog.text,
                             depth pg_catalog.int4 DEFAULT 20)
    RETURNS TABLE (side pg_catalog.text, level pg_catalog.int4,
                   price pg_catalog.numeric, size pg_catalog.numeric)
    LANGUAGE sql VOLATILE
    SET search_path = pg_catalog, pg_temp
    AS $$ SELECT * FROM zvt.book(exchange, symbol, depth) $$;
COMMENT ON FUNCTION zvt_api.book(pg_catalog.text, pg_catalog.text, pg_catalog.int4) IS
    'The live order book of a symbol subscribed to channel book (zvt.book): bids best first, then asks.';

CREATE VIEW zvt_api.backfill_jobs WITH (security_invoker = true) AS
SELECT j.id, j.exchange, j.symbol, j.channel, j.start_ts, j.finish_ts, j.state, j.rows_fetched,
       j.rows_written, j.pages, j.pct_done, j.cursor_ts, j.rate_waits, j.last_error,
       j.created_at, j.started_at, j.finished_at
  FROM zvt.backfill_jobs j;
COMMENT ON VIEW zvt_api.backfill_jobs IS
    'Backfill and gap-repair jobs with their progress (zvt.backfill_jobs).';

-- public market data and feed health, as the rest of zvt_api's market views
GRANT SELECT ON zvt_api.markets, zvt_api.backfill_jobs TO zvt_anon, zvt_trader;
-- functions are executable by PUBLIC by default: these are the API roles' only
REVOKE ALL ON FUNCTION zvt_api.indicators(pg_catalog.text, pg_catalog.text, pg_catalog.interval,
    pg_catalog.timestamptz, pg_catalog.timestamptz, pg_catalog.int4, pg_catalog.int4, pg_catalog.int4,
    pg_catalog.float8, pg_catalog.int4) FROM PUBLIC;
REVOKE ALL ON FUNCTION zvt_api.book(pg_catalog.text, pg_catalog.text, pg_catalog.int4) FROM PUBLIC;
-- public market data
GRANT EXECUTE ON FUNCTION zvt_api.indicators(pg_catalog.text, pg_catalog.text, pg_catalog.interval,
    pg_catalog.timestamptz, pg_catalog.timestamptz, pg_catalog.int4, pg_catalog.int4, pg_catalog.int4,
    pg_catalog.float8, pg_catalog.int4) TO zvt_anon, zvt_trader;
GRANT EXECUTE ON FUNCTION zvt_api.book(pg_catalog.text, pg_catalog.text, pg_catalog.int4)
    TO zvt_anon, zvt_trader;
