# zvt: PGXS build of the extension, plus plain make rules for the
# programs (unit tests; later the exchange simulator and fuzzers).
#
#   make && make install      build and install zvt.so and the SQL
#   make unit                 build and run the plain-C unit tests (ASan/UBSan)
#   make installcheck         pg_regress against a running server (PGHOST/PGPORT)
#   scripts/test              everything, on a throwaway cluster

EXTENSION = zvt
EXTVERSION = $(shell sed -n "s/^default_version = '\(.*\)'/\1/p" zvt.control)

MODULE_big = zvt
OBJS = \
	src/zvt.o \
	src/core/zvt_time.o \
	src/core/candle_agg.o \
	src/base/claim.o \
	src/base/locks.o \
	src/base/side.o \
	src/base/runs.o \
	src/launcher/launcher.o \
	src/storage/as_owner.o \
	src/storage/chunk.o \
	src/storage/chunk_list.o \
	src/storage/maintenance.o \
	src/storage/pass_lock.o \
	src/storage/restore.o \
	src/storage/time_bucket.o \
	src/storage/rollup.o \
	src/storage/rollup_refresh.o \
	src/storage/ohlcv.o \
	src/compress/buf.o \
	src/compress/delta.o \
	src/compress/gorilla.o \
	src/compress/decimal.o \
	src/compress/dict.o \
	src/compress/lz.o \
	src/compress/batch.o \
	src/compress/rows.o \
	src/compress/reader.o \
	src/compress/store.o \
	src/compress/dead.o \
	src/compress/keys.o \
	src/compress/plan.o \
	src/compress/tam.o \
	src/compress/tam_write.o \
	src/compress/compress.o \
	src/feed/feed_normalize.o \
	src/feed/instruments.o \
	src/feed/instruments_sync.o \
	src/feed/rest_client.o \
	src/bus/bus.o \
	src/bus/functions.o \
	src/bus/ring.o \
	src/bus/events.o \
	src/bus/pending.o \
	src/feed/adapter_binance.o \
	src/feed/adapter_bybit.o \
	src/feed/adapter_okx.o \
	src/feed/adapter_coinbase.o \
	src/feed/book_parse.o \
	src/book/book.o \
	src/book/sync.o \
	src/book/store.o \
	src/book/functions.o \
	src/book/walk.o \
	src/feed/ingest.o \
	src/feed/trades.o \
	src/feed/trade_writes.o \
	src/feed/candles.o \
	src/feed/quotes.o \
	src/feed/funding.o \
	src/feed/parse_thread.o \
	src/feed/json_arena.o \
	src/feed/exchanges.o \
	src/feed/url_check.o \
	src/feed/curl_common.o \
	src/feed/ws_client.o \
	src/feed/status.o \
	src/feed/symbols.o \
	src/feed/connection.o \
	src/feed/subscriptions.o \
	src/feed/books.o \
	src/feed/worker.o \
	src/feed/history.o \
	src/feed/history_scan.o \
	src/feed/json_scan.o \
	src/feed/history_funding.o \
	src/feed/history_fetch.o \
	src/feed/backfill.o \
	src/feed/backfill_jobs.o \
	src/feed/backfill_worker.o \
	src/feed/backfill_repair.o \
	src/backtest/indicators.o \
	src/backtest/indicators_sql.o \
	src/backtest/engine.o \
	src/backtest/strategy.o \
	src/backtest/metrics.o \
	src/backtest/sweep.o \
	src/backtest/params.o \
	src/backtest/param_apply.o \
	src/backtest/bars.o \
	src/backtest/store.o \
	src/backtest/read.o \
	src/backtest/read_worker.o \
	src/backtest/stepfn.o \
	src/backtest/run.o \
	src/backtest/grid.o \
	src/trading/ledger_call.o \
	src/trading/risk.o \
	src/trading/risk_sql.o \
	src/trading/ledger_rows.o \
	src/trading/order_args.o \
	src/trading/order_price.o \
	src/trading/order_write.o \
	src/trading/order_events.o \
	src/trading/place_order.o \
	src/trading/paper_matcher.o \
	src/metrics/exposition.o \
	src/metrics/http.o \
	src/metrics/collect.o \
	src/metrics/worker.o \
	src/redis/url.o \
	src/redis/publish.o \
	src/redis/status.o \
	src/redis/worker.o \
	src/redis/tls.o \
	src/http/request.o \
	src/http/jwt.o \
	src/http/jwt_sql.o \
	src/http/settings.o \
	src/http/auth.o \
	src/http/limits.o \
	src/http/run.o \
	src/http/server.o \
	src/http/listen.o \
	src/http/metrics_page.o \
	src/http/stats.o \
	src/http/stream.o \
	src/http/stream_feed.o \
	src/http/stream_proto.o \
	src/http/balance.o \
	src/http/json_agg.o \
	src/http/worker.o \
	src/http/grammar.o \
	src/http/grammar_lex.o \
	src/http/grammar_select.o \
	src/http/schema.o \
	src/http/exec.o \
	src/http/embed.o \
	src/http/build.o \
	src/http/api.o \
	src/http/body.o \
	src/http/body_json.o \
	src/http/body_csv.o \
	src/http/write.o \
	src/http/rpc.o \
	src/http/openapi.o \
	src/http/serve_sql.o \
	src/http/ui.o \
	src/live/sign.o \
	src/live/jwt.o \
	src/live/vault.o \
	src/live/keys.o \
	src/live/keys_view.o \
	src/live/route.o \
	src/live/route_parse.o \
	src/live/skew.o \
	src/live/router_state.o \
	src/live/router.o \
	src/live/router_wait.o \
	src/live/router_book.o \
	src/live/router_keys.o \
	src/live/router_clock.o \
	src/live/reply_body.o \
	src/live/reconcile.o \
	src/live/reconcile_fetch.o src/live/reconcile_trades.o src/live/reconcile_history.o \
	src/live/router_stream.o \
	src/live/userstream.o \
	src/live/userstream_parse.o
