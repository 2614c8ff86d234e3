--
-- Backtest runs are their creator's: another role cannot see, delete,
-- update or forge them (issue 11, item 5), written as the attacker
-- (mallory) against a victim (alice); members of zvt_admin see all.
--
\set SHOW_CONTEXT never
\set VERBOSITY terse
SET TimeZone = 'UTC';
INSERT INTO zvt.instruments (id, exchange, symbol, raw_symbol, base, quote, kind)
OVERRIDING SYSTEM VALUE VALUES (9301, 'binance', 'SEC-USDT', 'SECUSDT', 'SEC', 'USDT', 'spot');
INSERT INTO zvt.candles (ts, instrument_id, timeframe, open, high, low, close, closed)
SELECT ts, 9301, '1 minute', o, greatest(o, c) * 1.001, least(o, c) * 0.999, c, true
  FROM (SELECT timestamptz '2024-01-01 00:00+00' + i * interval '1 minute' AS ts,
               100 + 5 * sin(i / 20.0) AS o, 100 + 5 * sin((i + 1) / 20.0) AS c
          FROM generate_series(0, 499) i) s;
CREATE ROLE zvt_bt_alice;
CREATE ROLE zvt_bt_mallory;
CREATE ROLE zvt_bt_auditor IN ROLE zvt_admin;

-- the victim's runs: one with trades and equity, two from a grid
SET ROLE zvt_bt_alice;
SELECT created_by, trades > 0 AS traded
  FROM zvt.backtest('sma_cross', 'binance', 'SEC-USDT', '1 minute', '2024-01-01', '2024-01-02',
                    '{"fast": 3, "slow": 9}', store => 'all');
SELECT created_by, params FROM zvt.backtest_grid('sma_cross', 'binance', 'SEC-USDT', '1 minute',
                                                 '2024-01-01', '2024-01-02',
                                                 '{"fast": [2, 4], "slow": [10]}', workers => 0)
 ORDER BY params;
SELECT count(*) AS runs FROM zvt.backtest_runs;
SELECT count(*) > 0 AS has_trades FROM zvt.backtest_trades;
SELECT count(*) > 0 AS has_equity FROM zvt.backtest_equity;
RESET ROLE;
SELECT min(run_id) AS victim_run FROM zvt.backtest_runs WHERE created_by = 'zvt_bt_alice' \gset

-- the attacker sees none of it
SET ROLE zvt_bt_mallory;
SELECT count(*) AS runs FROM zvt.backtest_runs;
SELECT count(*) AS trades FROM zvt.backtest_trades;
SELECT count(*) AS equity FROM zvt.backtest_equity;
-- deletes nothing of it (her DELETE sees only her own runs) ...
DELETE FROM zvt.backtest_runs;
DELETE FROM zvt.backtest_runs WHERE run_id = :victim_run;
DELETE FROM zvt.backtest_trades WHERE run_id = :victim_run;
DELETE FROM zvt.backtest_equity WHERE run_id = :victim_run;
-- ... updates nothing ...
UPDATE zvt.backtest_runs SET final_equity = 0 WHERE run_id = :victim_run;
UPDATE zvt.backtest_trades SET pnl = 0 WHERE run_id = :victim_run;
-- ... and forges nothing, in her name or another's
INSERT INTO zvt.backtest_runs (created_by, strategy, exchange, symbol, timeframe, start, finish,
                               params, initial_cash, fee_bps, slippage_bps, store, bars, first_bar,
                               last_bar, final_equity, trades, fees_paid, open_at_end)
VALUES ('zvt_bt_alice', 'sma_cross', 'binance', 'SEC-USDT', '1 minute', '2024-01-01', '2024-01-02',
        '{}', 10000, 10, 0, 'metrics', 1, '2024-01-01', '2024-01-01', 1e9, 0, 0, false);
INSERT INTO zvt.backtest_trades VALUES (:victim_run, 999, '2024-01-01', 1, '2024-01-01', 2, 1,
                                        'long', 1e9, 0, 'signal');
INSERT INTO zvt.backtest_equity VALUES (:victim_run, '2030-01-01', 1e9, 1e9, 0, 0);
-- her own code run by a backtest runs as her, not as the tables' owner
CREATE FUNCTION pg_temp.forge(bar zvt.candles_v, INOUT state jsonb, OUT target float8)
LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO zvt.backtest_runs (created_by, strategy, exchange, symbol, timeframe, start, finish,
                                   params, initial_cash, fee_bps, slippage_bps, store, bars, first_bar,
                                   last_bar, final_equity, trades, fees_paid, open_at_end)
    VALUES ('zvt_bt_alice', 'x', 'x', 'x', '1 minute', now(), now(), '{}', 1, 0, 0, 'metrics', 1,
            now(), now(), 1e9, 0, 0, false);
    target := 0;
END $$;
SELECT run_id FROM zvt.backtest('step_fn', 'binance', 'SEC-USDT', '1 minute', '2024-01-01', '2024-01-02',
                                step_fn => 'pg_temp.forge(zvt.candles_v, jsonb)');
-- her own run is stored in her name, and she may delete it
SELECT created_by FROM zvt.backtest('buy_and_hold', 'binance', 'SEC-USDT', '1 minute',
                                    '2024-01-01', '2024-01-02');
SELECT created_by, count(*) AS runs FROM zvt.backtest_runs GROUP BY 1;
DELETE FROM zvt.backtest_runs;
SELECT count(*) AS runs FROM zvt.backtest_runs;
RESET ROLE;

-- the victim's runs are intact, and only hers
SELECT created_by, count(*) AS runs, min(final_equity) > 1 AS equity_ok
  FROM zvt.backtest_runs GROUP BY 1;
SELECT count(*) = 0 AS no_forged_trade FROM zvt.backtest_trades WHERE trade_no = 999;
SELECT count(*) = 0 AS no_forged_equity FROM zvt.backtest_equity WHERE ts = '2030-01-01';

-- a member of zvt_admin sees every run; the victim deletes her own, with
-- its trades and equity
SET ROLE zvt_bt_auditor;
SELECT count(*) AS runs FROM zvt.backtest_runs;
SET ROLE zvt_bt_alice;
DELETE FROM zvt.backtest_runs WHERE run_id = :victim_run;
SELECT count(*) AS runs, (SELECT count(*) FROM zvt.backtest_trades) AS trades,
       (SELECT count(*) FROM zvt.backtest_equity) AS equity
  FROM zvt.backtest_runs;
RESET ROLE;

-- the table grants: no INSERT or UPDATE for anyone but the owner
SELECT c.relname, a.privilege_type
  FROM pg_class c, aclexplode(c.relacl) a
 WHERE c.relnamespace = 'zvt'::regnamespace AND c.relname LIKE 'backtest\_%'
   AND a.grantee = 0
 ORDER BY 1, 2;

-- leave the database as we found it
DELETE FROM zvt.backtest_runs;
DELETE FROM zvt.candles WHERE instrument_id = 9301;
DELETE FROM zvt.instruments WHERE id = 9301;
DROP FUNCTION pg_temp.forge(zvt.candles_v, jsonb);
DROP ROLE zvt_bt_alice, zvt_bt_mallory, zvt_bt_auditor;
