#!/usr/bin/env bash
# The exchanges' fill histories (src/live/reconcile_history.c,
# reconcile_trades.c, sql/59_trades.sql) against the simulator's
# (test/exsim/priv_trades.c), on all four exchanges, with
# zvt.reconcile_page_limit at 2 so that a few trades take several pages,
# and accounts that pay fees as real ones do: Binance in BNB (25% off at
# the simulator's BNB price), Bybit and OKX in the asset a buy receives
# (BTC; a sell pays in the quote it receives), Coinbase in the quote.  No
# private stream runs (no ws_url): the
# router learns fills from order queries, by cumulative quantity, without
# trade ids.
# - a part fill booked by the router's query (no trade id, the schedule's
#   fee in the quote);
# - the routers stopped: more fills, an order filled then archived by the
#   exchange (its queries say it does not exist: only the fill history
#   knows its trades), an order part filled then canceled, a sell filled;
# - the routers' start: the reconciliation reads the whole history, page
#   after page; every fill of the ledger has its trade id and the
#   exchange's fee in the exchange's asset, the one booked by the query
#   identified (not booked twice), the archived order's trades booked;
#   the ledger's orders and balances (the fee asset included) equal the
#   simulator's account with no adjustment but the starting holdings, and
#   so do its positions: what was bought and sold less the fees charged
#   in BTC (sql/59_trades.sql), as the account holds; the ledger's
#   invariants hold (positions a replay of the fills and their fees);
# - more runs (the history read again): nothing booked twice.
#
# lane: side (scripts/test runs it beside the others: a cluster of its own,
# nothing of the shared cluster's)
set -u
. "$(dirname "$0")/live_lib.bash"

live_begin live_fills 22800 zlf fl
jq -c 'if .exchange == "binance" then .bnb_price = "600" | .balances.BNB = "5"
       elif .exchange == "bybit" or .exchange == "okx" then .fees = "received" else . end' \
	"$dir/accounts.jsonl" >"$dir/accounts2.jsonl" && mv "$dir/accounts2.jsonl" "$dir/accounts.jsonl"
live_sim_start
live_cluster_start "zvt.reconcile_page_limit = 2"
live_accounts
fill() { sim fill "$1" "account=0&client_id=$(cid "$2")&qty=$3" >/dev/null; }
# sim_trade_ids EXCHANGE: the trade ids of fl_EXCHANGE's fill history on the simulator, sorted
sim_trade_ids() {
	local ex=$1 out base=http://127.0.0.1
	case $ex in
	binance) out=$("$top/zvt-exsim-private" binance "$base:$sport" bn-key bn-secret "" GET /api/v3/myTrades "symbol=BTCUSDT&fromId=0&limit=1000" "")
		echo "${out#* }" | jq -r '[.[].id | tostring] | sort | join(",")' ;;
	bybit) out=$("$top/zvt-exsim-private" bybit "$base:$((sport + 1))" by-key by-secret "" GET /v5/execution/list "category=spot&limit=100" "")
		echo "${out#* }" | jq -r '[.result.list[].execId] | sort | join(",")' ;;
	okx) out=$("$top/zvt-exsim-private" okx "$base:$((sport + 2))" okx-key okx-secret okx-pass GET /api/v5/trade/fills "instType=SPOT&limit=100" "")
		echo "${out#* }" | jq -r '[.data[].tradeId] | sort | join(",")' ;;
	coinbase) out=$("$top/zvt-exsim-private" coinbase "$base:$((sport + 3))" "$cbkey" "$(printf '%b' "$pem")" "" GET /api/v3/brokerage/orders/historical/fills "limit=100" "")
		echo "${out#* }" | jq -r '[.fills[].trade_id] | sort | join(",")' ;;
	esac
}

# ---- orders; a part fill the router's query books (no trade id) ---------
declare -A oa ob oc
for ex in $exchanges; do
	oa[$ex]=$(place "$ex" 0.03 1500)
	ob[$ex]=$(place "$ex" 0.03 1400)
	oc[$ex]=$(place "$ex" 0.02 1300)
done
for ex in $exchanges; do
	poll_until "SELECT count(*) FROM zvt.orders WHERE order_id IN (${oa[$ex]}, ${ob[$ex]}, ${oc[$ex]}) AND status = 'new'" \
		3 30 || fail "$ex: orders not acknowledged"
	fill "$ex" "${oa[$ex]}" 0.01
done
for ex in $exchanges; do
	poll_until "SELECT trim_scale(filled_qty) FROM zvt.orders WHERE order_id = ${oa[$ex]}" 0.01 30 ||
		fail "$ex: the router's query did not book the part fill"
	got=$(q -c "SELECT count(*) || ' ' || count(exchange_trade_id) || ' ' || min(fee_source) FROM zvt.fills WHERE order_id = ${oa[$ex]}")
	[ "$got" = "1 0 schedule" ] || fail "$ex: the query's fill: [$got], want one without a trade id, the schedule's fee"
