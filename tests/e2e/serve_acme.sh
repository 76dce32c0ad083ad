#!/bin/bash
# SPDX-License-Identifier: ISC
#
# End-to-end tests of `mtasts serve` getting and renewing its own
# certificates (issue 13): ACME (RFC 8555) with TLS-ALPN-01 (RFC 8737)
# against Debian's pebble, a real ACME test CA, in the world
# (tests/world): pebble resolves mta-sts.acme-N.test through the world's
# validating resolver and validates on serve's own port 443; the served
# chains are checked with OpenSSL against pebble's root, fetched from its
# management interface.  Prints TAP.
#
#   serve_acme.sh MTASTS WORLD_SH
#
# Scenarios, each on a serve and a pebble of its own:
#   first     3 domains (one a domains-dir entry) get their first
#             certificate while pebble rejects a share of good nonces
#             and sleeps at random before each validation; each served
#             chain verifies and covers its name; `serve -n`, /metrics
#             and the state directory say so; a
#             ClientHello offering only acme-tls/1 when no challenge is
#             pending fails; a keep-alive connection opened before ...
#   renew     ... a reload with `acme-renew-age` renews every domain: new
#             serials served by the same server process, and that
#             connection still answers.
#   many      100 domains at once, paced by acme-rate/acme-burst: never
#             more orders than the bucket allows, all issued.
#   resume    the serve processes killed with SIGKILL while orders are in
#             flight; the next start resumes from the state directory and
#             issues every certificate.
#   http01    `acme-challenge http-01` with an acme-http-listen on port 80:
#             pebble validates over HTTP (the access log has its GETs,
#             /metrics counts http-01 answers and no tls-alpn-01 one) and
#             the chains verify; then the default beside an
#             acme-http-listen still answers tls-alpn-01 only.
#
# shellcheck disable=SC2153 # WORLD_*: from world.sh up
set -u

MTASTS=${1:?usage: serve_acme.sh MTASTS WORLD_SH}
WORLD=${2:?usage: serve_acme.sh MTASTS WORLD_SH}
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

skip() {
	echo "1..0 # SKIP $*"
	exit 0
}
[ "$(id -u)" -eq 0 ] || skip "not root: the world needs a network namespace"
for t in pebble openssl curl python3; do
	command -v "$t" >/dev/null 2>&1 || skip "$t is not installed"
done

export WORLD_NS=${MTS_WORLD_PREFIX:-mtsworld}-acme MTASTS
export WORLD_SMTP=0
unset WORLD_DIR WORLD_KEEP WORLD_POLICIES WORLD_HTTPS WORLD_SENDER
T=$(mktemp -d "${TMPDIR:-/tmp}/mtasts-acme.XXXXXX")
chmod 755 "$T"
SERVE_ADDR=127.0.0.84  # the mta-sts.acme-*.test hosts: serve under test
PEBBLE_ADDR=127.0.0.85 # pebble's ACME and management listeners
# 100 domains at once; 30 in a sanitizer build, whose stage looks for
# memory errors (the pacing is proven by the plain build's run).
if [ "${MTS_SANITIZED:-0}" = 1 ]; then
	MANY=${ACME_MANY:-30}
else
	MANY=${ACME_MANY:-100}
fi

# The domains: a signed zone each, the mta-sts host on $SERVE_ADDR, no
# policy of the world's (serve under test publishes it).
mkdir -p "$T/domains"
domain_file() { # domain_file NAME
	cat >"$T/domains/$1.domain" <<EOF
zone signed
mx 10 mx1
a mx1 127.0.29.1
a mta-sts $SERVE_ADDR
txt _mta-sts "v=STSv1; id=1;"
EOF
}
for i in 1 2 3; do
	domain_file "acme-$i.test"
done
for i in $(seq "$MANY"); do
	domain_file "many-$i.test"
done
export WORLD_DOMAINS=$T/domains

SERVE_PID=
PEBBLE_PID=
cleanup() {
	stop_serve
	stop_pebble
	bash "$WORLD" down >/dev/null 2>&1
	rm -rf "$T"
}
trap cleanup EXIT INT TERM

