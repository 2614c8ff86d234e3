/*
 * test/exsim/priv_stream.c
 *	  The private streams of the simulator's private API (private.h):
 *	  every order state change and every execution of an account pushed
 *	  to its logged-in connections in the exchange's own format, with the
 *	  exchange's login and its real errors.
 *
 *	 Binance   POST /api/v3/userDataStream (X-MBX-APIKEY, no signature;
 *			   -2014/-2015 HTTP 401) gives the account's listenKey (the
 *			   same while it lives, 60 min), PUT with listenKey= (query or form body) keeps it
 *			   (-1125 "This listenKey does not exist."), DELETE drops it;
 *			   ws /ws/<listenKey>: executionReport (x NEW, TRADE with t, l,
 *			   L, n, N, m; CANCELED with C the original client id;
 *			   EXPIRED), then outboundAccountPosition
 *	 Bybit	   ws /v5/private: {"op":"auth","args":[key,expires,sign]},
 *			   sign = hex HMAC(secret, "GET/realtime" + expires); refused
 *			   with success false ("Params Error" when malformed, "error:
 *			   request expired", "Invalid apikey", "Signature verification
 *			   failed"); topics execution, order, wallet
 *	 OKX	   ws /ws/v5/private: {"op":"login"}, sign = base64 HMAC(secret,
 *			   ts + "GET/users/self/verify"), ts unix seconds within 30 s;
 *			   refusals {"event":"error","code":"60009"...} (60005 key,
 *			   60024 passphrase, 60006 timestamp, 60007 sign); channels
 *			   orders (a fill carries tradeId, fillSz, fillPx, fillFee
 *			   negative, execType) and account
 *	 Coinbase  subscribe to channel user with a JWT (ex_coinbase.c hands it
 *			   here); a bad one gets {"type":"error","message":
 *			   "authentication failure"}; events[].orders[] with the
 *			   cumulative quantity, value and fees (no trade ids)
 *
 * Faults and helpers, GET /private?exchange=X& on the admin port:
 * down=1|0 (close the private connections and refuse new ones, or let
 * them in again), dup=N (the next N private messages are sent twice),
 * cross=PRICE&symbol=S&qty=Q (a trade of the market at PRICE that fills
 * the resting orders it reaches), cancel=CLIENT_ID (an order canceled
 * on the exchange's side).
 */
#include "private.h"

#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <libwebsockets.h>

#include "live/sign.h"

#define LK_MAX		64
#define LK_LIFE_MS	(60 * 60 * 1000)

static struct
{
	Exchange   *ex;
	int			acct;
	char		key[65];
	int64_t		expires;		/* real ms */
}			lkeys[LK_MAX];
static int	nlkeys;

/* per exchange (index in sim.ex): the faults */
static bool down[5];
static int	dup_left[5];

static int
ex_index(Exchange *ex)
{
	return (int) (ex - sim.ex);
}

static Buf	msgbuf;

/* send one private message to c (twice under the dup fault) */
static void
ps_send(Exchange *ex, ExConn *c, const char *msg, size_t len)
{
	conn_send(c, msg, len, false);
	if (dup_left[ex_index(ex)] > 0)
	{
		dup_left[ex_index(ex)]--;
		conn_send(c, msg, len, false);
	}
}

/* ------------------------------------------------------------------ */
/* login                                                               */
/* ------------------------------------------------------------------ */

static int
lk_find(const char *key)
{
	for (int i = 0; i < nlkeys; i++)
		if (strcmp(lkeys[i].key, key) == 0 && lkeys[i].expires > now_real_ms())
			return i;
	return -1;
}

/* a listenKey's shape: 60 letters and digits */
static bool
lk_shape(const char *p)
{
	size_t		n = 0;

	for (; p[n]; n++)
		if (!((p[n] >= 'a' && p[n] <= 'z') || (p[n] >= 'A' && p[n] <= 'Z') || (p[n] >= '0' && p[n] <= '9')))
			return false;
	return n == 60;
}

/*
 * Is path a private stream endpoint of ex that must be refused (the down
 * fault, an unknown or expired listenKey)?  The server refuses the
 * upgrade then, rather than offering the path to the public streams.
 */
