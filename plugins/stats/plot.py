"""Bump chart of ranks across rules (matplotlib, imported lazily, Agg backend)."""

from __future__ import annotations

import io


def bump_chart(systems: list[str], ranks: list[list[int]], rules: list[str], *, fmt: str = "png",
               label_top: int = 15) -> bytes:
    """One line per system through its rank under each rule (rank 1 at the top). Systems that reach the top
    ``label_top`` under some rule are drawn in colour and labelled at both ends; the others in light grey."""
    from auditkit.errors import require

    require("matplotlib", "the bump chart (--plot, --format html)", "plot")
    import matplotlib

    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt

    n = len(systems)
    height = max(4.0, min(0.22 * n + 1.5, 30.0))
    fig, ax = plt.subplots(figsize=(2.0 + 1.6 * len(rules), height))
    x = list(range(len(rules)))
    cmap = matplotlib.colormaps["tab20"]
    c = 0
    for name, rs in zip(systems, ranks):
        top = min(rs) <= label_top
        moved = max(rs) != min(rs)
        if top:
            color = cmap(c % 20)
            c += 1
            ax.plot(x, rs, "-o", color=color, lw=2 if moved else 1.2, ms=4, zorder=3)
            ax.annotate(name[:40], (x[-1], rs[-1]), xytext=(6, 0), textcoords="offset points", va="center",
                        fontsize=7, color=color)
            ax.annotate(name[:40], (x[0], rs[0]), xytext=(-6, 0), textcoords="offset points", va="center",
                        ha="right", fontsize=7, color=color)
        else:
            ax.plot(x, rs, "-", color="0.8", lw=0.8, zorder=1)
    ax.set_xticks(x, rules)
    ax.set_ylabel("rank (competition ranking, 1 = best)")
    ax.invert_yaxis()
    ax.set_xlim(-1.5, len(rules) - 0.5 + 1.0)
    ax.set_title("Ranks across aggregation rules")
    ax.grid(axis="x", color="0.9")
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format=fmt, dpi=110)
    plt.close(fig)
    return buf.getvalue()
