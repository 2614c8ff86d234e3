/*-------------------------------------------------------------------------
 *
 * src/live/keys.c
 *	  API credentials of live accounts: zvt.set_api_key, zvt.check_api_key
 *	  and zvt.rotate_key_file, over the sealed rows of zvt._api_keys.
 *
 * Secrets are sealed with AES-256-GCM (vault.c) under the master key
 * read from the file zvt.key_file names (superuser-only, PGC_SIGHUP), on
 * every call, so a reload takes effect at once and no backend keeps the
 * master key in memory longer than one call.  zvt._api_keys is revoked
 * from every role; set_api_key and check_api_key are zvt_ledger_call
 * trampolines (src/trading/ledger_call.c) whose C bodies here run as the
 * extension's owner with search_path = pg_catalog, pg_temp and check the
 * caller's right to the account themselves: only a role with the
 * owner's privileges sets a key, any role that may use the account
 * checks one.  No SQL function returns a secret: the only code that
 * opens a row is keys_open(), which the router will call in C.
 *
 * Logs: an error raised while a secret is among the arguments is
 * re-raised with hide_stmt and hide_ctx set, so the server log's
 * STATEMENT line (which would quote the call's text, secret included)
 * and CONTEXT lines are left out; no message ever quotes a secret, a
 * key or the key file's path.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "access/xact.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "storage/fd.h"
#include "utils/builtins.h"
#include "utils/resowner.h"
#include "utils/timestamp.h"

#include "base/export.h"
#include "live/keys.h"
#include "live/sign.h"
#include "live/vault.h"
#include "zvt.h"

/* an account as the key functions see it */
typedef struct KeyAccount
{
	int32		account_id;
	char	   *name;
	char	   *exchange;		/* NULL for an account without one */
	bool		live;
	bool		may_use;		/* owner, grantee or zvt_admin */
	bool		owns;			/* has the owner's privileges */
} KeyAccount;

static void keys_lookup_account(Oid caller, const char *name, KeyAccount *a);
static void keys_check_fields(const KeyAccount *a, const char *api_key,
							  const char *secret, const char *passphrase);
static void keys_check_text(const char *what, const char *s, bool multiline);
static void keys_rethrow_hidden(MemoryContext cxt);
static bytea *bytes_to_bytea(const unsigned char *p, size_t n);

/* ----------------------------------------------------------------
 *		The master key
 * ----------------------------------------------------------------
 */

/*
 * Read the master key from path into key and its fingerprint into fp.
 * `what` names the file in messages ("zvt.key_file", "the new key
 * file"), never its path: the path is a superuser-only setting.
 * ereports on any failure; the read buffer is wiped.
 */
void
keys_read_master(const char *path, const char *what,
				 unsigned char key[VAULT_KEY_LEN], char fp[VAULT_FP_LEN])
{
	char		buf[256];
	struct stat st;
	int			fd;
	ssize_t		n;

	if (path == NULL || path[0] == '\0')
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("no master key: %s is not set", what),
				 errhint("A superuser writes 64 hex digits (openssl rand -hex 32) to a file readable only by the server and sets zvt.key_file to it; see docs/live-trading.md.")));
	fd = OpenTransientFile(path, O_RDONLY | PG_BINARY);
	if (fd < 0)
		ereport(ERROR,
				(errcode_for_file_access(),
				 errmsg("could not open the master key file named by %s: %m", what)));
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode))
	{
		CloseTransientFile(fd);
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("the master key file named by %s is not a regular file", what)));
	}
	if (st.st_mode & (S_IRWXG | S_IRWXO))
	{
		CloseTransientFile(fd);
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("the master key file named by %s has group or world access", what),
				 errhint("Make it readable by the server's user only (chmod 600).")));
	}
	n = read(fd, buf, sizeof(buf));
	CloseTransientFile(fd);
	if (n < 0 || vault_parse_master(buf, (size_t) n, key) < 0)
	{
		vault_wipe(buf, sizeof(buf));
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("the master key file named by %s does not hold a key", what),
				 errdetail("It must hold 64 hex digits (32 bytes), as openssl rand -hex 32 writes them.")));
	}
	vault_wipe(buf, sizeof(buf));
	vault_fingerprint(key, VAULT_KEY_LEN, fp);
}

