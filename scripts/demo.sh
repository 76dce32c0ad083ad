#!/bin/bash
# SPDX-License-Identifier: ISC
#
# The demo of `make demo` / `./quickstart demo`: brings up the local
# internet (tests/world: DNSSEC-signed zones, a validating resolver, a
# local CA, `mtasts serve`, Postfix MX hosts), runs `mtasts check` on the
# healthy example.test and on a broken domain, and tears it down; then
# writes a policy and its DNS records for example.com with `mtasts
# init`, lints them, lints a broken policy (text and --json), and
# matches MX patterns; then stores real TLS-RPT reports, summarises
# them and alerts on their failures; last, judges example.com's testing
# policy on generated reports, refuses to promote it too early, promotes
# it, and starts an MX change; at the end a sending Postfix asks
# `mtasts policyd` and delivers one mail over verified TLS.  Builds
# nothing: it runs the binary given as $1 (default build/mtasts).  Every
# step states the exit status it expects; the demo exits 0 only when
# every step behaved as expected.
set -u
shopt -s extglob

MTASTS=${1:-build/mtasts}
case $MTASTS in
/*) ;;
*) MTASTS=$PWD/$MTASTS ;;
esac
if [ ! -x "$MTASTS" ]; then
	echo "demo: $MTASTS not found; run 'make' first" >&2
	exit 2
fi

if [ -t 1 ]; then
	B=$'\e[1m' G=$'\e[32m' R=$'\e[31m' N=$'\e[0m'
else
	B='' G='' R='' N=''
fi

WORK=$(mktemp -d "${TMPDIR:-/tmp}/mtasts-demo.XXXXXX") || exit 2
WORLD_SH=$(cd "$(dirname "$0")/.." && pwd)/tests/world/world.sh
export WORLD_NS=mtsworld-demo MTASTS
trap 'bash "$WORLD_SH" down >/dev/null 2>&1; rm -rf "$WORK"' EXIT
OUT=$WORK/example.com

steps=0
bad=0

heading()
{
	printf '\n%s== %s ==%s\n' "$B" "$*" "$N"
}

# Shell-quotes one word for display, only when it needs it.
shq()
{
	if [[ $1 =~ ^[A-Za-z0-9_./:@=,+-]+$ ]]; then
		printf '%s' "$1"
	else
		printf "'%s'" "${1//\'/\'\\\'\'}"
	fi
}

# step EXPECTED_STATUS COMMAND...: shows the command (the binary as
# `mtasts`), runs it, shows its output (kept in $LAST_OUT) and its exit
# status, and counts it as bad unless the status is the expected one.
LAST_OUT=
step()
{
	local want=$1 rc a
	shift
	local skip=2
	[ "$1" = w ] && skip=3 # w: run inside the world's namespace
	printf '$ mtasts'
	for a in "${@:$skip}"; do
		printf ' %s' "$(shq "$a")"
	done
	printf '\n'
	LAST_OUT=$("$@")
	rc=$?
	[ -z "$LAST_OUT" ] || printf '%s\n' "$LAST_OUT"
	steps=$((steps + 1))
	if [ "$rc" -eq "$want" ]; then
		printf '%s-> exit %d (expected)%s\n' "$G" "$rc" "$N"
	else
		printf '%s-> exit %d, expected %d%s\n' "$R" "$rc" "$want" "$N"
		bad=$((bad + 1))
	fi
	return 0
}

# check DESCRIPTION COMMAND...: a silent expectation on the results.
check()
{
	local what=$1
	shift
	steps=$((steps + 1))
	if "$@"; then
		return 0
	fi
	printf '%s-> not as expected: %s%s\n' "$R" "$what" "$N"
	bad=$((bad + 1))
}

# world_up [VAR=VALUE...]: brings the local internet (tests/world) up
# with these settings and takes its variables (WORLD_RESOLVER, ...);
# false, and one bad step with the tail of its log, when it does not.
world_up()
{
	if eval "$(env "$@" bash "$WORLD_SH" up 2>"$WORK/world.log")"; then
		tail -1 "$WORK/world.log"
		return 0
	fi
	printf '%sthe world did not come up:%s\n' "$R" "$N"
	tail -5 "$WORK/world.log"
	steps=$((steps + 1))
	bad=$((bad + 1))
	return 1
}

# w COMMAND...: runs it in the world's network namespace.
w() { bash "$WORLD_SH" exec "$@"; }

# The TXT data of OWNER in a zone file: its quoted strings concatenated
# without spaces, as a resolver hands them over (RFC 8461 §3.1).
zone_txt()
{
	local owner=$1 zone=$2 line
	line=$(awk -v o="$owner" 'tolower($1) == tolower(o) { print; exit }' \
	    "$zone")
	[ -n "$line" ] || return 1
	line=${line#*\"}
	line=${line%\"*}
	printf '%s' "${line//\"*([[:space:]])\"/}"
}

cat <<INTRO
${B}mtasts demo${N}: publish MTA-STS and TLS-RPT for example.com, check it,
and see what the linter says about a broken policy.
(scratch directory: $WORK)
INTRO

heading "1. Check a healthy and a broken domain in the local internet"
if [ "$(id -u)" -ne 0 ]; then
	echo "(skipped: the local internet needs root for its network namespace)"
elif world_up; then
	step 0 w "$MTASTS" check --resolver "$WORLD_RESOLVER" \
	    --trust-anchor "$WORLD_TA" --ca-file "$WORLD_CA" --timeout 5000 \
	    example.test
	step 1 w "$MTASTS" check --resolver "$WORLD_RESOLVER" \
	    --trust-anchor "$WORLD_TA" --ca-file "$WORLD_CA" --timeout 5000 \
	    mx-cert-expired.test
	check "the broken domain's expired MX certificate is named" \
	    grep -q check-smtp-cert-expired <<<"$LAST_OUT"
	bash "$WORLD_SH" down >/dev/null 2>&1
fi

heading "2. Write the policy and the DNS records"
step 0 "$MTASTS" init example.com --mx mx1.example.com \
    --mx mx2.example.com --rua mailto:tlsrpt@example.com --out "$OUT"
for f in mta-sts.txt dns.zone; do
	if [ -f "$OUT/$f" ]; then
		printf -- '--- %s ---\n' "$f"
		cat "$OUT/$f"
	fi
done
check "init writes mta-sts.txt" test -s "$OUT/mta-sts.txt"
check "init writes dns.zone" test -s "$OUT/dns.zone"
sts_txt=$(zone_txt _mta-sts.example.com. "$OUT/dns.zone" 2>/dev/null)
rpt_txt=$(zone_txt _smtp._tls.example.com. "$OUT/dns.zone" 2>/dev/null)
check "dns.zone has the _mta-sts TXT record" test -n "$sts_txt"
check "dns.zone has the _smtp._tls TXT record" test -n "$rpt_txt"

heading "3. Lint what init wrote"
step 0 "$MTASTS" lint policy "$OUT/mta-sts.txt"
step 0 "$MTASTS" lint sts-record "$sts_txt"
step 0 "$MTASTS" lint tlsrpt-record "$rpt_txt"

heading "4. Lint a broken policy (exit 1 is the expected answer)"
BROKEN=$WORK/broken-mta-sts.txt
printf '%s\r\n' 'version: STSv1' 'mode: enforce' 'mx: *.*.example.com' \
    'max_age: 1d' >"$BROKEN"
printf -- '--- %s ---\n' "${BROKEN##*/}"
tr -d '\r' <"$BROKEN"
step 1 "$MTASTS" lint policy "$BROKEN"
step 1 "$MTASTS" lint --json policy "$BROKEN"
json=$LAST_OUT
check '--json says "valid": false' grep -Eq '"valid":[[:space:]]*false' \
    <<<"$json"
