"""The submission side: runs an exercise's checks inside the sandboxed child.

It imports the learner's module, runs the checks with pytest, and streams one
framed JSON record per check to the parent over the results channel. It never
imports `grading` or `report`, and trusts nothing the learner's code can touch.
"""

from grader.harness.calls import Call, call_within, cpu_seconds, thread_cpu_clock
from grader.harness.failures import CheckFailure, fail
from grader.harness.values import plain, sorted_if_comparable

__all__ = ["Call", "CheckFailure", "call_within", "cpu_seconds", "fail", "plain",
           "sorted_if_comparable", "thread_cpu_clock"]
