# shellcheck shell=bash disable=SC2034
# SPDX-License-Identifier: ISC
#
# A Dovecot of the test's own, on loopback, for the IMAP tests of
# `mtasts report` (tests/e2e/imap.sh).  Source this file, then:
#
#     dovecot_start DIR [EXTRA-CONFIG]   # make DIR's PKI, users, config; start
#     dovecot_put DIR FOLDER FILE...     # put messages in a maildir folder
#     dovecot_stop DIR                   # stop it (waits for its processes)
#
# Everything lives in DIR: the config (DIR/dovecot.conf), a test CA and a
# server certificate for 127.0.0.1 and localhost (DIR/ca.pem,
# DIR/server.pem), a passwd-file with one user, the maildirs, base_dir
# and state_dir, the log (DIR/dovecot.log) and a rawlog of every IMAP
# session after login (DIR/rawlog/*.in: the client's commands, never its
# password).  /etc/dovecot, /var/run/dovecot and /var/lib/dovecot are
# never read or written, so it runs on a Debian where dovecot-imapd is
# installed but its own instance never started, and beside other runs.
#
# dovecot_start sets, for the last instance started:
#     DOVECOT_PORT           imaps (TLS from the first octet); 0 for a
#                            plain-text server
#     DOVECOT_STARTTLS_PORT  imap with STARTTLS (ssl = required: no login
#                            before TLS); with EXTRA "ssl = no" it is a
#                            plain-text server offering no STARTTLS
#     DOVECOT_USER, DOVECOT_PASSWORD, DOVECOT_CA, DOVECOT_MAIL (the
#     user's maildir root: INBOX is DOVECOT_MAIL/{cur,new}, folder F is
#     DOVECOT_MAIL/.F/{cur,new})
# It needs root (Dovecot's master runs as root and the mail processes
# as nobody: DIR's parents must let nobody through), dovecot-imapd and
# openssl.  It returns non-zero, with the
# reason on stderr, when Dovecot does not come up.

DOVECOT_USER=reports
DOVECOT_PASSWORD='t3st pass"word'

# _dovecot_port_free PORT: nothing listens on 127.0.0.1:PORT.
_dovecot_port_free()
{
	[ -z "$(ss -Htln "sport = :$1" 2>/dev/null)" ]
}

# _dovecot_pki DIR: a test CA and a server certificate it signed for
# 127.0.0.1 and localhost.
_dovecot_pki()
{
	local d=$1
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
	    -keyout "$d/ca.key" -out "$d/ca.pem" -days 2 \
	    -subj "/CN=mtasts IMAP test CA" \
	    -addext "basicConstraints=critical,CA:TRUE" \
	    -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null &&
	    openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
		-keyout "$d/server.key" -out "$d/server.csr" \
		-subj "/CN=localhost" 2>/dev/null &&
	    printf '%s\n' "subjectAltName=IP:127.0.0.1,DNS:localhost" \
		"extendedKeyUsage=serverAuth" >"$d/server.ext" &&
	    openssl x509 -req -in "$d/server.csr" -CA "$d/ca.pem" \
		-CAkey "$d/ca.key" -CAcreateserial -days 2 \
		-extfile "$d/server.ext" -out "$d/server.pem" 2>/dev/null &&
	    chmod 600 "$d/ca.key" "$d/server.key"
}

# _dovecot_conf DIR IMAPS-PORT IMAP-PORT EXTRA: writes DIR/dovecot.conf.
_dovecot_conf()
{
	local d=$1
	cat >"$d/dovecot.conf" <<EOF
# A test instance: everything under $d.
instance_name = mtasts-test-$(basename "$d")
base_dir = $d/run
state_dir = $d/state
listen = 127.0.0.1
protocols = imap
log_path = $d/dovecot.log
info_log_path = $d/dovecot.log
auth_verbose = yes
auth_failure_delay = 0
ssl = required
ssl_cert = <$d/server.pem
ssl_key = <$d/server.key
ssl_min_protocol = TLSv1.2
auth_mechanisms = plain login
passdb {
  driver = passwd-file
  args = scheme=PLAIN username_format=%u $d/passwd
}
userdb {
  driver = static
  args = uid=nobody gid=nogroup home=$d/home/%u
}
mail_location = maildir:$d/mail/%u
namespace inbox {
  inbox = yes
  separator = /
}
protocol imap {
  rawlog_dir = $d/rawlog
}
service imap-login {
  inet_listener imap {
    address = 127.0.0.1
    port = $3
  }
  inet_listener imaps {
    address = 127.0.0.1
    port = $2
    ssl = yes
  }
}
service pop3-login {
  inet_listener pop3 {
    port = 0
  }
  inet_listener pop3s {
    port = 0
  }
}
service auth {
  user = root
}
# No auth penalty (a growing delay after failed logins from an address,
# which the wrong-password tests would bring on every later login).
service anvil {
  unix_listener anvil-auth-penalty {
    mode = 0
  }
}
$4
EOF
}

