// ui/src/markets.js: the Markets page: instruments per exchange (last,
// 24 h change and volume from zvt_api.markets, last prices live from
// /stream tickers), the candlestick chart with volume and indicator
// overlays (history from /rpc/ohlcv and /rpc/indicators, then live from
// /stream trades and 1m candles), the order book (/rpc/book) and the
// trade tape.  What the chart shows is exposed as window.__zvt.chart for
// the browser test.
import { get } from './api.js';
import { priceChart, frameCounter } from './chart.js';
import * as stream from './stream.js';
import { el, fill, num, pct, panel, sign, table, time, TIMEFRAMES, tfInterval } from './util.js';

const sel = { exchange: 'binance', symbol: 'BTC-USDT', tf: '1m' };

export function mount(node, zvt) {
	const list = el('div');
	const chartNode = el('div', { class: 'chart' });
	const bookNode = el('div', { class: 'book' });
	const tapeNode = el('div', { class: 'tape' });
	const fpsNode = el('span', { class: 'fps' });
	const title = el('span');
	const tfSelect = el('select', { id: 'tf', onchange: () => { sel.tf = tfSelect.value; load(); } },
		Object.keys(TIMEFRAMES).map((k) => el('option', { value: k, selected: k === sel.tf }, k)));
	fill(node, el('div', { class: 'grid markets' },
		panel('Instruments', list),
		el('section', { class: 'panel' }, el('div', { class: 'row' }, title, tfSelect,
			el('span', { class: 'dim' }, 'EMA 12/26 · Bollinger 20,2 · RSI 14'), fpsNode), chartNode),
		el('div', { class: 'grid' }, panel('Order book', bookNode), panel('Trades', tapeNode))));

	const chart = priceChart(chartNode);
	const fps = frameCounter();
	let markets = [];
	let tape = [];
	let timers = [];
	let gen = 0;
	zvt.chart = { candles: [], exchange: null, symbol: null, timeframe: null };
	zvt.trades = [];
	zvt.fps = () => fps.fps();

	function renderList() {
		const byEx = new Map();
		for (const m of markets) {
			if (!byEx.has(m.exchange))
				byEx.set(m.exchange, []);
			byEx.get(m.exchange).push(m);
		}
		fill(list, [...byEx].map(([ex, rows]) => [el('div', { class: 'dim' }, ex), table([
			{ key: 'symbol', label: 'symbol' },
			{ key: 'last', label: 'last', fmt: (v) => num(v) },
			{ key: 'change_24h_pct', label: '24h', fmt: pct, cls: sign },
			{ key: 'volume_24h', label: 'vol 24h', fmt: (v) => num(v, 2) },
		], rows, {
			rowKey: 'symbol', selected: ex === sel.exchange ? sel.symbol : undefined,
			onRow: (r) => { sel.exchange = r.exchange; sel.symbol = r.symbol; renderList(); load(); },
		})]));
	}

	function renderTape() {
		fill(tapeNode, table([
			{ key: 'ts', label: 'time', fmt: (v) => time(v).slice(11) },
			{ key: 'price', label: 'price', fmt: (v) => num(v), cls: (v, r) => (r.side === 'buy' ? 'up' : 'down') },
			{ key: 'qty', label: 'qty', fmt: (v) => num(v, 4) },
		], tape.slice(0, 40)));
	}

	async function loadBook() {
		try {
			const rows = await get('/rpc/book', { exchange: sel.exchange, symbol: sel.symbol, depth: 12 });
			const bids = rows.filter((r) => r.side === 'bid');
			const asks = rows.filter((r) => r.side === 'ask').reverse();
			const t = (rs, cls) => rs.map((r) => el('tr', {}, el('td', { class: cls }, num(r.price)), el('td', {}, num(r.size, 4))));
			fill(bookNode, rows.length ? el('table', {}, el('tbody', {}, t(asks, 'down'), el('tr', {}, el('td', { class: 'dim' }, '—'), el('td')), t(bids, 'up')))
				: el('p', { class: 'dim' }, 'No book: subscribe channel "book" (zvt.subscribe) for this symbol.'));
		} catch (e) {
			fill(bookNode, el('p', { class: 'dim' }, e.message));
		}
	}

	async function load() {
		const my = ++gen;
		const tfSec = TIMEFRAMES[sel.tf];
		const finish = new Date((Math.floor(Date.now() / 1000 / tfSec) + 1) * tfSec * 1000);
		const start = new Date(finish.getTime() - 1000 * tfSec * 1000);
		const args = { exchange: sel.exchange, symbol: sel.symbol, timeframe: tfInterval(sel.tf), start: start.toISOString(), finish: finish.toISOString() };
		title.textContent = `${sel.exchange} ${sel.symbol}`;
		zvt.chart = { candles: [], exchange: sel.exchange, symbol: sel.symbol, timeframe: sel.tf, start: args.start, finish: args.finish, loaded: false };
		const [rows, ind, trades] = await Promise.all([
			get('/rpc/ohlcv', args),
			get('/rpc/indicators', args),
			get('/trades', { exchange: `eq.${sel.exchange}`, symbol: `eq.${sel.symbol}`, order: 'ts.desc', limit: 40, select: 'ts,price,qty,side,trade_id' }),
		]);
		if (my !== gen)
			return;
		const bars = rows.map((r) => ({ time: Date.parse(r.ts) / 1000, open: +r.open, high: +r.high, low: +r.low, close: +r.close, volume: +r.volume }));
		chart.setBars(bars);
		chart.setIndicators(ind.map((r) => ({ ...r, time: Date.parse(r.ts) / 1000 })));
		chart.fit();
		zvt.chart.candles = bars.map((b) => ({ ...b }));
		zvt.chart.loaded = true;
		requestAnimationFrame(() => {
			if (zvt.firstPaint === undefined)
				zvt.firstPaint = performance.now();
		});
		tape = trades;
		renderTape();
		loadBook();
		stream.subscribe('markets-chart', ['trades', 'candles:1m'], [`${sel.exchange}:${sel.symbol}`]);
	}

	const offs = [
		stream.on('trade', (m) => {
			if (m.exchange !== sel.exchange || m.symbol !== sel.symbol)
				return;
			chart.trade(Date.parse(m.ts) / 1000, +m.price, +m.qty, TIMEFRAMES[sel.tf]);
			zvt.trades.push({ trade_id: m.trade_id, price: +m.price, ts: m.ts, at: Date.now() });
			if (zvt.trades.length > 1000)
				zvt.trades.splice(0, 500);
			tape.unshift(m);
			tape.length = Math.min(tape.length, 60);
			tapeDirty = true;
		}),
		stream.on('candle', (m) => {
			if (m.exchange !== sel.exchange || m.symbol !== sel.symbol || sel.tf !== '1m' || m.timeframe !== '1m')
				return;
			chart.upsert({ time: Date.parse(m.ts) / 1000, open: +m.open, high: +m.high, low: +m.low, close: +m.close, volume: +m.volume });
		}),
		stream.on('ticker', (m) => {
			const r = markets.find((x) => x.exchange === m.exchange && x.symbol === m.symbol);
			if (r && m.last !== undefined && m.last !== null) {
				r.last = +m.last;
				if (r.open_24h)
					r.change_24h_pct = (100 * (r.last - r.open_24h)) / r.open_24h;
				listDirty = true;
			}
		}),
	];
	// the tape and list redraw at most 4 times a second, whatever the rate
	let tapeDirty = false, listDirty = false;
	timers.push(setInterval(() => {
		if (tapeDirty) { tapeDirty = false; renderTape(); }
		if (listDirty) { listDirty = false; renderList(); }
		fpsNode.textContent = `${fps.fps().toFixed(0)} fps`;
	}, 250));
	timers.push(setInterval(loadBook, 1000));

	(async () => {
		markets = await get('/markets', { order: 'exchange,symbol' });
		if (markets.length && !markets.some((m) => m.exchange === sel.exchange && m.symbol === sel.symbol)) {
			sel.exchange = markets[0].exchange;
			sel.symbol = markets[0].symbol;
		}
		renderList();
		stream.subscribe('markets-list', ['tickers'], markets.map((m) => `${m.exchange}:${m.symbol}`));
		await load();
	})().catch(zvt.error);

	return () => {
		gen++;
		offs.forEach((f) => f());
		timers.forEach(clearInterval);
		stream.unsubscribe('markets-chart');
		stream.unsubscribe('markets-list');
		fps.stop();
		chart.remove();
	};
}
