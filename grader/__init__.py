"""grader: automated grading for concurrency exercises."""

__version__ = "0.1.0"