dovecot_start()
{
	local d=${1:?usage: dovecot_start DIR [EXTRA-CONFIG]} extra=${2:-}
	local p1 p2 i plain=0
	if ! command -v dovecot >/dev/null 2>&1; then
		echo "dovecot_start: dovecot is not installed" >&2
		return 1
	fi
	# A plain-text server has no imaps listener (Dovecot would not start
	# it without TLS): only the imap port is waited for.
	case $extra in *"ssl = no"*) plain=1 ;; esac
	mkdir -p "$d/run" "$d/state" "$d/home" "$d/mail/$DOVECOT_USER" \
	    "$d/rawlog" || return 1
	for i in cur new tmp; do
		mkdir -p "$d/mail/$DOVECOT_USER/$i" || return 1
	done
	# The mail processes run as nobody: they walk DIR and write the
	# maildir and the rawlog.
	chmod 755 "$d"
	chown -R nobody:nogroup "$d/mail" "$d/home" "$d/rawlog" || return 1
	if ! setpriv --reuid=nobody --regid=nogroup --clear-groups \
	    test -w "$d/mail/$DOVECOT_USER" 2>/dev/null; then
		echo "dovecot_start: nobody cannot reach $d/mail" \
		    "(a parent directory of mode 700?)" >&2
		return 1
	fi
	if [ ! -s "$d/server.pem" ] && ! _dovecot_pki "$d"; then
		echo "dovecot_start: openssl could not make the test PKI" >&2
		return 1
	fi
	printf '%s:{PLAIN}%s\n' "$DOVECOT_USER" "$DOVECOT_PASSWORD" \
	    >"$d/passwd"
	chmod 600 "$d/passwd"
	# Ports: random ones free now; another run may take one between the
	# check and the bind, so a failed start tries others.
	for _ in 1 2 3 4 5 6 7 8; do
		p1=$((20000 + (RANDOM * 32768 + RANDOM) % 40000))
		p2=$((p1 + 1))
		if ! _dovecot_port_free $p1 || ! _dovecot_port_free $p2; then
			continue
		fi
		[ $plain -eq 1 ] && p1=0
		_dovecot_conf "$d" $p1 $p2 "$extra"
		: >"$d/dovecot.log"
		if ! dovecot -c "$d/dovecot.conf" 2>"$d/start.err"; then
			grep -q "in use" "$d/start.err" "$d/dovecot.log" &&
			    continue
			cat "$d/start.err" "$d/dovecot.log" >&2
			return 1
		fi
		for i in $(seq 50); do
			if { [ $p1 -eq 0 ] || ! _dovecot_port_free $p1; } &&
			    ! _dovecot_port_free $p2; then
				DOVECOT_PORT=$p1
				DOVECOT_STARTTLS_PORT=$p2
				DOVECOT_CA=$d/ca.pem
				DOVECOT_MAIL=$d/mail/$DOVECOT_USER
				return 0
			fi
			[ -s "$d/run/master.pid" ] || break
			sleep 0.1
		done
		dovecot_stop "$d"
		grep -q "in use" "$d/dovecot.log" && continue
		echo "dovecot_start: Dovecot did not listen:" >&2
		cat "$d/dovecot.log" >&2
		return 1
	done
	echo "dovecot_start: no free port pair found" >&2
	return 1
}

# dovecot_stop DIR: stops the master and waits until it is gone (its
# children leave with it).
dovecot_stop()
{
	local d=${1:?usage: dovecot_stop DIR} pid i
	[ -s "$d/run/master.pid" ] || return 0
	pid=$(cat "$d/run/master.pid")
	kill "$pid" 2>/dev/null || return 0
	for i in $(seq 100); do
		kill -0 "$pid" 2>/dev/null || return 0
		sleep 0.1
	done
	kill -9 "$pid" 2>/dev/null
	return 0
}

# dovecot_put DIR FOLDER FILE...: puts each FILE, byte for byte, in the
# user's FOLDER ("INBOX" or a folder name) as a new message, as a local
# delivery agent would, and has Dovecot look at once, so each gets the
# next UID, in the order given.  With DOVECOT_FLAGS set (maildir flag
# letters: S seen, T deleted...) they go to cur/ with those flags.
dovecot_put()
{
	local d=${1:?usage: dovecot_put DIR FOLDER FILE...} f=${2:?} m n=0
	local name dest
	shift 2
	m=$d/mail/$DOVECOT_USER
	[ "$f" = INBOX ] || m=$m/.$f
	mkdir -p "$m/cur" "$m/new" "$m/tmp" || return 1
	chown -R nobody:nogroup "$m"
	for file in "$@"; do
		n=$((n + 1))
		# time.M<usec>P<pid>Q<n>.host: unique across calls (a name
		# seen twice is one message to Dovecot)
		name=$(printf '%s.M%sP%dQ%d_%d.mtasts-test' "$(date +%s)" \
		    "$(date +%N)" $$ $n $RANDOM)
		dest=$m/new/$name
		[ -n "${DOVECOT_FLAGS:-}" ] &&
		    dest=$m/cur/$name:2,$DOVECOT_FLAGS
		cp "$file" "$m/tmp/$name" &&
		    chown nobody:nogroup "$m/tmp/$name" &&
		    mv "$m/tmp/$name" "$dest" || return 1
		doveadm -c "$d/dovecot.conf" mailbox status \
		    -u "$DOVECOT_USER" uidnext "$f" >/dev/null || return 1
	done
}
