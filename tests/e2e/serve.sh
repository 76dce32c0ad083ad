#!/bin/bash
# SPDX-License-Identifier: ISC
#
# End-to-end tests of `mtasts serve` with real OpenSSL clients (curl,
# openssl s_client) on loopback: SNI, paths, methods, Host, headers,
# reloads, limits, idle and slow clients, privilege drop.  The test PKI
# is made here, at run time.  Prints TAP.
#
#   serve.sh MTASTS HOLDCONNS
set -u

MTASTS=${1:?usage: serve.sh MTASTS HOLDCONNS}
HOLD=${2:?usage: serve.sh MTASTS HOLDCONNS}
for tool in curl openssl; do
	if ! command -v $tool >/dev/null; then
		echo "1..0 # SKIP $tool not installed"
		exit 0
	fi
done

T=$(mktemp -d "${TMPDIR:-/tmp}/mtasts-serve.XXXXXX")
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

# A port pair free on this machine (the kernel's choice, then released).
PORT=$((20000 + ($$ % 20000)))
MPORT=$((PORT + 1))

# ---- test PKI: a CA and leaf certificates with SAN ----
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
leaf mta-sts.a.test "$T/a"
leaf mta-sts.b.test "$T/b"
chmod 600 "$T"/*.key

printf 'version: STSv1\r\nmode: enforce\r\nmx: mx1.a.test\r\nmax_age: 604800\r\n' \
    >"$T/a.txt"
printf 'version: STSv1\nmode: testing\nmx: *.b.test\nmax_age: 86400\n' \
    >"$T/b.txt"

USER_LINE=
if [ "$(id -u)" -eq 0 ] && id nobody >/dev/null 2>&1; then
	USER_LINE="user nobody"
fi
cat >"$T/mtasts.conf" <<EOF
# the test server
listen 127.0.0.1:$PORT
metrics 127.0.0.1:$MPORT
$USER_LINE
read-timeout 2
idle-timeout 4
max-connections 2000
access-log $T/access.log
domain a.test {
	policy $T/a.txt
	certificate $T/a.pem
	key $T/a.key
}
domain b.test {
	policy $T/b.txt
	certificate $T/b.pem
	key $T/b.key
}
EOF

# ---- configuration checks (-n) ----
"$MTASTS" serve -n -c "$T/mtasts.conf" >"$T/n.out" 2>&1
ok $? "serve -n accepts a good configuration"
grep -q "2 domains" "$T/n.out"
ok $? "serve -n counts the domains"
sed 's/^domain b.test/domian b.test/' "$T/mtasts.conf" >"$T/typo.conf"
"$MTASTS" serve -n -c "$T/typo.conf" >"$T/n.out" 2>&1
is $? 1 "serve -n refuses an unknown keyword"
grep -Eq "typo.conf:[0-9]+:" "$T/n.out"
ok $? "serve -n names file:line"
printf 'version: STSv1\nmode: enforce\nmx: *.*.a.test\nmax_age: 1d\n' \
    >"$T/broken.txt"
sed "s|policy $T/b.txt|policy $T/broken.txt|" "$T/mtasts.conf" \
    >"$T/broken.conf"
"$MTASTS" serve -n -c "$T/broken.conf" >"$T/n.out" 2>&1
is $? 1 "serve -n refuses a policy that does not lint"
grep -q "policy-mx-invalid" "$T/n.out"
ok $? "serve -n shows the linter's findings"
sed "s|key $T/b.key|key $T/a.key|" "$T/mtasts.conf" >"$T/mismatch.conf"
"$MTASTS" serve -n -c "$T/mismatch.conf" >"$T/n.out" 2>&1
is $? 1 "serve -n refuses a key that does not match its certificate"

# ---- files that are not regular files: no hang (a FIFO blocks open(2)) ----
mkfifo "$T/fifo"
sed "s|policy $T/b.txt|policy $T/fifo|" "$T/mtasts.conf" >"$T/fifo.conf"
timeout 10 "$MTASTS" serve -n -c "$T/fifo.conf" >"$T/n.out" 2>&1
is $? 1 "serve -n with a FIFO as a policy: refused at once"
grep -q "fifo: not a regular file" "$T/n.out"
ok $? "serve -n with a FIFO as a policy: says it is not a regular file"
sed "s|key $T/b.key|key $T/fifo|" "$T/mtasts.conf" >"$T/fifo.conf"
timeout 10 "$MTASTS" serve -n -c "$T/fifo.conf" >"$T/n.out" 2>&1
is $? 1 "serve -n with a FIFO as a key: refused at once"
timeout 10 "$MTASTS" serve -n -c "$T/fifo" >"$T/n.out" 2>&1
is $? 1 "serve -n with a FIFO as the configuration: refused at once"
grep -q "fifo: not a regular file" "$T/n.out"
ok $? "serve -n with a FIFO as the configuration: says why"

# ---- domains-dir names: one domain once, as in domain blocks ----
# dirconf NAME...: a configuration whose domains-dir $T/dd holds NAME...
dirconf() {
	rm -rf "$T/dd"
	mkdir "$T/dd"
	for d in "$@"; do
		mkdir "$T/dd/$d"
		cp "$T/a.txt" "$T/dd/$d/mta-sts.txt"
	done
	sed "s|^metrics .*|domains-dir $T/dd\ncertificate $T/a.pem\nkey $T/a.key|" \
	    "$T/mtasts.conf" >"$T/dd.conf"
	"$MTASTS" serve -n -c "$T/dd.conf" >"$T/n.out" 2>&1
}
dirconf d00050.dd.test D00050.DD.TEST
is $? 1 "domains-dir: two names that differ in case are refused"
grep -q "$T/dd/d00050.dd.test: domain d00050.dd.test configured twice (also $T/dd/D00050.DD.TEST)" \
    "$T/n.out"
ok $? "domains-dir: the error names both directories"
dirconf A.TEST
is $? 1 "domains-dir: a directory named like a domain block is refused"
grep -Eq "dd.conf:[0-9]+: domain a.test configured twice \(also $T/dd/A.TEST\)" \
    "$T/n.out"
ok $? "domains-dir: the error names the block's file:line and the directory"
dirconf mta-sts.zz.test
is $? 1 "domains-dir: the mta-sts host as a directory name is refused"
grep -q "$T/dd/mta-sts.zz.test: name the policy domain (zz.test)" "$T/n.out"
ok $? "domains-dir: and told to name the policy domain"
dirconf zz.test. zz.test
is $? 1 "domains-dir: a trailing dot is dropped, as in a block: a duplicate"
dirconf Zz.Test.
is $? 0 "domains-dir: 'Zz.Test.' is the domain zz.test"
grep -q "3 domains" "$T/n.out"
ok $? "domains-dir: 'Zz.Test.' counts"
dirconf bad_name.test
is $? 1 "domains-dir: a directory with a policy whose name is no domain is refused"
grep -q "$T/dd/bad_name.test: " "$T/n.out"
ok $? "domains-dir: the error names the directory"

# ---- start ----
"$MTASTS" serve -d -c "$T/mtasts.conf" 2>"$T/serve.log" &
PID=$!
up=1
for _ in $(seq 50); do
	if curl -s -o /dev/null "http://127.0.0.1:$MPORT/metrics"; then
		up=0
		break
	fi
	sleep 0.1
done
ok $up "server is up"

url() { echo "https://mta-sts.$1:$PORT${2:-/.well-known/mta-sts.txt}"; }
fetch() { # fetch DOMAIN [curl args...]: body to $T/body, headers $T/hdr
	local d=$1
	shift
	curl -sS --max-time 5 --cacert "$T/ca.pem" \
	    --resolve "mta-sts.$d:$PORT:127.0.0.1" -D "$T/hdr" -o "$T/body" \
	    -w '%{http_code}' "$@" "$(url "$d" "${URL_PATH:-}")" 2>"$T/curl.err"
}
header() { grep -i "^$1:" "$T/hdr" | head -1 | cut -d' ' -f2- | tr -d '\r'; }

# ---- the right policy per SNI ----
is "$(fetch a.test)" 200 "GET a.test: 200"
cmp -s "$T/body" "$T/a.txt"
ok $? "GET a.test: the a.test policy, byte for byte"
is "$(header Content-Type)" "text/plain" "Content-Type: text/plain"
is "$(header Cache-Control)" "max-age=300" "Cache-Control default max-age=300"
is "$(header Content-Length)" "$(wc -c <"$T/a.txt" | tr -d ' ')" \
    "Content-Length is the body length"
[ -n "$(header Date)" ]
ok $? "a Date field (RFC 9110 §6.6.1)"
is "$(fetch b.test)" 200 "GET b.test: 200 (its own certificate by SNI)"
cmp -s "$T/body" "$T/b.txt"
ok $? "GET b.test: the b.test policy"
fetch c.test >/dev/null
is $? 35 "unknown SNI: the handshake fails"
grep -qi "unrecognized name\|alert" "$T/curl.err"
ok $? "unknown SNI: unrecognized_name alert"

# ---- HEAD, methods, paths, Host ----
is "$(fetch a.test -I)" 200 "HEAD: 200"
# curl -I writes the head where the body would go: no policy text there.
! grep -q "version: STSv1" "$T/body"
ok $? "HEAD: no body"
is "$(header Content-Length)" "$(wc -c <"$T/a.txt" | tr -d ' ')" \
    "HEAD: Content-Length of the body"
is "$(fetch a.test -X POST -d x=1)" 405 "POST: 405"
is "$(header Allow)" "GET, HEAD" "405 names the allowed methods"
is "$(fetch a.test -X DELETE)" 405 "DELETE: 405"
is "$(URL_PATH=/ fetch a.test)" 404 "GET /: 404"
is "$(URL_PATH=/.well-known/mta-sts.txt.bak fetch a.test)" 404 \
    "a similar path: 404"
is "$(URL_PATH='/.well-known/mta-sts.txt?x=1' fetch a.test)" 404 \
    "the path with a query: 404"
is "$(fetch a.test -H 'Host: mta-sts.unknown.test')" 404 "unknown Host: 404"
is "$(fetch a.test -H 'Host: www.a.test')" 404 "Host without mta-sts.: 404"
is "$(fetch a.test -H 'Host: mta-sts.b.test')" 421 \
    "Host of another configured domain than the SNI: 421"
is "$(fetch a.test -H 'Host: MTA-STS.A.TEST.')" 200 \
    "Host in upper case with a trailing dot: 200"
is "$(fetch a.test --http1.0)" 200 "HTTP/1.0: 200"

# ---- keep-alive ----
curl -sS -v --cacert "$T/ca.pem" --resolve "mta-sts.a.test:$PORT:127.0.0.1" \
    "$(url a.test)" "$(url a.test)" -o /dev/null -o /dev/null 2>"$T/ka.err"
grep -qi "re-using existing connection" "$T/ka.err"
ok $? "keep-alive: a second request on the same connection"

# ---- malformed and oversized requests ----
big=$(head -c 9000 /dev/zero | tr '\0' 'x')
is "$(fetch a.test -H "X-Big: $big")" 431 "a 9000-byte header: 431"
raw() { # raw BYTES: the status line answering them
	printf "$1" | timeout 5 openssl s_client -quiet -connect \
	    "127.0.0.1:$PORT" -servername mta-sts.a.test -CAfile "$T/ca.pem" \
	    2>/dev/null | head -1 | tr -d '\r'
}
is "$(raw 'GET https://mta-sts.a.test/.well-known/mta-sts.txt HTTP/1.1\r\nHost: mta-sts.unknown.test\r\nConnection: close\r\n\r\n')" \
    "HTTP/1.1 200 OK" "absolute-form target: its authority, not Host (RFC 9112 §3.2.2)"
is "$(raw 'GARBAGE\r\n\r\n')" "HTTP/1.1 400 Bad Request" "garbage: 400"
is "$(raw 'GET /.well-known/mta-sts.txt HTTP/1.1\r\nHost : mta-sts.a.test\r\n\r\n')" \
    "HTTP/1.1 400 Bad Request" "space before the colon: 400"
is "$(raw 'GET /.well-known/mta-sts.txt HTTP/1.1\r\n\r\n')" \
    "HTTP/1.1 400 Bad Request" "HTTP/1.1 without Host: 400"
is "$(raw 'GET /.well-known/mta-sts.txt HTTP/2.0\r\nHost: mta-sts.a.test\r\n\r\n')" \
    "HTTP/1.1 505 HTTP Version Not Supported" "HTTP/2.0 over TLS text: 505"
is "$(raw 'GET /.well-known/mta-sts.txt HTTP/1.1\r\nHost: mta-sts.a.test\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n')" \
    "HTTP/1.1 400 Bad Request" "Content-Length with Transfer-Encoding: 400"
is "$(fetch a.test)" 200 "still serving after bad requests"

# ---- idle and slow clients ----
"$HOLD" 127.0.0.1 "$PORT" 500 5 idle >"$T/idle.out" &
hold=$!
sleep 1
is "$(fetch a.test)" 200 "500 idle connections: a normal client is served"
wait $hold
grep -q "open 500" "$T/idle.out"
ok $? "500 idle connections were open"
grep -Eq "closed-by-server (4[5-9][0-9]|500)" "$T/idle.out"
ok $? "the server closed the idle connections (read-timeout)"
"$HOLD" 127.0.0.1 "$PORT" 200 5 slow >"$T/slow.out" &
hold=$!
sleep 1
is "$(fetch b.test)" 200 "200 slowloris clients: a normal client is served"
wait $hold
grep -Eq "closed-by-server (1[89][0-9]|200)" "$T/slow.out"
ok $? "slowloris clients are cut off at the deadline"

# ---- reloads ----
cp "$T/a.txt" "$T/a.orig"
printf 'version: STSv1\nmode: enforce\nmx: *.*.a.test\nmax_age: 604800\n' \
    >"$T/a.txt"
kill -HUP "$PID"
sleep 1
grep -q "reload refused" "$T/serve.log"
ok $? "reload with a broken policy is refused and logged"
fetch a.test >/dev/null
cmp -s "$T/body" "$T/a.orig"
ok $? "the old policy keeps serving"
cp "$T/a.orig" "$T/a.txt"

serial() {
	echo | openssl s_client -connect "127.0.0.1:$PORT" \
	    -servername mta-sts.a.test 2>/dev/null |
	    openssl x509 -noout -serial 2>/dev/null
}
old=$(serial)
leaf mta-sts.a.test "$T/a"
printf 'version: STSv1\nmode: enforce\nmx: mx1.a.test\nmx: mx2.a.test\nmax_age: 604800\n' \
    >"$T/a.txt"
kill -HUP "$PID"
sleep 1
new=$(serial)
[ -n "$old" ] && [ -n "$new" ] && [ "$old" != "$new" ]
ok $? "reload with a renewed certificate serves the new one"
fetch a.test >/dev/null
cmp -s "$T/body" "$T/a.txt"
ok $? "reload serves the changed policy"
is "$(fetch a.test)" 200 "still valid for the CA after the reload"

# ---- metrics, access log, privileges ----
curl -s "http://127.0.0.1:$MPORT/metrics" >"$T/metrics"
grep -Eq '^mtasts_serve_responses_total\{code="2xx"\} [1-9]' "$T/metrics"
ok $? "metrics count 2xx responses"
grep -Eq '^mtasts_serve_reload_failures_total 1$' "$T/metrics"
ok $? "metrics count the refused reload"
grep -Eq '^mtasts_serve_timeouts_total [1-9]' "$T/metrics"
ok $? "metrics count timeouts"
grep -Eq '^mtasts_serve_generation 2$' "$T/metrics"
ok $? "metrics show generation 2"
sleep 1.2 # the access log is flushed every second
grep -q '"GET /.well-known/mta-sts.txt" 200' "$T/access.log"
ok $? "access log has the requests"
if [ -n "$USER_LINE" ]; then
	child=$(pgrep -P "$PID" | head -1)
	is "$(ps -o user= -p "$child" | tr -d ' ')" nobody \
	    "the server process runs as the configured user"
	is "$(ps -o user= -p "$PID" | tr -d ' ')" root \
	    "the parent keeps root to read keys on reload"
else
	echo "ok $((n + 1)) - # SKIP privilege drop needs root"
	n=$((n + 1))
fi

kill -TERM "$PID"
wait "$PID"
is $? 0 "SIGTERM stops the server cleanly"
PID=
echo "1..$n"
[ "$failed" -eq 0 ]
