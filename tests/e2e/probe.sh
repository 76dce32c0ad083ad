#!/bin/bash
# SPDX-License-Identifier: ISC
#
# End-to-end tests of the MX probe (src/check/probe.c) against the
# receiving Postfix instances of the local internet (tests/world):
# mx_probe runs inside the world's namespace and prints its result as
# key=value lines, which are checked here.
#
# Covered: a healthy MX over IPv4 and IPv6 (Web PKI and DANE-EE with the
# TLSA record the DNS publishes), DANE-TA with the world CA, TLSA
# records that do not match, unusable ones, PKIX usages (not used for
# SMTP), an MX without STARTTLS, one that refuses it with 454, one with
# TLS 1.0 only (the handshake fails), expired,
# wrong-name and self-signed certificates (where DANE-EE still
# authenticates), a 554 greeting, a refused connection, a server that
# never speaks (the deadline), bad arguments; against quirk_server on
# 127.0.0.1 (outside the world), a reset and a close in answer to EHLO
# and a greeting trickled too slowly; every event_add() of a probe
# failed in turn (where the build injects faults: wrap_event.h); memory
# under valgrind when it is there.  Test names cite the checklist ids of
# ../shared/conformance/rfc-checklist.md.  Prints TAP; needs root
# ("1..0 # SKIP not root" otherwise).
#
#   probe.sh MX_PROBE WORLD_SH QUIRK_SERVER
#
# shellcheck disable=SC2016 # sh -c '... "$1" ...' scripts get arguments
set -uo pipefail

PROBE=${1:?usage: probe.sh MX_PROBE WORLD_SH QUIRK_SERVER}
WORLD=${2:?usage: probe.sh MX_PROBE WORLD_SH QUIRK_SERVER}
QUIRK=${3:?usage: probe.sh MX_PROBE WORLD_SH QUIRK_SERVER}
export WORLD_NS=${MTS_WORLD_PREFIX:-mtsworld}-probe
unset WORLD_DIR WORLD_KEEP

if [ "$(id -u)" -ne 0 ]; then
	echo "1..0 # SKIP not root"
	exit 0
fi
for t in ip nsd unbound ldns-signzone drill openssl postfix; do
	if ! command -v "$t" >/dev/null 2>&1; then
		echo "1..0 # SKIP $t not installed (see tests/world/README.md)"
		exit 0
	fi
done

N=0
FAILED=0
QUIRK_PID=""
SCRATCH=$(mktemp -d "${TMPDIR:-/tmp}/mtasts-probe.XXXXXX")
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

note()
{
	printf '# %s\n' "$*"
}

# probe ARGS...: runs mx_probe in the world with the world's CA; its
# output in OUT, its exit status in RC, the milliseconds it took in MS.
probe()
{
	local t0
	t0=$(date +%s%N)
	# shellcheck disable=SC2153 # WORLD_CA: from the eval of `up` below
	OUT=$(bash "$WORLD" exec "$PROBE" --ca "$WORLD_CA" "$@" \
	    2>"$SCRATCH/stderr")
	RC=$?
	MS=$((($(date +%s%N) - t0) / 1000000))
}

# qprobe QUIRK ARGS...: mx_probe outside the world against one SMTP
# quirk of quirk_server on 127.0.0.1; as probe() sets OUT, RC and MS.
qprobe()
{
	local q=$1 port t0
	shift
	port=$(awk -v q="$q" '$1 == q { print $2 }' "$SCRATCH/ports")
	t0=$(date +%s%N)
	OUT=$("$PROBE" --port "${port:-1}" "$@" mx.quirk.test 127.0.0.1 \
	    2>"$SCRATCH/stderr")
	RC=$?
	MS=$((($(date +%s%N) - t0) / 1000000))
}

