#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""
Regenerates the fuzzer's seed corpus from real sessions: runs our
nbd-server on 127.0.0.1 with a 256 KiB image, puts a recording proxy in
front of it, and saves what each real client (nbdinfo, nbdcopy, qemu-io,
qemu-img) sent, one file per connection, in tests/fuzz/corpus-server/.

Usage: tests/fuzz/record-seeds.py   (from the top of the tree)
"""
import os
import random
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

OUT = "tests/fuzz/corpus-server"
tmp = tempfile.mkdtemp(prefix="nbdroot-seeds-")
img = os.path.join(tmp, "disk.img")
with open(img, "wb") as f:
    f.write(random.Random(7).randbytes(64 << 10))
    f.truncate(256 << 10)
cfg = os.path.join(tmp, "seeds.conf")
with open(cfg, "w") as f:
    f.write("[generic]\nallowlist = true\n[ro]\nexportname = %s\n"
            "readonly = true\ndescription = read-only\n" % img)

port = random.randrange(20000, 60000)
srv = subprocess.Popen(["server/nbd-server", "-n", "-C", cfg,
                        "127.0.0.1@%d" % port, img],
                       stderr=subprocess.DEVNULL)
time.sleep(0.5)

lsock = socket.socket()
lsock.bind(("127.0.0.1", 0))
lsock.listen(16)
pport = lsock.getsockname()[1]
current = {"name": None, "n": 0}


def pump(src, dst, record):
    while True:
        try:
            data = src.recv(65536)
        except OSError:
            data = b""
        if record is not None:
            record.append(data)
        if not data:
            try:
                dst.shutdown(socket.SHUT_WR)
            except OSError:
                pass
            return
        dst.sendall(data)


def proxy():
    while True:
        try:
            c, _ = lsock.accept()
        except OSError:
            return
        s = socket.create_connection(("127.0.0.1", port))
        rec = []
        current["n"] += 1
        name = "%s-%d" % (current["name"], current["n"])
        t1 = threading.Thread(target=pump, args=(c, s, rec))
        t2 = threading.Thread(target=pump, args=(s, c, None))
        t1.start()
        t2.start()

        def save(t1=t1, t2=t2, rec=rec, name=name):
            t1.join()
            t2.join()
            with open(os.path.join(OUT, name), "wb") as f:
                f.write(b"".join(rec))
        threading.Thread(target=save).start()


threading.Thread(target=proxy, daemon=True).start()
os.makedirs(OUT, exist_ok=True)
uri = "nbd://127.0.0.1:%d/" % pport
qnbd = "nbd:127.0.0.1:%d" % pport
sessions = {
    "nbdinfo-list": ["nbdinfo", "--list", uri],
    "nbdinfo-map": ["nbdinfo", "--map", uri],
    "nbdinfo-ro": ["nbdinfo", uri + "ro"],
    "nbdcopy-in": ["nbdcopy", "--flush", "--request-size=16384",
                   "--connections=1", img, uri],
    "nbdcopy-out": ["nbdcopy", "--connections=1", "--request-size=16384",
                    uri, os.path.join(tmp, "out")],
    "qemu-io": ["qemu-io", "-f", "raw", "-c", "write -f -P 0xab 0 4k",
                "-c", "read -P 0xab 0 4k", "-c", "write -z 8k 4k",
                "-c", "write -z -u 16k 4k", "-c", "discard 32k 4k",
                "-c", "flush", "-c", "read 64k 512", qnbd],
    "qemu-img-map": ["qemu-img", "map", "-f", "raw", "--output=json", qnbd],
}
for name, argv in sessions.items():
    current["name"], current["n"] = name, 0
    subprocess.run(argv, stdout=subprocess.DEVNULL, timeout=30, check=True)
    time.sleep(0.3)
srv.send_signal(signal.SIGTERM)
srv.wait(10)
subprocess.run(["rm", "-rf", tmp])
print("\n".join(sorted(os.listdir(OUT))))