/* ----------------------------------------------------------------
 *		zvt.set_api_key
 * ----------------------------------------------------------------
 */

PG_FUNCTION_INFO_V1(zvt_set_api_key);

/*
 * zvt._set_api_key(caller oid, account text, api_key text, secret text,
 *					passphrase text) RETURNS zvt.api_keys
 *
 * Body of zvt.set_api_key: seal the credentials under the master key and
 * put them in place of the account's previous ones, under the account's
 * lock.  Every error leaves the statement out of the log.
 */
Datum
zvt_set_api_key(PG_FUNCTION_ARGS)
{
	MemoryContext cxt = CurrentMemoryContext;
	Oid			caller = PG_GETARG_OID(0);
	KeyAccount	a;
	TupleDesc	desc;
	Datum		values[6];
	bool		nulls[6] = {false};
	char		fp[VAULT_FP_LEN];
	int64		key_id = 0;
	TimestampTz created = 0;

	PG_TRY();
	{
		char	   *account = PG_ARGISNULL(1) ? NULL : text_to_cstring(PG_GETARG_TEXT_PP(1));
		char	   *api_key = PG_ARGISNULL(2) ? NULL : text_to_cstring(PG_GETARG_TEXT_PP(2));
		char	   *secret = PG_ARGISNULL(3) ? NULL : text_to_cstring(PG_GETARG_TEXT_PP(3));
		char	   *pass = PG_ARGISNULL(4) ? NULL : text_to_cstring(PG_GETARG_TEXT_PP(4));
		unsigned char master[VAULT_KEY_LEN];
		char		master_fp[VAULT_FP_LEN];
		unsigned char nonce[VAULT_NONCE_LEN];
		unsigned char *sealed;
		size_t		sealedsz;
		int			n;

		if (get_call_result_type(fcinfo, NULL, &desc) != TYPEFUNC_COMPOSITE)
			elog(ERROR, "zvt._set_api_key must return a row");
		SPI_connect();
		keys_lookup_account(caller, account, &a);
		if (!a.owns)
			ereport(ERROR,
					(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
					 errmsg("permission denied for account \"%s\"", a.name),
					 errdetail("Only the account's owner sets its API key.")));
		keys_check_fields(&a, api_key, secret, pass);

		keys_read_master(zvt_key_file, "zvt.key_file", master, master_fp);
		sealedsz = vault_sealed_len(api_key, secret, pass);
		sealed = palloc(sealedsz);
		n = vault_seal(master, a.account_id, api_key, secret, pass, nonce, sealed, sealedsz);
		vault_wipe(master, sizeof(master));
		vault_wipe(secret, strlen(secret));
		if (pass)
			vault_wipe(pass, strlen(pass));
		if (n < 0)
			ereport(ERROR,
					(errcode(ERRCODE_INTERNAL_ERROR),
					 errmsg("could not encrypt the API key")));
		vault_fingerprint(api_key, strlen(api_key), fp);

		/* one key per account: the new row replaces the old under the lock */
		{
			Oid			types[5] = {INT4OID, TEXTOID, TEXTOID, BYTEAOID, BYTEAOID};
			Datum		args[5];
			bool		isnull;

			args[0] = Int32GetDatum(a.account_id);
			if (SPI_execute_with_args("SELECT zvt._lock_account($1)", 1, types, args, NULL, false, 0) != SPI_OK_SELECT ||
				SPI_execute_with_args("DELETE FROM zvt._api_keys WHERE account_id = $1", 1, types, args, NULL, false, 0) != SPI_OK_DELETE)
				elog(ERROR, "could not replace the API key of account %d", a.account_id);
			args[1] = CStringGetTextDatum(fp);
			args[2] = CStringGetTextDatum(master_fp);
			args[3] = PointerGetDatum(bytes_to_bytea(nonce, VAULT_NONCE_LEN));
			args[4] = PointerGetDatum(bytes_to_bytea(sealed, (size_t) n));
			if (SPI_execute_with_args("INSERT INTO zvt._api_keys (account_id, fingerprint, master_fp, nonce, sealed)"
									  " VALUES ($1, $2, $3, $4, $5) RETURNING key_id, created_at",
									  5, types, args, NULL, false, 0) != SPI_OK_INSERT_RETURNING ||
				SPI_processed != 1)
				elog(ERROR, "could not store the API key of account %d", a.account_id);
			key_id = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
			created = DatumGetTimestampTz(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2, &isnull));
		}
		SPI_finish();
	}
	PG_CATCH();
	{
		keys_rethrow_hidden(cxt);
	}
	PG_END_TRY();

	/* (account, exchange, key_id, fingerprint, created_at, account_id) */
	values[0] = CStringGetTextDatum(a.name);
	values[1] = CStringGetTextDatum(a.exchange);
	values[2] = Int64GetDatum(key_id);
	values[3] = CStringGetTextDatum(fp);
	values[4] = TimestampTzGetDatum(created);
	values[5] = Int32GetDatum(a.account_id);
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(BlessTupleDesc(desc), values, nulls)));
}

