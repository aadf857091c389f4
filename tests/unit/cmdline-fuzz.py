#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""
The boot-line parser (initramfs/lib/cmdline.sh) fuzzed under busybox sh and
dash: COUNT lines, random or mutated from the real lines of
tests/unit/test-cmdline.sh, each parsed in its own shell as the init does.
Every line must end, within a timeout, in either a parse (with a port from
1 to 65535 and an init) or one "nbdroot: cmdline:" message that starts
with the field at fault: a word of the line, its key, or "root" when no
root is named. Nothing on stderr, exit 0, and no word of the line is ever
run (lines carry $(:>MARKER) and `:>MARKER`).

Usage: cmdline-fuzz.py COUNT [SEED|random]
"""
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile

COUNT = int(sys.argv[1])
SEED = (int(sys.argv[2]) if len(sys.argv) > 2 and sys.argv[2] != "random"
        else random.randrange(1 << 30))
LIB = os.environ.get("CMDLINE_LIB", "initramfs/lib/cmdline.sh")
SHELLS = (["busybox", "sh"], ["dash"])
TMP = tempfile.mkdtemp(prefix="nbdroot-cmdfuzz-")
MARKER = os.path.join(TMP, "ran")

# As the init: parse, then either the result or its one error line.
DRIVER = r'''. "$1"
if nbdroot_parse_cmdline "$2"; then
	printf 'PARSED port=%s init=%s host=%s root=%s\n' "$nr_port" \
		"$nr_init" "$nr_host" "$nr_root"
else
	printf 'nbdroot: cmdline: %s\n' "$nr_error"
fi'''

KEYS = ["root", "netroot", "nbdroot", "ip", "BOOTIF", "rootfstype",
        "rootflags", "init", "rd.retry", "rd.shell", "rd.debug", "ro", "rw",
        "nbdroot.retry", "nbdroot.timeout", "nbdroot.conns", "nbdroot.swap",
        "nbdroot.overlay", "nbdroot.toram", "nbdroot.shell", "nbdroot.debug",
        "nbdroot.x", "quiet", "console"]
PIECES = ["nbd:", "dhcp", "10.0.2.2", "[::1]", "[fe80::1", "::", ":", "/",
          ",", "@", "#p", "#", "=", "10809", "0", "65536", "-1",
          "99999999999999999999", "ext4", "bs=4096", "timeout=",
          "/dev/nbd0", "/dev/nbd1p2", "nbd0", "255.255.255.0", "eth0",
          "off", "01-52-54-00-12-34-56", "*", "?", "'", '"', "\\", ";",
          "|", "&", "$x", "${x}", "$(:>%s)" % MARKER,
          "`:>%s`" % MARKER, "\x01", "\xe9", "\t", "%s"]


def seeds():
    """The boot lines of the parser's own table (test-cmdline.sh)."""
    text = open("tests/unit/test-cmdline.sh").read()
    table = text.split("<<'EOT'\n", 1)[1].split("\nEOT\n", 1)[0]
    return [row.split("\t")[0] for row in table.splitlines()
            if row and not row.startswith("RP ")]


def random_line(rng):
    words = []
    for _ in range(rng.randrange(1, 8)):
        w = rng.choice(KEYS)
        if rng.random() < 0.8:
            w += "=" + "".join(rng.choice(PIECES)
                               for _ in range(rng.randrange(0, 8)))
        words.append(w)
    return " ".join(words)


def mutate(rng, line):
    s = list(line)
    for _ in range(rng.randrange(1, 5)):
        op = rng.randrange(7)
        pos = rng.randrange(len(s) + 1)
        if op == 0:
            s[pos:pos] = list(rng.choice(PIECES))
        elif op == 1 and s:
            del s[pos:pos + rng.randrange(1, 6)]
        elif op == 2:
            s[pos:pos] = [chr(rng.randrange(1, 256))]
        elif op == 3:
            s = s[:pos]
        elif op == 4:
            s[pos:pos] = list(" " + random_line(rng))
        elif op == 5:
            s[pos:pos] = list(rng.choice(PIECES) * rng.randrange(50, 500))
        else:
            s = list(re.sub(r"\d+", lambda m: rng.choice(
                ["0", "-1", "65536", "4294967296", "08", "1e3", ""]),
                "".join(s), count=1))
    # the kernel hands the init neither NUL nor newline
    return "".join(s).replace("\0", "").replace("\n", " ")


def words_and_keys(line):
    named = {"root", "DHCP root-path"}
    for w in re.split(r"[ \t\n]+", line):  # IFS, not str.split()
        named.add(w)
        named.add(w.split("=", 1)[0])
    return named


def judge(line, out, err, rc):
    if rc != 0 or err:
        return "exit %d, stderr %r" % (rc, err[:200])
    lines = out.rstrip("\n").split("\n")
    if len(lines) != 1:
        return "%d output lines: %r" % (len(lines), out[:200])
    got = lines[0]
    m = re.match(r"PARSED port=(\d*) init=(\S*) ", got)
    if m:
        if not m.group(1) or not 1 <= int(m.group(1)) <= 65535:
            return "parsed with port %r" % m.group(1)
        if not m.group(2):
            return "parsed with an empty init"
        return None
    if not got.startswith("nbdroot: cmdline: "):
        return "neither a parse nor a message: %r" % got[:200]
    msg = got[len("nbdroot: cmdline: "):]
    named = words_and_keys(line)
    if not any(msg.startswith(n + ":") or msg.startswith(n + " ")
               for n in named):
        return "message names no field of the line: %r" % msg[:200]
    return None


def run(sh, line):
    try:
        p = subprocess.run(sh + ["-c", DRIVER, "sh", LIB,
                                 line.encode("latin-1")],
                           capture_output=True, timeout=10)
    except subprocess.TimeoutExpired:
        return None, "hung for 10 s"
    out = p.stdout.decode("latin-1")
    return out, judge(line, out, p.stderr.decode("latin-1"), p.returncode)


def main():
    rng = random.Random(SEED)
    base = seeds()
    stats = {"parsed": 0, "refused": 0}
    bad = []
    for i in range(COUNT):
        line = (random_line(rng) if i % 4 == 0
                else mutate(rng, rng.choice(base)))
        for sh in SHELLS:
            out, why = run(sh, line)
            if why:
                bad.append("%s: %r: %s" % (sh[0], line[:300], why))
            elif out.startswith("PARSED"):
                stats["parsed"] += 1
            else:
                stats["refused"] += 1
    print("%d lines (seed %d, %d seeds from test-cmdline.sh) under busybox "
          "sh and dash: %d parses, %d refusals with a message, %d bad" %
          (COUNT, SEED, len(base), stats["parsed"], stats["refused"],
           len(bad)))
    for b in bad[:20]:
        print("  " + b)
    ran = os.path.exists(MARKER)
    if ran:
        print("FAIL: a word of a boot line was executed (%s exists)" % MARKER)
    return 1 if bad or ran or not stats["parsed"] or not stats["refused"] \
        else 0


try:
    rc = main()
finally:
    shutil.rmtree(TMP)
if rc == 0:
    print("ok: every line parsed or refused by name, none hung or ran")
sys.exit(rc)
