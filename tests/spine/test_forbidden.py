"""Forbidden modules are found by what the source uses, not by what it mentions."""

from __future__ import annotations

import pytest

from grader.grading.forbidden import scan_source


def uses(source: str, forbid: list[str]) -> list[tuple[int, str]]:
    return [(u.line, u.rule) for u in scan_source(source, "s.py", forbid)]


@pytest.mark.parametrize("source, rule", [
    ("import queue\n", "queue"),
    ("import queue as q\n", "queue"),
    ("from queue import Queue\n", "queue"),
    ("import multiprocessing.pool\n", "multiprocessing.pool"),
    ("from multiprocessing import Pool\n", "multiprocessing.pool"),
    ("import multiprocessing as mp\nmp.Pool(2)\n", "multiprocessing.pool"),
    ("import multiprocessing\nmultiprocessing.get_context('spawn').Pool(2)\n",
     "multiprocessing.pool"),
    ("from multiprocessing.dummy import Pool\n", "multiprocessing.pool"),
    ("from concurrent.futures import ProcessPoolExecutor\n", "concurrent.futures"),
    ("import threading\nb = threading.Barrier(3)\n", "threading.Barrier"),
    ("import threading as t\nb = t.Barrier(3)\n", "threading.Barrier"),
    ("from threading import Barrier\n", "threading.Barrier"),
    ("q = __import__('queue')\n", "queue"),
    ("import importlib\nq = importlib.import_module('queue')\n", "queue"),
])
def test_a_use_is_found(source, rule):
    assert uses(source, [rule]), source


@pytest.mark.parametrize("source, rule", [
    ("self.queue = []\n", "queue"),
    ("# import queue\n", "queue"),
    ("x = 'import queue'\n", "queue"),
    ("import threading\nthreading.Lock()\n", "threading.Barrier"),
    ("import multiprocessing\nmultiprocessing.Process(target=print)\n", "multiprocessing.pool"),
    ("from . import queue\n", "queue"),
    ("import queuelib\n", "queue"),
    ("class Barrier:\n    pass\nBarrier()\n", "threading.Barrier"),
])
def test_a_mere_mention_is_not_a_use(source, rule):
    assert uses(source, [rule]) == []


def test_a_file_that_does_not_parse_has_no_uses():
    assert uses("import queue(\n", ["queue"]) == []


def test_uses_are_reported_with_their_line():
    assert uses("import os\n\nimport queue\n", ["queue"]) == [(3, "queue")]
