#!/bin/bash
# SPDX-License-Identifier: ISC
#
# The whole check suite: the body of `make test`, `./quickstart test` and
# CI.  Stages, in order (run a subset by naming them: `run-all.sh fuzz`):
#
#   deps    every pkg-config module of quickstart's table resolves on its
#           own, and the table and meson.build's dependency() agree
#   plain   gcc build with -Dwerror=true, every meson test
#   asan    clang build with ASan+UBSan, every meson test
#   tidy    clang-tidy (.clang-tidy) on every C file of src/, one check each
#   format  clang-format --dry-run -Werror on every C source, one check each
#   man     mandoc -Tlint on every man page, one check each
#   fuzz    clang libFuzzer build, each fuzz target for FUZZ_TIME seconds
#   deb     the Debian packages: built twice (the builds must be byte for
#           byte the same), lintian, `make install`'s units against the
#           package's, then installed, removed and purged with apt in a
#           throwaway root (tests/deb/install.sh)
#
# Counting (docs/TESTING.md): every TAP "ok" / "not ok" line of every
# meson test is one pass / failure; a test that meson judges failed
# (crash, timeout, bad exit status, bad plan) without any "not ok" line
# adds one failure; every format, man page and fuzz check counts one; a
# stage that cannot run (configure or build failed, tool missing) counts
# one failure.  The last line printed is "N passed, N failed"; the exit
# status is 1 when anything failed.
#
# Environment: FUZZ_TIME (seconds per fuzz target, default 20),
# FUZZ_JOBS (fuzz targets run at once, default the number of cores),
# MTS_BUILD_PREFIX (default "build-": build dirs are <prefix>ci,
# <prefix>asan, <prefix>fuzz, each removed and made anew on every run).
set -u

cd "$(dirname "$0")/.." || exit 2
ROOT=$PWD
PREFIX=${MTS_BUILD_PREFIX:-build-}
FUZZ_TIME=${FUZZ_TIME:-20}
FUZZ_JOBS=${FUZZ_JOBS:-$(nproc 2>/dev/null || echo 1)}
ALL_STAGES="deps plain asan tidy format man deb fuzz"

export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}
if [ -z "${ASAN_SYMBOLIZER_PATH:-}" ]; then
	for s in /usr/lib/llvm-14/bin/llvm-symbolizer \
	    "$(command -v llvm-symbolizer 2>/dev/null)"; do
		if [ -n "$s" ] && [ -x "$s" ]; then
			export ASAN_SYMBOLIZER_PATH=$s
			break
		fi
	done
fi

PASSED=0
FAILED=0
SKIPPED=0
SUMMARY=()
T0=$SECONDS

say()
{
	printf '%s\n' "$*"
}

# Shows the last lines of a log after a failure.
show_tail()
{
	local log=$1 n=${2:-40}
	say "---- last $n lines of $log"
	tail -n "$n" "$log" | sed 's/^/| /'
	say "----"
}

# After a failed ninja run: the first failing step and its messages,
# which matter more than the last lines.
show_build_failure()
{
	local log=$1 first
	first=$(grep -n -m 1 '^FAILED: ' "$log" | cut -d: -f1)
	if [ -z "$first" ]; then
		show_tail "$log" 60
		return
	fi
	say "---- $log, from the first failure:"
	sed -n "${first},$((first + 50))p" "$log" | sed 's/^/| /'
	say "---- ($(grep -c '^FAILED: ' "$log") failed build steps)"
}

pass()
{
	PASSED=$((PASSED + 1))
}

fail()
{
	FAILED=$((FAILED + 1))
	say "FAIL: $*"
}

# Counts of the current stage, for its summary line.
stage_begin()
{
	STAGE=$1
	STAGE_P=$PASSED
	STAGE_F=$FAILED
	STAGE_S=$SKIPPED
	STAGE_T=$SECONDS
	say ""
	say "==== stage $STAGE: $2"
}

stage_end()
{
	local p=$((PASSED - STAGE_P)) f=$((FAILED - STAGE_F))
	local s=$((SKIPPED - STAGE_S)) t=$((SECONDS - STAGE_T)) line
	line=$(printf '%-7s %4d passed, %3d failed' "$STAGE" "$p" "$f")
	[ "$s" -eq 0 ] || line="$line, $s skipped"
	line="$line ($t s)"
	SUMMARY+=("$line")
	say "==== $line"
}

