#!/bin/bash
# 42-failover.sh over TLS with nbdroot.conns=4: both servers require TLS;
# the one in use is SIGKILLed for good while the guest writes. Besides
# 42's checks (every file verifies, no I/O error, "reconnected to server
# 2") the guest must have 4 reconnections, 4 established connections that
# are all kTLS (at least 8 kTLS sockets since boot) and no decryption
# error, and the checksums it wrote must be absent from the loopback
# capture (42, plaintext, finds them: the control).
TLS_CONNS=4 exec "$(dirname "$0")/42-failover.sh"
