"""Charts as inline SVG (no matplotlib, no JavaScript): forest plots of estimates with intervals, and a bump chart
of ranks across rules that scales (only movers labelled, labels pushed apart; past ``SCATTER_FROM`` systems a
rank-vs-rank scatter per rule instead). Rank axes start at 1 at the top."""

from __future__ import annotations

import html
import math
from typing import Sequence

PALETTE = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#17becf", "#8c564b", "#e377c2", "#bcbd22",
           "#7f7f7f")
SCATTER_FROM = 40
FONT = "font-family='system-ui,sans-serif'"


def _esc(s) -> str:
    return html.escape(str(s), quote=True)


def _short(name: str, n: int) -> str:
    return name if len(name) <= n else name[: n - 1] + "…"


def _ticks(lo: float, hi: float, n: int = 6) -> list[float]:
    span = hi - lo if hi > lo else 1.0
    raw = span / n
    mag = 10 ** math.floor(math.log10(raw))
    step = next(m * mag for m in (1, 2, 2.5, 5, 10) if m * mag >= raw)
    start = math.ceil(lo / step) * step
    return [start + k * step for k in range(int((hi - start) / step) + 1)]


def _rank_ticks(n: int) -> list[int]:
    step = next(s for s in (1, 2, 5, 10, 20, 25, 50, 100, 200, 500, 1000) if n / s <= 12)
    return [1] + [t for t in range(step, n + 1, step) if t != 1]


def forest_svg(labels: Sequence[str], est: Sequence[float], lo: Sequence[float], hi: Sequence[float], *,
               title: str = "", xlabel: str = "", lower_is_better: bool = False, limit: int = 60) -> str:
    """One row per label, best first: a dot at the estimate and a bar over [lo, hi]. Rows past ``limit`` are left
    out (the caption says how many)."""
    rows = [(str(a), float(b), float(c), float(d)) for a, b, c, d in zip(labels, est, lo, hi)
            if all(isinstance(x, (int, float)) and math.isfinite(x) for x in (b, c, d))]
    rows.sort(key=lambda r: r[1], reverse=not lower_is_better)
    shown = rows[:limit]
    if not shown:
        return ""
    label_w = min(max(len(r[0]) for r in shown) * 6.6 + 16, 300)
    plot_w, row_h, top = 560, 16, 34
    width, height = label_w + plot_w + 30, top + row_h * len(shown) + 40
    vmin = min(r[2] for r in shown)
    vmax = max(r[3] for r in shown)
    if lower_is_better:  # ranks: the axis starts at 1
        vmin = 1 if vmin >= 1 else vmin
    pad = (vmax - vmin) * 0.03 or 0.5
    a, b = (vmin if lower_is_better else vmin - pad), vmax + pad

    def x(v):
        return label_w + (v - a) / (b - a) * plot_w

    out = [f"<svg class='ak-forest' xmlns='http://www.w3.org/2000/svg' width='{width:.0f}' height='{height:.0f}' "
           f"viewBox='0 0 {width:.0f} {height:.0f}' role='img' aria-label='{_esc(title)}' {FONT} font-size='11'>",
           f"<text x='{label_w}' y='16' font-size='13' font-weight='600'>{_esc(title)}</text>"]
    ticks = _rank_ticks(int(math.ceil(b))) if lower_is_better else _ticks(a, b)
    for t in ticks:
        if a <= t <= b:
            out.append(f"<line x1='{x(t):.1f}' x2='{x(t):.1f}' y1='{top - 6}' y2='{height - 34}' stroke='#e4e4e4'/>"
                       f"<text x='{x(t):.1f}' y='{height - 20}' text-anchor='middle' fill='#444'>"
                       f"{t:g}</text>")
    if xlabel:
        out.append(f"<text x='{label_w + plot_w / 2}' y='{height - 4}' text-anchor='middle' fill='#222'>"
                   f"{_esc(xlabel)}</text>")
    for k, (name, e, l, h) in enumerate(shown):
        y = top + k * row_h + row_h / 2
        out.append(f"<g class='ak-forest-row'><title>{_esc(name)}: {e:g} [{l:g}, {h:g}]</title>"
                   f"<text x='{label_w - 8}' y='{y + 4:.1f}' text-anchor='end' fill='#222'>"
                   f"{_esc(name[:45])}</text>"
                   f"<line x1='{x(l):.1f}' x2='{x(h):.1f}' y1='{y:.1f}' y2='{y:.1f}' stroke='#1f77b4' "
                   f"stroke-width='2.2'/><circle cx='{x(e):.1f}' cy='{y:.1f}' r='3.6' fill='#0b3d91'/></g>")
    if len(rows) > len(shown):
        out.append(f"<text x='{label_w}' y='{height - 34 + 12}' fill='#666'>{len(rows) - len(shown)} more not "
                   "shown (see the table)</text>")
    out.append("</svg>")
    return "".join(out)


