#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""
Slow and idle clients: COUNT connections that trickle a valid handshake one
byte a second must all be dropped by the server at its handshake deadline
(handshaketimeout, short here), while a normal client, connected during
the flood, keeps reading correct data. Its 4 KiB read latency is printed
beside the same client's on the idle server, not asserted. Afterwards
the server has no child left but the normal client's.

Usage: slow-clients.py SERVER COUNT
"""
import os
import random
import selectors
import shutil
import socket
import statistics
import struct
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import nbdwire as nw  # noqa: E402

nw.need("ss", "timeout", "ps")

SERVER = os.path.abspath(sys.argv[1])
COUNT = int(sys.argv[2])
DEADLINE = 5
SIZE = 16 << 20
TMP = tempfile.mkdtemp(prefix="nbdroot-slow-")
# What a slow client trickles: flags, then the start of an OPT_GO.
TRICKLE = struct.pack(">I", 3) + b"IHAVEOPT" + struct.pack(">II", 7, 6) * 8


def reads(conn, data, until, lat):
    """4 KiB reads at random offsets, each checked, until a time."""
    rng = random.Random(5)
    cookie = 0
    while time.monotonic() < until:
        off = rng.randrange(0, SIZE // 4096) * 4096
        cookie += 1
        t = time.monotonic()
        err, got = conn.request(nw.CMD_READ, cookie, off, 4096)
        lat.append(time.monotonic() - t)
        if err or got != data[off:off + 4096]:
            raise AssertionError("read at %d: error %d or wrong data" %
                                 (off, err))


def latency(lat):
    lat = sorted(lat)
    return "%d reads, median %.2f ms, p99 %.2f ms" % (
        len(lat), statistics.median(lat) * 1e3,
        lat[int(len(lat) * 0.99)] * 1e3)


class Trickle:
    """COUNT sockets, one byte a second each, until the server closes."""

    def __init__(self, port):
        self.sel = selectors.DefaultSelector()
        self.opened = {}
        self.closed = {}
        self.refused = 0
        for i in range(COUNT):
            try:
                s = socket.create_connection(("127.0.0.1", port), 10)
            except OSError:
                self.refused += 1
                continue
            s.setblocking(False)
            self.opened[s] = (time.monotonic(), 0)
            self.sel.register(s, selectors.EVENT_READ)
            if i % 50 == 49:
                time.sleep(0.05)

    def drop(self, s, how):
        self.sel.unregister(s)
        self.closed[s] = (time.monotonic() - self.opened.pop(s)[0], how)
        s.close()

    def run(self, until):
        next_byte = time.monotonic()
        while self.opened and time.monotonic() < until:
            for key, _ in self.sel.select(0.2):
                try:
                    if key.fileobj.recv(4096) == b"":
                        self.drop(key.fileobj, "eof")
                except ConnectionError:
                    self.drop(key.fileobj, "reset")
            if time.monotonic() >= next_byte:
                next_byte += 1
                self.send_bytes()

    def send_bytes(self):
        for s, (t0, sent) in list(self.opened.items()):
            try:
                s.send(TRICKLE[sent % len(TRICKLE):][:1])
                self.opened[s] = (t0, sent + 1)
            except BlockingIOError:
                pass
            except ConnectionError:
                self.drop(s, "reset")


def main():
    data = random.Random(3).randbytes(SIZE)
    img = os.path.join(TMP, "disk.img")
    with open(img, "wb") as f:
        f.write(data)
    conf = os.path.join(TMP, "nbd.conf")
    with open(conf, "w") as f:
        f.write("[generic]\nhandshaketimeout = %d\n[disk]\nexportname = "
                "%s\n" % (DEADLINE, img))
    srv, port = nw.start_server(SERVER, ["-C", conf],
                                os.path.join(TMP, "server.log"))
    try:
        flood(srv, port, data)
    finally:
        srv.terminate()
        srv.wait(20)


def flood(srv, port, data):
    idle_lat, busy_lat = [], []
    normal = nw.Conn(port, b"disk")
    reads(normal, data, time.monotonic() + 2, idle_lat)
    normal.close()

    t0 = time.monotonic()
    slow = Trickle(port)
    print("%d slow clients connected in %.1f s (%d refused), each sending "
          "one byte a second; handshaketimeout = %d s" %
          (len(slow.opened), time.monotonic() - t0, slow.refused, DEADLINE))
    normal = nw.Conn(port, b"disk")
    errors = []

    def serve():
        try:
            reads(normal, data, time.monotonic() + DEADLINE, busy_lat)
        except (AssertionError, OSError, EOFError) as e:
            errors.append(e)
    reader = threading.Thread(target=serve)
    reader.start()
    slow.run(time.monotonic() + 3 * DEADLINE + 30)
    reader.join()

    after = [t for t, _ in slow.closed.values()]
    hows = [h for _, h in slow.closed.values()]
    print("dropped by the server: %d of %d (%d eof, %d reset), after %.1f "
          "to %.1f s (median %.1f s); still open: %d" %
          (len(after), COUNT, hows.count("eof"), hows.count("reset"),
           min(after, default=0), max(after, default=0),
           statistics.median(after) if after else 0, len(slow.opened)))
    print("normal client 4 KiB reads: idle server %s; during the flood %s" %
          (latency(idle_lat), latency(busy_lat)))
    assert not errors, "normal client: %s" % errors[0]
    assert slow.refused == 0, "%d slow clients could not connect" % \
        slow.refused
    assert not slow.opened, "%d slow clients never dropped" % \
        len(slow.opened)
    early = [t for t in after if t < DEADLINE - 1]
    assert not early, "%d dropped before the deadline" % len(early)
    assert busy_lat, "the normal client read nothing during the flood"
    left = nw.descendants(srv.pid)
    normal.close()
    print("server children after the flood: %d (the normal client's)" %
          len(left))
    assert len(left) <= 1, "%d server children left" % len(left)


try:
    main()
except (AssertionError, OSError, EOFError) as e:
    print("FAIL:", e)
    with open(os.path.join(TMP, "server.log")) as f:
        sys.stdout.write("".join("    server: " + l
                                 for l in f.readlines()[-20:]))
    sys.exit(1)
finally:
    shutil.rmtree(TMP)
print("ok: %d slow clients dropped at the deadline, the normal client "
      "served" % COUNT)
