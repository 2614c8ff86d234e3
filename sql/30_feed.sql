-- ===================================================================
-- Feeds: what the feed workers subscribe to, and the gaps they saw
-- ===================================================================

CREATE TABLE zvt.subscriptions (
    id          pg_catalog.int8 GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    exchange    pg_catalog.text NOT NULL REFERENCES zvt.exchanges (name) ON UPDATE CASCADE,
    symbol      pg_catalog.text NOT NULL,
    channel     pg_catalog.text NOT NULL,
    created_at  pg_catalog.timestamptz NOT NULL DEFAULT pg_catalog.now(),
    depth       pg_catalog.int4 CHECK ((channel = 'book') = (depth IS NOT NULL) AND depth BETWEEN 1 AND 1000),
    UNIQUE (exchange, symbol, channel)
);
COMMENT ON TABLE zvt.subscriptions IS
    'Market-data streams the feed workers keep; change with zvt.subscribe and zvt.unsubscribe. depth: levels a side of a book subscription.';
SELECT pg_catalog.pg_extension_config_dump('zvt.subscriptions', '');
SELECT pg_catalog.pg_extension_config_dump('zvt.subscriptions_id_seq', '');
GRANT SELECT ON zvt.subscriptions TO PUBLIC;

CREATE TABLE zvt.feed_gaps (
    id          pg_catalog.int8 GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    exchange    pg_catalog.text NOT NULL,
    symbol      pg_catalog.text NOT NULL,
    channel     pg_catalog.text NOT NULL,
    from_ts     pg_catalog.timestamptz NOT NULL,
    to_ts       pg_catalog.timestamptz,
    reason      pg_catalog.text NOT NULL,
    detected_at pg_catalog.timestamptz NOT NULL DEFAULT pg_catalog.now(),
    repaired_at pg_catalog.timestamptz,
    CHECK (to_ts IS NULL OR to_ts >= from_ts)
);
COMMENT ON TABLE zvt.feed_gaps IS
    'Periods a feed may have missed (disconnects, sequence gaps): from the last message before to the first after, with the reason; repaired_at is set once backfilled.';
SELECT pg_catalog.pg_extension_config_dump('zvt.feed_gaps', '');
SELECT pg_catalog.pg_extension_config_dump('zvt.feed_gaps_id_seq', '');
GRANT SELECT ON zvt.feed_gaps TO PUBLIC;

CREATE FUNCTION zvt._subscriptions_changed(exchange pg_catalog.text) RETURNS void
    LANGUAGE C STRICT VOLATILE
    AS 'MODULE_PATHNAME', 'zvt_feed_subscriptions_changed';
COMMENT ON FUNCTION zvt._subscriptions_changed(pg_catalog.text) IS
    'Internal: make the exchange''s feed worker (and no other) re-read zvt.subscriptions when this transaction commits.';

-- Channels a subscription may name.
CREATE FUNCTION zvt.channels() RETURNS SETOF pg_catalog.text
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$
    VALUES ('trades'), ('quotes'), ('candles_1m'), ('candles_5m'), ('candles_15m'),
           ('candles_1h'), ('candles_4h'), ('candles_1d'), ('book'), ('funding')
$$;
COMMENT ON FUNCTION zvt.channels() IS 'The channels zvt.subscribe accepts.';

-- Validate a subscription's arguments; returns the normalized symbol.
CREATE FUNCTION zvt._check_subscription(exchange pg_catalog.text,
                                        symbol pg_catalog.text,
                                        channel pg_catalog.text)
    RETURNS pg_catalog.text
    LANGUAGE plpgsql STABLE
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    sym text := upper(btrim(symbol));
BEGIN
    PERFORM zvt._check_exchange(exchange);
    IF channel IS NULL OR channel NOT IN (SELECT zvt.channels()) THEN
        RAISE EXCEPTION 'unknown channel "%"', channel
            USING ERRCODE = '22023',
                  HINT = 'Use one of: ' || (SELECT string_agg(c, ', ') FROM zvt.channels() c) || '.';
    END IF;
    IF sym IS NULL OR sym !~ '^[A-Z0-9]+-[A-Z0-9]+(-PERP)?$' THEN
        RAISE EXCEPTION 'invalid symbol "%"', symbol
            USING ERRCODE = '22023',
                  HINT = 'Use BASE-QUOTE for spot or BASE-QUOTE-PERP for perpetuals, such as BTC-USDT or BTC-USDT-PERP.';
    END IF;
    IF channel = 'funding' AND sym !~ '-PERP$' THEN
        RAISE EXCEPTION 'channel "funding" is for perpetuals, not "%"', sym
            USING ERRCODE = '22023',
                  HINT = 'Subscribe the perpetual, such as BTC-USDT-PERP.';
    END IF;
    -- once the exchange's instruments are known, the symbol must be one of them
    IF EXISTS (SELECT 1 FROM zvt.instruments i WHERE i.exchange = _check_subscription.exchange)
       AND NOT EXISTS (SELECT 1 FROM zvt.instruments i
                        WHERE i.exchange = _check_subscription.exchange AND i.symbol = sym) THEN
        RAISE EXCEPTION 'unknown symbol "%" on exchange "%"', sym, exchange
            USING ERRCODE = '42704',
                  HINT = 'zvt.instruments lists the exchange''s symbols.';
    END IF;
    RETURN sym;
