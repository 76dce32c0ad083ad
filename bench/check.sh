#!/bin/bash
# SPDX-License-Identifier: ISC
#
# bench/check.sh: `mtasts check` over 1,000 domains of the local internet
# (tests/world), all on one event loop with --concurrency 200, against the
# same domains checked one process at a time.  A benchmark, not a test: it
# prints figures and never fails on them.  2.5 to 3.5 minutes on two
# cores (world up 15-30 s, run B 55-70 s, the sweep 60-75 s).
#
#   sudo bench/check.sh                  # BUILD=build by default
#   sudo BUILD=build-bench bench/check.sh
#
# The domains (generated into a temporary directory, a world of their
# own): dNNNN.test, each healthy: a signed zone, an inline enforce
# policy on the main policy server (`mtasts serve`, from $BUILD), the
# _mta-sts and _smtp._tls records, one MX.  The MX hosts are shared so
# that the world does not start a Postfix per domain: MX_HOSTS zones
# sK.test each have one Postfix host mx1.sK.test (certificate from the
# world CA, TLSA 3 1 1), and domain i uses mx1.sK.test with
# K = (i-1) % MX_HOSTS + 1.  Every domain is expected to be `ok`.
#
# Cache state matters, so it is controlled: "cold" runs start after a
# SIGHUP to the world's unbound, which reloads it with empty caches
# (the check's own libunbound cache lives and dies with its process).
# Runs, in this order:
#
#   A       mtasts check --concurrency $CONC over all domains, cold
#   A warm  the same at once again: unbound's cache full
#   B       one `mtasts check --concurrency 1 DOMAIN` process per domain
#           over the first $SEQ_N domains (default all), cold
#   B warm  the same over the first $SEQ_WARM domains, at once again
#   sweep   one process over all domains at each --concurrency of $SWEEP,
#           each cold
#
# For every run: wall time, domains/s, peak RSS (GNU time: for B the
# largest of the processes), the verdicts of the JSON lines, and the CPU
# seconds of each party (the checker; unbound, nsd, mtasts serve and
# Postfix from /proc/PID/stat of the namespace's processes, reaped
# children included), against the CPU the machine had (wall x cores) and
# the busy time of the whole machine (/proc/stat: other work shows here).
#
# Environment (all optional):
#   BUILD      build directory holding mtasts (default: build)
#   DOMAINS    number of domains (default 1000)
#   CONC       concurrency of run A (default 200)
#   MX_HOSTS   shared Postfix MX hosts (default 4, at most 50)
#   TIMEOUT    --timeout of every check, ms (default 10000)
#   SEQ_N      domains of run B (default: all); when fewer, the figure is
#              a rate over those, said so after the table
#   SEQ_WARM   domains of run B warm (default 100; 0: no such run)
#   SWEEP      concurrencies of the sweep (default "1 20 50 500"; "": none)
#   WORLD_NS   the world's namespace (default mtsworld-bench)
#   KEEP=1     keep the temporary directory (outputs) and say where
#
# The last line is
#   RESULT check_domains_per_s=X sequential_domains_per_s=Y speedup=Z peak_rss_mb=W
# from run A (cold) and run B (cold); peak_rss_mb is run A's.
#
# shellcheck disable=SC2015 # "A && B || die" is meant: die when A or B fails
# shellcheck disable=SC2153 # WORLD_CA, WORLD_TA, ... come from `world.sh up`
set -euo pipefail
export LC_ALL=C

ROOT=$(cd "$(dirname "$0")/.." && pwd)
WORLD=$ROOT/tests/world/world.sh
BUILD=${BUILD:-build}
DOMAINS=${DOMAINS:-1000}
CONC=${CONC:-200}
MX_HOSTS=${MX_HOSTS:-4}
TIMEOUT=${TIMEOUT:-10000}
SEQ_N=${SEQ_N:-$DOMAINS}
SEQ_WARM=${SEQ_WARM:-100}
SWEEP=${SWEEP-1 20 50 500}
KEEP=${KEEP:-0}
export WORLD_NS=${WORLD_NS:-mtsworld-bench}

