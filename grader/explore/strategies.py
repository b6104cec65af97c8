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

from grader.explore.runtime import ALL, ManagedThread, Strategy, runnable


class NonPreemptive(Strategy):
    """Never preempts; when the current thread cannot go on, the first enabled in `order`."""

    name = "orders"

    def __init__(self, order: tuple[int, ...] = ()) -> None:
        self.rank = {index: i for i, index in enumerate(order)}

    def pick(self, enabled: list[ManagedThread], current: ManagedThread, choice: int
             ) -> ManagedThread:
        enabled = runnable(enabled)
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


class WriteBiased(Strategy):
    """A random walk that switches where a lost update happens: rarely at an ordinary point
    (the other threads stay where they are, as in a long run on one CPU), often at a store's
    point, where the running thread has computed a value from what it read and not yet
    written it. A thread that reorganises shared state (a log compacted, a table resized)
    after a read is then overtaken by another thread that was waiting just before its own
    access, the window that a uniform walk, which moves every thread all the time, hits only
    about once in thirty tries."""

    name = "writes"
    AT_STORE = 0.75  # chance to switch at a store's point
    ELSEWHERE = 0.125  # chance to switch at any other point

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng

    def pick(self, enabled: list[ManagedThread], current: ManagedThread, choice: int
             ) -> ManagedThread:
        others = [t for t in enabled if t is not current]
        if current not in enabled or not others:
            return enabled[self.rng.randrange(len(enabled))]
        chance = self.AT_STORE if current.sched.storing else self.ELSEWHERE
        if self.rng.random() < chance:
            return others[self.rng.randrange(len(others))]
        return current


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
        enabled = runnable(enabled)  # timeouts are the random walk's and the bounded search's
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
        enabled = runnable(enabled)
        return current if current in enabled else enabled[0]


Footprint = dict  # (object number, attribute) -> written; ALL: anything


def independent(entry: tuple[Footprint, int], footprint: Footprint) -> bool:
    """Whether a sleeping step (its footprint, numbered as of its node's object counter
    `base`) commutes with a step that ran since. An object first touched at or after that
    node may have another number in this run, so such objects all count as one."""
    sleeping, base = entry
    if ALL in sleeping or ALL in footprint:
        return False
    fresh = any(key[0] >= base for key in sleeping)
    for key, written in footprint.items():
        if key[0] >= base:
            if fresh:
                return False
            continue
        other = sleeping.get(key)
        if other is not None and (written or other):
            return False
    return True


class Node:
    """A choice point of the bounded search, as the current branch passes it."""

    __slots__ = ("options", "default", "chosen", "preemptions", "base", "sleep", "done",
                 "footprint", "forced")

    def __init__(self, options: list[int], default: int, chosen: int, preemptions: int,
                 base: int, sleep: dict[int, tuple[Footprint, int]]) -> None:
        self.options = options
        self.default = default
        self.chosen = chosen
        self.preemptions = preemptions  # choices off the default before this node
        self.base = base
        self.sleep = sleep  # threads whose step here is known to lead nowhere new
        self.done: dict[int, tuple[Footprint, int]] = {}  # explored children, with footprints
        self.footprint: Footprint | None = None  # of the chosen child's step
        self.forced = False  # chosen by a rule (the spin rule, the fair retry), not searched

    def child_sleep(self, footprint: Footprint) -> dict[int, tuple[Footprint, int]]:
        out = {}
        for source in (self.sleep, self.done):
            for t, entry in source.items():
                if t != self.chosen and independent(entry, footprint):
                    out[t] = entry
        return out


