/*-------------------------------------------------------------------------
 *
 * src/redis/tls.h
 *	  TLS to Redis (rediss://) for a hiredis that has none: a relay thread
 *	  between a socketpair, whose other end hiredis is given with
 *	  redisConnectFd, and an OpenSSL connection to the server (tls.c).
 *
 * Pure C, no PostgreSQL header: the thread touches only OpenSSL and libc.
 * Debian 12's hiredis 0.14 has no TLS and no hook for its I/O, so bytes
 * go: hiredis -> socketpair -> relay -> TLS -> Redis, and back.  The
 * relay verifies the server's certificate chain (ca_file, else the
 * system's trust store) and its name (the host of the URL: DNS name or IP
 * address), sends SNI for a DNS name, and presents a client certificate
 * when cert_file and key_file are set (Redis's tls-auth-clients).
 *
 *-------------------------------------------------------------------------
 */
#ifndef ZVT_REDIS_TLS_H
#define ZVT_REDIS_TLS_H

#include <stddef.h>

typedef struct RedisTls RedisTls;

typedef struct RedisTlsOptions
{
	const char *ca_file;		/* NULL or "": the system's trust store */
	const char *cert_file;		/* NULL or "": no client certificate */
	const char *key_file;		/* with cert_file */
	int			timeout_ms;		/* connect and handshake */
} RedisTlsOptions;

/*
 * Connect to host:port, complete the TLS handshake and start the relay.
 * Returns the relay with *fd the socket to hand to redisConnectFd (the
 * relay ends when it is closed); NULL with the reason in err otherwise.
 */
extern RedisTls *redis_tls_start(const char *host, int port, const RedisTlsOptions *opt,
								 int *fd, char *err, size_t errlen);

/*
 * Stop the relay (after hiredis closed its end, or at once) and free it.
 * NULL is allowed.
 */
extern void redis_tls_stop(RedisTls *t);

#endif							/* ZVT_REDIS_TLS_H */
