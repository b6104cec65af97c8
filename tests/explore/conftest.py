"""Shared set-up for the explorer's tests: the learner-style corpus, instrumented."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from grader.explore import instrument
from grader.explore.pytest_plugin import explorer  # noqa: F401  (the fixture under test)

LEARNER = Path(__file__).parent / "learner"


@pytest.fixture
def learner_dir(tmp_path, monkeypatch):
    """A fresh submission folder on sys.path, instrumented; modules removed afterwards."""
    folder = tmp_path / "submission"
    folder.mkdir()
    monkeypatch.syspath_prepend(str(folder))
    instrument.install([str(folder)])
    before = set(sys.modules)
    yield folder
    for name in set(sys.modules) - before:
        del sys.modules[name]


@pytest.fixture(scope="session")
def classic():
    """tests/explore/learner/classic.py, imported through the instrumenting finder."""
    instrument.install([str(LEARNER)])
    if str(LEARNER) not in sys.path:
        sys.path.insert(0, str(LEARNER))
    import classic as module

    return module
