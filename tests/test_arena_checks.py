"""Each arena.* check: the defect planted makes it fire; clean data keeps it quiet."""

from __future__ import annotations

import numpy as np
import pytest

from auditkit_plugins.arena.bt import fit_bt
from auditkit_plugins.arena.checks import CHECKS, ArenaContext, run_checks
from auditkit_plugins.arena.data import Battles, PairCounts
from auditkit_plugins.arena.synthetic import simulate


def counts(models, rows, ordered=True):
    r = np.asarray(rows, float)
    return PairCounts(tuple(models), r[:, 0].astype(int), r[:, 1].astype(int), r[:, 2], r[:, 3], r[:, 4],
                      np.zeros(len(r)), ordered=ordered)


def findings(pc, name, fit=True, **options):
    ctx = ArenaContext(pc, fit_bt(pc) if fit else None, options)
    return [f for f in run_checks(ctx, [name])]


def loud(found):
    return [f for f in found if f.severity in ("warning", "error")]


@pytest.fixture(scope="module")
def clean():
    return simulate(10, 60000, seed=21, tie_rate=0.2).counts()


def test_check_ids_are_stable_and_documented():
    import pathlib

    names = [c.name for c in CHECKS]
    assert names == ["arena.disconnected", "arena.never-beaten", "arena.never-wins", "arena.few-battles",
                     "arena.position-bias", "arena.intransitive", "arena.category-flip", "arena.sensitivity",
                     "arena.published"]
    doc = (pathlib.Path(__file__).resolve().parents[1] / "docs" / "arena.md").read_text()
    for name in names:
        assert f"`{name}`" in doc, name


def test_clean_data_raises_no_warning_or_error(clean):
    ctx = ArenaContext(clean, fit_bt(clean))
    assert loud(run_checks(ctx)) == []


def test_disconnected_fires_with_the_components():
    pc = counts("abcd", [(0, 1, 5, 4, 1), (2, 3, 6, 3, 0)])
    (f,) = findings(pc, "arena.disconnected", fit=False)
    assert f.severity == "error" and f.evidence["sizes"] == [2, 2]
    assert sorted(map(sorted, f.evidence["components"])) == [["a", "b"], ["c", "d"]]


def test_never_beaten_and_never_wins_name_the_model(clean):
    pc = counts("abc", [(0, 1, 9, 0, 0), (0, 2, 4, 0, 0), (1, 2, 3, 3, 1)])
    (f,) = findings(pc, "arena.never-beaten", fit=False)
    assert f.severity == "error" and f.system == "a" and f.evidence["battles"] == 13
    pc = counts("abc", [(0, 1, 0, 9, 0), (0, 2, 0, 4, 0), (1, 2, 3, 3, 1)])
    (f,) = findings(pc, "arena.never-wins", fit=False)
    assert f.system == "a"
    # a tie is half a win: a model that only ties is neither
    pc = counts("abc", [(0, 1, 0, 0, 3), (0, 2, 0, 0, 2), (1, 2, 3, 3, 1)])
    assert findings(pc, "arena.never-beaten", fit=False) == findings(pc, "arena.never-wins", fit=False) == []
    for name in ("arena.never-beaten", "arena.never-wins", "arena.disconnected"):
        assert findings(clean, name, fit=False) == []


def test_a_group_that_never_loses_to_another_is_reported():
    # a, b only beat c, d (and split among themselves): nobody is unbeaten, but the MLE diverges
    pc = counts("abcd", [(0, 1, 3, 3, 0), (2, 3, 3, 3, 0), (0, 2, 5, 0, 0), (1, 3, 4, 0, 0)])
    (f,) = findings(pc, "arena.never-wins", fit=False)
    assert f.evidence["strong_components"] == 2


def test_few_battles_fires_for_a_model_with_few_battles(clean):
    b = simulate(6, 30000, seed=22)
    keep = ~((b.a == 5) | (b.b == 5)) | (np.arange(len(b)) < 600)  # model 5 keeps only its early battles
    pc = b.subset(keep).counts()
    found = findings(pc, "arena.few-battles")
    assert [f.system for f in found] == ["m005"]
    assert found[0].evidence["battles_needed"] > found[0].evidence["battles"]
    assert findings(clean, "arena.few-battles") == []


def test_position_bias_fires_when_the_first_model_is_favoured(clean):
    biased = simulate(8, 40000, seed=23, position_bias=0.3).counts()
    (f,) = findings(biased, "arena.position-bias")
    assert f.severity == "warning" and f.evidence["rate"] > 0.53 and f.evidence["p_value"] < 1e-6
    assert findings(clean, "arena.position-bias") == []
    (info,) = findings(clean.unordered(), "arena.position-bias")
    assert info.severity == "info" and "cannot be tested" in info.message


def test_intransitive_fires_on_a_planted_cycle(clean):
    # a beats b, b beats c, c beats a, each 70 of 100; d is beaten by all three
    rows = [(0, 1, 70, 30, 0), (1, 2, 70, 30, 0), (2, 0, 70, 30, 0), (0, 3, 60, 40, 0), (1, 3, 60, 40, 0),
            (2, 3, 60, 40, 0)]
    found = findings(counts("abcd", rows), "arena.intransitive")
    assert len(found) == 1 and found[0].evidence["models"] == ["a", "b", "c"]
    assert found[0].evidence["observed"] == [0.7, 0.7, 0.7]
    assert all(abs(p - 0.5) < 0.05 for p in found[0].evidence["fitted"])  # BT can only fit a three-way draw
    assert findings(clean, "arena.intransitive") == []


