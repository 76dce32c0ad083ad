#!/bin/sh
# SPDX-License-Identifier: ISC
#
# The acme process of `mtasts serve` against Debian's pebble: see
# acme_client.py beside this file.  Prints TAP; skips (1..0) without
# pebble, python3 or openssl.
#
#   acme_client.sh MTASTS
for tool in pebble python3 openssl; do
	if ! command -v "$tool" >/dev/null 2>&1; then
		echo "1..0 # SKIP $tool not installed"
		exit 0
	fi
done
exec python3 "$(dirname "$0")/acme_client.py" "${1:?usage: acme_client.sh MTASTS}"
