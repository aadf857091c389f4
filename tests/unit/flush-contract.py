#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""
The flush contract (proto.md "NBD_CMD_FLUSH", "NBD_CMD_FLAG_FUA"): before
the reply to a FLUSH, and to a write with FUA, the server has synced every
file the connection wrote. The server runs under tests/unit/sync-shim.c,
which logs file writes, sync calls (as they return) and replies (as they
are sent) in one ordered log; this script drives a client and replays the
log. On a copy-on-write export that includes the block map, which the
server writes through a shared mapping and syncs with msync. Then one
sync is made to fail: the client must get EIO, and so must every later
FLUSH and FUA write on that connection (the kernel reports a writeback
error to fsync once, then forgets it). An older server's copy-on-write
map whose conversion fails at that sync keeps its blocks. Last, large WRITEs must
start writeback in 8 MiB batches (one call per WRITE stalled a storm of
200 clients rewriting the same blocks), and a FLUSH starts the count
again.

Usage: flush-contract.py SERVER SHIM
"""
import os
import random
import shutil
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import nbdwire as nw  # noqa: E402

nw.need("ss", "timeout", "cc")

SERVER, SHIM = (os.path.abspath(a) for a in sys.argv[1:3])
TMP = tempfile.mkdtemp(prefix="nbdroot-flush-")
# Started as root, the server's children serve as nobody: the shim in them
# writes its log here and unlinks the fail flag.
os.chmod(TMP, 0o777)
SIZE = 4 << 20
procs = []


def server(conf, log, fail_flag=None):
    env = dict(os.environ, LD_PRELOAD=SHIM, NBDROOT_SHIM_LOG=log)
    if fail_flag:
        env["NBDROOT_SHIM_FAIL_SYNC"] = fail_flag
    p, port = nw.start_server(SERVER, ["-C", conf],
                              os.path.join(TMP, "server.log"), env)
    procs.append(p)
    return p, port


def config(cow, size=SIZE):
    base = os.path.join(TMP, "disk.img")
    with open(base, "wb") as f:
        f.truncate(size)
    conf = os.path.join(TMP, "nbd.conf")
    with open(conf, "w") as f:
        f.write("[disk]\nexportname = %s\n" % base)
        if cow:
            os.makedirs(os.path.join(TMP, "cow"), exist_ok=True)
            f.write("copyonwrite = true\ncowdir = %s/cow\n" % TMP)
    return conf


# Cookies name what the client asked: the log only sees cookies.
PLAIN, FUA, FLUSH = "write", "write+FUA", "flush"


def session(port, rng, rounds):
    """WRITE / FLUSH / WRITE+FUA one at a time; returns {cookie: kind}."""
    c = nw.Conn(port, b"disk")
    kinds = {}
    cookie = 0
    for _ in range(rounds):
        for kind in (PLAIN, PLAIN, FLUSH, PLAIN, FUA):
            cookie += 1
            kinds[cookie] = kind
            if kind == FLUSH:
                err, _ = c.request(nw.CMD_FLUSH, cookie)
            else:
                n = rng.choice((512, 4096, 65536))
                off = rng.randrange(0, SIZE - n, 512)
                err, _ = c.request(nw.CMD_WRITE, cookie, off, n,
                                   nw.FLAG_FUA if kind == FUA else 0,
                                   rng.randbytes(n))
            if err:
                raise AssertionError("%s (cookie %d): error %d" %
                                     (kind, cookie, err))
    c.close()
    return kinds


def replay(log, kinds):
    """
    Walks the shim's log: the files written since their last successful
    sync, by path and across processes (fdatasync on any descriptor of a
    file syncs what every connection wrote to it: multi-conn). Stores to a
    shared mapping are not seen, so a process's file write is taken to
    dirty every file it has mapped too (copy-on-write: the data goes to
    the .cow file, then the block's bit is set in the mapped .map), and
    MS_SYNC of a mapping syncs its file. Returns (checked replies, unsynced
    FLUSH/FUA replies, plain-write replies that left with unsynced files,
    syncs before each kind of reply, syncs that cleaned a mapped file).
    """
    dirty, mapped = set(), {}
    bad, plain_dirty, checked, since, map_syncs = [], 0, 0, 0, 0

    def synced(path):
        nonlocal since, map_syncs
        if path in dirty and any(path in m for m in mapped.values()):
            map_syncs += 1
        dirty.discard(path)
        since += 1

    syncs = {PLAIN: 0, FUA: 0, FLUSH: 0}
    with open(log) as f:
        for line in f:
            w = line.split()
            ev = w[2]
            # the server's own log is no export data
            if ev == "write" and not w[5].endswith(".log"):
                dirty.add(w[5])
                dirty.update(mapped.get(w[1], ()))
            elif ev == "mmap":
                mapped.setdefault(w[1], set()).add(w[7])
            elif ev == "sync" and w[7] == "0":
                synced(w[8])
            elif ev == "msync" and w[4] == "0":
                synced(w[5])
            elif ev == "syncfs" and w[6] == "0":
                dirty.clear()
                since += 1
            elif ev == "reply" and int(w[6]) in kinds:
                kind = kinds[int(w[6])]
                checked += 1
                syncs[kind] += since
                since = 0
                if kind == PLAIN:
                    plain_dirty += bool(dirty)
                elif dirty:
                    bad.append("%s cookie %s: unsynced %s" %
                               (kind, w[6], sorted(dirty)))
    return checked, bad, plain_dirty, syncs, map_syncs


def multi_conn(port, rng, rounds):
    """Writes on one connection, FLUSH on another (NBD_FLAG_CAN_MULTI_CONN:
    a FLUSH covers every write completed on any connection)."""
    a, b = nw.Conn(port, b"disk"), nw.Conn(port, b"disk")
    kinds = {}
    for r in range(rounds):
        n = rng.choice((4096, 65536))
        off = rng.randrange(0, SIZE - n, 4096)
        kinds[1000 + r] = PLAIN
        err, _ = a.request(nw.CMD_WRITE, 1000 + r, off, n, 0,
                           rng.randbytes(n))
        assert err == 0, "write on connection A: error %d" % err
        kinds[2000 + r] = FLUSH
        err, _ = b.request(nw.CMD_FLUSH, 2000 + r)
        assert err == 0, "FLUSH on connection B: error %d" % err
    a.close()
    b.close()
    return kinds


def contract(cow):
    what = "copy-on-write" if cow else "plain"
    log = os.path.join(TMP, "shim-%s.log" % what)
    p, port = server(config(cow), log)
    kinds = session(port, random.Random(13), 20)
    kinds.update(multi_conn(port, random.Random(14), 10))
    p.terminate()
    p.wait(10)
    checked, bad, plain_dirty, syncs, map_syncs = replay(log, kinds)
    n = {k: sum(1 for v in kinds.values() if v == k) for k in syncs}
    print("%s export: %d replies checked (%d writes, %d FUA writes, "
          "%d flushes, 10 of them on a second connection after writes on "
          "the first); sync calls before them: %d, %d, %d" %
          (what, checked, n[PLAIN], n[FUA], n[FLUSH], syncs[PLAIN],
           syncs[FUA], syncs[FLUSH]))
    if checked != len(kinds):
        raise AssertionError("the shim saw %d of %d replies" %
                             (checked, len(kinds)))
    if bad:
        raise AssertionError("replies before the sync:\n  " +
                             "\n  ".join(bad))
    # The check must be able to fail: plain writes may leave unsynced,
    # and at least one did (else the log would prove nothing).
    if plain_dirty == 0:
        raise AssertionError("no plain write left unsynced: the log does "
                             "not show file writes")
    print("  %d plain-write replies left with data unsynced (allowed); "
          "every FLUSH and FUA reply came after its files' syncs" %
          plain_dirty)
    # Copy-on-write: the map's bits are what says a block is the client's,
    # so its syncs must have been seen (else the log shows no mapping).
    if cow:
        print("  the block map, a shared mapping, was synced while dirty "
              "%d times" % map_syncs)
        if map_syncs == 0:
            raise AssertionError("no sync of the mapped block map seen: "
                                 "the log does not show its mapping")


def failed_sync_stays_failed():
    log = os.path.join(TMP, "shim-fail.log")
    flag = os.path.join(TMP, "fail-next-sync")
    p, port = server(config(False), log, flag)
    rng = random.Random(7)
    c = nw.Conn(port, b"disk")
    err, _ = c.request(nw.CMD_WRITE, 1, 0, 4096, 0, rng.randbytes(4096))
    assert err == 0, "write before the failure: error %d" % err
    open(flag, "w").close()
    err, _ = c.request(nw.CMD_FLUSH, 2)
    assert not os.path.exists(flag), "the FLUSH made no sync call"
    print("sync failed by the shim: FLUSH got error %d (EIO is %d)" %
          (err, nw.EIO))
    assert err == nw.EIO, "FLUSH after a failed sync: error %d" % err
    later = [("FLUSH", nw.CMD_FLUSH, 0, 0, 0, b""),
             ("write+FUA", nw.CMD_WRITE, 8192, 4096, nw.FLAG_FUA,
              rng.randbytes(4096)),
             ("FLUSH", nw.CMD_FLUSH, 0, 0, 0, b"")]
    for i, (name, cmd, off, n, flags, data) in enumerate(later):
        err, _ = c.request(cmd, 10 + i, off, n, flags, data)
        print("  later %s on the same connection (its sync succeeds): "
              "error %d" % (name, err))
        assert err == nw.EIO, ("%s after a failed sync answered %d: the "
                               "failure was forgotten" % (name, err))
    c.close()
    # Reported, not asserted: proto.md does not say whether another
    # connection inherits the failure.
    d = nw.Conn(port, b"disk")
    err, _ = d.request(nw.CMD_FLUSH, 20)
    print("  a FLUSH on a new connection afterwards: error %d%s" %
          (err, " (the failure is kept per connection)" if err == 0 else ""))
    d.close()
    p.terminate()
    p.wait(10)


def writebacks(log):
    """The shim's writeback events: [(offset, length)]."""
    with open(log) as f:
        return [(int(w[6]), int(w[8])) for w in map(str.split, f)
                if w[2] == "writeback"]


def write_behind():
    """
    128 KiB WRITEs start writeback once 8 MiB of them gathered, over the
    span they cover; smaller WRITEs never do; a FLUSH wrote everything,
    so the count starts again after it; WRITEs further apart than twice
    the batch start a new span rather than one that wide.
    """
    big, mib = 128 << 10, 1 << 20
    log = os.path.join(TMP, "shim-writeback.log")
    p, port = server(config(False, 32 * mib), log)
    rng = random.Random(5)
    c = nw.Conn(port, b"disk")
    cookie = 0

    def write(off, n):
        nonlocal cookie
        cookie += 1
        err, _ = c.request(nw.CMD_WRITE, cookie, off, n, 0, rng.randbytes(n))
        assert err == 0, "write at %d: error %d" % (off, err)

    for i in range(100):		# 12.5 MiB: one batch at 8 MiB
        write(i * big, big)
    err, _ = c.request(nw.CMD_FLUSH, 999)
    assert err == 0, "FLUSH: error %d" % err
    for i in range(40):		# 5 MiB: with the 4.5 before the FLUSH, 9.5
        write(16 * mib + i * big, big)
    for i in range(200):		# 12.5 MiB of 64 KiB writes
        write(i * 65536, 65536)
    err, _ = c.request(nw.CMD_FLUSH, 998)
    assert err == 0, "FLUSH: error %d" % err
    for i in range(40):		# 10 MiB, two streams 24 MiB apart
        write(i * big, big)
        write(24 * mib + i * big, big)
    c.close()
    p.terminate()
    p.wait(10)
    got = writebacks(log)
    print("writeback: %d calls for 220 WRITEs of 128 KiB (80 of them in "
          "two streams 24 MiB apart) and 200 of 64 KiB: %s" %
          (len(got), got[:4]))
    if got != [(0, 8 * mib)]:
        raise AssertionError("expected one writeback of [0, 8 MiB), got "
                             "%d: %s" % (len(got), got[:8]))


def older_map_sync_fails():
    """An older server's map (bits alone, and its mark) whose conversion
    fails at its data sync keeps its blocks: the failed connection leaves
    no mark that would make it look converted, and the next one converts
    it and reads them."""
    log = os.path.join(TMP, "shim-older.log")
    flag = os.path.join(TMP, "fail-older-sync")
    conf = config(True)
    pair = os.path.join(TMP, "cow", "127.0.0.1,disk.")
    mine = random.Random(31).randbytes(4096)
    with open(pair + "cow", "wb") as f:
        f.truncate(SIZE)
        f.seek(3 * 4096)
        f.write(mine)
    with open(pair + "map", "wb") as f:
        f.write(bytes([1 << 3]) + bytes(4095) + b"\0")
    p, port = server(conf, log, flag)
    open(flag, "w").close()
    try:
        nw.Conn(port, b"disk").close()
        refused = False
    except (AssertionError, EOFError):
        refused = True
    assert not os.path.exists(flag), "the conversion made no sync call"
    assert refused, "GO answered though the conversion's sync failed"
    size = os.path.getsize(pair + "map")
    c = nw.Conn(port, b"disk")
    err, got = c.request(nw.CMD_READ, 1, 3 * 4096, 4096)
    c.close()
    p.terminate()
    p.wait(10)
    print("older map, its conversion's data sync failed: GO refused, the "
          "map left at %d bytes; the next connection read the block %s" %
          (size, "back" if got == mine else "WRONG"))
    assert err == 0, "READ error %d" % err
    assert got == mine, ("the older map's block was lost after a failed "
                         "conversion: %s" % ("zeros" if got == bytes(4096)
                                             else "other bytes"))


try:
    contract(False)
    contract(True)
    failed_sync_stays_failed()
    older_map_sync_fails()
    write_behind()
except (AssertionError, EOFError, OSError) as e:
    print("FAIL:", e)
    with open(os.path.join(TMP, "server.log")) as f:
        sys.stdout.write("".join("    server: " + l for l in f))
    sys.exit(1)
finally:
    for proc in procs:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    shutil.rmtree(TMP)
print("ok: the flush contract holds, a failed sync stays failed, and "
      "large writes start writeback per 8 MiB")
