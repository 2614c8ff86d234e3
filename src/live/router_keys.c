/*-------------------------------------------------------------------------
 *
 * src/live/router_keys.c
 *	  The order router's opened API keys: each account's key is opened
 *	  once (keys_try_open: the master key file read, the row decrypted)
 *	  and kept for the router's next requests, instead of once per pass.
 *
 * Before each use the kept key is checked against its sealed row: the
 * row's nonce, fresh and random each time a row is sealed, names it.
 * zvt.set_api_key (a new key) and zvt.rotate_key_file (re-sealed under
 * the new master key) both write a new nonce, so the next request after
 * their commit opens the row again; a row gone means no key.  The check
 * is one indexed lookup with a kept plan, far below an opening (a
 * subtransaction, the key file read, AES-GCM).  Only keys that opened
 * are kept: a failure is tried again at the next use.
 *
 * The kept keys are wiped at a configuration reload (zvt.key_file may
 * name another master key), when the router exits, and when an entry is
 * replaced; they are never logged.  The stream thread keeps its own copy
 * for its logins in the same way (userstream.c).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "utils/memutils.h"

#include "live/keys.h"
#include "live/router.h"

/* accounts whose keys are kept at most; the least recently used goes */
#define ROUTER_KEYS_MAX 32

typedef struct RouterKey
{
	int32		account;		/* 0: a free entry */
	uint64		used;			/* when last used, for the replacement */
	unsigned char nonce[VAULT_NONCE_LEN];	/* the row it was opened from */
	VaultCreds	creds;
} RouterKey;

static RouterKey *router_keys = NULL;	/* ROUTER_KEYS_MAX, TopMemoryContext */
static uint64 router_keys_tick = 0;
static SPIPlanPtr nonce_plan = NULL;

/* Wipe every kept key (a reload, the router's exit). */
void
router_keys_forget(void)
{
	if (router_keys == NULL)
		return;
	for (int i = 0; i < ROUTER_KEYS_MAX; i++)
	{
		vault_creds_wipe(&router_keys[i].creds);
		router_keys[i].account = 0;
	}
}

/*
 * The nonce of account's sealed row into nonce; false when the account
 * has no key.  Under SPI.
 */
static bool
router_key_nonce(int32 account, unsigned char nonce[VAULT_NONCE_LEN])
{
	Datum		arg = Int32GetDatum(account);
	bool		isnull;
	bytea	   *b;

	if (nonce_plan == NULL)
	{
		SPIPlanPtr	p = SPI_prepare("SELECT nonce FROM zvt._api_keys WHERE account_id = $1",
									1, (Oid[]) {INT4OID});

		if (p == NULL || SPI_keepplan(p) != 0)
			elog(ERROR, "zvt router: could not prepare the key check: %s",
				 SPI_result_code_string(SPI_result));
		nonce_plan = p;
	}
	if (SPI_execute_plan(nonce_plan, &arg, NULL, true, 1) != SPI_OK_SELECT)
		elog(ERROR, "zvt router: could not read zvt._api_keys");
	if (SPI_processed == 0)
		return false;
	b = DatumGetByteaPP(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
	if (isnull || VARSIZE_ANY_EXHDR(b) != VAULT_NONCE_LEN)
		memset(nonce, 0, VAULT_NONCE_LEN);	/* never matches a kept one: opened again */
	else
		memcpy(nonce, VARDATA_ANY(b), VAULT_NONCE_LEN);
	return true;
}

/*
 * account's key, opened now or kept from before if its sealed row is the
 * one it was opened from; NULL with the reason in reason (len bytes)
 * when the account has no key or it does not open.  Under SPI, in a
 * transaction.  The result stays valid until the next call.
 */
const VaultCreds *
router_key(int32 account, char *reason, size_t len)
{
	unsigned char nonce[VAULT_NONCE_LEN];
	RouterKey  *k = NULL;
	RouterKey  *victim;

	if (router_keys == NULL)
		router_keys = MemoryContextAllocZero(TopMemoryContext, sizeof(RouterKey) * ROUTER_KEYS_MAX);
	victim = &router_keys[0];
	for (int i = 0; i < ROUTER_KEYS_MAX; i++)
	{
		if (router_keys[i].account == account)
			k = &router_keys[i];
		if (router_keys[i].used < victim->used)
			victim = &router_keys[i];
	}
	if (!router_key_nonce(account, nonce))
	{
		if (k)
		{
			vault_creds_wipe(&k->creds);
			k->account = 0;
			k->used = 0;
		}
		snprintf(reason, len, "account %d has no API key (zvt.set_api_key)", account);
		return NULL;
	}
	if (k && memcmp(k->nonce, nonce, VAULT_NONCE_LEN) == 0)
	{
		k->used = ++router_keys_tick;
		return &k->creds;
	}
	/* not kept, or the row was sealed again since: open it */
	if (k == NULL)
		k = victim;
	vault_creds_wipe(&k->creds);
	k->account = 0;
	k->used = 0;
	if (!keys_try_open(account, &k->creds, reason, len))
		return NULL;
	k->account = account;
	k->used = ++router_keys_tick;
	memcpy(k->nonce, nonce, VAULT_NONCE_LEN);
	return &k->creds;
}
