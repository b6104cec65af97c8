"""Checks for `pipeline`: order, any item (None, empty, none at all), one process per stage, large items,
failing and dying stages, reaping.

Every call into the learner's `run_pipeline` runs under a deadline: a pipeline
that deadlocks is reported as such (its processes are killed) instead of
hanging the check. Stage functions come from `grader.processes.tasks`, so they
pickle under any start method.
"""

from __future__ import annotations

import os
import re
from functools import partial
from types import ModuleType
from typing import Any

from grader.checks import (
    CheckFailure,
    Overran,
    ProcessWatch,
    call_with_deadline,
    deadline,
    sorted_if_comparable,
    tasks,
)

#: a correct pipeline needs well under 2 s here; the deadline grows with the measured load
DEADLINE_S = 12.0

#: numbers in an error message that are not a stage's index: exit codes, signals, items, pids
NOT_A_STAGE = re.compile(
    r"(?i)\b(?:exit(?:ed|s)?(?:\s+with)?(?:\s*(?:code|status))?|exitcode|return\s*code|"
    r"returncode|status|code|signal|sig[a-z]*|item|pid)\s*[:=#(]?\s*-?\d+")

#: what a leftover's message advises
ADVICE = "Join (or waitpid) every child before returning or raising."


def _run(submission: ModuleType, stages: list, items: list,
         watch: ProcessWatch | None = None) -> Any:
    limit = deadline(DEADLINE_S)
    try:
        return call_with_deadline(submission.run_pipeline, stages, items, deadline_s=limit,
                                  watch=watch)
    except Overran as exc:
        stuck = [p.as_process_info(note="killed by the grader after the deadline")
                 for p in exc.watch.workers]
        raise CheckFailure(
            "deadlock",
            f"run_pipeline({len(stages)} stages, {len(items)} items) did not return within "
            f"{limit:.0f}s: something waits for something that never comes.",
            processes=stuck,
        ) from None


def test_no_stages(submission: ModuleType) -> None:
    items = [3, "x", None, [1, 2]]
    got = _run(submission, [], list(items))
    assert got == items, f"With no stages run_pipeline should return the items {items}, got {got!r}."


def test_order_kept(submission: ModuleType, rng: Any) -> None:
    items = [rng.randrange(-1000, 1000) for _ in range(100)]
    stages = [partial(tasks.add, n=3), partial(tasks.times, k=2), partial(tasks.add, n=-1)]
    got = _run(submission, stages, items)
    want = [(x + 3) * 2 - 1 for x in items]
    if got != want:
        if isinstance(got, list) and sorted_if_comparable(got) == sorted(want):
            raise CheckFailure("order", "All outputs came back, but not in the order of the "
                                        "inputs: output i must come from input i.")
        shown = got[:5] if isinstance(got, list) else got
        assert got == want, (f"100 items through 3 stages: expected {want[:5]}... "
                             f"but got {shown!r}...")


def test_any_items(submission: ModuleType, rng: Any) -> None:
    # falsy items are items: None, 0, "", False, [] and () travel between stages and back
    count = rng.randrange(12, 25)
    got = _run(submission, [tasks.falsy, tasks.identity], list(range(count)))
    want = [tasks.FALSY[i % len(tasks.FALSY)] for i in range(count)]
    assert got == want, (f"{count} items through 2 stages, the first turning item i into "
                         f"{', '.join(map(repr, tasks.FALSY))} (by i % 6) and the second passing "
                         f"them on: expected {want[:7]!r}..., but got {got!r}. An item that is "
                         "None, 0 or empty is an item like any other, not the end of the stream.")
    got = _run(submission, [partial(tasks.add, n=1), tasks.identity], [])
    assert got == [], f"No items through 2 stages: expected [], but got {got!r}."
    # items a pipeline might take for its own end marker: strings, bytes, negative numbers
    markers = ["__END__", "END", "STOP", "DONE", "EOF", "<end>", "\n", "None", b"", b"END",
               -1, "__STOP__", "sentinel", ("END",)]
    rng.shuffle(markers)
    items = ["first", *markers, "last"]
    got = _run(submission, [tasks.identity, tasks.identity], list(items))
    assert got == items, (f"{len(items)} items through 2 stages that pass them on: expected "
                          f"{items!r}, but got {got!r}. Whatever your code sends as its own "
                          "end marker, an item equal to it is still an item.")


