"""Accept a value from the learner's code only as plain data, before comparing it.

`assert counter.value() == 6` asks the learner's object whether it equals 6: an
object whose `__eq__` always answers True would pass. `plain` checks exact
built-in types (recursively through containers) first, so every later
comparison runs the built-in types' own code.
"""

from __future__ import annotations

from typing import Any

from grader.harness.failures import CheckFailure

SCALARS = (int, float, complex, str, bytes, bool, type(None))
CONTAINERS = (list, tuple, dict, set, frozenset)


def _is_plain(value: Any, depth: int = 0) -> bool:
    kind = type(value)
    if kind in SCALARS:
        return True
    if depth > 50 or kind not in CONTAINERS:
        return False
    if kind is dict:
        return all(_is_plain(k, depth + 1) and _is_plain(v, depth + 1) for k, v in value.items())
    return all(_is_plain(item, depth + 1) for item in value)


def plain(value: Any, expected: type | tuple[type, ...] | None = None,
          what: str = "the value") -> Any:
    """`value` itself if it is plain data (of exact type `expected`, when given).

    Raises CheckFailure(kind="not-plain-data") naming `what` otherwise. bool is not accepted
    where int is expected, since True == 1 would hide a wrong answer.
    """
    kinds = expected if isinstance(expected, tuple) else ((expected,) if expected else ())
    if kinds and type(value) not in kinds:
        names = " or ".join(k.__name__ for k in kinds)
        raise CheckFailure("not-plain-data", f"{what} should be a plain {names}, but it is "
                           f"{_describe(value)}")
    if not _is_plain(value):
        raise CheckFailure("not-plain-data", f"{what} should be plain data (numbers, strings, "
                           f"lists, tuples, dicts), but it is {_describe(value)}")
    return value


def _describe(value: Any) -> str:
    kind = type(value)
    article = "an" if kind.__name__[:1].lower() in "aeiou" else "a"
    return f"{article} {kind.__name__} object"


def sorted_if_comparable(values: Any) -> list:
    """`sorted(values)`, or the values in their own order when they cannot be compared.

    A learner's result may mix types (a None among indices, a string among counts): the
    check's comparison that follows then fails with the learner's values in its message,
    instead of the check itself raising TypeError.
    """
    items = list(values)
    try:
        return sorted(items)
    except TypeError:
        return items
