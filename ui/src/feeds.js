// ui/src/feeds.js: the Feeds page: zvt_api.feed_status per connection,
// gaps (open and repaired) and backfill jobs with progress bars,
// refreshed every two seconds.
import { get } from './api.js';
import { el, fill, num, panel, table, time } from './util.js';

export function mount(node, zvt) {
	const status = el('div'), gaps = el('div'), jobs = el('div');
	fill(node, el('div', { class: 'grid' }, panel('Feeds', status), panel('Backfill jobs', jobs), panel('Gaps', gaps)));
	let prev = null;

	async function refresh() {
		const [fs, gs, js] = await Promise.all([
			get('/feed_status', { order: 'exchange' }),
			get('/gaps', { order: 'from_ts.desc', limit: 50 }),
			get('/backfill_jobs', { order: 'id.desc', limit: 50 }),
		]);
		const now = Date.now();
		// messages per second since the last refresh
		for (const f of fs) {
			const p = prev && prev.rows.find((x) => x.exchange === f.exchange);
			f.rate = p ? ((f.messages - p.messages) * 1000) / (now - prev.at) : null;
		}
		prev = { at: now, rows: fs };
		fill(status, table([
			{ key: 'exchange', label: 'exchange' },
			{ key: 'state', label: 'state', cls: (v) => (v === 'streaming' || v === 'connected' ? 'up' : 'down') },
			{ key: 'rate', label: 'msg/s', fmt: (v) => (v === null ? '' : num(v, 1)) },
			{ key: 'messages', label: 'messages' },
			{ key: 'rows_written', label: 'rows' },
			{ key: 'parse_errors', label: 'parse errors' },
			{ key: 'reconnects', label: 'reconnects' },
			{ key: 'lag', label: 'latency' },
			{ key: 'connected_since', label: 'since', fmt: time },
		], fs));
		fill(jobs, js.length ? table([
			{ key: 'id', label: 'id' },
			{ key: 'exchange', label: 'exchange' },
			{ key: 'symbol', label: 'symbol' },
			{ key: 'channel', label: 'channel' },
			{ key: 'state', label: 'state' },
			{ key: 'pct_done', label: 'progress', render: (r) => el('div', { class: 'row' }, progressBar(r.pct_done), `${num(r.pct_done, 1)}%`) },
			{ key: 'rows_written', label: 'rows' },
			{ key: 'pages', label: 'pages' },
			{ key: 'last_error', label: 'error' },
		], js) : el('p', { class: 'dim' }, 'No backfill jobs.'));
		fill(gaps, gs.length ? table([
			{ key: 'exchange', label: 'exchange' },
			{ key: 'symbol', label: 'symbol' },
			{ key: 'channel', label: 'channel' },
			{ key: 'from_ts', label: 'from', fmt: time },
			{ key: 'to_ts', label: 'to', fmt: time },
			{ key: 'reason', label: 'reason' },
			{ key: 'repaired_at', label: 'repaired', fmt: (v) => (v ? time(v) : 'open'), cls: (v) => (v ? 'up' : 'down') },
		], gs) : el('p', { class: 'dim' }, 'No gaps.'));
		zvt.feeds = { status: fs, gaps: gs, jobs: js };
	}
	refresh().catch(zvt.error);
	const t = setInterval(() => refresh().catch(zvt.error), 2000);
	return () => clearInterval(t);
}

function progressBar(pctDone) {
	const inner = el('div');
	inner.style.width = `${Math.max(0, Math.min(100, Number(pctDone) || 0))}%`;
	return el('div', { class: 'bar' }, inner);
}
