#!/bin/bash
# SPDX-License-Identifier: ISC
#
# bench/serve.sh: `mtasts serve` against nginx (Debian), both serving the
# same MTA-STS policy with the same ECDSA P-256 certificate on loopback.
# A benchmark, not a test: it prints figures and never fails on them.
#
#   sudo bench/serve.sh                 # BUILD=build by default
#   sudo BUILD=build-bench bench/serve.sh
#
# Root is needed only for a private network namespace (own loopback, own
# /etc/hosts so that wrk sends SNI and Host mta-sts.bench.test).  Servers
# run pinned to core 0 (taskset -c 0, all their processes), wrk to core 1.
# wrk saturates before the servers do, so the figure compared is requests
# per server CPU-second: utime+stime of every process of the server, from
# /proc/PID/stat before and after each run.  Runs are interleaved A B A B.
#
# Loads: keep-alive (wrk -t1 -c50) and one full TLS 1.3 handshake per
# request (Connection: close; session resumption off on both servers).
# Then: the crypto limit of a handshake from `openssl speed`, and peak RSS
# and start-up time with 10,000 configured domains.
#
# Environment (all optional):
#   BUILD      build directory holding mtasts (default: build)
#   ROUNDS     rounds per load, each one run of each server (default 5)
#   DURATION   seconds per wrk run (default 10)
#   CONNS      wrk connections (default 50)
#   DOMAINS    domains of the memory test (default 10000)
#   PERDOMAIN  1: also the memory test with one certificate per domain
#              (needs python3 with cryptography; default 1 when available)
#   KEYPROC    no: mtasts keeps the key in its server process (its
#              `key-process no`), to measure what the key process costs
#              (default yes, as mtasts serve runs by default)
#   NGINX_SUITES  TLS 1.3 suites nginx prefers (ssl_conf_command
#              Ciphersuites + ssl_prefer_server_ciphers on), to compare
#              with the suite mtasts picks; default: nginx's defaults
#              (it follows the client's order)
#
# The last line is `RESULT keepalive_ratio=X handshake_ratio=Y`, mtasts
# over nginx in requests per server CPU-second (medians).
set -euo pipefail
export LC_ALL=C

ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${BUILD:-build}
ROUNDS=${ROUNDS:-5}
DURATION=${DURATION:-10}
CONNS=${CONNS:-50}
DOMAINS=${DOMAINS:-10000}
PERDOMAIN=${PERDOMAIN:-auto}
NGINX_SUITES=${NGINX_SUITES:-}

HOST=mta-sts.bench.test
P_MTASTS=8443 P_NGINX=9443 P_PROBE=7443 # TLS ports (127.0.0.1)
P_METRICS=9461 P_STATUS=9480            # mtasts metrics, nginx stub_status
P_BIG_MTASTS=10443 P_BIG_NGINX=11443    # the 10,000-domain servers
MAXREQ=1000000                          # nginx keepalive_requests

die() {
	echo "serve.sh: $*" >&2
	exit 1
}

if [ "$(id -u)" != 0 ]; then
	echo "serve.sh: needs root (only for a private network namespace); run it with sudo" >&2
	exit 2
