"""`python -m grader.harness`: the sandboxed child's entry point (see grader.harness.runner)."""

from grader.harness.runner import entry

entry()