# Reads meson's testlog.json and prints one line per test, then a last
# line "PASSED FAILED SKIPPED" with the counts defined above.
count_meson_tests()
{
	python3 - "$1" <<'PY'
import json, re, sys

line_re = re.compile(r'^(not ok|ok)\b(.*)$')
directive_re = re.compile(r'#\s*(skip|todo)\b', re.I)
good = {'OK', 'SKIP', 'EXPECTEDFAIL'}
tp = tf = ts = 0
with open(sys.argv[1], encoding='utf-8', errors='replace') as fh:
    for raw in fh:
        if not raw.strip():
            continue
        t = json.loads(raw)
        result = t.get('result', '?')
        p = f = s = 0
        for line in (t.get('stdout') or '').splitlines():
            m = line_re.match(line)
            if m is None:
                continue
            d = directive_re.search(m.group(2))
            d = d.group(1).lower() if d else None
            if m.group(1) == 'ok':
                if d == 'skip':
                    s += 1
                else:
                    p += 1
            elif d is not None:
                s += 1  # "not ok # TODO": a known gap, not a failure
            else:
                f += 1
        seen = p + f + s
        if result not in good and f == 0:
            f += 1  # crash, timeout, bad plan or exit status: one failure
        elif seen == 0:
            if result == 'SKIP':
                s += 1
            else:
                p += 1  # a plain exit-status test that passed
        note = '' if result == 'OK' else '  <-- ' + result
        print('  %-28s %4d ok, %d not ok, %d skipped%s'
              % (t.get('name', '?'), p, f, s, note))
        if f:
            # What the failed test said: its "not ok" lines and its
            # diagnostics ("# ..."), which meson's console log leaves
            # out and a fresh root takes away with the build directory.
            said = [l for l in (t.get('stdout') or '').splitlines()
                    if l.startswith('not ok') or l.startswith('#')]
            for l in said[:40]:
                print('    | ' + l[:300])
            if len(said) > 40:
                print('    | ... %d more lines' % (len(said) - 40))
        tp += p
        tf += f
        ts += s
print(tp, tf, ts)
PY
}

# meson_stage NAME DIR CC MULTIPLIER SETUP_OPTIONS...: configures DIR
# from scratch with compiler CC, builds, runs `meson test` and counts.
meson_stage()
{
	local name=$1 dir=$2 cc=$3 mult=$4 rc counts p f s
	shift 4
	rm -rf "$dir"
	mkdir -p "$dir"
	say "\$ CC=$cc meson setup $dir $*"
	if ! CC=$cc meson setup "$dir" "$@" >"$dir/ci-setup.log" 2>&1; then
		show_tail "$dir/ci-setup.log"
		fail "$name: meson setup failed (log: $dir/ci-setup.log)"
		return
	fi
	say "\$ ninja -C $dir"
	if ! ninja -C "$dir" >"$dir/ci-build.log" 2>&1; then
		show_build_failure "$dir/ci-build.log"
		fail "$name: build failed (log: $dir/ci-build.log)"
		return
	fi
	say "\$ meson test -C $dir --print-errorlogs"
	meson test -C "$dir" --no-rebuild --print-errorlogs \
	    --timeout-multiplier "$mult" >"$dir/ci-test.log" 2>&1
	rc=$?
	if [ ! -s "$dir/meson-logs/testlog.json" ]; then
		show_tail "$dir/ci-test.log"
		fail "$name: meson test did not run (exit $rc)"
		return
	fi
	if ! counts=$(count_meson_tests "$dir/meson-logs/testlog.json"); then
		fail "$name: could not read $dir/meson-logs/testlog.json"
		return
	fi
	printf '%s\n' "$counts" | sed '$d'
	read -r p f s <<<"$(printf '%s\n' "$counts" | tail -n 1)"
	PASSED=$((PASSED + p))
	FAILED=$((FAILED + f))
	SKIPPED=$((SKIPPED + s))
	if [ "$f" -ne 0 ]; then
		show_tail "$dir/ci-test.log" 80
	elif [ "$rc" -ne 0 ]; then
		show_tail "$dir/ci-test.log"
		fail "$name: meson test exited $rc with no failed test"
	fi
	[ "$p" -ne 0 ] || say "note: no TAP check passed in $dir"
}

