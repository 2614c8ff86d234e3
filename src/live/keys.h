/*-------------------------------------------------------------------------
 *
 * src/live/keys.h
 *	  The master key and the sealed API keys of live accounts
 *	  (keys.c), for the router's C code.
 *
 *-------------------------------------------------------------------------
 */
#ifndef LIVE_KEYS_H
#define LIVE_KEYS_H

#include "live/vault.h"

/* in keys.c */
extern void keys_read_master(const char *path, const char *what,
							 unsigned char key[VAULT_KEY_LEN], char fp[VAULT_FP_LEN]);
extern bool keys_open(int32 account_id, VaultCreds *out, char fp[VAULT_FP_LEN]);
extern bool keys_try_open(int32 account_id, VaultCreds *out, char *reason, size_t len);

#endif							/* LIVE_KEYS_H */
