#!/bin/bash
# SPDX-License-Identifier: ISC
#
# End-to-end tests of the policy fetch of `mtasts check`
# (src/check/fetch.c), through fetch_probe, which prints one line of
# key=value pairs per fetch:
#
#   - in the local internet of tests/world: the healthy sites of
#     `mtasts serve`, the broken ones of the reference nginx (bad
#     certificates, 404, text/html, a redirect, one to a Location of
#     octets that are no UTF-8, through `mtasts check` too), IPv4 and
#     IPv6, every event_add() of a fetch failed in turn (where the
#     build injects faults: wrap_event.h);
#   - against tests/e2e/quirk_server.c on 127.0.0.1 (outside the world,
#     with a CA made here): TLS versions, wildcard and DNS-ID rules,
#     body caps for every framing, stalls, truncations, odd heads.
#
# Test names cite the checklist ids (../shared/conformance/
# rfc-checklist.md, section 3).  Memory is checked under valgrind when
# it is installed.  Prints TAP; needs root ("1..0 # SKIP" otherwise).
#
#   fetch.sh FETCH_PROBE WORLD_SH QUIRK_SERVER
set -uo pipefail

PROBE=${1:?usage: fetch.sh FETCH_PROBE WORLD_SH QUIRK_SERVER}
WORLD=${2:?usage: fetch.sh FETCH_PROBE WORLD_SH QUIRK_SERVER}
QUIRK=${3:?usage: fetch.sh FETCH_PROBE WORLD_SH QUIRK_SERVER}
export WORLD_NS=${MTS_WORLD_PREFIX:-mtsworld}-fetch
unset WORLD_DIR WORLD_KEEP

if [ "$(id -u)" -ne 0 ]; then
	echo "1..0 # SKIP not root"
	exit 0
fi
for t in ip nsd unbound ldns-signzone drill openssl nginx getent; do
	if ! command -v "$t" >/dev/null 2>&1; then
		echo "1..0 # SKIP $t not installed (see tests/world/README.md)"
		exit 0
	fi
done

N=0
FAILED=0
QUIRK_PID=""
SCRATCH=$(mktemp -d "${TMPDIR:-/tmp}/mtasts-fetch.XXXXXX")
cleanup()
{
	[ -z "$QUIRK_PID" ] || kill "$QUIRK_PID" 2>/dev/null
	bash "$WORLD" down >/dev/null 2>&1
	rm -rf "$SCRATCH"
}
trap cleanup EXIT
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

