/*
 * test/unit/test_book.c
 *	  Unit tests of the order book engine (src/book/book.c) and the
 *	  exchanges' sequence rules (src/book/sync.c).
 *
 * The checksum is checked against OKX's vectors
 * (test/fixtures/exchanges/okx_checksum_vectors.jsonl: check strings and
 * their signed CRC32), rebuilt into books level by level; a random walk
 * checks the engine against a naive model after every update.
 */
#define _POSIX_C_SOURCE 200809L

#include "book/book.h"
#include "unit_test.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static BookLevel
lv(const char *px, const char *qty)
{
	BookLevel	l;

	if (!book_parse_decimal(px, &l.px, &l.pxd) || !book_parse_decimal(qty, &l.qty, &l.qd))
	{
		fprintf(stderr, "bad decimal %s %s\n", px, qty);
		exit(2);
	}
	return l;
}

static void
set(Book *b, bool bid, const char *px, const char *qty)
{
	BookLevel	l = lv(px, qty);

	book_set(b, bid, &l);
}

static void
test_decimals(void)
{
	int64_t		v = 7;
	uint8_t		d = 9;
	char		buf[32];

	CHECK(book_parse_decimal("60000.10", &v, &d) && v == INT64_C(6000010000000) && d == 2);
	book_format_decimal(buf, v, d);
	CHECK_STR(buf, "60000.10");
	CHECK(book_parse_decimal("0.00000001", &v, &d) && v == 1 && d == 8);
	CHECK(book_parse_decimal("415", &v, &d) && v == INT64_C(41500000000) && d == 0);
	book_format_decimal(buf, v, d);
	CHECK_STR(buf, "415");
	v = 7;
	CHECK(!book_parse_decimal("0.000000001", &v, &d) && v == 7);
	CHECK(!book_parse_decimal("", &v, &d));
	CHECK(!book_parse_decimal("-1", &v, &d));
	CHECK(!book_parse_decimal("1e5", &v, &d));
	CHECK(!book_parse_decimal("1.", &v, &d));
	CHECK(!book_parse_decimal(".5", &v, &d));
	CHECK(!book_parse_decimal("92233720368", &v, &d));
	CHECK(book_parse_decimal("92233720367", &v, &d));
	CHECK(!book_parse_decimal(NULL, &v, &d));
}

static void
test_sorted(void)
{
	Book		b;

	CHECK(book_init(&b, 3));
	set(&b, true, "100", "1");
	set(&b, true, "102", "2");
	set(&b, true, "101", "3");
	CHECK(b.nbids == 3 && b.bids[0].px == 102 * BOOK_SCALE && b.bids[2].px == 100 * BOOK_SCALE);
	/* full: a better level pushes the worst out, a worse one is ignored */
	set(&b, true, "103", "1");
	CHECK(b.nbids == 3 && b.bids[0].px == 103 * BOOK_SCALE && b.bids[2].px == 101 * BOOK_SCALE);
	set(&b, true, "99", "1");
	CHECK(b.nbids == 3 && b.bids[2].px == 101 * BOOK_SCALE);
	/* replace and remove */
	set(&b, true, "102", "9");
	CHECK(b.bids[1].qty == 9 * BOOK_SCALE);
	set(&b, true, "102", "0");
	CHECK(b.nbids == 2 && b.bids[1].px == 101 * BOOK_SCALE);
	set(&b, true, "50", "0");
	CHECK(b.nbids == 2);
	set(&b, false, "105", "1");
	set(&b, false, "104", "1");
	CHECK(b.nasks == 2 && b.asks[0].px == 104 * BOOK_SCALE);
	CHECK(!book_crossed(&b));
	set(&b, false, "103", "1");
	CHECK(book_crossed(&b));
	book_free(&b);
}

/* The engine against a dumb model (an array indexed by price) over a random walk. */
static void
test_model(void)
{
	enum
	{
		NPX = 200
	};
	int64_t		model[2][NPX];
	Book		b;
	uint64_t	r = 88172645463325252ULL;
	bool		ok = true;

	memset(model, 0, sizeof(model));
	CHECK(book_init(&b, NPX));
	for (int step = 0; step < 20000 && ok; step++)
	{
		BookLevel	l;
		int			side,
					p;

		r ^= r << 13, r ^= r >> 7, r ^= r << 17;
		side = (int) (r & 1);
		p = (int) ((r >> 8) % NPX);
		l.px = (int64_t) (p + 1) * BOOK_SCALE;
		l.qty = (r >> 40) % 4 == 0 ? 0 : (int64_t) ((r >> 20) % 1000 + 1);
		l.pxd = l.qd = 0;
		book_set(&b, side == 0, &l);
		model[side][p] = l.qty;

		/* compare: bids descending, asks ascending */
		for (int s = 0, k; s < 2 && ok; s++)
		{
			const BookLevel *lvls = s == 0 ? b.bids : b.asks;
			int			n = s == 0 ? b.nbids : b.nasks;

			k = 0;
			for (int i = 0; i < NPX; i++)
			{
				int			q = s == 0 ? NPX - 1 - i : i;

				if (model[s][q] == 0)
					continue;
				if (k >= n || lvls[k].px != (int64_t) (q + 1) * BOOK_SCALE || lvls[k].qty != model[s][q])
					ok = false;
				k++;
			}
			if (k != n)
				ok = false;
		}
	}
	CHECK(ok);
	book_free(&b);
}