def test_category_flip_fires_when_two_top_models_swap_in_one_category():
    swapped = simulate(8, 80000, seed=24, categories=4, category_swap=(0, 2), spread=1.0).counts()
    found = [f for f in findings(swapped, "arena.category-flip") if f.severity == "warning"]
    assert found and {tuple(f.evidence["overall"]) for f in found} >= {("m000", "m002")}
    assert all(f.column == "c0" for f in found)
    plain = simulate(8, 80000, seed=24, categories=4, spread=1.0).counts()
    assert loud(findings(plain, "arena.category-flip")) == []


def test_sensitivity_fires_when_ties_handling_changes_the_winner(clean):
    # against c, a wins 65-35 with no ties (0.65 with ties as half) and b 30-5 with 65 ties (0.625 as half,
    # 0.86 without ties): b overtakes a when ties are dropped
    rows = [(0, 2, 65, 35, 0), (1, 2, 30, 5, 65), (0, 1, 10, 10, 0), (2, 3, 50, 50, 0), (0, 3, 50, 30, 0),
            (1, 3, 45, 35, 0)]
    found = findings(counts("abcd", rows), "arena.sensitivity")
    warn = [f for f in found if f.severity == "warning"]
    assert warn and warn[0].evidence["variant"] == "ties dropped" and warn[0].system == "b"
    quiet = findings(clean, "arena.sensitivity")
    assert loud(quiet) == [] and any("anchor" in f.message for f in quiet)


def test_sensitivity_fires_when_style_control_changes_the_winner():
    truth = np.array([0.05, 0.0, -0.5, -1.0, -1.5])
    b = simulate(5, 60000, seed=25, tie_rate=0.0, style_effect=0.8, strengths=truth)
    # make the second model write the longest answers: it wins on style, not substance
    length = b.style["length"].copy()
    length[b.a == 1, 0] *= 3
    length[b.b == 1, 1] *= 3
    z = (length[:, 0] - length[:, 1]) / (length[:, 0] + length[:, 1])
    logit = truth[b.a] - truth[b.b] + 0.8 * (z - z.mean()) / z.std()
    rng = np.random.default_rng(0)
    outcome = np.where(rng.random(len(b)) < 1 / (1 + np.exp(-logit)), 0, 1)
    styled = Battles(b.models, b.a, b.b, outcome, style={"length": length}).counts()
    warn = [f for f in findings(styled, "arena.sensitivity") if f.severity == "warning"]
    assert [f.evidence["variant"] for f in warn] == ["style control"]
    assert warn[0].evidence["baseline_top"][0] == "m001" and warn[0].evidence["top"][0] == "m000"


def test_published_table_mismatches_are_explained(clean, tmp_path):
    from auditkit_plugins.arena.published import read_published

    fit = fit_bt(clean)
    shift = 114.0
    lines = ["model,rating,ci"]
    for k, m in enumerate(clean.models):
        value = round(float(fit.ratings[k]) + shift)
        ci = "+5/-5"
        if m == "m003":
            value += 30  # unexplained
        if m == "m005":
            value += 3  # inside the published interval
        lines.append(f"{m},{value},{ci}")
    lines.append("ghost-model,1200,+4/-4")
    path = tmp_path / "published.csv"
    path.write_text("\n".join(lines) + "\n")
    ctx = ArenaContext(clean, fit, published=read_published(str(path)))
    found = run_checks(ctx, ["arena.published"])
    by = {(f.system, f.severity) for f in found}
    assert ("m003", "error") in by
    assert ("ghost-model", "warning") in by
    assert ("m005", "info") in by
    assert any(f.severity == "info" and "different anchor or offset" in f.message for f in found)
    assert not [f for f in found if f.severity != "info" and f.system not in ("m003", "ghost-model")]
    # the exact table reproduces: nothing loud
    exact = tmp_path / "exact.csv"
    exact.write_text("model,rating\n" + "\n".join(f"{m},{round(float(r), 1)}" for m, r in
                                                  zip(clean.models, fit.ratings)) + "\n")
    ctx = ArenaContext(clean, fit, published=read_published(str(exact)))
    assert loud(run_checks(ctx, ["arena.published"])) == []


def test_published_variant_explains_a_ties_dropped_table(tmp_path):
    from auditkit_plugins.arena.published import read_published

    pc = simulate(8, 40000, seed=26, tie_rate=0.4).counts()
    fit, drop = fit_bt(pc), fit_bt(pc, ties="drop")
    path = tmp_path / "dropped.csv"
    path.write_text("model,rating\n" + "\n".join(f"{m},{r:.2f}" for m, r in zip(pc.models, drop.ratings)) + "\n")
    found = run_checks(ArenaContext(pc, fit, published=read_published(str(path))), ["arena.published"])
    explained = [f for f in found if f.severity == "warning"]
    assert explained and all(f.evidence["variant"] == "ties dropped" for f in explained)
    assert not [f for f in found if f.severity == "error"]


def test_unknown_check_ids_are_refused(clean):
    import auditkit

    with pytest.raises(auditkit.UsageError, match="arena.few-battles"):
        run_checks(ArenaContext(clean, None), ["arena.nope"])


def test_the_position_bias_test_is_the_exact_binomial_test():
    from scipy.stats import binomtest

    from auditkit_plugins.arena.checks import binomial_test_half, wilson

    for k, n in [(0, 10), (3, 10), (5, 10), (520, 1000), (5300, 10000), (10, 10)]:
        ref = binomtest(k, n, 0.5)
        assert np.isclose(binomial_test_half(k, n), ref.pvalue, rtol=1e-9, atol=1e-15)
        np.testing.assert_allclose(wilson(k, n), ref.proportion_ci(0.95, method="wilson"), atol=1e-12)
