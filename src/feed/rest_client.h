/*-------------------------------------------------------------------------
 *
 * src/feed/rest_client.h
 *	  Blocking HTTPS GET with libcurl for code running in a backend.
 *
 *-------------------------------------------------------------------------
 */
#ifndef REST_CLIENT_H
#define REST_CLIENT_H

typedef struct RestResponse
{
	long		status;			/* HTTP status, 0 when no response */
	char	   *body;			/* palloc'd, NUL-terminated */
	size_t		len;
	char		error[256];		/* transport error, "" when none */
	int			retry_after;	/* Retry-After in seconds, -1 when absent */
	int			used_weight;	/* Binance X-MBX-USED-WEIGHT-1M, -1 when absent */
} RestResponse;

/* in rest_client.c */
extern bool rest_get(const char *url, RestResponse *resp);
extern bool rest_check_url(const char *url, const char *what);

#endif