bool
pstream_refuse(Exchange *ex, const char *path)
{
	const char *name = ex->ad->name;

	if (ex->priv == NULL || ex->futures)
		return false;
	if (strcmp(name, "binance") == 0 && strncmp(path, "/ws/", 4) == 0 && lk_shape(path + 4))
		return down[ex_index(ex)] || lk_find(path + 4) < 0;
	if ((strcmp(name, "bybit") == 0 && strcmp(path, "/v5/private") == 0) ||
		(strcmp(name, "okx") == 0 && strcmp(path, "/ws/v5/private") == 0))
		return down[ex_index(ex)];
	return false;
}

/* is path a private stream endpoint of ex?  sets c's kind and account */
bool
pstream_accept(Exchange *ex, ExConn *c, const char *path)
{
	const char *name = ex->ad->name;

	if (ex->priv == NULL || ex->futures)
		return false;
	if (strcmp(name, "binance") == 0 && strncmp(path, "/ws/", 4) == 0)
	{
		int			k = lk_find(path + 4);

		if (k < 0 || lkeys[k].ex != ex || down[ex_index(ex)])
			return false;
		c->kind = PRIV_KIND;
		c->priv_acct1 = lkeys[k].acct + 1;
		c->priv_ready = true;	/* the listenKey is the login */
		return true;
	}
	if ((strcmp(name, "bybit") == 0 && strcmp(path, "/v5/private") == 0) ||
		(strcmp(name, "okx") == 0 && strcmp(path, "/ws/v5/private") == 0))
	{
		if (down[ex_index(ex)])
			return false;
		c->kind = PRIV_KIND;
		return true;
	}
	return false;
}

static void
bybit_reply(ExConn *c, const char *op, bool ok, const char *msg, const char *req_id)
{
	buf_reset(&msgbuf);
	buf_printf(&msgbuf, "{\"success\":%s,\"ret_msg\":\"%s\",\"op\":\"%s\",\"conn_id\":\"%s\"%s%s%s}",
			   ok ? "true" : "false", msg, op, c->conn_id,
			   req_id ? ",\"req_id\":\"" : "", req_id ? req_id : "", req_id ? "\"" : "");
	conn_send(c, msgbuf.data, msgbuf.len, false);
}

static void
bybit_receive(Exchange *ex, ExConn *c, json_t *j)
{
	const char *op = json_string_value(json_object_get(j, "op"));
	const char *req_id = json_string_value(json_object_get(j, "req_id"));
	json_t	   *args = json_object_get(j, "args");

	if (op && strcmp(op, "ping") == 0)
	{
		buf_reset(&msgbuf);
		buf_printf(&msgbuf, "{\"req_id\":\"%s\",\"op\":\"pong\",\"args\":[\"%lld\"],\"conn_id\":\"%s\"}",
				   req_id ? req_id : "", (long long) now_real_ms(), c->conn_id);
		conn_send(c, msgbuf.data, msgbuf.len, false);
	}
	else if (op && strcmp(op, "auth") == 0)
	{
		const char *key = json_string_value(json_array_get(args, 0));
		json_t	   *exp = json_array_get(args, 1);
		const char *sig = json_string_value(json_array_get(args, 2));
		char		expires[32];
		char		want[SIGN_HEX_LEN];
		int			a;

		if (!key || !sig || !(json_is_integer(exp) || json_is_string(exp)))
			return bybit_reply(c, "auth", false, "Params Error", req_id);
		if (json_is_integer(exp))
			snprintf(expires, sizeof(expires), "%lld", (long long) json_integer_value(exp));
		else
			snprintf(expires, sizeof(expires), "%s", json_string_value(exp));
		if ((a = priv_find_account(ex, key)) < 0)
			return bybit_reply(c, "auth", false, "Invalid apikey", req_id);
		if (atoll(expires) <= now_sim_ms())
			return bybit_reply(c, "auth", false, "error:request expired", req_id);
		if (sign_bybit_ws(ex->priv->acct[a].secret, expires, want, sizeof(want)) < 0 || !sign_equal(want, sig))
			return bybit_reply(c, "auth", false, "Signature verification failed", req_id);
		c->priv_acct1 = a + 1;
		bybit_reply(c, "auth", true, "", req_id);
	}
	else if (op && strcmp(op, "subscribe") == 0)
	{
		if (c->priv_acct1 == 0)
			return bybit_reply(c, "subscribe", false, "Request not authorized", req_id);
		c->priv_ready = true;
		c->subscribed = true;
		bybit_reply(c, "subscribe", true, "", req_id);
	}
	else
		bybit_reply(c, op ? op : "", false, "error:invalid op", req_id);
}

