/*
 * test/exsim/client.c
 *	  zvt-exsim-client: a small libwebsockets client for tests and
 *	  benchmarks of the simulator.
 *
 * Connects to one ws:// or wss:// URL, sends the --send messages in
 * order, then prints every text frame on its own line (--print) and/or
 * counts them, until --count frames, --duration seconds, or the server
 * closes.  The last line on stderr is "messages N seconds S rate R/s
 * closed C" so scripts and benchmarks can read it.
 */
#include <libwebsockets.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static const char *sends[32];
static int	nsends;
static int	sent_idx;
static long messages;
static long max_count;
static double duration;
static int	print_frames;
static int	done;
static int	closed_code;
static double t0;
static char *partial;
static size_t partial_len;
static struct lws_context *ctx;
static lws_sorted_usec_list_t tick;

/* lws_service ignores its timeout here: a timer brings control back */
static void
tick_cb(lws_sorted_usec_list_t *sul)
{
	(void) sul;
	lws_sul_schedule(ctx, 0, &tick, tick_cb, 20 * LWS_US_PER_MS);
}

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double) ts.tv_sec + (double) ts.tv_nsec / 1e9;
}

static int
callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in, size_t len)
{
	(void) user;
	switch (reason)
	{
		case LWS_CALLBACK_CLIENT_ESTABLISHED:
			if (nsends > 0)
				lws_callback_on_writable(wsi);
			break;
		case LWS_CALLBACK_CLIENT_WRITEABLE:
			if (sent_idx < nsends)
			{
				size_t		n = strlen(sends[sent_idx]);
				unsigned char *buf = malloc(LWS_PRE + n);

				memcpy(buf + LWS_PRE, sends[sent_idx], n);
				lws_write(wsi, buf + LWS_PRE, n, LWS_WRITE_TEXT);
				free(buf);
				sent_idx++;
				if (sent_idx < nsends)
					lws_callback_on_writable(wsi);
			}
			break;
		case LWS_CALLBACK_CLIENT_RECEIVE:
			/* reassemble fragments into one message */
			partial = realloc(partial, partial_len + len + 1);
			memcpy(partial + partial_len, in, len);
			partial_len += len;
			if (!lws_is_final_fragment(wsi))
				break;
			partial[partial_len] = '\0';
			messages++;
			if (print_frames)
				printf("%s\n", partial);
			partial_len = 0;
			if (max_count > 0 && messages >= max_count)
			{
				done = 1;
				return -1;
			}
			break;
		case LWS_CALLBACK_WS_PEER_INITIATED_CLOSE:
			if (len >= 2)
				closed_code = (((unsigned char *) in)[0] << 8) | ((unsigned char *) in)[1];
			break;
		case LWS_CALLBACK_CLIENT_CONNECTION_ERROR:
			fprintf(stderr, "connection error: %s\n", in ? (const char *) in : "?");
			closed_code = -1;
			done = 1;
			break;
		case LWS_CALLBACK_CLIENT_CLOSED:
			if (!closed_code)
				closed_code = 1006;
			done = 1;
			break;
		default:
			break;
	}
	return 0;
}

static const struct lws_protocols protocols[] = {
	{"exsim-client", callback, 0, 1 << 16, 0, NULL, 0},
	{NULL, NULL, 0, 0, 0, NULL, 0}
};

static void
on_signal(int sig)
{
	(void) sig;
	done = 1;
}

int
main(int argc, char **argv)
{
	const char *url = NULL;
	const char *ca = NULL;
	char		urlbuf[2048];
	const char *prot,
			   *address,
			   *path;
	int			port;
	struct lws_context_creation_info info;
	struct lws_client_connect_info cc;
	char		pathbuf[2048];
	double		elapsed;

	for (int i = 1; i < argc; i++)
	{
		if (strcmp(argv[i], "--send") == 0 && i + 1 < argc && nsends < 32)
			sends[nsends++] = argv[++i];
		else if (strcmp(argv[i], "--count") == 0 && i + 1 < argc)
			max_count = atol(argv[++i]);
		else if (strcmp(argv[i], "--duration") == 0 && i + 1 < argc)
			duration = atof(argv[++i]);
		else if (strcmp(argv[i], "--ca") == 0 && i + 1 < argc)
			ca = argv[++i];
		else if (strcmp(argv[i], "--print") == 0)
			print_frames = 1;
		else if (argv[i][0] != '-')
			url = argv[i];
		else
		{
			fprintf(stderr, "usage: zvt-exsim-client URL [--send JSON]... [--count N] [--duration S] [--print] [--ca FILE]\n");
			return 2;
		}
	}
	if (!url)
	{
		fprintf(stderr, "zvt-exsim-client: no URL\n");
		return 2;
	}
	signal(SIGINT, on_signal);
	snprintf(urlbuf, sizeof(urlbuf), "%s", url);
	if (lws_parse_uri(urlbuf, &prot, &address, &port, &path))
	{
		fprintf(stderr, "zvt-exsim-client: bad URL %s\n", url);
		return 2;
	}
	snprintf(pathbuf, sizeof(pathbuf), "/%s", path);
	lws_set_log_level(LLL_ERR, NULL);

	memset(&info, 0, sizeof(info));
	info.port = CONTEXT_PORT_NO_LISTEN;
	info.protocols = protocols;
	info.options = LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT;
	info.client_ssl_ca_filepath = ca;
	ctx = lws_create_context(&info);
	if (!ctx)
		return 1;

	memset(&cc, 0, sizeof(cc));
	cc.context = ctx;
	cc.address = address;
	cc.port = port;
	cc.path = pathbuf;
	cc.host = address;
	cc.origin = address;
	cc.protocol = NULL;
	cc.ssl_connection = strcmp(prot, "wss") == 0 ? LCCSCF_USE_SSL : 0;
	/*
	 * The clock starts before the connection is attempted, so a server's
	 * cutoff counted from its accept is never longer than what we report.
	 */
	t0 = now_s();
	if (!lws_client_connect_via_info(&cc))
	{
		fprintf(stderr, "zvt-exsim-client: could not connect to %s\n", url);
		return 1;
	}
	lws_sul_schedule(ctx, 0, &tick, tick_cb, 20 * LWS_US_PER_MS);
	while (!done)
	{
		if (lws_service(ctx, 0) < 0)
			break;
		if (duration > 0 && now_s() - t0 >= duration)
			break;
	}
	elapsed = now_s() - t0;
	fflush(stdout);
	fprintf(stderr, "messages %ld seconds %.3f rate %.0f/s closed %d\n", messages, elapsed,
			elapsed > 0 ? (double) messages / elapsed : 0.0, closed_code);
	lws_context_destroy(ctx);
	return closed_code == -1 ? 1 : 0;
}
