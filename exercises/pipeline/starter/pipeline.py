"""A pipeline of processes: one child process per stage, joined by pipes."""

import multiprocessing


def run_pipeline(stages: list, items: list) -> list:
    """Pass every item through every stage, each stage in its own process; keep the order."""
    raise NotImplementedError
