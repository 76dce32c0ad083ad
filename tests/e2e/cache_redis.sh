#!/bin/bash
# SPDX-License-Identifier: ISC
# Runs the policy cache's test (tests/unit/test_policyd_cache.c) against
# a Redis started here for it (tests/e2e/redis.sh), then kills it.
#   cache_redis.sh tcp|unix TEST_BINARY
# tcp: redis://127.0.0.1:PORT.  unix: redis+unix:SOCKET with a
# password (requirepass), given to the test as MTASTS_REDIS_PASSWORD.
# The test kills, stops (SIGSTOP) and restarts the server itself
# through MTS_REDIS_PIDFILE and MTS_REDIS_CONF.
# Without redis-server: "1..0 # SKIP".
set -u
here=$(cd "$(dirname "$0")" && pwd)
. "$here/redis.sh"

mode=${1:?usage: cache_redis.sh tcp|unix TEST_BINARY}
test_bin=${2:?usage: cache_redis.sh tcp|unix TEST_BINARY}
dir=$(mktemp -d /tmp/mts-redis.XXXXXX) || exit 1
REDIS_DIR=$dir
trap 'redis_stop' EXIT
if [ "$mode" = unix ]; then
	REDIS_PASSWORD=$(od -An -N12 -tx1 /dev/urandom | tr -d ' \n')
fi
redis_start "$dir" >/dev/null
rc=$?
if [ $rc -eq 2 ]; then
	echo "1..0 # SKIP no Redis server to start (package redis-server)"
	exit 0
elif [ $rc -ne 0 ]; then
	echo "Bail out! Redis did not start"
	exit 1
fi
case $mode in
tcp) url=$REDIS_URL ;;
unix) url=$REDIS_UNIX_URL ;;
*) echo "Bail out! mode $mode: tcp or unix"; exit 1 ;;
esac
echo "# Redis at $url"
MTS_CACHE_URL=$url MTS_REDIS_CONF=$REDIS_CONF \
	MTS_REDIS_PIDFILE=$REDIS_PIDFILE \
	MTASTS_REDIS_PASSWORD=${REDIS_PASSWORD:-} "$test_bin"
