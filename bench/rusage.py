#!/usr/bin/env python3
"""Runs one command and reports what that process alone cost: user and system CPU seconds and peak RSS from wait4(2),
which covers every thread of the child and nothing of this runner or of any other process, plus wall-clock seconds.

usage: rusage.py --out STATS.json [--stdout FILE] -- COMMAND [ARG...]
The command's stdout goes to FILE (default /dev/null), its stderr to /dev/null unless --stderr names a file.
"""
import argparse
import json
import os
import subprocess
import time


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--out", required=True)
    p.add_argument("--stdout", default=os.devnull)
    p.add_argument("--stderr", default=os.devnull)
    p.add_argument("command", nargs=argparse.REMAINDER)
    a = p.parse_args()
    cmd = a.command[1:] if a.command[:1] == ["--"] else a.command
    if not cmd:
        p.error("no command given")
    with open(a.stdout, "wb") as out, open(a.stderr, "wb") as err:
        t0 = time.monotonic()
        child = subprocess.Popen(cmd, stdout=out, stderr=err, stdin=subprocess.DEVNULL)
        # wait4 instead of child.wait(): the same reap, but it also returns the child's own resource usage.
        _, status, usage = os.wait4(child.pid, 0)
        wall = time.monotonic() - t0
        child.returncode = os.waitstatus_to_exitcode(status)
    with open(a.out, "w", encoding="utf8") as f:
        json.dump({
            "exit": child.returncode,
            "cpu_user_s": usage.ru_utime,
            "cpu_sys_s": usage.ru_stime,
            "cpu_s": usage.ru_utime + usage.ru_stime,
            "maxrss_kb": usage.ru_maxrss,
            "wall_s": wall,
        }, f)


if __name__ == "__main__":
    main()
