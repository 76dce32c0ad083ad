#!/bin/bash
# SPDX-License-Identifier: ISC
#
# mtasts report parse and ingest, end to end, with the real engines:
# every sample parses with its totals; the same report twice is stored
# once; what is not a report is quarantined with its reason; an MTA's
# pipe gets 0, 1 or 75; a kill -9 in the middle of a large ingest leaves
# only whole reports; the same reports read as files, report mails, an
# mbox, a maildir, an IMAP mailbox (a Dovecot of the test's own) and a
# PostgreSQL store give the same store contents.
#
#   report_ingest.sh MTASTS DATA_DIR
#
# Dovecot and PostgreSQL need root: without them their checks are
# skipped (and said so), never passed.
set -u
MTASTS=$1
DATA=$2
here=$(cd "$(dirname "$0")" && pwd)
n=0
failed=0
T=$(mktemp -d /tmp/mts-ingest.XXXXXX) || exit 1
chmod 755 "$T"
DC=
PG_STARTED=0

cleanup()
{
	[ -z "$DC" ] || dovecot_stop "$DC" 2>/dev/null
	[ "$PG_STARTED" -eq 0 ] || pg_stop 2>/dev/null
	rm -rf "$T"
}
trap cleanup EXIT

ok()
{
	n=$((n + 1))
	if [ "$1" -eq 0 ]; then
		echo "ok $n - $2"
	else
		failed=$((failed + 1))
		echo "not ok $n - $2"
	fi
}

is()
{
	if [ "$1" = "$2" ]; then
		ok 0 "$3"
	else
		ok 1 "$3"
		printf '#   got:  %s\n#   want: %s\n' "$1" "$2"
	fi
}

skip()
{
	n=$((n + 1))
	echo "ok $n # SKIP $1"
}

# run CMD...: runs it, keeping stdout, stderr and the status.
run()
{
	"$@" >"$T/out" 2>"$T/err"
	RC=$?
}

# contents DB: what a store holds, in one canonical text: each report
# with its totals and policy count, each policy's counts, each
# failure's keys and count.
contents()
{
	sqlite3 "$1" "
	  SELECT org, report_id, range_start, range_end, policies,
	         successful, failed FROM reports ORDER BY org, report_id;
	  SELECT r.org, r.report_id, p.idx, p.type, p.domain, p.successful,
	         p.failed FROM policies p JOIN reports r ON r.id = p.report
	   ORDER BY r.org, r.report_id, p.idx;
	  SELECT r.org, r.report_id, f.pidx, f.idx, f.result_type,
	         f.receiving_mx_hostname, f.failed_sessions
	    FROM failures f JOIN reports r ON r.id = f.report
	   ORDER BY r.org, r.report_id, f.pidx, f.idx;"
}

