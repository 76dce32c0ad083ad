#!/bin/bash
# SPDX-License-Identifier: ISC
#
# bench/socketmap_selftest.sh: checks bench_socketmap_load against
# bench/socketmap_echo.py (a Python socketmap server whose reply depends
# on the key), over TCP and a UNIX socket: the count of each reply kind,
# strict netstrings (a leading zero, a missing comma, a reply over
# 100,000 octets end the connection and count as errors), the seeded
# random order, the latency of delayed replies, and a timed run.
# Not part of the test suite (bench tools are run by hand).
#
#   bench/socketmap_selftest.sh [BUILD]     # default: build
#
# Prints "ok N - ..." / "not ok N - ..." lines; exit 1 when one failed.
set -euo pipefail
export LC_ALL=C

ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${1:-${BUILD:-build}}
case $BUILD in /*) ;; *) [ -d "$BUILD" ] || BUILD=$ROOT/$BUILD ;; esac
LOAD=$BUILD/bench/bench_socketmap_load
[ -x "$LOAD" ] || {
	echo "socketmap_selftest.sh: $LOAD: not built" >&2
	exit 1
}
T=$(mktemp -d "${TMPDIR:-/tmp}/socketmap-selftest.XXXXXX")
SRV=
cleanup() {
	[ -n "$SRV" ] && kill "$SRV" 2>/dev/null
	rm -rf "$T"
}
trap cleanup EXIT

N=0 FAILED=0
check() { # DESCRIPTION COMMAND...
	local d=$1
	shift
	N=$((N + 1))
	if "$@"; then
		echo "ok $N - $d"
	else
		echo "not ok $N - $d"
		FAILED=$((FAILED + 1))
	fi
}

# start LISTEN: the echo server, waited for until it says ready.
start() {
	rm -f "$T/count" "$T/sock"
	python3 "$ROOT/bench/socketmap_echo.py" "$1" "$T/count" >"$T/srv.out" 2>"$T/srv.err" &
	SRV=$!
	for _ in $(seq 100); do
		grep -q ready "$T/srv.out" 2>/dev/null && return 0
		sleep 0.05
	done
	echo "socketmap_selftest.sh: the echo server did not start: $(cat "$T/srv.err")" >&2
	exit 1
}
# stop: stops the server; SERVED is what it answered.  Not in $(...):
# a subshell cannot wait for the server.
stop() {
	kill -TERM "$SRV"
	wait "$SRV" || true
	SRV=
	SERVED=$(cat "$T/count")
}

# run ARGS...: the generator; its last line in $LINE, output in $T/out.
run() {
	"$LOAD" "$@" >"$T/out" 2>"$T/err"
	LINE=$(tail -1 "$T/out")
}
# val KEY: a value of $LINE.
val() { tr ' ' '\n' <<<"$LINE" | sed -n "s/^$1=//p"; }
is() { [ "$(val "$1")" = "$2" ] || { echo "# $1=$(val "$1"), want $2: $LINE" >&2; return 1; }; }
between() { # KEY LO HI
	awk -v v="$(val "$1")" -v lo="$2" -v hi="$3" 'BEGIN { exit !(v >= lo && v <= hi) }' ||
	    { echo "# $1=$(val "$1") not in [$2, $3]" >&2; return 1; }
}

printf '%s\n' ok.a.test nf.b.test temp.c.test perm.d.test timeout.e.test >"$T/mixed"
seq 1 200 | sed 's/^/ok.d/; s/$/.test/' >"$T/ok200"

for target in "127.0.0.1:$((20000 + $$ % 20000))" "unix:$T/sock"; do
	start "$target"
	run -c 4 -d 16 -n 1000 -k "$T/mixed" "$target"
	check "$target: 1000 in order over 5 kinds, 200 each" \
	    eval 'is ok 200 && is notfound 200 && is temp 200 && is perm 200 && is timeout 200 && is errors 0'
	run -c 8 -d 64 -n 20000 -r -s 7 -k "$T/mixed" "$target"
	a=$LINE
	run -c 8 -d 64 -n 20000 -r -s 7 -k "$T/mixed" "$target"
	check "$target: random, seed 7: the same counts twice, 20,000 in all" \
	    eval '[ "$(cut -d" " -f5-10 <<<"$a")" = "$(cut -d" " -f5-10 <<<"$LINE")" ] &&
	    [ $(( $(val ok) + $(val notfound) + $(val temp) + $(val perm) + $(val timeout) )) = 20000 ] &&
	    [ "$(val ok)" != 4000 ] && is errors 0'
	run -c 2 -d 8 -n 100 -K other.x.test "$target"
	check "$target: an unknown status word is an error, the connection stays" \
	    eval 'is errors 100 && is ok 0 && grep -q "reconnects 0" "$T/out"'
	run -c 1 -d 1 -n 100 -K nospace.x.test "$target"
	check "$target: NOTFOUND without its space is an error" eval 'is errors 100 && is notfound 0'
	stop
	check "$target: the server answered exactly the 41,200 requests sent" [ "$SERVED" = 41200 ]
done

target=unix:$T/sock
start "$target"
for bad in zero comma big; do
	printf '%s\n' ok.a.test "$bad.b.test" >"$T/bad"
	run -c 1 -d 1 -n 100 -k "$T/bad" "$target"
	check "$bad: malformed replies are errors and end the connection" \
	    eval 'is ok 50 && is errors 50 && grep -q "malformed 50, lost in flight 0), reconnects 50" "$T/out"'
done
printf '%s\n' ok.a.test zero.b.test >"$T/bad"
run -c 1 -d 4 -n 400 -k "$T/bad" "$target"
# Which request meets a malformed reply first depends on the timing;
# every request is still accounted for, and some were lost in flight.
check "zero, pipelined 4: what was in flight behind a malformed reply is lost" \
    eval '[ $(( $(val ok) + $(val errors) )) = 400 ] &&
    grep -Eq "malformed [1-9][0-9]*, lost in flight [1-9][0-9]*\)" "$T/out"'
run -c 1 -d 1 -n 20 -K delay20.x.test "$target"
check "a reply delayed 20 ms: p50 between 20 and 30 ms, max below 60 ms" \
    eval 'between p50_us 20000 30000 && between max_us 20000 60000 && is ok 20'
run -c 2 -d 4 -n 40 -K delay10.x.test "$target"
check "delays of 10 ms, 4 in flight answered one by one: p50 40-60 ms" \
    eval 'between p50_us 35000 60000'
run -c 8 -d 64 -t 2 -w 0.5 -r -k "$T/ok200" "$target"
check "a timed run of 2 s after 0.5 s of warm-up: all OK, no error" \
    eval 'is errors 0 && is notfound 0 && [ "$(val ok)" -gt 1000 ] && grep -q "^measured 2.00 s" "$T/out"'
sed 's/^/# /' "$T/out"
stop

set +e
"$LOAD" -n 10 -w 1 -K ok.x "$target" >/dev/null 2>&1
check "usage: -n and -w together are refused (2)" [ $? = 2 ]
"$LOAD" -n 10 "$target" >/dev/null 2>&1
check "usage: no key (2)" [ $? = 2 ]
"$LOAD" -n 10 -K ok.x "unix:$T/nothing" >/dev/null 2>&1
check "nothing listening: exit 1" [ $? = 1 ]
set -e

echo "1..$N"
[ "$FAILED" = 0 ]
