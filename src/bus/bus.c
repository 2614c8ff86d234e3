/*-------------------------------------------------------------------------
 *
 * src/bus/bus.c
 *	  The market bus: the latest trade and best bid/ask of every instrument
 *	  in shared memory, readable without touching a table.
 *
 * A fixed open-addressing table (linear probing) of zvt.bus_size slots.
 * Writers (feed workers, zvt.bus_publish) and readers (zvt.last_price,
 * zvt.tickers, place_order, the paper matcher) take the one "zvt bus"
 * LWLock, exclusive to write and shared to read: a write is a few stores,
 * so the lock is held for nanoseconds.  `generation` (atomic) is bumped
 * after every write so a waiter can tell that prices moved.
 *
 * Keys.  Shared memory outlives DROP EXTENSION and is shared by every
 * database, while instrument ids start again at 1 in each installation.
 * So an entry is keyed by (database, installation, instrument id)
 * (BusKey), where the installation is the oid of that database's
 * zvt.instruments, new with each CREATE EXTENSION.  Callers pass the id
 * alone; bus_install() supplies the rest for the calling backend, cached
 * until a relcache invalidation of zvt.instruments (which DROP EXTENSION
 * sends).  A free slot has dboid InvalidOid, which no key has, so a lookup
 * never matches one.  Deleting an entry shifts the rest of its probe chain
 * back (no tombstones), so the table never fills up with dead slots.
 *
 * Deleted instruments leave the bus when the deleting transaction commits
 * (the trigger on zvt.instruments queues them, see zvt_bus_forget_trigger).  Entries of an earlier
 * installation in this database and of dropped databases are reclaimed
 * when the bus is full (bus_reclaim).
 *
 * The bus also carries the subscription generation: zvt.subscribe and
 * zvt.unsubscribe flag their transaction, and a transaction callback bumps
 * the counter at commit, so feed workers see a change within one timer
 * tick and never one that rolled back.
 *
 * The SQL functions are in functions.c.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include "access/xact.h"
#include "catalog/namespace.h"
#include "common/hashfn.h"
#include "miscadmin.h"
#include "storage/lwlock.h"
#include "storage/shmem.h"
#include "utils/inval.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/syscache.h"
#include "utils/timestamp.h"

#include "bus/bus.h"
#include "zvt.h"

typedef struct BusShared
{
	LWLock	   *lock;			/* protects used and slots */
	pg_atomic_uint64 generation;	/* bumped after each write */
	pg_atomic_uint64 subscriptions; /* bumped at commit of a (un)subscribe */
	pg_atomic_uint64 paper;		/* bumped when a paper order starts resting */
	Latch	   *matcher_latch;	/* the paper matcher's, NULL when it is not running */
	int			nslots;			/* set at start, never changes */
	int64		epoch;			/* first value of a new entry's trades and quotes:
								 * the server's start in seconds << 32, set at start */
	int			used;			/* occupied slots */
	BusEntry	slots[FLEXIBLE_ARRAY_MEMBER];
} BusShared;

/* An instrument to forget at commit. */
typedef struct PendingForget
{
	BusKey		key;
	SubTransactionId subxid;	/* dropped if this subtransaction aborts */
} PendingForget;

/* the most databases one reclaim pass checks for having been dropped */
#define BUS_RECLAIM_DBS 64

static BusShared *bus = NULL;

/* this backend's installation: InvalidOid until looked up (bus_install) */
static Oid	install_cache = InvalidOid;
static bool install_callback = false;

/* this transaction: subscriptions changed, instruments deleted */
static bool xact_flagged = false;
static List *pending_forget = NIL;	/* of PendingForget, in TopTransactionContext */
static bool callbacks_registered = false;

static void bus_require(void);
static bool bus_key(int32 instrument_id, BusKey *key);
static BusEntry *bus_claim(const BusKey *key);
static void bus_reclaim(void);
static void bus_register_callbacks(void);

Size
bus_shmem_size(void)
{
	return add_size(offsetof(BusShared, slots), mul_size(sizeof(BusEntry), zvt_bus_size));
}

