# SPDX-License-Identifier: ISC
# A throwaway Redis for the tests, sourced by their scripts:
#
#   . tests/e2e/redis.sh
#   redis_start DIR || exit   # a new server in DIR; exports REDIS_URL
#   ... MTS_CACHE_URL=$REDIS_URL some_test ...
#   redis_stop                # kills it and removes DIR
#
# The server is our own (a configuration file in DIR), never the one
# the Debian package would run: it listens on 127.0.0.1 on a free port
# and on a unix socket in DIR, keeps nothing on disk (save "",
# appendonly no: the tests want a clean server each time, and its
# death loses what it held, as a real one without persistence would),
# and daemonizes with a pid file, so that a test may kill it
# (kill -9 $(cat $REDIS_PIDFILE)) and start it again
# (redis-server $REDIS_CONF) and redis_stop still finds it.  With
# REDIS_PASSWORD set beforehand it requires that password (requirepass).
#
# Exports: REDIS_URL (redis://127.0.0.1:PORT), REDIS_UNIX_URL
# (redis+unix:DIR/redis.sock), REDIS_PORT, REDIS_DIR, REDIS_CONF,
# REDIS_PIDFILE.  redis_start returns 2 when there is no redis-server
# (package redis-server), 1 when it did not start; it prints the URL.

# Whether a TCP port of 127.0.0.1 answers (bash's /dev/tcp).
redis__port_busy() {
	(exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

# Whether our server answers PING on its unix socket.
redis__ping() {
	REDISCLI_AUTH=${REDIS_PASSWORD:-} redis-cli -s "$REDIS_DIR/redis.sock" \
		ping 2>/dev/null | grep -qx PONG
}

# The pid in the pid file, if that process is our redis-server.
redis__pid() {
	local pid
	[ -f "$REDIS_PIDFILE" ] || return 1
	pid=$(cat "$REDIS_PIDFILE" 2>/dev/null) || return 1
	case $pid in '' | *[!0-9]*) return 1 ;; esac
	tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null |
		grep -q "redis-server" || return 1
	echo "$pid"
}

redis_start() {
	REDIS_DIR=${1:?redis_start DIR}
	if ! command -v redis-server >/dev/null 2>&1 ||
		! command -v redis-cli >/dev/null 2>&1; then
		echo "redis_start: no Redis server (package redis-server)" >&2
		return 2
	fi
	mkdir -p "$REDIS_DIR" || return 1
	REDIS_CONF=$REDIS_DIR/redis.conf
	REDIS_PIDFILE=$REDIS_DIR/redis.pid
	local try i
	for try in 1 2 3 4 5 6 7 8; do
		REDIS_PORT=$((20000 + (RANDOM * 7 + $$ + try) % 40000))
		redis__port_busy "$REDIS_PORT" && continue
		{
			echo "bind 127.0.0.1"
			echo "port $REDIS_PORT"
			echo "unixsocket $REDIS_DIR/redis.sock"
			echo "unixsocketperm 700"
			echo "dir $REDIS_DIR"
			echo "save \"\""
			echo "appendonly no"
			echo "daemonize yes"
			echo "pidfile $REDIS_PIDFILE"
			echo "logfile $REDIS_DIR/redis.log"
			echo "databases 16"
			if [ -n "${REDIS_PASSWORD:-}" ]; then
				echo "requirepass $REDIS_PASSWORD"
			fi
		} >"$REDIS_CONF"
		chmod 600 "$REDIS_CONF"
		redis-server "$REDIS_CONF" >"$REDIS_DIR/start.log" 2>&1 || continue
		# Up when it answers; gone when its bind failed (port taken).
		for i in $(seq 1 100); do
			redis__ping && break
			grep -q "Could not create server TCP" \
				"$REDIS_DIR/redis.log" 2>/dev/null && break
			sleep 0.05
		done
		redis__ping && break
		redis_stop_server
		REDIS_PORT=
	done
	if [ -z "$REDIS_PORT" ]; then
		echo "redis_start: the server did not start:" >&2
		tail -n 20 "$REDIS_DIR/redis.log" >&2
		return 1
	fi
	REDIS_URL="redis://127.0.0.1:$REDIS_PORT"
	REDIS_UNIX_URL="redis+unix:$REDIS_DIR/redis.sock"
	export REDIS_URL REDIS_UNIX_URL REDIS_PORT REDIS_DIR REDIS_CONF \
		REDIS_PIDFILE
	echo "$REDIS_URL"
}

# Kills the server (whichever instance the pid file names now).
redis_stop_server() {
	local pid i
	pid=$(redis__pid) || return 0
	# SIGKILL: nothing to save, and a test may have left it stopped.
	kill -KILL "$pid" 2>/dev/null
	for i in $(seq 1 100); do
		[ -d "/proc/$pid" ] || break
		grep -q '^State:.*Z' "/proc/$pid/status" 2>/dev/null && break
		sleep 0.05
	done
}

# Kills the server (if it still runs) and removes its directory.
redis_stop() {
	[ -n "${REDIS_DIR:-}" ] || return 0
	redis_stop_server
	rm -rf "$REDIS_DIR"
	REDIS_DIR=
}