# want DESCRIPTION KEY=VALUE...: every KEY of the last probe has VALUE
# (VALUE an extended regular expression matched against the whole
# value); the callback ran exactly once (callbacks=1, exit 0).
want()
{
	local desc=$1 kv key val got bad=""
	shift
	for kv in "$@" callbacks=1; do
		key=${kv%%=*}
		val=${kv#*=}
		got=$(printf '%s\n' "$OUT" | sed -n "s/^$key=//p" | head -n 1)
		if ! grep -Eqx -- "$val" <<<"$got"; then
			bad+="$key: want '$val', got '$got'"$'\n'
		fi
	done
	[ "$RC" -eq 0 ] || bad+="exit status $RC"$'\n'
	if [ -z "$bad" ]; then
		ok 0 "$desc"
	else
		ok 1 "$desc"
		printf '%s' "$bad" | sed 's/^/#   /'
		printf '%s\n' "$OUT" | sed 's/^/#   | /'
		sed 's/^/#   stderr: /' "$SCRATCH/stderr"
	fi
}

# tlsa NAME: "U S M HEX" of the first TLSA record the world's DNS has
# at NAME (as a sender would get it).
tlsa()
{
	bash "$WORLD" exec drill -D "$1" TLSA |
	    awk '/^[^;]/ && $4 == "TLSA" { print $5, $6, $7, $8; exit }'
}

# digest of the DER of a certificate (selector 0) or of its key (1).
cert_sha256()
{
	openssl x509 -in "$1" -outform DER | sha256sum | cut -d' ' -f1
}

spki_sha256()
{
	openssl x509 -in "$1" -noout -pubkey |
	    openssl pkey -pubin -outform DER | sha256sum | cut -d' ' -f1
}

# ---- the world ----------------------------------------------------------

bash "$WORLD" down >/dev/null 2>&1
t0=$(date +%s%N)
if ! ENV=$(bash "$WORLD" up 2>"$SCRATCH/up.err"); then
	echo "Bail out! world.sh up failed"
	sed 's/^/# /' "$SCRATCH/up.err"
	exit 1
fi
note "world up in $((($(date +%s%N) - t0) / 1000000)) ms"
eval "$ENV"
PKI=$WORLD_DIR/pki
MX1=mx1.example.test
RR_MX1=$(tlsa "_25._tcp.$MX1")
CA_201="2 0 1 $(cert_sha256 "$WORLD_CA")"
CA_211="2 1 1 $(openssl x509 -in "$WORLD_CA" -noout -pubkey |
    openssl pkey -pubin -outform DER | sha256sum | cut -d' ' -f1)"
MX1_311="3 1 1 $(spki_sha256 "$PKI/$MX1.pem")"
WRONG_311="3 1 1 $(printf 'no such key' | sha256sum | cut -d' ' -f1)"
NOW=$(date +%s)
[ -n "$RR_MX1" ] || note "no TLSA record for $MX1 in the DNS"

# ---- a healthy MX -------------------------------------------------------

probe --tlsa "$RR_MX1" "$MX1" 127.0.25.1
want "healthy MX: banner, EHLO, STARTTLS, TLS 1.2+ (STS-CERT-1, STS-CERT-8)" \
    stage=done why= banner_code=220 banner_host="$MX1" \
    'tls_version=TLSv1\.[23]' have_cert=1
want "healthy MX: chain to the world CA, DNS-ID matches (STS-CERT-3, STS-CERT-4)" \
    verify_error=0 verify_msg=ok name_ok=1 subject_names="$MX1"
want "healthy MX: DANE-EE 3 1 1 from the DNS matches the leaf (DANE-AUTH-3)" \
    dane_checked=1 dane_ok=1 dane_usage=3 dane_depth=0 dane_msg=
want "healthy MX: the chain presented, leaf and CA (DANE-AUTH-21)" \
    chain_count=2
na=$(printf '%s\n' "$OUT" | sed -n 's/^not_after=//p')
[ "${na:-0}" -gt "$NOW" ] 2>/dev/null
ok $? "healthy MX: not_after is the leaf's, in the future (STS-CERT-2)"

probe --tlsa "$RR_MX1" "$MX1" fd6d:7473::25:1
want "healthy MX over IPv6: the same" stage=done verify_error=0 name_ok=1 \
    dane_ok=1 dane_usage=3 address=fd6d:7473::25:1
probe "$MX1." 127.0.25.1
want "an MX name with a final dot: SNI and the name check without it" \
    stage=done name_ok=1 dane_checked=0
probe "$MX1" 127.0.25.1
want "no TLSA records: no DANE verdict, Web PKI still judged" \
    stage=done verify_error=0 dane_checked=0 dane_ok=0 dane_usage=-1 \
    dane_depth=-1
probe --tlsa "$MX1_311" "$MX1" 127.0.25.1
want "TLSA computed here from the certificate agrees with the DNS's" \
    dane_ok=1 dane_usage=3 dane_depth=0

