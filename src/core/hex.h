/*-------------------------------------------------------------------------
 *
 * src/core/hex.h
 *	  The value of one hexadecimal digit, for the parts' decoders: the
 *	  percent-encoding of query strings (http/grammar_lex.c) and Redis
 *	  URLs (redis/url.c), JSON's \uXXXX escapes (http/body_json.c), the
 *	  master key file (live/vault.c).  Pure C, inline.
 *
 *-------------------------------------------------------------------------
 */
#ifndef ZVT_CORE_HEX_H
#define ZVT_CORE_HEX_H

/* 0..15 for '0'-'9', 'a'-'f', 'A'-'F'; -1 for any other c */
static inline int
hex_digit_value(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

#endif							/* ZVT_CORE_HEX_H */
