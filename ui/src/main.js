// ui/src/main.js: the dashboard's shell: the login dialog (a pasted JWT
// or anonymous; the token is kept in memory only, a reload forgets it),
// the page router (#markets, #feeds, #trading, #backtests), the /stream
// connection, and window.__zvt, where the pages expose what they show
// for the browser test (test/browser/dashboard.mjs).
import { getRole, setToken } from './api.js';
import * as stream from './stream.js';
import * as markets from './markets.js';
import * as feeds from './feeds.js';
import * as trading from './trading.js';
import * as backtests from './backtests.js';

const pages = { markets, feeds, trading, backtests };
const zvt = (window.__zvt = {
	page: null,
	errors: [],
	stream: stream.stats,
	inject: stream.inject,
	error(e) {
		zvt.errors.push(String(e && e.message ? e.message : e));
		const box = document.getElementById('error');
		box.textContent = e && e.message ? e.message : String(e);
		box.hidden = false;
	},
	login(token) {
		setToken(token);
		document.getElementById('who').textContent = getRole();
		stream.connect();
		route();
	},
});
let unmount = null;

function route() {
	const name = (location.hash || '#markets').slice(1);
	const page = pages[name] ? name : 'markets';
	if (unmount)
		unmount();
	document.getElementById('error').hidden = true;
	for (const a of document.querySelectorAll('nav a'))
		a.classList.toggle('active', a.dataset.page === page);
	zvt.page = page;
	zvt.ready = false;
	unmount = pages[page].mount(document.getElementById('page'), zvt);
}

function init() {
	const dlg = document.getElementById('login');
	document.getElementById('login-open').addEventListener('click', () => dlg.showModal());
	document.getElementById('login-form').addEventListener('submit', (e) => {
		const use = e.submitter && e.submitter.value === 'use';
		const t = document.getElementById('token');
		zvt.login(use ? t.value.trim() : null);
		t.value = '';
	});
	stream.onStatus((up) => {
		const p = document.getElementById('live');
		p.textContent = up ? 'live' : 'offline';
		p.className = `pill ${up ? 'on' : 'off'}`;
	});
	window.addEventListener('hashchange', route);
	stream.connect();
	route();
}

if (document.readyState === 'loading')
	document.addEventListener('DOMContentLoaded', init);
else
	init();