/* Called from zvt's shmem_startup_hook under AddinShmemInitLock. */
void
bus_shmem_init(void)
{
	bool		found;

	bus = ShmemInitStruct("zvt bus", bus_shmem_size(), &found);
	if (!found)
	{
		memset(bus, 0, bus_shmem_size());
		bus->lock = &(GetNamedLWLockTranche("zvt bus"))->lock;
		pg_atomic_init_u64(&bus->generation, 0);
		pg_atomic_init_u64(&bus->subscriptions, 0);
		pg_atomic_init_u64(&bus->paper, 0);
		bus->matcher_latch = NULL;
		bus->nslots = zvt_bus_size;

		/*
		 * Orders keep the trades and quotes counters they last matched
		 * against (zvt.orders.bus_trades_seen) across restarts: counters
		 * of this start begin above any of an earlier one (4 billion
		 * updates of one instrument per start before they reach the next
		 * second's base), so a new trade is never taken for one seen.
		 */
		bus->epoch = (int64) (GetCurrentTimestamp() / USECS_PER_SEC) << 32;
	}
}

static void
bus_require(void)
{
	zvt_require_preload("the market bus");
}

/* ----------------------------------------------------------------
 *		Keys
 * ----------------------------------------------------------------
 */

/* A relcache invalidation of zvt.instruments (or of everything). */
static void
install_invalidate(Datum arg, Oid relid)
{
	if (!OidIsValid(relid) || relid == install_cache)
		install_cache = InvalidOid;
}

/*
 * The oid of zvt.instruments in this database, which names this
 * installation of zvt; InvalidOid when zvt is not installed.  Needs a
 * transaction the first time and after each invalidation.
 */
Oid
bus_install(void)
{
	Oid			nsp;

	if (!install_callback)
	{
		CacheRegisterRelcacheCallback(install_invalidate, (Datum) 0);
		install_callback = true;
	}
	if (OidIsValid(install_cache))
		return install_cache;
	if (!IsTransactionState())
		elog(ERROR, "the market bus is read and written inside a transaction");
	nsp = get_namespace_oid("zvt", true);
	if (OidIsValid(nsp))
		install_cache = get_relname_relid("instruments", nsp);
	return install_cache;
}

/* The full key of instrument_id here; false when zvt is not installed. */
static bool
bus_key(int32 instrument_id, BusKey *key)
{
	memset(key, 0, sizeof(BusKey));
	key->dboid = MyDatabaseId;
	key->install = bus_install();
	key->instrument_id = instrument_id;
	return OidIsValid(key->dboid) && OidIsValid(key->install);
}

/* ----------------------------------------------------------------
 *		The table: every function here runs under bus->lock
 * ----------------------------------------------------------------
 */

static inline bool
slot_used(const BusEntry *e)
{
	return OidIsValid(e->key.dboid);
}

static inline int
slot_home(const BusKey *key)
{
	uint32		h = murmurhash32((uint32) key->instrument_id);

	h = hash_combine(h, murmurhash32(key->install ^ key->dboid));
	return (int) (h % (uint32) bus->nslots);
}

/*
 * The slot holding key (*found = true), else the free slot where it would
 * go (*found = false), else -1 when no slot is free.
 */
static int
slot_find(const BusKey *key, bool *found)
{
	int			s = slot_home(key);

	*found = false;
	for (int i = 0; i < bus->nslots; i++, s = (s + 1) % bus->nslots)
	{
		BusEntry   *e = &bus->slots[s];

		if (!slot_used(e))
			return s;
		if (memcmp(&e->key, key, sizeof(BusKey)) == 0)
		{
			*found = true;
			return s;
		}
	}
	return -1;
}

/*
 * Free slot j and move later entries of its probe chain back into the
 * hole (backward-shift deletion), so that lookups never need tombstones.
 * An entry at k may move to j unless its home lies cyclically in (j, k].
 */
static void
slot_delete(int j)
{
	int			n = bus->nslots;
	int			k = j;

	memset(&bus->slots[j], 0, sizeof(BusEntry));
	bus->used--;
	for (;;)
	{
		int			home;
		bool		stays;

		k = (k + 1) % n;
		if (!slot_used(&bus->slots[k]))
			return;
		home = slot_home(&bus->slots[k].key);
		stays = j < k ? (home > j && home <= k) : (home > j || home <= k);
		if (stays)
			continue;
		bus->slots[j] = bus->slots[k];
		memset(&bus->slots[k], 0, sizeof(BusEntry));
		j = k;
	}
}

/* Which entries slots_delete_where deletes, compared with a pattern key. */
typedef enum BusMatch
{
	BUS_MATCH_OTHER_INSTALLS,	/* the pattern's database, other installations */
	BUS_MATCH_DATABASE			/* the pattern's database, any installation */
} BusMatch;

