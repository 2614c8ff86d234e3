/*-------------------------------------------------------------------------
 *
 * src/live/sign.c
 *	  HMAC signing of Binance, Bybit, OKX and legacy Coinbase requests,
 *	  and the encodings they need (hex, base64, ISO-8601 timestamps).
 *
 * The prehash is never assembled in one buffer: sign_hmac_sha256 feeds
 * its parts to one HMAC in order, so a long body costs no copy and no
 * length limit.  The bytes signed must be the bytes sent; callers build
 * the query or JSON body once and pass the same string to the signer
 * and to libcurl.  Pure C over OpenSSL 3's EVP_MAC; unit-tested against
 * the exchanges' published vectors in test/unit/test_live_sign.c.
 *
 *-------------------------------------------------------------------------
 */
#include "live/sign.h"

#include "core/zvt_time.h"

#include <stdio.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/params.h>

static const char b64_std[] =
"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
static const char b64_url[] =
"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

static int	b64_encode(const char *alphabet, int pad, const unsigned char *in,
					   size_t n, char *out, size_t outsz);
static int	b64_decode(const char *alphabet, const char *in, size_t inlen,
					   unsigned char *out, size_t outsz);

/* ----------------------------------------------------------------
 *		Encodings
 * ----------------------------------------------------------------
 */

/* Lower-case hex of n bytes; needs 2n + 1 bytes of out. */
int
sign_hex(const unsigned char *in, size_t n, char *out, size_t outsz)
{
	static const char digits[] = "0123456789abcdef";
	size_t		i;

	if (outsz < 2 * n + 1)
		return -1;
	for (i = 0; i < n; i++)
	{
		out[2 * i] = digits[in[i] >> 4];
		out[2 * i + 1] = digits[in[i] & 15];
	}
	out[2 * n] = '\0';
	return (int) (2 * n);
}

/* Standard base64 with '=' padding (RFC 4648 section 4). */
int
sign_base64(const unsigned char *in, size_t n, char *out, size_t outsz)
{
	return b64_encode(b64_std, 1, in, n, out, outsz);
}

/* base64url without padding (RFC 7515's base64url, as JWTs use). */
int
sign_base64url(const unsigned char *in, size_t n, char *out, size_t outsz)
{
	return b64_encode(b64_url, 0, in, n, out, outsz);
}

/*
 * Decode standard base64; padding is optional, whitespace is refused.
 * Returns the number of bytes decoded or -1.
 */
int
sign_base64_decode(const char *in, size_t inlen, unsigned char *out, size_t outsz)
{
	return b64_decode(b64_std, in, inlen, out, outsz);
}

/* Decode base64url (padding optional). */
int
sign_base64url_decode(const char *in, size_t inlen, unsigned char *out, size_t outsz)
{
	return b64_decode(b64_url, in, inlen, out, outsz);
}

static int
b64_encode(const char *alphabet, int pad, const unsigned char *in, size_t n,
		   char *out, size_t outsz)
{
	size_t		need = pad ? 4 * ((n + 2) / 3) : (4 * n + 2) / 3;
	size_t		i,
				o = 0;

	if (outsz < need + 1)
		return -1;
	for (i = 0; i + 2 < n; i += 3)
	{
		uint32_t	v = ((uint32_t) in[i] << 16) | ((uint32_t) in[i + 1] << 8) | in[i + 2];

		out[o++] = alphabet[(v >> 18) & 63];
		out[o++] = alphabet[(v >> 12) & 63];
		out[o++] = alphabet[(v >> 6) & 63];
		out[o++] = alphabet[v & 63];
	}
	if (n - i == 1)
	{
		uint32_t	v = (uint32_t) in[i] << 16;

		out[o++] = alphabet[(v >> 18) & 63];
		out[o++] = alphabet[(v >> 12) & 63];
		if (pad)
		{
			out[o++] = '=';
			out[o++] = '=';
		}
	}
	else if (n - i == 2)
	{
		uint32_t	v = ((uint32_t) in[i] << 16) | ((uint32_t) in[i + 1] << 8);

		out[o++] = alphabet[(v >> 18) & 63];
		out[o++] = alphabet[(v >> 12) & 63];
		out[o++] = alphabet[(v >> 6) & 63];
		if (pad)
			out[o++] = '=';
	}
	out[o] = '\0';
	return (int) o;
}

