"""Checks of the `bank` exercise: functional rules, then interleavings, then real threads."""

from __future__ import annotations

from types import SimpleNamespace

from grader.checks import sorted_if_comparable, stress, under_model

# Schedules per scenario. With 300 the known-buggy banks were all caught within the first 40
# schedules under 20 seeds; 120 keeps a wide margin and the whole grading under 5 s.
RUNS = 120


def _balances(bank, n: int) -> list[int]:
    return [bank.balance(i) for i in range(n)]


# -- functional rules -----------------------------------------------------------------


def test_transfers_move_money(submission, explorer, rng):
    bank = submission.Bank([100, 50, 0])
    assert bank.transfer(0, 1, 30) is True, "transfer(0, 1, 30) with 100 in account 0 must return True."
    assert _balances(bank, 3) == [70, 80, 0], (
        f"After transfer(0, 1, 30) from [100, 50, 0] the balances must be [70, 80, 0], "
        f"got {_balances(bank, 3)}."
    )
    assert bank.transfer(1, 2, 80) is True, "Moving a whole balance (80 of 80) must succeed."
    assert _balances(bank, 3) == [70, 0, 80], f"Expected [70, 0, 80], got {_balances(bank, 3)}."
    assert bank.transfer(1, 0, 1) is False, "transfer(1, 0, 1) from an empty account must return False."
    assert bank.transfer(0, 2, 71) is False, "transfer(0, 2, 71) with only 70 must return False."
    assert _balances(bank, 3) == [70, 0, 80], (
        f"A refused transfer must change nothing: expected [70, 0, 80], got {_balances(bank, 3)}."
    )
    assert bank.total() == 150, f"total() must be 150, got {bank.total()}."
    # Every ordered pair of accounts of a bigger bank (6 to 9 accounts, from the seed): a
    # design with a fixed number of lock stripes maps some pairs onto one stripe. One thread,
    # under the explorer: a transfer that waits for itself is reported at once, as a deadlock.
    n = rng.randrange(6, 10)
    pairs = [(src, dst) for src in range(n) for dst in range(n) if src != dst]

    def setup():
        return SimpleNamespace(bank=submission.Bank([10] * n), ok={})

    def every_pair(s):
        for src, dst in pairs:
            s.ok[src, dst] = s.bank.transfer(src, dst, 1)

    def all_moved(s):
        refused = [pair for pair, ok in s.ok.items() if ok is not True]
        assert not refused, (
            f"transfer({refused[0][0]}, {refused[0][1]}, 1) on a bank of {n} accounts with "
            f"enough money must return True, got {s.ok[refused[0]]!r}."
        )
        got = _balances(s.bank, n)
        assert got == [10] * n, (
            f"After one transfer of 1 from every account to every other one of {n} accounts "
            f"the balances must be back at {[10] * n}, got {got}."
        )

    explorer.check(setup, [every_pair], invariant=all_moved, runs=1,
                   name=f"a transfer between every pair of {n} accounts")


@under_model  # one thread, under the explorer's model: a transfer that waits on itself is named at once
def test_edge_cases(submission):
    bank = submission.Bank([5, 0])
    result = bank.transfer(0, 0, 3)
    assert result is True, "transfer(0, 0, 3) with 5 in account 0 must return True (funds suffice)."
    result = bank.transfer(0, 0, 6)
    assert result is False, "transfer(0, 0, 6) with 5 in account 0 must return False."
    assert _balances(bank, 2) == [5, 0], (
        f"A transfer to the same account must move nothing: expected [5, 0], got {_balances(bank, 2)}."
    )
    assert bank.transfer(1, 0, 0) is True, "An amount of 0 always succeeds, even from an empty account."
    assert bank.transfer(0, 1, 0) is True, "An amount of 0 must succeed."
    assert _balances(bank, 2) == [5, 0], f"An amount of 0 must move nothing, got {_balances(bank, 2)}."
    assert bank.total() == 5, f"total() must be 5, got {bank.total()}."
    # a second bank is a bank of its own: nothing of one is shared with the other
    other = submission.Bank([100, 0, 7])
    assert other.transfer(0, 1, 60) is True, "transfer(0, 1, 60) on Bank([100, 0, 7]) must succeed."
    assert _balances(other, 3) == [40, 60, 7] and _balances(bank, 2) == [5, 0], (
        f"After Bank([5, 0]) and then Bank([100, 0, 7]) and a transfer of 60 in the second, the "
        f"first should hold [5, 0] and the second [40, 60, 7], but they hold "
        f"{_balances(bank, 2)} and {_balances(other, 3)}: state kept on the class is shared by "
        "every bank; keep it on the instance (self.…).")
    assert bank.total() == 5 and other.total() == 107, (
        f"total() of the two banks should be 5 and 107, but it was {bank.total()} and "
        f"{other.total()}.")