static bool
slot_matches(const BusEntry *e, const BusKey *pattern, BusMatch how)
{
	if (!slot_used(e) || e->key.dboid != pattern->dboid)
		return false;
	switch (how)
	{
		case BUS_MATCH_OTHER_INSTALLS:
			return e->key.install != pattern->install;
		case BUS_MATCH_DATABASE:
			return true;
	}
	return false;
}

/*
 * Delete every entry that matches pattern as how says; returns how many.
 * Deleting may move a later entry into slot i, so i advances only past
 * entries that stay.
 */
static int
slots_delete_where(const BusKey *pattern, BusMatch how)
{
	int			deleted = 0;

	for (int i = 0; i < bus->nslots;)
	{
		if (slot_matches(&bus->slots[i], pattern, how))
		{
			slot_delete(i);
			deleted++;
		}
		else
			i++;
	}
	return deleted;
}

/* The entry of key, claimed when new; NULL when the bus is full. */
static BusEntry *
slot_claim(const BusKey *key)
{
	bool		found;
	int			s = slot_find(key, &found);
	BusEntry   *e;

	if (found)
		return &bus->slots[s];
	/* keep probes short: 75% full is full */
	if (s < 0 || bus->used * 4 >= bus->nslots * 3)
		return NULL;
	e = &bus->slots[s];
	e->key = *key;
	e->last = e->last_qty = e->bid = e->bid_qty = e->ask = e->ask_qty = NAN;
	e->mark_price = e->index_price = e->funding_rate = e->open_interest = NAN;
	e->next_funding_ts = e->funding_ts = 0;
	e->last_ts = e->quote_ts = 0;
	e->updates = 0;
	e->trades = e->quotes = bus->epoch;
	bus->used++;
	return e;
}

/* ----------------------------------------------------------------
 *		Writing and reading
 * ----------------------------------------------------------------
 */

/*
 * The entry of key, claimed when new, with bus->lock held exclusive; NULL
 * (lock still held) when the bus stays full after reclaiming what it can.
 */
static BusEntry *
bus_claim(const BusKey *key)
{
	BusEntry   *e;

	LWLockAcquire(bus->lock, LW_EXCLUSIVE);
	e = slot_claim(key);
	if (e == NULL)
	{
		LWLockRelease(bus->lock);
		bus_reclaim();
		LWLockAcquire(bus->lock, LW_EXCLUSIVE);
		e = slot_claim(key);
	}
	return e;
}

/*
 * Make room: delete the entries of earlier installations in this database
 * and of databases that no longer exist.  Runs only when the bus is full;
 * the catalog is read without the lock held.
 */
static void
bus_reclaim(void)
{
	Oid			dbs[BUS_RECLAIM_DBS];
	bool		gone[BUS_RECLAIM_DBS];
	int			ndbs = 0;
	int			freed = 0;
	Oid			install = bus_install();

	LWLockAcquire(bus->lock, LW_SHARED);
	for (int i = 0; i < bus->nslots && ndbs < BUS_RECLAIM_DBS; i++)
	{
		Oid			db = bus->slots[i].key.dboid;
		int			j;

		if (!OidIsValid(db) || db == MyDatabaseId)
			continue;
		for (j = 0; j < ndbs && dbs[j] != db; j++)
			;
		if (j == ndbs)
			dbs[ndbs++] = db;
	}
	LWLockRelease(bus->lock);
	for (int j = 0; j < ndbs; j++)
		gone[j] = !SearchSysCacheExists1(DATABASEOID, ObjectIdGetDatum(dbs[j]));

	LWLockAcquire(bus->lock, LW_EXCLUSIVE);
	if (OidIsValid(install))
	{
		BusKey		here = {MyDatabaseId, install, 0};

		freed += slots_delete_where(&here, BUS_MATCH_OTHER_INSTALLS);
	}
	for (int j = 0; j < ndbs; j++)
		if (gone[j])
		{
			BusKey		there = {dbs[j], InvalidOid, 0};

			freed += slots_delete_where(&there, BUS_MATCH_DATABASE);
		}
	LWLockRelease(bus->lock);
	if (freed > 0)
		ereport(LOG,
				(errmsg("zvt market bus: reclaimed %d entries of dropped installations or databases",
						freed)));
}

/* After a write (lock released): warn when the bus was full, wake waiters. */
static void
bus_written(bool stored)
{
	if (!stored)
		ereport(WARNING,
				(errcode(ERRCODE_CONFIGURATION_LIMIT_EXCEEDED),
				 errmsg("the market bus is full"),
				 errhint("Raise zvt.bus_size (%d) and restart.", zvt_bus_size)));
	pg_atomic_fetch_add_u64(&bus->generation, 1);
	if (stored)
	{
		Latch	   *latch = bus->matcher_latch;

		/* a price moved: resting paper orders may fill now */
		if (latch)
			SetLatch(latch);
	}
}

