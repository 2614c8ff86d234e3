/*-------------------------------------------------------------------------
 *
 * src/redis/url.h
 *	  zvt.redis_url: redis://[user[:password]@]host[:port][/db] parsed
 *	  into its parts (url.c).
 *
 * Pure C, no PostgreSQL header.  Used by the GUC's check hook (a bad URL
 * is refused with the reason) and by the publisher to connect.
 *
 *-------------------------------------------------------------------------
 */
#ifndef ZVT_REDIS_URL_H
#define ZVT_REDIS_URL_H

#include <stdbool.h>

#define REDIS_URL_PART_LEN 256

typedef struct RedisUrl
{
	bool		tls;			/* rediss:// */
	char		user[REDIS_URL_PART_LEN];	/* "" = none (AUTH password alone, or none) */
	char		password[REDIS_URL_PART_LEN];	/* "" = no AUTH */
	bool		has_password;
	char		host[REDIS_URL_PART_LEN];	/* without IPv6 brackets */
	int			port;			/* 6379 by default */
	int			db;				/* SELECT; 0 by default */
} RedisUrl;

/*
 * Parse url into *out.  User and password may be percent-encoded.
 * Returns true on success; on error returns false, *out is unspecified and
 * reason (reasonlen bytes) says what is wrong.
 */
extern bool redis_url_parse(const char *url, RedisUrl *out, char *reason, int reasonlen);

#endif							/* ZVT_REDIS_URL_H */
