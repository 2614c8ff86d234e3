--
-- Indicators as window aggregates, against values computed independently
-- in plain SQL (recursive CTEs and window functions) in this file
--
\set SHOW_CONTEXT never
CREATE TEMP TABLE px (i int PRIMARY KEY, c float8, h float8, l float8, q float8);
INSERT INTO px VALUES
 (1, 44.34, 44.50, 43.90, 10), (2, 44.09, 44.40, 43.80, 12), (3, 44.15, 44.30, 43.95, 9),
 (4, 43.61, 44.20, 43.50, 15), (5, 44.33, 44.40, 43.60, 11), (6, 44.83, 44.90, 44.20, 8),
 (7, 45.10, 45.20, 44.70, 14), (8, 45.42, 45.50, 45.00, 13), (9, 45.84, 45.90, 45.30, 10),
 (10, 46.08, 46.20, 45.70, 16), (11, 45.89, 46.10, 45.80, 12), (12, 46.03, 46.10, 45.70, 9),
 (13, 45.61, 46.00, 45.50, 11), (14, 46.28, 46.30, 45.60, 13), (15, 46.28, 46.40, 46.00, 10),
 (16, 46.00, 46.30, 45.90, 12), (17, 46.03, 46.10, 45.80, 8), (18, 46.41, 46.50, 46.00, 14),
 (19, 46.22, 46.50, 46.10, 9), (20, 45.64, 46.20, 45.50, 15);

-- EMA(5): seeded with the average of the first 5, then alpha = 2/6
WITH RECURSIVE ref (i, e) AS (
    SELECT 5, (SELECT avg(c) FROM px WHERE i <= 5)
    UNION ALL
    SELECT px.i, ref.e + (px.c - ref.e) * 2.0 / 6 FROM ref JOIN px ON px.i = ref.i + 1
), got AS (
    SELECT i, zvt.ema(c, 5) OVER (ORDER BY i) AS e FROM px
)
SELECT count(*) FILTER (WHERE got.e IS NULL) AS nulls_before_5,
       max(abs(got.e - ref.e)) < 1e-9 AS ema_matches
  FROM got LEFT JOIN ref USING (i);

-- RSI(14), Wilder: first averages over 14 changes, then (prev * 13 + x) / 14
WITH RECURSIVE ch AS (
    SELECT i, greatest(c - lag(c) OVER (ORDER BY i), 0) AS up,
              greatest(lag(c) OVER (ORDER BY i) - c, 0) AS dn FROM px
), ref (i, g, d) AS (
    SELECT 15, (SELECT avg(up) FROM ch WHERE i BETWEEN 2 AND 15), (SELECT avg(dn) FROM ch WHERE i BETWEEN 2 AND 15)
    UNION ALL
    SELECT ch.i, (ref.g * 13 + ch.up) / 14, (ref.d * 13 + ch.dn) / 14 FROM ref JOIN ch ON ch.i = ref.i + 1
), got AS (
    SELECT i, zvt.rsi(c, 14) OVER (ORDER BY i) AS r FROM px
)
SELECT got.i, round(got.r::numeric, 4) AS rsi, round((100 - 100 / (1 + ref.g / ref.d))::numeric, 4) AS reference
  FROM got JOIN ref USING (i) ORDER BY i;
SELECT count(*) AS rsi_nulls FROM (SELECT zvt.rsi(c, 14) OVER (ORDER BY i) r FROM px) s WHERE r IS NULL;

-- Bollinger(5, 2): population standard deviation over the last 5
WITH got AS (
    SELECT i, zvt.bollinger(c, 5, 2) OVER (ORDER BY i) AS b,
           avg(c) OVER w AS m, stddev_pop(c) OVER w AS sd, count(*) OVER w AS n
      FROM px WINDOW w AS (ORDER BY i ROWS 4 PRECEDING)
)
SELECT count(*) FILTER (WHERE b IS NULL) AS nulls_before_5,
       max(abs((b).mid - m)) < 1e-9 AND max(abs((b).upper - (m + 2 * sd))) < 1e-9
           AND max(abs((b).lower - (m - 2 * sd))) < 1e-9 AS bollinger_matches
  FROM got WHERE n = 5 OR b IS NULL;

-- ATR(5), Wilder, true range = max(h - l, |h - prev c|, |l - prev c|)
WITH RECURSIVE tr AS (
    SELECT i, greatest(h - l, abs(h - lag(c) OVER (ORDER BY i)), abs(l - lag(c) OVER (ORDER BY i))) AS t FROM px
), ref (i, a) AS (
    SELECT 5, (SELECT avg(coalesce(t, (SELECT h - l FROM px WHERE i = 1))) FROM tr WHERE i <= 5)
    UNION ALL
    SELECT tr.i, (ref.a * 4 + tr.t) / 5 FROM ref JOIN tr ON tr.i = ref.i + 1
), got AS (
    SELECT i, zvt.atr(h, l, c, 5) OVER (ORDER BY i) AS a FROM px
)
SELECT max(abs(got.a - ref.a)) < 1e-9 AS atr_matches, count(ref.a) AS compared
  FROM got JOIN ref USING (i);