/*
 * Record a trade of instrument_id of this database; dropped with a WARNING
 * when the bus is full, silently when zvt is not installed here.  The
 * caller is in a transaction.
 */
void
bus_put_trade(int32 instrument_id, double price, double qty, TimestampTz ts)
{
	BusKey		key;
	BusEntry   *e;

	bus_require();
	if (!bus_key(instrument_id, &key))
		return;
	e = bus_claim(&key);
	if (e && (e->last_ts <= ts || isnan(e->last)))
	{
		e->last = price;
		e->last_qty = qty;
		e->last_ts = ts;
		e->updates++;
		e->trades++;
	}
	LWLockRelease(bus->lock);
	bus_written(e != NULL);
}

/* Record a best bid/ask, as bus_put_trade does a trade. */
void
bus_put_quote(int32 instrument_id, double bid, double bid_qty, double ask, double ask_qty,
			  TimestampTz ts)
{
	BusKey		key;
	BusEntry   *e;

	bus_require();
	if (!bus_key(instrument_id, &key))
		return;
	e = bus_claim(&key);
	if (e && (e->quote_ts <= ts || isnan(e->bid)))
	{
		e->bid = bid;
		e->bid_qty = bid_qty;
		e->ask = ask;
		e->ask_qty = ask_qty;
		e->quote_ts = ts;
		e->updates++;
		e->quotes++;
	}
	LWLockRelease(bus->lock);
	bus_written(e != NULL);
}

/*
 * Record a perpetual's mark, index, funding rate, next funding time and
 * open interest (each NaN or 0 when not known: the entry keeps what it
 * had), as bus_put_trade does a trade.  Neither counter moves: funding
 * fills no paper order.
 */
void
bus_put_funding(int32 instrument_id, double mark, double index, double rate,
				TimestampTz next_funding, double open_interest, TimestampTz ts)
{
	BusKey		key;
	BusEntry   *e;

	bus_require();
	if (!bus_key(instrument_id, &key))
		return;
	e = bus_claim(&key);
	if (e && e->funding_ts <= ts)
	{
		if (!isnan(mark))
			e->mark_price = mark;
		if (!isnan(index))
			e->index_price = index;
		if (!isnan(rate))
			e->funding_rate = rate;
		if (next_funding != 0)
			e->next_funding_ts = next_funding;
		if (!isnan(open_interest))
			e->open_interest = open_interest;
		e->funding_ts = ts;
		e->updates++;
	}
	LWLockRelease(bus->lock);
	bus_written(e != NULL);
}

/*
 * Copy the entry of instrument_id of this database's installation into
 * *out; false when the bus has none.  The caller is in a transaction.
 */
bool
bus_get(int32 instrument_id, BusEntry *out)
{
	BusKey		key;
	bool		found = false;
	int			s;

	bus_require();
	if (!bus_key(instrument_id, &key))
		return false;
	LWLockAcquire(bus->lock, LW_SHARED);
	s = slot_find(&key, &found);
	if (found)
		*out = bus->slots[s];
	LWLockRelease(bus->lock);
	return found;
}

/*
 * Every entry of this database's installation, copied into a palloc'd
 * array *out (in slot order); returns how many.
 */
int
bus_entries(BusEntry **out)
{
	BusKey		key;
	int			n = 0;

	bus_require();
	/* copy under the lock, allocate before: never palloc while holding it */
	*out = palloc(sizeof(BusEntry) * bus->nslots);
	if (!bus_key(0, &key))
		return 0;
	LWLockAcquire(bus->lock, LW_SHARED);
	for (int i = 0; i < bus->nslots; i++)
	{
		BusEntry   *e = &bus->slots[i];

		if (slot_used(e) && e->key.dboid == key.dboid && e->key.install == key.install)
			(*out)[n++] = *e;
	}
	LWLockRelease(bus->lock);
	return n;
}

/*
 * How many slots hold an entry (of any database) and how many there are:
 * what the metrics endpoint reports; needs no transaction.
 */
void
bus_usage(int *used, int *slots)
{
	bus_require();
	LWLockAcquire(bus->lock, LW_SHARED);
	*used = bus->used;
	*slots = bus->nslots;
	LWLockRelease(bus->lock);
}

