#!/bin/bash
# SPDX-License-Identifier: ISC
#
# mtasts check against the local internet: every domain file of
# tests/world/domains/ that carries expectations is a scenario.  Its
# lines
#
#   #expect CODE [CODE...]     these finding codes must be reported
#   #expect-not CODE [CODE...] these must not
#   #expect-verdict ok|warning|error
#   #expect-finding CODE TEXT   a finding CODE whose detail has TEXT
#
# are read here (the world ignores comments).  One `mtasts check --json`
# run checks all of them at once, as a scanner of many domains would.
# Prints TAP; skips when not root (the world needs a network namespace).
#
#   check.sh MTASTS WORLD_SH
set -u

MTASTS=${1:?usage: check.sh MTASTS WORLD_SH}
WORLD=${2:?usage: check.sh MTASTS WORLD_SH}
DOMAINS_DIR=${WORLD_DOMAINS:-$(dirname "$WORLD")/domains}

if [ "$(id -u)" -ne 0 ]; then
	echo "1..0 # SKIP not root: the world needs a network namespace"
	exit 0
fi

export WORLD_NS=${WORLD_NS:-${MTS_WORLD_PREFIX:-mtsworld}-check} MTASTS
T=$(mktemp -d "${TMPDIR:-/tmp}/mtasts-check.XXXXXX")
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

if ! world_env=$(bash "$WORLD" up 2>"$T/up.log") ||
    ! eval "$world_env"; then
	sed 's/^/# /' "$T/up.log"
	ok 1 "the world comes up"
	echo "1..$n"
	exit 1
fi

# The scenarios: domain files with expectations.
: >"$T/domains"
for f in "$DOMAINS_DIR"/*.domain; do
	grep -q '^#expect' "$f" && basename "$f" .domain >>"$T/domains"
done
count=$(wc -l <"$T/domains")
[ "$count" -gt 0 ]
ok $? "$count scenarios with expectations"

bash "$WORLD" exec "$MTASTS" check --json --concurrency 50 \
    --resolver "$WORLD_RESOLVER" --trust-anchor "$WORLD_TA" \
    --ca-file "$WORLD_CA" --timeout 5000 -f "$T/domains" \
    >"$T/out.json" 2>"$T/err"
status=$?
[ "$status" -le 1 ]
ok $? "check ran over all scenarios (exit $status)"
[ -s "$T/err" ] && sed 's/^/# stderr: /' "$T/err" | head -20
[ "$(wc -l <"$T/out.json")" -eq "$count" ]
ok $? "one JSON line per domain"

codes_of() { # codes_of DOMAIN: its finding codes, one per line
	jq -r --arg d "$1" 'select(.domain == $d) | .findings[].code' \
	    "$T/out.json"
}

while read -r d; do
	f="$DOMAINS_DIR/$d.domain"
	got=$(codes_of "$d" | sort -u)
	for want in $(sed -n 's/^#expect  *//p' "$f"); do
		grep -qx -- "$want" <<<"$got"
		ok $? "$d: reports $want"
	done
	for never in $(sed -n 's/^#expect-not  *//p' "$f"); do
		! grep -qx -- "$never" <<<"$got"
		ok $? "$d: does not report $never"
	done
	while read -r code text; do
		jq -e -s --arg d "$d" --arg c "$code" --arg t "$text" \
		    'any(.[] | select(.domain == $d) | .findings[];
		         .code == $c and (.detail | contains($t)))' \
		    "$T/out.json" >/dev/null
		ok $? "$d: reports $code with \"$text\""
	done < <(sed -n 's/^#expect-finding  *//p' "$f")
	v=$(sed -n 's/^#expect-verdict  *//p' "$f")
	if [ -n "$v" ]; then
		gotv=$(jq -r --arg d "$d" 'select(.domain == $d) | .verdict' \
		    "$T/out.json")
		[ "$gotv" = "$v" ]
		ok $? "$d: verdict $v (got $gotv)"
	fi
