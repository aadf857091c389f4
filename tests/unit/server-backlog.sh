#!/bin/sh
# The listen-backlog cliff: 1000 clients connecting to our nbd-server on
# 127.0.0.1 at the same moment all get their greeting (the test and the
# figures it prints are in server-backlog.py).
cd "$(dirname "$0")/../.." || exit 1
# shellcheck source=tests/unit/server-lib
. tests/unit/server-lib
need python3 ss timeout
[ -x "$SERVER" ] || fail "$SERVER not built"
timeout 300 python3 tests/unit/server-backlog.py "$SERVER" "$@"