@under_model  # a bad call that leaves a lock or a gate held is named at once, as a deadlock
def test_bad_transfers_raise(submission):
    bank = submission.Bank([10, 10, 10])
    calls = [
        ("transfer(0, 1, -1)", lambda: bank.transfer(0, 1, -1)),
        ("transfer(0, 0, -5)", lambda: bank.transfer(0, 0, -5)),
        ("transfer(0, 3, 1)", lambda: bank.transfer(0, 3, 1)),
        ("transfer(3, 0, 1)", lambda: bank.transfer(3, 0, 1)),
        ("transfer(-1, 0, 1)", lambda: bank.transfer(-1, 0, 1)),
        ("transfer(0, -1, 1)", lambda: bank.transfer(0, -1, 1)),
        ("transfer(0, 7, 500)", lambda: bank.transfer(0, 7, 500)),
        # validation comes before every shortcut: an amount of 0, or src == dst
        ("transfer(0, 99, 0)", lambda: bank.transfer(0, 99, 0)),
        ("transfer(99, 0, 0)", lambda: bank.transfer(99, 0, 0)),
        ("transfer(-1, -1, 0)", lambda: bank.transfer(-1, -1, 0)),
        ("transfer(3, 3, 1)", lambda: bank.transfer(3, 3, 1)),
        ("transfer(-1, -1, 5)", lambda: bank.transfer(-1, -1, 5)),
        ("transfer(1, 1, -1)", lambda: bank.transfer(1, 1, -1)),
        ("balance(3)", lambda: bank.balance(3)),
        ("balance(-1)", lambda: bank.balance(-1)),
    ]
    for text, call in calls:
        try:
            result = call()
        except ValueError:
            pass
        else:
            raise AssertionError(f"{text} on a bank of 3 accounts must raise ValueError, "
                                 f"but it returned {result!r}.")
        after = _balances(bank, 3)
        assert after == [10, 10, 10], (
            f"{text} raised ValueError but the balances changed to {after}; they must stay "
            f"[10, 10, 10]."
        )
    # after every refused call the bank still works: nothing was left half done
    assert bank.total() == 30, f"After the refused calls, total() must be 30, got {bank.total()}."
    assert bank.transfer(0, 1, 4) is True and _balances(bank, 3) == [6, 14, 10], (
        f"After the refused calls, transfer(0, 1, 4) must succeed and leave [6, 14, 10]; the "
        f"balances are {_balances(bank, 3)}.")


# -- interleavings (explorer) ---------------------------------------------------------


def test_no_lost_money(submission, explorer):
    def setup():
        return SimpleNamespace(bank=submission.Bank([5, 5, 0]), ok=[None, None])

    def first(s):
        s.ok[0] = s.bank.transfer(0, 2, 3)

    def second(s):
        s.ok[1] = s.bank.transfer(1, 2, 4)

    def invariant(s):
        got = _balances(s.bank, 3)
        assert s.ok == [True, True], f"Both transfers had the funds, but they returned {s.ok}."
        assert got == [2, 1, 7], (
            f"transfer(0, 2, 3) and transfer(1, 2, 4) ran at the same time on [5, 5, 0]: "
            f"expected [2, 1, 7], got {got} (money lost or created)."
        )

    explorer.check(setup, [first, second], invariant=invariant, runs=RUNS)


