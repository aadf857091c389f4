#!/bin/sh
# A bounded libFuzzer run (FUZZ_SECONDS, default 30) over what
# nbdroot-dhcp-event writes from a DHCP server's values: every value
# reads back through sh's quoting, one line per key, and resolv.conf
# holds only its two kinds of line. With ASan and UBSan.
cd "$(dirname "$0")/../.." || exit 1
. tests/unit/fuzz-lib
fuzz_run fuzz-dhcp-event "${FUZZ_SECONDS:-30}"
