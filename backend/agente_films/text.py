"""Whether a person's text can be stored as it is: one check for messages, notes, edits and titles."""

from __future__ import annotations

import re
from typing import Annotated, Any

from pydantic import AfterValidator, StringConstraints

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


def _plain(text: str) -> str:
    problem = plain_text_problem(text)
    if problem:
        raise ValueError(f"The text {problem}")
    return text


def plain_text(max_length: int, min_length: int | None = None) -> Any:
    """A request field that is stored, or becomes part of what is stored: a str of that length
    that plain_text_problem accepts, else a 422 that says why (NUL makes PostgreSQL refuse the
    row; a lone surrogate breaks every later read of it). The length is checked first, so a
    long value is refused before it is scanned and with pydantic's usual message."""
    return Annotated[str, StringConstraints(min_length=min_length, max_length=max_length), AfterValidator(_plain)]
