/*-------------------------------------------------------------------------
 *
 * src/redis/tls.c
 *	  The TLS relay for rediss:// (see tls.h): connect, handshake with
 *	  verification, then a thread that moves bytes both ways.
 *
 * The relay thread owns its end of the socketpair and the TLS socket,
 * both non-blocking, with a buffer each way, so neither side ever waits
 * for the other: Redis may answer the start of a pipeline while hiredis
 * is still writing its end.  It ends when hiredis closes its end, when
 * the server closes or fails (hiredis then reads end of file, and the
 * publisher reconnects), or when redis_tls_stop asks.  All signals are
 * blocked in the thread: the process's handlers run in its main thread.
 *
 *-------------------------------------------------------------------------
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "redis/tls.h"

#define RELAY_BUF 65536

struct RedisTls
{
	SSL_CTX    *ctx;
	SSL		   *ssl;
	int			tcp;			/* to the server, under ssl */
	int			mine;			/* the relay's end of the socketpair */
	int			wake[2];		/* redis_tls_stop writes here */
	pthread_t	thread;
	bool		started;
	unsigned char up[RELAY_BUF];	/* from hiredis, to the server */
	size_t		up_len;
	unsigned char down[RELAY_BUF];	/* from the server, to hiredis */
	size_t		down_off;
	size_t		down_len;
};

/* err = "<what>: <OpenSSL's first queued error, or fallback>" */
static void
ssl_error(char *err, size_t errlen, const char *what, const char *fallback)
{
	unsigned long e = ERR_get_error();
	char		buf[256];

	if (e != 0)
		ERR_error_string_n(e, buf, sizeof(buf));
	snprintf(err, errlen, "%s: %s", what, e != 0 ? buf : fallback);
	ERR_clear_error();
}

static long
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static bool
set_nonblocking(int fd)
{
	int			flags = fcntl(fd, F_GETFL, 0);

	return flags >= 0 && fcntl(fd, F_SETFL, flags | O_NONBLOCK) == 0;
}

/* A non-blocking TCP connection to host:port within the deadline, or -1. */
static int
tcp_connect(const char *host, int port, long deadline, char *err, size_t errlen)
{
	struct addrinfo hints = {0};
	struct addrinfo *res,
			   *ai;
	char		service[16];
	int			rc,
				fd = -1;

	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	snprintf(service, sizeof(service), "%d", port);
	if ((rc = getaddrinfo(host, service, &hints, &res)) != 0)
	{
		snprintf(err, errlen, "could not resolve %s: %s", host, gai_strerror(rc));
		return -1;
	}
	snprintf(err, errlen, "could not connect to %s:%d", host, port);
	for (ai = res; ai && fd < 0; ai = ai->ai_next)
	{
		struct pollfd p;
		int			soerr = 0;
		socklen_t	len = sizeof(soerr);

		fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
		if (fd < 0)
			continue;
		if (!set_nonblocking(fd) ||
			(connect(fd, ai->ai_addr, ai->ai_addrlen) != 0 && errno != EINPROGRESS))
			goto next;
		p.fd = fd;
		p.events = POLLOUT;
		if (poll(&p, 1, (int) (deadline > now_ms() ? deadline - now_ms() : 0)) != 1 ||
			getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &len) != 0 || soerr != 0)
		{
			snprintf(err, errlen, "could not connect to %s:%d: %s", host, port,
					 soerr ? strerror(soerr) : "timed out");
			goto next;
		}
		continue;
next:
		close(fd);
		fd = -1;
	}
	freeaddrinfo(res);
	return fd;
}