done
echo "ok a part fill booked from each exchange's order query: no trade id, the schedule's fee"
# a sell, far above the market: the start's reconciliation (before the
# first order went out) gave the ledger the account's starting BTC
declare -A od
for ex in $exchanges; do
	poll_until "SELECT amount >= 0.02 FROM zvt.balances WHERE account_id = $(acct "$ex") AND asset = 'BTC'" t 30 ||
		fail "$ex: the start's reconciliation did not give the ledger the account's BTC"
	od[$ex]=$(place "$ex" 0.02 90000 sell)
done
for ex in $exchanges; do
	poll_until "SELECT status FROM zvt.orders WHERE order_id = ${od[$ex]}" new 30 || fail "$ex: the sell not acknowledged"
done

# ---- the routers stopped: the exchanges go on ----------------------------
setting live_trading off
poll_until "SELECT count(*) FROM pg_stat_activity WHERE backend_type LIKE 'zvt router%'" 0 30 || fail "routers still run"
m=$(mark)
for ex in $exchanges; do
	fill "$ex" "${oa[$ex]}" 0.01
	fill "$ex" "${oa[$ex]}" 0.01
	fill "$ex" "${ob[$ex]}" 0.01
	fill "$ex" "${ob[$ex]}" 0.005
	fill "$ex" "${ob[$ex]}" 0.015
	sim forget "$ex" "account=0&client_id=$(cid "${ob[$ex]}")" >/dev/null
	fill "$ex" "${oc[$ex]}" 0.01
	sim cancel "$ex" "account=0&client_id=$(cid "${oc[$ex]}")" >/dev/null
	fill "$ex" "${od[$ex]}" 0.02
done
setting live_trading on

for ex in $exchanges; do
	a=$(acct "$ex")
	poll_until "SELECT count(*) >= 1 FROM zvt.reconciliations WHERE account_id = $a AND kind = 'run'
	              AND recon_id > $m AND finished_at IS NOT NULL" t 60 || fail "$ex: no run after the restart"
	run=$(q -c "SELECT min(recon_id) FROM zvt.reconciliations WHERE account_id = $a AND kind = 'run' AND recon_id > $m")
	d=$(q -c "SELECT details FROM zvt.reconciliations WHERE recon_id = $run")
	[ "$(q -c "SELECT applied AND details->>'error' IS NULL FROM zvt.reconciliations WHERE recon_id = $run")" = t ] ||
		fail "$ex: the run failed: $d"
	# 8 trades of the account in pages of 2 (Binance: one symbol from the start)
	[ "$(q -c "SELECT (details->>'history_pages')::int >= 4 FROM zvt.reconciliations WHERE recon_id = $run")" = t ] ||
		fail "$ex: the history was not read page after page: $d"
	# the archived order: only its trades tell (the run may also have booked the last by cumulative quantity)
	poll_until "SELECT status || ' ' || trim_scale(filled_qty) FROM zvt.orders WHERE order_id = ${ob[$ex]}" "filled 0.03" 30 ||
		fail "$ex: the archived order's fills were not recovered: $(q -c "SELECT status || ' ' || filled_qty FROM zvt.orders
		      WHERE order_id = ${ob[$ex]}") $d"
	got=$(q -c "SELECT string_agg(status || ' ' || trim_scale(filled_qty), '|' ORDER BY order_id) FROM zvt.orders
	             WHERE order_id IN (${oa[$ex]}, ${ob[$ex]}, ${oc[$ex]}, ${od[$ex]})")
	[ "$got" = "filled 0.03|filled 0.03|canceled 0.01|filled 0.02" ] || fail "$ex: orders [$got]"
	# every fill: its own trade id, once; the exchange's fee
	got=$(q -c "SELECT count(*) || ' ' || count(exchange_trade_id) || ' ' || count(DISTINCT exchange_trade_id) || ' '
	                   || count(*) FILTER (WHERE fee_source = 'exchange')
	              FROM zvt.fills WHERE account_id = $a")
	[ "$got" = "8 8 8 8" ] || fail "$ex: fills (count, with trade id, distinct, exchange fee) [$got], want 8 of each"
	# the one the query booked first: identified, not booked again
	got=$(q -c "SELECT count(*) || ' ' || trim_scale(sum(qty)) FROM zvt.fills WHERE order_id = ${oa[$ex]}")
	[ "$got" = "3 0.03" ] || fail "$ex: order A's fills [$got]"
	[ "$(q -c "SELECT (details->>'history_identified')::int >= 1 FROM zvt.reconciliations WHERE recon_id = $run")" = t ] ||
		fail "$ex: the query's fill was not identified: $d"
	# the fee in the asset the exchange charged it in
	case $ex in binance) feeasset=BNB ;; bybit | okx) feeasset=BTC,USDT ;; *) feeasset=USD ;; esac
	got=$(q -c "SELECT string_agg(DISTINCT fee_asset, ',' ORDER BY fee_asset) FROM zvt.fills WHERE account_id = $a")
	[ "$got" = "$feeasset" ] || fail "$ex: fee assets [$got], want [$feeasset]"
	# the position: 0.07 bought, 0.02 sold, less the fees charged in BTC
	# (0.1% of each buy on Bybit and OKX), as the account holds
	case $ex in bybit | okx) pos=0.04993 ;; *) pos=0.05 ;; esac
	got=$(q -c "SELECT trim_scale(qty) FROM zvt.holdings WHERE account_id = $a")
	[ "$got" = "$pos" ] || fail "$ex: position [$got], want [$pos]"
	# the trade ids are the simulator's own, as its fill history lists them
	ids=$(q -c "SELECT string_agg(exchange_trade_id, ',' ORDER BY exchange_trade_id) FROM zvt.fills WHERE account_id = $a")
	[ "$ids" = "$(sim_trade_ids "$ex")" ] || fail "$ex: trade ids [$ids], the exchange's [$(sim_trade_ids "$ex")]"
	agree "$ex"
	# no adjustment but the starting holdings: every fill and fee explained by the fills
	adj=$(q -c "SELECT coalesce(string_agg(asset || ' ' || trim_scale(amount), ',' ORDER BY asset), '')
	              FROM zvt.reconciliations WHERE account_id = $a AND kind = 'balance' AND applied")
	case $ex in binance) want="BNB 5,BTC 10" ;; *) want="BTC 10" ;; esac
	[ "$adj" = "$want" ] || fail "$ex: balance adjustments [$adj], want [$want] (the starting holdings only)"
	echo "ok $ex: the fill history recovered every trade with its id and fee (in $feeasset, as the exchange charged it), the ledger and its position $pos equal the exchange"
