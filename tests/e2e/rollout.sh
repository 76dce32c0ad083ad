#!/bin/bash
# SPDX-License-Identifier: ISC
# mtasts rollout (mtasts-rollout(1)) end to end, on SQLite and on a
# PostgreSQL started here (tests/e2e/pg.sh): TLS-RPT reports of a dozen
# policy domains over the last three weeks, written relative to today by
# gen_rollout_reports.py and stored with `mtasts report ingest`, then:
#   - status: too few days, failures in the window (with what failed
#     where), ready, the lag of the newest day (today-2 is recent,
#     today-3 stale), a gap that breaks the run, reports that show
#     another policy body (not counted), reports without policy-string,
#     tlsa and no-policy-found policies (counted), a reporter's future
#     day, mode none, no reports at all, --min-days, MTASTS_REPORT_DB;
#   - promote: refused when not ready (the file byte for byte as it was),
#     --force, the rewritten policy (enforce, max_age, valid, mode and
#     owner kept, a timestamp id, the TXT record), nothing to do the
#     second time;
#   - mx-change: the transition policy (old patterns then new), its
#     cut-over at now + the old max_age, or later when a policy that
#     rollout replaced may be cached longer; a second start refused; the
#     open change in status; --finish refused before the cut-over (file
#     untouched), --finish --force writes the final policy;
#   - the policy domain read from the dns.zone of `mtasts init --out`,
#     from a domains-dir's directory name, or exit 2.
# status runs with --no-fetch: there is no network here.  Skipped whole
# ("1..0 # SKIP") only when there is no PostgreSQL to start.  Prints TAP.
#   rollout.sh MTASTS
set -u
here=$(cd "$(dirname "$0")" && pwd)
MTASTS=${1:?usage: rollout.sh MTASTS}
GEN="python3 $here/gen_rollout_reports.py"
T=$(mktemp -d /tmp/mts-rollout.XXXXXX) || exit 1
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

# quiet CMD...: runs CMD for its output ($T/out, $T/err) when its exit
# status is not what the check is about.
quiet() {
	"$@" >"$T/out" 2>"$T/err"
	return 0
}

# jcheck NAME EXPR: the Python expression EXPR holds of j, the JSON
# object that $T/out holds.  day(k) is the UTC date of today + k days,
# ts(s) the seconds of a YYYY-MM-DDTHH:MM:SSZ, E(name) an integer from
# the environment.
jcheck() {
	python3 - "$T/out" "$2" "$TODAY0" <<-'EOF'
	import datetime, json, os, sys
	# In parentheses: the expression may span lines.
	expr = compile("(" + sys.argv[2] + ")", "jcheck", "eval")
	try:
	    j = json.load(open(sys.argv[1]))
	except ValueError as e:
	    print("# not one JSON object: %s" % e)
	    sys.exit(1)
	t0 = int(sys.argv[3])
	utc = datetime.timezone.utc
	def day(k):
	    return datetime.datetime.fromtimestamp(t0 + k * 86400,
	                                           utc).strftime("%Y-%m-%d")
	def ts(s):
	    return int(datetime.datetime.strptime(s, "%Y-%m-%dT%H:%M:%SZ")
	               .replace(tzinfo=utc).timestamp())
	def E(name):
	    return int(os.environ[name])
	try:
	    r = eval(expr, {"j": j, "day": day, "ts": ts, "E": E})
	except Exception as e:
	    print("# %s: %s" % (type(e).__name__, e))
	    r = False
	if not r:
	    print("# false: %s" % sys.argv[2])
	    print("# json: %s" % json.dumps(j)[:800])
	sys.exit(0 if r else 1)
	EOF
	ok $? "$1"
}

# jget EXPR: the value of EXPR (Python, over j) of the JSON in $T/out.
jget() {
	python3 -c 'import json, sys
v = eval(sys.argv[2], {"j": json.load(open(sys.argv[1]))})
print(v if isinstance(v, str) else json.dumps(v))' "$T/out" "$1" 2>/dev/null
}

day() { date -u -d "@$((TODAY0 + $1 * 86400))" +%Y-%m-%d; }

# The mx patterns of a policy file, in order, comma-separated.
mxs() { tr -d '\r' <"$1" | sed -n 's/^mx:[[:space:]]*//p' | paste -sd, -; }

# has FILE LINE: the policy file has this line (CR LF or LF).
has() { tr -d '\r' <"$1" | grep -qxF "$2"; }

