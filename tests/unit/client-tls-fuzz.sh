#!/bin/sh
# A bounded libFuzzer run (FUZZ_SECONDS, default 30) over the client's
# TLS 1.3 core (client/tls), fed hostile server flights, with ASan and UBSan.
cd "$(dirname "$0")/../.." || exit 1
. tests/unit/fuzz-lib
fuzz_run fuzz-client-tls "${FUZZ_SECONDS:-30}"
