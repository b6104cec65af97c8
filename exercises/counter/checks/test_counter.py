"""Checks of the counter exercise: behaviour, independence, and no lost update."""

from types import SimpleNamespace

from grader.checks import plain, stress, under_model

BIG_STEP = 250  # the big steps' size (one up, one down)
BIG_STEP_RUNS = 40  # schedules of the bounded search for the big step
# a correct counter that adds n as n steps of one takes thousands of steps for it
BIG_STEP_MAX_STEPS = 100_000


def value_of(counter):
    """The counter's value, as a plain int (never the learner's own object)."""
    return plain(counter.value(), int, "value()")


def test_starts_at_start(submission):
    assert value_of(submission.Counter()) == 0, "Counter() should start at 0"
    assert value_of(submission.Counter(5)) == 5, "Counter(5) should start at 5"
    assert value_of(submission.Counter(-3)) == -3, "Counter(-3) should start at -3"


@under_model  # one thread, under the explorer's model: a self-deadlock is named at once
def test_increments_add_up(submission):
    counter = submission.Counter()
    counter.increment()
    assert value_of(counter) == 1, f"after one increment() the value should be 1, not {value_of(counter)!r}"
    counter.increment(5)
    assert value_of(counter) == 6, f"after increment() and increment(5) the value should be 6, not {value_of(counter)!r}"
    counter.increment(0)
    assert value_of(counter) == 6, "increment(0) should not change the value"
    counter.increment(-2)
    assert value_of(counter) == 4, "increment(-2) should subtract 2"
    for _ in range(100):
        counter.increment(3)
    assert value_of(counter) == 304, f"after 100 more increment(3) the value should be 304, not {value_of(counter)!r}"


@under_model
def test_counters_are_independent(submission):
    first, second = submission.Counter(), submission.Counter(10)
    first.increment(7)
    assert value_of(second) == 10, "incrementing one counter changed another counter's value"
    assert value_of(first) == 7, "a counter's value changed when another counter was created"


def _mixed_steps(rng) -> tuple[list[int], list[int]]:
    """Steps for two scenarios of 3 and of 3 or 4 threads: each mixes signs, and together they
    take every value from -3 to 3 but 0, so a counter whose code depends on the step (a fast
    path for big steps, another for negative ones) races in one of them under every seed."""
    ups, downs = [1, 2, 3], [-1, -2, -3]
    rng.shuffle(ups)
    rng.shuffle(downs)
    odd, other = (ups, downs) if rng.random() < 0.5 else (downs, ups)  # two steps in the first
    first = [ups[0], downs[0], odd[1]]
    second = [other[1], other[2], odd[2]]
    if rng.random() < 0.5:  # four threads: one more step, any value
        second.append(rng.choice((-3, -2, -1, 1, 2, 3)))
    rng.shuffle(first)
    rng.shuffle(second)
    return first, second


def _incrementing(plan):
    """A thread body that calls increment(n) for each n of `plan`, in order."""
    def body(counter):
        for n in plan:
            counter.increment(n)
    return body


