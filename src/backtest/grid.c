/*-------------------------------------------------------------------------
 *
 * src/backtest/grid.c
 *	  zvt.backtest_grid: one built-in strategy over the cartesian product
 *	  of a jsonb grid of parameter values, on all cores.
 *
 * Steps: check the arguments and the grid (keys the strategy's params or
 * the numeric common ones, values non-empty arrays of numbers, each value
 * checked as params would be); expand the product, skipping combinations
 * the strategy rejects (fast >= slow, ...) and counting them in a NOTICE;
 * load the bars once (bars.c); run every combination in pure C
 * (sweep.c); sort by sort_by; store each run as a backtest_runs
 * row with store = 'metrics' and return the rows in that order.
 *
 * Parallelism follows PostgreSQL's parallel index builds: the leader
 * enters parallel mode, puts the bars, the shared indicator series, the
 * combinations and a results array in a dynamic shared memory segment
 * (shm_toc), and launches workers running zvt_backtest_grid_worker().
 * Every process, the leader included, claims the next combination with
 * an atomic counter and writes its own slot of the results, so no lock is
 * needed: each slot has one writer, and the leader reads the slots only
 * after WaitForParallelWorkersToFinish().  Workers run pure C only (no
 * SPI, no catalog access, no writes).  Errors in a worker reach the
 * leader through the parallel machinery; a cancel (or statement_timeout)
 * interrupts the leader at its next CHECK_FOR_INTERRUPTS, and aborting
 * the transaction stops the workers; nothing has been written by then,
 * since the leader writes only after the parallel part ends.  With no
 * worker asked for (workers => 0, or a one-combination grid) there is no
 * parallel context and no segment: the inputs stay in the backend's
 * memory; with workers asked for but none free, the leader runs them all
 * from the segment.
 *
 * Progress: for grids of 100 combinations or more the leader raises a
 * NOTICE each time another tenth of them is done (the tenths workers
 * finish after the leader's last combination are reported once they are
 * all done, so there are always ten).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include "access/parallel.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "optimizer/cost.h"
#include "port/atomics.h"
#include "postmaster/bgworker_internals.h"
#include "storage/shm_toc.h"
#include "utils/builtins.h"
#include "utils/fmgrprotos.h"
#include "utils/jsonb.h"
#include "utils/memutils.h"
#include "utils/tuplestore.h"

#include "backtest/bars.h"
#include "backtest/params.h"
#include "backtest/store.h"
#include "backtest/sweep.h"
#include "base/export.h"

PG_FUNCTION_INFO_V1(zvt_backtest_grid);
extern PGDLLEXPORT void zvt_backtest_grid_worker(dsm_segment *seg, shm_toc *toc);

/* at most this many combinations in one call */
#define GRID_MAX_COMBOS 1000000
/* shared series above this many bytes are not worth the memory: step */
#define GRID_MAX_SERIES_BYTES ((Size) 512 * 1024 * 1024)

#define GRID_MAGIC			0x7a767467	/* "zvtg" */
#define GRID_KEY_SHARED		UINT64CONST(0x7a76740000000001)
#define GRID_KEY_BARS		UINT64CONST(0x7a76740000000002)
#define GRID_KEY_COMBOS		UINT64CONST(0x7a76740000000003)
#define GRID_KEY_PERIODS	UINT64CONST(0x7a76740000000004)
#define GRID_KEY_SERIES		UINT64CONST(0x7a76740000000005)
#define GRID_KEY_RESULTS	UINT64CONST(0x7a76740000000006)

/*
 * The head of the shared segment.  The sizes are written by the leader
 * before the workers start and only read after; next and done are the
 * only fields written concurrently, and only atomically.
 */
typedef struct GridShared
{
	uint32		magic;
	int64		nbars;
	int64		ncombos;
	int64		nseries;		/* 0: combinations step their strategy */
	int64		ring_len;		/* doubles of ring a combination may need */
	pg_atomic_uint64 next;		/* the next combination to claim */
	pg_atomic_uint64 done;		/* combinations finished */
} GridShared;

/* one grid key: where its values go and what they are */
typedef struct GridKey
{
	char	   *name;
	int			own;			/* index in the strategy's params, or -1 */
	int			nvalues;
	double	   *values;
	char	  **texts;			/* the values as written, for params */
} GridKey;