static void
okx_error(ExConn *c, const char *code, const char *msg)
{
	buf_reset(&msgbuf);
	buf_printf(&msgbuf, "{\"event\":\"error\",\"code\":\"%s\",\"msg\":\"%s\",\"connId\":\"%s\"}", code, msg, c->conn_id);
	conn_send(c, msgbuf.data, msgbuf.len, false);
}

static void
okx_receive(Exchange *ex, ExConn *c, json_t *j)
{
	const char *op = json_string_value(json_object_get(j, "op"));
	json_t	   *args = json_object_get(j, "args");

	if (op && strcmp(op, "login") == 0)
	{
		json_t	   *a0 = json_array_get(args, 0);
		const char *key = json_string_value(json_object_get(a0, "apiKey"));
		const char *pass = json_string_value(json_object_get(a0, "passphrase"));
		const char *ts = json_string_value(json_object_get(a0, "timestamp"));
		const char *sig = json_string_value(json_object_get(a0, "sign"));
		char		want[SIGN_B64_LEN];
		int			a;
		int64_t		skew;

		if (!key || !pass || !ts || !sig)
			return okx_error(c, "60009", "Login failed.");
		if ((a = priv_find_account(ex, key)) < 0)
			return okx_error(c, "60005", "Invalid OK-ACCESS-KEY");
		skew = atoll(ts) - now_sim_ms() / 1000;
		if (skew > 30 || skew < -30)
			return okx_error(c, "60006", "Timestamp request expired");
		if (!ex->priv->acct[a].has_passphrase || !sign_equal(pass, ex->priv->acct[a].passphrase))
			return okx_error(c, "60024", "Wrong passphrase");
		if (sign_okx_ws(ex->priv->acct[a].secret, ts, want, sizeof(want)) < 0 || !sign_equal(want, sig))
			return okx_error(c, "60007", "Invalid Sign");
		c->priv_acct1 = a + 1;
		buf_reset(&msgbuf);
		buf_printf(&msgbuf, "{\"event\":\"login\",\"code\":\"0\",\"msg\":\"\",\"connId\":\"%s\"}", c->conn_id);
		conn_send(c, msgbuf.data, msgbuf.len, false);
	}
	else if (op && strcmp(op, "subscribe") == 0)
	{
		size_t		i;
		json_t	   *arg;

		if (c->priv_acct1 == 0)
			return okx_error(c, "60011", "Please log in");
		json_array_foreach(args, i, arg)
		{
			const char *ch = json_string_value(json_object_get(arg, "channel"));
			char	   *dump;

			if (!ch || (strcmp(ch, "orders") != 0 && strcmp(ch, "account") != 0))
			{
				okx_error(c, "60018", "Wrong URL or channel");
				continue;
			}
			dump = json_dumps(arg, JSON_COMPACT);
			buf_reset(&msgbuf);
			buf_printf(&msgbuf, "{\"event\":\"subscribe\",\"arg\":%s,\"connId\":\"%s\"}", dump, c->conn_id);
			free(dump);
			conn_send(c, msgbuf.data, msgbuf.len, false);
		}
		c->priv_ready = true;
		c->subscribed = true;
	}
	else
		okx_error(c, "60012", "Invalid request");
}

/* a message on a private connection */
void
pstream_receive(Exchange *ex, ExConn *c, const char *msg, size_t len)
{
	json_t	   *j;

	if (len == 4 && memcmp(msg, "ping", 4) == 0)
	{
		conn_send_str(c, "pong", false);
		return;
	}
	j = json_loadb(msg, len, 0, NULL);
	if (j == NULL)
	{
		if (strcmp(ex->ad->name, "okx") == 0)
			okx_error(c, "60012", "Invalid request");
		return;
	}
	if (strcmp(ex->ad->name, "bybit") == 0)
		bybit_receive(ex, c, j);
	else if (strcmp(ex->ad->name, "okx") == 0)
		okx_receive(ex, c, j);
	json_decref(j);
}

