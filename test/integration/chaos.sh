#!/usr/bin/env bash
# test/integration/chaos.sh: the short run of test/chaos/run (issue 16,
# item 1): one round of the six kills (a feed worker, the paper matcher,
# an HTTP worker, a backend in place_order, an immediate shutdown, kill -9
# of the postmaster) under mixed load, 2 s of load between kills, on a
# cluster of its own; every ledger invariant after each recovery, stored
# trades equal to the simulator's record after repair, no row left in a
# default partition.  bench/chaos runs it for as long as asked.
#
# lane: side (scripts/test runs it beside the others: a cluster of its own,
# nothing of the shared cluster's)
set -u
. "$(dirname "$0")/common.bash"
"$(dirname "$0")/../chaos/run" 2 1 || fail "chaos"