/* the common params a grid may sweep (allow_short is not a number) */
static const char *const grid_common[] = {
	"size_pct", "qty", "stop_loss_pct", "take_profit_pct", "trailing_stop_pct"
};

/* the arguments that must not be NULL, from timeframe (3) to params (8) */
static const char *const arg_names[] = {
	"timeframe", "start", "finish", "grid", "sort_by", "params"
};

/* the metric columns sort_by may name */
static const char *const sort_columns[] = {
	"final_equity", "total_return", "cagr", "volatility", "sharpe", "sortino", "calmar",
	"max_drawdown", "max_drawdown_pct", "trades", "win_rate", "profit_factor", "expectancy",
	"avg_win", "avg_loss", "best_trade", "worst_trade", "exposure_pct", "fees_paid",
	"market_change"
};

typedef struct SortCtx
{
	const BtSweepResult *results;
	int			column;			/* index in sort_columns */
	bool		descending;
} SortCtx;

static int	sort_column(const char *name);
static double metric_value(const BtMetrics *m, int column);
static int	cmp_results(const void *a, const void *b, void *arg);
static GridKey *read_grid(Jsonb *grid, const BtParamNames *pn, const BtStrategyParams *sp,
						  const BtConfig *cfg, int *nkeys, int64 *total);
static void set_value(const GridKey *k, double v, BtStrategyParams *sp, BtConfig *cfg);
static void report_progress(GridShared *sh, int *reported);
static void grid_loop(GridShared *sh, const BtSweep *sw, const BtSweepCombo *combos,
					  BtSweepResult *results, int *reported);
static void *grid_alloc(ParallelContext *pcxt, uint64 key, Size size);
static void run_combos(BtBar *bars, int64 nbars, BtSweepCombo *combos, int64 n,
					   BtSweepResult *results, int nworkers);

/* the index of a sort_by name, or 22023 listing them */
static int
sort_column(const char *name)
{
	StringInfoData all;

	for (int i = 0; i < (int) lengthof(sort_columns); i++)
		if (strcmp(name, sort_columns[i]) == 0)
			return i;
	initStringInfo(&all);
	for (int i = 0; i < (int) lengthof(sort_columns); i++)
		appendStringInfo(&all, "%s%s", i ? ", " : "", sort_columns[i]);
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("cannot sort by \"%s\"", name),
			 errhint("sort_by is one of the metric columns of zvt.backtest_runs: %s.", all.data)));
	return -1;					/* not reached */
}

/* a metric as stored (NaN and infinities become NULL) */
static double
metric_value(const BtMetrics *m, int column)
{
	switch (column)
	{
		case 0:
			return m->final_equity;
		case 1:
			return m->total_return;
		case 2:
			return m->cagr;
		case 3:
			return m->volatility;
		case 4:
			return m->sharpe;
		case 5:
			return m->sortino;
		case 6:
			return m->calmar;
		case 7:
			return m->max_drawdown;
		case 8:
			return m->max_drawdown_pct;
		case 9:
			return (double) m->trades;
		case 10:
			return m->win_rate;
		case 11:
			return m->profit_factor;
		case 12:
			return m->expectancy;
		case 13:
			return m->avg_win;
		case 14:
			return m->avg_loss;
		case 15:
			return m->best_trade;
		case 16:
			return m->worst_trade;
		case 17:
			return m->exposure * 100;
		case 18:
			return m->fees;
		default:
			return m->market_change;
	}
}

/* by the metric, NULLs last, ties in grid order */
static int
cmp_results(const void *a, const void *b, void *arg)
{
	const SortCtx *c = arg;
	int64		ia = *(const int64 *) a;
	int64		ib = *(const int64 *) b;
	double		va = metric_value(&c->results[ia].m, c->column);
	double		vb = metric_value(&c->results[ib].m, c->column);
	bool		na = !isfinite(va);
	bool		nb = !isfinite(vb);

	if (na != nb)
		return na ? 1 : -1;
	if (!na && va != vb)
		return (va < vb) == c->descending ? 1 : -1;
	return (ia > ib) - (ia < ib);
}

/*
 * Read and check the grid: an object whose keys are the strategy's
 * params or the numeric common ones, each a non-empty array of numbers,
 * each number checked as a params value would be.  Returns the keys in
 * jsonb order (the last varies fastest), their count in *nkeys and the
 * number of combinations in *total.
 */
