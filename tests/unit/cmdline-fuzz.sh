#!/bin/sh
# The boot-line parser fuzzed under busybox sh and dash: CMDLINE_LINES
# random and mutated lines (300 here, 20000 in make soak), each parsed or
# refused with a message naming its field, none hung or run. make check
# uses a fixed SEED, so it fails only when the parser changes; make soak
# passes SEED=random (the seed is printed: SEED=N repeats a run).
cd "$(dirname "$0")/../.." || exit 1
for sh in busybox dash python3; do
	command -v "$sh" >/dev/null 2>&1 ||
		{ echo "skipped: $sh not installed"; exit 77; }
done
count=${CMDLINE_LINES:-300}
exec timeout $((count / 2 + 120)) python3 tests/unit/cmdline-fuzz.py \
	"$count" "${SEED:-13}"
