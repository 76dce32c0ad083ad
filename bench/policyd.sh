#!/bin/bash
# SPDX-License-Identifier: ISC
#
# bench/policyd.sh: socketmap lookups/s and latency of `mtasts policyd`
# against postfix-mta-sts-resolver (Debian's, with python3-uvloop, its
# recommended install), both inside the local internet (tests/world) with
# caches warmed by real lookups (DNS through the world's validating
# resolver, policies fetched over HTTPS from `mtasts serve`).  A
# benchmark, not a test: it prints figures and never fails on them (it
# stops only when a run is wrong: an error, a reply of the wrong kind).
#
#   apt-get install postfix-mta-sts-resolver python3-uvloop
#   meson setup build-bench --buildtype=release && ninja -C build-bench
#   sudo BUILD=build-bench bench/policyd.sh
#
# Root is needed for the world's network namespace.  Each daemon runs in
# the world (`world.sh exec`) pinned to core 0 (taskset: every thread);
# the load generator (bench_socketmap_load, bench/socketmap_load.c) to
# core 1: CONNS connections with DEPTH requests pipelined on each, keys
# drawn at random (seeded) from the DOMAINS domains with enforce policies.
#
# The peer, one instance per cache type, upstream's defaults but:
#   port 8461 on 127.0.0.1 (its default), the log in a file;
#   cache_grace 3600 (default 60: a lookup of an entry older than that
#     re-checks the TXT record first; 3600 makes every lookup of the
#     measured window a cache hit, whatever DURATION);
#   cache internal (its default: an LRU of cache_size 10000 entries in
#     memory), then sqlite (the one Debian's /etc/mta-sts-daemon.yml
#     sets: WAL, synchronous=NORMAL, a pool of `threads` connections,
#     default: the number of CPUs);
#   proactive_policy_fetching left off (its default; on, it would scan
#     the cache 1 s after start, empty then, and again a day later);
#   SSL_CERT_FILE=$WORLD_CA: aiohttp's default context trusts the
#     world's CA (and only it).
# Each instance starts empty and is warmed by one pass over every domain
# in order, one connection, WARM_DEPTH in flight (every lookup a real TXT
# query and HTTPS fetch: the cold figure), then measured ROUNDS times
# (medians).  The negative answer: NEG domains that have an MX and no
# _mta-sts record; the peer caches no negative answer, so each of its
# lookups is a TXT query to the world's resolver (which has the answer
# cached after the warm pass).
#
# Environment (all optional):
#   BUILD      build directory (default: build); a release build is expected
#   DOMAINS    domains with enforce policies (default 200)
#   NEG        domains without a policy (default 10)
#   ROUNDS     measured runs of each load (default 3)
#   DURATION   seconds of each measured run (default 10)
#   WARMUP     seconds of load before each run's measuring (default 2)
#   CONNS, DEPTH  connections, requests in flight on each (8, 64)
#   WARM_DEPTH requests in flight during the warm pass (default 16)
#   SEED       the generator's seed (default 1)
#   RSS_DOMAINS domains cached for the memory figure (default 100000)
#   MTS_WORLD_PREFIX  the world's namespace is $MTS_WORLD_PREFIX-policyd
#              (default mtsworld-policyd)
#
# The last line: `RESULT cached_qps_ratio=X sqlite_ratio=Y ...` (mtasts
# policyd with its default persistent cache over the peer's internal and
# sqlite caches) once mtasts policyd exists; until then
# `RESULT peer_cached_qps=X peer_sqlite_qps=Y`.
# shellcheck disable=SC2015 # "A && B || die" is meant: die when A or B fails
set -euo pipefail
export LC_ALL=C

ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${BUILD:-build}
DOMAINS=${DOMAINS:-200}
NEG=${NEG:-10}
ROUNDS=${ROUNDS:-3}
DURATION=${DURATION:-10}
WARMUP=${WARMUP:-2}
CONNS=${CONNS:-8}
DEPTH=${DEPTH:-64}
WARM_DEPTH=${WARM_DEPTH:-16}
SEED=${SEED:-1}
RSS_DOMAINS=${RSS_DOMAINS:-100000}
PORT=8461 # the socketmap port of both daemons, one at a time
WORLD=$ROOT/tests/world/world.sh
export WORLD_NS=${MTS_WORLD_PREFIX:-mtsworld}-policyd

