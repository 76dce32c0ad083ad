#!/bin/bash
# SPDX-License-Identifier: ISC
#
# mtasts rollout in the local internet (tests/world, domains from
# tests/world/domains-rollout/), both dangerous moments of a deployment:
#
#   promote.test  two weeks of generated reports about its testing policy
#                 (in a SQLite store); `rollout status` judges them and
#                 fetches what is published, as a sender does (DNSSEC,
#                 HTTPS); `rollout promote --reload` rewrites the file
#                 the world's mtasts serve serves and signals it; the
#                 served policy is then enforce; status says the record
#                 still has the old id until the test publishes the new
#                 one (world.sh rezone).
#   mxmove.test   an enforce policy naming mx1 only (max_age 30), two
#                 senders (tests/e2e/sts_sender.py) holding it in their
#                 caches, one of them --lazy (it refetches only when the
#                 policy expires, the worst RFC 8461 §5.1 allows);
#                 `rollout mx-change --add mx2 --remove mx1 --reload`
#                 and its timeline, followed: publish the transition id,
#                 wait until the cut-over time (a --finish is refused
#                 before it, and after it while the DNS still names
#                 mx1 only), move the MX to mx2, finish.  The senders send a message every second or
#                 so throughout, and every one must be delivered at once
#                 (world_rollout_infra.sh shows that moving the MX
#                 before the cut-over time makes the lazy sender refuse
#                 mx2).
#
# Takes about 45 s (the wait for the cut-over: max_age 30).  TAP; skips
# when not root (the world needs a network namespace).
#
#   rollout_world.sh MTASTS WORLD_SH
#
# shellcheck disable=SC2016 # python3 -c scripts get arguments
# shellcheck disable=SC2153 # WORLD_*: from world.sh up
set -u

MTASTS=${1:?usage: rollout_world.sh MTASTS WORLD_SH}
WORLD=${2:?usage: rollout_world.sh MTASTS WORLD_SH}
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
SENDER=$HERE/sts_sender.py
GEN=$HERE/gen_rollout_reports.py
DOMAINS_SRC=$(cd "$(dirname "$WORLD")" && pwd)/domains-rollout

if [ "$(id -u)" -ne 0 ]; then
	echo "1..0 # SKIP not root: the world needs a network namespace"
	exit 0
fi

export WORLD_NS=${MTS_WORLD_PREFIX:-mtsworld}-rolloutw MTASTS
export WORLD_HTTPS=mtasts
unset WORLD_DIR WORLD_KEEP WORLD_POLICIES MTASTS_REPORT_DB
T=$(mktemp -d "${TMPDIR:-/tmp}/mtasts-rollout-world.XXXXXX")
chmod 755 "$T"
export WORLD_DOMAINS=$T/domains
cleanup() {
	bash "$WORLD" down >/dev/null 2>&1
	rm -rf "$T"
}
trap cleanup EXIT INT TERM

n=0
failed=0
ok() {
	n=$((n + 1))
	if [ "$1" -eq 0 ]; then
		echo "ok $n - $2"
	else
		failed=$((failed + 1))
		echo "not ok $n - $2"
	fi
}
# check DESC CMD...: ok when CMD succeeds; its output as diagnostics.
check() {
	local desc=$1 out r
	shift
	out=$("$@" 2>&1)
	r=$?
	ok $r "$desc"
	[ $r -eq 0 ] || printf '%s\n' "$out" | tail -n 12 | sed 's/^/#   /'
}
# jis FILE EXPR: EXPR (Python, the JSON in FILE as `j`) holds.
jis() {
	python3 -c 'import json, sys
j = json.load(open(sys.argv[1]))
ok = eval("(" + sys.argv[2] + ")")
if not ok:
    print("got:", json.dumps(j, sort_keys=True))
sys.exit(0 if ok else 1)' "$1" "$2"
}
# rollout WANT NAME ARGS...: mtasts rollout ARGS in the world, its
# stdout in $T/NAME.out; one check of its exit status.
rollout() {
	local want=$1 name=$2 rc
	shift 2
	bash "$WORLD" exec "$MTASTS" rollout "$@" >"$T/$name.out" \
	    2>"$T/$name.err"
	rc=$?
	[ "$rc" = "$want" ]
	ok $? "rollout $1 ($name): exit $rc, want $want"
	[ "$rc" = "$want" ] || sed 's/^/#   /' "$T/$name.err" "$T/$name.out"
}
LIVE=(--resolver 127.0.0.1)

