"""The plan of a grading: which checks run, in which order, and the one rule that skips a check
whose `needs` did not pass; with `CheckDecision`, what was decided of one check.

It neither runs children nor reads what they send: the driver and the scoring both ask it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from grader.grading.options import GradingError
from grader.results import Failure, Status
from grader.spec import CheckSpec, Exercise


@dataclass
class CheckDecision:
    """What was decided of one check: by the child's result record, or by the parent itself
    (a timeout, a death, a skip, the static module scan)."""

    status: Status
    failure: Failure | None
    duration: float
    note: str = ""  # a passed check's remark (the explorer fell back to real threads)
    exploration: list[dict[str, Any]] = field(default_factory=list)


def plan_checks(exercise: Exercise, only: list[str] | None) -> list[CheckSpec]:
    """The checks to run, in YAML order with every check after the checks it needs."""
    checks = exercise.all_checks
    if only:
        unknown = [c for c in only if c not in {k.id for k in checks}]
        if unknown:
            known = ", ".join(k.id for k in checks)
            raise GradingError(f"no check named {', '.join(unknown)} (checks: {known})")
        wanted: set[str] = set()
        stack = list(only)
        while stack:
            check_id = stack.pop()
            if check_id not in wanted:
                wanted.add(check_id)
                stack += exercise.needs_of(exercise.check(check_id))
        checks = [c for c in checks if c.id in wanted]
    ordered: list[CheckSpec] = []
    placed: set[str] = set()
    pending = list(checks)
    ids = {c.id for c in checks}
    while pending:
        for check in pending:
            if all(n in placed or n not in ids for n in exercise.needs_of(check)):
                ordered.append(check)
                placed.add(check.id)
                pending.remove(check)
                break
        else:  # pragma: no cover - the spec refuses cycles
            raise GradingError("checks need each other in a cycle")
    return ordered


def split_lanes(exercise: Exercise, checks: list[CheckSpec], lanes: int) -> list[list[str]]:
    """`checks` (in plan order) dealt to at most `lanes` children that run side by side.

    The built-in checks go to the first lane, ahead of everything. The others go, costliest
    first, to the lane with the least declared `cost` so far (the first such lane on a tie), so
    the split depends only on the exercise. Each lane keeps plan order. A check may land in
    another lane than a check it needs: it then runs beside that check, and the parent's skip
    rule (`unmet_need`) still decides it by the need's outcome, as when they run in one child.
    """
    lanes = max(1, lanes)
    dealt: list[list[CheckSpec]] = [[] for _ in range(lanes)]
    load = [0.0] * lanes
    for check in checks:
        if check.builtin:
            dealt[0].append(check)
    order = {c.id: k for k, c in enumerate(checks)}
    for check in sorted((c for c in checks if not c.builtin),
                        key=lambda c: (-c.cost, order[c.id])):
        lane = min(range(lanes), key=lambda k: (load[k], k))
        dealt[lane].append(check)
        load[lane] += check.cost
    return [[c.id for c in sorted(lane, key=lambda c: order[c.id])] for lane in dealt if lane]


def unmet_need(exercise: Exercise, check: CheckSpec,
               decided: Mapping[str, CheckDecision]) -> Failure | None:
    """The skip of `check` when one of the checks it needs was decided and did not pass."""
    for need in exercise.needs_of(check):
        outcome = decided.get(need)
        if outcome is not None and outcome.status is not Status.PASSED:
            title = exercise.check(need).title
            return Failure("skipped", f"not run: it needs \"{title}\", which did not pass")
    return None
