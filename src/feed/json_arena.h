/*-------------------------------------------------------------------------
 *
 * src/feed/json_arena.h
 *	  jansson's memory on a parsing thread: a bump arena reset after each
 *	  message, so a parse costs no malloc and no free.
 *
 * Pure C (no PostgreSQL header).  jansson takes one pair of allocation
 * functions for the whole process; json_arena_install sets them (once,
 * before a second thread uses jansson).  They use the calling thread's
 * arena when it has one (json_arena_attach) and plain malloc and free
 * otherwise, so threads without an arena, the main one included, are
 * unaffected.  What does not fit in the arena goes to malloc.  Used by
 * the feed worker's parser thread (parse_thread.c) and the backfill's
 * fetch thread (history_fetch.c).
 *
 *-------------------------------------------------------------------------
 */
#ifndef FEED_JSON_ARENA_H
#define FEED_JSON_ARENA_H

#include <stddef.h>

/* Have jansson allocate through the arenas; also seeds its hashes now. */
extern void json_arena_install(void);

/* Give the calling thread an arena of size bytes (none if malloc fails). */
extern void json_arena_attach(size_t size);

/*
 * Forget everything allocated in the calling thread's arena: every JSON
 * value it parsed must have been freed (json_decref) before.
 */
extern void json_arena_reset(void);

/* Free the calling thread's arena. */
extern void json_arena_detach(void);

#endif							/* FEED_JSON_ARENA_H */
