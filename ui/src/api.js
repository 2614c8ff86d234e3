// ui/src/api.js: the HTTP front's REST API (PostgREST's grammar over
// zvt_api, docs/http.md) and the session's token, which lives in this
// module's memory only (never in storage or a cookie).
let token = null;
let role = 'anon';

export function setToken(t) {
	token = t || null;
	role = 'anon';
	if (token) {
		try {
			const claims = JSON.parse(atob(token.split('.')[1].replace(/-/g, '+').replace(/_/g, '/')));
			role = claims.role || 'token';
		} catch (e) {
			role = 'token';
		}
	}
}
export const getToken = () => token;
export const getRole = () => role;
export const isAnon = () => token === null;

// An API error: PostgREST's message, details and hint.
export class ApiError extends Error {
	constructor(status, body) {
		super(body && body.message ? body.message : `HTTP ${status}`);
		this.status = status;
		this.details = body && body.details;
		this.hint = body && body.hint;
		this.code = body && body.code;
	}
}

// A request to the API: path with its query ("/tickers?order=symbol"),
// method, JSON body; resolves to the parsed JSON (or null on 204).
export async function api(path, { method = 'GET', body, headers = {} } = {}) {
	const h = { Accept: 'application/json', ...headers };
	if (token)
		h.Authorization = `Bearer ${token}`;
	if (body !== undefined)
		h['Content-Type'] = 'application/json';
	const r = await fetch(path, { method, headers: h, body: body === undefined ? undefined : JSON.stringify(body) });
	const text = await r.text();
	const json = text ? JSON.parse(text) : null;
	if (!r.ok)
		throw new ApiError(r.status, json);
	return json;
}

// A GET with query parameters built from an object.
export function get(path, params = {}) {
	const q = new URLSearchParams(params).toString();
	return api(q ? `${path}?${q}` : path);
}

// A call of a zvt_api function: POST /rpc/name with its named arguments.
export function rpc(name, args = {}) {
	return api(`/rpc/${name}`, { method: 'POST', body: args });
}