# body FILE MODE MAX_AGE MX...: a policy file.
body() {
	local f=$1 mode=$2 age=$3 mx
	shift 3
	mkdir -p "$(dirname "$f")"
	{
		echo "version: STSv1"
		echo "mode: $mode"
		for mx; do echo "mx: $mx"; done
		echo "max_age: $age"
	} >"$f"
}

# A day's reports must not change their day under the test: away from
# midnight UTC.
now=$(date -u +%s)
if [ $((86400 - now % 86400)) -lt 600 ]; then
	sleep $((86400 - now % 86400 + 2))
	now=$(date -u +%s)
fi
TODAY0=$((now - now % 86400))
export TODAY0

# ---- PostgreSQL first: without its programs, no test at all ----
chmod 0711 "$T" # PostgreSQL's user reaches its directory in it
pg_start "$T/pg" >/dev/null 2>"$T/pg.err"
pg_rc=$?
if [ $pg_rc -eq 2 ]; then
	echo "1..0 # SKIP no PostgreSQL server to start ($(head -1 "$T/pg.err"))"
	exit 0
fi

# ---- the reports ----
# Each domain's testing policy, as served, in $T/bodies/DOMAIN; the
# reports show it (or another body, or none).
B=$T/bodies
for d in few fail ready lag stale3 stale gap other nostring tlsa npf \
	future empty; do
	body "$B/$d.example" testing 86400 "mx1.$d.example" "mx2.$d.example"
done
body "$B/long.example" testing 2592000 mx1.long.example mx2.long.example
body "$B/none.example" none 86400
body "$B/mxc.example" enforce 604800 mx1.mxc.example mx2.mxc.example
body "$B/mxt.example" testing 86400 mx1.mxt.example mx2.mxt.example
# other.example's other body: one more MX, as before a change.
body "$T/other-body" testing 86400 mx1.other.example mx2.other.example \
	mx9.other.example

R=$T/reports
gen() {
	local d=$1
	shift
	$GEN "$R" --now "$now" --domain "$d" "$@" >/dev/null
	ok $? "generate the reports of $d"
}
gen few.example --days -7..-1 --policy "$B/few.example"
gen fail.example --days -20..-1 --policy "$B/fail.example" \
	--fail -3:certificate-expired:mx1.fail.example:5 \
	--fail -2:sts-policy-fetch-error::2
gen ready.example --days -16..-1 --policy "$B/ready.example" \
	--strings mixed --tlsa --noise-domain noise.example
gen lag.example --days -17..-2 --policy "$B/lag.example"
gen stale3.example --days -20..-3 --policy "$B/stale3.example"
gen stale.example --days -20..-4 --policy "$B/stale.example"
gen gap.example --days -20..-1 --policy "$B/gap.example" --skip -8
gen other.example --days -16..-1 --policy "$B/other.example" \
	--org "Google Inc."
gen other.example --days -16..-1 --policy "$B/other.example" \
	--org "Microsoft Corporation" --other-body "$T/other-body" \
	--other-days -5..-1 --fail -2:certificate-host-mismatch:mx9.other.example:4
gen nostring.example --days -16..-1 --no-policy-string
gen tlsa.example --days -16..-1 --policy-type tlsa
gen npf.example --days -16..-1 --policy-type no-policy-found
gen future.example --days -16..1 --policy "$B/future.example"
gen long.example --days -16..-1 --policy "$B/long.example"

# The generator: the same arguments give the same files; --now moves
# the days and the report-ids.
$GEN "$T/again" --now "$now" --domain gap.example --days -20..-1 \
	--policy "$B/gap.example" --skip -8 >/dev/null &&
	for f in "$T/again"/*; do cmp -s "$f" "$R/${f##*/}" || exit 1; done
ok $? "the generator's output is a function of its arguments"
$GEN "$T/later" --now $((now + 86400)) --domain gap.example --days -20..-1 \
	--policy "$B/gap.example" --skip -8 >/dev/null