done <"$T/domains"

# Human output and exit status of one healthy and one broken domain.
bash "$WORLD" exec "$MTASTS" check --resolver "$WORLD_RESOLVER" \
    --trust-anchor "$WORLD_TA" --ca-file "$WORLD_CA" example.test \
    >"$T/human" 2>&1
ok $? "a healthy domain exits 0"
head -1 "$T/human" | grep -q '^example.test: ok'
ok $? "the verdict line comes first"
bash "$WORLD" exec "$MTASTS" check --resolver "$WORLD_RESOLVER" \
    --trust-anchor "$WORLD_TA" --ca-file "$WORLD_CA" no-txt.test \
    >/dev/null 2>&1
[ $? -eq 1 ]
ok $? "a broken domain exits 1"
"$MTASTS" check >/dev/null 2>&1
[ $? -eq 2 ]
ok $? "no domain is a usage error"

# --state: a policy body that changed under the same id is caught on the
# next run (senders keep the old one, RFC 8461 §3.1); a new id is noted.
mkdir -p "$T/state"
echo "id 20240101T000000 sha256 0000" >"$T/state/example.test.state"
bash "$WORLD" exec "$MTASTS" check --json --state "$T/state" --no-smtp \
    --resolver "$WORLD_RESOLVER" --trust-anchor "$WORLD_TA" \
    --ca-file "$WORLD_CA" example.test >"$T/state.json" 2>/dev/null
jq -e 'any(.findings[]; .code == "check-policy-same-id")' "$T/state.json" \
    >/dev/null
ok $? "--state: a changed body under the same id is an error"
bash "$WORLD" exec "$MTASTS" check --json --state "$T/state" --no-smtp \
    --resolver "$WORLD_RESOLVER" --trust-anchor "$WORLD_TA" \
    --ca-file "$WORLD_CA" example.test >"$T/state.json" 2>/dev/null
jq -e 'all(.findings[]; .code != "check-policy-same-id")' "$T/state.json" \
    >/dev/null
ok $? "--state: the same body and id the next time is fine"
echo "id 1 sha256 0000" >"$T/state/example.test.state"
bash "$WORLD" exec "$MTASTS" check --json --state "$T/state" --no-smtp \
    --resolver "$WORLD_RESOLVER" --trust-anchor "$WORLD_TA" \
    --ca-file "$WORLD_CA" example.test >"$T/state.json" 2>/dev/null
jq -e 'any(.findings[]; .code == "check-policy-id-changed")' \
    "$T/state.json" >/dev/null
ok $? "--state: a new id is noted"
# A state directory that cannot be used is said on stderr, with the path
# and the reason, and check exits 2 rather than forget ids in silence: a
# path under a regular file fails before any domain is checked; in /proc,
# a directory where no file can be made, the write fails.
: >"$T/afile"
bash "$WORLD" exec "$MTASTS" check --json --state "$T/afile/state" --no-smtp \
    --resolver "$WORLD_RESOLVER" --trust-anchor "$WORLD_TA" \
    --ca-file "$WORLD_CA" example.test >/dev/null 2>"$T/state.err"
st=$?
[ "$st" -eq 2 ] &&
    grep -qF "state $T/afile/state: Not a directory" "$T/state.err"
ok $? "--state under a regular file: said on stderr, exit 2 (exit $st)"
bash "$WORLD" exec "$MTASTS" check --json --state /proc --no-smtp \
    --resolver "$WORLD_RESOLVER" --trust-anchor "$WORLD_TA" \
    --ca-file "$WORLD_CA" example.test >"$T/state.json" 2>"$T/state.err"
st=$?
[ "$st" -eq 2 ] &&
    grep -qF "state /proc/example.test.state.tmp: cannot write: " \
        "$T/state.err" &&
    jq -e '.domain == "example.test"' "$T/state.json" >/dev/null
