/*
 * test/exsim/format.c
 *	  zvt-exsim's small tools: growable buffers, prices and sizes in each
 *	  exchange's decimal style, RFC 3339 times, query arguments, the real
 *	  and simulated clocks and each exchange's random numbers.
 */
#define _GNU_SOURCE
#include "exsim.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

void
buf_reset(Buf *b)
{
	b->len = 0;
	if (b->data)
		b->data[0] = '\0';
}

static void
buf_reserve(Buf *b, size_t extra)
{
	if (b->len + extra + 1 <= b->cap)
		return;
	b->cap = (b->len + extra + 1) * 2;
	b->data = realloc(b->data, b->cap);
	if (!b->data)
		abort();
}

void
buf_add(Buf *b, const char *s, size_t n)
{
	buf_reserve(b, n);
	memcpy(b->data + b->len, s, n);
	b->len += n;
	b->data[b->len] = '\0';
}

void
buf_printf(Buf *b, const char *fmt,...)
{
	va_list		ap;
	int			n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	buf_reserve(b, (size_t) n);
	va_start(ap, fmt);
	vsnprintf(b->data + b->len, (size_t) n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t) n;
}

void
buf_free(Buf *b)
{
	free(b->data);
	memset(b, 0, sizeof(*b));
}

/* Rotating static buffers, so several may appear in one printf. */
static char *
fmt_slot(void)
{
	static char slots[16][64];
	static int	next;

	return slots[next++ & 15];
}

/* Units at dec decimals, shown with pad_to decimals (> dec pads zeros). */
static const char *
fmt_units(__int128 units, int dec, bool pad, int pad_to)
{
	char	   *out = fmt_slot();

	if (pad && pad_to > dec)
	{
		units *= mk_pow10(pad_to - dec);
		dec = pad_to;
	}
	mk_fmt_units(out, 64, units, dec, pad);
	return out;
}

const char *
fmt_px(const MkSymbol *s, int64_t px, bool pad, int pad_to)
{
	return fmt_units(px, s->px_dec, pad, pad_to);
}

const char *
fmt_qty(const MkSymbol *s, int64_t qty, bool pad, int pad_to)
{
	return fmt_units(qty, s->qty_dec, pad, pad_to);
}

const char *
fmt_quote_vol(const MkSymbol *s, __int128 v, bool pad, int pad_to)
{
	return fmt_units(v, s->px_dec + s->qty_dec, pad, pad_to);
}

void
fmt_rfc3339(char *buf, size_t len, int64_t ms, bool micros)
{
	time_t		secs = (time_t) (ms / 1000);
	struct tm	tm;

	gmtime_r(&secs, &tm);
	if (micros)
		snprintf(buf, len, "%04d-%02d-%02dT%02d:%02d:%02d.%06dZ", tm.tm_year + 1900,
				 tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
				 (int) (ms % 1000) * 1000);
	else
		snprintf(buf, len, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
				 tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
				 (int) (ms % 1000));
}

bool
url_arg(const char *args, const char *name, char *out, size_t outlen)
{
	size_t		n = strlen(name);
	const char *p = args;

	while (p && *p)
	{
		if (strncmp(p, name, n) == 0 && p[n] == '=')
		{
			const char *v = p + n + 1;
			size_t		o = 0;

			while (*v && *v != '&' && o + 1 < outlen)
			{
				if (*v == '%' && v[1] && v[2])
				{
					char		hex[3] = {v[1], v[2], 0};

					out[o++] = (char) strtol(hex, NULL, 16);
					v += 3;
				}
				else
					out[o++] = *v++;
			}
			out[o] = '\0';
			return true;
		}
		p = strchr(p, '&');
		if (p)
			p++;
	}
	return false;
}

int64_t
now_real_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t
now_sim_ms(void)
{
	return sim.sim_start_ms +
		(int64_t) ((double) (now_real_ms() - sim.real_start_ms) * sim.speed);
}

double
ex_random(Exchange *ex)
{
	uint64_t	x = ex->rng;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	ex->rng = x;
	return (double) ((x * UINT64_C(2685821657736338717)) >> 11) / 9007199254740992.0;
}
