// ui/src/trading.js: the Trading page: the caller's accounts (row-level
// security: anon sees none), the chosen account's portfolio, positions
// marked live from /stream trades, open orders with cancel buttons,
// recent fills, risk limits, and an order ticket calling
// /rpc/place_order that shows a rejection's risk reason.
import { get, isAnon, rpc } from './api.js';
import * as stream from './stream.js';
import { el, fill, num, panel, sign, table, time } from './util.js';

let account = null;

export function mount(node, zvt) {
	zvt.trading = { accounts: null, lastOrder: null };
	if (isAnon()) {
		zvt.trading.accounts = [];
		fill(node, panel('Trading', el('p', { id: 'anon-note' },
			'Anonymous: no accounts. Use a trader\'s token (Token… above) to see and trade your accounts.')));
		return () => {};
	}
	const accNode = el('div'), portNode = el('div'), posNode = el('div'), ordNode = el('div'),
		fillNode = el('div'), riskNode = el('div'), result = el('div', { id: 'ticket-result' });
	const f = {
		exchange: el('input', { id: 't-exchange', value: 'binance', size: 8 }),
		symbol: el('input', { id: 't-symbol', value: 'BTC-USDT', size: 10 }),
		side: el('select', { id: 't-side' }, el('option', { value: 'buy' }, 'buy'), el('option', { value: 'sell' }, 'sell')),
		type: el('select', { id: 't-type' }, ['market', 'limit', 'stop', 'stop_limit', 'trailing_stop'].map((t) => el('option', { value: t }, t))),
		qty: el('input', { id: 't-qty', value: '0.01', size: 8 }),
		price: el('input', { id: 't-price', placeholder: 'price', size: 10 }),
		stop: el('input', { id: 't-stop', placeholder: 'stop', size: 10 }),
	};
	const ticket = el('form', { id: 'ticket', onsubmit: (e) => { e.preventDefault(); place(); } },
		el('div', { class: 'row' }, f.exchange, f.symbol, f.side, f.type),
		el('div', { class: 'row' }, el('label', {}, 'qty', f.qty), f.price, f.stop,
			el('button', { id: 't-submit', type: 'submit', class: 'buy' }, 'Place order')),
		result);
	fill(node, el('div', { class: 'grid two' },
		el('div', { class: 'grid' }, panel('Accounts', accNode), panel('Portfolio', portNode), panel('Order ticket', ticket), panel('Risk limits', riskNode)),
		el('div', { class: 'grid' }, panel('Positions', posNode), panel('Open orders', ordNode), panel('Fills', fillNode))));

	let positions = [];
	let marks = new Map();

	async function place() {
		const args = { account, exchange: f.exchange.value, symbol: f.symbol.value, side: f.side.value, qty: Number(f.qty.value), type: f.type.value };
		if (f.price.value) args.price = Number(f.price.value);
		if (f.stop.value) args.stop_price = Number(f.stop.value);
		result.className = 'result';
		result.textContent = 'placing…';
		try {
			const o = await rpc('place_order', args);
			zvt.trading.lastOrder = o;
			if (o.status === 'rejected') {
				result.className = 'result bad';
				result.textContent = `Rejected: ${o.reason}`;
			} else {
				result.className = 'result good';
				result.textContent = `Order ${o.order_id} ${o.status}`;
			}
		} catch (e) {
			zvt.trading.lastOrder = { status: 'error', reason: e.message };
			result.className = 'result bad';
			result.textContent = `Refused: ${e.message}${e.details ? ` (${e.details})` : ''}${e.hint ? ` ${e.hint}` : ''}`;
		}
		refresh().catch(zvt.error);
	}

	function renderPositions() {
		for (const p of positions) {
			const m = marks.get(`${p.exchange}:${p.symbol}`);
			if (m !== undefined) {
				p.mark_price = m;
				p.unrealized_pnl = (m - p.avg_price) * p.qty;
			}
		}
		fill(posNode, positions.length ? table([
			{ key: 'exchange', label: 'exchange' },
			{ key: 'symbol', label: 'symbol' },
			{ key: 'qty', label: 'qty', fmt: (v) => num(v, 4), cls: sign },
			{ key: 'avg_price', label: 'avg', fmt: (v) => num(v) },
			{ key: 'mark_price', label: 'mark', fmt: (v) => num(v) },
			{ key: 'unrealized_pnl', label: 'unrealized', fmt: (v) => num(v, 2), cls: sign },
			{ key: 'realized_pnl', label: 'realized', fmt: (v) => num(v, 2), cls: sign },
		], positions) : el('p', { class: 'dim' }, 'No positions.'));
	}

	async function refresh() {
		const accounts = await get('/accounts', { order: 'name' });
		zvt.trading.accounts = accounts;
		if (!accounts.some((a) => a.name === account))
			account = accounts.length ? accounts[0].name : null;
		fill(accNode, accounts.length ? table([
			{ key: 'name', label: 'name' }, { key: 'kind', label: 'kind' }, { key: 'currency', label: 'ccy' },
			{ key: 'state', label: 'state' }, { key: 'initial_cash', label: 'initial', fmt: (v) => num(v, 2) },
		], accounts, { rowKey: 'name', selected: account, onRow: (r) => { account = r.name; refresh().catch(zvt.error); } })
			: el('p', { class: 'dim' }, 'No accounts: create one with zvt.create_account or POST /rpc/create_account.'));
		if (!account)
			return;
		const acc = accounts.find((a) => a.name === account);
		const id = acc.account_id;
		const [port, pos, ords, fills, risk] = await Promise.all([
			get('/rpc/portfolio', { account }),
			get('/positions', { account_id: `eq.${id}`, qty: 'neq.0' }),
			get('/orders', { account_id: `eq.${id}`, status: 'in.(new,accepted,partially_filled)', order: 'order_id.desc' }),
			get('/fills', { account_id: `eq.${id}`, order: 'ts.desc', limit: 30 }),
			get('/risk_limits', { account_id: `eq.${id}` }),
		]);
		const p = port[0] || {};
		fill(portNode, table([{ key: 'k', label: '' }, { key: 'v', label: p.currency || '' }],
			['cash', 'equity', 'exposure', 'unrealized_pnl', 'realized_pnl', 'fees', 'pnl_today', 'pnl_total', 'open_orders']
				.map((k) => ({ k, v: k === 'open_orders' ? p[k] : num(p[k], 2) }))));
		positions = pos;
		renderPositions();
		stream.subscribe('trading', ['trades', 'orders'], pos.map((x) => `${x.exchange}:${x.symbol}`));
		zvt.trading.openOrders = ords;
		fill(ordNode, ords.length ? table([
			{ key: 'order_id', label: 'id' }, { key: 'symbol', label: 'symbol' }, { key: 'side', label: 'side' },
			{ key: 'type', label: 'type' }, { key: 'qty', label: 'qty', fmt: (v) => num(v, 4) },
			{ key: 'price', label: 'price', fmt: (v) => num(v) }, { key: 'stop_price', label: 'stop', fmt: (v) => num(v) },
			{ key: 'status', label: 'status' }, { key: 'created_at', label: 'created', fmt: time },
			{ key: 'cancel', label: '', render: (r) => el('button', { class: 'sell cancel', 'data-order': r.order_id, onclick: () => cancel(r.order_id) }, 'Cancel') },
		], ords) : el('p', { class: 'dim' }, 'No open orders.'));
		fill(fillNode, fills.length ? table([
			{ key: 'ts', label: 'time', fmt: time }, { key: 'symbol', label: 'symbol' }, { key: 'side', label: 'side' },
			{ key: 'qty', label: 'qty', fmt: (v) => num(v, 4) }, { key: 'price', label: 'price', fmt: (v) => num(v) },
			{ key: 'fee', label: 'fee', fmt: (v) => num(v, 4) }, { key: 'liquidity', label: 'liq' },
			{ key: 'realized_pnl', label: 'pnl', fmt: (v) => num(v, 2), cls: sign },
		], fills) : el('p', { class: 'dim' }, 'No fills.'));
		const keys = risk.length ? Object.keys(risk[0]).filter((k) => !['account_id', 'instrument_id', 'updated_at'].includes(k)) : [];
		fill(riskNode, risk.length ? table(keys.map((k) => ({ key: k, label: k.replace(/^max_/, 'max ') })), risk)
			: el('p', { class: 'dim' }, 'No risk limits on this account.'));
	}

	async function cancel(id) {
		try {
			await rpc('cancel_order', { order_id: id });
		} catch (e) {
			zvt.error(e);
		}
		refresh().catch(zvt.error);
	}

	const offs = [
		stream.on('trade', (m) => {
			const k = `${m.exchange}:${m.symbol}`;
			if (positions.some((p) => `${p.exchange}:${p.symbol}` === k)) {
				marks.set(k, +m.price);
				dirty = true;
			}
		}),
		stream.on('order', () => { stale = true; }),
		stream.on('fill', () => { stale = true; }),
	];
	let dirty = false, stale = false;
	const t1 = setInterval(() => { if (dirty) { dirty = false; renderPositions(); } }, 500);
	const t2 = setInterval(() => { if (stale) { stale = false; refresh().catch(zvt.error); } }, 1000);
	const t3 = setInterval(() => refresh().catch(zvt.error), 5000);
	refresh().catch(zvt.error);
	return () => {
		offs.forEach((o) => o());
		[t1, t2, t3].forEach(clearInterval);
		stream.unsubscribe('trading');
	};
}
