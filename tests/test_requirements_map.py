"""docs/requirements.md stays true to the exercises it maps.

The map has a `## Family N: ...` heading per family, a `### \\`<id>\\`` heading per exercise
and under it a table `| requirement | checks | how | solutions |`. For every exercise in
MAPPED: each of its checks appears in a row; each row quotes a requirement, names at least one
check and only checks the exercise has, says how, and names only solution files that exist;
each `buggy_*.py` is named in a row whose checks include the check its `# expect: fail` line
names first.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import pytest

from grader.spec import load_exercise

REPO = Path(__file__).resolve().parents[1]
MAP = REPO / "docs" / "requirements.md"
#: The exercises whose rows the map must hold (the thread family).
MAPPED = ("counter", "bank", "bounded-buffer", "rwlock", "barrier", "lazy",
          "pipeline", "kvserver", "pmap", "supervisor")
HOW = ("explorer scenario", "real threads", "real process", "process inspection",
       "protocol exchange", "static scan")
HEADER = ["requirement", "checks", "how", "solutions"]


@dataclass(frozen=True)
class Row:
    exercise: str
    line: int
    requirement: str
    checks: tuple[str, ...]
    how: str
    solutions: tuple[str, ...]


def _cells(line: str) -> list[str]:
    return [cell.strip() for cell in line.strip().strip("|").split("|")]


def parse_map(text: str) -> dict[str, list[Row]]:
    """Rows per exercise id; raises AssertionError naming the line of a malformed table."""
    rows: dict[str, list[Row]] = {}
    exercise = None
    family_seen = False
    for number, line in enumerate(text.splitlines(), start=1):
        if line.startswith("## "):
            assert re.fullmatch(r"## Family \d+: .+", line), f"line {number}: {line!r}"
            family_seen, exercise = True, None
        elif line.startswith("### "):
            found = re.fullmatch(r"### `([a-z0-9-]+)`", line)
            assert found and family_seen, f"line {number}: an exercise heading must be " \
                                          f"### `<id>` under a family: {line!r}"
            exercise = found.group(1)
            assert exercise not in rows, f"line {number}: {exercise} is mapped twice"
            rows[exercise] = []
        elif line.startswith("|") and exercise is not None:
            cells = _cells(line)
            if cells == HEADER or set("".join(cells)) <= set("- :"):
                continue
            assert len(cells) == 4, f"line {number}: a row needs 4 cells, has {len(cells)}"
            requirement, checks, how, solutions = cells
            rows[exercise].append(Row(
                exercise, number, requirement,
                tuple(re.findall(r"`([a-z0-9-]+)`", checks)), how,
                tuple(re.findall(r"`([A-Za-z0-9_.-]+\.py|reference/?)`", solutions))))
    return rows


def _expected_failure(path: Path) -> str:
    first = path.read_text().splitlines()[0]
    found = re.fullmatch(r"# expect: fail ([a-z0-9-]+)( [a-z0-9-]+)*", first)
    assert found, f"{path.name}: line 1 must be '# expect: fail CHECK [CHECK ...]'"
    return found.group(1)


MAPPED_ROWS = parse_map(MAP.read_text())


def test_the_map_has_every_mapped_exercise_in_a_family():
    assert set(MAPPED) <= set(MAPPED_ROWS), sorted(set(MAPPED) - set(MAPPED_ROWS))


@pytest.mark.parametrize("exercise", MAPPED)
def test_every_check_of_the_exercise_appears_in_a_row(exercise):
    spec = load_exercise(REPO / "exercises" / exercise)
    mapped = {c for row in MAPPED_ROWS[exercise] for c in row.checks}
    missing = [c.id for c in spec.all_checks if c.id not in mapped]
    assert not missing, f"{exercise}: checks with no row in docs/requirements.md: {missing}"


@pytest.mark.parametrize("exercise", MAPPED)
def test_every_row_quotes_a_requirement_names_existing_checks_how_and_solutions(exercise):
    spec = load_exercise(REPO / "exercises" / exercise)
    known = {c.id for c in spec.all_checks}
    folder = REPO / "solutions" / exercise
    for row in MAPPED_ROWS[exercise]:
        where = f"docs/requirements.md line {row.line}"
        assert '"' in row.requirement, f"{where}: the requirement cell quotes no requirement"
        assert row.checks, f"{where}: the row names no check"
        unknown = [c for c in row.checks if c not in known]
        assert not unknown, f"{where}: {exercise} has no check {unknown}"
        assert any(h in row.how for h in HOW), f"{where}: 'how' says none of {HOW}"
        assert row.solutions, f"{where}: the row names no solution"
        absent = [s for s in row.solutions if not (folder / s.rstrip("/")).exists()]
        assert not absent, f"{where}: no such solution in solutions/{exercise}: {absent}"


@pytest.mark.parametrize("exercise", MAPPED)
def test_every_buggy_solution_is_named_with_the_check_that_catches_it(exercise):
    rows = MAPPED_ROWS[exercise]
    wrong = []
    for path in sorted((REPO / "solutions" / exercise).glob("buggy_*.py")):
        check = _expected_failure(path)
        if not any(path.name in row.solutions and check in row.checks for row in rows):
            wrong.append(f"{path.name} (caught by {check})")
    assert not wrong, (f"{exercise}: buggy solutions not named in a row with the check that "
                       f"catches them: {wrong}")


def test_a_malformed_table_is_reported_with_its_line():
    text = "## Family 1: x\n\n### `counter`\n\n| a | b |\n"
    with pytest.raises(AssertionError, match="line 5"):
        parse_map(text)
