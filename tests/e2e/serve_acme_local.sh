#!/bin/bash
# SPDX-License-Identifier: ISC
#
# End-to-end tests of the parent's and the server's side of ACME in
# `mtasts serve` (issue 13), on loopback, without a CA: the ACME domains'
# certificates are put in the state directory by hand (openssl: the key,
# then the chain, in certs/DOMAIN.pem, 0600), as the acme process
# writes them.  Prints TAP.
#
#   serve_acme_local.sh MTASTS
#
# What it shows: `serve -n` accepts ACME domains without a certificate,
# leaves out one still waiting for its first certificate and one whose
# file is unusable (one warning each) and prints each ACME domain's
# certificate state; the server serves the ACME domains (a domain block
# with `acme yes`, a domains-dir entry under the global `acme yes`) with
# their state directory pairs, and a domain with its own certificate as
# before; a domain without its file gets no handshake; a reload after
# its file appears serves it; the HTTP-01 listener answers 404 to an
# unknown token and to any other path; a ClientHello offering
# acme-tls/1 for a name without a challenge fails with
# no_application_protocol while the same name without ALPN is served;
# /metrics has the ACME counters.
set -u

MTASTS=${1:?usage: serve_acme_local.sh MTASTS}
for tool in curl openssl; do
	if ! command -v $tool >/dev/null; then
		echo "1..0 # SKIP $tool not installed"
		exit 0
	fi
done

