#!/bin/bash
# SPDX-License-Identifier: ISC
#
# End-to-end tests of the DNS adapter (src/lib/io/dns.c) in the local
# internet of tests/world: dns_probe asks through mts_dns, inside the
# world's namespace, against its validating resolver with its trust
# anchor, and prints one line per answer:
#
#     NAME TYPE RCODE DNSSEC COUNT CANONICAL FIRST-RECORD
#
# Covered: secure, insecure and bogus answers, NXDOMAIN and NODATA
# (checklist DANE-DNS-4/5), MX, TLSA, A and AAAA, multi-record TXT,
# CNAMEs and chains (STS-TXT-13, DANE-DNS-9), 200 queries at once,
# timeouts (a resolver that does not answer, and timeouts racing
# answers), freeing the resolver with queries pending and from inside a
# callback, bad arguments; memory under valgrind when it is there.
# Prints TAP; needs root ("1..0 # SKIP not root" otherwise).
#
#   dns.sh DNS_PROBE WORLD_SH
set -uo pipefail

PROBE=${1:?usage: dns.sh DNS_PROBE WORLD_SH}
WORLD=${2:?usage: dns.sh DNS_PROBE WORLD_SH}
export WORLD_NS=${MTS_WORLD_PREFIX:-mtsworld}-dns
unset WORLD_DIR WORLD_KEEP

if [ "$(id -u)" -ne 0 ]; then
	echo "1..0 # SKIP not root"
	exit 0
fi
for t in ip nsd unbound ldns-signzone drill openssl; do
	if ! command -v "$t" >/dev/null 2>&1; then
		echo "1..0 # SKIP $t not installed (see tests/world/README.md)"
		exit 0
	fi
done

N=0
FAILED=0
SCRATCH=$(mktemp -d "${TMPDIR:-/tmp}/mtasts-dns.XXXXXX")
trap 'bash "$WORLD" down >/dev/null 2>&1; rm -rf "$SCRATCH"' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

ok()
{
	N=$((N + 1))
	if [ "$1" -eq 0 ]; then
		echo "ok $N - $2"
	else
		echo "not ok $N - $2"
		FAILED=$((FAILED + 1))
	fi
}

# has DESCRIPTION REGEX: one line of $OUT matches REGEX entirely.
has()
{
	if printf '%s\n' "$OUT" | grep -Eqx -- "$2"; then
		ok 0 "$1"
	else
		ok 1 "$1"
		echo "#   no line matches: $2"
		printf '%s\n' "$OUT" | sed 's/^/#   /'
	fi
}

# probe ARGS...: runs dns_probe in the world; output in OUT, status in RC.
probe()
{
	OUT=$(bash "$WORLD" exec "$PROBE" "$@" 2>"$SCRATCH/stderr")
	RC=$?
}

# A world of our own name, so another can stay up meanwhile.
bash "$WORLD" down >/dev/null 2>&1
if ! ENV=$(bash "$WORLD" up 2>"$SCRATCH/up.err"); then
	echo "Bail out! world.sh up failed"
	sed 's/^/# /' "$SCRATCH/up.err"
	exit 1
fi
eval "$ENV"
R=(-r "$WORLD_RESOLVER" -a "$WORLD_TA")

# ---- one batch of queries, all at once ----
probe "${R[@]}" query \
    _mta-sts.example.test TXT \
    _mta-sts.insecure.test TXT \
    _mta-sts.bogus.test TXT \
    _mta-sts.bogus-ds.test TXT \
    nope.example.test TXT \
    example.test TLSA \
    example.test MX \
    EXAMPLE.test. MX \
    _25._tcp.mx1.example.test TLSA \
    mta-sts.example.test A \
    mta-sts.example.test AAAA \
    _mta-sts.two-txt.test TXT \
    _mta-sts.cname.test TXT \
    chain.cname.test TXT \
    loop1.cname.test TXT \
    to-insecure.cname.test TXT \
    mx.cname.test A \
    _mta-sts.cname.test CNAME \
    nothing.test A
ok $RC "a batch of 19 queries: each callback exactly once"
has "signed TXT: answer, secure, the policy id" \
    '_mta-sts\.example\.test TXT answer secure 1 - v=STSv1; id=20240101T000000;'
has "unsigned zone: answer, insecure" \
    '_mta-sts\.insecure\.test TXT answer insecure 1 - v=STSv1; id=1;'