# The table of pkg-config modules in quickstart (`./quickstart modules`:
# module, Debian package, and "meson" or the module that requires it) is
# the one list of libraries.  A fresh Debian 12 failed once because
# libunbound.pc requires nettle and hogweed, which no package on the list
# shipped: so every module must resolve with pkg-config on its own, every
# module a .pc file requires must be in the table, and meson.build must
# ask for no module the table lacks (and the table keep none it dropped).
stage_deps()
{
	local table mod pkg why req f names
	stage_begin deps "pkg-config modules of quickstart's table"
	if ! command -v pkg-config >/dev/null 2>&1; then
		fail "deps: pkg-config is not installed"
		stage_end
		return
	fi
	if ! table=$(sh ./quickstart modules) || [ -z "$table" ]; then
		fail "deps: ./quickstart modules printed no table"
		stage_end
		return
	fi
	while read -r mod pkg why; do
		if pkg-config --exists --print-errors "$mod" 2>"$ROOT/.deps.log"; then
			pass
		else
			fail "deps: pkg-config module $mod (package $pkg) does not resolve"
			sed 's/^/| /' "$ROOT/.deps.log"
			continue
		fi
		# What its .pc file requires must be in the table as well.
		for req in $(pkg-config --print-requires --print-requires-private \
		    "$mod" 2>/dev/null | awk '{ print $1 }' | sort -u); do
			if printf '%s\n' "$table" | awk -v m="$req" \
			    '$1 == m { f = 1 } END { exit !f }'; then
				pass
			else
				fail "deps: $mod requires $req, missing from quickstart's MODULES"
			fi
		done
	done <<<"$table"
	rm -f "$ROOT/.deps.log"
	# dependency('name' ...) of every meson.build against the table.
	names=$(find . \( -path './build*' -o -path ./.git \) -prune -o \
	    -name meson.build -type f -print0 | xargs -0 sed -n \
	    "s/.*dependency( *'\([^']*\)'.*/\1/p" | sort -u)
	for mod in $names; do
		if printf '%s\n' "$table" | awk -v m="$mod" \
		    '$1 == m && $3 == "meson" { f = 1 } END { exit !f }'; then
			pass
		else
			fail "deps: meson.build asks for $mod, not in quickstart's MODULES as meson"
		fi
	done
	while read -r mod pkg why; do
		[ "$why" = meson ] || continue
		f=0
		for req in $names; do
			[ "$req" != "$mod" ] || f=1
		done
		if [ "$f" -eq 1 ]; then
			pass
		else
			fail "deps: quickstart's MODULES has $mod for meson, which no meson.build asks for"
		fi
	done <<<"$table"
	stage_end
}

stage_plain()
{
	stage_begin plain "gcc, -Dwerror=true, meson test"
	meson_stage plain "${PREFIX}ci" gcc 1 \
	    -Dwerror=true --buildtype=debugoptimized
	stage_end
}

stage_asan()
{
	stage_begin asan "clang, ASan+UBSan, meson test"
	say "ASAN_OPTIONS=$ASAN_OPTIONS UBSAN_OPTIONS=$UBSAN_OPTIONS"
	meson_stage asan "${PREFIX}asan" clang 3 \
	    -Dwerror=true --buildtype=debugoptimized \
	    -Db_sanitize=address,undefined -Db_lundef=false
	stage_end
}

# The C sources to check: tracked (and new, not ignored) files of a git
# checkout, else every *.c and *.h outside the build and .git dirs.
list_c_sources()
{
	local files
	if [ -e .git ] && command -v git >/dev/null 2>&1 &&
	    files=$(git -c safe.directory="$ROOT" ls-files --cached \
	    --others --exclude-standard -- '*.c' '*.h' 2>/dev/null); then
		printf '%s\n' "$files" | sort -u | while IFS= read -r f; do
			[ -f "$f" ] && printf '%s\n' "$f"
		done
		return
	fi
	find . \( -path './build*' -o -path ./.git \) -prune -o \
	    -type f \( -name '*.c' -o -name '*.h' \) -print |
	    sed 's|^\./||' | sort
}

