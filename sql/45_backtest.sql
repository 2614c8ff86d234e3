-- ===================================================================
-- Backtests: zvt.backtest runs a built-in strategy, a signals query or a
-- step function through the C fill engine (src/backtest/) over closed
-- candles from zvt.ohlcv and keeps the run, its trades and its equity
-- curve here; zvt.backtest_grid sweeps a built-in strategy's parameters.
--
-- Runs are private to the role that made them (created_by, row-level
-- security; members of zvt_admin see all).  Users never INSERT or UPDATE
-- these tables: the two functions compute a run as the caller and store
-- it as the tables' owner with created_by = the caller's current_user
-- (src/backtest/store.c).  A role may DELETE its own runs (their trades
-- and equity go with them, ON DELETE CASCADE).
-- ===================================================================

CREATE TABLE zvt.backtest_runs (
    run_id              pg_catalog.int8 GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    created_at          pg_catalog.timestamptz NOT NULL DEFAULT pg_catalog.now(),
    created_by          pg_catalog.name NOT NULL,
    strategy            pg_catalog.text NOT NULL,
    exchange            pg_catalog.text NOT NULL,
    symbol              pg_catalog.text NOT NULL,
    timeframe           pg_catalog.interval NOT NULL,
    start               pg_catalog.timestamptz NOT NULL,
    finish              pg_catalog.timestamptz NOT NULL,
    params              pg_catalog.jsonb NOT NULL,
    initial_cash        pg_catalog.float8 NOT NULL,
    fee_bps             pg_catalog.float8 NOT NULL,
    slippage_bps        pg_catalog.float8 NOT NULL,
    store               pg_catalog.text NOT NULL,
    bars                pg_catalog.int8 NOT NULL,
    first_bar           pg_catalog.timestamptz NOT NULL,
    last_bar            pg_catalog.timestamptz NOT NULL,
    final_equity        pg_catalog.float8 NOT NULL,
    total_return        pg_catalog.float8,
    cagr                pg_catalog.float8,
    volatility          pg_catalog.float8,
    sharpe              pg_catalog.float8,
    sortino             pg_catalog.float8,
    calmar              pg_catalog.float8,
    max_drawdown        pg_catalog.float8,
    max_drawdown_pct    pg_catalog.float8,
    max_drawdown_start  pg_catalog.timestamptz,
    max_drawdown_end    pg_catalog.timestamptz,
    trades              pg_catalog.int8 NOT NULL,
    win_rate            pg_catalog.float8,
    profit_factor       pg_catalog.float8,
    expectancy          pg_catalog.float8,
    avg_win             pg_catalog.float8,
    avg_loss            pg_catalog.float8,
    best_trade          pg_catalog.float8,
    worst_trade         pg_catalog.float8,
    exposure_pct        pg_catalog.float8,
    fees_paid           pg_catalog.float8 NOT NULL,
    market_change       pg_catalog.float8,
    open_at_end         pg_catalog.bool NOT NULL
);
COMMENT ON TABLE zvt.backtest_runs IS
    'One row per zvt.backtest run: its parameters and every metric (definitions in docs/backtesting.md); NULL where a metric is undefined. Each role sees and may delete only its own runs (created_by, set by zvt.backtest and zvt.backtest_grid); members of zvt_admin see all.';

CREATE TABLE zvt.backtest_trades (
    run_id          pg_catalog.int8 NOT NULL REFERENCES zvt.backtest_runs ON DELETE CASCADE,
    trade_no        pg_catalog.int4 NOT NULL,
    entry_ts        pg_catalog.timestamptz NOT NULL,
    entry_price     pg_catalog.float8 NOT NULL,
    exit_ts         pg_catalog.timestamptz NOT NULL,
    exit_price      pg_catalog.float8 NOT NULL,
    qty             pg_catalog.float8 NOT NULL,
    side            pg_catalog.text NOT NULL CHECK (side IN ('long', 'short')),
    pnl             pg_catalog.float8 NOT NULL,
    fees            pg_catalog.float8 NOT NULL,
    exit_reason     pg_catalog.text NOT NULL,
    PRIMARY KEY (run_id, trade_no)
);
COMMENT ON TABLE zvt.backtest_trades IS
    'Round trips of a backtest run, flat to flat: average entry and exit fill prices (slippage included), the largest size held, pnl net of fees; exit_reason is signal, stop_loss, take_profit, trailing_stop or end (still open at the last bar, closed at its close).';