die() {
	echo "check.sh: $*" >&2
	exit 1
}

if [ "$(id -u)" != 0 ]; then
	echo "check.sh: needs root: the world (tests/world) runs in a private" \
	    "network namespace with its own DNS, HTTPS and SMTP servers;" \
	    "run it with sudo" >&2
	exit 2
fi
for v in DOMAINS CONC MX_HOSTS TIMEOUT SEQ_N SEQ_WARM; do
	[[ ${!v} =~ ^[0-9]+$ ]] || die "$v must be a number"
done
for c in $SWEEP; do
	[[ $c =~ ^[1-9][0-9]*$ ]] || die "SWEEP holds a bad concurrency: $c"
done
[ "$DOMAINS" -ge 1 ] && [ "$DOMAINS" -le 9999 ] || die "DOMAINS: 1 to 9999"
[ "$MX_HOSTS" -ge 1 ] && [ "$MX_HOSTS" -le 50 ] || die "MX_HOSTS: 1 to 50"
[ "$SEQ_N" -ge 1 ] && [ "$SEQ_N" -le "$DOMAINS" ] || die "SEQ_N: 1 to DOMAINS"
[ "$SEQ_WARM" -le "$DOMAINS" ] || die "SEQ_WARM: at most DOMAINS"
case $BUILD in /*) ;; *) [ -d "$BUILD" ] || BUILD=$ROOT/$BUILD ;; esac
MTASTS=$(cd "$BUILD" 2>/dev/null && pwd)/mtasts ||
    die "no build directory $BUILD (set BUILD)"
[ -x "$MTASTS" ] || die "$MTASTS: not built (meson setup $BUILD && ninja -C $BUILD)"
export MTASTS
[ -x /usr/bin/time ] || die "/usr/bin/time (GNU time) is not installed"
for t in jq ip awk sort; do
	command -v "$t" >/dev/null || die "$t is not installed"
done
# The world's servers and tools are checked by world.sh up itself.

WORK=$(mktemp -d "${TMPDIR:-/tmp}/mtasts-benchcheck.XXXXXX")
UP=0 # 1 once `world.sh up` has started: from then on, ours to take down

cleanup() {
	local rc=$?
	trap - EXIT INT TERM
	if [ "$UP" = 1 ]; then
		bash "$WORLD" down >/dev/null 2>&1 ||
		    echo "check.sh: world.sh down failed ($WORLD_NS)" >&2
	fi
	if [ "$KEEP" = 1 ]; then
		echo "check.sh: kept $WORK" >&2
	else
		rm -rf "$WORK"
	fi
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# longrun CMD...: a long command in the background, waited for, so that a
# signal ends the script at once (bash runs a trap only after a
# foreground command, but during `wait`); `world.sh down` then stops
# whatever of it runs in the namespace.
longrun() {
	local rc=0
	"$@" &
	wait "$!" || rc=$?
	return "$rc"
}

section() { printf '\n== %s\n' "$*"; }
now() { date +%s.%N; }
NCPU=$(nproc)
CLK=$(getconf CLK_TCK)

# ---- the domains ----

# gen_domains DIR: DOMAINS domain files and MX_HOSTS shared MX zones.
gen_domains() {
	local dir=$1 i k d
	mkdir -p "$dir"
	for ((k = 1; k <= MX_HOSTS; k++)); do
		printf '%s\n' "# shared MX host for the benchmark's domains" \
		    "zone signed" "a mx1 127.0.25.$((200 + k))" "cert mx1 ok" \
		    "tlsa _25._tcp.mx1 3 1 1 auto" "smtp mx1" \
		    >"$dir/s$k.test.domain"
	done
	for ((i = 1; i <= DOMAINS; i++)); do
		printf -v d 'd%04d.test' "$i"
		k=$(((i - 1) % MX_HOSTS + 1))
		printf '%s\n' "zone signed" "mx 10 mx1.s$k.test." \
		    "a mta-sts @https" "cert mta-sts ok" \
		    'txt _mta-sts "v=STSv1; id=20240101T000000Z;"' \
		    "policy version: STSv1" "policy mode: enforce" \
		    "policy mx: mx1.s$k.test" "policy max_age: 604800" \
		    "txt _smtp._tls \"v=TLSRPTv1; rua=mailto:tlsrpt@$d\"" \
		    >"$dir/$d.domain"
		printf '%s\n' "$d" >>"$WORK/domains.txt"
	done
}

# ---- CPU accounting ----

# cpu_snapshot: "GROUP TICKS" per process of the namespace: utime, stime
# and the times of its reaped children (fields 14-17 of /proc/PID/stat),
# so that a Postfix smtpd that exits during a run (max_use) still counts,
# in its master.  Groups: unbound, nsd, serve (mtasts; no check runs
# while a snapshot is taken), postfix (everything else).
cpu_snapshot() {
	local p line comm rest g
	local -a f
	for p in $(ip netns pids "$WORLD_NS" 2>/dev/null); do
		read -r line <"/proc/$p/stat" 2>/dev/null || continue
		comm=${line#*(}
		comm=${comm%)*}
		rest=${line##*) }
		read -r -a f <<<"$rest"
		case $comm in
		unbound) g=unbound ;;
		nsd*) g=nsd ;; # "nsd: main", "nsd: xfrd", "nsd: server 1"
		mtasts) g=serve ;;
		*) g=postfix ;;
		esac
		echo "$g $((f[11] + f[12] + f[13] + f[14]))"
	done
}

# machine_busy: busy ticks of all CPUs (all but idle and iowait).
machine_busy() {
	awk '$1 == "cpu" { print $2 + $3 + $4 + $7 + $8 + $9; exit }' /proc/stat
}

# cpu_delta BEFORE AFTER: "GROUP SECONDS" lines, the difference of the
# groups' sums.
cpu_delta() {
	awk -v clk="$CLK" 'FNR == NR { b[$1] += $2; next } { a[$1] += $2 }
	    END { n = split("unbound nsd serve postfix", g, " ")
	          for (i = 1; i <= n; i++)
	              printf "%s %.2f\n", g[i], (a[g[i]] - b[g[i]]) / clk }' \
	    "$1" "$2"
}

# ---- the runs ----

# flush_dns: unbound reloads on SIGHUP, with empty caches; waits until
# it validates again.
flush_dns() {
	local log=$WORLD_DIR/log/unbound.log n0 n tries=200
	n0=$(grep -c 'start of service' "$log" || true)
	kill -HUP "$(cat "$WORLD_DIR/run/unbound.pid")"
	while :; do
		n=$(grep -c 'start of service' "$log" || true)
		if [ "$n" -gt "$n0" ] &&
		    bash "$WORLD" exec drill -D "@$WORLD_RESOLVER" SOA test. 2>/dev/null |
		    grep -Eq 'flags: qr[a-z ]* ad[ ;]'; then
			return 0
		fi
		tries=$((tries - 1))
		[ "$tries" -gt 0 ] || die "unbound did not come back after SIGHUP"
		sleep 0.05
	done
}

# gnu_time FILE FIELD: a field of a `time -v` report.
gnu_time() {
	sed -n "s/^[[:space:]]*$2: //p" "$1" | head -1
}

# elapsed_s "h:mm:ss" or "m:ss.cc": seconds.
elapsed_s() {
	awk -F: '{ s = 0; for (i = 1; i <= NF; i++) s = s * 60 + $i; printf "%.2f", s }' <<<"$1"
}

# Results, one line per run, for the table:
# NAME|N|WALL|RSS_KB|OK|WARN|ERR|LINES|CHECK_CPU|UNBOUND|NSD|SERVE|POSTFIX|MACHINE|LOAD
RESULTS=()

# sanity NAME OUT N: JSON lines against the N domains asked for; sets
# V_OK V_WARN V_ERR V_LINES; prints what is odd.
sanity() {
	local name=$1 out=$2 n=$3 missing dup bad
	V_LINES=$(wc -l <"$out")
	bad=$(jq -R 'try (fromjson | empty) catch "x"' "$out" | wc -l)
	read -r V_OK V_WARN V_ERR < <(jq -rs '[map(.verdict) | (map(select(. == "ok")) | length),
	    (map(select(. == "warning")) | length), (map(select(. == "error")) | length)] | @tsv' \
	    "$out" 2>/dev/null || echo "0 0 0")
	head -n "$n" "$WORK/domains.txt" | sort >"$WORK/want"
	jq -r .domain "$out" 2>/dev/null | sort >"$WORK/got"
	missing=$(comm -23 "$WORK/want" "$WORK/got" | wc -l)
	dup=$(uniq -d "$WORK/got" | wc -l)
	printf '%s: %s JSON lines for %s domains (%s unparsable, %s missing, %s twice);' \
	    "$name" "$V_LINES" "$n" "$bad" "$missing" "$dup"
	printf ' verdicts: %s ok, %s warning, %s error\n' "$V_OK" "$V_WARN" "$V_ERR"
	if [ "$V_WARN" != 0 ] || [ "$V_ERR" != 0 ]; then
		echo "   findings above ok/info, by code (domains):"
		jq -r '.domain as $d | .findings[] |
		    select(.severity == "warning" or .severity == "error") |
		    "\(.severity) \(.code)"' "$out" | sort | uniq -c |
		    sed 's/^/   /'
		echo "   first of them:"
		jq -r '.domain as $d | .findings[] |
		    select(.severity == "warning" or .severity == "error") |
		    "\($d): \(.severity) \(.code): \(.detail)"' "$out" |
		    head -10 | sed 's/^/   /'
	fi
}

# record NAME N WALL RSS_KB CHECK_CPU SNAP0 SNAP1 BUSY0 BUSY1 LOAD
record() {
	local name=$1 n=$2 wall=$3 rss=$4 ccpu=$5 s0=$6 s1=$7 b0=$8 b1=$9 load=${10}
	local -A c=()
	local g v machine
	while read -r g v; do c[$g]=$v; done < <(cpu_delta "$s0" "$s1")
	machine=$(awk -v a="$b0" -v b="$b1" -v clk="$CLK" 'BEGIN { printf "%.2f", (b - a) / clk }')
	RESULTS+=("$name|$n|$wall|$rss|$V_OK|$V_WARN|$V_ERR|$V_LINES|$ccpu|${c[unbound]}|${c[nsd]}|${c[serve]}|${c[postfix]}|$machine|$load")
	printf '%s: %s domains in %s s = %s domains/s; peak RSS %s MB\n' "$name" "$n" \
	    "$wall" "$(awk -v n="$n" -v w="$wall" 'BEGIN { printf "%.1f", n / w }')" \
	    "$(awk -v k="$rss" 'BEGIN { printf "%.1f", k / 1024 }')"
	printf '   CPU s: check %s, unbound %s, nsd %s, mtasts serve %s, postfix %s; machine busy %s of %s (%s cores x wall); load before %s\n' \
	    "$ccpu" "${c[unbound]}" "${c[nsd]}" "${c[serve]}" "${c[postfix]}" "$machine" \
	    "$(awk -v w="$wall" -v n="$NCPU" 'BEGIN { printf "%.2f", w * n }')" "$NCPU" "$load"
}

# run_one NAME CONCURRENCY: one mtasts check over all domains.
run_one() {
	local name=$1 conc=$2 tag=${1// /_} t0 t1 rc=0 s0 s1 b0 b1 load wall rss ccpu
	load=$(cut -d' ' -f1 /proc/loadavg)
	s0=$WORK/$tag.cpu0 s1=$WORK/$tag.cpu1
	cpu_snapshot >"$s0"
	b0=$(machine_busy)
	t0=$(now)
	longrun bash "$WORLD" exec /usr/bin/time -v -o "$WORK/$tag.time" \
	    "$MTASTS" check --json --concurrency "$conc" \
	    --resolver "$WORLD_RESOLVER" --trust-anchor "$WORLD_TA" \
	    --ca-file "$WORLD_CA" --timeout "$TIMEOUT" -f "$WORK/domains.txt" \
	    >"$WORK/$tag.json" 2>"$WORK/$tag.err" || rc=$?
	t1=$(now)
	b1=$(machine_busy)
	cpu_snapshot >"$s1"
	# GNU time's own line ("Command exited with non-zero status 1")
	# goes to its -o file.
	[ -s "$WORK/$tag.err" ] && sed 's/^/   stderr: /' "$WORK/$tag.err" | head -10
	wall=$(elapsed_s "$(gnu_time "$WORK/$tag.time" 'Elapsed (wall clock) time (h:mm:ss or m:ss)')")
	rss=$(gnu_time "$WORK/$tag.time" 'Maximum resident set size (kbytes)')
	ccpu=$(awk -v u="$(gnu_time "$WORK/$tag.time" 'User time (seconds)')" \
	    -v s="$(gnu_time "$WORK/$tag.time" 'System time (seconds)')" \
	    'BEGIN { printf "%.2f", u + s }')
	echo "$name: mtasts check --json --concurrency $conc --timeout $TIMEOUT -f <$DOMAINS domains>"
	printf '   exit %s; GNU time: wall %s s (from outside, with world.sh exec: %.2f s), user %s s, system %s s, CPU %s, max RSS %s KB\n' \
	    "$rc" "$wall" "$(awk -v a="$t0" -v b="$t1" 'BEGIN { print b - a }')" \
	    "$(gnu_time "$WORK/$tag.time" 'User time (seconds)')" \
	    "$(gnu_time "$WORK/$tag.time" 'System time (seconds)')" \
	    "$(gnu_time "$WORK/$tag.time" 'Percent of CPU this job got')" "$rss"
	sanity "$name" "$WORK/$tag.json" "$DOMAINS"
	record "$name" "$DOMAINS" "$wall" "$rss" "$ccpu" "$s0" "$s1" "$b0" "$b1" "$load"
}

# run_seq NAME N: one process per domain, the first N domains, one after
# the other, in one shell inside the namespace (no world.sh per domain).
# GNU time around the loop: its max RSS is the largest process's.
run_seq() {
	local name=$1 n=$2 tag=${1// /_} rc=0 s0 s1 b0 b1 load wall rss ccpu
	local -a list
	mapfile -t list < <(head -n "$n" "$WORK/domains.txt")
	load=$(cut -d' ' -f1 /proc/loadavg)
	s0=$WORK/$tag.cpu0 s1=$WORK/$tag.cpu1
	cpu_snapshot >"$s0"
	b0=$(machine_busy)
	# shellcheck disable=SC2016 # expanded by the inner shell
	longrun bash "$WORLD" exec /usr/bin/time -v -o "$WORK/$tag.time" bash -c '
	    m=$1 timeout=$2 out=$3 lat=$4; shift 4
	    : >"$out"; : >"$lat"
	    for d; do
	        t0=$EPOCHREALTIME
	        "$m" check --json --concurrency 1 --resolver "$WORLD_RESOLVER" \
	            --trust-anchor "$WORLD_TA" --ca-file "$WORLD_CA" \
	            --timeout "$timeout" "$d" >>"$out"
	        rc=$?
	        echo "$d $rc $t0 $EPOCHREALTIME" >>"$lat"
	    done
	    exit 0' _ "$MTASTS" "$TIMEOUT" "$WORK/$tag.json" "$WORK/$tag.lat" \
	    "${list[@]}" 2>"$WORK/$tag.err" || rc=$?
	b1=$(machine_busy)
	cpu_snapshot >"$s1"
	[ -s "$WORK/$tag.err" ] && sed 's/^/   stderr: /' "$WORK/$tag.err" | head -10
	wall=$(elapsed_s "$(gnu_time "$WORK/$tag.time" 'Elapsed (wall clock) time (h:mm:ss or m:ss)')")
	rss=$(gnu_time "$WORK/$tag.time" 'Maximum resident set size (kbytes)')
	ccpu=$(awk -v u="$(gnu_time "$WORK/$tag.time" 'User time (seconds)')" \
	    -v s="$(gnu_time "$WORK/$tag.time" 'System time (seconds)')" \
	    'BEGIN { printf "%.2f", u + s }')
	echo "$name: for d in <first $n domains>; do mtasts check --json --concurrency 1 --timeout $TIMEOUT \$d; done"
	printf '   loop exit %s; GNU time: wall %s s, user %s s, system %s s, largest process %s KB\n' \
	    "$rc" "$wall" "$(gnu_time "$WORK/$tag.time" 'User time (seconds)')" \
	    "$(gnu_time "$WORK/$tag.time" 'System time (seconds)')" "$rss"
	awk '{ ms = ($4 - $3) * 1000; print ms; rc[$2]++ }
	    END { for (r in rc) printf "rc %s %d\n", r, rc[r] > "/dev/stderr" }' \
	    "$WORK/$tag.lat" 2>"$WORK/$tag.rc" | sort -n >"$WORK/$tag.ms"
	awk 'function at(q, i) { i = int(NR * q); if (i < NR * q) i++; return v[i < 1 ? 1 : i] }
	    { v[NR] = $1; s += $1 } END { if (NR == 0) exit
	    printf "   per process (ms): mean %.1f, median %.1f, p90 %.1f, p99 %.1f, max %.1f\n",
	        s / NR, at(0.5), at(0.9), at(0.99), v[NR] }' "$WORK/$tag.ms"
	printf '   exit statuses: %s\n' "$(sort "$WORK/$tag.rc" | awk '{ printf "%s%s: %s", (NR > 1 ? ", " : ""), $2, $3 }')"
	sanity "$name" "$WORK/$tag.json" "$n"
	record "$name" "$n" "$wall" "$rss" "$ccpu" "$s0" "$s1" "$b0" "$b1" "$load"
}

# ---- main ----

section "setup"
echo "mtasts: $MTASTS"
echo "machine: $NCPU cores ($(nproc --all) online), $(awk '/MemTotal/ { printf "%.1f GB", $2 / 1048576 }' /proc/meminfo), load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "domains: $DOMAINS (dNNNN.test), MX hosts: $MX_HOSTS shared Postfix (mx1.sK.test), run A: --concurrency $CONC"
st=0
bash "$WORLD" status >/dev/null 2>&1 || st=$?
if [ "$st" != 3 ] || [ -e "/run/netns/$WORLD_NS" ]; then
	die "a world $WORLD_NS is up already (or its namespace is left):" \
	    "WORLD_NS=$WORLD_NS tests/world/world.sh down, or another WORLD_NS"
fi
t0=$(now)
gen_domains "$WORK/domains"
t1=$(now)
printf 'generated %s domain files (+%s MX zones) in %.2f s: %s\n' "$DOMAINS" \
    "$MX_HOSTS" "$(awk -v a="$t0" -v b="$t1" 'BEGIN { print b - a }')" "$WORK/domains"

section "world up ($((DOMAINS + MX_HOSTS)) zones: PKI, signing, mtasts serve config, Postfix)"
UP=1
t0=$(now)
if ! env=$(WORLD_DOMAINS=$WORK/domains bash "$WORLD" up 2>"$WORK/up.log"); then
	sed 's/^/   /' "$WORK/up.log" | tail -30
	die "world.sh up failed"
fi
t1=$(now)
UP_S=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }')
set -a
eval "$env"
set +a
sed 's/^/   /' "$WORK/up.log"
echo "world.sh up took $UP_S s (wall)"
echo "   certificates: $(find "$WORLD_DIR/pki" -name '*.pem' | wc -l) PEM files," \
    "signed zones: $(find "$WORLD_DIR/dns" -name '*.zone.signed' | wc -l)," \
    "mtasts.conf domains: $(grep -c '^domain ' "$WORLD_DIR/https/mtasts.conf")," \
    "main policy server: $WORLD_HTTPS"
SERVE_PID=$(cat "$WORLD_DIR/run/mtasts.pid" 2>/dev/null || echo)
[ -n "$SERVE_PID" ] && echo "   mtasts serve: pid $SERVE_PID, RSS $(awk '$1 == "VmRSS:" { printf "%.1f MB", $2 / 1024 }' "/proc/$SERVE_PID/status" 2>/dev/null)"

section "run A: one process, --concurrency $CONC, cold (unbound reloaded, empty caches)"
flush_dns
run_one "A c$CONC cold" "$CONC"

section "run A warm: the same at once again (unbound's cache full)"
run_one "A c$CONC warm" "$CONC"

section "run B: one process per domain, one at a time, cold"
flush_dns
run_seq "B seq cold" "$SEQ_N"

if [ "$SEQ_WARM" -gt 0 ]; then
	section "run B warm: one process per domain, first $SEQ_WARM domains, at once again"
	run_seq "B seq warm" "$SEQ_WARM"
fi

if [ -n "$SWEEP" ]; then
	section "sweep: one process over all domains at other concurrencies, each cold"
	for c in $SWEEP; do
		flush_dns
		run_one "sweep c$c cold" "$c"
	done
fi

section "results"
fmt='%-16s %5s %7s %9s %7s %12s %6s %6s %6s %6s %6s %8s %8s %7s %5s\n'
# shellcheck disable=SC2059 # the format is ours
printf "$fmt" run domains wall_s domains/s rss_MB ok/warn/err check unbound \
    nsd serve postfix check all machine load
# shellcheck disable=SC2059
printf "$fmt" "" "" "" "" "" "" cpu_s cpu_s cpu_s cpu_s cpu_s ms/dom ms/dom busy_s ""
for r in "${RESULTS[@]}"; do
	IFS='|' read -r name n wall rss ok warn err _ ccpu ub nsd serve pf machine load <<<"$r"
	# shellcheck disable=SC2059
	printf "$fmt" "$name" "$n" "$wall" \
	    "$(awk -v n="$n" -v w="$wall" 'BEGIN { printf "%.1f", n / w }')" \
	    "$(awk -v k="$rss" 'BEGIN { printf "%.1f", k / 1024 }')" "$ok/$warn/$err" \
	    "$ccpu" "$ub" "$nsd" "$serve" "$pf" \
	    "$(awk -v c="$ccpu" -v n="$n" 'BEGIN { printf "%.1f", c * 1000 / n }')" \
	    "$(awk -v n="$n" 'BEGIN { for (i = 1; i < ARGC; i++) s += ARGV[i]
	        printf "%.1f", s * 1000 / n }' "$ccpu" "$ub" "$nsd" "$serve" "$pf")" \
	    "$machine" "$load"
done
echo "cpu_s: CPU seconds of each party during the run (check: the checker process(es));"
echo "ms/dom: CPU milliseconds per domain, of the checker and of all parties;"
echo "machine busy_s: busy time of all CPUs of the machine, other work included, out of"
echo "$NCPU x wall (near it: the machine was saturated); load: 1-min load average before"
echo "the run; rss_MB: peak RSS of the checker (run B: of its largest process)."

field() { # field RUN_NAME INDEX
	local r
	for r in "${RESULTS[@]}"; do
		[ "${r%%|*}" = "$1" ] && { cut -d'|' -f"$2" <<<"$r"; return; }
	done
}
A_N=$DOMAINS A_WALL=$(field "A c$CONC cold" 3) A_RSS=$(field "A c$CONC cold" 4)
B_N=$SEQ_N B_WALL=$(field "B seq cold" 3)
read -r A_RATE B_RATE SPEEDUP RSS_MB < <(awk -v an="$A_N" -v aw="$A_WALL" \
    -v bn="$B_N" -v bw="$B_WALL" -v rss="$A_RSS" 'BEGIN {
    a = an / aw; b = bn / bw
    printf "%.1f %.1f %.1f %.1f\n", a, b, a / b, rss / 1024 }')
[ "$SEQ_N" -eq "$DOMAINS" ] ||
    echo "note: run B checked the first $SEQ_N of $DOMAINS domains; its rate is over those"
echo "world.sh up with $((DOMAINS + MX_HOSTS)) zones: $UP_S s"
echo "RESULT check_domains_per_s=$A_RATE sequential_domains_per_s=$B_RATE speedup=$SPEEDUP peak_rss_mb=$RSS_MB"
