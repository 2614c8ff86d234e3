/*-------------------------------------------------------------------------
 *
 * src/base/export.h
 *	  What zvt.so exports: only what PostgreSQL calls.
 *
 * zvt is built with -fvisibility=hidden (Makefile), so every symbol is
 * local to zvt.so unless marked PGDLLEXPORT, which the Makefile defines
 * as default visibility.  PostgreSQL 15's PG_FUNCTION_INFO_V1 marks the
 * info function but not the function itself (16 marks both); this header
 * redefines it as 16 does, so a SQL-callable function is exported by
 * declaring it, as in any extension.  Background-worker and parallel-
 * worker entry points are declared PGDLLEXPORT where they are defined.
 *
 * Include it after fmgr.h (directly or through another header) in every
 * file that uses PG_FUNCTION_INFO_V1.  test/integration/exports.sh checks
 * that zvt.so exports exactly these symbols.
 *
 *-------------------------------------------------------------------------
 */
#ifndef ZVT_EXPORT_H
#define ZVT_EXPORT_H

#include "fmgr.h"

#undef PG_FUNCTION_INFO_V1
#define PG_FUNCTION_INFO_V1(funcname) \
extern PGDLLEXPORT Datum funcname(PG_FUNCTION_ARGS); \
extern PGDLLEXPORT const Pg_finfo_record * CppConcat(pg_finfo_,funcname)(void); \
const Pg_finfo_record * \
CppConcat(pg_finfo_,funcname) (void) \
{ \
	static const Pg_finfo_record my_finfo = { 1 }; \
	return &my_finfo; \
} \
extern int no_such_variable

#endif							/* ZVT_EXPORT_H */
