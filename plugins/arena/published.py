"""A published ratings table recomputed from the battles, each mismatch explained (check ``arena.published``).

The table (CSV/TSV) has a model column and a rating column (auto-detected names: model/name, rating/elo/score/
arena score), and optionally an interval: ``lower``/``upper`` columns or a ``ci`` column like ``+4/-3`` or ``±4``.
The recomputed ratings (Bradley-Terry, ties as half) are aligned to the table by one constant shift (the median
difference: a different anchor or offset moves every rating equally), reported once. Then each model is:

- reproduced within the table's rounding (``published_tolerance``, default 0.5 points): not reported;
- reproduced by a variant (ties dropped, Davidson, online Elo, style control): warning naming the variant;
- inside the published interval or ours: info (sampling noise, a different bootstrap);
- otherwise: error, unexplained, with the gap in points and in standard errors.
Models on one side only are listed too.
"""

from __future__ import annotations

import csv
import io
import re

import numpy as np

import auditkit
from auditkit import Finding

MODEL_NAMES = ("model", "name", "system", "key")
RATING_NAMES = ("rating", "elo", "arena score", "arena elo", "score")


def read_published(path: str) -> list[dict]:
    try:
        with open(path, encoding="utf-8") as fh:
            text = fh.read()
    except OSError as exc:
        raise auditkit.InputError(f"{path}: cannot read the published table: {exc}") from None
    dialect = "excel-tab" if path.lower().endswith(".tsv") else "excel"
    reader = csv.DictReader(io.StringIO(text), dialect=dialect)
    fields = {f.strip().lower(): f for f in (reader.fieldnames or [])}
    mcol = next((fields[n] for n in MODEL_NAMES if n in fields), None)
    rcol = next((fields[n] for n in RATING_NAMES if n in fields), None)
    if mcol is None or rcol is None:
        raise auditkit.ParseError(f"needs a model column ({'/'.join(MODEL_NAMES)}) and a rating column "
                                  f"({'/'.join(RATING_NAMES)}); the header has: {', '.join(reader.fieldnames or [])}",
                                  source=path, line=1)
    lo_col, hi_col, ci_col = fields.get("lower"), fields.get("upper"), fields.get("ci") or fields.get("95% ci")
    rows = []
    for line, rec in enumerate(reader, 2):
        name = (rec.get(mcol) or "").strip()
        if not name:
            raise auditkit.ParseError("empty model name", source=path, line=line, column=mcol, value=rec.get(mcol))
        value = _number(rec.get(rcol), path, line, rcol)
        row = {"model": name, "rating": value, "line": line}
        if lo_col and hi_col:
            row["lower"] = _number(rec.get(lo_col), path, line, lo_col)
            row["upper"] = _number(rec.get(hi_col), path, line, hi_col)
        elif ci_col and (rec.get(ci_col) or "").strip():
            plus, minus = _ci(rec[ci_col], path, line, ci_col)
            row["lower"], row["upper"] = value - minus, value + plus
        rows.append(row)
    if not rows:
        raise auditkit.InputError(f"{path}: the published table has no rows")
    return rows


def _number(text, path, line, column):
    try:
        v = float(str(text).strip())
    except (TypeError, ValueError):
        raise auditkit.ParseError("expected a number", source=path, line=line, column=column, value=text) from None
    if not np.isfinite(v):
        raise auditkit.ParseError("expected a finite number", source=path, line=line, column=column, value=text)
    return v


def _ci(text, path, line, column):
    t = str(text).strip().replace("±", "+/-")
    m = re.fullmatch(r"\+/-\s*([0-9.]+)", t)
    if m:
        return float(m.group(1)), float(m.group(1))
    m = re.fullmatch(r"\+\s*([0-9.]+)\s*/\s*-\s*([0-9.]+)", t)
    if m:
        return float(m.group(1)), float(m.group(2))
    raise auditkit.ParseError("interval must look like +4/-3 or ±4", source=path, line=line, column=column,
                              value=text)


def _aligned(fit, names):
    index = {m: q for q, m in enumerate(fit.models)}
    return np.array([fit.ratings[index[n]] for n in names])


