"""Small measuring helpers: percentiles, /proc readings."""

from __future__ import annotations

import math
import os
from collections.abc import Iterable
from typing import Any


def percentile(values: list[float], q: float) -> float | None:
    """Nearest-rank percentile (q in 0..100); None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, math.ceil(q / 100 * len(ordered)))
    return ordered[min(rank, len(ordered)) - 1]


def dist(values: Iterable[float | None]) -> dict[str, Any]:
    data = [float(v) for v in values if v is not None]
    if not data:
        return {"n": 0, "median": None, "p95": None, "p99": None, "mean": None, "max": None}
    return {
        "n": len(data),
        "median": percentile(data, 50),
        "p95": percentile(data, 95),
        "p99": percentile(data, 99),
        "mean": sum(data) / len(data),
        "max": max(data),
    }


def _status(pid: int) -> dict[str, int]:
    out: dict[str, int] = {}
    try:
        with open(f"/proc/{pid}/status") as fh:
            for line in fh:
                key, _, value = line.partition(":")
                if key in ("VmRSS", "VmHWM"):
                    out[key] = int(value.split()[0]) * 1024
    except OSError:
        pass
    return out


def rss_bytes(pid: int) -> int | None:
    return _status(pid).get("VmRSS")


def peak_rss_bytes(pid: int) -> int | None:
    return _status(pid).get("VmHWM")


_TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def cpu_seconds(pid: int) -> float | None:
    """User + system CPU time of a process (not its children)."""
    try:
        with open(f"/proc/{pid}/stat") as fh:
            fields = fh.read().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / _TICKS


def loadavg() -> list[float]:
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except OSError:
        return []
