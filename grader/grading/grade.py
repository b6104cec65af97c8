"""Grade one submission: prepare it, run its checks in sandboxed children, score it.

The parent side of the boundary and its public entry point (`grade_submission`). It never
imports the learner's code: `intake` copies the submission into a fresh folder, the static
scans look for forbidden modules, `plan` orders the checks, `driver` runs them in sandboxed
children; this module turns what they decided into a scored `SubmissionResult`. Points come
only from records the parent accepted; exit codes and printed text are never evidence.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import tempfile
import time
from collections.abc import Iterator
from contextlib import AbstractContextManager as ContextManager
from pathlib import Path

import grader
from grader.grading.driver import ChildDriver
from grader.grading.forbidden import scan_forbidden
from grader.grading.intake import (
    derive_seed,
    prepare_workdir,
    read_sources,
    submission_hash,
    syntax_problem,
)
from grader.grading.integrity import scan_integrity
from grader.grading.learner_terms import in_learner_terms
from grader.grading.options import GradeOptions, GradingError, MachineShare
from grader.grading.plan import CheckDecision, plan_checks, unmet_need
from grader.results import CheckResult, Failure, Replay, Status, SubmissionResult
from grader.spec import ALLOWED_MODULES, IMPORTS, CheckSpec, Exercise

__all__ = ["GradeOptions", "GradingError", "MachineShare", "grade_submission"]


def _phases(checks: list[CheckSpec], machine: MachineShare | None
            ) -> Iterator[tuple[list[CheckSpec], ContextManager[None], bool]]:
    """(checks, the machine share they hold, whether they run alone): the ordinary checks,
    then the exclusive ones, one child at a time, with the machine to themselves."""
    ordinary = [c for c in checks if not c.exclusive]
    exclusive = [c for c in checks if c.exclusive]
    if ordinary:
        yield ordinary, machine.shared() if machine else contextlib.nullcontext(), False
    if exclusive:
        yield exclusive, machine.exclusive() if machine else contextlib.nullcontext(), True


def grade_submission(exercise: Exercise, submission: Path | str,
                     options: GradeOptions | None = None) -> SubmissionResult:
    """Grade one submission (a file, or a folder holding the entry module)."""
    options = options or GradeOptions()
    submission = Path(submission)
    if not submission.exists():
        raise GradingError(f"{submission} does not exist")
    content_hash = submission_hash(submission)
    seed = options.seed if options.seed is not None else derive_seed(content_hash, exercise)
    checks = plan_checks(exercise, options.only)
    started = time.monotonic()
    deadline = started + exercise.limits.submission_seconds

    with tempfile.TemporaryDirectory(prefix="grader-") as tmp:
        root = Path(tmp)
        os.chmod(root, 0o755)
        work, problem = prepare_workdir(exercise, submission, root)
        run_dir = root / "runs"
        run_dir.mkdir()
        sources = read_sources(work)
        decided: dict[str, CheckDecision] = {}

        if problem:
            decided[IMPORTS] = CheckDecision(Status.FAILED, Failure("import-error", problem), 0.0)
        forbidden = scan_forbidden(work, exercise.forbid)
        integrity = [flag.to_dict() for flag in scan_integrity(work)]
        if any(c.id == ALLOWED_MODULES for c in checks):
            unreadable = "there is no code to read" if problem else syntax_problem(work)
            if unreadable:
                # nothing to read, or code Python cannot parse, passes nothing: which modules
                # it would use is unknown
                decided[ALLOWED_MODULES] = CheckDecision(Status.SKIPPED, Failure(
                    "skipped", f"not run: {unreadable}, so the modules your code uses are "
                    "unknown"), 0.0)
            elif forbidden:
                lines = "; ".join(u.describe() for u in forbidden[:5])
                decided[ALLOWED_MODULES] = CheckDecision(Status.FAILED, Failure(
                    "forbidden", lines, lines=[{"file": u.file, "line": u.line} for u in forbidden]
                ), 0.0)
            else:
                decided[ALLOWED_MODULES] = CheckDecision(Status.PASSED, None, 0.0)

        state = None
        driver = ChildDriver(exercise, work, run_dir, seed, options, deadline)
        driver.state.decided.update(decided)
        for phase, share, alone in _phases(checks, options.machine):
            with share:
                driver.run(phase, alone=alone)
        state = driver.state
        decided = state.decided
        output = state.output

    # what regrades this submission with this seed; a failure's replay adds its check and
    # schedule (commands are made only where they are shown)
    replay = Replay(exercise=options.exercise_ref or exercise.id, submission=str(submission),
                    seed=seed, sandbox=options.sandbox)
    result_checks = []
    for check in checks:
        outcome = decided.get(check.id) or CheckDecision(
            Status.ERROR, Failure("exception", "the check did not report a result"), 0.0)
        failure = outcome.failure
        status = outcome.status
        # the parent's own rule, whatever a child claimed: a check whose needs failed is skipped
        skip = unmet_need(exercise, check, decided)
        if skip is not None and status is not Status.SKIPPED:
            status, failure = Status.SKIPPED, skip
        hint = None
        if failure is not None and status is not Status.SKIPPED:
            # a replay that did not fail reproduced nothing: no hint about a failure; a
            # missing name is told in full by its message, and a hint about the code that
            # should be there would only confuse, unless the exercise wrote one for it
            if failure.kind == "replay":
                hint = None
            elif failure.kind == "missing-name":
                hint = check.hints.get(failure.kind)
            else:
                hint = check.hint_for(failure.kind)
            if failure.replay is not None:  # the child knew the schedule; add the rest
                failure.replay = dataclasses.replace(
                    replay, check=check.id, schedule=failure.replay.schedule)
        result_checks.append(CheckResult(
            id=check.id, title=check.title, status=status,
            points=check.points if status is Status.PASSED else 0.0,
            max_points=check.points, visible=check.visible,
            message=failure.message if failure else (
                outcome.note if status is Status.PASSED else ""),
            hint=hint, failure=failure,
            duration_s=round(outcome.duration, 3), exploration=outcome.exploration,
        ))

    coverage = {}
    if options.coverage:
        for name, statements in state.statements.items():
            coverage[name] = sorted(statements - state.executed.get(name, set()))
        for name in sources:
            if name.endswith(".py") and name not in coverage and state.statements:
                coverage[name] = []
    state.resources.wall_s = round(time.monotonic() - started, 3)
    state.resources.cpu_s = round(state.resources.cpu_s, 3)
    return in_learner_terms(SubmissionResult(
        exercise=exercise.id,
        version=exercise.version,
        title=exercise.title,
        seed=seed,
        score=float(sum(c.points for c in result_checks)),
        max_score=float(sum(c.max_points for c in result_checks)),
        checks=result_checks,
        resources=state.resources,
        submission=str(submission),
        submission_hash=content_hash,
        sandbox=state.backend,
        output=output.decode("utf-8", errors="replace"),
        output_truncated=state.output_truncated,
        source=sources,
        coverage=coverage,
        replay=replay,
        grader_version=grader.__version__,
        integrity=integrity,
    ), submission, exercise.entry)
