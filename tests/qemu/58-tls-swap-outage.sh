#!/bin/bash
# 56-tls-swap-pressure.sh with the server killed (SIGKILL) once the guest
# has written 1000 pages to swap, and restarted 3 s later on the same
# port: the root and the swap reconnect while the machine is short of
# memory and its swap waits for them. Besides 56's checks (every string
# intact, no I/O error, kTLS on both connections, both daemons I/O
# flushers, thousands of requests over TLS 1.3 after the restart),
# /dev/nbd1 must have logged its reconnection and the guest must have set
# up at least 4 kTLS sockets since boot.
OUTAGE=1 exec "$(dirname "$0")/56-tls-swap-pressure.sh"
