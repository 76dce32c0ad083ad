#!/bin/bash
# SPDX-License-Identifier: ISC
#
# End-to-end tests of `mtasts serve` with real OpenSSL clients (curl,
# openssl s_client) on loopback: SNI, paths, methods, Host, headers,
# reloads, limits, idle and slow clients, privilege drop.  The test PKI
# is made here, at run time.  Prints TAP.
#
# Then the server under hostile conditions, each on a server of its own:
# FIFOs in place of files, clashing domains-dir names, a killed server
# process, inherited descriptors, too few descriptors for its clients,
# and libevent calls that fail (FAILEVENT, an LD_PRELOAD shim).
#
#   serve.sh MTASTS HOLDCONNS [FAILEVENT]
set -u

MTASTS=${1:?usage: serve.sh MTASTS HOLDCONNS [FAILEVENT]}
HOLD=${2:?usage: serve.sh MTASTS HOLDCONNS [FAILEVENT]}
FAILEVENT=${3:-}
for tool in curl openssl; do
	if ! command -v $tool >/dev/null; then
		echo "1..0 # SKIP $tool not installed"
		exit 0
	fi
done

T=$(mktemp -d "${TMPDIR:-/tmp}/mtasts-serve.XXXXXX")
chmod 755 "$T"
PID=
XPID=
cleanup() {
	[ -n "$PID" ] && kill "$PID" 2>/dev/null && wait "$PID" 2>/dev/null
	[ -n "$XPID" ] && kill -9 "$XPID" 2>/dev/null && wait "$XPID" 2>/dev/null
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
if command -v ss >/dev/null; then
	is "$(ss -Hltn "sport = :$PORT" | awk '{ print $3 }')" 1024 \
	    "the listener keeps the backlog of 1024 the parent gave it"
else
	echo "ok $((n + 1)) - # SKIP ss not installed"
	n=$((n + 1))
fi

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
	child=$(pgrep -P "$PID" -f 'serve --process server' | head -1)
	is "$(ps -o user= -p "$child" | tr -d ' ')" nobody \
	    "the server process runs as the configured user"
	keys=$(pgrep -P "$PID" -f 'serve --process keys' | head -1)
	is "$(ps -o user= -p "$keys" | tr -d ' ')" nobody \
	    "the key process runs as the configured user"
	# The sandbox (mtasts-serve(8) SECURITY), as the kernel reports it.
	# A sanitizer build has no filter and no chroot (LeakSanitizer
	# ptraces at exit and reads /proc; sandbox_linux.c): skipped there.
	for role in server keys; do
		if [ "${MTS_SANITIZED:-0}" = 1 ]; then
			for what in NoNewPrivs Seccomp uid root; do
				n=$((n + 1))
				echo "ok $n - $role process: $what # SKIP sanitizer build"
			done
			continue
		fi
		pid=$child
		[ "$role" = keys ] && pid=$keys
		st=/proc/${pid:-0}/status
		grep -Eq '^NoNewPrivs:[[:space:]]+1$' "$st" 2>/dev/null
		ok $? "the $role process has NoNewPrivs: 1"
		grep -Eq '^Seccomp:[[:space:]]+2$' "$st" 2>/dev/null
		ok $? "the $role process has Seccomp: 2 (a filter)"
		grep -Eq '^Uid:[[:space:]]+[1-9]' "$st" 2>/dev/null
		ok $? "the $role process's uid is not 0"
		[ -z "$(ls -A "/proc/${pid:-0}/root/" 2>&1)" ]
		ok $? "the $role process sees an empty root"
	done
	# The private key of a.test: its scalar in the key process's
	# memory (the scan can find it), never in the server process's.
	openssl pkey -in "$T/a.key" -outform DER -out "$T/a.der" 2>/dev/null
	scan() { # scan PID FILE: 0 when the key's scalar is in PID's memory
		python3 - "$1" "$2" <<'PY'
import re, subprocess, sys
pid, der = sys.argv[1], open(sys.argv[2], 'rb').read()
# SEC 1 ECPrivateKey inside PKCS#8: OCTET STRING of 32 octets after
# INTEGER 1.
m = re.search(rb'\x02\x01\x01\x04\x20(.{32})', der, re.S)
# As the file's octets (big-endian), or as OpenSSL keeps it after the
# load: a BIGNUM, whose 64-bit limbs, least significant first, each
# little-endian on this machine, are the octets reversed (the DER copy
# is freed and may be overwritten at any time).
needles = (m.group(1), m.group(1).lstrip(b'\0')[::-1])
found = False
with open(f'/proc/{pid}/maps') as maps, open(f'/proc/{pid}/mem', 'rb') as mem:
    for line in maps:
        addr, perms = line.split()[:2]
        if 'r' not in perms:
            continue
        lo, hi = (int(x, 16) for x in addr.split('-'))
        try:
            mem.seek(lo)
            region = mem.read(hi - lo)
            if any(n in region for n in needles):
                found = True
                break
        except (OSError, ValueError, OverflowError):
            pass
sys.exit(0 if found else 1)
PY
	}
	if [ "${MTS_SANITIZED:-0}" = 1 ]; then
		# ASan's shadow mappings are terabytes of address space.
		n=$((n + 2))
		echo "ok $((n - 1)) - the key process holds the key # SKIP sanitizer build"
		echo "ok $n - the server process does not # SKIP sanitizer build"
	else
		scan "$keys" "$T/a.der"
		ok $? "the key process holds the private key (the scan finds it)"
		scan "$child" "$T/a.der"
		ok $((1 - $?)) "the server process does not hold the private key"
	fi
	is "$(ps -o user= -p "$PID" | tr -d ' ')" root \
	    "the parent keeps root to read keys on reload"
	# ... and of root's capabilities only what it needs (privdrop.c).
	grep -Eq '^CapEff:[[:space:]]+0000000000000024$' "/proc/$PID/status"
	ok $? "the parent keeps CAP_DAC_READ_SEARCH and CAP_KILL, no more" \
	    "($(awk '/^CapEff/ { print $2 }' "/proc/$PID/status"))"
	grep -Eq '^NoNewPrivs:[[:space:]]+1$' "/proc/$PID/status"
	ok $? "the parent has NoNewPrivs: 1"
else
	echo "ok $((n + 1)) - # SKIP privilege drop needs root"
	n=$((n + 1))
fi

kill -TERM "$PID"
wait "$PID"
is $? 0 "SIGTERM stops the server cleanly"
PID=

# ---- hostile conditions, each on a server of its own ----
XPORT=$((PORT + 2))
XMPORT=$((PORT + 3))
# xconf FILE [LINES]: a one-domain configuration (a.test, from the
# domains-dir $T/xd, under a name with capitals and a final dot).
rm -rf "$T/xd"
mkdir -p "$T/xd/A.Test."
cp "$T/a.txt" "$T/xd/A.Test./mta-sts.txt"
cp "$T/a.pem" "$T/xd/A.Test./cert.pem"
cp "$T/a.key" "$T/xd/A.Test./key.pem"
xconf() {
	printf 'listen 127.0.0.1:%s\nmetrics 127.0.0.1:%s\nread-timeout %s\n%s\ndomains-dir %s\n' \
	    "$XPORT" "$XMPORT" "${XREAD:-2}" "${2:-}" "$T/xd" >"$1"
}
# xstart CONF LOG: starts a server in $XPID; 0 once its metrics answer.
xstart() {
	"$MTASTS" serve -d -c "$1" 2>"$2" &
	XPID=$!
	xwait_up
}
xwait_up() {
	for _ in $(seq 50); do
		curl -s -o /dev/null --max-time 1 "http://127.0.0.1:$XMPORT/metrics" &&
		    return 0
		sleep 0.1
	done
	return 1
}
# xstop: SIGTERM, then up to 5 s for the server to go; its status.
xstop() {
	local i
	kill -TERM "$XPID" 2>/dev/null
	for i in $(seq 50); do
		kill -0 "$XPID" 2>/dev/null || break
		sleep 0.1
	done
	if kill -0 "$XPID" 2>/dev/null; then
		kill -9 "$XPID"
		wait "$XPID" 2>/dev/null
		XPID=
		return 124
	fi
	wait "$XPID"
	local rc=$?
	XPID=
	return $rc
}
xfetch() {
	curl -sS --max-time 5 --cacert "$T/ca.pem" \
	    --resolve "mta-sts.a.test:$XPORT:127.0.0.1" -o "$T/xbody" \
	    -w '%{http_code}' "https://mta-sts.a.test:$XPORT/.well-known/mta-sts.txt" \
	    2>"$T/curl.err"
}
# xwait_served TENTHS: 0 once mta-sts.a.test answers 200, within
# TENTHS tenths of a second; else 1.
xwait_served() {
	local i
	for i in $(seq "$1"); do
		sleep 0.1
		[ "$(xfetch)" = 200 ] && return 0
	done
	return 1
}
# child_of PID: the server process of parent PID (not its key process).
child_of() { pgrep -P "$1" -f 'serve --process server' | head -1; }
# fds_to PID FILE: how many descriptors of PID point at FILE.
fds_to() {
	local f n=0
	if [ ! -d "/proc/$1/fd" ]; then
		echo "no process $1"
		return
	fi
	for f in /proc/"$1"/fd/*; do
		[ "$(readlink "$f")" = "$2" ] && n=$((n + 1))
	done
	echo $n
}

# Descriptors inherited from the shell are closed in both processes.
xconf "$T/x.conf"
: >"$T/inherited"
xstart "$T/x.conf" "$T/x.log" 7>>"$T/inherited" 9<"$T/inherited"
ok $? "a domains-dir entry 'A.Test.' is served as a.test (server up)"
is "$(xfetch)" 200 "the domain of 'A.Test.' answers for mta-sts.a.test"
xchild=$(child_of "$XPID")
is "$(fds_to "$XPID" "$T/inherited")" 0 \
    "the parent closed the descriptors it inherited"
is "$(fds_to "${xchild:-0}" "$T/inherited")" 0 \
    "the server process closed the descriptors it inherited"

# A killed server process is restarted by the same parent.
kill -9 "$xchild"
xwait_served 20
up=$?
ok $up "kill -9 of the server process: served again within 2 s"
kill -0 "$XPID" 2>/dev/null
ok $? "kill -9 of the server process: the parent is still running"
nchild=$(child_of "$XPID")
[ -n "$nchild" ] && [ "$nchild" != "$xchild" ]
ok $? "kill -9 of the server process: a new server process"
grep -q "server process $xchild killed by signal 9" "$T/x.log"
ok $? "kill -9 of the server process: the parent logs why it ended"
kill -9 "$nchild"
sleep 0.3
kill -9 "$(child_of "$XPID")" 2>/dev/null
sleep 0.2
grep -Eq "restarting in [1-9]" "$T/x.log"
ok $? "a server process that keeps dying is restarted with a back-off"
xwait_served 40
up=$?
ok $up "served again after the back-off"

# A FIFO in place of the policy on SIGHUP: refused, still serving.
mv "$T/xd/A.Test./mta-sts.txt" "$T/x.txt"
mkfifo "$T/xd/A.Test./mta-sts.txt"
kill -HUP "$XPID"
sleep 1
grep -q "mta-sts.txt: not a regular file" "$T/x.log"
ok $? "SIGHUP with a FIFO as the policy: refused, says why"
is "$(xfetch)" 200 "SIGHUP with a FIFO as the policy: the old set serves"
cmp -s "$T/xbody" "$T/a.txt"
ok $? "SIGHUP with a FIFO as the policy: the old policy"
xstop
is $? 0 "SIGTERM after the FIFO reload stops the server"
rm -f "$T/xd/A.Test./mta-sts.txt"
mv "$T/x.txt" "$T/xd/A.Test./mta-sts.txt"

# Too few descriptors for the clients: accept(2) fails with EMFILE.
XREAD=10 xconf "$T/x.conf" "max-connections 2000"
(
	ulimit -n 64
	exec "$MTASTS" serve -d -c "$T/x.conf"
) 2>"$T/x.log" &
XPID=$!
xwait_up
ok $? "a server with 64 descriptors is up"
grep -Eq "open-file limit 64 is [0-9]+ short" "$T/x.log"
ok $? "it says at start that the open-file limit is too low, and by how much"
"$HOLD" 127.0.0.1 "$XPORT" 300 4 idle >"$T/hold.out" &
hold=$!
sleep 1
xchild=$(child_of "$XPID")
cpu() { # user + system CPU time of PID, in ticks
	if [ -n "$1" ] && [ -r "/proc/$1/stat" ]; then
		awk '{ print $14 + $15 }' "/proc/$1/stat"
	else
		echo 0
	fi
}
c0=$(cpu "$xchild")
sleep 2
c1=$(cpu "$xchild")
ticks=$(getconf CLK_TCK)
[ -n "$xchild" ] && [ $((c1 - c0)) -lt $((ticks / 4)) ]
ok $? "out of descriptors: the server process idles (CPU $((c1 - c0)) ticks in 2 s)"
lines=$(wc -l <"$T/x.log")
[ "$lines" -lt 50 ]
ok $? "out of descriptors: the log stays short ($lines lines)"
grep -q "Too many open files" "$T/x.log"
ok $? "out of descriptors: logged"
wait $hold
grep -q "open 300" "$T/hold.out"
ok $? "300 clients connected"
sleep 0.5
is "$(xfetch)" 200 "after the clients go, a new request is served"
curl -s "http://127.0.0.1:$XMPORT/metrics" >"$T/metrics"
grep -Eq '^mtasts_serve_connections_refused_total [1-9]' "$T/metrics"
ok $? "out of descriptors: counted as refused"
xstop
is $? 0 "SIGTERM stops it"

# libevent calls that fail (an LD_PRELOAD shim makes them).
if [ -n "$FAILEVENT" ]; then
	xconf "$T/x.conf"
	timeout 10 env LD_PRELOAD="$FAILEVENT" MTS_FAIL_EVENT=signal \
	    "$MTASTS" serve -d -c "$T/x.conf" 2>"$T/x.log"
	is $? 1 "a signal event that cannot be added: start-up fails"
	grep -q "cannot watch signal" "$T/x.log"
	ok $? "a signal event that cannot be added: says so"
	LD_PRELOAD=$FAILEVENT MTS_FAIL_EVENT=conn MTS_FAIL_PORT=$XPORT \
	    "$MTASTS" serve -d -c "$T/x.conf" 2>"$T/x.log" &
	XPID=$!
	xwait_up
	ok $? "a connection event that cannot be added: the server is up"
	[ "$(xfetch)" != 200 ]
	ok $? "a connection event that cannot be added: that connection is closed"
	curl -s "http://127.0.0.1:$XMPORT/metrics" >"$T/metrics"
	grep -Eq '^mtasts_serve_connections_refused_total [1-9]' "$T/metrics"
	ok $? "a connection event that cannot be added: counted as refused"
	xstop
	is $? 0 "SIGTERM stops it"
else
	echo "ok $((n + 1)) - # SKIP no failevent shim"
	n=$((n + 1))
fi
# A policy with many findings of one code: serve -n folds them, as lint.
{
	printf 'version: STSv1\nmode: testing\nmx: a.test\nmax_age: 86400\n'
	for _ in $(seq 15); do printf 'mx: a.test\n'; done
} >"$T/dup.txt"
printf 'listen 127.0.0.1:%s\ndomain a.test {\n\tpolicy %s\n\tcertificate %s\n\tkey %s\n}\n' \
    "$XPORT" "$T/dup.txt" "$T/a.pem" "$T/a.key" >"$T/dup.conf"
"$MTASTS" serve -n -c "$T/dup.conf" >"$T/dup.out" 2>&1
grep -q "policy-mx-duplicate\] (and 5 more like it)" "$T/dup.out"
ok $? "serve -n says how many findings of a code it folded"

# ---- keys: their mode, their type, the key process ----
# kconf FILE KEY [LINE]: one domain, a.test's certificate with KEY.
kconf() {
	printf 'listen 127.0.0.1:%s\nmetrics 127.0.0.1:%s\n%s\ndomain a.test {\n\tpolicy %s\n\tcertificate %s\n\tkey %s\n}\n' \
	    "$XPORT" "$XMPORT" "${3:-}" "$T/a.txt" "${4:-$T/a.pem}" "$2" >"$1"
}
cp "$T/a.key" "$T/k640.key"
chmod 640 "$T/k640.key"
kconf "$T/k.conf" "$T/k640.key"
"$MTASTS" serve -n -c "$T/k.conf" >"$T/k.out" 2>&1
is $? 1 "a key file the group can read is refused"
grep -q "k640.key: readable or writable by group or others" "$T/k.out"
ok $? "a key file the group can read: says why and what to do"
openssl req -x509 -newkey ed25519 -nodes -keyout "$T/ed.key" \
    -out "$T/ed.pem" -days 2 -subj "/CN=mta-sts.a.test" \
    -addext "subjectAltName=DNS:mta-sts.a.test" 2>/dev/null
chmod 600 "$T/ed.key"
kconf "$T/k.conf" "$T/ed.key" "" "$T/ed.pem"
"$MTASTS" serve -n -c "$T/k.conf" >"$T/k.out" 2>&1
is $? 1 "an Ed25519 key with the key process: refused"
grep -q "RSA and ECDSA keys only (or set key-process no)" "$T/k.out"
ok $? "an Ed25519 key: says why and what to do"
kconf "$T/k.conf" "$T/ed.key" "key-process no" "$T/ed.pem"
"$MTASTS" serve -n -c "$T/k.conf" >/dev/null 2>&1
is $? 0 "an Ed25519 key with key-process no: accepted"
kconf "$T/k.conf" "$T/a.key" "key-process no"
xstart "$T/k.conf" "$T/k.log"
ok $? "key-process no: the server is up"
is "$(xfetch)" 200 "key-process no: it serves"
[ -z "$(pgrep -P "$XPID" -f 'serve --process keys')" ]
ok $? "key-process no: no key process"
xstop
# A system call outside the filter kills the server process with SIGSYS
# (test_serve_sandbox proves the filter does); the parent says so and
# starts a new server and key process.
kconf "$T/k.conf" "$T/a.key"
xstart "$T/k.conf" "$T/k.log"
xchild=$(child_of "$XPID")
xkeys=$(pgrep -P "$XPID" -f 'serve --process keys' | head -1)
kill -SYS "${xchild:-0}"
xwait_served 20
up=$?
ok $up "SIGSYS of the server process: served again within 2 s"
grep -q "server process $xchild killed by signal 31 (Bad system call)" \
    "$T/k.log"
ok $? "SIGSYS of the server process: the parent logs it"
nkeys=$(pgrep -P "$XPID" -f 'serve --process keys' | head -1)
[ -n "$nkeys" ] && [ "$nkeys" != "$xkeys" ]
ok $? "and a new key process goes with the new server"
kill -9 "${nkeys:-0}"
up=1
for _ in $(seq 40); do
	sleep 0.1
	if [ "$(xfetch)" = 200 ] &&
	    [ -n "$(pgrep -P "$XPID" -f 'serve --process keys')" ]; then
		up=0
		break
	fi
done
ok $up "kill -9 of the key process: both are started anew and serve"
grep -q "key process $nkeys killed by signal 9" "$T/k.log"
ok $? "kill -9 of the key process: the parent logs it"
xstop
is $? 0 "SIGTERM stops it"

echo "1..$n"
[ "$failed" -eq 0 ]
