"""Run the grader's CLI as Windows would see it (a test seam; no Windows machine is used).

Usage: python windows_seam.py ARGS... Makes the POSIX-only modules (fcntl, resource, termios,
pwd, grp) unimportable, removes the POSIX-only functions of `os` (fork, setsid, killpg,
wait4, geteuid, getuid, getpgid, sched_getaffinity), sets GRADER_PRETEND_OS=windows, then
runs `grader ARGS...`. psutil is imported first: on Linux it needs `resource` itself, on
Windows it would not.
"""

import importlib.abc
import os
import sys

import psutil  # noqa: F401

BLOCKED = {"fcntl", "resource", "termios", "grp", "pwd"}
POSIX_ONLY = ("fork", "setsid", "killpg", "wait4", "geteuid", "getuid", "getpgid",
              "sched_getaffinity")


class BlockPosixModules(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name in BLOCKED:
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        return None


for _name in BLOCKED:
    sys.modules.pop(_name, None)
sys.meta_path.insert(0, BlockPosixModules())
for _attr in POSIX_ONLY:
    if hasattr(os, _attr):
        delattr(os, _attr)
os.environ["GRADER_PRETEND_OS"] = "windows"

from grader.cli import main  # noqa: E402

sys.exit(main(sys.argv[1:]))
