/*-------------------------------------------------------------------------
 *
 * src/base/side.c
 *	  The side argument of zvt's SQL functions (place_order, the book walk,
 *	  the trailing-stop price): "buy" or "sell", nothing else.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "base/side.h"

/* 1 for buy, -1 for sell; a NULL or any other text is 22023. */
int
zvt_side_dir(const char *side)
{
	if (side != NULL && strcmp(side, "buy") == 0)
		return 1;
	if (side != NULL && strcmp(side, "sell") == 0)
		return -1;
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("side must be buy or sell, not \"%s\"", side ? side : "NULL")));
	return 0;					/* keep the compiler quiet */
}