def compare_published(ctx):
    from .bt import fit_bt

    rows = ctx.published
    tol = float(ctx.opt("published_tolerance")) + 1e-9
    fit = ctx.fit
    have = set(fit.models)
    common = [r for r in rows if r["model"] in have]
    missing = [r["model"] for r in rows if r["model"] not in have]
    for name in missing:
        yield Finding("arena.published", "warning",
                      f"{name!r} is in the published table but has no battles here: the table rests on other data "
                      "(a later snapshot, or a renamed model)", system=name)
    if not common:
        return
    names = [r["model"] for r in common]
    pub = np.array([r["rating"] for r in common])
    ours = _aligned(fit, names)
    shift = float(np.median(pub - ours))
    if abs(shift) > tol:
        yield Finding("arena.published", "info",
                      f"the published ratings sit {shift:+.1f} points from the recomputed ones on average: a "
                      "different anchor or offset (a constant shift leaves the Bradley-Terry fit unchanged); "
                      "compared after removing it", evidence={"shift": shift})
    ours = ours + shift
    variants = {}

    def variant(label, make):
        try:
            v = _aligned(make(), names)
        except (auditkit.AuditkitError, KeyError):
            return
        variants[label] = v + float(np.median(pub - v))

    variant("ties dropped", lambda: fit_bt(ctx.pc, ties="drop"))
    if (ctx.pc.ties + ctx.pc.bothbad).sum() > 0:
        from .ties import fit_tie_model

        variant("Davidson ties", lambda: fit_tie_model(ctx.pc, "davidson"))
    if ctx.pc.battles is not None:
        from .models import _elo

        variant("online Elo (K=4)", lambda: _elo(ctx.pc))
        if ctx.pc.battles.style:
            from .style import fit_style_bt

            variant("style control", lambda: fit_style_bt(ctx.pc))
    index = {m: q for q, m in enumerate(fit.models)}
    reproduced = 0
    for k, r in enumerate(common):
        gap = pub[k] - ours[k]
        if abs(gap) <= tol:
            reproduced += 1
            continue
        q = index[r["model"]]
        se = float(fit.se[q]) or float("nan")
        ev = {"published": float(pub[k]), "recomputed": float(ours[k]), "gap": float(gap), "line": r["line"]}
        match = [label for label, v in variants.items() if abs(pub[k] - v[k]) <= tol]
        if match:
            yield Finding("arena.published", "warning",
                          f"{r['model']!r}: published {pub[k]:.1f}, recomputed {ours[k]:.1f} ({gap:+.1f}); the "
                          f"published value is reproduced by {match[0]}, not by Bradley-Terry with ties as half",
                          system=r["model"], evidence={**ev, "variant": match[0]})
            continue
        in_pub = "lower" in r and r["lower"] - tol <= ours[k] <= r["upper"] + tol
        ours_half = float(fit.upper[q] - fit.ratings[q])
        if in_pub or abs(gap) <= ours_half:
            where = "the published interval" if in_pub else "the recomputed interval"
            yield Finding("arena.published", "info",
                          f"{r['model']!r}: published {pub[k]:.1f}, recomputed {ours[k]:.1f} ({gap:+.1f}, "
                          f"{abs(gap) / se:.1f} standard errors): within {where}, consistent with sampling noise "
                          "or a different bootstrap", system=r["model"], evidence=ev)
            continue
        yield Finding("arena.published", "error",
                      f"{r['model']!r}: published {pub[k]:.1f}, recomputed {ours[k]:.1f} ({gap:+.1f} points, "
                      f"{abs(gap) / se:.1f} standard errors): outside both intervals and no variant (ties dropped, "
                      "Davidson, Elo, style control) reproduces it; the table was not computed from these battles "
                      "this way", system=r["model"], evidence=ev)
    extra = sorted(have - {r["model"] for r in rows})
    if extra and reproduced:
        yield Finding("arena.published", "info",
                      f"{reproduced} of {len(common)} published ratings reproduced within {tol:.2g} points; "
                      f"{len(extra)} rated models are not in the published table",
                      evidence={"not_published": extra[:50]})
