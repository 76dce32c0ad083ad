#!/bin/bash
# SPDX-License-Identifier: ISC
#
# selftest.sh: TAP checks that the local internet of world.sh works (DNS,
# the policy servers, the Postfix MX hosts) and that `down` leaves
# nothing behind, also after an `up` that failed, was stopped by a
# signal or was killed outright.
#
# Runs a world of its own (WORLD_NS, default mtsworld-selftest), so a
# demo world can stay up meanwhile.  The main policy server is whatever
# world.sh picks (set WORLD_HTTPS and MTASTS to choose); the checks are
# the same for both.  Needs root; prints "1..0 # SKIP not root" without.
#
# shellcheck disable=SC2016 # sh -c '... "$1" ...' scripts get arguments
# shellcheck disable=SC2015 # "A && B || continue" is meant
set -uo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
WORLD=$HERE/world.sh
export WORLD_NS=${WORLD_NS:-${MTS_WORLD_PREFIX:-mtsworld}-selftest}
WORLD_RUN=${WORLD_RUN:-/run/mtasts-world}
unset WORLD_DIR WORLD_KEEP

if [ "$(id -u)" -ne 0 ]; then
	echo "1..0 # SKIP not root"
	exit 0
fi
for t in ip drill curl openssl nsd unbound ldns-signzone postfix; do
	if ! command -v "$t" >/dev/null 2>&1; then
		echo "Bail out! $t is missing" \
		    "(tests/world/README.md lists the Debian packages)"
		exit 1
	fi
done

N=0
FAILED=0
SCRATCH=$(mktemp -d "${TMPDIR:-/tmp}/mtasts-selftest.XXXXXX")
trap 'bash "$WORLD" down >/dev/null 2>&1; rm -rf "$SCRATCH"' EXIT

# check DESCRIPTION CMD...: one TAP line; the output of a failed CMD is
# shown as diagnostics.
check()
{
	local desc=$1 out
	shift
	N=$((N + 1))
	if out=$("$@" 2>&1); then
		echo "ok $N - $desc"
	else
		echo "not ok $N - $desc"
		FAILED=$((FAILED + 1))
		printf '%s\n' "$out" | tail -n 15 | sed 's/^/#   /'
	fi
}

note()
{
	printf '# %s\n' "$*"
}

wx()
{
	bash "$WORLD" exec "$@"
}

now()
{
	date +%s%N
}

# elapsed T0: seconds since T0 (from now), two decimals.
elapsed()
{
	local cs=$((($(now) - $1) / 10000000))
	printf '%d.%02d' $((cs / 100)) $((cs % 100))
}

has_vars()
{
	local v
	for v in WORLD_NS WORLD_DIR WORLD_CA WORLD_TA WORLD_RESOLVER; do
		if ! grep -q "^$v='" <<<"$ENV_OUT"; then
			echo "no $v in: $ENV_OUT"
			return 1
		fi
	done
}

# ---- DNS helpers --------------------------------------------------------

# dns NAME TYPE: drill's answer through the world's validating resolver
# (the one resolv.conf of the namespace names), DO bit set.
dns()
{
	wx drill -D "$1" "$2"
}

want_secure()
{
	local out
	out=$(dns "$1" "$2") || return 1
	printf '%s\n' "$out"
	grep -q 'rcode: NOERROR' <<<"$out" &&
	    grep -Eq '^;; flags: qr.* ad[ ;]' <<<"$out" &&
	    grep -Eq "^$1\.[[:space:]].*IN[[:space:]]+$2[[:space:]]" <<<"$out"
}

want_insecure()
{
	local out
	out=$(dns "$1" "$2") || return 1
	printf '%s\n' "$out"
	grep -q 'rcode: NOERROR' <<<"$out" &&
	    ! grep -Eq '^;; flags: qr.* ad[ ;]' <<<"$out" &&
	    grep -Eq "IN[[:space:]]+$2[[:space:]]" <<<"$out"
}

want_rcode()
{
	local out
	out=$(dns "$2" "$3") || return 1
	printf '%s\n' "$out"
	grep -q "rcode: $1," <<<"$out"
}

count_rrs()
{
	local want=$1 out n
	out=$(dns "$2" "$3") || return 1
	n=$(grep -Ec "^$2\.[[:space:]].*IN[[:space:]]+$3[[:space:]]" <<<"$out")
	echo "$n $3 records at $2 (want $want)"
	[ "$n" = "$want" ]
}

# The TLSA 3 1 1 of the DNS equals the SHA-256 of the SPKI of mx1's
# certificate, computed here independently of world.sh.
tlsa_matches()
{
	local want got
	want=$(openssl x509 -in "$WORLD_DIR/pki/mx1.example.test.pem" -noout -pubkey |
	    openssl pkey -pubin -outform DER | sha256sum | cut -d' ' -f1)
	got=$(dns _25._tcp.mx1.example.test TLSA |
	    grep -E 'IN[[:space:]]+TLSA[[:space:]]+3 1 1' |
	    awk '{print tolower($NF)}')
	echo "dns: $got cert: $want"
	[ -n "$want" ] && [ "$got" = "$want" ]
}

glibc_resolves()
{
	local out
	out=$(wx getent ahostsv4 mta-sts.example.test) || return 1
	printf '%s\n' "$out"
	grep -q '^127\.0\.0\.80 ' <<<"$out"
}