ok $? "--state in a directory that takes no file: said, exit 2 (exit $st)"
[ "$st" -eq 2 ] || sed 's/^/# stderr: /' "$T/state.err"

# The caps on MX hosts and addresses choose by preference, name and
# address, never by the order of the DNS answer, which the resolver
# shuffles: three runs over the capped scenarios find the same.
for i in 1 2 3; do
	bash "$WORLD" exec "$MTASTS" check --json \
	    --resolver "$WORLD_RESOLVER" --trust-anchor "$WORLD_TA" \
	    --ca-file "$WORLD_CA" --timeout 5000 \
	    chk-many-mx.test chk-many-mx-cover.test chk-five-addr.test |
	    jq -c '{domain, verdict,
	        f: ([.findings[] | [.code, .detail, .count]] | sort)}' |
	    sort >"$T/stable.$i"
done
[ "$(wc -l <"$T/stable.1")" -eq 3 ] && cmp -s "$T/stable.1" "$T/stable.2" &&
    cmp -s "$T/stable.1" "$T/stable.3"
ok $? "capped MX hosts and addresses: the same findings in three runs"

# chk-flood.test: 10,000 stale patterns are one finding with a count, in
# JSON and in text, and the error is listed among them.
jq -e -s '.[] | select(.domain == "chk-flood.test") |
    .dropped == 0 and (.findings | length) < 20 and
    any(.findings[]; .code == "check-policy-pattern-stale" and
        .count == 10000)' "$T/out.json" >/dev/null
ok $? "chk-flood.test: the stale patterns fold into one, \"count\": 10000"
bash "$WORLD" exec "$MTASTS" check --brief --resolver "$WORLD_RESOLVER" \
    --trust-anchor "$WORLD_TA" --ca-file "$WORLD_CA" --timeout 5000 \
    chk-flood.test >"$T/flood" 2>&1
grep -qF "[check-policy-pattern-stale] (and 9999 more like it)" "$T/flood" &&
    grep -qF "[check-smtp-connect]" "$T/flood" &&
    [ "$(wc -l <"$T/flood")" -lt 20 ]
ok $? "chk-flood.test: text says \"(and 9999 more like it)\" and the error"
# mtasts tlsa check: which records match, per address.
tc() { bash "$WORLD" exec "$MTASTS" tlsa check --resolver "$WORLD_RESOLVER" \
    --trust-anchor "$WORLD_TA" --ca-file "$WORLD_CA" --timeout 5000 "$@"; }
tc mx1.example.test >"$T/tc" 2>&1
ok $? "tlsa check: DANE authenticates mx1.example.test (exit 0)"
grep -q "matches the certificate at depth 0" "$T/tc"
ok $? "tlsa check: says which certificate the record matches"
grep -q "rollover" "$T/tc"
ok $? "tlsa check: gives the rollover advice"
tc mx1.mx-tlsa-mismatch.test >"$T/tc" 2>&1
[ $? -eq 1 ] && grep -q "matches nothing presented" "$T/tc"
ok $? "tlsa check: a mismatching record exits 1 and says so"

# tlsa check finds the TLSA base domain as check and DANE senders do
# (RFC 7672 §2.2.2, §2.2.3), on the dane-* scenarios above.
# tc_expect HOST STATUS WHAT TEXT...: `tlsa check HOST` exits STATUS and
# prints every TEXT (a fixed string; "!TEXT": never prints it).
tc_expect() {
	local host=$1 want=$2 what=$3 text st rc=0
	shift 3
	tc "$host" >"$T/tc" 2>&1
	st=$?
	[ "$st" -eq "$want" ] || rc=1
	for text in "$@"; do
		case $text in
		!*) ! grep -qF -- "${text#!}" "$T/tc" ;;
		*) grep -qF -- "$text" "$T/tc" ;;
		esac || { rc=1; echo "# wrong about: $text"; }
	done
	[ "$rc" -eq 0 ] || sed 's/^/# | /' "$T/tc"
	ok $rc "tlsa check $host: $what (exit $st)"
}
tc_expect mx1.example.test 0 "a plain host: the output of old" \
    "_25._tcp.mx1.example.test: 1 TLSA record (answer, secure)" \
    "!alias" "!TLSA at" "!DANE does not apply" "!SNI"