die() {
	echo "policyd.sh: $*" >&2
	exit 1
}

if [ "$(id -u)" != 0 ]; then
	echo "policyd.sh: needs root (the world's network namespace); run it with sudo" >&2
	exit 2
fi
case $BUILD in /*) ;; *) [ -d "$BUILD" ] || BUILD=$ROOT/$BUILD ;; esac
BUILD=$(cd "$BUILD" 2>/dev/null && pwd) || die "no build directory $BUILD (set BUILD)"
MTASTS=$BUILD/mtasts
LOAD=$BUILD/bench/bench_socketmap_load
for f in "$MTASTS" "$LOAD"; do
	[ -x "$f" ] || die "$f: not built (ninja -C $BUILD)"
done
for t in taskset python3 awk mta-sts-daemon; do
	command -v "$t" >/dev/null ||
	    die "$t is not installed (apt-get install postfix-mta-sts-resolver python3-uvloop util-linux)"
done
# The peer's interpreter (its #! line), not whichever python3 is first.
PEER_PY=$(sed -n '1s/^#! *//p' "$(command -v mta-sts-daemon)")
"$PEER_PY" -c 'import uvloop' 2>/dev/null ||
    die "python3-uvloop is not installed (the peer's recommended install)"
[ "$(nproc --all)" -ge 2 ] || die "needs two cores"
BUILDTYPE=$(python3 -c 'import json, sys
print(next(o["value"] for o in json.load(open(sys.argv[1])) if o["name"] == "buildtype"))' \
    "$BUILD/meson-info/intro-buildoptions.json" 2>/dev/null || echo unknown)
[ "$BUILDTYPE" = release ] ||
    echo "warning: $BUILD is a $BUILDTYPE build; the figures are for release builds" >&2

WORK=$(mktemp -d "${TMPDIR:-/tmp}/mtasts-policyd-bench.XXXXXX")
chmod 0711 "$WORK"
DAEMON= # the daemon running now (its pid)
WORLD_UP=0
FG=

cleanup() {
	local rc=$?
	trap - EXIT INT TERM
	[ -n "$FG" ] && kill -TERM "$FG" 2>/dev/null
	[ -n "$DAEMON" ] && stop_daemon
	[ "$WORLD_UP" = 1 ] && "$WORLD" down >/dev/null 2>&1
	rm -rf "$WORK"
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# longrun CMD...: a long command that a signal ends at once (bash runs
# traps only after a foreground command, but during `wait`).
longrun() {
	local rc=0
	"$@" &
	FG=$!
	wait "$FG" || rc=$?
	FG=
	return "$rc"
}

section() { printf '\n== %s\n' "$*"; }
now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.2f", b - a }'; }

# W CMD...: CMD in the world (its DNS, its addresses, its variables).
W() { "$WORLD" exec "$@"; }

# ---- the domains ----

# gen_domains DIR: DOMAINS healthy signed zones with an enforce policy
# served by the world's main policy server (mtasts serve), named
# pd00001.test ...; NEG signed zones with an MX and no _mta-sts record,
# np0001.test ...  The MX hosts need not exist: no one connects to them.
# Writes the keys to $WORK/keys.pos and $WORK/keys.neg.
gen_domains() {
	local dir=$1 i d
	mkdir -p "$dir"
	: >"$WORK/keys.pos"
	: >"$WORK/keys.neg"
	for ((i = 1; i <= DOMAINS; i++)); do
		printf -v d 'pd%05d.test' "$i"
		cat >"$dir/$d.domain" <<EOF
zone signed
mx 10 mx1
a mx1 192.0.2.1
a mta-sts @https
cert mta-sts ok
txt _mta-sts "v=STSv1; id=20261207T000000;"
policy version: STSv1
policy mode: enforce
policy mx: mx1.$d
policy mx: *.mx.$d
policy max_age: 604800
EOF
		echo "$d" >>"$WORK/keys.pos"
	done
	for ((i = 1; i <= NEG; i++)); do
		printf -v d 'np%04d.test' "$i"
		printf 'zone signed\nmx 10 mx1\na mx1 192.0.2.1\n' >"$dir/$d.domain"
		echo "$d" >>"$WORK/keys.neg"
	done
}

# ---- daemons ----

# wait_ready PID: until the daemon answers a parent-domain key (both
# answer it NOTFOUND at once, with no lookup), at most 30 s.
wait_ready() {
	local i
	for ((i = 0; i < 300; i++)); do
		kill -0 "$1" 2>/dev/null || return 1
		W python3 "$ROOT/bench/socketmap_query.py" -t 2 "127.0.0.1:$PORT" .ready.test \
		    >/dev/null 2>&1 && return 0
		sleep 0.1
	done
	return 1
}

# start_daemon LOG CMD...: CMD in the world on core 0; DAEMON is its pid
# (world.sh, ip netns, env and taskset all exec: $! is the daemon).  Not
# through $(...): the daemon must be a child of this shell.  Refuses to
# start while something answers on the port (the peer sets SO_REUSEPORT:
# a leftover would share the load).
start_daemon() {
	local log=$1
	shift
	! W python3 "$ROOT/bench/socketmap_query.py" -t 1 "127.0.0.1:$PORT" .x.test \
	    >/dev/null 2>&1 || die "something already answers on 127.0.0.1:$PORT"
	"$WORLD" exec taskset -c 0 "$@" </dev/null >"$log" 2>&1 &
	DAEMON=$!
	wait_ready "$DAEMON" || die "the daemon ($*) did not start: $(tail -5 "$log")"
}

# stop_daemon: TERM the daemon, KILL it after 30 s.
stop_daemon() {
	local i
	kill -TERM "$DAEMON" 2>/dev/null || true
	for ((i = 0; i < 300; i++)); do
		kill -0 "$DAEMON" 2>/dev/null || break
		sleep 0.1
	done
	kill -KILL "$DAEMON" 2>/dev/null || true
	wait "$DAEMON" 2>/dev/null || true
	DAEMON=
}

# cpu_ticks PID: utime + stime of every thread of PID (/proc/PID/stat
# fields 14 and 15; the name, field 2, may hold ") ").
cpu_ticks() { awk '{ sub(/^.*\) /, ""); print $12 + $13 }' "/proc/$1/stat"; }
# daemon_ticks: cpu_ticks of the daemon and of its children (mtasts
# policyd's parent does nothing; its worker answers).
daemon_ticks() {
	local t=0 p
	for p in $DAEMON $(pgrep -P "$DAEMON"); do
		t=$((t + $(cpu_ticks "$p" 2>/dev/null || echo 0)))
	done
	echo "$t"
}
CLK=$(getconf CLK_TCK)

# udp_drops: UDP datagrams the world's kernel dropped because a socket's
# receive buffer was full (RcvbufErrors of /proc/net/snmp, read in the
# namespace): DNS answers a busy resolver client never reads.
udp_drops() {
	# shellcheck disable=SC2016 # awk's own $1, $2 and $6
	W awk '$1 == "Udp:" && $2 ~ /^[0-9]/ { print $6; exit }' /proc/net/snmp
}
vm_kib() { awk -v f="$2:" '$1 == f { print $2; exit }' "/proc/$1/status"; }

# ---- the load ----

# load ARGS...: the generator in the world on core 1 against the daemon;
# sets LINE (its last line) and keeps its output in $WORK/load.out.
load() {
	longrun "$WORLD" exec taskset -c 1 "$LOAD" "$@" "127.0.0.1:$PORT" \
	    >"$WORK/load.out" 2>"$WORK/load.err" ||
	    die "bench_socketmap_load failed: $(tail -3 "$WORK/load.err")"
	LINE=$(tail -1 "$WORK/load.out")
}
val() { tr ' ' '\n' <<<"$LINE" | sed -n "s/^$1=//p"; }

# warm NAME KEYS KIND: one pass over every key in order; every reply must
# be of KIND (ok, notfound).  Prints the cold lookups/s.
warm() {
	local n t0
	n=$(wc -l <"$2")
	t0=$(now)
	load -c 1 -d "$WARM_DEPTH" -n "$n" -T 30 -k "$2"
	[ "$(val "$3")" = "$n" ] && [ "$(val errors)" = 0 ] ||
	    die "$1: the warm pass over $2 did not answer $3 to all $n keys: $LINE"
	printf '  %-28s %d lookups in %s s: %s/s, p50 %s us, p99 %s us\n' \
	    "$1 warm pass" "$n" "$(since "$t0")" "$(val qps)" "$(val p50_us)" "$(val p99_us)"
}

# measure NAME KEYS KIND: ROUNDS timed runs of the full load; each must
# answer only KIND without error.  Appends "NAME qps p50 p99 max busy
# client" per run to $WORK/runs (busy: the daemon's share of core 0) and
# prints each.
measure() {
	local name=$1 keys=$2 kind=$3 r c0 c1 t0 t1 busy n u0 u1
	for ((r = 1; r <= ROUNDS; r++)); do
		u0=$(udp_drops)
		c0=$(daemon_ticks)
		t0=$(now)
		load -c "$CONNS" -d "$DEPTH" -r -s "$((SEED + r))" -t "$DURATION" -w "$WARMUP" -k "$keys"
		t1=$(now)
		c1=$(daemon_ticks)
		u1=$(udp_drops)
		n=$(($(val ok) + $(val notfound) + $(val temp) + $(val perm) + $(val timeout)))
		[ "$(val errors)" = 0 ] && [ "$(val "$kind")" = "$n" ] ||
		    die "$name: not every reply was $kind: $LINE"
		busy=$(awk -v a="$c0" -v b="$c1" -v k="$CLK" -v t0="$t0" -v t1="$t1" \
		    'BEGIN { printf "%.2f", (b - a) / k / (t1 - t0) }')
		echo "$name $(val qps) $(val p50_us) $(val p99_us) $(val max_us) $busy $(val client_cpu)" >>"$WORK/runs"
		printf '  %-28s %8s/s  p50 %9s us  p99 %9s us  max %9s us  daemon %s of core 0, generator %s of core 1%s\n' \
		    "$name ($r/$ROUNDS)" "$(val qps)" "$(val p50_us)" "$(val p99_us)" "$(val max_us)" "$busy" \
		    "$(val client_cpu)" "$([ "$u1" = "$u0" ] || echo ", $((u1 - u0)) UDP datagrams dropped (receive buffers full)")"
	done
}

# median FIELD NAME: the median of a field of NAME's runs (2 qps, 3 p50,
# 4 p99, 5 max, 6 daemon busy, 7 generator busy).
median() {
	awk -v f="$1" -v n="$2" '$1 == n { a[++k] = $f }
	END {
		for (i = 2; i <= k; i++)
			for (j = i; j > 1 && a[j - 1] > a[j]; j--) { t = a[j]; a[j] = a[j - 1]; a[j - 1] = t }
		if (k == 0) print "-"; else print k % 2 ? a[(k + 1) / 2] : (a[k / 2] + a[k / 2 + 1]) / 2
	}' "$WORK/runs"
}

# ---- the peer: postfix-mta-sts-resolver ----

# peer_conf CACHE: its configuration (mta-sts-daemon.yml(5)).
peer_conf() {
	cat <<EOF
host: 127.0.0.1
port: $PORT
reuse_port: true
shutdown_timeout: 20
cache_grace: 3600
proactive_policy_fetching:
  enabled: false
default_zone:
  strict_testing: false
  timeout: 4
  require_sni: true
EOF
	case $1 in
	internal) printf 'cache:\n  type: internal\n  options:\n    cache_size: 10000\n' ;;
	sqlite) printf 'cache:\n  type: sqlite\n  options:\n    filename: "%s"\n' "$WORK/peer-cache.db" ;;
	esac
}

