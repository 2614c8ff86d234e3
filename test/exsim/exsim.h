/*
 * test/exsim/exsim.h
 *	  Shared types of zvt-exsim, the exchange simulator: exchanges,
 *	  connections, subscriptions, faults, and the adapter interface each
 *	  exchange file implements.
 *
 * One libwebsockets context serves one vhost (port) per exchange, each
 * carrying that exchange's public WebSocket paths and REST endpoints,
 * plus an admin vhost for fault injection.  The market (market.c) runs on
 * a timer whether or not anyone is connected; every event is formatted by
 * the exchange's adapter and queued to the connections subscribed to it.
 */
#ifndef EXSIM_H
#define EXSIM_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "history.h"
#include "market.h"

struct lws;
struct lws_vhost;
struct PrivRequest;
struct PrivState;

/* A growable byte buffer. */
typedef struct Buf
{
	char	   *data;
	size_t		len;
	size_t		cap;
} Buf;

extern void buf_reset(Buf *b);
extern void buf_add(Buf *b, const char *s, size_t n);
extern void buf_printf(Buf *b, const char *fmt,...) __attribute__((format(printf, 2, 3)));
extern void buf_free(Buf *b);

/* Subscription bits per symbol. */
#define SUB_TRADE		(1u << 0)
#define SUB_AGGTRADE	(1u << 1)
#define SUB_BBO			(1u << 2)
#define SUB_BOOK		(1u << 3)
#define SUB_TICKER		(1u << 4)
#define SUB_KLINE(iv)	(1u << (5 + (iv)))
#define SUB_ANY_KLINE	(((1u << MK_NIV) - 1) << 5)
#define SUB_MARK		(1u << 11)	/* Binance futures @markPrice[@1s] */

/* Faults, from the command line or the admin endpoint. */
typedef struct Faults
{
	long		drop_after;		/* close each connection after N data messages */
	long		drop_every;		/* same, for every connection, repeatedly */
	double		malformed_p;	/* probability a data frame is corrupted */
	double		duplicate_p;	/* probability a data frame is sent twice */
	int64_t		stall_until_ms; /* real ms: send nothing until then */
	int			skip_seq;		/* skip this many book sequence numbers once */
	int			reject_subscribe;	/* answer the next N subscribes with errors */
	int			rest_429;		/* answer the next N REST calls with 429 */
	int			rest_429_after; /* ... once this many more were served */
	int			rest_5xx;		/* answer the next N REST calls with 503 */
	int			rest_partial;	/* send the next N REST calls 4 MB of their
								 * body and then nothing (a client times out) */
	bool		checksum_zero;	/* OKX: send checksum 0 (post-2026-06 mode) */
	int			bad_checksum;	/* OKX: the next N book updates carry a wrong checksum */
	bool		book_pause;		/* publish no book message (the books stay as last sent) */
	int			page_size;		/* Bybit: serve paged lists at most N a page
								 * (0: as the limit asks), so a client's
								 * cursor handling shows with few symbols */
} Faults;

typedef struct Exchange Exchange;

/* Per-connection state, the lws per-session data of WebSocket and HTTP. */
typedef struct ExConn
{
	Exchange   *ex;
	struct lws *wsi;
	struct ExConn *next;		/* in ex->conns */
	bool		is_ws;
	int			kind;			/* adapter-defined: endpoint of the connection */
	uint32_t	sub[MK_MAX_SYMBOLS];	/* SUB_* bits per market symbol */
	int			book_depth[MK_MAX_SYMBOLS];
	bool		combined;		/* Binance: wrap in {"stream","data"} */
	int64_t		seq;			/* Coinbase sequence_num */
	int64_t		connected_ms;	/* real ms */
	int64_t		last_rx_ms;
	int64_t		last_tx_ms;
	int64_t		last_ping_ms;
	int64_t		last_pong_ms;
	bool		ping_due;
	bool		close_due;
	int			close_code;
	long		sent;			/* data messages queued since connect */
	int64_t		rx_window_ms;	/* start of the current 1 s window */
	int			rx_in_window;	/* client messages in it */
	bool		subscribed;		/* any subscription acknowledged */
	long		drop_mark;		/* close when sent reaches this (0 = never) */
	/* outgoing queue: ring of malloc'd frames with LWS_PRE headroom */
	char	  **q;
	size_t	   *qlen;
	int			qhead, qcount, qcap;
	size_t		qbytes;			/* what the ring holds, bounded by sim.queue_max */
	int64_t		drained_ms;		/* real ms the ring was last empty */
	bool		too_slow;		/* cut for falling too far behind (1008) */
	/* HTTP response */
	Buf			body;
	int			status;
	int			retry_after;
	int			used_weight;	/* Binance: X-MBX-USED-WEIGHT-1M, 0 = none */
	bool		partial;		/* the body is one byte short of its length */
	size_t		body_sent;
	char		conn_id[40];
	/* HTTP request, kept while its body arrives */
	char		req_method[8];
	char		req_path[256];
	char		req_args[2048];
	Buf			req_body;
	bool		await_body;		/* answer once the body is in (Content-Length > 0) */
	int			refuse;			/* answer this error once the body is in (413) */
	bool		close_after;	/* close the connection after the answer */
	bool		drop_reply;		/* close without answering (a lost reply) */
	int			priv_acct1;		/* private stream: its account + 1 (0: none) */
	bool		priv_ready;		/* private stream: logged in and subscribed */
} ExConn;

