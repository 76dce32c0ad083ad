#!/bin/bash
# SPDX-License-Identifier: ISC
#
# End-to-end tests of `mtasts policyd` on loopback, without a DNS world:
# the real parent, worker, connections, metrics listener and sandbox
# (src/policyd) over the scripted resolver of tests/e2e/policyd_fake.c
# (slowN.* answered after N ms, nopolicy.*, temp.*, error.*, huge.*, any
# other domain at once), spoken to by tests/e2e/socketmap_client.py.
# The keys that need no lookup (RFC 8461 §3.4), netstring errors and
# caps, pipelining order with lookups pending, many connections, idle
# timeout, max-connections, map-name, -n, SIGHUP with a bad and a good
# configuration, a killed worker, the sandbox as /proc shows it, a unix
# socket's mode, coalescing in /metrics, cache dump and purge.  TAP.
#
#   policyd.sh POLICYD_FAKE
set -u

BIN=${1:?usage: policyd.sh POLICYD_FAKE}
HERE=$(cd "$(dirname "$0")" && pwd)
SM="python3 $HERE/socketmap_client.py"
if [ "$(id -u)" != 0 ]; then
	echo "1..0 # SKIP needs root (privilege drop, chroot)"
	exit 0
fi

T=$(mktemp -d "${TMPDIR:-/tmp}/mtasts-policyd.XXXXXX")
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
	[ $r -eq 0 ] || printf '# got  %s\n# want %s\n' "$1" "$2"
}

# Two ports free on this machine (the kernel's choice, then released).
read -r PORT MPORT < <(python3 -c '
import socket
s = [socket.socket() for _ in range(2)]
for x in s:
    x.bind(("127.0.0.1", 0))
print(*(x.getsockname()[1] for x in s))')
A=127.0.0.1:$PORT
NL='
'

write_conf() { # extra lines on stdin
	{
		echo "listen inet:$A"
		echo "listen unix:$T/policyd.sock mode 0660 group daemon"
		echo "cache sqlite:$T/cache/policyd.db"
		echo "metrics inet:127.0.0.1:$MPORT"
		echo "resolver 127.0.0.1"
		cat
	} >"$T/policyd.conf"
}

start() {
	: >"$T/log"
	"$BIN" policyd -d -f "$T/policyd.conf" 2>>"$T/log" &
	PID=$!
	for _ in $(seq 50); do
		grep -q "worker .* serves" "$T/log" && return 0
		sleep 0.1
	done
	echo "# the daemon did not start:"
	sed 's/^/# /' "$T/log"
	return 1
}

worker_pid() {
	pgrep -f "policyd --process worker" -P "$PID" | head -1
}

metric() { # metric NAME -> value
	curl -s "http://127.0.0.1:$MPORT/metrics" |
		awk -v k="$1" '$1 == k { print $2 }'
}

# ---- -n ----
write_conf </dev/null
out=$("$BIN" policyd -n -f "$T/policyd.conf" 2>&1)
ok $? "-n: a good configuration exits 0"
case "$out" in
*"listen unix:$T/policyd.sock mode 0660 group daemon"*"idle-timeout 300s"*)
	ok 0 "-n prints the configuration, defaults included" ;;
*) ok 1 "-n prints the configuration, defaults included" ;;
esac
printf 'listen inet:%s\ntimeout 0\n' "$A" >"$T/bad.conf"
out=$("$BIN" policyd -n -f "$T/bad.conf" 2>&1)
rc=$?
is "$rc" 1 "-n: a bad configuration exits 1"
case "$out" in
*"$T/bad.conf:2: timeout: 0 out of range"*) ok 0 "-n: the error names file:line" ;;
*) ok 1 "-n: the error names file:line"; echo "# $out" ;;
esac

# ---- start ----
start
ok $? "the daemon starts"
is "$(stat -c '%a %G' "$T/policyd.sock")" "660 daemon" \
	"the unix socket has its mode and group"
is "$(stat -c %U "$T/cache")" "$(id -un mtasts 2>/dev/null || echo nobody)" \
	"the cache directory is made for the worker's user"

# ---- keys answered without a lookup (RFC 8461 §3.4) ----
got=$($SM "$A" "postfix .example.com" "postfix [192.0.2.1]" \
	"postfix [ipv6:2001:db8::1]:25" "postfix 192.0.2.1" "postfix foo" \
	"postfix a..b")
is "$got" "NOTFOUND ${NL}NOTFOUND ${NL}NOTFOUND ${NL}NOTFOUND ${NL}NOTFOUND ${NL}NOTFOUND " \
	"parent, address literals and malformed keys: NOTFOUND"
got=$($SM "$A" "postfix Example.COM." "postfix [mx.example.net]:587" \
	"postfix bücher.example")
is "$got" "OK secure match=example.com servername=hostname${NL}OK secure match=mx.example.net servername=hostname${NL}OK secure match=xn--bcher-kva.example servername=hostname" \
	"domain, next-hop and UTF-8 keys are looked up as their policy domain (A-labels)"
got=$($SM "unix:$T/policyd.sock" "postfix nopolicy.example" "postfix temp.example" \
	"postfix error.example" "postfix huge.example")