# field KEY: the value of KEY on the first line of $OUT, unquoted.
field()
{
	local line=${OUT%%$'\n'*}
	if [[ $line =~ (^|\ )$1=\"([^\"]*)\" ]]; then
		printf '%s' "${BASH_REMATCH[2]}"
	elif [[ $line =~ (^|\ )$1=([^ ]*) ]]; then
		printf '%s' "${BASH_REMATCH[2]}"
	fi
}

# expect NAME CHECK...: one TAP line; each CHECK is KEY=VALUE (equal),
# KEY~REGEX (matches) or KEY<NUMBER (less than); the probe exited 0.
expect()
{
	local name=$1 check key want got bad=""
	shift
	for check in "$@"; do
		case $check in
		*'~'*)
			key=${check%%'~'*} want=${check#*'~'}
			got=$(field "$key")
			[[ $got =~ $want ]] || bad+=" $key='$got' (want ~ $want)"
			;;
		*'<'*)
			key=${check%%'<'*} want=${check#*'<'}
			got=$(field "$key")
			[[ $got =~ ^[0-9]+$ ]] && [ "$got" -lt "$want" ] ||
			    bad+=" $key='$got' (want < $want)"
			;;
		*)
			key=${check%%=*} want=${check#*=}
			got=$(field "$key")
			[ "$got" = "$want" ] || bad+=" $key='$got' (want $want)"
			;;
		esac
	done
	[ "$RC" -eq 0 ] || bad+=" exit=$RC"
	if [ -z "$bad" ]; then
		ok 0 "$name"
	else
		ok 1 "$name"
		echo "#  $bad"
		printf '%s\n' "$OUT" | sed 's/^/#   /'
		sed 's/^/#   stderr: /' "$SCRATCH/stderr"
	fi
}

# same NAME FILE FILE: the two files are equal.
same()
{
	if cmp -s "$2" "$3"; then
		ok 0 "$1"
	else
		ok 1 "$1"
		echo "#   $2 and $3 differ"
	fi
}

# wprobe ARGS...: fetch_probe inside the world, trusting its CA.
# shellcheck disable=SC2153 # WORLD_CA comes from `eval "$ENV"`
wprobe()
{
	OUT=$(bash "$WORLD" exec "$PROBE" --ca "$WORLD_CA" "$@" \
	    2>"$SCRATCH/stderr")
	RC=$?
}

# qprobe QUIRK ARGS...: fetch_probe against one quirk of quirk_server.
qprobe()
{
	local q=$1 port
	shift
	port=$(awk -v q="$q" '$1 == q { print $2 }' "$SCRATCH/ports")
	OUT=$("$PROBE" --ca "$SCRATCH/pki/ca.pem" --port "${port:-1}" "$@" \
	    quirk.test 127.0.0.1 2>"$SCRATCH/stderr")
	RC=$?
}

# resolve NAME getent-DATABASE PLAN-ADDRESS: sets ADDR from the world's
# DNS; the address plan (tests/world/README.md) when it has no answer.
resolve()
{
	ADDR=$(bash "$WORLD" exec getent "$2" "$1" 2>/dev/null |
	    awk 'NR == 1 { print $1 }')
	if [ -z "$ADDR" ]; then
		echo "# $1: no answer from the world's DNS; using $3"
		ADDR=$3
	fi
}

# The quirk server's PKI: a CA and one leaf per naming case.
make_pki()
{
	local d=$SCRATCH/pki
	mkdir -p "$d"
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
	    -keyout "$d/ca.key" -out "$d/ca.pem" -days 2 \
	    -subj "/CN=fetch.sh test CA" \
	    -addext "basicConstraints=critical,CA:TRUE" \
	    -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null ||
	    return 1
	leaf leaf mta-sts.quirk.test DNS:mta-sts.quirk.test &&
	    leaf wild wild.quirk.test 'DNS:*.quirk.test' &&
	    leaf partial partial.quirk.test 'DNS:mta-*.quirk.test' &&
	    leaf deep deep.quirk.test 'DNS:*.mta-sts.quirk.test' &&
	    leaf apex quirk.test DNS:quirk.test &&
	    leaf ip mta-sts.quirk.test IP:127.0.0.1 &&
	    leaf cn mta-sts.quirk.test "" &&
	    leaf many many.quirk.test \
	    "$(printf 'DNS:name-%02d.quirk.test,' $(seq 30))DNS:mta-sts.quirk.test"
}

# leaf NAME CN SUBJECTALTNAME: a leaf from the CA ("" SAN: none).
leaf()
{
	local d=$SCRATCH/pki
	{
		printf 'basicConstraints=critical,CA:FALSE\n'
		printf 'extendedKeyUsage=serverAuth\n'
		[ -z "$3" ] || printf 'subjectAltName=%s\n' "$3"
	} >"$d/$1.ext"
	openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
	    -keyout "$d/$1.key" -out "$d/$1.csr" -subj "/CN=$2" 2>/dev/null &&
	    openssl x509 -req -in "$d/$1.csr" -CA "$d/ca.pem" \
	    -CAkey "$d/ca.key" -CAcreateserial -days 2 -out "$d/$1.pem" \
	    -extfile "$d/$1.ext" 2>/dev/null
}

start_quirks()
{
	"$QUIRK" "$SCRATCH/pki" "$SCRATCH/ports" 2>"$SCRATCH/quirk.err" &
	QUIRK_PID=$!
	for _ in $(seq 100); do
		[ -s "$SCRATCH/ports" ] && return 0
		kill -0 "$QUIRK_PID" 2>/dev/null || break
		sleep 0.05
	done
	sed 's/^/# /' "$SCRATCH/quirk.err"
	return 1
}

lines()
{
	if [ -f "$1" ]; then wc -l <"$1"; else echo 0; fi
}

# ====================================================================
# The world
# ====================================================================

bash "$WORLD" down >/dev/null 2>&1
if ! ENV=$(bash "$WORLD" up 2>"$SCRATCH/up.err"); then
	echo "Bail out! world.sh up failed"
	sed 's/^/# /' "$SCRATCH/up.err"
	exit 1
fi
eval "$ENV"
POLICIES=$WORLD_DIR/https/policies
resolve mta-sts.example.test ahostsv4 127.0.0.80
MAIN=$ADDR
resolve mta-sts.example.test ahostsv6 fd6d:7473::80
MAIN6=$ADDR
resolve mta-sts.cert-expired.test ahostsv4 127.0.0.81
REF=$ADDR

wprobe --body "$SCRATCH/example.txt" example.test "$MAIN"
expect "STS-FETCH-1/3: example.test over IPv4: 200 text/plain, chain and name good" \
    stage=done status=200 content_type=text/plain verify_error=0 \
    name_ok=1 have_cert=1 names=mta-sts.example.test address="$MAIN" \
    tls_version~'^TLSv1\.[23]$'
same "STS-FETCH-1: the body is example.test's policy, byte for byte" \
    "$SCRATCH/example.txt" "$POLICIES/example.test.txt"

wprobe --body "$SCRATCH/example6.txt" example.test "$MAIN6"
expect "STS-FETCH-1: example.test over IPv6" \
    stage=done status=200 content_type=text/plain verify_error=0 \
    name_ok=1 address="$MAIN6"
same "STS-FETCH-1: the same body over IPv6" \
    "$SCRATCH/example6.txt" "$POLICIES/example.test.txt"

wprobe --body "$SCRATCH/other.txt" other.test "$MAIN"
expect "STS-FETCH-10: other.test from the same address (SNI picks the site)" \
    stage=done status=200 content_type=text/plain verify_error=0 \
    name_ok=1 names=mta-sts.other.test
same "STS-FETCH-1: the body is other.test's policy (CRLF lines)" \
    "$SCRATCH/other.txt" "$POLICIES/other.test.txt"

wprobe EXAMPLE.Test. "$MAIN"
expect "STS-FETCH-1 T2: EXAMPLE.Test. is fetched as mta-sts.example.test" \
    stage=done status=200 name_ok=1

wprobe cert-expired.test "$REF"
expect "STS-FETCH-3: an expired certificate: error 10, and the policy is still read" \
    stage=done status=200 verify_error=10 \
    verify_msg="certificate has expired" name_ok=1 body_len~'^[1-9]'

wprobe cert-not-yet-valid.test "$REF"
expect "STS-FETCH-3: a certificate not yet valid: error 9" \
    stage=done status=200 verify_error=9 name_ok=1

wprobe cert-self-signed.test "$REF"
expect "STS-FETCH-3: a self-signed certificate: no chain to a trusted root (18)" \
    stage=done status=200 verify_error=18 name_ok=1

wprobe cert-wrong-name.test "$REF"
expect "STS-FETCH-3 T2: a certificate for another name: chain good, name_ok=0" \
    stage=done status=200 verify_error=0 name_ok=0 \
    names=wrong-name.invalid

wprobe cert-cn-only.test "$REF"
expect "STS-FETCH-4 T1: the name only in the CN: name_ok=0 (no CN fallback)" \
    stage=done status=200 verify_error=0 name_ok=0 names=-

wprobe http-404.test "$REF"
expect "STS-FETCH-7 T4: a 404 is reported as such" \
    stage=done status=404 verify_error=0 name_ok=1

wprobe http-html.test "$REF"
expect "STS-FETCH-9 T4: the policy as text/html: the media type is reported" \
    stage=done status=200 content_type=text/html

NGINX_LOG=$WORLD_DIR/log/nginx-access.log
MTASTS_LOG=$WORLD_DIR/log/mtasts-access.log
sleep 1.2 # mtasts serve writes its access log once a second
before_ref=$(lines "$NGINX_LOG")
before_main=$(lines "$MTASTS_LOG")
wprobe http-redirect.test "$REF"
expect "STS-FETCH-7 T2: a 301: status and Location recorded" \
    stage=done status=301 \
    location=https://mta-sts.example.test/.well-known/mta-sts.txt
sleep 1.2
after_ref=$(lines "$NGINX_LOG")
after_main=$(lines "$MTASTS_LOG")
[ "$((after_ref - before_ref))" -eq 1 ] && [ "$after_main" -eq "$before_main" ]
ok $? "STS-FETCH-7 T2: one request to the redirecting site, none to the Location"
[ "$after_main" -eq "$before_main" ] ||
    echo "#   mtasts access log: $before_main -> $after_main lines," \
        "nginx: $before_ref -> $after_ref"

# A hostile Location (0xFF 0xFE): escaped where it is read, so that it
# reaches JSON (RFC 8259 §8.1) and terminals as text (issue 9).
wprobe http-redirect-8bit.test "$REF"
expect "a Location of octets that are no UTF-8: recorded escaped" \
    stage=done status=301 'location=https://mta-sts.example.test/\xFF\xFE'
if [ -n "${MTASTS:-}" ]; then
	mcheck() {
		bash "$WORLD" exec "$MTASTS" check --no-smtp \
		    --resolver "$WORLD_RESOLVER" --trust-anchor "$WORLD_TA" \
		    --ca-file "$WORLD_CA" "$@" http-redirect-8bit.test \
		    2>"$SCRATCH/check.err"
	}
	mcheck --json >"$SCRATCH/check.json"
	RC=$?
	[ "$RC" -eq 1 ] && [ ! -s "$SCRATCH/check.err" ] &&
	    jq -e '(.findings | map(select(.code == "check-fetch-redirect" and
	        (.detail | endswith("301 to https://mta-sts.example.test/\\xFF\\xFE"))))
	        | length) == 1' "$SCRATCH/check.json" >/dev/null &&
	    jq -e '.errors == (.findings | map(select(.severity == "error"))
	        | length)' "$SCRATCH/check.json" >/dev/null
	ok $? "check --json: the redirect is reported, escaped, and counted once (exit $RC)"
	[ "$RC" -eq 1 ] || sed 's/^/#   /' "$SCRATCH/check.json" "$SCRATCH/check.err"
	mcheck >"$SCRATCH/check.txt"
	RC=$?
	iconv -f UTF-8 -t UTF-8 "$SCRATCH/check.txt" >/dev/null 2>&1 &&
	    ! LC_ALL=C grep -q $'[\x01-\x08\x0b-\x1f\x7f]' "$SCRATCH/check.txt" &&
	    grep -qF '301 to https://mta-sts.example.test/\xFF\xFE' \
	    "$SCRATCH/check.txt"
	ok $? "check (text): valid UTF-8, no control characters, the octets escaped (exit $RC)"
	# A finding jansson cannot encode (out of memory: json_fail.c
	# makes it so) is said on stderr and makes the exit status 2.
	if [ -n "${JSON_FAIL:-}" ]; then
		bash "$WORLD" exec env LD_PRELOAD="$JSON_FAIL" \
		    ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0" \
		    "$MTASTS" check --json --no-smtp \
		    --resolver "$WORLD_RESOLVER" --trust-anchor "$WORLD_TA" \
		    --ca-file "$WORLD_CA" http-redirect-8bit.test \
		    >"$SCRATCH/fail.json" 2>"$SCRATCH/fail.err"
		RC=$?
		[ "$RC" -eq 2 ] &&
		    grep -q 'cannot encode finding check-fetch-redirect as JSON' \
		    "$SCRATCH/fail.err" &&
		    jq -e '.domain == "http-redirect-8bit.test"' \
		    "$SCRATCH/fail.json" >/dev/null
		ok $? "check --json: a finding that cannot be encoded is said, exit 2 (exit $RC)"
		[ "$RC" -eq 2 ] || sed 's/^/#   /' "$SCRATCH/fail.err"
	fi
