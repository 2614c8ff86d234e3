/*-------------------------------------------------------------------------
 *
 * src/launcher/launcher.h
 *	  The launcher: the one static background worker, which starts every
 *	  other zvt worker (launcher.c).
 *
 *-------------------------------------------------------------------------
 */
#ifndef ZVT_LAUNCHER_H
#define ZVT_LAUNCHER_H

/* in launcher.c */
extern void launcher_register(void);

#endif							/* ZVT_LAUNCHER_H */
