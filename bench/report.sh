#!/bin/bash
# SPDX-License-Identifier: ISC
#
# bench/report.sh: `mtasts report ingest` of generated .json.gz TLS-RPT
# reports into SQLite, against bench/report_ingest.py (Python 3, standard
# library only: zlib, json, sqlite3) doing the same work on the same files
# with the same durability (journal_mode=WAL, synchronous=NORMAL, one
# transaction per report, the same schema), and against the floor of only
# reading and inflating the files (bench/inflate_floor.c, and the same in
# Python: the faster one counts).  A benchmark, not a test: it prints
# figures and never fails on them (it stops only when a run is wrong).
#
#   meson setup build-bench --buildtype=release && ninja -C build-bench
#   BUILD=build-bench bench/report.sh
#
# Then: reports/s into PostgreSQL (a private server, tests/e2e/pg.sh;
# needs root or a user who may run initdb), and the time of a summary by
# day over a store of a million reports (the 20,000 ingested ones copied
# with other ids and dates): `mtasts report summary --by day` when this
# build has it, else store_summary() through bench_store_put -n 0 -s.
#
# Rounds run each program once to warm the page cache (not counted), then
# ROUNDS times in turn, a fresh store each time; figures are medians of
# the whole run of each process (start to exit, wall clock), with its CPU
# time (user + system) beside.
#
# Environment (all optional):
#   BUILD    build directory (default: build); a release build is expected
#   COUNT    reports generated (default 20000)
#   SEED     the generator's seed (default 1)
#   ROUNDS   counted rounds (default 5)
#   PG       0: skip PostgreSQL (default 1 when a server can be started)
#   MILLION  reports of the summary's store (default 1000000; 0: skip)
#   WORK     where the files and stores go (default: a new directory
#            under TMPDIR, removed at the end)
#
# The last line is `RESULT ingest_ratio=X floor_share=Y floor_share_py=Z`:
# mtasts's reports/s over the Python script's, over the faster floor's
# (the C one), and over the Python floor's (the floor the issue measured,
# "about 37,000/s", was a script's).
set -euo pipefail
export LC_ALL=C

ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${BUILD:-build}
COUNT=${COUNT:-20000}
SEED=${SEED:-1}
ROUNDS=${ROUNDS:-5}
PG=${PG:-1}
MILLION=${MILLION:-1000000}

die() {
	echo "report.sh: $*" >&2
	exit 1
}