# The static analysis of STYLE.md rule 19: clang-tidy with the checks of
# .clang-tidy (the clang static analyzer and bugprone), on a compilation
# database of its own (clang, configured only), two files at a time.
# Any finding fails its file.
stage_tidy()
{
	local dir=${PREFIX}tidy tidy="" f n=0 out
	stage_begin tidy "clang-tidy, .clang-tidy's checks, every C file of src/"
	for f in clang-tidy-14 clang-tidy; do
		if command -v "$f" >/dev/null 2>&1; then
			tidy=$f
			break
		fi
	done
	if [ -z "$tidy" ]; then
		fail "tidy: clang-tidy is not installed"
		stage_end
		return
	fi
	rm -rf "$dir"
	mkdir -p "$dir/out"
	if ! CC=clang meson setup "$dir" --buildtype=debugoptimized \
	    >"$dir/ci-setup.log" 2>&1; then
		show_tail "$dir/ci-setup.log"
		fail "tidy: meson setup failed (log: $dir/ci-setup.log)"
		stage_end
		return
	fi
	# One process per file, two at once; each writes its own log.
	python3 -c 'import json, sys
for e in json.load(open(sys.argv[1])):
    f = e["file"]
    if f.startswith("../"): f = f[3:]
    if f.startswith("src/") and f.endswith(".c"): print(f)' \
	    "$dir/compile_commands.json" | sort -u >"$dir/files"
	xargs -P 2 -I{} sh -c '"$1" -p "$2" --quiet "$3" \
	    >"$2/out/$(echo "$3" | tr / _).log" 2>&1; echo $? \
	    >"$2/out/$(echo "$3" | tr / _).rc"' _ "$tidy" "$dir" {} \
	    <"$dir/files"
	while IFS= read -r f; do
		n=$((n + 1))
		out=$dir/out/$(echo "$f" | tr / _)
		if [ "$(cat "$out.rc" 2>/dev/null)" = 0 ] &&
		    ! grep -q ': warning: \|: error: ' "$out.log"; then
			pass
		else
			fail "tidy: $f"
			grep -E ': (warning|error): ' "$out.log" | head -n 20 |
			    sed 's/^/| /'
		fi
	done <"$dir/files"
	say "$n files checked"
	[ "$n" -ne 0 ] || fail "tidy: no C files of src/ in $dir/compile_commands.json"
	stage_end
}

stage_format()
{
	local f n=0 log
	stage_begin format "clang-format --dry-run -Werror"
	if ! command -v clang-format >/dev/null 2>&1; then
		fail "format: clang-format is not installed"
		stage_end
		return
	fi
	case $(clang-format --version) in
	*" version 14."*) ;;
	*) say "warning: the style is set for clang-format 14; this is:" \
	    "$(clang-format --version)" ;;
	esac
	log=$(mktemp)
	while IFS= read -r f; do
		n=$((n + 1))
		if clang-format --dry-run -Werror "$f" >"$log" 2>&1; then
			pass
		else
			fail "format: $f (fix: clang-format -i $f)"
			head -n 9 "$log" | sed 's/^/| /'
		fi
	done < <(list_c_sources)
	rm -f "$log"
	say "$n files checked"
	[ "$n" -ne 0 ] || fail "format: no C sources found"
	stage_end
}