fi
case $BUILD in /*) ;; *) [ -d "$BUILD" ] || BUILD=$ROOT/$BUILD ;; esac
MTASTS=$(cd "$BUILD" 2>/dev/null && pwd)/mtasts ||
    die "no build directory $BUILD (set BUILD)"
[ -x "$MTASTS" ] || die "$MTASTS: not built (meson setup $BUILD && ninja -C $BUILD)"
for t in nginx wrk openssl curl taskset ip awk pgrep; do
	command -v "$t" >/dev/null || die "$t is not installed"
done
[ "$(nproc --all)" -ge 2 ] || die "needs two cores"

NS=mtsbench$$
WORK=$(mktemp -d "${TMPDIR:-/tmp}/mtasts-bench.XXXXXX")
PIDS=() # every server we start (mtasts parent / nginx master)
FG=     # the long command running now (see longrun)

cleanup() {
	local rc=$? p left
	trap - EXIT INT TERM
	[ -n "$FG" ] && kill -TERM "$FG" 2>/dev/null
	for p in ${PIDS[@]+"${PIDS[@]}"}; do
		kill -TERM "$p" 2>/dev/null || true
	done
	for p in ${PIDS[@]+"${PIDS[@]}"}; do
		wait "$p" 2>/dev/null || true
	done
	if ip netns list 2>/dev/null | grep -qw "^$NS"; then
		# Anything still in our namespace is ours (wrk, curl, a child).
		left=$(ip netns pids "$NS" 2>/dev/null || true)
		[ -n "$left" ] && kill -KILL $left 2>/dev/null || true
		sleep 0.2
		ip netns del "$NS" 2>/dev/null || true
	fi
	rm -rf "/etc/netns/$NS" "$WORK"
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# longrun CMD...: runs a long command so that a signal ends the script at once
# (bash runs traps only after a foreground command, but during `wait`).
longrun() {
	local rc=0
	"$@" &
	FG=$!
	wait "$FG" || rc=$?
	FG=
	return "$rc"
}

NSX() { ip netns exec "$NS" "$@"; }
CLK=$(getconf CLK_TCK)

section() { printf '\n== %s\n' "$*"; }

# ---- helpers: processes and CPU ----

# procs PID: the server's processes, PID and its children.
procs() {
	echo "$1"
	pgrep -P "$1" || true
}

# cpu_ticks PID...: utime + stime of these processes, in clock ticks.
# Fields 14 and 15 of /proc/PID/stat; the name (field 2) may hold ") ".
cpu_ticks() {
	local p files=()
	for p in "$@"; do files+=("/proc/$p/stat"); done
	awk '{ sub(/^.*\) /, ""); t += $12 + $13 } END { print t + 0 }' "${files[@]}"
}

# sleeps PID...: voluntary context switches of these processes, from
# /proc/PID/status: how often the server ran out of work and slept in
# epoll_wait(2).  A server faster than its load generator sleeps often,
# and every sleep and wake-up costs CPU that the figures charge to it.
sleeps() {
	local p files=()
	for p in "$@"; do files+=("/proc/$p/status"); done
	awk '$1 == "voluntary_ctxt_switches:" { t += $2 } END { print t + 0 }' "${files[@]}"
}

# core0_ticks: busy ticks of core 0 from /proc/stat (all but idle and
# iowait), which also holds softirq work that no process is charged for.
core0_ticks() {
	awk '$1 == "cpu0" { print $2 + $3 + $4 + $7 + $8 + $9; exit }' /proc/stat
}

# vm_kib PID FIELD: a field of /proc/PID/status in KiB.
vm_kib() {
	awk -v f="$2:" '$1 == f { print $2; exit }' "/proc/$1/status"
}

pss_kib() {
	awk '$1 == "Pss:" { print $2; exit }' "/proc/$1/smaps_rollup" 2>/dev/null || echo 0
}

# wait_serving PORT NAME TIMEOUT: polls until the policy of NAME answers
# 200 on PORT; prints the seconds it took.  The names of the memory test
# are not in the certificate: only mta-sts.bench.test is verified.
wait_serving() {
	local port=$1 name=$2 timeout=$3 t0 now code verify=(--cacert "$WORK/pki/ca.pem")
	[ "$name" = "$HOST" ] || verify=(--insecure)
	t0=$(date +%s.%N)
	while :; do
		code=$(NSX curl -s -o /dev/null -w '%{http_code}' --max-time 2 \
		    "${verify[@]}" --resolve "$name:$port:127.0.0.1" \
		    "https://$name:$port/.well-known/mta-sts.txt" 2>/dev/null || true)
		now=$(date +%s.%N)
		if [ "$code" = 200 ]; then
			awk -v a="$t0" -v b="$now" 'BEGIN { printf "%.2f\n", b - a }'
			return 0
		fi
		awk -v a="$t0" -v b="$now" -v t="$timeout" 'BEGIN { exit !(b - a > t) }' &&
		    return 1
		sleep 0.05
	done
}

# stop PID: TERM a server we started, wait for it, forget it.
stop() {
	local p keep=()
	kill -TERM "$1" 2>/dev/null || true
	wait "$1" 2>/dev/null || true
	for p in ${PIDS[@]+"${PIDS[@]}"}; do
		[ "$p" = "$1" ] || keep+=("$p")
	done
	PIDS=(${keep[@]+"${keep[@]}"})
}

# ---- the namespace, PKI and policy ----

mkdir -p "/etc/netns/$NS"
printf '127.0.0.1\tlocalhost %s\n' "$HOST" >"/etc/netns/$NS/hosts"
ip netns add "$NS"
NSX ip link set lo up
# Many short connections: a wide port range; TIME_WAIT ends up on the
# server side (it closes first), which never blocks a new connection.
NSX sysctl -qw net.ipv4.ip_local_port_range="1024 65000" net.ipv4.tcp_tw_reuse=1

mkdir -p "$WORK"/{pki,policy,nginx/tmp,probe/tmp,big}
(
	cd "$WORK/pki"
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
	    -keyout ca.key -out ca.pem -days 2 -subj "/CN=mtasts bench CA" \
	    -addext "basicConstraints=critical,CA:TRUE" \
	    -addext "keyUsage=critical,keyCertSign" 2>/dev/null
	openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
	    -keyout leaf.key -out leaf.csr -subj "/CN=$HOST" 2>/dev/null
	openssl x509 -req -in leaf.csr -CA ca.pem -CAkey ca.key -CAcreateserial \
	    -days 2 -out leaf.pem -extfile <(printf \
	    'subjectAltName=DNS:%s\nextendedKeyUsage=serverAuth\n' \
	    "$HOST") 2>/dev/null
) || die "cannot make the certificates"
CERT=$WORK/pki/leaf.pem KEY=$WORK/pki/leaf.key
chmod 600 "$KEY" # mtasts serve refuses a key others can read

POLICY_NL='version: STSv1\r\nmode: enforce\r\nmx: mx1.bench.test\r\nmax_age: 604800\r\n'
printf "$POLICY_NL" >"$WORK/policy/mta-sts.txt"
"$MTASTS" lint policy "$WORK/policy/mta-sts.txt" >/dev/null ||
    die "the bench policy does not lint"

# ---- configurations ----

cat >"$WORK/mtasts.conf" <<EOF
listen 127.0.0.1:$P_MTASTS
metrics 127.0.0.1:$P_METRICS
cache-control max-age=300
max-connections 100000
idle-timeout 60
read-timeout 10
key-process ${KEYPROC:-yes}
certificate $CERT
key $KEY
domain bench.test {
	policy $WORK/policy/mta-sts.txt
}
EOF

# nginx_conf PREFIX PORT [LOG]: one worker, no access log (or LOG with the
# TLS parameters of every request, for the probe), no session resumption.
nginx_conf() {
	local log="access_log off;"
	[ -n "${3:-}" ] && log="log_format tls '\$ssl_protocol \$ssl_cipher \$ssl_curve \$ssl_session_reused \$connection_requests \$status';
	access_log $3 tls;"
	cat <<EOF
worker_processes 1;
daemon off;
master_process on;
pid $1/nginx.pid;
error_log $1/error.log warn;
events { worker_connections 4096; }
http {
	$log
	client_body_temp_path $1/tmp/body; proxy_temp_path $1/tmp/proxy;
	fastcgi_temp_path $1/tmp/fcgi; uwsgi_temp_path $1/tmp/uwsgi; scgi_temp_path $1/tmp/scgi;
	keepalive_requests $MAXREQ;
	keepalive_timeout 60s;
	ssl_protocols TLSv1.2 TLSv1.3;
	ssl_session_cache off;
	ssl_session_tickets off;
	$([ -n "$NGINX_SUITES" ] && printf 'ssl_conf_command Ciphersuites %s; ssl_prefer_server_ciphers on;' "$NGINX_SUITES")
	ssl_certificate $CERT;
	ssl_certificate_key $KEY;
	server {
		listen 127.0.0.1:$2 ssl;
		server_name $HOST;
		location = /.well-known/mta-sts.txt {
			default_type text/plain;
			add_header Cache-Control "max-age=300" always;
			return 200 "$POLICY_NL";
		}
		location / { return 404; }
	}
	server {
		listen 127.0.0.1:$P_STATUS;
		location = /status { stub_status; }
	}
}
EOF
}
nginx_conf "$WORK/nginx" "$P_NGINX" >"$WORK/nginx/nginx.conf"
nginx_conf "$WORK/probe" "$P_PROBE" "$WORK/probe/tls.log" |
    sed "s/listen 127.0.0.1:$P_STATUS;/listen 127.0.0.1:$((P_STATUS + 1));/" \
    >"$WORK/probe/nginx.conf"
printf 'wrk.headers["Connection"] = "close"\n' >"$WORK/close.lua"

# start_mtasts CONF LOG / start_nginx PREFIX: start a server on core 0
# in the namespace; STARTED is its pid (mtasts parent / nginx master):
# ip and taskset exec, so $! is the server itself.  Not in $(...) nor
# through a shell function: the server must be a child of this shell.
start_mtasts() {
	ip netns exec "$NS" taskset -c 0 "$MTASTS" serve -d -c "$1" </dev/null >"$2" 2>&1 &
	STARTED=$!
	PIDS+=("$STARTED")
}
start_nginx() {
	ip netns exec "$NS" taskset -c 0 nginx -c "$1/nginx.conf" -p "$1" -e "$1/error.log" \
	    </dev/null >"$1/stderr" 2>&1 &
	STARTED=$!
	PIDS+=("$STARTED")
}

section "setup"
echo "mtasts:  $MTASTS ($("$MTASTS" --version 2>&1 | head -1))"
echo "nginx:   $(nginx -v 2>&1 | sed 's/^nginx version: //'); wrk: $(wrk -v 2>&1 | head -1 | awk '{print $2}'); $(openssl version)"
echo "cpu:     $(nproc --all) x $(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo); servers on core 0, wrk on core 1"
echo "load:    $(cut -d' ' -f1-3 /proc/loadavg) (load average before the runs)"
echo "nginx:   worker_processes 1, access_log off, keepalive_requests $MAXREQ, keepalive_timeout 60s,"
echo "         ssl_protocols TLSv1.2 TLSv1.3, ssl_session_cache off, ssl_session_tickets off, return 200 (policy inline)"
[ -n "$NGINX_SUITES" ] && echo "         ssl_conf_command Ciphersuites $NGINX_SUITES; ssl_prefer_server_ciphers on (NGINX_SUITES)"
echo "mtasts:  max-connections 100000, idle-timeout 60, no access-log (resumption always off: no tickets, no cache)"
echo "both:    ECDSA P-256 leaf for $HOST from a throwaway CA, Cache-Control max-age=300, same policy body"

start_mtasts "$WORK/mtasts.conf" "$WORK/mtasts.log"
M_PID=$STARTED
start_nginx "$WORK/nginx"
N_PID=$STARTED
start_nginx "$WORK/probe"
PR_PID=$STARTED
wait_serving "$P_MTASTS" "$HOST" 10 >/dev/null || die "mtasts serve did not start: $(tail -5 "$WORK/mtasts.log")"
wait_serving "$P_NGINX" "$HOST" 10 >/dev/null || die "nginx did not start: $(tail -5 "$WORK/nginx/error.log")"
wait_serving "$P_PROBE" "$HOST" 10 >/dev/null || die "probe nginx did not start"
echo "mtasts processes: $(procs "$M_PID" | tr '\n' ' ')(parent, server); nginx: $(procs "$N_PID" | tr '\n' ' ')(master, worker)"
for p in $(procs "$M_PID") $(procs "$N_PID"); do
	echo "  pid $p $(tr '\0' ' ' </proc/$p/cmdline | cut -c1-60) affinity $(taskset -cp "$p" | awk '{print $NF}')"
done

# ---- what each server answers, and how it negotiates ----

section "responses (GET https://$HOST/.well-known/mta-sts.txt)"
for s in mtasts:$P_MTASTS nginx:$P_NGINX; do
	name=${s%%:*} port=${s#*:}
	NSX curl -s -D "$WORK/$name.head" -o "$WORK/$name.body" --cacert "$WORK/pki/ca.pem" \
	    "https://$HOST:$port/.well-known/mta-sts.txt"
	echo "-- $name: body $(wc -c <"$WORK/$name.body") bytes sha256 $(sha256sum <"$WORK/$name.body" | cut -c1-16), head $(wc -c <"$WORK/$name.head") bytes"
	tr -d '\r' <"$WORK/$name.head" | sed '/^$/d; s/^/   /'
done
cmp -s "$WORK/mtasts.body" "$WORK/nginx.body" || die "the two servers answer different bodies"

section "TLS probes (openssl s_client, the library and defaults wrk uses)"
probe() { # PORT ARGS...
	local port=$1
	shift
	echo | NSX openssl s_client -connect "127.0.0.1:$port" -servername "$HOST" \
	    -CAfile "$WORK/pki/ca.pem" "$@" 2>&1
}
for s in mtasts:$P_MTASTS nginx:$P_NGINX; do
	name=${s%%:*} port=${s#*:}
	d=$(probe "$port" -brief)
	t12=$(probe "$port" -brief -tls1_2 | awk -F': ' '/^Protocol version/ { v=$2 } /^Ciphersuite/ { c=$2 } END { print v, c }')
	t11=$(probe "$port" -brief -tls1_1 | grep -q '^Protocol version' && echo accepted || echo refused)
	r13=$(probe "$port" -tls1_3 -reconnect | grep -c '^Reused' || true)
	r12=$(probe "$port" -tls1_2 -reconnect | grep -c '^Reused' || true)
	printf '%-7s default: %s, %s, %s, %s, %s\n' "$name" \
	    "$(awk -F': ' '/^Protocol version/ { print $2 }' <<<"$d")" \
	    "$(awk -F': ' '/^Ciphersuite/ { print $2 }' <<<"$d")" \
	    "$(awk -F': ' '/^Server Temp Key/ { print $2 }' <<<"$d")" \
	    "signature $(awk -F': ' '/ignature type/ { print $2 }' <<<"$d")" \
	    "verification $(awk -F': ' '/^Verification/ { print $2 }' <<<"$d")"
	printf '%-7s -tls1_2: %s; -tls1_1: %s; resumed on -reconnect (5 each): TLS 1.3 %s, TLS 1.2 %s\n' \
	    "$name" "$t12" "$t11" "$r13" "$r12"
done
# wrk itself, against a throwaway nginx that logs the TLS parameters.
longrun ip netns exec "$NS" taskset -c 1 wrk -t1 -c"$CONNS" -d1s -s "$WORK/close.lua" \
    "https://$HOST:$P_PROBE/.well-known/mta-sts.txt" >/dev/null 2>&1 || true
stop "$PR_PID"
echo "wrk with Connection: close, as logged by a probe nginx (protocol cipher group reused requests-on-connection status: count):"
sort "$WORK/probe/tls.log" | uniq -c | sort -rn | head -5 | sed 's/^ */   /'

