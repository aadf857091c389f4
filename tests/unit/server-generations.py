#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""
Image generations (generationdir) against the real nbd-server on 127.0.0.1.

Checks: GO answers NBD_INFO_NAME "room@ID"; after the image is renamed
over, a GO for the old canonical name reads the old bytes while a plain GO
reads the new ones (whole images byte-compared) and names another ID; the
change is logged once; after SIGTERM and after SIGKILL a new server still
serves the old generation by its canonical name; SIGUSR1 lists which
client runs which generation; once the old generation's last client has
left and generationtimeout has passed it is deleted from the directory and
a GO for it gets ERR_UNKNOWN; a malformed ID gets ERR_UNKNOWN too.

Usage: server-generations.py SERVER_BINARY
"""
import os
import random
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import nbdwire as nw  # noqa: E402

NBDMAGIC = 0x4E42444D41474943
IHAVEOPT = 0x49484156454F5054
REP_MAGIC = 0x0003E889045565A9
REQ_MAGIC = 0x25609513
SIMPLE_MAGIC = 0x67446698
OPT_INFO, OPT_GO, REP_ACK, REP_INFO = 6, 7, 1, 3
INFO_EXPORT, INFO_NAME = 0, 1
ERR_UNKNOWN = (1 << 31) | 6
CMD_READ, CMD_WRITE, CMD_DISC = 0, 1, 2
SIZE = 256 << 10
TIMEOUT = 2			# generationtimeout in the test's configuration

SERVER = os.path.abspath(sys.argv[1])
TMP = tempfile.mkdtemp(prefix="nbdroot-gen-")
GENDIR = os.path.join(TMP, "generations")
IMAGE = os.path.join(TMP, "room.img")
LAB = os.path.join(TMP, "lab.img")
COWDIR = os.path.join(TMP, "cow")
LABDIR = os.path.join(TMP, "lab-generations")
failures = []
servers = []


class Refused(Exception):
    pass


class Client:
    def __init__(self, port, source="127.0.0.1"):
        self.s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.s.settimeout(10)
        self.s.bind((source, 0))
        self.s.connect(("127.0.0.1", port))

    def recv(self, n):
        buf = b""
        while len(buf) < n:
            chunk = self.s.recv(n - len(buf))
            assert chunk, "server closed the connection"
            buf += chunk
        return buf

    def go(self, name, option=OPT_GO):
        """GO (or INFO) asking for NBD_INFO_NAME: (size, canonical name)."""
        magic, opt, _ = struct.unpack(">QQH", self.recv(18))
        assert (magic, opt) == (NBDMAGIC, IHAVEOPT), "bad greeting"
        self.s.sendall(struct.pack(">I", 3))
        data = (struct.pack(">I", len(name)) + name +
                struct.pack(">HH", 1, INFO_NAME))
        self.s.sendall(struct.pack(">QII", IHAVEOPT, option, len(data)) + data)
        size = canon = None
        while True:
            magic, _, rtype, n = struct.unpack(">QIII", self.recv(20))
            body = self.recv(n)
            assert magic == REP_MAGIC, "bad option reply"
            if rtype == REP_ACK:
                return size, canon
            if rtype != REP_INFO:
                raise Refused(rtype)
            info = struct.unpack(">H", body[:2])[0]
            if info == INFO_EXPORT:
                size = struct.unpack(">Q", body[2:10])[0]
            elif info == INFO_NAME:
                canon = body[2:]

    def read_all(self, size):
        out = b""
        for i, off in enumerate(range(0, size, 65536)):
            n = min(65536, size - off)
            self.s.sendall(struct.pack(">IHHQQI", REQ_MAGIC, 0, CMD_READ, i,
                                       off, n))
            magic, err, ck = struct.unpack(">IIQ", self.recv(16))
            assert magic == SIMPLE_MAGIC and err == 0 and ck == i, "read failed"
            out += self.recv(n)
        return out

    def write(self, off, data):
        self.s.sendall(struct.pack(">IHHQQI", REQ_MAGIC, 0, CMD_WRITE, 7,
                                   off, len(data)) + data)
        magic, err, ck = struct.unpack(">IIQ", self.recv(16))
        assert magic == SIMPLE_MAGIC and err == 0 and ck == 7, "write failed"

    def close(self):
        self.s.sendall(struct.pack(">IHHQQI", REQ_MAGIC, 0, CMD_DISC, 99, 0, 0))
        self.s.close()


def config(image, gendir, lab, cowdir, labdir):
    return ("[generic]\n[room]\nexportname = %s\nreadonly = true\n"
            "generationdir = %s\ngenerationtimeout = %d\n"
            "[lab]\nexportname = %s\ncopyonwrite = true\n"
            "cowdir = %s\ngenerationdir = %s\ngenerationtimeout = %d\n"
            % (image, gendir, TIMEOUT, lab, cowdir, labdir, TIMEOUT))


class Server:
    def __init__(self, text=None):
        conf = os.path.join(TMP, "nbd.conf")
        with open(conf, "w") as f:
            f.write(text or config(IMAGE, GENDIR, LAB, COWDIR, LABDIR))
        self.log = os.path.join(TMP, "server-%d.log" % random.randrange(1 << 30))
        self.p, self.port = nw.start_server(SERVER, ["-C", conf], self.log)
        servers.append(self.p)

    def logtext(self):
        with open(self.log) as f:
            return f.read()

    def wait_log(self, text, count=1):
        for _ in range(100):
            if self.logtext().count(text) >= count:
                return
            time.sleep(0.1)
        raise AssertionError("no %r in the log: %s" % (text, self.logtext()))

    def stop(self, sig=signal.SIGTERM):
        if self.p.poll() is None:
            self.p.send_signal(sig)
        self.p.wait(15)


def write_image(seed, path=IMAGE, mode=0o644):
    """A new image renamed over the export's path, as scripts/mkrootfs."""
    data = random.Random(seed).randbytes(SIZE)
    tmp = path + ".new"
    with open(tmp, "wb") as f:
        f.write(data)
    os.chmod(tmp, mode)
    os.rename(tmp, path)
    return data