def test_process_per_stage(submission: ModuleType) -> None:
    items = [[i] for i in range(30)]
    got = _run(submission, [tasks.stamp, tasks.stamp, tasks.stamp], items)
    assert isinstance(got, list) and len(got) == 30, "Expected 30 outputs from 30 items."
    me = os.getpid()
    per_stage = [{out[1 + s] for out in got} for s in range(3)]
    for s, pids in enumerate(per_stage):
        if me in pids:
            raise CheckFailure("not-processes", f"Stage {s} ran in the calling process itself "
                                                "(a thread or a plain call), not in a child "
                                                "process of its own.")
        if len(pids) != 1:
            raise CheckFailure("not-per-stage", f"Stage {s} ran in {len(pids)} different "
                                                "processes; each stage must be one process "
                                                "that handles every item.")
    distinct = {next(iter(p)) for p in per_stage}
    if len(distinct) != 3:
        raise CheckFailure("not-per-stage", "Several stages ran in the same process; every "
                                            "stage needs a process of its own.")


def test_large_items(submission: ModuleType, seed: int, rng: Any) -> None:
    size = 4 * 1024 * 1024
    many = list(range(3000))
    got = _run(submission, [partial(tasks.add, n=1), partial(tasks.add, n=-1)], many)
    if got != many:
        raise CheckFailure("many", "3000 small items through 2 stages did not come back "
                                   "unchanged and in order.")
    specs = [(seed + i, size) for i in range(6)]
    got = _run(submission, [tasks.make_blob, tasks.reverse_bytes], specs)
    assert isinstance(got, list) and len(got) == len(specs), (
        f"Expected {len(specs)} outputs of 4 MiB, got {type(got).__name__} "
        f"of length {len(got) if isinstance(got, list) else '?'}.")
    for i, (spec, out) in enumerate(zip(specs, got)):
        want = tasks.digest(tasks.reverse_bytes(tasks.make_blob(spec)))
        if not isinstance(out, bytes) or tasks.digest(out) != want:
            raise CheckFailure("corrupt", f"Output {i} (4 MiB of bytes) came back changed.")
    # large items already at the input: writing all input before reading the output deadlocks
    sizes = [rng.randrange(3 * 1024 * 1024, 5 * 1024 * 1024) for _ in range(4)]
    blobs = [tasks.make_blob((seed + 100 + i, n)) for i, n in enumerate(sizes)]
    got = _run(submission, [tasks.reverse_bytes, tasks.reverse_bytes], blobs)
    if not isinstance(got, list) or len(got) != len(blobs) or any(
            not isinstance(out, bytes) or out != blob for out, blob in zip(got, blobs)):
        raise CheckFailure("corrupt", f"{len(blobs)} input items of 3-5 MiB each, reversed "
                                      "twice, did not come back unchanged and in order.")


def _expect_runtime_error(submission: ModuleType, stages: list, items: list, stage: int,
                          what: str, must_mention: list[str]) -> None:
    with ProcessWatch() as watch:
        try:
            _run(submission, stages, items, watch=watch)
        except RuntimeError as exc:
            message = str(exc)
        except CheckFailure:
            raise
        except Exception as exc:
            raise CheckFailure("wrong-exception", f"When {what}, run_pipeline should raise "
                                                  f"RuntimeError but raised "
                                                  f"{type(exc).__name__}: {exc}") from None
        else:
            raise CheckFailure("no-error", f"When {what}, run_pipeline returned normally "
                                           "instead of raising RuntimeError.")
    # the stage's index, not a number that is an exit code, a signal or an item ("stage 2
    # died (exit code 1)" does not name stage 1)
    named = message
    for needed in must_mention:
        named = named.replace(needed, " ")
    named = NOT_A_STAGE.sub(" ", named)
    if not re.search(rf"(?<!\d){stage}(?!\d)", named):
        raise CheckFailure("error-message", f"When {what}, the RuntimeError should name the "
                                            f"stage's index {stage}; its message was "
                                            f"{message!r}.")
    for needed in must_mention:
        if needed not in message:
            raise CheckFailure("error-message", f"When {what}, the RuntimeError should mention "
                                                f"{needed!r}; its message was {message!r}.")
    watch.require_no_leftovers(f"After the RuntimeError for {what}", ADVICE)