check '--json lists findings with codes' grep -Eq '"code":' <<<"$json"

heading "5. Which MX hosts does a pattern cover? (RFC 8461 §4.1)"
step 0 "$MTASTS" match '*.example.com' mx1.example.com
step 1 "$MTASTS" match '*.example.com' a.b.example.com

heading "6. TLS-RPT reports: store a few, summarise them, alert on failures"
# Real reports from Google, Microsoft, Mail.ru and the RFC's example
# (tests/data/tlsrpt/SOURCES), one of them a whole report mail.
SAMPLES=$(cd "$(dirname "$0")/.." && pwd)/tests/data/tlsrpt
REPORTS=()
for f in "$SAMPLES"/*.json "$SAMPLES"/google-2022-report.eml; do
	case $f in *.expected.json | *.decoded.json) continue ;; esac
	REPORTS+=("$f")
done
step 0 "$MTASTS" report parse -c "$SAMPLES/microsoft-no-timezone-2024.json"
check "parse notes Microsoft's dates without a time zone" \
    grep -q tlsrpt-report-date-no-zone <<<"$LAST_OUT"
step 0 "$MTASTS" report ingest -v --db "sqlite:$WORK/reports.db" \
    "${REPORTS[@]}"
step 0 "$MTASTS" report ingest --db "sqlite:$WORK/reports.db" \
    "${REPORTS[@]}"
step 0 "$MTASTS" report summary --db "sqlite:$WORK/reports.db" --by domain
step 0 "$MTASTS" report summary --db "sqlite:$WORK/reports.db" \
    --by domain,result --since 2016-04-01 --until 2016-04-01
step 1 "$MTASTS" report alert --db "sqlite:$WORK/reports.db" --since 2000-01-01
check "alert names the RFC example's certificate-expired failures" \
    grep -q certificate-expired <<<"$LAST_OUT"

heading "7. Roll out: from testing to enforce, then an MX change"
# Two weeks of generated reports (tests/e2e/gen_rollout_reports.py) from
# two reporters about example.com's testing policy of part 2: first the
# last 6 days only, then the 10 days before them as well.
GEN=$(cd "$(dirname "$0")/.." && pwd)/tests/e2e/gen_rollout_reports.py
RDB="sqlite:$WORK/rollout.db"
POLICY=$OUT/mta-sts.txt
for org in google.com microsoft.com; do
	python3 "$GEN" --domain example.com --days=-6..-1 --org "$org" \
	    --policy "$POLICY" "$WORK/recent" >/dev/null &&
	python3 "$GEN" --domain example.com --days=-16..-7 --org "$org" \
	    --policy "$POLICY" "$WORK/older" >/dev/null ||
	    { steps=$((steps + 1)); bad=$((bad + 1)); }
done
"$MTASTS" report ingest -q --db "$RDB" "$WORK/recent" >/dev/null
step 3 "$MTASTS" rollout status --policy "$POLICY" --db "$RDB" --no-fetch
cp "$POLICY" "$WORK/policy.before"
step 3 "$MTASTS" rollout promote --policy "$POLICY" --db "$RDB"
check "a refused promote leaves the policy byte for byte" \
    cmp -s "$POLICY" "$WORK/policy.before"
"$MTASTS" report ingest -q --db "$RDB" "$WORK/older" >/dev/null
step 0 "$MTASTS" rollout status --policy "$POLICY" --db "$RDB" --no-fetch
step 0 "$MTASTS" rollout promote --policy "$POLICY" --db "$RDB"
check "the promoted policy is in enforce mode" \
    grep -q '^mode: enforce' "$POLICY"
step 0 "$MTASTS" lint policy "$POLICY"
step 0 "$MTASTS" rollout mx-change --policy "$POLICY" --db "$RDB" \
    --add mx3.example.com --remove mx1.example.com
step 3 "$MTASTS" rollout mx-change --policy "$POLICY" --db "$RDB" --finish

heading "8. Send: Postfix asks mtasts policyd, and delivers over verified TLS"
# The local internet again, with a sending Postfix (127.0.0.2) whose
# smtp_tls_policy_maps is socketmap:inet:127.0.0.1:8461:postfix, and
# mtasts policyd answering it; one mail to a domain with an enforce
# policy (tests/world/domains-policyd/pd-enforce.test.domain).
ROOT=$(cd "$(dirname "$0")/.." && pwd)
if [ "$(id -u)" -ne 0 ]; then
	echo "(skipped: the local internet needs root for its network namespace)"
elif world_up WORLD_SENDER=1 \
    "WORLD_DOMAINS=$ROOT/tests/world/domains-policyd"; then
	mkdir -p "$WORK/policyd"
	cat >"$WORK/policyd/policyd.conf" <<EOF
listen inet:127.0.0.1:8461
user nobody
resolver $WORLD_RESOLVER
trust-anchor $WORLD_TA
ca-file $WORLD_CA
cache sqlite:$WORK/policyd/cache/policyd.db
EOF
	echo "\$ cat policyd.conf"
	cat "$WORK/policyd/policyd.conf"
	step 0 "$MTASTS" policyd -n -f "$WORK/policyd/policyd.conf"
	setsid ip netns exec "$WORLD_NS" "$MTASTS" policyd -d \
	    -f "$WORK/policyd/policyd.conf" </dev/null >"$WORK/policyd.log" 2>&1 &
	for _ in $(seq 100); do
		w bash -c 'exec 3<>/dev/tcp/127.0.0.1/8461' 2>/dev/null && break
		sleep 0.1
	done
	step 0 w "$MTASTS" fetch --postfix --resolver "$WORLD_RESOLVER" \
	    --trust-anchor "$WORLD_TA" --ca-file "$WORLD_CA" pd-enforce.test
	check "policyd's answer is secure, with the policy's MX host" \
	    grep -qx 'OK secure match=mx1.pd-enforce.test servername=hostname' \
	    <<<"$(head -1 <<<"$LAST_OUT")"
	echo "\$ swaks --server 127.0.0.2 --to user@pd-enforce.test"
	qid=$(w swaks --server "$WORLD_SENDER_ADDR:25" --to user@pd-enforce.test \
	    --from demo@sender.test --h-Subject "mtasts demo" --timeout 20 2>&1 |
	    sed -n 's/.*queued as \([0-9A-Za-z]*\).*/\1/p' | head -1)
	echo "queued as ${qid:-?}"
	for _ in $(seq 100); do
		grep -q "$qid: to=.*status=" "$WORLD_SENDER_LOG" 2>/dev/null && break
		sleep 0.1
	done
	grep -E "policyd|Verified TLS|$qid: to=" "$WORLD_SENDER_LOG" 2>/dev/null |
	    grep -v "warning: .*socketmap" | sed 's/^.*postfix/postfix/' | tail -3
	check "the mail went to mx1.pd-enforce.test, delivered" \
	    grep -q "$qid: to=<user@pd-enforce.test>.*relay=mx1.pd-enforce.test.*status=sent" \
	    "$WORLD_SENDER_LOG"
	check "over TLS that Postfix verified (as policyd asked)" \
	    grep -q "Verified TLS connection established to mx1.pd-enforce.test" \
	    "$WORLD_SENDER_LOG"
	bash "$WORLD_SH" down >/dev/null 2>&1