/*
 * The account named name, for caller: 42704 when it does not exist or
 * the caller may not use it (one error, as zvt._account gives, so no
 * answer tells a role which accounts exist), 55000 for a paper account
 * or one without an exchange.  Needs SPI connected; the strings are
 * allocated in the caller's upper context.
 */
static void
keys_lookup_account(Oid caller, const char *name, KeyAccount *a)
{
	Oid			types[2] = {OIDOID, TEXTOID};
	Datum		args[2];
	bool		isnull;
	HeapTuple	tup;
	TupleDesc	td;
	char	   *exchange;

	memset(a, 0, sizeof(*a));
	if (name != NULL)
	{
		args[0] = ObjectIdGetDatum(caller);
		args[1] = CStringGetTextDatum(name);
		if (SPI_execute_with_args("SELECT a.account_id, a.kind = 'live', a.exchange,"
								  " zvt._may_use($1, a.account_id), pg_catalog.pg_has_role($1, a.owner, 'USAGE')"
								  " FROM zvt.accounts a WHERE a.name = $2",
								  2, types, args, NULL, true, 0) != SPI_OK_SELECT)
			elog(ERROR, "could not read zvt.accounts");
		if (SPI_processed == 1)
		{
			tup = SPI_tuptable->vals[0];
			td = SPI_tuptable->tupdesc;
			a->account_id = DatumGetInt32(SPI_getbinval(tup, td, 1, &isnull));
			a->live = DatumGetBool(SPI_getbinval(tup, td, 2, &isnull));
			exchange = SPI_getvalue(tup, td, 3);
			a->exchange = exchange ? MemoryContextStrdup(TopTransactionContext, exchange) : NULL;
			a->may_use = DatumGetBool(SPI_getbinval(tup, td, 4, &isnull)) && !isnull;
			a->owns = DatumGetBool(SPI_getbinval(tup, td, 5, &isnull)) && !isnull;
		}
	}
	if (!a->may_use)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("unknown account \"%s\"", name ? name : "NULL"),
				 errhint("zvt.accounts lists the accounts you may use; zvt.create_account makes one.")));
	a->name = MemoryContextStrdup(TopTransactionContext, name);
	if (!a->live)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("account \"%s\" is a paper account", name),
				 errdetail("API keys belong to live accounts, which trade on an exchange.")));
	if (a->exchange == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("live account \"%s\" has no exchange", name)));
}

