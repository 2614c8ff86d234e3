/*-------------------------------------------------------------------------
 *
 * src/http/run.c
 *	  One HTTP request, start to finish, as PostgREST runs it: CORS and
 *	  rate limits, authentication, then one transaction in which the
 *	  request's role is set, the request.* settings are made, the
 *	  pre-request function is called and the API layer serves; then the
 *	  response.status / response.headers the functions set are applied
 *	  and the transaction commits (or rolls back on Prefer: tx=rollback).
 *
 * The role.  set_config_option("role", ..., GUC_ACTION_LOCAL), what
 * set_config('role', $1, true) runs, is SET LOCAL ROLE with the role name
 * as a value, never SQL text: PostgreSQL checks that the session user (the
 * authenticator, a NOINHERIT role) is a member of it, and refuses an
 * unknown role (22023) or one not granted (42501) before anything of the
 * request runs.  As a second wall, a request whose role turns out to be
 * a superuser is refused (42501) whatever the grants say.
 *
 * Errors.  Anything the database raises inside the transaction (the role
 * check, a constraint, a permission, the statement timeout) is caught
 * here: the transaction is aborted and the error answered with
 * PostgREST's status (request.h: http_status_for_sqlstate) and body.
 * FATAL (a terminate request) is not caught: the worker exits.
 *
 * Memory.  Everything palloc'd for a request lives in request_cxt, a
 * child of TopMemoryContext reset after each request; the response is
 * malloc'd (request.h).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "catalog/namespace.h"
#include "executor/spi.h"
#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/memutils.h"
#include "utils/snapmgr.h"
#include "utils/timeout.h"
#include "utils/timestamp.h"
#include "utils/varlena.h"
#include "pgtime.h"

#include "core/zvt_time.h"
#include "http/api.h"
#include "http/settings.h"
#include "http/transport.h"
#include "zvt.h"

static MemoryContext request_cxt = NULL;

static char *malloced(char *s);
static void set_request(const HttpRequest *req, const char *role, const char *claims);
static void call_pre_request(void);
static void apply_response_settings(HttpResponse *resp);
static void answer_error(HttpResponse *resp, ErrorData *edata, bool anonymous);
static bool prefer_rollback(const HttpRequest *req);

/* A palloc'd copy of s, which is freed (settings.c's results are malloc'd). */
static char *
malloced(char *s)
{
	char	   *p = pstrdup(s);

	free(s);
	return p;
}

/*
 * One setting for the transaction, as pg_catalog.set_config(name, value,
 * true) makes it (set_config_by_name: the same call, the same checks; a
 * value is never SQL text), without a statement to run.
 */
static void
set_local(const char *name, const char *value)
{
	(void) set_config_option(name, value, superuser() ? PGC_SUSET : PGC_USERSET,
							 PGC_S_SESSION, GUC_ACTION_LOCAL, true, 0, false);
}

/*
 * SET LOCAL ROLE role for the current transaction, the role name a value
 * (never SQL text) that goes through the role setting's own check
 * (PostgreSQL's check_role: 22023 for an unknown role, 42501 when the
 * authenticator is not a member), as SET ROLE does; then a superuser is
 * refused (42501).  For a request (below) and a /stream client's
 * accounts (stream.c).
 */
void
http_set_role(const char *role)
{
	set_local("role", role);
	if (superuser())
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("permission denied to set role \"%s\"", role),
				 errdetail("HTTP requests never run as a superuser.")));
}

/*
 * SET LOCAL ROLE and the request.* settings; the role first, so a refused
 * role stops everything.
 */
static void
set_request(const HttpRequest *req, const char *role, const char *claims)
{
	http_set_role(role);
	set_local("request.jwt.claims", claims);
	set_local("request.method", req->method);
	set_local("request.path", req->path);
	set_local("request.headers", malloced(http_headers_json(req)));
	set_local("request.cookies", malloced(http_cookies_json(req)));
	set_local("response.headers", "");
	set_local("response.status", "");
}

/*
 * zvt.http_pre_request, when set: a function name from the configuration
 * (never from the request), parsed as a qualified name and quoted.
 */