# ---- parse: every sample, with the totals computed here by jq ----
for f in "$DATA"/tlsrpt/*.json; do
	case $f in *.expected.json) continue ;; esac
	b=$(basename "$f")
	want=$(jq -r '[([.policies[].summary."total-successful-session-count"] | add),
	    ([.policies[].summary."total-failure-session-count"] | add)] | @tsv' "$f")
	run "$MTASTS" report parse -c "$f"
	got=$(jq -r '[."total-successful-session-count",
	    ."total-failure-session-count"] | @tsv' "$T/out" 2>/dev/null)
	is "$RC $got" "0 $want" "parse $b: exit 0 and its totals"
done
run "$MTASTS" report parse "$DATA/tlsrpt/google-2022-report.eml"
is "$RC $(jq -r '."report-id"' "$T/out")" \
    "0 2022-09-15T00:00:00Z_test.xmox.nl" "parse a whole report mail"
gzip -c "$DATA/tlsrpt/mailru-sts-policy-fetch-error-2024.json" >"$T/m.json.gz"
run "$MTASTS" report parse -c - <"$T/m.json.gz"
is "$RC $(jq -r '."total-failure-session-count"' "$T/out")" "0 1" \
    "parse a .json.gz from stdin"
run "$MTASTS" report parse --strict \
    "$DATA/tlsrpt/microsoft-no-timezone-2024.json"
is "$RC" 1 "parse --strict refuses a date without a time zone"
grep -q 'tlsrpt-report-date-no-zone' "$T/err"
ok $? "and names the deviation's code"
run "$MTASTS" report parse -c "$DATA/tlsrpt/microsoft-no-timezone-2024.json"
is "$(jq -r '[.deviations[].code] | join(",")' "$T/out")" \
    "tlsrpt-report-date-no-zone,tlsrpt-report-date-no-zone" \
    "lenient parse notes each deviation in \"deviations\""
printf 'hello\n' >"$T/hello.txt"
run "$MTASTS" report parse "$T/hello.txt"
is "$RC" 1 "parse: not a report: exit 1"
run "$MTASTS" report parse "$T/no-such-file"
is "$RC" 2 "parse: a missing file: exit 2"

# ---- ingest: idempotent, quarantine, exit statuses ----
DB=$T/a.db
SAMPLES=$T/samples
mkdir "$SAMPLES"
for f in "$DATA"/tlsrpt/*.json "$DATA"/tlsrpt/google-2022-report.eml; do
	case $f in *.expected.json) continue ;; esac
	cp "$f" "$SAMPLES/"
done
nsamples=$(find "$SAMPLES" -type f | wc -l)
# The RFC's example is in the samples twice (before and after erratum
# 6241), with one organization-name and report-id: one report.
# The mail's report is Google's of 2022-09-15 (tests/data/tlsrpt/SOURCES).
nids=$({
	for f in "$SAMPLES"/*.json; do
		jq -r '[."organization-name", ."report-id"] | @tsv' "$f"
	done
	printf 'Google Inc.\t2022-09-15T00:00:00Z_test.xmox.nl\n'
} | sort -u | wc -l)
run "$MTASTS" report ingest --json --db "sqlite:$DB" "$SAMPLES"
is "$RC $(jq -c '[.added, .known, .quarantined]' "$T/out")" \
    "0 [$nids,$((nsamples - nids)),0]" \
    "ingest the samples: each distinct report added once"
before=$(contents "$DB")
run "$MTASTS" report ingest --json --db "sqlite:$DB" "$SAMPLES"
is "$RC $(jq -c '[.added, .known]' "$T/out")" "0 [0,$nsamples]" \
    "ingest them again: all known, exit 0"
is "$(contents "$DB")" "$before" "and the store is unchanged"

# An MTA's pipe: a report mail on stdin.
run "$MTASTS" report ingest -q --db "sqlite:$T/pipe.db" - \
    <"$DATA/tlsrpt/google-2022-report.eml"
is "$RC" 0 "pipe: a report mail: exit 0"
run "$MTASTS" report ingest -q --db "sqlite:$T/pipe.db" - \
    <"$DATA/tlsrpt/google-2022-report.eml"
is "$RC" 0 "pipe: the same mail again: exit 0 (known)"
printf 'From: a@b.example\r\nSubject: hi\r\n\r\nno report here\r\n' |
    "$MTASTS" report ingest -q --db "sqlite:$T/pipe.db" - 2>/dev/null
is "$?" 1 "pipe: a mail that is no report: exit 1"
sqlite3 "$T/pipe.db" "SELECT origin || ' | ' || raw_size || ' | ' ||
    length(raw) || ' | ' || reason FROM quarantine" >"$T/q"
grep -q '^- | 50 | 50 | no TLS-RPT report part' "$T/q"
ok $? "it is in the quarantine, whole, with its reason"
printf '{"organization-name": "x", "policies": {}}' |
    "$MTASTS" report ingest -q --db "sqlite:$T/pipe.db" - 2>"$T/err"
is "$?" 1 "pipe: JSON that is no report: exit 1"
sqlite3 "$T/pipe.db" "SELECT reason FROM quarantine ORDER BY id DESC
    LIMIT 1" | grep -q '^tlsrpt-report-member-'
ok $? "its reason is the parser's finding"
is "$(sqlite3 "$T/pipe.db" 'SELECT count(*) FROM reports')" 1 \
    "and nothing else was stored"
# The store cannot be reached: EX_TEMPFAIL, so the MTA retries.
mkdir "$T/ro"
chmod 555 "$T/ro"
if [ "$(id -u)" -ne 0 ]; then
	run "$MTASTS" report ingest -q --db "sqlite:$T/ro/x.db" - \
	    <"$DATA/tlsrpt/google-2022-report.eml"
	is "$RC" 75 "pipe: a store that cannot be made: exit 75"
else
	# root writes anywhere: a store in a file that is a directory.
	mkdir "$T/dir.db"
	run "$MTASTS" report ingest -q --db "sqlite:$T/dir.db" - \
	    <"$DATA/tlsrpt/google-2022-report.eml"
	is "$RC" 75 "pipe: a store that cannot be opened: exit 75"
fi
run "$MTASTS" report ingest -q --db "postgresql://mtasts@127.0.0.1:1/none?connect_timeout=2" - \
    <"$DATA/tlsrpt/google-2022-report.eml"
is "$RC" 75 "pipe: a PostgreSQL that does not answer: exit 75"
run "$MTASTS" report ingest -q --db "nosuch:/x" "$SAMPLES"
is "$RC" 75 "a URL of no engine: exit 75 (said, nothing read)"
grep -q 'not a store URL' "$T/err"
ok $? "and the error says why"
run "$MTASTS" report ingest --db "sqlite:$T/u.db"
is "$RC" 2 "no input: usage, exit 2"
run "$MTASTS" report ingest --db "sqlite:$T/u.db" --move-to X "$SAMPLES"
is "$RC" 2 "--move-to without --imap: usage, exit 2"

# ---- the same reports by file, mail, mbox and maildir ----
python3 "$here/gen_reports.py" "$T/gen" 60 --mail --seed 7 >/dev/null
mkdir -p "$T/maildir/cur" "$T/maildir/new" "$T/maildir/tmp"
cp "$T/gen/mail/"*.eml "$T/maildir/new/"
"$MTASTS" report ingest -q --db "sqlite:$T/files.db" "$T/gen/json"
is "$?" 0 "60 generated .json.gz files ingested"
"$MTASTS" report ingest -q --db "sqlite:$T/mails.db" "$T/gen/mail"
is "$?" 0 "the same 60 reports as report mails"
"$MTASTS" report ingest -q --db "sqlite:$T/mbox.db" "$T/gen/reports.mbox"
is "$?" 0 "the same 60 reports in one mbox"
"$MTASTS" report ingest -q --db "sqlite:$T/maildir.db" "$T/maildir"
is "$?" 0 "the same 60 reports in a maildir"
want=$(contents "$T/files.db")
is "$(sqlite3 "$T/files.db" 'SELECT count(*) FROM reports')" 60 \
    "the files give 60 reports"
is "$(contents "$T/mails.db")" "$want" "mails: the same store contents"
is "$(contents "$T/mbox.db")" "$want" "mbox: the same store contents"
is "$(contents "$T/maildir.db")" "$want" "maildir: the same store contents"

# ---- kill -9 in the middle of a large ingest: only whole reports ----
python3 "$here/gen_reports.py" "$T/big" 3000 --prefix k --policies 5 \
    --details 60 --seed 3 >/dev/null
partial()
{
	# Reports whose policies or failures are not all there: the id
	# says how many there are ("k-N-p5-d60").
	sqlite3 "$1" "
	  SELECT count(*) FROM reports r WHERE
	    r.policies != 5 OR
	    (SELECT count(*) FROM policies p WHERE p.report = r.id) != 5 OR
	    (SELECT count(*) FROM failures f WHERE f.report = r.id) != 60;"
}
# The reports in the store, 0 before it exists.
stored_in()
{
	[ -f "$1" ] || { echo 0; return; }
	sqlite3 "$1" 'SELECT count(*) FROM reports' 2>/dev/null || echo 0
}
kills=0
whole=0
for delay in 0.05 0.1 0.15 0.2; do
	before=$(stored_in "$T/kill.db")
	"$MTASTS" report ingest -q --db "sqlite:$T/kill.db" "$T/big/json" &
	pid=$!
	# The kill comes this long after the ingest's first new report: from
	# its start alone it fell before the store even had its tables when
	# a loaded machine ran the sanitizer build.
	for _ in $(seq 600); do
		[ "$(stored_in "$T/kill.db")" -gt "$before" ] && break
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.05
	done
	sleep "$delay"
	kill -9 "$pid" 2>/dev/null && kills=$((kills + 1))
	wait "$pid" 2>/dev/null
	[ "$(partial "$T/kill.db")" = 0 ] && whole=$((whole + 1))
done
stored=$(sqlite3 "$T/kill.db" 'SELECT count(*) FROM reports')
ok "$([ "$kills" -ge 2 ] && [ "$stored" -lt 3000 ] && echo 0 || echo 1)" \
    "kill -9 hit the ingest mid-way ($kills kills, $stored of 3000 stored)"
is "$whole" 4 "after each kill -9 the store holds only whole reports"
"$MTASTS" report ingest -q --db "sqlite:$T/kill.db" "$T/big/json"
is "$? $(sqlite3 "$T/kill.db" 'SELECT count(*) FROM reports') $(partial "$T/kill.db")" \
    "0 3000 0" "a new ingest completes the rest, each report once"

# ---- IMAP: a Dovecot of the test's own ----
if [ "$(id -u)" -ne 0 ] || ! command -v dovecot >/dev/null 2>&1; then
	for i in 1 2 3 4 5; do skip "IMAP: needs root and dovecot-imapd"; done
else
	. "$here/dovecot.sh"
	DC=$T/dc
	if dovecot_start "$DC" 2>"$T/dc.err" &&
	    dovecot_put "$DC" INBOX "$T/gen/mail/"*.eml "$T/hello.txt" \
	        2>>"$T/dc.err"; then
		export MTASTS_IMAP_PASSWORD=$DOVECOT_PASSWORD
		U="imaps://$DOVECOT_USER@127.0.0.1:$DOVECOT_PORT/INBOX"
		run "$MTASTS" report ingest --json --db "sqlite:$T/imap.db" \
		    --imap "$U" --imap-ca "$DOVECOT_CA" --move-to Done
		is "$RC $(jq -c '[.added, .known, .quarantined]' "$T/out")" \
		    "1 [60,0,1]" \
		    "IMAP: 60 reports stored, the one non-report quarantined (exit 1)"
		is "$(contents "$T/imap.db")" "$want" \
		    "IMAP: the same store contents as the files"
		is "$(find "$DOVECOT_MAIL/cur" "$DOVECOT_MAIL/new" -type f | wc -l) $(find "$DOVECOT_MAIL/.Done/cur" "$DOVECOT_MAIL/.Done/new" -type f | wc -l)" \
		    "0 61" "IMAP: every mail moved to Done once kept"
		run "$MTASTS" report ingest --db "sqlite:$T/imap.db" \
		    --imap "$U" --imap-ca "$DOVECOT_CA" --move-to Done \
		    "$SAMPLES"
		is "$RC" 2 "IMAP and files at once: usage, exit 2"
		MTASTS_IMAP_PASSWORD=wrong run "$MTASTS" report ingest \
		    --db "sqlite:$T/imap.db" --imap "$U" \
		    --imap-ca "$DOVECOT_CA"
		is "$RC" 75 "IMAP: a refused login: exit 75, nothing lost"
	else
		for i in 1 2 3 4 5; do
			ok 1 "IMAP: Dovecot did not start"
		done
		sed 's/^/# /' "$T/dc.err"
	fi
fi

# ---- PostgreSQL: the same reports, the same contents ----
if [ "$(id -u)" -ne 0 ]; then
	for i in 1 2 3; do skip "PostgreSQL: needs root"; done
else
	. "$here/pg.sh"
	mkdir "$T/pg"
	pg_start "$T/pg" >/dev/null
	rc=$?
	if [ $rc -eq 0 ]; then
		PG_STARTED=1
		"$MTASTS" report ingest -q --db "$PG_URL" "$T/gen/json"
		is "$?" 0 "PostgreSQL: 60 reports ingested"
		"$MTASTS" report ingest -q --db "$PG_URL" "$T/gen/reports.mbox"
		is "$?" 0 "PostgreSQL: the same again from an mbox: all known"
		got=$(psql -X -A -t -F '|' -d "$PG_URL" -c "
		  SELECT org, report_id, range_start, range_end, policies,
		         successful, failed FROM reports
		   ORDER BY org COLLATE \"C\", report_id COLLATE \"C\"")
		is "$got" "$(sqlite3 "$T/files.db" "SELECT org, report_id,
		    range_start, range_end, policies, successful, failed
		    FROM reports ORDER BY org, report_id")" \
		    "PostgreSQL holds the reports SQLite holds"
	elif [ $rc -eq 2 ]; then
		for i in 1 2 3; do skip "PostgreSQL: no server programs"; done
	else
		for i in 1 2 3; do ok 1 "PostgreSQL did not start"; done
	fi
fi

echo "1..$n"
[ "$failed" -eq 0 ]
