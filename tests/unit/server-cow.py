#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""
Copy-on-write exports against the real nbd-server on 127.0.0.1.

Clients are told apart by address, so each test client binds its socket to
its own loopback address (127.0.0.2, 127.0.0.3: loopback too) before it
connects to the server on 127.0.0.1; the server's keying is unchanged.

Checks: two clients write different data at the same offsets and each
reads back its own; the base file's checksum never changes; a client that
reconnects within cowtimeout reads back its writes, even while another
client is still connected; once cowtimeout has passed after its last
disconnect its files are deleted (and their blocks freed) and it sees the
base again; FLUSH and FUA succeed. With prefork, a new client's pair is
the two unnamed spare files its waiting child made (same inodes), held
by their names and with no spare left in the serving child; the spare map
is laid out while the child waits (length and tail) and kept as it is
by the connect; one laid out for a base since replaced by a larger one
is laid out again, and its old tail is never read as bits (a .cow whose
map was deleted reads the base); a map left
without its .cow is cleared, not trusted; a symbolic link in place of a
.cow file is refused and its target left alone. A second connection of a
client that comes while the first sets up the client's new pair (widened
to seconds by the LD_PRELOAD shim cow-setup-delay.c) leaves the first's
writes in place. The export allows several connections (CAN_MULTI_CONN):
two connections of one client writing the two halves of the same fresh
blocks at once, pipelined, both land (neither's copy of a block from the
base undoes the other's half). After a restart of the server a client
reads all its writes, flushed or not; after a restart of the host (the
boot id in its map's tail changed by the test) the flushed ones, and the
base where its writes were not flushed, never zeros. A map of an older
server (bits alone) is taken as flushed. Once a FLUSH has synced a
client's overlay, none of it stays in the server's page cache (fincore),
and it reads back the same.

Usage: server-cow.py SERVER_BINARY COW_SETUP_DELAY_SO
"""
import hashlib
import os
import random
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time

NBDMAGIC = 0x4E42444D41474943
IHAVEOPT = 0x49484156454F5054
REP_MAGIC = 0x0003E889045565A9
REQ_MAGIC = 0x25609513
SIMPLE_MAGIC = 0x67446698
OPT_GO, REP_ACK, REP_INFO = 7, 1, 3
CMD_READ, CMD_WRITE, CMD_DISC, CMD_FLUSH, CMD_WRITE_ZEROES = 0, 1, 2, 3, 6
FLAG_READ_ONLY, FLAG_SEND_TRIM, FLAG_MULTI_CONN = 1 << 1, 1 << 5, 1 << 8
CMD_FLAG_FUA = 1
SIZE = (1 << 20) + 1000		# not a multiple of the 4 KiB granule
BIG = 32 << 20			# the export two connections write at once
TIMEOUT = 3			# cowtimeout in the test's configuration

SERVER = os.path.abspath(sys.argv[1])
SHIM = os.path.abspath(sys.argv[2])	# cow-setup-delay.c, built
TMP = tempfile.mkdtemp(prefix="nbdroot-cow-")
COWDIR = os.path.join(TMP, "cow")
server = None


class Client:
    def __init__(self, port, source):
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

    def go(self, name):
        magic, opt, _ = struct.unpack(">QQH", self.recv(18))
        assert (magic, opt) == (NBDMAGIC, IHAVEOPT), "bad greeting"
        self.s.sendall(struct.pack(">I", 3))
        data = struct.pack(">I", len(name)) + name + struct.pack(">H", 0)
        self.s.sendall(struct.pack(">QII", IHAVEOPT, OPT_GO, len(data)) + data)
        size = flags = None
        while True:
            magic, _, rtype, n = struct.unpack(">QIII", self.recv(20))
            body = self.recv(n)
            assert magic == REP_MAGIC, "bad option reply"
            if rtype == REP_ACK:
                return size, flags
            assert rtype == REP_INFO, "GO refused: 0x%x %r" % (rtype, body)
            if struct.unpack(">H", body[:2])[0] == 0:
                size, flags = struct.unpack(">QH", body[2:12])

    def cmd(self, rtype, off, length, payload=b"", flags=0, cookie=7):
        self.s.sendall(struct.pack(">IHHQQI", REQ_MAGIC, flags, rtype, cookie,
                                   off, length) + payload)
        if rtype == CMD_DISC:
            return 0, b""
        magic, err, ck = struct.unpack(">IIQ", self.recv(16))
        assert magic == SIMPLE_MAGIC and ck == cookie, "bad reply"
        data = self.recv(length) if rtype == CMD_READ and err == 0 else b""
        return err, data

    def read(self, off, length):
        err, data = self.cmd(CMD_READ, off, length)
        assert err == 0, "READ error %d" % err
        return data

    def write(self, off, data, flags=0):
        err, _ = self.cmd(CMD_WRITE, off, len(data), data, flags)
        assert err == 0, "WRITE error %d" % err

    def bye(self):
        self.cmd(CMD_DISC, 0, 0)
        self.s.close()


def sha(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def cow_files():
    return sorted(os.listdir(COWDIR))


def start_server(cfg, env=None):
    global server
    for _ in range(10):
        port = random.randrange(20000, 60000)
        log = open(os.path.join(TMP, "server.log"), "w")
        server = subprocess.Popen([SERVER, "-n", "127.0.0.1@%d" % port,
                                   "-C", cfg], stderr=log, env=env)
        for _ in range(50):
            out = subprocess.run(["ss", "-Hltn", "sport = :%d" % port],
                                 capture_output=True, text=True).stdout
            if "LISTEN" in out:
                return port
            if server.poll() is not None:
                break
            time.sleep(0.1)
        if server.poll() is None:
            server.kill()
        server.wait()
    raise AssertionError("server did not start")


def send_halves(c, first, count, half, payload, start):
    """Pipelines one WRITE per block (the given half of it), then takes
    every reply."""
    reqs = []
    for k in range(count):
        off = (first + k) * 4096 + half * 2048
        reqs.append(struct.pack(">IHHQQI", REQ_MAGIC, 0, CMD_WRITE, k, off,
                                2048) + payload)
    reqs = b"".join(reqs)
    start.wait()
    c.s.sendall(reqs)
    for k in range(count):
        magic, err, ck = struct.unpack(">IIQ", c.recv(16))
        assert magic == SIMPLE_MAGIC and err == 0, "WRITE %d failed" % ck


def two_connections(port, big):
    """One client, two connections, the two halves of the same blocks."""
    first, count = 0, BIG // 4096
    c1 = Client(port, "127.0.0.4")
    c2 = Client(port, "127.0.0.4")
    c1.go(b"big")
    c2.go(b"big")
    errors = []
    start = threading.Barrier(2)

    def run(c, half, byte):
        try:
            send_halves(c, first, count, half, byte * 2048, start)
        except AssertionError as e:
            errors.append(str(e))
    t = [threading.Thread(target=run, args=(c1, 0, b"1")),
         threading.Thread(target=run, args=(c2, 1, b"2"))]
    for x in t:
        x.start()
    for x in t:
        x.join()
    assert not errors, errors
    want = (b"1" * 2048 + b"2" * 2048) * count
    got1 = b"".join(c1.read(o, 1 << 20) for o in range(0, BIG, 1 << 20))
    got2 = b"".join(c2.read(o, 1 << 20) for o in range(0, BIG, 1 << 20))
    lost = [k for k in range(count)
            if got1[k * 4096:(k + 1) * 4096] != want[k * 4096:(k + 1) * 4096]]
    assert not lost, "%d blocks lost a half, the first %d" % (len(lost),
                                                             lost[0])
    assert got2 == got1, "the two connections see different data"
    with open(big, "rb") as f:
        assert f.read(4096) == bytes(4096), "the base of 'big' was written"
    c1.bye()
    c2.bye()
    print("ok: two connections of one client wrote the halves of %d fresh "
          "blocks at once; every block has both" % count)


def page_cached(path):
    """Bytes of path in the page cache, by util-linux's fincore."""
    out = subprocess.run(["fincore", "--bytes", "--noheadings", "--output",
                          "RES", path], capture_output=True, text=True)
    assert out.returncode == 0, "fincore %s: %s" % (path, out.stderr)
    return int(out.stdout.split()[0])


def cache_drops(directory):
    """Does the file system under directory drop synced pages when told?
    (tmpfs, ramfs and DAX keep them, or have no page cache.)"""
    probe = os.path.join(directory, "probe")
    with open(probe, "wb") as f:
        f.write(b"p" * 65536)
        f.flush()
        os.fsync(f.fileno())
        os.posix_fadvise(f.fileno(), 0, 0, os.POSIX_FADV_DONTNEED)
    kept = page_cached(probe)
    os.unlink(probe)
    return kept == 0


def flush_drops_pages(port):
    """A FLUSH leaves none of the client's synced overlay in the cache."""
    if not shutil.which("fincore"):
        print("skipped: the page-cache drop (util-linux fincore not found)")
        return
    if not cache_drops(TMP):
        print("skipped: the page-cache drop (%s keeps synced pages when "
              "told to drop them)" % TMP)
        return
    n = 2 << 20
    payload = random.Random(12).randbytes(n)
    c = Client(port, "127.0.0.5")
    c.go(b"big")
    c.write(4096, payload)
    cow = os.path.join(COWDIR, "127.0.0.5,big.cow")
    before = page_cached(cow)
    assert before >= n, "only %d of the %d bytes written are cached" % (
        before, n)
    assert c.cmd(CMD_FLUSH, 0, 0)[0] == 0, "FLUSH failed"
    after = page_cached(cow)
    assert after == 0, "%s keeps %d bytes in the page cache after FLUSH" % (
        cow, after)
    assert c.read(4096, n) == payload, "the data read back after the drop"
    c.bye()
    print("ok: FLUSH dropped the %d bytes of the client's overlay from the "
          "page cache; they read back from the disk" % before)


def spare_paths(pid, cowdir):
    """The unnamed files (O_TMPFILE) in cowdir that pid holds, as
    /proc/PID/fd/N paths (none once pid is gone)."""
    fds = "/proc/%d/fd" % pid
    try:
        names = os.listdir(fds)
    except OSError:
        return []
    found = []
    for fd in names:
        try:
            if os.readlink(os.path.join(fds, fd)).startswith(cowdir + "/#"):
                found.append(os.path.join(fds, fd))
        except OSError:
            continue
    return found


def spare_fds(pid, cowdir):
    """The unnamed files in cowdir that pid holds: inodes."""
    found = set()
    for path in spare_paths(pid, cowdir):
        try:
            found.add(os.stat(path).st_ino)
        except OSError:
            continue
    return found


def waiting_spares(cowdir, children):
    """Until `children` children each hold their two spares: all inodes."""
    deadline = time.monotonic() + 10
    while True:
        pids = [int(p) for p in subprocess.run(
            ["pgrep", "-P", str(server.pid)], capture_output=True,
            text=True).stdout.split()]
        held = [spare_fds(p, cowdir) for p in pids]
        if len(held) >= children and all(len(h) == 2 for h in held):
            return set().union(*held)
        assert time.monotonic() < deadline, \
            "waiting children hold spares %s" % held
        time.sleep(0.1)


def spare_maps(cowdir):
    """Until the 2 waiting children each hold a spare map laid out (two
    regions of a page, for SIZE, and the tail of this boot): {inode:
    mtime}. The .cow spares stay empty."""
    with open("/proc/sys/kernel/random/boot_id", "rb") as f:
        boot = f.read(36)
    deadline = time.monotonic() + 10
    while True:
        maps, sizes = {}, []
        for pid in subprocess.run(["pgrep", "-P", str(server.pid)],
                                  capture_output=True,
                                  text=True).stdout.split():
            for path in spare_paths(int(pid), cowdir):
                try:
                    st = os.stat(path)
                    tail = map_tail(path)[1] if st.st_size else None
                except (OSError, AssertionError):
                    continue
                sizes.append(st.st_size)
                if st.st_size == 2 * 4096 + 48 and tail == boot:
                    maps[st.st_ino] = st.st_mtime_ns
        if len(maps) >= 2 and sizes.count(0) >= 2:
            return maps
        assert time.monotonic() < deadline, \
            "waiting children's spares: sizes %s, %d laid out" % (
                sizes, len(maps))
        time.sleep(0.1)


def map_bits(path, maplen, block):
    """Block's bit in the live and the flushed region of the map."""
    with open(path, "rb") as f:
        m = f.read()
    byte, bit = block >> 3, 1 << (block & 7)
    return bool(m[byte] & bit), bool(m[maplen + byte] & bit)


def held_files(cowdir):
    """The files in cowdir that the child serving a client holds."""
    for line in subprocess.run(["pgrep", "-P", str(server.pid)],
                               capture_output=True, text=True).stdout.split():
        fds = "/proc/%s/fd" % line
        targets = []
        for fd in os.listdir(fds):
            try:
                targets.append(os.readlink(os.path.join(fds, fd)))
            except OSError:
                continue
        mine = [t for t in targets if t.startswith(cowdir + "/")]
        if any(not t.startswith(cowdir + "/#") for t in mine):
            return mine
    raise AssertionError("no child holds a pair in %s" % cowdir)


def symlink_refused(port, cowdir):
    """A .cow that is a symbolic link: GO fails, the target is intact."""
    victim = os.path.join(TMP, "victim")
    with open(victim, "wb") as f:
        f.write(b"keep me")
    os.symlink(victim, os.path.join(cowdir, "127.0.0.7,lab.cow"))
    c = Client(port, "127.0.0.7")
    try:
        c.go(b"lab")
        refused = None
    except AssertionError as e:
        refused = str(e)
    c.s.close()
    assert refused and "GO refused" in refused, \
        "GO through a symbolic link: %s" % (refused or "accepted")
    with open(victim, "rb") as f:
        assert f.read() == b"keep me", "the link's target was changed"
    print("ok: a symbolic link in place of a .cow file is refused, its "
          "target untouched")


def cow_server(tag, export, base, generic="", env=None):
    """A server of the test's own, beside the suite's: one copy-on-write
    export of base in cowdir TMP/cow-TAG, generic before it in the
    configuration. (the suite's server, for stop_own; port; cowdir)"""
    cowdir = os.path.join(TMP, "cow-" + tag)
    os.mkdir(cowdir)
    cfg = os.path.join(TMP, tag + ".conf")
    with open(cfg, "w") as f:
        f.write("%s[%s]\nexportname = %s\ncopyonwrite = true\n"
                "cowdir = %s\n" % (generic, export, base, cowdir))
    old = server
    return old, start_server(cfg, env), cowdir


def stop_own(old):
    """Stops the test's own server (it must exit 0); old serves again."""
    global server
    server.send_signal(signal.SIGTERM)
    assert server.wait(10) == 0, "server exit status %s" % server.returncode
    server = old


def spares_become_pairs(base, data):
    """prefork: the pair of a new client is its child's spare files."""
    old, port, cowdir = cow_server("spares", "lab", base,
                                   "[generic]\nprefork = 2\n")
    spares = waiting_spares(cowdir, 2)
    maps = spare_maps(cowdir)
    time.sleep(0.05)
    c = Client(port, "127.0.0.6")
    c.go(b"lab")
    mapf = os.path.join(cowdir, "127.0.0.6,lab.map")
    st = os.stat(mapf)
    assert maps.get(st.st_ino) == st.st_mtime_ns, \
        "the laid-out spare map was written again on the connect"
    mine = random.Random(12).randbytes(5000)
    c.write(8192, mine, CMD_FLAG_FUA)
    assert c.read(8192, 5000) == mine, "the client's write is not read back"
    serving = held_files(cowdir)
    c.bye()
    names = sorted(os.path.basename(t) for t in serving)
    assert names == ["127.0.0.6,lab.cow", "127.0.0.6,lab.map"], \
        "the serving child holds %s" % names
    pair = [os.stat(os.path.join(cowdir, "127.0.0.6,lab." + x))
            for x in ("cow", "map")]
    assert all(st.st_ino in spares for st in pair), \
        "pair inodes %s are not among the spares %s" % (
            [st.st_ino for st in pair], sorted(spares))
    modes = [oct(st.st_mode & 0o777) for st in pair]
    assert modes == ["0o600", "0o600"], "pair modes %s" % modes
    assert pair[1].st_ino in maps and pair[1].st_size in (2 * 4096 + 48, 2 * 4096 + 49), \
        "the map (%d bytes) is not a laid-out spare" % pair[1].st_size
    bits = [map_bits(mapf, 4096, b) for b in (2, 3)]
    assert bits == [(True, True)] * 2, "the FUA write's bits %s" % bits
    print("ok: prefork: the new client's pair is its child's two spare "
          "files (inodes %s)" % " ".join(str(st.st_ino) for st in pair))
    # a map whose .cow is gone (deleted by hand) must not be believed
    os.unlink(os.path.join(cowdir, "127.0.0.6,lab.cow"))
    spares = waiting_spares(cowdir, 2)
    c = Client(port, "127.0.0.6")
    c.go(b"lab")
    got = c.read(8192, 5000)
    c.bye()
    assert got == data[8192:13192], "a stale map was kept: %s" % (
        "zeros" if got == bytes(5000) else "old writes" if got == mine
        else "other bytes")
    st = os.stat(os.path.join(cowdir, "127.0.0.6,lab.cow"))
    assert st.st_ino in spares, "the new .cow is not a spare"
    print("ok: prefork: a map left without its .cow is cleared; the base "
          "is read")
    symlink_refused(port, cowdir)
    stop_own(old)


def grown_base(tag, data, blocks):
    """A server of the test's own with prefork on a base of data, whose
    waiting children have laid out their spare maps; then the base is
    replaced by one of `blocks` blocks, data first, random blocks at the
    end and at 65536 on. (old, port, cowdir, the new base's bytes at
    those blocks as {block: bytes})."""
    path = os.path.join(TMP, tag)
    with open(path, "wb") as f:
        f.write(data)
    old, port, cowdir = cow_server(tag, tag, path,
                                   "[generic]\nprefork = 2\n")
    waiting_spares(cowdir, 2)
    spare_maps(cowdir)
    rng = random.Random(blocks)
    known = {b: rng.randbytes(4096) for b in range(65536, 65544)}
    known[blocks - 1] = rng.randbytes(4096)
    with open(path + ".new", "wb") as f:
        f.write(data)
        f.truncate(blocks * 4096)
        for b, got in known.items():
            f.seek(b * 4096)
            f.write(got)
    os.rename(path + ".new", path)
    return old, port, cowdir, known


def spare_for_another_size(data):
    """prefork: the spares are laid out for the base as it was; the base
    is then replaced by one whose map takes three pages a region. A new
    client's map is laid out again for the new size: the base's last
    block reads, a write near the end and its flush land in both
    regions, and the map has the new length. A client whose .cow is
    there without its map (deleted) reads the base where the spare's
    old tail would fall in the new live bits."""
    blocks = 98304				# 384 MiB: 12288 bytes of bits
    old, port, cowdir, known = grown_base("grow", data, blocks)
    end = blocks * 4096
    mine = random.Random(31).randbytes(4096)
    c = Client(port, "127.0.0.11")
    size, _ = c.go(b"grow")
    assert size == end, "export size %s after the base grew" % size
    assert c.read(end - 4096, 4096) == known[blocks - 1], \
        "the new base's last block"
    c.write(end - 8192, mine)
    assert c.cmd(CMD_FLUSH, 0, 0)[0] == 0, "FLUSH failed"
    assert c.read(end - 8192, 4096) == mine, "the write near the end"
    c.bye()
    mapf = os.path.join(cowdir, "127.0.0.11,grow.map")
    got = os.stat(mapf).st_size
    assert got in (2 * 12288 + 48, 2 * 12288 + 49), \
        "a map of %d bytes for %d" % (got, end)
    bits = map_bits(mapf, 12288, blocks - 2)
    assert bits == (True, True), "the flushed write's bits %s" % (bits,)
    stop_own(old)
    old, port, cowdir, known = grown_base("bare", data, blocks)
    with open(os.path.join(cowdir, "127.0.0.12,bare.cow"), "wb") as f:
        f.truncate(end)
    c = Client(port, "127.0.0.12")
    c.go(b"bare")
    got = c.read(65536 * 4096, 8 * 4096)
    c.bye()
    want = b"".join(known[b] for b in range(65536, 65544))
    assert got == want, "a .cow without its map reads %s" % (
        "zeros" if got.count(0) > len(got) // 2 else "other bytes")
    print("ok: prefork: spare maps are laid out while the children wait; "
          "one laid out for another size is laid out again, and never "
          "read as bits")
    stop_own(old)


def second_during_setup(base, data, shim):
    """A second connection of a client whose new pair the first is still
    setting up (the shim stretches that to two seconds, and holds the
    second connection back from its map for three more) must not take the
    pair for new as well: it would clear the map under the first's
    writes."""
    delay = os.path.join(TMP, "delay")
    os.mkdir(delay)
    env = dict(os.environ, LD_PRELOAD=shim, NBDROOT_TEST_DELAY_DIR=delay)
    old, port, _ = cow_server("race", "race", base, env=env)
    mine = random.Random(13).randbytes(4096)
    conns, errors = [None, None], []

    def first():
        try:
            conns[0] = Client(port, "127.0.0.8")
            conns[0].go(b"race")
            conns[0].write(16384, mine, CMD_FLAG_FUA)
        except (AssertionError, OSError) as e:
            errors.append("first connection: %s" % e)

    def second():
        try:
            # once the first connection's child is sizing the pair
            deadline = time.monotonic() + 10
            while not os.path.exists(os.path.join(delay, "first")):
                assert time.monotonic() < deadline, "the shim never ran"
                time.sleep(0.05)
            conns[1] = Client(port, "127.0.0.8")
            conns[1].go(b"race")
        except (AssertionError, OSError) as e:
            errors.append("second connection: %s" % e)
    t = [threading.Thread(target=first), threading.Thread(target=second)]
    for x in t:
        x.start()
    for x in t:
        x.join()
    assert not errors, errors
    with open(os.path.join(delay, "first")) as f:
        assert int(f.read()) != server.pid, "the shim did not run in a child"
    assert os.path.exists(os.path.join(delay, "overlap")), \
        "the second connection did not come while the first set up the pair"
    got = [c.read(16384, 4096) for c in conns]
    for c in conns:
        c.bye()
    assert got[0] == mine, "the first connection lost its write: %s" % (
        "it reads the base" if got[0] == data[16384:20480] else "other bytes")
    assert got[1] == mine, "the second connection does not see the write"
    print("ok: a second connection that came while the first set up the "
          "client's new pair kept the first's write")
    stop_own(old)


MAP_MAGIC = b"nbdroot-map1"


def map_tail(path):
    """(offset of the boot id in the map's tail, the boot id)."""
    with open(path, "rb") as f:
        m = f.read()
    at = len(m) - len(m) % 4096
    assert m[at:at + 12] == MAP_MAGIC, "no tail in %s (%d bytes)" % (
        path, len(m))
    return at + 12, m[at + 12:at + 48]


def another_boot(path):
    """The map as a host that went down would leave it: set up in
    another boot."""
    at, _ = map_tail(path)
    with open(path, "r+b") as f:
        f.seek(at)
        f.write(b"00000000-0000-4000-8000-000000000000")


def restart(cfg):
    """Stops the test's own server and starts it again on cfg."""
    global server
    server.send_signal(signal.SIGTERM)
    assert server.wait(10) == 0, "server exit status %s" % server.returncode
    return start_server(cfg)


def host_restart(base, data):
    """Unflushed writes stay across a restart of the server and go across
    one of the host; flushed ones stay across both."""
    old, port, cowdir = cow_server("boot", "lab", base)
    cfg = os.path.join(TMP, "boot.conf")
    mapf = os.path.join(cowdir, "127.0.0.7,lab.map")
    rng = random.Random(21)
    kept, lost = rng.randbytes(4096), rng.randbytes(3000)
    c = Client(port, "127.0.0.7")
    c.go(b"lab")
    c.write(2 * 4096, kept)
    assert c.cmd(CMD_FLUSH, 0, 0)[0] == 0, "FLUSH failed"
    c.write(5 * 4096 + 100, lost)	# a partial block: base around it
    c.bye()
    port = restart(cfg)
    c = Client(port, "127.0.0.7")
    c.go(b"lab")
    assert c.read(2 * 4096, 4096) == kept, "flushed write lost on restart"
    assert c.read(5 * 4096 + 100, 3000) == lost, \
        "a write answered but not flushed was lost by a server restart"
    c.bye()
    print("ok: a restart of the server keeps the writes, flushed or not")
    _, boot = map_tail(mapf)
    with open("/proc/sys/kernel/random/boot_id", "rb") as f:
        assert boot == f.read(36), "tail boot id %r" % boot
    server.send_signal(signal.SIGTERM)
    assert server.wait(10) == 0, "server exit status %s" % server.returncode
    another_boot(mapf)
    port = start_server(cfg)
    c = Client(port, "127.0.0.7")
    c.go(b"lab")
    assert c.read(2 * 4096, 4096) == kept, "flushed write lost on reboot"
    got = c.read(5 * 4096, 4096)
    assert got == data[5 * 4096:6 * 4096], \
        "after the host's restart the unflushed block reads %s" % (
            "zeros" if got == bytes(4096) else "its write" if
            got[100:3100] == lost else "other bytes")
    again = rng.randbytes(4096)
    c.write(5 * 4096, again, CMD_FLAG_FUA)
    assert c.read(5 * 4096, 4096) == again, "a write after the restore"
    c.bye()
    _, boot2 = map_tail(mapf)
    assert boot2 == boot, "the tail was not set up for this boot: %r" % boot2
    print("ok: after a restart of the host the flushed write stays and the "
          "unflushed block reads the base, not zeros")
    older_map(port, cowdir, data)
    stop_own(old)


def older_map(port, cowdir, data):
    """A pair of an older server: the map is bits alone (one page here),
    with its mark byte or without, or with a region of zeros after them
    (a conversion cut short); its blocks count as flushed."""
    for n, (addr, extra) in enumerate((("127.0.0.8", b"\0"),
                                       ("127.0.0.9", b""),
                                       ("127.0.0.10", bytes(4096)))):
        mine = random.Random(22 + n).randbytes(4096)
        with open(os.path.join(cowdir, addr + ",lab.cow"), "wb") as f:
            f.truncate(SIZE)
            f.seek(3 * 4096)
            f.write(mine)
        mapf = os.path.join(cowdir, addr + ",lab.map")
        with open(mapf, "wb") as f:
            f.write(bytes([1 << 3]) + bytes(4095) + extra)
        c = Client(port, addr)
        c.go(b"lab")
        assert c.read(3 * 4096, 4096) == mine, \
            "the older map's block is lost (map of %d bytes)" % (4096 +
                                                                len(extra))
        assert c.read(4 * 4096, 4096) == data[4 * 4096:5 * 4096], "base"
        c.bye()
        size = os.path.getsize(mapf)
        assert size in (2 * 4096 + 48, 2 * 4096 + 49), "map of %d bytes" % size
        with open(mapf, "rb") as f:
            m = f.read()
        assert m[4096] == 1 << 3, "the older bits are not flushed ones"
        another_boot(mapf)
        c = Client(port, addr)
        c.go(b"lab")
        assert c.read(3 * 4096, 4096) == mine, \
            "the older map's block is lost after a restart of the host"
        c.bye()
    print("ok: an older server's map (with its mark, without, or with a "
          "conversion cut short) is read, then kept as flushed bits")


def main():
    base = os.path.join(TMP, "base.img")
    data = random.Random(4).randbytes(SIZE)
    with open(base, "wb") as f:
        f.write(data)
    before = sha(base)
    big = os.path.join(TMP, "big.img")
    with open(big, "wb") as f:
        f.truncate(BIG)
    os.mkdir(COWDIR)
    cfg = os.path.join(TMP, "cow.conf")
    with open(cfg, "w") as f:
        f.write("[lab]\nexportname = %s\ncopyonwrite = true\ncowdir = %s\n"
                "cowtimeout = %d\n" % (base, COWDIR, TIMEOUT))
        f.write("[big]\nexportname = %s\ncopyonwrite = true\ncowdir = %s\n"
                "cowtimeout = %d\n" % (big, COWDIR, TIMEOUT))
    port = start_server(cfg)

    a = Client(port, "127.0.0.2")
    b = Client(port, "127.0.0.3")
    size, flags = a.go(b"lab")
    assert size == SIZE, "size %r" % size
    assert not flags & FLAG_READ_ONLY, "copy-on-write export is read-only"
    assert not flags & FLAG_SEND_TRIM, "TRIM offered: flags 0x%x" % flags
    assert flags & FLAG_MULTI_CONN, "no CAN_MULTI_CONN: flags 0x%x" % flags
    b.go(b"lab")
    print("ok: two clients on one copy-on-write export")

    # Same offsets, different data; unaligned so that partial 4 KiB
    # blocks must keep the base's bytes around the write.
    off, n = 4096 + 100, 9000
    pa = random.Random(10).randbytes(n)
    pb = random.Random(11).randbytes(n)
    a.write(off, pa)
    b.write(off, pb, CMD_FLAG_FUA)
    tail = SIZE - 300		# the last, partial granule
    a.write(tail, b"A" * 300)
    want_a = bytearray(data)
    want_a[off:off + n] = pa
    want_a[tail:] = b"A" * 300
    want_b = bytearray(data)
    want_b[off:off + n] = pb
    assert a.read(0, 32768) == bytes(want_a[:32768]), "A reads wrong data"
    assert b.read(0, 32768) == bytes(want_b[:32768]), "B reads wrong data"
    assert a.read(SIZE - 5000, 5000) == bytes(want_a[-5000:]), "A tail"
    assert b.read(SIZE - 5000, 5000) == data[-5000:], "B sees A's tail"
    # a zeroed range is this client's too
    err, _ = a.cmd(CMD_WRITE_ZEROES, 65536, 8192)
    assert err == 0, "WRITE_ZEROES error %d" % err
    want_a[65536:65536 + 8192] = bytes(8192)
    assert a.read(65536 - 100, 8392) == bytes(want_a[65436:73828]), "zeroes"
    assert b.read(65536, 8192) == data[65536:73728], "B sees A's zeroes"
    print("ok: each client reads back its own writes")

    for c in (a, b):
        assert c.cmd(CMD_FLUSH, 0, 0)[0] == 0, "FLUSH failed"
    print("ok: FLUSH and FUA")
    assert sha(base) == before, "the base image was modified"
    # Started as root, each child creates the pairs of every export before
    # it drops privileges (privdrop.c): big's are there too, and empty.
    def unused(f):
        cow = os.path.join(COWDIR, f.rsplit(".", 1)[0] + ".cow")
        return ",big." in f and os.stat(cow).st_blocks == 0
    files = [f for f in cow_files() if not unused(f)]
    assert len(files) == 4, files
    assert "127.0.0.2,lab.cow" in files and "127.0.0.3,lab.map" in files, files
    print("ok: base unchanged; per-client files %s" % " ".join(files))
    two_connections(port, big)
    flush_drops_pages(port)

    # A reconnects within the timeout: its writes are still there.
    a.bye()
    time.sleep(0.5)
    a = Client(port, "127.0.0.2")
    a.go(b"lab")
    assert a.read(0, 32768) == bytes(want_a[:32768]), "A lost its writes"
    assert a.read(SIZE - 5000, 5000) == bytes(want_a[-5000:]), "A lost tail"
    a.bye()
    print("ok: reconnection within cowtimeout keeps the writes")

    # A is gone for longer than cowtimeout; B stays connected.
    blocks = os.stat(os.path.join(COWDIR, "127.0.0.2,lab.cow")).st_blocks
    assert blocks > 0, "A's copy-on-write file holds no blocks"
    deadline = time.monotonic() + TIMEOUT + 20
    while "127.0.0.2,lab.cow" in cow_files():
        assert time.monotonic() < deadline, "A's files never deleted"
        time.sleep(0.5)
    assert "127.0.0.2,lab.map" not in cow_files(), cow_files()
    assert "127.0.0.3,lab.cow" in cow_files(), "B's files deleted while in use"
    assert b.read(0, 32768) == bytes(want_b[:32768]), "B lost its writes"
    print("ok: A's files deleted after cowtimeout; B's kept while connected")

    a = Client(port, "127.0.0.2")
    a.go(b"lab")
    assert a.read(0, 32768) == data[:32768], "A still sees its old writes"
    a.bye()
    b.bye()
    deadline = time.monotonic() + TIMEOUT + 20
    while cow_files():
        assert time.monotonic() < deadline, "files left: %s" % cow_files()
        time.sleep(0.5)
    # unlinked and open nowhere: the blocks are back with the file system
    pids = [server.pid] + [int(p) for p in subprocess.run(
        ["pgrep", "-P", str(server.pid)], capture_output=True,
        text=True).stdout.split()]
    held = []
    for pid in pids:
        fds = "/proc/%d/fd" % pid
        for fd in os.listdir(fds):
            try:
                target = os.readlink(os.path.join(fds, fd))
            except OSError:
                continue
            if target.startswith(COWDIR):
                held.append(target)
    assert not held, "deleted files still open: %s" % held
    assert sha(base) == before, "the base image was modified"
    print("ok: after cowtimeout the writes are gone and the space freed")

    server.send_signal(signal.SIGTERM)
    assert server.wait(10) == 0, "server exit status %s" % server.returncode
    spares_become_pairs(base, data)
    spare_for_another_size(data)
    second_during_setup(base, data, SHIM)
    host_restart(base, data)


try:
    main()
    print("all copy-on-write cases passed")
except AssertionError as e:
    print("FAIL: %s" % e)
    with open(os.path.join(TMP, "server.log")) as f:
        sys.stdout.write(f.read())
    sys.exit(1)
finally:
    if server and server.poll() is None:
        server.kill()
        server.wait()
    subprocess.run(["rm", "-rf", TMP])
