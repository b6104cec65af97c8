"""The interleaving explorer: controlled scheduling of a learner's threads to find races.

Public API (see docs/explorer.md): `explore(setup, threads, ...) -> Exploration`, `Exploration`,
`ExplorationFailure`, `InfrastructureError`; `grader.explore.instrument.install(paths)` makes
learner modules explorable; `grader.explore.stress` is the real-thread second opinion.
"""

from grader.explore.explorer import Exploration, ExplorationFailure, explore
from grader.explore.runtime import InfrastructureError

__all__ = ["Exploration", "ExplorationFailure", "InfrastructureError", "explore"]
