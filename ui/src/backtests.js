// ui/src/backtests.js: the Backtests page: the caller's runs with their
// metrics in a sortable table; for the chosen run its equity and
// drawdown, its trades marked on the price chart and listed; a form
// running /rpc/backtest or /rpc/backtest_grid (with a progress bar while
// the request runs), and a heat map of a grid's runs over two of its
// parameters.
import { get, isAnon, rpc } from './api.js';
import { equityChart, priceChart } from './chart.js';
import { el, fill, num, panel, sign, sortRows, table, time } from './util.js';

const STRATEGIES = {
	sma_cross: { fast: 10, slow: 30 }, ema_cross: { fast: 12, slow: 26 },
	rsi_reversion: { period: 14, lower: 30, upper: 70 }, bollinger_breakout: { period: 20, k: 2 },
	donchian_breakout: { entry: 20, exit: 10 }, buy_and_hold: {},
};
const METRICS = ['total_return', 'sharpe', 'sortino', 'max_drawdown_pct', 'win_rate', 'profit_factor', 'final_equity', 'trades'];

export function mount(node, zvt) {
	zvt.backtests = { runs: [], run: null, equity: [], grid: null };
	if (isAnon()) {
		fill(node, panel('Backtests', el('p', {}, 'Anonymous: backtests belong to traders. Use a trader\'s token (Token… above).')));
		return () => {};
	}
	const runsNode = el('div'), detail = el('div', { class: 'grid' }), heatNode = el('div', { id: 'heat' }),
		status = el('div', { id: 'bt-status' });
	const iso = (d) => d.toISOString().slice(0, 16);
	const f = {
		strategy: el('select', { id: 'bt-strategy', onchange: () => { f.params.value = JSON.stringify(STRATEGIES[f.strategy.value]); } },
			Object.keys(STRATEGIES).map((s) => el('option', { value: s }, s))),
		exchange: el('input', { id: 'bt-exchange', value: 'binance', size: 8 }),
		symbol: el('input', { id: 'bt-symbol', value: 'BTC-USDT', size: 10 }),
		timeframe: el('input', { id: 'bt-timeframe', value: '1 hour', size: 8 }),
		start: el('input', { id: 'bt-start', type: 'datetime-local', value: iso(new Date(Date.now() - 7 * 86400e3)) }),
		finish: el('input', { id: 'bt-finish', type: 'datetime-local', value: iso(new Date()) }),
		params: el('input', { id: 'bt-params', value: JSON.stringify(STRATEGIES.sma_cross), size: 30 }),
		grid: el('input', { id: 'bt-grid', value: '{"fast": [5, 10, 15], "slow": [20, 30, 40]}', size: 36 }),
	};
	const form = el('div', {},
		el('div', { class: 'row' }, f.strategy, f.exchange, f.symbol, el('label', {}, 'timeframe', f.timeframe)),
		el('div', { class: 'row' }, el('label', {}, 'from', f.start), el('label', {}, 'to', f.finish)),
		el('div', { class: 'row' }, el('label', {}, 'params', f.params),
			el('button', { id: 'bt-run', onclick: () => run(false) }, 'Run backtest')),
		el('div', { class: 'row' }, el('label', {}, 'grid', f.grid),
			el('button', { id: 'bt-grid-run', onclick: () => run(true) }, 'Run grid')),
		status);
	fill(node, el('div', { class: 'grid two' },
		el('div', { class: 'grid' }, panel('New backtest', form), panel('Runs', runsNode), panel('Grid heat map', heatNode)),
		detail));
	let runs = [];
	let sort = { key: 'run_id', desc: true };
	let selected = null;
	let charts = [];

	function renderRuns() {
		fill(runsNode, runs.length ? table([
			{ key: 'run_id', label: 'run' }, { key: 'strategy', label: 'strategy' },
			{ key: 'symbol', label: 'symbol' }, { key: 'timeframe', label: 'tf' },
			{ key: 'total_return', label: 'return', fmt: (v) => (v === null ? '' : `${(100 * v).toFixed(2)}%`), cls: sign },
			{ key: 'sharpe', label: 'sharpe', fmt: (v) => num(v, 2) },
			{ key: 'max_drawdown_pct', label: 'max dd', fmt: (v) => (v === null ? '' : `${(100 * v).toFixed(2)}%`) },
			{ key: 'trades', label: 'trades' },
			{ key: 'win_rate', label: 'win', fmt: (v) => (v === null ? '' : `${(100 * v).toFixed(0)}%`) },
			{ key: 'final_equity', label: 'final', fmt: (v) => num(v, 2) },
		], sortRows(runs, sort), {
			sort, onSort: (k) => { sort = { key: k, desc: sort.key === k ? !sort.desc : true }; renderRuns(); },
			rowKey: 'run_id', selected, onRow: (r) => show(r.run_id),
		}) : el('p', { class: 'dim' }, 'No runs yet.'));
	}

	async function loadRuns() {
		runs = await get('/backtest_runs', { select: ['run_id', 'created_at', 'strategy', 'exchange', 'symbol', 'timeframe', 'start', 'finish', 'params', ...METRICS].join(','), order: 'run_id.desc', limit: 200 });
		zvt.backtests.runs = runs;
		renderRuns();
	}

	async function show(id) {
		selected = id;
		renderRuns();
		const r = runs.find((x) => x.run_id === id);
		const [eq, trades, bars] = await Promise.all([
			get('/backtest_equity', { run_id: `eq.${id}`, order: 'ts' }),
			get('/backtest_trades', { run_id: `eq.${id}`, order: 'trade_no' }),
			get('/rpc/ohlcv', { exchange: r.exchange, symbol: r.symbol, timeframe: r.timeframe, start: r.start, finish: r.finish }),
		]);
		charts.forEach((c) => c.remove());
		const eqNode = el('div', { class: 'chart small', id: 'equity-chart' });
		const pxNode = el('div', { class: 'chart small' });
		fill(detail, panel(`Run ${id}: ${r.strategy} ${JSON.stringify(r.params)} — final equity ${num(r.final_equity, 2)}`, eqNode),
			panel('Trades on the price', pxNode),
			panel('Trade list', table([
				{ key: 'trade_no', label: '#' }, { key: 'side', label: 'side' },
				{ key: 'entry_ts', label: 'entry', fmt: time }, { key: 'entry_price', label: 'at', fmt: (v) => num(v) },
				{ key: 'exit_ts', label: 'exit', fmt: time }, { key: 'exit_price', label: 'at', fmt: (v) => num(v) },
				{ key: 'qty', label: 'qty', fmt: (v) => num(v, 4) }, { key: 'pnl', label: 'pnl', fmt: (v) => num(v, 2), cls: sign },
				{ key: 'exit_reason', label: 'exit by' },
			], trades)));
		const ec = equityChart(eqNode);
		const points = eq.map((e) => ({ time: Date.parse(e.ts) / 1000, equity: e.equity, drawdown: e.drawdown }));
		ec.set(points);
		const pc = priceChart(pxNode, { indicators: false });
		pc.setBars(bars.map((b) => ({ time: Date.parse(b.ts) / 1000, open: +b.open, high: +b.high, low: +b.low, close: +b.close, volume: +b.volume })));
		const tf = bars.length > 1 ? (Date.parse(bars[1].ts) - Date.parse(bars[0].ts)) / 1000 : 60;
		const snap = (ts) => Math.floor(Date.parse(ts) / 1000 / tf) * tf;
		const marks = trades.flatMap((t) => [
			{ time: snap(t.entry_ts), position: t.side === 'long' ? 'belowBar' : 'aboveBar', color: t.side === 'long' ? '#26a69a' : '#ef5350', shape: t.side === 'long' ? 'arrowUp' : 'arrowDown', text: `#${t.trade_no}` },
			{ time: snap(t.exit_ts), position: 'aboveBar', color: '#d1d4dc', shape: 'circle', text: t.exit_reason },
		]).sort((a, b) => a.time - b.time);
		pc.setMarkers(marks);
		pc.fit();
		charts = [ec, pc];
		zvt.backtests.run = r;
		zvt.backtests.equity = points;
		zvt.backtests.trades = trades;
	}

	async function run(grid) {
		const args = {
			strategy: f.strategy.value, exchange: f.exchange.value, symbol: f.symbol.value, timeframe: f.timeframe.value,
			start: new Date(f.start.value + 'Z').toISOString(), finish: new Date(f.finish.value + 'Z').toISOString(),
		};
		// a single run keeps its whole equity curve (every bar) for the chart
		if (!grid)
			args.store = 'all';
		let combos = 1;
		try {
			args.params = JSON.parse(f.params.value || '{}');
			if (grid) {
				args.grid = JSON.parse(f.grid.value);
				combos = Object.values(args.grid).reduce((n, v) => n * v.length, 1);
			}
		} catch (e) {
			status.className = 'result bad';
			status.textContent = `Not JSON: ${e.message}`;
			return;
		}
		const t0 = performance.now();
		const bar = el('div', { class: 'progress' });
		const label = el('span');
		fill(status, label, bar);
		status.className = 'result';
		const tick = setInterval(() => { label.textContent = `running ${grid ? `${combos} runs` : '1 run'}… ${((performance.now() - t0) / 1000).toFixed(1)} s`; }, 100);
		try {
			const res = await rpc(grid ? 'backtest_grid' : 'backtest', args);
			const out = Array.isArray(res) ? res : [res];
			clearInterval(tick);
			status.className = 'result good';
			fill(status, `${out.length} run${out.length > 1 ? 's' : ''} in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
			await loadRuns();
			// a grid's runs keep metrics only: show the heat map, not a curve
			if (grid)
				heat(out, Object.keys(args.grid));
			else
				await show(out[0].run_id);
		} catch (e) {
			clearInterval(tick);
			status.className = 'result bad';
			fill(status, `Failed: ${e.message}${e.hint ? ` ${e.hint}` : ''}`);
		}
	}

	// A heat map of one metric over the grid's first two parameters.
	function heat(out, keys) {
		const [kx, ky] = keys;
		zvt.backtests.grid = out;
		if (!ky) {
			fill(heatNode, el('p', { class: 'dim' }, 'A heat map needs two parameters in the grid.'));
			return;
		}
		const metric = el('select', { id: 'heat-metric', onchange: () => draw() }, METRICS.map((m) => el('option', { value: m }, m)));
		const grid = el('div');
		const xs = [...new Set(out.map((r) => r.params[kx]))].sort((a, b) => a - b);
		const ys = [...new Set(out.map((r) => r.params[ky]))].sort((a, b) => a - b);
		function draw() {
			const m = metric.value;
			const vals = out.map((r) => r[m]).filter((v) => v !== null);
			const lo = Math.min(...vals), hi = Math.max(...vals);
			const cell = (x, y) => {
				const r = out.find((q) => q.params[kx] === x && q.params[ky] === y);
				const td = el('td', { title: r ? `run ${r.run_id}` : '', onclick: r ? () => show(r.run_id) : undefined }, r && r[m] !== null ? num(r[m], 3) : '');
				if (r && r[m] !== null) {
					const t = hi > lo ? (r[m] - lo) / (hi - lo) : 0.5;
					td.style.background = `hsl(${Math.round(120 * t)}, 60%, 30%)`;
				}
				return td;
			};
			fill(grid, el('table', { class: 'heat' },
				el('thead', {}, el('tr', {}, el('th', {}, `${ky} \\ ${kx}`), xs.map((x) => el('th', {}, x)))),
				el('tbody', {}, ys.map((y) => el('tr', {}, el('th', {}, y), xs.map((x) => cell(x, y)))))));
		}
		fill(heatNode, el('div', { class: 'row' }, 'metric', metric), grid);
		draw();
	}

	loadRuns().then(() => { if (runs.length) return show(runs[0].run_id); }).catch(zvt.error);
	return () => charts.forEach((c) => c.remove());
}