/*
 * 22023 unless the credentials fit the account's exchange: a key and a
 * secret always; a passphrase for OKX, none for Binance and Bybit; a
 * Coinbase secret must be a P-256 or Ed25519 private key.  Messages name
 * the field, never its value.
 */
static void
keys_check_fields(const KeyAccount *a, const char *api_key, const char *secret,
				  const char *passphrase)
{
	keys_check_text("api_key", api_key, false);
	keys_check_text("secret", secret, true);
	if (passphrase != NULL)
		keys_check_text("passphrase", passphrase, false);
	if (strcmp(a->exchange, "okx") == 0 && passphrase == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("an okx API key needs its passphrase"),
				 errhint("Pass the passphrase chosen when the key was created: zvt.set_api_key(account, key, secret, passphrase).")));
	if ((strcmp(a->exchange, "binance") == 0 || strcmp(a->exchange, "bybit") == 0) &&
		passphrase != NULL)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s API keys have no passphrase", a->exchange)));
	if (strcmp(a->exchange, "coinbase") == 0)
	{
		char		pem[1024];

		if (sign_public_pem(secret, pem, sizeof(pem)) < 0)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("the secret is not a Coinbase API private key"),
					 errdetail("Coinbase keys are a PEM EC (P-256) or Ed25519 private key, or base64 of a raw Ed25519 key.")));
	}
}

/* 22023 unless s is 1..VAULT_FIELD_MAX printable characters (and newlines if multiline) */
static void
keys_check_text(const char *what, const char *s, bool multiline)
{
	const unsigned char *p;

	if (s == NULL || s[0] == '\0')
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s must not be empty", what)));
	if (strlen(s) > VAULT_FIELD_MAX)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s is longer than %d bytes", what, VAULT_FIELD_MAX)));
	for (p = (const unsigned char *) s; *p; p++)
		if (*p < 0x20 ? !(multiline && (*p == '\n' || *p == '\r')) : *p > 0x7e)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("%s holds a character that is not printable ASCII", what),
					 errdetail("Exchange keys are printable ASCII; a control character would end up in an HTTP header.")));
}

/*
 * Re-raise the error being handled without its statement and context
 * (they may quote a secret).  Called in PG_CATCH; cxt is the memory
 * context of the function.
 */
static void
keys_rethrow_hidden(MemoryContext cxt)
{
	ErrorData  *edata;

	MemoryContextSwitchTo(cxt);
	edata = CopyErrorData();
	FlushErrorState();
	edata->hide_stmt = true;
	edata->hide_ctx = true;
	ReThrowError(edata);
}

static bytea *
bytes_to_bytea(const unsigned char *p, size_t n)
{
	bytea	   *b = palloc(VARHDRSZ + n);

	SET_VARSIZE(b, VARHDRSZ + n);
	memcpy(VARDATA(b), p, n);
	return b;
}

/* ----------------------------------------------------------------
 *		Opening a row: zvt.check_api_key, and the router's way in
 * ----------------------------------------------------------------
 */

/*
 * Open the API key of account_id into *out, under the master key of
 * zvt.key_file.  Returns false if the account has no key; ereports
 * 55000 if the row does not open (sealed under another master key,
 * altered, or moved from another account).  Needs SPI connected and the
 * privileges of the extension's owner (zvt._api_keys is revoked from
 * everyone else).  The caller wipes *out (vault_creds_wipe) when done;
 * fp, if not NULL, gets the stored fingerprint.
 */