done
invariants
echo "ok the ledger's invariants hold"

# ---- the history read again: nothing booked twice --------------------------
# (orders resting far from the market keep each router running; three of
# them: the open orders' list takes two pages of two)
m=$(mark)
setting reconcile_interval "'1s'"
for ex in $exchanges; do
	for p in 1000 1001 1002; do
		place "$ex" 0.01 $p >/dev/null
	done
done
for ex in $exchanges; do
	poll_until "SELECT count(*) >= 2 FROM zvt.reconciliations WHERE account_id = $(acct "$ex") AND recon_id > $m
	              AND kind = 'run' AND applied" t 30 || fail "$ex: no periodic runs"
done
for ex in $exchanges; do
	a=$(acct "$ex")
	got=$(q -c "SELECT count(*) FROM zvt.fills WHERE account_id = $a")
	[ "$got" = 8 ] || fail "$ex: $got fills after more runs, want 8"
	n=$(q -c "SELECT count(*) FROM zvt.reconciliations WHERE account_id = $a AND recon_id > $m AND kind <> 'run'")
	[ "$n" = 0 ] || fail "$ex: later runs found $n differences: $(q -c "SELECT string_agg(kind || ' ' || details::text, '; ')
	    FROM zvt.reconciliations WHERE account_id = $a AND recon_id > $m AND kind <> 'run'")"
	# every open order listed, page after page
	poll_until "SELECT count(*) >= 1 FROM zvt.reconciliations WHERE account_id = $a AND recon_id > $m AND kind = 'run'
	              AND applied AND (details->>'exchange_open_orders')::int = 3" t 30 || fail "$ex: no run listed the 3 open orders: $(q -c "SELECT string_agg(details::text, '; ')
	    FROM zvt.reconciliations WHERE account_id = $a AND recon_id > $m AND kind = 'run'")"
	agree "$ex"
done
setting reconcile_interval 0
echo "ok more runs read the history again and booked nothing twice, and listed every open order in pages of two"

# ---- the endpoints' pagination, as the exchanges page ----------------------
base=http://127.0.0.1
out=$("$top/zvt-exsim-private" binance "$base:$sport" bn-key bn-secret "" GET /api/v3/myTrades "symbol=BTCUSDT&fromId=0&limit=3" "")
[ "$(echo "${out#* }" | jq -r '[.[].id] | length')" = 3 ] || fail "binance myTrades limit: $out"
first=$(echo "${out#* }" | jq -r '.[2].id')
out=$("$top/zvt-exsim-private" binance "$base:$sport" bn-key bn-secret "" GET /api/v3/myTrades "symbol=BTCUSDT&fromId=$((first + 1))&limit=1000" "")
[ "$(echo "${out#* }" | jq -r 'length')" = 5 ] || fail "binance myTrades from $((first + 1)): $out"
out=$("$top/zvt-exsim-private" okx "$base:$((sport + 2))" okx-key okx-secret okx-pass GET /api/v5/trade/fills "instType=SPOT&limit=5" "")
last=$(echo "${out#* }" | jq -r '.data[4].billId')
out=$("$top/zvt-exsim-private" okx "$base:$((sport + 2))" okx-key okx-secret okx-pass GET /api/v5/trade/fills "instType=SPOT&limit=5&after=$last" "")
[ "$(echo "${out#* }" | jq -r '.data | length')" = 3 ] || fail "okx fills after $last: $out"
echo "ok the simulator's fill histories page as the exchanges do"
echo "ok fill histories on all four exchanges"