case $BUILD in /*) ;; *) [ -d "$BUILD" ] || BUILD=$ROOT/$BUILD ;; esac
BUILD=$(cd "$BUILD" 2>/dev/null && pwd) || die "no build directory $BUILD (set BUILD)"
MTASTS=$BUILD/mtasts
FLOOR_C=$BUILD/bench/bench_inflate_floor
STORE_PUT=$BUILD/bench/bench_store_put
for f in "$MTASTS" "$FLOOR_C" "$STORE_PUT"; do
	[ -x "$f" ] || die "$f: not built (ninja -C $BUILD)"
done
for t in python3 sqlite3 awk; do
	command -v "$t" >/dev/null || die "$t is not installed"
done
BUILDTYPE=$(python3 -c 'import json, sys
print(next(o["value"] for o in json.load(open(sys.argv[1])) if o["name"] == "buildtype"))' \
    "$BUILD/meson-info/intro-buildoptions.json" 2>/dev/null || echo unknown)
[ "$BUILDTYPE" = release ] ||
    echo "warning: $BUILD is a $BUILDTYPE build; the figures are for release builds" >&2

OWN_WORK=0
if [ -z "${WORK:-}" ]; then
	WORK=$(mktemp -d "${TMPDIR:-/tmp}/mtasts-report-bench.XXXXXX")
	OWN_WORK=1
fi
mkdir -p "$WORK"
# PostgreSQL runs as its own user under root: it must reach $WORK/pg.
chmod 0711 "$WORK"
PG_STARTED=0

cleanup() {
	local rc=$?
	trap - EXIT INT TERM
	if [ "$PG_STARTED" = 1 ]; then
		pg_stop || true
	fi
	[ "$OWN_WORK" = 1 ] && rm -rf "$WORK"
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

section() { printf '\n== %s\n' "$*"; }

now() { date +%s.%N; }

# timed NAME CMD...: runs CMD, its output in $WORK/out.NAME; sets T_WALL
# (seconds) and T_CPU (user + system seconds of the process and its
# children) and T_RC.
timed() {
	local name=$1 t0 t1
	shift
	t0=$(now)
	T_RC=0
	/usr/bin/time -f '%U %S' -o "$WORK/time.$name" "$@" >"$WORK/out.$name" 2>&1 || T_RC=$?
	t1=$(now)
	T_WALL=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.4f", b - a }')
	T_CPU=$(awk 'NF == 2 { printf "%.2f", $1 + $2 }' "$WORK/time.$name")
}

fresh_db() { rm -f "$1" "$1-wal" "$1-shm"; }

# run_one NAME: one run of a program over the files; appends
# "NAME wall cpu" to $WORK/runs unless $2 is "warm".
run_one() {
	local name=$1 db
	case $name in
	mtasts)
		db=$WORK/mtasts.db
		fresh_db "$db"
		timed "$name" "$MTASTS" report ingest --db "sqlite:$db" "$WORK/reports"
		[ "$T_RC" = 0 ] && grep -q ": $COUNT added, 0 known, 0 quarantined" "$WORK/out.$name" ||
		    die "mtasts report ingest failed (exit $T_RC): $(tail -3 "$WORK/out.$name")"
		;;
	python)
		db=$WORK/python.db
		fresh_db "$db"
		timed "$name" python3 "$ROOT/bench/report_ingest.py" "$db" "$WORK/reports"
		[ "$T_RC" = 0 ] && grep -q ": $COUNT added, 0 known, 0 quarantined" "$WORK/out.$name" ||
		    die "report_ingest.py failed (exit $T_RC): $(tail -3 "$WORK/out.$name")"
		;;
	floor-c)
		timed "$name" "$FLOOR_C" "$WORK/reports"
		[ "$T_RC" = 0 ] && grep -q "^floor: $COUNT files" "$WORK/out.$name" ||
		    die "bench_inflate_floor failed: $(tail -3 "$WORK/out.$name")"
		;;
	floor-py)
		timed "$name" python3 "$ROOT/bench/report_ingest.py" --floor "$WORK/reports"
		[ "$T_RC" = 0 ] && grep -q "^floor: $COUNT files" "$WORK/out.$name" ||
		    die "the Python floor failed: $(tail -3 "$WORK/out.$name")"
		;;
	esac
	[ "${2:-}" = warm ] && return 0
	echo "$name $T_WALL $T_CPU" >>"$WORK/runs"
	printf '  %-9s %7.3f s  %7.0f reports/s  cpu %5.2f s\n' "$name" "$T_WALL" \
	    "$(awk -v n="$COUNT" -v t="$T_WALL" 'BEGIN { print n / t }')" "$T_CPU"
}

# The rows both ingesters wrote must be the same (the columns of the
# reports' own content, and the deviations found).
same_rows() {
	local q
	q="ATTACH '$WORK/python.db' AS p;
SELECT (SELECT count(*) FROM (
  SELECT org, report_id, range_start, range_end, contact, deviations, policies, successful, failed FROM main.reports
  EXCEPT SELECT org, report_id, range_start, range_end, contact, deviations, policies, successful, failed FROM p.reports))
 + (SELECT count(*) FROM (
  SELECT r.org, r.report_id, x.idx, x.type, x.domain, x.strings, x.mx_hosts, x.successful, x.failed, x.detail_failed
  FROM main.policies x JOIN main.reports r ON r.id = x.report
  EXCEPT SELECT r.org, r.report_id, x.idx, x.type, x.domain, x.strings, x.mx_hosts, x.successful, x.failed, x.detail_failed
  FROM p.policies x JOIN p.reports r ON r.id = x.report))
 + (SELECT count(*) FROM (
  SELECT r.org, r.report_id, f.pidx, f.idx, f.result_type, f.sending_mta_ip, f.receiving_mx_hostname,
   f.receiving_mx_helo, f.receiving_ip, f.additional_information, f.failure_reason_code, f.failed_sessions
  FROM main.failures f JOIN main.reports r ON r.id = f.report
  EXCEPT SELECT r.org, r.report_id, f.pidx, f.idx, f.result_type, f.sending_mta_ip, f.receiving_mx_hostname,
   f.receiving_mx_helo, f.receiving_ip, f.additional_information, f.failure_reason_code, f.failed_sessions
  FROM p.failures f JOIN p.reports r ON r.id = f.report)),
 (SELECT count(*) FROM main.policies), (SELECT count(*) FROM p.policies),
 (SELECT count(*) FROM main.failures), (SELECT count(*) FROM p.failures);"
	sqlite3 -separator ' ' "$WORK/mtasts.db" "$q"
}

# The schema of a store, one statement a line, "IF NOT EXISTS" left out.
schema_of() {
	sqlite3 "$1" "SELECT type, name, sql FROM sqlite_master ORDER BY name" |
	    sed 's/ IF NOT EXISTS//'
}

median() { # FIELD NAME
	awk -v f="$1" -v n="$2" '$1 == n { a[++k] = $f }
	END {
		for (i = 2; i <= k; i++)
			for (j = i; j > 1 && a[j - 1] > a[j]; j--) { t = a[j]; a[j] = a[j - 1]; a[j - 1] = t }
		print k % 2 ? a[(k + 1) / 2] : (a[k / 2] + a[k / 2 + 1]) / 2
	}' "$WORK/runs"
}

section "reports: $COUNT generated (bench/gen_reports.py --seed $SEED)"
python3 "$ROOT/bench/gen_reports.py" --count "$COUNT" --seed "$SEED" "$WORK/reports" 2>/dev/null
du -sk --apparent-size "$WORK/reports" | awk -v n="$COUNT" '{ printf "%d files, %.0f octets of gzip each on average; ", n, $1 * 1024 / n }'
"$FLOOR_C" "$WORK/reports" | awk -v n="$COUNT" '{ printf "%.0f octets of JSON each\n", $4 / n }'
echo "machine: $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg); $BUILDTYPE build; SQLite $(sqlite3 --version | cut -d' ' -f1) (CLI), Python $(python3 -c 'import sqlite3, platform; print(platform.python_version(), "with SQLite", sqlite3.sqlite_version)')"

section "warm-up (each once, not counted) and checks"
: >"$WORK/runs"
for p in floor-c floor-py mtasts python; do run_one "$p" warm; done
read -r diff mp pp mf pf < <(same_rows)
[ "$diff" = 0 ] && [ "$mp" = "$pp" ] && [ "$mf" = "$pf" ] ||
    die "mtasts and report_ingest.py stored different rows ($diff differ; policies $mp/$pp, failures $mf/$pf)"
echo "both stored the same $COUNT reports, $mp policies, $mf failure details"
if ! diff <(schema_of "$WORK/mtasts.db") <(schema_of "$WORK/python.db") >"$WORK/schema.diff"; then
	cat "$WORK/schema.diff"
	die "report_ingest.py's schema is not mtasts's: update its SCHEMA"
fi
for pragma in page_size journal_mode; do
	[ "$(sqlite3 "$WORK/mtasts.db" "PRAGMA $pragma")" = "$(sqlite3 "$WORK/python.db" "PRAGMA $pragma")" ] ||
	    die "the two stores differ in $pragma"
done
echo "same schema: $(sqlite3 "$WORK/mtasts.db" "SELECT count(*) FROM sqlite_master WHERE type = 'table'") tables, $(sqlite3 "$WORK/mtasts.db" "SELECT count(*) FROM sqlite_master WHERE type = 'index'") indexes; page_size $(sqlite3 "$WORK/mtasts.db" 'PRAGMA page_size'), journal_mode $(sqlite3 "$WORK/mtasts.db" 'PRAGMA journal_mode') on both"

section "$ROUNDS rounds: floor-c floor-py mtasts python, a fresh store each run"
: >"$WORK/runs"
for r in $(seq "$ROUNDS"); do
	for p in floor-c floor-py mtasts python; do run_one "$p"; done
done

section "medians"
for p in floor-c floor-py mtasts python; do
	w=$(median 2 "$p") c=$(median 3 "$p")
	awk -v p="$p" -v n="$COUNT" -v w="$w" -v c="$c" 'BEGIN {
		printf "%-9s %7.0f reports/s  (%.3f s, cpu %.2f s: %.1f us of CPU a report)\n", p, n / w, w, c, c * 1e6 / n }'
	eval "W_${p//-/_}=$w"
done
# shellcheck disable=SC2154
read -r RATIO SHARE FLOOR_NAME SHARE_PY < <(awk -v m="$W_mtasts" -v py="$W_python" -v fc="$W_floor_c" -v fp="$W_floor_py" 'BEGIN {
	f = fc < fp ? fc : fp
	printf "%.2f %.2f %s %.2f\n", py / m, f / m, (fc < fp ? "floor-c" : "floor-py"), fp / m }')
# shellcheck disable=SC2154
awk -v m="$W_mtasts" -v fc="$W_floor_c" -v fp="$W_floor_py" 'BEGIN {
	printf "mtasts over the Python floor: %.2f; over the C floor: %.2f\n", fp / m, fc / m }'

if [ "$PG" != 0 ]; then
	section "PostgreSQL (tests/e2e/pg.sh: a private server, unix socket)"
	# shellcheck source=../tests/e2e/pg.sh
	. "$ROOT/tests/e2e/pg.sh"
	if pg_start "$WORK/pg" >/dev/null 2>"$WORK/pg.err"; then
		PG_STARTED=1
		echo "server: $("$PG_BINDIR/postgres" --version)"
		for r in $(seq 0 3); do
			"$PG_BINDIR/psql" -q -X "$PG_SOCKET_URL" -c \
			    'DROP TABLE IF EXISTS failures, policies, reports, quarantine, schema_version, rollout_events, mx_changes CASCADE' \
			    >/dev/null 2>&1 || die "psql cannot reach the server"
			timed pg "$MTASTS" report ingest --db "$PG_SOCKET_URL" "$WORK/reports"
			[ "$T_RC" = 0 ] && grep -q ": $COUNT added, 0 known" "$WORK/out.pg" ||
			    die "mtasts report ingest into PostgreSQL failed: $(tail -3 "$WORK/out.pg")"
			if [ "$r" = 0 ]; then
				echo "  warm-up run not counted"
				continue
			fi
			echo "pg $T_WALL $T_CPU" >>"$WORK/runs"
			printf '  mtasts    %7.3f s  %7.0f reports/s  cpu of mtasts %5.2f s\n' "$T_WALL" \
			    "$(awk -v n="$COUNT" -v t="$T_WALL" 'BEGIN { print n / t }')" "$T_CPU"
		done
		awk -v n="$COUNT" -v w="$(median 2 pg)" 'BEGIN { printf "median: %.0f reports/s into PostgreSQL\n", n / w }'
		pg_stop
		PG_STARTED=0
	else
		echo "skipped: no PostgreSQL server could be started ($(tail -1 "$WORK/pg.err"))"
	fi
fi

if [ "$MILLION" != 0 ]; then
	section "summary --by day over $MILLION reports"
	big=$WORK/million.db
	fresh_db "$big"
	cp "$WORK/mtasts.db" "$big"
	[ ! -f "$WORK/mtasts.db-wal" ] || cp "$WORK/mtasts.db-wal" "$big-wal"
	# Copies of the ingested reports, each with its own report-id and
	# its days moved on, so the store spans years, as one would.
	span=$(sqlite3 "$big" 'SELECT (max(range_start) - min(range_start)) / 86400 + 1 FROM reports')
	copies=$(((MILLION + COUNT - 1) / COUNT))
	t0=$(now)
	{
		echo "PRAGMA journal_mode = WAL; PRAGMA synchronous = OFF; BEGIN;"
		for k in $(seq 1 $((copies - 1))); do
			cat <<EOF
INSERT INTO reports SELECT id + $k * $COUNT, org, report_id || '#$k', range_start + $k * $span * 86400,
  range_end + $k * $span * 86400, contact, received, origin, deviations, policies, successful, failed
  FROM reports WHERE id <= $COUNT;
INSERT INTO policies SELECT report + $k * $COUNT, idx, type, domain, strings, mx_hosts, successful, failed,
  detail_failed FROM policies WHERE report <= $COUNT;
INSERT INTO failures SELECT report + $k * $COUNT, pidx, idx, result_type, sending_mta_ip, receiving_mx_hostname,
  receiving_mx_helo, receiving_ip, additional_information, failure_reason_code, failed_sessions
  FROM failures WHERE report <= $COUNT;
EOF
		done
		echo "COMMIT; PRAGMA wal_checkpoint(TRUNCATE);"
	} | sqlite3 "$big" >/dev/null
	n=$(sqlite3 "$big" 'SELECT count(*) FROM reports')
	echo "store of $n reports made in $(awk -v a="$t0" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }') s ($(du -m "$big" | cut -f1) MiB)"
	if "$MTASTS" report summary --help >/dev/null 2>&1; then
		"$MTASTS" report summary --db "sqlite:$big" --by day >/dev/null 2>&1 || true
		for r in 1 2 3; do
			timed summary "$MTASTS" report summary --db "sqlite:$big" --by day
			[ "$T_RC" = 0 ] || die "mtasts report summary failed: $(tail -3 "$WORK/out.summary")"
			printf '  mtasts report summary --by day: %s s (%s lines)\n' "$T_WALL" "$(wc -l <"$WORK/out.summary")"
		done
	else
		echo "(this build has no \`mtasts report summary\`: store_summary() through bench_store_put -n 0 -s)"
		"$STORE_PUT" -n 0 -s "sqlite:$big" >/dev/null
		for r in 1 2 3; do
			"$STORE_PUT" -n 0 -s "sqlite:$big" | grep '^summary' | sed 's/^/  /'
		done
	fi
fi

section "summary"
# shellcheck disable=SC2154
awk -v n="$COUNT" -v m="$W_mtasts" -v py="$W_python" -v fc="$W_floor_c" -v fp="$W_floor_py" \
    -v r="$RATIO" -v s="$SHARE" -v fn="$FLOOR_NAME" -v sp="$SHARE_PY" 'BEGIN {
	printf "mtasts %.0f reports/s, Python %.0f, floor %.0f (C) / %.0f (Python)\n", n / m, n / py, n / fc, n / fp
	printf "ingest_ratio %.2f (goal >= 3: %s); floor_share %.2f of %s (goal >= 0.6: %s)\n",
	    r, (r >= 3 ? "met" : "NOT met"), s, fn, (s >= 0.6 ? "met" : "NOT met")
	printf "floor_share_py %.2f of floor-py (goal >= 0.6: %s)\n", sp, (sp >= 0.6 ? "met" : "NOT met")
	printf "RESULT ingest_ratio=%.2f floor_share=%.2f floor_share_py=%.2f\n", r, s, sp
}'
