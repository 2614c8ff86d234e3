-- ===================================================================
-- Indicators as aggregates, usable as window functions:
--   SELECT zvt.ema(close, 12) OVER (ORDER BY ts) FROM ...
-- The state machines are src/backtest/indicators.c, shared with the
-- backtest engine; definitions follow TA-Lib (see that file's head).
-- ===================================================================

CREATE TYPE zvt.macd_t AS (line pg_catalog.float8, signal pg_catalog.float8, histogram pg_catalog.float8);
COMMENT ON TYPE zvt.macd_t IS 'MACD line (EMA fast - EMA slow), its signal EMA, and their difference.';
CREATE TYPE zvt.bollinger_t AS (mid pg_catalog.float8, upper pg_catalog.float8, lower pg_catalog.float8);
COMMENT ON TYPE zvt.bollinger_t IS 'Bollinger bands: SMA and SMA +- k population standard deviations.';

CREATE FUNCTION zvt._ema_step(internal, pg_catalog.float8, pg_catalog.int4) RETURNS internal
    LANGUAGE C IMMUTABLE PARALLEL SAFE AS 'MODULE_PATHNAME', 'zvt_ema_step';
CREATE FUNCTION zvt._ema_final(internal) RETURNS pg_catalog.float8
    LANGUAGE C IMMUTABLE PARALLEL SAFE AS 'MODULE_PATHNAME', 'zvt_ema_final';
CREATE AGGREGATE zvt.ema(value pg_catalog.float8, period pg_catalog.int4) (
    SFUNC = zvt._ema_step, STYPE = internal, FINALFUNC = zvt._ema_final, FINALFUNC_MODIFY = READ_ONLY);
COMMENT ON AGGREGATE zvt.ema(pg_catalog.float8, pg_catalog.int4) IS
    'Exponential moving average (alpha = 2/(period+1), seeded with the average of the first period values); NULL before that.';

CREATE FUNCTION zvt._rsi_step(internal, pg_catalog.float8, pg_catalog.int4) RETURNS internal
    LANGUAGE C IMMUTABLE PARALLEL SAFE AS 'MODULE_PATHNAME', 'zvt_rsi_step';
CREATE FUNCTION zvt._rsi_final(internal) RETURNS pg_catalog.float8
    LANGUAGE C IMMUTABLE PARALLEL SAFE AS 'MODULE_PATHNAME', 'zvt_rsi_final';
CREATE AGGREGATE zvt.rsi(value pg_catalog.float8, period pg_catalog.int4) (
    SFUNC = zvt._rsi_step, STYPE = internal, FINALFUNC = zvt._rsi_final, FINALFUNC_MODIFY = READ_ONLY);
COMMENT ON AGGREGATE zvt.rsi(pg_catalog.float8, pg_catalog.int4) IS
    'Relative strength index with Wilder''s smoothing; NULL until period changes have been seen.';

CREATE FUNCTION zvt._macd_step(internal, pg_catalog.float8, pg_catalog.int4, pg_catalog.int4, pg_catalog.int4)
    RETURNS internal LANGUAGE C IMMUTABLE PARALLEL SAFE AS 'MODULE_PATHNAME', 'zvt_macd_step';
CREATE FUNCTION zvt._macd_final(internal) RETURNS zvt.macd_t
    LANGUAGE C IMMUTABLE PARALLEL SAFE AS 'MODULE_PATHNAME', 'zvt_macd_final';
CREATE AGGREGATE zvt.macd(value pg_catalog.float8, fast pg_catalog.int4, slow pg_catalog.int4, signal pg_catalog.int4) (
    SFUNC = zvt._macd_step, STYPE = internal, FINALFUNC = zvt._macd_final, FINALFUNC_MODIFY = READ_ONLY);
COMMENT ON AGGREGATE zvt.macd(pg_catalog.float8, pg_catalog.int4, pg_catalog.int4, pg_catalog.int4) IS
    'MACD: EMA(fast) - EMA(slow), its EMA(signal), and the histogram.';

CREATE FUNCTION zvt._bollinger_step(internal, pg_catalog.float8, pg_catalog.int4, pg_catalog.float8)
    RETURNS internal LANGUAGE C IMMUTABLE PARALLEL SAFE AS 'MODULE_PATHNAME', 'zvt_bollinger_step';
CREATE FUNCTION zvt._bollinger_final(internal) RETURNS zvt.bollinger_t
    LANGUAGE C IMMUTABLE PARALLEL SAFE AS 'MODULE_PATHNAME', 'zvt_bollinger_final';
CREATE AGGREGATE zvt.bollinger(value pg_catalog.float8, period pg_catalog.int4, k pg_catalog.float8) (
    SFUNC = zvt._bollinger_step, STYPE = internal, FINALFUNC = zvt._bollinger_final, FINALFUNC_MODIFY = READ_ONLY);
COMMENT ON AGGREGATE zvt.bollinger(pg_catalog.float8, pg_catalog.int4, pg_catalog.float8) IS
    'Bollinger bands over the last period values: mid = SMA, upper/lower = mid +- k population standard deviations.';

CREATE FUNCTION zvt._atr_step(internal, pg_catalog.float8, pg_catalog.float8, pg_catalog.float8, pg_catalog.int4)
    RETURNS internal LANGUAGE C IMMUTABLE PARALLEL SAFE AS 'MODULE_PATHNAME', 'zvt_atr_step';
CREATE FUNCTION zvt._atr_final(internal) RETURNS pg_catalog.float8
    LANGUAGE C IMMUTABLE PARALLEL SAFE AS 'MODULE_PATHNAME', 'zvt_atr_final';
CREATE AGGREGATE zvt.atr(high pg_catalog.float8, low pg_catalog.float8, close pg_catalog.float8, period pg_catalog.int4) (
    SFUNC = zvt._atr_step, STYPE = internal, FINALFUNC = zvt._atr_final, FINALFUNC_MODIFY = READ_ONLY);
COMMENT ON AGGREGATE zvt.atr(pg_catalog.float8, pg_catalog.float8, pg_catalog.float8, pg_catalog.int4) IS
    'Average true range with Wilder''s smoothing, seeded with the average of the first period true ranges.';

CREATE FUNCTION zvt._vwap_step(internal, pg_catalog.float8, pg_catalog.float8) RETURNS internal
    LANGUAGE C IMMUTABLE PARALLEL SAFE AS 'MODULE_PATHNAME', 'zvt_vwap_step';
CREATE FUNCTION zvt._vwap_final(internal) RETURNS pg_catalog.float8
    LANGUAGE C IMMUTABLE PARALLEL SAFE AS 'MODULE_PATHNAME', 'zvt_vwap_final';
CREATE AGGREGATE zvt.vwap(price pg_catalog.float8, qty pg_catalog.float8) (
    SFUNC = zvt._vwap_step, STYPE = internal, FINALFUNC = zvt._vwap_final, FINALFUNC_MODIFY = READ_ONLY);
COMMENT ON AGGREGATE zvt.vwap(pg_catalog.float8, pg_catalog.float8) IS
    'Volume-weighted average price: sum(price * qty) / sum(qty).';

COMMENT ON FUNCTION zvt._ema_step(internal, pg_catalog.float8, pg_catalog.int4) IS 'Internal: zvt.ema step.';
COMMENT ON FUNCTION zvt._ema_final(internal) IS 'Internal: zvt.ema value.';
COMMENT ON FUNCTION zvt._rsi_step(internal, pg_catalog.float8, pg_catalog.int4) IS 'Internal: zvt.rsi step.';
COMMENT ON FUNCTION zvt._rsi_final(internal) IS 'Internal: zvt.rsi value.';
COMMENT ON FUNCTION zvt._macd_step(internal, pg_catalog.float8, pg_catalog.int4, pg_catalog.int4, pg_catalog.int4) IS 'Internal: zvt.macd step.';
COMMENT ON FUNCTION zvt._macd_final(internal) IS 'Internal: zvt.macd value.';
COMMENT ON FUNCTION zvt._bollinger_step(internal, pg_catalog.float8, pg_catalog.int4, pg_catalog.float8) IS 'Internal: zvt.bollinger step.';
COMMENT ON FUNCTION zvt._bollinger_final(internal) IS 'Internal: zvt.bollinger value.';
COMMENT ON FUNCTION zvt._atr_step(internal, pg_catalog.float8, pg_catalog.float8, pg_catalog.float8, pg_catalog.int4) IS 'Internal: zvt.atr step.';
COMMENT ON FUNCTION zvt._atr_final(internal) IS 'Internal: zvt.atr value.';
COMMENT ON FUNCTION zvt._vwap_step(internal, pg_catalog.float8, pg_catalog.float8) IS 'Internal: zvt.vwap step.';
COMMENT ON FUNCTION zvt._vwap_final(internal) IS 'Internal: zvt.vwap value.';
