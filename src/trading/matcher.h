/*-------------------------------------------------------------------------
 *
 * src/trading/matcher.h
 *	  The paper matcher's shared memory, as the launcher and zvt.c see it
 *	  (paper_matcher.c).
 *
 *-------------------------------------------------------------------------
 */
#ifndef ZVT_MATCHER_H
#define ZVT_MATCHER_H

/* in paper_matcher.c */
extern Size matcher_shmem_size(void);
extern void matcher_shmem_init(void);
extern bool matcher_running(void);
extern bool matcher_is_idle(uint64 paper_generation);
extern void matcher_mark_idle(uint64 paper_generation);
extern void matcher_counters(int64 *passes, int64 *changes);

#endif							/* ZVT_MATCHER_H */