/*
 * Coinbase: a subscribe (add) or unsubscribe to channel user, with the
 * message's JWT (ex_coinbase.c).
 */
void
pstream_coinbase_user(Exchange *ex, ExConn *c, const char *jwt, bool add)
{
	char		claims[1024];
	const char *dot1,
			   *dot2;
	int			n,
				a = -1;
	json_t	   *j = NULL;
	int64_t		now = now_sim_ms() / 1000;

	if (!add)
	{
		c->priv_ready = false;
		return;
	}
	if (jwt && (dot1 = strchr(jwt, '.')) && (dot2 = strchr(dot1 + 1, '.')) &&
		(n = sign_base64url_decode(dot1 + 1, (size_t) (dot2 - dot1 - 1), (unsigned char *) claims,
								   sizeof(claims) - 1)) > 0)
	{
		const char *sub;

		claims[n] = '\0';
		j = json_loads(claims, 0, NULL);
		sub = json_string_value(json_object_get(j, "sub"));
		if (!sub || (a = priv_find_account(ex, sub)) < 0 ||
			sign_jwt_verify(jwt, ex->priv->acct[a].pubpem, claims, sizeof(claims)) < 0 ||
			json_integer_value(json_object_get(j, "nbf")) > now + 5 ||
			json_integer_value(json_object_get(j, "exp")) <= now)
			a = -1;
	}
	json_decref(j);
	if (down[ex_index(ex)])
	{
		conn_close(c, 1001);	/* the down fault: the stream goes away */
		return;
	}
	if (a < 0)
	{
		conn_send_str(c, "{\"type\":\"error\",\"message\":\"authentication failure\"}", false);
		return;
	}
	c->priv_acct1 = a + 1;
	c->priv_ready = true;
	c->subscribed = true;
	buf_reset(&msgbuf);
	buf_printf(&msgbuf, "{\"channel\":\"subscriptions\",\"timestamp\":\"\",\"sequence_num\":%lld,"
			   "\"events\":[{\"subscriptions\":{\"user\":[\"%s\"]}}]}",
			   (long long) c->seq++, ex->priv->acct[a].key);
	conn_send(c, msgbuf.data, msgbuf.len, false);
}

/* Binance: /api/v3/userDataStream; the HTTP status */
int
pstream_binance_rest(Exchange *ex, ExConn *c, const PrivRequest *r)
{
	char		key[256];
	char		lk[80];
	int			a,
				k;

	buf_reset(&c->body);
	if (!priv_header(r, "x-mbx-apikey", key, sizeof(key)))
		return buf_lit(&c->body, "{\"code\":-2014,\"msg\":\"API-key format invalid.\"}"), 401;
	if ((a = priv_find_account(ex, key)) < 0)
		return buf_lit(&c->body, "{\"code\":-2015,\"msg\":\"Invalid API-key, IP, or permissions for action.\"}"), 401;
	if (strcmp(r->method, "POST") == 0)
	{
		for (k = 0; k < nlkeys; k++)
			if (lkeys[k].ex == ex && lkeys[k].acct == a && lkeys[k].expires > now_real_ms())
				break;
		if (k == nlkeys)
		{
			if (nlkeys == LK_MAX)
				return buf_lit(&c->body, "{\"code\":-1000,\"msg\":\"An unknown error occured while processing the request.\"}"), 500;
			nlkeys++;
			lkeys[k].ex = ex;
			lkeys[k].acct = a;
			for (int i = 0; i < 60; i++)
			{
				int			v = (int) (ex_random(ex) * 62);

				lkeys[k].key[i] = (char) (v < 10 ? '0' + v : v < 36 ? 'a' + v - 10 : 'A' + v - 36);
			}
			lkeys[k].key[60] = '\0';
		}
		lkeys[k].expires = now_real_ms() + LK_LIFE_MS;
		buf_printf(&c->body, "{\"listenKey\":\"%s\"}", lkeys[k].key);
		return 200;
	}
	if (!priv_param(r, "listenKey", lk, sizeof(lk)))
		return buf_lit(&c->body, "{\"code\":-1102,\"msg\":\"Mandatory parameter 'listenKey' was not sent, was empty/null, or malformed.\"}"), 400;
	if ((k = lk_find(lk)) < 0 || lkeys[k].ex != ex || lkeys[k].acct != a)
		return buf_lit(&c->body, "{\"code\":-1125,\"msg\":\"This listenKey does not exist.\"}"), 400;
	if (strcmp(r->method, "PUT") == 0)
		lkeys[k].expires = now_real_ms() + LK_LIFE_MS;
	else if (strcmp(r->method, "DELETE") == 0)
		lkeys[k].expires = 0;
	else
		return buf_lit(&c->body, "{\"code\":-1102,\"msg\":\"Illegal request method.\"}"), 400;
	buf_lit(&c->body, "{}");
	return 200;
}

