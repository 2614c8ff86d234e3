/*-------------------------------------------------------------------------
 *
 * src/base/side.h
 *	  An order side given to SQL ("buy" or "sell") as a direction, with the
 *	  one error every function taking a side raises.
 *
 *-------------------------------------------------------------------------
 */
#ifndef ZVT_SIDE_H
#define ZVT_SIDE_H

/* in base/side.c: 1 for "buy", -1 for "sell", else ERROR 22023 */
extern int	zvt_side_dir(const char *side);

#endif							/* ZVT_SIDE_H */