else
	echo "# MTASTS not set: mtasts check not run on the hostile redirect"
fi

wprobe --repeat 2 example.test "$MAIN"
sleep 1.2
[ "$RC" -eq 0 ] && [ "$(grep -c '^stage=done status=200 ' <<<"$OUT")" -eq 2 ] &&
    [ "$(lines "$MTASTS_LOG")" -eq "$((after_main + 2))" ]
ok $? "STS-FETCH-8 T4: two fetches, two requests reach the server (no HTTP cache)"

# Every event_add() of a fetch failed in turn (wrap_event.h): the
# callback still comes exactly once, from the loop, with the failure
# said.
FAIL_EVENT_ADD=0 wprobe example.test "$MAIN"
calls=$(printf '%s\n' "$OUT" | sed -n 's/^event_add_calls=//p')
if [ -n "$calls" ] && [ "$calls" -gt 0 ]; then
	bad=""
	for i in $(seq 1 "$calls"); do
		FAIL_EVENT_ADD=$i wprobe --timeout 3000 example.test "$MAIN"
		st=$(field stage)
		why=$(field why)
		# A fast server may spare this run a wait: then no call
		# failed, and the fetch must simply succeed.
		n=$(printf '%s\n' "$OUT" | sed -n 's/^event_add_calls=//p')
		if [ "$RC" -ne 0 ] || [ "$(grep -c '^stage=' <<<"$OUT")" -ne 1 ] ||
		    { [ "${n:-0}" -ge "$i" ] && [[ $why != "internal error: "* ]]; } ||
		    { [ "${n:-0}" -lt "$i" ] && [ "$st" != done ]; }; then
			bad+=" call $i: exit $RC, stage=$st, why=$why;"
		fi
	done
	[ -z "$bad" ]
	ok $? "each of the $calls event_add() calls failed: one callback, from the loop, the error said"
	[ -z "$bad" ] || echo "# $bad"