bool
keys_open(int32 account_id, VaultCreds *out, char fp[VAULT_FP_LEN])
{
	Oid			types[1] = {INT4OID};
	Datum		args[1];
	HeapTuple	tup;
	TupleDesc	td;
	bool		isnull;
	char	   *row_fp;
	char	   *row_master;
	bytea	   *nonce;
	bytea	   *sealed;
	unsigned char master[VAULT_KEY_LEN];
	char		master_fp[VAULT_FP_LEN];
	char		got_fp[VAULT_FP_LEN];
	int			rc;

	args[0] = Int32GetDatum(account_id);
	if (SPI_execute_with_args("SELECT fingerprint, master_fp, nonce, sealed FROM zvt._api_keys WHERE account_id = $1",
							  1, types, args, NULL, true, 0) != SPI_OK_SELECT)
		elog(ERROR, "could not read zvt._api_keys");
	if (SPI_processed == 0)
		return false;
	tup = SPI_tuptable->vals[0];
	td = SPI_tuptable->tupdesc;
	row_fp = SPI_getvalue(tup, td, 1);
	row_master = SPI_getvalue(tup, td, 2);
	nonce = DatumGetByteaPP(SPI_getbinval(tup, td, 3, &isnull));
	sealed = DatumGetByteaPP(SPI_getbinval(tup, td, 4, &isnull));

	keys_read_master(zvt_key_file, "zvt.key_file", master, master_fp);
	if (strcmp(row_master, master_fp) != 0)
	{
		vault_wipe(master, sizeof(master));
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("the API key of account %d is sealed under another master key", account_id),
				 errdetail("It is sealed under master key %s; zvt.key_file holds master key %s.",
						   row_master, master_fp),
				 errhint("After zvt.rotate_key_file(new_path), set zvt.key_file to new_path and reload.")));
	}
	if (VARSIZE_ANY_EXHDR(nonce) != VAULT_NONCE_LEN)
		rc = -1;
	else
		rc = vault_open(master, account_id, (unsigned char *) VARDATA_ANY(nonce),
						(unsigned char *) VARDATA_ANY(sealed), VARSIZE_ANY_EXHDR(sealed), out);
	vault_wipe(master, sizeof(master));
	if (rc == 0)
	{
		vault_fingerprint(out->api_key, strlen(out->api_key), got_fp);
		if (strcmp(got_fp, row_fp) != 0)
		{
			vault_creds_wipe(out);
			rc = -1;
		}
	}
	if (rc < 0)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("the API key of account %d does not authenticate", account_id),
				 errdetail("The sealed row was altered or belongs to another account; set the key again with zvt.set_api_key.")));
	if (fp)
		strlcpy(fp, row_fp, VAULT_FP_LEN);
	return true;
}

/*
 * keys_open in a subtransaction, for the routers: false with the reason in
 * reason (len bytes) when the account has no key or it does not open (the
 * error's message: nothing here puts a secret in one), so that a refused
 * key costs its account's work, not the worker.  *out is wiped on failure.
 */
bool
keys_try_open(int32 account_id, VaultCreds *out, char *reason, size_t len)
{
	MemoryContext cxt = CurrentMemoryContext;
	ResourceOwner owner = CurrentResourceOwner;
	volatile bool ok = false;

	BeginInternalSubTransaction(NULL);
	PG_TRY();
	{
		ok = keys_open(account_id, out, NULL);
		if (!ok)
			snprintf(reason, len, "account %d has no API key (zvt.set_api_key)", account_id);
		ReleaseCurrentSubTransaction();
	}
	PG_CATCH();
	{
		ErrorData  *e;

		MemoryContextSwitchTo(cxt);
		e = CopyErrorData();
		FlushErrorState();
		RollbackAndReleaseCurrentSubTransaction();
		snprintf(reason, len, "%s", e->message);
		FreeErrorData(e);
		vault_creds_wipe(out);
		ok = false;
	}
	PG_END_TRY();
	MemoryContextSwitchTo(cxt);
	CurrentResourceOwner = owner;
	return ok;
}

PG_FUNCTION_INFO_V1(zvt_check_api_key);

/*
 * zvt._check_api_key(caller oid, account text) RETURNS zvt.api_keys
 *
 * Body of zvt.check_api_key: prove that the account's key opens under
 * the current master key and return its public face.  Any role that may
 * use the account may check; the secret never leaves this function.
 */
