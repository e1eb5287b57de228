"""btp.eval against scikit-learn, pyeer, scipy and brute force, on generated
scores (continuous and protected-template-like discrete ones)."""

from __future__ import annotations

import numpy as np
import pytest
from pyeer.eer_stats import calculate_roc, get_eer_values
from scipy import stats
from sklearn.metrics import det_curve, roc_curve

import btp
from btp import eval as ev


def continuous(seed, n_gen, n_imp, mu_gen=0.7, mu_imp=0.3, sd=0.12):
    rng = np.random.default_rng(seed)
    return rng.normal(mu_gen, sd, n_gen), rng.normal(mu_imp, sd, n_imp)


def discrete(seed, n_gen, n_imp, bits=64, p_gen=0.8, p_imp=0.5):
    rng = np.random.default_rng(seed)
    return rng.binomial(bits, p_gen, n_gen) / bits, rng.binomial(bits, p_imp, n_imp) / bits


SETS = {
    "continuous": continuous(0, 1500, 15000),
    "overlapping": continuous(1, 400, 4000, 0.55, 0.45, 0.15),
    "discrete": discrete(2, 2000, 20000),
    "discrete_overlap": discrete(3, 800, 6000, 16, 0.6, 0.5),
}


def y(genuine, impostor):
    return np.r_[np.ones(len(genuine)), np.zeros(len(impostor))], np.r_[genuine, impostor]


@pytest.mark.parametrize("name", sorted(SETS))
def test_det_and_roc_match_sklearn(name):
    g, i = SETS[name]
    fpr, fnr, t = det_curve(*y(g, i))
    c = ev.det(g, i)
    assert isinstance(c, ev.DetCurve)
    np.testing.assert_array_equal(c.thresholds, t)
    np.testing.assert_array_equal(c.fmr, fpr)
    np.testing.assert_array_equal(c.fnmr, fnr)
    fmr, fnmr, thresholds = c  # unpacks as the contract's 3-tuple
    fpr, tpr, t = roc_curve(*y(g, i), drop_intermediate=False)
    r = ev.roc(g, i)
    np.testing.assert_array_equal(r.thresholds, t)
    np.testing.assert_array_equal(r.fmr, fpr)
    np.testing.assert_allclose(r.fnmr, 1 - tpr, rtol=0, atol=1e-15)


@pytest.mark.parametrize("name", sorted(SETS))
def test_eer_matches_pyeer(name):
    g, i = SETS[name]
    thresholds, fmr, fnmr = calculate_roc(list(g), list(i), ds_scores=False)
    index, _, _, eer = get_eer_values(fmr, fnmr)
    e, t, fmr_at, fnmr_at = ev.eer(g, i)
    assert (e, t) == (eer, thresholds[index])
    # The FMR and FNMR at the EER threshold, counted by hand.
    assert (fmr_at, fnmr_at) == (np.mean(i >= t), np.mean(g < t))
    assert e == (fmr_at + fnmr_at) / 2
    # float32 scores (as prot.scores returns) and lists work the same.
    assert ev.eer(list(g), list(i)) == (e, t, fmr_at, fnmr_at)


@pytest.mark.parametrize("name", sorted(SETS))
@pytest.mark.parametrize("target", [0.0, 1e-3, 0.01, 0.1, 1.0])
def test_operating_points_brute_force(name, target):
    g, i = SETS[name]
    t = ev.threshold_at_fmr(i, target)
    candidates = [v for v in np.unique(i) if np.mean(i >= v) <= target]
    want = min(candidates) if candidates else float(np.nextafter(i.max(), np.inf))
    assert t == want
    fnmr, t2, achieved = ev.fnmr_at_fmr(g, i, target)
    assert t2 == t and achieved == np.mean(i >= t) <= target
    assert fnmr == np.mean(g < t)
    p = ev.operating_point(g, i, t)
    assert (p.fmr, p.fnmr, p.false_matches, p.impostors, p.genuines) == (
        achieved, fnmr, int((i >= t).sum()), len(i), len(g))