else
	echo "# no fault injection in this build (no ld --wrap)"
fi

wprobe nosuch.test "$REF"
expect "STS-FETCH-10: a name the server has no site for: TLS alert" \
    stage=tls why~'unrecognized name' have_cert=0

wprobe --repeat 20 example.test "$MAIN"
[ "$RC" -eq 0 ] &&
    [ "$(grep -c '^stage=done status=200 .* name_ok=1 ' <<<"$OUT")" -eq 20 ]
ok $? "STS-FETCH-17: 20 fetches at once on one loop, each called back once"

wprobe --port 444 example.test "$MAIN"
expect "nothing listening on the port: connect failure" \
    stage=connect why~'refused'

wprobe example.test 192.0.2.1
expect "an unreachable address fails at once, reported from the loop" \
    stage=connect why~'unreachable' 'ms<1000'

# ====================================================================
# The quirk server
# ====================================================================

if ! make_pki; then
	echo "Bail out! cannot make the quirk server's certificates"
	exit 1
fi
if ! start_quirks; then
	echo "Bail out! quirk_server did not start"
	exit 1
fi

qprobe ok
expect "quirk ok: 200, chain and name good" \
    stage=done status=200 content_type=text/plain verify_error=0 \
    name_ok=1 body_len=66

qprobe echo --body "$SCRATCH/echo.txt"
printf 'sni=mta-sts.quirk.test\r\nGET /.well-known/mta-sts.txt HTTP/1.1\r\nHost: mta-sts.quirk.test\r\nUser-Agent: mtasts-check\r\nAccept: text/plain\r\nConnection: close\r\n\r\n' \
    >"$SCRATCH/echo.want"