# measure_peer CACHE: one instance with that cache, warmed, measured
# (cached lookups, then the negative answer).
measure_peer() {
	local cache=$1 conf=$WORK/peer-$1.yml log=$WORK/peer-$1.log
	peer_conf "$cache" >"$conf"
	rm -f "$WORK/peer-cache.db"*
	start_daemon "$WORK/peer-$cache.out" env SSL_CERT_FILE="$WORLD_CA" \
	    mta-sts-daemon -c "$conf" -l "$log" -v info
	grep -q 'uvloop enabled' "$log" || die "the peer runs without uvloop: $(head -5 "$log")"
	echo "  peer ($cache cache): pid $DAEMON, $(taskset -cp "$DAEMON" | awk '{ print "core " $NF }'), $(find "/proc/$DAEMON/task" -mindepth 1 -maxdepth 1 | wc -l) threads"
	warm "peer $cache" "$WORK/keys.pos" ok
	warm "peer $cache negative" "$WORK/keys.neg" notfound
	echo "  sample replies:"
	W python3 "$ROOT/bench/socketmap_query.py" "127.0.0.1:$PORT" \
	    "$(head -1 "$WORK/keys.pos")" "$(head -1 "$WORK/keys.neg")" | sed 's/^/    /'
	measure "peer-$cache" "$WORK/keys.pos" ok
	measure "peer-$cache-neg" "$WORK/keys.neg" notfound
	echo "  peer ($cache cache): peak RSS $(vm_kib "$DAEMON" VmHWM) KiB; its log: $(grep -c . "$log") lines, the WARNING and ERROR ones:"
	# The messages without their time, counted (the generator closes
	# its connections with requests in flight at the end of each run).
	sed -n 's/^[0-9-]* [0-9:]* \(WARNING\|ERROR\) *//p' "$log" |
	    sed 's/0x[0-9a-f]*/0x.../g' | sort | uniq -c | sort -rn | head -5 | sed 's/^ */    /'
	stop_daemon
}

