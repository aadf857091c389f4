#!/bin/sh
# A bounded libFuzzer run (FUZZ_SECONDS, default 30) over nbd-server with
# force_tls and tlspsk: the plaintext options before STARTTLS, with ASan
# and UBSan.
cd "$(dirname "$0")/../.." || exit 1
. tests/unit/fuzz-lib
fuzz_run fuzz-tls "${FUZZ_SECONDS:-30}"
