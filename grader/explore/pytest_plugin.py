"""The `explorer` fixture: explore a scenario from a check, seeded by the check's seed.

Loaded by the harness with `-p grader.explore.pytest_plugin`. `explorer.check(setup, threads,
**kw)` raises the confirmed `ExplorationFailure`; `explorer.run(...)` returns the `Outcome`.
With GRADER_REPLAY set to a schedule id, only that schedule runs.

A check may explore several scenarios; the replay id of a failure in the k-th one (k > 1)
reads `k@s4.2`, and replaying it skips the other scenarios (those before it passed, those
after it never ran).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from typing import Any

import pytest

from grader.explore.explorer import Outcome, explore

#: Notes of the check running now (a verdict that came from real threads, not the explorer):
#: the harness sends them with the check's result and clears them.
NOTES: list[str] = []


class Explorer:
    """What a check gets from the `explorer` fixture."""

    def __init__(self, seed: int) -> None:
        self.seed = seed
        self.outcomes: list[Outcome] = []

    def run(self, setup: Callable[[], Any], threads: Sequence[Callable[[Any], Any]],
            **kw: Any) -> Outcome:
        kw.setdefault("seed", self.seed)
        scenario = len(self.outcomes) + 1
        replay = os.environ.get("GRADER_REPLAY")
        if replay and kw.get("replay") is None:
            wanted, _, schedule = replay.rpartition("@")
            if int(wanted or 1) != scenario:
                outcome = Outcome(True, 0, strategy="replay: another scenario")
                self.outcomes.append(outcome)
                return outcome
            kw["replay"] = schedule
        outcome = explore(setup, threads, **kw)
        if outcome.note and outcome.ok:
            NOTES.append(f"Scenario {kw.get('name', 'scenario')!r}: {outcome.note}")
        if outcome.failure is not None and scenario > 1:
            outcome.failure.replay = f"{scenario}@{outcome.failure.replay}"
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
