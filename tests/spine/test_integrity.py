"""The integrity scan names every reach into the shared interpreter, and nothing honest."""

from __future__ import annotations

import pytest

from grader.grading.integrity import scan_source

from .conftest import grade_json


def whats(source: str) -> list[str]:
    return [f.what for f in scan_source(source, "s.py")]


@pytest.mark.parametrize("source, expected", [
    ("import gc\n", "import gc"),
    ("import ctypes\n", "import ctypes"),
    ("import sys\nf = sys._getframe(1)\n", "._getframe"),
    ("import inspect\n", "import inspect"),
    ("def f(frame):\n    return frame.f_back.f_locals\n", ".f_back"),
    ("import sys\nsys.modules['pytest'] = None\n", "assigns sys.modules"),
    ("import sys as s\ns.stdout = open('x', 'w')\n", "assigns sys.stdout"),
    ("import builtins\nbuiltins.print = len\n", "import builtins"),
    ("__builtins__['len'] = max\n", "__builtins__"),
    ("open('/proc/self/maps').read()\n", "'/proc/self/maps'"),
    ("import os\nos.write(3, b'{}')\n", "os.write(3, ...)"),
    ("import os, signal\nos.kill(os.getppid(), signal.SIGKILL)\n", "os.kill(os.getppid(), ...)"),
    ("import _pytest.runner\n", "import _pytest.runner"),
    ("from grader.harness import fixtures\n", "import grader.harness"),
    ("import sys\nsys.settrace(None)\n", ".settrace"),
])
def test_a_reach_into_the_interpreter_is_flagged(source, expected):
    assert expected in whats(source)


@pytest.mark.parametrize("source", [
    "import threading\nlock = threading.Lock()\n",
    "import os\nos.write(1, b'hello')\n",
    "import sys\nprint(sys.argv, file=sys.stderr)\n",
    "self_modules = {}\n",
    "import multiprocessing\nmultiprocessing.Process(target=print).start()\n",
])
def test_honest_code_is_not_flagged(source):
    assert whats(source) == []


def test_flags_reach_the_result_but_do_not_cost_points(hostile):
    source = ("import gc\nimport threading\n\nclass Counter:\n"
              "    def __init__(self, start=0):\n        self.v, self.l = start, threading.Lock()\n"
              "    def increment(self, n=1):\n        with self.l:\n            self.v += n\n"
              "    def value(self):\n        return self.v\n")
    code, result = grade_json("counter", hostile(source))
    assert code == 0
    assert result["integrity"] == [{"file": "submission.py", "line": 1, "what": "import gc",
                                    "why": result["integrity"][0]["why"]}]