END;
$$;
COMMENT ON FUNCTION zvt._check_subscription(pg_catalog.text, pg_catalog.text, pg_catalog.text) IS
    'Internal: validate exchange, symbol and channel of a subscription.';

CREATE FUNCTION zvt.subscribe(exchange pg_catalog.text, symbol pg_catalog.text,
                              channel pg_catalog.text, depth pg_catalog.int4 DEFAULT NULL)
    RETURNS zvt.subscriptions
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    sym text := zvt._check_subscription(exchange, symbol, channel);
    result zvt.subscriptions;
    levels int4 := depth;
    most int4;
BEGIN
    -- a book keeps depth levels a side (50 unless asked), up to what the exchange streams
    IF channel = 'book' THEN
        levels := coalesce(depth, 50);
        most := CASE subscribe.exchange WHEN 'okx' THEN 400
                                        WHEN 'bybit' THEN CASE WHEN sym LIKE '%-PERP' THEN 1000 ELSE 200 END
                                        ELSE 1000 END;
        IF levels < 1 OR levels > most THEN
            RAISE EXCEPTION 'depth % is out of range for % books', levels, subscribe.exchange
                USING ERRCODE = '22023',
                      HINT = pg_catalog.format('Use a depth between 1 and %s.', most);
        END IF;
    ELSIF depth IS NOT NULL THEN
        RAISE EXCEPTION 'depth applies to channel "book" only'
            USING ERRCODE = '22023';
    END IF;
    PERFORM zvt._require_preload('zvt.subscribe');
    PERFORM zvt._subscriptions_changed(subscribe.exchange);
    INSERT INTO zvt.subscriptions AS s (exchange, symbol, channel, depth)
    VALUES (subscribe.exchange, sym, subscribe.channel, levels)
    ON CONFLICT ON CONSTRAINT subscriptions_exchange_symbol_channel_key
    DO UPDATE SET depth = excluded.depth WHERE s.depth IS DISTINCT FROM excluded.depth
    RETURNING s.* INTO result;
    IF NOT FOUND THEN
        SELECT s.* INTO result FROM zvt.subscriptions s
         WHERE s.exchange = subscribe.exchange AND s.symbol = sym
           AND s.channel = subscribe.channel;
    END IF;
    RETURN result;
END;
$$;
COMMENT ON FUNCTION zvt.subscribe(pg_catalog.text, pg_catalog.text, pg_catalog.text, pg_catalog.int4) IS
    'Have the exchange''s feed worker stream a channel of a symbol (idempotent; returns the subscription). Channel book keeps depth levels a side (default 50).';

CREATE FUNCTION zvt.unsubscribe(exchange pg_catalog.text, symbol pg_catalog.text,
                                channel pg_catalog.text)
    RETURNS pg_catalog.bool
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    sym text := zvt._check_subscription(exchange, symbol, channel);
BEGIN
    PERFORM zvt._subscriptions_changed(unsubscribe.exchange);
    DELETE FROM zvt.subscriptions s
     WHERE s.exchange = unsubscribe.exchange AND s.symbol = sym
       AND s.channel = unsubscribe.channel;
    RETURN FOUND;
END;
$$;
COMMENT ON FUNCTION zvt.unsubscribe(pg_catalog.text, pg_catalog.text, pg_catalog.text) IS
    'Stop streaming a channel of a symbol; false when there was no such subscription.';

