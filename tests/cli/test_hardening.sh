#!/bin/bash
# SPDX-License-Identifier: ISC
#
# The installed program and library carry the hardening meson.build asks
# for: a PIE with full RELRO (GNU_RELRO and BIND_NOW, so the GOT is read
# only after start-up), and fortified libc calls (a __*_chk symbol).  The
# installed files, not the build tree's: `meson install` into a scratch
# DESTDIR.  Sanitizer and fuzz builds leave fortification out on purpose
# (meson.build says why); there those checks are skipped.  Prints TAP.
#
#   test_hardening.sh BUILD_DIR yes|no     (no: a sanitizer or fuzz build)
set -u

BUILD=${1:?usage: test_hardening.sh BUILD_DIR yes|no}
HARDENED=${2:?usage: test_hardening.sh BUILD_DIR yes|no}

if ! command -v readelf >/dev/null 2>&1; then
	echo "1..0 # SKIP readelf (binutils) is not installed"
	exit 0
fi

T=$(mktemp -d "${TMPDIR:-/tmp}/mtasts-hardening.XXXXXX")
trap 'rm -rf "$T"' EXIT

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

skip()
{
	n=$((n + 1))
	echo "ok $n - $1 # SKIP $2"
}

if ! meson install -C "$BUILD" --no-rebuild --destdir "$T/root" \
    >"$T/install.log" 2>&1; then
	sed 's/^/# /' "$T/install.log"
	echo "not ok 1 - meson install into a DESTDIR"
	echo "1..1"
	exit 0
fi
prog=$(find "$T/root" -type f -path '*/bin/mtasts' | head -n 1)
lib=$(find "$T/root" -type f -name 'libmtasts.so.*' | head -n 1)
ok "$([ -n "$prog" ] && [ -n "$lib" ]; echo $?)" \
    "meson install put bin/mtasts and libmtasts.so.* in the DESTDIR"

# elf_checks FILE NAME: the checks every build gets.
elf_checks()
{
	local f=$1 name=$2
	readelf -lW "$f" >"$T/l" 2>&1
	readelf -dW "$f" >"$T/d" 2>&1
	ok "$(grep -q 'GNU_RELRO' "$T/l"; echo $?)" "$name: GNU_RELRO segment"
	ok "$(grep -Eq '\(FLAGS\).*BIND_NOW|\(FLAGS_1\).*NOW' "$T/d"; echo $?)" \
	    "$name: BIND_NOW (full RELRO)"
}

elf_checks "$prog" "bin/mtasts"
elf_checks "$lib" "libmtasts.so"
readelf -dW "$prog" >"$T/d" 2>&1
ok "$(grep -Eq '\(FLAGS_1\).*PIE' "$T/d"; echo $?)" \
    "bin/mtasts: a position-independent executable"

if [ "$HARDENED" = yes ]; then
	readelf -sW --dyn-syms "$prog" >"$T/s" 2>&1
	ok "$(grep -Eq ' __[a-z_]+_chk(@|$)' "$T/s"; echo $?)" \
	    "bin/mtasts: fortified libc calls (__*_chk)"
	ok "$(grep -q ' __stack_chk_fail' "$T/s"; echo $?)" \
	    "bin/mtasts: stack protector (__stack_chk_fail)"
	readelf -sW --dyn-syms "$lib" >"$T/s" 2>&1
	ok "$(grep -Eq ' __[a-z_]+_chk(@|$)' "$T/s"; echo $?)" \
	    "libmtasts.so: fortified libc calls (__*_chk)"
else
	skip "fortified libc calls and stack protector" \
	    "a sanitizer or fuzz build leaves them out"
fi
echo "1..$n"
