"""Run a function in a child process and bring its result back."""

import multiprocessing  # noqa: F401


def run_in_child(fn, arg):
    raise NotImplementedError