mkdir -p "$WORLD_DOMAINS"
cp "$DOMAINS_SRC"/*.domain "$WORLD_DOMAINS"/
bash "$WORLD" down >/dev/null 2>&1 # a world a killed run left
T0=$SECONDS
if ! world_env=$(bash "$WORLD" up 2>"$T/up.log") || ! eval "$world_env"; then
	sed 's/^/# /' "$T/up.log"
	ok 1 "the world comes up"
	echo "1..$n"
	exit 1
fi
ok 0 "the world of promote.test and mxmove.test comes up"
LIVE+=(--trust-anchor "$WORLD_TA" --ca-file "$WORLD_CA")
SERVE_PID=$(cat "$WORLD_DIR/run/mtasts.pid")
DB=sqlite:$T/reports.db

# served DOMAIN FILE: the policy https://mta-sts.DOMAIN/ serves is FILE's
# bytes (polled: a reload takes a moment).
served_once() {
	bash "$WORLD" exec python3 -c 'import ssl, sys, urllib.request
ctx = ssl.create_default_context(cafile=sys.argv[1])
body = urllib.request.urlopen(
    "https://mta-sts." + sys.argv[2] + "/.well-known/mta-sts.txt",
    context=ctx, timeout=5).read()
sys.exit(0 if body == open(sys.argv[3], "rb").read() else 1)' \
	    "$WORLD_CA" "$1" "$2"
}
served() {
	for _ in $(seq 50); do
		served_once "$@" 2>/dev/null && return 0
		sleep 0.1
	done
	served_once "$@"
}
# publish ZONE ID: the _mta-sts record of ZONE gets ID (rezone).
publish() {
	sed -i "s/^txt _mta-sts .*/txt _mta-sts \"v=STSv1; id=$2;\"/" \
	    "$WORLD_DOMAINS/$1.domain" &&
	    bash "$WORLD" rezone "$1"
}

# ---- 1. promote.test: from testing to enforce ----------------------------

P=$WORLD_DIR/https/policies/promote.test.txt
for org in google.com microsoft.com; do
	python3 "$GEN" --domain promote.test --days=-15..-1 --org "$org" \
	    --policy "$P" "$T/reports" >/dev/null
done
check "15 days of reports of two reporters ingested" \
    "$MTASTS" report ingest -q --db "$DB" "$T/reports"
rollout 0 st1 status --policy "$P" --domain promote.test --db "$DB" \
    --json "${LIVE[@]}"
check "status: ready, the live record and policy are FILE's" \
    jis "$T/st1.out" 'j["ready"] and j["reason"] == "ready" and
        j["run"]["days"] == 15 and j["published"]["id"] == "20250101T000000"
        and j["published"]["body_same"] and j["published"]["record_current"]
        and j["published"]["problems"] == []'
cp "$P" "$T/promote.before"
rollout 0 pr promote --policy "$P" --domain promote.test --db "$DB" \
    --reload --json
check "promote: a new timestamp id, the world's mtasts serve signalled" \
    jis "$T/pr.out" 'j["mode"] == "enforce" and j["max_age"] == 604800 and
        len(j["id"]) == 16 and j["id"].endswith("Z") and
        j["previous_id"] is None and j["reloaded"] == ['"$SERVE_PID"'] and
        j["record"] == "v=STSv1; id=" + j["id"]'
