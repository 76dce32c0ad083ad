#!/bin/sh
# SPDX-License-Identifier: ISC
#
# build-deb.sh OUTDIR: builds the Debian packages (debian/) from a copy of
# this tree and puts the .deb files, with their .changes and .buildinfo,
# into OUTDIR, with the debug symbol packages.  The body of `./quickstart deb`
# (which installs the build dependencies first) and of the deb stage of
# tests/run-all.sh, which builds twice to compare the results.
#
# The copy (WORKDIR, default build-deb/ here) keeps the tree clean:
# dpkg-buildpackage writes its packages next to the source directory and
# debhelper its staging directories under debian/.  Environment:
# WORKDIR; DEB_BUILD_OPTIONS (default "nocheck": the suite is
# `./quickstart test`; set it, even empty, to run the unit suite in the
# build); SOURCE_DATE_EPOCH (default: debian/changelog's date, as
# dpkg-buildpackage sets it).
set -eu

[ $# -eq 1 ] || { echo "usage: scripts/build-deb.sh OUTDIR" >&2; exit 2; }
root=$(cd "$(dirname "$0")/.." && pwd)
case $1 in
/*) out=$1 ;;
*) out=$PWD/$1 ;;
esac
work=${WORKDIR:-$root/build-deb}
version=$(dpkg-parsechangelog -l "$root/debian/changelog" -S Version)
src=$work/mtasts-$version

rm -rf "$work"
mkdir -p "$src"
# Everything but the build directories, the packages and git's store.
(cd "$root" && tar -cf - --exclude='./build*' --exclude=./dist \
    --exclude=./.git .) | tar -xf - -C "$src"

(cd "$src" && DEB_BUILD_OPTIONS=${DEB_BUILD_OPTIONS-nocheck} \
    dpkg-buildpackage -us -uc -b)

# Everything the .changes names, side by side: the three packages and
# their debug symbols (-dbgsym; `apt-get install ./dist/*.deb` takes them
# too, which costs a megabyte and names functions in a core dump).
mkdir -p "$out"
rm -f "$out"/*.deb "$out"/*.changes "$out"/*.buildinfo
for f in "$work"/*.deb "$work"/*.changes "$work"/*.buildinfo; do
	[ -e "$f" ] && mv "$f" "$out"/
done
echo "build-deb: packages in $out:"
ls -l "$out"