fi

heading "9. Publish with a certificate mtasts serve gets itself (ACME)"
# The local internet with pebble, an ACME test CA (RFC 8555), on
# 127.0.0.85; `mtasts serve` on 127.0.0.84:443 with `acme yes` gets the
# certificate of mta-sts.acme-demo.test over TLS-ALPN-01 (RFC 8737) on
# its own port 443 (tests/world/domains-acme/acme-demo.test.domain).
if [ "$(id -u)" -ne 0 ]; then
	echo "(skipped: the local internet needs root for its network namespace)"
elif ! command -v pebble >/dev/null; then
	echo "(skipped: pebble is not installed)"
elif world_up WORLD_SMTP=0 \
    "WORLD_DOMAINS=$ROOT/tests/world/domains-acme"; then
	A=$WORK/acme
	mkdir -p "$A"
	# pebble's own HTTPS certificate, from the world's CA.
	openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
	    -keyout "$A/pebble.key" -subj /CN=acme.test -out "$A/pebble.csr" \
	    2>/dev/null
	openssl x509 -req -in "$A/pebble.csr" -CA "$WORLD_DIR/pki/ca.pem" \
	    -CAkey "$WORLD_DIR/pki/ca.key" -CAcreateserial -days 1 \
	    -out "$A/pebble.pem" -extfile <(printf \
	    'subjectAltName=IP:127.0.0.85\n') 2>/dev/null
	cat >"$A/pebble.json" <<EOC
{"pebble": {"listenAddress": "127.0.0.85:14000",
 "managementListenAddress": "127.0.0.85:15000",
 "certificate": "$A/pebble.pem", "privateKey": "$A/pebble.key",
 "httpPort": 80, "tlsPort": 443}}
