"""Fixtures every exercise check can use (a pytest plugin, loaded in the child).

The child learns what it grades from its environment (set by `grading`):
GRADER_SUBMISSION_DIR (the folder holding the learner's entry module),
GRADER_ENTRY (the entry module's name), GRADER_SEED (the grading run's seed),
GRADER_CHECK_SECONDS (the time budget of one check), GRADER_INSTRUMENT ("1": the
exercise's module is instrumented for the interleaving explorer).

Outside a grading run a check author can load the same fixtures with
`GRADER_SUBMISSION_DIR=... GRADER_ENTRY=... pytest -p grader.harness.fixtures CHECKS`.
"""

from __future__ import annotations

import importlib
import os
import random
import sys
import zlib
from pathlib import Path
from types import ModuleType

import pytest

from grader import protocol


def _env(name: str, default: str | None = None) -> str:
    value = os.environ.get(name, default)
    if value is None:
        raise pytest.UsageError(f"{name} is not set: the grader harness sets it")
    return value


def submission_dir() -> Path:
    return Path(_env(protocol.ENV_SUBMISSION_DIR)).resolve()


def entry_name() -> str:
    return _env(protocol.ENV_ENTRY)


def base_seed() -> int:
    return int(_env(protocol.ENV_SEED, "0"))


def import_submission() -> ModuleType:
    """Import the learner's entry module (once per child), instrumented for the explorer."""
    name = entry_name()
    if name in sys.modules:
        return sys.modules[name]
    folder = str(submission_dir())
    if folder not in sys.path:
        sys.path.insert(0, folder)
    install_instrumentation()
    return importlib.import_module(name)


def install_instrumentation() -> None:
    """Instrument the submission folder for the explorer, when the exercise asks for it."""
    if os.environ.get(protocol.ENV_INSTRUMENT) == "1":
        from grader.explore import instrument

        instrument.install(paths=[str(submission_dir())])


def check_seed(nodeid: str) -> int:
    """A seed per check: stable for the same run seed and check, distinct across checks."""
    return zlib.crc32(f"{base_seed()}:{nodeid}".encode()) & 0x7FFFFFFF


@pytest.fixture
def submission() -> ModuleType:
    """The learner's entry module, imported."""
    return import_submission()


@pytest.fixture
def submission_path() -> Path:
    """The learner's entry module file (for running it as a script or reading its source)."""
    return submission_dir() / f"{entry_name()}.py"


@pytest.fixture(name="submission_dir")
def submission_dir_fixture() -> Path:
    return submission_dir()


@pytest.fixture
def seed(request: pytest.FixtureRequest) -> int:
    return check_seed(request.node.nodeid.split("::")[-1])


@pytest.fixture
def rng(seed: int) -> random.Random:
    return random.Random(seed)


@pytest.fixture
def check_seconds() -> float:
    """The time budget of one check; checks size their own waits well inside it."""
    return float(_env(protocol.ENV_CHECK_SECONDS, "30"))