# ---- HTTPS helpers ------------------------------------------------------

# fetch URL [curl options]: prints "CODE CONTENT-TYPE", the body goes to
# $SCRATCH/body; curl's exit status is the function's.
fetch()
{
	local url=$1
	shift
	rm -f "$SCRATCH/body"
	# shellcheck disable=SC2153 # set by the eval of `world.sh env`
	wx curl -sS --max-time 5 --cacert "$WORLD_CA" -o "$SCRATCH/body" \
	    -w '%{http_code} %{content_type}\n' "$@" "$url"
}

policy_url()
{
	printf 'https://mta-sts.%s/.well-known/mta-sts.txt' "$1"
}

want_policy()
{
	local dom=$1 want=$2 out
	shift 2
	out=$(fetch "$(policy_url "$dom")" "$@") || return 1
	echo "got: $out"
	[ "$out" = "200 text/plain" ] || return 1
	cmp "$SCRATCH/body" "$want"
}

want_http()
{
	local url=$1 want=$2 out
	out=$(fetch "$url") || return 1
	echo "got: $out, want: $want"
	[[ $out == $want* ]]
}

# want_chunked DOMAIN FILE: the policy comes chunked, without a
# Content-Length, and is FILE byte for byte.
want_chunked()
{
	local h=$SCRATCH/headers
	rm -f "$h" "$SCRATCH/body"
	wx curl -sS --max-time 5 --cacert "$WORLD_CA" -D "$h" \
	    -o "$SCRATCH/body" "$(policy_url "$1")" || return 1
	tr -d '\r' <"$h"
	grep -qi '^transfer-encoding: chunked' "$h" &&
	    ! grep -qi '^content-length:' "$h" &&
	    cmp "$SCRATCH/body" "$2"
}

# want_tls_error DOMAIN TEXT: curl refuses the certificate (exit 60)
# with a message naming the reason.
want_tls_error()
{
	local out rc
	out=$(fetch "$(policy_url "$1")" 2>&1)
	rc=$?
	echo "curl exit $rc: $out"
	[ "$rc" = 60 ] && grep -qi -- "$2" <<<"$out"
}

cn_only_served()
{
	local pem=$SCRATCH/cn-only.pem
	wx sh -c 'echo | openssl s_client -connect mta-sts.cert-cn-only.test:443 \
	    -servername mta-sts.cert-cn-only.test 2>/dev/null' |
	    openssl x509 >"$pem" || return 1
	openssl x509 -in "$pem" -noout -subject -issuer -ext subjectAltName
	openssl x509 -in "$pem" -noout -subject |
	    grep -q 'CN *= *mta-sts.cert-cn-only.test' &&
	    ! openssl x509 -in "$pem" -noout -text |
	    grep -q 'Subject Alternative Name' &&
	    openssl verify -CAfile "$WORLD_CA" "$pem"
}

unknown_name_refused()
{
	local out
	if out=$(fetch https://mta-sts.unknown.test/.well-known/mta-sts.txt \
	    --resolve mta-sts.unknown.test:443:127.0.0.80 2>&1); then
		echo "unexpectedly fetched: $out"
		return 1
	fi
	echo "refused: $out"
}

# ---- SMTP helpers -------------------------------------------------------

# The SMTP side of a conversation, for the checks below: connects to
# ADDR:25 in the world, prints the greeting and the reply to each CMD
# (WAIT seconds each, 5 by default; "(no reply)" and exit 1 when none
# comes), then says QUIT.
cat >"$SCRATCH/smtp-say.sh" <<'EOF'
addr=$1
shift
exec 3<>"/dev/tcp/$addr/25" || exit 1
reply()
{
	local line
	while IFS= read -r -t "${WAIT:-5}" line <&3; do
		line=${line%$'\r'}
		printf '%s\n' "$line"
		[[ $line =~ ^[0-9]{3}- ]] || return 0
	done
	echo "(no reply)"
	return 1
}
reply || exit 1
for cmd; do
	printf '%s\r\n' "$cmd" >&3
	reply || exit 1
done
printf 'QUIT\r\n' >&3
EOF

smtp_say()
{
	wx bash "$SCRATCH/smtp-say.sh" "$@"
}

# starttls HOST ADDR [s_client options]: openssl's STARTTLS client
# (SNI = HOST) with the world CA; prints its report.
starttls()
{
	local host=$1 addr=$2
	shift 2
	[[ $addr != *:* ]] || addr="[$addr]"
	# shellcheck disable=SC2153 # set by the eval of `world.sh env`
	echo QUIT | wx timeout 10 openssl s_client -brief -starttls smtp \
	    -connect "$addr:25" -servername "$host" -CAfile "$WORLD_CA" \
	    -verify_hostname "$host" "$@" 2>&1
}

# want_verified HOST ADDR: STARTTLS works and the certificate verifies
# as an MTA-STS sender checks it: the world CA, the MX host's name.
want_verified()
{
	local out
	out=$(starttls "$1" "$2" -verify_return_error)
	printf '%s\n' "$out"
	grep -q '^Verification: OK' <<<"$out" &&
	    grep -q "^Verified peername: $1\$" <<<"$out"
}

other_verified()
{
	want_verified mx1.other.test 127.0.25.2 &&
	    want_verified mx2.other.test 127.0.25.3
}