/* ----------------------------------------------------------------
 *		Forgetting deleted instruments, at commit
 * ----------------------------------------------------------------
 */

/*
 * Have the bus forget instrument_id of installation install of this
 * database when the transaction commits: a rolled-back DELETE leaves the
 * prices alone, and a price published between the DELETE and its commit
 * goes too.
 */
void
bus_forget_at_commit(Oid install, int32 instrument_id)
{
	MemoryContext old;
	PendingForget *p;

	if (!zvt_preloaded || bus == NULL)
		return;
	bus_register_callbacks();
	old = MemoryContextSwitchTo(TopTransactionContext);
	p = palloc0(sizeof(PendingForget));
	p->key.dboid = MyDatabaseId;
	p->key.install = install;
	p->key.instrument_id = instrument_id;
	p->subxid = GetCurrentSubTransactionId();
	pending_forget = lappend(pending_forget, p);
	MemoryContextSwitchTo(old);
}

/* Forget what this transaction deleted; no allocation and no error. */
static void
bus_forget_pending(void)
{
	ListCell   *lc;

	if (pending_forget == NIL || bus == NULL)
		return;
	LWLockAcquire(bus->lock, LW_EXCLUSIVE);
	foreach(lc, pending_forget)
	{
		PendingForget *p = lfirst(lc);
		bool		found;
		int			s = slot_find(&p->key, &found);

		if (found)
			slot_delete(s);
	}
	LWLockRelease(bus->lock);
}

/* Drop what an aborted subtransaction queued; a committed one hands it up. */
static void
bus_subxact_callback(SubXactEvent event, SubTransactionId mySubid,
					 SubTransactionId parentSubid, void *arg)
{
	ListCell   *lc;

	if (event != SUBXACT_EVENT_ABORT_SUB && event != SUBXACT_EVENT_COMMIT_SUB)
		return;
	foreach(lc, pending_forget)
	{
		PendingForget *p = lfirst(lc);

		if (p->subxid != mySubid)
			continue;
		if (event == SUBXACT_EVENT_ABORT_SUB)
			pending_forget = foreach_delete_current(pending_forget, lc);
		else
			p->subxid = parentSubid;	/* now the parent's to keep or lose */
	}
}

static void
bus_xact_callback(XactEvent event, void *arg)
{
	switch (event)
	{
		case XACT_EVENT_COMMIT:
			if (xact_flagged && bus)
				pg_atomic_fetch_add_u64(&bus->subscriptions, 1);
			bus_forget_pending();
			break;
		case XACT_EVENT_PREPARE:
			/* COMMIT PREPARED may run anywhere: forget now, at worst early */
			bus_forget_pending();
			break;
		default:
			break;
	}
	if (event == XACT_EVENT_COMMIT || event == XACT_EVENT_ABORT ||
		event == XACT_EVENT_PREPARE ||
		event == XACT_EVENT_PARALLEL_COMMIT || event == XACT_EVENT_PARALLEL_ABORT)
	{
		xact_flagged = false;
		pending_forget = NIL;	/* its memory goes with TopTransactionContext */
	}
}

static void
bus_register_callbacks(void)
{
	if (callbacks_registered)
		return;
	RegisterXactCallback(bus_xact_callback, NULL);
	RegisterSubXactCallback(bus_subxact_callback, NULL);
	callbacks_registered = true;
}

/* ----------------------------------------------------------------
 *		Counters and the matcher's latch
 * ----------------------------------------------------------------
 */

uint64
bus_generation(void)
{
	bus_require();
	return pg_atomic_read_u64(&bus->generation);
}

/* Flag this transaction: at commit, feed workers re-read subscriptions. */
void
bus_subscriptions_changed(void)
{
	bus_register_callbacks();
	xact_flagged = true;
}

uint64
bus_subscription_generation(void)
{
	bus_require();
	return pg_atomic_read_u64(&bus->subscriptions);
}

/*
 * The paper matcher registers its latch (NULL when it leaves) so that every
 * price written to the bus wakes it.
 */
void
bus_set_matcher_latch(Latch *latch)
{
	bus->matcher_latch = latch;
	pg_write_barrier();
}

/*
 * A paper order was left resting: the launcher starts the matcher when this
 * generation moved past the one at which the matcher last found no order.
 */
void
bus_paper_orders_rest(void)
{
	bus_require();
	pg_atomic_fetch_add_u64(&bus->paper, 1);
}

uint64
bus_paper_generation(void)
{
	return bus ? pg_atomic_read_u64(&bus->paper) : 0;
}