/* Split "a:b:c:d..." alternating bid/ask levels back into a book. */
static void
book_from_check_string(Book *b, const char *s)
{
	char	   *copy = strdup(s),
			   *save = NULL;
	char	   *tok[200];
	int			n = 0;
	int			i;

	for (char *t = strtok_r(copy, ":", &save); t && n < 200; t = strtok_r(NULL, ":", &save))
		tok[n++] = t;
	book_clear(b);
	/* levels alternate bid, ask while both sides last: each is a price and a size */
	for (i = 0; i + 1 < n; i += 2)
	{
		BookLevel	l = lv(tok[i], tok[i + 1]);
		bool		bid = ((i / 2) % 2) == 0;

		/* append at the end: the string is in book order already */
		if (bid)
			b->bids[b->nbids++] = l;
		else
			b->asks[b->nasks++] = l;
	}
	free(copy);
}

static void
test_checksum_vectors(const char *dir)
{
	char		path[1024];
	FILE	   *f;
	char		line[65536];
	int			checked = 0;
	Book		b;

	CHECK(book_crc32("123456789", 9) == 0xCBF43926u);
	snprintf(path, sizeof(path), "%s/okx_checksum_vectors.jsonl", dir);
	f = fopen(path, "r");
	CHECK(f != NULL);
	if (!f)
		return;
	book_init(&b, 400);
	while (fgets(line, sizeof(line), f))
	{
		char	   *cs = strstr(line, "\"check_string\":\"");
		char	   *crc = strstr(line, "\"crc32_signed\":");
		char	   *end;

		if (!cs || !crc)
			continue;
		cs += strlen("\"check_string\":\"");
		end = strchr(cs, '"');
		*end = '\0';
		/* the book's checksum equals the vector's, string for string */
		CHECK((int32_t) book_crc32(cs, strlen(cs)) == (int32_t) atol(crc + strlen("\"crc32_signed\":")));
		/* the docs vectors have two-level sides; real ones 25 of each */
		if (strlen(cs) > 100)
		{
			book_from_check_string(&b, cs);
			CHECK(book_checksum(&b) == (int32_t) atol(crc + strlen("\"crc32_signed\":")));
		}
		checked++;
	}
	fclose(f);
	CHECK(checked >= 3);
	book_free(&b);
}

static BookMsg
msg(bool snap, int64_t first, int64_t last, int64_t prev, const BookUpdate *u, int n)
{
	BookMsg		m = {0};

	m.snapshot = snap;
	m.first = first;
	m.last = last;
	m.prev = prev;
	m.updates = u;
	m.n = n;
	return m;
}

