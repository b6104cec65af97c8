"""The `explorer` fixture: explore a scenario from a check, seeded by the check's seed.

Loaded by the harness with `-p grader.explore.pytest_plugin`. `explorer.check(setup, threads,
**kw)` raises the confirmed `ExplorationFailure`; `explorer.run(...)` returns the `Outcome`.
With GRADER_REPLAY set to a schedule id, only that schedule runs.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from typing import Any

import pytest

from grader.explore.explorer import Outcome, explore


class Explorer:
    """What a check gets from the `explorer` fixture."""

    def __init__(self, seed: int) -> None:
        self.seed = seed
        self.outcomes: list[Outcome] = []

    def run(self, setup: Callable[[], Any], threads: Sequence[Callable[[Any], Any]],
            **kw: Any) -> Outcome:
        kw.setdefault("seed", self.seed)
        replay = os.environ.get("GRADER_REPLAY")
        if replay and kw.get("replay") is None:
            kw["replay"] = replay
        outcome = explore(setup, threads, **kw)
        self.outcomes.append(outcome)
        return outcome

    def check(self, setup: Callable[[], Any], threads: Sequence[Callable[[Any], Any]],
              **kw: Any) -> Outcome:
        outcome = self.run(setup, threads, **kw)
        outcome.raise_if_failed()
        return outcome


@pytest.fixture
def explorer(request: pytest.FixtureRequest) -> Explorer:
    try:
        seed = int(request.getfixturevalue("seed"))
    except pytest.FixtureLookupError:
        seed = 0
    return Explorer(seed)
