"""A forest plot of ratings and intervals as inline SVG (no script, no CDN), and the HTML page that carries it."""

from __future__ import annotations

import html

import numpy as np

TIER_COLOURS = ("#d62728", "#1f77b4", "#2ca02c", "#ff7f0e", "#9467bd", "#17becf", "#e377c2", "#8c564b")


def forest_svg(models, ratings, lower, upper, tiers=None, *, limit: int = 60, title: str = "") -> str:
    order = np.argsort(-np.asarray(ratings), kind="stable")[:limit]
    row, left, right, top = 18, 260, 40, 40
    width = 900
    height = top + row * len(order) + 40
    lo = float(np.min(np.asarray(lower)[order]))
    hi = float(np.max(np.asarray(upper)[order]))
    pad = (hi - lo) * 0.05 or 1.0
    lo, hi = lo - pad, hi + pad
    span = width - left - right

    def x(v):
        return left + (float(v) - lo) / (hi - lo) * span

    parts = [f"<svg xmlns='http://www.w3.org/2000/svg' class='forest-plot' width='{width}' height='{height}' "
             f"viewBox='0 0 {width} {height}' role='img' aria-label='forest plot of ratings'>",
             "<rect width='100%' height='100%' fill='white'/>"]
    if title:
        parts.append(f"<text x='{left}' y='20' font-size='14' font-family='sans-serif'>{html.escape(title)}</text>")
    step = _nice_step(hi - lo)
    tick = np.ceil(lo / step) * step
    while tick <= hi:
        parts.append(f"<line x1='{x(tick):.1f}' y1='{top - 8}' x2='{x(tick):.1f}' y2='{height - 30}' "
                     "stroke='#ddd' stroke-width='1'/>")
        parts.append(f"<text x='{x(tick):.1f}' y='{height - 12}' font-size='11' text-anchor='middle' "
                     f"font-family='sans-serif'>{tick:g}</text>")
        tick += step
    for r, k in enumerate(order):
        y = top + r * row + row / 2
        colour = TIER_COLOURS[(int(tiers[k]) - 1) % len(TIER_COLOURS)] if tiers is not None else TIER_COLOURS[1]
        name = html.escape(str(models[k]))
        parts.append(f"<text x='{left - 8}' y='{y + 4:.1f}' font-size='12' text-anchor='end' "
                     f"font-family='sans-serif'>{name}</text>")
        parts.append(f"<line class='ci' x1='{x(lower[k]):.1f}' y1='{y:.1f}' x2='{x(upper[k]):.1f}' y2='{y:.1f}' "
                     f"stroke='{colour}' stroke-width='4'/>")
        parts.append(f"<circle class='rating' cx='{x(ratings[k]):.1f}' cy='{y:.1f}' r='5' fill='{colour}'>"
                     f"<title>{name}: {ratings[k]:.1f} [{lower[k]:.1f}, {upper[k]:.1f}]</title></circle>")
    parts.append("</svg>")
    return "".join(parts)


def _nice_step(span: float) -> float:
    raw = span / 8
    mag = 10 ** np.floor(np.log10(raw))
    for m in (1, 2, 5, 10):
        if raw <= m * mag:
            return float(m * mag)
    return float(10 * mag)


def html_with_forest(report, svg: str, caption: str) -> str:
    page = report.render("html")
    figure = f"<figure class='forest'>{svg}<figcaption>{html.escape(caption)}</figcaption></figure>"
    return page.replace("</h1>", "</h1>" + figure, 1)