# ---- DANE record sets ---------------------------------------------------

probe --tlsa "$WRONG_311" "$MX1" 127.0.25.1
want "a TLSA record that matches nothing: DANE fails (DANE-AUTH-1)" \
    stage=done dane_checked=1 dane_ok=0 dane_usage=-1 dane_depth=-1 \
    'dane_msg=.*[Nn]o matching DANE TLSA.*' verify_error=0
probe --tlsa "$(tlsa _25._tcp.mx1.mx-tlsa-mismatch.test)" \
    mx1.mx-tlsa-mismatch.test 127.0.25.45
want "the world's mismatching TLSA (mx-tlsa-mismatch.test) fails (DANE-AUTH-1)" \
    stage=done dane_checked=1 dane_ok=0 verify_error=0 name_ok=1
probe --tlsa "$WRONG_311" --tlsa "$RR_MX1" "$MX1" 127.0.25.1
want "one matching record among others is enough (DANE-AUTH-2)" \
    dane_ok=1 dane_usage=3
probe --tlsa "$CA_201" "$MX1" 127.0.25.1
want "DANE-TA 2 0 1 of the world CA in the chain matches at depth 1 (DANE-AUTH-7)" \
    stage=done dane_checked=1 dane_ok=1 dane_usage=2 dane_depth=1
probe --tlsa "$CA_211" "$MX1" 127.0.25.1
want "DANE-TA 2 1 1 of the CA's key matches at depth 1 (DANE-AUTH-7)" \
    dane_ok=1 dane_usage=2 dane_depth=1
probe --tlsa "1 1 1 ${MX1_311#3 1 1 }" "$MX1" 127.0.25.1
want "PKIX-EE 1 1 1 only: unusable for SMTP, no DANE check (DANE-UNUS-5 T1)" \
    stage=done dane_checked=0 verify_error=0
probe --tlsa "$WRONG_311" --tlsa "1 1 1 ${MX1_311#3 1 1 }" "$MX1" 127.0.25.1
want "a PKIX-EE match does not count for SMTP (DANE-UNUS-5 T3)" \
    dane_checked=1 dane_ok=0
probe --tlsa "3 1 1 ${MX1_311:6:62}" "$MX1" 127.0.25.1
want "a 31-octet SHA-256 digest is unusable: no DANE check (DANE-UNUS-1)" \
    dane_checked=0
probe --tlsa "3 1 1 ${MX1_311:6:62}" --tlsa "$RR_MX1" "$MX1" 127.0.25.1
want "unusable records are dropped, usable ones used (DANE-UNUS-3 T1)" \
    dane_checked=1 dane_ok=1

# ---- broken MX hosts ----------------------------------------------------

probe mx1.mx-no-starttls.test 127.0.25.40
want "no STARTTLS in the EHLO reply: stage no-starttls (STS-CERT-1 T1)" \
    stage=no-starttls banner_code=220 banner_host=mx1.mx-no-starttls.test \
    'why=.*STARTTLS.*' have_cert=0 verify_error=1
probe mx1.mx-starttls-refused.test 127.0.25.41
want "STARTTLS answered 454: stage starttls-refused with the reply (STS-CERT-1 T2)" \
    stage=starttls-refused 'why=454 4\.7\.0 TLS not available.*'

probe mx1.mx-old-tls.test 127.0.25.50
want "an MX with TLS 1.0 only: the handshake fails (STS-CERT-8)" \
    stage=tls 'why=TLS handshake: .*(protocol version|unsupported protocol).*' \
    have_cert=0

X=mx1.mx-cert-expired.test
probe --tlsa "$(tlsa "_25._tcp.$X")" "$X" 127.0.25.42
want "expired certificate: verify_error 10 (STS-CERT-2)" \
    stage=done verify_error=10 'verify_msg=certificate has expired' name_ok=1
want "expired certificate: DANE-EE ignores expiry (DANE-AUTH-4)" \
    dane_ok=1 dane_usage=3 dane_depth=0
probe --tlsa "$CA_201" "$X" 127.0.25.42
want "expired certificate under DANE-TA: fails (DANE-AUTH-8 T1)" \
    dane_checked=1 dane_ok=0 'dane_msg=certificate has expired'