SHLIB_LINK = -lcurl -ljansson -lwebsockets -lev -lpthread -lhiredis -lssl -lcrypto -lz

# The install script is every sql/NN_*.sql concatenated in name order.
SQL_PARTS = $(sort $(wildcard sql/[0-9][0-9]_*.sql))
DATA_built = sql/$(EXTENSION)--$(EXTVERSION).sql
# released versions' install scripts (kept as released) and the updates between them
DATA = $(wildcard sql/updates/$(EXTENSION)--*--*.sql) $(wildcard sql/releases/$(EXTENSION)--*.sql)

ALL_REGRESS = $(patsubst test/sql/%.sql,%,$(sort $(wildcard test/sql/*.sql)))
REGRESS = $(if $(ZVT_REGRESS),$(filter $(ZVT_REGRESS),$(ALL_REGRESS)),$(ALL_REGRESS))
REGRESS_OPTS = --inputdir=test --use-existing

# isolation specs (PostgreSQL's isolationtester) for races: test/specs/*.spec,
# their expected output in expected/ beside pg_regress's
ALL_ISOLATION = $(patsubst test/specs/%.spec,%,$(sort $(wildcard test/specs/*.spec)))
ISOLATION = $(if $(ZVT_REGRESS),$(filter $(ZVT_REGRESS),$(ALL_ISOLATION)),$(ALL_ISOLATION))
ISOLATION_OPTS = --inputdir=test --use-existing
# pg_isolation_regress writes to output_iso/ and looks for expected/ there
REGRESS_PREP = output_iso/expected

EXTRA_CLEAN = results regression.diffs regression.out test/unit/*.bin

PG_CONFIG ?= pg_config
PGXS := $(shell $(PG_CONFIG) --pgxs)
INCLUDEDIR_SERVER := $(shell $(PG_CONFIG) --includedir-server)

# PostgreSQL's headers as system headers so -Wextra judges only our code.
PG_CPPFLAGS = -isystem $(INCLUDEDIR_SERVER) -I$(srcdir)/src
PG_CFLAGS = -Wall -Wextra -Werror -Wno-unused-parameter \
	-Wno-missing-field-initializers -Wno-sign-compare
# export only what PostgreSQL calls (src/base/export.h, test/integration/exports.sh)
PG_CFLAGS += -fvisibility=hidden
PG_CPPFLAGS += '-DPGDLLEXPORT=__attribute__((visibility("default")))'

include $(PGXS)

# `make` builds everything (the output_iso/expected rule above is not the goal)
.DEFAULT_GOAL := all

# `make SANITIZE=undefined` (address, address,undefined) builds zvt.so
# with those sanitizers (a report aborts the process); `make
# check-sanitize [SANITIZE=...]` runs the regress, pgTAP and integration
# suites on it (scripts/test with ZVT_SANITIZE; with address on a
# PostgreSQL built with ASan, test/sanitize/build-postgres:
# docs/testing.md).  .build-flags holds the last SANITIZE and PG_CONFIG
# so that changing either rebuilds every object.
SANITIZE ?=
comma := ,
ifneq ($(SANITIZE),)
# (the instrumentation makes gcc's -Wmaybe-uninitialized guess wrong)
$(OBJS): override CFLAGS += -fsanitize=$(SANITIZE) -fno-sanitize-recover=all -fno-omit-frame-pointer \
	-Wno-maybe-uninitialized
SHLIB_LINK += -fsanitize=$(SANITIZE)
endif
# (not for check-sanitize itself: scripts/test may pick another PG_CONFIG)
ifeq ($(filter check-sanitize,$(MAKECMDGOALS)),)
$(shell echo '$(SANITIZE) $(PG_CONFIG)' | cmp -s - .build-flags || echo '$(SANITIZE) $(PG_CONFIG)' >.build-flags)
endif
$(OBJS): .build-flags
EXTRA_CLEAN += .build-flags

.PHONY: check-sanitize
check-sanitize:
	ZVT_SANITIZE=$(or $(SANITIZE),undefined) ZVT_LAYERS="$(or $(ZVT_LAYERS),regress pgtap integration)" scripts/test

# PGXS tracks no header dependencies: rebuild every object when any of
# zvt's headers or this Makefile changes (the build is quick).
ZVT_HEADERS = $(wildcard src/*.h src/*/*.h)
$(OBJS) $(OBJS:.o=.bc): $(ZVT_HEADERS) Makefile


# pg_regress runs in the database the harness made (and the workers serve),
# with --use-existing so it never drops a database a worker is connected to.
override CONTRIB_TESTDB = $(or $(ZVT_TEST_DB),zvt_test)
override ISOLATION_TESTDB = $(CONTRIB_TESTDB)

output_iso/expected:
	mkdir -p output_iso && ln -sfn ../expected $@

sql/$(EXTENSION)--$(EXTVERSION).sql: $(SQL_PARTS)
	cat $^ > $@

# ------------------------------------------------------------------
# Plain-C unit tests of the pure core, under ASan and UBSan.
# ------------------------------------------------------------------
UNIT_CC ?= gcc
UNIT_CFLAGS = -std=c11 -g -O1 -Wall -Wextra -Werror -Isrc \
	-fsanitize=address,undefined -fno-sanitize-recover=all \
	-fno-omit-frame-pointer
UNIT_TESTS = $(patsubst test/unit/%.c,test/unit/%.bin,$(filter-out test/unit/unit_test.c,$(wildcard test/unit/test_*.c)))
# the exchange samples the tests read (copied from the exchanges, kept here)
FIXTURES ?= $(abspath $(srcdir)/test/fixtures/exchanges)
FEED_PARSER_SRC = src/feed/feed_normalize.c src/feed/adapter_binance.c src/feed/adapter_bybit.c \
	src/feed/adapter_okx.c src/feed/adapter_coinbase.c src/core/zvt_time.c \
	src/feed/book_parse.c src/book/book.c src/feed/json_arena.c

# Each test_X.c is linked with X_SRC and X_LIBS; one rule builds them all
# (a test rebuilds when its sources or any header of the pure core change).
time_SRC = src/core/zvt_time.c
feed_parsers_SRC = $(FEED_PARSER_SRC)
feed_parsers_LIBS = -ljansson -lm
feed_funding_SRC = $(FEED_PARSER_SRC)
feed_funding_LIBS = -ljansson -lm
parse_thread_SRC = src/feed/parse_thread.c $(FEED_PARSER_SRC)
parse_thread_LIBS = -ljansson -lm -lpthread
market_SRC = test/exsim/market.c src/core/zvt_time.c
exsim_history_SRC = test/exsim/market.c test/exsim/history.c src/core/zvt_time.c
HISTORY_SRC = src/feed/history.c src/feed/history_funding.c src/feed/history_scan.c src/feed/json_scan.c
history_SRC = $(HISTORY_SRC) $(FEED_PARSER_SRC)
history_LIBS = -ljansson -lm
history_scan_SRC = $(history_SRC)
history_scan_LIBS = -ljansson -lm
url_check_SRC = src/feed/url_check.c
curl_common_SRC = src/feed/curl_common.c src/feed/url_check.c
curl_common_LIBS = -lcurl
url_check_LIBS = -lcurl
ws_client_SRC = src/feed/ws_client.c src/feed/url_check.c
ws_client_LIBS = -lwebsockets -lcurl -lcrypto
history_fetch_SRC = src/feed/history_fetch.c src/feed/curl_common.c $(HISTORY_SRC) src/feed/url_check.c $(FEED_PARSER_SRC)
history_fetch_LIBS = -ljansson -lm -lcurl -lpthread
instruments_SRC = src/feed/instruments.c src/feed/exchanges.c $(FEED_PARSER_SRC)
instruments_LIBS = -ljansson -lm
indicators_SRC = src/backtest/indicators.c
indicators_LIBS = -lm
risk_SRC = src/trading/risk.c
backtest_metrics_SRC = src/backtest/metrics.c
backtest_metrics_LIBS = -lm
COMPRESS_SRC = src/compress/buf.c src/compress/delta.c src/compress/gorilla.c \
	src/compress/decimal.c src/compress/dict.c src/compress/lz.c src/compress/batch.c
compress_SRC = $(COMPRESS_SRC)
compress_LIBS = -lz -lm
# inside zvt.so the codecs allocate with palloc (src/compress/bits.h)
CODEC_OBJS = $(patsubst %.c,%.o,$(COMPRESS_SRC))
$(CODEC_OBJS) $(CODEC_OBJS:.o=.bc): override CPPFLAGS += -DCZ_PALLOC
http_request_SRC = src/http/request.c
http_request_LIBS = -ljansson
http_jwt_SRC = src/http/jwt.c
http_jwt_LIBS = -ljansson -lcrypto
http_settings_SRC = src/http/settings.c src/http/request.c
http_settings_LIBS = -ljansson
http_stream_SRC = src/http/stream_proto.c src/bus/ring.c
http_stream_LIBS = -ljansson -lm
http_body_SRC = src/http/body.c src/http/body_json.c src/http/body_csv.c
http_grammar_SRC = src/http/grammar.c src/http/grammar_lex.c src/http/grammar_select.c
backtest_params_SRC = src/backtest/param_apply.c
backtest_params_LIBS = -lm
backtest_engine_SRC = src/backtest/engine.c
backtest_engine_LIBS = -lm
backtest_strategy_SRC = src/backtest/strategy.c src/backtest/indicators.c
backtest_strategy_LIBS = -lm
backtest_sweep_SRC = src/backtest/sweep.c src/backtest/engine.c src/backtest/strategy.c \
	src/backtest/metrics.c src/backtest/indicators.c
backtest_sweep_LIBS = -lm
candle_agg_SRC = src/core/candle_agg.c src/core/zvt_time.c
metrics_SRC = src/metrics/exposition.c src/metrics/http.c
book_SRC = src/book/book.c src/book/sync.c
metrics_LIBS = -lm
bus_ring_SRC = src/bus/ring.c
bus_ring_LIBS = -lpthread
redis_url_SRC = src/redis/url.c
live_sign_SRC = src/live/sign.c src/live/jwt.c src/live/skew.c src/core/zvt_time.c
live_sign_LIBS = -lcrypto -ljansson
live_route_SRC = src/live/route.c src/live/route_parse.c src/live/sign.c src/live/jwt.c src/core/zvt_time.c
live_route_LIBS = -lcrypto -ljansson
live_recon_SRC = src/live/reconcile_fetch.c src/live/reconcile_trades.c src/live/route.c src/live/route_parse.c src/live/sign.c src/live/jwt.c src/core/zvt_time.c
live_recon_LIBS = -lcrypto -ljansson
live_vault_SRC = src/live/vault.c
live_userstream_SRC = src/live/userstream_parse.c src/live/route.c src/live/sign.c src/live/jwt.c src/core/zvt_time.c
live_userstream_LIBS = -lcrypto -ljansson
live_vault_LIBS = -lcrypto

.SECONDEXPANSION:
test/unit/test_%.bin: test/unit/test_%.c $$($$*_SRC) $(ZVT_HEADERS) test/exsim/market.h test/exsim/history.h test/unit/unit_test.h
	$(UNIT_CC) $(UNIT_CFLAGS) -o $@ $< $($*_SRC) $($*_LIBS)

# the parser thread once more under ThreadSanitizer (ASan and TSan do not mix)
test/unit/tsan_parse_thread.bin: test/unit/test_parse_thread.c $(parse_thread_SRC) $(ZVT_HEADERS) test/unit/unit_test.h
	$(UNIT_CC) -std=c11 -g -O1 -Wall -Wextra -Werror -Isrc -fsanitize=thread -o $@ $< $(parse_thread_SRC) $(parse_thread_LIBS)

# each test program is a target of its own (unit-run-NAME), run once it is
# built: `make -j2 -Otarget unit` (what scripts/test runs) builds and runs
# two at a time, each one's output in one piece; -k runs all of them even
# when one fails
UNIT_RUNS = $(patsubst test/unit/%.bin,unit-run-%,$(UNIT_TESTS) test/unit/tsan_parse_thread.bin)
.PHONY: unit $(UNIT_RUNS)
unit: $(UNIT_RUNS)
$(UNIT_RUNS): unit-run-%: test/unit/%.bin
	@echo "== test/unit/$*.bin"; ./test/unit/$*.bin $(FIXTURES)

# ------------------------------------------------------------------
# zvt-exsim: the exchange simulator (test/exsim).
# ------------------------------------------------------------------
EXSIM_SRC = test/exsim/main.c test/exsim/server.c test/exsim/conn.c test/exsim/http.c \
	test/exsim/admin.c test/exsim/format.c test/exsim/recent.c test/exsim/record.c test/exsim/market.c \
	test/exsim/ex_binance.c test/exsim/ex_binance_rest.c test/exsim/ex_bybit.c test/exsim/ex_okx.c \
	test/exsim/ex_coinbase.c test/exsim/ex_funding.c test/exsim/private.c test/exsim/priv_binance.c \
	test/exsim/priv_bybit.c test/exsim/priv_okx.c test/exsim/priv_coinbase.c test/exsim/priv_reconcile.c \
	test/exsim/priv_stream.c test/exsim/priv_events.c test/exsim/priv_trades.c \
	src/live/sign.c src/live/jwt.c src/core/zvt_time.c \
	test/exsim/history.c test/exsim/rest_history.c
EXSIM_CFLAGS = -std=gnu11 -O2 -g -Wall -Wextra -Werror -Wno-unused-parameter \
	-Wno-missing-field-initializers -Isrc $(shell pkg-config --cflags libwebsockets jansson)
EXSIM_LIBS = $(shell pkg-config --libs libwebsockets jansson) -lz -lcrypto

zvt-exsim: $(EXSIM_SRC) test/exsim/exsim.h test/exsim/server.h test/exsim/market.h test/exsim/history.h test/exsim/private.h src/live/sign.h
	$(UNIT_CC) $(EXSIM_CFLAGS) -o $@ $(EXSIM_SRC) $(EXSIM_LIBS)

all: zvt-exsim
EXTRA_CLEAN += zvt-exsim

zvt-exsim-client: test/exsim/client.c
	$(UNIT_CC) $(EXSIM_CFLAGS) -o $@ test/exsim/client.c $(EXSIM_LIBS)

all: zvt-exsim-client
EXTRA_CLEAN += zvt-exsim-client

# one signed private-API request, signed by src/live (exsim_private.sh)
zvt-exsim-private: test/exsim/private_client.c test/exsim/curl_call.c test/exsim/curl_call.h src/live/sign.c src/live/jwt.c src/core/zvt_time.c src/live/sign.h
	$(UNIT_CC) $(EXSIM_CFLAGS) -o $@ test/exsim/private_client.c test/exsim/curl_call.c src/live/sign.c src/live/jwt.c \
		src/core/zvt_time.c -lcurl -lcrypto

all: zvt-exsim-private
EXTRA_CLEAN += zvt-exsim-private

# one order operation built and read by the router's core (live_route.sh)
LIVE_ROUTE_SRC = src/live/route.c src/live/route_parse.c src/live/sign.c src/live/jwt.c src/core/zvt_time.c
zvt-live-route: test/exsim/route_client.c test/exsim/curl_call.c test/exsim/curl_call.h $(LIVE_ROUTE_SRC) src/live/route.h src/live/sign.h
	$(UNIT_CC) $(EXSIM_CFLAGS) -o $@ test/exsim/route_client.c test/exsim/curl_call.c $(LIVE_ROUTE_SRC) -lcurl -lcrypto -ljansson

all: zvt-live-route
EXTRA_CLEAN += zvt-live-route

# ------------------------------------------------------------------
# libFuzzer harnesses (clang-14 + libclang-rt-14-dev); `make fuzz` runs
# each for FUZZ_SECONDS from the seed corpus in test/fuzz/corpus.
# ------------------------------------------------------------------
FUZZ_CC ?= clang-14
FUZZ_SECONDS ?= 20
FUZZ_ADAPTERS = binance bybit okx coinbase
FUZZ_BINS = $(patsubst %,test/fuzz/fuzz_%.bin,$(FUZZ_ADAPTERS))
# other harnesses, each with its own seed corpus test/fuzz/corpus_<name>
FUZZ_OTHERS = compress book
FUZZ_BINS += $(patsubst %,test/fuzz/fuzz_%.bin,$(FUZZ_OTHERS))

test/fuzz/fuzz_compress.bin: test/fuzz/fuzz_compress.c $(COMPRESS_SRC) src/compress/codec.h src/compress/bits.h
	$(FUZZ_CC) -g -O1 -Isrc -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
		-o $@ test/fuzz/fuzz_compress.c $(COMPRESS_SRC) -lz -lm

# one binary per adapter: the same harness with FUZZ_ADAPTER fixed
test/fuzz/fuzz_%.bin: test/fuzz/fuzz_feed_parsers.c $(FEED_PARSER_SRC) src/feed/feed_event.h
	$(FUZZ_CC) -g -O1 -Isrc -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
		-DFUZZ_ADAPTER=$(call fuzz_index,$*) -o $@ test/fuzz/fuzz_feed_parsers.c $(FEED_PARSER_SRC) -ljansson -lm
fuzz_index = $(if $(filter binance,$1),0,$(if $(filter bybit,$1),1,$(if $(filter okx,$1),2,3)))

# the order book engine and sequence rules, fuzzed the same way
test/fuzz/fuzz_book.bin: test/fuzz/fuzz_book.c src/book/book.c src/book/sync.c src/book/book.h
	$(FUZZ_CC) -g -O1 -Isrc -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
		-o $@ test/fuzz/fuzz_book.c src/book/book.c src/book/sync.c

EXTRA_CLEAN += test/fuzz/*.bin test/fuzz/work

# PostgREST's query-string grammar (src/http/grammar.c), seeded from
# test/fuzz/corpus_http; runs as part of `make fuzz` (alone: `make fuzz-http`)
test/fuzz/fuzz_http_grammar.bin: test/fuzz/fuzz_http_grammar.c $(http_grammar_SRC) src/http/grammar.h src/http/grammar_int.h
	$(FUZZ_CC) -g -O1 -Isrc -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
		-o $@ test/fuzz/fuzz_http_grammar.c $(http_grammar_SRC)

.PHONY: fuzz-http
fuzz-http: fuzz-run-http

# the HTTP front's request headers and settings, its request bodies, its JWTs, the metrics
# endpoint's HTTP parser, live trading's signing inputs, the exchanges'
# JSON replies and the backtest params/grid keys: each with its seed corpus test/fuzz/corpus_<name>, run by
# `make fuzz` (below)
FUZZ_MORE = http_request http_body http_jwt metrics_http live_sign live_reply backtest_params userstream history
FUZZ_OTHERS += $(FUZZ_MORE)
FUZZ_FLAGS = -g -O1 -Isrc -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all
fuzz_http_request_SRC = src/http/request.c src/http/settings.c
fuzz_http_request_LIBS = -ljansson
fuzz_http_body_SRC = $(http_body_SRC)
fuzz_http_body_LIBS = -ljansson
fuzz_http_jwt_SRC = src/http/jwt.c
fuzz_http_jwt_LIBS = -ljansson -lcrypto
fuzz_metrics_http_SRC = src/metrics/http.c
fuzz_live_sign_SRC = src/live/sign.c src/live/jwt.c src/core/zvt_time.c
fuzz_live_sign_LIBS = -lcrypto -ljansson
fuzz_live_reply_SRC = $(LIVE_ROUTE_SRC) src/live/skew.c
fuzz_live_reply_LIBS = -lcrypto -ljansson
fuzz_history_SRC = $(HISTORY_SRC) $(FEED_PARSER_SRC)
fuzz_history_LIBS = -ljansson -lm
fuzz_userstream_SRC = src/live/userstream_parse.c src/live/sign.c src/live/jwt.c src/core/zvt_time.c
fuzz_userstream_LIBS = -lcrypto -ljansson
fuzz_backtest_params_SRC = src/backtest/param_apply.c src/backtest/strategy.c src/backtest/engine.c \
	src/backtest/indicators.c
fuzz_backtest_params_LIBS = -lm
$(patsubst %,test/fuzz/fuzz_%.bin,$(FUZZ_MORE)): test/fuzz/fuzz_%.bin: test/fuzz/fuzz_%.c $$(fuzz_$$*_SRC) $(ZVT_HEADERS)
	$(FUZZ_CC) $(FUZZ_FLAGS) -o $@ $< $(fuzz_$*_SRC) $(fuzz_$*_LIBS)
# the /stream WebSocket's client messages (src/http/stream_proto.c)
test/fuzz/fuzz_http_stream.bin: test/fuzz/fuzz_http_stream.c $(http_stream_SRC) src/http/stream_proto.h
	$(FUZZ_CC) -g -O1 -Isrc -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
		-o $@ test/fuzz/fuzz_http_stream.c $(http_stream_SRC) -ljansson -lm

.PHONY: fuzz-http-stream
fuzz-http-stream: fuzz-run-http_stream

# `make fuzz`: every harness for FUZZ_SECONDS/4 + 1 seconds from its seed
# corpus (test/fuzz/corpus_<name>, else test/fuzz/corpus), what it finds
# kept in test/fuzz/work/<name>.  One phony target a harness,
# fuzz-run-<name>, so that `make -j2 -k fuzz` runs two at a time, each on
# a core of its own, and all of them even when one fails (scripts/test
# does; plain `make fuzz` runs them one after another).
FUZZ_RUNS = $(FUZZ_ADAPTERS) $(FUZZ_OTHERS) http http_stream
fuzz_bin = test/fuzz/fuzz_$(if $(filter http,$1),http_grammar,$1).bin
fuzz_corpus = $(if $(wildcard test/fuzz/corpus_$1),test/fuzz/corpus_$1,test/fuzz/corpus)
fuzz_maxlen = $(if $(filter http http_stream,$1),2048,4096)
.PHONY: fuzz $(patsubst %,fuzz-run-%,$(FUZZ_RUNS))
fuzz: $(patsubst %,fuzz-run-%,$(FUZZ_RUNS))
$(patsubst %,fuzz-run-%,$(FUZZ_RUNS)): fuzz-run-%: $$(call fuzz_bin,$$*)
	@mkdir -p test/fuzz/work/$*; \
	./$(call fuzz_bin,$*) -max_total_time=$$(( $(FUZZ_SECONDS) / 4 + 1 )) -max_len=$(call fuzz_maxlen,$*) \
		-print_final_stats=1 -artifact_prefix=test/fuzz/work/$*- \
		test/fuzz/work/$* $(call fuzz_corpus,$*) >test/fuzz/work/$*.log 2>&1; r=$$?; \
	echo "$(basename $(notdir $(call fuzz_bin,$*))): $$(grep -m1 number_of_executed_units test/fuzz/work/$*.log | sed 's/.*: *//') runs, exit $$r"; \
	[ $$r = 0 ] || { grep -E 'ERROR|SUMMARY|runtime error' test/fuzz/work/$*.log | head -5; exit 1; }

zvt-feed-parse: test/exsim/feed_parse.c $(FEED_PARSER_SRC) src/feed/feed_event.h
	$(UNIT_CC) -std=c11 -O2 -g -Wall -Wextra -Werror -Isrc -o $@ test/exsim/feed_parse.c $(FEED_PARSER_SRC) -ljansson -lm

all: zvt-feed-parse
EXTRA_CLEAN += zvt-feed-parse


# ------------------------------------------------------------------
# PGXN: `make dist` archives the committed tree at HEAD (git archive:
# no build products, no uncommitted edits) as zvt-<version>.zip, every
# path under zvt-<version>/, the layout PGXN expects; META.json
# describes it (test/integration/pgxn_dist.sh checks both).
# ------------------------------------------------------------------
DIST_NAME = $(EXTENSION)-$(EXTVERSION)
DIST_ZIP ?= $(DIST_NAME).zip

.PHONY: dist
dist:
	git -C $(srcdir) archive --format=zip --prefix=$(DIST_NAME)/ -o $(abspath $(DIST_ZIP)) HEAD
EXTRA_CLEAN += $(DIST_NAME).zip

# ------------------------------------------------------------------
# The dashboard (ui/, docs/dashboard.md): its built files in ui/dist are
# committed, so a fresh machine installs them as they are.  Where
# ui/node_modules exists (`make ui` ran `npm ci`), `make` rebuilds them
# whenever a source under ui/src changes.
# ------------------------------------------------------------------
UI_SRC = $(wildcard ui/src/*) ui/build.mjs ui/package-lock.json
UI_DIR = $(DESTDIR)$(datadir)/extension/zvt/ui

all: ui/dist/index.html
ui/dist/index.html: $(UI_SRC)
	@if [ -d ui/node_modules ]; then cd ui && node build.mjs; else touch $@; fi

.PHONY: ui install-ui uninstall-ui
ui:
	cd ui && npm ci --no-audit --no-fund && node build.mjs

install: install-ui
install-ui:
	$(MKDIR_P) '$(UI_DIR)'
	rm -f '$(UI_DIR)'/*
	$(INSTALL_DATA) $(wildcard ui/dist/*) '$(UI_DIR)/'

uninstall: uninstall-ui
uninstall-ui:
	rm -rf '$(UI_DIR)'
