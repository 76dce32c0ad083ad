#!/bin/bash
# SPDX-License-Identifier: ISC
#
# End-to-end tests of the TLS-RPT receiver of `mtasts serve` (RFC 8460
# §5.4, RPT-HTTP-1..6 of the conformance checklist): reports POSTed with
# curl over HTTPS to a server on loopback, with a test PKI made here,
# stored in SQLite by the report process, and once in a PostgreSQL
# started for the test (tests/e2e/pg.sh).  Prints TAP.
#
#   serve_report.sh MTASTS DATA_DIR
#
# What it shows: every sample stored (201) then known (200), as +json
# and as +gzip, and found in the store; 415, 405, 411, 413, 421; a gzip
# bomb refused fast; garbage refused with its reason and quarantined;
# a locked store answered 503 with Retry-After while policy GETs keep
# being answered at once; a full queue 503 at once; a killed report
# process replaced while the server serves on; the sandbox of the server
# and report processes; the access log, the log and the metrics.
set -u

MTASTS=${1:?usage: serve_report.sh MTASTS DATA_DIR}
DATA=${2:?usage: serve_report.sh MTASTS DATA_DIR}
HERE=$(cd "$(dirname "$0")" && pwd)
for tool in curl openssl sqlite3 jq gzip; do
	if ! command -v $tool >/dev/null; then
		echo "1..0 # SKIP $tool not installed"
		exit 0
	fi
done