typedef struct ExAdapter
{
	const char *name;
	/* is path (no query) a WebSocket endpoint of ours?  sets c->kind */
	bool		(*ws_accept) (Exchange *ex, ExConn *c, const char *path, const char *args);
	void		(*ws_open) (Exchange *ex, ExConn *c);
	void		(*ws_receive) (Exchange *ex, ExConn *c, const char *msg, size_t len);
	void		(*on_trade) (Exchange *ex, MkSymbol *s, const MkTrade *t);
	void		(*on_kline_closed) (Exchange *ex, MkSymbol *s, int iv, const MkKline *k);
	void		(*on_tick) (Exchange *ex, int64_t real_ms, int64_t sim_ms);
	/* REST: fill c->body, return the HTTP status */
	int			(*rest) (Exchange *ex, ExConn *c, const char *path, const char *args);
	/* the trade id as the exchange writes it (NULL: the decimal id) */
	void		(*trade_id) (const MkSymbol *s, const MkTrade *t, char *buf, size_t len);
	/* Admin "shutdown": the exchange's own close notice */
	void		(*shutdown_notice) (Exchange *ex, ExConn *c);
	/* signed private endpoints (private.h): the status, or 0 if not one */
	int			(*private_rest) (Exchange *ex, ExConn *c, const struct PrivRequest *r);
	/* the exchange's error body for a request refused before its API (%s: the message) */
	const char *http_error;
} ExAdapter;

struct Exchange
{
	const ExAdapter *ad;
	const char *label;			/* the name it is printed and listens under */
	bool		futures;		/* Binance USD-M futures: the perpetuals, /fapi */
	Market		market;
	int			port;
	struct lws_vhost *vhost;
	ExConn	   *conns;
	Faults		faults;
	bool		ended;			/* admin /end: the market publishes no more trades */
	uint64_t	rng;
	MkBook		book[MK_MAX_SYMBOLS];	/* last published book per symbol */
	bool		book_valid[MK_MAX_SYMBOLS];
	uint64_t	book_seq[MK_MAX_SYMBOLS];	/* sequence of the last published book */
	int64_t		last_push_ms;	/* real ms of the last periodic push */
	int64_t		last_fast_ms;
	MkTrade    *recent[MK_MAX_SYMBOLS];	/* ring of the latest trades */
	MkHistory  *past[MK_MAX_SYMBOLS];	/* the past before the start, or NULL */
	int64_t		weight_window_ms;	/* Binance: start of the weight minute (real ms) */
	int			weight_used;	/* request weight used in it */
	int			recent_n[MK_MAX_SYMBOLS];
	int			recent_head[MK_MAX_SYMBOLS];
	Buf			scratch;
	Buf			scratch2;
	struct PrivState *priv;		/* accounts, orders, balances (private.c) */
	long		messages;		/* data messages sent, all connections */
	long		connections;	/* accepted so far */
	long		tcp_accepted;	/* TCP connections accepted so far, HTTP ones too */
	long		slow_closed;	/* connections cut for reading too slowly */
	/* funding of perpetuals (ex_funding.c): the last mark update published */
	int64_t		next_funding_ms[MK_MAX_SYMBOLS];	/* sim ms; 0 = not started */
	int64_t		mark_px[MK_MAX_SYMBOLS];	/* ticks */
	int64_t		index_px[MK_MAX_SYMBOLS];	/* ticks */
	int64_t		rate_e8[MK_MAX_SYMBOLS];	/* funding rate x 10^8 */
	int64_t		mark_ts[MK_MAX_SYMBOLS];	/* sim ms; 0 = none published yet */
	int64_t		last_mark_ms;	/* real ms of the last mark push */
	/* the funding times settled, for /fapi/v1/fundingRate: a ring each */
	struct FundingSettled *settled[MK_MAX_SYMBOLS];
	int			settled_n[MK_MAX_SYMBOLS];
};