def attach(port, name, source="127.0.0.1"):
    c = Client(port, source)
    size, canon = c.go(name)
    return c, size, canon


def wait_gone(path, why):
    """The sweeper runs every second or so: up to 15 s."""
    for _ in range(150):
        if not os.path.exists(path):
            return
        time.sleep(0.1)
    raise AssertionError(why)


def refused(port, name, source="127.0.0.1"):
    try:
        c, _, _ = attach(port, name, source)
    except Refused as e:
        return e.args[0]
    c.close()
    return None


def main():
    for d in (GENDIR, COWDIR, LABDIR):
        os.mkdir(d)
        if os.geteuid() == 0:	# children run as nobody: directories theirs
            os.chmod(TMP, 0o755)
            shutil.chown(d, "nobody")
    write_image(11, LAB)
    old = write_image(1)
    srv = Server()
    c1, size, old_name = attach(srv.port, b"room", "127.0.0.2")
    assert size == SIZE, "size %r" % size
    assert old_name and old_name.startswith(b"room@"), "INFO_NAME %r" % old_name
    assert c1.read_all(SIZE) == old, "first client: not the image"
    assert os.path.exists(os.path.join(GENDIR, old_name.decode())), \
        "generation not kept: %s" % os.listdir(GENDIR)
    print("ok: GO names %s, kept in generationdir" % old_name.decode())

    new = write_image(2)
    assert new != old
    c2, _, new_name = attach(srv.port, b"room", "127.0.0.3")
    assert new_name != old_name, "same name %r after rename over" % new_name
    assert c2.read_all(SIZE) == new, "new client: not the new image"
    c1.close()
    c3, _, again = attach(srv.port, old_name, "127.0.0.2")
    assert again == old_name, "reconnect named %r" % again
    assert c3.read_all(SIZE) == old, "reconnect by canonical name: not old bytes"
    srv.wait_log("%s replaced" % IMAGE)
    assert srv.logtext().count("replaced") == 1, "change not logged once"
    print("ok: old client reconnects to old bytes, new client gets new bytes")

    srv.p.send_signal(signal.SIGUSR1)
    srv.wait_log("127.0.0.2 (connected)")
    srv.wait_log("127.0.0.3 (connected)")
    lines = [l for l in srv.logtext().splitlines() if "generation room@" in l]
    assert any(old_name.decode() in l and "old" in l and "127.0.0.2" in l
               for l in lines), "SIGUSR1 report: %s" % lines
    print("ok: SIGUSR1 lists clients per generation")

    for sig in (signal.SIGTERM, signal.SIGKILL):
        for c in (c2, c3):
            try:
                c.close()
            except OSError:
                pass
        srv.stop(sig)
        srv = Server()
        c3, _, again = attach(srv.port, old_name, "127.0.0.2")
        assert again == old_name and c3.read_all(SIZE) == old, \
            "after %s: old generation not served" % sig.name
        c2, _, cur = attach(srv.port, b"room", "127.0.0.3")
        assert cur == new_name and c2.read_all(SIZE) == new, \
            "after %s: current generation wrong" % sig.name
        print("ok: after %s the old generation is still served" % sig.name)

    assert refused(srv.port, b"room@zz-1") == ERR_UNKNOWN, "malformed id"
    assert refused(srv.port, b"room@1-2") == ERR_UNKNOWN, "unknown id"
    print("ok: unknown or malformed generation: ERR_UNKNOWN")

    time.sleep(TIMEOUT + 1)
    assert os.path.exists(os.path.join(GENDIR, old_name.decode())), \
        "old generation deleted while its client is connected"
    c3.close()
    wait_gone(os.path.join(GENDIR, old_name.decode()),
              "old generation not deleted after expiry")
    assert os.path.exists(os.path.join(GENDIR, new_name.decode())), \
        "current generation deleted"
    assert refused(srv.port, old_name) == ERR_UNKNOWN, "gone generation served"
    print("ok: expiry deletes the old generation after its last client left")
    c2.close()
    copy_on_write(srv)