static int
b64_value(const char *alphabet, char c)
{
	const char *p;

	if (c == '\0')
		return -1;
	p = strchr(alphabet, c);
	return p ? (int) (p - alphabet) : -1;
}

static int
b64_decode(const char *alphabet, const char *in, size_t inlen,
		   unsigned char *out, size_t outsz)
{
	uint32_t	acc = 0;
	int			bits = 0;
	size_t		i,
				o = 0;

	while (inlen > 0 && in[inlen - 1] == '=')
		inlen--;
	if (inlen % 4 == 1)
		return -1;
	for (i = 0; i < inlen; i++)
	{
		int			v = b64_value(alphabet, in[i]);

		if (v < 0)
			return -1;
		acc = (acc << 6) | (uint32_t) v;
		bits += 6;
		if (bits >= 8)
		{
			bits -= 8;
			if (o >= outsz)
				return -1;
			out[o++] = (unsigned char) (acc >> bits);
		}
	}
	/* the leftover bits of the last character must be zero */
	if ((acc & ((1u << bits) - 1)) != 0)
		return -1;
	return (int) o;
}

/*
 * OKX's timestamp: UTC ISO-8601 with milliseconds, "2020-12-08T09:08:57.715Z".
 */
int
sign_iso_timestamp(int64_t unix_ms, char *out, size_t outsz)
{
	int64_t		days = unix_ms / 86400000;
	int64_t		ms = unix_ms % 86400000;
	int32_t		y,
				mo,
				d;
	int			n;

	if (unix_ms < 0 || unix_ms >= INT64_C(253402300800000) || outsz < SIGN_ISO_TS_LEN)
		return -1;				/* before 1970 or after 9999 */
	zt_civil_from_days(days, &y, &mo, &d);
	n = snprintf(out, outsz, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ",
				 (int) y, (int) mo, (int) d, (int) (ms / 3600000),
				 (int) (ms / 60000 % 60), (int) (ms / 1000 % 60), (int) (ms % 1000));
	return n == 24 ? n : -1;
}

/*
 * 1 when two NUL-terminated strings are equal, in time independent of
 * where they differ (for comparing signatures); 0 otherwise.
 */
int
sign_equal(const char *a, const char *b)
{
	size_t		la = strlen(a),
				lb = strlen(b);

	if (la != lb)
		return 0;
	return CRYPTO_memcmp(a, b, la) == 0;
}

/* ----------------------------------------------------------------
 *		HMAC-SHA256
 * ----------------------------------------------------------------
 */

/*
 * HMAC-SHA256 with key over the concatenation of nparts NUL-terminated
 * strings (NULL parts count as empty).  Returns 0, or -1 if OpenSSL
 * fails.
 */
int
sign_hmac_sha256(const void *key, size_t keylen, const char *const *parts,
				 int nparts, unsigned char mac[32])
{
	EVP_MAC    *hmac = EVP_MAC_fetch(NULL, "HMAC", NULL);
	EVP_MAC_CTX *ctx = NULL;
	OSSL_PARAM	params[2];
	size_t		maclen = 0;
	int			rc = -1;
	int			i;

	if (hmac == NULL)
		return -1;
	ctx = EVP_MAC_CTX_new(hmac);
	params[0] = OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, (char *) "SHA256", 0);
	params[1] = OSSL_PARAM_construct_end();
	/* an empty key is a valid HMAC key; OpenSSL wants a non-NULL pointer */
	if (ctx == NULL || !EVP_MAC_init(ctx, keylen ? key : (const void *) "", keylen, params))
		goto done;
	for (i = 0; i < nparts; i++)
		if (parts[i] && !EVP_MAC_update(ctx, (const unsigned char *) parts[i], strlen(parts[i])))
			goto done;
	if (!EVP_MAC_final(ctx, mac, &maclen, 32) || maclen != 32)
		goto done;
	rc = 0;