def test_clopper_pearson_matches_scipy():
    for x, n, c in [(0, 10, 0.95), (5, 100, 0.95), (37, 10000, 0.99), (10, 10, 0.9)]:
        lo, hi = ev.clopper_pearson(x, n, c)
        a = 1 - c
        assert lo == pytest.approx(0.0 if x == 0 else stats.beta.ppf(a / 2, x, n - x + 1), rel=1e-12)
        assert hi == pytest.approx(1.0 if x == n else stats.beta.ppf(1 - a / 2, x + 1, n - x), rel=1e-12)


def brute_ranks(scores, mates):
    ranks = []
    for row, m in zip(scores, mates):
        if m >= 0:
            ranks.append(1 + sum(1 for j, s in enumerate(row) if j != m and s >= row[m]))
    return np.array(ranks)


def test_identification_metrics_brute_force():
    rng = np.random.default_rng(5)
    n_probe, n_gallery = 300, 40
    scores = rng.binomial(32, 0.5, (n_probe, n_gallery)) / 32
    mates = rng.integers(-1, n_gallery, n_probe)  # -1: not enrolled
    for p, m in enumerate(mates):
        if m >= 0:
            scores[p, m] = rng.binomial(32, 0.75) / 32
    ranks = brute_ranks(scores, mates)
    c = ev.cmc(scores, mates)
    assert len(c) == n_gallery
    np.testing.assert_array_equal(c, [np.mean(ranks <= k) for k in range(1, n_gallery + 1)])
    assert len(ev.cmc(scores, mates, max_rank=5)) == 5
    tops = scores[mates < 0].max(axis=1)
    mate_scores = np.array([scores[p, m] for p, m in enumerate(mates) if m >= 0])
    for target in (0.0, 0.05, 0.3, 1.0):
        fnir, t, fpir = ev.fnir_at_fpir(scores, mates, target)
        assert t == ev.threshold_at_fmr(tops, target)
        assert fpir == np.mean(tops >= t) <= target
        assert fnir == np.mean(~((ranks <= 1) & (mate_scores >= t)))
        p = ev.identification_point(scores, mates, t, rank=3)
        assert p.fnir == np.mean(~((ranks <= 3) & (mate_scores >= t)))
    curve = ev.fnir_fpir_curve(scores, mates)
    assert curve.thresholds[-1] == np.inf and curve.fpir[-1] == 0 and curve.fnir[-1] == 1


def test_mates_and_split_scores():
    assert ev.mates(["b", "x", "a"], ["a", "b", "c"]).tolist() == [1, -1, 0]
    s = np.arange(16, dtype=np.float64).reshape(4, 4)
    gen, imp = ev.split_scores(s, [7, 7, 9, 9])
    assert gen.tolist() == [1.0, 11.0] and imp.tolist() == [2.0, 3.0, 6.0, 7.0]
    gen, imp = ev.split_scores(s[:2], ["p", "q"], ["p", "p", "q", "r"])
    assert gen.tolist() == [0.0, 1.0, 6.0] and imp.tolist() == [2.0, 3.0, 4.0, 5.0, 7.0]


