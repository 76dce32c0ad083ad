#!/bin/sh
# SPDX-License-Identifier: ISC
#
# The finding codes of `mtasts check` belong to the program, not to
# libmtasts (issue 9): the shared library holds no string that begins
# with "check-" (its strings read as NUL-separated text; a code is one
# string), while `mtasts lint --list-codes` still lists them beside the
# library's own, as mtasts(1) says ("every finding code").
# Usage: test_lib_codes.sh LIBMTASTS_SO MTASTS
set -u

LIB=$1
MTASTS=$2
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

if [ ! -r "$LIB" ]; then
	echo "Bail out! no library at $LIB"
	exit 1
fi

found=$(tr '\000\n' '\n\n' <"$LIB" | LC_ALL=C grep -a '^check-' |
	sort -u | head -n 5)
[ -z "$found" ]
rc=$?
[ $rc -eq 0 ] || echo "$found" | sed "s|^|# in $LIB: |"
ok $rc "libmtasts holds no check- string"

codes=$("$MTASTS" lint --list-codes | awk '{ print $1 }')
echo "$codes" | grep -qx 'check-internal' &&
	echo "$codes" | grep -qx 'policy-mx-invalid' &&
	[ -z "$(echo "$codes" | sort | uniq -d)" ]
ok $? "lint --list-codes lists the codes of check and lint, each once"

echo "1..$n"
[ "$failed" -eq 0 ]
