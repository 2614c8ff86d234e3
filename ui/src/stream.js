// ui/src/stream.js: the live WebSocket /stream of the HTTP front.
// One connection per page load (token in ?token=, anon without), the
// pages' subscriptions are sent again after a reconnect; messages go
// to the handlers registered for their "op".
import { getToken } from './api.js';

const handlers = new Map();		// op -> Set of functions
let ws = null;
let subs = new Map();			// key -> {channels, symbols}
let retry = 500;
let statusCb = () => {};
export const stats = { messages: 0, dropped: 0, connected: false, subscribed: false };

export function onStatus(cb) {
	statusCb = cb;
}

export function on(op, fn) {
	if (!handlers.has(op))
		handlers.set(op, new Set());
	handlers.get(op).add(fn);
	return () => handlers.get(op).delete(fn);
}

function send(msg) {
	if (ws && ws.readyState === WebSocket.OPEN)
		ws.send(JSON.stringify(msg));
}

// Subscribe under a key (a page's name); a later call with the same key
// replaces that subscription.
export function subscribe(key, channels, symbols) {
	unsubscribe(key);
	subs.set(key, { channels, symbols });
	send({ op: 'subscribe', channels, symbols });
}

export function unsubscribe(key) {
	const s = subs.get(key);
	if (s) {
		subs.delete(key);
		send({ op: 'unsubscribe', channels: s.channels, symbols: s.symbols });
	}
}

// (Re)connect, e.g. after the token changed.
export function connect() {
	if (ws) {
		ws.onclose = null;
		ws.close();
	}
	const proto = location.protocol === 'https:' ? 'wss:' : 'ws:';
	const t = getToken();
	ws = new WebSocket(`${proto}//${location.host}/stream${t ? `?token=${encodeURIComponent(t)}` : ''}`);
	ws.onopen = () => {
		retry = 500;
		stats.connected = true;
		statusCb(true);
		for (const s of subs.values())
			send({ op: 'subscribe', channels: s.channels, symbols: s.symbols });
	};
	ws.onmessage = (ev) => {
		let m;
		try {
			m = JSON.parse(ev.data);
		} catch (e) {
			return;
		}
		stats.messages++;
		if (m.op === 'dropped')
			stats.dropped += m.count || 0;
		else if (m.op === 'subscribed')
			stats.subscribed = true;
		const hs = handlers.get(m.op);
		if (hs)
			for (const h of hs)
				h(m);
	};
	ws.onclose = () => {
		stats.connected = false;
		statusCb(false);
		setTimeout(connect, retry);
		retry = Math.min(retry * 2, 10000);
	};
	// an error is followed by close, which retries
	ws.onerror = () => {};
}

// Feed messages as if they came from the server (the browser test's
// frame-rate benchmark uses it: 1,000 trades/s without a server).
export function inject(m) {
	const hs = handlers.get(m.op);
	if (hs)
		for (const h of hs)
			h(m);
}
