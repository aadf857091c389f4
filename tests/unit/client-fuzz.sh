#!/bin/sh
# A bounded libFuzzer run (FUZZ_SECONDS, default 30) over nbd-client's
# negotiation parser, fed hostile server byte streams, with ASan and UBSan.
cd "$(dirname "$0")/../.." || exit 1
. tests/unit/fuzz-lib
fuzz_run fuzz-client "${FUZZ_SECONDS:-30}"
