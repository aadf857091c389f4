#!/bin/sh
# A bounded libFuzzer run (FUZZ_SECONDS, default 30) over nbdroot-dhcp6's
# parsers of DHCPv6 replies and router advertisements, with ASan and UBSan.
cd "$(dirname "$0")/../.." || exit 1
. tests/unit/fuzz-lib
fuzz_run fuzz-dhcp6 "${FUZZ_SECONDS:-30}"