def test_differentials_brute_force():
    rng = np.random.default_rng(9)
    n = 5000
    groups = rng.choice(["f", "m", "x"], n)
    genuine = rng.random(n) < 0.2
    scores = np.where(genuine, rng.normal(0.7, 0.1, n), rng.normal(0.35, 0.1, n))
    scores[groups == "x"] += 0.05
    t = 0.5
    d = ev.differentials(scores, genuine, groups, t)
    assert set(d.groups) == {"f", "m", "x"}
    for name, rates in d.groups.items():
        sel = groups == name
        fm = int(((scores >= t) & ~genuine & sel).sum())
        fnm = int(((scores < t) & genuine & sel).sum())
        assert (rates.fmr.errors, rates.fmr.trials) == (fm, int((~genuine & sel).sum()))
        assert (rates.fnmr.errors, rates.fnmr.trials) == (fnm, int((genuine & sel).sum()))
        assert rates.fmr.rate == fm / rates.fmr.trials
        lo, hi = rates.fmr.interval
        assert lo <= rates.fmr.rate <= hi
    fmrs = [r.fmr.rate for r in d.groups.values()]
    assert d.fmr.max_min_ratio == pytest.approx(max(fmrs) / min(fmrs))
    x = np.array(fmrs)
    gini = len(x) / (len(x) - 1) * np.abs(x[:, None] - x[None, :]).sum() / (2 * len(x) ** 2 * x.mean())
    assert d.fmr.gini == pytest.approx(gini, rel=1e-12)
    assert d.garbe == pytest.approx(0.25 * d.fmr.gini + 0.75 * d.fnmr.gini)
    # Pairs of subject labels instead of flags.
    subjects = np.where(genuine, 1, 2)
    pairs = np.stack([np.ones(n, int), subjects], axis=1)
    assert ev.differentials(scores, pairs, groups, t) == d


def reference_unlinkability(mated, nonmated, n_bins, omega):
    """evaluateUnlinkability.py v2.0 (Gomez-Barrero et al.), computation part."""
    lo = min(mated.min(), nonmated.min())
    hi = max(mated.max(), nonmated.max())
    edges = np.linspace(lo, hi, num=n_bins + 1, endpoint=True)
    centres = (edges[1:] + edges[:-1]) / 2
    y1 = np.histogram(mated, bins=edges, density=True)[0]
    y2 = np.histogram(nonmated, bins=edges, density=True)[0]
    with np.errstate(divide="ignore", invalid="ignore"):
        lr = np.divide(y1, y2)
        d = 2 * (omega * lr / (1 + omega * lr)) - 1
    d[omega * lr <= 1] = 0
    d[y2 == 0] = 1
    d[y1 == 0] = 0
    trapezoid = getattr(np, "trapezoid", None) or np.trapz
    return float(trapezoid(x=centres, y=d * y1)), d, centres


def test_unlinkability_matches_the_reference():
    rng = np.random.default_rng(11)
    mated = rng.normal(0.55, 0.1, 3000)
    nonmated = rng.normal(0.45, 0.1, 30000)
    d_sys, d_local, centres = ev.unlinkability(mated, nonmated, bins=60)
    ref_sys, ref_d, ref_c = reference_unlinkability(mated, nonmated, 60, 1.0)
    assert d_sys == pytest.approx(ref_sys, rel=1e-12)
    np.testing.assert_allclose(d_local, ref_d, rtol=1e-12)
    np.testing.assert_allclose(centres, ref_c, rtol=1e-12)
    details = ev.unlinkability_details(mated, nonmated, bins=60)
    assert len(details.bin_edges) == 61 and details.d_sys == d_sys


def test_protection_report(population, scheme, mk):
    x, labels = population
    r = ev.protection_report(x, labels, scheme, mk, target_fmr=0.01)
    assert r.scheme == "iom-grp" and r.code_len == 256
    n_gen = 60 * 6
    for s in (r.unprotected, r.normal, r.stolen_key):
        assert s.genuine_pairs == n_gen and s.impostor_pairs == 240 * 239 // 2 - n_gen
        assert 0 <= s.eer < 0.05
        assert s.at_target_fmr.fmr <= 0.01
    assert 0 <= r.d_sys < 0.2
    assert r.mated_linkage_pairs == 60 * 4 * 3
    # String labels work and the key defaults to a fresh one.
    r2 = ev.protection_report(x, np.array([f"s{l}" for l in labels]), scheme, target_fmr=0.01)
    assert r2.unprotected == r.unprotected
    # No non-mated linkage pair to score is refused, not raised to one.
    with pytest.raises(btp.InvalidParameterError, match="max_nonmated_linkage_pairs"):
        ev.protection_report(x, labels, scheme, mk, max_nonmated_linkage_pairs=0)