# tls_report_has HOST ADDR REGEX [s_client options]: openssl's report
# of the handshake (verifying the certificate, refusing it on any
# error) has a line matching REGEX: the reason for a refusal.
tls_report_has()
{
	local host=$1 addr=$2 want=$3 out
	shift 3
	out=$(starttls "$host" "$addr" -verify_return_error "$@")
	printf '%s\n' "$out"
	grep -Eqi -- "$want" <<<"$out"
}

# tlsa_rrdata NAME ["U S M"]: "U S M HEX" of the first TLSA record at
# NAME (with those parameters).
tlsa_rrdata()
{
	dns "$1" TLSA | awk -v want="${2:-}" '/^[^;]/ && $4 == "TLSA" &&
	    (want == "" || $5 " " $6 " " $7 == want) {
		print $5, $6, $7, $8; exit
	    }'
}

# want_dane HOST ADDR RRDATA TEXT: openssl's DANE check with RRDATA, as
# SMTP does it (no name checks for DANE-EE, RFC 7672 §3.1.1), says TEXT.
want_dane()
{
	local out
	out=$(starttls "$1" "$2" -dane_tlsa_domain "$1" -dane_tlsa_rrdata "$3" \
	    -dane_ee_no_namechecks)
	printf '%s\n' "$out"
	grep -q -- "$4" <<<"$out"
}

ca_digest()
{
	openssl x509 -in "$WORLD_CA" -outform DER | sha256sum | cut -d' ' -f1
}

# tlsa_full_is NAME "U S" WHAT: the full (mtype 0) TLSA record at NAME
# holds the CA's certificate (WHAT cert) or SPKI (spki), in DER,
# computed here independently of world.sh.
tlsa_full_is()
{
	local got want
	got=$(tlsa_rrdata "$1" "$2 0" | awk '{ print tolower($4) }')
	if [ "$3" = cert ]; then
		want=$(openssl x509 -in "$WORLD_CA" -outform DER | od -An -v -tx1)
	else
		want=$(openssl x509 -in "$WORLD_CA" -noout -pubkey |
		    openssl pkey -pubin -outform DER | od -An -v -tx1)
	fi
	want=$(tr -d ' \n' <<<"$want")
	echo "dns: ${got:0:40}... CA $3: ${want:0:40}..."
	[ -n "$want" ] && [ "$got" = "$want" ]
}

# served_chain HOST ADDR: the certificates the MX sends, PEM.
served_chain()
{
	local addr=$2
	[[ $addr != *:* ]] || addr="[$addr]"
	echo QUIT | wx timeout 10 openssl s_client -showcerts -starttls smtp \
	    -connect "$addr:25" -servername "$1" 2>/dev/null |
	    sed -n '/-BEGIN CERTIFICATE-/,/-END CERTIFICATE-/p'
}

# chain_length HOST ADDR N: the MX sends N certificates.
chain_length()
{
	local n
	n=$(served_chain "$1" "$2" | grep -c -- '-BEGIN CERTIFICATE-')
	echo "$n certificates in the chain (want $3)"
	[ "$n" = "$3" ]
}

# want_dane_name HOST ADDR RRDATA NAME TEXT: openssl's DANE check with
# RRDATA and NAME as the reference identifier (DANE-TA checks names, RFC
# 7672 §3.2.2: the next-hop domain may be one) says TEXT.
want_dane_name()
{
	local out
	out=$(starttls "$1" "$2" -dane_tlsa_domain "$4" -dane_tlsa_rrdata "$3")
	printf '%s\n' "$out"
	grep -q -- "$5" <<<"$out"
}

# served_san HOST ADDR SAN: the certificate the MX sends has exactly
# this subjectAltName.
served_san()
{
	local got
	got=$(served_chain "$1" "$2" |
	    openssl x509 -noout -ext subjectAltName | sed -n '2s/^ *//p')
	echo "subjectAltName: $got (want $3)"
	[ "$got" = "$3" ]
}

# no_starttls ADDR: EHLO is answered, without STARTTLS.
no_starttls()
{
	local out
	out=$(smtp_say "$1" "EHLO selftest.test") || return 1
	printf '%s\n' "$out"
	grep -q '^250[ -]' <<<"$out" && ! grep -qi '^250[ -]STARTTLS' <<<"$out"
}

# reply_is ADDR REGEX CMD...: the last reply line matches REGEX.
reply_is()
{
	local addr=$1 want=$2 out
	shift 2
	out=$(smtp_say "$addr" "$@")
	printf '%s\n' "$out"
	tail -n 1 <<<"$out" | grep -Eq -- "$want"
}

# ehlo_refused ADDR: greets with 220, answers EHLO and HELO with 5xx.
ehlo_refused()
{
	reply_is "$1" '^220 ' || return 1
	reply_is "$1" '^5[0-9][0-9] ' "EHLO selftest.test" || return 1
	reply_is "$1" '^5[0-9][0-9] ' "HELO selftest.test"
}

# garbage ADDR: the greeting and the answer to EHLO are lines that are
# no SMTP reply (no three-digit code); twice, since the server must
# serve every connection.
garbage()
{
	local out
	for _ in 1 2; do
		out=$(smtp_say "$1" "EHLO selftest.test") || return 1
		printf '%s\n' "$out"
		[ "$(wc -l <<<"$out")" = 2 ] &&
		    ! grep -Eq '^[2-5][0-9][0-9]([ -]|$)' <<<"$out" || return 1
	done
}