static void
test_sync_rules(void)
{
	BookSync	s;
	char		why[256];
	BookUpdate	snap[2] = {{true, lv("100", "1")}, {false, lv("101", "1")}};
	BookUpdate	d1[1] = {{true, lv("100", "2")}};
	BookUpdate	cross[1] = {{true, lv("101.5", "2")}};
	BookMsg		m;

	/* Binance: buffered until the snapshot, stale diffs dropped, a gap resyncs */
	CHECK(book_sync_init(&s, BOOK_RULE_BINANCE, 50));
	m = msg(false, 5, 8, 0, d1, 1);
	CHECK(book_sync_feed(&s, &m, why, sizeof(why)) == BOOK_BUFFERED);
	m = msg(false, 9, 10, 0, d1, 1);
	CHECK(book_sync_feed(&s, &m, why, sizeof(why)) == BOOK_BUFFERED);
	m = msg(true, 9, 9, 0, snap, 2);
	CHECK(book_sync_feed(&s, &m, why, sizeof(why)) == BOOK_APPLIED);
	CHECK(s.last == 10 && s.book.bids[0].qty == 2 * BOOK_SCALE);
	m = msg(false, 9, 10, 0, d1, 1);
	CHECK(book_sync_feed(&s, &m, why, sizeof(why)) == BOOK_STALE);
	m = msg(false, 11, 11, 0, d1, 1);
	CHECK(book_sync_feed(&s, &m, why, sizeof(why)) == BOOK_APPLIED);
	m = msg(false, 13, 14, 0, d1, 1);
	CHECK(book_sync_feed(&s, &m, why, sizeof(why)) == BOOK_RESYNC);
	CHECK(strstr(why, "expected update 12, got 13") != NULL);
	CHECK(s.state == BOOK_STATE_WAITING && s.book.nbids == 0);
	/* a snapshot older than the first buffered diff: a gap too */
	m = msg(false, 20, 21, 0, d1, 1);
	CHECK(book_sync_feed(&s, &m, why, sizeof(why)) == BOOK_BUFFERED);
	m = msg(true, 15, 15, 0, snap, 2);
	CHECK(book_sync_feed(&s, &m, why, sizeof(why)) == BOOK_RESYNC);
	book_sync_free(&s);

	/* Bybit: u continuity, a new snapshot resets */
	CHECK(book_sync_init(&s, BOOK_RULE_BYBIT, 50));
	m = msg(false, 3, 3, 0, d1, 1);
	CHECK(book_sync_feed(&s, &m, why, sizeof(why)) == BOOK_WAITING);
	m = msg(true, 3, 3, 0, snap, 2);
	CHECK(book_sync_feed(&s, &m, why, sizeof(why)) == BOOK_APPLIED);
	m = msg(false, 4, 4, 0, d1, 1);
	CHECK(book_sync_feed(&s, &m, why, sizeof(why)) == BOOK_APPLIED);
	m = msg(false, 4, 4, 0, d1, 1);
	CHECK(book_sync_feed(&s, &m, why, sizeof(why)) == BOOK_STALE);
	m = msg(false, 6, 6, 0, d1, 1);
	CHECK(book_sync_feed(&s, &m, why, sizeof(why)) == BOOK_RESYNC);
	m = msg(true, 1, 1, 0, snap, 2);
	CHECK(book_sync_feed(&s, &m, why, sizeof(why)) == BOOK_APPLIED && s.last == 1);
	/* a crossed book is a break */
	m = msg(false, 2, 2, 0, cross, 1);
	CHECK(book_sync_feed(&s, &m, why, sizeof(why)) == BOOK_RESYNC);
	CHECK(strstr(why, "crossed") != NULL);
	book_sync_free(&s);

	/* OKX: prevSeqId chain, heartbeat, reset backwards, checksum */
	CHECK(book_sync_init(&s, BOOK_RULE_OKX, 400));
	m = msg(true, 10, 10, -1, snap, 2);
	CHECK(book_sync_feed(&s, &m, why, sizeof(why)) == BOOK_APPLIED);
	m = msg(false, 15, 15, 10, d1, 1);
	CHECK(book_sync_feed(&s, &m, why, sizeof(why)) == BOOK_APPLIED);
	m = msg(false, 15, 15, 15, NULL, 0);
	CHECK(book_sync_feed(&s, &m, why, sizeof(why)) == BOOK_APPLIED);
	m = msg(false, 3, 3, 15, NULL, 0);
	CHECK(book_sync_feed(&s, &m, why, sizeof(why)) == BOOK_APPLIED);
	m = msg(false, 6, 6, 5, d1, 1);
	CHECK(book_sync_feed(&s, &m, why, sizeof(why)) == BOOK_RESYNC);
	m = msg(true, 20, 20, -1, snap, 2);
	m.has_checksum = true;
	m.checksum = book_crc32("100:1:101:1", 11) == 0 ? 1 : (int32_t) book_crc32("100:1:101:1", 11);
	CHECK(book_sync_feed(&s, &m, why, sizeof(why)) == BOOK_APPLIED);
	m = msg(false, 21, 21, 20, d1, 1);
	m.has_checksum = true;
	m.checksum = 12345;
	CHECK(book_sync_feed(&s, &m, why, sizeof(why)) == BOOK_RESYNC);
	CHECK(strstr(why, "checksum mismatch") != NULL);
	book_sync_free(&s);
}

/*
 * Binance USD-M futures: the documented rule (binance_futures.md): diffs
 * with u < lastUpdateId L dropped, the first applied with U <= L <= u (or
 * pu = L), then each diff's pu equal to the previous diff's u.  The spot
 * rule (U <= last u + 1) would take every case below marked RESYNC.
 */