is "$got" "NOTFOUND ${NL}TEMP fake failure${NL}TEMP out of memory${NL}TEMP reply too long" \
	"over the unix socket: NOTFOUND, TEMP, a resolver error and a reply over 100,000 octets answered TEMP"

# ---- pipelining order with a lookup pending ----
got=$($SM "$A" "postfix a.example" "postfix slow400.example" "postfix b.example" \
	"postfix .c.example" "postfix slow100.example" "postfix d.example")
want="OK secure match=a.example servername=hostname
OK secure match=slow400.example servername=hostname
OK secure match=b.example servername=hostname
NOTFOUND 
OK secure match=slow100.example servername=hostname
OK secure match=d.example servername=hostname"
is "$got" "$want" "pipelined replies come in request order behind a pending lookup"
got=$($SM "$A" --first "postfix slow600.example" "postfix cached.example")
is "$got" "OK secure match=cached.example servername=hostname${NL}OK secure match=slow600.example servername=hostname" \
	"a slow domain on one connection does not hold a cached one on another"

# ---- netstring errors and caps ----
got=$($SM "$A" --raw '01:x,')
is "$got" "EOF" "a leading zero closes the connection"
got=$($SM "$A" --raw '11:postfix a.b,11:postfix a.bX')
is "$got" "OK secure match=a.b servername=hostname${NL}EOF" \
	"the request before a bad netstring is answered, then the connection closes"
got=$($SM "$A" --raw '10001:')
is "$got" "EOF" "a query over 10,000 octets is refused from its length"
q=$(printf 'postfix %09992d' 0)
got=$($SM "$A" --raw "10000:$q,")
is "$got" "NOTFOUND ${NL}TIMEOUT" "a query of exactly 10,000 octets is read (and the connection stays)"
got=$($SM "$A" "postfix e.example")
is "$got" "OK secure match=e.example servername=hostname" \
	"other connections go on after protocol errors"
got=$($SM "$A" "postfix" "postfix i.example")
case "$got" in
"PERM "*"${NL}OK secure match=i.example servername=hostname") ok 0 "a request without a key is answered PERM, the next one OK" ;;
*) ok 1 "a request without a key is answered PERM, the next one OK"; echo "# $got" ;;
esac
is "$(metric mtasts_policyd_protocol_errors_total)" 3 \
	"metrics count the protocol errors"

# ---- many connections, many pipelined requests ----
got=$($SM "$A" --many 40 64 many.example)
is "$got" ok "40 connections x 64 pipelined requests, every reply in its place"

# ---- coalescing, seen in /metrics ----
before=$(metric mtasts_policyd_resolutions_total)
$SM "$A" --first "postfix slow300.co.example" "postfix slow300.co.example" \
	"postfix slow300.co.example" "postfix slow300.co.example" >"$T/co"
is "$(sort -u "$T/co")" "OK secure match=slow300.co.example servername=hostname" \
	"four concurrent lookups of one domain all answered"
is "$(($(metric mtasts_policyd_resolutions_total) - before))" 1 \
	"they made one resolution (coalesced)"

# ---- backpressure: a client that does not read ----
# 300,000 pipelined requests (6.6 MB, 15 MB of replies: more than the
# kernel buffers hold) from a client that reads nothing for a
# second (a small receive buffer): the worker stops reading that
# connection once its unsent output passes its high mark (256 KiB),
# instead of buffering the replies, and goes on when the client
# reads; every reply arrives, in order.
paused0=$(metric mtasts_policyd_paused_total)
rss0=$(awk '/^VmRSS:/ { print $2 }' "/proc/$(worker_pid)/status")
python3 - "$PORT" "$(worker_pid)" >"$T/bp" <<'EOF'
import socket, sys, threading, time
port, pid = int(sys.argv[1]), sys.argv[2]
n = 300000
req = b"18:postfix bp.example,"
rep = b"OK secure match=bp.example servername=hostname"
want = b"%d:%s," % (len(rep), rep)
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
s.connect(("127.0.0.1", port))
s.setblocking(False)
data, sent = req * n, 0
deadline = time.time() + 1.0
while time.time() < deadline:  # send what the worker takes, read nothing
    try:
        sent += s.send(data[sent:])
    except BlockingIOError:
        time.sleep(0.01)
rss = [l.split()[1] for l in open("/proc/%s/status" % pid) if l.startswith("VmRSS:")][0]
print("sent_all", int(sent == len(data)))
print("rss_kib", rss)
s.setblocking(True)
s.settimeout(20)
# The rest of the requests from a thread: the worker takes them only
# as its replies are read.
rest = threading.Thread(target=s.sendall, args=(data[sent:],), daemon=True)
rest.start()
buf, got = b"", 0
while got < n:
    chunk = s.recv(1 << 16)
    if not chunk:
        break
    buf += chunk
    k = len(buf) // len(want)
    if buf[:k * len(want)] != want * k:
        break
    got += k
    buf = buf[k * len(want):]
print("replies", got)
EOF
is "$(sed -n 's/^replies //p' "$T/bp")" 300000 \
	"backpressure: 300,000 pipelined replies all arrive, in order, once the client reads"
