#!/bin/bash
# SPDX-License-Identifier: ISC
#
# Records the facts of every scenario of the world that states what it
# expects (tests/world/domains/*.domain with #expect lines) into this
# directory, one DOMAIN.json each, for tests/unit/test_check_judge.c to
# replay without root or network.  Run it as root (the world needs a
# network namespace) after adding or changing a scenario:
#
#   bash tests/data/check-facts/record.sh build/mtasts
#
# then commit the files it wrote.  The check runs with the options of
# tests/e2e/check.sh.
set -eu

MTASTS=$(realpath "${1:?usage: record.sh MTASTS}")
HERE=$(cd "$(dirname "$0")" && pwd)
TOP=$(cd "$HERE/../../.." && pwd)
WORLD=$TOP/tests/world/world.sh
export WORLD_NS=${WORLD_NS:-${MTS_WORLD_PREFIX:-mtsworld}-record} MTASTS

T=$(mktemp -d "${TMPDIR:-/tmp}/mtasts-record.XXXXXX")
trap 'bash "$WORLD" down >/dev/null 2>&1; rm -rf "$T"' EXIT INT TERM

for f in "$TOP"/tests/world/domains/*.domain; do
	grep -q '^#expect' "$f" && basename "$f" .domain
done >"$T/domains"
eval "$(bash "$WORLD" up)"
mkdir "$T/facts"
status=0
bash "$WORLD" exec "$MTASTS" check --json --concurrency 50 \
    --resolver "$WORLD_RESOLVER" --trust-anchor "$WORLD_TA" \
    --ca-file "$WORLD_CA" --timeout 5000 --record-facts "$T/facts" \
    -f "$T/domains" >"$T/out.json" || status=$?
if [ "$status" -gt 1 ]; then
	echo "record.sh: mtasts check failed (exit $status)" >&2
	exit 1
fi
rm -f "$HERE"/*.json
cp "$T"/facts/*.json "$HERE"/
echo "recorded $(ls "$T"/facts | wc -l) domains of $(wc -l <"$T/domains")"
