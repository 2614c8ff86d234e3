/*-------------------------------------------------------------------------
 *
 * src/storage/restore.h
 *	  The utility hook that lets pg_restore replay the chunk indexes of
 *	  zvt's own hypertables (restore.c).
 *
 *-------------------------------------------------------------------------
 */
#ifndef ZVT_STORAGE_RESTORE_H
#define ZVT_STORAGE_RESTORE_H

/* in restore.c */
extern void restore_hook_init(void);

#endif							/* ZVT_STORAGE_RESTORE_H */