static void
call_pre_request(void)
{
	List	   *names;
	char	   *sql;

	if (zvt_http_pre_request == NULL || zvt_http_pre_request[0] == '\0')
		return;
	if (!SplitIdentifierString(pstrdup(zvt_http_pre_request), '.', &names) ||
		list_length(names) < 1 || list_length(names) > 2)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("zvt.http_pre_request \"%s\" is not a function name", zvt_http_pre_request)));
	if (list_length(names) == 2)
		sql = psprintf("SELECT %s.%s()", quote_identifier(linitial(names)),
					   quote_identifier(lsecond(names)));
	else
		sql = psprintf("SELECT %s()", quote_identifier(linitial(names)));
	if (SPI_execute(sql, false, 0) < 0)
		elog(ERROR, "zvt http: the pre-request function failed");
}

/*
 * response.status (a number) and response.headers (a JSON array of
 * one-key objects) as the request's functions left them.
 */
static void
apply_response_settings(HttpResponse *resp)
{
	const char *status = GetConfigOption("response.status", true, false);
	const char *headers = GetConfigOption("response.headers", true, false);

	if (status && status[0])
	{
		char	   *end;
		long		s = strtol(status, &end, 10);

		if (*end != '\0' || s < 100 || s > 599)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("Invalid response.status \"%s\"", status),
					 errhint("Set an HTTP status from 100 to 599.")));
		resp->status = (int) s;
	}
	if (headers && headers[0] && http_apply_response_headers(resp, headers) != 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("response.headers guc must be a JSON array composed of objects with a single key and a string value")));
}

/* PostgREST's error response for an error the database raised. */
static void
answer_error(HttpResponse *resp, ErrorData *edata, bool anonymous)
{
	const char *code = unpack_sql_state(edata->sqlerrcode);
	int			status = http_status_for_sqlstate(code, anonymous);

	/* the response was being built for the failed request: start afresh */
	http_response_free(resp);
	http_response_error(resp, status, code, edata->message, edata->detail, edata->hint);
	if (status == 401)
		http_response_header(resp, "WWW-Authenticate", "Bearer", true);
}

/* The value of preference name in Prefer ("timezone" -> "UTC"), palloc'd, or NULL. */
static char *
prefer_value(const HttpRequest *req, const char *name)
{
	const char *p = http_request_header(req, "prefer");
	size_t		n = strlen(name);

	while (p && *p)
	{
		while (*p == ' ' || *p == ',' || *p == ';')
			p++;
		if (strncmp(p, name, n) == 0 && p[n] == '=')
			return pnstrdup(p + n + 1, strcspn(p + n + 1, ",; "));
		p += strcspn(p, ",;");
	}
	return NULL;
}

static bool
prefer_rollback(const HttpRequest *req)
{
	char	   *tx = prefer_value(req, "tx");

	return tx && strcmp(tx, "rollback") == 0;
}

/*
 * Prefer: handling=strict, max-affected=N on PATCH and DELETE needs the
 * number of rows changed, which the API layer gives only in Content-Range
 * under count=exact.  When the client did not ask for a count, add
 * count=exact to the Prefer the API layer sees (req->headers becomes a
 * palloc'd copy) and return true; hide_count takes it out of the answer.
 */
static bool
ask_count(HttpRequest *req)
{
	char	   *max = prefer_value(req, "max-affected");
	char	   *handling = prefer_value(req, "handling");
	HttpHeader *h;

	if (max == NULL || handling == NULL || strcmp(handling, "strict") != 0 ||
		(strcmp(req->method, "PATCH") != 0 && strcmp(req->method, "DELETE") != 0) ||
		prefer_value(req, "count") != NULL)
		return false;
	h = palloc(sizeof(HttpHeader) * req->nheaders);
	memcpy(h, req->headers, sizeof(HttpHeader) * req->nheaders);
	for (int i = 0; i < req->nheaders; i++)
		if (strcmp(h[i].name, "prefer") == 0)
			h[i].value = psprintf("%s, count=exact", h[i].value);
	req->headers = h;
	return true;
}

