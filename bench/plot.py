"""The scaling curves of a bench.run report, as a PNG (needs matplotlib, a dev dependency).

    python -m bench.plot [bench/results/latest.json] [--out docs/benchmarks_scaling.png]
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

COLORS = {"floor": "black", "stock": "tab:orange", "ours-ws": "tab:blue", "ours-post": "tab:green"}


def _style(key: str) -> dict[str, Any]:
    kind, _, database = key.partition("/")
    return {
        "color": COLORS.get(kind, "tab:gray"),
        "linestyle": "--" if database == "postgresql" else "-",
        "marker": "s" if database == "postgresql" else "o",
        "label": key,
        "linewidth": 1.6,
        "markersize": 4,
    }


def plot(report: dict[str, Any], out: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    results = {k: v for k, v in report["results"].items() if not v.get("failed")}
    fig, axes = plt.subplots(2, 3, figsize=(16, 9.5))
    panels = [
        (axes[0][0], "Complete pipelines per minute", lambda lv: lv.get("throughput_per_min"), "pipelines / min"),
        (axes[0][1], "Turn wall time (median)", lambda lv: lv["wall_ms"]["median"] and lv["wall_ms"]["median"] / 1000, "seconds"),
        (axes[0][2], "Overhead per turn (median; wall - model)", lambda lv: lv["overhead_ms"]["median"], "ms"),
        (axes[1][0], "Server CPU per pipeline", lambda lv: lv.get("cpu_ms_per_pipeline"), "CPU ms / pipeline"),
        (axes[1][1], "Chunk latency p99 (model writes -> client reads)", lambda lv: lv["chunk_ms"]["p99"], "ms"),
    ]
    for ax, title, metric, ylabel in panels:
        for key, result in results.items():
            points = [(lv["concurrency"], metric(lv)) for lv in result.get("levels") or []]
            points = [(x, y) for x, y in points if y is not None]
            if points:
                ax.plot(*zip(*points, strict=True), **_style(key))
        ax.set_xscale("log")
        ax.set_xticks(report["plan"]["levels"])
        ax.get_xaxis().set_major_formatter(matplotlib.ticker.ScalarFormatter())
        ax.get_xaxis().set_minor_formatter(matplotlib.ticker.NullFormatter())
        ax.set_xlabel("concurrent sessions")
        ax.set_ylabel(ylabel)
        ax.set_title(title, fontsize=10)
        ax.grid(True, alpha=0.3)
    for ax in (axes[0][2], axes[1][1]):
        ax.set_yscale("log")
    ax = axes[1][2]
    for key, result in results.items():
        conversation = result.get("conversation") or {}
        values = conversation.get("overhead_ms") or []
        if values:
            ax.plot(range(1, len(values) + 1), values, **_style(key))
    ax.set_xlabel("turn in one conversation (each a full pipeline)")
    ax.set_ylabel("overhead ms (wall - model)")
    ax.set_title("Cost vs conversation length (one session, sequential turns)", fontsize=10)
    ax.grid(True, alpha=0.3)
    handles, labels = axes[0][0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="lower center", ncol=len(labels), fontsize=9, frameon=False)
    model = report["model"]
    machine = report.get("machine", {})
    fig.suptitle(
        f"Agente Films benchmark - fake model TTFT {model['ttft_ms']:g} ms, {model['tps']:g} tokens/s, "
        f"{model['tokens_per_chunk']} tokens/chunk - {machine.get('cores')} cores ({machine.get('cpu')}) - "
        f"{report.get('started', '')}",
        fontsize=11,
    )
    fig.tight_layout(rect=(0, 0.04, 1, 0.96))
    fig.savefig(out, dpi=110)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.plot")
    parser.add_argument("path", nargs="?", default="bench/results/latest.json")
    parser.add_argument("--out", default="docs/benchmarks_scaling.png")
    args = parser.parse_args(argv)
    with open(args.path) as fh:
        report = json.load(fh)
    try:
        plot(report, args.out)
    except ImportError:
        print("bench.plot needs matplotlib: add it to the dev group (uv add --dev matplotlib)", file=sys.stderr)
        return 1
    print(f"wrote {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