T=$(mktemp -d "${TMPDIR:-/tmp}/mtasts-acme.XXXXXX")
chmod 755 "$T"
PID=
cleanup() {
	[ -n "$PID" ] && kill "$PID" 2>/dev/null && wait "$PID" 2>/dev/null
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
is() { # is GOT WANT NAME
	[ "$1" = "$2" ]
	local r=$?
	ok $r "$3"
	[ $r -eq 0 ] || echo "# got '$1', want '$2'"
}

PORT=$((30000 + ($$ % 10000) * 3))
MPORT=$((PORT + 1))
HPORT=$((PORT + 2))

# ---- test PKI: a CA and the leaves ----
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
    -keyout "$T/ca.key" -out "$T/ca.pem" -days 2 -subj "/CN=mtasts test CA" \
    -addext "basicConstraints=critical,CA:TRUE" \
    -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null
leaf() { # leaf NAME FILE-PREFIX
	openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
	    -keyout "$2.key" -out "$2.csr" -subj "/CN=$1" 2>/dev/null &&
	    openssl x509 -req -in "$2.csr" -CA "$T/ca.pem" -CAkey "$T/ca.key" \
		-CAcreateserial -days 2 -out "$2.pem" -extfile <(printf \
		'subjectAltName=DNS:%s\nextendedKeyUsage=serverAuth\n' "$1") \
		2>/dev/null
}
# state FILE-PREFIX DOMAIN: the acme process's file, key then chain.
state() {
	cat "$1.key" "$1.pem" "$T/ca.pem" >"$T/acme/certs/$2.pem"
	chmod 600 "$T/acme/certs/$2.pem"
}
mkdir -p "$T/acme/certs" "$T/dir/d.test"
for d in a b c d e; do
	leaf "mta-sts.$d.test" "$T/$d"
	printf 'version: STSv1\nmode: enforce\nmx: mx.%s.test\nmax_age: 86400\n' \
	    "$d" >"$T/$d.txt"
done
chmod 600 "$T"/*.key
cp "$T/d.txt" "$T/dir/d.test/mta-sts.txt"
state "$T/a" a.test
state "$T/d" d.test
# e.test: a chain without its key
cp "$T/e.pem" "$T/acme/certs/e.test.pem"
chmod 600 "$T/acme/certs/e.test.pem"
# a.test's state, as the acme process writes it (acme_msg.h STATE)
printf 'STATE a.test 1900000000 1890000000 2 11\nrateLimited' \
    >"$T/acme/certs/a.test.state"

cat >"$T/mtasts.conf" <<EOF
listen 127.0.0.1:$PORT
metrics 127.0.0.1:$MPORT
acme yes
acme-directory https://127.0.0.1:9/directory
acme-contact mailto:hostmaster@a.test
acme-state-dir $T/acme
acme-http-listen 127.0.0.1:$HPORT
domains-dir $T/dir
domain a.test {
	policy $T/a.txt
}
domain b.test {
	policy $T/b.txt
	certificate $T/b.pem
	key $T/b.key
}
domain c.test {
	policy $T/c.txt
}
domain e.test {
	policy $T/e.txt
	acme yes
}
EOF

# ---- serve -n ----
"$MTASTS" serve -n -c "$T/mtasts.conf" >"$T/n.out" 2>"$T/n.err"
ok $? "serve -n accepts ACME domains without a certificate or a default"
grep -q "configuration OK, 3 domains" "$T/n.out"
ok $? "serve -n: a.test, b.test and d.test; c.test and e.test left out"
grep -q "c.test: waiting for its first ACME certificate" "$T/n.err"
ok $? "serve -n: c.test is waiting for its first certificate"
grep -q "e.test: unusable ACME certificate file .*e.test.pem" "$T/n.err"
ok $? "serve -n: e.test's file is unusable, and says why"
grep -Eq "^acme a.test: certificate valid until 20[0-9-]+T[0-9:]+Z, next renewal 2029-11-22T[0-9:]+Z, failures 2, last error rateLimited$" \
    "$T/n.out"
ok $? "serve -n: a.test's notAfter, next renewal, failures, last error"
grep -Eq "^acme c.test: no certificate yet, next renewal unknown, failures 0, last error none$" \
    "$T/n.out"
ok $? "serve -n: c.test has no certificate yet"
grep -q "^acme d.test: certificate valid until" "$T/n.out"
ok $? "serve -n: the domains-dir entry d.test uses ACME (global acme yes)"
grep -q "^acme b.test" "$T/n.out"
is $? 1 "serve -n: b.test, with its own certificate, is no ACME domain"
sed 's/^acme yes$/acme no/' "$T/mtasts.conf" >"$T/noacme.conf"
"$MTASTS" serve -n -c "$T/noacme.conf" >/dev/null 2>"$T/n.err"
is $? 1 "serve -n: acme no: a domain without a certificate is refused"
grep -q "domain a.test: no certificate and key, and no default ones" \
    "$T/n.err"
ok $? "and says which"

# ---- the server ----
start() { # start CONF LOG: the server in $PID; 0 once its metrics answer
	"$MTASTS" serve -d -c "$1" 2>"$2" &
	PID=$!
	for _ in $(seq 50); do
		curl -s -o /dev/null --max-time 1 \
		    "http://127.0.0.1:$MPORT/metrics" && return 0
		sleep 0.1
	done
	return 1
}
get() { # get DOMAIN: the status and body of its policy
	curl -sS --max-time 5 --cacert "$T/ca.pem" \
	    --resolve "mta-sts.$1.test:$PORT:127.0.0.1" \
	    -w ' %{http_code}' \
	    "https://mta-sts.$1.test:$PORT/.well-known/mta-sts.txt" 2>/dev/null |
	    tr '\n' ' '
}
start "$T/mtasts.conf" "$T/serve.log"
ok $? "the server is up with ACME domains"
is "$(get a)" "version: STSv1 mode: enforce mx: mx.a.test max_age: 86400  200" \
    "a.test (acme yes) is served with its state directory certificate"
is "$(get d)" "version: STSv1 mode: enforce mx: mx.d.test max_age: 86400  200" \
    "d.test (a domains-dir entry) is served with its ACME certificate"
is "$(get b)" "version: STSv1 mode: enforce mx: mx.b.test max_age: 86400  200" \
    "b.test is served with its own certificate"
is "$(get c)" " 000" "c.test, still waiting, gets no handshake"

# HTTP-01 (RFC 8555 §8.3): nothing installed, so nothing but 404.
code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 \
    "http://127.0.0.1:$HPORT/.well-known/acme-challenge/unknownTOKEN_-1")
is "$code" 404 "HTTP-01 listener: an unknown token is 404"
code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 \
    -H "Host: mta-sts.a.test" \
    "http://127.0.0.1:$HPORT/.well-known/mta-sts.txt")
is "$code" 404 "HTTP-01 listener: the policy path is 404 (plain HTTP)"

# TLS-ALPN-01 (RFC 8737 §3): no challenge is installed for a.test.
echo | openssl s_client -connect "127.0.0.1:$PORT" \
    -servername mta-sts.a.test -alpn acme-tls/1 >"$T/alpn.out" 2>&1
grep -qi "no application protocol" "$T/alpn.out"
ok $? "acme-tls/1 without a challenge: no_application_protocol"
echo | openssl s_client -connect "127.0.0.1:$PORT" \
    -servername mta-sts.a.test -alpn http/1.1 >"$T/alpn.out" 2>&1
grep -q "subject=CN *= *mta-sts.a.test" "$T/alpn.out" &&
    grep -q "No ALPN negotiated" "$T/alpn.out"
ok $? "http/1.1 in ALPN: a.test's certificate, no protocol, as before"

curl -s --max-time 5 "http://127.0.0.1:$MPORT/metrics" >"$T/metrics"
grep -q '^mtasts_acme_challenges_answered_total{type="tls-alpn-01"} 0$' \
    "$T/metrics" &&
    grep -q '^mtasts_acme_challenges_answered_total{type="http-01"} 0$' \
	"$T/metrics"
ok $? "/metrics: the ACME challenge counters"
grep -q '^mtasts_serve_domains 3$' "$T/metrics"
ok $? "/metrics: three domains served"

# c.test's first certificate arrives: a reload serves it.
state "$T/c" c.test
kill -HUP "$PID"
for _ in $(seq 50); do
	case $(get c) in *' 200') break ;; esac
	sleep 0.1
done
is "$(get c)" "version: STSv1 mode: enforce mx: mx.c.test max_age: 86400  200" \
    "c.test is served once its certificate is in place (reload)"
is "$(get a)" "version: STSv1 mode: enforce mx: mx.a.test max_age: 86400  200" \
    "a.test still is"

kill -TERM "$PID"
wait "$PID"
ok $? "the server stops cleanly"
PID=

# A reload that adds an acme-http-listen and prefers http-01: the
# listener is bound only at start, so the acme process is not told to
# answer http-01 (nobody would listen) and the log says why.
grep -v '^acme-http-listen' "$T/mtasts.conf" >"$T/nohttp.conf"
start "$T/nohttp.conf" "$T/serve2.log"
ok $? "a server without acme-http-listen starts"
{
	cat "$T/nohttp.conf"
	printf 'acme-http-listen 127.0.0.1:%s\nacme-challenge http-01\n' \
	    "$HPORT"
} >"$T/nohttp.conf.new"
mv "$T/nohttp.conf.new" "$T/nohttp.conf"
kill -HUP "$PID"
for _ in $(seq 50); do
	grep -q "acme-challenge http-01 needs" "$T/serve2.log" && break
	sleep 0.1
done
grep -q "acme-challenge http-01 needs the acme-http-listen bound at start" \
    "$T/serve2.log"
ok $? "a reload adding acme-http-listen with http-01: tls-alpn-01 until a restart"
kill -TERM "$PID"
wait "$PID"
PID=

echo "1..$n"
[ "$failed" -eq 0 ]