garbage_both()
{
	garbage "$1" && garbage "$2"
}

silent()
{
	local out t0
	t0=$(now)
	if out=$(WAIT=1 smtp_say "$1"); then
		echo "it spoke: $out"
		return 1
	fi
	echo "$out after $(elapsed "$t0") s"
	[ "$out" = "(no reply)" ]
}

refused()
{
	if smtp_say "$1" >/dev/null 2>&1; then
		echo "$1:25 accepted"
		return 1
	fi
}

# postfix_all_running: `status` reports an instance for each smtp line
# of the domain files (but the garbage ones: no Postfix), each running.
postfix_all_running()
{
	local want got out
	want=$(cat "$HERE"/domains/*.domain | grep '^smtp ' |
	    grep -vc ' garbage$')
	out=$(bash "$WORLD" status)
	got=$(grep -c '^  postfix .*: running' <<<"$out")
	echo "$got of $want Postfix instances running"
	[ "$got" = "$want" ]
}

# status_has REGEX: a line of `status` matches REGEX.
status_has()
{
	local out
	out=$(bash "$WORLD" status)
	printf '%s\n' "$out"
	grep -Eq -- "$1" <<<"$out"
}

# want_mx DOMAIN "PREF HOST.": the resolver answers DOMAIN's MX RRset
# with that one record, validated (AD).
want_mx()
{
	local out got
	out=$(dns "$1" MX) || return 1
	printf '%s\n' "$out"
	got=$(grep -v '^;' <<<"$out" |
	    awk '$4 == "MX" { print $5, $6 }')
	grep -Eq '^;; flags: qr.* ad[ ;]' <<<"$out" && [ "$got" = "$2" ]
}

# soa_serial_is ZONE N: the resolver answers ZONE's SOA with serial N.
soa_serial_is()
{
	local got
	got=$(dns "$1" SOA | grep -v '^;' | awk '$4 == "SOA" { print $7 }')
	echo "serial $got (want $2)"
	[ "$got" = "$2" ]
}

# rezone_refused DIR ZONE TEXT: rezone from DIR fails and says TEXT.
rezone_refused()
{
	local out
	if out=$(WORLD_DOMAINS=$1 bash "$WORLD" rezone "$2" 2>&1); then
		echo "rezone accepted it: $out"
		return 1
	fi
	printf '%s\n' "$out"
	grep -qF -- "$3" <<<"$out"
}

postfix_logs()
{
	grep -H 'connect from' "$WORLD_DIR/log/postfix-mx1.example.test.log" |
	    tail -n 2
}

# ---- cleanliness --------------------------------------------------------

# live_pids_of INODE DIR: processes (not zombies) in the network
# namespace INODE or with DIR in their command line.
live_pids_of()
{
	local inode=$1 dir=$2 p state
	for p in /proc/[0-9]*; do
		state=$(sed -n 's/^State:[[:space:]]*\([A-Z]\).*/\1/p' \
		    "$p/status" 2>/dev/null) || continue
		[ -n "$state" ] && [ "$state" != Z ] || continue
		if [ -n "$inode" ] &&
		    [ "$(readlink "$p/ns/net" 2>/dev/null)" = "net:[$inode]" ]; then
			echo "${p#/proc/} (in the namespace)"
		elif [ -n "$dir" ] && tr '\0' ' ' <"$p/cmdline" 2>/dev/null |
		    grep -qF -- "$dir"; then
			echo "${p#/proc/} ($(tr '\0' ' ' <"$p/cmdline"))"
		fi
	done
}

# nothing_left INODE DIR: no namespace, no /etc/netns entry, no record,
# no state directory, no process.
nothing_left()
{
	local inode=$1 dir=$2 left=0 pids f
	if ip netns list | grep -q "^$WORLD_NS\( \|$\)"; then
		echo "namespace $WORLD_NS is still there"
		left=1
	fi
	for f in "/run/netns/$WORLD_NS" "/etc/netns/$WORLD_NS" \
	    "$WORLD_RUN/$WORLD_NS" "$dir"; do
		if [ -n "$f" ] && [ -e "$f" ]; then
			echo "$f is still there"
			left=1
		fi
	done
	pids=$(live_pids_of "$inode" "$dir")
	[ -z "$pids" ] || { echo "processes left: $pids"; left=1; }
	# Temporary files a server might make by default (nsd's xfrdir).
	for f in "${TMPDIR:-/tmp}"/nsd.*; do
		[ -e "$f" ] && ! grep -qxF -- "$f" "$SCRATCH/tmp-before" || continue
		echo "temporary file left: $f"
		left=1
	done
	return "$left"
}

world_dir_now()
{
	cat "$WORLD_RUN/$WORLD_NS" 2>/dev/null
}

ns_inode_now()
{
	stat -L -c %i "/run/netns/$WORLD_NS" 2>/dev/null
}

# ---- the healthy run ----------------------------------------------------

bash "$WORLD" down >/dev/null 2>&1 # a world a killed selftest left
printf '%s\n' "${TMPDIR:-/tmp}"/nsd.* >"$SCRATCH/tmp-before"
t0=$(now)
check "up" bash "$WORLD" up
T_UP=$(elapsed "$t0")
note "up took $T_UP s"
ENV_OUT=$(bash "$WORLD" env 2>&1)
set -a
eval "$ENV_OUT" 2>/dev/null
set +a
check "env prints the world's variables" has_vars
note "main policy server: ${WORLD_HTTPS:-?}"
check "env: CA, trust anchor and state exist" \
    test -s "${WORLD_CA:-/}" -a -s "${WORLD_TA:-/}" -a -d "${WORLD_DIR:-/}"
INODE=$(ns_inode_now)
check "status: every server runs" bash "$WORLD" status
check "exec passes the world's variables" wx sh -c \
    '[ "$WORLD_RESOLVER" = 127.0.0.1 ] && [ -s "$WORLD_CA" ] && [ -n "$WORLD_DIR" ]'
check "the namespace's resolv.conf names the validating resolver" \
    wx grep -q '^nameserver 127.0.0.1' /etc/resolv.conf
check "up refuses a second world of the same name" \
    sh -c '! bash "$1" up >/dev/null 2>&1' sh "$WORLD"
check "the running world survives the refused up" bash "$WORLD" status

check "dns: example.test _mta-sts TXT is secure (AD)" \
    want_secure _mta-sts.example.test TXT
check "dns: example.test TLSA is secure" \
    want_secure _25._tcp.mx1.example.test TLSA
check "dns: TLSA 3 1 1 auto matches mx1's certificate" tlsa_matches
check "dns: example.test MX is secure" want_secure example.test MX
check "dns: insecure.test answers without AD" \
    want_insecure _mta-sts.insecure.test TXT
check "dns: bogus.test (expired signatures) is SERVFAIL" \
    want_rcode SERVFAIL _mta-sts.bogus.test TXT
check "dns: bogus-ds.test (DS of no key) is SERVFAIL" \
    want_rcode SERVFAIL bogus-ds.test MX
check "dns: two-txt.test has two _mta-sts TXT records" \
    count_rrs 2 _mta-sts.two-txt.test TXT
check "dns: no-txt.test has no _mta-sts (NXDOMAIN)" \
    want_rcode NXDOMAIN _mta-sts.no-txt.test TXT
check "dns: names outside test. are NXDOMAIN at once" \
    want_rcode NXDOMAIN example.com A
check "dns: glibc (getent) resolves through resolv.conf" glibc_resolves

POL=$HERE/policies/example.test.txt
check "https: example.test policy, text/plain, byte-exact" \
    want_policy example.test "$POL"
check "https: the same over IPv6" want_policy example.test "$POL" -6
printf 'version: STSv1\r\nmode: testing\r\nmx: *.other.test\r\n%s\r\n' \
    'max_age: 604800' >"$SCRATCH/other.txt"
check "https: other.test (second SNI name, inline CRLF policy)" \
    want_policy other.test "$SCRATCH/other.txt"
check "https: a wrong path is 404" \
    want_http https://mta-sts.example.test/.well-known/mta-sts.tx 404
check "https: an unknown SNI name is refused" unknown_name_refused
check "https: expired certificate is refused" \
    want_tls_error cert-expired.test expired
check "https: not-yet-valid certificate is refused" \
    want_tls_error cert-not-yet-valid.test "not yet valid"
check "https: wrong-name certificate is refused" \
    want_tls_error cert-wrong-name.test "subject name"
check "https: self-signed certificate is refused" \
    want_tls_error cert-self-signed.test "self.signed"
check "https: cn-only certificate has no subjectAltName, from the CA" \
    cn_only_served
check "https: http-404.test has no policy" \
    want_http "$(policy_url http-404.test)" 404
check "https: http-html.test serves text/html" \
    want_http "$(policy_url http-html.test)" "200 text/html"
check "https: http-redirect.test redirects" \
    want_http "$(policy_url http-redirect.test)" 301
check "https: http chunked: the 70 KiB policy chunked, byte-exact" \
    want_chunked chk-big-chunked.test "$HERE/policies/big-70k.txt"

# The MX hosts: a Postfix each (STS-CERT-n and DANE-AUTH-n are ids of
# ../shared/conformance/rfc-checklist.md).
check "smtp: every smtp line has a running Postfix" postfix_all_running
check "smtp: mx1.example.test: STARTTLS, certificate verified (STS-CERT-3/4)" \
    want_verified mx1.example.test 127.0.25.1
check "smtp: the same over IPv6" \
    want_verified mx1.example.test fd6d:7473::25:1
RR=$(tlsa_rrdata _25._tcp.mx1.example.test)
check "smtp: DANE-EE with the TLSA record from the DNS (DANE-AUTH-3)" \
    want_dane mx1.example.test 127.0.25.1 "$RR" \
    'DANE TLSA 3 1 1 .*matched EE certificate at depth 0'
check "smtp: the chain holds the CA: DANE-TA 2 0 1 matches (DANE-AUTH-7)" \
    want_dane mx1.example.test 127.0.25.1 "2 0 1 $(ca_digest)" \
    'DANE TLSA 2 0 1 .*matched TA certificate at depth 1'
check "smtp: other.test's two MX hosts verify" other_verified
check "smtp: insecure.test: the MX's TLSA is insecure (no AD)" \
    want_insecure _25._tcp.mx.insecure.test TLSA
check "smtp: insecure.test's MX verifies" want_verified mx.insecure.test 127.0.25.4
check "smtp: no-starttls: EHLO without STARTTLS (STS-CERT-1 T1)" \
    no_starttls 127.0.25.40
check "smtp: starttls-refused: STARTTLS answered 454 (STS-CERT-1 T2)" \
    reply_is 127.0.25.41 '^454 4\.7\.0 ' "EHLO selftest.test" STARTTLS
check "smtp: old-tls: TLS 1.0 is served (openssl -tls1)" \
    tls_report_has mx1.mx-old-tls.test 127.0.25.50 '^Protocol version: TLSv1$' \
    -tls1 -cipher DEFAULT@SECLEVEL=0
check "smtp: old-tls: TLS 1.2 is not (STS-CERT-8)" \
    tls_report_has mx1.mx-old-tls.test 127.0.25.50 \
    'alert protocol version|unsupported protocol' \
    -tls1_2
check "smtp: expired certificate is refused (STS-CERT-2)" \
    tls_report_has mx1.mx-cert-expired.test 127.0.25.42 expired
check "smtp: wrong-name certificate is refused (STS-CERT-4)" \
    tls_report_has mx1.mx-cert-wrong-name.test 127.0.25.43 \
    'hostname mismatch'
check "smtp: self-signed certificate is refused (STS-CERT-3 T1)" \
    tls_report_has mx1.mx-cert-self-signed.test 127.0.25.44 'self.signed'
check "smtp: DANE-EE ignores the wrong name (DANE-AUTH-3 T1)" \
    want_dane mx1.mx-cert-wrong-name.test 127.0.25.43 \
    "$(tlsa_rrdata _25._tcp.mx1.mx-cert-wrong-name.test)" \
    '^Verification: OK'
check "smtp: tlsa-mismatch: the TLSA record matches nothing (DANE-AUTH-1)" \
    want_dane mx1.mx-tlsa-mismatch.test 127.0.25.45 \
    "$(tlsa_rrdata _25._tcp.mx1.mx-tlsa-mismatch.test)" \
    'no matching DANE TLSA records'
check "smtp: ipv6-only: no A record" \
    sh -c '! bash "$1" exec drill A mx1.mx-ipv6-only.test |
        grep -Eq "IN[[:space:]]+A[[:space:]]"' sh "$WORLD"
check "smtp: ipv6-only: the MX verifies over IPv6" \
    want_verified mx1.mx-ipv6-only.test fd6d:7473::25:46
check "smtp: silent: connects, no greeting" silent 127.0.25.47
check "smtp: banner-554: greets with 554" reply_is 127.0.25.48 '^554 '
check "smtp: mx-down: the connection is refused" refused 127.0.25.49
check "smtp: ehlo-refused: 220, then EHLO and HELO get 5xx" \
    ehlo_refused 127.0.25.51
check "smtp: garbage: the greeting is no SMTP reply, every connection" \
    garbage 127.0.25.52
check "smtp: garbage: status shows its server" \
    status_has '^  garbage-mx1\.mx-garbage\.test: running, pid [0-9]+$'
check "smtp: Postfix logs to WORLD_DIR/log" postfix_logs

# rezone: a DNS change in the running world, from a copy of the domain
# files.  example.test's MX (TTL 300) is in unbound's cache from the
# checks above: only the flush makes the new one visible at once.
mkdir -p "$SCRATCH/rezone"
cp "$HERE"/domains/*.domain "$SCRATCH/rezone/"
RZ=$SCRATCH/rezone/example.test.domain
sed -i 's/^mx 10 mx1$/mx 20 mx2/' "$RZ"
printf 'a mx2 127.0.25.1\n' >>"$RZ"
check "rezone: example.test's MX is validated (AD) before the change" \
    want_mx example.test "10 mx1.example.test."
check "rezone: example.test with another MX" \
    env WORLD_DOMAINS="$SCRATCH/rezone" bash "$WORLD" rezone example.test
check "rezone: the resolver answers the new MX at once, validated (AD)" \
    want_mx example.test "20 mx2.example.test."
check "rezone: ... and its A record" want_secure mx2.example.test A
check "rezone: the serial went from 1 to 2" soa_serial_is example.test 2
check "rezone: the zone's other records are still signed (TLSA)" \
    want_secure _25._tcp.mx1.example.test TLSA
check "rezone: a second rezone right after serves serial 3" \
    sh -c 'WORLD_DOMAINS="$2" bash "$1" rezone example.test &&
        bash "$1" exec drill SOA example.test | grep -q "hostmaster.example.test. 3 "' \
    sh "$WORLD" "$SCRATCH/rezone"
cp "$RZ" "$SCRATCH/rz-keep"
sed -i 's/^cert mx1 ok$/cert mx1 expired/' "$RZ"
check "rezone: refuses a cert change and names the line" \
    rezone_refused "$SCRATCH/rezone" example.test "> cert mx1 expired"
cp "$SCRATCH/rz-keep" "$RZ"
check "rezone: refuses a zone the world does not have" \
    rezone_refused "$SCRATCH/rezone" nosuch.test "not a zone of the world"
check "rezone: the world is still whole" bash "$WORLD" status

DIR=$WORLD_DIR
t0=$(now)
check "down" bash "$WORLD" down
T_DOWN=$(elapsed "$t0")
note "down took $T_DOWN s"
check "down left nothing behind" nothing_left "$INODE" "$DIR"
check "down again is harmless" bash "$WORLD" down
check "status of a world that is down exits 3" \
    sh -c 'bash "$1" status >/dev/null; [ $? = 3 ]' sh "$WORLD"

# ---- a world of its own: the DANE-TA variants ---------------------------

# A leaf-only MX with the world CA in full TLSA records (RFC 7671
# §5.2.2, §5.2.3) and as a digest; an MX whose certificate names the
# zone, not the host; a garbage MX on IPv4 and IPv6.
mkdir -p "$SCRATCH/variants"
cat >"$SCRATCH/variants/leaf.test.domain" <<'EOF'
zone signed
mx 10 mx1
a mx1 127.0.25.1
cert mx1 ok
smtp mx1 starttls-leaf-only
tlsa _25._tcp.mx1 2 0 0 auto
tlsa _25._tcp.mx1 2 1 0 auto
tlsa _25._tcp.mx1 2 0 1 auto
mx 20 mx2
a mx2 127.0.25.2
cert mx2 zone-name
smtp mx2
tlsa _25._tcp.mx2 2 1 0 auto
mx 30 mx3
a mx3 127.0.25.3
aaaa mx3 fd6d:7473::25:3
smtp mx3 garbage
EOF
check "variants: up" env WORLD_DOMAINS="$SCRATCH/variants" bash "$WORLD" up
set -a
eval "$(bash "$WORLD" env 2>/dev/null)"
set +a
INODE=$(ns_inode_now)
L=_25._tcp.mx1.leaf.test
check "variants: tlsa 2 0 0 auto is the CA certificate" tlsa_full_is "$L" "2 0" cert
check "variants: tlsa 2 1 0 auto is the CA's SPKI" tlsa_full_is "$L" "2 1" spki
check "variants: starttls-leaf-only sends the leaf alone" \
    chain_length mx1.leaf.test 127.0.25.1 1
check "variants: ... which verifies with the CA from the store" \
    want_verified mx1.leaf.test 127.0.25.1
check "variants: DANE-TA 2 0 0, TA not in the chain, authenticates" \
    want_dane mx1.leaf.test 127.0.25.1 "$(tlsa_rrdata "$L" "2 0 0")" \
    'DANE TLSA 2 0 0 .*matched TA certificate at depth 1'
check "variants: DANE-TA 2 1 0, TA not in the chain, authenticates" \
    want_dane mx1.leaf.test 127.0.25.1 "$(tlsa_rrdata "$L" "2 1 0")" \
    'DANE TLSA 2 1 0 .*signed the certificate at depth 0'
check "variants: DANE-TA 2 0 1, TA not in the chain, cannot" \
    want_dane mx1.leaf.test 127.0.25.1 "$(tlsa_rrdata "$L" "2 0 1")" \
    'no matching DANE TLSA records'
check "variants: zone-name: the SAN is the zone alone" \
    served_san mx2.leaf.test 127.0.25.2 DNS:leaf.test
RR=$(tlsa_rrdata _25._tcp.mx2.leaf.test)
check "variants: zone-name: DANE-TA with the next-hop domain verifies" \
    want_dane_name mx2.leaf.test 127.0.25.2 "$RR" leaf.test '^Verification: OK'
check "variants: zone-name: ... with the host name it does not" \
    want_dane_name mx2.leaf.test 127.0.25.2 "$RR" mx2.leaf.test \
    'hostname mismatch'
check "variants: garbage on IPv4 and IPv6" \
    garbage_both 127.0.25.3 fd6d:7473::25:3
DIR=$WORLD_DIR
check "variants: down" bash "$WORLD" down
check "variants: ... leaves nothing behind" nothing_left "$INODE" "$DIR"

# ---- a world without MX hosts ------------------------------------------

# No domain file has an `smtp` line: up still reports, prints the
# variables and leaves a world that down removes (up died of "SMTP:
# unbound variable" after its cleanup trap was gone, the world left up).
mkdir -p "$SCRATCH/no-smtp"
cat >"$SCRATCH/no-smtp/plain.test.domain" <<'EOF'
zone signed
mx 10 mx1
a mx1 127.0.25.1
EOF
check "no smtp lines: up" \
    sh -c 'WORLD_DOMAINS="$2" bash "$1" up >"$3" 2>"$4"' \
    sh "$WORLD" "$SCRATCH/no-smtp" "$SCRATCH/up.out" "$SCRATCH/up.err"
ENV_OUT=$(cat "$SCRATCH/up.out")
check "no smtp lines: up prints the world's variables" has_vars
check "no smtp lines: up reports no MX hosts" \
    grep -q " 0 MX hosts (0 Postfix, 0 raw)" "$SCRATCH/up.err"
DIR=$(world_dir_now)
INODE=$(ns_inode_now)
check "no smtp lines: down" bash "$WORLD" down
check "no smtp lines: ... leaves nothing behind" nothing_left "$INODE" "$DIR"

# ---- up interrupted, killed, failing ------------------------------------

# kill_up_at SIGNAL STAGE: starts up, sends SIGNAL to it (and, for KILL,
# to its whole process group) once STAGE is reached; prints the state
# directory and namespace inode it had, for nothing_left.
kill_up_at()
{
	local sig=$1 stage=$2 pid reached=0 dir="" inode=""
	setsid bash "$WORLD" up >"$SCRATCH/up.out" 2>&1 &
	pid=$!
	for _ in $(seq 200); do
		dir=$(world_dir_now)
		inode=$(ns_inode_now)
		case $stage in
		recorded) [ -z "$dir" ] || reached=1 ;;
		netns) [ -z "$inode" ] || reached=1 ;;
		nsd) [ -z "$dir" ] || [ ! -s "$dir/run/nsd.pid" ] || reached=1 ;;
		postfix)
			[ -z "$dir" ] ||
			    ! compgen -G "$dir/postfix/*/spool/pid/master.pid" \
			    >/dev/null || reached=1
			;;
		esac
		[ "$reached" = 0 ] || break
		sleep 0.01
	done
	if [ "$sig" = KILL ]; then
		kill -KILL -- "-$pid" 2>/dev/null
	else
		kill "-$sig" "$pid" 2>/dev/null
	fi
	wait "$pid" 2>/dev/null
	printf '%s %s %s\n' "$reached" "${dir:-}" "${inode:-}"
}