# ---- the load runs ----

# counters PORT-NAME: "connections responses" from the server's own counters.
counters() {
	if [ "$1" = mtasts ]; then
		NSX curl -s "http://127.0.0.1:$P_METRICS/metrics" | awk '
		    $1 == "mtasts_serve_connections_total" { c = $2 }
		    $1 == "mtasts_serve_responses_total{code=\"2xx\"}" { r = $2 }
		    END { print c + 0, r + 0 }'
	else
		NSX curl -s "http://127.0.0.1:$P_STATUS/status" | awk '
		    NR == 3 { print $1, $3 - 0 }'
	fi
}

# run NAME LOAD SECONDS [warm]: one wrk run; appends a line to $WORK/runs
# (not with warm).
run() {
	local name=$1 load=$2 secs=$3 pid port url out script=() c0 c1 r0 r1 k0 k1 z0 z1 v0 v1 pids
	if [ "$name" = mtasts ]; then pid=$M_PID port=$P_MTASTS; else pid=$N_PID port=$P_NGINX; fi
	[ "$load" = handshake ] && script=(-s "$WORK/close.lua")
	url="https://$HOST:$port/.well-known/mta-sts.txt"
	out=$WORK/wrk.$name.$load.$RANDOM
	read -r c0 r0 < <(counters "$name")
	pids=$(procs "$pid" | tr '\n' ' ')
	# shellcheck disable=SC2086
	k0=$(cpu_ticks $pids)
	# shellcheck disable=SC2086
	v0=$(sleeps $pids)
	z0=$(core0_ticks)
	longrun ip netns exec "$NS" taskset -c 1 wrk -t1 -c"$CONNS" -d"${secs}s" --latency \
	    ${script[@]+"${script[@]}"} "$url" >"$out" 2>&1 ||
	    die "wrk failed: $(cat "$out")"
	# shellcheck disable=SC2086
	k1=$(cpu_ticks $pids)
	# shellcheck disable=SC2086
	v1=$(sleeps $pids)
	z1=$(core0_ticks)
	[ "$(procs "$pid" | tr '\n' ' ')" = "$pids" ] || echo "warning: $name processes changed during a run" >&2
	read -r c1 r1 < <(counters "$name")
	[ "${4:-}" = warm ] && return 0
	awk -v name="$name" -v load="$load" -v k="$((k1 - k0))" -v z="$((z1 - z0))" -v clk="$CLK" \
	    -v conns="$((c1 - c0))" -v resp="$((r1 - r0))" -v sl="$((v1 - v0))" '
	    function ms(v) {
		if (v ~ /us$/) return v / 1000
		if (v ~ /ms$/) return v + 0
		if (v ~ /m$/) return v * 60000
		if (v ~ /s$/) return v * 1000
		return v + 0
	    }
	    / requests in / { req = $1 }
	    /^Requests\/sec:/ { rps = $2 }
	    $1 == "99%" { p99 = ms($2) }
	    /Socket errors:/ { gsub(/,/, ""); err = $4 + $6 + $8 + $10 }
	    /Non-2xx or 3xx responses:/ { bad = $NF }
	    END {
		cpu = k / clk
		printf "%s %s %.0f %.3f %.2f %.0f %.2f %d %d %d %d %.1f\n", name, load, rps, p99,
		    cpu, (cpu > 0 ? req / cpu : 0), z / clk, err + 0, bad + 0, conns, resp,
		    (req > 0 ? 1000 * sl / req : 0)
	    }' "$out" >>"$WORK/runs"
	printf '  %s\n' "$(tail -1 "$WORK/runs")" |
	    awk -v secs="$secs" '{ printf "  %-7s %-9s %7s req/s  p99 %6.2f ms  cpu %5.2f s (%3.0f%% of core 0)  %6s req/cpu-s  core0 %5.2f s  err %d non-2xx %d  conns %d resp %d  sleeps/1k req %.1f\n",
		$1, $2, $3, $4, $5, 100 * $5 / secs, $6, $7, $8, $9, $10, $11, $12 }'
}

