/*-------------------------------------------------------------------------
 *
 * src/feed/json_arena.c
 *	  jansson's memory on a parsing thread: a bump arena per thread.
 *
 * See json_arena.h.  The arena is thread-local, so the allocation
 * functions jansson calls from any thread look at the caller's own arena
 * only: a pointer is the arena's when it lies inside it, and freeing it
 * is a no-op (json_arena_reset reclaims the lot); anything else is
 * malloc's.  A value must be freed on the thread that parsed it.
 *
 *-------------------------------------------------------------------------
 */
#include "feed/json_arena.h"

#include <jansson.h>
#include <stdlib.h>

/* initial-exec: no __tls_get_addr call per access from this dlopen'ed library */
static __thread char *arena __attribute__((tls_model("initial-exec")));
static __thread size_t arena_size __attribute__((tls_model("initial-exec")));
static __thread size_t arena_used __attribute__((tls_model("initial-exec")));

static void *
arena_malloc(size_t n)
{
	if (arena)
	{
		n = (n + 15) & ~(size_t) 15;
		if (n <= arena_size - arena_used)
		{
			void	   *p = arena + arena_used;

			arena_used += n;
			return p;
		}
	}
	return malloc(n);
}

static void
arena_free(void *p)
{
	if (arena && (char *) p >= arena && (char *) p < arena + arena_size)
		return;
	free(p);
}

void
json_arena_install(void)
{
	/* jansson picks its hash seed on first use: do it before there are two threads */
	json_object_seed(0);
	json_set_alloc_funcs(arena_malloc, arena_free);
}

void
json_arena_attach(size_t size)
{
	arena = malloc(size);		/* NULL: jansson just uses malloc */
	arena_size = arena ? size : 0;
	arena_used = 0;
}

void
json_arena_reset(void)
{
	arena_used = 0;
}

void
json_arena_detach(void)
{
	free(arena);
	arena = NULL;
	arena_size = arena_used = 0;
}