static GridKey *
read_grid(Jsonb *grid, const BtParamNames *pn, const BtStrategyParams *sp,
		  const BtConfig *cfg, int *nkeys, int64 *total)
{
	Oid			argtypes[1] = {JSONBOID};
	Datum		args[1];
	GridKey    *keys;
	StringInfoData accepted;
	int			n;
	BtParamNames from_grid = *pn;

	from_grid.source = "grid";
	initStringInfo(&accepted);
	for (int i = 0; i < pn->nparams; i++)
		appendStringInfo(&accepted, "%s, ", pn->names[i]);
	for (int i = 0; i < (int) lengthof(grid_common); i++)
		appendStringInfo(&accepted, "%s%s", i ? ", " : "", grid_common[i]);

	if (!JB_ROOT_IS_OBJECT(grid) || JB_ROOT_IS_SCALAR(grid) || JB_ROOT_COUNT(grid) == 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("grid must be a JSON object of arrays of values"),
				 errhint("Keys for %s are %s, as in {\"%s\": [5, 10]}.", pn->strategy,
						 accepted.data, pn->nparams > 0 ? pn->names[0] : "size_pct")));

	args[0] = JsonbPGetDatum(grid);
	if (SPI_execute_with_args("SELECT key, pg_catalog.jsonb_typeof(value), value"
							  " FROM pg_catalog.jsonb_each($1)",
							  1, argtypes, args, NULL, true, 0) != SPI_OK_SELECT)
		elog(ERROR, "could not read the grid");
	n = (int) SPI_processed;
	keys = palloc0(sizeof(GridKey) * n);
	{
		SPITupleTable *tt = SPI_tuptable;
		Datum	   *values = palloc(sizeof(Datum) * n);
		char	  **types = palloc(sizeof(char *) * n);

		for (int i = 0; i < n; i++)
		{
			bool		isnull;

			keys[i].name = SPI_getvalue(tt->vals[i], tt->tupdesc, 1);
			types[i] = SPI_getvalue(tt->vals[i], tt->tupdesc, 2);
			values[i] = SPI_getbinval(tt->vals[i], tt->tupdesc, 3, &isnull);
		}

		*total = 1;
		for (int i = 0; i < n; i++)
		{
			GridKey    *k = &keys[i];
			bool		known = false;

			k->own = -1;
			for (int j = 0; j < pn->nparams; j++)
				if (strcmp(k->name, pn->names[j]) == 0)
					k->own = j;
			for (int j = 0; j < (int) lengthof(grid_common); j++)
				known |= strcmp(k->name, grid_common[j]) == 0;
			if (!known && k->own < 0)
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						 errmsg("unknown grid key \"%s\" for strategy %s", k->name, pn->strategy),
						 errhint("Grid keys are %s; allow_short goes in params.", accepted.data)));
			if (strcmp(types[i], "array") != 0)
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						 errmsg("grid.%s must be an array of numbers, not %s", k->name,
								DatumGetCString(DirectFunctionCall1(jsonb_out, values[i])))));
			args[0] = values[i];
			if (SPI_execute_with_args("SELECT pg_catalog.jsonb_typeof(v), v::pg_catalog.text"
									  " FROM pg_catalog.jsonb_array_elements($1) v",
									  1, argtypes, args, NULL, true, 0) != SPI_OK_SELECT)
				elog(ERROR, "could not read the grid");
			if (SPI_processed == 0)
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						 errmsg("grid.%s must not be empty", k->name),
						 errhint("Give at least one value per key.")));
			k->nvalues = (int) SPI_processed;
			k->values = palloc(sizeof(double) * k->nvalues);
			k->texts = palloc(sizeof(char *) * k->nvalues);
			for (int v = 0; v < k->nvalues; v++)
			{
				char	   *type = SPI_getvalue(SPI_tuptable->vals[v], SPI_tuptable->tupdesc, 1);
				char	   *text = SPI_getvalue(SPI_tuptable->vals[v], SPI_tuptable->tupdesc, 2);
				BtStrategyParams sp2 = *sp;
				BtConfig	cfg2 = *cfg;

				if (strcmp(type, "number") != 0)
					ereport(ERROR,
							(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
							 errmsg("grid.%s must be an array of numbers, not one holding %s",
									k->name, text)));
				/* the common params' ranges, as in params */
				bt_apply_param(&from_grid, k->name, type, text, &sp2, &cfg2);
				k->values[v] = strtod(text, NULL);
				k->texts[v] = text;
			}
			*total *= k->nvalues;
			if (*total > GRID_MAX_COMBOS)
				ereport(ERROR,
						(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
						 errmsg("grid has more than %d combinations", GRID_MAX_COMBOS),
						 errhint("Split the grid into several calls.")));
		}
	}
	*nkeys = n;
	return keys;
}

