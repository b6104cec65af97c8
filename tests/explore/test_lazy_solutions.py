"""The `lazy` exercise's solutions on standard-library locking, under the explorer's scenarios.

`correct_cached_property` leans on `functools.cached_property`, whose lock (on 3.10 and 3.11)
the standard library makes, not the learner: it must pass under 20 seeds under the explorer
itself, never through the real-thread fall-back.
"""

from __future__ import annotations

import importlib
import os
import shutil
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest

from grader.explore import explore, instrument

SOLUTIONS = Path(__file__).resolve().parents[2] / "solutions" / "lazy"
FULL = os.environ.get("GRADER_EXPLORE_FULL") == "1"


class Boom(Exception):
    pass


@pytest.fixture(scope="module")
def lazies(tmp_path_factory):
    folder = tmp_path_factory.mktemp("lazies")
    for path in SOLUTIONS.glob("*.py"):
        shutil.copy(path, folder / f"lazy_sol_{path.stem}.py")
    instrument.install([str(folder)])
    sys.path.insert(0, str(folder))
    yield lambda stem: importlib.import_module(f"lazy_sol_{stem}")
    sys.path.remove(str(folder))


def scenarios(module):
    """The shapes of factory-once-under-threads and failure-under-threads."""

    def setup(fail_first):
        calls = SimpleNamespace(started=0, completed=0, values=[], got=[])

        def factory():
            calls.started += 1
            if calls.started <= fail_first:
                raise Boom
            calls.completed += 1
            calls.values.append(object())
            return calls.values[-1]

        calls.lazy = module.Lazy(factory)
        return calls

    def once(s):
        s.got.append(s.lazy.get())

    def retrying(s):
        for _ in range(3):
            try:
                s.got.append(s.lazy.get())
                return
            except Boom:
                continue

    def invariant(s, callers):
        assert s.completed == 1, f"the factory completed {s.completed} times"
        assert len(s.got) == callers and all(v is s.values[0] for v in s.got)

    yield dict(setup=lambda: setup(0), threads=[once] * 3,
               invariant=lambda s: invariant(s, 3))
    yield dict(setup=lambda: setup(1), threads=[retrying] * 2,
               invariant=lambda s: invariant(s, 2))


def test_cached_property_lazy_passes_under_20_seeds_in_the_model(lazies):
    module = lazies("correct_cached_property")
    for seed in range(20):
        for scenario in scenarios(module):
            outcome = explore(**scenario, seed=seed, runs=300 if FULL else 60)
            assert outcome.ok, (seed, outcome.failure and outcome.failure.message)
            assert outcome.strategy != "real threads", outcome.note