NEW_ID=$(python3 -c 'import json, sys
print(json.load(open(sys.argv[1]))["id"])' "$T/pr.out")
check "the file is the enforce policy" grep -q '^mode: enforce' "$P"
check "mtasts serve serves it after the reload" served promote.test "$P"
rollout 0 st2 status --policy "$P" --domain promote.test --db "$DB" \
    --json "${LIVE[@]}"
check "status: enforce; the served policy is FILE's, the record is not" \
    jis "$T/st2.out" 'j["reason"] == "already-enforce" and
        j["published"]["body_same"] and
        not j["published"]["record_current"] and
        j["published"]["id"] == "20250101T000000" and
        any("'"$NEW_ID"'" in p for p in j["published"]["problems"]) and
        j["last_change"]["id"] == "'"$NEW_ID"'"'
check "the new id published (rezone)" publish promote.test "$NEW_ID"
rollout 0 st3 status --policy "$P" --domain promote.test --db "$DB" \
    --json "${LIVE[@]}"
check "status: what is published is what rollout wrote" \
    jis "$T/st3.out" 'j["published"]["record_current"] and
        j["published"]["id"] == "'"$NEW_ID"'" and
        j["published"]["problems"] == []'
# A hand edit served without a new id: mtasts check --state, which
# remembers the id and body it saw, catches it (RFC 8461 §3.1).
mkdir -p "$T/state"
bash "$WORLD" exec "$MTASTS" check --no-smtp --state "$T/state" \
    "${LIVE[@]}" promote.test >"$T/chk1.out" 2>&1
check "check --state remembers the promoted policy and its id" \
    grep -q "^id $NEW_ID " "$T/state/promote.test.state"
sed -i 's/^max_age: .*/max_age: 86400\r/' "$P"
kill -HUP "$SERVE_PID"
check "a hand edit is served" served promote.test "$P"
bash "$WORLD" exec "$MTASTS" check --no-smtp --state "$T/state" \
    "${LIVE[@]}" promote.test >"$T/chk2.out" 2>&1
check "check --state: the policy changed, its id did not" \
    grep -q check-policy-same-id "$T/chk2.out"
cp "$T/promote.before" "$T/promote.other"
rollout 0 st4 status --policy "$T/promote.other" --domain promote.test \
    --db "$DB" --json "${LIVE[@]}"
check "status of another file: the served policy differs from it" \
    jis "$T/st4.out" 'not j["published"]["body_same"] and
        any("differs" in p for p in j["published"]["problems"])'

# ---- 2. mxmove.test: an MX change under cached enforce policies ----------

M=$WORLD_DIR/https/policies/mxmove.test.txt
# send CACHE NAME [--lazy]: one message to NAME@mxmove.test; its JSON
# line in $T/NAME.json; the exit status is the sender's.
send() {
	local cache=$T/$1.cache name=$2
	shift 2
	bash "$WORLD" exec python3 "$SENDER" --cache "$cache" --ca "$WORLD_CA" \
	    "$@" send mxmove.test "$name@mxmove.test" >"$T/$name.json" \
	    2>"$T/$name.err"
}
# Every message of the change: delivered at once, the MX it went to.
total=0
undelivered=0
via_mx1=0
via_mx2=0
send_both() {
	local who name rc
	for who in eager lazy; do
		total=$((total + 1))
		name=$who$total
		if [ "$who" = lazy ]; then
			send "$who" "$name" --lazy
		else
			send "$who" "$name"
		fi
		rc=$?
		if [ "$rc" -ne 0 ]; then
			undelivered=$((undelivered + 1))
			echo "# not delivered: $(cat "$T/$name.json" "$T/$name.err")"
		elif grep -q '"mx": "mx1.mxmove.test"' "$T/$name.json"; then
			via_mx1=$((via_mx1 + 1))
		elif grep -q '"mx": "mx2.mxmove.test"' "$T/$name.json"; then
			via_mx2=$((via_mx2 + 1))
		fi
	done
}
send_both
check "both senders deliver to mx1 and cache the enforce policy (mx1 only)" \
    jis "$T/lazy.cache" 'j["mxmove.test"]["mode"] == "enforce" and
        j["mxmove.test"]["mx"] == ["mx1.mxmove.test"]'
cp "$M" "$T/mxmove.before"
rollout 0 mc mx-change --policy "$M" --domain mxmove.test --db "$DB" \
    --add mx2.mxmove.test --remove mx1.mxmove.test --reload --json
check "mx-change: the transition lists both; cut-over = now + max_age 30" \
    jis "$T/mc.out" 'j["mx"] == ["mx1.mxmove.test", "mx2.mxmove.test"] and
        j["reloaded"] == ['"$SERVE_PID"'] and j["cutover_at"] and
        j["action"] == "mx-change"'
CUT=$(python3 -c 'import calendar, json, sys, time
j = json.load(open(sys.argv[1]))
print(calendar.timegm(time.strptime(j["cutover_at"], "%Y-%m-%dT%H:%M:%SZ")))' \
    "$T/mc.out")
TID=$(python3 -c 'import json, sys
print(json.load(open(sys.argv[1]))["id"])' "$T/mc.out")
now=$(date -u +%s)
[ $((CUT - now)) -ge 27 ] && [ $((CUT - now)) -le 31 ]
ok $? "the cut-over is 30 s away ($((CUT - now)) s)"
check "the transition policy is served" served mxmove.test "$M"
check "its id published (rezone)" publish mxmove.test "$TID"
cp "$M" "$T/mxmove.transition"
rollout 3 fin1 mx-change --policy "$M" --domain mxmove.test --db "$DB" \
    --finish
check "an early --finish leaves the file byte for byte" \
    cmp "$M" "$T/mxmove.transition"
rollout 0 st5 status --policy "$M" --domain mxmove.test --db "$DB" \
    --json --no-fetch
check "status: the change under way, the cut-over not yet safe" \
    jis "$T/st5.out" 'j["mx_change"] and not j["mx_change"]["cutover_safe"]
        and j["mx_change"]["transition_id"] == "'"$TID"'"'
check "the lazy sender still holds the old policy (mx1 only)" \
    jis "$T/lazy.cache" 'j["mxmove.test"]["mx"] == ["mx1.mxmove.test"]'
while [ "$(date -u +%s)" -lt "$CUT" ]; do
	send_both
	sleep 1
done
echo "# $total messages before the cut-over"
rollout 0 st6 status --policy "$M" --domain mxmove.test --db "$DB" \
    --json --no-fetch
check "status: the cut-over is safe now" \
    jis "$T/st6.out" 'j["mx_change"]["cutover_safe"]'
cp "$M" "$T/mxmove.transition"
rollout 3 fin1b mx-change --policy "$M" --domain mxmove.test --db "$DB" \
    --finish "${LIVE[@]}"
check "a --finish before the DNS cut-over is refused: the MX is mx1" \
    grep -q "name mx1.mxmove.test, which the final policy does not list" \
    "$T/fin1b.err"
check "... and leaves the file byte for byte" \
    cmp "$M" "$T/mxmove.transition"
sed -i 's/^mx 10 mx1$/mx 10 mx2/' "$WORLD_DOMAINS/mxmove.test.domain"
check "the DNS MX records move to mx2 (rezone)" \
    bash "$WORLD" rezone mxmove.test
for _ in 1 2 3; do
	send_both
	sleep 1
done
rollout 0 fin2 mx-change --policy "$M" --domain mxmove.test --db "$DB" \
    --finish --reload --json "${LIVE[@]}"
check "finish: the final policy names mx2 only, with a new id" \
    jis "$T/fin2.out" 'j["mx"] == ["mx2.mxmove.test"] and
        j["action"] == "mx-finish" and j["previous_id"] == "'"$TID"'" and
        j["id"] > "'"$TID"'"'
FID=$(python3 -c 'import json, sys
print(json.load(open(sys.argv[1]))["id"])' "$T/fin2.out")
check "the final policy is served" served mxmove.test "$M"
check "its id published (rezone)" publish mxmove.test "$FID"
for _ in 1 2 3; do
	send_both
	sleep 1
done
[ "$undelivered" -eq 0 ]
ok $? "every message of the change was delivered at once ($total, $undelivered not)"
[ "$via_mx1" -gt 4 ] && [ "$via_mx2" -gt 4 ]
ok $? "to mx1 before the cut-over ($via_mx1), to mx2 after it ($via_mx2)"
check "the senders now hold the final policy" \
    jis "$T/eager.cache" 'j["mxmove.test"]["mx"] == ["mx2.mxmove.test"]'
rollout 3 fin3 mx-change --policy "$M" --domain mxmove.test --db "$DB" \
    --finish
check "a second --finish: no change under way" \
    grep -q "no MX change" "$T/fin3.err"

echo "# $((SECONDS - T0)) s from up to the last check"
echo "1..$n"
[ "$failed" -eq 0 ]