CREATE TABLE zvt.backtest_equity (
    run_id      pg_catalog.int8 NOT NULL REFERENCES zvt.backtest_runs ON DELETE CASCADE,
    ts          pg_catalog.timestamptz NOT NULL,
    equity      pg_catalog.float8 NOT NULL,
    cash        pg_catalog.float8 NOT NULL,
    position    pg_catalog.float8 NOT NULL,
    drawdown    pg_catalog.float8 NOT NULL,
    PRIMARY KEY (run_id, ts)
);
COMMENT ON TABLE zvt.backtest_equity IS
    'Equity curve of a backtest run at bar closes (ts is the bar''s open time): every bar with store => ''all'', the last bar of each UTC day with store => ''trades''; drawdown is the fraction below the running peak.';

-- runs are user data: pg_dump keeps them
SELECT pg_catalog.pg_extension_config_dump('zvt.backtest_runs', '');
SELECT pg_catalog.pg_extension_config_dump('zvt.backtest_runs_run_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('zvt.backtest_trades', '');
SELECT pg_catalog.pg_extension_config_dump('zvt.backtest_equity', '');

-- a run is its creator's; zvt_admin members see all (the owner, which
-- writes them, is not subject to the policies: no FORCE)
ALTER TABLE zvt.backtest_runs ENABLE ROW LEVEL SECURITY;
ALTER TABLE zvt.backtest_trades ENABLE ROW LEVEL SECURITY;
ALTER TABLE zvt.backtest_equity ENABLE ROW LEVEL SECURITY;
CREATE POLICY backtest_runs_read ON zvt.backtest_runs FOR SELECT
    USING (created_by = CURRENT_USER
           OR (SELECT pg_catalog.pg_has_role('zvt_admin', 'USAGE')));
CREATE POLICY backtest_runs_delete ON zvt.backtest_runs FOR DELETE
    USING (created_by = CURRENT_USER
           OR (SELECT pg_catalog.pg_has_role('zvt_admin', 'USAGE')));