is "$(sed -n 's/^sent_all //p' "$T/bp")" 0 \
	"backpressure: the worker stopped taking requests while the client did not read"
[ "$(($(metric mtasts_policyd_paused_total) - paused0))" -ge 1 ]
ok $? "backpressure: the pause is counted in /metrics (paused_total)"
rss1=$(sed -n 's/^rss_kib //p' "$T/bp")
[ -n "$rss1" ] && [ $((rss1 - rss0)) -lt 2048 ]
ok $? "backpressure: the worker's memory grew by less than 2 MiB meanwhile ($rss0 -> $rss1 KiB)"

# ---- the sandbox (/proc) ----
W=$(worker_pid)
if [ "${MTS_SANITIZED:-0}" = 1 ]; then
	echo "ok $((n + 1)) - # SKIP sanitizer build: no chroot or seccomp"
	n=$((n + 1))
else
	is "$(awk '/^Uid:/ { print ($2 != 0 && $3 != 0 && $4 != 0) }' /proc/$W/status)" 1 \
		"worker: no uid 0"
	is "$(awk '/^NoNewPrivs:/ { print $2 }' /proc/$W/status)" 1 "worker: NoNewPrivs 1"
	s=$(for t in /proc/$W/task/*; do awk '/^Seccomp:/ { print $2 }' $t/status; done | sort -u)
	is "$s" 2 "worker: Seccomp 2 on every thread ($(ls /proc/$W/task | wc -l) threads)"
	is "$(readlink /proc/$W/root)" "$T/cache" "worker: chrooted to the cache directory"
fi

# ---- SIGHUP: a bad configuration keeps the worker ----
echo "timeout 0" >>"$T/policyd.conf"
kill -HUP "$PID"
sleep 0.5
grep -q "reload refused" "$T/log"
ok $? "SIGHUP with a bad configuration: refused, logged"
is "$(worker_pid)" "$W" "the worker keeps running"
is "$($SM "$A" "postfix f.example")" "OK secure match=f.example servername=hostname" \
	"and keeps serving"

# ---- SIGHUP: a good one replaces the worker ----
printf 'map-name postfix\nidle-timeout 1\nmax-connections 3\n' | write_conf
kill -HUP "$PID"
for _ in $(seq 50); do
	[ -n "$(worker_pid)" ] && [ "$(worker_pid)" != "$W" ] && break
	sleep 0.1
done
sleep 0.3
is "$($SM "$A" "other g.example" "postfix g.example")" \
	"PERM unknown map${NL}OK secure match=g.example servername=hostname" \
	"SIGHUP with a good configuration: map-name applies (PERM unknown map)"
kill -0 "$W" 2>/dev/null
is $? 1 "the old worker has drained and exited"

# ---- idle timeout, max-connections ----
is "$($SM "$A" --idle 3)" closed "an idle connection is closed (idle-timeout 1)"
python3 - "$PORT" <<'EOF' >"$T/max"
import socket, sys, time
socks = [socket.create_connection(("127.0.0.1", int(sys.argv[1]))) for _ in range(4)]
time.sleep(0.3)
for s in socks:
    try:
        print("closed" if s.recv(1, socket.MSG_DONTWAIT) == b"" else "data")
    except BlockingIOError:
        print("open")
EOF
is "$(sort "$T/max" | uniq -c | awk '{ printf "%s %s;", $1, $2 }')" "1 closed;3 open;" \
	"max-connections 3: a fourth connection is closed at once"
sleep 1.5

# ---- a killed worker is started again ----
W=$(worker_pid)
kill -9 "$W"
for _ in $(seq 50); do
	[ -n "$(worker_pid)" ] && [ "$(worker_pid)" != "$W" ] && break
	sleep 0.1
done
sleep 0.3
ok $([ -n "$(worker_pid)" ] && [ "$(worker_pid)" != "$W" ] && echo 0 || echo 1) \
	"a worker killed by SIGKILL is started again"
is "$($SM "$A" "postfix h.example")" "OK secure match=h.example servername=hostname" \
	"the new worker serves"

# ---- cache dump and purge ----
"$BIN" policyd cache dump -f "$T/policyd.conf" >"$T/dump"
is "$?:$(wc -c <"$T/dump")" "0:0" "cache dump of an empty store: nothing, exit 0"
"$BIN" policyd cache purge --cache "sqlite:$T/cache/policyd.db" nothere.example >/dev/null
is $? 1 "cache purge of a domain not cached exits 1"
"$BIN" policyd cache purge --all -f "$T/policyd.conf" >/dev/null
is $? 0 "cache purge --all exits 0"
"$BIN" policyd cache purge -f "$T/policyd.conf" >/dev/null 2>&1
is $? 2 "cache purge without a domain is a usage error"

# ---- SIGTERM ----
kill "$PID"
wait "$PID"
is $? 0 "SIGTERM stops the daemon, exit 0"
PID=
[ ! -e "$T/policyd.sock" ]
ok $? "the unix socket is removed"

echo "1..$n"
[ $failed -eq 0 ]
