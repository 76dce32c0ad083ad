#!/bin/bash
# SPDX-License-Identifier: ISC
#
# mtasts tlsa gen against the tools people use today: ldns-dane
# (ldnsutils) and hash-slinger's tlsa, and against openssl itself, on
# certificates made here (EC and RSA, every selector and matching type).
# Prints TAP.  Usage: test_tlsa.sh MTASTS
set -u

MTASTS=${1:?usage: test_tlsa.sh MTASTS}
T=$(mktemp -d "${TMPDIR:-/tmp}/mtasts-tlsa.XXXXXX")
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
same() { # same GOT WANT NAME (hex compared without case)
	local g w
	g=$(printf '%s' "$1" | tr 'A-F' 'a-f')
	w=$(printf '%s' "$2" | tr 'A-F' 'a-f')
	[ -n "$g" ] && [ "$g" = "$w" ]
	ok $? "$3"
	[ -n "$g" ] && [ "$g" = "$w" ] || echo "# got '$g', want '$w'"
}

openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
    -keyout "$T/ec.key" -out "$T/ec.pem" -days 2 -subj /CN=mx.example.test \
    -addext subjectAltName=DNS:mx.example.test 2>/dev/null
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$T/rsa.key" \
    -out "$T/rsa.pem" -days 2 -subj /CN=mx2.example.test \
    -addext subjectAltName=DNS:mx2.example.test,DNS:other.example.test \
    2>/dev/null

rdata() { # rdata ARGS...: the RDATA mtasts prints, hex lower case
	"$MTASTS" tlsa gen "$@" 2>/dev/null | sed 's/.* TLSA //'
}

# openssl's own computation: selector 0 = DER cert, 1 = DER SPKI.
ref() { # ref CERT SELECTOR MTYPE
	local der
	if [ "$2" = 0 ]; then
		der=$(openssl x509 -in "$1" -outform DER | od -An -v -tx1 | tr -d ' \n')
		[ "$3" = 0 ] && { echo "$der"; return; }
		openssl x509 -in "$1" -outform DER |
		    openssl dgst -"$([ "$3" = 1 ] && echo sha256 || echo sha512)" -r |
		    cut -d' ' -f1
	else
		[ "$3" = 0 ] && {
			openssl x509 -in "$1" -noout -pubkey |
			    openssl pkey -pubin -outform DER | od -An -v -tx1 |
			    tr -d ' \n'
			return
		}
		openssl x509 -in "$1" -noout -pubkey |
		    openssl pkey -pubin -outform DER |
		    openssl dgst -"$([ "$3" = 1 ] && echo sha256 || echo sha512)" -r |
		    cut -d' ' -f1
	fi
}

for c in ec rsa; do
	for s in 0 1; do
		for m in 0 1 2; do
			same "$(rdata --selector $s --mtype $m "$T/$c.pem")" \
			    "3 $s $m $(ref "$T/$c.pem" $s $m)" \
			    "$c 3 $s $m: as openssl computes it (DANE-REC-8)"
		done
	done
done

if command -v ldns-dane >/dev/null; then
	for c in ec rsa; do
		for s in 0 1; do
			for m in 1 2; do
				host=mx.example.test
				[ $c = rsa ] && host=mx2.example.test
				want=$(ldns-dane -c "$T/$c.pem" create \
				    $host 25 3 $s $m 2>/dev/null |
				    awk '{print $5, $6, $7, $8}')
				same "$(rdata --selector $s --mtype $m "$T/$c.pem")" \
				    "$want" "$c 3 $s $m: agrees with ldns-dane"
			done
		done
	done
else
	echo "ok $((n += 1)) - # SKIP ldns-dane not installed"
fi

if command -v tlsa >/dev/null; then
	for c in ec rsa; do
		for s in 0 1; do
			want=$(tlsa --create --certificate "$T/$c.pem" --usage 3 \
			    --selector $s --mtype 1 --port 25 mx.example.test \
			    2>/dev/null | grep ' TLSA ' | sed 's/.* TLSA //')
			same "$(rdata --selector $s "$T/$c.pem")" "$want" \
			    "$c 3 $s 1: agrees with hash-slinger tlsa"
		done
	done
else
	echo "ok $((n += 1)) - # SKIP hash-slinger not installed"
fi