/* ------------------------------------------------------------------ */
/* pushing                                                             */
/* ------------------------------------------------------------------ */

/* one message to every logged-in private connection of account acct */
void
pstream_push(Exchange *ex, int acct, const char *msg, size_t len)
{
	for (ExConn *c = ex->conns; c; c = c->next)
		if (c->priv_ready && c->priv_acct1 == acct + 1)
			ps_send(ex, c, msg, len);
}

/* Coinbase: one event of channel user, with each connection's sequence_num */
void
pstream_push_coinbase(Exchange *ex, int acct, const char *event, size_t len)
{
	char		ts[40];

	fmt_rfc3339(ts, sizeof(ts), now_sim_ms(), true);
	for (ExConn *c = ex->conns; c; c = c->next)
		if (c->priv_ready && c->priv_acct1 == acct + 1)
		{
			buf_reset(&msgbuf);
			buf_printf(&msgbuf, "{\"channel\":\"user\",\"client_id\":\"\",\"timestamp\":\"%s\",\"sequence_num\":%lld,\"events\":[",
					   ts, (long long) c->seq++);
			buf_add(&msgbuf, event, len);
			buf_lit(&msgbuf, "]}");
			ps_send(ex, c, msgbuf.data, msgbuf.len);
		}
}

/* ------------------------------------------------------------------ */
/* admin: faults and the market's hand                                 */
/* ------------------------------------------------------------------ */

/* GET /private?exchange=X&...: see the head comment; the HTTP status */
int
pstream_admin(Exchange *ex, ExConn *c, const char *args)
{
	char		v[80];
	char		sym[48];
	int			filled = 0;

	if (ex->priv == NULL)
	{
		buf_printf(&c->body, "{\"error\":\"no private API\"}");
		return 404;
	}
	if (url_arg(args, "down", v, sizeof(v)))
	{
		down[ex_index(ex)] = atoi(v) != 0;
		if (down[ex_index(ex)])
			for (ExConn *k = ex->conns; k; k = k->next)
				if (k->priv_acct1 > 0 || k->kind == PRIV_KIND)
				{
					k->priv_ready = false;
					conn_close(k, 1001);
				}
	}
	if (url_arg(args, "dup", v, sizeof(v)))
		dup_left[ex_index(ex)] = atoi(v);
	if (url_arg(args, "cancel", v, sizeof(v)))
	{
		for (int a = 0; a < ex->priv->naccounts; a++)
		{
			int			oi = priv_find_order(ex, a, 0, v);

			if (oi >= 0 && priv_cancel(ex, oi) == 0)
				filled++;
		}
	}
	if (url_arg(args, "cross", v, sizeof(v)) && url_arg(args, "symbol", sym, sizeof(sym)))
	{
		MkSymbol   *s = mk_find(&ex->market, sym);
		MkTrade		t;
		char		q[48];

		memset(&t, 0, sizeof(t));
		if (s == NULL || !priv_parse_units(v, s->px_dec, &t.px) ||
			!url_arg(args, "qty", q, sizeof(q)) || !priv_parse_units(q, s->qty_dec, &t.qty))
		{
			buf_printf(&c->body, "{\"error\":\"cross needs symbol, a price and qty\"}");
			return 400;
		}
		t.ts = now_sim_ms();
		priv_on_trade(ex, symbol_index(ex, s), &t);
		filled = 1;
	}
	buf_printf(&c->body, "{\"ok\":true,\"down\":%s,\"dup\":%d,\"done\":%d}",
			   down[ex_index(ex)] ? "true" : "false", dup_left[ex_index(ex)], filled);
	return 200;
}