X=mx1.mx-cert-wrong-name.test
probe --tlsa "$(tlsa "_25._tcp.$X")" "$X" 127.0.25.43
want "wrong-name certificate: chain fine, name_ok=0 (STS-CERT-4)" \
    stage=done verify_error=0 name_ok=0 subject_names=wrong-name.invalid
want "wrong-name certificate: DANE-EE does no name check (DANE-AUTH-3 T1)" \
    dane_ok=1 dane_usage=3 dane_depth=0
probe --tlsa "$CA_201" "$X" 127.0.25.43
want "wrong-name certificate under DANE-TA: the name is checked (DANE-AUTH-12)" \
    dane_checked=1 dane_ok=0

X=mx1.mx-cert-self-signed.test
probe --tlsa "$(tlsa "_25._tcp.$X")" "$X" 127.0.25.44
want "self-signed certificate: verify_error 18 (STS-CERT-3 T1)" \
    stage=done verify_error=18 name_ok=1 chain_count=1
want "self-signed certificate: DANE-EE authenticates it (DANE-AUTH-3 T2)" \
    dane_ok=1 dane_usage=3

X=mx1.mx-ipv6-only.test
probe --tlsa "$(tlsa "_25._tcp.$X")" "$X" fd6d:7473::25:46
want "IPv6-only MX: verified both ways" stage=done verify_error=0 \
    name_ok=1 dane_ok=1

# SNI: DANE sends the TLSA base domain; a server that picks its
# certificate by SNI (tls_server_sni_maps) shows what a client without
# SNI gets (RFC 7672 §8.1).
X=mx1.dane-sni-required.test
probe --tlsa "$(tlsa "_25._tcp.$X")" "$X" 127.0.25.78
want "SNI names the host: its own certificate, DANE-EE matches (DANE-AUTH-14 T1)" \
    stage=done subject_names="$X" dane_ok=1
probe --tlsa "$(tlsa "_25._tcp.$X")" --no-sni "$X" 127.0.25.78
want "no SNI, though DANE sets one by default: the fallback, no match (DANE-AUTH-23)" \
    stage=done subject_names=no-sni.invalid dane_ok=0
probe --tlsa "$(tlsa "_25._tcp.$X")" --dane-base other.invalid "$X" 127.0.25.78
want "SNI is the DANE base domain when given (DANE-AUTH-14 T2)" \
    stage=done subject_names=no-sni.invalid dane_ok=0

probe mx1.mx-banner-554.test 127.0.25.48
want "a 554 greeting: stage banner with the reply (RFC 5321 §3.1)" \
    stage=banner banner_code=554 banner_host= 'why=554 5\.7\.1 .*'

# ---- connections --------------------------------------------------------

probe mx1.mx-down.test 127.0.25.49
want "nothing listens: stage connect, refused at once" \
    stage=connect 'why=connect: Connection refused'
probe --port 26 "$MX1" 127.0.25.1
want "--port: another port, refused" stage=connect
probe --timeout 1000 mx1.mx-silent.test 127.0.25.47
want "a server that never greets: stage timeout after --timeout" \
    stage=timeout 'why=no progress within 1000 ms .*greeting.*'
[ "$MS" -ge 900 ] && [ "$MS" -lt 5000 ]
ok $? "... after about a second (took $MS ms)"

# ---- servers no Postfix imitates (quirk_server) -------------------------

"$QUIRK" - "$SCRATCH/ports" 2>"$SCRATCH/quirk.err" &
QUIRK_PID=$!
for _ in $(seq 50); do
	[ -s "$SCRATCH/ports" ] && break
	sleep 0.1
done
[ -s "$SCRATCH/ports" ]
ok $? "quirk_server listens (SMTP quirks only)"

# A reset is no refusal: RFC 5321 §3.8 has a server refuse in words.
qprobe smtp-reset --timeout 5000
want "a reset after the greeting: said so, not an EHLO refusal" \
    stage=connect banner_code=220 \
    'why=the connection was reset by the MX host after its greeting, in answer to EHLO'
qprobe smtp-close --timeout 5000
want "a close after the greeting: said so, not an EHLO refusal" \
    stage=connect banner_code=220 \
    'why=the MX host closed the connection after its greeting, in answer to EHLO'
# 8 octets of the greeting in 1.5 s: not silence, and not progress
# enough to finish before the deadline.
qprobe smtp-trickle --timeout 1500
want "a greeting trickled an octet at a time: the octets and the time said" \
    stage=timeout \
    'why=the MX host sent [0-9]+ octets in 1\.[0-9]{3} s, too slowly to finish before the timeout of 1500 ms \(waiting for the greeting\)'
