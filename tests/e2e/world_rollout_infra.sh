#!/bin/bash
# SPDX-License-Identifier: ISC
#
# The pieces the end-to-end test of an MX change stands on, tested
# together: `world.sh rezone` (a DNS change in a running world) and
# tests/e2e/sts_sender.py (a scripted RFC 8461 sender with a policy
# cache).  A world of one domain, mxmove.test
# (tests/world/domains-rollout/): MX 10 mx1, Postfix on mx1 and mx2,
# an enforce policy naming mx1 only (max_age 30) served by mtasts serve.
#
#   1. a sender delivers to mx1 and caches the policy;
#   2. the MX moves to mx2 (rezone): a sender holding the cached enforce
#      policy refuses mx2 -- the danger `mtasts rollout mx-change`
#      prevents;
#   3. the policy lists both hosts (file rewritten, SIGHUP to mtasts
#      serve) and the TXT id changes (rezone): a sender refetches and
#      delivers to mx2; one whose refetch fails keeps its cached policy
#      (RFC 8461 §5.1); a --lazy sender keeps its cached policy until it
#      expires (max_age), then refetches and delivers.
#
# Takes about 35 s (the wait for the lazy sender's max_age).  Prints
# TAP; skips when not root (the world needs a network namespace).
#
#   world_rollout_infra.sh MTASTS WORLD_SH
#
# shellcheck disable=SC2016 # sh -c and python3 -c scripts get arguments
# shellcheck disable=SC2153 # WORLD_CA and WORLD_DIR: from world.sh up
set -u

MTASTS=${1:?usage: world_rollout_infra.sh MTASTS WORLD_SH}
WORLD=${2:?usage: world_rollout_infra.sh MTASTS WORLD_SH}
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
SENDER=$HERE/sts_sender.py
DOMAINS_SRC=$(cd "$(dirname "$WORLD")" && pwd)/domains-rollout

if [ "$(id -u)" -ne 0 ]; then
	echo "1..0 # SKIP not root: the world needs a network namespace"
	exit 0
fi
for t in python3 drill openssl; do
	if ! command -v "$t" >/dev/null 2>&1; then
		echo "Bail out! $t is missing"
		exit 1
	fi
done

export WORLD_NS=${MTS_WORLD_PREFIX:-mtsworld}-rollout MTASTS
export WORLD_HTTPS=mtasts
unset WORLD_DIR WORLD_KEEP WORLD_POLICIES
T=$(mktemp -d "${TMPDIR:-/tmp}/mtasts-rollout-infra.XXXXXX")
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
# check DESC CMD...: ok when CMD succeeds; its output as diagnostics
# when it does not.
check() {
	local desc=$1 out r
	shift
	out=$("$@" 2>&1)
	r=$?
	ok $r "$desc"
	[ $r -eq 0 ] || printf '%s\n' "$out" | tail -n 12 | sed 's/^/#   /'
}

# ---- sts_sender.py's pure parts, outside the world ----------------------

pure() { # pure PYTHON-EXPRESSION: true when it is
	PYTHONDONTWRITEBYTECODE=1 python3 -c 'import sys; sys.path.insert(0, sys.argv[1])
import sts_sender as s
sys.exit(0 if eval("(" + sys.argv[2] + ")") else 1)' "$HERE" "$1"
}
check "mx pattern: exact name, any case, final dot" \
    pure 's.mx_matches("MX1.mxmove.test", "mx1.MXMOVE.test.")'
check "mx pattern: *. covers one leftmost label (RFC 8461 §4.1)" \
    pure 's.mx_matches("*.mxmove.test", "mx2.mxmove.test")'
check "mx pattern: *. covers neither the domain nor two labels" \
    pure 'not s.mx_matches("*.mxmove.test", "mxmove.test") and
        not s.mx_matches("*.mxmove.test", "a.mx2.mxmove.test") and
        not s.mx_matches("mx1.mxmove.test", "mx2.mxmove.test")'
check "TXT: id of the one v=STSv1 record, split strings and escapes" \
    pure 's.sts_id_of(s.DNSAnswer("NOERROR", True, [
        ("_mta-sts.x", "TXT", "\"v=STSv1; \" \"id=ab\\0651;\""),
        ("_mta-sts.x", "TXT", "\"v=spf1 -all\"")])) == "abA1"'
check "TXT: two v=STSv1 records or a bad id mean no policy (§3.1)" \
    pure 's.sts_id_of(s.DNSAnswer("NOERROR", True, [
        ("a", "TXT", "\"v=STSv1; id=1;\""),
        ("a", "TXT", "\"v=STSv1; id=2;\"")])) is None and
        s.parse_sts_record("v=STSv1; id=a-b;") is None'
check "policy: parsed, CRLF or LF, several mx lines" \
    pure 's.parse_policy("version: STSv1\r\nmode: enforce\nmx: a.x\r\nmx: *.y\r\nmax_age: 30\r\n") ==
        {"mode": "enforce", "max_age": 30, "mx": ["a.x", "*.y"]}'
