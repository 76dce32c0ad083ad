#!/bin/bash
# SPDX-License-Identifier: ISC
#
# install.sh DIST: installs the Debian packages of DIST (scripts/build-deb.sh)
# with apt in a throwaway root, then removes and purges them, checking
# what a mail admin would: the user, the directories and their owners,
# the program, the library and its pkg-config file, the manual, the units
# (installed, not enabled), `mtasts serve -n` on the example
# configuration once a domain is added, and what remove and purge leave
# (debian/mtasts.README.Debian says what stays).  Prints TAP.
#
# The throwaway root is an overlay of this machine's root in a private
# mount namespace: the packages' dependencies are the build's own, so
# apt installs without a mirror, and every write (dpkg's database, the
# user, /etc, /var) goes to a tmpfs that vanishes with the namespace.  A
# user or directory of mtasts the machine itself has (the tests make the
# user) is deleted in the copy first, so that the package must make it.
# Needs root, unshare(1) and overlayfs.
set -u

if [ "${1:-}" != --inside ]; then
	DIST=${1:?usage: install.sh DIST}
	DIST=$(cd "$DIST" && pwd)
	if [ "$(id -u)" -ne 0 ]; then
		echo "1..0 # SKIP installing packages needs root"
		exit 0
	fi
	if ! ls "$DIST"/mtasts_*.deb >/dev/null 2>&1; then
		echo "not ok 1 - no mtasts_*.deb in $DIST"
		echo "1..1"
		exit 0
	fi
	T=$(mktemp -d "${TMPDIR:-/tmp}/mtasts-deb-root.XXXXXX")
	trap 'rm -rf "$T"' EXIT
	self=$(readlink -f "$0")
	# The copy: overlay on a tmpfs of its own (overlayfs refuses an
	# upper directory inside its lower one), /proc, /dev, an empty /run
	# (no running systemd: the maintainer scripts call no systemctl) and
	# /tmp holding this script and the packages.
	unshare -m --propagation private /bin/bash -c '
		set -e
		T=$1 DIST=$2 self=$3
		mount -t tmpfs -o mode=0755 mtasts-deb "$T"
		mkdir "$T/upper" "$T/work" "$T/root"
		mount -t overlay overlay \
		    -o "lowerdir=/,upperdir=$T/upper,workdir=$T/work" "$T/root"
		mount -t proc proc "$T/root/proc"
		mount --rbind /dev "$T/root/dev"
		mount -t tmpfs -o mode=0755 run "$T/root/run"
		mount -t tmpfs -o mode=1777 tmp "$T/root/tmp"
		mkdir "$T/root/tmp/dist"
		cp "$DIST"/*.deb "$T/root/tmp/dist/"
		cp "$self" "$T/root/tmp/install.sh"
		exec chroot "$T/root" /bin/bash /tmp/install.sh --inside /tmp/dist
	' mtasts-deb "$T" "$DIST" "$self" 2>&1
	status=$?
	if [ "$status" -ne 0 ]; then
		echo "not ok - the throwaway root failed (exit $status)"
	fi
	exit 0
fi

# ---- inside the throwaway root ----
DIST=$2
cd /tmp || exit 1
export DEBIAN_FRONTEND=noninteractive LC_ALL=C.UTF-8
n=0
ok()
{
	n=$((n + 1))
	if [ "$1" -eq 0 ]; then
		echo "ok $n - $2"
	else
		echo "not ok $n - $2"
	fi
}

# is COMMAND...: ok when it exits 0.
is()
{
	local what=$1
	shift
	"$@" >/tmp/out 2>&1
	local rc=$?
	ok "$rc" "$what"
	[ "$rc" -eq 0 ] || sed 's/^/# /' /tmp/out | head -n 20
	return "$rc"
}

# owner_mode PATH EXPECTED: stat's "user:group mode" of PATH.
owner_mode()
{
	local got
	got=$(stat -c '%U:%G %a' "$1" 2>&1)
	ok "$([ "$got" = "$2" ]; echo $?)" "$1 is $2 (got $got)"
}

# Whatever the machine has of mtasts, gone from the copy.
for p in mtasts libmtasts0 libmtasts-dev; do
	if dpkg-query -W -f '${db:Status-Status}' "$p" 2>/dev/null |
	    grep -qv not-installed; then
		dpkg --purge "$p" >/dev/null 2>&1
	fi
done
getent passwd mtasts >/dev/null && userdel mtasts
getent group mtasts >/dev/null && groupdel mtasts
rm -rf /etc/mtasts /var/lib/mtasts /var/log/mtasts
ok "$(getent passwd mtasts >/dev/null; [ $? -eq 2 ]; echo $?)" \
    "no user mtasts before the install"

# ---- install ----
is "apt-get installs the packages" \
    apt-get install -y --no-install-recommends \
    "$DIST"/mtasts_*.deb "$DIST"/libmtasts0_*.deb "$DIST"/libmtasts-dev_*.deb
for p in mtasts libmtasts0 libmtasts-dev; do
	s=$(dpkg-query -W -f '${db:Status-Abbrev}' "$p" 2>&1)
	ok "$([ "$s" = "ii " ]; echo $?)" "$p is installed (dpkg says '$s')"
done

pw=$(getent passwd mtasts)
IFS=: read -r _ _ uid gid _ home shell <<<"$pw"
ok "$([ -n "$pw" ]; echo $?)" "the user mtasts exists ($pw)"
ok "$([ -n "$uid" ] && [ "$uid" -lt 1000 ]; echo $?)" "mtasts is a system user (uid $uid)"
ok "$([ "$home" = /nonexistent ] && [ "$shell" = /usr/sbin/nologin ]; echo $?)" \
    "mtasts has no home and no shell ($home, $shell)"
ok "$([ "$(getent group mtasts | cut -d: -f3)" = "$gid" ]; echo $?)" \
    "the group mtasts is the user's primary group"
owner_mode /var/lib/mtasts "mtasts:mtasts 750"
owner_mode /var/lib/mtasts/domains "root:root 755"
owner_mode /var/lib/mtasts/acme "root:root 700"
owner_mode /var/log/mtasts "root:adm 750"
owner_mode /etc/mtasts/mtasts.conf "root:root 644"

ok "$([ "$(command -v mtasts)" = /usr/bin/mtasts ]; echo $?)" \
    "mtasts is /usr/bin/mtasts"
is "mtasts --version says 0.1.0" sh -c 'mtasts --version | grep -q "0\.1\.0"'
is "mtasts links the packaged libmtasts.so.0" \
    sh -c 'ldd /usr/bin/mtasts | grep -q "libmtasts.so.0 => /[a-z/]*lib/[^ /]*/libmtasts.so.0 "'
