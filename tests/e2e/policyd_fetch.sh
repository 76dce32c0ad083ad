#!/bin/bash
# SPDX-License-Identifier: ISC
#
# mtasts fetch --postfix in the local internet (tests/world): the first
# line is the socketmap reply exactly as mtasts policyd sends it, the
# trace lines after it say why.  Enforce, testing, no policy, DANE first
# (dane-only, dane, off), a DANE "bogus" host with and without a policy,
# bogus DNSSEC, certificate and HTTP faults (the fetch-error class), keys
# answered without lookup, and a cache store (--cache sqlite:) that
# answers a second run (via=store) after the policy host was made
# unreachable with `world.sh rezone`.  Prints TAP; skips when not root.
#
#   policyd_fetch.sh MTASTS WORLD_SH
set -u

MTASTS=${1:?usage: policyd_fetch.sh MTASTS WORLD_SH}
WORLD=${2:?usage: policyd_fetch.sh MTASTS WORLD_SH}

if [ "$(id -u)" -ne 0 ]; then
	echo "1..0 # SKIP not root: the world needs a network namespace"
	exit 0
fi

export WORLD_NS=${MTS_WORLD_PREFIX:-mtsworld}-pfetch MTASTS
T=$(mktemp -d "${TMPDIR:-/tmp}/mtasts-pfetch.XXXXXX")
chmod 755 "$T"
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

