# test/integration/common.bash: sourced by the integration scripts.
#
# They run against the cluster scripts/test started (PGHOST, PGPORT,
# PGUSER, PGDATABASE are exported) and may start clusters of their own
# under $ZVT_TEST_DIR with scripts/lib.sh.  Every wait is bounded.

. "$(dirname "${BASH_SOURCE[0]}")/../../scripts/lib.sh"

fail() { echo "FAIL: $*" >&2; exit 1; }

q() { psql -X -qAt -v ON_ERROR_STOP=1 "$@"; }

# poll_until SQL EXPECTED SECONDS: true once SQL prints EXPECTED.
poll_until() {
	local sql=$1 want=$2 secs=$3 got="" i
	for ((i = 0; i < secs * 5; i++)); do
		got=$(q -c "$sql" 2>/dev/null)
		[ "$got" = "$want" ] && return 0
		sleep 0.2
	done
	echo "waited ${secs}s for [$sql] = [$want], last saw [$got]" >&2
	return 1
}