# table LOAD: medians per server; prints and sets MED_mtasts / MED_nginx.
table() {
	awk -v load="$1" -v secs="$DURATION" '
	function median(a, n,   i, j, t) {
		for (i = 2; i <= n; i++)
			for (j = i; j > 1 && a[j - 1] > a[j]; j--) { t = a[j]; a[j] = a[j - 1]; a[j - 1] = t }
		return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
	}
	$2 == load {
		s = $1; n[s]++; k = n[s]
		rps[s, k] = $3; p99[s, k] = $4; cpu[s, k] = $5; rpc[s, k] = $6; z[s, k] = $7; sl[s, k] = $12
		err[s] += $8; bad[s] += $9; conns[s] += $10; resp[s] += $11
	}
	END {
		printf "%-7s %10s %10s %8s %12s %13s %9s %11s %s %s\n", "server", "req/s", "p99 ms", "cpu-s",
		    "req/cpu-s", "(min..max)", "core0-s", "conns/resp", "errors non-2xx", "sleeps/1k-req"
		for (si = 1; si <= 2; si++) {
			s = si == 1 ? "nginx" : "mtasts"
			m = n[s]
			for (k = 1; k <= m; k++) { a[k] = rps[s, k] } ; mr = median(a, m)
			for (k = 1; k <= m; k++) { a[k] = p99[s, k] } ; mp = median(a, m)
			for (k = 1; k <= m; k++) { a[k] = cpu[s, k] } ; mc = median(a, m)
			for (k = 1; k <= m; k++) { a[k] = z[s, k] } ; mz = median(a, m)
			for (k = 1; k <= m; k++) { a[k] = sl[s, k] } ; ms = median(a, m)
			for (k = 1; k <= m; k++) { a[k] = rpc[s, k] } ; mq = median(a, m)
			lo = a[1]; hi = a[m]
			printf "%-7s %10.0f %10.2f %8.2f %12.0f %13s %9.2f %11.4f %d %d %13.1f\n", s, mr, mp, mc, mq,
			    sprintf("%.0f..%.0f", lo, hi), mz, resp[s] ? conns[s] / resp[s] : 0, err[s], bad[s], ms
			med[s] = mq
		}
		# Per-round ratios show how much of the spread the rounds share.
		for (k = 1; k <= n["mtasts"] && k <= n["nginx"]; k++)
			r[k] = rpc["mtasts", k] / rpc["nginx", k]
		m = k - 1; mr = median(r, m)
		printf "mtasts/nginx per cpu-s: %.2f (ratio of medians); per round %.2f..%.2f, median %.2f\n",
		    med["mtasts"] / med["nginx"], r[1], r[m], mr
		printf "MED %.3f %.3f\n", med["nginx"], med["mtasts"]
		# Work on core 0 not charged to the server: other processes of the
		# machine (and softirq); much of it makes every figure less sure.
		for (si = 1; si <= 2; si++) {
			s = si == 1 ? "nginx" : "mtasts"
			for (k = 1; k <= n[s]; k++) { o[++no] = z[s, k] - cpu[s, k] }
		}
		mo = median(o, no)
		printf "other work on core 0 per run (core0-s minus cpu-s): median %.2f s, max %.2f s%s\n", mo, o[no],
		    (mo > 0.1 * secs ? " -- core 0 also ran other work (other processes, softirq): expect more spread" : "")
	}' "$WORK/runs"
}

