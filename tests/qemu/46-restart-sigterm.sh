#!/bin/bash
# 41-reconnect.sh with the server stopped by SIGTERM, as a restart for an
# upgrade does: the server answers, with success, every request it read
# whole and closes; nbd.ko resends the rest after it reconnects. No I/O
# error may reach the guest, and every file verifies.
OUTAGE_SIGNAL=TERM exec "$(dirname "$0")/41-reconnect.sh"
