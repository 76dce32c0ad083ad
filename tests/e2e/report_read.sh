#!/bin/bash
# SPDX-License-Identifier: ISC
# mtasts report summary, alert and html (mtasts-report(1)) on stores
# that `mtasts report ingest` fills from the samples of tests/data/tlsrpt
# and from reports report_read.py makes (five days, four domains, five
# organizations, MX hosts and result types, hostile strings), against
# what report_read.py computes apart from the reports themselves; on
# SQLite and on a PostgreSQL started here (tests/e2e/pg.sh).  The page
# is opened in headless Chromium: no console message, a screenshot that
# shows the chart.  Prints TAP.
#   report_read.sh MTASTS SAMPLES_DIR
set -u
here=$(cd "$(dirname "$0")" && pwd)
MTASTS=${1:?usage: report_read.sh MTASTS SAMPLES_DIR}
SAMPLES=${2:?usage: report_read.sh MTASTS SAMPLES_DIR}
PY="python3 $here/report_read.py"
T=$(mktemp -d /tmp/mts-report-read.XXXXXX) || exit 1
. "$here/pg.sh"
trap 'pg_stop; [ -n "${KEEP:-}" ] || rm -rf "$T"' EXIT
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

# run WANT_STATUS NAME CMD...: stdout in $T/out, stderr in $T/err.
run() {
	local want=$1 name=$2 got
	shift 2
	"$@" >"$T/out" 2>"$T/err"
	got=$?
	[ "$got" -eq "$want" ]
	ok $? "$name (exit $got, want $want)"
	if [ "$got" -ne "$want" ]; then
		sed 's/^/# out: /' "$T/out" | head -10
		sed 's/^/# err: /' "$T/err" | head -10
	fi
}

# same NAME EXPECTED: $T/out holds the NDJSON of EXPECTED.
same() {
	$PY same "$2" "$T/out"
	ok $? "$1"
}

secs() { date -u -d "$1" +%s; }

