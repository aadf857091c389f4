#!/bin/sh
# A bounded libFuzzer run (FUZZ_SECONDS, default 30) over nbdroot-dhcp4's
# packet code with ASan and UBSan: DHCPv4 answers and the IPv4 datagrams
# that carry them, a model's well-formed messages checked value by value,
# the client's own messages framed and unframed again.
cd "$(dirname "$0")/../.." || exit 1
. tests/unit/fuzz-lib
fuzz_run fuzz-dhcp4 "${FUZZ_SECONDS:-30}"