n=0
failed=0
ok() { # ok STATUS DESC
	n=$((n + 1))
	if [ "$1" -eq 0 ]; then
		echo "ok $n - $2"
	else
		failed=$((failed + 1))
		echo "not ok $n - $2"
	fi
}
is() { # is GOT WANT DESC
	[ "$1" = "$2" ]
	ok $? "$3"
	[ "$1" = "$2" ] || printf '#   got:  "%s"\n#   want: "%s"\n' "$1" "$2"
}
like() { # like GOT REGEX DESC
	[[ $1 =~ $2 ]]
	ok $? "$3"
	[[ $1 =~ $2 ]] || printf '#   got:  "%s"\n#   want: /%s/\n' "$1" "$2"
}
in_world() {
	bash "$WORLD" exec "$@"
}
# wait_for SECONDS CMD...: until CMD succeeds; 1 on timeout.
wait_for() {
	local end=$((SECONDS + $1))
	shift
	until "$@"; do
		[ $SECONDS -lt $end ] || return 1
		sleep 0.5
	done
}

# ---- the world and pebble's own TLS ------------------------------------

bash "$WORLD" down >/dev/null 2>&1 # a world a killed run left
if ! world_env=$(bash "$WORLD" up 2>"$T/up.log") || ! eval "$world_env"; then
	sed 's/^/# /' "$T/up.log"
	ok 1 "the world comes up with $((MANY + 3)) ACME domains"
	echo "1..$n"
	exit 1
fi
ok 0 "the world comes up with $((MANY + 3)) ACME domains"

# pebble's HTTPS certificate, from the world's CA: acme-ca-file is then
# the world's CA, as a private CA's would be.
openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
    -keyout "$T/pebble.key" -subj /CN=acme.test -out "$T/pebble.csr" \
    2>/dev/null &&
    openssl x509 -req -in "$T/pebble.csr" -CA "$WORLD_DIR/pki/ca.pem" \
	-CAkey "$WORLD_DIR/pki/ca.key" -CAcreateserial -days 2 \
	-out "$T/pebble.pem" -extfile <(printf \
	'subjectAltName=DNS:acme.test,IP:%s\n' "$PEBBLE_ADDR") 2>/dev/null
ok $? "pebble's HTTPS certificate is made by the world's CA"

# start_pebble [ENV=VALUE...]: pebble in the world, validating on ports
# 80 and 443 of the names it resolves through the world's resolver.
start_pebble() {
	cat >"$T/pebble.json" <<EOF
{"pebble": {"listenAddress": "$PEBBLE_ADDR:14000",
 "managementListenAddress": "$PEBBLE_ADDR:15000",
 "certificate": "$T/pebble.pem", "privateKey": "$T/pebble.key",
 "httpPort": 80, "tlsPort": 443, "ocspResponderURL": "",
 "externalAccountBindingRequired": false}}
EOF
	: >"$T/pebble.log"
	setsid ip netns exec "$WORLD_NS" env "$@" pebble -config \
	    "$T/pebble.json" -dnsserver 127.0.0.1:53 \
	    </dev/null >>"$T/pebble.log" 2>&1 &
	PEBBLE_PID=$!
	wait_for 20 in_world curl -sf --cacert "$WORLD_CA" -o /dev/null \
	    "https://$PEBBLE_ADDR:14000/dir" &&
	    in_world curl -sf --cacert "$WORLD_CA" -o "$T/pebble-root.pem" \
		"https://$PEBBLE_ADDR:15000/roots/0"
}
stop_pebble() {
	[ -n "$PEBBLE_PID" ] || return 0
	kill "$PEBBLE_PID" 2>/dev/null
	wait "$PEBBLE_PID" 2>/dev/null
	PEBBLE_PID=
}