/* set one grid value (checked by read_grid) */
static void
set_value(const GridKey *k, double v, BtStrategyParams *sp, BtConfig *cfg)
{
	if (k->own >= 0)
		sp->p[k->own] = v;
	else if (strcmp(k->name, "size_pct") == 0)
		cfg->size_pct = v;
	else if (strcmp(k->name, "qty") == 0)
		cfg->qty = v;
	else if (strcmp(k->name, "stop_loss_pct") == 0)
		cfg->stop_loss_pct = v;
	else if (strcmp(k->name, "take_profit_pct") == 0)
		cfg->take_profit_pct = v;
	else
		cfg->trailing_stop_pct = v;
}

/*
 * Raise a NOTICE for each tenth of the combinations done since the last
 * call (*reported tenths so far); grids under 100 combinations stay
 * quiet.  Leader only.
 */
static void
report_progress(GridShared *sh, int *reported)
{
	uint64		n = (uint64) sh->ncombos;
	uint64		done = pg_atomic_read_u64(&sh->done);

	if (n < 100)
		return;
	while (*reported < 10 && done >= (n * (*reported + 1) + 9) / 10)
	{
		(*reported)++;
		ereport(NOTICE,
				(errmsg("backtest_grid: " UINT64_FORMAT " of " UINT64_FORMAT " combinations run",
						(n * *reported + 9) / 10, n)));
	}
}

/*
 * Claim and run combinations until none is left: the body of the leader
 * (which reports progress into *reported) and of every worker (reported
 * NULL).
 */
static void
grid_loop(GridShared *sh, const BtSweep *sw, const BtSweepCombo *combos,
		  BtSweepResult *results, int *reported)
{
	BtSweepWork w;
	uint64		n = (uint64) sh->ncombos;

	w.points = MemoryContextAllocHuge(CurrentMemoryContext, sizeof(BtEquityPoint) * sh->nbars);
	w.trades = MemoryContextAllocHuge(CurrentMemoryContext, sizeof(BtTrade) * sh->nbars);
	w.ring = MemoryContextAllocHuge(CurrentMemoryContext, sizeof(double) * sh->ring_len);
	for (;;)
	{
		uint64		i = pg_atomic_fetch_add_u64(&sh->next, 1);

		CHECK_FOR_INTERRUPTS();
		if (i >= n)
			break;
		bt_sweep_run(sw, &combos[i], &w, &results[i]);
		pg_atomic_fetch_add_u64(&sh->done, 1);
		if (reported)
			report_progress(sh, reported);
	}
	pfree(w.points);
	pfree(w.trades);
	pfree(w.ring);
}

/* a parallel worker: run combinations from the shared segment */
void
zvt_backtest_grid_worker(dsm_segment *seg, shm_toc *toc)
{
	GridShared *sh = shm_toc_lookup(toc, GRID_KEY_SHARED, false);
	BtSweep		sw;

	if (sh->magic != GRID_MAGIC)
		elog(ERROR, "bad magic number in zvt backtest_grid segment");
	sw.bars = shm_toc_lookup(toc, GRID_KEY_BARS, false);
	sw.nbars = (size_t) sh->nbars;
	sw.nseries = (size_t) sh->nseries;
	sw.periods = sh->nseries > 0 ? shm_toc_lookup(toc, GRID_KEY_PERIODS, false) : NULL;
	sw.series = sh->nseries > 0 ? shm_toc_lookup(toc, GRID_KEY_SERIES, false) : NULL;
	grid_loop(sh, &sw, shm_toc_lookup(toc, GRID_KEY_COMBOS, false),
			  shm_toc_lookup(toc, GRID_KEY_RESULTS, false), NULL);
}