now=$(date -u +%s)
mkdir -p "$T/gen" "$T/samples"
$PY gen "$T/gen" "$now" || { echo "Bail out! report_read.py gen"; exit 1; }
cp "$SAMPLES"/*.json "$T/samples/"
# What the reports say, normalised by the parser: the ground truth the
# expectations are computed from (not from the store).
for f in "$T/samples"/*.json "$T/gen"/*; do
	"$MTASTS" report parse -c "$f"
done >"$T/reports.ndjson" 2>"$T/parse.err"
nrep=$(wc -l <"$T/reports.ndjson")
echo "# $nrep reports parsed ($(ls "$T/gen" | wc -l) generated)"

# exp NAME PY-ARGS...: the expectation in $T/NAME.
exp() {
	local name=$1
	shift
	$PY "$@" >"$T/$name" || echo "# report_read.py $* failed"
}

# The checks of one store; $1 the URL, $2 a label.
checks() {
	local db=$1 l=$2 by

	for by in day,domain day,mx mx,result org day,domain,org,mx,result \
		result; do
		exp "e-$by" expect "$T/reports.ndjson" "$by"
		run 0 "$l: summary --json --by $by" \
			"$MTASTS" report summary --db "$db" --json --by "$by"
		same "$l: summary --by $by: the rows computed apart" "$T/e-$by"
	done
	# --by repeated is the comma list
	run 0 "$l: summary --by day --by mx" \
		"$MTASTS" report summary --db "$db" --json --by day --by mx
	same "$l: --by day --by mx is --by day,mx" "$T/e-day,mx"
	# the default is day,domain
	run 0 "$l: summary --json (default keys)" \
		"$MTASTS" report summary --db "$db" --json
	same "$l: summary's default keys are day,domain" "$T/e-day,domain"

	# the table: rows, and a total line of each report once
	exp total expect "$T/reports.ndjson" ""
	run 0 "$l: summary (table)" "$MTASTS" report summary --db "$db"
	$PY table "$T/out" "$T/e-day,domain" "$(cat "$T/total")"
	ok $? "$l: the table's rows and total line"
	run 0 "$l: summary --by day,org (table)" \
		"$MTASTS" report summary --db "$db" --by day,org
	exp e-day,org expect "$T/reports.ndjson" day,org
	$PY table "$T/out" "$T/e-day,org" "$(cat "$T/total")"
	ok $? "$l: by day and org, the total line is the rows' sum"
	run 0 "$l: summary --by org,mx (table)" \
		"$MTASTS" report summary --db "$db" --by org,mx
	exp e-org,mx expect "$T/reports.ndjson" org,mx
	$PY table "$T/out" "$T/e-org,mx" "$(cat "$T/total")"
	ok $? "$l: a table of hostile strings: ESC shown as \\x1B"
	! grep -q $'\x1b' "$T/out"
	ok $? "$l: no ESC reaches the terminal"

	# CSV
	run 0 "$l: summary --csv --by day,org" \
		"$MTASTS" report summary --db "$db" --csv --by day,org
	cp "$T/out" "$T/csv"
	exp e-day,org expect "$T/reports.ndjson" day,org
	$PY csv "$T/csv" "$T/e-day,org"
	ok $? "$l: CSV (RFC 4180: CRLF, quoted comma and quote) holds the rows"

	# filters
	run 0 "$l: --domain b.example" "$MTASTS" report summary --db "$db" \
		--json --by day,mx --domain b.example
	exp f expect "$T/reports.ndjson" day,mx --domain b.example
	same "$l: --domain b.example: its policies only" "$T/f"
	run 0 "$l: --domain B.Example. (a name as people type it)" \
		"$MTASTS" report summary --db "$db" --json --by day,mx \
		--domain B.Example.
	same "$l: --domain is case-folded, its dot dropped" "$T/f"
	run 0 "$l: --since 2026-11-02 --until 2026-11-03" \
		"$MTASTS" report summary --db "$db" --json --by day,domain \
		--since 2026-11-02 --until 2026-11-03
	exp f expect "$T/reports.ndjson" day,domain \
		--since "$(secs 2026-11-02)" --until "$(secs 2026-11-04)"
	same "$l: --until DATE takes that day in" "$T/f"
	[ "$(wc -l <"$T/f")" -gt 2 ]
	ok $? "$l: (the window holds rows)"
	run 0 "$l: --since RFC 3339 --until RFC 3339" \
		"$MTASTS" report summary --db "$db" --json --by day,domain,org \
		--since 2026-11-01T12:00:00+02:00 --until 2026-11-05T00:00:00Z
	exp f expect "$T/reports.ndjson" day,domain,org \
		--since "$(secs 2026-11-01T10:00:00Z)" --until "$(secs 2026-11-05)"
	same "$l: RFC 3339 bounds: instants" "$T/f"
	run 0 "$l: --since 3d" "$MTASTS" report summary --db "$db" --json \
		--since 3d
	exp f expect "$T/reports.ndjson" day,domain --since $((now - 3 * 86400))
	same "$l: --since 3d: the reports of yesterday" "$T/f"
	run 2 "$l: --since 2026-02-30 is refused" "$MTASTS" report summary \
		--db "$db" --since 2026-02-30
	grep -q "no such day" "$T/err"
	ok $? "$l: ... saying why"
	run 2 "$l: --by week is refused" "$MTASTS" report summary --db "$db" \
		--by day,week

	# alert
	run 0 "$l: alert on a day of no failure" "$MTASTS" report alert \
		--db "$db" --since 2026-11-05 --until 2026-11-05
	[ ! -s "$T/out" ] && [ ! -s "$T/err" ]
	ok $? "$l: ... says nothing at all"
	run 1 "$l: alert --json over every report" "$MTASTS" report alert \
		--db "$db" --json --since 1970-01-01
	exp a alert "$T/reports.ndjson" --since 0
	same "$l: alert --json: each failure, its sessions and reporters" \
		"$T/a"
	run 1 "$l: alert (table) over every report" "$MTASTS" report alert \
		--db "$db" --since 1970-01-01
	python3 - "$T/a" "$T/out" <<-'EOF'
	import json, sys
	out = open(sys.argv[2]).read().splitlines()[3:]
	want = [json.loads(l) for l in open(sys.argv[1])]
	bad = len(out) != len(want)
	for line, w in zip(out, want):
	    cells = [c for c in line.split("  ") if c != ""]
	    cells = [c.strip() for c in cells]
	    exp = [w["domain"] or "(no policy-domain)",
	           w["result"] or "(no details)", w["mx"] or "-",
	           str(w["failed"]),
	           ", ".join(o.replace("\x1b", "\\x1B")
	                     for o in w["organizations"])]
	    if cells != exp:
	        print("# %r\n# want %s" % (line, exp))
	        bad = True
	sys.exit(1 if bad else 0)
	EOF
	ok $? "$l: alert's table lists each failure"
	run 1 "$l: alert (default --since 48h)" "$MTASTS" report alert \
		--db "$db" --json
	exp a alert "$T/reports.ndjson" --since $((now - 2 * 86400))
	same "$l: the default window has yesterday's report, not older" "$T/a"
	grep -q validation-failure "$T/out" && ! grep -q dnssec-invalid "$T/out"
	ok $? "$l: ... (yesterday's validation-failure, not dnssec-invalid)"
	run 1 "$l: alert --domain c.example" "$MTASTS" report alert \
		--db "$db" --json --domain c.example --since 2026-11-01
	exp a alert "$T/reports.ndjson" --domain c.example \
		--since "$(secs 2026-11-01)"
	same "$l: alert --domain: that domain's failures" "$T/a"
	run 2 "$l: alert with an operand is a usage error" \
		"$MTASTS" report alert --db "$db" extra

	# html
	run 0 "$l: html" "$MTASTS" report html --db "$db" -o "$T/page.html" \
		--since 2026-10-30 --until 2026-11-06
	exp d expect "$T/reports.ndjson" day,domain --since "$(secs 2026-10-30)" \
		--until "$(secs 2026-11-07)"
	exp a alert "$T/reports.ndjson" --since "$(secs 2026-10-30)" \
		--until "$(secs 2026-11-07)"
	$PY html "$T/page.html" "$T/d" "$T/a"
	ok $? "$l: html: every day of every domain charted, every failure listed"
	grep -qF '&lt;script&gt;alert(1)&lt;/script&gt;' "$T/page.html" &&
		grep -qF '&quot;&gt;&lt;img src=x onerror=alert(1)&gt;' \
			"$T/page.html" && ! grep -qi '<script\|<img' "$T/page.html"
	ok $? "$l: html: the hostile organization and MX escaped"
}

# ---- SQLite ----
DB="sqlite:$T/store.db"
run 0 "ingest the samples and the generated reports" \
	"$MTASTS" report ingest -q --db "$DB" "$T/samples" "$T/gen"
run 75 "summary of a store that does not exist" \
	"$MTASTS" report summary --db "sqlite:$T/none.db"
[ ! -e "$T/none.db" ]
ok $? "... is not made"
run 75 "alert on a store that does not exist: 75" \
	"$MTASTS" report alert --db "$T/none.db"
run 75 "alert on an unreachable PostgreSQL: 75" \
	"$MTASTS" report alert --db "postgresql://mtasts@127.0.0.1:1/none"
run 2 "alert --since nonsense: 2" "$MTASTS" report alert --db "$DB" \
	--since yesterday
mkdir "$T/empty"
"$MTASTS" report ingest -q --db "sqlite:$T/empty/s.db" \
	"$SAMPLES/google-2022-report.decoded.json"
run 0 "alert on a store of no failure" "$MTASTS" report alert \
	--db "sqlite:$T/empty/s.db" --since 2000-01-01
[ ! -s "$T/out" ] && [ ! -s "$T/err" ]
ok $? "... is silent"
checks "$DB" sqlite
for by in day,domain day,mx,result day,domain,org,mx,result; do
	"$MTASTS" report summary --db "$DB" --json --by "$by" >"$T/lite-$by"
done

# On a terminal of 80 columns (script(1) gives one), a table of every
# key fits it, values shortened in their middle; --wide shortens none.
if command -v script >/dev/null 2>&1; then
	script -qec "stty cols 80; '$MTASTS' report summary --db '$DB' \
		--by day,domain,org,mx,result" /dev/null >"$T/tty"
	script -qec "stty cols 80; '$MTASTS' report summary --db '$DB' \
		--by day,domain,org,mx,result --wide" /dev/null >"$T/tty-wide"
	python3 - "$T/tty" "$T/tty-wide" <<-'EOF'
	import sys
	t = open(sys.argv[1], encoding="utf-8").read().replace("\r", "")
	w = open(sys.argv[2], encoding="utf-8").read().replace("\r", "")
	lines, wide = t.splitlines(), w.splitlines()
	print("# %d lines, widest %d; --wide: widest %d" % (len(lines),
	      max(map(len, lines)), max(map(len, wide))))
	sys.exit(0 if len(lines) == len(wide) > 10 and
	         max(map(len, lines)) <= 80 and "\u2026" in t and
	         max(map(len, wide)) > 80 and "\u2026" not in w else 1)
	EOF
	ok $? "a table on an 80-column terminal fits it; --wide does not shorten"
else
	echo "ok $((n += 1)) - a table on a terminal # SKIP no script(1)"
fi

# The page in a browser.
umask 077
run 0 "html --out (umask 077)" "$MTASTS" report html --db "$DB" \
	-o "$T/page.html" --since 2026-10-30 --until 2026-11-06
[ "$(stat -c %a "$T/page.html")" = 644 ]
ok $? "the page is mode 0644"
[ -z "$(find "$T" -maxdepth 1 -name 'page.html.*')" ]
ok $? "no temporary file is left"
umask 022
run 2 "html into a directory that does not exist: 2" "$MTASTS" report html \
	--db "$DB" -o "$T/nodir/page.html"
ln "$T/page.html" "$T/before.html"
run 0 "html over an existing page" "$MTASTS" report html --db "$DB" \
	-o "$T/page.html" --since 2026-10-30 --until 2026-11-06
# (The pages differ in their "generated" time when a second ticks.)
[ "$(stat -c %i "$T/page.html")" != "$(stat -c %i "$T/before.html")" ] &&
	[ "$(tail -c 8 "$T/page.html")" = "</html>" ] &&
	[ "$(tail -c 8 "$T/before.html")" = "</html>" ]
ok $? "... is replaced by a new file (renamed over it), not rewritten in place"
! grep -Eiq '(src|href)[[:space:]]*=[[:space:]]*"?[a-z]+:|url\(' "$T/page.html"
ok $? "the page fetches nothing (no src=, href=, url( to any scheme)"
! grep -Eiq 'https?://' "$T/page.html"
ok $? "the page names no http(s):// at all"

browser() {
	# browser OUT_PREFIX URL: Chromium's DOM and console in OUT_PREFIX.*
	HOME="$T/home" timeout 40 chromium --headless --no-sandbox --disable-gpu \
		--user-data-dir="$T/home/profile" --enable-logging=stderr --v=0 \
		--no-first-run --dump-dom "$2" >"$1.dom" 2>"$1.log"
}
if command -v chromium >/dev/null 2>&1; then
	mkdir -p "$T/home"
	cat >"$T/control.html" <<-'EOF'
	<!DOCTYPE html><html><head><meta charset="utf-8"><title>c</title></head>
	<body><p>control</p><script>console.error("control-error")</script></body></html>
	EOF
	browser "$T/control" "file://$T/control.html"
	grep -q ':CONSOLE' "$T/control.log"
	ok $? "the console detector sees a page's console.error"
	# The page's own guard: its CSP reports what an escape would let in.
	sed 's|</body>|<img src=x onerror="console.log(1)"></body>|' \
		"$T/page.html" >"$T/csp.html"
	browser "$T/csp" "file://$T/csp.html"
	grep -q ':CONSOLE.*Content Security Policy' "$T/csp.log"
	ok $? "the detector sees the page's CSP refuse an injected handler"
	browser "$T/page" "file://$T/page.html"
	! grep ':CONSOLE' "$T/page.log"
	ok $? "the page logs nothing on the console"
	grep -q '<svg' "$T/page.dom" && ! grep -qi '<script\|<img' "$T/page.dom"
	ok $? "the DOM has the charts, and no script or img element"
	HOME="$T/home" timeout 40 chromium --headless --no-sandbox --disable-gpu \
		--user-data-dir="$T/home/profile" --no-first-run \
		--window-size=1000,1200 --screenshot="$T/page.png" \
		"file://$T/page.html" >/dev/null 2>&1
	$PY png "$T/page.png"
	ok $? "the screenshot shows the chart (many colours, green and red bars)"
	# The checker fails on a blank page.
	echo '<!DOCTYPE html><title>b</title>' >"$T/blank.html"
	HOME="$T/home" timeout 40 chromium --headless --no-sandbox --disable-gpu \
		--user-data-dir="$T/home/profile" --no-first-run \
		--window-size=400,300 --screenshot="$T/blank.png" \
		"file://$T/blank.html" >/dev/null 2>&1
	! $PY png "$T/blank.png" >/dev/null
	ok $? "the screenshot check fails on a blank page"
else
	echo "ok $((n += 1)) - the page in Chromium # SKIP no chromium"
fi

# ---- PostgreSQL ----
chmod 0711 "$T" # PostgreSQL's user reaches its directory in it
pg_start "$T/pg" >/dev/null
pg_rc=$?
if [ $pg_rc -eq 0 ]; then
	run 0 "PostgreSQL: ingest the same reports" \
		"$MTASTS" report ingest -q --db "$PG_URL" "$T/samples" "$T/gen"
	checks "$PG_URL" postgresql
	for by in day,domain day,mx,result day,domain,org,mx,result; do
		"$MTASTS" report summary --db "$PG_URL" --json --by "$by" \
			>"$T/pg-$by"
		cmp -s "$T/lite-$by" "$T/pg-$by"
		ok $? "summary --by $by: PostgreSQL's output is SQLite's, octet for octet"
	done
elif [ $pg_rc -eq 2 ]; then
	echo "ok $((n += 1)) - PostgreSQL # SKIP no PostgreSQL server to start"
else
	ok 1 "PostgreSQL started"
fi

echo "1..$n"
[ "$failed" -eq 0 ]