for page in 1:mtasts 1:mtasts-report 1:mtasts-rollout 1:mtasts-fetch \
    5:mtasts.conf 8:mtasts-serve 8:mtasts-policyd 3:libmtasts; do
	is "man -w ${page%%:*} ${page#*:}" man -w "${page%%:*}" "${page#*:}"
done
is "whatis finds every page by its name (the NAME sections parse)" \
    sh -c 'mandb -q 2>/dev/null; for p in mtasts mtasts-report mtasts-rollout mtasts-fetch mtasts.conf mtasts-serve mtasts-policyd libmtasts; do whatis "$p" | grep -q "^$p " || { echo "whatis $p: nothing"; exit 1; }; done'
is "dpkg knows /etc/mtasts/mtasts.conf and policyd.conf as conffiles" \
    sh -c 'dpkg-query -W -f "\${Conffiles}\n" mtasts | grep -q "/etc/mtasts/mtasts.conf " && dpkg-query -W -f "\${Conffiles}\n" mtasts | grep -q "/etc/mtasts/policyd.conf "'

# The units: installed, with the program's path, and not enabled.
for u in mtasts-serve.service mtasts-policyd.service \
    mtasts-report-imap.service mtasts-report-imap.timer; do
	ok "$([ -f "/lib/systemd/system/$u" ]; echo $?)" "/lib/systemd/system/$u is installed"
	ok "$(find /etc/systemd/system -name "$u" 2>/dev/null | grep -q .; [ $? -ne 0 ]; echo $?)" \
	    "$u is not enabled (no link under /etc/systemd/system)"
done
is "the units start /usr/bin/mtasts" \
    sh -c '! grep -h "^Exec" /lib/systemd/system/mtasts-*.service | grep -v "^Exec[A-Za-z]*=[+-]*/usr/bin/mtasts \|^ExecReload=/bin/kill \|^ExecStartPre=+/usr/bin/install " | grep .'
if command -v systemd-analyze >/dev/null 2>&1; then
	is "systemd-analyze verify accepts the units" \
	    systemd-analyze verify /lib/systemd/system/mtasts-serve.service \
	    /lib/systemd/system/mtasts-policyd.service \
	    /lib/systemd/system/mtasts-report-imap.service \
	    /lib/systemd/system/mtasts-report-imap.timer
else
	n=$((n + 1))
	echo "ok $n - systemd-analyze verify # SKIP systemd is not installed"
