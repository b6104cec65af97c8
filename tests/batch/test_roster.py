"""Submission discovery: layouts, GitHub Classroom names, roster CSVs."""

from pathlib import Path

import pytest

from grader.grading.roster import RosterError, discover


def write(path: Path, text: str = "x = 1\n") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def test_one_file_per_student_is_named_by_the_file(tmp_path: Path) -> None:
    write(tmp_path / "bob.py")
    write(tmp_path / "alice.py")
    found = discover(tmp_path, "counter")
    assert [(s.student, s.path.name) for s in found.submissions] == [
        ("alice", "alice.py"),
        ("bob", "bob.py"),
    ]


def test_one_folder_per_student_finds_the_entry_module_even_nested(tmp_path: Path) -> None:
    write(tmp_path / "alice" / "counter.py")
    write(tmp_path / "bob" / "src" / "counter.py")
    write(tmp_path / "bob" / "README.md")
    found = discover(tmp_path, "counter")
    paths = {s.student: s.path for s in found.submissions}
    assert paths == {"alice": tmp_path / "alice", "bob": tmp_path / "bob" / "src"}
    assert found.warnings == []


def test_a_folder_without_the_entry_module_is_still_listed_with_a_warning(tmp_path: Path) -> None:
    write(tmp_path / "carol" / "notes.txt")
    found = discover(tmp_path, "counter")
    assert [s.student for s in found.submissions] == ["carol"]
    assert "carol/ has no single counter.py" in found.warnings[0]


def test_github_classroom_clone_names_students_by_username(tmp_path: Path) -> None:
    for user in ("octocat", "mona-lisa", "hubot"):
        write(tmp_path / f"counter-lab-{user}" / "counter.py")
    write(tmp_path / ".git" / "config")
    found = discover(tmp_path, "counter")
    assert [s.student for s in found.submissions] == ["hubot", "mona-lisa", "octocat"]


def test_roster_maps_usernames_to_identifiers_and_lists_who_submitted_nothing(
    tmp_path: Path,
) -> None:
    subs = tmp_path / "subs"
    for user in ("octocat", "hubot", "stranger"):
        write(subs / f"counter-lab-{user}" / "counter.py")
    roster = tmp_path / "roster.csv"
    roster.write_text(
        "identifier,github_username,github_id,name\n"
        "s1001,octocat,1,Octo Cat\n"
        "s1002,Hubot,2,Hu Bot\n"
        "s1003,,,Absent Student\n"
    )
    found = discover(subs, "counter", roster)
    assert {s.student: s.name for s in found.submissions} == {
        "s1001": "counter-lab-octocat",
        "s1002": "counter-lab-hubot",
        "stranger": "counter-lab-stranger",
    }
    assert found.missing == ["s1003"]
    assert any("not on the roster" in w for w in found.warnings)


def test_roster_without_a_student_column_is_refused_in_one_sentence(tmp_path: Path) -> None:
    write(tmp_path / "subs" / "a.py")
    roster = tmp_path / "roster.csv"
    roster.write_text("colour\nblue\n")
    with pytest.raises(RosterError, match="no student column"):
        discover(tmp_path / "subs", "counter", roster)


def test_missing_submissions_folder_is_a_roster_error(tmp_path: Path) -> None:
    with pytest.raises(RosterError, match="does not exist"):
        discover(tmp_path / "nowhere", "counter")


def test_the_output_folder_among_the_submissions_is_not_a_student(tmp_path: Path) -> None:
    write(tmp_path / "alice.py")
    write(tmp_path / "grades" / "gradebook.csv")
    found = discover(tmp_path, "counter", exclude=tmp_path / "grades")
    assert [s.student for s in found.submissions] == ["alice"]