/*
 * Space for one part of the grid's inputs: in the shared segment under
 * key when there is a parallel context, else in the backend's memory
 * (huge allowed: without workers no segment limits the grid).
 */
static void *
grid_alloc(ParallelContext *pcxt, uint64 key, Size size)
{
	void	   *p;

	if (pcxt == NULL)
		return MemoryContextAllocHuge(CurrentMemoryContext, Max(size, 1));
	p = shm_toc_allocate(pcxt->toc, size);
	shm_toc_insert(pcxt->toc, key, p);
	return p;
}

/*
 * Run n combinations over the bars into results[], on nworkers parallel
 * workers and the leader.  The segment holds copies of the bars and
 * combinations; shared series are computed straight into it.  With no
 * worker asked for, no parallel context is made at all.
 */
static void
run_combos(BtBar *bars, int64 nbars, BtSweepCombo *combos, int64 n,
		   BtSweepResult *results, int nworkers)
{
	ParallelContext *pcxt = NULL;
	GridShared *sh;
	BtSweep		sw;
	int32	   *periods = palloc(sizeof(int32) * 2 * n);
	int64		nseries = 0;
	Size		bars_sz = mul_size(sizeof(BtBar), nbars);
	Size		combos_sz = mul_size(sizeof(BtSweepCombo), n);
	Size		results_sz = mul_size(sizeof(BtSweepResult), n);
	Size		series_sz = 0;
	int32	   *shm_periods = NULL;
	double	   *shm_series = NULL;
	BtSweepCombo *shm_combos;
	BtSweepResult *shm_results;
	BtBar	   *shm_bars;
	int			reported = 0;

	if (bt_sweep_shares(combos[0].par.kind))
	{
		nseries = bt_sweep_periods(combos, n, periods);
		series_sz = mul_size(mul_size(sizeof(double), nseries), nbars);
		if (series_sz > GRID_MAX_SERIES_BYTES)
		{
			nseries = 0;
			series_sz = 0;
		}
	}

	if (nworkers > 0)
	{
		EnterParallelMode();
		pcxt = CreateParallelContext("zvt", "zvt_backtest_grid_worker", nworkers);
		shm_toc_estimate_chunk(&pcxt->estimator, sizeof(GridShared));
		shm_toc_estimate_chunk(&pcxt->estimator, bars_sz);
		shm_toc_estimate_chunk(&pcxt->estimator, combos_sz);
		shm_toc_estimate_chunk(&pcxt->estimator, results_sz);
		shm_toc_estimate_keys(&pcxt->estimator, 4);
		if (nseries > 0)
		{
			shm_toc_estimate_chunk(&pcxt->estimator, sizeof(int32) * nseries);
			shm_toc_estimate_chunk(&pcxt->estimator, series_sz);
			shm_toc_estimate_keys(&pcxt->estimator, 2);
		}
		InitializeParallelDSM(pcxt);
	}

	sh = grid_alloc(pcxt, GRID_KEY_SHARED, sizeof(GridShared));
	sh->magic = GRID_MAGIC;
	sh->nbars = nbars;
	sh->ncombos = n;
	sh->nseries = nseries;
	sh->ring_len = (int64) bt_sweep_ring_len(combos, n);
	pg_atomic_init_u64(&sh->next, 0);
	pg_atomic_init_u64(&sh->done, 0);
	shm_bars = grid_alloc(pcxt, GRID_KEY_BARS, bars_sz);
	memcpy(shm_bars, bars, bars_sz);
	shm_combos = grid_alloc(pcxt, GRID_KEY_COMBOS, combos_sz);
	memcpy(shm_combos, combos, combos_sz);
	shm_results = grid_alloc(pcxt, GRID_KEY_RESULTS, results_sz);
	if (nseries > 0)
	{
		double	   *ring = palloc(sizeof(double) * (periods[nseries - 1] + 1));

		shm_periods = grid_alloc(pcxt, GRID_KEY_PERIODS, sizeof(int32) * nseries);
		memcpy(shm_periods, periods, sizeof(int32) * nseries);
		shm_series = grid_alloc(pcxt, GRID_KEY_SERIES, series_sz);
		bt_sweep_fill_series(combos[0].par.kind, shm_bars, nbars, shm_periods, nseries,
							 shm_series, ring);
		pfree(ring);
	}

	sw.bars = shm_bars;
	sw.nbars = nbars;
	sw.periods = shm_periods;
	sw.nseries = nseries;
	sw.series = shm_series;

	if (pcxt)
		LaunchParallelWorkers(pcxt);
	grid_loop(sh, &sw, shm_combos, shm_results, &reported);
	if (pcxt)
		WaitForParallelWorkersToFinish(pcxt);
	report_progress(sh, &reported);
	memcpy(results, shm_results, results_sz);
	if (pcxt)
	{
		DestroyParallelContext(pcxt);
		ExitParallelMode();
	}
}