/* The context: TLS 1.2 or later, peer verification, the client certificate. */
static SSL_CTX *
make_ctx(const RedisTlsOptions *opt, char *err, size_t errlen)
{
	SSL_CTX    *ctx = SSL_CTX_new(TLS_client_method());

	if (ctx == NULL)
	{
		ssl_error(err, errlen, "could not create a TLS context", "out of memory");
		return NULL;
	}
	SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
	SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
	if (opt->ca_file && opt->ca_file[0]
		? SSL_CTX_load_verify_locations(ctx, opt->ca_file, NULL) != 1
		: SSL_CTX_set_default_verify_paths(ctx) != 1)
	{
		ssl_error(err, errlen, "could not load the CA certificates", opt->ca_file ? opt->ca_file : "");
		goto fail;
	}
	if (opt->cert_file && opt->cert_file[0])
	{
		if (SSL_CTX_use_certificate_chain_file(ctx, opt->cert_file) != 1)
		{
			ssl_error(err, errlen, "could not load the client certificate", opt->cert_file);
			goto fail;
		}
		if (SSL_CTX_use_PrivateKey_file(ctx, opt->key_file ? opt->key_file : "", SSL_FILETYPE_PEM) != 1 ||
			SSL_CTX_check_private_key(ctx) != 1)
		{
			ssl_error(err, errlen, "could not load the client key", opt->key_file ? opt->key_file : "");
			goto fail;
		}
	}
	return ctx;
fail:
	SSL_CTX_free(ctx);
	return NULL;
}

/* The handshake on the non-blocking socket within the deadline. */
static bool
handshake(RedisTls *t, const char *host, long deadline, char *err, size_t errlen)
{
	struct in6_addr addr;
	bool		is_ip = inet_pton(AF_INET, host, &addr) == 1 || inet_pton(AF_INET6, host, &addr) == 1;

	t->ssl = SSL_new(t->ctx);
	if (t->ssl == NULL || SSL_set_fd(t->ssl, t->tcp) != 1)
	{
		ssl_error(err, errlen, "could not start TLS", "out of memory");
		return false;
	}
	/* the name checked against the certificate: an IP address or a DNS name */
	if (is_ip ? X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(t->ssl), host) != 1
		: (SSL_set1_host(t->ssl, host) != 1 || SSL_set_tlsext_host_name(t->ssl, host) != 1))
	{
		ssl_error(err, errlen, "could not set the server name", host);
		return false;
	}
	for (;;)
	{
		int			rc = SSL_connect(t->ssl);
		int			e;
		struct pollfd p;

		if (rc == 1)
			return true;
		e = SSL_get_error(t->ssl, rc);
		if (e != SSL_ERROR_WANT_READ && e != SSL_ERROR_WANT_WRITE)
		{
			long		v = SSL_get_verify_result(t->ssl);

			if (v != X509_V_OK)
			{
				snprintf(err, errlen, "the server's certificate was refused: %s",
						 X509_verify_cert_error_string(v));
				ERR_clear_error();
			}
			else
				ssl_error(err, errlen, "TLS handshake failed", "the connection was closed");
			return false;
		}
		p.fd = t->tcp;
		p.events = e == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT;
		if (poll(&p, 1, (int) (deadline > now_ms() ? deadline - now_ms() : 0)) != 1)
		{
			snprintf(err, errlen, "TLS handshake timed out");
			return false;
		}
	}
}

/* ----------------------------------------------------------------
 *		The relay
 * ----------------------------------------------------------------
 */

/*
 * One round without waiting: TLS to hiredis, hiredis to TLS.  *want_in and
 * *want_out say what the TLS socket waits for.  False once either side
 * ended.
 */
static bool
relay_round(RedisTls *t, bool *want_in, bool *want_out)
{
	*want_in = *want_out = false;
	/* from the server */
	while (t->down_len < RELAY_BUF)
	{
		int			n = SSL_read(t->ssl, t->down + t->down_len, (int) (RELAY_BUF - t->down_len));
		int			e;

		if (n > 0)
		{
			t->down_len += (size_t) n;
			continue;
		}
		e = SSL_get_error(t->ssl, n);
		if (e == SSL_ERROR_WANT_READ)
			*want_in = true;
		else if (e == SSL_ERROR_WANT_WRITE)
			*want_out = true;
		else
			return false;		/* closed or failed */
		break;
	}
	while (t->down_off < t->down_len)
	{
		ssize_t		n = send(t->mine, t->down + t->down_off, t->down_len - t->down_off, MSG_NOSIGNAL);

		if (n < 0)
		{
			if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
				break;
			return false;
		}
		t->down_off += (size_t) n;
	}
	if (t->down_off == t->down_len)
		t->down_off = t->down_len = 0;
	/* to the server */
	if (t->up_len < RELAY_BUF)
	{
		ssize_t		n = recv(t->mine, t->up + t->up_len, RELAY_BUF - t->up_len, 0);

		if (n == 0)
			return false;		/* hiredis closed its end */
		if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
			return false;
		if (n > 0)
			t->up_len += (size_t) n;
	}
	if (t->up_len > 0)
	{
		int			n = SSL_write(t->ssl, t->up, (int) t->up_len);

		if (n > 0)
		{
			memmove(t->up, t->up + n, t->up_len - (size_t) n);
			t->up_len -= (size_t) n;
		}
		else
		{
			int			e = SSL_get_error(t->ssl, n);

			if (e == SSL_ERROR_WANT_READ)
				*want_in = true;
			else if (e == SSL_ERROR_WANT_WRITE)
				*want_out = true;
			else
				return false;
		}
	}
	return true;
}