def test_no_lost_updates(submission, explorer, rng):
    # Small scenarios, so that every interleaving that matters is within the explorer's reach;
    # two threads with one and with two increments each, then 3 and 3 or 4 threads (from the
    # seed) with increments of mixed signs racing, every step from -3 to 3 in one of them.
    scenarios = [(2, [1]), (2, [1, 1])]
    for steps in _mixed_steps(rng):
        scenarios.append((len(steps), *([n] for n in steps)))
    for threads, *plans in scenarios:
        if len(plans) == 1:  # one plan shared by every thread
            plans = plans * threads
        threads = len(plans)
        expected = sum(sum(plan) for plan in plans)
        calls = "; ".join(" then ".join(f"increment({n})" for n in plan) for plan in plans)

        def no_update_lost(counter, expected=expected, calls=calls, count=threads):
            got = value_of(counter)
            assert got == expected, (
                f"{count} threads ran at once on a new Counter() ({calls}): the value "
                f"should be {expected}, but it was {got}"
            )

        explorer.check(submission.Counter, [_incrementing(p) for p in plans],
                       invariant=no_update_lost, name=f"{threads} threads: {calls}")

    # Big steps (BIG_STEP up in one thread, down in the other) racing with small ones: a
    # counter with a "bulk" path past some size, or for one sign only, races there. Sizes and
    # signs are the same under every seed, so the verdict is too (a size drawn from the seed
    # caught a bulk path past 500 under half of them, a sign drawn from it a bulk path for
    # positive steps only). A correct counter may add n as n steps of one, each a few
    # scheduling points, so the search is the bounded one, with few runs: one preemption
    # inside an unlocked `+=` is all such a race needs.
    big_plans = [[1, BIG_STEP], [-BIG_STEP, 1]]
    big_calls = "; ".join(" then ".join(f"increment({n})" for n in plan) for plan in big_plans)

    def big_counted(counter, expected=2):
        got = value_of(counter)
        assert got == expected, (
            f"2 threads ran at once on a new Counter() ({big_calls}): the value should be "
            f"{expected}, but it was {got}")

    explorer.check(submission.Counter, [_incrementing(p) for p in big_plans],
                   invariant=big_counted, strategy="exhaustive", runs=BIG_STEP_RUNS,
                   max_steps=BIG_STEP_MAX_STEPS, name=f"2 threads: {big_calls}")

    # Many increments: a counter that reorganises itself after some number of calls (a log
    # compacted every 64 or 128 entries, a table resized) races there. 90 to 130 calls per
    # thread, from the seed, so a reorganisation at 128 comes while both threads still run;
    # write-biased walks (rare switches, but often just before a store, where a thread has
    # read and not yet written) find such a window in the first few runs, where a bounded
    # search would spend its budget early on and a uniform walk hits it once in about 30.
    long_run = rng.randrange(90, 131)

    def many(counter, k=long_run):
        for _ in range(k):
            counter.increment(1)

    def all_counted(counter, k=long_run):
        got = value_of(counter)
        assert got == 2 * k, (
            f"Two threads each called increment(1) {k} times: the value should be {2 * k}, "
            f"but it was {got}"
        )

    explorer.check(submission.Counter, [many, many], invariant=all_counted, strategy="writes",
                   runs=40, systematic=False, name=f"2 threads x {long_run} increment(1)")

    # value() read while increments run: reading must not lose an update (a counter that
    # folds per-thread shards into its total when read races with the adds).
    reads = rng.choice((1, 2))

    def reader(counter):
        for _ in range(reads):
            counter.value()

    def nothing_lost_to_reads(counter):
        got = value_of(counter)
        assert got == 4, (
            f"Two threads called increment(1) then increment(1), and increment(2), while a "
            f"third called value() {('once', 'twice')[reads - 1]}: the value should then be 4, but it "
            f"was {got}"
        )

    explorer.check(submission.Counter, [_incrementing([1, 1]), _incrementing([2]), reader],
                   invariant=nothing_lost_to_reads,
                   name="value() read while two threads increment")

    # A counter made while another is in use: the new one must not disturb the old one.
    base = rng.randrange(1, 10)

    def setup():
        return SimpleNamespace(first=submission.Counter(), second=None)

    def incrementer(s):
        s.first.increment()
        s.first.increment()

    def creator(s):
        s.second = submission.Counter(base)
        s.first.increment()
        s.second.increment(-1)

    def both_right(s):
        first, second = value_of(s.first), value_of(s.second)
        assert (first, second) == (3, base - 1), (
            f"While one thread incremented a counter twice, another created Counter({base}), "
            f"incremented the first once and its own counter by -1: the values should be 3 "
            f"and {base - 1}, but they were {first} and {second}"
        )

    explorer.check(setup, [incrementer, creator], invariant=both_right,
                   name="a counter created while another is in use")


def test_stress_real_threads(submission, rng, check_seconds):
    # More threads than any small fixed number of slots or stripes: 9 to 16, from the seed.
    threads, each = rng.randrange(9, 17), 1000
    steps = [(-1) ** k * rng.randrange(1, 4) for k in range(threads)]
    counter = submission.Counter()

    def adding(step):
        def body(counter):
            for _ in range(each):
                counter.increment(step)
        return body

    # Most of the check's budget: a correct counter on a loaded machine is slow, not stuck.
    patience = 0.8 * check_seconds
    outcome = stress(lambda: counter, [adding(step) for step in steps], runs=1,
                     switch_interval=1e-6, within=patience)
    outcome.raise_problem(lambda stuck: f"{stuck} of {threads} threads calling increment() "
                                        f"were still blocked after {patience:.0f} s.")
    expected = each * sum(steps)
    got = value_of(counter)
    assert got == expected, (
        f"{threads} threads each called increment(n) {each} times, with n in {sorted(set(steps))}: "
        f"the value should be {expected}, but it was {got} ({expected - got} lost)"
    )
