"""Correct solutions of the time-sensitive exercises pass beside two busy processes per core.

One test grades each correct solution (reference and correct_*) of bounded-buffer,
rwlock, pmap, supervisor and pipeline once, two gradings at a time, while our own
load generator keeps two CPU burners per core busy. Every check must pass: a grade
must not depend on the machine's load. (That their buggy twins fail is what the
per-exercise solution tests prove, on an idle machine and under every seed.)
Marked `load`: it takes many minutes and loads the whole machine, so the default run (and CI,
which runs other timing checks beside it) leaves it out; run it alone with `pytest -m load
tests/processes/test_under_load.py`.
"""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor

import psutil
import pytest
from solution_grading import REPO, grade, read_manifest

from grader.processes.load import busy_machine

TIME_SENSITIVE = ["bounded-buffer", "rwlock", "pmap", "supervisor", "pipeline"]


def _correct() -> list:
    found = []
    for exercise in TIME_SENSITIVE:
        for path in sorted((REPO / "solutions" / exercise).glob("*.py")):
            solution = read_manifest(exercise, path)
            if solution.expect_pass:
                found.append(solution)
    return found


def test_load_generator_burns_cpu_and_stops() -> None:
    with busy_machine(per_core=1, seconds=60) as pids:
        procs = [psutil.Process(pid) for pid in pids]
        end = time.monotonic() + 30  # a spawned burner starts slowly on a busy machine
        while time.monotonic() < end and not all(
                sum(p.cpu_times()[:2]) >= 0.05 for p in procs):
            time.sleep(0.05)
        assert all(sum(p.cpu_times()[:2]) >= 0.05 for p in procs), "a burner burned no CPU"
    assert not any(psutil.pid_exists(pid) and psutil.Process(pid).status() != "zombie"
                   for pid in pids), "a burner outlived its block"


@pytest.mark.load
def test_correct_solutions_pass_under_load() -> None:
    solutions = _correct()
    assert len(solutions) >= 10

    def problems_of(solution) -> list[str]:
        result = grade(solution.exercise, solution.path, seed=11)
        return [f"{solution}: {c['id']} {c['status']}: "
                f"{(c.get('failure') or {}).get('message', '')[:200]}"
                for c in result["checks"] if c["status"] != "passed"]

    with busy_machine(per_core=2, seconds=1500), ThreadPoolExecutor(2) as pool:
        problems = [p for found in pool.map(problems_of, solutions) for p in found]
    assert not problems, "\n".join(problems)