static void *
relay_main(void *arg)
{
	RedisTls   *t = arg;
	bool		want_in,
				want_out;

	while (relay_round(t, &want_in, &want_out))
	{
		struct pollfd p[3];

		p[0].fd = t->tcp;
		p[0].events = (short) ((want_in ? POLLIN : 0) |
							   (want_out || (t->up_len > 0 && !want_in) ? POLLOUT : 0));
		p[1].fd = t->mine;
		p[1].events = (short) ((t->up_len < RELAY_BUF ? POLLIN : 0) | (t->down_len > t->down_off ? POLLOUT : 0));
		p[2].fd = t->wake[0];
		p[2].events = POLLIN;
		/* data the TLS layer already holds needs no wait */
		if (SSL_pending(t->ssl) > 0 && t->down_len < RELAY_BUF)
			continue;
		if (poll(p, 3, 1000) < 0 && errno != EINTR)
			break;
		if (p[2].revents)
			break;
	}
	/* hiredis reads end of file: the publisher reconnects */
	shutdown(t->mine, SHUT_RDWR);
	return NULL;
}

RedisTls *
redis_tls_start(const char *host, int port, const RedisTlsOptions *opt,
				int *fd, char *err, size_t errlen)
{
	RedisTls   *t = calloc(1, sizeof(RedisTls));
	long		deadline = now_ms() + (opt->timeout_ms > 0 ? opt->timeout_ms : 10000);
	int			sv[2];
	sigset_t	all,
				old;

	if (t == NULL)
	{
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	t->tcp = t->mine = t->wake[0] = t->wake[1] = -1;
	if ((t->ctx = make_ctx(opt, err, errlen)) == NULL ||
		(t->tcp = tcp_connect(host, port, deadline, err, errlen)) < 0 ||
		!handshake(t, host, deadline, err, errlen))
		goto fail;
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0 ||
		pipe2(t->wake, O_CLOEXEC | O_NONBLOCK) != 0)
	{
		snprintf(err, errlen, "could not make the relay's sockets: %s", strerror(errno));
		goto fail;
	}
	t->mine = sv[1];
	if (!set_nonblocking(t->mine))
	{
		close(sv[0]);
		snprintf(err, errlen, "could not make the relay's sockets: %s", strerror(errno));
		goto fail;
	}
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	t->started = pthread_create(&t->thread, NULL, relay_main, t) == 0;
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (!t->started)
	{
		close(sv[0]);
		snprintf(err, errlen, "could not start the TLS relay thread");
		goto fail;
	}
	*fd = sv[0];
	return t;
fail:
	redis_tls_stop(t);
	return NULL;
}

void
redis_tls_stop(RedisTls *t)
{
	if (t == NULL)
		return;
	if (t->started)
	{
		if (write(t->wake[1], "x", 1) < 0)
		{
			/* the pipe is empty and open: cannot fail; the poll times out anyway */
		}
		pthread_join(t->thread, NULL);
	}
	if (t->ssl)
	{
		SSL_shutdown(t->ssl);	/* one close_notify, not waiting for the answer */
		SSL_free(t->ssl);
	}
	if (t->ctx)
		SSL_CTX_free(t->ctx);
	if (t->tcp >= 0)
		close(t->tcp);
	if (t->mine >= 0)
		close(t->mine);
	if (t->wake[0] >= 0)
		close(t->wake[0]);
	if (t->wake[1] >= 0)
		close(t->wake[1]);
	free(t);
}
