"""The class report's numbers: score bands, pass rates, failure kinds with an example."""

from grader.grading.gradebook import ClassStats
from grader.grading.store import Key, StoredGrading
from grader.results import CheckResult, Failure, Status, SubmissionResult


def graded(student: str, score: float, race: bool) -> tuple[StoredGrading, SubmissionResult]:
    checks = [
        CheckResult("basic", "Basic", Status.PASSED, 1.0, 1.0),
        CheckResult(
            "races", "No race", Status.FAILED if race else Status.PASSED,
            0.0 if race else 3.0, 3.0, failure=Failure("invariant", "lost one") if race else None,
        ),
    ]
    result = SubmissionResult("counter", "1", "Counter", 1, score, 4.0, checks)
    stored = StoredGrading(Key(student, "counter", "1", "h"), "graded", score, 4.0, 1, False,
                           None, None, "", float(len(student)), "local", "", 1)
    return stored, result


def stats_of(*students: tuple[str, float, bool]) -> ClassStats:
    stats = ClassStats(4.0, ["basic", "races"], {"basic": "Basic", "races": "No race"})
    for student, score, race in students:
        stored, result = graded(student, score, race)
        stats.add(student, stored, result)
    return stats


def test_small_whole_maximum_gets_one_band_per_point_and_full_marks_its_own() -> None:
    stats = stats_of(("ann", 1.0, True), ("bo", 4.0, False), ("cy", 4.0, False))
    bands = {row["label"]: row["count"] for row in stats.distribution()}
    assert bands == {"0": 0, "1": 1, "2": 0, "3": 0, "4 (full marks)": 2}


def test_pass_rates_and_the_first_example_of_each_failure_kind() -> None:
    stats = stats_of(("ann", 1.0, True), ("bo", 4.0, False), ("cy", 1.0, True))
    assert (stats.passed["races"], stats.attempted["races"]) == (1, 3)
    assert stats.kinds == {"invariant": 2}
    example = stats.examples["invariant"]
    assert (example["student"], example["message"], example["href"]) == (
        "ann", "lost one", "students/ann.html"
    )


def test_slowest_keeps_only_the_ten_slowest() -> None:
    stats = stats_of(*[("x" * n, 4.0, False) for n in range(1, 15)])
    assert sorted(len(student) for _, student in stats.slowest) == list(range(5, 15))
