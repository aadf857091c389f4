#!/bin/sh
# A bounded libFuzzer run (FUZZ_SECONDS, default 60) over nbd-server's
# negotiation and transmission with ASan and UBSan.
cd "$(dirname "$0")/../.." || exit 1
. tests/unit/fuzz-lib
fuzz_run fuzz "${FUZZ_SECONDS:-60}"