-- Any statement that changes zvt.subscriptions wakes the feed workers of
-- the exchanges whose rows it changed, not only zvt.subscribe and
-- zvt.unsubscribe: a worker told nothing kept streaming what its owner
-- had deleted by hand.  Statement triggers, with the rows each changed;
-- zvt._subscriptions_changed checks the caller may change the table.
CREATE FUNCTION zvt._subscriptions_dml() RETURNS trigger
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF TG_OP = 'TRUNCATE' THEN
        PERFORM zvt._subscriptions_changed(e.name) FROM zvt.exchanges e;
        RETURN NULL;
    END IF;
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        PERFORM zvt._subscriptions_changed(o.exchange) FROM (SELECT DISTINCT exchange FROM old_rows) o;
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        PERFORM zvt._subscriptions_changed(n.exchange) FROM (SELECT DISTINCT exchange FROM new_rows) n;
    END IF;
    RETURN NULL;
END;
$$;
COMMENT ON FUNCTION zvt._subscriptions_dml() IS
    'Internal: the triggers on zvt.subscriptions; wakes the feed workers of the exchanges whose subscriptions a statement changed.';
REVOKE ALL ON FUNCTION zvt._subscriptions_dml() FROM PUBLIC;
CREATE TRIGGER subscriptions_inserted AFTER INSERT ON zvt.subscriptions
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION zvt._subscriptions_dml();
CREATE TRIGGER subscriptions_updated AFTER UPDATE ON zvt.subscriptions
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION zvt._subscriptions_dml();
CREATE TRIGGER subscriptions_deleted AFTER DELETE ON zvt.subscriptions
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION zvt._subscriptions_dml();
CREATE TRIGGER subscriptions_truncated AFTER TRUNCATE ON zvt.subscriptions
    FOR EACH STATEMENT EXECUTE FUNCTION zvt._subscriptions_dml();

CREATE FUNCTION zvt.sync_instruments(exchange pg_catalog.text) RETURNS pg_catalog.int4
    LANGUAGE C STRICT VOLATILE
    AS 'MODULE_PATHNAME', 'zvt_sync_instruments';
COMMENT ON FUNCTION zvt.sync_instruments(pg_catalog.text) IS
    'Fetch the exchange''s instrument list over REST (in this backend, bounded by zvt.rest_timeout, cancellable) and upsert it into zvt.instruments; returns how many it lists. Instruments it no longer lists become status delisted.';
-- an admin call: it writes zvt.instruments, which only zvt's owner may
REVOKE ALL ON FUNCTION zvt.sync_instruments(pg_catalog.text) FROM PUBLIC;

CREATE FUNCTION zvt._feed_stats(
        OUT exchange pg_catalog.text, OUT pid pg_catalog.int4, OUT state pg_catalog.text,
        OUT connected_since pg_catalog.timestamptz, OUT last_message_at pg_catalog.timestamptz,
        OUT messages pg_catalog.int8, OUT events pg_catalog.int8, OUT rows_written pg_catalog.int8,
        OUT parse_errors pg_catalog.int8, OUT exchange_errors pg_catalog.int8,
        OUT reconnects pg_catalog.int8, OUT unmapped pg_catalog.int8,
        OUT flush_retries pg_catalog.int8, OUT book_resyncs pg_catalog.int8)
    RETURNS SETOF record
    LANGUAGE C VOLATILE
    AS 'MODULE_PATHNAME', 'zvt_feed_stats';
COMMENT ON FUNCTION zvt._feed_stats() IS 'Internal: the feed workers'' counters in shared memory.';

CREATE VIEW zvt.feed_status WITH (security_invoker = true) AS
SELECT f.exchange, f.exchange AS connection, f.state, f.pid, f.connected_since, f.messages,
       f.events, f.rows_written, f.parse_errors, f.exchange_errors, f.reconnects,
       f.unmapped, f.last_message_at, pg_catalog.now() - f.last_message_at AS lag,
       f.flush_retries, f.book_resyncs
  FROM zvt._feed_stats() f;
COMMENT ON VIEW zvt.feed_status IS
    'One row per exchange feed: state, counters since server start (messages, events parsed, rows written, malformed messages skipped, exchange error replies, reconnects, events skipped because their symbol is not in zvt.instruments), the time since the last message, flushes rolled back by a deadlock, serialization failure or lock timeout whose batch was written again, and order books started again from a new snapshot (sequence gap, checksum mismatch, crossed book).';
GRANT SELECT ON zvt.feed_status TO PUBLIC;
