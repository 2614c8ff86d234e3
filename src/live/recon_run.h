/*-------------------------------------------------------------------------
 *
 * src/live/recon_run.h
 *	  One reconciliation run of one account, as reconcile.c (the lists,
 *	  the balances, the run) and reconcile_history.c (the fill history)
 *	  share it, and the helpers they share: the blocking signed request,
 *	  the exchange's clock, a transaction of the run's.
 *
 *-------------------------------------------------------------------------
 */
#ifndef ZVT_LIVE_RECON_RUN_H
#define ZVT_LIVE_RECON_RUN_H

#include "lib/stringinfo.h"

#include "live/recon_fetch.h"
#include "live/reconcile.h"
#include "live/vault.h"

/* trades of the fill history one run reads at most (the rest: the next run) */
#define RECON_MAX_TRADES	10000

typedef struct ReconRun
{
	const ReconTarget *t;
	int32		account;
	int64		run_id;
	VaultCreds	creds;
	char		error[300];
	ReconOrder *o1,
			   *o2;
	int			n1,
				n2;
	bool		more;
	ReconBalance *bal;
	int			nbal;
	bool		balances_ok;
	int			missing,
				rereads;
	/* the fill history (reconcile_history.c) */
	ReconTrade *trades;
	int			ntrades;
	int			pages;
	bool		truncated;
	StringInfoData marks;		/* {symbol: mark} to keep once booked */
} ReconRun;

extern long recon_send(ReconRun *run, LiveRequest *req, StringInfo b);
extern int64 recon_clock(const ReconTarget *t);
extern void recon_nonce(char *nonce);
extern LiveCreds recon_creds(ReconRun *run);
extern void recon_tx_begin(void);
extern void recon_tx_commit(void);
extern void recon_json_str(StringInfo s, const char *key, const char *v, bool comma);
extern int64 recon_our_order(const ReconTarget *t, const char *client_id);

/* reconcile_history.c */
extern bool recon_read_history(ReconRun *run, StringInfo b);
extern void recon_book_history(ReconRun *run);

#endif							/* ZVT_LIVE_RECON_RUN_H */
