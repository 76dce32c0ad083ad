# SPDX-License-Identifier: ISC
# A throwaway PostgreSQL for the tests, sourced by their scripts:
#
#   . tests/e2e/pg.sh
#   pg_start DIR || exit      # a new cluster in DIR; exports PG_URL
#   ... MTS_STORE_URL=$PG_URL some_test ...
#   pg_stop                   # stops it and removes DIR
#
# The cluster is our own (initdb into DIR), never the one the Debian
# package may have made: it listens on 127.0.0.1 on a free port and on a
# unix socket in DIR, trusts its local connections, and has one
# database, "mtasts", owned by its superuser "mtasts".  It works where
# the package "postgresql" is installed but its service was never
# started (quickstart installs with a policy-rc.d that keeps services
# from starting).  PostgreSQL refuses to run as root: under root the
# server runs as the package's user "postgres" (PG_USER to change it).
#
# Exports: PG_URL (postgresql://mtasts@127.0.0.1:PORT/mtasts),
# PG_SOCKET_URL (the same through the unix socket), PG_PORT, PG_DIR,
# PG_BINDIR.  PG_BINDIR may be set beforehand; by default it is the
# newest /usr/lib/postgresql/*/bin.  pg_start prints the URL.

# Runs a PostgreSQL program as the cluster's owner.
pg__as() {
	if [ "$(id -u)" -eq 0 ]; then
		(cd "$PG_DIR" && runuser -u "${PG_USER:-postgres}" -- "$@")
	else
		(cd "$PG_DIR" && "$@")
	fi
}

# Whether a TCP port of 127.0.0.1 answers (bash's /dev/tcp).
pg__port_busy() {
	(exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

pg_start() {
	PG_DIR=${1:?pg_start DIR}
	if [ -z "${PG_BINDIR:-}" ]; then
		PG_BINDIR=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null |
			sort -V | tail -n 1)
	fi
	if [ -z "$PG_BINDIR" ] || [ ! -x "$PG_BINDIR/initdb" ]; then
		echo "pg_start: no PostgreSQL server (package postgresql)" >&2
		return 2
	fi
	mkdir -p "$PG_DIR" || return 1
	# The server's user must reach DIR: traverse, not list.
	chmod 0711 "$PG_DIR"
	mkdir -p "$PG_DIR/sock"
	if [ "$(id -u)" -eq 0 ]; then
		if ! id "${PG_USER:-postgres}" >/dev/null 2>&1; then
			echo "pg_start: no user ${PG_USER:-postgres} to run as" >&2
			return 2
		fi
		chown "${PG_USER:-postgres}" "$PG_DIR/sock"
		mkdir -p "$PG_DIR/data"
		chown "${PG_USER:-postgres}" "$PG_DIR/data"
	fi
	if ! pg__as "$PG_BINDIR/initdb" -D "$PG_DIR/data" -U mtasts \
		-A trust -E UTF8 --locale=C.UTF-8 --no-sync \
		>"$PG_DIR/initdb.log" 2>&1; then
		echo "pg_start: initdb failed:" >&2
		tail -n 20 "$PG_DIR/initdb.log" >&2
		return 1
	fi
	touch "$PG_DIR/server.log"
	[ "$(id -u)" -eq 0 ] && chown "${PG_USER:-postgres}" "$PG_DIR/server.log"
	# A free port: try a few at random; the server's own bind decides.
	local try
	for try in 1 2 3 4 5 6 7 8; do
		PG_PORT=$((20000 + (RANDOM * 7 + $$ + try) % 40000))
		pg__port_busy "$PG_PORT" && continue
		if pg__as "$PG_BINDIR/pg_ctl" -D "$PG_DIR/data" -w -t 60 \
			-l "$PG_DIR/server.log" \
			-o "-p $PG_PORT -k $PG_DIR/sock -c listen_addresses=127.0.0.1 ${PG_OPTIONS:-}" \
			start >"$PG_DIR/pg_ctl.log" 2>&1; then
			break
		fi
		PG_PORT=
	done
	if [ -z "$PG_PORT" ]; then
		echo "pg_start: the server did not start:" >&2
		tail -n 20 "$PG_DIR/server.log" >&2
		return 1
	fi
	if ! "$PG_BINDIR/createdb" -h 127.0.0.1 -p "$PG_PORT" -U mtasts \
		mtasts >"$PG_DIR/createdb.log" 2>&1; then
		echo "pg_start: createdb failed:" >&2
		cat "$PG_DIR/createdb.log" >&2
		pg_stop
		return 1
	fi
	PG_URL="postgresql://mtasts@127.0.0.1:$PG_PORT/mtasts"
	PG_SOCKET_URL="postgresql://mtasts@$(printf %s "$PG_DIR/sock" |
		sed 's|/|%2F|g'):$PG_PORT/mtasts"
	export PG_URL PG_SOCKET_URL PG_PORT PG_DIR PG_BINDIR
	echo "$PG_URL"
}

# Stops the server (if it still runs) and removes its directory.
pg_stop() {
	[ -n "${PG_DIR:-}" ] || return 0
	if [ -f "$PG_DIR/data/postmaster.pid" ]; then
		pg__as "$PG_BINDIR/pg_ctl" -D "$PG_DIR/data" -m immediate \
			-w -t 30 stop >/dev/null 2>&1
	fi
	rm -rf "$PG_DIR"
	PG_DIR=
}