section "warm-up (2 s per server and load, not counted)"
for load in keepalive handshake; do
	for name in nginx mtasts; do run "$name" "$load" 2 warm; done
done
echo "done"

: >"$WORK/runs"
for load in keepalive handshake; do
	if [ $load = keepalive ]; then
		section "load: keep-alive (wrk -t1 -c$CONNS -d${DURATION}s --latency), $ROUNDS rounds, A B A B"
	else
		section "load: full TLS 1.3 handshake per request (same, plus Connection: close), $ROUNDS rounds, A B A B"
	fi
	for _ in $(seq "$ROUNDS"); do
		run nginx $load "$DURATION"
		run mtasts $load "$DURATION"
	done
	echo "-- medians ($load; cpu = utime+stime of all server processes; core0 = busy time of core 0 incl. softirq)"
	table $load | tee "$WORK/table.$load" | grep -v '^MED '
done
read -r KA_N KA_M < <(awk '$1 == "MED" { print $2, $3 }' "$WORK/table.keepalive")
read -r HS_N HS_M < <(awk '$1 == "MED" { print $2, $3 }' "$WORK/table.handshake")
echo "load average after the runs: $(cut -d' ' -f1-3 /proc/loadavg)"

# ---- the crypto limit ----

section "crypto limit (openssl speed -seconds 3 ecdsap256 ecdhx25519, on core 0)"
longrun taskset -c 0 openssl speed -seconds 3 ecdsap256 ecdhx25519 >"$WORK/speed" 2>/dev/null ||
    die "openssl speed failed"
