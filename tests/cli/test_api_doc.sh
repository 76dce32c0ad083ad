#!/bin/sh
# SPDX-License-Identifier: ISC
#
# Every function the library exports (declared MTS_API in
# include/mtasts/*.h) has its prototype in the SYNOPSIS of
# man/libmtasts.3, a .Fn or .Fo line (STYLE.md rule 22), so that a new
# function cannot be left out of the manual.  One TAP line per function.
# Usage: test_api_doc.sh [SRCDIR]  (default: two levels above this file)
set -u

SRC=${1:-$(cd "$(dirname "$0")/../.." && pwd)}
MAN=$SRC/man/libmtasts.3
T=$(mktemp -d "${TMPDIR:-/tmp}/mtasts-apidoc.XXXXXX")
trap 'rm -rf "$T"' EXIT INT TERM
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

# The name of each MTS_API declaration: the last identifier before its
# first "(", the declaration read across lines.  Function-like macros
# are not declarations; none carries MTS_API.
for h in "$SRC"/include/mtasts/*.h; do
	awk -v file="${h##*/}" '
		/^[ \t]*#/ { next }
		!in_decl && /(^|[^A-Za-z0-9_])MTS_API[ \t]/ {
			in_decl = 1
			text = ""
		}
		in_decl {
			text = text " " $0
			if (index(text, "(") > 0) {
				text = substr(text, 1, index(text, "(") - 1)
				sub(/[ \t]+$/, "", text)
				if (match(text, /[A-Za-z_][A-Za-z0-9_]*$/))
					print file, substr(text, RSTART, RLENGTH)
				in_decl = 0
			}
		}
	' "$h"
done >"$T/api"

if [ ! -s "$T/api" ]; then
	echo "Bail out! no MTS_API declaration found under $SRC/include/mtasts"
	exit 1
fi

# The SYNOPSIS section alone.
awk '/^\.Sh /{ s = ($2 == "SYNOPSIS") } s' "$MAN" >"$T/synopsis"

while read -r file fn; do
	grep -Eq "^\.(Fn|Fo) $fn( |\$)" "$T/synopsis"
	ok $? "$fn ($file) has its prototype in libmtasts(3)"
done <"$T/api"

echo "1..$n"
[ "$failed" -eq 0 ]