T=$(mktemp -d "${TMPDIR:-/tmp}/mtasts-report.XXXXXX")
chmod 755 "$T"
PID=
LOCK=
cleanup() {
	[ -n "$LOCK" ] && kill "$LOCK" 2>/dev/null
	[ -n "$PID" ] && kill "$PID" 2>/dev/null && wait "$PID" 2>/dev/null
	[ -n "${PG_DIR:-}" ] && pg_stop
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
skip() { # skip COUNT REASON
	local i
	for i in $(seq "$1"); do
		n=$((n + 1))
		echo "ok $n - # SKIP $2"
	done
}

PORT=$((30000 + ($$ % 15000) * 2))
MPORT=$((PORT + 1))

# ---- test PKI: a CA, the policy host and the report host ----
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
leaf tlsrpt.a.test "$T/r"
chmod 600 "$T"/*.key
printf 'version: STSv1\nmode: enforce\nmx: mx1.a.test\nmax_age: 604800\n' \
    >"$T/a.txt"

# The store's directory belongs to the user the report process runs as.
mkdir "$T/store"
USER_LINE=
if [ "$(id -u)" -eq 0 ] && id nobody >/dev/null 2>&1; then
	USER_LINE="user nobody"
	chown nobody "$T/store"
fi
DB=$T/store/reports.db

# conf FILE STORE [QUEUE]: the policy host a.test, the receiver on
# tlsrpt.a.test and, sharing a.test's certificate, mta-sts.a.test.
conf() {
	cat >"$1" <<EOF
listen 127.0.0.1:$PORT
metrics 127.0.0.1:$MPORT
$USER_LINE
read-timeout 5
access-log $T/access.log
domain a.test {
	policy $T/a.txt
	certificate $T/a.pem
	key $T/a.key
}
tlsrpt {
	host tlsrpt.a.test
	path /v1/tlsrpt
	store $2
	max-body 1048576
	queue ${3:-2}
	certificate $T/r.pem
	key $T/r.key
}
EOF
}
conf "$T/mtasts.conf" "sqlite:$DB"

# ---- configuration ----
"$MTASTS" serve -n -c "$T/mtasts.conf" >"$T/n.out" 2>&1
ok $? "serve -n accepts a tlsrpt block"
sed '/host tlsrpt.a.test/d' "$T/mtasts.conf" >"$T/nohost.conf"
"$MTASTS" serve -n -c "$T/nohost.conf" >"$T/n.out" 2>&1
is $? 1 "serve -n refuses a tlsrpt block without a host"
grep -Eq "nohost.conf:[0-9]+: tlsrpt: no host" "$T/n.out"
ok $? "and names file:line"
sed 's|store sqlite:.*|store mysql://x|' "$T/mtasts.conf" >"$T/bad.conf"
"$MTASTS" serve -n -c "$T/bad.conf" >"$T/n.out" 2>&1
is $? 1 "serve -n refuses a store URL of no known engine"

# ---- start ----
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
stop() {
	kill -TERM "$PID" 2>/dev/null
	wait "$PID"
	local rc=$?
	PID=
	return $rc
}
start "$T/mtasts.conf" "$T/serve.log"
ok $? "the server is up with a report receiver"

RURL="https://tlsrpt.a.test:$PORT/v1/tlsrpt"
# post TYPE FILE [curl args...]: the status; body in $T/body, head $T/hdr
post() {
	local type=$1 file=$2
	shift 2
	curl -sS --max-time 60 --cacert "$T/ca.pem" \
	    --resolve "tlsrpt.a.test:$PORT:127.0.0.1" \
	    --resolve "mta-sts.a.test:$PORT:127.0.0.1" \
	    -D "$T/hdr" -o "$T/body" -w '%{http_code}' \
	    -H "Content-Type: $type" --data-binary "@$file" "$@" "${AT:-$RURL}" \
	    2>"$T/curl.err"
}
get_policy() { # the status of a policy GET, within 2 s
	curl -sS --max-time 2 --cacert "$T/ca.pem" \
	    --resolve "mta-sts.a.test:$PORT:127.0.0.1" -o /dev/null \
	    -w '%{http_code}' "https://mta-sts.a.test:$PORT/.well-known/mta-sts.txt" \
	    2>/dev/null
}
header() { grep -i "^$1:" "$T/hdr" | head -1 | cut -d' ' -f2- | tr -d '\r'; }
count() { sqlite3 "$DB" "SELECT count(*) FROM $1" 2>/dev/null; }

is "$(get_policy)" 200 "the policy host still answers"

# ---- every sample: 201, then 200 in the other encoding ----
# RPT-HTTP-1, -2, -3: POST of +json and +gzip, answered 2xx.
declare -A seen
stored=0
i=0
for f in "$DATA"/*.json; do
	case $f in *.expected.json) continue ;; esac
	base=$(basename "$f")
	gzip -c "$f" >"$T/$base.gz"
	key=$(jq -r '."organization-name" + "|" + ."report-id"' "$f")
	want=201
	if [ -n "${seen[$key]:-}" ]; then
		want=200 # the same report as an earlier sample (RFC 8460 §5.3)
	else
		stored=$((stored + 1))
	fi
	seen[$key]=1
	if [ $((i % 2)) -eq 0 ]; then
		first=application/tlsrpt+json second=application/tlsrpt+gzip
		ffile=$f sfile=$T/$base.gz
	else
		first=application/tlsrpt+gzip second=application/tlsrpt+json
		ffile=$T/$base.gz sfile=$f
	fi
	i=$((i + 1))
	is "$(post $first "$ffile")" $want "$base as $first: $want"
	if [ $want = 201 ]; then
		id=$(jq -r '."report-id"' "$f")
		grep -qF "stored: $id" "$T/body"
		ok $? "$base: the answer names its report-id"
	fi
	is "$(post $second "$sfile")" 200 "$base again as $second: 200 (known)"
done
is "$(count reports)" "$stored" "the store holds the $stored distinct reports"
is "$(count quarantine)" 0 "and nothing in the quarantine"
grep -q "tlsrpt: POST from 127.0.0.1: 201 added: " "$T/serve.log"
ok $? "the log has each POST: origin, outcome and report-id"

# ---- the same reports by HTTPS POST as by `mtasts report ingest` ----
# (tests/e2e/report_ingest.sh shows files, mails, mboxes, maildirs and
# IMAP giving one store; this shows POST giving the same summary.)
python3 "$HERE/gen_reports.py" "$T/gen" 60 --seed 7 >/dev/null
bad=0
for f in "$T/gen/json/"*.json.gz; do
	[ "$(post application/tlsrpt+gzip "$f")" = 201 ] || bad=$((bad + 1))
done
is "$bad" 0 "60 generated reports POSTed as +gzip: 201 each"
for f in "$DATA"/*.json; do
	case $f in *.expected.json) ;; *) printf '%s\0' "$f" ;; esac
done | xargs -0 "$MTASTS" report ingest -q --db "sqlite:$T/files.db" \
    "$T/gen/json"
is "$?" 0 "the samples and the same 60 as files: ingested"
for by in day,domain org,result domain,mx,result; do
	"$MTASTS" report summary --json --db "sqlite:$DB" --by $by \
	    >"$T/sum.post" 2>&1
	"$MTASTS" report summary --json --db "sqlite:$T/files.db" --by $by \
	    >"$T/sum.files" 2>&1
	cmp -s "$T/sum.post" "$T/sum.files" && [ -s "$T/sum.post" ]
	ok $? "summary --by $by: the same by POST as from files"
done

# ---- what is refused before the body is read ----
s=$DATA/google-sts-wildcard-2025.json
is "$(post text/plain "$s")" 415 "Content-Type text/plain: 415"
is "$(post application/json "$s")" 415 "Content-Type application/json: 415"
is "$(post 'Application/TLSRPT+JSON; charset=utf-8' "$s")" 200 \
    "the media type is matched without case, parameters ignored"
code=$(curl -sS --max-time 5 --cacert "$T/ca.pem" \
    --resolve "tlsrpt.a.test:$PORT:127.0.0.1" -D "$T/hdr" -o /dev/null \
    -w '%{http_code}' "$RURL")
is "$code" 405 "GET on the report path: 405"
is "$(header Allow)" POST "405 says Allow: POST"
is "$(post application/tlsrpt+json "$s" -X PUT)" 405 "PUT: 405"
is "$(AT="https://tlsrpt.a.test:$PORT/v1/other" post application/tlsrpt+json "$s")" \
    404 "another path: 404"
is "$(AT="$RURL?from=rua" post application/tlsrpt+json "$s")" 200 \
    "a query after the path is ignored"
head -c 1048577 /dev/zero >"$T/big"
is "$(post application/tlsrpt+gzip "$T/big")" 413 \
    "a body of max-body + 1 octets: 413"
is "$(post application/tlsrpt+gzip "$T/big" -H 'Transfer-Encoding: chunked')" \
    413 "chunked past max-body: 413"
is "$(post application/tlsrpt+json "$DATA/mailru-sts-policy-fetch-error-2024.json" \
    -H 'Transfer-Encoding: chunked')" 200 "a chunked body is read (200, known)"
start_ns=$(date +%s%N)
is "$(post application/tlsrpt+json "$s" -H 'Expect: 100-continue')" 200 \
    "Expect: 100-continue: the body is asked for"
ms=$((($(date +%s%N) - start_ns) / 1000000))
[ $ms -lt 900 ]
ok $? "and at once, not after curl's 1 s wait (${ms} ms)"
raw() { # raw BYTES: the status line answering them
	printf "$1" | timeout 5 openssl s_client -quiet -connect \
	    "127.0.0.1:$PORT" -servername tlsrpt.a.test -CAfile "$T/ca.pem" \
	    2>/dev/null | head -1 | tr -d '\r'
}
is "$(raw 'POST /v1/tlsrpt HTTP/1.1\r\nHost: tlsrpt.a.test\r\nContent-Type: application/tlsrpt+json\r\nConnection: close\r\n\r\n')" \
    "HTTP/1.1 411 Length Required" "neither Content-Length nor chunked: 411"
is "$(raw 'POST /v1/tlsrpt HTTP/1.1\r\nHost: tlsrpt.a.test\r\nContent-Type: application/tlsrpt+json\r\nContent-Type: text/plain\r\nContent-Length: 2\r\n\r\n{}')" \
    "HTTP/1.1 400 Bad Request" "two Content-Type fields: 400"
is "$(raw 'POST /v1/tlsrpt HTTP/1.1\r\nHost: mta-sts.a.test\r\nContent-Type: application/tlsrpt+json\r\nContent-Length: 2\r\n\r\n{}')" \
    "HTTP/1.1 421 Misdirected Request" "the report host's SNI with the policy host: 421"
code=$(curl -sS --max-time 5 --cacert "$T/ca.pem" -k \
    --resolve "mta-sts.a.test:$PORT:127.0.0.1" -o /dev/null -w '%{http_code}' \
    -H 'Host: tlsrpt.a.test' -H 'Content-Type: application/tlsrpt+json' \
    --data-binary "@$s" "https://mta-sts.a.test:$PORT/v1/tlsrpt")
is "$code" 421 "the policy host's SNI with the report host: 421"

# ---- bodies that are not reports: 400 with the reason, quarantined ----
q0=$(count quarantine)
printf 'garbage\n' >"$T/garbage"
is "$(post application/tlsrpt+json "$T/garbage")" 400 "garbage: 400"
grep -q "not a TLS-RPT report: .*not I-JSON" "$T/body"
ok $? "garbage: the answer says why, in one line ($(head -c 80 "$T/body"))"
is "$(wc -l <"$T/body" | tr -d ' ')" 1 "garbage: the reason is one line"
is "$(header Content-Type)" "text/plain; charset=utf-8" "garbage: text/plain"
is "$(count quarantine)" $((q0 + 1)) "garbage: kept in the quarantine"
is "$(sqlite3 "$DB" "SELECT raw FROM quarantine ORDER BY id DESC LIMIT 1")" \
    garbage "garbage: the quarantine holds the body as received"
is "$(post application/tlsrpt+gzip "$T/garbage")" 400 \
    "+gzip that is not gzip: 400"
# A gzip bomb: 1 GiB of zeros in under max-body, refused in its first
# 10 MiB (the source's inflated cap), quickly.
dd if=/dev/zero bs=1M count=1024 2>/dev/null | gzip -9 >"$T/bomb.gz"
start_ns=$(date +%s%N)
is "$(post application/tlsrpt+gzip "$T/bomb.gz")" 400 \
    "a gzip bomb of $(wc -c <"$T/bomb.gz") octets: 400"
ms=$((($(date +%s%N) - start_ns) / 1000000))
[ $ms -lt 2000 ]
ok $? "a gzip bomb: refused in ${ms} ms"
grep -q "inflated report passes the cap" "$T/body"
ok $? "a gzip bomb: the answer says it inflates past the cap"
is "$(count quarantine)" $((q0 + 3)) "both are in the quarantine too"

# ---- a locked store: 503 and Retry-After; policies answered meanwhile ----
# Two reports not stored yet: a sample under other report-ids.
s2=$T/new1.json
s3=$T/new2.json
jq '."report-id" = "lock-test-1"' "$s" >"$s2"
jq '."report-id" = "lock-test-2"' "$s" >"$s3"
r0=$(count reports)
(
	echo "BEGIN IMMEDIATE;"
	sleep 20
	echo "COMMIT;"
) | sqlite3 "$DB" &
LOCK=$!
sleep 0.5
post application/tlsrpt+json "$s2" >"$T/locked.code" &
pa=$!
sleep 0.3
curl -sS --max-time 60 --cacert "$T/ca.pem" \
    --resolve "tlsrpt.a.test:$PORT:127.0.0.1" -o "$T/body2" -w '%{http_code}' \
    -H 'Content-Type: application/tlsrpt+json' --data-binary "@$s3" "$RURL" \
    >"$T/second.code" 2>/dev/null &
pb=$!
sleep 0.3
# queue 2: a third report while two wait is refused at once.
is "$(post application/tlsrpt+json "$s")" 503 "a full queue: 503 at once"
is "$(header Retry-After)" 60 "a full queue: Retry-After"
slow=0
for _ in 1 2 3 4 5; do
	start_ns=$(date +%s%N)
	[ "$(get_policy)" = 200 ] || slow=1
	ms=$((($(date +%s%N) - start_ns) / 1000000))
	[ $ms -lt 1000 ] || slow=1
	sleep 0.5
done
kill -0 $pa 2>/dev/null
waiting=$?
ok $slow "policy GETs answered within 1 s each while a POST waits on the store"
ok $waiting "(the POST was still waiting then)"
wait $pa
is "$(cat "$T/locked.code")" 503 "the locked store: 503 (after the store's busy timeout)"
is "$(header Retry-After)" 60 "the locked store: Retry-After: 60"
wait $pb
is "$(cat "$T/second.code")" 201 "the report queued behind it is stored once the lock goes"
wait $LOCK
LOCK=
is "$(count reports)" $((r0 + 1)) "the store has the one stored, not the refused"
is "$(post application/tlsrpt+json "$s2")" 201 "the sender's retry is stored: 201"

# ---- the processes and their sandbox ----
REPORT=$(pgrep -P "$PID" -f 'serve --process report' | head -1)
SERVER=$(pgrep -P "$PID" -f 'serve --process server' | head -1)
[ -n "$REPORT" ]
ok $? "a report process runs ($REPORT)"
if [ -z "$USER_LINE" ]; then
	skip 9 "privilege drop needs root"
elif [ "${MTS_SANITIZED:-0}" = 1 ]; then
	skip 9 "sanitizer build: no filter, no chroot"
else
	for role in server report; do
		pid=$SERVER
		[ $role = report ] && pid=$REPORT
		st=/proc/${pid:-0}/status
		grep -Eq '^NoNewPrivs:[[:space:]]+1$' "$st" 2>/dev/null
		ok $? "the $role process has NoNewPrivs: 1"
		grep -Eq '^Seccomp:[[:space:]]+2$' "$st" 2>/dev/null
		ok $? "the $role process has Seccomp: 2 (a filter)"
		is "$(ps -o user= -p "${pid:-0}" | tr -d ' ')" nobody \
		    "the $role process runs as the configured user"
	done
	[ -z "$(ls -A "/proc/${SERVER:-0}/root/" 2>&1)" ]
	ok $? "the server process sees an empty root"
	ls "/proc/${REPORT:-0}/root/" >"$T/root.ls" 2>&1
	grep -qx reports.db "$T/root.ls" && ! grep -qx etc "$T/root.ls"
	ok $? "the report process sees the store's directory only ($(tr '\n' ' ' <"$T/root.ls"))"
	grep -q "report process runs as nobody (uid [0-9]*), chrooted to $T/store" \
	    "$T/serve.log"
	ok $? "the report process says where it is chrooted"
fi

# ---- the report process killed: replaced, the server serves on ----
kill -9 "${REPORT:-0}"
sleep 0.2
is "$(get_policy)" 200 "the report process killed: policies are served"
up=1
for _ in $(seq 30); do
	NEW=$(pgrep -P "$PID" -f 'serve --process report' | head -1)
	[ -n "$NEW" ] && [ "$NEW" != "$REPORT" ] && up=0 && break
	sleep 0.1
done
ok $up "a new report process is started"
[ "$(pgrep -P "$PID" -f 'serve --process server' | head -1)" = "$SERVER" ]
ok $? "the server process is the same"
code=
for _ in $(seq 30); do
	code=$(post application/tlsrpt+json "$s")
	[ "$code" = 200 ] && break
	sleep 0.1
done
is "$code" 200 "POSTs are stored again (200: known)"
grep -q "report process $REPORT killed by signal 9" "$T/serve.log"
ok $? "the parent logs the report process's end"

# ---- the access log and the metrics ----
sleep 1.2 # the access log is flushed every second
grep -q '"POST /v1/tlsrpt" 201' "$T/access.log"
ok $? "the access log has the POSTs"
curl -s "http://127.0.0.1:$MPORT/metrics" >"$T/metrics"
grep -Eq '^mtasts_serve_reports_total\{outcome="added"\} [1-9]' "$T/metrics"
ok $? "the metrics count stored reports"
grep -Eq '^mtasts_serve_reports_total\{outcome="quarantined"\} [1-9]' "$T/metrics"
ok $? "the metrics count quarantined ones"
grep -Eq '^mtasts_serve_reports_total\{outcome="refused"\} [1-9]' "$T/metrics"
ok $? "the metrics count refused POSTs"
stop
is $? 0 "SIGTERM stops the server and its report process"
gone=1
# Dead is enough: a zombie (state Z) waits for whoever inherited it
# (the machine's init) to reap it, which is not the server's doing.
for _ in $(seq 50); do
	if ! kill -0 "${NEW:-0}" 2>/dev/null ||
	    [ "$(ps -o stat= -p "${NEW:-0}" 2>/dev/null | cut -c1)" = Z ]; then
		gone=0
		break
	fi
	sleep 0.1
done
[ $gone -eq 0 ] || ps -o pid,ppid,stat,cmd -p "${NEW:-0}" | sed "s|^|# |"
ok $gone "no report process is left"

# ---- PostgreSQL as the store ----
. "$HERE/pg.sh"
pg_start "$T/pg" >/dev/null 2>"$T/pg.err"
rc=$?
if [ $rc -ne 0 ]; then
	skip 6 "no PostgreSQL to start ($(head -1 "$T/pg.err"))"
else
	conf "$T/pg.conf" "$PG_URL"
	start "$T/pg.conf" "$T/pg.log"
	ok $? "a server with a PostgreSQL store is up"
	is "$(post application/tlsrpt+json "$s")" 201 "a POST into PostgreSQL: 201"
	is "$("$PG_BINDIR/psql" -At "$PG_URL" -c 'SELECT count(*) FROM reports' 2>&1)" \
	    1 "PostgreSQL holds the report"
	REPORT=$(pgrep -P "$PID" -f 'serve --process report' | head -1)
	if [ -n "$USER_LINE" ] && [ "${MTS_SANITIZED:-0}" != 1 ]; then
		grep -Eq '^Seccomp:[[:space:]]+2$' "/proc/${REPORT:-0}/status"
		ok $? "the report process on PostgreSQL has Seccomp: 2"
	else
		skip 1 "no seccomp here"
	fi
	pg__as "$PG_BINDIR/pg_ctl" -D "$PG_DIR/data" -m fast -w stop >/dev/null 2>&1
	is "$(post application/tlsrpt+json "$s2")" 503 \
	    "PostgreSQL stopped: 503, the sender retries"
	is "$(header Retry-After)" 60 "PostgreSQL stopped: Retry-After"
	stop
fi

echo "1..$n"
[ "$failed" -eq 0 ]
