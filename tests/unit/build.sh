#!/bin/sh
# The build itself, in a private copy of the tree: make CFLAGS=-O0 builds
# the server, the static client and unit tests with -O0 yet keeps the
# flags the sources need (-Icommon) and -Werror (a warning planted in the
# copy must fail the build); the generated header dependencies rebuild
# exactly the objects that read a touched header (make -q / make -n), and
# a plain make afterwards rebuilds with the default flags.
cd "$(dirname "$0")/../.." || exit 1
for tool in make cc klcc; do
	command -v "$tool" >/dev/null 2>&1 ||
		{ echo "skipped: $tool not installed (scripts/deps)"; exit 77; }
done
work=$(mktemp -d "${TMPDIR:-/tmp}/nbdroot-build.XXXXXX") || exit 1
trap 'rm -rf "$work"' EXIT
failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }
ok() { echo "ok: $*"; }

cp -R Makefile common server client tests "$work/" || exit 1
mkdir -p "$work/initramfs" &&
	cp -R initramfs/dhcp6 initramfs/dhcp4 initramfs/dhcp-event initramfs/rng \
		initramfs/modload initramfs/mounts "$work/initramfs/" || exit 1
rm -f "$work/initramfs/dhcp6/nbdroot-dhcp6" "$work/initramfs/modload/nbdroot-modload" \
	"$work/initramfs/dhcp-event/nbdroot-dhcp-event" "$work/initramfs/dhcp4/nbdroot-dhcp4" \
	"$work/initramfs/mounts/nbdroot-early" "$work/initramfs/mounts/nbdroot-switch"
rm -f "$work/server/nbd-server" "$work/client/nbd-client"
cd "$work" || exit 1
tests="build/unit/test-wire build/unit/test-server-transmit"
# shellcheck disable=SC2086 # $tests is a list of targets
mk() { make --no-print-directory CFLAGS=-O0 "$@"; }

# shellcheck disable=SC2086
if mk all $tests >make.log 2>&1; then
	ok "make CFLAGS=-O0 all $tests"
else
	fail "make CFLAGS=-O0 failed:"; tail -n 20 make.log; exit 1
fi
[ -x server/nbd-server ] && [ -x client/nbd-client ] || fail "no server or client binary"
file client/nbd-client | grep -q 'statically linked' ||
	fail "client/nbd-client is not static: $(file client/nbd-client)"
line=$(grep -- '-c -o build/obj/server/transmit.o' make.log)
for flag in -O0 -Icommon -Werror -MMD; do
	case " $line " in
	*" $flag "*) ok "server objects built with $flag" ;;
	*) fail "no $flag in: $line" ;;
	esac
done
case " $line " in *" -O2 "*) fail "-O2 despite CFLAGS=-O0: $line" ;; esac

# shellcheck disable=SC2086
mk -q all $tests && ok "a second make has nothing to do" ||
	fail "make -q after a build: not up to date"

# a header only the stream-based server tests read
sleep 1
touch tests/unit/server-stream.h
mk -q build/unit/test-server-transmit &&
	fail "touching server-stream.h leaves test-server-transmit up to date"
mk -n build/unit/test-server-transmit | grep -q 'tests/unit/test-server-transmit.c' &&
	ok "touching server-stream.h recompiles test-server-transmit.c" ||
	fail "make -n does not recompile test-server-transmit.c"
mk -q build/unit/test-wire && ok "test-wire (no server-stream.h) stays up to date" ||
	fail "touching server-stream.h rebuilds test-wire"
mk -q server/nbd-server && ok "the server stays up to date" ||
	fail "touching server-stream.h rebuilds the server"
# shellcheck disable=SC2086
mk all $tests >/dev/null 2>&1 || fail "rebuild after touching server-stream.h"

# a server header: the server rebuilds, the client does not
sleep 1
touch server/server.h
mk -q server/nbd-server && fail "touching server/server.h leaves the server up to date"
mk -n server/nbd-server | grep -q 'server/transmit.c' &&
	ok "touching server/server.h recompiles server/transmit.c" ||
	fail "make -n does not recompile server/transmit.c"
mk -q client/nbd-client && ok "the client stays up to date" ||
	fail "touching server/server.h rebuilds the client"

# the flags are part of what an object depends on: a plain make after
# make CFLAGS=-O0 rebuilds with the default -O2
make -q server/nbd-server && fail "a plain make after CFLAGS=-O0 has nothing to do"
make -n server/nbd-server | grep -- '-c -o build/obj/server/transmit.o' | grep -q -- ' -O2 ' &&
	ok "a plain make rebuilds server/transmit.c with -O2" ||
	fail "a plain make does not rebuild with -O2: $(make -n server/nbd-server | head -n 3)"

# -Werror survives a command-line CFLAGS: a planted warning fails the build
printf 'static int nbdroot_unused(void) { return 0; }\n' >>common/wire.c
if mk server/nbd-server >werror.log 2>&1; then
	fail "an unused function built with CFLAGS=-O0: -Werror lost"
elif grep -q 'nbdroot_unused.*-Werror' werror.log; then
	ok "a warning fails the build: $(grep -m1 'nbdroot_unused' werror.log)"
else
	fail "the build failed for another reason: $(tail -n 5 werror.log)"
fi

[ "$failures" -eq 0 ] || { echo "$failures failed"; exit 1; }
echo "ok: build flags and header dependencies"