# serve_conf FILE STATE_DIR EXTRA DOMAIN...: serve under test on
# $SERVE_ADDR:443, every domain with `acme yes` through the global key.
serve_conf() {
	local file=$1 state=$2 extra=$3 d
	shift 3
	{
		printf 'listen %s:443\nmetrics %s:9461\n' "$SERVE_ADDR" \
		    "$SERVE_ADDR"
		# The probe's connection outlives the renewal.
		printf 'idle-timeout 600\n'
		printf 'acme yes\nacme-directory https://%s:14000/dir\n' \
		    "$PEBBLE_ADDR"
		printf 'acme-ca-file %s\nacme-state-dir %s\n' "$WORLD_CA" "$state"
		printf 'acme-contact mailto:hostmaster@acme-1.test\n'
		printf '%b' "$extra"
		for d in "$@"; do
			printf 'domain %s {\n\tpolicy %s/%s.txt\n}\n' "$d" "$T" "$d"
			[ -f "$T/$d.txt" ] ||
			    printf 'version: STSv1\nmode: enforce\nmx: mx1.%s\nmax_age: 86400\n' \
				"$d" >"$T/$d.txt"
		done
	} >"$file"
}
start_serve() { # start_serve CONF
	: >"$T/serve.log"
	setsid ip netns exec "$WORLD_NS" "$MTASTS" serve -d -v -c "$1" \
	    </dev/null >>"$T/serve.log" 2>&1 &
	SERVE_PID=$!
}
stop_serve() {
	[ -n "$SERVE_PID" ] || return 0
	kill "$SERVE_PID" 2>/dev/null
	wait "$SERVE_PID" 2>/dev/null
	SERVE_PID=
}

# served_chain NAME: the chain `openssl s_client` gets for NAME on
# serve's port, verified against pebble's root; its leaf's serial on
# stdout, 1 when it does not verify.
served_serial() {
	local out
	out=$(in_world sh -c "openssl s_client -connect $SERVE_ADDR:443 \
	    -servername $1 -verify_hostname $1 -verify_return_error \
	    -CAfile $T/pebble-root.pem </dev/null 2>/dev/null | \
	    openssl x509 -noout -serial 2>/dev/null") || return 1
	printf '%s\n' "${out#serial=}"
}
issued() { # issued STATE_DIR DOMAIN...: every certificate file is there
	local d
	for d in "${@:2}"; do
		[ -s "$1/certs/$d.pem" ] || return 1
	done
}

# ---- first: three domains, nonces rejected, random VA sleeps -----------

STATE=$T/state-first
# acme-3.test is a domains-dir entry without a certificate of its own:
# the global `acme yes` gets it one as well.
mkdir -p "$T/ddir/acme-3.test"
printf 'version: STSv1\nmode: enforce\nmx: mx1.acme-3.test\nmax_age: 86400\n' \
    >"$T/ddir/acme-3.test/mta-sts.txt"
serve_conf "$T/first.conf" "$STATE" "domains-dir $T/ddir\n" \
    acme-1.test acme-2.test
if start_pebble PEBBLE_WFE_NONCEREJECT=30; then
	ok 0 "pebble runs in the world, rejecting 30 % of good nonces"
else
	ok 1 "pebble runs in the world, rejecting 30 % of good nonces"
	sed 's/^/# /' "$T/pebble.log"
fi

out=$(in_world "$MTASTS" serve -n -c "$T/first.conf" 2>&1)
ok $? "serve -n passes before any certificate is issued"
like "$out" "acme-1\.test.*no certificate yet" \
    "serve -n says acme-1.test has no certificate yet"

start_serve "$T/first.conf"
if wait_for 90 issued "$STATE" acme-1.test acme-2.test acme-3.test; then
	ok 0 "three domains get their first certificate from pebble"
else
	ok 1 "three domains get their first certificate from pebble"
	tail -20 "$T/serve.log" | sed 's/^/# serve: /'
	tail -20 "$T/pebble.log" | sed 's/^/# pebble: /'
fi
is "$(stat -c %a "$STATE")" 700 "the state directory is 0700"
is "$(stat -c %a "$STATE/certs/acme-1.test.pem")" 600 \
    "a certificate file (with its key) is 0600"
is "$(stat -c %a "$STATE/account.key" 2>/dev/null)" 600 \
    "the account key is 0600"
# The acme process counts the badNonce errors it retried (RFC 8555 §6.5).
nonces=$(grep -o '[0-9]* bad nonces retried' "$T/serve.log" | tail -1)
ok $((${nonces%% *} > 0 ? 0 : 1)) \
    "pebble's rejected nonces were retried (${nonces:-none})"

serials=()
for d in acme-1.test acme-2.test acme-3.test; do
	# The set is rebuilt within seconds of the file (batched reload).
	if wait_for 20 served_serial "mta-sts.$d" >/dev/null; then
		serials+=("$(served_serial "mta-sts.$d")")
		ok 0 "mta-sts.$d serves a chain that verifies against pebble's root"
	else
		serials+=("")
		ok 1 "mta-sts.$d serves a chain that verifies against pebble's root"
	fi