[ "$MS" -ge 1400 ] && [ "$MS" -lt 4000 ]
ok $? "... at the deadline, not at the end of the trickle (took $MS ms)"

# ---- libevent failures --------------------------------------------------

# Every event_add() of a probe failed in turn (wrap_event.h): the
# callback still comes exactly once, with the failure said (or the
# result already known, when the failed wait was the QUIT's).
export FAIL_EVENT_ADD=0
probe --timeout 3000 --tlsa "$RR_MX1" "$MX1" 127.0.25.1
unset FAIL_EVENT_ADD
calls=$(printf '%s\n' "$OUT" | sed -n 's/^event_add_calls=//p')
if [ -n "$calls" ] && [ "$calls" -gt 0 ]; then
	bad=""
	for i in $(seq 1 "$calls"); do
		export FAIL_EVENT_ADD=$i
		probe --timeout 3000 --tlsa "$RR_MX1" "$MX1" 127.0.25.1
		unset FAIL_EVENT_ADD
		c=$(printf '%s\n' "$OUT" | sed -n 's/^callbacks=//p')
		st=$(printf '%s\n' "$OUT" | sed -n 's/^stage=//p')
		why=$(printf '%s\n' "$OUT" | sed -n 's/^why=//p')
		if [ "$RC" -ne 0 ] || [ "$c" != 1 ] ||
		    { [ "$st" != done ] &&
		    [[ $why != "internal error: cannot wait for the socket"* ]]; }; then
			bad+=" call $i: exit $RC, callbacks=$c, stage=$st, why=$why;"
		fi
	done
	[ -z "$bad" ]
	ok $? "each of the $calls event_add() calls failed: one callback, the error said"
	[ -z "$bad" ] || note "$bad"
else
	note "no fault injection in this build (no ld --wrap)"
fi

probe "$MX1" not-an-address
[ "$RC" -ne 0 ] && grep -qx 'start=failed' <<<"$OUT"
ok $? "a non-numeric address: nothing started, no callback"
probe "$MX1" 127.0.0.1.2
[ "$RC" -ne 0 ] && grep -qx 'start=failed' <<<"$OUT"
ok $? "an address inet_aton would stretch (127.0.0.1.2): refused"
probe "bad name" 127.0.25.1
[ "$RC" -ne 0 ] && grep -qx 'start=failed' <<<"$OUT"
ok $? "an MX name with a blank (no SNI or EHLO injection): refused"
probe --helo $'x\r\nRSET' "$MX1" 127.0.25.1
[ "$RC" -ne 0 ] && grep -qx 'start=failed' <<<"$OUT"
ok $? "an EHLO name with CRLF: refused"

# ---- memory -------------------------------------------------------------

# valgrind runs are slow and timing-sensitive: opt-in (the ASan build
# checks the same paths for leaks in every run).
if [ "${MTS_VALGRIND:-0}" = 1 ] && command -v valgrind >/dev/null 2>&1; then
	for args in "--tlsa|$RR_MX1|$MX1|127.0.25.1" \
	    "--tlsa|$WRONG_311|$MX1|127.0.25.1" \
	    "mx1.mx-no-starttls.test|127.0.25.40" \
	    "mx1.mx-starttls-refused.test|127.0.25.41" \
	    "--timeout|500|mx1.mx-silent.test|127.0.25.47" \
	    "mx1.mx-down.test|127.0.25.49"; do
		IFS='|' read -r -a argv <<<"$args"
		bash "$WORLD" exec valgrind -q --leak-check=full \
		    --errors-for-leak-kinds=definite,indirect --error-exitcode=99 \
		    "$PROBE" --ca "$WORLD_CA" "${argv[@]}" \
		    >"$SCRATCH/vg.out" 2>"$SCRATCH/vg.err"
		rc=$?
		ok "$([ "$rc" = 0 ] && echo 0 || echo 1)" \
		    "valgrind: no leak or error: mx_probe ${argv[*]}"
		[ "$rc" = 0 ] || sed 's/^/#   /' "$SCRATCH/vg.err" | tail -n 30
	done
else
	note "valgrind not installed: memory not checked"
fi

echo "1..$N"
note "$FAILED of $N failed"
[ "$FAILED" -eq 0 ]
