// ui/src/util.js: DOM helpers, number formats and tables for the pages.
// No innerHTML with data: text goes in through textContent only.

// An element: el('td', {class: 'up'}, 'text', child, ...).
export function el(tag, attrs = {}, ...children) {
	const e = document.createElement(tag);
	for (const [k, v] of Object.entries(attrs || {})) {
		if (v === undefined || v === null || v === false)
			continue;
		if (k.startsWith('on'))
			e.addEventListener(k.slice(2), v);
		else if (k === 'class')
			e.className = v;
		else
			e.setAttribute(k, v === true ? '' : v);
	}
	for (const c of children.flat(Infinity)) {
		if (c === null || c === undefined || c === false)
			continue;
		e.append(c instanceof Node ? c : document.createTextNode(String(c)));
	}
	return e;
}

export function num(v, digits) {
	if (v === null || v === undefined || v === '')
		return '';
	const n = Number(v);
	if (!Number.isFinite(n))
		return String(v);
	if (digits === undefined)
		digits = Math.abs(n) >= 1000 ? 2 : Math.abs(n) >= 1 ? 4 : 6;
	return n.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

export const pct = (v) => (v === null || v === undefined ? '' : `${Number(v) >= 0 ? '+' : ''}${Number(v).toFixed(2)}%`);
export const sign = (v) => (Number(v) > 0 ? 'up' : Number(v) < 0 ? 'down' : '');
export const time = (ts) => (ts ? new Date(ts).toISOString().replace('T', ' ').slice(0, 19) : '');

// A table of rows: cols are [{key, label, fmt, cls}], sortable when a
// sort state {key, desc} is passed with an onSort callback.
export function table(cols, rows, { onRow, selected, sort, onSort, rowKey } = {}) {
	const head = el('tr', {}, cols.map((c) => el('th', {
		class: onSort ? 'sort' : '',
		onclick: onSort ? () => onSort(c.key) : undefined,
	}, c.label + (sort && sort.key === c.key ? (sort.desc ? ' ▼' : ' ▲') : ''))));
	const body = rows.map((r) => el('tr', {
		class: [onRow ? 'click' : '', selected !== undefined && rowKey && r[rowKey] === selected ? 'sel' : ''].join(' ').trim(),
		onclick: onRow ? () => onRow(r) : undefined,
	}, cols.map((c) => {
		const v = r[c.key];
		const content = c.render ? c.render(r) : c.fmt ? c.fmt(v, r) : v ?? '';
		return el('td', { class: c.cls ? c.cls(v, r) : '' }, content);
	})));
	return el('table', {}, el('thead', {}, head), el('tbody', {}, body));
}

// Sort rows by key (numbers numerically, the rest as strings).
export function sortRows(rows, { key, desc }) {
	const s = [...rows].sort((a, b) => {
		const x = a[key], y = b[key];
		if (x === y) return 0;
		if (x === null || x === undefined) return 1;
		if (y === null || y === undefined) return -1;
		return typeof x === 'number' && typeof y === 'number' ? x - y : String(x).localeCompare(String(y));
	});
	return desc ? s.reverse() : s;
}

export function panel(title, ...children) {
	return el('section', { class: 'panel' }, el('h2', {}, title), ...children);
}

// Replace the children of node.
export function fill(node, ...children) {
	node.replaceChildren(...children.flat(Infinity).filter((c) => c !== null && c !== undefined));
}

// The interval string zvt takes for a timeframe name, and its seconds.
export const TIMEFRAMES = { '1m': 60, '5m': 300, '15m': 900, '1h': 3600, '4h': 14400, '1d': 86400 };
export const tfInterval = (tf) => `${TIMEFRAMES[tf]} seconds`;