fi

# The example configurations, as shipped and with one domain added.
is "mtasts policyd -n accepts the example policyd.conf" mtasts policyd -n
is "mtasts init writes a domain into the example's domains-dir" \
    mtasts init example.org --mx mx1.example.org --mode testing \
    --out /var/lib/mtasts/domains/example.org
is "mtasts serve -n accepts the example mtasts.conf with that domain" \
    sh -c 'mtasts serve -n >/tmp/serve-n 2>&1; rc=$?; cat /tmp/serve-n; [ $rc -eq 0 ] && grep -q "acme example.org: no certificate yet" /tmp/serve-n'

# The library from libmtasts-dev: compiled, linked and run.
cat >/tmp/v.c <<'EOF'
#include <stdio.h>
#include <mtasts/mtasts.h>
int main(void) { puts(mts_version()); return 0; }
EOF
if command -v cc >/dev/null 2>&1; then
	is "a program builds with pkg-config libmtasts and runs" \
	    sh -c 'cc -o /tmp/v /tmp/v.c $(pkg-config --cflags --libs libmtasts) && /tmp/v | grep -q "^0\.1\.0"'
else
	n=$((n + 1))
	echo "ok $n - a program builds with libmtasts # SKIP no C compiler"
fi

# ---- remove: the configuration, the state, the logs and the user stay ----
echo "acme-contact mailto:hostmaster@example.org" >>/etc/mtasts/mtasts.conf
touch /var/lib/mtasts/policyd.db /var/log/mtasts/access.log
is "apt-get removes mtasts" apt-get remove -y mtasts
ok "$([ ! -e /usr/bin/mtasts ] && [ ! -e /lib/systemd/system/mtasts-serve.service ]; echo $?)" \
    "remove took the program and the units"
ok "$([ -f /etc/mtasts/mtasts.conf ] && [ -d /var/lib/mtasts/domains/example.org ] && [ -f /var/log/mtasts/access.log ]; echo $?)" \
    "remove kept the configuration, the domains and the log"
ok "$(getent passwd mtasts >/dev/null; echo $?)" "remove kept the user"
is "apt-get installs mtasts again" apt-get install -y \
    --no-install-recommends "$DIST"/mtasts_*.deb
is "the edited conffile survived remove and install" \
    grep -q '^acme-contact mailto:hostmaster@example.org' /etc/mtasts/mtasts.conf

# ---- purge ----
is "apt-get purges the packages" apt-get purge -y \
    mtasts libmtasts0 libmtasts-dev
ok "$(dpkg -l 'mtasts' 'libmtasts*' 2>/dev/null | grep -q '^[a-z][a-z] '; [ $? -ne 0 ]; echo $?)" \
    "dpkg knows none of the packages any more"
ok "$([ ! -e /etc/mtasts ]; echo $?)" "purge removed /etc/mtasts"
ok "$([ ! -e /var/log/mtasts ]; echo $?)" "purge removed /var/log/mtasts (Policy 10.8)"
ok "$([ ! -e /var/lib/mtasts/policyd.db ] && [ ! -e /var/lib/mtasts/acme ]; echo $?)" \
    "purge removed policyd's cache and the empty acme directory"
left=$(cd / && find var/lib/mtasts | sort | tr '\n' ' ')
ok "$([ "$left" = "var/lib/mtasts var/lib/mtasts/domains var/lib/mtasts/domains/example.org var/lib/mtasts/domains/example.org/dns.zone var/lib/mtasts/domains/example.org/mta-sts.txt " ]; echo $?)" \
    "purge kept the admin's domain and nothing else under /var/lib/mtasts ($left)"
left=$(find /etc /lib /usr /var -xdev -path /var/lib/mtasts -prune -o \
    \( -name 'mtasts*' -o -name 'libmtasts*' \) -print 2>/dev/null |
    grep -v '^/var/lib/dpkg/\|^/var/cache/\|^/var/lib/apt/' | tr '\n' ' ')
ok "$([ -z "$left" ]; echo $?)" "purge left no other file named mtasts* ($left)"
ok "$(ls /var/lib/systemd/deb-systemd-helper-enabled 2>/dev/null | grep -q mtasts; [ $? -ne 0 ]; echo $?)" \
    "purge left no unit state behind"
ok "$(getent passwd mtasts >/dev/null; echo $?)" \
    "purge kept the user mtasts (README.Debian: files it owns may remain)"
rm -rf /var/lib/mtasts
ok "$(dpkg --purge mtasts >/dev/null 2>&1; echo $?)" "a second purge is harmless"
echo "1..$n"