[ -z "$(comm -12 <(cd "$T/again" && ls) <(cd "$T/later" && ls))" ] &&
	! grep -qh "$(grep -h '"report-id"' "$T/again"/* | head -1)" \
		"$T/later"/*
ok $? "another --now: other files and report-ids"
for f in "$R"/*; do
	"$MTASTS" report parse -c "$f" || echo "# $f"
done >"$T/parsed.ndjson" 2>"$T/parse.err"
nfiles=$(find "$R" -type f | wc -l)
[ ! -s "$T/parse.err" ] && [ "$(wc -l <"$T/parsed.ndjson")" -eq "$nfiles" ]
ok $? "every generated file is one report ($nfiles)"
python3 - "$T/parsed.ndjson" <<-'EOF'
import json, sys
ids = [(r["organization-name"], r["report-id"])
       for r in map(json.loads, open(sys.argv[1]))]
sys.exit(0 if len(ids) == len(set(ids)) else 1)
EOF
ok $? "each report has its own organization-name and report-id"

# expect_summary DB LABEL: `report summary --by day,domain` of the store
# is what the generated files say, and what the generator was asked.
expect_summary() {
	local db=$1 l=$2
	run 0 "$l: report summary --by day,domain --json" \
		"$MTASTS" report summary --db "$db" --json --by day,domain
	python3 - "$T/out" "$R" <<-'EOF'
	import collections, json, os, sys
	want = collections.defaultdict(lambda: [set(), 0, 0])
	for name in os.listdir(sys.argv[2]):
	    r = json.load(open(os.path.join(sys.argv[2], name)))
	    d = r["date-range"]["start-datetime"][:10]
	    for p in r["policies"]:
	        w = want[(d, p["policy"]["policy-domain"])]
	        w[0].add((r["organization-name"], r["report-id"]))
	        w[1] += p["summary"]["total-successful-session-count"]
	        w[2] += p["summary"]["total-failure-session-count"]
	got = {}
	for line in open(sys.argv[1]):
	    row = json.loads(line)
	    got[(row["day"], row["domain"])] = [row["reports"],
	                                        row["successful"], row["failed"]]
	want = {k: [len(v[0]), v[1], v[2]] for k, v in want.items()}
	for k in sorted(set(want) | set(got)):
	    if want.get(k) != got.get(k):
	        print("# %s: got %s, want %s" % (k, got.get(k), want.get(k)))
	sys.exit(0 if want == got else 1)
	EOF
	ok $? "$l: the store holds the generated reports, day by day"
	run 0 "$l: report summary of the shaped domains" \
		"$MTASTS" report summary --db "$db" --json --by day,domain
	python3 - "$T/out" "$TODAY0" <<-'EOF'
	import datetime, json, sys
	t0 = int(sys.argv[2])
	def day(k):
	    return datetime.datetime.fromtimestamp(
	        t0 + k * 86400, datetime.timezone.utc).strftime("%Y-%m-%d")
	rows = {}
	for line in open(sys.argv[1]):
	    r = json.loads(line)
	    rows.setdefault(r["domain"], {})[r["day"]] = r
	def days(d):
	    return sorted(rows.get(d, {}))
	checks = [
	    ("few: today-7 .. today-1",
	     days("few.example") == [day(k) for k in range(-7, 0)]),
	    ("gap: no report on today-8",
	     day(-8) not in rows["gap.example"] and
	     len(rows["gap.example"]) == 19),
	    ("stale: the newest day is today-4",
	     days("stale.example")[-1] == day(-4)),
	    ("fail: 5 + 2 failed on today-3 and today-2",
	     rows["fail.example"][day(-3)]["failed"] == 5 and
	     rows["fail.example"][day(-2)]["failed"] == 2 and
	     sum(r["failed"] for r in rows["fail.example"].values()) == 7),
	    ("ready: two reporters a day",
	     all(r["reports"] == 2 for r in rows["ready.example"].values())),
	    ("noise.example: failed sessions every day",
	     all(r["failed"] == 6 for r in rows["noise.example"].values())),
	    ("future: a report of tomorrow",
	     days("future.example")[-1] == day(1)),
	]
	bad = [name for name, good in checks if not good]
	for name in bad:
	    print("# not so: %s" % name)
	sys.exit(1 if bad else 0)
	EOF
	ok $? "$l: the generator wrote the days, gaps and failures asked for"
	run 0 "$l: other.example's failures by MX" "$MTASTS" report summary \
		--db "$db" --json --by mx,result --domain other.example
	grep -q '"mx":"mx9.other.example","result":"certificate-host-mismatch"' \
		"$T/out"
	ok $? "$l: ... the other body's failure is stored at its MX"
}

# ---- what mtasts rollout does, on one store ----
# rollout_checks DB LABEL
rollout_checks() {
	local db=$1 l=$2 P=$T/$2/pol f snap id tid fid before after
	rm -rf "$P"
	mkdir -p "$P"
	cp -r "$B"/. "$P"/
	st() {
		"$MTASTS" rollout status --db "$db" --no-fetch --json \
			--policy "$P/$1" --domain "$1" "${@:2}"
	}

	# -- status --
	run 3 "$l: status few.example (7 days)" st few.example
	jcheck "$l: ... too-few-days, the run from today-7, ready on today+7" \
		'j["reason"] == "too-few-days" and not j["ready"] and
		 j["run"] == {"first": day(-7), "last": day(-1), "days": 7} and
		 j["ready_on"] == day(7) and j["window"]["failed"] == 0 and
		 j["min_days"] == 14 and isinstance(j["advice"], str) and
		 j["advice"] != ""'
	run 0 "$l: status few.example --min-days 7" st few.example --min-days 7
	jcheck "$l: ... ready" 'j["reason"] == "ready" and j["ready"] and
		j["min_days"] == 7 and j["ready_on"] is None'
	run 3 "$l: status few.example (text)" "$MTASTS" rollout status \
		--db "$db" --no-fetch --policy "$P/few.example" \
		--domain few.example
	grep -q few.example "$T/out" && grep -q "$(day 7)" "$T/out"
	ok $? "$l: ... names the domain and the day it can be ready"
	run 2 "$l: status --min-days 0" st few.example --min-days 0

	run 3 "$l: status fail.example (failures on today-3, today-2)" \
		st fail.example
	jcheck "$l: ... failures, each by result and MX (null when none)" \
		'j["reason"] == "failures" and not j["ready"] and
		 {"result": "certificate-expired", "mx": "mx1.fail.example",
		  "sessions": 5, "first": day(-3), "last": day(-3)}
		   in j["failures"] and
		 any(x["result"] == "sts-policy-fetch-error" and
		     x["mx"] is None and x["sessions"] == 2
		     for x in j["failures"]) and
		 j["window"]["failed"] == 7 and j["ready_on"] == day(13)'

	run 0 "$l: status ready.example (16 clean days)" st ready.example
	jcheck "$l: ... ready: the run, its window of 14 days, the reporters" \
		'j["reason"] == "ready" and j["ready"] is True and
		 j["domain"] == "ready.example" and
		 j["policy_file"].endswith("/ready.example") and
		 j["mode"] == "testing" and j["max_age"] == 86400 and
		 sorted(j["mx"]) == ["mx1.ready.example", "mx2.ready.example"] and
		 j["run"] == {"first": day(-16), "last": day(-1), "days": 16} and
		 j["window"]["first"] == day(-14) and
		 j["window"]["last"] == day(-1) and
		 j["window"]["reports"] == 28 and j["window"]["failed"] == 0 and
		 sorted(r["org"] for r in j["reporters"]) ==
		   ["Google Inc.", "Microsoft Corporation"] and
		 j["failures"] == [] and j["other_body"]["reports"] == 0 and
		 j["mx_change"] is None and j["last_change"] is None and
		 j["published"] is None and j["ready_on"] is None'
	MTASTS_REPORT_DB=$db run 0 "$l: status with the store of MTASTS_REPORT_DB" \
		"$MTASTS" rollout status --no-fetch --json \
		--policy "$P/ready.example" --domain ready.example
	jcheck "$l: ... the same reports" 'j["reason"] == "ready"'

	run 0 "$l: status lag.example (newest day today-2)" st lag.example
	jcheck "$l: ... today-2 is recent" \
		'j["reason"] == "ready" and j["run"]["last"] == day(-2)'
	run 3 "$l: status stale3.example (newest day today-3)" st stale3.example
	jcheck "$l: ... stale, ready on today+14" \
		'j["reason"] == "stale" and j["ready_on"] == day(14)'
	run 3 "$l: status stale.example (newest day today-4)" st stale.example
	jcheck "$l: ... stale" 'j["reason"] == "stale"'
	run 3 "$l: status gap.example (no report on today-8)" st gap.example
	jcheck "$l: ... the gap breaks the run: 7 days from today-7" \
		'j["reason"] == "too-few-days" and
		 j["run"] == {"first": day(-7), "last": day(-1), "days": 7} and
		 j["ready_on"] == day(7)'
	run 0 "$l: status other.example (5 reports show another body)" \
		st other.example
	jcheck "$l: ... not counted, their failure neither" \
		'j["reason"] == "ready" and j["other_body"]["reports"] == 5 and
		 j["other_body"]["failed"] == 4 and
		 j["window"]["reports"] == 23 and j["window"]["failed"] == 0'
	run 0 "$l: status nostring.example (no policy-string)" st nostring.example
	jcheck "$l: ... counted" 'j["reason"] == "ready" and
		j["window"]["reports"] == 28 and j["other_body"]["reports"] == 0'
	run 0 "$l: status tlsa.example (tlsa policies)" st tlsa.example
	jcheck "$l: ... counted" 'j["reason"] == "ready" and
		j["run"]["days"] == 16'
	run 0 "$l: status npf.example (no-policy-found policies)" st npf.example
	jcheck "$l: ... counted" 'j["reason"] == "ready"'
	run 0 "$l: status future.example (a report of tomorrow)" \
		st future.example
	jcheck "$l: ... tomorrow left out, today counted" \
		'j["reason"] == "ready" and j["run"]["last"] == day(0) and
		 j["run"]["days"] == 17'
	run 3 "$l: status none.example (mode none)" st none.example
	jcheck "$l: ... mode-none" 'j["reason"] == "mode-none"'
	run 3 "$l: status empty.example (no reports)" st empty.example
	jcheck "$l: ... no-reports, no run" \
		'j["reason"] == "no-reports" and j["run"]["first"] is None and
		 j["run"]["days"] == 0 and j["ready_on"] == day(14)'

	# -- errors --
	run 2 "$l: status without --policy" "$MTASTS" rollout status \
		--db "$db" --no-fetch --domain ready.example
	run 2 "$l: an unknown subcommand" "$MTASTS" rollout frobnicate \
		--policy "$P/ready.example"
	run 1 "$l: a policy file that does not exist" st missing.example
	printf 'version: STSv1\nmode: sometimes\n' >"$P/bad.example"
	run 1 "$l: a file that is no valid policy" st bad.example

	# -- promote --
	f=$P/few.example
	cp "$f" "$T/snap"
	run 3 "$l: promote few.example (not ready)" "$MTASTS" rollout promote \
		--db "$db" --policy "$f" --domain few.example
	cmp -s "$f" "$T/snap"
	ok $? "$l: ... the file byte for byte as it was"
	run 0 "$l: promote few.example --force" "$MTASTS" rollout promote \
		--db "$db" --policy "$f" --domain few.example --force --json
	jcheck "$l: ... promoted" 'j["action"] == "promote" and
		j["mode"] == "enforce"'
	has "$f" "mode: enforce"
	ok $? "$l: ... the file says enforce"

	f=$P/ready.example
	chmod 0640 "$f"
	[ "$(id -u)" -eq 0 ] && chown 65534:65534 "$f"
	snap=$(stat -c '%a %u:%g' "$f")
	find "$P" -maxdepth 1 | sort >"$T/ls-before"
	before=$(date -u +%s)
	run 0 "$l: promote ready.example" "$MTASTS" rollout promote \
		--db "$db" --policy "$f" --domain ready.example --json
	after=$(date -u +%s)
	id=$(jget 'j["id"]')
	export B0=$before A0=$after
	jcheck "$l: ... the JSON: a timestamp id of now, its record" \
		'j["action"] == "promote" and j["domain"] == "ready.example" and
		 j["mode"] == "enforce" and j["max_age"] == 604800 and
		 E("B0") <= ts(j["id"][0:4] + "-" + j["id"][4:6] + "-" +
		   j["id"][6:8] + "T" + j["id"][9:11] + ":" + j["id"][11:13] +
		   ":" + j["id"][13:15] + "Z") <= E("A0") and
		 j["record"] == "v=STSv1; id=" + j["id"] and
		 j["reloaded"] == []'
	[[ $id =~ ^[0-9]{8}T[0-9]{6}Z$ ]]
	ok $? "$l: ... the id $id is YYYYMMDDTHHMMSSZ"
	has "$f" "mode: enforce" && has "$f" "max_age: 604800" &&
		[ "$(mxs "$f")" = mx1.ready.example,mx2.ready.example ]
	ok $? "$l: ... the file: mode enforce, max_age 604800, the same MX"
	"$MTASTS" lint -q policy "$f"
	ok $? "$l: ... mtasts lint passes on it"
	[ "$(stat -c '%a %u:%g' "$f")" = "$snap" ]
	ok $? "$l: ... its mode and owner kept ($snap)"
	find "$P" -maxdepth 1 | sort | cmp -s - "$T/ls-before"
	ok $? "$l: ... no temporary file left beside it"
	cp "$f" "$T/snap"
	run 0 "$l: promote ready.example again" "$MTASTS" rollout promote \
		--db "$db" --policy "$f" --domain ready.example
	grep -qi "nothing to do" "$T/out" && cmp -s "$f" "$T/snap"
	ok $? "$l: ... nothing to do, the file untouched"
	quiet st ready.example
	export ID=$id
	jcheck "$l: status after promote: already-enforce, the last change" \
		'j["reason"] == "already-enforce" and
		 j["last_change"]["action"] == "promote" and
		 j["last_change"]["id"] == "'"$id"'" and
		 j["last_change"]["mode"] == "enforce" and
		 j["last_change"]["max_age"] == 604800'

	f=$P/nostring.example
	run 0 "$l: promote nostring.example (text)" "$MTASTS" rollout promote \
		--db "$db" --policy "$f" --domain nostring.example
	grep -qF '_mta-sts.nostring.example. IN TXT "v=STSv1; id=' "$T/out" &&
		grep -qi "publish.*first" "$T/out"
	ok $? "$l: ... prints the record and says to publish the file first"

	f=$P/tlsa.example
	run 0 "$l: promote tlsa.example --max-age 1209600" "$MTASTS" rollout \
		promote --db "$db" --policy "$f" --domain tlsa.example \
		--max-age 1209600 --json
	jcheck "$l: ... max_age 1209600" 'j["max_age"] == 1209600'
	has "$f" "max_age: 1209600" && has "$f" "mode: enforce"
	ok $? "$l: ... in the file"

	# -- mx-change --
	f=$P/mxc.example
	before=$(date -u +%s)
	run 0 "$l: mx-change mxc.example --add mx3 --remove mx1" \
		"$MTASTS" rollout mx-change --db "$db" --policy "$f" \
		--domain mxc.example --add mx3.mxc.example \
		--remove mx1.mxc.example --json
	after=$(date -u +%s)
	tid=$(jget 'j["id"]')
	cut=$(jget 'j["cutover_at"]')
	export B0=$before A0=$after
	jcheck "$l: ... cut-over at now + the old max_age (604800)" \
		'j["action"] == "mx-change" and j["mode"] == "enforce" and
		 j["max_age"] == 604800 and
		 j["mx"] == ["mx1.mxc.example", "mx2.mxc.example",
		             "mx3.mxc.example"] and
		 E("B0") + 604800 <= ts(j["cutover_at"]) <= E("A0") + 604800 and
		 j["record"] == "v=STSv1; id=" + j["id"]'
	[ "$(mxs "$f")" = mx1.mxc.example,mx2.mxc.example,mx3.mxc.example ] &&
		has "$f" "mode: enforce" && has "$f" "max_age: 604800"
	ok $? "$l: ... the transition policy lists the old MX, then the new"
	"$MTASTS" lint -q policy "$f"
	ok $? "$l: ... mtasts lint passes on it"
	cp "$f" "$T/snap"
	run 3 "$l: a second mx-change of mxc.example" "$MTASTS" rollout \
		mx-change --db "$db" --policy "$f" --domain mxc.example \
		--add mx4.mxc.example
	cmp -s "$f" "$T/snap"
	ok $? "$l: ... refused, the file untouched"
	quiet st mxc.example
	jcheck "$l: status shows the change under way" \
		'j["mx_change"] is not None and
		 j["mx_change"]["transition_id"] == "'"$tid"'" and
		 j["mx_change"]["cutover_at"] == "'"$cut"'" and
		 j["mx_change"]["cutover_safe"] is False and
		 j["mx_change"]["added"] == ["mx3.mxc.example"] and
		 j["mx_change"]["removed"] == ["mx1.mxc.example"] and
		 j["last_change"]["action"] == "mx-change" and
		 j["published"] is None'
	run 3 "$l: mx-change --finish before the cut-over" "$MTASTS" rollout \
		mx-change --finish --db "$db" --policy "$f" --domain mxc.example
	cmp -s "$f" "$T/snap"
	ok $? "$l: ... refused, the file untouched"
	grep -q "${cut%%T*}" "$T/out" "$T/err"
	ok $? "$l: ... saying the day it becomes safe"
	run 0 "$l: mx-change --finish --force" "$MTASTS" rollout mx-change \
		--finish --force --db "$db" --policy "$f" --domain mxc.example \
		--json
	fid=$(jget 'j["id"]')
	jcheck "$l: ... the final policy, a new id" \
		'j["action"] == "mx-finish" and
		 j["mx"] == ["mx2.mxc.example", "mx3.mxc.example"] and
		 j["id"] != "'"$tid"'" and j["previous_id"] == "'"$tid"'" and
		 j["record"] == "v=STSv1; id=" + j["id"]'
	[ "$(mxs "$f")" = mx2.mxc.example,mx3.mxc.example ] &&
		has "$f" "mode: enforce" && has "$f" "max_age: 604800"
	ok $? "$l: ... the file: mx1 gone"
	quiet st mxc.example
	jcheck "$l: status: no change under way, the finish is the last" \
		'j["mx_change"] is None and
		 j["last_change"]["action"] == "mx-finish" and
		 j["last_change"]["id"] == "'"$fid"'"'
	cp "$f" "$T/snap"
	run 3 "$l: mx-change --finish with no change under way" \
		"$MTASTS" rollout mx-change --finish --db "$db" --policy "$f" \
		--domain mxc.example
	cmp -s "$f" "$T/snap"
	ok $? "$l: ... the file untouched"

	# The text: the timeline in UTC dates.
	f=$P/mxt.example
	before=$(date -u +%s)
	run 0 "$l: mx-change mxt.example --add mx3 (text)" "$MTASTS" rollout \
		mx-change --db "$db" --policy "$f" --domain mxt.example \
		--add mx3.mxt.example
	grep -q "$(date -u -d "@$((before + 86400))" +%Y-%m-%d)" "$T/out" &&
		grep -q UTC "$T/out" &&
		grep -qF '_mta-sts.mxt.example. IN TXT "v=STSv1; id=' "$T/out"
	ok $? "$l: ... the cut-over day in UTC and the record"
	[ "$(mxs "$f")" = mx1.mxt.example,mx2.mxt.example,mx3.mxt.example ] &&
		has "$f" "mode: testing" && has "$f" "max_age: 86400"
	ok $? "$l: ... mode and max_age kept"

	# long.example: testing with max_age 30 days, promoted with 1 day.
	# A sender may hold the testing policy for 30 days after the
	# promotion, but a testing policy never makes it refuse a host
	# (RFC 8461 §5): the cut-over of an MX change made now is now + 1
	# day, the enforce policy's max_age.
	f=$P/long.example
	run 0 "$l: promote long.example --max-age 86400" "$MTASTS" rollout \
		promote --db "$db" --policy "$f" --domain long.example \
		--max-age 86400
	before=$(date -u +%s)
	run 0 "$l: mx-change long.example" "$MTASTS" rollout mx-change \
		--db "$db" --policy "$f" --domain long.example \
		--add mx3.long.example --json
	after=$(date -u +%s)
	export B0=$before A0=$after
	jcheck "$l: ... cut-over at now + 1 day: the testing policy held 30 days refuses nothing" \
		'E("B0") + 86400 <= ts(j["cutover_at"]) <= E("A0") + 86400'
	run 0 "$l: mx-change long.example --finish --force" "$MTASTS" rollout \
		mx-change --db "$db" --policy "$f" --domain long.example \
		--finish --force
	# An enforce policy of 30 days that rollout wrote, then edited by
	# hand down to 1 day (no event): a sender may hold the 30-day one
	# until 30 days from now, whatever the file says now.
	run 0 "$l: mx-change long.example --add mx4" "$MTASTS" rollout \
		mx-change --db "$db" --policy "$f" --domain long.example \
		--add mx4.long.example
	run 0 "$l: mx-change long.example --finish --force" "$MTASTS" rollout \
		mx-change --db "$db" --policy "$f" --domain long.example \
		--finish --force
	sed -i 's/^max_age: .*/max_age: 2592000\r/' "$f"
	run 0 "$l: mx-change long.example (the 30-day policy written)" \
		"$MTASTS" rollout mx-change --db "$db" --policy "$f" \
		--domain long.example --add mx5.long.example
	run 0 "$l: ... finished" "$MTASTS" rollout mx-change --db "$db" \
		--policy "$f" --domain long.example --finish --force
	sed -i 's/^max_age: .*/max_age: 86400\r/' "$f"
	before=$(date -u +%s)
	run 0 "$l: mx-change long.example after a hand edit to 1 day" \
		"$MTASTS" rollout mx-change --db "$db" --policy "$f" \
		--domain long.example --add mx6.long.example --json
	after=$(date -u +%s)
	export B0=$before A0=$after
	jcheck "$l: ... cut-over at now + 30 days: the policy rollout wrote last" \
		'E("B0") + 2592000 <= ts(j["cutover_at"]) <= E("A0") + 2592000'

	# -- the policy domain --
	"$MTASTS" init infer.example --mx mx1.infer.example \
		--out "$P/zone.test" >/dev/null
	run 3 "$l: status, the domain from dns.zone" "$MTASTS" rollout status \
		--db "$db" --no-fetch --json --policy "$P/zone.test/mta-sts.txt"
	jcheck "$l: ... infer.example (not the directory's name)" \
		'j["domain"] == "infer.example"'
	mkdir -p "$P/dirs/dirname.example"
	cp "$B/ready.example" "$P/dirs/dirname.example/mta-sts.txt"
	run 3 "$l: status, the domain from the directory's name" \
		"$MTASTS" rollout status --db "$db" --no-fetch --json \
		--policy "$P/dirs/dirname.example/mta-sts.txt"
	jcheck "$l: ... dirname.example" 'j["domain"] == "dirname.example"'
	mkdir -p "$P/no domain"
	cp "$B/ready.example" "$P/no domain/mta-sts.txt"
	run 2 "$l: status, no dns.zone, no domain directory" \
		"$MTASTS" rollout status --db "$db" --no-fetch \
		--policy "$P/no domain/mta-sts.txt"
	grep -q -- "--domain" "$T/err"
	ok $? "$l: ... asks for --domain"
	run 0 "$l: ... and with --domain" "$MTASTS" rollout status --db "$db" \
		--no-fetch --json --policy "$P/no domain/mta-sts.txt" \
		--domain ready.example
	cp "$P/no domain/mta-sts.txt" "$T/snap"
	run 2 "$l: promote, no domain to tell" "$MTASTS" rollout promote \
		--db "$db" --policy "$P/no domain/mta-sts.txt"
	cmp -s "$P/no domain/mta-sts.txt" "$T/snap"
	ok $? "$l: ... the file untouched"
}