same "STS-FETCH-1/8/10: SNI mta-sts.quirk.test, GET of the policy path, no conditional fields" \
    "$SCRATCH/echo.txt" "$SCRATCH/echo.want"

qprobe tls11
expect "STS-FETCH-11 T3: a TLS 1.1-only server: handshake failure" \
    stage=tls tls_version=- have_cert=0

qprobe tls12
expect "STS-FETCH-11 T1: a TLS 1.2-only server: success" \
    stage=done status=200 tls_version=TLSv1.2

qprobe tls13
expect "STS-FETCH-11 T2: a TLS 1.3-only server: success" \
    stage=done status=200 tls_version=TLSv1.3

qprobe wild
expect "STS-FETCH-5 T1: DNS:*.quirk.test covers mta-sts.quirk.test" \
    stage=done name_ok=1 verify_error=0 'names=*.quirk.test'

qprobe partial
expect "STS-FETCH-5 T2: DNS:mta-*.quirk.test does not (whole-label only, A12)" \
    stage=done name_ok=0 verify_error=0

qprobe deep
expect "STS-FETCH-5 T3: DNS:*.mta-sts.quirk.test does not" \
    stage=done name_ok=0

qprobe apex
expect "STS-FETCH-3 T2: SAN only DNS:quirk.test: name_ok=0" \
    stage=done name_ok=0 names=quirk.test

