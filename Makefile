# SPDX-License-Identifier: ISC
#
# Everyday commands.  The build itself is meson + ninja; this file only
# names the usual entry points.
#
#   make            configure build/ if needed and build it
#   make demo       build, then run the demo (scripts/demo.sh)
#   make test       the whole check suite CI runs (tests/run-all.sh)
#   make fuzz       build the fuzz targets, run each for FUZZ_TIME seconds
#   make bench      run every bench/*.sh
#   make install    meson install from build/ (DESTDIR honoured): the
#                   program, the library, the manual, the systemd units,
#                   sysusers.d and tmpfiles.d files, example configurations
#   make deb        the Debian packages into dist/ (scripts/build-deb.sh;
#                   ./quickstart deb installs their build dependencies)
#   make format     clang-format -i on the tracked C sources
#   make clean      remove the build directories
#
# Build directories: build (plain), build-asan and build-ci (make test),
# build-fuzz (make fuzz).

MESON ?= meson
NINJA ?= ninja
CLANG_FORMAT ?= clang-format
BUILD ?= build
FUZZ_TIME ?= 20
export FUZZ_TIME

.PHONY: all demo test fuzz bench install deb format clean

all:
	@if [ ! -f $(BUILD)/build.ninja ]; then \
		echo "$(MESON) setup $(BUILD)"; \
		$(MESON) setup $(BUILD); \
	fi
	$(NINJA) -C $(BUILD)

demo: all
	bash scripts/demo.sh $(BUILD)/mtasts

test:
	bash tests/run-all.sh

fuzz:
	bash tests/run-all.sh fuzz

bench: all
	@found=0; \
	for b in bench/*.sh; do \
		[ -f "$$b" ] || continue; \
		found=1; \
		echo "== $$b"; \
		bash "$$b" || exit 1; \
	done; \
	if [ $$found -eq 0 ]; then echo "make bench: no benchmarks yet (bench/*.sh)"; fi

install: all
	$(MESON) install -C $(BUILD)
	@getent passwd mtasts >/dev/null 2>&1 || echo "make install:" \
	    "mtasts serve and policyd run as the user mtasts, in" \
	    "/var/lib/mtasts and /var/log/mtasts: make them with" \
	    "systemd-sysusers mtasts.conf && systemd-tmpfiles --create" \
	    "mtasts.conf, then systemctl daemon-reload (the units are" \
	    "installed, not enabled; mtasts-serve(8), FILES)"

deb:
	sh scripts/build-deb.sh dist

# The files tests/run-all.sh checks: those git tracks or would track in
# a git checkout, else every C file outside the build directories.
format:
	@if [ -e .git ] && command -v git >/dev/null 2>&1 && \
	    git -c safe.directory="$$PWD" ls-files >/dev/null 2>&1; then \
		files=$$(git -c safe.directory="$$PWD" ls-files --cached \
		    --others --exclude-standard -- '*.c' '*.h'); \
	else \
		files=$$(find . -path './build*' -prune -o -path './.git' -prune -o \
		    \( -name '*.c' -o -name '*.h' \) -type f -print); \
	fi; \
	for f in $$files; do [ -f "$$f" ] && echo "$$f"; done | \
	    xargs -r $(CLANG_FORMAT) -i

clean:
	rm -rf build build-ci build-asan build-fuzz build-tidy build-deb dist
