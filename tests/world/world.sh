#!/bin/bash
# SPDX-License-Identifier: ISC
#
# world.sh: the local internet the end-to-end tests and the demo run on.
#
#   world.sh up            make and start a world (root)
#   world.sh down          stop it and remove every trace; safe to repeat
#   world.sh status        what runs; exit 0 up, 1 degraded, 3 down
#   world.sh exec CMD...   run CMD inside the world (its DNS, its addresses)
#   world.sh env           the world's variables as sh assignments
#   world.sh rezone ZONE   reread ZONE's domain file into the running world:
#                          re-signed with its key, new serial, nsd reloaded,
#                          unbound's cache of it flushed (DNS records only)
#   world.sh gen           only generate PKI, signed zones and server
#                          configs into $WORLD_DIR (no root; for debugging)
#
# Everything runs in a private network namespace ($WORLD_NS) on loopback
# addresses with the real ports (53, 443, 25), so nothing clashes
# with the machine and programs that only read /etc/resolv.conf (glibc,
# curl, Postfix) see the world's validating resolver.  Domains are data
# files (domains/*.domain, format in README.md); the CA, the certificates,
# the DNSSEC keys and signatures are made at every start and never kept.
# MX hosts with an `smtp` line get a receiving Postfix instance each
# (a raw python3 server for `garbage`, a malformed reply no Postfix sends).
# With WORLD_SENDER=1 a sending Postfix listens on 127.0.0.2:25 and
# relays by the world's DNS, asking smtp_tls_policy_maps (the policyd
# socketmap on 127.0.0.1:8461) how to secure each domain.
#
# Environment (all optional):
#   WORLD_NS        namespace name (mtsworld)
#   WORLD_DIR       state directory (a new mktemp dir under ${TMPDIR:-/tmp})
#   WORLD_DOMAINS   directories of *.domain files, separated by ':'
#                   (tests/world/domains; for rezone, the ones `up` read)
#   WORLD_POLICIES  directory policy-file names are relative to
#                   (tests/world/policies)
#   WORLD_HTTPS     mtasts|nginx: the main policy server (mtasts when
#                   "$MTASTS serve --help" works, else nginx)
#   MTASTS          the mtasts binary for WORLD_HTTPS=mtasts
#   WORLD_SMTP=0    no Postfix MX hosts (the `smtp` lines are ignored)
#   WORLD_SENDER=1  also the sending Postfix on 127.0.0.2 (README.md)
#   WORLD_RUN       where `up` records WORLD_DIR for `down` (/run/mtasts-world)
#   WORLD_KEEP=1    `down` keeps WORLD_DIR (logs) and says where it is
#
# Exit status: 0 ok, 1 error, 2 usage, 3 `status` of a world that is down,
# 77 not root (the "skipped" status of meson and automake tests).
#
# shellcheck disable=SC2015 # "A && B || die" is meant: die when A or B fails
# shellcheck disable=SC2016 # '$ORIGIN' and friends are zone-file text
set -euo pipefail
shopt -s inherit_errexit

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
PROG=${0##*/}
WORLD_NS=${WORLD_NS:-mtsworld}
# rezone rereads the directories `up` read unless the caller names others.
GIVEN_DOMAINS=${WORLD_DOMAINS:-}
GIVEN_POLICIES=${WORLD_POLICIES:-}
WORLD_DOMAINS=${WORLD_DOMAINS:-$HERE/domains}
WORLD_POLICIES=${WORLD_POLICIES:-$HERE/policies}
WORLD_RUN=${WORLD_RUN:-/run/mtasts-world}
POINTER=$WORLD_RUN/$WORLD_NS

# ---- The address plan (inside the namespace; README.md has the table) ----
# Fixed services get one loopback address each so that each can have the
# real port.  Addresses named in the domain files' A/AAAA records are
# added to lo too when they are in 127.0.0.0/8 or in $ULA, so later Postfix
# instances (which insist on interface addresses) can bind to them.
ADDR_RESOLVER=127.0.0.1 # unbound :53, its remote control :8953 (rezone);
                        # later the policyd socketmap :8461
UNBOUND_CONTROL_PORT=8953
ADDR_SENDER=127.0.0.2   # the sending Postfix instance (WORLD_SENDER=1)
POLICYD_MAP=socketmap:inet:127.0.0.1:8461:postfix # what the sender asks
ADDR_AUTH=127.0.0.53    # nsd :53, authoritative for test. and children
ADDR_MAIN=127.0.0.80    # the main policy server :443 (mtasts serve/nginx)
ADDR_REF=127.0.0.81     # the reference nginx :443 for broken HTTPS
ADDR_TLSRPT=127.0.0.82  # reserved: the TLS-RPT HTTPS receiver
ULA=fd6d:7473           # fd6d:7473::/64 ("mts"): the IPv6 side
ADDR6_MAIN=$ULA::80
ADDR6_REF=$ULA::81

CERT_DAYS=30
CERT_VARIANTS="ok expired not-yet-valid wrong-name self-signed cn-only zone-name"
ZONE_MODES="signed insecure bogus bogus-ds"
# The certificate an sni-required MX sends to a client without SNI.
SNI_FALLBACK=no-sni.invalid
SMTP_MODES="starttls starttls-leaf-only no-starttls starttls-refused old-tls sni-required"
SMTP_MODES+=" silent banner-554 ehlo-refused garbage"
SILENT_SECONDS=120 # how long a `silent` MX keeps quiet after a connect

die()
{
	printf '%s: %s\n' "$PROG" "$*" >&2
	exit 1
}

say()
{
	printf '%s\n' "$*"
}

usage()
{
	say "usage: $PROG up|down|status|env|gen|exec CMD [ARG...]|rezone ZONE" >&2
	exit 2
}

need_root()
{
	if [ "$(id -u)" -ne 0 ]; then
		say "$PROG: the world needs root (network namespace, ports 53/443)" >&2
		exit 77
	fi
}

need_tools()
{
	local t missing=()
	for t in "$@"; do
		command -v "$t" >/dev/null 2>&1 || missing+=("$t")
	done
	[ ${#missing[@]} -eq 0 ] || die "missing programs: ${missing[*]}" \
	    "(tests/world/README.md lists the Debian packages)"
}

# Paths under WORLD_DIR end up in nsd, unbound, nginx and mtasts configs
# unquoted; allowing only plain characters avoids four quoting dialects.
check_world_dir_name()
{
	[[ $1 =~ ^/[A-Za-z0-9._/+-]+$ ]] && return 0
	say "$PROG: WORLD_DIR must be an absolute path of letters," \
	    "digits and ._/+- ($1)" >&2
	return 1
}

check_ns_name()
{
	# The name becomes /run/netns/NAME and /etc/netns/NAME.
	[[ $WORLD_NS =~ ^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$ ]] ||
	    die "bad WORLD_NS: $WORLD_NS"
}

# ======================================================================
# Reading the domain files
# ======================================================================
#
# Pass 1 reads every file into these tables and checks it; nothing is
# generated until all files are known good, and `@https` or `auto`
# values are only resolved later, when servers and certificates exist.

# Every table starts set and empty: under `set -u`, ${#T[@]} of one
# declared but never assigned is an unbound variable (a world with no
# `smtp` line died of "SMTP: unbound variable").
DOMAINS=()              # the zones, sorted
declare -A Z_MODE=()    # zone -> signed|insecure|bogus|bogus-ds
declare -A Z_TTL=()     # zone -> default TTL
declare -A Z_SRC=()     # zone -> its .domain file
declare -A Z_RECS=()    # zone -> record directives, one per line: LINENO<TAB>KW<TAB>ARGS
declare -A Z_POLICY=()  # zone -> source policy file, or "inline"
declare -A Z_INLINE=()  # zone -> inline policy text, CRLF line ends
declare -A Z_HTTPS=()   # zone -> main|reference (explicit choice)
declare -A Z_HTTP=()    # zone -> quirks, "status N" / "content-type T" / "redirect U" lines
declare -A Z_FIXED=()   # zone -> its directives that are not DNS records (zone,
                        # cert, smtp, https, http, policy, policy-file), one a
                        # line: what `rezone` cannot change in a running world
declare -A CERT=()      # host -> variant
declare -A CERT_AT=()   # host -> file:line of its cert directive
declare -A CERT_ZONE=() # host -> the zone of its cert directive's file (zone-name)
declare -A SMTP=()      # host -> the mode of its MX (Postfix, or raw for garbage)
declare -A SMTP_AT=()   # host -> file:line of its smtp directive
PF_HOSTS=()             # the smtp hosts a Postfix instance serves
PF_ALL=()               # every Postfix instance: PF_HOSTS, and `sender`
                        # with WORLD_SENDER=1 (a name no host has: no dot)
RAW_HOSTS=()            # the smtp hosts a raw server serves (garbage)

# fqdn ZONE NAME: sets FQDN to a name of a domain file as an absolute
# name without the final dot, as zone files read it ("@" is the zone,
# "x." is absolute).  (A variable, not output: no subshell per name.)
fqdn()
{
	local zone=$1 name=${2,,}
	case $name in
	@) FQDN=$zone ;;
	*.) FQDN=${name%.} ;;
	*) FQDN=$name.$zone ;;
	esac
}

# valid_owner NAME: @, or labels of letters, digits, _ and - (a leading
# "*." allowed), relative or absolute.
valid_owner()
{
	local label='[A-Za-z0-9_]([A-Za-z0-9_-]*[A-Za-z0-9_])?'
	[ "$1" = @ ] || [ "$1" = '*' ] ||
	    [[ $1 =~ ^(\*\.)?$label(\.$label)*\.?$ ]]
}

valid_ipv4()
{
	local IFS=. o
	local -a p
	[[ $1 =~ ^[0-9]{1,3}(\.[0-9]{1,3}){3}$ ]] || return 1
	read -r -a p <<<"$1"
	for o in "${p[@]}"; do
		[ "$((10#$o))" -le 255 ] || return 1
	done
}

valid_ipv6()
{
	[[ $1 =~ ^[0-9A-Fa-f:.]+$ && $1 == *:* ]]
}