stage_man()
{
	local page n=0 out ref
	stage_begin man "mandoc -Tlint (fails on warnings and above)"
	if ! command -v mandoc >/dev/null 2>&1; then
		fail "man: mandoc is not installed"
		stage_end
		return
	fi
	for page in man/*.[1-9]; do
		[ -f "$page" ] || continue
		n=$((n + 1))
		if out=$(mandoc -Tlint -W warning "$page" 2>&1); then
			pass
			say "  $page: ok"
		else
			fail "man: $page"
			printf '%s\n' "$out" | sed 's/^/| /'
		fi
		# Style messages are shown but do not fail the page; a
		# reference to one of our own pages, not installed yet, is
		# not worth one.
		mandoc -Tlint -W style "$page" 2>&1 | grep ': STYLE: ' |
		    while IFS= read -r out; do
			case $out in
			*"referenced manual not found: Xr "*)
				ref=${out##*: Xr }
				ref=${ref% (*}
				[ ! -f "man/${ref% *}.${ref#* }" ] || continue
				;;
			esac
			say "  (style) $out"
		    done
	done
	say "$n pages checked"
	stage_end
}

# count_tap LOG: counts a TAP script's output like meson's tests are
# counted; a log without a plan line is one failure more.
count_tap()
{
	local log=$1 line p=0 f=0 s=0
	while IFS= read -r line; do
		case $line in
		"not ok"*) f=$((f + 1)); say "  $line" ;;
		"ok"*"# SKIP"*) s=$((s + 1)) ;;
		"ok"*) p=$((p + 1)) ;;
		esac
	done <"$log"
	PASSED=$((PASSED + p))
	FAILED=$((FAILED + f))
	SKIPPED=$((SKIPPED + s))
	say "  $log: $p ok, $f not ok, $s skipped"
	if ! grep -q '^1\.\.[0-9]' "$log"; then
		show_tail "$log"
		fail "deb: $log has no TAP plan: the script stopped early"
	fi
}

# The Debian packages (debian/, scripts/build-deb.sh, issue 14).  Two
# builds of the same tree with the same SOURCE_DATE_EPOCH (debian/
# changelog's, which dpkg-buildpackage exports), the second in another
# directory, time zone, locale and umask, must give the same bytes;
# lintian must report no error and no warning; the units, sysusers.d and
# tmpfiles.d files `make install` installs must be the package's but for
# the program's directory; and the packages must install, remove and
# purge cleanly (tests/deb/install.sh).
stage_deb()
{
	local dir=${PREFIX}deb tool f b sum1 sum2 u mi pkg n=0
	stage_begin deb "Debian packages: two builds, lintian, units, install"
	for tool in dpkg-buildpackage dh lintian; do
		if ! command -v "$tool" >/dev/null 2>&1; then
			fail "deb: $tool is not installed (./quickstart test installs it)"
			stage_end
			return
		fi
	done
	rm -rf "$dir"
	mkdir -p "$dir"
	dir=$ROOT/$dir
	say "\$ scripts/build-deb.sh $dir/dist-a"
	if ! WORKDIR=$dir/work-a sh scripts/build-deb.sh "$dir/dist-a" \
	    >"$dir/build-a.log" 2>&1; then
		show_build_failure "$dir/build-a.log"
		fail "deb: the package build failed (log: $dir/build-a.log)"
		stage_end
		return
	fi
	pass
	say "\$ (umask 002; TZ=Pacific/Chatham LC_ALL=C.UTF-8 scripts/build-deb.sh ...)"
	if ! (umask 0002 && TZ=Pacific/Chatham LC_ALL=C.UTF-8 \
	    WORKDIR=$dir/elsewhere/w/work-b sh scripts/build-deb.sh \
	    "$dir/dist-b") >"$dir/build-b.log" 2>&1; then
		show_build_failure "$dir/build-b.log"
		fail "deb: the second package build failed (log: $dir/build-b.log)"
		stage_end
		return
	fi
	for f in "$dir"/dist-a/*.deb; do
		b=${f##*/}
		n=$((n + 1))
		sum1=$(sha256sum <"$f")
		sum2=$(sha256sum <"$dir/dist-b/$b" 2>/dev/null)
		if [ "$sum1" = "$sum2" ]; then
			pass
			say "  $b: the same in both builds (sha256 ${sum1%% *})"
		else
			fail "deb: $b differs between two builds of one tree" \
			    "(compare $f and $dir/dist-b/$b with diffoscope)"
		fi
	done
	[ "$n" -ge 3 ] || fail "deb: $n packages built, 3 expected and their -dbgsym"

	# lintian: every tag shown; an error or a warning fails.
	say "\$ lintian --fail-on error,warning --display-info --pedantic $dir/dist-a/*.changes"
	if lintian --fail-on error,warning --display-info --pedantic \
	    "$dir"/dist-a/*.changes >"$dir/lintian.log" 2>&1; then
		pass
	else
		fail "deb: lintian reports errors or warnings"
	fi
	grep -v '^running with root privileges' "$dir/lintian.log" | sed 's/^/| /'

	# make install's units (meson install, tag systemd) against the
	# package's, with /usr/local/bin for /usr/bin.
	mi=$dir/make-install
	pkg=$dir/deb-root
	if ! meson setup "$mi" --prefix /usr/local -Dtests=false \
	    >"$dir/mi-setup.log" 2>&1 ||
	    ! meson install -C "$mi" --no-rebuild --tags systemd \
	    --destdir "$mi/root" >"$dir/mi-install.log" 2>&1; then
		show_tail "$dir/mi-install.log"
		fail "deb: meson install --tags systemd failed (logs in $dir)"
	else
		dpkg-deb -x "$dir"/dist-a/mtasts_*.deb "$pkg"
		for u in systemd/system/mtasts-serve.service \
		    systemd/system/mtasts-policyd.service \
		    systemd/system/mtasts-report-imap.service \
		    systemd/system/mtasts-report-imap.timer \
		    sysusers.d/mtasts.conf tmpfiles.d/mtasts.conf; do
			case $u in
			systemd/*) b=$pkg/lib/$u ;;
			*) b=$pkg/usr/lib/$u ;;
			esac
			if [ -f "$mi/root/usr/local/lib/$u" ] && [ -f "$b" ] &&
			    sed 's#/usr/local/bin/#/usr/bin/#g' \
			    "$mi/root/usr/local/lib/$u" | cmp -s - "$b"; then
				pass
				say "  $u: make install's is the package's"
			else
				fail "deb: make install's $u is not the package's" \
				    "(compare $mi/root/usr/local/lib/$u and $b)"
			fi
		done
	fi

	say "\$ tests/deb/install.sh $dir/dist-a"
	bash tests/deb/install.sh "$dir/dist-a" >"$dir/install.log" 2>&1
	count_tap "$dir/install.log"
	stage_end
}

# Whether clang can link a libFuzzer target (libclang-rt-14-dev).
have_libfuzzer()
{
	local tmp rc
	tmp=$(mktemp -d) || return 1
	printf '%s\n' '#include <stddef.h>' '#include <stdint.h>' \
	    'int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n);' \
	    'int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n)' \
	    '{ (void)d; (void)n; return 0; }' >"$tmp/probe.c"
	clang -fsanitize=fuzzer,address "$tmp/probe.c" -o "$tmp/probe" \
	    >"$tmp/log" 2>&1
	rc=$?
	[ "$rc" -eq 0 ] || sed 's/^/| /' "$tmp/log" | tail -n 5
	rm -rf "$tmp"
	return "$rc"
}

# start_fuzz_target DIR EXE: one target on a scratch copy of its corpus,
# in the background; its exit status goes to DIR/fuzz_NAME.rc, judged by
# judge_fuzz_target once every target has run.
start_fuzz_target()
{
	local dir=$1 exe=$2 name corpus dict log nfiles
	local -a args
	name=${exe##*/fuzz_}
	corpus=$dir/corpus-run/$name
	log=$dir/fuzz_$name.log
	rm -rf "$corpus" "$dir/fuzz_$name.rc"
	mkdir -p "$corpus" "$dir/artifacts/$name"
	if [ -d "fuzz/corpus/$name" ]; then
		cp -R "fuzz/corpus/$name/." "$corpus/"
	fi
	nfiles=$(find "$corpus" -type f | wc -l)
	args=(-max_total_time="$FUZZ_TIME" -rss_limit_mb=2048 -timeout=10
	    -print_final_stats=1 -artifact_prefix="$dir/artifacts/$name/")
	dict=fuzz/$name.dict
	[ -f "$dict" ] && args+=(-dict="$dict")
	say "\$ $exe ${args[*]} $corpus   ($nfiles seed files)"
	(
		timeout -k 10 $((FUZZ_TIME + 120)) "$exe" "${args[@]}" \
		    "$corpus" </dev/null >"$log" 2>&1
		echo $? >"$dir/fuzz_$name.rc"
	) &
}