has "expired signatures: servfail, bogus, with libunbound's reason" \
    '_mta-sts\.bogus\.test TXT servfail bogus 0 - bogus: .*signature expired.*'
has "DS of a key that signs nothing: servfail, bogus" \
    '_mta-sts\.bogus-ds\.test TXT servfail bogus 0 - bogus: .+'
has "DANE-DNS-4: a name that does not exist: nxdomain, secure" \
    'nope\.example\.test TXT nxdomain secure 0 - -'
has "DANE-DNS-4: a type that does not exist: nodata, secure" \
    'example\.test TLSA nodata secure 0 - -'
has "MX: 10 mx1.example.test, secure" \
    'example\.test MX answer secure 1 - 10 mx1\.example\.test'
has "a name in capitals with the root dot is the same name" \
    'EXAMPLE\.test\. MX answer secure 1 - 10 mx1\.example\.test'
has "TLSA: 3 1 1, secure" \
    '_25\._tcp\.mx1\.example\.test TLSA answer secure 1 - 3 1 1 [0-9A-F]{64}'
has "A of the policy host" \
    'mta-sts\.example\.test A answer secure 1 - 127\.0\.0\.80'
has "AAAA of the policy host" \
    'mta-sts\.example\.test AAAA answer secure 1 - fd6d:7473::80'
has "two TXT records: both counted" \
    '_mta-sts\.two-txt\.test TXT answer secure 2 - v=STSv1; id=2024(0101|0202);'
has "STS-TXT-13 T1: TXT through a CNAME, canonical name given" \
    '_mta-sts\.cname\.test TXT answer secure 1 _mta-sts\.example\.test v=STSv1; id=20240101T000000;'
has "STS-TXT-13 T2: a chain of two CNAMEs" \
    'chain\.cname\.test TXT answer secure 1 _mta-sts\.example\.test v=STSv1; id=20240101T000000;'
has "STS-TXT-13 T3: a CNAME loop fails" \
    'loop1\.cname\.test TXT servfail insecure 0 - .+'
has "DANE-DNS-9: a secure CNAME to an unsigned zone is insecure" \
    'to-insecure\.cname\.test TXT answer insecure 1 _mta-sts\.insecure\.test v=STSv1; id=1;'
has "A through a CNAME: the canonical name is the target" \
    'mx\.cname\.test A answer secure 1 mx1\.example\.test 127\.0\.25\.1'
has "a CNAME query: the target as canonical name" \
    '_mta-sts\.cname\.test CNAME answer secure 1 _mta-sts\.example\.test -'
has "a name under test. that no zone has: nxdomain, secure" \
    'nothing\.test A nxdomain secure 0 - -'
has "nothing pending at the end" 'done 19 pending 0 ms [0-9]+'

# The TLSA record is the SPKI digest of mx1's certificate (RFC 6698
# §2.1.2): what libunbound returned is what the zone holds.
want=$(openssl x509 -in "$WORLD_DIR/pki/mx1.example.test.pem" -pubkey -noout |
    openssl pkey -pubin -outform DER | openssl dgst -sha256 -hex |
    sed 's/.*= //' | tr a-f A-F)
has "TLSA data: the SHA2-256 of mx1's public key" \
    "_25\\._tcp\\.mx1\\.example\\.test TLSA answer secure 1 - 3 1 1 $want"

# ---- resolver given with a port ----
probe -r "$WORLD_RESOLVER@53" -a "$WORLD_TA" query example.test MX
has "resolver address with @port" \
    'example\.test MX answer secure 1 - 10 mx1\.example\.test'

# ---- without a trust anchor for test.: nothing can be secure ----
if [ -r /usr/share/dns/root.key ]; then
	probe -r "$WORLD_RESOLVER" -a /usr/share/dns/root.key query \
	    example.test MX
	# The world has no root zone: the root anchor cannot validate test.
	has "DANE-DNS-1: root anchor only: test. is not secure" \
	    'example\.test MX (answer insecure 1 - 10 mx1\.example\.test|servfail bogus 0 - bogus: .+)'
fi

# ---- DANE-DNS-1: the validation is our own, never an upstream AD bit ----
# nsd is authoritative only: it validates nothing and sets no AD bit.
# libunbound, forwarding to it, still validates with the trust anchor.
probe -r "$WORLD_AUTH" -a "$WORLD_TA" query \
    _mta-sts.example.test TXT _mta-sts.bogus.test TXT
