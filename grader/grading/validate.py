"""Validate exercises: their specs, and their solutions graded many times with different seeds.

For each exercise: the YAML and its cross-checks (via `spec`), hints that name
failure kinds the checks can produce, then every solution in its solutions
folder graded `runs` times: a reference or correct solution must pass every
check every time; a known-buggy one must fail the check its manifest names
every time. Flaky outcomes and slow checks are reported with figures.
"""

from __future__ import annotations

import re
import statistics
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from grader.grading.grade import GradeOptions, GradingError, grade_submission
from grader.grading.machine_share import ReadersWriterShare
from grader.parsing import parse_source
from grader.results import Status, SubmissionResult
from grader.spec import BUILTIN_KINDS, Exercise, SpecError, load_exercise_file

MANIFEST = re.compile(r"^#\s*expect:\s*(pass|fail)\b\s*(.*)$")
KIND_CALL = re.compile(r"""(?:CheckFailure|fail)\(\s*(?:kind\s*=\s*)?["']([a-z][a-z0-9-]*)["']""")


@dataclass(frozen=True)
class Manifest:
    expect: str  # "pass" or "fail"
    checks: tuple[str, ...] = ()  # for "fail": the check that must catch it first, then others
    why: str = ""


@dataclass
class SolutionReport:
    path: Path
    manifest: Manifest | None
    runs: int = 0
    outcomes: list[str] = field(default_factory=list)  # per run: "ok" or what went wrong
    seconds: list[float] = field(default_factory=list)
    problem: str | None = None

    @property
    def ok(self) -> bool:
        return self.problem is None and bool(self.outcomes) and all(
            o == "ok" for o in self.outcomes)

    @property
    def flaky(self) -> bool:
        return len(set(o == "ok" for o in self.outcomes)) > 1


@dataclass
class ExerciseReport:
    id: str
    file: Path
    problems: list[str] = field(default_factory=list)
    solutions: list[SolutionReport] = field(default_factory=list)
    slow_checks: list[tuple[str, float]] = field(default_factory=list)  # (check, median seconds)
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return not self.problems and all(s.ok for s in self.solutions)


def read_manifest(path: Path) -> Manifest | None:
    """The `# expect:` manifest in a solution's first lines (or its entry module's)."""
    file = path
    if path.is_dir():
        candidates = sorted(path.glob("*.py"))
        if not candidates:
            return None
        file = candidates[0]
    expect, checks, why = None, (), ""
    for line in file.read_text(encoding="utf-8", errors="replace").splitlines()[:10]:
        match = MANIFEST.match(line.strip())
        if match:
            expect = match.group(1)
            checks = tuple(match.group(2).split())
        elif line.strip().startswith("# why:"):
            why = line.split(":", 1)[1].strip()
    return Manifest(expect, checks, why) if expect else None


def solutions_dir(exercise: Exercise) -> Path | None:
    for candidate in (exercise.folder / "solutions",
                      exercise.folder.parent.parent / "solutions" / exercise.id):
        if candidate.is_dir():
            return candidate
    return None


def solution_paths(folder: Path) -> list[Path]:
    paths = []
    for item in sorted(folder.iterdir()):
        if item.name.startswith((".", "_")):
            continue
        if item.suffix == ".py" or (item.is_dir() and any(item.glob("*.py"))):
            paths.append(item)
    return paths


def kinds_in_checks(exercise: Exercise) -> set[str]:
    kinds = set(BUILTIN_KINDS)
    for file in exercise.checks_dir.glob("*.py"):
        kinds.update(KIND_CALL.findall(file.read_text(encoding="utf-8", errors="replace")))
    return kinds


def spec_problems(exercise: Exercise) -> list[str]:
    problems = []
    kinds = kinds_in_checks(exercise)
    for check in exercise.all_checks:
        for kind in check.hints:
            if kind not in kinds:
                problems.append(f"check '{check.id}' has a hint for failure kind '{kind}', "
                                f"which no check produces (known: {', '.join(sorted(kinds))})")
    if exercise.max_score <= 0:
        problems.append("the checks are worth no points in total")
    try:
        parse_source(exercise.starter_path.read_text(encoding="utf-8"), exercise.starter_path.name)
    except SyntaxError as exc:
        problems.append(f"the starter file does not parse: {exc.msg} (line {exc.lineno})")
    return problems


