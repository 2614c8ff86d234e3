-- ===================================================================
-- Perpetuals: mark price and funding (zvt.funding, a hypertable the
-- feeds write; zvt.funding_now from the market bus), and the funding
-- paper perpetual positions pay and receive at each funding time
-- (zvt.funding_settlements, zvt.funding_payments; docs/trading.md
-- "Funding").
--
-- The rule, as the exchanges state it: at a funding time T a position of
-- qty (> 0 long) pays qty x mark x rate, where rate is the funding rate
-- published for T and mark the mark price at T: longs pay shorts when the
-- rate is positive, shorts pay longs when it is negative.  zvt takes the
-- rate and mark of the last zvt.funding row before T that names T as its
-- next funding time, and the position from the account's fills up to T.
-- ===================================================================

CREATE TABLE zvt.funding (
    ts                  pg_catalog.timestamptz NOT NULL,
    instrument_id       pg_catalog.int4 NOT NULL,
    mark_price          pg_catalog.float8,
    index_price         pg_catalog.float8,
    funding_rate        pg_catalog.float8,          -- for next_funding_time, a fraction
    next_funding_time   pg_catalog.timestamptz,
    open_interest       pg_catalog.float8,          -- base units, where the exchange streams it
    local_ts            pg_catalog.timestamptz NOT NULL DEFAULT pg_catalog.now(),
    UNIQUE (instrument_id, ts)
) PARTITION BY RANGE (ts);
COMMENT ON TABLE zvt.funding IS
    'Perpetuals'' mark price, index price, funding rate of the next funding time, that time, and open interest (hypertable, 1-day chunks), from channel funding. Idempotent write: INSERT ... ON CONFLICT (instrument_id, ts) DO NOTHING.';
CREATE INDEX funding_instrument_next_idx ON zvt.funding (instrument_id, next_funding_time, ts);
SELECT zvt.create_hypertable('zvt.funding', 'ts', '1 day');
UPDATE zvt._hypertables SET builtin = true WHERE relid = 'zvt.funding'::pg_catalog.regclass;

CREATE VIEW zvt.funding_v WITH (security_invoker = true) AS
SELECT f.ts, i.exchange, i.symbol, f.instrument_id, f.mark_price, f.index_price, f.funding_rate,
       f.next_funding_time, f.open_interest, f.local_ts
  FROM zvt.funding f
  JOIN zvt.instruments i ON i.id = f.instrument_id;
COMMENT ON VIEW zvt.funding_v IS 'zvt.funding with exchange and symbol.';

CREATE FUNCTION zvt._bus_funding(
        OUT instrument_id pg_catalog.int4, OUT mark_price pg_catalog.float8,
        OUT index_price pg_catalog.float8, OUT funding_rate pg_catalog.float8,
        OUT next_funding_time pg_catalog.timestamptz, OUT open_interest pg_catalog.float8,
        OUT ts pg_catalog.timestamptz)
    RETURNS SETOF record
    LANGUAGE C VOLATILE PARALLEL RESTRICTED
    AS 'MODULE_PATHNAME', 'zvt_bus_funding';
COMMENT ON FUNCTION zvt._bus_funding() IS 'Internal: every perpetual of this database with funding on the market bus.';
-- read by zvt.funding_now, a security_invoker view granted to PUBLIC: prices are public data

CREATE VIEW zvt.funding_now WITH (security_invoker = true) AS
SELECT i.exchange, i.symbol, b.mark_price, b.index_price, b.funding_rate, b.next_funding_time,
       b.open_interest, b.ts
  FROM zvt._bus_funding() b
  JOIN zvt.instruments i ON i.id = b.instrument_id;
COMMENT ON VIEW zvt.funding_now IS
    'Latest mark price, index price, funding rate and next funding time of every perpetual on the market bus (shared memory).';

-- funding is market data: everyone reads it; the feed workers (superuser) write it
GRANT SELECT ON zvt.funding, zvt.funding_v, zvt.funding_now TO PUBLIC;

-- What each funding time settled at, once per instrument and time.
CREATE TABLE zvt.funding_settlements (
    instrument_id   pg_catalog.int4 NOT NULL REFERENCES zvt.instruments (id),
    funding_time    pg_catalog.timestamptz NOT NULL,
    funding_rate    pg_catalog.numeric NOT NULL,
    mark_price      pg_catalog.numeric NOT NULL,
    source_ts       pg_catalog.timestamptz NOT NULL,   -- the zvt.funding row used
    payments        pg_catalog.int4 NOT NULL DEFAULT 0,
    settled_at      pg_catalog.timestamptz NOT NULL DEFAULT pg_catalog.clock_timestamp(),
    PRIMARY KEY (instrument_id, funding_time)
);
COMMENT ON TABLE zvt.funding_settlements IS
    'Each funding time of each perpetual, settled once: the rate and mark paper positions were charged at (from zvt.funding), and how many payments were made.';