has "DANE-DNS-1: through a non-validating server, signed data is secure" \
    '_mta-sts\.example\.test TXT answer secure 1 - v=STSv1; id=20240101T000000;'
has "DANE-DNS-1: through a non-validating server, bogus data is bogus" \
    '_mta-sts\.bogus\.test TXT servfail bogus 0 - bogus: .+'

# ---- many at once ----
probe "${R[@]}" many 200 _mta-sts.example.test TXT
ok $RC "200 queries at once: each answered once"
has "200 queries at once: all secure, none pending after" \
    'many 200 started 200 answered 200 pending 0 answer/secure=200'

# ---- timeouts ----
t0=$(date +%s%N)
probe -r 127.0.0.9 -a "$WORLD_TA" -t 500 query example.test MX \
    _mta-sts.example.test TXT
ms=$((($(date +%s%N) - t0) / 1000000))
ok $RC "no resolver at 127.0.0.9: callbacks came"
has "no resolver: timeout delivered" \
    'example\.test MX timeout insecure 0 - no answer in time'
has "no resolver: every query times out" \
    '_mta-sts\.example\.test TXT timeout insecure 0 - no answer in time'
[ "$ms" -lt 3000 ]
ok $? "timeout_ms 500: over in ${ms} ms, not a hang"

probe "${R[@]}" -t 1 many 200 _mta-sts.example.test TXT
ok $RC "timeouts of 1 ms racing 200 answers: each query answered once"
has "timeouts racing answers: nothing pending after" \
    'many 200 started 200 answered 200 pending 0 .*'

# ---- freeing with queries pending ----
probe "${R[@]}" free 100 example.test MX
ok $RC "free with 100 queries pending: no callback after the free"
has "free at once: no callback" 'free at once: called 0'
probe "${R[@]}" free-in-callback 50 example.test MX
ok $RC "free from inside the first callback: no other callback"
has "free from a callback: one callback" 'free-in-callback callbacks 1 after 0'

# ---- bad arguments ----
probe -r not-an-address new
has "a resolver that is not an address: invalid argument" \
    'new error invalid argument: resolver is not an IP address .*'
probe -r 127.0.0.1@0 new
has "port 0: invalid argument" 'new error invalid argument: .*'
probe -a "$SCRATCH/none" new
has "a missing trust anchor file: invalid argument" \
    'new error invalid argument: cannot read the trust anchor file'
printf 'not a zone file\n' >"$SCRATCH/bad.ta"
probe -a "$SCRATCH/bad.ta" new
has "a malformed trust anchor file: an error of mts_dns_new()" \
    'new error invalid argument: libunbound rejects .*'

# ---- memory ----
if [ "${MTS_VALGRIND:-0}" != 1 ] || ! command -v valgrind >/dev/null 2>&1; then
	for what in "pending queries" "free in a callback" "timeouts"; do
		N=$((N + 1))
		echo "ok $N - valgrind: $what # SKIP valgrind runs need MTS_VALGRIND=1 and valgrind"
	done
elif grep -q __asan_init "$PROBE"; then
	for what in "pending queries" "free in a callback" "timeouts"; do
		N=$((N + 1))
		echo "ok $N - valgrind: $what # SKIP ASan build (it checks itself)"
	done
else
	VG=(valgrind -q --error-exitcode=99 --leak-check=full)
	VG+=("--errors-for-leak-kinds=definite,indirect")
	vg()
	{
		OUT=$(bash "$WORLD" exec "${VG[@]}" "$PROBE" "$@" 2>&1)
		RC=$?
		[ $RC -eq 0 ] || printf '%s\n' "$OUT" | tail -n 20 | sed 's/^/#   /'
	}
	vg "${R[@]}" free 20 example.test MX
	ok $RC "valgrind: pending queries freed, no leak, no error"
	vg "${R[@]}" free-in-callback 20 example.test MX
	ok $RC "valgrind: free in a callback, no leak, no error"
	vg "${R[@]}" -t 2 many 50 example.test MX
	ok $RC "valgrind: timeouts and cancelled queries, no leak, no error"
fi

echo "1..$N"
[ "$FAILED" -eq 0 ]