done
body=$(in_world curl -s --cacert "$T/pebble-root.pem" \
    https://mta-sts.acme-2.test/.well-known/mta-sts.txt)
like "$body" "mx: mx1\.acme-2\.test" \
    "curl gets acme-2.test's policy over the ACME certificate"

out=$(in_world sh -c "openssl s_client -connect $SERVE_ADDR:443 \
    -servername mta-sts.acme-1.test -alpn acme-tls/1 </dev/null 2>&1")
like "$out" "(alert|no application protocol|handshake failure)" \
    "acme-tls/1 without a pending challenge: the handshake fails"

out=$(in_world "$MTASTS" serve -n -c "$T/first.conf" 2>&1)
like "$out" "acme-1\.test.*valid until" "serve -n shows the certificate's end"
metrics=$(in_world curl -s "http://$SERVE_ADDR:9461/metrics")
like "$metrics" 'mtasts_acme_certificate_not_after_seconds\{domain="acme-1\.test"\} [0-9]{10}' \
    "/metrics has acme-1.test's certificate end"

# ---- renew: a reload with acme-renew-age renews every domain -----------

SERVER_BEFORE=$(pgrep -P "$SERVE_PID" -f -- "--process server" | head -1)
# A keep-alive connection opened now must still answer after the swap.
in_world python3 "$HERE/keepalive_probe.py" "$SERVE_ADDR" \
    mta-sts.acme-1.test "$T/pebble-root.pem" "$T/go" "$T/probe.out" &
PROBE_PID=$!
wait_for 10 grep -qs '^first 200' "$T/probe.out"
ok $? "a keep-alive connection gets acme-1.test's policy before the renewal"
serve_conf "$T/first.conf" "$STATE" \
    "domains-dir $T/ddir\nacme-renew-age 20\n" acme-1.test acme-2.test
kill -HUP "$SERVE_PID"
renewed() {
	local i=0 d s
	for d in acme-1.test acme-2.test acme-3.test; do
		s=$(served_serial "mta-sts.$d") || return 1
		[ "$s" != "${serials[$i]}" ] || return 1
		i=$((i + 1))
	done
}
if wait_for 120 renewed; then
	ok 0 "acme-renew-age 20: every domain serves a new certificate"
else
	ok 1 "acme-renew-age 20: every domain serves a new certificate"
	tail -20 "$T/serve.log" | sed 's/^/# serve: /'
fi
SERVER_AFTER=$(pgrep -P "$SERVE_PID" -f -- "--process server" | head -1)
touch "$T/go"
wait "$PROBE_PID"
is "$(sed -n 2p "$T/probe.out")" "second 200" \
    "the connection opened before the renewal still answers after it"
ok $([ -n "$SERVER_BEFORE" ] && [ "$SERVER_BEFORE" = "$SERVER_AFTER" ] &&
    echo 0 || echo 1) "the same server process serves the new certificates"
stop_serve
stop_pebble

# ---- many: $MANY domains at once, paced --------------------------------

# 80 orders in any 20 s, 60 of them at once: acme_pace_take() spaces the
# others ceil(20 / (80 - 60 + 1)) = 1 s apart, so 60 start as fast as
# the jobs go and the rest one a second, and no 20-second span has more
# than 80 (without pacing, 100 orders take about 15 s).
RATE=80 WINDOW=20 BURST=60
STATE=$T/state-many
names=()
for i in $(seq "$MANY"); do
	names+=("many-$i.test")
done
serve_conf "$T/many.conf" "$STATE" \
    "acme-rate $RATE $WINDOW\nacme-burst $BURST\n" "${names[@]}"
start_pebble PEBBLE_VA_NOSLEEP=1 PEBBLE_WFE_NONCEREJECT=0
ok $? "pebble runs again, without nonce rejections (orders counted exact)"
start_serve "$T/many.conf"
if wait_for 240 issued "$STATE" "${names[@]}"; then
	ok 0 "$MANY domains at once all get their certificates"
else
	ok 1 "$MANY domains at once all get their certificates"
	ls "$STATE/certs" | wc -l | sed 's/^/# files: /'
	tail -5 "$T/serve.log" | sed 's/^/# serve: /'
fi
orders=$(grep -c 'POST /order-plz' "$T/pebble.log")
is "$orders" "$MANY" "one new order per domain, no more"
# The busiest span of WINDOW seconds (pebble logs whole seconds, so a
# span [t, t + WINDOW - 1] lasted less than WINDOW), and the first second.
worst=$(grep 'POST /order-plz' "$T/pebble.log" | awk '{ print $3 }' |
    python3 -c '
import sys
from datetime import datetime
rate, window, burst = (int(a) for a in sys.argv[1:4])
t = sorted(datetime.strptime(l.strip(), "%H:%M:%S") for l in sys.stdin)
most = max(sum(1 for u in t if 0 <= (u - s).total_seconds() < window)
           for s in t)
first = sum(1 for u in t if u == t[0])
print("%d %d" % (most, first))
' "$RATE" "$WINDOW" "$BURST")
ok $((${worst% *} <= RATE ? 0 : 1)) \
    "no $WINDOW s span has more than $RATE orders (busiest: ${worst% *})"
ok $((${worst#* } <= BURST + 1 ? 0 : 1)) \
    "at most $BURST orders start together (first second: ${worst#* })"
spread=$(grep 'POST /order-plz' "$T/pebble.log" | awk '{ print $3 }' |
    sed -n '1p;$p' | tr '\n' ' ')
echo "# orders from $spread"
# The last certificates reach the served set with the next batched
# reload (at most one every 2 s), so the count may take a moment.
all_verified() {
	local d
	verified=0
	for d in "${names[@]}"; do
		served_serial "mta-sts.$d" >/dev/null && verified=$((verified + 1))
	done
	[ "$verified" -eq "$MANY" ]
}
wait_for 30 all_verified
is "$verified" "$MANY" "every one of the $MANY hosts serves a verified chain"
stop_serve
stop_pebble

# ---- resume: the parent killed while orders are in flight --------------

STATE=$T/state-resume
names=()
for i in $(seq 10); do
	names+=("many-$i.test")
done
serve_conf "$T/resume.conf" "$STATE" "acme-rate 100 10\nacme-burst 10\n" \
    "${names[@]}"
# pebble's random sleep before each validation keeps orders in flight.
start_pebble PEBBLE_WFE_NONCEREJECT=0
start_serve "$T/resume.conf"
wait_for 60 sh -c "ls $STATE/certs/*.order >/dev/null 2>&1"
ok $? "orders are in flight (certs/DOMAIN.order written)"
sleep 1
children=$(pgrep -P "$SERVE_PID" | tr '\n' ' ')
kill -KILL "$SERVE_PID"
wait "$SERVE_PID" 2>/dev/null
SERVE_PID=
gone() { # gone PID...: none of them runs
	local p
	for p in "$@"; do
		! kill -0 "$p" 2>/dev/null || return 1
	done
}
# shellcheck disable=SC2086 # a list of pids
wait_for 20 gone $children
ok $? "with the parent killed, its processes (${children% }) end too"
pending=()
for f in "$STATE"/certs/*.order; do
	[ -f "$f" ] || continue
	d=${f##*/}
	pending+=("${d%.order}")
done
ok $((${#pending[@]} > 0 ? 0 : 1)) \
    "the state directory keeps ${#pending[@]} orders in progress"
start_serve "$T/resume.conf"
if wait_for 120 issued "$STATE" "${names[@]}"; then
	ok 0 "the next start issues every certificate"
else
	ok 1 "the next start issues every certificate"
	tail -10 "$T/serve.log" | sed 's/^/# serve: /'
fi
resumed=0
for d in "${pending[@]}"; do
	grep -q "acme: $d: resuming the order" "$T/serve.log" &&
	    resumed=$((resumed + 1))
done
is "$resumed" "${#pending[@]}" "each order in progress is resumed, not made anew"
left=$(find "$STATE/certs" -name '*.order' | wc -l)
is "$left" 0 "no order is left in progress"
stop_serve
stop_pebble

# ---- http01: HTTP-01 first (acme-challenge), then the default ----------

# answered METRICS TYPE: mtasts_acme_challenges_answered_total of TYPE.
answered() {
	sed -n "s/^mtasts_acme_challenges_answered_total{type=\"$2\"} \([0-9]*\)\$/\1/p" \
	    <<<"$1"
}
# challenge_gets LOG: the access log's GETs of an HTTP-01 token answered
# 200 (RFC 8555 §8.3), one per line.
challenge_gets() {
	grep -s ' "GET /\.well-known/acme-challenge/[A-Za-z0-9_-]*" 200 ' "$1"
}
# http01_serve NAME STATE EXTRA DOMAIN...: a serve with acme-http-listen
# on $SERVE_ADDR:80 (pebble's httpPort) and an access log; 0 once every
# DOMAIN serves a chain that verifies against pebble's root.
http01_serve() {
	local name=$1 state=$2 extra=$3 d out
	shift 3
	serve_conf "$T/$name.conf" "$state" \
	    "acme-http-listen $SERVE_ADDR:80\naccess-log $T/$name-access.log\n$extra" \
	    "$@"
	if out=$(in_world "$MTASTS" serve -n -c "$T/$name.conf" 2>&1); then
		ok 0 "$name: serve -n accepts the configuration"
	else
		ok 1 "$name: serve -n accepts the configuration"
		printf '%s\n' "$out" | sed 's/^/# /'
	fi
	start_serve "$T/$name.conf"
	if wait_for 90 issued "$state" "$@"; then
		ok 0 "$name: every domain gets its certificate from pebble"
	else
		ok 1 "$name: every domain gets its certificate from pebble"
		tail -20 "$T/serve.log" | sed 's/^/# serve: /'
		tail -20 "$T/pebble.log" | sed 's/^/# pebble: /'
	fi
	for d in "$@"; do
		wait_for 20 served_serial "mta-sts.$d" >/dev/null
		ok $? "$name: mta-sts.$d serves a chain that verifies against pebble's root"
	done
	metrics=$(in_world curl -s "http://$SERVE_ADDR:9461/metrics")
}

# pebble offers http-01, dns-01 and tls-alpn-01 for every name: which
# one is answered is serve's choice alone.  A new state directory per
# serve is a new account, so no authorization of another is reused.
start_pebble PEBBLE_VA_NOSLEEP=1 PEBBLE_WFE_NONCEREJECT=0
ok $? "pebble runs again, offering every challenge type"

http01_serve http01 "$T/state-http01" 'acme-challenge http-01\n' \
    acme-1.test acme-2.test
got=$(answered "$metrics" http-01)
ok $((${got:-0} >= 2 ? 0 : 1)) \
    "http01: /metrics counts the http-01 answers (${got:-none}, want >= 2)"
is "$(answered "$metrics" tls-alpn-01)" 0 \
    "http01: /metrics counts no tls-alpn-01 answer"
like "$metrics" 'mtasts_acme_challenges_pending\{type="http-01"\} 0' \
    "http01: no HTTP-01 token is left installed"
# The access log is flushed once a second.
wait_for 10 challenge_gets "$T/http01-access.log" >/dev/null
ok $? "http01: the access log has pebble's GET of /.well-known/acme-challenge/"
gets=$(challenge_gets "$T/http01-access.log" | grep -c -e 'mta-sts\.acme-1\.test' -e 'mta-sts\.acme-2\.test')
ok $((gets >= 2 ? 0 : 1)) \
    "http01: those GETs name both mta-sts hosts ($gets)"
body=$(in_world curl -s --cacert "$T/pebble-root.pem" \
    https://mta-sts.acme-1.test/.well-known/mta-sts.txt)
like "$body" "mx: mx1\.acme-1\.test" \
    "http01: curl gets acme-1.test's policy over the certificate HTTP-01 got"
stop_serve

# The default with a listener beside it: tls-alpn-01 still first.
http01_serve alpn "$T/state-alpn" "" acme-3.test
got=$(answered "$metrics" tls-alpn-01)
ok $((${got:-0} >= 1 ? 0 : 1)) \
    "alpn: /metrics counts the tls-alpn-01 answer (${got:-none})"
is "$(answered "$metrics" http-01)" 0 \
    "alpn: /metrics counts no http-01 answer despite the acme-http-listen"
sleep 1.5 # the access log's flush
got=$(challenge_gets "$T/alpn-access.log" | wc -l)
is "$got" 0 "alpn: no GET of /.well-known/acme-challenge/ in the access log"
stop_serve
stop_pebble

echo "1..$n"
[ "$failed" -eq 0 ]