SIGN=$(awk '/ecdsa \(nistp256\)/ { print $(NF - 1); exit }' "$WORK/speed")
X25519=$(awk '/ecdh \(X25519\)/ { print $NF; exit }' "$WORK/speed")
[ -n "$SIGN" ] && [ -n "$X25519" ] || die "cannot read openssl speed: $(cat "$WORK/speed")"
awk -v s="$SIGN" -v x="$X25519" -v n="$HS_N" -v m="$HS_M" 'BEGIN {
	lim = 1 / (1 / s + 1 / x)
	lim2 = 1 / (1 / s + 2 / x)
	printf "ECDSA P-256 sign/s %.0f, X25519 op/s %.0f\n", s, x
	printf "crypto limit (1 signature + 1 X25519 per handshake): %.0f handshakes per cpu-s\n", lim
	printf "  nginx  %6.0f handshakes/cpu-s = %4.1f%% of it\n", n, 100 * n / lim
	printf "  mtasts %6.0f handshakes/cpu-s = %4.1f%% of it\n", m, 100 * m / lim
	printf "(a server really does 2 X25519 operations, key generation and derivation: %.0f/cpu-s, nginx %.1f%%, mtasts %.1f%%)\n",
	    lim2, 100 * n / lim2, 100 * m / lim2
}'