EOC
	setsid ip netns exec "$WORLD_NS" env PEBBLE_VA_NOSLEEP=1 pebble \
	    -config "$A/pebble.json" -dnsserver 127.0.0.1:53 \
	    </dev/null >"$A/pebble.log" 2>&1 &
	for _ in $(seq 100); do
		w curl -sf --cacert "$WORLD_CA" -o "$A/root.pem" \
		    https://127.0.0.85:15000/roots/0 && break
		sleep 0.1
	done
	printf 'version: STSv1\nmode: enforce\nmx: mx1.acme-demo.test\nmax_age: 86400\n' \
	    >"$A/mta-sts.txt"
	cat >"$A/mtasts.conf" <<EOC
listen 127.0.0.84:443
acme yes
acme-directory https://127.0.0.85:14000/dir
acme-ca-file $WORLD_CA
acme-contact mailto:hostmaster@acme-demo.test
acme-state-dir $A/state
domain acme-demo.test {
	policy $A/mta-sts.txt
}
EOC
	echo "\$ cat mtasts.conf"
	cat "$A/mtasts.conf"
	step 0 "$MTASTS" serve -n -c "$A/mtasts.conf"
	setsid ip netns exec "$WORLD_NS" "$MTASTS" serve -d -c "$A/mtasts.conf" \
	    </dev/null >"$A/serve.log" 2>&1 &
	for _ in $(seq 300); do
		w sh -c "openssl s_client -connect 127.0.0.84:443 \
		    -servername mta-sts.acme-demo.test -CAfile $A/root.pem \
		    -verify_return_error </dev/null >/dev/null 2>&1" && break
		sleep 0.2
	done
	grep -E "certificate issued|new ACME certificate" "$A/serve.log" | tail -2
	step 0 "$MTASTS" serve -n -c "$A/mtasts.conf"
	echo "\$ openssl s_client -connect mta-sts.acme-demo.test:443 ..."
	w sh -c "openssl s_client -connect 127.0.0.84:443 \
	    -servername mta-sts.acme-demo.test -CAfile $A/root.pem \
	    -verify_return_error </dev/null 2>/dev/null" |
	    grep -E "^ *[0-9] s:|Verify return code" | tee "$A/chain.out"
	check "the served chain leads to pebble's root, verified" \
	    grep -q "Verify return code: 0 (ok)" "$A/chain.out"
	echo "\$ curl https://mta-sts.acme-demo.test/.well-known/mta-sts.txt"
	policy=$(w curl -s --cacert "$A/root.pem" \
	    https://mta-sts.acme-demo.test/.well-known/mta-sts.txt)
	printf '%s\n' "$policy"
	check "the policy is served over the certificate from the ACME CA" \
	    grep -q "^mode: enforce" <<<"$policy"
	pkill -f -- "serve -d -c $A/mtasts.conf"
	bash "$WORLD_SH" down >/dev/null 2>&1
fi

echo
if [ "$bad" -eq 0 ]; then
	printf '%sdemo: all %d steps behaved as expected%s\n' "$G" "$steps" "$N"
	exit 0
fi
printf '%sdemo: %d of %d steps did not behave as expected%s\n' "$R" "$bad" \
    "$steps" "$N"
exit 1