def copy_on_write(srv):
    """A's blocks stay on the base they were written over, B starts anew."""
    mine = b"A's own block " * 292
    old = open(LAB, "rb").read()
    a, _, a_name = attach(srv.port, b"lab", "127.0.0.2")
    a.write(0, mine)
    a.close()
    new = write_image(12, LAB)
    for round_ in range(2):		# a reboot: the plain name again
        a, _, again = attach(srv.port, b"lab", "127.0.0.2")
        assert again == a_name, "A moved to %r from %r" % (again, a_name)
        got = a.read_all(SIZE)
        assert got[:len(mine)] == mine, "A's writes lost"
        assert got[len(mine):] == old[len(mine):], "A's base changed"
        a.close()
    b, _, b_name = attach(srv.port, b"lab", "127.0.0.3")
    assert b_name != a_name and b.read_all(SIZE) == new, "B not on new base"
    b.close()
    srv.wait_log("runs on the older base")
    assert srv.logtext().count("runs on the older base") == 1, \
        "older base not logged once per client"
    print("ok: copy-on-write client keeps its base, a new one gets the new")

    srv.stop(signal.SIGKILL)
    srv = Server()
    a, _, again = attach(srv.port, b"lab", "127.0.0.2")
    got = a.read_all(SIZE)
    assert again == a_name and got[:len(mine)] == mine and \
        got[len(mine):] == old[len(mine):], "after SIGKILL: A's base changed"
    a.close()
    time.sleep(TIMEOUT + 2)
    assert os.path.exists(os.path.join(LABDIR, a_name.decode())), \
        "base of a client's copy-on-write deleted"
    print("ok: after SIGKILL too; its base outlives generationtimeout")

    for f in os.listdir(COWDIR):	# reset A, as README says
        if f.startswith("127.0.0.2,lab."):
            os.unlink(os.path.join(COWDIR, f))
    a, _, again = attach(srv.port, b"lab", "127.0.0.2")
    assert again == b_name and a.read_all(SIZE) == new, "reset A not on new"
    a.close()
    wait_gone(os.path.join(LABDIR, a_name.decode()),
              "unused base not deleted after reset")
    print("ok: a reset client starts on the current base; the old one goes")
    srv.stop()