# ---- memory and start-up with many domains ----

# report_mem NAME PID START-SECONDS
report_mem() {
	local p hwm rss pss th=0 tr=0 tp=0 line=""
	for p in $(procs "$2"); do
		hwm=$(vm_kib "$p" VmHWM) rss=$(vm_kib "$p" VmRSS) pss=$(pss_kib "$p")
		th=$((th + hwm)) tr=$((tr + rss)) tp=$((tp + pss))
		line+=" $p:${hwm}"
	done
	awk -v n="$1" -v h="$th" -v r="$tr" -v p="$tp" -v s="$3" -v l="$line" 'BEGIN {
		printf "%-22s start %6ss  peak RSS (sum VmHWM) %7.1f MiB  now: RSS %7.1f MiB, PSS %7.1f MiB  [pid:VmHWM KiB%s]\n",
		    n, s, h / 1024, r / 1024, p / 1024, l }'
}

# big_test LABEL PERDOMAIN(0/1)
big_test() {
	local label=$1 per=$2 dir=$WORK/big/$1 pid t i
	mkdir -p "$dir/domains" "$dir/nginx/tmp"
	{
		cat <<EOF
listen 127.0.0.1:$P_BIG_MTASTS
cache-control max-age=300
max-connections 100000
domains-dir $dir/domains
EOF
		[ "$per" = 1 ] || printf 'certificate %s\nkey %s\n' "$CERT" "$KEY"
	} >"$dir/mtasts.conf"
	{
		nginx_conf "$dir/nginx" "$P_BIG_NGINX" | sed '/^\tserver {$/,$d'
		echo "	server_names_hash_max_size 65536;"
		echo "	server_names_hash_bucket_size 64;"
		for i in $(seq "$DOMAINS"); do
			printf '\tserver {\n\t\tlisten 127.0.0.1:%s ssl;\n\t\tserver_name mta-sts.d%s.test;\n' "$P_BIG_NGINX" "$i"
			[ "$per" = 1 ] && printf '\t\tssl_certificate %s/domains/d%s.test/cert.pem;\n\t\tssl_certificate_key %s/domains/d%s.test/key.pem;\n' \
			    "$dir" "$i" "$dir" "$i"
			printf '\t\tlocation = /.well-known/mta-sts.txt { default_type text/plain; add_header Cache-Control "max-age=300" always; return 200 "%s"; }\n\t}\n' \
			    "$POLICY_NL"
		done
		echo "}"
	} >"$dir/nginx/nginx.conf"

	start_mtasts "$dir/mtasts.conf" "$dir/mtasts.log"
	pid=$STARTED
	t=$(wait_serving "$P_BIG_MTASTS" "mta-sts.d$DOMAINS.test" 120) ||
	    die "mtasts serve with $DOMAINS domains did not serve: $(tail -3 "$dir/mtasts.log")"
	report_mem "mtasts ($label)" "$pid" "$t"
	stop "$pid"
	start_nginx "$dir/nginx"
	pid=$STARTED
	t=$(wait_serving "$P_BIG_NGINX" "mta-sts.d$DOMAINS.test" 300) ||
	    die "nginx with $DOMAINS server blocks did not serve: $(tail -3 "$dir/nginx/error.log")"
	report_mem "nginx ($label)" "$pid" "$t"
	stop "$pid"
}