check "policy: a max_age over 31557600 is refused" \
    sh -c '! PYTHONDONTWRITEBYTECODE=1 python3 -c "import sys; sys.path.insert(0, sys.argv[1])
import sts_sender as s
s.parse_policy(\"version: STSv1\nmode: enforce\nmx: a\nmax_age: 31557601\n\")" "$1" 2>/dev/null' \
    sh "$HERE"

# ---- the world ----------------------------------------------------------

mkdir -p "$WORLD_DOMAINS"
cp "$DOMAINS_SRC"/*.domain "$WORLD_DOMAINS"/
DOM=$WORLD_DOMAINS/mxmove.test.domain
bash "$WORLD" down >/dev/null 2>&1 # a world a killed run left
T0=$SECONDS
if ! world_env=$(bash "$WORLD" up 2>"$T/up.log") || ! eval "$world_env"; then
	sed 's/^/# /' "$T/up.log"
	ok 1 "the world comes up"
	echo "1..$n"
	exit 1
fi
ok 0 "the world of mxmove.test comes up"
[ "$WORLD_HTTPS" = mtasts ]
ok $? "mtasts serve is its policy server"
POLICY=$WORLD_DIR/https/policies/mxmove.test.txt

# send CACHE NAME [--lazy]: sts_sender.py delivers one message to
# NAME@mxmove.test in the world; its JSON line goes to $T/NAME.json, its
# exit status is the function's.
send() {
	local cache=$T/$1.cache name=$2
	shift 2
	bash "$WORLD" exec python3 "$SENDER" --cache "$cache" --ca "$WORLD_CA" \
	    "$@" send mxmove.test "$name@mxmove.test" >"$T/$name.json" \
	    2>"$T/$name.err"
}
# is NAME EXPR: EXPR (Python, the JSON line of NAME as `r`) holds.
is() {
	python3 -c 'import json, sys
r = json.load(open(sys.argv[1]))
ok = eval("(" + sys.argv[2] + ")")
if not ok:
    print("got:", json.dumps(r, sort_keys=True))
sys.exit(0 if ok else 1)' "$T/$1.json" "$2"
}
# sent STATUS CACHE NAME WHAT EXPR [--lazy]: one send; one check of its
# exit status and its JSON line.
sent() {
	local want=$1 cache=$2 name=$3 what=$4 expr=$5 rc
	shift 5
	send "$cache" "$name" "$@"
	rc=$?
	check "$what (exit $want)" sent_is "$rc" "$want" "$name" "$expr"
}
sent_is() { # sent_is GOT WANT NAME EXPR
	local r=0
	if [ "$1" != "$2" ]; then
		echo "exit $1, want $2; stderr:"
		cat "$T/$3.err"
		r=1
	fi
	is "$3" "$4" || r=1
	return $r
}
# received HOST NAME: the MX HOST's Postfix took the message for NAME
# (its discard transport logs it once the queue manager has run).
received() {
	local log=$WORLD_DIR/log/postfix-$1.mxmove.test.log
	for _ in $(seq 50); do
		grep -q "to=<$2@mxmove.test>.*status=sent (accepted-by-$1\.mxmove\.test)" \
		    "$log" 2>/dev/null && return 0
		sleep 0.1
	done
	echo "no delivery of $2 in $log"
	return 1
}
# mx_is HOST: the validating resolver answers MX 10 HOST, with AD.
mx_is() {
	local out
	out=$(bash "$WORLD" exec drill -D MX mxmove.test) || return 1
	printf '%s\n' "$out"
	grep -Eq '^;; flags: qr.* ad[ ;]' <<<"$out" &&
	    [ "$(grep -v '^;' <<<"$out" |
	        grep -Ec 'IN[[:space:]]+MX[[:space:]]')" = 1 ] &&
	    grep -Eq "IN[[:space:]]+MX[[:space:]]+10 $1\.mxmove\.test\.$" <<<"$out"
}
ID1=20250101T000000
ID2=20250201T000000

# ---- 1. before the change: mx1 --------------------------------------------

sent 0 a a1 "a sender delivers to mx1, fetching the enforce policy" \
    'r["ok"] and r["mx"] == "mx1.mxmove.test" and r["fetched"] and
     r["mode"] == "enforce" and r["policy_id"] == "'$ID1'" and r["refused"] == []'
check "mx1's Postfix took it" received mx1 a1
sent 0 l l1 "a lazy sender does the same" \
    'r["ok"] and r["mx"] == "mx1.mxmove.test" and r["fetched"]' --lazy
sent 0 a a2 "the next message uses the cached policy (same id: no fetch)" \
    'r["ok"] and r["mx"] == "mx1.mxmove.test" and not r["fetched"] and
     r["policy_id"] == "'$ID1'"'
python3 "$SENDER" --cache "$T/a.cache" show >"$T/show.json" 2>&1
check "show prints the cache: the policy, its id, max_age and expiry" \
    is show 'r["mxmove.test"]["id"] == "'$ID1'" and
        r["mxmove.test"]["max_age"] == 30 and
        r["mxmove.test"]["mx"] == ["mx1.mxmove.test"] and
        "mode: enforce" in r["mxmove.test"]["body"] and
        abs(r["mxmove.test"]["expires"] - r["mxmove.test"]["fetched"] - 30) < 0.01'

# ---- 2. the MX moves under the cached policy -------------------------------

sed -i 's/^mx 10 mx1$/mx 10 mx2/' "$DOM"
check "rezone: the MX change is served" bash "$WORLD" rezone mxmove.test
check "the resolver answers MX 10 mx2, validated" mx_is mx2
sent 1 a a3 "the sender with its cached enforce policy refuses mx2" \
    'not r["ok"] and r["mx"] is None and not r["fetched"] and
     r["refused"] == [{"mx": "mx2.mxmove.test",
                       "why": "not covered by the policy'"'"'s mx patterns"}]'
sent 1 n n1 "so does a new sender: the published policy names mx1 only" \
    'not r["ok"] and r["fetched"] and r["refused"][0]["mx"] == "mx2.mxmove.test"'

# ---- 3. the policy lists both, the id changes --------------------------------

printf 'version: STSv1\r\nmode: enforce\r\nmx: mx1.mxmove.test\r\nmx: mx2.mxmove.test\r\nmax_age: 30\r\n' \
    >"$T/policy.new"
cp "$T/policy.new" "$POLICY.tmp" && mv "$POLICY.tmp" "$POLICY"
kill -HUP "$(cat "$WORLD_DIR/run/mtasts.pid")"
served_new() {
	bash "$WORLD" exec python3 -c 'import ssl, sys, urllib.request
ctx = ssl.create_default_context(cafile=sys.argv[1])
body = urllib.request.urlopen(
    "https://mta-sts.mxmove.test/.well-known/mta-sts.txt",
    context=ctx, timeout=5).read()
sys.exit(0 if body == open(sys.argv[2], "rb").read() else 1)' \
	    "$WORLD_CA" "$T/policy.new"
}
new_policy_served() {
	for _ in $(seq 50); do
		served_new 2>/dev/null && return 0
		sleep 0.1
	done
	served_new
}
check "mtasts serve serves the new policy after SIGHUP" new_policy_served
sent 1 a a4 "without a new id the sender keeps its cached policy" \
    'not r["ok"] and not r["fetched"] and r["policy_id"] == "'$ID1'"'

sed -i "s/id=$ID1;/id=$ID2;/" "$DOM"
check "rezone: the new TXT id is served" bash "$WORLD" rezone mxmove.test
cp "$T/a.cache" "$T/f.cache"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
    -keyout "$T/other-ca.key" -out "$T/other-ca.pem" -days 1 \
    -subj "/CN=not the world CA" >/dev/null 2>&1
bash "$WORLD" exec python3 "$SENDER" --cache "$T/f.cache" \
    --ca "$T/other-ca.pem" send mxmove.test f1@mxmove.test >"$T/f1.json" \
    2>"$T/f1.err"
[ $? = 1 ]
ok $? "a sender whose refetch fails (another CA) does not deliver (exit 1)"
check "... it keeps its unexpired cached policy and refuses mx2 (§5.1)" \
    is f1 'not r["fetched"] and r["fetch_error"] and r["txt_id"] == "'$ID2'" and
        r["policy_id"] == "'$ID1'" and r["refused"][0]["mx"] == "mx2.mxmove.test"'
sent 0 a a5 "a sender refetches on the new id and delivers to mx2" \
    'r["ok"] and r["mx"] == "mx2.mxmove.test" and r["fetched"] and
     r["policy_id"] == "'$ID2'" and r["refused"] == []'
check "mx2's Postfix took it" received mx2 a5
sent 1 l l2 "a lazy sender keeps its cached policy (unexpired) and refuses mx2" \
    'not r["ok"] and not r["fetched"] and r["policy_id"] == "'$ID1'" and
     r["txt_id"] == "'$ID2'"' --lazy

# ---- 4. the lazy sender's policy expires --------------------------------------

expires=$(python3 -c 'import json, sys
print(json.load(open(sys.argv[1]))["mxmove.test"]["expires"])' "$T/l.cache")
wait_s=$(python3 -c 'import sys, time
print(max(0.0, float(sys.argv[1]) - time.time() + 0.5))' "$expires")
echo "# waiting ${wait_s} s for the lazy sender's cached policy to expire"
sleep "$wait_s"
sent 0 l l3 "once it expires the lazy sender refetches and delivers to mx2" \
    'r["ok"] and r["mx"] == "mx2.mxmove.test" and r["fetched"] and
     r["policy_id"] == "'$ID2'"' --lazy
check "mx2's Postfix took it" received mx2 l3

echo "# $((SECONDS - T0)) s from up to the last check"
echo "1..$n"
[ "$failed" -eq 0 ]
