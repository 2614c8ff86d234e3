/*
 * test/exsim/main.c
 *	  zvt-exsim: command line of the exchange simulator.
 *
 * Serves Binance, Bybit, OKX and Coinbase on loopback, one port each
 * (and, when asked for, Binance USD-M futures as "binance-futures"),
 * from a deterministic market (see market.h), until --duration or
 * --count is reached or it gets SIGINT/SIGTERM.  Prints one line per
 * exchange with its base URLs, for scripts to read.
 */
#include "exsim.h"
#include "private.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static void
usage(void)
{
	fprintf(stderr,
			"usage: zvt-exsim [options]\n"
			"  --symbols LIST        normalized symbols, e.g. BTC-USDT,ETH-USDT,BTC-USDT-PERP (SYM=PRICE sets a price)\n"
			"  --exchanges LIST      binance,bybit,okx,coinbase (default) and binance-futures\n"
			"  --port N              first port: binance N, bybit N+1, okx N+2, coinbase N+3,\n"
			"                        binance-futures N+4 (0 = any)\n"
			"  --funding-interval S  sim seconds between funding times of perpetuals (default 28800)\n"
			"  --mark-ms N           real ms between two mark price updates (default 1000)\n"
			"  --admin-port N        admin HTTP port (fault injection, stats); -1 = none\n"
			"  --seed N              market seed (default 1)\n"
			"  --rate R              trades per second per symbol; 0 = as fast as clients read (default 10)\n"
			"  --speed X             simulated time runs X times faster than real time (default 1)\n"
			"  --start MS            simulated start time, ms since 1970 (default now)\n"
			"  --duration S          stop after S seconds\n"
			"  --count N             stop after N trades per symbol (once queues drain)\n"
			"  --linger S            after --count, keep serving S seconds (REST for repairs)\n"
			"  --record FILE         write every trade, closed kline and quote as JSON lines\n"
			"  --history SPAN        a past before the start for the REST history (90d, 36h, 30m, or seconds)\n"
			"  --history-rate R      trades per second per symbol in the past (default 0.2)\n"
			"  --record-history      write the past's trades and klines to the record too\n"
			"  --weight-limit N      Binance request weight per minute before 429 (default 6000; 0 = none)\n"
			"  --recent N            live trades per symbol REST still serves (default 50000)\n"
			"  --queue-max MB        unsent bytes a connection may hold before it is cut (default 256)\n"
			"  --accounts FILE       private API accounts, one JSON object a line (test/exsim/README.md)\n"
			"  --tls-cert F --tls-key F   serve wss:// and https://\n"
			"  --ping S --pong-timeout S --idle S   keepalive timings (20, 60, 30)\n"
			"  --drop-after N --drop-every N --malformed P --duplicate P --skip-seq N\n"
			"  --checksum-zero       faults, as the admin endpoint's /fault sets them\n"
			"  --book-ms N           real ms between two book messages (default 100)\n"
			"  --verbose\n");
}

/* "90d", "36h", "30m", "45s" or plain seconds -> ms; -1 when not a span. */
static int64_t
span_ms(const char *s)
{
	char	   *end;
	double		v = strtod(s, &end);
	double		unit = 1000;

	if (end == s || v < 0)
		return -1;
	if (*end == 'd')
		unit = 86400000.0;
	else if (*end == 'h')
		unit = 3600000.0;
	else if (*end == 'm')
		unit = 60000.0;
	else if (*end != 's' && *end != '\0')
		return -1;
	return (int64_t) (v * unit);
}

/* The -PERP entries of a symbol list (a static buffer; "" when none). */
static const char *
perp_symbols(const char *symbols)
{
	static char out[2048];
	char	   *copy = strdup(symbols),
			   *save = NULL;

	out[0] = '\0';
	for (char *tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save))
	{
		char	   *eq = strchr(tok, '=');
		size_t		n = eq ? (size_t) (eq - tok) : strlen(tok);

		if (n > 5 && strncmp(tok + n - 5, "-PERP", 5) == 0 && strlen(out) + strlen(tok) + 2 < sizeof(out))
		{
			if (out[0])
				strcat(out, ",");
			strcat(out, tok);
		}
	}
	free(copy);
	return out;
}

static void
past_trade(void *arg, MkSymbol *s, const MkTrade *t)
{
	record_trade(arg, s, t);
}