Datum
zvt_check_api_key(PG_FUNCTION_ARGS)
{
	Oid			caller = PG_GETARG_OID(0);
	char	   *account = PG_ARGISNULL(1) ? NULL : text_to_cstring(PG_GETARG_TEXT_PP(1));
	KeyAccount	a;
	VaultCreds *creds;
	TupleDesc	desc;
	Datum		values[6];
	bool		nulls[6] = {false};
	char		fp[VAULT_FP_LEN];
	bool		found;

	if (get_call_result_type(fcinfo, NULL, &desc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "zvt._check_api_key must return a row");
	SPI_connect();
	keys_lookup_account(caller, account, &a);
	creds = palloc(sizeof(VaultCreds));
	found = keys_open(a.account_id, creds, fp);
	vault_creds_wipe(creds);
	if (!found)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("account \"%s\" has no API key", a.name),
				 errhint("The account's owner sets one with zvt.set_api_key.")));
	{
		Oid			types[1] = {INT4OID};
		Datum		args[1];
		bool		isnull;

		args[0] = Int32GetDatum(a.account_id);
		if (SPI_execute_with_args("SELECT key_id, created_at FROM zvt._api_keys WHERE account_id = $1",
								  1, types, args, NULL, true, 0) != SPI_OK_SELECT || SPI_processed != 1)
			elog(ERROR, "could not read zvt._api_keys");
		values[2] = Int64GetDatum(DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull)));
		values[4] = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2, &isnull);
	}
	SPI_finish();
	values[0] = CStringGetTextDatum(a.name);
	values[1] = CStringGetTextDatum(a.exchange);
	values[3] = CStringGetTextDatum(fp);
	values[5] = Int32GetDatum(a.account_id);
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(BlessTupleDesc(desc), values, nulls)));
}

/* ----------------------------------------------------------------
 *		zvt.rotate_key_file
 * ----------------------------------------------------------------
 */

PG_FUNCTION_INFO_V1(zvt_rotate_key_file);

/*
 * zvt.rotate_key_file(new_path text, old_path text DEFAULT NULL) RETURNS int
 *
 * Superusers only.  Re-seal every row under the master key in new_path
 * with a fresh nonce; a row is opened with the key of old_path (by
 * default zvt.key_file's) or, if it is already sealed under the new key
 * (a rotation run twice), with that one.  Returns how many rows were re-sealed.  The
 * caller then sets zvt.key_file to new_path and reloads; until then
 * opening a key fails with 55000 naming both master keys.
 */
