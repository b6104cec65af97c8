""""Did you mean" for names a user types: exercise ids and check ids.

Owns the one sentence a usage error about an unknown name gives: what was not
found, the closest known name when one is close, and the names there are.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable


def closest(name: str, known: Iterable[str]) -> str | None:
    """The known name nearest to `name`, when one is near enough to be a typo."""
    matches = difflib.get_close_matches(name, list(known), n=1, cutoff=0.6)
    return matches[0] if matches else None


def unknown_name_sentence(what: str, name: str, known: Iterable[str]) -> str:
    """`no check named 'no-lost-update'; did you mean 'no-lost-updates'? (checks: ...)`."""
    known = list(known)
    guess = closest(name, known)
    sentence = f"no {what} named {name!r}"
    if guess:
        sentence += f"; did you mean {guess!r}?"
    return sentence + f" ({what}s: {', '.join(known) or 'none'})"
