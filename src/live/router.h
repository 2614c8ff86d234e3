/*-------------------------------------------------------------------------
 *
 * src/live/router.h
 *	  The order routers (one background worker per exchange with live
 *	  orders, router.c) and their shared memory ("zvt router",
 *	  router_state.c), as place_order, the launcher and zvt.c see them.
 *
 *-------------------------------------------------------------------------
 */
#ifndef ZVT_LIVE_ROUTER_H
#define ZVT_LIVE_ROUTER_H

#include "port/atomics.h"
#include "storage/latch.h"

/* the exchanges with a router, in LiveExchange order (route.h) */
#define ROUTER_EXCHANGES 4

/* in router_state.c */
extern Size router_shmem_size(void);
extern void router_shmem_init(void);
extern void router_wake_at_commit(const char *exchange);
extern uint64 router_generation(int ex);
extern bool router_running(int ex);
extern bool router_is_idle(int ex, uint64 generation);
extern void router_mark_idle(int ex, uint64 generation);
extern bool router_claim(int ex);
extern void router_release(int ex);
extern void router_set_latch(int ex, Latch *latch);
extern void router_count(int ex, int64 sent, int64 replies);

/* in router_stream.c: the private streams of the router's accounts */
extern void router_stream_begin(int ex, const char *name, uint64 system_id);
extern bool router_stream_step(int64 offset_ms, uint64 gen);
extern bool router_stream_left(void);
extern void router_stream_end(void);
extern int	router_stream_fd(void);

/* in router_keys.c: the accounts' keys, opened once and kept while the router runs */
struct VaultCreds;
extern const struct VaultCreds *router_key(int32 account, char *reason, size_t len);
extern void router_keys_forget(void);

/* in router_wait.c: the latch, the sockets of the requests in flight (a CURLM), the stream's pipe */
extern bool router_wait(void *multi, int inflight, long timeout_ms, int stream_fd);


#endif							/* ZVT_LIVE_ROUTER_H */
