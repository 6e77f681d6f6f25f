"""Tables from a bench.run report: on the terminal (rich) and as Markdown (docs/benchmarks.md).

    python -m bench.report bench/results/latest.json [--markdown]
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any


def _level(result: dict[str, Any], concurrency: int) -> dict[str, Any] | None:
    for level in result.get("levels") or []:
        if level["concurrency"] == concurrency:
            return level
    return None


def _first_level(result: dict[str, Any]) -> dict[str, Any] | None:
    levels = result.get("levels") or []
    return levels[0] if levels else None


def _chunk_level(result: dict[str, Any]) -> dict[str, Any] | None:
    """The level the per-chunk target is about: 10 concurrent sessions, else the nearest one."""
    levels = [lv for lv in result.get("levels") or [] if lv["chunk_ms"]["n"]]
    if not levels:
        return None
    return min(levels, key=lambda lv: abs(lv["concurrency"] - 10))


def _num(value: float | None, digits: int = 0) -> str:
    if value is None:
        return "-"
    return f"{value:,.{digits}f}"


def _ratio(value: float | None, base: float | None) -> str:
    if value is None or not base:
        return "-"
    return f"{value / base:.2f}x"


def _get(level: dict[str, Any] | None, metric: str, stat: str) -> float | None:
    if level is None:
        return None
    return (level.get(metric) or {}).get(stat)


def latency_rows(report: dict[str, Any]) -> tuple[list[str], list[list[str]]]:
    results = report["results"]
    floor = results.get("floor") or {}
    f1 = _first_level(floor)
    header = [
        "contender",
        "overhead/turn ms (med / p95 / p99)",
        "x floor",
        "TTFT ms (med)",
        "x floor",
        "chunk ms at c=10 (p50 / p99)",
        "CPU ms/pipeline",
        "x floor",
        "rows/turn",
        "KB/turn",
        "peak RSS MB",
        "KiB/idle session",
    ]
    rows = []
    for key, result in results.items():
        if result.get("failed"):
            rows.append([key, f"FAILED: {result['failed'][:80]}"] + [""] * (len(header) - 2))
            continue
        l1 = _first_level(result)
        lc = _chunk_level(result)
        storage = (l1 or {}).get("storage") or {}
        idle = result.get("idle") or {}
        chunk_label = "-"
        if lc is not None:
            chunk_label = f"{_num(_get(lc, 'chunk_ms', 'median'), 1)} / {_num(_get(lc, 'chunk_ms', 'p99'), 1)}"
            if lc["concurrency"] != 10:
                chunk_label += f" (c={lc['concurrency']})"
        rows.append([
            key,
            " / ".join(_num(_get(l1, "overhead_ms", s)) for s in ("median", "p95", "p99")),
            _ratio(_get(l1, "overhead_ms", "median"), _get(f1, "overhead_ms", "median")),
            _num(_get(l1, "ttft_ms", "median")),
            _ratio(_get(l1, "ttft_ms", "median"), _get(f1, "ttft_ms", "median")),
            chunk_label,
            _num((l1 or {}).get("cpu_ms_per_pipeline")),
            _ratio((l1 or {}).get("cpu_ms_per_pipeline"), (f1 or {}).get("cpu_ms_per_pipeline")),
            _num(storage.get("rows_per_turn"), 1) if storage else "0",
            _num(storage["bytes_per_turn"] / 1024, 1) if storage else "0",
            _num((result.get("peak_rss") or 0) / 2**20),
            _num(idle.get("bytes_per_session", 0) / 1024, 1) if idle else "-",
        ])
    return header, rows


def scaling_rows(report: dict[str, Any]) -> tuple[list[str], list[list[str]]]:
    results = report["results"]
    levels = report["plan"]["levels"]
    floor = results.get("floor") or {}
    header = ["contender"]
    for c in levels:
        header += [f"c={c} pipelines/min (x floor)", f"c={c} overhead med ms", f"c={c} err/lost/incomplete"]
    rows = []
    for key, result in results.items():
        if result.get("failed"):
            continue
        row = [key]
        for c in levels:
            level = _level(result, c)
            base = _level(floor, c)
            if level is None:
                row += ["-", "-", "-"]
                continue
            throughput = level.get("throughput_per_min")
            row.append(f"{_num(throughput, 1)} ({_ratio(throughput, (base or {}).get('throughput_per_min'))})")
            row.append(_num(_get(level, "overhead_ms", "median")))
            row.append(f"{level['errors']}/{level['lost_events']}/{level['incomplete']} of {level['pipelines']}")
        rows.append(row)
    return header, rows


def chunk_rows(report: dict[str, Any]) -> tuple[list[str], list[list[str]]]:
    """Chunk latency (model wrote it -> client got it) at the main speed and in the paced phase,
    and what each contender adds to the floor's in the paced phase."""
    results = report["results"]
    paced = (report["plan"].get("paced") or {})
    floor_paced = (results.get("floor") or {}).get("paced")
    speed = f"{paced.get('tps', 0):g} tok/s" if paced else "paced"
    c = paced.get("concurrency", "?")
    header = ["contender", "c=1 p50 / p99 ms", "c=10 p50 / p99 ms",
              f"c={c} at {speed}: p50 / p95 / p99 ms", "minus floor p50 / p99 ms"]
    rows = []
    for key, result in results.items():
        if result.get("failed") or not any(lv["chunk_ms"]["n"] for lv in result.get("levels") or []):
            continue
        cells = [key]
        for level in (_level(result, 1), _level(result, 10)):
            cells.append(" / ".join(_num(_get(level, "chunk_ms", s), 1) for s in ("median", "p99")))
        level = result.get("paced")
        cells.append(" / ".join(_num(_get(level, "chunk_ms", s), 1) for s in ("median", "p95", "p99")))
        if level and floor_paced and key != "floor":
            cells.append(" / ".join(
                _num((_get(level, "chunk_ms", s) or 0) - (_get(floor_paced, "chunk_ms", s) or 0), 1)
                for s in ("median", "p99")))
        else:
            cells.append("-")
        rows.append(cells)
    return header, rows


def print_tables(report: dict[str, Any]) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console(width=220)
    model = report["model"]
    title = (f"Per turn (c=1) - fake model: TTFT {model['ttft_ms']:g} ms, {model['tps']:g} tokens/s, "
             f"{model['tokens_per_chunk']} tokens/chunk")
    tables = ((title, latency_rows(report)), ("Throughput and errors by concurrent sessions", scaling_rows(report)),
              ("Chunk latency: the model wrote a chunk -> the client got it", chunk_rows(report)))
    for caption, (header, rows) in tables:
        table = Table(title=caption, show_lines=False)
        for column in header:
            table.add_column(column, overflow="fold")
        for row in rows:
            table.add_row(*row)
        console.print(table)


def markdown_table(header: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(cell.replace("|", "\\|") for cell in row) + " |" for row in rows]
    return "\n".join(lines)


def markdown(report: dict[str, Any]) -> str:
    return "\n\n".join(markdown_table(*rows(report)) for rows in (latency_rows, scaling_rows, chunk_rows)) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.report")
    parser.add_argument("path", nargs="?", default="bench/results/latest.json")
    parser.add_argument("--markdown", action="store_true")
    args = parser.parse_args(argv)
    with open(args.path) as fh:
        report = json.load(fh)
    if args.markdown:
        print(markdown(report))
    else:
        print_tables(report)
    return 0


if __name__ == "__main__":
    sys.exit(main())
