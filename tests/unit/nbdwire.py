# SPDX-License-Identifier: GPL-2.0
"""
The few NBD client steps the reliability tests need (proto.md): fixed
newstyle greeting, OPT_GO without structured replies, simple requests and
replies, and starting our nbd-server on a free 127.0.0.1 port.
"""
import random
import shutil
import socket
import struct
import subprocess
import sys
import time

CMD_READ, CMD_WRITE, CMD_DISC, CMD_FLUSH = 0, 1, 2, 3
FLAG_FUA = 1
EIO = 5


class Conn:
    """One negotiated connection; raises on anything unexpected."""

    def __init__(self, port, name=b"", timeout=30, source=None):
        src = (source, 0) if source else None
        self.sock = socket.create_connection(("127.0.0.1", port), timeout,
                                             src)
        hello = self._read(18)
        if hello[:16] != b"NBDMAGICIHAVEOPT":
            raise AssertionError("greeting %r" % hello)
        # FIXED_NEWSTYLE | NO_ZEROES
        self.sock.sendall(struct.pack(">I", 3))
        body = struct.pack(">I", len(name)) + name + struct.pack(">H", 0)
        self.sock.sendall(b"IHAVEOPT" + struct.pack(">II", 7, len(body)) +
                          body)
        self.size = None
        while True:
            _, opt, rtype, n = struct.unpack(">QIII", self._read(20))
            data = self._read(n)
            if rtype == 1:
                break
            if rtype != 3:
                raise AssertionError("GO refused: reply 0x%x" % rtype)
            if data[:2] == b"\0\0":
                self.size = struct.unpack(">Q", data[2:10])[0]

    def _read(self, n):
        buf = b""
        while len(buf) < n:
            more = self.sock.recv(n - len(buf))
            if not more:
                raise EOFError("server closed after %d of %d bytes" %
                               (len(buf), n))
            buf += more
        return buf

    def request(self, cmd, cookie, off=0, length=0, flags=0, data=b""):
        """Sends one request and waits for its reply: (error, data)."""
        self.sock.sendall(struct.pack(">IHHQQI", 0x25609513, flags, cmd,
                                      cookie, off, length) + data)
        magic, err, got = struct.unpack(">IIQ", self._read(16))
        if magic != 0x67446698 or got != cookie:
            raise AssertionError("reply magic 0x%x cookie %d for %d" %
                                 (magic, got, cookie))
        if cmd == CMD_READ and err == 0:
            return err, self._read(length)
        return err, b""

    def close(self):
        try:
            self.sock.sendall(struct.pack(">IHHQQI", 0x25609513, 0,
                                          CMD_DISC, 0, 0, 0))
        except OSError:
            pass
        self.sock.close()


def listening(port):
    out = subprocess.run(["ss", "-Hltn", "sport = :%d" % port],
                         capture_output=True, text=True).stdout
    return "LISTEN" in out


def start_server(binary, args, log, env=None):
    """nbd-server -n 127.0.0.1@PORT ARGS on a free port: (Popen, port)."""
    for _ in range(10):
        port = random.randrange(20000, 60000)
        if listening(port):
            continue
        with open(log, "w") as f:
            p = subprocess.Popen([binary, "-n", "127.0.0.1@%d" % port] +
                                 args, stderr=f, env=env)
        for _ in range(100):
            if listening(port):
                return p, port
            if p.poll() is not None:
                break
            time.sleep(0.1)
        if p.poll() is None:
            p.kill()
        p.wait()
        with open(log) as f:
            if "Address already in use" not in f.read():
                raise AssertionError("server did not start: see " + log)
    raise AssertionError("no free port after 10 tries")


def descendants(pid):
    """Every process below pid (children, grandchildren...)."""
    out = subprocess.run(["ps", "-e", "-o", "pid=,ppid="],
                         capture_output=True, text=True).stdout
    kids = {}
    pairs = [tuple(map(int, l.split())) for l in out.splitlines() if l]
    for p, pp in pairs:
        kids.setdefault(pp, []).append(p)
    found, todo = [], [pid]
    while todo:
        for k in kids.get(todo.pop(), []):
            found.append(k)
            todo.append(k)
    return found


def rss_kib(pid, field="VmRSS"):
    """A memory figure of /proc/PID/status in KiB (VmRSS: resident set,
    RssAnon: its anonymous part), 0 when the process is gone."""
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def need(*tools):
    """Exits 77 (skipped) when a tool is missing."""
    missing = [t for t in tools if not shutil.which(t)]
    if missing:
        print("skipped: %s not installed" % " ".join(missing))
        sys.exit(77)