# parse_domain FILE: reads one domain file into the tables above.
parse_domain()
{
	local file=$1 zone line kw rest n=0 at a b c d e
	zone=${file##*/}
	zone=${zone%.domain}
	zone=${zone,,}
	[[ $zone =~ ^[a-z0-9]([a-z0-9-]*[a-z0-9])?\.test$ ]] ||
	    die "$file: the file name must be LABEL.test.domain (a child of test.)"
	[ -z "${Z_SRC[$zone]:-}" ] ||
	    die "$file: zone $zone is in ${Z_SRC[$zone]} too"
	DOMAINS+=("$zone")
	Z_SRC[$zone]=$file
	Z_MODE[$zone]=signed
	Z_TTL[$zone]=300
	Z_RECS[$zone]=""
	Z_POLICY[$zone]=""
	Z_INLINE[$zone]=""
	Z_HTTPS[$zone]=""
	Z_HTTP[$zone]=""
	Z_FIXED[$zone]=""
	while IFS= read -r line || [ -n "$line" ]; do
		n=$((n + 1))
		at="$file:$n"
		line=${line%$'\r'}
		# Whole-line comments only: a '#' can be part of a TXT value.
		[[ $line =~ ^[[:space:]]*(#|$) ]] && continue
		read -r kw rest <<<"$line"
		case $kw in
		zone | cert | smtp | https | http | policy | policy-file)
			Z_FIXED[$zone]+="$kw $rest"$'\n'
			;;
		esac
		case $kw in
		zone)
			case " $ZONE_MODES " in
			*" $rest "*) Z_MODE[$zone]=$rest ;;
			*) die "$at: zone wants one of: $ZONE_MODES" ;;
			esac
			;;
		ttl)
			[[ $rest =~ ^[0-9]{1,7}$ ]] || die "$at: ttl wants seconds"
			Z_TTL[$zone]=$rest
			;;
		a | aaaa | cname)
			read -r a b c <<<"$rest"
			[ -n "$b" ] && [ -z "$c" ] || die "$at: $kw wants OWNER VALUE"
			valid_owner "$a" || die "$at: bad owner name '$a'"
			case $kw in
			a) [ "$b" = @https ] || valid_ipv4 "$b" ||
			    die "$at: bad IPv4 address '$b'" ;;
			aaaa) [ "$b" = @https ] || valid_ipv6 "$b" ||
			    die "$at: bad IPv6 address '$b'" ;;
			cname) valid_owner "$b" || die "$at: bad target '$b'" ;;
			esac
			Z_RECS[$zone]+="$n	$kw	$a $b"$'\n'
			;;
		mx)
			read -r a b c <<<"$rest"
			[[ $a =~ ^[0-9]{1,5}$ ]] && [ -n "$b" ] && [ -z "$c" ] ||
			    die "$at: mx wants PREFERENCE HOST"
			[ "$b" = . ] || valid_owner "$b" || die "$at: bad MX host '$b'"
			Z_RECS[$zone]+="$n	mx	$a $b"$'\n'
			;;
		txt)
			read -r a b <<<"$rest"
			valid_owner "$a" || die "$at: bad owner name '$a'"
			[[ $b == \"* ]] ||
			    die "$at: txt wants OWNER \"string\" [\"string\"...]"
			Z_RECS[$zone]+="$n	txt	$a $b"$'\n'
			;;
		tlsa)
			read -r a b c d e <<<"$rest"
			valid_owner "$a" || die "$at: bad owner name '$a'"
			[[ "$b $c $d" =~ ^[0-3]\ [01]\ [012]$ ]] && [ -n "$e" ] ||
			    die "$at: tlsa wants OWNER USAGE(0-3) SELECTOR(0-1)" \
			    "MTYPE(0-2) auto|wrong|HEX"
			[ "$e" = auto ] || [ "$e" = wrong ] ||
			    [[ $e =~ ^[0-9A-Fa-f]+$ ]] ||
			    die "$at: tlsa data must be auto, wrong or hex"
			[ "$e" != wrong ] || [ "$d" != 0 ] ||
			    die "$at: tlsa wrong needs MTYPE 1 or 2 (a digest)"
			# _25._tcp alone is the zone apex's (a domain without MX)
			[ "$e" != auto ] || [[ ${a,,} =~ ^_[0-9]+\._[a-z]+(\.|$) ]] ||
			    die "$at: tlsa auto needs an owner _PORT._PROTO.HOST"
			Z_RECS[$zone]+="$n	tlsa	$a $b $c $d $e"$'\n'
			;;
		record)
			[ -n "$rest" ] || die "$at: record wants a zone file line"
			Z_RECS[$zone]+="$n	record	$rest"$'\n'
			;;
		cert)
			read -r a b c <<<"$rest"
			[ -n "$b" ] && [ -z "$c" ] && valid_owner "$a" ||
			    die "$at: cert wants HOST VARIANT"
			case " $CERT_VARIANTS " in
			*" $b "*) ;;
			*) die "$at: cert variants are: $CERT_VARIANTS" ;;
			esac
			fqdn "$zone" "$a"
			a=$FQDN
			if [ -n "${CERT[$a]:-}" ] && [ "${CERT[$a]}" != "$b" ]; then
				die "$at: $a has another certificate" \
				    "(${CERT_AT[$a]}: ${CERT[$a]})"
			fi
			CERT[$a]=$b
			CERT_AT[$a]=$at
			CERT_ZONE[$a]=$zone
			;;
		policy-file)
			[ -z "${Z_POLICY[$zone]}" ] || die "$at: a second policy"
			[ -n "$rest" ] || die "$at: policy-file wants a file name"
			case $rest in
			/*) a=$rest ;;
			*) a=$WORLD_POLICIES/$rest ;;
			esac
			[ -f "$a" ] || die "$at: no such policy file: $a"
			Z_POLICY[$zone]=$a
			;;
		policy)
			case ${Z_POLICY[$zone]} in
			"" | inline) ;;
			*) die "$at: both policy-file and policy lines" ;;
			esac
			Z_POLICY[$zone]=inline
			# RFC 8461 §3.2 allows LF or CRLF; CRLF is what the
			# specification's examples and most servers send.
			Z_INLINE[$zone]+="$rest"$'\r\n'
			;;
		https)
			[ "$rest" = main ] || [ "$rest" = reference ] ||
			    die "$at: https wants main or reference"
			Z_HTTPS[$zone]=$rest
			;;
		http)
			read -r a b <<<"$rest"
			case $a in
			status) [[ $b =~ ^[1-5][0-9][0-9]$ ]] ||
			    die "$at: http status wants a 3-digit code" ;;
			content-type) [[ $b =~ ^[!-~]+$ ]] ||
			    die "$at: http content-type wants one token" ;;
			redirect) [[ $b =~ ^[!-~]+$ ]] ||
			    die "$at: http redirect wants a URL" ;;
			chunked) [ -z "$b" ] || die "$at: http chunked takes no value" ;;
			*) die "$at: http wants status|content-type|redirect VALUE" \
			    "or chunked" ;;
			esac
			Z_HTTP[$zone]+="$a $b"$'\n'
			;;
		smtp)
			read -r a b c <<<"$rest"
			[ -n "$a" ] && [ -z "$c" ] && valid_owner "$a" ||
			    die "$at: smtp wants HOST [MODE]"
			b=${b:-starttls}
			case " $SMTP_MODES " in
			*" $b "*) ;;
			*) die "$at: smtp modes are: $SMTP_MODES" ;;
			esac
			fqdn "$zone" "$a"
			[ -z "${SMTP[$FQDN]:-}" ] ||
			    die "$at: $FQDN has an smtp line already (${SMTP_AT[$FQDN]})"
			SMTP[$FQDN]=$b
			SMTP_AT[$FQDN]=$at
			;;
		*)
			die "$at: unknown directive '$kw'"
			;;
		esac
	done <"$file"
}

# domain_dirs: sets DOMAIN_DIRS to the directories of WORLD_DOMAINS
# (':' between them), each checked.
domain_dirs()
{
	local d
	IFS=: read -r -a DOMAIN_DIRS <<<"$WORLD_DOMAINS"
	[ ${#DOMAIN_DIRS[@]} -ne 0 ] || die "WORLD_DOMAINS names no directory"
	for d in "${DOMAIN_DIRS[@]}"; do
		[ -d "$d" ] || die "no domain directory $d"
	done
}

# domain_file ZONE: sets DOMAIN_FILE to the file of ZONE in the first
# directory of WORLD_DOMAINS that has one (empty when none has).
domain_file()
{
	local d
	DOMAIN_FILE=""
	domain_dirs
	for d in "${DOMAIN_DIRS[@]}"; do
		[ ! -f "$d/$1.domain" ] || { DOMAIN_FILE=$d/$1.domain; return 0; }
	done
}

read_domains()
{
	local f z d
	local -a files=()
	domain_dirs
	shopt -s nullglob
	for d in "${DOMAIN_DIRS[@]}"; do
		files+=("$d"/*.domain)
	done
	shopt -u nullglob
	[ ${#files[@]} -ne 0 ] || die "no *.domain files in $WORLD_DOMAINS"
	# A zone in two directories is refused (parse_domain): which file
	# would rezone reread?
	for f in "${files[@]}"; do
		parse_domain "$f"
	done
	# A policy is only reachable through a certificate for its host.
	for z in "${DOMAINS[@]}"; do
		if [ -n "${Z_POLICY[$z]}" ] && [ -z "${CERT[mta-sts.$z]:-}" ]; then
			die "${Z_SRC[$z]}: a policy needs 'cert mta-sts VARIANT'"
		fi
		if [ "${Z_HTTPS[$z]}" = main ] &&
		    { [ -n "${Z_HTTP[$z]}" ] || [ -z "${Z_POLICY[$z]}" ]; }; then
			die "${Z_SRC[$z]}: 'https main' needs a policy" \
			    "and no http quirk"
		fi
	done
	# An MX that offers STARTTLS needs something to present.
	for z in "${!SMTP[@]}"; do
		case ${SMTP[$z]}:${CERT[$z]:-} in
		starttls: | starttls-leaf-only: | old-tls: | sni-required:)
			die "${SMTP_AT[$z]}: smtp $z needs 'cert' for it" ;;
		esac
	done
	# A world without MX hosts, for tests that need none: checked
	# above, then dropped.
	[ "${WORLD_SMTP:-1}" != 0 ] || SMTP=()
	# Postfix for every mode but garbage, which no Postfix can send.
	for z in "${!SMTP[@]}"; do
		if [ "${SMTP[$z]}" = garbage ]; then
			RAW_HOSTS+=("$z")
		else
			PF_HOSTS+=("$z")
		fi
	done
	PF_ALL=(${PF_HOSTS[@]+"${PF_HOSTS[@]}"})
	case ${WORLD_SENDER:-0} in
	0) ;;
	1) PF_ALL+=(sender) ;;
	*) die "WORLD_SENDER must be 0 or 1" ;;
	esac
}

# The server that answers for mta-sts.ZONE: the main one (mtasts serve,
# or nginx in its place) for healthy domains; the reference nginx for
# deliberately broken HTTPS (a bad certificate, an HTTP quirk, no
# policy), so the main server's config stays one a real site could have.
https_of()
{
	local z=$1
	if [ -n "${Z_HTTPS[$z]}" ]; then
		printf '%s' "${Z_HTTPS[$z]}"
	elif [ -n "${Z_HTTP[$z]}" ] || [ -z "${Z_POLICY[$z]}" ] ||
	    [ "${CERT[mta-sts.$z]:-ok}" != ok ]; then
		printf reference
	else
		printf main
	fi
}

# ======================================================================
# PKI: a CA and the certificates the domain files ask for
# ======================================================================

pki_config()
{
	# One config for the CA, the leaves (subjectAltName from the
	# environment) and `openssl ca`, which is only needed to backdate
	# (openssl 3.0's req and x509 cannot set notBefore).
	cat >"$PKI/openssl.cnf" <<EOF
# generated by world.sh
[req]
distinguished_name = dn
[dn]
[ca_ext]
basicConstraints = critical,CA:TRUE
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash
[leaf]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature
extendedKeyUsage = serverAuth,clientAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
subjectAltName = \$ENV::WORLD_SAN
[leaf_nosan]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature
extendedKeyUsage = serverAuth,clientAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
[ca]
default_ca = world_ca
[world_ca]
database = $PKI/ca.index
new_certs_dir = $PKI/ca.new
serial = $PKI/ca.serial
certificate = $PKI/ca.pem
private_key = $PKI/ca.key
default_md = sha256
policy = any
unique_subject = no
copy_extensions = none
[any]
commonName = supplied
EOF
	: >"$PKI/ca.index"
	printf '1000\n' >"$PKI/ca.serial"
	mkdir -p "$PKI/ca.new"
}

# make_cert HOST VARIANT: $PKI/HOST.key and $PKI/HOST.pem.  (Called in
# an `||` list, where set -e is off: every step returns on failure.)
make_cert()
{
	local host=$1 variant=$2 key=$PKI/$1.key pem=$PKI/$1.pem
	local -a req=(openssl req -config "$PKI/openssl.cnf" -new -nodes
	    -newkey ec -pkeyopt ec_paramgen_curve:P-256 -keyout "$key")
	local -a ca=(-x509 -CA "$PKI/ca.pem" -CAkey "$PKI/ca.key" -days "$CERT_DAYS")
	local san=DNS:$host start end
	case $variant in
	ok)
		WORLD_SAN=$san "${req[@]}" -subj "/CN=$host" "${ca[@]}" \
		    -extensions leaf -out "$pem"
		;;
	wrong-name)
		WORLD_SAN=DNS:wrong-name.invalid "${req[@]}" \
		    -subj /CN=wrong-name.invalid "${ca[@]}" -extensions leaf \
		    -out "$pem"
		;;
	cn-only)
		WORLD_SAN=$san "${req[@]}" -subj "/CN=$host" "${ca[@]}" \
		    -extensions leaf_nosan -out "$pem"
		;;
	zone-name)
		# The next-hop domain, not the host: a name DANE-TA may
		# match (RFC 7672 §3.2.2), MTA-STS not (RFC 8461 §4.2).
		WORLD_SAN=DNS:${CERT_ZONE[$host]} "${req[@]}" \
		    -subj "/CN=${CERT_ZONE[$host]}" "${ca[@]}" -extensions leaf \
		    -out "$pem"
		;;
	self-signed)
		WORLD_SAN=$san "${req[@]}" -subj "/CN=$host" -x509 \
		    -extensions leaf -days "$CERT_DAYS" -out "$pem"
		;;
	expired | not-yet-valid)
		if [ "$variant" = expired ]; then
			start=$(date -u -d '-60 days' +%Y%m%d%H%M%SZ) || return 1
			end=$(date -u -d '-30 days' +%Y%m%d%H%M%SZ) || return 1
		else
			start=$(date -u -d '+30 days' +%Y%m%d%H%M%SZ) || return 1
			end=$(date -u -d '+60 days' +%Y%m%d%H%M%SZ) || return 1
		fi
		WORLD_SAN=$san "${req[@]}" -subj "/CN=$host" \
		    -out "$PKI/$host.csr" || return 1
		WORLD_SAN=$san openssl ca -config "$PKI/openssl.cnf" -batch \
		    -notext -extensions leaf -startdate "$start" \
		    -enddate "$end" -in "$PKI/$host.csr" -out "$pem"
		;;
	esac
}

make_pki()
{
	local host pid log=$WORLD_DIR/log/openssl.log
	mkdir -p "$PKI"
	pki_config
	WORLD_SAN=DNS:unused openssl req -config "$PKI/openssl.cnf" \
	    -x509 -new -nodes -newkey ec -pkeyopt ec_paramgen_curve:P-256 \
	    -keyout "$PKI/ca.key" -out "$PKI/ca.pem" -days "$CERT_DAYS" \
	    -extensions ca_ext \
	    -subj "/O=mtasts test world/CN=mtasts world CA $WORLD_NS" \
	    >>"$log" 2>&1 || die "making the CA failed (see $log)"
	# In parallel, but for `openssl ca` (expired, not-yet-valid),
	# whose serial and index files cannot be shared.
	local -A jobs=()
	for host in "${!CERT[@]}"; do
		case ${CERT[$host]} in
		expired | not-yet-valid)
			make_cert "$host" "${CERT[$host]}" >>"$log" 2>&1 ||
			    die "${CERT_AT[$host]}: no certificate (see $log)"
			;;
		*)
			make_cert "$host" "${CERT[$host]}" >>"$log" 2>&1 &
			jobs[$!]=$host
			;;
		esac
	done
	for pid in "${!jobs[@]}"; do
		wait "$pid" ||
		    die "${CERT_AT[${jobs[$pid]}]}: no certificate (see $log)"
	done
}

# tlsa_data USAGE SELECTOR MTYPE HOST: the TLSA data of HOST's
# certificate (usage 1/3) or of its issuer (0/2: the world CA, or the
# certificate itself when it is self-signed).  The SPKI (selector 1)
# comes from the private key: one openssl run instead of two.
tlsa_data()
{
	local usage=$1 sel=$2 mtype=$3 host=$4 base
	base=$PKI/$host
	if [ "$usage" = 0 ] || [ "$usage" = 2 ]; then
		[ "${CERT[$host]}" = self-signed ] || base=$PKI/ca
	fi
	if [ "$sel" = 0 ]; then
		openssl x509 -in "$base.pem" -outform DER
	else
		openssl pkey -in "$base.key" -pubout -outform DER
	fi | case $mtype in
	0) od -An -v -tx1 | tr -d ' \n' ;;
	1) sha256sum | cut -d' ' -f1 ;;
	2) sha512sum | cut -d' ' -f1 ;;
	esac
}

# ======================================================================
# DNS: zones, signatures, nsd and unbound configs
# ======================================================================

declare -A LO_ADDRS=()   # addresses to add to the namespace's lo
declare -A HOST_ADDRS=() # host -> its A and AAAA addresses, space separated

# note_addr ADDR: remember ADDR for lo when it belongs to the world.
note_addr()
{
	case ${1,,} in
	127.0.0.1) ;;
	127.*) LO_ADDRS[$1]=4 ;;
	"$ULA":*) LO_ADDRS[${1,,}]=6 ;;
	esac
}

# write_zone ZONE: DNS/ZONE.zone from the record directives.
write_zone()
{
	local z=$1 n kw args owner val host u s m data srv at
	srv=$(https_of "$z") # once per zone: the subshell does not matter
	{
		printf '; generated by world.sh from %s\n' "${Z_SRC[$z]}"
		printf '$ORIGIN %s.\n$TTL %s\n' "$z" "${Z_TTL[$z]}"
		# The serial is 1 at `up`; rezone counts it up, so that it
		# can tell when nsd and unbound answer from the new zone.
		printf '@ IN SOA ns1.test. hostmaster.%s. %s 3600 900 604800 60\n' \
		    "$z" "${SOA_SERIAL:-1}"
		printf '@ IN NS ns1.test.\n'
		while IFS=$'\t' read -r n kw args; do
			[ -n "$kw" ] || continue
			at="${Z_SRC[$z]}:$n"
			case $kw in
			a | aaaa)
				read -r owner val <<<"$args"
				if [ "$val" = @https ]; then
					case $kw:$srv in
					a:main) val=$ADDR_MAIN ;;
					a:reference) val=$ADDR_REF ;;
					aaaa:main) val=$ADDR6_MAIN ;;
					aaaa:reference) val=$ADDR6_REF ;;
					esac
				fi
				note_addr "$val"
				fqdn "$z" "$owner"
				HOST_ADDRS[$FQDN]+="$val "
				printf '%s IN %s %s\n' "$owner" "${kw^^}" "$val"
				;;
			cname | mx | txt)
				read -r owner val <<<"$args"
				[ "$kw" != mx ] || { val="$owner $val"; owner=@; }
				printf '%s IN %s %s\n' "$owner" "${kw^^}" "$val"
				;;
			tlsa)
				read -r owner u s m data <<<"$args"
				if [ "$data" = auto ]; then
					# _25._tcp.mx1 -> the certificate of mx1.ZONE
					fqdn "$z" "$owner"
					host=${FQDN#*.}
					host=${host#*.}
					[ -n "${CERT[$host]:-}" ] ||
					    die "$at: tlsa auto: no 'cert' for $host"
					data=$(tlsa_data "$u" "$s" "$m" "$host")
				elif [ "$data" = wrong ]; then
					# A digest of the right length that no
					# certificate has: a TLSA mismatch.
					data=$(printf 'wrong' | if [ "$m" = 1 ]; then
					    sha256sum; else sha512sum; fi |
					    cut -d' ' -f1)
				fi
				printf '%s IN TLSA %s %s %s %s\n' \
				    "$owner" "$u" "$s" "$m" "$data"
				;;
			record)
				printf '%s\n' "$args"
				;;
			esac
		done <<<"${Z_RECS[$z]}"
	} >"$DNS/$z.zone"
}

# keygen ZONE: a fresh key for ZONE, printing its base name (one key
# signs everything: a test world needs no KSK/ZSK split).
keygen()
{
	(cd "$DNS" && ldns-keygen -a ECDSAP256SHA256 -k "$1" 2>>"$GENLOG")
}

# sign ZONE KEY [ldns-signzone options]: DNS/ZONE.zone.signed.
sign()
{
	local z=$1 key=$2
	shift 2
	ldns-signzone "$@" -f "$DNS/$z.zone.signed" "$DNS/$z.zone" \
	    "$DNS/$key" 2>>"$GENLOG" ||
	    die "${Z_SRC[$z]:-$z}: ldns-signzone failed (see $GENLOG)"
}

# sign_zone ZONE [KEY]: signs DNS/ZONE.zone as its mode says (or checks
# it, when insecure).  Without KEY (up) with a new key, whose name it
# keeps in DNS/ZONE.signkey, and writes DNS/ZONE.ds, the DS lines for
# test.; with KEY (rezone) with that one, the one the DS in test.
# already names.  Runs as a background job: everything it makes is in
# files.
sign_zone()
{
	local z=$1 key=${2:-}
	case ${Z_MODE[$z]} in
	insecure)
		nsd-checkzone "$z" "$DNS/$z.zone" >/dev/null 2>>"$GENLOG" ||
		    die "${Z_SRC[$z]}: the zone does not load (see $GENLOG)"
		cp "$DNS/$z.zone" "$DNS/$z.zone.signed"
		[ -n "${2:-}" ] || : >"$DNS/$z.ds"
		return
		;;
	signed | bogus-ds)
		[ -n "$key" ] || key=$(keygen "$z")
		sign "$z" "$key" -i "$SIG_NOW"
		;;
	bogus)
		# Signatures that expired a month ago.
		[ -n "$key" ] || key=$(keygen "$z")
		sign "$z" "$key" -i "$SIG_PAST_I" -e "$SIG_PAST_E"
		;;
	esac
	[ -z "${2:-}" ] || return 0
	printf '%s\n' "$key" >"$DNS/$z.signkey"
	# bogus-ds: the parent's DS names a key that signs nothing.
	[ "${Z_MODE[$z]}" != bogus-ds ] || key=$(keygen "$z")
	ldns-key2ds -n -2 "$DNS/$key.key" >"$DNS/$z.ds" 2>>"$GENLOG"
}

make_dns()
{
	local z key pid
	local -A jobs=()
	mkdir -p "$DNS"
	GENLOG=$WORLD_DIR/log/dns-gen.log
	# Inception an hour ago: no "signature not yet valid" from a
	# clock a little behind; bogus signatures expired a month ago.
	SIG_NOW=$(date -u -d '-1 hour' +%Y%m%d%H%M%S)
	SIG_PAST_I=$(date -u -d '-60 days' +%Y%m%d%H%M%S)
	SIG_PAST_E=$(date -u -d '-30 days' +%Y%m%d%H%M%S)
	# Zone files here (they note the addresses for lo), signing in
	# parallel.  What rezone may not change is kept next to each zone.
	for z in "${DOMAINS[@]}"; do
		write_zone "$z"
		printf '%s' "${Z_FIXED[$z]}" >"$DNS/$z.fixed"
	done
	for z in "${DOMAINS[@]}"; do
		sign_zone "$z" &
		jobs[$!]=$z
	done
	for pid in "${!jobs[@]}"; do
		wait "$pid" ||
		    die "${Z_SRC[${jobs[$pid]}]}: no zone (see $GENLOG)"
	done
	# The parent test.: a delegation for every child, the DS of the
	# secure (and bogus) ones; its own DS is the trust anchor.
	key=$(keygen test)
	{
		printf '; generated by world.sh\n$ORIGIN test.\n$TTL 300\n'
		printf '@ IN SOA ns1.test. hostmaster.test. 1 3600 900 604800 60\n'
		printf '@ IN NS ns1.test.\nns1 IN A %s\n' "$ADDR_AUTH"
		for z in "${DOMAINS[@]}"; do
			printf '%s. IN NS ns1.test.\n' "$z"
			cat "$DNS/$z.ds"
		done
	} >"$DNS/test.zone"
	sign test "$key" -i "$SIG_NOW"
	ldns-key2ds -n -2 "$DNS/$key.key" >"$DNS/test.ds"
	write_nsd_conf
	write_unbound_conf
}

# nsd.conf: everything under WORLD_DIR, xfrdir included (by default
# nsd makes an nsd.XXXXXX directory in /tmp, which a killed nsd leaves).
write_nsd_conf()
{
	local z
	{
		cat <<EOF
# generated by world.sh
server:
    ip-address: $ADDR_AUTH
    port: 53
    username: ""
    chroot: ""
    database: ""
    zonesdir: "$DNS"
    zonelistfile: "$DNS/zone.list"
    xfrdfile: "$DNS/xfrd.state"
    xfrdir: "$DNS"
    pidfile: "$RUN/nsd.pid"
    logfile: "$WORLD_DIR/log/nsd.log"
    server-count: 1
    verbosity: 1
remote-control:
    control-enable: no
EOF
		for z in test "${DOMAINS[@]}"; do
			printf 'zone:\n    name: "%s."\n' "$z"
			printf '    zonefile: "%s.zone.signed"\n' "$z"
		done
	} >"$DNS/nsd.conf"
	nsd-checkconf "$DNS/nsd.conf" || die "bad nsd.conf"
}

write_unbound_conf()
{
	# The resolver knows only the world: test. comes from nsd and is
	# validated from the DS of test.; every other name is answered
	# NXDOMAIN at once ("." static) instead of timing out on root
	# servers that cannot be reached.  test. is a built-in empty zone
	# (RFC 6761), hence "transparent" (proven: see notes).
	cat >"$DNS/unbound.conf" <<EOF
# generated by world.sh
server:
    interface: $ADDR_RESOLVER
    port: 53
    username: ""
    chroot: ""
    directory: "$DNS"
    pidfile: "$RUN/unbound.pid"
    logfile: "$WORLD_DIR/log/unbound.log"
    use-syslog: no
    log-time-ascii: yes
    verbosity: 1
    val-log-level: 2
    num-threads: 1
    do-ip6: no
    do-not-query-localhost: no
    trust-anchor-file: "$DNS/test.ds"
    local-zone: "." static
    local-zone: "test." transparent
# rezone flushes what unbound knows of a zone it changed; the port is
# the namespace's own, and only root in it can connect.
remote-control:
    control-enable: yes
    control-interface: $ADDR_RESOLVER
    control-port: $UNBOUND_CONTROL_PORT
    control-use-cert: no
stub-zone:
    name: "test."
    stub-addr: $ADDR_AUTH
EOF
	unbound-checkconf "$DNS/unbound.conf" >/dev/null || die "bad unbound.conf"
}

# ======================================================================
# HTTPS: the policy files and the server configs
# ======================================================================

make_https()
{
	local z main=() ref=()
	mkdir -p "$HTTPS/policies" "$HTTPS/nginx-temp"
	for z in "${DOMAINS[@]}"; do
		case ${Z_POLICY[$z]} in
		"") ;;
		inline) printf '%s' "${Z_INLINE[$z]}" >"$HTTPS/policies/$z.txt" ;;
		*) cp "${Z_POLICY[$z]}" "$HTTPS/policies/$z.txt" ;;
		esac
		[ -n "${CERT[mta-sts.$z]:-}" ] || continue
		if [ "$(https_of "$z")" = main ]; then
			main+=("$z")
		else
			ref+=("$z")
		fi
	done
	write_mtasts_conf ${main[@]+"${main[@]}"}
	# nginx: the reference server always, the main one in nginx mode.
	{
		nginx_head
		if [ "$WORLD_HTTPS" = nginx ]; then
			nginx_servers "$ADDR_MAIN" "$ADDR6_MAIN" ${main[@]+"${main[@]}"}
		fi
		nginx_servers "$ADDR_REF" "$ADDR6_REF" ${ref[@]+"${ref[@]}"}
		printf '}\n'
	} >"$HTTPS/nginx.conf"
	if [ "$WORLD_HTTPS" = mtasts ] && [ ${#ref[@]} -eq 0 ]; then
		NEED_NGINX=0
	else
		NEED_NGINX=1
	fi
}

# write_mtasts_conf ZONE...: the mtasts.conf(5) of the main server.
write_mtasts_conf()
{
	local z
	{
		printf '# generated by world.sh: the main policy server\n'
		printf 'listen %s:443\nlisten [%s]:443\n' "$ADDR_MAIN" "$ADDR6_MAIN"
		printf 'access-log %s/log/mtasts-access.log\n' "$WORLD_DIR"
		for z in "$@"; do
			printf '\ndomain %s {\n' "$z"
			printf '    policy %s/policies/%s.txt\n' "$HTTPS" "$z"
			printf '    certificate %s/mta-sts.%s.pem\n' "$PKI" "$z"
			printf '    key %s/mta-sts.%s.key\n}\n' "$PKI" "$z"
		done
	} >"$HTTPS/mtasts.conf"
}

nginx_head()
{
	# `user root`: the workers read the policy files under WORLD_DIR,
	# which mktemp made 0700.  The temp paths keep nginx out of
	# /var/lib/nginx; -e on the command line keeps it out of /var/log.
	cat <<EOF
# generated by world.sh
user root root;
worker_processes 1;
pid $RUN/nginx.pid;
error_log $WORLD_DIR/log/nginx-error.log;
events { worker_connections 256; }
http {
    access_log $WORLD_DIR/log/nginx-access.log;
    server_tokens off;
    client_body_temp_path $HTTPS/nginx-temp/body;
    proxy_temp_path $HTTPS/nginx-temp/proxy;
    fastcgi_temp_path $HTTPS/nginx-temp/fastcgi;
    uwsgi_temp_path $HTTPS/nginx-temp/uwsgi;
    scgi_temp_path $HTTPS/nginx-temp/scgi;
    types { }
EOF
}

# nginx_servers ADDR ADDR6 ZONE...: SNI server blocks for mta-sts.ZONE.
# A name no block has gets a TLS alert (there is no right certificate
# to show for it), and any other path than the policy's a 404.
nginx_servers()
{
	local a4=$1 a6=$2 z q v ctype answer chunked
	shift 2
	cat <<EOF
    server {
        listen $a4:443 ssl default_server;
        listen [$a6]:443 ssl default_server;
        ssl_reject_handshake on;
    }
EOF
	for z in "$@"; do
		cat <<EOF
    server {
        listen $a4:443 ssl;
        listen [$a6]:443 ssl;
        server_name mta-sts.$z;
        ssl_certificate $PKI/mta-sts.$z.pem;
        ssl_certificate_key $PKI/mta-sts.$z.key;
        location / { return 404; }
        location = /.well-known/mta-sts.txt {
EOF
		# Quirks first: a status or redirect replaces the policy.
		ctype=text/plain
		answer=""
		chunked=""
		while read -r q v; do
			case $q in
			status) answer="return $v;" ;;
			# \xHH in the URL is that octet (a hostile Location).
			redirect) printf -v v '%b' "$v"
				answer="return 301 $v;" ;;
			content-type) ctype=$v ;;
			# The SSI filter drops Content-Length (it may change the
			# body), so nginx sends the file chunked, byte for byte
			# (a policy has no "<!--#").
			chunked) chunked=1 ;;
			esac
		done <<<"${Z_HTTP[$z]}"
		if [ -z "$answer" ]; then
			if [ -n "${Z_POLICY[$z]}" ]; then
				answer="alias $HTTPS/policies/$z.txt;"
			else
				answer="return 404;"
			fi
		fi
		printf '            default_type %s;\n' "$ctype"
		[ -z "$chunked" ] ||
		    printf '            ssi on;\n            ssi_types *;\n'
		printf '            %s\n        }\n    }\n' "$answer"
	done
}

# ======================================================================
# SMTP: one receiving Postfix instance per `smtp` host
# ======================================================================
#
# Each instance is a Postfix of its own, without postmulti: its own
# config_directory, queue_directory and data_directory under
# $PFX/HOST/, one smtpd on port 25 of the host's addresses (its A and
# AAAA records), the host's certificate, a log file of its own.  It
# accepts mail for every name under test. and throws it away (discard),
# which is all a receiving MX must do for a sender to call the delivery
# done.

# postfix_addrs HOST: the host's addresses, checked: each one the
# world's (on lo), none a fixed service's, none another MX's.  Sets
# PF_ADDRS (IPv6 in brackets, as main.cf wants them) and PF_PROTOS.
declare -A PF_OWNER=() # address -> the smtp host that listens on it
postfix_addrs()
{
	local host=$1 a v4=0 v6=0
	PF_ADDRS=""
	for a in ${HOST_ADDRS[$host]:-}; do
		[ -n "${LO_ADDRS[${a,,}]:-}" ] ||
		    die "${SMTP_AT[$host]}: $host: $a is not an address of the" \
		    "world (127.0.0.0/8 or $ULA::/64)"
		case $a in
		"$ADDR_RESOLVER" | "$ADDR_SENDER" | "$ADDR_AUTH" | "$ADDR_MAIN" | \
		    "$ADDR_REF" | "$ADDR_TLSRPT")
			die "${SMTP_AT[$host]}: $host: $a is a service address" \
			    "(README.md, the address plan)"
			;;
		esac
		[ -z "${PF_OWNER[${a,,}]:-}" ] ||
		    die "${SMTP_AT[$host]}: $host: $a is ${PF_OWNER[${a,,}]}'s too"
		PF_OWNER[${a,,}]=$host
		case $a in
		*:*) PF_ADDRS+="${PF_ADDRS:+, }[$a]"; v6=1 ;;
		*) PF_ADDRS+="${PF_ADDRS:+, }$a"; v4=1 ;;
		esac
	done
	[ -n "$PF_ADDRS" ] ||
	    die "${SMTP_AT[$host]}: $host has no A or AAAA record"
	case $v4$v6 in
	11) PF_PROTOS=all ;;
	10) PF_PROTOS=ipv4 ;;
	01) PF_PROTOS=ipv6 ;;
	esac
}

# postfix_tls HOST: the main.cf lines of the host's STARTTLS.  A CA
# certificate goes into the chain after the leaf: RFC 7672 §3.1.2 wants
# the trust anchor of a DANE-TA digest record in the chain.
postfix_tls()
{
	local host=$1 chain
	case ${SMTP[$host]}:${CERT[$host]:-} in
	no-starttls:* | *:)
		printf 'smtpd_tls_security_level = none\n'
		return
		;;
	starttls-refused:*)
		# smtpd offers STARTTLS (the level says so) but has no usable
		# certificate: "454 4.7.0 TLS not available due to local
		# problem", the classic refusal (checklist STS-CERT-1 T2).
		chain=$PKI/broken-chain.pem
		;;
	# Leaf only: a DANE-TA record must carry a trust anchor the chain
	# lacks (RFC 7671 §5.2.2, §5.2.3: full 2 0 0 and 2 1 0 records
	# work, a digest cannot).
	*:self-signed | starttls-leaf-only:*)
		chain="$PKI/$host.key, $PKI/$host.pem" ;;
	sni-required:*)
		# The host's chain only for SNI naming it; without SNI a
		# self-signed fallback (RFC 7672 §8.1 forbids needing SNI).
		chain="$PKI/$SNI_FALLBACK.key, $PKI/$SNI_FALLBACK.pem"
		printf 'tls_server_sni_maps = hash:%s/etc/sni\n' "$PFX/$host"
		;;
	*) chain="$PKI/$host.key, $PKI/$host.pem, $PKI/ca.pem" ;;
	esac
	printf 'smtpd_tls_security_level = may\n'
	printf 'smtpd_tls_chain_files = %s\n' "$chain"
	printf 'smtpd_tls_loglevel = 1\n'
	if [ "${SMTP[$host]}" = old-tls ]; then
		# TLS 1.0 alone, which OpenSSL 3 allows only at security
		# level 0: senders that want TLS 1.2 (RFC 8461 §7.2, checklist
		# STS-CERT-8) fail the handshake.
		printf 'smtpd_tls_protocols = TLSv1\n'
		printf 'tls_medium_cipherlist = DEFAULT:@SECLEVEL=0\n'
	fi
}

# postfix_mode HOST: main.cf lines of the modes that are not about TLS.
# With smtpd_delay_reject = no the client restrictions run at connect,
# before the greeting: `sleep` keeps quiet, `reject` greets with 554
# (RFC 5321 §3.1); the HELO restrictions run at EHLO and HELO, whose
# `reject` answers both with 5xx (and smtpd_helo_required refuses a
# session that skips them).
postfix_mode()
{
	case ${SMTP[$1]} in
	silent)
		printf 'smtpd_delay_reject = no\n'
		printf 'smtpd_client_restrictions = sleep %s\n' "$SILENT_SECONDS"
		;;
	banner-554)
		printf 'smtpd_delay_reject = no\n'
		printf 'smtpd_client_restrictions = reject\n'
		;;
	ehlo-refused)
		printf 'smtpd_delay_reject = no\n'
		printf 'smtpd_helo_required = yes\n'
		printf 'smtpd_helo_restrictions = reject\n'
		;;
	esac
}

# postfix_instance HOST: $PFX/HOST/etc/{main,master}.cf.  (Builtins
# only, no cat: a dozen instances would cost a dozen forks each.)
postfix_instance()
{
	local host=$1 d=$PFX/$1 text
	postfix_addrs "$host"
	IFS= read -r -d '' text <<EOF || true
# generated by world.sh: the MX $host (${SMTP_AT[$host]}: ${SMTP[$host]})
compatibility_level = 3.6
queue_directory = $d/spool
data_directory = $d/data
maillog_file = $WORLD_DIR/log/postfix-$host.log
maillog_file_prefixes = $WORLD_DIR/log
inet_interfaces = $PF_ADDRS
inet_protocols = $PF_PROTOS
myhostname = $host
smtpd_banner = $host ESMTP mtasts world
mydestination =
relay_domains = test
relay_transport = discard:accepted-by-$host
default_transport = discard:accepted-by-$host
mynetworks = 127.0.0.0/8, [::1]/128, [$ULA::]/64
smtpd_relay_restrictions = permit_mynetworks, reject_unauth_destination
alias_maps =
alias_database =
smtputf8_enable = no
biff = no
notify_classes =
# No root zone in the world: no DNSSEC self-test at start.
dnssec_probe =
EOF
	{
		printf '%s' "$text"
		postfix_tls "$host"
		postfix_mode "$host"
	} >"$d/etc/main.cf"
	printf '%s' "$PF_MASTER_CF" >"$d/etc/master.cf"
}

# Only smtpd listens (no submission, no pickup: nothing is submitted
# locally); the rest is what accepting and discarding a message takes.
# chroot "n" everywhere: the paths are the world's.
IFS= read -r -d '' PF_MASTER_CF <<'EOF' || true
# generated by world.sh
smtp      inet  n       -       n       -       -       smtpd
cleanup   unix  n       -       n       -       0       cleanup
qmgr      unix  n       -       n       300     1       qmgr
tlsmgr    unix  -       -       n       1000?   1       tlsmgr
rewrite   unix  -       -       n       -       -       trivial-rewrite
bounce    unix  -       -       n       -       0       bounce
defer     unix  -       -       n       -       0       bounce
trace     unix  -       -       n       -       0       bounce
verify    unix  -       -       n       -       1       verify
flush     unix  n       -       n       1000?   0       flush
proxymap  unix  -       -       n       -       -       proxymap
showq     unix  n       -       n       -       -       showq
error     unix  -       -       n       -       -       error
retry     unix  -       -       n       -       -       error
discard   unix  -       -       n       -       -       discard
anvil     unix  -       -       n       -       1       anvil
scache    unix  -       -       n       -       1       scache
postlog   unix-dgram n  -       n       -       1       postlogd
EOF

# postfix_sni_map HOST: the SNI table of an sni-required host: its own
# chain for its own name (postmap -F stores the files' contents), and
# the fallback certificate the server sends without SNI.
postfix_sni_map()
{
	local host=$1 etc=$PFX/$1/etc
	[ -s "$PKI/$SNI_FALLBACK.pem" ] ||
	    make_cert "$SNI_FALLBACK" self-signed \
	    >>"$WORLD_DIR/log/openssl.log" 2>&1 ||
	    die "making the SNI fallback certificate failed"
	printf '%s %s, %s, %s\n' "$host" "$PKI/$host.key" "$PKI/$host.pem" \
	    "$PKI/ca.pem" >"$etc/sni"
	# Not with the instance's main.cf: outside the namespace its
	# inet_interfaces are not local, and postmap would refuse it.
	mkdir -p "$etc/postmap" && : >"$etc/postmap/main.cf" &&
	    postmap -F -c "$etc/postmap" "hash:$etc/sni" ||
	    die "postmap -F of $etc/sni failed"
}

make_postfix()
{
	local host
	local -a paths=()
	[ ${#PF_ALL[@]} -ne 0 ] || return 0
	printf '%s\n' '# not a certificate: STARTTLS fails (smtp HOST starttls-refused)' \
	    >"$PKI/broken-chain.pem"
	for host in "${PF_ALL[@]}"; do
		paths+=("$PFX/$host/etc" "$PFX/$host/spool" "$PFX/$host/data")
	done
	mkdir -p "${paths[@]}"
	for host in ${PF_HOSTS[@]+"${PF_HOSTS[@]}"}; do
		postfix_instance "$host"
		[ "${SMTP[$host]}" = sni-required ] || continue
		postfix_sni_map "$host"
	done
	[ "${WORLD_SENDER:-0}" != 1 ] || sender_instance
	# Postfix waits, rereading it every 0.3 s, until a config file it
	# reads is older than a second or two (so it does not read one being
	# written): two seconds of every start.  These are complete.
	touch -d '1 minute ago' "$PFX"/*/etc/main.cf "$PFX"/*/etc/master.cf
}

# postfix_pid HOST: the pid of the instance's master, from its pid file
# (a number padded with blanks).
postfix_pid()
{
	local pid=""
	[ -f "$PFX/$1/spool/pid/master.pid" ] &&
	    read -r pid <"$PFX/$1/spool/pid/master.pid"
	printf '%s' "$pid"
}

# Postfix's daemons run as user postfix and open data_directory by its
# absolute path: the path down to it must let that user through.  A
# WORLD_DIR from mktemp is 0700; o+x lets users through it without
# letting them list it.  `down` takes the bit back from a WORLD_DIR the
# caller gave.
postfix_path_open()
{
	local host
	if [ -z "$(find "$WORLD_DIR" -maxdepth 0 -perm -o+x)" ]; then
		chmod o+x "$WORLD_DIR"
		state_set added_o_x 1
	fi
	chmod 0711 "$PFX"
	for host in "${PF_ALL[@]}"; do
		chmod 0711 "$PFX/$host"
	done
	runuser -u postfix -- test -x "$PFX/${PF_ALL[0]}" ||
	    die "user postfix cannot reach $PFX: a WORLD_DIR (or TMPDIR)" \
	    "under a directory closed to others?"
}

# postfix_queues: the queue and data directories of every instance, as
# Postfix's own list (postfix-files in meta_directory) wants them, and a
# quick-start file in each queue, with which `postfix start` skips its
# checks (postfix-script).  `postfix check` would make the directories
# too, at ~0.4 s of CPU an instance; here one mkdir, chown and chmod for
# each owner and mode, for every instance at once.
postfix_queues()
{
	local meta owner setgid line path user group mode host key
	local -a conf spec
	local -A dirs=()
	mapfile -t conf < <(postconf -dh meta_directory mail_owner setgid_group)
	meta=${conf[0]:-} owner=${conf[1]:-} setgid=${conf[2]:-}
	[ -n "$setgid" ] || die "postconf -d failed"
	mapfile -t spec < <(grep -E '^\$(queue|data)_directory[^:]*:d:' \
	    "$meta/postfix-files")
	[ ${#spec[@]} -ge 3 ] || die "no queue layout in $meta/postfix-files"
	# The queue directory comes first in the list, before its children.
	for line in "${spec[@]}"; do
		IFS=: read -r path _ user group mode _ <<<"$line"
		key="${user/\$mail_owner/$owner}:${group/\$setgid_group/$setgid}:$mode"
		for host in "${PF_ALL[@]}"; do
			case $path in
			\$queue_directory*)
				dirs[$key]+=" $PFX/$host/spool${path#\$queue_directory}" ;;
			\$data_directory*)
				dirs[$key]+=" $PFX/$host/data${path#\$data_directory}" ;;
			esac
		done
	done
	for key in "${!dirs[@]}"; do
		IFS=: read -r user group mode <<<"$key"
		[ "$group" != - ] || group=""
		# shellcheck disable=SC2086 # paths of plain characters
		mkdir -p ${dirs[$key]} &&
		    chown "$user${group:+:$group}" ${dirs[$key]} &&
		    chmod "$mode" ${dirs[$key]} ||
		    die "cannot make the Postfix queues"
	done
	for host in "${PF_ALL[@]}"; do
		: >"$PFX/$host/spool/quick-start"
	done
}

# start_postfix: every instance at once, `postfix start` each; it returns
# when the master has bound its sockets (master -w), so a port that then
# refuses is a failure.
start_postfix()
{
	local host pid a addrs
	local -A jobs=()
	[ ${#PF_ALL[@]} -ne 0 ] || return 0
	postfix_path_open
	postfix_queues
	for host in "${PF_ALL[@]}"; do
		ns_exec postfix -c "$PFX/$host/etc" start \
		    >>"$WORLD_DIR/log/postfix-$host.log" 2>&1 </dev/null &
		jobs[$!]=$host
	done
	for pid in "${!jobs[@]}"; do
		if ! wait "$pid"; then
			host=${jobs[$pid]}
			WAIT_FAILED="postfix of $host did not start"
			WAIT_FAILED+=" (see $WORLD_DIR/log/postfix-$host.log)"
			return 1
		fi
	done
	for host in "${PF_ALL[@]}"; do
		addrs=${HOST_ADDRS[$host]:-}
		[ "$host" != sender ] || addrs=$ADDR_SENDER
		for a in $addrs; do
			wait_for "postfix of $host on $a:25" 5 tcp_open "$a" 25 ||
			    return 1
		done
	done
}

# ======================================================================
# SMTP: the sending Postfix (WORLD_SENDER=1)
# ======================================================================
#
# An instance made and started like the MX hosts' ($PFX/sender/), for
# the tests of `mtasts policyd` (tests/e2e/policyd_world.sh): it accepts
# mail from 127.0.0.0/8 on 127.0.0.2:25 (swaks) and relays it to the
# recipient domain's MX by the world's DNS, as a Debian Postfix with
# policyd would: DNSSEC-validated lookups (so DANE can work), the world
# CA as its only trust anchor for certificates, and the TLS level of
# each domain from smtp_tls_policy_maps (whatever answers the socketmap
# on 127.0.0.1:8461; no answer at all defers the mail).  No local
# delivery.  A deferred message stays in the queue (tests read
# `postqueue -j` and the log); retries come every 15 to 60 s.

# sender_instance: $PFX/sender/etc/{main,master}.cf.
sender_instance()
{
	local d=$PFX/sender text
	IFS= read -r -d '' text <<EOF || true
# generated by world.sh: the sending Postfix (WORLD_SENDER=1)
compatibility_level = 3.6
queue_directory = $d/spool
data_directory = $d/data
maillog_file = $WORLD_DIR/log/postfix-sender.log
maillog_file_prefixes = $WORLD_DIR/log
inet_interfaces = $ADDR_SENDER
inet_protocols = ipv4
myhostname = sender.test
myorigin = sender.test
smtpd_banner = sender.test ESMTP mtasts world sender
mydestination =
local_recipient_maps =
local_transport = error:5.1.1 no local delivery in the world's sender
relay_domains =
mynetworks = 127.0.0.0/8
smtpd_relay_restrictions = permit_mynetworks, reject
smtpd_tls_security_level = none
default_transport = smtp
relay_transport = smtp
# DANE needs validated MX and TLSA answers: the resolver's AD bit
# (resolv.conf has "options trust-ad").
smtp_dns_support_level = dnssec
smtp_tls_security_level = may
smtp_tls_CAfile = $PKI/ca.pem
smtp_tls_policy_maps = $POLICYD_MAP
# Level 1 and the certificate match lines: "Matched DANE EE certificate
# at depth 0: 3 1 1 ..." shows which TLSA record authenticated a DANE
# delivery (tls_log_mask() of Postfix reads these names).
smtp_tls_loglevel = 1,certmatch
smtp_connect_timeout = 5s
# Tests want the first attempt's outcome at once and later attempts
# soon; a deferred message is kept for an hour.
queue_run_delay = 15s
minimal_backoff_time = 15s
maximal_backoff_time = 60s
maximal_queue_lifetime = 1h
bounce_queue_lifetime = 1h
delay_warning_time = 0
alias_maps =
alias_database =
smtputf8_enable = no
biff = no
notify_classes =
# No root zone in the world: no DNSSEC self-test at start.
dnssec_probe =
EOF
	printf '%s' "$text" >"$d/etc/main.cf"
	printf '%s%s' "$PF_MASTER_CF" "$PF_SENDER_MASTER_CF" >"$d/etc/master.cf"
}

# The sender's master.cf: the MX hosts' services and the SMTP client.
IFS= read -r -d '' PF_SENDER_MASTER_CF <<'EOF' || true
smtp      unix  -       -       n       -       -       smtp
relay     unix  -       -       n       -       -       smtp
EOF

# ======================================================================
# SMTP: a raw server for each `smtp HOST garbage`
# ======================================================================
#
# No Postfix sends a malformed reply, so these hosts get a small
# python3 server instead: one process per host, listening on port 25 of
# every address of the host, serving every connection, until `down`
# stops it with the rest of the namespace.

# The server, written to $WORLD_DIR/smtp/garbage.py (run as
# `garbage.py HOST ADDR...`).  The greeting's code has two digits: no
# reply at all in RFC 5321 §4.2 terms, so a sender cannot even tell a
# refusal (that would be a 554) from a welcome.  It answers every line
# that follows the same way and closes when the client does, or after
# a minute of silence; it closes no earlier, so that a client never
# meets a reset before it has read the greeting.
IFS= read -r -d '' GARBAGE_PY <<'EOF' || true
# generated by world.sh: the MX of `smtp HOST garbage`
import asyncio
import sys

HOST, ADDRS = sys.argv[1], sys.argv[2:]
REPLY = ("22 %s ESMTP mtasts world: a two-digit reply code\r\n" % HOST).encode()
IDLE = 60


async def session(reader, writer):
    print("connect from", writer.get_extra_info("peername")[0], flush=True)
    try:
        writer.write(REPLY)
        await writer.drain()
        while await asyncio.wait_for(reader.readline(), IDLE):
            writer.write(REPLY)
            await writer.drain()
    except (OSError, ValueError, asyncio.TimeoutError):
        pass
    finally:
        writer.close()


async def main():
    server = await asyncio.start_server(session, ADDRS, 25)
    async with server:
        await server.serve_forever()


asyncio.run(main())
EOF

# make_raw_smtp: checks the raw hosts' addresses as an instance's are
# checked, and writes the server.
make_raw_smtp()
{
	local host
	[ ${#RAW_HOSTS[@]} -ne 0 ] || return 0
	for host in "${RAW_HOSTS[@]}"; do
		postfix_addrs "$host"
	done
	mkdir -p "$WORLD_DIR/smtp"
	printf '%s' "$GARBAGE_PY" >"$WORLD_DIR/smtp/garbage.py"
}

# start_raw_smtp: starts every raw server in the background, pid in
# $RUN/garbage-HOST.pid (ip netns exec and setsid exec: $! is python).
start_raw_smtp()
{
	local host
	for host in ${RAW_HOSTS[@]+"${RAW_HOSTS[@]}"}; do
		# shellcheck disable=SC2086 # a list of addresses
		setsid ip netns exec "$WORLD_NS" python3 \
		    "$WORLD_DIR/smtp/garbage.py" "$host" ${HOST_ADDRS[$host]} \
		    </dev/null >>"$WORLD_DIR/log/garbage-$host.log" 2>&1 &
		printf '%s\n' "$!" >"$RUN/garbage-$host.pid"
	done
}

# wait_raw_smtp: until each raw server accepts on each of its addresses.
wait_raw_smtp()
{
	local host a
	for host in ${RAW_HOSTS[@]+"${RAW_HOSTS[@]}"}; do
		for a in ${HOST_ADDRS[$host]}; do
			wait_for "garbage server of $host on $a:25" 5 \
			    serving "$RUN/garbage-$host.pid" "$a" 25 || return 1
		done
	done
}

# ======================================================================
# State: WORLD_DIR, its record for `down`, the namespace
# ======================================================================

# Which server is the main one; mtasts only when the binary has `serve`
# (a binary from before `serve` existed may answer --help with 0 and
# nothing else, so its help text must name the subcommand too).
choose_https()
{
	local out
	case ${WORLD_HTTPS:-} in
	nginx) return ;;
	mtasts)
		[ -n "${MTASTS:-}" ] && [ -x "$MTASTS" ] ||
		    die "WORLD_HTTPS=mtasts needs MTASTS=<path of the mtasts binary>"
		return
		;;
	"") ;;
	*) die "WORLD_HTTPS must be mtasts or nginx" ;;
	esac
	WORLD_HTTPS=nginx
	if [ -n "${MTASTS:-}" ] && [ -x "$MTASTS" ] &&
	    out=$("$MTASTS" serve --help 2>&1 </dev/null) &&
	    [[ $out == *serve* ]]; then
		WORLD_HTTPS=mtasts
	fi
}

set_paths()
{
	PKI=$WORLD_DIR/pki
	DNS=$WORLD_DIR/dns
	HTTPS=$WORLD_DIR/https
	PFX=$WORLD_DIR/postfix
	RUN=$WORLD_DIR/run
}

# state_get KEY: a value of WORLD_DIR/world.state (KEY=VALUE lines,
# read, never sourced).
state_get()
{
	local k v
	[ -f "$WORLD_DIR/world.state" ] || return 0
	while IFS='=' read -r k v; do
		[ "$k" != "$1" ] || { printf '%s' "$v"; return 0; }
	done <"$WORLD_DIR/world.state"
}

state_set()
{
	printf '%s=%s\n' "$1" "$2" >>"$WORLD_DIR/world.state"
}

# find_world: sets WORLD_DIR of the running (or half-made) world of
# WORLD_NS from the record `up` left; returns 1 when there is none.
find_world()
{
	local d=""
	[ -f "$POINTER" ] && d=$(<"$POINTER")
	if [ -z "$d" ] && [ -f "${WORLD_DIR:-/nonexistent}/world.state" ]; then
		d=$WORLD_DIR
	fi
	[ -n "$d" ] || return 1
	WORLD_DIR=$d
	set_paths
}

# new_world_dir: makes WORLD_DIR and records it before anything else
# exists, so that `down` can find whatever a killed `up` left.
new_world_dir()
{
	local created=0
	if [ -z "${WORLD_DIR:-}" ]; then
		WORLD_DIR=$(mktemp -d "${TMPDIR:-/tmp}/mtasts-world.XXXXXX")
		created=1
	elif [ ! -e "$WORLD_DIR" ]; then
		mkdir -p "$WORLD_DIR"
		created=1
	elif [ -n "$(ls -A "$WORLD_DIR")" ]; then
		die "WORLD_DIR $WORLD_DIR is not empty"
	fi
	WORLD_DIR=$(cd "$WORLD_DIR" && pwd -P)
	if ! check_world_dir_name "$WORLD_DIR"; then
		[ "$created" = 0 ] || rmdir "$WORLD_DIR"
		exit 1
	fi
	mkdir -p "$WORLD_RUN"
	printf '%s\n' "$WORLD_DIR" >"$POINTER"
	state_set created "$created"
	state_set ns "$WORLD_NS"
	set_paths
	mkdir -p "$RUN" "$WORLD_DIR/log"
}

# The namespace's identity: the inode of /run/netns/NAME, which is what
# /proc/PID/ns/net of its processes points to ("net:[INODE]").
ns_inode()
{
	stat -L -c %i "/run/netns/$WORLD_NS" 2>/dev/null
}

ns_exec()
{
	ip netns exec "$WORLD_NS" "$@"
}

make_netns()
{
	local a batch=$WORLD_DIR/ip.batch
	# ip netns exec bind-mounts /etc/netns/NAME/* over /etc/*: the
	# world's own resolver and no host entries from the machine.
	mkdir -p "/etc/netns/$WORLD_NS"
	printf 'nameserver %s\noptions edns0 trust-ad\n' "$ADDR_RESOLVER" \
	    >"/etc/netns/$WORLD_NS/resolv.conf"
	printf '127.0.0.1 localhost\n::1 localhost ip6-localhost ip6-loopback\n' \
	    >"/etc/netns/$WORLD_NS/hosts"
	ip netns add "$WORLD_NS"
	state_set netns_inode "$(ns_inode)"
	for a in "$ADDR_SENDER" "$ADDR_AUTH" "$ADDR_MAIN" "$ADDR_REF" "$ADDR_TLSRPT"; do
		LO_ADDRS[$a]=4
	done
	LO_ADDRS[$ADDR6_MAIN]=6
	LO_ADDRS[$ADDR6_REF]=6
	{
		printf 'link set lo up\n'
		for a in "${!LO_ADDRS[@]}"; do
			if [ "${LO_ADDRS[$a]}" = 4 ]; then
				printf 'addr add %s/32 dev lo\n' "$a"
			else
				printf 'addr add %s/128 dev lo nodad\n' "$a"
			fi
		done
	} >"$batch"
	ip -n "$WORLD_NS" -batch "$batch"
}

# ======================================================================
# Starting and stopping the servers
# ======================================================================

# wait_for WHAT SECONDS CMD...: polls CMD until it succeeds (0); a
# status of 2 means it never will (the server died).  On failure
# WAIT_FAILED says why.
wait_for()
{
	local what=$1 tries=$(($2 * 20)) rc
	shift 2
	while :; do
		rc=0
		"$@" >/dev/null 2>&1 || rc=$?
		case $rc in
		0) return 0 ;;
		2) WAIT_FAILED="$what: the server exited"; return 1 ;;
		esac
		tries=$((tries - 1))
		if [ "$tries" -le 0 ]; then
			WAIT_FAILED="timed out waiting for $what"
			return 1
		fi
		sleep 0.05
	done
}

dns_answers()
{
	# drill prints the header flags; "ad" appears only when unbound
	# validated the answer, so this also proves the trust anchor.
	local out
	out=$(ns_exec drill -D "@$1" SOA test.) || return 1
	[[ $out == *"rcode: NOERROR"* ]] || return 1
	[ "${2:-}" != ad ] || [[ $out =~ flags:\ qr[a-z\ ]*\ ad[\ \;] ]]
}

tcp_open()
{
	ns_exec bash -c "exec 3<>/dev/tcp/$1/$2" 2>/dev/null
}

# pid_alive PIDFILE: the process lives.  Not `kill -0`, which a zombie
# passes (a killed daemon waits for init to reap it): a live process of
# the world has a network namespace.
pid_alive()
{
	local pid
	[ -f "$1" ] && pid=$(<"$1") && [[ $pid =~ ^[0-9]+$ ]] &&
	    readlink "/proc/$pid/ns/net" >/dev/null 2>&1
}

start_dns()
{
	ns_exec nsd -c "$DNS/nsd.conf" || die "nsd did not start"
	wait_for "nsd on $ADDR_AUTH:53" 5 dns_answers "$ADDR_AUTH" || return 1
	# unbound only after nsd answers: a first query that fails would
	# mark the server down in unbound's infrastructure cache.
	if ! ns_exec unbound -c "$DNS/unbound.conf"; then
		# Debian's AppArmor profile keeps unbound in /etc/unbound.
		if grep -qs '^unbound (enforce)' \
		    /sys/kernel/security/apparmor/profiles; then
			say "hint: AppArmor confines unbound to /etc/unbound:" \
			    "aa-complain /usr/sbin/unbound" >&2
		fi
		die "unbound did not start (see $WORLD_DIR/log/unbound.log)"
	fi
	wait_for "validating unbound on $ADDR_RESOLVER:53" 5 \
	    dns_answers "$ADDR_RESOLVER" ad
}

start_https()
{
	if [ "$WORLD_HTTPS" = mtasts ] && grep -q '^domain ' "$HTTPS/mtasts.conf"; then
		ns_exec "$MTASTS" serve -n -c "$HTTPS/mtasts.conf" \
		    >>"$WORLD_DIR/log/mtasts.log" 2>&1 ||
		    die "mtasts serve -n rejects $HTTPS/mtasts.conf" \
		    "(see $WORLD_DIR/log/mtasts.log)"
		# -d stays in the foreground: setsid detaches it from the
		# caller's terminal and its signals; no fork happens on the
		# way (ip netns exec and setsid exec), so $! is the server.
		setsid ip netns exec "$WORLD_NS" "$MTASTS" serve -d \
		    -c "$HTTPS/mtasts.conf" </dev/null \
		    >>"$WORLD_DIR/log/mtasts.log" 2>&1 &
		printf '%s\n' "$!" >"$RUN/mtasts.pid"
		wait_for "mtasts serve on $ADDR_MAIN:443" 5 \
		    serving "$RUN/mtasts.pid" "$ADDR_MAIN" || return 1
	fi
	if [ "$NEED_NGINX" = 1 ]; then
		ns_exec nginx -e "$WORLD_DIR/log/nginx-error.log" \
		    -c "$HTTPS/nginx.conf" -p "$HTTPS" ||
		    die "nginx did not start (see $WORLD_DIR/log/nginx-error.log)"
		wait_for "nginx on $ADDR_REF:443" 5 serving "$RUN/nginx.pid" "$ADDR_REF"
	fi
}

# serving PIDFILE ADDR [PORT]: the server lives (else 2: stop waiting)
# and accepts on ADDR:PORT (443).
serving()
{
	if [ -f "$1" ] && ! pid_alive "$1"; then
		return 2
	fi
	tcp_open "$2" "${3:-443}"
}

# world_pids: the processes in the world's namespace: every process
# whose network namespace is the one recorded at start, by inode (a
# half-made world is covered, and a half-removed one whose name is gone).
# Pid files and `ip netns pids` could only name candidates that this
# test would keep or drop anyway.  One find over /proc, not a readlink
# per process: with a dozen Postfix instances the world has ~90
# processes and `down` polls this.  (A zombie has no namespace left: it
# is gone for our purpose.)
world_pids()
{
	local inode
	inode=$(state_get netns_inode)
	[ -n "$inode" ] || inode=$(ns_inode) || inode=""
	# No namespace was ever made: no process can be ours.
	[ -n "$inode" ] || return 0
	find /proc/[0-9]*/ns/net -maxdepth 0 -lname "net:\[$inode\]" \
	    2>/dev/null | cut -d/ -f3 | sort -un
}