-- VWAP from the start
SELECT max(abs(v - ref)) < 1e-9 AS vwap_matches
  FROM (SELECT zvt.vwap(c, q) OVER (ORDER BY i) v, sum(c * q) OVER (ORDER BY i) / sum(q) OVER (ORDER BY i) ref
          FROM px) s;

-- MACD(3, 6, 4): line = EMA(3) - EMA(6); signal = EMA(4) of the line;
-- each EMA by its own recursion here, seeded with a simple average
WITH RECURSIVE e3 (i, e) AS (
    SELECT 3, (SELECT avg(c) FROM px WHERE i <= 3)
    UNION ALL
    SELECT px.i, e3.e + (px.c - e3.e) * 2.0 / 4 FROM e3 JOIN px ON px.i = e3.i + 1
), e6 (i, e) AS (
    SELECT 6, (SELECT avg(c) FROM px WHERE i <= 6)
    UNION ALL
    SELECT px.i, e6.e + (px.c - e6.e) * 2.0 / 7 FROM e6 JOIN px ON px.i = e6.i + 1
), line AS (
    SELECT i, e3.e - e6.e AS v FROM e3 JOIN e6 USING (i)
), sig (i, s) AS (
    SELECT 9, (SELECT avg(v) FROM line WHERE i <= 9)
    UNION ALL
    SELECT line.i, sig.s + (line.v - sig.s) * 2.0 / 5 FROM sig JOIN line ON line.i = sig.i + 1
), got AS (
    SELECT i, zvt.macd(c, 3, 6, 4) OVER (ORDER BY i) AS m FROM px
)
SELECT max(abs((m).line - line.v)) < 1e-9 AS line_matches,
       max(abs((m).signal - sig.s)) < 1e-9 AS signal_matches,
       max(abs((m).histogram - (line.v - sig.s))) < 1e-9 AS histogram_matches,
       count(sig.s) AS compared,
       count(*) FILTER (WHERE m IS NULL) AS macd_nulls
  FROM got LEFT JOIN line USING (i) LEFT JOIN sig USING (i);

-- as plain aggregates too
SELECT round(zvt.ema(c, 5 ORDER BY i)::numeric, 6) AS last_ema,
       round(zvt.vwap(c, q ORDER BY i)::numeric, 6) AS vwap FROM px;
-- the plain aggregate equals the window's last row
SELECT zvt.ema(c, 5 ORDER BY i) = (SELECT e FROM (SELECT i, zvt.ema(c, 5) OVER (ORDER BY i) e FROM px) s
                                    WHERE i = 20) AS plain_equals_window_end
  FROM px;

-- NULL values are skipped: the same series with NULLs between gives the
-- same indicator on the non-NULL rows
CREATE TEMP TABLE px_holes AS
SELECT i * 2 AS i, c, h, l, q FROM px
UNION ALL SELECT i * 2 + 1, NULL, NULL, NULL, NULL FROM px;
SELECT bool_and(a.e = b.e) AND count(*) = 16 AS ema_skips_nulls,
       bool_and(a.r = b.r) AND count(b.r) = 6 AS rsi_skips_nulls,
       bool_and(a.t = b.t) AS atr_skips_nulls
  FROM (SELECT i, zvt.ema(c, 5) OVER w e, zvt.rsi(c, 14) OVER w r, zvt.atr(h, l, c, 5) OVER w t
          FROM px WINDOW w AS (ORDER BY i)) a
  JOIN (SELECT i / 2 AS i, i AS i2, zvt.ema(c, 5) OVER w e, zvt.rsi(c, 14) OVER w r, zvt.atr(h, l, c, 5) OVER w t
          FROM px_holes WINDOW w AS (ORDER BY i)) b
    ON a.i = b.i AND b.e IS NOT NULL AND b.i * 2 = b.i2;

-- PARTITION BY runs one indicator per series: interleave px with a
-- shifted copy and compare each with its own run
CREATE TEMP TABLE px2 AS
SELECT 1 AS s, i, c FROM px UNION ALL SELECT 2, i, c * 2 + 1 FROM px;
SELECT bool_and(abs(p.e - coalesce(o.e, 'NaN')) < 1e-9) AND count(p.e) = 32 AS partitioned_ema_matches
  FROM (SELECT s, i, zvt.ema(c, 5) OVER (PARTITION BY s ORDER BY i) e FROM px2) p
  LEFT JOIN (SELECT 1 AS s, i, zvt.ema(c, 5) OVER (ORDER BY i) e FROM px
             UNION ALL
             SELECT 2, i, zvt.ema(c * 2 + 1, 5) OVER (ORDER BY i) FROM px) o USING (s, i)
 WHERE p.e IS NOT NULL;

-- bad periods are 22023
\set VERBOSITY default
SELECT zvt.ema(c, 0) FROM px;
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT zvt.rsi(c, NULL) FROM px;
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT zvt.macd(c, 6, 3, 4) FROM px;
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT zvt.bollinger(c, 5, -1) FROM px;
\echo SQLSTATE :LAST_ERROR_SQLSTATE
