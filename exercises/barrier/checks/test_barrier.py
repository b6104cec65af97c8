"""Checks of the `barrier` exercise: release, distinct indices, reuse without lapping."""

from __future__ import annotations

import threading
import time
from types import SimpleNamespace

from grader.checks import CheckFailure, sorted_if_comparable

PATIENCE = 5.0  # seconds a correct barrier may take to release everybody, on a loaded machine


def _run_parties(barrier, parties: int, rounds: int) -> tuple[list[list[int]], list]:
    """Run `parties` real threads for `rounds` rounds; return each round's indices."""
    per_round: list[list[int]] = [[] for _ in range(rounds)]
    arrived = [0] * rounds
    early: list = []
    errors: list[BaseException] = []
    guard = threading.Lock()

    def party() -> None:
        try:
            for k in range(rounds):
                with guard:
                    arrived[k] += 1
                index = barrier.wait()
                with guard:
                    if arrived[k] != parties:
                        early.append((k, arrived[k]))
                    per_round[k].append(index)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=party, daemon=True, name=f"party-{i}")
               for i in range(parties)]
    for t in threads:
        t.start()
    deadline = time.monotonic() + PATIENCE * max(1, rounds // 20)
    for t in threads:
        t.join(max(0.0, deadline - time.monotonic()))
    if errors:
        raise errors[0]
    if early:
        k, n = early[0]
        raise CheckFailure("early", f"In round {k + 1} a thread got through the barrier when only "
                                    f"{n} of {parties} parties had arrived.")
    stuck = sum(t.is_alive() for t in threads)
    if stuck:
        done = [k + 1 for k, got in enumerate(per_round) if len(got) == parties]
        raise CheckFailure("hang", f"{stuck} of {parties} threads were still blocked in wait() "
                                   f"after all had arrived (rounds completed: "
                                   f"{done[-1] if done else 0} of {rounds}).")
    return per_round, early


def test_releases_all(submission):
    single = submission.Barrier(1)
    box: list = []
    t = threading.Thread(target=lambda: box.append(single.wait()), daemon=True)
    t.start()
    t.join(PATIENCE)
    if t.is_alive():
        raise CheckFailure("hang", "Barrier(1).wait() must return at once; it blocked.")
    assert box, "Barrier(1).wait() raised instead of returning index 0."
    assert box == [0], f"Barrier(1).wait() must return index 0, got {box[0]!r}."

    barrier = submission.Barrier(3)
    released = threading.Event()
    got: list = []

    def early_party() -> None:
        got.append(barrier.wait())
        released.set()

    first = [threading.Thread(target=early_party, daemon=True) for _ in range(2)]
    for t in first:
        t.start()
    # Two of three parties are in: nothing may come out, however long we look.
    if released.wait(0.3):
        raise CheckFailure("early", "With 2 of 3 parties arrived, wait() returned; it must "
                                    "block until the third arrives.")
    last = threading.Thread(target=lambda: got.append(barrier.wait()), daemon=True)
    last.start()
    deadline = time.monotonic() + PATIENCE
    for t in [*first, last]:
        t.join(max(0.0, deadline - time.monotonic()))
    stuck = sum(t.is_alive() for t in [*first, last])
    if stuck:
        raise CheckFailure("hang", f"After the third party arrived, {stuck} of the 3 were still "
                                   f"blocked in wait() {PATIENCE:.0f} s later.")
    assert sorted_if_comparable(got) == [0, 1, 2], (
        f"Three parties must get the indices 0, 1 and 2 in some order; they got {got}."
    )
    # Every party count from 1 to 6, one round each, on real threads.
    for parties in range(1, 7):
        per_round, _ = _run_parties(submission.Barrier(parties), parties, 1)
        _assert_indices(per_round, parties)


def _assert_indices(per_round: list[list[int]], parties: int) -> None:
    for k, indices in enumerate(per_round):
        assert sorted_if_comparable(indices) == list(range(parties)), (
            f"With Barrier({parties}), in round {k + 1} the parties got the indices {indices}; "
            f"they must be {list(range(parties))} in some order."
        )


def test_many_rounds(submission, rng):
    # Party counts from the seed, up to 6; a hundred rounds each.
    for parties in sorted({rng.randrange(1, 7), rng.randrange(4, 7)}):
        per_round, _ = _run_parties(submission.Barrier(parties), parties, 100)
        _assert_indices(per_round, parties)


# -- interleavings (explorer) ---------------------------------------------------------


def _scenario(submission, parties: int, rounds: int):
    def setup():
        return SimpleNamespace(barrier=submission.Barrier(parties), arrived=[0] * rounds,
                               indices=[[] for _ in range(rounds)], bad=[])

    def party(i: int):
        def run(s):
            for k in range(rounds):
                s.arrived[k] += 1
                index = s.barrier.wait()
                if s.arrived[k] != parties:
                    s.bad.append(f"party {i} got through round {k + 1} when only "
                                 f"{s.arrived[k]} of {parties} parties had arrived in it")
                s.indices[k].append(index)

        run.__name__ = f"party_{i}"
        return run

    return setup, [party(i) for i in range(parties)]


def _indices_ok(parties: int):
    def invariant(s):
        for k, got in enumerate(s.indices):
            assert sorted_if_comparable(got) == list(range(parties)), (
                f"In round {k + 1} the parties got the indices {got}; they must be "
                f"{list(range(parties))} in some order."
            )

    return invariant


def test_distinct_indices(submission, explorer, rng):
    for parties in (3, rng.choice((3, 4))):
        setup, threads = _scenario(submission, parties=parties, rounds=1)
        explorer.check(setup, threads, invariant=_indices_ok(parties),
                       name=f"Barrier({parties}), one round")


def test_reusable_no_lapping(submission, explorer, rng):
    # 2 to 4 parties from the seed over several rounds, and Barrier(1) over several rounds.
    for parties, rounds in ((3, 3), (rng.choice((2, 4)), rng.choice((3, 4))), (1, 4)):
        setup, threads = _scenario(submission, parties=parties, rounds=rounds)
        indices_ok = _indices_ok(parties)

        def invariant(s, indices_ok=indices_ok):
            assert not s.bad, s.bad[0] + "."
            indices_ok(s)

        explorer.check(setup, threads, invariant=invariant, runs=300 if parties > 1 else 5,
                       name=f"Barrier({parties}), {rounds} rounds")

    # The same two threads use one barrier for two rounds, then a second one: what a thread
    # remembers of the first (kept per thread rather than per barrier) must not let it
    # through the second alone.
    def two_setup():
        return SimpleNamespace(barriers=[submission.Barrier(2), submission.Barrier(2)],
                               arrived=[[0, 0], [0, 0]], bad=[])

    def user(i: int):
        def run(s):
            for b, barrier in enumerate(s.barriers):
                for k in range(2):
                    s.arrived[b][k] += 1
                    barrier.wait()
                    if s.arrived[b][k] != 2:
                        s.bad.append(f"party {i} got through round {k + 1} of the "
                                     f"{('first', 'second')[b]} barrier when only "
                                     f"{s.arrived[b][k]} of 2 parties had arrived in it")

        run.__name__ = f"party_{i}"
        return run

    explorer.check(two_setup, [user(0), user(1)], invariant=lambda s: _nobody_lapped(s),
                   runs=100, name="two Barrier(2), 2 rounds on each, one after the other")


def _nobody_lapped(s) -> None:
    assert not s.bad, s.bad[0] + "."