# ---- SQLite ----
DB="sqlite:$T/store.db"
run 0 "sqlite: ingest the generated reports" \
	"$MTASTS" report ingest -q --db "$DB" "$R"
expect_summary "$DB" sqlite
rollout_checks "$DB" sqlite

# ---- PostgreSQL ----
if [ $pg_rc -eq 0 ]; then
	run 0 "postgresql: ingest the generated reports" \
		"$MTASTS" report ingest -q --db "$PG_URL" "$R"
	expect_summary "$PG_URL" postgresql
	rollout_checks "$PG_URL" postgresql
else
	sed 's/^/# /' "$T/pg.err"
	ok 1 "PostgreSQL started"
fi

# ---- --reload: which running mtasts serve serves FILE ----
# Stand-ins whose command lines are those of mtasts serve parents (bash
# run as "mtasts serve ...", the script "serve" in their directory): -dc
# CONF (a cluster), -vcCONF relative to the process's directory, a
# configuration that does not name FILE, one that cannot be read, and a
# child process
# (--process), which does not reload.  promote --reload signals the
# first two only, and says nothing of the others.
F=$T/fake
mkdir -p "$F/pol" "$F/other"
printf 'sleep 30\n' >"$F/serve"
printf 'sleep 30\n' >"$F/other/serve"
cp "$B/ready.example" "$F/pol/mta-sts.txt"
for c in conf other/other.conf; do
	printf 'listen 127.0.0.1:4443\ndomain %s {\n policy %s\n certificate %s\n key %s\n}\n' \
		fake.example "$([ $c = conf ] && echo "$F/pol/mta-sts.txt" ||
			echo "$F/other/mta-sts.txt")" "$F/c.pem" "$F/k.pem" \
		>"$F/$c"