-- the rates and marks are market data
GRANT SELECT ON zvt.funding_settlements TO PUBLIC;
SELECT pg_catalog.pg_extension_config_dump('zvt.funding_settlements', '');

CREATE TABLE zvt.funding_payments (
    payment_id      pg_catalog.int8 GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    account_id      pg_catalog.int4 NOT NULL REFERENCES zvt.accounts ON DELETE CASCADE,
    instrument_id   pg_catalog.int4 NOT NULL REFERENCES zvt.instruments (id),
    funding_time    pg_catalog.timestamptz NOT NULL,
    qty             pg_catalog.numeric NOT NULL,    -- the position at funding_time, > 0 long
    mark_price      pg_catalog.numeric NOT NULL,
    funding_rate    pg_catalog.numeric NOT NULL,
    amount          pg_catalog.numeric NOT NULL,    -- received (> 0) or paid (< 0): -(qty x mark x rate)
    asset           pg_catalog.text NOT NULL,
    ts              pg_catalog.timestamptz NOT NULL DEFAULT pg_catalog.clock_timestamp(),
    -- exactly once per position and funding time, whoever settles and however often
    UNIQUE (account_id, instrument_id, funding_time)
);
CREATE INDEX funding_payments_account_time_idx ON zvt.funding_payments (account_id, funding_time);
COMMENT ON TABLE zvt.funding_payments IS
    'Funding paid (amount < 0) or received (amount > 0) by paper perpetual positions at each funding time: -(qty x mark_price x funding_rate), booked to the balance, the position''s realized PnL and the day''s PnL.';
ALTER TABLE zvt.funding_payments ENABLE ROW LEVEL SECURITY;
-- a ledger table: each role sees only the accounts it may use
CREATE POLICY funding_payments_visible ON zvt.funding_payments FOR SELECT USING
    (account_id OPERATOR(pg_catalog.=) ANY ((SELECT zvt._my_accounts())::pg_catalog.int4[]));
REVOKE ALL ON zvt.funding_payments FROM PUBLIC;
GRANT SELECT ON zvt.funding_payments TO PUBLIC;
SELECT pg_catalog.pg_extension_config_dump('zvt.funding_payments', '');
SELECT pg_catalog.pg_extension_config_dump('zvt.funding_payments_payment_id_seq', '');

-- The funding times of an instrument in [after, upto) that stored funding
-- data has passed (a row at or after them exists), each with the rate and
-- mark of the last row before it that announced it (else the first after
-- it): what zvt.settle_funding() charges and backtests with params
-- {"funding": true} charge.  mark_price is NULL where the exchange's
-- channel has none (OKX funding-rate); the callers take a price instead.
CREATE FUNCTION zvt._funding_events(instrument_id pg_catalog.int4, after pg_catalog.timestamptz,
        upto pg_catalog.timestamptz,
        OUT funding_time pg_catalog.timestamptz, OUT funding_rate pg_catalog.float8,
        OUT mark_price pg_catalog.float8, OUT source_ts pg_catalog.timestamptz)
    RETURNS SETOF record
    LANGUAGE sql STABLE
    SET search_path = pg_catalog, pg_temp
AS $$
    SELECT t.funding_time, s.funding_rate, s.mark_price, s.ts
      FROM (SELECT DISTINCT f.next_funding_time AS funding_time FROM zvt.funding f
             WHERE f.instrument_id = _funding_events.instrument_id
               AND f.next_funding_time >= after AND f.next_funding_time < upto) t
     CROSS JOIN LATERAL (
            SELECT f.ts, f.funding_rate, f.mark_price FROM zvt.funding f
             WHERE f.instrument_id = _funding_events.instrument_id
               AND f.next_funding_time = t.funding_time AND f.funding_rate IS NOT NULL
             ORDER BY f.ts <= t.funding_time DESC, abs(extract(epoch FROM f.ts - t.funding_time))
             LIMIT 1) s
     WHERE EXISTS (SELECT 1 FROM zvt.funding g
                    WHERE g.instrument_id = _funding_events.instrument_id AND g.ts >= t.funding_time)
$$;
COMMENT ON FUNCTION zvt._funding_events(pg_catalog.int4, pg_catalog.timestamptz, pg_catalog.timestamptz) IS
    'Internal: an instrument''s funding times in [after, upto) that stored data has passed, with the rate and mark they settle at.';
-- public data (zvt.funding is readable by all); zvt.backtest calls it as the caller
GRANT EXECUTE ON FUNCTION zvt._funding_events(pg_catalog.int4, pg_catalog.timestamptz, pg_catalog.timestamptz) TO PUBLIC;

-- Settle every funding time that the stored funding data has passed and
-- that is not settled yet; returns the payments made.  One transaction:
-- the settlement row and its payments commit together, and the unique
-- keys make a second run (another session, a pass after a crash) a no-op.
CREATE FUNCTION zvt.settle_funding() RETURNS pg_catalog.int4
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    d record;
    p record;
    mark numeric;
    rate numeric;
    amount numeric;
    n int;
    paid int := 0;