qprobe ip
expect "STS-FETCH-4 T2: SAN only an IP address (CN right): name_ok=0" \
    stage=done name_ok=0 names=-

qprobe cn
expect "STS-FETCH-4 T1: no SAN, CN=mta-sts.quirk.test: name_ok=0" \
    stage=done name_ok=0 verify_error=0

OUT=$("$PROBE" --port "$(awk '$1 == "ok" { print $2 }' "$SCRATCH/ports")" \
    quirk.test 127.0.0.1 2>"$SCRATCH/stderr")
RC=$?
expect "STS-FETCH-3: a CA the store does not hold: error 20, name still judged" \
    stage=done verify_error=20 name_ok=1

qprobe many
expect "31 DNS-IDs: the list is cut short, the last one still matches" \
    stage=done name_ok=1 verify_error=0 'names~^name-01\.quirk\.test,.*,\.\.\.$'

qprobe chunked --body "$SCRATCH/chunked.txt"
expect "a chunked policy with an extension and a trailer" \
    stage=done status=200 chunked=1 body_len=66
printf 'version: STSv1\r\nmode: enforce\r\nmx: mx.quirk.test\r\nmax_age: 86400\r\n' \
    >"$SCRATCH/policy.want"
same "the chunked body decoded" "$SCRATCH/chunked.txt" "$SCRATCH/policy.want"

qprobe chunked70k --timeout 10000
expect "body cap: 70 KiB chunked, then a stall: too_large at the cap, not a timeout" \
    stage=too_large status=200 chunked=1 'ms<5000'

qprobe chunked-endless
expect "body cap: an endless chunked body stops at the cap" \
    stage=too_large chunked=1

qprobe chunk-huge --timeout 10000
expect "body cap: one chunk announced as 128 KiB is refused on its size line" \
    stage=too_large 'ms<5000'

qprobe chunked64k
expect "body cap: exactly 65536 chunked octets are allowed" \
    stage=done body_len=65536

qprobe chunked64k1
expect "body cap: 65537 chunked octets are not" stage=too_large

qprobe cl100000 --timeout 10000
expect "body cap: Content-Length: 100000 is refused at once" \
    stage=too_large status=200 why~'Content-Length 100000' 'ms<5000'

qprobe exact64k
expect "body cap: Content-Length: 65536 is allowed" \
    stage=done body_len=65536

qprobe close64k
expect "body cap: 65536 octets until close_notify are allowed" \
    stage=done body_len=65536

qprobe close64k1
expect "body cap: 65537 octets until the close are not" stage=too_large

qprobe close-endless
expect "body cap: an endless body until close stops at the cap" \
    stage=too_large

qprobe ok --max 66
expect "body cap: --max 66 holds a 66-octet policy" stage=done body_len=66

qprobe ok --max 65
expect "body cap: --max 65 does not" stage=too_large

qprobe close-notify
expect "a body until the close, ended by close_notify: done" \
    stage=done body_len=66

qprobe close-no-notify
expect "a body until the close without close_notify: truncated" \
    stage=http why~'truncated'

qprobe cl-no-notify
expect "a whole Content-Length body, then no close_notify: done" \
    stage=done body_len=66

qprobe truncated-cl
expect "fewer octets than Content-Length: truncated" \
    stage=http why~'truncated'

qprobe half-head
expect "the connection closes in the head" stage=http why~'head'