def judge(result: SubmissionResult, manifest: Manifest) -> str:
    """'ok' when the result is what the manifest expects, else what differed."""
    by_id = {c.id: c for c in result.checks}
    if manifest.expect == "pass":
        bad = [c for c in result.checks if c.status is not Status.PASSED]
        if not bad:
            return "ok"
        first = bad[0]
        return f"{first.id} {first.status.value}: {first.message[:160]}"
    target = manifest.checks[0] if manifest.checks else None
    if target is None:
        return "ok" if not result.passed else "passed every check"
    check = by_id.get(target)
    if check is None:
        return f"the manifest names '{target}', which is not a check"
    if check.status in (Status.FAILED, Status.ERROR, Status.TIMEOUT):
        return "ok"
    if check.status is Status.SKIPPED:
        return f"{target} was skipped ({check.message[:120]})"
    return f"{target} passed"


def validate_exercise(file: Path, runs: int = 10, workers: int = 2, sandbox: str | None = None,
                      solutions: bool = True, first_seed: int = 1) -> ExerciseReport:
    started = time.monotonic()
    try:
        exercise = load_exercise_file(file)
    except SpecError as exc:
        return ExerciseReport(id=file.parent.name, file=file, problems=[str(exc)])
    report = ExerciseReport(id=exercise.id, file=file, problems=spec_problems(exercise))
    folder = solutions_dir(exercise)
    if not solutions:
        report.seconds = time.monotonic() - started
        return report
    if folder is None:
        report.problems.append("no solutions folder (solutions/<id>/ beside exercises/)")
        return report
    paths = solution_paths(folder)
    if not any(p.stem == "reference" for p in paths):
        report.problems.append(f"{folder} has no reference solution")
    check_times: dict[str, list[float]] = {}
    for path in paths:
        manifest = read_manifest(path)
        sol = SolutionReport(path=path, manifest=manifest, runs=runs)
        if manifest is None:
            sol.problem = "no '# expect: pass' or '# expect: fail CHECK' line in its first lines"
        elif manifest.expect == "fail" and manifest.checks and not any(
                c.id == manifest.checks[0] for c in exercise.all_checks):
            sol.problem = f"its manifest names '{manifest.checks[0]}', which is not a check"
        report.solutions.append(sol)

    jobs = [(sol, first_seed + i) for sol in report.solutions if sol.problem is None
            for i in range(runs)]
    # as in a batch: checks marked `exclusive` (speed, parallelism) get the machine alone
    machine = ReadersWriterShare()

    def grade(job: tuple[SolutionReport, int]) -> tuple[SolutionReport, str, float, list]:
        sol, seed = job
        begin = time.monotonic()
        assert sol.manifest is not None
        # a known-buggy solution needs only its named check (and what that check needs)
        only = [sol.manifest.checks[0]] if sol.manifest.expect == "fail" and sol.manifest.checks \
            else None
        try:
            result = grade_submission(exercise, sol.path,
                                      GradeOptions(seed=seed, sandbox=sandbox, only=only,
                                                   machine=machine, warm=True))
        except GradingError as exc:
            return sol, f"could not be graded: {exc}", time.monotonic() - begin, []
        verdict = judge(result, sol.manifest)
        if verdict != "ok":
            verdict += f" (seed {seed})"
        durations = [(c.id, c.duration_s) for c in result.checks]
        return sol, verdict, time.monotonic() - begin, durations

    with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
        for sol, verdict, seconds, durations in pool.map(grade, jobs):
            sol.outcomes.append(verdict)
            sol.seconds.append(seconds)
            if sol.manifest and sol.manifest.expect == "pass":
                for check_id, duration in durations:
                    check_times.setdefault(check_id, []).append(duration)
    from grader.sandbox.warm import POOL

    POOL.prune()  # the warm sessions of the pool's threads ended with them
    limit = exercise.limits.check_seconds
    for check_id, times in check_times.items():
        median = statistics.median(times)
        if median > limit / 3:
            report.slow_checks.append((check_id, median))
    report.seconds = time.monotonic() - started
    return report


def validate(files: list[Path], runs: int = 10, workers: int = 2, sandbox: str | None = None,
             solutions: bool = True) -> list[ExerciseReport]:
    return [validate_exercise(f, runs, workers, sandbox, solutions) for f in files]