static void
test_sync_futures(void)
{
	BookSync	s;
	char		why[256];
	BookUpdate	snap[2] = {{true, lv("100", "1")}, {false, lv("101", "1")}};
	BookUpdate	d1[1] = {{true, lv("100", "2")}};
	BookUpdate	d2[1] = {{true, lv("100", "3")}};
	BookMsg		m;

	CHECK(book_sync_init(&s, BOOK_RULE_BINANCE_FUTURES, 50));
	/* buffered: u < L dropped; U <= L <= u first; then pu = last u */
	m = msg(false, 90, 95, 89, d1, 1);
	CHECK(book_sync_feed(&s, &m, why, sizeof(why)) == BOOK_BUFFERED);
	m = msg(false, 96, 104, 95, d1, 1);
	CHECK(book_sync_feed(&s, &m, why, sizeof(why)) == BOOK_BUFFERED);
	m = msg(false, 105, 110, 104, d2, 1);
	CHECK(book_sync_feed(&s, &m, why, sizeof(why)) == BOOK_BUFFERED);
	m = msg(true, 100, 100, 0, snap, 2);
	CHECK(book_sync_feed(&s, &m, why, sizeof(why)) == BOOK_APPLIED);
	CHECK(s.last == 110 && s.book.bids[0].qty == 3 * BOOK_SCALE && s.state == BOOK_STATE_LIVE);
	m = msg(false, 111, 120, 110, d1, 1);
	CHECK(book_sync_feed(&s, &m, why, sizeof(why)) == BOOK_APPLIED && s.last == 120);
	/* overlapping ranges but pu is not the last u: a gap (spot would apply it) */
	m = msg(false, 118, 125, 117, d1, 1);
	CHECK(book_sync_feed(&s, &m, why, sizeof(why)) == BOOK_RESYNC);
	CHECK(strstr(why, "pu 117, the last u was 120") != NULL);
	CHECK(s.state == BOOK_STATE_WAITING && s.book.nbids == 0);
	book_sync_free(&s);

	/* a repeat of the last diff is a break too: its pu is not the last u */
	CHECK(book_sync_init(&s, BOOK_RULE_BINANCE_FUTURES, 50));
	m = msg(true, 50, 50, 0, snap, 2);
	CHECK(book_sync_feed(&s, &m, why, sizeof(why)) == BOOK_APPLIED);
	/* no diff buffered: the first live one follows the snapshot by pu */
	m = msg(false, 51, 55, 50, d1, 1);
	CHECK(book_sync_feed(&s, &m, why, sizeof(why)) == BOOK_APPLIED && s.last == 55);
	m = msg(false, 51, 55, 50, d1, 1);
	CHECK(book_sync_feed(&s, &m, why, sizeof(why)) == BOOK_RESYNC);
	book_sync_free(&s);

	/* the first diff after the snapshot starts past it: a gap */
	CHECK(book_sync_init(&s, BOOK_RULE_BINANCE_FUTURES, 50));
	m = msg(true, 50, 50, 0, snap, 2);
	CHECK(book_sync_feed(&s, &m, why, sizeof(why)) == BOOK_APPLIED);
	m = msg(false, 40, 49, 39, d1, 1);
	CHECK(book_sync_feed(&s, &m, why, sizeof(why)) == BOOK_STALE && s.last == 50);
	m = msg(false, 53, 55, 52, d1, 1);
	CHECK(book_sync_feed(&s, &m, why, sizeof(why)) == BOOK_RESYNC);
	CHECK(strstr(why, "after snapshot 50 starts at 53") != NULL);
	/* buffered diffs the snapshot is older than: a gap at once */
	m = msg(false, 60, 65, 59, d1, 1);
	CHECK(book_sync_feed(&s, &m, why, sizeof(why)) == BOOK_BUFFERED);
	m = msg(true, 55, 55, 0, snap, 2);
	CHECK(book_sync_feed(&s, &m, why, sizeof(why)) == BOOK_RESYNC);
	CHECK(s.nbuffered == 0 && s.state == BOOK_STATE_WAITING);
	/* a REST answer once live is stale */
	m = msg(false, 66, 70, 65, d1, 1);
	CHECK(book_sync_feed(&s, &m, why, sizeof(why)) == BOOK_BUFFERED);
	m = msg(true, 67, 67, 0, snap, 2);
	CHECK(book_sync_feed(&s, &m, why, sizeof(why)) == BOOK_APPLIED && s.last == 70);
	m = msg(true, 80, 80, 0, snap, 2);
	CHECK(book_sync_feed(&s, &m, why, sizeof(why)) == BOOK_STALE && s.last == 70);
	book_sync_free(&s);

	/* right after the snapshot, starting past it and not chained to it by pu: a gap */
	CHECK(book_sync_init(&s, BOOK_RULE_BINANCE_FUTURES, 50));
	m = msg(true, 50, 50, 0, snap, 2);
	CHECK(book_sync_feed(&s, &m, why, sizeof(why)) == BOOK_APPLIED);
	m = msg(false, 51, 55, 49, d1, 1);
	CHECK(book_sync_feed(&s, &m, why, sizeof(why)) == BOOK_RESYNC);
	book_sync_free(&s);
}

int
main(int argc, char **argv)
{
	const char *dir = argc > 1 ? argv[1] : "test/fixtures/exchanges";

	test_decimals();
	test_sorted();
	test_model();
	test_checksum_vectors(dir);
	test_sync_rules();
	test_sync_futures();
	return unit_summary("test_book");
}