def _spread(ys: list[float], gap: float, lo: float, hi: float) -> list[float]:
    """Label positions at least ``gap`` apart, as close to ``ys`` as the order allows (labels never overprint)."""
    order = sorted(range(len(ys)), key=lambda i: ys[i])
    placed = [0.0] * len(ys)
    last = lo - gap
    for i in order:
        placed[i] = max(ys[i], last + gap)
        last = placed[i]
    over = last - hi
    if over > 0:  # pushed past the bottom: shift up what must move
        nxt = hi + gap
        for i in reversed(order):
            placed[i] = min(placed[i], nxt - gap)
            nxt = placed[i]
    return placed


def movers(ranks: Sequence[Sequence[int]], top: int = 10, limit: int = 16) -> list[int]:
    """Systems worth a label: those whose rank changes most across rules (ties broken by best rank), plus the
    ones that reach the top ``top`` and move; at most ``limit``."""
    spans = [(max(r) - min(r), -min(r), i) for i, r in enumerate(ranks)]
    moved = [s for s in spans if s[0] > 0]
    moved.sort(reverse=True)
    picked = [i for _, _, i in moved[:limit]]
    for span, neg_best, i in moved:
        if -neg_best <= top and i not in picked and len(picked) < limit + 4:
            picked.append(i)
    return picked


def bump_svg(systems: Sequence[str], ranks: Sequence[Sequence[int]], rules: Sequence[str], *,
             title: str = "Ranks across rules") -> str:
    """A bump chart (n <= SCATTER_FROM) or rank-vs-rank scatter plots (larger n) as one SVG."""
    if not systems or not rules:
        return ""
    if len(systems) > SCATTER_FROM and len(rules) > 1:
        return scatter_svg(systems, ranks, rules, title=title)
    n = max(max(r) for r in ranks)
    col_w, top, row_h = 150, 40, max(12.0, min(20.0, 560 / max(n, 1)))
    label_w = 320
    width = 60 + col_w * (len(rules) - 1) + label_w + 20
    height = top + row_h * (n - 1) + 50

    def x(j):
        return 60 + j * col_w

    def y(r):
        return top + (r - 1) * row_h

    labelled = set(movers(ranks))
    out = [f"<svg class='ak-bump' xmlns='http://www.w3.org/2000/svg' width='{width:.0f}' height='{height:.0f}' "
           f"viewBox='0 0 {width:.0f} {height:.0f}' role='img' aria-label='{_esc(title)}' {FONT} font-size='11'>",
           f"<text x='60' y='16' font-size='13' font-weight='600'>{_esc(title)}</text>"]
    for j, rule in enumerate(rules):
        out.append(f"<line x1='{x(j)}' x2='{x(j)}' y1='{top - 8}' y2='{y(n) + 8}' stroke='#e8e8e8'/>"
                   f"<text x='{x(j)}' y='{y(n) + 26}' text-anchor='middle' fill='#222'>{_esc(rule)}</text>")
    for t in _rank_ticks(n):
        out.append(f"<text x='30' y='{y(t) + 4:.1f}' text-anchor='end' fill='#555'>{t}</text>")
    out.append(f"<text x='12' y='{top - 14}' fill='#555'>rank</text>")
    colour = {}
    for k, i in enumerate(sorted(labelled, key=lambda i: min(ranks[i]))):
        colour[i] = PALETTE[k % len(PALETTE)]
    for i, rs in enumerate(ranks):  # grey first, coloured on top
        if i in colour:
            continue
        pts = " ".join(f"{x(j)},{y(r):.1f}" for j, r in enumerate(rs))
        out.append(f"<polyline points='{pts}' fill='none' stroke='#c8c8c8' stroke-width='1'>"
                   f"<title>{_esc(systems[i])}</title></polyline>")
    for i in colour:
        pts = " ".join(f"{x(j)},{y(r):.1f}" for j, r in enumerate(ranks[i]))
        out.append(f"<polyline class='ak-mover' points='{pts}' fill='none' stroke='{colour[i]}' stroke-width='2.4'>"
                   f"<title>{_esc(systems[i])}: {', '.join(map(str, ranks[i]))}</title></polyline>")
        out += [f"<circle cx='{x(j)}' cy='{y(r):.1f}' r='3' fill='{colour[i]}'/>" for j, r in enumerate(ranks[i])]
    ids = list(colour)
    ys = _spread([y(ranks[i][-1]) for i in ids], 12.0, top - 4, y(n) + 4)
    for i, ly in zip(ids, ys):
        last = y(ranks[i][-1])
        out.append(f"<line x1='{x(len(rules) - 1) + 4}' x2='{x(len(rules) - 1) + 14}' y1='{last:.1f}' "
                   f"y2='{ly:.1f}' stroke='{colour[i]}' stroke-width='0.8'/>"
                   f"<text class='ak-label' x='{x(len(rules) - 1) + 17}' y='{ly + 4:.1f}' fill='{colour[i]}'>"
                   f"{_esc(_short(systems[i], 36))} ({ranks[i][0]}→{ranks[i][-1]})</text>")
    out.append(f"<text x='60' y='{height - 4}' fill='#666'>coloured and labelled: the {len(ids)} system(s) that "
               "move most; grey: the others (hover for names)</text></svg>")
    return "".join(out)


