#!/bin/bash
# SPDX-License-Identifier: ISC
#
# End-to-end tests of the IMAP adapter of mtasts report
# (src/report/imap.c) against real Dovecots started here on loopback
# (tests/e2e/dovecot.sh), through imap_probe (tests/e2e/imap_probe.c),
# which prints one line per message with its SHA-256.
#
# A message is "byte-identical" when the probe's SHA-256 and length are
# those of the file put in the maildir with its bare LFs made CRLF:
# IMAP carries messages with CRLF line ends (RFC 3501 §2.1, §6.4.5) and
# Dovecot converts a maildir file's LF on the way out; nothing else may
# change.  What the server saw is read from Dovecot's log (logins, TLS,
# auth attempts) and its rawlog of each session (the commands).
#
# Covered: every message fetched whole, in UID order, over imaps and
# over imap with STARTTLS; one login a walk; one over the size cap
# refused (never fetched) and the walk going on; --move-to moving just
# what the callback says (UID MOVE), creating the folder when missing,
# not when there; the walk stopped by the callback; UIDPLUS's
# COPY/STORE/UID EXPUNGE where the server has no MOVE, sparing another
# message marked \Deleted; a server with neither refused before any
# fetch; a folder that cannot be made, a move that fails; a message
# expunged during the walk; a wrong password, another CA, the system's
# store, a server without STARTTLS (no login attempted), no such
# mailbox, a closed port, a TLS server that never greets (timeout), bad
# URLs, the password file's mode and the environment; never the
# password in any output.  Prints TAP; needs root and dovecot-imapd
# ("1..0 # SKIP" otherwise).
#
#   imap.sh IMAP_PROBE
set -uo pipefail

PROBE=${1:?usage: imap.sh IMAP_PROBE}
HERE=$(cd "$(dirname "$0")" && pwd)
DATA=$HERE/../data/tlsrpt

if [ "$(id -u)" -ne 0 ]; then
	echo "1..0 # SKIP not root: Dovecot's master runs as root"
	exit 0
fi
for t in dovecot doveadm openssl ss perl sha256sum; do
	if ! command -v $t >/dev/null 2>&1; then
		echo "1..0 # SKIP $t not installed (Debian: dovecot-imapd, openssl)"
		exit 0
	fi
done
# shellcheck source=tests/e2e/dovecot.sh
. "$HERE/dovecot.sh"