class Bounded(Strategy):
    """One schedule of the bounded search: follow the branch, then the default policy,
    stepping round threads in the sleep set (while the preemption bound allows)."""

    name = "bounded"

    def __init__(self, path: list[Node], bound: int, reduce: bool = True) -> None:
        self.path = path
        self.bound = bound
        self.reduce = reduce  # sleep sets; off when an `always` check watches every state
        self.fixed = len(path)  # nodes up to here were chosen by the search
        self.diverged = False  # the program did not repeat itself along the branch

    def pick(self, enabled: list[ManagedThread], current: ManagedThread, choice: int
             ) -> ManagedThread:
        sched = enabled[0].sched
        k = choice - 1
        pad(self.path, sched.log, sched.bases, sched.footprints, k)
        if k >= 1 and self.path[k - 1].footprint is None:
            self.path[k - 1].footprint = sched.footprints[k - 1]
        normal = runnable(enabled)
        default = current if current in normal else normal[0]
        if k < self.fixed:
            node = self.path[k]
            for t in enabled:
                if t.index == node.chosen:
                    return t
            self.diverged = True  # the program did not repeat itself: the search goes on blindly
            return default
        parent = self.path[k - 1] if k >= 1 else None
        if parent is not None:
            assert parent.footprint is not None
            sleep = parent.child_sleep(parent.footprint) if self.reduce else {}
            preemptions = parent.preemptions + (parent.chosen != parent.default)
        else:
            sleep, preemptions = {}, 0
        chosen = default
        if default.index in sleep and preemptions < self.bound:
            for t in enabled:
                if t.index not in sleep:
                    chosen = t
                    break
        self.path.append(Node([t.index for t in enabled], default.index, chosen.index,
                              preemptions, sched.bases[k], sleep))
        return chosen


def pad(path: list[Node], log: list[tuple[int, int]], bases: list[int],
        footprints: list[Footprint], upto: int) -> None:
    """Nodes for choices no strategy made (the spin rule, the fair retry), up to `upto`:
    fixed, with nothing to explore and nothing asleep after them."""
    while len(path) < upto and len(path) < len(log):
        j = len(path)
        chosen, default = log[j]
        before = path[-1].preemptions + (path[-1].chosen != path[-1].default) if path else 0
        node = Node([chosen], default, chosen, before, bases[j] if j < len(bases) else 0, {})
        node.footprint = {ALL: True}
        node.forced = True
        path.append(node)


class Search:
    """Whether a bounded search left anything out: an option the preemption bound skipped,
    a choice a rule forced, a branch the program did not repeat. When nothing was left out,
    the search ran every schedule up to the sleep sets, which skip only orders of steps whose
    footprints commute (an access through a local alias is not in a footprint, so the random
    portfolio still runs after an exhaustive search)."""

    __slots__ = ("cut",)

    def __init__(self) -> None:
        self.cut = False


def next_branch(path: list[Node], bound: int, search: Search | None = None) -> bool:
    """Backtrack `path` to its deepest node with an option left to explore; False: done.
    `search` learns whether the bound (or a forced choice) left a schedule out."""
    while path:
        node = path[-1]
        if node.footprint is not None:
            node.done[node.chosen] = (node.footprint, node.base)
        if node.forced and search is not None:
            search.cut = True
        allowed = node.preemptions < bound
        for t in node.options:
            if t in node.done or t in node.sleep or t == node.chosen:
                continue
            if t != node.default and not allowed:
                if search is not None:
                    search.cut = True
                continue
            node.chosen = t
            node.footprint = None
            return True
        path.pop()
    return False


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
            "random": ["random"], "pct": ["pct:3"], "writes": ["writes"],
        }.get(kind)
        if cycle is None and kind.startswith("pct:"):
            cycle = [kind]
        if cycle is None:
            raise ValueError(f"unknown strategy {kind!r}: use portfolio, random, writes, pct, "
                             "pct:N, orders or exhaustive")
        i = 0
        while run < self.runs:
            label = cycle[i % len(cycle)]
            rng = run_rng(self.seed, label, run)
            if label == "random":
                yield RandomWalk(rng)
            elif label == "writes":
                yield WriteBiased(rng)
            else:
                yield PCT(int(label.split(":")[1]), self.k, rng)
            run += 1
            i += 1
