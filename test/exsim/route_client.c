/*
 * test/exsim/route_client.c
 *	  zvt-live-route: one place, query or cancel built by the router's
 *	  core (src/live/route.c), sent with libcurl and read back by
 *	  route_parse.c, for test/integration/live_route.sh.
 *
 *	  zvt-live-route EXCHANGE BASE_URL KEY SECRET PASSPHRASE OP SYMBOL SIDE TYPE QTY PRICE TIF POST_ONLY CLIENT_ID [EXCHANGE_ID [SKEW_MS]]
 *
 * OP is place, query or cancel; PRICE "" for market; POST_ONLY 0 or 1.
 * Prints "KIND STATUS EXCHANGE_ID FILLED | REASON" (KIND ok, rejected,
 * not_found, auth, clock, rate, unknown; "-" for an empty field).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#include "curl_call.h"
#include "live/route.h"

int
main(int argc, char **argv)
{
	static const char *kinds[] = {"ok", "rejected", "not_found", "auth", "clock", "rate", "unknown"};
	LiveExchange ex;
	LiveCreds	cr;
	LiveOrder	o;
	LiveOp		op;
	LiveRequest req;
	LiveReply	rep;
	const char *err,
			   *base,
			   *p;
	char		url[4096],
				host[256],
				nonce[40];
	struct timeval tv;
	int64_t		now;
	struct curl_slist *h = NULL;
	CurlReply	reply = {NULL, 0};
	long		status = 0;

	if (argc < 15)
	{
		fprintf(stderr, "usage: zvt-live-route EXCHANGE BASE_URL KEY SECRET PASSPHRASE OP SYMBOL SIDE TYPE QTY PRICE TIF POST_ONLY CLIENT_ID [EXCHANGE_ID [SKEW_MS]]\n");
		return 2;
	}
	ex = live_exchange(argv[1]);
	base = argv[2];
	cr.api_key = argv[3];
	cr.secret = argv[4];
	cr.passphrase = argv[5][0] ? argv[5] : NULL;
	op = strcmp(argv[6], "place") == 0 ? LO_PLACE : strcmp(argv[6], "query") == 0 ? LO_QUERY : LO_CANCEL;
	memset(&o, 0, sizeof(o));
	o.symbol = argv[7];
	o.buy = strcmp(argv[8], "buy") == 0;
	o.type = argv[9];
	o.qty = argv[10];
	o.price = argv[11][0] ? argv[11] : NULL;
	o.tif = argv[12];
	o.post_only = strcmp(argv[13], "1") == 0;
	o.client_id = argv[14];
	gettimeofday(&tv, NULL);
	now = (int64_t) tv.tv_sec * 1000 + tv.tv_usec / 1000 + (argc > 16 ? atoll(argv[16]) : 0);
	p = strstr(base, "://");
	snprintf(host, sizeof(host), "%s", p ? p + 3 : base);
	snprintf(nonce, sizeof(nonce), "%016llx", (unsigned long long) now);
	if (live_build(ex, op, &cr, &o, argc > 15 && argv[15][0] ? argv[15] : NULL, now, host, nonce, &req, &err) < 0)
	{
		printf("build-error - - - | %s\n", err);
		return 1;
	}
	snprintf(url, sizeof(url), "%s%s", base, req.path_query);
	for (int i = 0; i < req.nheaders; i++)
		h = curl_slist_append(h, req.headers[i]);
	curl_call(req.method, url, h, req.body, &reply, &status);
	curl_slist_free_all(h);
	live_parse_reply(ex, op, status, reply.data, reply.len, o.client_id, &rep);
	printf("%s %s %s %s | %s\n", kinds[rep.kind], rep.status[0] ? rep.status : "-",
		   rep.exchange_id[0] ? rep.exchange_id : "-", rep.filled_qty[0] ? rep.filled_qty : "-", rep.reason);
	free(reply.data);
	return 0;
}