# judge_fuzz_target DIR EXE: counts what start_fuzz_target's run did.
judge_fuzz_target()
{
	local dir=$1 exe=$2 name log rc runs
	name=${exe##*/fuzz_}
	log=$dir/fuzz_$name.log
	rc=$(cat "$dir/fuzz_$name.rc" 2>/dev/null || echo 125)
	runs=$(sed -n 's/.*Done \([0-9][0-9]*\) runs.*/\1/p' "$log" | tail -n 1)
	[ -n "$runs" ] || [ "$rc" -eq 0 ] || runs=$(sed -n \
	    's/^stat::number_of_executed_units: *\([0-9]*\).*/\1/p' "$log")
	if [ "$rc" -eq 0 ] && [ -n "$runs" ]; then
		pass
		say "  fuzz_$name: ok, $runs executions in ${FUZZ_TIME}s," \
		    "corpus $(find "$dir/corpus-run/$name" -type f | wc -l) files"
	else
		show_tail "$log" 60
		fail "fuzz: fuzz_$name exited $rc after ${runs:-?} executions" \
		    "(log: $log, inputs: $dir/artifacts/$name/)"
	fi
}

stage_fuzz()
{
	local dir=${PREFIX}fuzz exe n=0
	local -a targets
	stage_begin fuzz "libFuzzer targets, ${FUZZ_TIME}s each, $FUZZ_JOBS at a time"
	if ! command -v clang >/dev/null 2>&1; then
		fail "fuzz: SKIPPED, counted as failed: clang is not installed"
		stage_end
		return
	fi
	if ! have_libfuzzer; then
		fail "fuzz: SKIPPED, counted as failed: clang's libFuzzer" \
		    "runtime is missing (Debian: apt-get install libclang-rt-14-dev)"
		stage_end
		return
	fi
	rm -rf "$dir"
	mkdir -p "$dir"
	say "\$ CC=clang meson setup $dir -Dfuzz=true -Dtests=false -Db_sanitize=address,undefined ..."
	# -Dtests=false: the fuzz targets alone, not the tests as well.
	if ! CC=clang meson setup "$dir" -Dfuzz=true -Dtests=false -Dwerror=true \
	    --buildtype=debugoptimized -Db_sanitize=address,undefined \
	    -Db_lundef=false >"$dir/ci-setup.log" 2>&1; then
		show_tail "$dir/ci-setup.log"
		fail "fuzz: meson setup failed (log: $dir/ci-setup.log)"
		stage_end
		return
	fi
	if ! ninja -C "$dir" >"$dir/ci-build.log" 2>&1; then
		show_build_failure "$dir/ci-build.log"
		fail "fuzz: build failed (log: $dir/ci-build.log)"
		stage_end
		return
	fi
	# FUZZ_JOBS targets at a time (default: one per core), each on one
	# core for FUZZ_TIME seconds: the stage takes 1/FUZZ_JOBS of the
	# time, and each target gets what it got alone.
	mapfile -t targets < <(find "$dir" -maxdepth 2 -type f -name 'fuzz_*' \
	    ! -name '*.*' -perm -u+x | sort)
	for exe in "${targets[@]}"; do
		while [ "$(jobs -pr | wc -l)" -ge "$FUZZ_JOBS" ]; do
			wait -n 2>/dev/null || true
		done
		start_fuzz_target "$dir" "$exe"
	done
	wait
	for exe in "${targets[@]}"; do
		n=$((n + 1))
		judge_fuzz_target "$dir" "$exe"
	done
	[ "$n" -ne 0 ] || fail "fuzz: no fuzz targets (fuzz_*) were built in $dir"
	stage_end
}

usage()
{
	say "usage: tests/run-all.sh [stage ...]   stages: $ALL_STAGES" >&2
	exit 2
}

stages=("$@")
[ ${#stages[@]} -ne 0 ] || read -r -a stages <<<"$ALL_STAGES"
for st in "${stages[@]}"; do
	case " $ALL_STAGES " in
	*" $st "*) ;;
	*) usage ;;
	esac
done

say "mtasts checks: ${stages[*]}  (in $ROOT)"
for tool in meson ninja python3; do
	if ! command -v $tool >/dev/null 2>&1; then
		say "$tool is missing: run ./quickstart test (it installs what is missing)"
		FAILED=$((FAILED + 1))
	fi
done
if [ "$FAILED" -eq 0 ]; then
	for st in "${stages[@]}"; do
		"stage_$st"
	done
fi

say ""
say "==== summary ($((SECONDS - T0)) s)"
for line in "${SUMMARY[@]}"; do
	say "  $line"
done
[ "$SKIPPED" -eq 0 ] || say "  ($SKIPPED skipped or TODO checks are not counted below)"
printf '%d passed, %d failed\n' "$PASSED" "$FAILED"
[ "$FAILED" -eq 0 ]
