--
-- Order books: subscribing to channel book, the live book in shared
-- memory (zvt.book, zvt.books) without a feed, and the stored history
-- (zvt.book_snapshots, zvt.book_at).  Live books from the exchanges are
-- tested against the simulator in test/integration/book_sync.sh.
--
\set SHOW_CONTEXT never
SET TimeZone = 'UTC';

INSERT INTO zvt.instruments (exchange, symbol, raw_symbol, base, quote, kind, tick_size, lot_size)
VALUES ('okx', 'BOOK-USDT', 'BOOK-USDT', 'BOOK', 'USDT', 'spot', 0.1, 0.001),
       ('bybit', 'BOOK-USDT', 'BOOKUSDT', 'BOOK', 'USDT', 'spot', 0.1, 0.001),
       ('bybit', 'BOOK-USDT-PERP', 'BOOKUSDT', 'BOOK', 'USDT', 'perp', 0.1, 0.001);

-- subscribe: 50 levels unless asked, up to what the exchange streams
SELECT exchange, symbol, channel, depth FROM zvt.subscribe('okx', 'BOOK-USDT', 'book');
SELECT exchange, symbol, channel, depth FROM zvt.subscribe('okx', 'BOOK-USDT', 'book', depth => 400);
SELECT exchange, symbol, channel, depth FROM zvt.subscribe('bybit', 'BOOK-USDT-PERP', 'book', depth => 1000);
SELECT exchange, symbol, channel, depth FROM zvt.subscribe('okx', 'BOOK-USDT', 'trades');
\set VERBOSITY default
SELECT zvt.subscribe('okx', 'BOOK-USDT', 'book', depth => 401);
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT zvt.subscribe('bybit', 'BOOK-USDT', 'book', depth => 201);
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT zvt.subscribe('okx', 'BOOK-USDT', 'book', depth => 0);
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT zvt.subscribe('okx', 'BOOK-USDT', 'quotes', depth => 10);
\echo SQLSTATE :LAST_ERROR_SQLSTATE
-- the table keeps the rule too
\set VERBOSITY terse
INSERT INTO zvt.subscriptions (exchange, symbol, channel, depth) VALUES ('okx', 'BOOK-USDT', 'candles_1m', 5);
\echo SQLSTATE :LAST_ERROR_SQLSTATE
\set VERBOSITY terse
SELECT zvt.unsubscribe('okx', 'BOOK-USDT', 'book');
SELECT zvt.unsubscribe('okx', 'BOOK-USDT', 'trades');
SELECT zvt.unsubscribe('bybit', 'BOOK-USDT-PERP', 'book');

-- no feed runs here: no live book, no rows, and no walk price
SELECT * FROM zvt.book('okx', 'BOOK-USDT');
SELECT count(*) FROM zvt.books;
SELECT zvt._book_fill_price(id, 'buy', 1, NULL) IS NULL AS no_walk
  FROM zvt.instruments WHERE exchange = 'okx' AND symbol = 'BOOK-USDT';
\set VERBOSITY default
SELECT * FROM zvt.book('okx', 'BOOK-USDT', 0);
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT * FROM zvt.book('okx', 'BOOK-USDT', 1001);
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT zvt._book_fill_price(1, 'up', 1, NULL);
\echo SQLSTATE :LAST_ERROR_SQLSTATE
\set VERBOSITY terse

-- history: book_at gives the latest snapshot at or before the time
INSERT INTO zvt.book_snapshots (ts, instrument_id, seq, bid_price, bid_size, ask_price, ask_size)
SELECT t, i.id, s, b, bs, a, az
  FROM zvt.instruments i,
       (VALUES ('2026-01-01 00:00:00+00'::timestamptz, 10, '{100.1,100,99.9}'::numeric[], '{1,2,3}'::numeric[],
                '{100.2,100.3}'::numeric[], '{0.5,4}'::numeric[]),
               ('2026-01-01 00:00:01+00', 11, '{100.2,100.1}', '{7,1}', '{100.3}', '{4}'))
         AS v (t, s, b, bs, a, az)
 WHERE i.exchange = 'okx' AND i.symbol = 'BOOK-USDT';
SELECT * FROM zvt.book_at('okx', 'BOOK-USDT', '2026-01-01 00:00:00.5+00');
SELECT * FROM zvt.book_at('okx', 'BOOK-USDT', '2026-01-01 00:00:01+00');
SELECT * FROM zvt.book_at('okx', 'BOOK-USDT', '2026-01-01 00:00:05+00', 1);
-- before the first snapshot, or another symbol: nothing
SELECT count(*) FROM zvt.book_at('okx', 'BOOK-USDT', '2025-12-31 23:59:59+00');
SELECT count(*) FROM zvt.book_at('bybit', 'BOOK-USDT', '2026-01-01 00:00:05+00');
-- a hypertable, and everyone may read it
SELECT relation, time_column, chunk_interval FROM zvt.hypertables WHERE relation = 'zvt.book_snapshots'::regclass;
SELECT has_table_privilege('public', 'zvt.book_snapshots', 'SELECT') AS public_reads,
       has_table_privilege('public', 'zvt.book_snapshots', 'INSERT') AS public_writes;
DELETE FROM zvt.book_snapshots;
DELETE FROM zvt.instruments WHERE symbol LIKE 'BOOK-%';
-- leave the instrument ids as found (market.sql expects them from 1)
ALTER TABLE zvt.instruments ALTER COLUMN id RESTART;
