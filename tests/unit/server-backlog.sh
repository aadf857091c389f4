#!/bin/sh
# The listen-backlog cliff: 1000 clients connecting to our nbd-server on
# 127.0.0.1 at the same moment all get their greeting (the test and the
# figures it prints are in server-backlog.py), forking per client and
# with a pool of 64 children forked before the storm.
cd "$(dirname "$0")/../.." || exit 1
# shellcheck source=tests/unit/server-lib
. tests/unit/server-lib
need python3 ss timeout
[ -x "$SERVER" ] || fail "$SERVER not built"
timeout 300 python3 tests/unit/server-backlog.py "$SERVER" "$@" || exit 1
# again with 64 children waiting before the storm ([generic] prefork)
PREFORK=64 timeout 300 python3 tests/unit/server-backlog.py "$SERVER" "$@"