/*
 * zvt.backtest_grid(strategy, exchange, symbol, timeframe, start, finish,
 * grid, sort_by, params, initial_cash, fee_bps, slippage_bps, descending,
 * workers)
 */
Datum
zvt_backtest_grid(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	char	   *strategy = bt_text_arg(fcinfo, 0, "strategy");
	BtMarket	mk;
	Jsonb	   *grid;
	Jsonb	   *params;
	char	   *sort_by;
	int			column;
	bool		descending;
	int			nworkers;
	BtConfig	cfg = {0};
	BtStrategyParams sp = {0};
	BtParamNames pn;
	GridKey    *keys;
	int			nkeys;
	int64		total;
	BtSweepCombo *combos;
	int64	   *origin;			/* each valid combination's grid index */
	int64		n = 0;
	const char *why = NULL;
	BtBar	   *bars;
	int64		nbars;
	BtSweepResult *results;
	int64	   *order;			/* the runs kept, sorted */
	int64		nkept;
	SortCtx		sc;
	BtArgs		a;
	BtRunBatch	batch;
	MemoryContext batch_cxt;
	MemoryContext outer;

	mk.exchange = bt_text_arg(fcinfo, 1, "exchange");
	mk.symbol = bt_text_arg(fcinfo, 2, "symbol");
	for (int i = 3; i <= 8; i++)
		if (PG_ARGISNULL(i))
			ereport(ERROR,
					(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
					 errmsg("%s must not be null", arg_names[i - 3])));
	mk.timeframe = PG_GETARG_DATUM(3);
	mk.start = PG_GETARG_TIMESTAMPTZ(4);
	mk.finish = PG_GETARG_TIMESTAMPTZ(5);
	grid = PG_GETARG_JSONB_P(6);
	sort_by = text_to_cstring(PG_GETARG_TEXT_PP(7));
	params = PG_GETARG_JSONB_P(8);
	cfg.initial_cash = bt_numeric_arg(fcinfo, 9, "initial_cash");
	cfg.fee_bps = bt_numeric_arg(fcinfo, 10, "fee_bps");
	cfg.slippage_bps = bt_numeric_arg(fcinfo, 11, "slippage_bps");
	cfg.size_pct = 100;
	if (PG_ARGISNULL(12))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("descending must not be null")));
	descending = PG_GETARG_BOOL(12);
	nworkers = -1;				/* NULL: as many as a parallel query would get */
	if (!PG_ARGISNULL(13))
	{
		nworkers = PG_GETARG_INT32(13);
		if (nworkers < 0 || nworkers > MAX_PARALLEL_WORKER_LIMIT)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("workers must be between 0 and %d, not %d",
							MAX_PARALLEL_WORKER_LIMIT, nworkers)));
	}

	if (mk.finish <= mk.start)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("finish must be later than start")));
	bt_check_costs(&cfg);
	column = sort_column(sort_by);
	InitMaterializedSRF(fcinfo, 0);

	SPI_connect();
	bt_lookup_strategy(strategy, false, &sp, &pn);
	bt_read_params(params, &pn, &sp, &cfg);
	if (cfg.funding)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("zvt.backtest_grid does not charge funding"),
				 errhint("Run zvt.backtest with \"funding\": true for a perpetual's funding.")));
	keys = read_grid(grid, &pn, &sp, &cfg, &nkeys, &total);

	/* the product, last key fastest; the strategy's rejects are skipped */
	combos = palloc(sizeof(BtSweepCombo) * total);
	origin = palloc(sizeof(int64) * total);
	for (int64 g = 0; g < total; g++)
	{
		BtSweepCombo *c = &combos[n];
		int64		rest = g;
		const char *reason;

		c->par = sp;
		c->cfg = cfg;
		for (int k = nkeys - 1; k >= 0; k--)
		{
			set_value(&keys[k], keys[k].values[rest % keys[k].nvalues], &c->par, &c->cfg);
			rest /= keys[k].nvalues;
		}
		if (!bt_strategy_check(&c->par, &reason) || !bt_engine_check(&c->cfg, &reason))
		{
			if (why == NULL)
				why = reason;
			continue;
		}
		origin[n++] = g;
	}
	if (n < total)
		ereport(NOTICE,
				(errmsg("backtest_grid skipped " INT64_FORMAT " of " INT64_FORMAT " combinations",
						total - n, total),
				 errdetail("The first skipped says: %s.", why)));

	bars = bt_load_bars(&mk, &nbars);
	results = palloc(sizeof(BtSweepResult) * (n + 1));
	if (n > 0)
	{
		/*
		 * Never more than a parallel query of this session could take, as
		 * the planner caps a table's parallel_workers: workers => 1024
		 * must not let one role hold every max_parallel_workers slot.
		 */
		if (nworkers < 0 || nworkers > max_parallel_workers_per_gather)
			nworkers = max_parallel_workers_per_gather;
		nworkers = (int) Min(nworkers, n - 1);
		run_combos(bars, nbars, combos, n, results, nworkers);
	}

	/*
	 * Sort, then store in that order and return the stored rows; runs whose
	 * final equity or fees overflowed (NOT NULL columns) are skipped.
	 */
	order = palloc(sizeof(int64) * (n + 1));
	nkept = 0;
	for (int64 i = 0; i < n; i++)
		if (bt_results_finite(&results[i].m))
			order[nkept++] = i;
	if (nkept < n)
		ereport(NOTICE,
				(errmsg("backtest_grid skipped " INT64_FORMAT " of " INT64_FORMAT
						" combinations whose results are out of range", n - nkept, total),
				 errdetail("Their final equity or fees overflow a float8."),
				 errhint("Use a smaller initial_cash or qty.")));
	sc.results = results;
	sc.column = column;
	sc.descending = descending;
	qsort_arg(order, nkept, sizeof(int64), cmp_results, &sc);

	/* rows go out in batches; their arguments live in batch_cxt meanwhile */
	bt_run_batch_init(&batch);
	batch_cxt = AllocSetContextCreate(CurrentMemoryContext, "zvt backtest_grid batch",
									  ALLOCSET_DEFAULT_SIZES);
	for (int64 r = 0; r < nkept; r++)
	{
		int64		i = order[r];
		int64		rest = origin[i];
		StringInfoData combo;
		BtRunDesc	desc;
		Jsonb	   *run_params;

		outer = MemoryContextSwitchTo(batch_cxt);
		initStringInfo(&combo);
		appendStringInfoChar(&combo, '{');
		for (int k = nkeys - 1; k >= 0; k--)
		{
			appendStringInfo(&combo, "%s\"%s\": %s", k < nkeys - 1 ? ", " : "",
							 keys[k].name, keys[k].texts[rest % keys[k].nvalues]);
			rest /= keys[k].nvalues;
		}
		appendStringInfoChar(&combo, '}');
		run_params = DatumGetJsonbP(DirectFunctionCall2(jsonb_concat, JsonbPGetDatum(params),
														DirectFunctionCall1(jsonb_in,
																			CStringGetDatum(combo.data))));
		desc.strategy = strategy;
		desc.market = &mk;
		desc.params = run_params;
		desc.cfg = &combos[i].cfg;
		desc.store = "metrics";
		desc.bars = nbars;
		desc.first_ts = bars[0].ts;
		desc.last_ts = bars[nbars - 1].ts;
		desc.open_at_end = results[i].open_at_end;
		bt_run_args(&a, &desc, &results[i].m);
		bt_run_batch_add(&batch, &a);
		MemoryContextSwitchTo(outer);
		if (batch.n == BT_RUN_BATCH || r == nkept - 1)
		{
			bt_run_batch_flush(&batch, rsinfo->setResult);
			MemoryContextReset(batch_cxt);
			CHECK_FOR_INTERRUPTS();
		}
	}
	SPI_finish();
	return (Datum) 0;
}