def root_only():
    """
    Started as root, children drop to nobody (the default): generationdir,
    cowdir and images stay root's alone (0700 and 0600, below a 0700
    directory), so a child can use only what it opened before the drop.
    A read-only client and a copy-on-write client that has not written
    reconnect by canonical name after the image is replaced, with the
    server as it was, after SIGTERM and after SIGKILL; the copy-on-write
    client's first write then pins it to that old base (a reboot by plain
    name stays there, a GO for the current one is refused); a client that
    never used the old generation cannot open it.
    """
    if os.geteuid() != 0:
        print("SKIP: root-only generation files: not root")
        return
    top = os.path.join(TMP, "root-only")
    os.mkdir(top, 0o700)
    paths = [os.path.join(top, n)
             for n in ("room.img", "gen", "lab.img", "cow", "labgen")]
    image, gendir, lab, cowdir, labdir = paths
    for d in (gendir, cowdir, labdir):
        os.mkdir(d, 0o700)
    old, lab_old = write_image(21, image, 0o600), write_image(22, lab, 0o600)
    text = config(*paths)
    srv = Server(text)
    c, _, name = attach(srv.port, b"room", "127.0.0.2")
    a, _, a_name = attach(srv.port, b"lab", "127.0.0.2")
    assert c.read_all(SIZE) == old and a.read_all(SIZE) == lab_old, \
        "root-only: first attach"
    c.close()
    a.close()
    new, lab_new = write_image(23, image, 0o600), write_image(24, lab, 0o600)
    for sig in (None, signal.SIGTERM, signal.SIGKILL):
        if sig:
            srv.stop(sig)
            srv = Server(text)
        how = sig.name if sig else "the same server"
        probe = Client(srv.port, "127.0.0.2")
        got = probe.go(a_name, OPT_INFO)
        probe.s.close()
        assert got == (SIZE, a_name), "root-only, %s: INFO %r" % (how, got)
        for canon, data in ((name, old), (a_name, lab_old)):
            try:
                c, _, again = attach(srv.port, canon, "127.0.0.2")
            except Refused:
                raise AssertionError("root-only, %s: reconnect to %s refused"
                                     % (how, canon.decode()))
            assert again == canon and c.read_all(SIZE) == data, \
                "root-only, %s: %s not the old bytes" % (how, canon.decode())
            c.close()
        print("ok: root-only files, %s: old generations reopened" % how)

    mine = b"written on the old base " * 100
    a, _, _ = attach(srv.port, a_name, "127.0.0.2")
    a.write(0, mine)
    a.close()
    a, _, again = attach(srv.port, b"lab", "127.0.0.2")	# its reboot
    got = a.read_all(SIZE)
    assert again == a_name and got[:len(mine)] == mine and \
        got[len(mine):] == lab_old[len(mine):], \
        "root-only: after writing on the old base, a reboot moved it (%r)" \
        % again
    a.close()
    b, _, b_name = attach(srv.port, b"lab", "127.0.0.3")
    assert b_name != a_name and b.read_all(SIZE) == lab_new, \
        "root-only: a new client not on the new base"
    b.close()
    assert refused(srv.port, b_name, "127.0.0.2") == ERR_UNKNOWN, \
        "root-only: blocks written on %s served over %s" % (a_name, b_name)
    assert refused(srv.port, name) == ERR_UNKNOWN, \
        "root-only: a client that never used %s got it" % name.decode()
    print("ok: root-only files: a write pins the old base, never another; "
          "strangers refused")
    open_to_all = [f for d in (gendir, labdir) for f in os.listdir(d)
                   if os.stat(os.path.join(d, f)).st_mode & 0o077]
    assert not open_to_all, "root-only: open to others: %s" % open_to_all
    print("ok: root-only files: no .use file open to other users")
    srv.stop()


try:
    main()
    root_only()
except Exception as e:
    failures.append(str(e))
    print("FAIL: %s: %s" % (type(e).__name__, e))
    for log in [f for f in os.listdir(TMP) if f.startswith("server-")]:
        print(open(os.path.join(TMP, log)).read())
for p in servers:
    if p.poll() is None:
        p.kill()
        p.wait()
shutil.rmtree(TMP, ignore_errors=True)
if not failures:
    print("all generation cases passed")
sys.exit(1 if failures else 0)
