#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""
Load: CLIENTS fio jobs (libnbd engine, one connection each) write 4 KiB
blocks at random in their own 4 MiB of one export and read back what they
wrote with crc32c checks, for SECONDS, against one nbd-server. Passes when
fio reports no verify error, every job read back, the server tree's
resident memory did not grow while the load was steady, and no server or
fio process is left after SIGTERM.

Usage: load.py SERVER SECONDS [CLIENTS]
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import nbdwire as nw  # noqa: E402

nw.need("ss", "timeout", "fio")

SERVER = os.path.abspath(sys.argv[1])
SECONDS = int(sys.argv[2])
CLIENTS = int(sys.argv[3]) if len(sys.argv) > 3 else 32
PER_JOB = 4 << 20
# Growth allowed between the first steady sample and the last: allocator
# noise, not a leak (a leak per request grows by megabytes a second here).
SLACK_KIB = 2048

TMP = tempfile.mkdtemp(prefix="nbdroot-load-")


def sample(srv, fio, samples, seen):
    """Once a second: the server tree's size and RSS; every pid seen."""
    while fio.poll() is None:
        pids = [srv.pid] + nw.descendants(srv.pid)
        seen.update(pids + nw.descendants(fio.pid))
        samples.append((time.monotonic(), len(pids),
                        sum(nw.rss_kib(p, "RssAnon") for p in pids),
                        sum(nw.rss_kib(p) for p in pids)))
        time.sleep(1)


def run_fio(port):
    out = os.path.join(TMP, "fio.json")
    cmd = ["fio", "--name=load", "--ioengine=nbd",
           "--uri=nbd://127.0.0.1:%d/" % port, "--rw=randwrite", "--bs=4k",
           "--size=%d" % PER_JOB, "--offset_increment=%d" % PER_JOB,
           "--numjobs=%d" % CLIENTS, "--verify=crc32c",
           "--verify_backlog=32", "--continue_on_error=verify",
           "--verify_state_save=0",
           "--time_based", "--runtime=%d" % SECONDS,
           "--output-format=json", "--output=" + out]
    # cwd: whatever fio writes besides its report stays in TMP
    fio = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, cwd=TMP,
                           stderr=open(os.path.join(TMP, "fio.err"), "w"))
    return fio, out


def check_fio(rc, out):
    with open(out) as f:
        jobs = json.load(f)["jobs"]
    written = sum(j["write"]["io_bytes"] for j in jobs)
    verified = sum(j["read"]["io_bytes"] for j in jobs)
    errors = sum(j.get("total_err", 0) + (j["error"] != 0) for j in jobs)
    idle = [j["jobname"] for j in jobs if j["read"]["io_bytes"] == 0]
    print("fio: %d clients, %d s: %.1f MiB written, %.1f MiB read back and "
          "verified, %d errors, exit %d" %
          (len(jobs), SECONDS, written / 2**20, verified / 2**20, errors,
           rc))
    assert len(jobs) == CLIENTS, "%d fio jobs reported" % len(jobs)
    assert errors == 0 and rc == 0, "fio found errors (see fio.err)"
    assert not idle, "%d jobs verified nothing" % len(idle)


def check_memory(samples):
    """
    Anonymous memory is what a leak grows; the whole resident set also
    counts shared code and libraries, and is printed beside it.
    """
    steady = [s for s in samples if s[1] == CLIENTS + 1]
    assert len(steady) >= 3, ("only %d samples with all %d connections" %
                              (len(steady), CLIENTS))
    # the first steady second still allocates per-connection buffers
    first, last = steady[1], steady[-1]
    peak = max(s[2] for s in steady[1:])
    print("server memory (%d processes): anonymous %d KiB at %.0f s, %d KiB "
          "at %.0f s, peak %d KiB; resident %d KiB, then %d KiB" %
          (first[1], first[2], first[0] - samples[0][0], last[2],
           last[0] - samples[0][0], peak, first[3], last[3]))
    assert peak - first[2] <= SLACK_KIB, (
        "server memory grew by %d KiB under steady load" % (peak - first[2]))


def main():
    img = os.path.join(TMP, "disk.img")
    with open(img, "wb") as f:
        f.truncate(CLIENTS * PER_JOB)
    srv, port = nw.start_server(SERVER, [img],
                                os.path.join(TMP, "server.log"))
    samples, seen = [], set()
    fio, out = run_fio(port)
    seen.add(fio.pid)
    try:
        sample(srv, fio, samples, seen)
        check_fio(fio.wait(), out)
        check_memory(samples)
    finally:
        if fio.poll() is None:
            fio.kill()
            fio.wait()
        srv.terminate()
        rc = srv.wait(20)
    time.sleep(0.5)
    left = [p for p in seen if os.path.exists("/proc/%d" % p)]
    print("after SIGTERM: server exit %d, %d of the %d server and fio "
          "processes seen are left" % (rc, len(left), len(seen)))
    assert not left, "processes left: %s" % left
    assert rc == 0, "server exit status %d" % rc


try:
    main()
except (AssertionError, OSError, ValueError, KeyError) as e:
    print("FAIL:", e)
    for name in ("fio.err", "server.log"):
        path = os.path.join(TMP, name)
        if os.path.exists(path):
            with open(path) as f:
                sys.stdout.write("".join("    %s: %s" % (name, l)
                                         for l in f.readlines()[-20:]))
    sys.exit(1)
finally:
    shutil.rmtree(TMP)
print("ok: %d clients for %d s: no verify error, memory flat, nothing left"
      % (CLIENTS, SECONDS))
