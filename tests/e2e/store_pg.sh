#!/bin/bash
# SPDX-License-Identifier: ISC
# Runs the report store's test (tests/unit/test_report_store.c) against a
# PostgreSQL started here for it (tests/e2e/pg.sh), then stops it.
#   store_pg.sh TEST_BINARY
# Without PostgreSQL's server programs: "1..0 # SKIP".
set -u
here=$(cd "$(dirname "$0")" && pwd)
. "$here/pg.sh"

test_bin=${1:?usage: store_pg.sh TEST_BINARY}
dir=$(mktemp -d /tmp/mts-pg.XXXXXX) || exit 1
trap 'pg_stop' EXIT
pg_start "$dir" >/dev/null
rc=$?
if [ $rc -eq 2 ]; then
	echo "1..0 # SKIP no PostgreSQL server to start"
	exit 0
elif [ $rc -ne 0 ]; then
	echo "Bail out! PostgreSQL did not start"
	exit 1
fi
echo "# PostgreSQL at $PG_URL"
MTS_STORE_URL=$PG_URL "$test_bin"
