#!/usr/bin/env bash
# test/integration/layout.sh: the source tree keeps the shape
# docs/architecture.md describes.
#
#  - dependencies between parts (src/<part>/) point one way: the graph of
#    #include "<part>/..." has no cycle (tsort finds one if there is);
#  - headers leave postgres.h to the .c files, and every .c file of the
#    glue includes postgres.h first;
#  - every source file opens with a comment saying what it is for;
#  - no source file is longer than 800 lines;
#  - the last two for the simulator's C too (test/exsim).
set -eu
top=$(cd "$(dirname "$0")/../.." && pwd)
. "$top/test/integration/common.bash"
cd "$top/src"

edges=$(for f in */*.[ch]; do
	part=${f%%/*}
	grep -ho '^#include "[a-z_]*/[a-z_]*\.h"' "$f" | sed 's/#include "//; s/"//' |
		while read -r h; do
			[ -f "$h" ] && [ "${h%%/*}" != "$part" ] && echo "$part ${h%%/*}"
		done
done | sort -u)
if ! echo "$edges" | tsort >/dev/null 2>"$ZVT_TEST_DIR/tsort.err"; then
	fail "include cycle between parts: $(tr '\n' ' ' <"$ZVT_TEST_DIR/tsort.err")"
fi

for h in *.h */*.h; do
	! grep -q '^#include "postgres.h"' "$h" || fail "$h includes postgres.h (leave it to the .c files)"
done
for c in *.c */*.c; do
	if grep -q '^#include "postgres.h"' "$c"; then
		[ "$(grep -m1 '^#include' "$c")" = '#include "postgres.h"' ] || fail "$c: postgres.h is not its first include"
	fi
done
for f in *.[ch] */*.[ch]; do
	head -1 "$f" | grep -q '^/\*' || fail "$f does not open with a comment"
	n=$(wc -l <"$f")
	[ "$n" -le 800 ] || fail "$f has $n lines (split it along its concerns)"
done
for f in "$top"/test/exsim/*.[ch]; do
	head -1 "$f" | grep -q '^/\*' || fail "${f#"$top"/} does not open with a comment"
	n=$(wc -l <"$f")
	[ "$n" -le 800 ] || fail "${f#"$top"/} has $n lines (split it along its concerns)"
done
echo "ok parts depend one way ($(echo "$edges" | wc -l) edges), headers without postgres.h, every file (src/, test/exsim/) headed and under 800 lines"
