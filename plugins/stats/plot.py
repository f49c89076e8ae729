"""Bump chart of ranks across rules (matplotlib, imported lazily, Agg backend).

It scales: rank 1 at the top and the axis starting at 1; only the systems that move most are coloured and
labelled (labels pushed apart so they never overprint at ties; long names shortened); past ``SCATTER_FROM``
systems it becomes a rank-vs-rank scatter per rule (first rule on x), where movers are the points off the diagonal.
"""

from __future__ import annotations

import io

SCATTER_FROM = 40
COLOURS = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#17becf", "#8c564b", "#e377c2", "#bcbd22",
           "#7f7f7f")


def movers(ranks: list[list[int]], top: int = 10, limit: int = 16) -> list[int]:
    """Indices of the systems worth a label: the largest rank ranges first (ties: better best rank), plus those
    that reach the top ``top`` and move; at most ``limit`` + 4."""
    spans = sorted(((max(r) - min(r), -min(r), i) for i, r in enumerate(ranks) if max(r) != min(r)), reverse=True)
    picked = [i for _, _, i in spans[:limit]]
    for _, neg_best, i in spans:
        if -neg_best <= top and i not in picked and len(picked) < limit + 4:
            picked.append(i)
    return picked


def spread(ys: list[float], gap: float) -> list[float]:
    """Positions at least ``gap`` apart, in the order of ``ys``, each as close to its value as the order allows."""
    order = sorted(range(len(ys)), key=lambda i: ys[i])
    out = [0.0] * len(ys)
    last = None
    for i in order:
        out[i] = ys[i] if last is None else max(ys[i], last + gap)
        last = out[i]
    return out


def _short(name: str, n: int = 36) -> str:
    return name if len(name) <= n else name[: n - 1] + "…"


def bump_chart(systems: list[str], ranks: list[list[int]], rules: list[str], *, fmt: str = "png",
               label_top: int = 10) -> bytes:
    """The chart as PNG or SVG bytes: a bump chart up to ``SCATTER_FROM`` systems, a rank-vs-rank scatter past."""
    from auditkit.errors import require

    require("matplotlib", "the bump chart (--plot, --format html)", "plot")
    import matplotlib

    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt

    n = max((max(r) for r in ranks), default=1)
    if len(systems) > SCATTER_FROM and len(rules) > 1:
        fig = _scatter(plt, systems, ranks, rules, n)
    else:
        fig = _bump(plt, systems, ranks, rules, n, label_top)
    buf = io.BytesIO()
    fig.savefig(buf, format=fmt, dpi=110)
    plt.close(fig)
    return buf.getvalue()


def _bump(plt, systems, ranks, rules, n, label_top):
    height = max(4.0, min(0.24 * n + 1.8, 30.0))
    fig, ax = plt.subplots(figsize=(3.8 + 1.5 * len(rules), height))
    x = list(range(len(rules)))
    labelled = movers(ranks, top=label_top)
    for i, rs in enumerate(ranks):
        if i not in labelled:
            ax.plot(x, rs, "-", color="0.78", lw=0.9, zorder=1)
    ys = spread([float(ranks[i][-1]) for i in labelled], gap=max(n / 45.0, 0.75))
    order = sorted(labelled, key=lambda i: min(ranks[i]))
    colour = {i: COLOURS[k % len(COLOURS)] for k, i in enumerate(order)}
    for i, y in zip(labelled, ys):
        rs = ranks[i]
        ax.plot(x, rs, "-o", color=colour[i], lw=2.2, ms=4, zorder=3)
        ax.annotate(f"{_short(systems[i])} ({rs[0]}→{rs[-1]})", (x[-1], rs[-1]), xytext=(x[-1] + 0.12, y),
                    textcoords="data", va="center", fontsize=8, color=colour[i],
                    arrowprops={"arrowstyle": "-", "color": colour[i], "lw": 0.6})
    ax.set_xticks(x, rules)
    ax.set_ylabel("rank (competition ranking, 1 = best)")
    ax.set_ylim(n + 0.7, 0.3)  # rank 1 at the top; the axis starts at 1
    ticks = [1] + [t for t in range(5, n + 1, 5 if n <= 60 else 10)]
    ax.set_yticks(ticks)
    ax.set_xlim(-0.3, len(rules) - 1 + 1.9)
    ax.set_title(f"Ranks across aggregation rules ({len(labelled)} movers coloured)")
    ax.grid(axis="x", color="0.9")
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    fig.tight_layout()
    return fig


def _scatter(plt, systems, ranks, rules, n):
    panels = len(rules) - 1
    fig, axes = plt.subplots(1, panels, figsize=(4.2 * panels + 0.6, 4.6), squeeze=False)
    for p, ax in enumerate(axes[0]):
        xs = [r[0] for r in ranks]
        ys = [r[p + 1] for r in ranks]
        colours = ["0.75" if a == b else ("#2ca02c" if b < a else "#d62728") for a, b in zip(xs, ys)]
        ax.plot([1, n], [1, n], "--", color="0.7", lw=0.8)
        ax.scatter(xs, ys, s=12, c=colours, zorder=3)
        named = sorted(range(len(systems)), key=lambda i: -abs(ys[i] - xs[i]))[:8]
        for i in named:
            if ys[i] != xs[i]:
                ax.annotate(_short(systems[i], 24), (xs[i], ys[i]), xytext=(4, 0), textcoords="offset points",
                            fontsize=7, va="center")
        ax.set_xlim(0.5, n + 0.5)
        ax.set_ylim(n + 0.5, 0.5)
        ax.set_xlabel(f"rank under {rules[0]}")
        ax.set_ylabel(f"rank under {rules[p + 1]}")
    fig.suptitle(f"Ranks across rules: {len(systems)} systems (green: better under the rule, red: worse)")
    fig.tight_layout()
    return fig