tc_expect mx.dane-mx-cname.test 0 "TLSA at the CNAME target" \
    "mx.dane-mx-cname.test is an alias of mx1.example.test (addresses secure)" \
    "TLSA at _25._tcp.mx1.example.test (CNAME target of mx.dane-mx-cname.test)" \
    "SNI mx1.example.test, DANE-TA names mx1.example.test, mx.dane-mx-cname.test" \
    "records at _25._tcp.mx.dane-mx-cname.test are not used" \
    "DANE ok (usage 3, depth 0)" "!matches nothing presented"
tc_expect mx15.dane-cname-fallback.test 1 "TLSA at the original name only" \
    "_25._tcp.notlsa.dane-ta.test: 0 TLSA records (nxdomain, secure)" \
    "TLSA at _25._tcp.mx15.dane-cname-fallback.test (mx15.dane-cname-fallback.test itself: its CNAME target notlsa.dane-ta.test has no TLSA records)" \
    "SNI mx15.dane-cname-fallback.test, DANE-TA names mx15.dane-cname-fallback.test " \
    "DANE FAILED" "matches nothing presented"
tc_expect mx15.dane-cname-fallback-ok.test 0 "TLSA at the original name, and it authenticates" \
    "_25._tcp.plain.dane-cname-fallback-ok.test: 0 TLSA records (nxdomain, secure)" \
    "TLSA at _25._tcp.mx15.dane-cname-fallback-ok.test (mx15.dane-cname-fallback-ok.test itself: its CNAME target plain.dane-cname-fallback-ok.test has no TLSA records)" \
    "DANE ok (usage 3" "!matches nothing presented"
tc_expect mx.dane-cname-insecure.test 1 "insecure target, secure CNAME" \
    "(addresses insecure, first CNAME secure)" \
    "TLSA at _25._tcp.mx.dane-cname-insecure.test (mx.dane-cname-insecure.test itself: the addresses of its CNAME target mx.insecure.test are not DNSSEC-secure, its first CNAME is)" \
    "!_25._tcp.mx.insecure.test:" "DANE FAILED"
tc_expect mx.insecure.test 1 "insecure addresses: DANE does not apply" \
    "_25._tcp.mx.insecure.test: 1 TLSA record (answer, insecure)" \
    "DANE does not apply: the addresses of mx.insecure.test are not DNSSEC-secure" \
    "DANE not checked" "!DANE ok" "!DANE FAILED"
tc_expect mxa.dane-cname-chain.test 1 "no TLSA: DANE does not apply" \
    "_25._tcp.notlsa.dane-ta.test: 0 TLSA records" \
    "_25._tcp.mxa.dane-cname-chain.test: 0 TLSA records" \
    "DANE does not apply: no TLSA records" "!_25._tcp.mxb" "DANE not checked"
tc_expect mx1.dane-bogus-tlsa.test 1 "a bogus TLSA answer" \
    "_25._tcp.mx1.dane-bogus-tlsa.test: 0 TLSA records (servfail, bogus)" \
    "DANE senders treat mx1.dane-bogus-tlsa.test as unreachable" \
    "the TLSA lookup at _25._tcp.mx1.dane-bogus-tlsa.test is bogus" \
    "DANE not checked" "!DANE ok"
tc_expect mx1.dane-servfail.test 1 "a failed TLSA lookup" \
    "DANE senders treat mx1.dane-servfail.test as unreachable" \
    "the TLSA lookup at _25._tcp.mx1.dane-servfail.test failed" \
    "DANE not checked" "!DANE ok"

echo "1..$n"
[ "$failed" -eq 0 ]
