"""Learner-controlled text made safe to show: control characters made visible.

What a submission prints, names or raises reaches every format. Terminals would
obey its escape sequences, XML 1.0 refuses most control characters outright,
and browsers show them as nothing. Every renderer passes such text through
`visible_controls`, so `\\x1b[31m` is shown as those characters, not obeyed.
Markup escaping is a separate matter, left to each format (Jinja2 autoescape,
ElementTree).
"""

from __future__ import annotations

import re

# C0 controls except tab and newline, DEL, C1 controls, and the two XML non-characters.
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\ufffe\uffff]")


def visible_controls(text: str) -> str:
    """`text` with each control character replaced by its `\\xNN` spelling.

    Tab and newline are kept, and a Windows line end (CR LF) becomes a newline;
    a lone carriage return, which would let a line overwrite itself, is spelled out.
    """
    return _CONTROL.sub(_spell, text.replace("\r\n", "\n"))


def _spell(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"