for stage in recorded netns nsd postfix; do
	read -r reached dir inode < <(kill_up_at KILL "$stage")
	[ "$reached" = 1 ] || note "up finished before stage $stage"
	check "up killed (SIGKILL) at stage '$stage': down cleans up" bash "$WORLD" down
	check "... and leaves nothing behind" nothing_left "$inode" "$dir"
done

read -r reached dir inode < <(kill_up_at TERM nsd)
sleep 0.2
check "up stopped by SIGTERM cleans up after itself" nothing_left "$inode" "$dir"
read -r reached dir inode < <(kill_up_at TERM postfix)
[ "$reached" = 1 ] || note "up finished before stage postfix"
sleep 0.2
check "up stopped by SIGTERM while Postfix starts cleans up" \
    nothing_left "$inode" "$dir"

# A main server that passes the checks and dies at once.
cat >"$SCRATCH/mtasts" <<'EOF'
#!/bin/sh
case "$*" in
*--help*) echo "usage: mtasts serve [-dnv] -c file"; exit 0 ;;
*" -n "*) exit 0 ;;
esac
echo "fake mtasts: dying" >&2
exit 1
EOF
chmod +x "$SCRATCH/mtasts"
# A WORLD_DIR that does not exist yet: up makes it, down must remove it.
dir=$SCRATCH/failed-world
check "up fails when the policy server dies" \
    sh -c '! WORLD_DIR="$4" WORLD_HTTPS=mtasts MTASTS="$2" bash "$1" up >"$3" 2>&1' \
    sh "$WORLD" "$SCRATCH/mtasts" "$SCRATCH/up.out" "$dir"