/* Take the count ask_count asked for out of Content-Range and Preference-Applied. */
static void
hide_count(HttpResponse *resp)
{
	const char *range = http_response_get_header(resp, "Content-Range");
	const char *applied = http_response_get_header(resp, "Preference-Applied");

	if (range && strchr(range, '/'))
		http_response_header(resp, "Content-Range",
							 psprintf("%.*s/*", (int) (strchr(range, '/') - range), range), true);
	if (applied)
	{
		List	   *keep = NIL;
		char	   *copy = pstrdup(applied);
		char	   *save;
		StringInfoData out;
		ListCell   *lc;

		for (char *t = strtok_r(copy, ", ", &save); t; t = strtok_r(NULL, ", ", &save))
			if (strcmp(t, "count=exact") != 0)
				keep = lappend(keep, t);
		initStringInfo(&out);
		foreach(lc, keep)
			appendStringInfo(&out, "%s%s", out.len ? ", " : "", (char *) lfirst(lc));
		http_response_header(resp, "Preference-Applied", out.data, true);
	}
}

/*
 * The rows a strict max-affected PATCH or DELETE changed (the total of
 * Content-Range under count=exact) when over the maximum, else -1.
 */
static long
over_max_affected(const HttpRequest *req, const HttpResponse *resp)
{
	char	   *max = prefer_value(req, "max-affected");
	char	   *handling = prefer_value(req, "handling");
	const char *range = http_response_get_header(resp, "Content-Range");
	const char *slash = range ? strchr(range, '/') : NULL;
	long		n;

	if (max == NULL || handling == NULL || strcmp(handling, "strict") != 0 ||
		(strcmp(req->method, "PATCH") != 0 && strcmp(req->method, "DELETE") != 0) ||
		resp->status >= 300 || slash == NULL || slash[1] < '0' || slash[1] > '9')
		return -1;
	n = strtol(slash + 1, NULL, 10);
	return n > strtol(max, NULL, 10) ? n : -1;
}

/* Add what to Preference-Applied, after what the API layer put there. */
static void
preference_applied(HttpResponse *resp, const char *what)
{
	const char *had = http_response_get_header(resp, "Preference-Applied");

	http_response_header(resp, "Preference-Applied",
						 had ? psprintf("%s, %s", had, what) : what, true);
}

/* SET LOCAL TimeZone to a valid zone name (Prefer: timezone=), a bound value. */
static void
set_timezone(const char *tz)
{
	static SPIPlanPtr plan = NULL;
	Oid			type = TEXTOID;
	Datum		value = CStringGetTextDatum(tz);

	if (plan == NULL)
	{
		plan = SPI_prepare("SELECT pg_catalog.set_config('TimeZone', $1, true)", 1, &type);
		if (plan == NULL || SPI_keepplan(plan) != 0)
			elog(ERROR, "zvt http: could not prepare SET TimeZone");
	}
	if (SPI_execute_plan(plan, &value, NULL, false, 1) != SPI_OK_SELECT)
		elog(ERROR, "zvt http: SET TimeZone failed");
}

/* ----------------------------------------------------------------
 *		The request
 * ----------------------------------------------------------------
 */

