"""Plot ``bench solver --json`` figures (issue 12): per auction, the pooled round against
``baseline``'s alone (winning score, orders settled) and ``tributary solve`` as a process
(wall seconds, peak memory of its tree), with the targets as lines (the time limit, 1 GiB).

``python -m bench.scale_plot OUT.png FIGURES.json [FIGURES.json ...]``: several files (say one
per branch, measured back to back) are drawn side by side, each file one series.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from bench.scale import MEMORY_TARGET, MIB

WEI = 10**18


def _panels(
    series: Mapping[str, Sequence[Mapping[str, Any]]],
) -> dict[str, dict[str, list[float]]]:
    """Panel title -> series label -> one value per auction (NaN where absent)."""
    nan = float("nan")
    panels: dict[str, dict[str, list[float]]] = {
        "winning score (ETH)": {},
        "orders settled by the winners": {},
        "tributary solve wall (s)": {},
        "tributary solve peak memory bound (MiB)": {},
    }
    for name, results in series.items():
        judged = [r["judgment"] or {} for r in results]
        cli = [r["cli"][-1] if r["cli"] else {} for r in results]
        score, orders, wall, memory = panels.values()
        score[f"{name}: all engines"] = [j.get("pooled_score", nan) / WEI for j in judged]
        score[f"{name}: baseline alone"] = [j.get("alone_score", nan) / WEI for j in judged]
        orders[f"{name}: all engines"] = [j.get("pooled_orders", nan) for j in judged]
        orders[f"{name}: baseline alone"] = [j.get("alone_orders", nan) for j in judged]
        wall[name] = [c.get("wall", nan) for c in cli]
        memory[name] = [c.get("peak_bound", nan) / MIB for c in cli]
    return panels


def plot(results: Sequence[Mapping[str, Any]], out: Path, name: str = "this run") -> None:
    plot_series({name: results}, out)


def plot_series(series: Mapping[str, Sequence[Mapping[str, Any]]], out: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    first = next(iter(series.values()))
    names = [r["name"] for r in first]
    fig, axes = plt.subplots(2, 2, figsize=(11, 7))
    targets = {2: first[0]["time_limit"], 3: MEMORY_TARGET / MIB} if first else {}
    for i, (ax, (title, lines)) in enumerate(zip(axes.flat, _panels(series).items(), strict=True)):
        width = 0.8 / len(lines)
        for j, (label, values) in enumerate(lines.items()):
            ax.bar([k + j * width for k in range(len(names))], values, width, label=label)
        if i in targets:
            ax.axhline(targets[i], color="red", linestyle="--", label="target")
        ax.set_xticks([k + 0.4 - width / 2 for k in range(len(names))], names, fontsize=7)
        ax.set_title(title, fontsize=9)
        ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(out, dpi=110)
    plt.close(fig)


def main(argv: Sequence[str] | None = None) -> int:
    items = list(sys.argv[1:] if argv is None else argv)
    if len(items) < 2:
        print("usage: python -m bench.scale_plot OUT.png FIGURES.json [FIGURES.json ...]")
        return 2
    out, *files = items
    plot_series({Path(f).stem: json.loads(Path(f).read_text()) for f in files}, Path(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
