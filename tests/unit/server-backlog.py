#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""
The listen-backlog cliff (issue 15): N clients (default 1000) connecting
to one nbd-server on 127.0.0.1 at the same moment all get their 18-byte
greeting.

NBD is server-speaks-first: a client whose handshake the kernel completed
but whose connection fell off a full accept queue (or was admitted by a
SYN cookie that the overflow then dropped) believes it is connected and
waits for a greeting that never comes. So the test passes only if every
client reads a well-formed greeting before DEADLINE (a bound against a
hang, not a timing assertion). How many were greeted within WINDOW
seconds, when the last one was, and the kernel's listen-overflow and
SYN-cookie counters (nstat, system-wide) are printed, not asserted.

Usage: [PREFORK=n] server-backlog.py SERVER_BINARY [N]
(PREFORK: the same with n children forked before the storm.)
"""
import os
import random
import resource
import select
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import time

NBDMAGIC = 0x4E42444D41474943
IHAVEOPT = 0x49484156454F5054
GREETING = 18
WINDOW = 15
DEADLINE = 120
COUNTERS = ["TcpExtListenOverflows", "TcpExtListenDrops",
            "TcpExtSyncookiesSent", "TcpExtSyncookiesRecv"]

SERVER = os.path.abspath(sys.argv[1])
N = int(sys.argv[2]) if len(sys.argv) > 2 else 1000
# PREFORK=n in the environment: the server keeps n children waiting
PREFORK = int(os.environ.get("PREFORK", "0"))


def raise_nofile():
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    need = N + 64
    if hard != resource.RLIM_INFINITY and hard < need:
        print("skipped: RLIMIT_NOFILE hard limit %d < %d" % (hard, need))
        sys.exit(77)
    if soft != resource.RLIM_INFINITY and soft < need:
        resource.setrlimit(resource.RLIMIT_NOFILE, (need, hard))


def counters():
    """The kernel's counters (absolute), or None without nstat."""
    if not shutil.which("nstat"):
        return None
    out = subprocess.run(["nstat", "-asz"] + COUNTERS, capture_output=True,
                         text=True).stdout
    vals = {}
    for line in out.splitlines():
        f = line.split()
        if len(f) >= 2 and f[0] in COUNTERS:
            vals[f[0]] = int(f[1])
    return vals


def listening(port):
    out = subprocess.run(["ss", "-Hltn", "sport = :%d" % port],
                         capture_output=True, text=True).stdout
    return "LISTEN" in out


def start_server(tmp, image):
    log = os.path.join(tmp, "server.log")
    for _ in range(10):
        port = random.randrange(20000, 60000)
        if listening(port):
            continue
        args = [SERVER, "-n", "127.0.0.1@%d" % port, image]
        if PREFORK:
            # the same export as the command line's, with children
            # forked before the storm (nbd-server(5) prefork)
            conf = os.path.join(tmp, "prefork.conf")
            with open(conf, "w") as f:
                f.write("[generic]\nprefork = %d\nallowlist = true\n"
                        "[storm]\nexportname = %s\n" % (PREFORK, image))
            args = [SERVER, "-n", "127.0.0.1@%d" % port, "-C", conf]
        p = subprocess.Popen(args, stderr=open(log, "w"))
        for _ in range(50):
            if listening(port) or p.poll() is not None:
                break
            time.sleep(0.1)
        if listening(port):
            return p, port, log
        p.kill()
        p.wait()
    raise SystemExit("FAIL: server did not start: " + open(log).read())


def storm(port):
    """Connects N sockets at once, then reads each one's greeting.
    Returns {fd: seconds until greeted}, {fd: why it failed}, sockets."""
    socks = {}
    ep = select.epoll(N)
    t0 = time.monotonic()
    for _ in range(N):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setblocking(False)
        s.connect_ex(("127.0.0.1", port))
        socks[s.fileno()] = s
        ep.register(s.fileno(), select.EPOLLIN)
    print("%d connects issued in %.2f s" % (N, time.monotonic() - t0))
    got = {fd: b"" for fd in socks}
    greeted, failed = {}, {}
    while len(greeted) + len(failed) < N and time.monotonic() < t0 + DEADLINE:
        for fd, _ in ep.poll(1.0):
            s = socks[fd]
            try:
                chunk = s.recv(GREETING - len(got[fd]))
            except BlockingIOError:
                continue
            except OSError as e:
                chunk, failed[fd] = b"", str(e)
            got[fd] += chunk
            if len(got[fd]) == GREETING:
                greeted[fd] = time.monotonic() - t0
            elif not chunk:
                failed.setdefault(fd, "closed after %d bytes" % len(got[fd]))
            else:
                continue
            ep.unregister(fd)
            s.close()
    bad = [fd for fd in greeted if struct.unpack(">QQH", got[fd]) !=
           (NBDMAGIC, IHAVEOPT, 3)]
    for fd in bad:
        failed[fd] = "malformed greeting %r" % got[fd]
        del greeted[fd]
    for s in socks.values():
        s.close()
    return greeted, failed


def main():
    raise_nofile()
    tmp = tempfile.mkdtemp(prefix="nbdroot-backlog-")
    image = os.path.join(tmp, "disk.img")
    with open(image, "wb") as f:
        f.truncate(1 << 20)
    p, port, log = start_server(tmp, image)
    try:
        before = counters()
        greeted, failed = storm(port)
        after = counters()
    finally:
        p.send_signal(signal.SIGTERM)
        try:
            p.wait(30)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()
        shutil.rmtree(tmp)
    within = sum(1 for t in greeted.values() if t <= WINDOW)
    print("greeted: %d of %d (%d within %d s); last at %.2f s" %
          (len(greeted), N, within, WINDOW, max(greeted.values(), default=0)))
    if before is not None and after is not None:
        print("kernel counters during the storm (system-wide): " + ", ".join(
            "%s +%d" % (k, after.get(k, 0) - before.get(k, 0))
            for k in COUNTERS))
    else:
        print("nstat not installed: no kernel counters")
    missing = N - len(greeted) - len(failed)
    if failed or missing:
        reasons = sorted(set(failed.values()))[:5]
        print("FAIL: %d clients failed (%s), %d never greeted within %d s" %
              (len(failed), "; ".join(reasons), missing, DEADLINE))
        sys.exit(1)
    print("ok: all %d clients greeted" % N)


main()
