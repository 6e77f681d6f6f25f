"""JSON from clients, read strictly: one reader for REST bodies (api/guards/json_body.py) and socket
frames (api/routes/ws.py).

Python's json module accepts what JSON does not: NaN, Infinity and -Infinity (and 1e400, which
becomes infinity); stored, they break PostgreSQL's JSON columns and every later read. It also
recurses once per level, so ~1,000 nested brackets raise RecursionError instead of a decode
error. Both are refused here, before any route or model sees the value.
"""

from __future__ import annotations

import json
import math
from typing import Any

# Far more than any of our shapes needs (an AG-UI input is under ten levels deep), far less than
# what exhausts the interpreter's recursion in the json module, pydantic or the database drivers.
MAX_DEPTH = 64


class BadJson(ValueError):
    """Why a client's JSON was refused, in words a person can act on (never an echo of it)."""


def _no_constant(name: str) -> Any:
    raise BadJson(f"{name} is not a JSON number; send a finite number or null")


def _finite(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise BadJson("a number is too large to be finite; send a finite number or null")
    return value


def loads(data: str | bytes) -> Any:
    """The value of `data`, or BadJson: not JSON, a non-finite number, or nested too deeply."""
    try:
        value = json.loads(data, parse_constant=_no_constant, parse_float=_finite)
    except BadJson:
        raise
    except RecursionError:
        raise BadJson(f"it is nested more than {MAX_DEPTH} levels deep") from None
    except UnicodeDecodeError:
        raise BadJson("it is not UTF-8 text") from None
    except json.JSONDecodeError as exc:
        raise BadJson(f"it is not valid JSON ({exc.msg} at line {exc.lineno}, column {exc.colno})") from None
    except ValueError:  # an integer of more than 4,300 digits
        raise BadJson("a number is too long") from None
    if _depth(value) > MAX_DEPTH:
        raise BadJson(f"it is nested more than {MAX_DEPTH} levels deep")
    return value


def _depth(value: Any) -> int:
    """How deeply `value` nests lists and objects (a scalar is 0), without recursing."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        item, level = stack.pop()
        children = item.values() if isinstance(item, dict) else item if isinstance(item, list) else None
        if children is None:
            continue
        deepest = max(deepest, level)
        if level <= MAX_DEPTH:  # past it the answer is known: stop walking
            stack.extend((child, level + 1) for child in children)
    return deepest