stop_processes()
{
	local pids
	pids=$(world_pids | tr '\n' ' ')
	[ -n "${pids// /}" ] || return 0
	# shellcheck disable=SC2086 # a list of numbers
	kill -TERM $pids 2>/dev/null || true
	for _ in $(seq 60); do
		pids=$(world_pids | tr '\n' ' ')
		[ -n "${pids// /}" ] || return 0
		sleep 0.05
	done
	say "$PROG: killing what ignored SIGTERM: $pids" >&2
	# shellcheck disable=SC2086
	kill -KILL $pids 2>/dev/null || true
	for _ in $(seq 40); do
		[ -n "$(world_pids)" ] || return 0
		sleep 0.05
	done
	say "$PROG: processes survived SIGKILL: $(world_pids | tr '\n' ' ')" >&2
	return 1
}

# ======================================================================
# Commands
# ======================================================================

generate()
{
	read_domains
	make_pki
	make_dns
	make_https
	make_postfix
	make_raw_smtp
}

cmd_up()
{
	local t0=$SECONDS d SENDER_SAYS=none
	need_root
	check_ns_name
	need_tools ip nsd nsd-checkzone nsd-checkconf unbound unbound-checkconf \
	    ldns-keygen ldns-signzone ldns-key2ds drill openssl setsid stat
	choose_https
	[ "$WORLD_HTTPS" = mtasts ] || need_tools nginx
	# Both checks come before the trap below: their failure must not
	# take down what is there.
	if find_world; then
		die "a world $WORLD_NS is up already ($WORLD_DIR); '$PROG down' first"
	fi
	[ ! -e "/run/netns/$WORLD_NS" ] || die "namespace $WORLD_NS exists" \
	    "without a world record; '$PROG down' removes it"
	new_world_dir
	# From here on, any failure or signal undoes everything.
	trap 'up_failed' EXIT
	trap 'exit 130' INT
	trap 'exit 143' TERM HUP
	trap 'exit 141' PIPE
	state_set https "$WORLD_HTTPS"
	domain_dirs
	state_set domains "$(for d in "${DOMAIN_DIRS[@]}"; do
	    (cd "$d" && pwd -P); done | paste -sd:)"
	state_set policies "$(cd "$WORLD_POLICIES" 2>/dev/null && pwd -P)"
	generate
	[ ${#PF_ALL[@]} -eq 0 ] || need_tools postfix runuser
	if [ "${WORLD_SENDER:-0}" = 1 ]; then
		state_set sender 1
		SENDER_SAYS="on $ADDR_SENDER"
	fi
	[ ${#RAW_HOSTS[@]} -eq 0 ] || need_tools python3
	make_netns
	start_dns || die "$WAIT_FAILED"
	start_https || die "$WAIT_FAILED"
	start_raw_smtp
	start_postfix || die "$WAIT_FAILED"
	wait_raw_smtp || die "$WAIT_FAILED"
	# Later: start_policyd; see README.md "Hooks".  `down` stops
	# it like the others: every process of the namespace is killed.
	# The report on stderr, the variables on stdout:
	# `eval "$(world.sh up)"` works.  The report is made while a
	# failure still undoes the world, so that up never exits non-zero
	# with the world left running.
	say "world $WORLD_NS is up in $((SECONDS - t0)) s: ${#DOMAINS[@]} domains," \
	    "${#SMTP[@]} MX hosts (${#PF_HOSTS[@]} Postfix, ${#RAW_HOSTS[@]} raw)," \
	    "sending Postfix: $SENDER_SAYS," \
	    "main policy server: $WORLD_HTTPS," \
	    "state in $WORLD_DIR" >&2
	trap - EXIT INT TERM HUP PIPE
	cmd_env
}

up_failed()
{
	local rc=$? f
	trap - EXIT INT TERM HUP
	# Whoever reads our output may be gone (`world.sh up | head`):
	# the cleanup must still run to its end.
	trap '' PIPE
	set +e
	[ "$rc" -ne 0 ] || rc=1
	say "$PROG: up failed (exit $rc), undoing it" >&2
	# The servers' logs; openssl.log is mostly noise, and a failed
	# openssl step names it.
	for f in "$WORLD_DIR"/log/*.log; do
		[ -s "$f" ] && [ "${f##*/}" != openssl.log ] || continue
		say "---- last lines of $f" >&2
		tail -n 6 "$f" | sed 's/^/| /' >&2
	done
	cmd_down >&2 || true
	exit "$rc"
}

cmd_down()
{
	local rc=0 created
	need_root
	check_ns_name
	# Run to the end whatever happens to a step or to our output.
	trap '' PIPE HUP INT
	set +e
	if ! find_world; then
		# No record: still remove a namespace of that name (a world
		# whose record was removed by hand); no directory to remove.
		WORLD_DIR=/nonexistent
		set_paths
	fi
	stop_processes || rc=1
	ip netns del "$WORLD_NS" 2>/dev/null || true
	rm -rf "/etc/netns/$WORLD_NS"
	rmdir /etc/netns 2>/dev/null || true # only when no other entry
	if [ -d "$WORLD_DIR" ] && [ "$WORLD_DIR" != /nonexistent ]; then
		if [ "${WORLD_KEEP:-0}" = 1 ]; then
			say "$PROG: kept $WORLD_DIR (WORLD_KEEP=1)"
		else
			created=$(state_get created)
			if [ "$created" = 1 ] || [ -z "$(ls -A "$WORLD_DIR")" ]; then
				# A second try: the jobs of an `up` killed
				# with -9 may still be writing a file or two.
				rm -rf "$WORLD_DIR" 2>/dev/null ||
				    { sleep 0.2; rm -rf "$WORLD_DIR"; }
			else
				# A directory the caller gave: empty it, keep it
				# (and close it again, see postfix_path_open).
				[ "$(state_get added_o_x)" != 1 ] ||
				    chmod o-x "$WORLD_DIR"
				rm -rf "${WORLD_DIR:?}"/{world.state,ip.batch} \
				    "$WORLD_DIR"/{run,log,pki,dns,https,postfix}
			fi
		fi
	fi
	rm -f "$POINTER"
	rmdir "$WORLD_RUN" 2>/dev/null || true
	if [ -e "/run/netns/$WORLD_NS" ]; then
		say "$PROG: namespace $WORLD_NS is still there" >&2
		rc=1
	fi
	return "$rc"
}

cmd_status()
{
	local f name pid rc=0 inode
	need_root
	check_ns_name
	if ! find_world; then
		say "world $WORLD_NS: down"
		return 3
	fi
	inode=$(ns_inode) || inode=""
	say "world $WORLD_NS: $WORLD_DIR (main policy server: $(state_get https))"
	if [ -z "$inode" ]; then
		say "  namespace: missing"
		rc=1
	fi
	for f in "$RUN"/*.pid; do
		[ -f "$f" ] || continue
		name=$(basename "$f" .pid)
		if pid_alive "$f"; then
			say "  $name: running, pid $(<"$f")"
		else
			say "  $name: DEAD (pid file $f)"
			rc=1
		fi
	done
	for f in "$PFX"/*/etc/main.cf; do
		[ -f "$f" ] || continue
		name=${f%/etc/main.cf}
		name=${name##*/}
		pid=$(postfix_pid "$name")
		if [[ $pid =~ ^[0-9]+$ ]] &&
		    readlink "/proc/$pid/ns/net" >/dev/null 2>&1; then
			say "  postfix $name: running, pid $pid"
		else
			say "  postfix $name: DEAD (see $WORLD_DIR/log/postfix-$name.log)"
			rc=1
		fi
	done
	say "  processes in the namespace: $(world_pids | wc -l)"
	if [ -n "$inode" ]; then
		say "  addresses on lo: $(ip -n "$WORLD_NS" -o addr show dev lo |
		    awk '{print $4}' | sort -V | tr '\n' ' ')"
	fi
	return "$rc"
}

# env_vars: the variables the world's users need, as NAME=VALUE lines
# (the values are plain: WORLD_DIR passed check_world_dir_name).
env_vars()
{
	printf 'WORLD_NS=%s\n' "$WORLD_NS"
	printf 'WORLD_DIR=%s\n' "$WORLD_DIR"
	printf 'WORLD_CA=%s\n' "$PKI/ca.pem"
	printf 'WORLD_TA=%s\n' "$DNS/test.ds"
	printf 'WORLD_RESOLVER=%s\n' "$ADDR_RESOLVER"
	printf 'WORLD_AUTH=%s\n' "$ADDR_AUTH"
	printf 'WORLD_HTTPS=%s\n' "$(state_get https)"
	if [ "$(state_get sender)" = 1 ]; then
		printf 'WORLD_SENDER_ADDR=%s\n' "$ADDR_SENDER"
		printf 'WORLD_SENDER_ETC=%s\n' "$PFX/sender/etc"
		printf 'WORLD_SENDER_LOG=%s\n' "$WORLD_DIR/log/postfix-sender.log"
	fi
}

# As sh assignments, quoted anyway: `eval "$(world.sh env)"`, with
# `set -a` before to export them.
cmd_env()
{
	local line
	if [ -z "${PKI:-}" ]; then
		need_root
		check_ns_name
		find_world || { say "world $WORLD_NS is down" >&2; return 3; }
	fi
	env_vars | while IFS= read -r line; do
		printf "%s='%s'\n" "${line%%=*}" "${line#*=}"
	done
}

cmd_exec()
{
	local -a vars
	[ $# -ne 0 ] || usage
	need_root
	check_ns_name
	if ! find_world || [ ! -e "/run/netns/$WORLD_NS" ]; then
		die "world $WORLD_NS is down"
	fi
	mapfile -t vars < <(env_vars)
	exec ip netns exec "$WORLD_NS" env "${vars[@]}" "$@"
}

cmd_gen()
{
	[ -n "${WORLD_DIR:-}" ] || die "gen needs WORLD_DIR (a new or empty directory)"
	need_tools nsd-checkzone nsd-checkconf unbound-checkconf ldns-keygen \
	    ldns-signzone ldns-key2ds openssl
	choose_https
	[ ! -e "$WORLD_DIR" ] || [ -z "$(ls -A "$WORLD_DIR")" ] ||
	    die "WORLD_DIR $WORLD_DIR is not empty"
	mkdir -p "$WORLD_DIR"
	WORLD_DIR=$(cd "$WORLD_DIR" && pwd -P)
	check_world_dir_name "$WORLD_DIR" || exit 1
	set_paths
	mkdir -p "$RUN" "$WORLD_DIR/log"
	state_set https "$WORLD_HTTPS"
	generate
	say "generated into $WORLD_DIR (nothing started)"
}

# soa_serial SERVER ZONE [ad]: the serial SERVER answers for ZONE's SOA
# (with ad: only an answer unbound validated); nothing when it answers
# otherwise.
soa_serial()
{
	local out
	out=$(ns_exec drill -D "@$1" SOA "$2.") || return 0
	[[ $out == *"rcode: NOERROR"* ]] || return 0
	[ "${3:-}" != ad ] || [[ $out =~ flags:\ qr[a-z\ ]*\ ad[\ \;] ]] ||
	    return 0
	awk -v z="$2." 'tolower($1) == z && $4 == "SOA" { print $7; exit }' \
	    <<<"$out"
}

serial_is()
{
	[ "$(soa_serial "$1" "$2" "${4:-}")" = "$3" ]
}

# nsd_reload SERIAL ZONE: SIGHUP makes nsd reread the zone files whose
# mtime changed (nsd(8)); once more each second until it answers with
# SERIAL, in case a reload was already under way and missed the file.
nsd_reload()
{
	local serial=$1 z=$2 pid
	for _ in 1 2 3 4 5; do
		pid=$(<"$RUN/nsd.pid")
		pid_alive "$RUN/nsd.pid" || die "nsd is not running"
		kill -HUP "$pid"
		if wait_for "nsd serving $z with serial $serial" 1 \
		    serial_is "$ADDR_AUTH" "$z" "$serial"; then
			return 0
		fi
	done
	die "$WAIT_FAILED (see $WORLD_DIR/log/nsd.log)"
}

# cmd_rezone ZONE: the records of ZONE's domain file, as they are now,
# in the running world.  Only DNS records can change: the directives
# that made certificates, HTTPS sites, Postfix instances or the DS in
# test. (Z_FIXED) must be those `up` read.
cmd_rezone()
{
	local z=${1,,} f old serial key a t0=$SECONDS
	need_root
	check_ns_name
	need_tools ip drill ldns-signzone nsd-checkzone unbound-control
	if ! find_world || [ ! -e "/run/netns/$WORLD_NS" ]; then
		die "world $WORLD_NS is down"
	fi
	[ -n "$z" ] && [ "$z" != test ] && [ -f "$DNS/$z.zone" ] ||
	    die "$z is not a zone of the world $WORLD_NS (rezone cannot add one)"
	[ -s "$DNS/$z.signkey" ] || [ ! -s "$DNS/$z.ds" ] ||
	    die "$z: no record of its key in $DNS (a world from before rezone?)"
	WORLD_DOMAINS=${GIVEN_DOMAINS:-$(state_get domains)}
	WORLD_POLICIES=${GIVEN_POLICIES:-$(state_get policies)}
	[ -n "$WORLD_DOMAINS" ] || WORLD_DOMAINS=$HERE/domains
	[ -n "$WORLD_POLICIES" ] || WORLD_POLICIES=$HERE/policies
	domain_file "$z"
	f=$DOMAIN_FILE
	[ -n "$f" ] || die "no domain file $z.domain in $WORLD_DOMAINS"
	# Every file, as up read them: a `tlsa auto` may name a host whose
	# certificate another file's `cert` line made.
	read_domains
	old=$(<"$DNS/$z.fixed")
	if [ "$old" != "${Z_FIXED[$z]%$'\n'}" ]; then
		say "$PROG: $f: rezone changes DNS records only (a, aaaa, cname," \
		    "mx, txt, tlsa, record, ttl); these lines differ from what" \
		    "up read ('<' up, '>' now):" >&2
		diff <(printf '%s\n' "$old") <(printf '%s' "${Z_FIXED[$z]}") |
		    grep '^[<>]' >&2 || true
		die "$z: a zone, cert, smtp, https, http or policy change needs" \
		    "a new world (down, then up)"
	fi
	GENLOG=$WORLD_DIR/log/dns-gen.log
	SIG_NOW=$(date -u -d '-1 hour' +%Y%m%d%H%M%S)
	SIG_PAST_I=$(date -u -d '-60 days' +%Y%m%d%H%M%S)
	SIG_PAST_E=$(date -u -d '-30 days' +%Y%m%d%H%M%S)
	serial=$(awk '$2 == "IN" && $3 == "SOA" { print $6; exit }' \
	    "$DNS/$z.zone")
	[[ $serial =~ ^[0-9]+$ ]] || die "$DNS/$z.zone: no SOA serial"
	SOA_SERIAL=$((serial + 1))
	write_zone "$z"
	key=""
	[ "${Z_MODE[$z]}" = insecure ] || key=$(<"$DNS/$z.signkey")
	sign_zone "$z" "${key:-none}"
	nsd-checkzone "$z" "$DNS/$z.zone.signed" >/dev/null 2>>"$GENLOG" ||
	    die "$f: the new zone does not load (see $GENLOG)"
	# New addresses of the world go on lo, as at up (Postfix instances
	# keep the addresses up gave them).
	for a in "${!LO_ADDRS[@]}"; do
		if [ "${LO_ADDRS[$a]}" = 4 ]; then
			ip -n "$WORLD_NS" addr replace "$a/32" dev lo
		else
			ip -n "$WORLD_NS" addr replace "$a/128" dev lo nodad
		fi
	done
	nsd_reload "$SOA_SERIAL" "$z"
	# Whatever unbound has of the zone (records, answers, negative
	# answers, NSEC, keys) goes; the next question goes to nsd.
	ns_exec unbound-control -c "$DNS/unbound.conf" flush_zone "$z." \
	    >/dev/null || die "unbound-control flush_zone $z. failed"
	case ${Z_MODE[$z]} in
	signed)
		wait_for "unbound answering $z with serial $SOA_SERIAL, validated" \
		    5 serial_is "$ADDR_RESOLVER" "$z" "$SOA_SERIAL" ad ||
		    die "$WAIT_FAILED (see $WORLD_DIR/log/unbound.log)"
		;;
	insecure)
		wait_for "unbound answering $z with serial $SOA_SERIAL" \
		    5 serial_is "$ADDR_RESOLVER" "$z" "$SOA_SERIAL" ||
		    die "$WAIT_FAILED (see $WORLD_DIR/log/unbound.log)"
		;;
	esac
	say "$z: serial $SOA_SERIAL served and resolved in $((SECONDS - t0)) s" >&2
}

[ $# -ne 0 ] || usage
cmd=$1
shift
case $cmd in
up | down | status | env | gen)
	[ $# -eq 0 ] || usage
	"cmd_$cmd"
	;;
exec) cmd_exec "$@" ;;
rezone)
	[ $# -eq 1 ] || usage
	cmd_rezone "$1"
	;;
-h | --help | help)
	sed -n '4,/^# shellcheck/p' "$0" | sed -e '$d' -e 's/^# \{0,1\}//'
	;;
*) usage ;;
esac