static void
past_kline(void *arg, MkSymbol *s, int iv, const MkKline *k)
{
	record_kline(arg, s, iv, k);
}

/*
 * Generate the past of every symbol of ex (history.h): the live market
 * starts where it ends.  The record gets it only with --record-history.
 */
static bool
build_past(Exchange *ex)
{
	MkSink		sink = {ex, past_trade, past_kline};

	for (int si = 0; si < ex->market.nsymbols; si++)
	{
		MkSymbol   *s = &ex->market.sym[si];

		ex->past[si] = calloc(1, sizeof(MkHistory));
		if (!ex->past[si] ||
			!hist_build(ex->past[si], s, sim.sim_start_ms - sim.history_ms, sim.sim_start_ms,
						sim.history_rate, sim.record_history ? &sink : NULL))
			return false;
		/* --count counts live trades */
		s->trades = 0;
	}
	return true;
}

int
main(int argc, char **argv)
{
	const char *symbols = "BTC-USDT,ETH-USDT,SOL-USDT";
	const char *exchanges = "binance,bybit,okx,coinbase";
	const char *cert = NULL,
			   *key = NULL,
			   *accounts = NULL;
	int			port = 0,
				admin_port = -1;
	Faults		faults = {0};
	static const struct option opts[] = {
		{"symbols", required_argument, 0, 's'},
		{"exchanges", required_argument, 0, 'x'},
		{"port", required_argument, 0, 'p'},
		{"admin-port", required_argument, 0, 'a'},
		{"seed", required_argument, 0, 'S'},
		{"rate", required_argument, 0, 'r'},
		{"speed", required_argument, 0, 'v'},
		{"start", required_argument, 0, 'T'},
		{"duration", required_argument, 0, 'd'},
		{"count", required_argument, 0, 'n'},
		{"record", required_argument, 0, 'R'},
		{"accounts", required_argument, 0, 'A'},
		{"tls-cert", required_argument, 0, 'C'},
		{"tls-key", required_argument, 0, 'K'},
		{"ping", required_argument, 0, 1},
		{"pong-timeout", required_argument, 0, 2},
		{"idle", required_argument, 0, 3},
		{"drop-after", required_argument, 0, 4},
		{"drop-every", required_argument, 0, 5},
		{"malformed", required_argument, 0, 6},
		{"duplicate", required_argument, 0, 7},
		{"skip-seq", required_argument, 0, 8},
		{"checksum-zero", no_argument, 0, 9},
		{"book-ms", required_argument, 0, 10},
		{"history", required_argument, 0, 11},
		{"history-rate", required_argument, 0, 12},
		{"record-history", no_argument, 0, 13},
		{"weight-limit", required_argument, 0, 14},
		{"linger", required_argument, 0, 15},
		{"funding-interval", required_argument, 0, 16},
		{"mark-ms", required_argument, 0, 17},
		{"recent", required_argument, 0, 18},
		{"queue-max", required_argument, 0, 19},
		{"verbose", no_argument, 0, 'V'},
		{"help", no_argument, 0, 'h'},
		{0, 0, 0, 0}
	};
	int			o;
	char	   *copy,
			   *save = NULL;
	const char *err = NULL;

	sim.seed = 1;
	sim.rate = 10;
	sim.speed = 1;
	sim.ping_s = 20;
	sim.pong_timeout_s = 60;
	sim.idle_s = 30;
	sim.book_ms = 100;
	sim.history_rate = 0.2;
	sim.weight_limit = 6000;
	sim.recent_max = 50000;
	sim.queue_max = (size_t) 256 << 20;
	sim.funding_interval_ms = INT64_C(28800000);
	sim.mark_ms = 1000;
	sim.real_start_ms = now_real_ms();
	sim.sim_start_ms = sim.real_start_ms;
	while ((o = getopt_long(argc, argv, "A:h", opts, NULL)) != -1)
	{
		switch (o)
		{
			case 's': symbols = optarg; break;
			case 'x': exchanges = optarg; break;
			case 'p': port = atoi(optarg); break;
			case 'a': admin_port = atoi(optarg); break;
			case 'S': sim.seed = strtoull(optarg, NULL, 10); break;
			case 'r': sim.rate = atof(optarg); break;
			case 'v': sim.speed = atof(optarg); break;
			case 'T': sim.sim_start_ms = atoll(optarg); break;
			case 'd': sim.duration = atof(optarg); break;
			case 'n': sim.count = atol(optarg); break;
			case 'R':
				sim.record = fopen(optarg, "w");
				if (!sim.record)
				{
					perror(optarg);
					return 2;
				}
				break;
			case 'A': accounts = optarg; break;
			case 'C': cert = optarg; break;
			case 'K': key = optarg; break;
			case 1: sim.ping_s = atoi(optarg); break;
			case 2: sim.pong_timeout_s = atoi(optarg); break;
			case 3: sim.idle_s = atoi(optarg); break;
			case 4: faults.drop_after = atol(optarg); break;
			case 5: faults.drop_every = atol(optarg); break;
			case 6: faults.malformed_p = atof(optarg); break;
			case 7: faults.duplicate_p = atof(optarg); break;
			case 8: faults.skip_seq = atoi(optarg); break;
			case 9: faults.checksum_zero = true; break;
			case 10: sim.book_ms = atoi(optarg); break;
			case 11: sim.history_ms = span_ms(optarg); break;
			case 12: sim.history_rate = atof(optarg); break;
			case 13: sim.record_history = true; break;
			case 14: sim.weight_limit = atoi(optarg); break;
			case 15: sim.linger = atof(optarg); break;
			case 16: sim.funding_interval_ms = (int64_t) (atof(optarg) * 1000); break;
			case 17: sim.mark_ms = atoi(optarg); break;
			case 18: sim.recent_max = atoi(optarg); break;
			case 19: sim.queue_max = (size_t) (atof(optarg) * 1048576.0); break;
			case 'V': sim.verbose = true; break;
			default: usage(); return o == 'h' ? 0 : 2;
		}
	}
	if (sim.speed <= 0 || sim.rate < 0 || sim.book_ms < 1 || (cert && !key) || (key && !cert) ||
		sim.history_ms < 0 || sim.history_rate <= 0 || sim.funding_interval_ms < 1000 ||
		sim.mark_ms < 1 || sim.recent_max < 1 || sim.queue_max < 65536)
	{
		usage();
		return 2;
	}

	copy = strdup(exchanges);
	for (char *tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save))
	{
		const ExAdapter *ad = NULL;
		Exchange   *ex;
		bool		futures = strcmp(tok, "binance-futures") == 0;

		if (strcmp(tok, "binance") == 0 || futures)
			ad = &binance_adapter;
		else if (strcmp(tok, "bybit") == 0)
			ad = &bybit_adapter;
		else if (strcmp(tok, "okx") == 0)
			ad = &okx_adapter;
		else if (strcmp(tok, "coinbase") == 0)
			ad = &coinbase_adapter;
		if (!ad || sim.nex == 5)
		{
			fprintf(stderr, "zvt-exsim: unknown exchange \"%s\"\n", tok);
			return 2;
		}
		ex = &sim.ex[sim.nex];
		ex->ad = ad;
		ex->futures = futures;
		ex->label = futures ? "binance-futures" : ad->name;
		/* the same symbols everywhere, each exchange its own market; futures: the perpetuals */
		if (!mk_init(&ex->market, futures ? perp_symbols(symbols) : symbols,
					 sim.seed * 31 + (uint64_t) sim.nex,
					 sim.sim_start_ms - sim.history_ms, &err))
		{
			fprintf(stderr, "zvt-exsim: %s\n", err);
			return 2;
		}
		if (sim.history_ms > 0 && !build_past(ex))
		{
			fprintf(stderr, "zvt-exsim: out of memory for the past\n");
			return 2;
		}
		ex->port = port ? port + (ad == &bybit_adapter) + 2 * (ad == &okx_adapter) +
			3 * (ad == &coinbase_adapter) + 4 * futures : 0;
		ex->faults = faults;
		ex->rng = sim.seed * 7919 + (uint64_t) sim.nex + 1;
		ex->priv = calloc(1, sizeof(PrivState));
		if (!ex->priv)
		{
			fprintf(stderr, "zvt-exsim: out of memory\n");
			return 2;
		}
		sim.nex++;
	}
	free(copy);
	if (accounts && priv_load_accounts(accounts, &err) < 0)
	{
		fprintf(stderr, "zvt-exsim: %s: %s\n", accounts, err);
		return 2;
	}
	return server_run(admin_port, cert, key);
}