-- trades and equity: of the runs the role sees (the runs' policy applies)
CREATE POLICY backtest_trades_read ON zvt.backtest_trades FOR SELECT
    USING (run_id IN (SELECT r.run_id FROM zvt.backtest_runs r));
CREATE POLICY backtest_equity_read ON zvt.backtest_equity FOR SELECT
    USING (run_id IN (SELECT r.run_id FROM zvt.backtest_runs r));
COMMENT ON POLICY backtest_runs_read ON zvt.backtest_runs IS
    'A role sees the runs it made; members of zvt_admin see all.';
COMMENT ON POLICY backtest_runs_delete ON zvt.backtest_runs IS
    'A role may delete the runs it made (their trades and equity cascade); members of zvt_admin any.';
COMMENT ON POLICY backtest_trades_read ON zvt.backtest_trades IS
    'The trades of the runs the role sees.';
COMMENT ON POLICY backtest_equity_read ON zvt.backtest_equity IS
    'The equity curves of the runs the role sees.';

-- reading: anyone, their own runs (the policies above); deleting: their
-- own runs; no INSERT or UPDATE: runs are written by zvt.backtest and
-- zvt.backtest_grid only, so none can be forged or put in another's name
REVOKE ALL ON zvt.backtest_runs, zvt.backtest_trades, zvt.backtest_equity FROM PUBLIC;
GRANT SELECT, DELETE ON zvt.backtest_runs TO PUBLIC;
GRANT SELECT ON zvt.backtest_trades, zvt.backtest_equity TO PUBLIC;

CREATE FUNCTION zvt.backtest(strategy pg_catalog.text, exchange pg_catalog.text, symbol pg_catalog.text,
                             timeframe pg_catalog.interval,
                             start pg_catalog.timestamptz, finish pg_catalog.timestamptz,
                             params pg_catalog.jsonb DEFAULT '{}',
                             initial_cash pg_catalog.numeric DEFAULT 10000,
                             fee_bps pg_catalog.numeric DEFAULT 10,
                             slippage_bps pg_catalog.numeric DEFAULT 0,
                             signals pg_catalog.text DEFAULT NULL,
                             step_fn pg_catalog.regprocedure DEFAULT NULL,
                             store pg_catalog.text DEFAULT 'trades')
    RETURNS zvt.backtest_runs
    LANGUAGE C VOLATILE CALLED ON NULL INPUT AS 'MODULE_PATHNAME', 'zvt_backtest';
COMMENT ON FUNCTION zvt.backtest(pg_catalog.text, pg_catalog.text, pg_catalog.text, pg_catalog.interval, pg_catalog.timestamptz, pg_catalog.timestamptz, pg_catalog.jsonb, pg_catalog.numeric, pg_catalog.numeric, pg_catalog.numeric, pg_catalog.text, pg_catalog.regprocedure, pg_catalog.text) IS
    'Run a built-in strategy (or strategy ''signals'' with a signals query returning (ts, target), or ''step_fn'' with a function f(bar zvt.candles_v, INOUT state jsonb, OUT target float8) called once per closed bar with a state kept between calls) over the closed candles of (exchange, symbol, timeframe) in [start, finish): signals at a bar''s close fill at the next open; stores the run (store: metrics, trades, all) and returns it.';
GRANT EXECUTE ON FUNCTION zvt.backtest(pg_catalog.text, pg_catalog.text, pg_catalog.text, pg_catalog.interval, pg_catalog.timestamptz, pg_catalog.timestamptz, pg_catalog.jsonb, pg_catalog.numeric, pg_catalog.numeric, pg_catalog.numeric, pg_catalog.text, pg_catalog.regprocedure, pg_catalog.text) TO PUBLIC;

CREATE FUNCTION zvt.backtest_grid(strategy pg_catalog.text, exchange pg_catalog.text, symbol pg_catalog.text,
                                  timeframe pg_catalog.interval,
                                  start pg_catalog.timestamptz, finish pg_catalog.timestamptz,
                                  grid pg_catalog.jsonb,
                                  sort_by pg_catalog.text DEFAULT 'sharpe',
                                  params pg_catalog.jsonb DEFAULT '{}',
                                  initial_cash pg_catalog.numeric DEFAULT 10000,
                                  fee_bps pg_catalog.numeric DEFAULT 10,
                                  slippage_bps pg_catalog.numeric DEFAULT 0,
                                  descending pg_catalog.bool DEFAULT true,
                                  workers pg_catalog.int4 DEFAULT NULL)
    RETURNS SETOF zvt.backtest_runs
    LANGUAGE C VOLATILE CALLED ON NULL INPUT ROWS 100 AS 'MODULE_PATHNAME', 'zvt_backtest_grid';
COMMENT ON FUNCTION zvt.backtest_grid(pg_catalog.text, pg_catalog.text, pg_catalog.text, pg_catalog.interval, pg_catalog.timestamptz, pg_catalog.timestamptz, pg_catalog.jsonb, pg_catalog.text, pg_catalog.jsonb, pg_catalog.numeric, pg_catalog.numeric, pg_catalog.numeric, pg_catalog.bool, pg_catalog.int4) IS
    'Run a built-in strategy for every combination of the grid (a JSON object of arrays of values, such as {"fast": [5, 10], "slow": [50, 100]}; params holds the fixed ones) over the same closed candles, in parallel (workers: NULL = max_parallel_workers_per_gather, which also caps it); combinations the strategy rejects are skipped with a NOTICE; stores each run with store = metrics and returns them sorted by sort_by (a metric column, NULLs last).';
-- like zvt.backtest: anyone may run one; the runs are stored in the caller's name
GRANT EXECUTE ON FUNCTION zvt.backtest_grid(pg_catalog.text, pg_catalog.text, pg_catalog.text, pg_catalog.interval, pg_catalog.timestamptz, pg_catalog.timestamptz, pg_catalog.jsonb, pg_catalog.text, pg_catalog.jsonb, pg_catalog.numeric, pg_catalog.numeric, pg_catalog.numeric, pg_catalog.bool, pg_catalog.int4) TO PUBLIC;
