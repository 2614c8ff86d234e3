/*
 * test/unit/test_live_vault.c
 *	  Sealing API credentials (src/live/vault.c): a round trip, fresh
 *	  nonces, and every way a row must fail to open: another master key,
 *	  another account, any changed byte, a truncated row.
 */
#include <stdlib.h>

#include "live/vault.h"
#include "unit_test.h"

/* does needle occur in the n bytes of hay? */
static int
contains(const unsigned char *hay, size_t n, const char *needle)
{
	size_t		m = strlen(needle);

	for (size_t i = 0; i + m <= n; i++)
		if (memcmp(hay + i, needle, m) == 0)
			return 1;
	return 0;
}

static const char *master_hex =
"000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";

static void
test_master(void)
{
	unsigned char k[VAULT_KEY_LEN];
	char		fp[VAULT_FP_LEN];

	CHECK(vault_parse_master(master_hex, 64, k) == 0);
	CHECK(k[0] == 0 && k[31] == 0x1f);
	CHECK(vault_parse_master("  000102030405060708090A0B0C0D0E0F101112131415161718191A1B1C1D1E1F\n", 67, k) == 0);
	CHECK(k[10] == 0x0a);
	CHECK(vault_parse_master(master_hex, 62, k) == -1);	/* short */
	CHECK(vault_parse_master("000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f00", 66, k) == -1);
	CHECK(vault_parse_master("g00102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f", 64, k) == -1);
	CHECK(vault_parse_master("", 0, k) == -1);
	/* SHA-256("abc") starts ba7816bf8f01cfea */
	vault_fingerprint("abc", 3, fp);
	CHECK_STR(fp, "ba7816bf8f01cfea");
}

static void
test_round_trip(void)
{
	unsigned char k[VAULT_KEY_LEN];
	unsigned char k2[VAULT_KEY_LEN];
	unsigned char nonce[VAULT_NONCE_LEN];
	unsigned char nonce2[VAULT_NONCE_LEN];
	unsigned char sealed[256];
	unsigned char sealed2[256];
	VaultCreds *c = malloc(sizeof(VaultCreds));
	int			n,
				n2,
				i,
				bad;

	vault_parse_master(master_hex, 64, k);
	memcpy(k2, k, sizeof(k));
	k2[5] ^= 1;

	n = vault_seal(k, 42, "my-api-key", "my-secret", "my-pass", nonce, sealed, sizeof(sealed));
	CHECK(n == (int) vault_sealed_len("my-api-key", "my-secret", "my-pass"));
	CHECK(!contains(sealed, n, "my-secret") && !contains(sealed, n, "my-api-key"));
	CHECK(vault_open(k, 42, nonce, sealed, n, c) == 0);
	CHECK_STR(c->api_key, "my-api-key");
	CHECK_STR(c->secret, "my-secret");
	CHECK(c->has_passphrase == 1);
	CHECK_STR(c->passphrase, "my-pass");

	/* the same credentials sealed again: another nonce, other bytes */
	n2 = vault_seal(k, 42, "my-api-key", "my-secret", "my-pass", nonce2, sealed2, sizeof(sealed2));
	CHECK(n2 == n);
	CHECK(memcmp(nonce, nonce2, VAULT_NONCE_LEN) != 0);
	CHECK(memcmp(sealed, sealed2, n) != 0);

	/* another master key, another account: no */
	CHECK(vault_open(k2, 42, nonce, sealed, n, c) == -1);
	CHECK(c->secret[0] == '\0');
	CHECK(vault_open(k, 43, nonce, sealed, n, c) == -1);
	CHECK(vault_open(k, 42, nonce2, sealed, n, c) == -1);
	CHECK(vault_open(k, 42, nonce, sealed, n - 1, c) == -1);
	CHECK(vault_open(k, 42, nonce, sealed, 3, c) == -1);
	/* every single flipped bit is caught */
	bad = 0;
	for (i = 0; i < n; i++)
	{
		sealed[i] ^= 0x10;
		if (vault_open(k, 42, nonce, sealed, n, c) != -1)
			bad++;
		sealed[i] ^= 0x10;
	}
	CHECK(bad == 0);

	/* no passphrase */
	n = vault_seal(k, 7, "k", "s", NULL, nonce, sealed, sizeof(sealed));
	CHECK(n > 0 && vault_open(k, 7, nonce, sealed, n, c) == 0);
	CHECK(c->has_passphrase == 0 && c->passphrase[0] == '\0');

	/* refused: empty fields, a buffer too small */
	CHECK(vault_seal(k, 7, "", "s", NULL, nonce, sealed, sizeof(sealed)) == -1);
	CHECK(vault_seal(k, 7, "k", "", NULL, nonce, sealed, sizeof(sealed)) == -1);
	CHECK(vault_seal(k, 7, "k", "s", "", nonce, sealed, sizeof(sealed)) == -1);
	CHECK(vault_seal(k, 7, "k", NULL, NULL, nonce, sealed, sizeof(sealed)) == -1);
	CHECK(vault_seal(k, 7, "key", "secret", NULL, nonce, sealed, 10) == -1);
	vault_creds_wipe(c);
	free(c);
}

static void
test_long_fields(void)
{
	unsigned char k[VAULT_KEY_LEN];
	unsigned char nonce[VAULT_NONCE_LEN];
	char	   *big = malloc(VAULT_FIELD_MAX + 2);
	unsigned char *sealed = malloc(3 * VAULT_FIELD_MAX + 64);
	VaultCreds *c = malloc(sizeof(VaultCreds));
	int			n;

	vault_parse_master(master_hex, 64, k);
	memset(big, 'x', VAULT_FIELD_MAX);
	big[VAULT_FIELD_MAX] = '\0';
	n = vault_seal(k, 1, big, big, big, nonce, sealed, 3 * VAULT_FIELD_MAX + 64);
	CHECK(n > 0 && vault_open(k, 1, nonce, sealed, n, c) == 0);
	CHECK(strlen(c->secret) == VAULT_FIELD_MAX);
	big[VAULT_FIELD_MAX] = 'x';
	big[VAULT_FIELD_MAX + 1] = '\0';
	CHECK(vault_seal(k, 1, "k", big, NULL, nonce, sealed, 3 * VAULT_FIELD_MAX + 64) == -1);
	free(big);
	free(sealed);
	free(c);
}

int
main(void)
{
	test_master();
	test_round_trip();
	test_long_fields();
	return unit_summary("live_vault");
}