def test_no_overdraft(submission, explorer):
    def setup():
        return SimpleNamespace(bank=submission.Bank([5, 0, 0]), ok=[None, None])

    def first(s):
        s.ok[0] = s.bank.transfer(0, 1, 4)

    def second(s):
        s.ok[1] = s.bank.transfer(0, 2, 4)

    def invariant(s):
        got = _balances(s.bank, 3)
        assert min(got) >= 0, f"A balance went negative: {got}."
        assert sorted_if_comparable(s.ok) == [False, True], (
            f"Account 0 holds 5, so exactly one of two transfers of 4 can succeed; "
            f"they returned {s.ok}."
        )
        expected = [1, 4, 0] if s.ok[0] else [1, 0, 4]
        assert got == expected, f"Expected balances {expected}, got {got}."

    explorer.check(setup, [first, second], invariant=invariant, runs=RUNS)

    # The same two withdrawals while a third transfer holds the first one's destination: a
    # transfer that waits for it (or backs off and tries again) must still refuse to take
    # more than account 0 holds when it finally moves the money.
    def contended_setup():
        return SimpleNamespace(bank=submission.Bank([5, 1, 0]), ok=[None, None, None])

    def third(s):
        s.ok[2] = s.bank.transfer(1, 2, 1)

    def contended(s):
        got = _balances(s.bank, 3)
        assert min(got) >= 0, (
            f"Bank([5, 1, 0]): transfer(0, 1, 4), transfer(0, 2, 4) and transfer(1, 2, 1) "
            f"ran at once, and a balance went negative: {got}.")
        assert sorted_if_comparable(s.ok[:2]) == [False, True] and s.ok[2] is True, (
            f"Bank([5, 1, 0]): account 0 holds 5, so exactly one of transfer(0, 1, 4) and "
            f"transfer(0, 2, 4) can succeed, and transfer(1, 2, 1) always can; they returned "
            f"{s.ok}.")
        assert sum(got) == 6, f"Money was lost or created: the balances are {got}."

    explorer.check(contended_setup, [first, second, third], invariant=contended, runs=RUNS,
                   name="two withdrawals from account 0 while a third transfer holds account 1")


def test_total_consistent(submission, explorer, rng):
    def setup():
        return SimpleNamespace(bank=submission.Bank([10, 10, 10]), totals=[])

    def mover(s):
        s.bank.transfer(0, 1, 3)
        s.bank.transfer(1, 2, 5)

    def other_mover(s):
        s.bank.transfer(2, 0, 4)

    def auditor(s):
        for _ in range(3):
            s.totals.append(s.bank.total())

    def invariant(s):
        wrong = [t for t in s.totals if t != 30]
        assert not wrong, (
            f"total() returned {wrong[0]} while transfers were running; the bank always holds 30."
        )
        assert sum(_balances(s.bank, 3)) == 30, "Money was lost or created by the transfers."

    explorer.check(setup, [mover, other_mover, auditor], invariant=invariant, runs=RUNS)

    # Two transfers that share no account run side by side: nothing orders them, so a
    # total() must not rely on transfers taking turns.
    n = rng.choice((4, 5))
    first, second, third, fourth = rng.sample(range(n), 4)

    def disjoint_setup():
        return SimpleNamespace(bank=submission.Bank([10] * n), totals=[])

    def one(s):
        s.bank.transfer(first, second, 3)
        s.bank.transfer(second, first, 1)

    def two(s):
        s.bank.transfer(third, fourth, 4)
        s.bank.transfer(fourth, third, 2)

    def audit_disjoint(s):
        for _ in range(3):
            s.totals.append(s.bank.total())

    def disjoint_invariant(s):
        wrong = [t for t in s.totals if t != 10 * n]
        assert not wrong, (
            f"total() returned {wrong[0]} while transfers between accounts {first} and "
            f"{second} and between accounts {third} and {fourth}, which share no account, were "
            f"running; the bank always holds {10 * n}."
        )

    explorer.check(disjoint_setup, [one, two, audit_disjoint], invariant=disjoint_invariant,
                   runs=2 * RUNS, name="total() against transfers on disjoint accounts")


def _conserved(n: int, initial: int):
    def invariant(s):
        got = _balances(s.bank, n)
        assert sum(got) == n * initial and min(got) >= 0, (
            f"After the transfers the balances are {got}: money was lost, created or overdrawn."
        )

    return invariant


def _cycle(submission, explorer, n: int, members: list[int], runs: int) -> None:
    """One transfer per thread around the cycle members[0] -> members[1] -> ... -> members[0]."""
    def setup():
        return SimpleNamespace(bank=submission.Bank([3] * n))

    def leg(src: int, dst: int):
        def run(s):
            s.bank.transfer(src, dst, 2)

        run.__name__ = f"transfer_{src}_to_{dst}"
        return run

    legs = [leg(a, members[(k + 1) % len(members)]) for k, a in enumerate(members)]
    cycle = " -> ".join(str(a) for a in [*members, members[0]])
    explorer.check(setup, legs, invariant=_conserved(n, 3), runs=runs,
                   name=f"a cycle of {len(members)} transfers: {cycle}")