# Owner names and defaults.
out=$("$MTASTS" tlsa gen "$T/ec.pem")
[[ "$out" == "_25._tcp.mx.example.test. IN TLSA 3 1 1 "* ]]
ok $? "default: 3 1 1, owner from the first DNS name, port 25"
out=$("$MTASTS" tlsa gen --name MX.Example.TEST. --port 2525 "$T/rsa.pem")
[[ "$out" == "_2525._tcp.mx.example.test. IN TLSA 3 1 1 "* ]]
ok $? "--name and --port: lower case, no double dot (DANE-REC-7)"
same "$(rdata "$T/ec.key")" "$(rdata "$T/ec.pem")" \
    "a private key gives the certificate's 3 1 1 record"
openssl pkey -in "$T/rsa.key" -pubout -out "$T/rsa.pub" 2>/dev/null
same "$(rdata "$T/rsa.pub")" "$(rdata "$T/rsa.pem")" \
    "a public key gives the certificate's 3 1 1 record (next-key rollover)"
cat "$T/ec.pem" "$T/rsa.pem" >"$T/chain.pem"
same "$(rdata --usage 2 --selector 0 "$T/chain.pem")" \
    "2 0 1 $(ref "$T/rsa.pem" 0 1)" "usage 2 takes the last certificate"
same "$(rdata "$T/chain.pem")" "$(rdata "$T/ec.pem")" \
    "usage 3 takes the first certificate"
"$MTASTS" tlsa gen --json "$T/ec.pem" >"$T/j"
[ "$(jq -r '.owner + " " + (.usage|tostring) + (.selector|tostring) + (.mtype|tostring)' "$T/j")" = "_25._tcp.mx.example.test 311" ]
ok $? "--json"

"$MTASTS" tlsa gen --usage 1 "$T/ec.pem" >/dev/null 2>&1
[ $? -eq 2 ]
ok $? "usage 1 (PKIX-EE) is refused for SMTP (RFC 7672 §3.1.3)"
"$MTASTS" tlsa gen --selector 0 "$T/ec.key" >/dev/null 2>&1
[ $? -eq 1 ]
ok $? "a key with selector 0 is refused"
echo garbage >"$T/garbage.pem"
"$MTASTS" tlsa gen "$T/garbage.pem" >/dev/null 2>"$T/err"
[ $? -eq 1 ] && grep -q "no PEM certificate or key" "$T/err"
ok $? "a file without PEM is refused with a message"
"$MTASTS" tlsa gen "$T/missing.pem" >/dev/null 2>&1
[ $? -eq 2 ]
ok $? "a missing file is an I/O error"
"$MTASTS" tlsa gen --name 'bad..name' "$T/ec.pem" >/dev/null 2>&1
[ $? -eq 1 ]
ok $? "a malformed --name is refused"

# tlsa check without an event loop: libevent honours EVENT_NO<METHOD>,
# so with every backend disabled event_base_new() fails.  The message
# says so (it printed err.msg, never written, then); exit 2, I/O.
noevent() {
	EVENT_NOEPOLL=1 EVENT_NOPOLL=1 EVENT_NOSELECT=1 EVENT_NOKQUEUE=1 \
	    EVENT_NODEVPOLL=1 EVENT_NOEVPORT=1 EVENT_NOWIN32=1 "$@"
}
noevent "$MTASTS" tlsa check mx.example.test >/dev/null 2>"$T/err"
r=$?
[ $r -eq 2 ] && grep -q "tlsa: cannot start: no event loop" "$T/err" &&
    ! grep -q "(null)" "$T/err"
r=$?
ok $r "tlsa check: a failing event_base_new() is said clearly, exit 2"
[ $r -eq 0 ] || sed 's/^/# err: /' "$T/err"
if command -v valgrind >/dev/null 2>&1 &&
    valgrind -q --error-exitcode=99 "$MTASTS" --version >/dev/null 2>&1; then
	noevent valgrind -q --error-exitcode=99 "$MTASTS" tlsa check \
	    mx.example.test >/dev/null 2>"$T/err"
	[ $? -eq 2 ]
	ok $? "tlsa check: ... reading no uninitialised memory (valgrind)"
else
	echo "ok $((n += 1)) - # SKIP valgrind missing or cannot run $MTASTS"
fi

echo "1..$n"
[ "$failed" -eq 0 ]