/* Global simulator state (main.c). */
typedef struct Sim
{
	Exchange	ex[5];
	int			nex;
	int64_t		funding_interval_ms;	/* sim ms between funding times (8 h) */
	int			mark_ms;		/* real ms between mark updates (1000) */
	double		speed;			/* sim ms per real ms */
	int64_t		sim_start_ms;
	int64_t		real_start_ms;
	double		rate;			/* trades per second per symbol; 0 = as fast as possible */
	long		count;			/* stop after this many trades per symbol (0 = never) */
	double		duration;		/* seconds (0 = forever) */
	FILE	   *record;
	uint64_t	seed;
	int			ping_s;			/* Binance server ping period (20) */
	int			pong_timeout_s; /* drop without a pong for this long (60) */
	int			idle_s;			/* OKX idle cutoff (30) */
	int			book_ms;		/* real ms between two book messages (100) */
	bool		verbose;
	int64_t		history_ms;		/* --history: the past before the start, ms */
	double		history_rate;	/* trades per second per symbol in the past */
	bool		record_history; /* write the past to the record too */
	int			weight_limit;	/* Binance request weight per minute (6000) */
	int			recent_max;		/* live trades kept per symbol for REST (50000) */
	size_t		queue_max;		/* bytes queued to one connection before it is cut */
	double		linger;			/* --count: serve this many seconds more, s */
	int64_t		linger_until_ms;	/* real ms, 0 until --count is reached */
} Sim;

extern Sim	sim;

/* in the server: format.c (clocks, random, url_arg), conn.c (conn_*),
 * server.c (server_run), record.c (record_*), recent.c (kept trades,
 * klines, books) */
extern int64_t now_real_ms(void);
extern int64_t now_sim_ms(void);
extern void conn_send(ExConn *c, const char *data, size_t len, bool data_msg);
extern void conn_send_str(ExConn *c, const char *s, bool data_msg);
extern void conn_close(ExConn *c, int code);
extern void conn_wake(ExConn *c);
extern int	server_run(int admin_port, const char *cert, const char *key);
extern double ex_random(Exchange *ex);
extern void record_trade(Exchange *ex, MkSymbol *s, const MkTrade *t);
extern void record_kline(Exchange *ex, MkSymbol *s, int iv, const MkKline *k);
extern void record_quote(Exchange *ex, MkSymbol *s, uint64_t seq);
extern bool url_arg(const char *args, const char *name, char *out, size_t outlen);
extern void remember_trade(Exchange *ex, int si, const MkTrade *t);
extern int	recent_trades(Exchange *ex, int si, const MkTrade **out, int max);
extern int	symbol_index(Exchange *ex, const MkSymbol *s);
extern const MkTrade *trade_at(Exchange *ex, int si, int i);
extern int	trades_since(Exchange *ex, int si, int64_t from_id, int64_t from_ts,
						 int64_t to_ts, const MkTrade **out, int max);
extern int	trades_older(Exchange *ex, int si, bool by_ts, int64_t after, int64_t before,
						 const MkTrade **out, int max);	/* rest_history.c */
extern int	ex_klines(Exchange *ex, int si, int iv, int64_t from, int64_t to, bool newest,
					  const MkKline **out, int max);

/* formatting helpers shared by the adapters (format.c) */
extern const char *fmt_px(const MkSymbol *s, int64_t px, bool pad, int pad_to);
extern const char *fmt_qty(const MkSymbol *s, int64_t qty, bool pad, int pad_to);
extern const char *fmt_quote_vol(const MkSymbol *s, __int128 v, bool pad, int pad_to);
extern void fmt_rfc3339(char *buf, size_t len, int64_t ms, bool micros);

/* may the books go out now (every --book-ms, unless paused)? */
extern bool ex_book_due(Exchange *ex, int64_t real_ms);

/* publish the book of s: computes the diff to the last published book */
extern bool ex_book_update(Exchange *ex, int si, int depth, MkBook *delta,
						   uint64_t *prev_seq, uint64_t *seq);

/* Binance pads prices and sizes to 8 decimals */
#define BINANCE_DEC 8

/* in ex_binance.c, for ex_binance_rest.c and ex_funding.c */
extern const char *const binance_iv_names[MK_NIV];
extern int	binance_symbol(Exchange *ex, const char *lower, size_t n);
extern void binance_fanout(Exchange *ex, int si, uint32_t bit, const char *stream);
extern void binance_lower(const MkSymbol *s, char *out, size_t len);
extern void binance_upper(const MkSymbol *s, char *out, size_t len);
extern void binance_levels(Buf *b, const MkSymbol *s, const MkLevel *lv, int n);
extern bool binance_book_streamed(Exchange *ex, int si);

/* in ex_binance_rest.c */
extern int	binance_rest(Exchange *ex, ExConn *c, const char *path, const char *args);

/* in ex_funding.c */
extern void funding_tick(Exchange *ex, int64_t real_ms, int64_t sim_ms);
extern int64_t funding_rate_e8(uint64_t seed, const MkSymbol *s, int64_t funding_ms);
extern void binance_funding_history(Exchange *ex, int si, const char *args, Buf *body);
extern void binance_futures_info(Exchange *ex, Buf *body);

extern const ExAdapter binance_adapter;
extern const ExAdapter bybit_adapter;
extern const ExAdapter okx_adapter;
extern const ExAdapter coinbase_adapter;

#endif