# ---- mtasts policyd ----

# mtasts_conf CACHE: its configuration (mtasts-policyd(8)): the world's
# validating resolver, trust anchor and CA, the cache CACHE (a URL).
mtasts_conf() {
	cat <<EOF
listen inet:127.0.0.1:$PORT
user nobody
cache $1
resolver $WORLD_RESOLVER
trust-anchor $WORLD_TA
ca-file $WORLD_CA
timeout 4s
EOF
}

# measure_mtasts: `mtasts policyd` measured as the peer is (same world,
# core 0, one warm pass, the same loads), with its default persistent
# cache (SQLite, in $WORK as the peer's), then the negative answer, then
# peak RSS with RSS_DOMAINS (100,000) domains cached: a store filled by
# bench_pcache_fill (bench/pcache_fill.c) on /dev/shm, every domain
# looked up once so that each is in the daemon's memory, then the
# largest VmHWM of its processes.  Returns 1, having said why, when this
# build has no policyd.
measure_mtasts() {
	local conf=$WORK/policyd.conf rss_dir worker= rss=0 w k
	if ! "$MTASTS" policyd -h 2>&1 | grep -q policyd; then
		echo "  mtasts policyd: not in this build ($MTASTS); measured once it exists"
		return 1
	fi
	mkdir -p "$WORK/mtasts-cache"
	chmod 0777 "$WORK/mtasts-cache"
	mtasts_conf "sqlite:$WORK/mtasts-cache/policyd.db" >"$conf"
	start_daemon "$WORK/mtasts.out" "$MTASTS" policyd -d -f "$conf"
	echo "  mtasts policyd (sqlite cache): pid $DAEMON, $(taskset -cp "$DAEMON" | awk '{ print "core " $NF }'), worker pid(s) $(pgrep -P "$DAEMON" | tr '\n' ' ')"
	warm "mtasts" "$WORK/keys.pos" ok
	warm "mtasts negative" "$WORK/keys.neg" notfound
	echo "  sample replies:"
	W python3 "$ROOT/bench/socketmap_query.py" "127.0.0.1:$PORT" \
	    "$(head -1 "$WORK/keys.pos")" "$(head -1 "$WORK/keys.neg")" | sed 's/^/    /'
	measure "mtasts" "$WORK/keys.pos" ok
	measure "mtasts-neg" "$WORK/keys.neg" notfound
	stop_daemon

	rss_dir=$(mktemp -d /dev/shm/mtasts-policyd-rss.XXXXXX)
	chmod 0777 "$rss_dir"
	"$BUILD/bench/bench_pcache_fill" "sqlite:$rss_dir/policyd.db" "$RSS_DOMAINS" rss >"$WORK/fill.out" ||
	    die "bench_pcache_fill failed"
	chmod 0666 "$rss_dir/policyd.db"
	seq -f 'rss%06g.test' 1 "$RSS_DOMAINS" >"$WORK/keys.rss"
	{
		mtasts_conf "sqlite:$rss_dir/policyd.db"
		echo "memory-entries $((RSS_DOMAINS + 1000))"
	} >"$conf"
	start_daemon "$WORK/mtasts-rss.out" "$MTASTS" policyd -d -f "$conf"
	warm "mtasts $RSS_DOMAINS domains" "$WORK/keys.rss" ok
	for w in $DAEMON $(pgrep -P "$DAEMON"); do
		k=$(vm_kib "$w" VmHWM 2>/dev/null) || continue
		[ -n "$k" ] && [ "$k" -gt "$rss" ] && rss=$k && worker=$w
	done
	MTASTS_RSS_KIB=$rss
	echo "  mtasts policyd with $RSS_DOMAINS domains cached: peak RSS $rss KiB (pid $worker; store filled: $(cat "$WORK/fill.out"))"
	stop_daemon
	rm -rf "$rss_dir"
	return 0
}

