"""The `explorer` fixture: explore a scenario from a check, seeded by the check's seed.

Loaded by the harness with `-p grader.explore.pytest_plugin`. `explorer.check(setup, threads,
**kw)` raises the confirmed `ExplorationFailure`; `explorer.run(...)` returns the `Exploration`.
With GRADER_REPLAY set to a schedule id, only that schedule runs.

A check may explore several scenarios; the replay id of a failure in the k-th one (k > 1)
reads `k@s4.2`, and replaying it skips the other scenarios (those before it passed, those
after it never ran). A replay reproduces, it never grades: a replayed schedule that does not
fail, or an id naming no scenario of the check, fails the check with a sentence saying so.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import pytest

from grader.explore.explorer import Exploration, ExplorationFailure, explore
from grader.protocol import ENV_REPLAY

NOT_REPRODUCED = ("Replay {id}: this schedule passes; the failure was found with another "
                  "schedule or seed. Nothing was graded: copy the replay command the report "
                  "printed under the failure (it names the check, the seed and the schedule).")

#: Notes of the check running now (a verdict that came from real threads, not the explorer):
#: the harness sends them with the check's result and clears them.
NOTES: list[str] = []


class Explorer:
    """What a check gets from the `explorer` fixture."""

    def __init__(self, seed: int) -> None:
        self.seed = seed
        self.outcomes: list[Exploration] = []
        self.replayed = False  # the GRADER_REPLAY schedule ran in one of this check's scenarios

    def run(self, setup: Callable[[], Any], threads: Sequence[Callable[[Any], Any]],
            **kw: Any) -> Exploration:
        kw.setdefault("seed", self.seed)
        scenario = len(self.outcomes) + 1
        replay = os.environ.get(ENV_REPLAY)
        if replay and kw.get("replay") is None:
            wanted, _, schedule = replay.rpartition("@")
            if int(wanted or 1) != scenario:
                outcome = Exploration(True, 0, strategy="replay: another scenario")
                self.outcomes.append(outcome)
                return outcome
            kw["replay"] = schedule
            self.replayed = True
        outcome = explore(setup, threads, **kw)
        if outcome.note and outcome.ok:
            NOTES.append(f"Scenario {kw.get('name', 'scenario')!r}: {outcome.note}")
        if replay and kw.get("replay") is not None and outcome.failure is None:
            outcome.ok = False
            outcome.failure = ExplorationFailure(
                "replay", NOT_REPRODUCED.format(id=replay), replay="",
                seed=self.seed, details=f"Scenario {kw.get('name', 'scenario')!r}: the schedule "
                                        "ran to the end and every check on it held.")
        if outcome.failure is not None and scenario > 1:
            outcome.failure.replay = f"{scenario}@{outcome.failure.replay}"
        self.outcomes.append(outcome)
        return outcome

    def check(self, setup: Callable[[], Any], threads: Sequence[Callable[[Any], Any]],
              **kw: Any) -> Exploration:
        outcome = self.run(setup, threads, **kw)
        outcome.raise_if_failed()
        return outcome


@pytest.fixture
def explorer(request: pytest.FixtureRequest) -> Iterator[Explorer]:
    try:
        seed = int(request.getfixturevalue("seed"))
    except pytest.FixtureLookupError:
        seed = 0
    fixture = Explorer(seed)
    yield fixture
    replay = os.environ.get(ENV_REPLAY)
    if replay and fixture.outcomes and not fixture.replayed:
        raise ExplorationFailure(
            "replay", f"Replay {replay}: this check has no scenario {replay.partition('@')[0]}"
                      f" (it explored {len(fixture.outcomes)}), so nothing was reproduced.",
            seed=seed)
