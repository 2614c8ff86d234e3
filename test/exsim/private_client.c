/*
 * test/exsim/private_client.c
 *	  zvt-exsim-private: one signed request to an exchange's private API,
 *	  signed with zvt's own signers (src/live/sign.c, jwt.c), for the
 *	  simulator's tests (test/integration/exsim_private.sh).
 *
 *	  zvt-exsim-private EXCHANGE BASE_URL KEY SECRET PASSPHRASE METHOD PATH QUERY BODY [SKEW_MS [BREAK]]
 *
 * PASSPHRASE, QUERY and BODY may be "" (none).  SKEW_MS shifts the
 * signed timestamp; BREAK = "sig" flips a character of the signature,
 * "pass" sends a wrong passphrase.  Prints the HTTP status, a space and
 * the body; exits 0 when a reply came (whatever its status), 1 if none.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#include "curl_call.h"
#include "live/sign.h"

static int64_t
now_ms(void)
{
	struct timeval tv;

	gettimeofday(&tv, NULL);
	return (int64_t) tv.tv_sec * 1000 + tv.tv_usec / 1000;
}

static struct curl_slist *
header(struct curl_slist *h, const char *name, const char *value)
{
	char		line[4096];

	snprintf(line, sizeof(line), "%s: %s", name, value);
	return curl_slist_append(h, line);
}

int
main(int argc, char **argv)
{
	const char *ex, *base, *key, *secret, *pass, *method, *path, *query, *body, *brk;
	int64_t		ts;
	char		url[4096], sig[2048], tsbuf[64], pq[4096], host[256];
	struct curl_slist *h = NULL;
	CurlReply	reply = {NULL, 0};
	long		status = 0;
	CURLcode	rc;

	if (argc < 10)
	{
		fprintf(stderr, "usage: zvt-exsim-private EXCHANGE BASE_URL KEY SECRET PASSPHRASE METHOD PATH QUERY BODY [SKEW_MS [BREAK]]\n");
		return 2;
	}
	ex = argv[1]; base = argv[2]; key = argv[3]; secret = argv[4]; pass = argv[5];
	method = argv[6]; path = argv[7]; query = argv[8]; body = argv[9];
	ts = now_ms() + (argc > 10 ? atoll(argv[10]) : 0);
	brk = argc > 11 ? argv[11] : "";
	snprintf(url, sizeof(url), "%s%s%s%s", base, path, query[0] ? "?" : "", query);
	if (strcmp(ex, "binance") == 0)
	{
		char		q[3000];

		snprintf(q, sizeof(q), "%s%stimestamp=%lld", query, query[0] ? "&" : "", (long long) ts);
		if (sign_binance(secret, q, body, sig, sizeof(sig)) < 0)
			return 2;
		if (strcmp(brk, "sig") == 0)
			sig[0] = sig[0] == 'a' ? 'b' : 'a';
		snprintf(url, sizeof(url), "%s%s?%s&signature=%s", base, path, q, sig);
		h = header(h, "X-MBX-APIKEY", key);
		h = header(h, "Content-Type", "application/x-www-form-urlencoded");
	}
	else if (strcmp(ex, "bybit") == 0)
	{
		snprintf(tsbuf, sizeof(tsbuf), "%lld", (long long) ts);
		if (sign_bybit(secret, tsbuf, key, "5000", strcmp(method, "POST") == 0 ? body : query, sig, sizeof(sig)) < 0)
			return 2;
		if (strcmp(brk, "sig") == 0)
			sig[0] = sig[0] == 'a' ? 'b' : 'a';
		h = header(h, "X-BAPI-API-KEY", key);
		h = header(h, "X-BAPI-TIMESTAMP", tsbuf);
		h = header(h, "X-BAPI-RECV-WINDOW", "5000");
		h = header(h, "X-BAPI-SIGN", sig);
		h = header(h, "Content-Type", "application/json");
	}
	else if (strcmp(ex, "okx") == 0)
	{
		sign_iso_timestamp(ts, tsbuf, sizeof(tsbuf));
		snprintf(pq, sizeof(pq), "%s%s%s", path, query[0] ? "?" : "", query);
		if (sign_okx(secret, tsbuf, method, pq, body, sig, sizeof(sig)) < 0)
			return 2;
		if (strcmp(brk, "sig") == 0)
			sig[0] = sig[0] == 'A' ? 'B' : 'A';
		h = header(h, "OK-ACCESS-KEY", key);
		h = header(h, "OK-ACCESS-SIGN", sig);
		h = header(h, "OK-ACCESS-TIMESTAMP", tsbuf);
		h = header(h, "OK-ACCESS-PASSPHRASE", strcmp(brk, "pass") == 0 ? "wrong-passphrase" : pass);
		h = header(h, "Content-Type", "application/json");
	}
	else if (strcmp(ex, "coinbase") == 0)
	{
		char		uri[1024], nonce[33], bearer[2100];
		const char *p = strstr(base, "://");

		snprintf(host, sizeof(host), "%s", p ? p + 3 : base);
		snprintf(uri, sizeof(uri), "%s %s%s", method, host, path);
		snprintf(nonce, sizeof(nonce), "%016llx%016llx", (unsigned long long) ts, (unsigned long long) rand());
		if (sign_coinbase_jwt(secret, key, nonce, ts / 1000, uri, sig, sizeof(sig)) < 0)
			return 2;
		if (strcmp(brk, "sig") == 0)
		{
			char	   *last = strrchr(sig, '.') + 2;

			*last = *last == 'A' ? 'B' : 'A';
		}
		snprintf(bearer, sizeof(bearer), "Bearer %s", sig);
		h = header(h, "Authorization", bearer);
		h = header(h, "Content-Type", "application/json");
	}
	else
		return 2;

	rc = curl_call(method, url, h, body, &reply, &status);
	curl_slist_free_all(h);
	if (rc != CURLE_OK)
	{
		printf("000 %s\n", curl_easy_strerror(rc));
		return 1;
	}
	printf("%ld %s\n", status, reply.data ? reply.data : "");
	free(reply.data);
	return 0;
}
