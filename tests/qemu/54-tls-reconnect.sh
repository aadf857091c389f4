#!/bin/bash
# 41-reconnect.sh over TLS with nbdroot.conns=4: the initrd holds a key,
# our server requires TLS (force_tls, tlspsk) before and after its
# SIGKILL and restart. Besides 41's checks (every file verifies, no I/O
# error, read-write root) the guest must have 4 reconnections, 4
# established connections that are all kTLS (TlsCurrTxSw and TlsCurrRxSw
# 4, at least 8 kTLS sockets since boot: each redone after the restart)
# and no decryption error, and the checksums it wrote must be absent
# from the loopback capture (41, plaintext, finds them: the control).
TLS_CONNS=4 exec "$(dirname "$0")/41-reconnect.sh"
