#!/usr/bin/env python3
"""Does our nbd-server end a TLS session with close_notify (RFC 8446 6.1)?

Usage: tls-close-notify.py PORT PSKFILE. gnutls-cli (its STARTTLS mode:
-s, then SIGALRM) connects to 127.0.0.1:PORT with the file's first
identity:key, sends NBD_OPT_STARTTLS in plaintext, does the handshake,
then NBD_OPT_ABORT inside TLS; the server answers and closes. gnutls-cli
says "Peer has closed the GnuTLS connection" only when a close_notify
came; a bare TCP close is "non-properly terminated". Exit 0 on
close_notify, 1 otherwise (with gnutls-cli's words).
"""
import os
import signal
import struct
import subprocess
import sys

OPT_MAGIC = 0x49484156454F5054
STARTTLS, ABORT = 5, 2


def exact(cli, n):
    got = b""
    while len(got) < n:
        chunk = os.read(cli.stdout.fileno(), n - len(got))
        if not chunk:
            sys.exit("gnutls-cli: closed after %d of %d bytes" % (len(got), n))
        got += chunk
    return got


def main():
    port, pskfile = sys.argv[1], sys.argv[2]
    with open(pskfile) as f:
        identity, key = f.readline().strip().split(":", 1)
    cli = subprocess.Popen(
        ["stdbuf", "-o0", "gnutls-cli", "-s", "--insecure", "-p", port,
         "--logfile=/dev/stderr",
         "--priority=NORMAL:-VERS-ALL:+VERS-TLS1.3:+ECDHE-PSK:+PSK",
         "--pskusername=" + identity, "--pskkey=" + key, "127.0.0.1"],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    cli.stdin.write(struct.pack(">IQII", 3, OPT_MAGIC, STARTTLS, 0))
    cli.stdin.flush()
    got = exact(cli, 18 + 20)             # greeting, STARTTLS's reply
    if got[18 + 8:18 + 16] != struct.pack(">II", STARTTLS, 1):
        sys.exit("STARTTLS not acknowledged: %r" % got[18:])
    cli.send_signal(signal.SIGALRM)       # gnutls-cli -s: handshake now
    cli.stdin.write(struct.pack(">QII", OPT_MAGIC, ABORT, 0))
    cli.stdin.flush()
    rep = exact(cli, 20)
    if rep[8:16] != struct.pack(">II", ABORT, 1):
        sys.exit("ABORT not acknowledged inside TLS: %r" % rep)
    _, err = cli.communicate(timeout=20)
    err = err.decode(errors="replace")
    if "Peer has closed the GnuTLS connection" in err:
        print("ok: close_notify after ABORT inside TLS")
        return 0
    words = [l for l in err.splitlines() if "***" in l or "closed" in l]
    print("no close_notify: %s" % "; ".join(words))
    return 1


if __name__ == "__main__":
    sys.exit(main())