def test_opposite_transfers_no_deadlock(submission, explorer):
    def setup():
        return SimpleNamespace(bank=submission.Bank([3, 3]))

    def forth(s):
        s.bank.transfer(0, 1, 2)
        s.bank.transfer(0, 1, 1)

    def back(s):
        s.bank.transfer(1, 0, 2)

    explorer.check(setup, [forth, back], invariant=_conserved(2, 3), runs=RUNS)


def test_balance_while_transfers(submission, explorer):
    # balance() read while transfers in both directions move money through that account: it
    # must never deadlock with them, and must return what the account held before, between
    # or after them (5, 3, 6 or 4 for account 0; 5, 7, 4 or 6 for account 1).
    def setup():
        return SimpleNamespace(bank=submission.Bank([5, 5]), seen=[])

    def forth(s):
        s.bank.transfer(0, 1, 2)

    def back(s):
        s.bank.transfer(1, 0, 1)

    def reader(s):
        s.seen.append(s.bank.balance(0))
        s.seen.append(s.bank.balance(1))

    def invariant(s):
        possible = ({5, 3, 6, 4}, {5, 7, 4, 6})
        for account, (got, allowed) in enumerate(zip(s.seen, possible)):
            assert got in allowed, (
                f"Bank([5, 5]): while transfer(0, 1, 2) and transfer(1, 0, 1) ran, "
                f"balance({account}) returned {got!r}; the account held only "
                f"{', '.join(str(v) for v in sorted(allowed))} before, between and after them.")
        _conserved(2, 5)(s)

    explorer.check(setup, [forth, back, reader], invariant=invariant, runs=RUNS,
                   name="balance(0) and balance(1) while transfers run both ways")


def test_cyclic_transfers_no_deadlock(submission, explorer, rng):
    # A bank of 4 or 5 accounts and a cycle of every length from 3 up to all of them, over
    # accounts picked and ordered by the seed (not only neighbours in account order).
    n = rng.choice((4, 5))
    _cycle(submission, explorer, n, [0, 1, 2], RUNS)
    for length in range(3, n + 1):
        _cycle(submission, explorer, n, rng.sample(range(n), length), RUNS // 2)


def test_self_transfer_no_deadlock(submission, explorer):
    def setup():
        return SimpleNamespace(bank=submission.Bank([4, 4]), ok=None)

    def to_itself(s):
        s.ok = s.bank.transfer(0, 0, 3)

    def elsewhere(s):
        s.bank.transfer(0, 1, 2)

    def invariant(s):
        assert isinstance(s.ok, bool), f"transfer(0, 0, 3) returned {s.ok!r}, not a bool."
        got = _balances(s.bank, 2)
        assert sum(got) == 8 and min(got) >= 0, f"Balances after the transfers: {got}."

    explorer.check(setup, [to_itself, elsewhere], invariant=invariant, runs=RUNS)


# -- real threads (a second opinion) --------------------------------------------------


def test_stress(submission, rng):
    # More accounts and threads than any small fixed design: 6 to 16 accounts, 9 to 16 threads.
    accounts, threads, per_thread = rng.randrange(6, 17), rng.randrange(9, 17), 150
    initial = [rng.randrange(0, 40) for _ in range(accounts)]
    bank = submission.Bank(list(initial))
    plans = [
        [(rng.randrange(accounts), rng.randrange(accounts), rng.randrange(0, 15))
         for _ in range(per_thread)]
        for _ in range(threads)
    ]
    results: list[list[bool]] = [[] for _ in range(threads)]
    totals: list[int] = []

    def work(k: int):
        def body(bank) -> None:
            for src, dst, amount in plans[k]:
                results[k].append(bank.transfer(src, dst, amount))
        return body

    def audit(bank) -> None:  # runs while the transfers go
        for _ in range(200):
            totals.append(bank.total())

    bodies = [work(k) for k in range(threads)] + [audit]
    outcome = stress(lambda: bank, bodies, runs=1, switch_interval=None, within=20)
    outcome.raise_problem(
        lambda stuck: f"{stuck} of {len(bodies)} threads were still blocked after 20 s.")
    expected = list(initial)
    for plan, oks in zip(plans, results):
        for (src, dst, amount), ok in zip(plan, oks):
            if ok:
                expected[src] -= amount
                expected[dst] += amount
    got = _balances(bank, accounts)
    assert got == expected, (
        f"After {threads * per_thread} transfers the balances are {got}, but the transfers "
        f"that returned True add up to {expected}."
    )
    wrong = [t for t in totals if t != sum(initial)]
    assert not wrong, f"total() returned {wrong[0]} during the run; the bank holds {sum(initial)}."