void
http_exec(HttpRequest *req, HttpResponse *resp, const HttpContext *cx)
{
	MemoryContext old;
	char	   *claims = NULL;
	int64		t0 = ZVT_TS_TO_UNIX(GetCurrentTimestamp());
	int64		t1;
	volatile bool rollback;
	char	   *volatile tz;
	volatile long affected = -1;
	volatile bool counted;

	if (request_cxt == NULL)
		request_cxt = AllocSetContextCreate(TopMemoryContext, "zvt http request",
											ALLOCSET_DEFAULT_SIZES);
	old = MemoryContextSwitchTo(request_cxt);

	/* preflight and CORS headers; rate limits; the token */
	if (http_cors(req, resp) || !http_authenticate(req, resp, &claims) ||
		!http_rate_allow(req, cx, resp))
		goto done;
	t1 = ZVT_TS_TO_UNIX(GetCurrentTimestamp());
	rollback = prefer_rollback(req);
	counted = ask_count(req);
	tz = prefer_value(req, "timezone");
	if (tz && pg_tzset(tz) == NULL)
	{
		char	   *handling = prefer_value(req, "handling");

		/* PostgREST ignores an invalid preference unless told to be strict */
		if (handling && strcmp(handling, "strict") == 0)
		{
			http_response_error(resp, 400, "PGRST122", "Invalid preferences given with handling=strict",
								psprintf("Invalid preferences: timezone=%s", tz), NULL);
			goto done;
		}
		tz = NULL;
	}

	SetCurrentStatementStartTimestamp();
	StartTransactionCommand();
	PG_TRY();
	{
		PushActiveSnapshot(GetTransactionSnapshot());
		pgstat_report_activity(STATE_RUNNING, psprintf("%s %s", req->method, req->path));
		if (zvt_http_statement_timeout > 0)
			enable_timeout_after(STATEMENT_TIMEOUT, zvt_http_statement_timeout);
		SPI_connect();
		set_request(req, req->role, claims);
		if (tz)
			set_timezone(tz);
		call_pre_request();
		SPI_finish();
		if (http_metrics_route(req))
			http_metrics_serve(req, resp);	/* /metrics (metrics_page.c) */
		else
			http_api_serve(req, resp);
		affected = over_max_affected(req, resp);
		if (counted)
			hide_count(resp);
		if (affected >= 0)
		{
			/* PostgREST's PGRST124; the changes are rolled back below */
			http_response_free(resp);
			http_response_error(resp, 400, "PGRST124",
								"Query result exceeds max-affected preference constraint",
								psprintf("The query affects %ld rows", affected), NULL);
			rollback = true;
		}
		SPI_connect();
		apply_response_settings(resp);
		SPI_finish();
		disable_timeout(STATEMENT_TIMEOUT, false);
		QueryCancelPending = false; /* a timeout that fired just now */
		PopActiveSnapshot();
		if (tz && affected < 0)
			preference_applied(resp, psprintf("timezone=%s", tz));
		if (rollback)
		{
			AbortCurrentTransaction();
			MemoryContextSwitchTo(request_cxt);
			if (affected < 0)
				preference_applied(resp, "tx=rollback");
		}
		else
			CommitTransactionCommand();
	}
	PG_CATCH();
	{
		ErrorData  *edata;

		disable_timeout(STATEMENT_TIMEOUT, false);
		QueryCancelPending = false;
		MemoryContextSwitchTo(request_cxt);
		edata = CopyErrorData();
		FlushErrorState();
		AbortCurrentTransaction();
		answer_error(resp, edata, req->anonymous);
	}
	PG_END_TRY();
	pgstat_report_activity(STATE_IDLE, NULL);
	MemoryContextSwitchTo(request_cxt);
	if (resp->status == 0)
		resp->status = 200;
	http_server_timing(resp, (t1 - t0) / 1000.0,
					   (ZVT_TS_TO_UNIX(GetCurrentTimestamp()) - t1) / 1000.0);

done:
	if (resp->status == 0)
		resp->status = 200;
	http_access_log(req, cx, resp);
	MemoryContextSwitchTo(old);
	MemoryContextReset(request_cxt);
	free(claims);
}

/*
 * /ready: the worker's connection answers a query and the exposed API
 * schema (zvt_api, where the extension puts it) exists.
 */
bool
http_ready(void)
{
	bool		ok = false;
	MemoryContext old = CurrentMemoryContext;

	StartTransactionCommand();
	PG_TRY();
	{
		PushActiveSnapshot(GetTransactionSnapshot());
		ok = OidIsValid(get_namespace_oid("zvt_api", true));
		PopActiveSnapshot();
		CommitTransactionCommand();
	}
	PG_CATCH();
	{
		MemoryContextSwitchTo(old);
		FlushErrorState();
		AbortCurrentTransaction();
		ok = false;
	}
	PG_END_TRY();
	MemoryContextSwitchTo(old);
	return ok;
}