done:
	EVP_MAC_CTX_free(ctx);
	EVP_MAC_free(hmac);
	return rc;
}

/* hex or base64 of the HMAC of parts under a text secret */
static int
mac_text(const char *secret, const char *const *parts, int nparts, int base64,
		 char *out, size_t outsz)
{
	unsigned char mac[32];
	int			n;

	if (secret == NULL ||
		sign_hmac_sha256(secret, strlen(secret), parts, nparts, mac) < 0)
		return -1;
	n = base64 ? sign_base64(mac, 32, out, outsz) : sign_hex(mac, 32, out, outsz);
	OPENSSL_cleanse(mac, sizeof(mac));
	return n;
}

/* ----------------------------------------------------------------
 *		The exchanges
 * ----------------------------------------------------------------
 */

/*
 * Binance: hex HMAC-SHA256 of the query string followed directly by the
 * form body (either may be NULL), sent as the last parameter
 * "signature=".  The query must already be percent-encoded.
 */
int
sign_binance(const char *secret, const char *query, const char *body,
			 char *out, size_t outsz)
{
	const char *parts[2] = {query, body};

	return mac_text(secret, parts, 2, 0, out, outsz);
}

/*
 * Bybit v5: hex HMAC-SHA256 of timestamp (ms) || api key || recv window ||
 * payload, where payload is the query string of a GET or the exact JSON
 * body of a POST; sent as X-BAPI-SIGN.
 */
int
sign_bybit(const char *secret, const char *timestamp_ms, const char *api_key,
		   const char *recv_window, const char *payload, char *out, size_t outsz)
{
	const char *parts[4] = {timestamp_ms, api_key, recv_window, payload};

	if (timestamp_ms == NULL || api_key == NULL || recv_window == NULL)
		return -1;
	return mac_text(secret, parts, 4, 0, out, outsz);
}

/* Bybit private WebSocket auth: hex HMAC of "GET/realtime" || expires (ms). */
int
sign_bybit_ws(const char *secret, const char *expires_ms, char *out, size_t outsz)
{
	const char *parts[2] = {"GET/realtime", expires_ms};

	if (expires_ms == NULL)
		return -1;
	return mac_text(secret, parts, 2, 0, out, outsz);
}

/*
 * OKX v5: base64 HMAC-SHA256 of iso timestamp || METHOD || request path
 * (with its query string) || body (NULL or "" when there is none); sent
 * as OK-ACCESS-SIGN.  The method must be upper case already.
 */
int
sign_okx(const char *secret, const char *iso_ts, const char *method,
		 const char *path, const char *body, char *out, size_t outsz)
{
	const char *parts[4] = {iso_ts, method, path, body};

	if (iso_ts == NULL || method == NULL || path == NULL)
		return -1;
	return mac_text(secret, parts, 4, 1, out, outsz);
}

/* OKX WebSocket login: base64 HMAC of unix seconds || "GET/users/self/verify". */
int
sign_okx_ws(const char *secret, const char *unix_s, char *out, size_t outsz)
{
	return sign_okx(secret, unix_s, "GET", "/users/self/verify", NULL, out, outsz);
}

/*
 * Coinbase Exchange (legacy): base64 HMAC-SHA256 under the base64-decoded
 * secret of timestamp || METHOD || path || body; sent as CB-ACCESS-SIGN.
 */
int
sign_coinbase_exchange(const char *b64_secret, const char *timestamp,
					   const char *method, const char *path, const char *body,
					   char *out, size_t outsz)
{
	unsigned char key[256];
	unsigned char mac[32];
	const char *parts[4] = {timestamp, method, path, body};
	int			keylen;
	int			n = -1;

	if (b64_secret == NULL || timestamp == NULL || method == NULL || path == NULL)
		return -1;
	keylen = sign_base64_decode(b64_secret, strlen(b64_secret), key, sizeof(key));
	if (keylen > 0 && sign_hmac_sha256(key, (size_t) keylen, parts, 4, mac) == 0)
		n = sign_base64(mac, 32, out, outsz);
	OPENSSL_cleanse(key, sizeof(key));
	OPENSSL_cleanse(mac, sizeof(mac));
	return n;
}