check "... says why" \
    grep -q "mtasts serve on 127.0.0.80:443: the server exited" "$SCRATCH/up.out"
check "... and leaves nothing behind" nothing_left "" "$dir"

# The reader of up's output goes away (`world.sh up | head -1`): the
# cleanup after the failure must not die of SIGPIPE half-way.
dir=$SCRATCH/failed-world-2
check "up failing into a closed pipe still cleans up" \
    sh -c 'WORLD_DIR="$3" WORLD_HTTPS=mtasts MTASTS="$2" bash "$1" up 2>&1 |
        head -c 1 >/dev/null' sh "$WORLD" "$SCRATCH/mtasts" "$dir"
check "... and leaves nothing behind" nothing_left "" "$dir"

mkdir -p "$SCRATCH/domains"
cp "$HERE/domains/example.test.domain" "$SCRATCH/domains/"
printf 'zone signed\nmx 10 mx1\nfrobnicate now\n' >"$SCRATCH/domains/broken.test.domain"
check "up rejects a bad domain file with file:line" \
    sh -c '! WORLD_DOMAINS="$2" bash "$1" up >"$3" 2>&1 &&
        grep -q "broken.test.domain:3: unknown directive" "$3"' \
    sh "$WORLD" "$SCRATCH/domains" "$SCRATCH/up.out"