BEGIN
    FOR d IN
        SELECT i.id AS instrument_id, i.quote, e.funding_time, e.funding_rate, e.mark_price, e.source_ts
          FROM zvt.instruments i
          CROSS JOIN LATERAL (SELECT max(s.funding_time) AS done FROM zvt.funding_settlements s
                               WHERE s.instrument_id = i.id) l
          CROSS JOIN LATERAL zvt._funding_events(i.id, coalesce(l.done + interval '1 microsecond', '-infinity'),
                                                 'infinity') e
         WHERE i.kind = 'perp'
           -- a funding gap not repaired yet may hide the rows T settles at:
           -- T and the times after it wait for the repair (a minute's slack
           -- between the gap's receive times and the exchange's)
           AND NOT EXISTS (SELECT 1 FROM zvt.feed_gaps g
                            WHERE g.exchange = i.exchange AND g.symbol = i.symbol
                              AND g.channel = 'funding' AND g.repaired_at IS NULL
                              AND g.repair_error IS NULL
                              AND e.funding_time >= g.from_ts - interval '1 minute')
         ORDER BY 1, 3
    LOOP
        rate := d.funding_rate::numeric;
        -- OKX's funding-rate channel has no mark: the last trade at or before T
        mark := coalesce(d.mark_price,
                         (SELECT t.price FROM zvt.trades t
                           WHERE t.instrument_id = d.instrument_id AND t.ts <= d.funding_time
                             AND t.ts > d.funding_time - interval '1 day'
                           ORDER BY t.ts DESC LIMIT 1))::numeric;
        CONTINUE WHEN mark IS NULL;
        INSERT INTO zvt.funding_settlements (instrument_id, funding_time, funding_rate, mark_price, source_ts)
        VALUES (d.instrument_id, d.funding_time, rate, mark, d.source_ts)
        ON CONFLICT DO NOTHING;
        GET DIAGNOSTICS n = ROW_COUNT;
        CONTINUE WHEN n = 0;    -- another session settled it
        n := 0;
        -- paper positions at T, from their fills up to T, in account order (the lock order)
        FOR p IN
            SELECT f.account_id, sum(CASE WHEN f.side = 'buy' THEN f.qty ELSE -f.qty END) AS qty
              FROM zvt.fills f
              JOIN zvt.accounts a ON a.account_id = f.account_id AND a.kind = 'paper'
             WHERE f.instrument_id = d.instrument_id AND f.ts <= d.funding_time
             GROUP BY f.account_id
            HAVING sum(CASE WHEN f.side = 'buy' THEN f.qty ELSE -f.qty END) <> 0
             ORDER BY f.account_id
        LOOP
            PERFORM zvt._lock_account(p.account_id);
            amount := trim_scale(-(p.qty * mark * rate));
            INSERT INTO zvt.funding_payments (account_id, instrument_id, funding_time, qty, mark_price,
                                              funding_rate, amount, asset)
            VALUES (p.account_id, d.instrument_id, d.funding_time, p.qty, mark, rate, amount, d.quote)
            ON CONFLICT DO NOTHING;
            CONTINUE WHEN NOT FOUND;
            INSERT INTO zvt.balances AS b (account_id, asset, amount)
            VALUES (p.account_id, d.quote, amount)
            ON CONFLICT (account_id, asset) DO UPDATE
               SET amount = trim_scale(b.amount + EXCLUDED.amount), updated_at = pg_catalog.now();
            UPDATE zvt.holdings h SET realized_pnl = trim_scale(h.realized_pnl + amount), updated_at = pg_catalog.now()
             WHERE h.account_id = p.account_id AND h.instrument_id = d.instrument_id;
            INSERT INTO zvt.daily_pnl AS x (account_id, day, realized, fees)
            VALUES (p.account_id, (d.funding_time AT TIME ZONE 'UTC')::date, amount, 0)
            ON CONFLICT (account_id, day) DO UPDATE SET realized = trim_scale(x.realized + EXCLUDED.realized);
            n := n + 1;
        END LOOP;
        UPDATE zvt.funding_settlements s SET payments = n
         WHERE s.instrument_id = d.instrument_id AND s.funding_time = d.funding_time;
        paid := paid + n;
    END LOOP;
    RETURN paid;
END;
$$;
COMMENT ON FUNCTION zvt.settle_funding() IS
    'Settle the funding times the stored funding data has passed: each paper perpetual position at the time pays or receives -(qty x mark x rate) once (zvt.funding_payments), into its balance, realized PnL and daily PnL. The maintenance worker runs it every pass; returns the payments made.';
-- it writes every account's ledger: administrators (and the maintenance worker) only
REVOKE ALL ON FUNCTION zvt.settle_funding() FROM PUBLIC;
