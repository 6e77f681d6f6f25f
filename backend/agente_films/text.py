"""Whether a person's text can be stored as it is: one check for messages, notes, edits and titles."""

from __future__ import annotations

import re

# Control characters (NUL above all, which PostgreSQL refuses in text); newlines and tabs are text.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def plain_text_problem(text: str) -> str | None:
    """What is wrong with `text` for storage, in words, or None. A lone surrogate (JSON allows
    "\\ud800") cannot be encoded as UTF-8: stored, it would break every later read of the row."""
    if _CONTROL.search(text):
        return "contains control characters; send plain text"
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return "contains an unpaired surrogate (not valid Unicode text)"
    return None