# The world's domains, and one of our own: a secure MX whose TLSA owner
# is an alias into bogus.test (as dane-bogus-tlsa.test) but no MTA-STS,
# so that nothing stands over the DANE failure.
mkdir "$T/domains"
cp "$(dirname "$WORLD")"/domains/*.domain "$T/domains/"
cat >"$T/domains/pf-bogus.test.domain" <<'EOF'
zone signed
mx 10 mx1
a mx1 127.0.25.1
cname _25._tcp.mx1 _25._tcp.mx1.bogus.test.
EOF
export WORLD_DOMAINS=$T/domains WORLD_SMTP=0

if ! world_env=$(bash "$WORLD" up 2>"$T/up.log") ||
    ! eval "$world_env"; then
	sed 's/^/# /' "$T/up.log"
	ok 1 "the world comes up"
	echo "1..$n"
	exit 1
fi

# fetch NAME [OPTIONS...] KEY: mtasts fetch --postfix into $T/NAME.out.
fetch() {
	local name=$1
	shift
	bash "$WORLD" exec "$MTASTS" fetch --postfix \
	    --resolver "$WORLD_RESOLVER" --trust-anchor "$WORLD_TA" \
	    --ca-file "$WORLD_CA" --timeout 3000 "$@" \
	    >"$T/$name.out" 2>"$T/$name.err"
	echo $? >"$T/$name.rc"
}

# first NAME WANT TEXT: the first line is exactly WANT.
first() {
	local got
	got=$(head -n 1 "$T/$1.out")
	[ "$got" = "$2" ] && [ "$(cat "$T/$1.rc")" = 0 ]
	ok $? "$3"
	if [ "$got" != "$2" ]; then
		echo "#   want: '$2'"
		echo "#   got:  '$got' (exit $(cat "$T/$1.rc"))"
		sed 's/^/#   /' "$T/$1.out" "$T/$1.err" | head -30
	fi
}

# has NAME TEXT WHAT: a line after the first has TEXT (fixed string).
has() {
	tail -n +2 "$T/$1.out" | grep -qF -- "$2"
	ok $? "$3"
}

# ---- MTA-STS ----
fetch enforce insecure.test
first enforce "OK secure match=mx.insecure.test servername=hostname" \
    "enforce (no DANE: an insecure zone): secure match= the MX host"
has enforce "via=network kind=sts failure=none" "enforce: from the network"
has enforce "trace: policy from 127.0.0.80: enforce, max_age 86400, 1 mx" \
    "enforce: the trace names the policy fetched"

fetch cname chk-policy-cname.test
first cname \
    "OK secure match=mx1.chk-policy-cname.test servername=hostname" \
    "RFC 8461 §3.3: the policy host's CNAME is followed"

fetch compat --postfix-compat 3.10 insecure.test
first compat "OK secure match=mx.insecure.test servername=hostname policy_type=sts policy_domain=insecure.test mx_host_pattern=mx.insecure.test { policy_string = version: STSv1 } { policy_string = mode: enforce } { policy_string = mx: mx.insecure.test } { policy_string = max_age: 86400 }" \
    "enforce with --postfix-compat 3.10: the TLSRPT attributes"

fetch testing --dane off other.test
first testing "NOTFOUND " "testing (--dane off): NOTFOUND with its space"
has testing "trace: policy from 127.0.0.80: testing" \
    "testing: the policy was fetched, and it is testing"

fetch notxt no-txt.test
first notxt "NOTFOUND " "no _mta-sts record: NOTFOUND"
has notxt "why: no MTA-STS policy (no _mta-sts TXT record)" \
    "no policy: why says no TXT record"

# ---- DANE first (RFC 8461 §2) ----
fetch dane example.test
first dane "OK dane-only" "DANE: secure MX and usable TLSA: OK dane-only"
has dane "trace: mx1.example.test: DANE secure, 1 usable TLSA record" \
    "DANE: the trace names the host's usable record"
fetch danemay --dane dane example.test
first danemay "OK dane" "--dane dane: OK dane"
fetch daneoff --dane off example.test
first daneoff "OK secure match=mx1.example.test servername=hostname" \
    "--dane off: the domain's MTA-STS enforce policy"
fetch daneunusable dane-unusable.test
first daneunusable \
    "OK secure match=mx1.dane-unusable.test servername=hostname" \
    "unusable TLSA records: no DANE, the enforce policy"
fetch danebogus dane-bogus-tlsa.test
first danebogus \
    "OK secure match=mx1.dane-bogus-tlsa.test servername=hostname" \
    "a bogus TLSA host under a valid enforce policy: the policy"
fetch pfbogus pf-bogus.test
first pfbogus "NOTFOUND " "a bogus TLSA host, no policy: bogus, NOTFOUND by default"
has pfbogus "failure=bogus" "bogus TLSA, no policy: the bogus class"

# ---- failures ----
fetch bogus bogus.test
first bogus "NOTFOUND " "bogus DNSSEC: NOTFOUND by default"
has bogus "failure=bogus" "bogus DNSSEC: the bogus class"
has bogus "trace: TXT _mta-sts.bogus.test: servfail (bogus)" \
    "bogus DNSSEC: the trace shows the bogus TXT answer"
for d in cert-expired cert-wrong-name cert-self-signed; do
	fetch "$d" "$d.test"
	first "$d" "NOTFOUND " "$d: NOTFOUND (no policy cached)"
	has "$d" "failure=fetch-error" "$d: the fetch-error class"
	has "$d" "trace: policy from 127.0.0.81: certificate" \
	    "$d: the trace names the certificate fault"
done
fetch http404 http-404.test
first http404 "NOTFOUND " "HTTP 404: NOTFOUND"
has http404 "why: fetch-error: HTTP status 404" "HTTP 404: fetch-error"

# ---- keys answered at once ----
fetch parent .example.test
first parent "NOTFOUND " "a parent-domain key: NOTFOUND at once"
has parent "via=none" "a parent-domain key: no lookup"
fetch literal '[192.0.2.1]:25'
first literal "NOTFOUND " "an address literal: NOTFOUND at once"
fetch nexthop --dane off '[mx.insecure.test]:587'
first nexthop "NOTFOUND " \
    "a next hop: the host's own name is the policy domain (it has none)"
has nexthop "domain=mx.insecure.test" "a next hop: the host's name"

"$MTASTS" fetch >/dev/null 2>&1
[ $? -eq 2 ]
ok $? "no key: usage error, exit 2"

# ---- the cache store ----
fetch store1 --cache "sqlite:$T/cache.db" insecure.test
first store1 "OK secure match=mx.insecure.test servername=hostname" \
    "--cache: the first run resolves"
has store1 "via=network" "--cache: the first answer is from the network"

# The policy host becomes unreachable: an address nothing routes.
sed -i 's/^a mta-sts @https$/a mta-sts 192.0.2.1/' \
    "$T/domains/insecure.test.domain"
bash "$WORLD" rezone insecure.test >"$T/rezone.log" 2>&1
ok $? "rezone: mta-sts.insecure.test points at 192.0.2.1"

fetch broken insecure.test
first broken "NOTFOUND " "without the store, the policy host is gone"
has broken "failure=fetch-error" "without the store: fetch-error"

fetch store2 --cache "sqlite:$T/cache.db" insecure.test
first store2 "OK secure match=mx.insecure.test servername=hostname" \
    "--cache: the second run answers the cached enforce policy"
has store2 "via=store" "--cache: the second answer is from the store"

echo "1..$n"
[ "$failed" -eq 0 ]
