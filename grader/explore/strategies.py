"""Scheduling strategies: small objects that pick the next thread at a choice point.

A choice point is a scheduling point where two or more threads are enabled. Each strategy is
seeded and deterministic. `Portfolio` yields the runs of one exploration: every start order
without preemption, then random walk and PCT with depths 1, 2 and 3 in turn, with PCT's k
(choice points per run) learned from the runs before it. `Replay` follows a recorded list of
deviations from the default policy (keep running the current thread, else the lowest enabled).
"""

from __future__ import annotations

import itertools
import random
from collections.abc import Iterator

from grader.explore.runtime import ManagedThread, Strategy


class NonPreemptive(Strategy):
    """Never preempts; when the current thread cannot go on, the first enabled in `order`."""

    name = "orders"

    def __init__(self, order: tuple[int, ...] = ()) -> None:
        self.rank = {index: i for i, index in enumerate(order)}

    def pick(self, enabled: list[ManagedThread], current: ManagedThread, choice: int
             ) -> ManagedThread:
        if current in enabled:
            return current
        return min(enabled, key=lambda t: (self.rank.get(t.index, len(self.rank)), t.index))


class RandomWalk(Strategy):
    """Uniformly random among the enabled threads at every choice point."""

    name = "random"

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng

    def pick(self, enabled: list[ManagedThread], current: ManagedThread, choice: int
             ) -> ManagedThread:
        return enabled[self.rng.randrange(len(enabled))]


class PCT(Strategy):
    """Probabilistic concurrency testing (Burckhardt et al., ASPLOS 2010).

    Random distinct priorities (all above d), the highest-priority enabled thread runs, and at
    d-1 random change points among the k choice points the running thread drops to priority i.
    """

    def __init__(self, depth: int, k: int, rng: random.Random) -> None:
        self.depth = depth
        self.rng = rng
        self.name = f"pct:{depth}"
        k = max(k, depth)
        points = rng.sample(range(1, k + 1), depth - 1) if depth > 1 else []
        self.change = {c: i + 1 for i, c in enumerate(sorted(points))}
        self.priority: dict[int, float] = {}

    def prio(self, t: ManagedThread) -> float:
        p = self.priority.get(t.index)
        if p is None:
            p = self.priority[t.index] = self.depth + self.rng.random()
        return p

    def pick(self, enabled: list[ManagedThread], current: ManagedThread, choice: int
             ) -> ManagedThread:
        for t in enabled:
            self.prio(t)
        lowered = self.change.get(choice)
        if lowered is not None:
            self.priority[current.index] = float(lowered) - 1.0 + 0.5
        return max(enabled, key=lambda t: (self.prio(t), -t.index))


class Replay(Strategy):
    """Follows `deviations` (choice number -> thread index); the default policy elsewhere."""

    name = "replay"

    def __init__(self, deviations: dict[int, int]) -> None:
        self.deviations = deviations

    def pick(self, enabled: list[ManagedThread], current: ManagedThread, choice: int
             ) -> ManagedThread:
        want = self.deviations.get(choice)
        if want is not None:
            for t in enabled:
                if t.index == want:
                    return t
        return current if current in enabled else enabled[0]


class Prefix(Strategy):
    """Exhaustive search: a fixed prefix of choices, then no preemption."""

    name = "exhaustive"

    def __init__(self, prefix: list[int]) -> None:
        self.prefix = prefix

    def pick(self, enabled: list[ManagedThread], current: ManagedThread, choice: int
             ) -> ManagedThread:
        if choice <= len(self.prefix):
            want = self.prefix[choice - 1]
            for t in enabled:
                if t.index == want:
                    return t
        return current if current in enabled else enabled[0]


def run_rng(seed: int, label: str, run: int) -> random.Random:
    return random.Random(f"{seed}/{label}/{run}")


class Portfolio:
    """The runs of one exploration, in a fixed order for a given seed and budget."""

    def __init__(self, kind: str, *, seed: int, runs: int, threads: int) -> None:
        self.kind = kind
        self.seed = seed
        self.runs = runs
        self.threads = threads
        self.k = 8  # learned: the most choice points seen in a run so far

    def learn(self, choices: int) -> None:
        self.k = max(self.k, choices)

    def orders(self) -> list[tuple[int, ...]]:
        # Thread 0 is the scenario's main thread; 1..n are the scenario's threads.
        indexes = list(range(1, self.threads + 1))
        perms = list(itertools.permutations(indexes)) if self.threads <= 4 else []
        if not perms:
            rng = run_rng(self.seed, "orders", 0)
            perms = [tuple(indexes)]
            while len(perms) < 24:
                p = indexes[:]
                rng.shuffle(p)
                perms.append(tuple(p))
        return [(0, *p) for p in perms[:24]]

    def __iter__(self) -> Iterator[Strategy]:
        kind = self.kind
        run = 0
        if kind in ("portfolio", "orders"):
            for order in self.orders():
                if run >= self.runs:
                    return
                yield NonPreemptive(order)
                run += 1
            if kind == "orders":
                return
        cycle = {
            "portfolio": ["random", "pct:1", "random", "pct:2", "random", "pct:3"],
            "random": ["random"], "pct": ["pct:3"],
        }.get(kind)
        if cycle is None and kind.startswith("pct:"):
            cycle = [kind]
        if cycle is None:
            raise ValueError(f"unknown strategy {kind!r}: use portfolio, random, pct, pct:N, "
                             "orders or exhaustive")
        i = 0
        while run < self.runs:
            label = cycle[i % len(cycle)]
            rng = run_rng(self.seed, label, run)
            if label == "random":
                yield RandomWalk(rng)
            else:
                yield PCT(int(label.split(":")[1]), self.k, rng)
            run += 1
            i += 1