# ---- run ----

section "setup"
echo "machine: $(nproc --all) x $(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo), kernel $(uname -r), load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo "mtasts:  $MTASTS ($BUILDTYPE build)"
echo "peer:    postfix-mta-sts-resolver $(dpkg-query -W -f '${Version}' postfix-mta-sts-resolver 2>/dev/null || echo '?'), python3-uvloop $(dpkg-query -W -f '${Version}' python3-uvloop 2>/dev/null || echo '?'), $("$PEER_PY" --version)"
echo "load:    $CONNS connections x $DEPTH pipelined, keys at random (seed $SEED+round), $ROUNDS x ${DURATION} s after ${WARMUP} s of warm-up; daemons on core 0, generator on core 1"

gen_domains "$WORK/domains"
t0=$(now)
WORLD_UP=1
WORLD_DOMAINS=$WORK/domains WORLD_SMTP=0 WORLD_HTTPS=mtasts MTASTS=$MTASTS \
    "$WORLD" up >"$WORK/world.env" 2>"$WORK/world.err" ||
    die "world.sh up failed: $(tail -5 "$WORK/world.err")"
echo "world:   $DOMAINS domains with enforce policies (mtasts serve), $NEG without; namespace $WORLD_NS, up in $(since "$t0") s"
set -a
# shellcheck disable=SC1091
. "$WORK/world.env" # WORLD_CA and the rest
set +a