T=$(mktemp -d "${TMPDIR:-/tmp}/mtasts-imap.XXXXXX")
chmod 755 "$T" # Dovecot's mail processes run as nobody
SPID=
cleanup()
{
	local d
	for d in "$T"/dc*; do
		[ -d "$d" ] && dovecot_stop "$d"
	done
	[ -n "$SPID" ] && kill "$SPID" 2>/dev/null
	rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

N=0
FAILED=0
ok()
{
	N=$((N + 1))
	if [ "$1" -eq 0 ]; then
		echo "ok $N - $2"
	else
		echo "not ok $N - $2"
		FAILED=$((FAILED + 1))
	fi
}
is()
{
	if [ "$1" = "$2" ]; then
		ok 0 "$3"
	else
		ok 1 "$3"
		printf '#   got:  %s\n#   want: %s\n' "$1" "$2"
		show
	fi
}
# has TEXT DESCRIPTION: the probe's stderr holds TEXT.
has()
{
	if grep -qF -- "$1" "$T/err"; then
		ok 0 "$2"
	else
		ok 1 "$2"
		show
	fi
}
show()
{
	sed 's/^/#   out: /' "$T/out"
	sed 's/^/#   err: /' "$T/err"
}

# probe ARGS...: runs the probe; its output in $T/out and $T/err (and in
# $T/all, for the last check), its status in RC; a mark for since().
probe()
{
	touch "$T/mark"
	sleep 0.01
	LOGINS0=$(grep -c "imap-login: Info: Login:" "$DC/dovecot.log")
	"$PROBE" "$@" >"$T/out" 2>"$T/err"
	RC=$?
	cat "$T/out" "$T/err" >>"$T/all"
	sleep 0.2 # Dovecot logs the session's end after the client left
}
# The logins since the last probe() of this Dovecot.
logins()
{
	echo $(($(grep -c "imap-login: Info: Login:" "$DC/dovecot.log") - LOGINS0))
}
# The commands of the sessions since the last probe() (rawlog).
commands()
{
	find "$DC/rawlog" -name '*.in' -newer "$T/mark" -exec cat {} + |
	    cut -d" " -f3- | tr -d "\r"
}
# The UIDs, verdicts and digests the probe printed: "UID VERDICT SHA".
digests()
{
	awk '$1 == "msg" { print $2, $5, $4 } $1 == "refused" { print $2, $4, "-" }' \
	    "$T/out"
}
# want FILE: the SHA-256 and length of FILE as IMAP carries it (CRLF).
want()
{
	perl -pe 's/\r?\n/\r\n/' "$1" >"$T/crlf"
	echo "$(sha256sum <"$T/crlf" | cut -d' ' -f1) $(wc -c <"$T/crlf")"
}
got()
{
	awk -v u="$1" '$1 == "msg" && $2 == u { print $4, $3 }' "$T/out"
}

# ---- the messages ----
M=$T/msgs
mkdir -p "$M"
cp "$DATA/google-2022-report.eml" "$M/1"
# CRLF, and lines that look like IMAP answers, literals and dot-stuffing.
printf '%s\r\n' "From: a@example.test" "X-Probe: move" "X-Id: 2" \
    "Subject: lines like IMAP" "" "A003 OK done" ")" "* 2 FETCH (UID 9)" \
    "{12}" "." ".." "end" >"$M/2"
# bare LF, which Dovecot sends as CRLF
printf '%s\n' "From: b@example.test" "X-Id: 3" "Subject: LF" "" "one" \
    "two" >"$M/3"
# over the cap of 100000 octets
{
	printf 'From: c@example.test\r\nX-Id: 4\r\nSubject: big\r\n\r\n'
	for i in $(seq 2000); do
		printf '%075d\r\n' "$i"
	done
} >"$M/4"
# no line end after the last line
printf 'From: d@example.test\r\nX-Probe: move\r\nX-Id: 5\r\n\r\nlast' >"$M/5"
# 8-bit text and a line of 3000 octets
{
	printf 'From: e@example.test\r\nX-Id: 6\r\nSubject: 8bit\r\n\r\n'
	printf 'caf\303\251 \377\376 fin\r\n'
	head -c 3000 /dev/zero | tr '\0' x
	printf '\r\n'
} >"$M/6"
CAP=100000

DC=$T/dc1
if ! dovecot_start "$DC" 2>"$T/start.err"; then
	echo "Bail out! Dovecot did not start"
	sed 's/^/# /' "$T/start.err"
	exit 1
fi
if ! dovecot_put "$DC" INBOX "$M"/1 "$M"/2 "$M"/3 "$M"/4 "$M"/5 "$M"/6 \
    2>"$T/put.err"; then
	echo "Bail out! could not fill INBOX"
	sed 's/^/# /' "$T/put.err"
	exit 1
fi
export MTASTS_IMAP_PASSWORD=$DOVECOT_PASSWORD
U="imaps://$DOVECOT_USER@127.0.0.1:$DOVECOT_PORT"
CA=$DOVECOT_CA

# ---- reading ----
probe -c "$CA" -m $CAP "$U/INBOX"
is "$RC $(tail -1 "$T/out")" "0 end 0" "imaps: the walk ends with status 0"
is "$(digests | cut -d' ' -f1 | tr '\n' ' ')" "1 2 3 4 5 6 " \
    "imaps: six messages, in UID order"
for i in 1 2 3 5 6; do
	is "$(got $i)" "$(want "$M/$i")" "imaps: message $i fetched byte for byte"
done
grep -Eq "^refused 4 $(($(wc -c <"$M/4"))) keep .*;UID=4: the message is over the size cap" "$T/out"
ok $? "the message over the cap is refused, with its size, and said so"
is "$(awk '$1 != "end" { print $2 }' "$T/out" | sed -n '5p')" 5 \
    "the walk goes on after the refused message"
grep -q "^msg 1 .* imaps://$DOVECOT_USER@127.0.0.1:$DOVECOT_PORT/INBOX;UIDVALIDITY=[0-9]*/;UID=1\$" "$T/out"
ok $? "the origin is an RFC 5092 URL with UIDVALIDITY and UID, no password"
is "$(logins)" 1 "one login for the whole walk"
grep -q "Login: user=<$DOVECOT_USER>.*, TLS," "$DC/dovecot.log"
ok $? "the login was over TLS"
is "$(commands | grep -o 'UID FETCH [0-9]* BODY\[\]' | tr '\n' ' ')" \
    "UID FETCH 1 BODY[] UID FETCH 2 BODY[] UID FETCH 3 BODY[] UID FETCH 5 BODY[] UID FETCH 6 BODY[] " \
    "each message is fetched by UID, the one over the cap never"
is "$(commands | grep -c 'MOVE\|COPY\|STORE\|EXPUNGE\|CREATE')" 0 \
    "without a folder to move to, nothing is moved or made"

probe -c "$CA" -m $CAP "imap://$DOVECOT_USER@127.0.0.1:$DOVECOT_STARTTLS_PORT/INBOX"
is "$RC $(grep -c '^msg' "$T/out")" "0 5" "imap with STARTTLS: the walk ends, five messages"
for i in 1 5; do
	is "$(got $i)" "$(want "$M/$i")" "imap with STARTTLS: message $i byte for byte"
done
is "$(commands | grep -c STARTTLS) $(logins)" "0 1" \
    "imap with STARTTLS: one login, after STARTTLS (not in the session's log)"
grep -q "Login: user=<$DOVECOT_USER>.*lip=127.0.0.1, mpid=[0-9]*, TLS," "$DC/dovecot.log"
ok $? "imap with STARTTLS: Dovecot saw the login over TLS"

# ---- the password ----
printf '%s\n' "$DOVECOT_PASSWORD" >"$T/pw"
chmod 600 "$T/pw"
(
	unset MTASTS_IMAP_PASSWORD
	probe -c "$CA" -m $CAP -p "$T/pw" "$U/INBOX"
	echo $RC >"$T/rc"
)
is "$(cat "$T/rc") $(grep -c '^msg' "$T/out")" "0 5" \
    "a password file of mode 600 ending in a newline works"
chmod 640 "$T/pw"
probe -c "$CA" -p "$T/pw" "$U/INBOX"
is "$RC $(logins)" "1 0" "a password file its group can read is refused, before connecting"
has "chmod 600" "and the error says how to fix it"
(
	unset MTASTS_IMAP_PASSWORD
	probe -c "$CA" "$U/INBOX"
	echo $RC >"$T/rc"
)
is "$(cat "$T/rc")" 1 "no file and no MTASTS_IMAP_PASSWORD: refused"
has "no IMAP password" "and said so"
MTASTS_IMAP_PASSWORD="wrong-$DOVECOT_PASSWORD" probe -c "$CA" "$U/INBOX"
is "$RC $(grep -c . "$T/out")" "1 0" "a wrong password: status 1, no message"
has "login as $DOVECOT_USER refused by 127.0.0.1:$DOVECOT_PORT" \
    "a wrong password: the login was refused, says the error"
has "AUTHENTICATIONFAILED" "and it gives the server's words"
probe -c "$CA" "imaps://$DOVECOT_USER:hunter2secret@127.0.0.1:$DOVECOT_PORT/INBOX"
is "$RC $(logins)" "1 0" "a password in the URL is refused, before connecting"
has "holds a password" "and said so"
grep -q hunter2secret "$T/out" "$T/err"
ok $((!$?)) "without repeating it"

# ---- TLS ----
mkdir "$T/other"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
    -keyout "$T/other/ca.key" -out "$T/other/ca.pem" -days 2 \
    -subj "/CN=another CA" 2>/dev/null
probe -c "$T/other/ca.pem" "$U/INBOX"
is "$RC $(logins)" "1 0" "a CA that did not sign the server's certificate: no login"
has "TLS with 127.0.0.1:$DOVECOT_PORT failed" "and the error says TLS failed"
probe "$U/INBOX"
is "$RC $(logins)" "1 0" "the system's CA store does not know the test CA: no login"
has "TLS with 127.0.0.1:$DOVECOT_PORT failed" "and the error says TLS failed"
probe -c "$T/other/ca.pem" \
    "imap://$DOVECOT_USER@127.0.0.1:$DOVECOT_STARTTLS_PORT/INBOX"
is "$RC $(logins)" "1 0" "STARTTLS with another CA: no login"
has "TLS with 127.0.0.1:$DOVECOT_STARTTLS_PORT failed" "and the error says TLS failed"

# ---- mailboxes ----
probe -c "$CA" "$U/Nope"
is "$RC $(grep -c . "$T/out")" "1 0" "a mailbox that does not exist: status 1"
has "no mailbox \"Nope\" at 127.0.0.1:$DOVECOT_PORT" "and the error names it"
has "doesn't exist" "with the server's words"
mkdir -p "$DOVECOT_MAIL/.Empty/cur" "$DOVECOT_MAIL/.Empty/new" \
    "$DOVECOT_MAIL/.Empty/tmp"
chown -R nobody:nogroup "$DOVECOT_MAIL/.Empty"
probe -c "$CA" "$U/Empty"
is "$RC $(cat "$T/out")" "0 end 0" "an empty mailbox: a walk of nothing"

# ---- moving ----
probe -c "$CA" -m $CAP -t Done -M "X-Probe: move" "$U/INBOX"
is "$RC $(digests | cut -d' ' -f1,2 | tr '\n' ' ')" \
    "0 1 keep 2 move 3 keep 4 keep 5 move 6 keep " \
    "--move-to: the callback says move for messages 2 and 5"
is "$(commands | grep -E 'CREATE|MOVE' | tr '\n' ' ')" \
    "CREATE \"Done\" UID MOVE 2 \"Done\" UID MOVE 5 \"Done\" " \
    "the folder is made, then just those two are moved, each after its fetch"
is "$(commands | grep -E 'BODY|MOVE' | sed 's/UID FETCH \([0-9]*\).*/f\1/; s/UID MOVE \([0-9]*\).*/m\1/' | tr '\n' ' ')" \
    "f1 f2 m2 f3 f5 m5 f6 " "each move comes after its message's fetch, before the next"
is "$(logins)" 1 "one login for the walk with its moves"
test -d "$DOVECOT_MAIL/.Done/cur"
ok $? "the folder Done exists in the maildir"
probe -c "$CA" -m $CAP "$U/INBOX"
is "$(digests | cut -d' ' -f1 | tr '\n' ' ')" "1 3 4 6 " \
    "INBOX holds the messages the callback kept"
probe -c "$CA" -m $CAP "$U/Done"
is "$(awk '$1 == "msg" { print $4, $3 }' "$T/out" | tr '\n' ' ')" \
    "$(want "$M/2") $(want "$M/5") " "Done holds the two moved, byte for byte"

probe -c "$CA" -m $CAP -t Done -k -M "X-Probe: move" "$U/INBOX"
is "$RC $(digests | cut -d' ' -f1,2 | tr '\n' ' ')" "0 1 keep 3 keep 4 move 6 keep " \
    "a refused message can be moved too (-k)"
is "$(commands | grep -cE 'CREATE') $(commands | grep -E 'MOVE' | tr '\n' ' ')" \
    "0 UID MOVE 4 \"Done\" " "an existing folder is not made again"

probe -c "$CA" -m $CAP -t Done -s 2 -M "From:" "$U/INBOX"
is "$RC $(digests | cut -d' ' -f1,2 | tr '\n' ' ')$(tail -1 "$T/out")" \
    "3 1 move 3 stop end stopped" "the callback stops the walk: status 3"
is "$(commands | grep -E 'BODY|MOVE' | tr '\n' ' ')" \
    "UID FETCH 1 BODY[] UID MOVE 1 \"Done\" UID FETCH 3 BODY[] " \
    "a stop moves nothing more and fetches nothing more"

# A folder that cannot be made: the maildir root is read-only.
chmod 555 "$DOVECOT_MAIL"
probe -c "$CA" -t Made -M "From:" "$U/INBOX"
chmod 755 "$DOVECOT_MAIL"
is "$RC $(grep -c . "$T/out")" "1 0" "a folder that cannot be made: status 1, before any message"
has 'creating folder "Made" refused by' "and the error says so"

# A move that fails: Done's maildir is read-only.
chmod 555 "$DOVECOT_MAIL/.Done/new" "$DOVECOT_MAIL/.Done/cur" \
    "$DOVECOT_MAIL/.Done/tmp"
probe -c "$CA" -t Done -M "From:" "$U/INBOX"
chmod 755 "$DOVECOT_MAIL/.Done/new" "$DOVECOT_MAIL/.Done/cur" \
    "$DOVECOT_MAIL/.Done/tmp"
is "$RC $(digests | cut -d' ' -f1,2 | tr '\n' ' ')" "1 3 move " \
    "a failed move: status 1, the walk stops there"
has 'moving UID 3 to "Done" (UID MOVE) refused by' "and the error says which move failed"
probe -c "$CA" -m $CAP "$U/INBOX"
is "$(digests | cut -d' ' -f1 | tr '\n' ' ')" "3 6 " "the message not moved is still in INBOX"

# A message expunged by someone else during the walk is skipped.
probe -c "$CA" -x "grep -l 'X-Id: 6' '$DOVECOT_MAIL'/cur/* | xargs rm" "$U/INBOX"
is "$RC $(digests | cut -d' ' -f1 | tr '\n' ' ')" "0 3 " \
    "a message gone during the walk is skipped, the walk ends well"

# A folder two levels down, with a space and a quote in its name.
probe -c "$CA" -t 'Stored/2026 "q"' -M From: "$U/INBOX"
is "$RC $(commands | grep -E 'CREATE|MOVE' | tr '\n' ' ')" \
    '0 CREATE "Stored/2026 \"q\"" UID MOVE 3 "Stored/2026 \"q\"" ' \
    "a folder name with a level, a space and a quote is quoted, made and used"
probe -c "$CA" "$U/Stored/2026%20%22q%22"
is "$RC $(got 1)" "0 $(want "$M/3")" "and the URL of that folder reads the message moved"

# ---- a server without MOVE, with UIDPLUS ----
dovecot_stop "$DC"
DC=$T/dc2
if dovecot_start "$DC" "imap_capability = IMAP4rev1 SASL-IR LITERAL+ UIDPLUS" \
    2>"$T/start.err" &&
    dovecot_put "$DC" INBOX "$M/2" "$M/3" &&
    DOVECOT_FLAGS=T dovecot_put "$DC" INBOX "$M/1"; then
	ok 0 "a Dovecot announcing UIDPLUS and no MOVE"
else
	ok 1 "a Dovecot announcing UIDPLUS and no MOVE"
	sed 's/^/# /' "$T/start.err"
fi
U="imaps://$DOVECOT_USER@127.0.0.1:$DOVECOT_PORT"
CA=$DOVECOT_CA
probe -c "$CA" -t Done -M "X-Probe: move" "$U/INBOX"
is "$RC $(digests | cut -d' ' -f1,2 | tr '\n' ' ')" "0 1 move 2 keep 3 keep " \
    "without MOVE: the walk ends"
is "$(commands | grep -E 'MOVE|COPY|STORE|EXPUNGE' | tr '\n' ' ')" \
    "UID COPY 1 \"Done\" UID STORE 1 +FLAGS.SILENT (\\Deleted) UID EXPUNGE 1 " \
    "without MOVE: UID COPY, UID STORE \\Deleted, UID EXPUNGE of that UID"
probe -c "$CA" "$U/INBOX"
is "$(awk '$1 == "msg" { print $4, $3 }' "$T/out" | tr '\n' ' ')" \
    "$(want "$M/3") $(want "$M/1") " \
    "the other message marked \\Deleted by someone else is not expunged"
probe -c "$CA" "$U/Done"
is "$(awk '$1 == "msg" { print $4, $3 }' "$T/out")" "$(want "$M/2")" \
    "without MOVE: the message is in Done"

# ---- a server with neither ----
dovecot_stop "$DC"
DC=$T/dc3
if dovecot_start "$DC" "imap_capability = IMAP4rev1 SASL-IR LITERAL+" \
    2>"$T/start.err" && dovecot_put "$DC" INBOX "$M/2"; then
	ok 0 "a Dovecot announcing neither MOVE nor UIDPLUS"
else
	ok 1 "a Dovecot announcing neither MOVE nor UIDPLUS"
	sed 's/^/# /' "$T/start.err"
fi
U="imaps://$DOVECOT_USER@127.0.0.1:$DOVECOT_PORT"
CA=$DOVECOT_CA
probe -c "$CA" -t Done -M "X-Probe: move" "$U/INBOX"
is "$RC $(grep -c . "$T/out") $(commands | grep -c FETCH)" "1 0 0" \
    "neither MOVE nor UIDPLUS: --move-to refused before any fetch"
has "neither MOVE (RFC 6851) nor UIDPLUS" "and the error says why"
probe -c "$CA" "$U/INBOX"
is "$RC $(got 1)" "0 $(want "$M/2")" "neither: reading without moving works"

# ---- a plain-text server without STARTTLS ----
dovecot_stop "$DC"
DC=$T/dc4
if dovecot_start "$DC" "ssl = no
disable_plaintext_auth = no" 2>"$T/start.err"; then
	ok 0 "a plain-text Dovecot without STARTTLS"
else
	ok 1 "a plain-text Dovecot without STARTTLS"
	sed 's/^/# /' "$T/start.err"
fi
probe -c "$CA" "imap://$DOVECOT_USER@127.0.0.1:$DOVECOT_STARTTLS_PORT/INBOX"
is "$RC $(logins)" "1 0" "no STARTTLS: refused, no login"
has "offers no STARTTLS" "and the error says so"
grep -q "no auth attempts" "$DC/dovecot.log" &&
    ! grep -q "auth: Info" "$DC/dovecot.log"
ok $? "Dovecot saw no authentication attempt: the password never left"
dovecot_stop "$DC"

# ---- no server, a silent one, bad URLs ----
PORT=$DOVECOT_STARTTLS_PORT # free again
probe -c "$CA" "imaps://$DOVECOT_USER@127.0.0.1:$PORT/INBOX"
is "$RC" 1 "nothing listening: status 1"
has "cannot connect to 127.0.0.1:$PORT" "and the error says the connect failed"
sleep 30 | openssl s_server -quiet -accept "127.0.0.1:$PORT" \
    -cert "$T/dc1/server.pem" -key "$T/dc1/server.key" >/dev/null 2>&1 &
SPID=$!
for i in $(seq 50); do
	_dovecot_port_free "$PORT" || break
	sleep 0.1
done
S0=$SECONDS
probe -c "$T/dc1/ca.pem" -T 2 "imaps://$DOVECOT_USER@127.0.0.1:$PORT/INBOX"
is "$RC $((SECONDS - S0 < 8))" "1 1" \
    "a TLS server that never greets: status 1 within seconds (-T 2)"
has "timed out" "after the timeout, said so"
kill "$SPID" 2>/dev/null
SPID=
probe "https://$DOVECOT_USER@127.0.0.1:$PORT/INBOX"
is "$RC" 1 "an https URL is refused"
has "not imaps://" "and said so"
probe "imaps://127.0.0.1:$PORT/INBOX"
is "$RC" 1 "a URL without a user is refused"
has "names no user" "and said so"
probe "imaps://$DOVECOT_USER@127.0.0.1:$PORT/INBOX;UID=3"
is "$RC" 1 "a URL with ;UID= is refused"
has "a mailbox only" "and said so"

probe -t inbox "imaps://$DOVECOT_USER@127.0.0.1:$PORT/INBOX"
is "$RC" 1 "moving INBOX's messages to INBOX is refused"
has "the folder to move to is the mailbox read" "and said so"
probe "imaps://$DOVECOT_USER@127.0.0.1:$PORT/Caf%C3%A9"
is "$RC" 1 "an 8-bit mailbox name (it would need modified UTF-7) is refused"
has "not a name this client can send" "and said so, before connecting"

grep -qF -- "$DOVECOT_PASSWORD" "$T/all"
ok $((!$?)) "the password appears in no output of any run"

echo "1..$N"
[ "$FAILED" -eq 0 ]