check "... and leaves nothing behind" nothing_left "" ""
printf 'zone signed\nmx 10 mx1\na mx1 127.0.25.99\nsmtp mx1 frobnicate\n' \
    >"$SCRATCH/domains/broken.test.domain"
check "up rejects an unknown smtp mode with file:line" \
    sh -c '! WORLD_DOMAINS="$2" bash "$1" up >"$3" 2>&1 &&
        grep -q "broken.test.domain:4: smtp modes are" "$3"' \
    sh "$WORLD" "$SCRATCH/domains" "$SCRATCH/up.out"
printf 'zone signed\nmx 10 mx1\na mx1 127.0.25.1\nsmtp mx1 no-starttls\n' \
    >"$SCRATCH/domains/broken.test.domain"
check "up rejects an MX address another MX has" \
    sh -c '! WORLD_DOMAINS="$2" bash "$1" up >"$3" 2>&1 &&
        grep -Eq "127\.0\.25\.1 is mx1\.(example|broken)\.test.s too" "$3"' \
    sh "$WORLD" "$SCRATCH/domains" "$SCRATCH/up.out"
check "... and leaves nothing behind" nothing_left "" ""

echo "1..$N"
note "up $T_UP s, down $T_DOWN s, $FAILED of $N failed"
[ "$FAILED" -eq 0 ]