section "memory: $DOMAINS domains (start = launch to first 200 for the last domain; peak RSS = sum of VmHWM)"
# Free core 0 of the bench servers first.
stop "$M_PID"
stop "$N_PID"
mkdir -p "$WORK/big/shared/domains"
(cd "$WORK/big/shared/domains" && seq -f 'd%.0f.test' "$DOMAINS" | xargs mkdir)
for i in $(seq "$DOMAINS"); do
	printf "$POLICY_NL" >"$WORK/big/shared/domains/d$i.test/mta-sts.txt"
done
echo "mtasts: one domains-dir, $DOMAINS subdirectories, the global certificate; nginx: $DOMAINS server blocks, the same certificate (http level)"
big_test shared 0

if [ "$PERDOMAIN" = auto ]; then
	python3 -c 'import cryptography' 2>/dev/null && PERDOMAIN=1 || PERDOMAIN=0
fi
if [ "$PERDOMAIN" = 1 ]; then
	mkdir -p "$WORK/big/perdomain"
	cp -a "$WORK/big/shared/domains" "$WORK/big/perdomain/"
	t0=$(date +%s.%N)
	cat >"$WORK/gencerts.py" <<'EOF'

import datetime, os, sys
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID, ExtendedKeyUsageOID
d, n, cap, cak = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
ca = x509.load_pem_x509_certificate(open(cap, "rb").read())
cakey = serialization.load_pem_private_key(open(cak, "rb").read(), None)
now = datetime.datetime.now(datetime.timezone.utc)
for i in range(1, n + 1):
    name = "mta-sts.d%d.test" % i
    k = ec.generate_private_key(ec.SECP256R1())
    c = (x509.CertificateBuilder()
         .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)]))
         .issuer_name(ca.subject).public_key(k.public_key())
         .serial_number(x509.random_serial_number())
         .not_valid_before(now - datetime.timedelta(hours=1))
         .not_valid_after(now + datetime.timedelta(days=2))
         .add_extension(x509.SubjectAlternativeName([x509.DNSName(name)]), False)
         .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), False)
         .sign(cakey, hashes.SHA256()))
    p = "%s/d%d.test/" % (d, i)
    open(p + "cert.pem", "wb").write(c.public_bytes(serialization.Encoding.PEM))
    open(p + "key.pem", "wb").write(k.private_bytes(serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    os.chmod(p + "key.pem", 0o600)
EOF
	longrun python3 "$WORK/gencerts.py" "$WORK/big/perdomain/domains" "$DOMAINS" \
	    "$WORK/pki/ca.pem" "$WORK/pki/ca.key" || die "cannot make the per-domain certificates"
	echo "per-domain variant: $DOMAINS keys and certificates made in $(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }') s; mtasts: cert.pem/key.pem in each subdirectory; nginx: ssl_certificate per server block"
	big_test perdomain 1
else
	echo "per-domain certificate variant skipped (PERDOMAIN=0 or no python3 cryptography)"
fi

section "summary"
awk -v kn="$KA_N" -v km="$KA_M" -v hn="$HS_N" -v hm="$HS_M" 'BEGIN {
	kr = km / kn; hr = hm / hn
	printf "keep-alive: mtasts %.0f vs nginx %.0f req/cpu-s: %.2f (goal >= 1.30: %s)\n", km, kn, kr, (kr >= 1.3 ? "met" : "NOT met")
	printf "handshake:  mtasts %.0f vs nginx %.0f req/cpu-s: %.2f (goal >= 1.10: %s)\n", hm, hn, hr, (hr >= 1.1 ? "met" : "NOT met")
	printf "RESULT keepalive_ratio=%.2f handshake_ratio=%.2f\n", kr, hr
}'