Datum
zvt_rotate_key_file(PG_FUNCTION_ARGS)
{
	char	   *new_path;
	char	   *old_path = PG_ARGISNULL(1) ? zvt_key_file : text_to_cstring(PG_GETARG_TEXT_PP(1));
	unsigned char oldkey[VAULT_KEY_LEN];
	unsigned char newkey[VAULT_KEY_LEN];
	char		old_fp[VAULT_FP_LEN] = "";
	char		new_fp[VAULT_FP_LEN];
	bool		have_old = old_path != NULL && old_path[0] != '\0';
	VaultCreds *c;
	uint64		i,
				nrows;
	SPITupleTable *rows;
	int			count = 0;

	if (!superuser())
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("permission denied to rotate the master key"),
				 errdetail("Only superusers may rotate the master key.")));
	if (PG_ARGISNULL(0))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("new_path must not be null")));
	new_path = text_to_cstring(PG_GETARG_TEXT_PP(0));
	keys_read_master(new_path, "new_path", newkey, new_fp);
	if (have_old)
		keys_read_master(old_path, PG_ARGISNULL(1) ? "zvt.key_file" : "old_path", oldkey, old_fp);

	c = palloc(sizeof(VaultCreds));
	SPI_connect();
	if (SPI_execute("SELECT key_id, account_id, master_fp, nonce, sealed FROM zvt._api_keys ORDER BY key_id FOR UPDATE",
					false, 0) != SPI_OK_SELECT)
		elog(ERROR, "could not read zvt._api_keys");
	rows = SPI_tuptable;
	nrows = SPI_processed;
	for (i = 0; i < nrows; i++)
	{
		HeapTuple	tup = rows->vals[i];
		bool		isnull;
		int64		key_id = DatumGetInt64(SPI_getbinval(tup, rows->tupdesc, 1, &isnull));
		int32		account_id = DatumGetInt32(SPI_getbinval(tup, rows->tupdesc, 2, &isnull));
		char	   *row_master = SPI_getvalue(tup, rows->tupdesc, 3);
		bytea	   *nonce = DatumGetByteaPP(SPI_getbinval(tup, rows->tupdesc, 4, &isnull));
		bytea	   *sealed = DatumGetByteaPP(SPI_getbinval(tup, rows->tupdesc, 5, &isnull));
		const unsigned char *key;
		unsigned char newnonce[VAULT_NONCE_LEN];
		unsigned char *out;
		size_t		outsz;
		int			n;
		Oid			types[4] = {INT8OID, BYTEAOID, BYTEAOID, TEXTOID};
		Datum		args[4];

		if (strcmp(row_master, new_fp) == 0)
			key = newkey;
		else if (have_old && strcmp(row_master, old_fp) == 0)
			key = oldkey;
		else
			ereport(ERROR,
					(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
					 errmsg("the API key of account %d is sealed under master key %s, which is neither the old key file's nor new_path's",
							account_id, row_master),
					 errhint("Pass the file holding master key %s as old_path.", row_master)));
		if (VARSIZE_ANY_EXHDR(nonce) != VAULT_NONCE_LEN ||
			vault_open(key, account_id, (unsigned char *) VARDATA_ANY(nonce),
					   (unsigned char *) VARDATA_ANY(sealed), VARSIZE_ANY_EXHDR(sealed), c) < 0)
			ereport(ERROR,
					(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
					 errmsg("the API key of account %d does not authenticate", account_id),
					 errdetail("Nothing was rotated; set that account's key again with zvt.set_api_key, then rotate.")));
		outsz = vault_sealed_len(c->api_key, c->secret, c->has_passphrase ? c->passphrase : NULL);
		out = palloc(outsz);
		n = vault_seal(newkey, account_id, c->api_key, c->secret,
					   c->has_passphrase ? c->passphrase : NULL, newnonce, out, outsz);
		vault_creds_wipe(c);
		if (n < 0)
			ereport(ERROR,
					(errcode(ERRCODE_INTERNAL_ERROR),
					 errmsg("could not encrypt the API key of account %d", account_id)));
		args[0] = Int64GetDatum(key_id);
		args[1] = PointerGetDatum(bytes_to_bytea(newnonce, VAULT_NONCE_LEN));
		args[2] = PointerGetDatum(bytes_to_bytea(out, (size_t) n));
		args[3] = CStringGetTextDatum(new_fp);
		if (SPI_execute_with_args("UPDATE zvt._api_keys SET nonce = $2, sealed = $3, master_fp = $4 WHERE key_id = $1",
								  4, types, args, NULL, false, 0) != SPI_OK_UPDATE)
			elog(ERROR, "could not update zvt._api_keys");
		count++;
	}
	SPI_finish();
	vault_wipe(oldkey, sizeof(oldkey));
	vault_wipe(newkey, sizeof(newkey));
	ereport(NOTICE,
			(errmsg("%d API keys re-sealed under master key %s", count, new_fp),
			 errhint("Now set zvt.key_file to the new file and reload: ALTER SYSTEM SET zvt.key_file = ...; SELECT pg_reload_conf();")));
	PG_RETURN_INT32(count);
}