def scatter_svg(systems: Sequence[str], ranks: Sequence[Sequence[int]], rules: Sequence[str], *,
                title: str = "Ranks across rules") -> str:
    """Rank under the first rule (x) against the rank under each other rule (y), one panel per rule; points off
    the diagonal are the movers, the largest ones labelled."""
    n = max(max(r) for r in ranks)
    size, gap, top = 260, 70, 52
    panels = len(rules) - 1
    width, height = 50 + panels * (size + gap), top + size + 60

    out = [f"<svg class='ak-bump ak-scatter' xmlns='http://www.w3.org/2000/svg' width='{width}' height='{height}' "
           f"viewBox='0 0 {width} {height}' role='img' aria-label='{_esc(title)}' {FONT} font-size='11'>",
           f"<text x='50' y='14' font-size='13' font-weight='600'>{_esc(title)}</text>"
           f"<text x='50' y='28' fill='#555'>{len(systems)} systems: the rank under {_esc(rules[0])} (x) against "
           "the rank under each other rule (y)</text>"]
    for p in range(panels):
        ox = 50 + p * (size + gap)

        def sx(r):
            return ox + (r - 1) / max(n - 1, 1) * size

        def sy(r):
            return top + (r - 1) / max(n - 1, 1) * size
        out.append(f"<rect x='{ox}' y='{top}' width='{size}' height='{size}' fill='none' stroke='#ccc'/>"
                   f"<line x1='{sx(1)}' y1='{sy(1)}' x2='{sx(n)}' y2='{sy(n)}' stroke='#bbb' stroke-dasharray='4 3'/>")
        for t in _rank_ticks(n):
            out.append(f"<text x='{sx(t):.1f}' y='{top + size + 14}' text-anchor='middle' fill='#555'>{t}</text>"
                       f"<text x='{ox - 6}' y='{sy(t) + 4:.1f}' text-anchor='end' fill='#555'>{t}</text>")
        out.append(f"<text x='{ox + size / 2}' y='{top + size + 30}' text-anchor='middle'>{_esc(rules[0])} rank"
                   f"</text><text x='{ox + size / 2}' y='{top - 6}' text-anchor='middle'>{_esc(rules[p + 1])} rank"
                   "</text>")
        moves = sorted(range(len(systems)), key=lambda i: -abs(ranks[i][p + 1] - ranks[i][0]))
        named = [i for i in moves[:8] if ranks[i][p + 1] != ranks[i][0]]
        for i, rs in enumerate(ranks):
            d = rs[p + 1] - rs[0]
            fill = "#c8c8c8" if d == 0 else ("#2ca02c" if d < 0 else "#d62728")
            out.append(f"<circle cx='{sx(rs[0]):.1f}' cy='{sy(rs[p + 1]):.1f}' r='3' fill='{fill}'>"
                       f"<title>{_esc(systems[i])}: {rs[0]} → {rs[p + 1]}</title></circle>")
        ys = _spread([sy(ranks[i][p + 1]) for i in named], 12.0, top + 8, top + size - 4)
        for i, ly in zip(named, ys):
            px = sx(ranks[i][0])
            left = px > ox + size / 2  # labels point inwards so they stay inside the panel
            out.append(f"<text class='ak-label' x='{px + (-6 if left else 6):.1f}' y='{ly + 4:.1f}' fill='#333' "
                       f"text-anchor='{'end' if left else 'start'}'>{_esc(systems[i][:24])}</text>")
    out.append(f"<text x='50' y='{height - 4}' fill='#666'>green: better rank under that rule, red: worse, grey: "
               "the same; the 8 largest moves per panel are named</text></svg>")
    return "".join(out)