done
cp "$F/pol/mta-sts.txt" "$F/other/mta-sts.txt"
fake() { # fake DIR ARGV...: a stand-in, its pid on stdout
	(cd "$1" && shift && exec python3 -c 'import os, sys
os.execv("/bin/bash", sys.argv[1:])' "$@" >/dev/null 2>&1) &
	echo $!
}
p1=$(fake "$F" mtasts serve -dc "$F/conf")
p2=$(fake "$F" /usr/sbin/mtasts serve -vcconf)
p3=$(fake "$F/other" mtasts serve -c other.conf)
p4=$(fake "$F" mtasts serve --process server --layout x -c "$F/conf")
p5=$(fake "$F" mtasts serve -c "$F/missing.conf")
sleep 0.5
run 0 "promote --reload with stand-ins of mtasts serve" "$MTASTS" rollout \
	promote --db "sqlite:$T/fake.db" --policy "$F/pol/mta-sts.txt" \
	--domain fake.example --force --reload --json
jcheck "... signals the parents whose configuration names FILE" \
	'sorted(j["reloaded"]) == sorted(['"$p1, $p2"'])'
[ ! -s "$T/err" ]
ok $? "... and says nothing of the others"
kill "$p3" "$p4" "$p5" 2>/dev/null
run 1 "promote --reload when no mtasts serve serves FILE" "$MTASTS" rollout \
	mx-change --db "sqlite:$T/fake.db" --policy "$F/other/mta-sts.txt" \
	--domain other.example --add mx9.ready.example --reload
wait 2>/dev/null

echo "1..$n"
[ "$failed" -eq 0 ]