qprobe stall-tcp --timeout 1000
expect "STS-FETCH-12: no TLS handshake: timeout" \
    stage=timeout why~'handshake' 'ms<3000'

qprobe stall-response --timeout 1000
expect "STS-FETCH-12: no response: timeout" \
    stage=timeout why~'response head' 'ms<3000'

qprobe stall-head --timeout 1000
expect "STS-FETCH-12 T1: headers, then a stall: timeout after 1 s" \
    stage=timeout status=200 why~'body' 'ms<3000'

qprobe s304
expect "STS-FETCH-8 T2: a 304 is reported as such (nothing was cached)" \
    stage=done status=304 body_len=0

qprobe no-ctype
expect "STS-FETCH-9 T5: no Content-Type: reported absent" \
    stage=done status=200 ctype_present=0 content_type=-

qprobe ctype-params
expect "STS-FETCH-9 T3: Text/Plain; Charset=UTF-8 is text/plain, utf-8" \
    stage=done content_type=text/plain charset=utf-8

qprobe redirect302
expect "STS-FETCH-7 T2: a 302: status and Location, not followed" \
    stage=done status=302 location=https://elsewhere.quirk.test/p.txt

qprobe bad-version
expect "a status line of HTTP/2: malformed" stage=http

qprobe huge-head
expect "a head over 16 KiB: refused" stage=http why~'too large'

qprobe interim
expect "a 100 Continue before the 200 is skipped" \
    stage=done status=200 body_len=66

qprobe slow
expect "the response one octet per TLS record: parsed as it arrives" \
    stage=done status=200 body_len=66

qprobe ok --repeat 50
[ "$RC" -eq 0 ] && [ "$(grep -c '^stage=done status=200 ' <<<"$OUT")" -eq 50 ]
ok $? "50 fetches at once, each called back exactly once"

OUT=$("$PROBE" quirk.test not-an-address 2>"$SCRATCH/stderr")
RC=$?
[ "$RC" -eq 3 ] && [ "$OUT" = "start=failed" ]
ok $? "fetch_policy refuses a name as the address (no callback)"
OUT=$("$PROBE" 'bad domain' 127.0.0.1 2>"$SCRATCH/stderr")
RC=$?
[ "$RC" -eq 3 ] && [ "$OUT" = "start=failed" ]
ok $? "fetch_policy refuses a domain that is not a host name"

# ---- memory ----
# valgrind runs are slow and timing-sensitive: opt-in (the ASan build
# checks the same paths for leaks in every run).
if [ "${MTS_VALGRIND:-0}" = 1 ] && command -v valgrind >/dev/null 2>&1; then
	for q in ok chunked70k cl100000 close-no-notify stall-head tls11 \
	    huge-head stall-tcp; do
		port=$(awk -v q="$q" '$1 == q { print $2 }' "$SCRATCH/ports")
		valgrind -q --error-exitcode=99 --leak-check=full \
		    --errors-for-leak-kinds=definite,indirect,possible \
		    "$PROBE" --ca "$SCRATCH/pki/ca.pem" --port "$port" \
		    --timeout 1000 --repeat 3 quirk.test 127.0.0.1 \
		    >"$SCRATCH/vg.out" 2>"$SCRATCH/vg.err"
		RC=$?
		[ "$RC" -eq 0 ] && [ "$(wc -l <"$SCRATCH/vg.out")" -eq 3 ]
		ok $? "valgrind: $q, 3 fetches at once: no leak, no error"
		[ "$RC" -eq 0 ] || sed 's/^/#   /' "$SCRATCH/vg.err" | head -n 30
	done
	OUT=$(bash "$WORLD" exec valgrind -q --error-exitcode=99 \
	    --leak-check=full --errors-for-leak-kinds=definite,indirect,possible \
	    "$PROBE" --ca "$WORLD_CA" example.test 192.0.2.1 2>&1)
	ok $? "valgrind: a failure found in fetch_policy, called back from the loop"
else
	echo "# valgrind runs need MTS_VALGRIND=1 and valgrind: memory checked by the ASan build"
fi

echo "1..$N"
[ "$FAILED" -eq 0 ]
