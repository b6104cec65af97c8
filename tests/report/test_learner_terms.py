"""The rewriting into the learner's terms, on the texts the child and the explorer send."""

from __future__ import annotations

from grader.grading.learner_terms import (
    LearnerNames,
    explorer_account,
    learner_hint,
    learner_traceback,
)

NAMES = LearnerNames({"bounded_buffer.py": "mine.py"}, frozenset({"mine.py"}))


def test_paths_are_shortened_and_the_entry_module_takes_the_learners_name() -> None:
    text = NAMES.text("at /tmp/grader-x1_y/work/bounded_buffer.py:25, socket "
                      "/tmp/grader-x1_y/work/kv.sock, in /venv/lib/site-packages/grader/a.py")
    assert text == "at mine.py:25, socket kv.sock, in a.py"
    assert NAMES.text("my_bounded_buffer.py:3") == "my_bounded_buffer.py:3"  # another file


def test_the_explorers_account_loses_its_seed_strategy_and_choice_count() -> None:
    found = ("Scenario '2 threads': found by pct:3 on schedule 8 of 300 (seed 1472205535); "
             "after shrinking, 0 scheduling choices differ from letting the running thread go on.")
    assert explorer_account(found) == (
        "Scenario '2 threads': the explorer found this on schedule 8 of the 300 it tried.")
    unnamed = ("Scenario 'scenario': found by orders on schedule 1 of 120 (seed 5); after "
               "shrinking, 1 scheduling choice differs from letting the running thread go on.")
    assert explorer_account(unnamed) == "The explorer found this on schedule 1 of the 120 it tried."


def test_a_traceback_keeps_only_the_learners_frames() -> None:
    details = "\n".join([
        "Traceback (most recent call last):",
        '  File "/opt/grader/_bundled/exercises/bb/checks/test_bb.py", line 194, in run',
        "    s.got[c].append(s.buf.get())",
        "                    ^^^^^^^^^^^",
        '  File "/tmp/grader-q/work/bounded_buffer.py", line 25, in get',
        "    item = self.items.pop(0)",
        "           ^^^^^^^^^^^^^^^^^",
        "IndexError: pop from empty list",
    ])
    assert learner_traceback(details, NAMES) == "\n".join([
        "Traceback (most recent call last):",
        '  File "mine.py", line 25, in get',
        "    item = self.items.pop(0)",
        "IndexError: pop from empty list",
    ])


def test_a_hint_quotes_the_learners_line_not_the_authors() -> None:
    hint = "`self.value += n` is a read, an add and a write; keep `__init__` and `self.…`."
    own = ["self.count += n", "return self.count"]
    assert learner_hint(hint, own, ["self.count += n"]) == (
        "`self.count += n` is a read, an add and a write; keep `__init__` and `self.…`.")
    assert learner_hint("`self.value += n` races", ["pass"], []) == "your line that does this races"
    assert learner_hint("`self.count += n` races", own, []) == "`self.count += n` races"