: >"$WORK/runs"
for cache in internal sqlite; do
	section "postfix-mta-sts-resolver, $cache cache"
	measure_peer "$cache"
done

section "mtasts policyd"
HAVE_MTASTS=0
measure_mtasts && HAVE_MTASTS=1

section "summary (medians of $ROUNDS runs)"
printf '| %-30s | %9s | %9s | %9s | %s |\n' "daemon, load" "lookups/s" "p50 us" "p99 us" "daemon's core"
for n in peer-internal peer-internal-neg peer-sqlite peer-sqlite-neg mtasts mtasts-neg; do
	[ "$(median 2 "$n")" = - ] && continue
	printf '| %-30s | %9.0f | %9s | %9s | %s |\n' "$n" "$(median 2 "$n")" "$(median 3 "$n")" \
	    "$(median 4 "$n")" "$(median 6 "$n")"
done

PEER_CACHED=$(median 2 peer-internal)
PEER_SQLITE=$(median 2 peer-sqlite)
if [ "$HAVE_MTASTS" = 1 ]; then
	MT=$(median 2 mtasts)
	awk -v m="$MT" -v a="$PEER_CACHED" -v b="$PEER_SQLITE" -v p="$(median 4 mtasts)" -v r="$MTASTS_RSS_KIB" \
	    'BEGIN { printf "RESULT cached_qps_ratio=%.2f sqlite_ratio=%.2f mtasts_qps=%.0f mtasts_p99_us=%s rss_kib=%d\n", m / a, m / b, m, p, r }'
else
	printf 'RESULT peer_cached_qps=%.0f peer_sqlite_qps=%.0f\n' "$PEER_CACHED" "$PEER_SQLITE"
fi
