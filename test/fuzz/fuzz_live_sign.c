/*
 * test/fuzz/fuzz_live_sign.c
 *	  libFuzzer harness for the signing inputs of live trading
 *	  (src/live/sign.c, src/live/jwt.c): base64 and base64url decoding,
 *	  the exchanges' signers over arbitrary secrets and request parts, and
 *	  Coinbase JWT verification.
 *
 * The first byte picks the operation; the rest is split at NUL bytes
 * into up to five strings.  Signers return a length that fits the buffer
 * or -1, never overrun it; decoders never report more bytes than the
 * buffer holds, and what decodes encodes back to something that decodes
 * to the same bytes; a token verifies only with claims that fit.
 */
#include "live/sign.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

int			LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);

/* the Ed25519 key of test/unit/test_live_sign.c (the SDK's test key) */
#define FUZZ_ED_SEED "k0BUni0p0vZG1BdpVjS6ogBJ7kxm630AJ2dN+tuputA="

static char pub[1024];

static void
fits(int n, const char *out, size_t outsz)
{
	if (n == -1)
		return;
	if (n < 0 || (size_t) n >= outsz || strlen(out) != (size_t) n)
		abort();
}

static void
decode_roundtrip(const char *in, bool url)
{
	unsigned char bin[512];
	unsigned char again[512];
	char		text[1024];
	int			n,
				m;

	n = url ? sign_base64url_decode(in, strlen(in), bin, sizeof(bin))
		: sign_base64_decode(in, strlen(in), bin, sizeof(bin));
	if (n == -1)
		return;
	if (n < 0 || n > (int) sizeof(bin))
		abort();
	m = url ? sign_base64url(bin, n, text, sizeof(text)) : sign_base64(bin, n, text, sizeof(text));
	fits(m, text, sizeof(text));
	if (m < 0)
		abort();
	m = url ? sign_base64url_decode(text, m, again, sizeof(again))
		: sign_base64_decode(text, m, again, sizeof(again));
	if (m != n || memcmp(bin, again, n) != 0)
		abort();
}

int
LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
	char	   *s;
	const char *part[5];
	int			nparts = 0;
	char		out[4096];
	size_t		i;

	if (pub[0] == '\0' && sign_public_pem(FUZZ_ED_SEED, pub, sizeof(pub)) <= 0)
		abort();
	if (size < 1)
		return 0;
	s = malloc(size);
	memcpy(s, data + 1, size - 1);
	s[size - 1] = '\0';
	part[nparts++] = s;
	for (i = 0; i + 1 < size && nparts < 5; i++)
		if (s[i] == '\0')
			part[nparts++] = s + i + 1;
	while (nparts < 5)
		part[nparts++] = "";

	switch (data[0] % 8)
	{
		case 0:
			decode_roundtrip(part[0], false);
			break;
		case 1:
			decode_roundtrip(part[0], true);
			break;
		case 2:
			fits(sign_binance(part[0], part[1], part[2], out, sizeof(out)), out, sizeof(out));
			fits(sign_bybit(part[0], part[1], part[2], part[3], part[4], out, sizeof(out)), out, sizeof(out));
			fits(sign_bybit_ws(part[0], part[1], out, sizeof(out)), out, sizeof(out));
			break;
		case 3:
			fits(sign_okx(part[0], part[1], part[2], part[3], part[4], out, sizeof(out)), out, sizeof(out));
			fits(sign_okx_ws(part[0], part[1], out, sizeof(out)), out, sizeof(out));
			break;
		case 4:
			fits(sign_coinbase_exchange(part[0], part[1], part[2], part[3], part[4], out, sizeof(out)),
				 out, sizeof(out));
			break;
		case 5:
			{
				char		claims[512];
				int			n = sign_jwt_verify(part[0], pub, claims, sizeof(claims));

				fits(n, claims, sizeof(claims));
			}
			break;
		case 6:
			/* a secret of any shape: a PEM, a seed, junk */
			fits(sign_coinbase_jwt(part[0], part[1], part[2], 1700000000, part[3][0] ? part[3] : NULL,
								   out, sizeof(out)), out, sizeof(out));
			fits(sign_public_pem(part[0], out, sizeof(out)), out, sizeof(out));
			break;
		case 7:
			{
				int64_t		ms = 0;
				char		ts[SIGN_ISO_TS_LEN];

				for (i = 0; i < 8 && i + 1 < size; i++)
					ms = (int64_t) ((uint64_t) ms << 8 | data[1 + i]);
				fits(sign_iso_timestamp(ms, ts, sizeof(ts)), ts, sizeof(ts));
				if (sign_equal(part[0], part[1]) != (strcmp(part[0], part[1]) == 0))
					abort();
			}
			break;
	}
	free(s);
	return 0;
}