def test_stage_error(submission: ModuleType, rng: Any) -> None:
    stages = [partial(tasks.add, n=0), partial(tasks.fail_on, bad=7, message="cannot take"),
              partial(tasks.add, n=1)]
    _expect_runtime_error(submission, stages, list(range(20)), 1,
                          "stage 1 raises ValueError('cannot take 7') on item 7",
                          ["ValueError", "cannot take 7"])
    stages = [partial(tasks.raise_typed, bad=2, type_name="KeyError", message="k"),
              partial(tasks.add, n=1)]
    _expect_runtime_error(submission, stages, list(range(5)), 0,
                          "stage 0 raises KeyError on item 2", ["KeyError"])
    stages = [partial(tasks.add, n=0), partial(tasks.refuse_on, bad=4, why="will not take")]
    _expect_runtime_error(submission, stages, list(range(9)), 1,
                          "stage 1 raises Refused('will not take 4') (an exception class of "
                          "the checks' own, whose object does not survive pickling)",
                          ["Refused", "will not take 4"])
    # many items in flight: the pipes upstream of the failing stage are full when it fails
    count = 3000
    bad = rng.randrange(count // 3, count - 200)
    size = rng.randrange(300, 700)
    stages = [tasks.tagged, partial(tasks.fail_tagged, bad=bad, message="refused item"),
              partial(tasks.fail_tagged, bad=-1)]
    _expect_runtime_error(submission, stages, [(i, size) for i in range(count)], 1,
                          f"stage 1 raises ValueError on item {bad} of {count} "
                          f"({size}-byte items, many still in the pipes)",
                          ["ValueError", f"refused item {bad}"])


def test_stage_crash(submission: ModuleType, rng: Any) -> None:
    stages = [partial(tasks.add, n=0), partial(tasks.add, n=1), partial(tasks.exit_on, bad=6)]
    _expect_runtime_error(submission, stages, list(range(12)), 2,
                          "stage 2 ends its process with os._exit(7) on item 6", [])
    stages = [partial(tasks.add, n=0), partial(tasks.kill_on, bad=4), partial(tasks.add, n=1)]
    _expect_runtime_error(submission, stages, list(range(12)), 1,
                          "stage 1's process is killed by SIGKILL on item 4", [])
    bad = rng.randrange(2, 10)
    stages = [partial(tasks.add, n=0), partial(tasks.exit_on, bad=bad, code=0),
              partial(tasks.add, n=1)]
    _expect_runtime_error(submission, stages, list(range(12)), 1,
                          f"stage 1 ends its process with os._exit(0) on item {bad} (exit "
                          "code 0, but mid-stream)", [])


def test_children_reaped(submission: ModuleType) -> None:
    with ProcessWatch() as watch:
        got = _run(submission, [tasks.stamp, tasks.stamp], [[i] for i in range(50)], watch=watch)
    if not isinstance(got, list) or not got or os.getpid() in got[0]:
        raise CheckFailure("not-processes", "run_pipeline ran its stages in the calling process, "
                                            "so there are no children to reap.")
    watch.require_no_leftovers("After run_pipeline returned", ADVICE)
    with ProcessWatch() as empty:
        _run(submission, [tasks.stamp, tasks.stamp], [], watch=empty)
    empty.require_no_leftovers("After run_pipeline returned for no items", ADVICE)
    with ProcessWatch() as failing:
        try:
            _run(submission, [partial(tasks.fail_on, bad=3), partial(tasks.add, n=1)], list(range(10)),
                 watch=failing)
        except RuntimeError:
            pass
    failing.require_no_leftovers("After run_pipeline raised for a failing stage", ADVICE)
