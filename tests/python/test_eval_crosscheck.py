"""Cross-check of btp::eval against scikit-learn, pyeer, scipy and the
reference unlinkability code, through the `score_metrics` example.

Scores are generated here with fixed numpy seeds, written with `repr` (so
the Rust side reads bit-identical doubles), and the JSON the example prints
is compared with the Python libraries run on the same arrays.

Tolerances: exact equality wherever both sides compute the same integer
counts and divide them (DET, ROC FMR, EER, operating points, thresholds);
1e-15 absolute where scikit-learn reports `tpr` and we report
`fnmr = fn / P` (1 - tpr differs in the last bit); 1e-12 relative for the
Clopper-Pearson bounds and the unlinkability integral (different summation
order).

Requirements: tests/python/requirements.txt. The Rust example is built once
per session with `cargo build --release` (honouring CARGO_TARGET_DIR) and
run with `cargo run`.
"""

from __future__ import annotations

import json
import os
import subprocess
import warnings
from pathlib import Path

import mpmath
import numpy as np
import pytest
from pyeer.eer_stats import calculate_roc, get_eer_values
from scipy import stats
from sklearn.metrics import det_curve, roc_curve

ROOT = Path(__file__).resolve().parents[2]
CARGO = os.environ.get("CARGO", "cargo")
TARGETS = [0.0, 1e-4, 1e-3, 0.01, 0.05, 0.1, 0.3, 1.0]


# --------------------------------------------------------------------------
# Running the example


@pytest.fixture(scope="session")
def built():
    subprocess.run(
        [CARGO, "build", "-q", "--release", "-p", "btp", "--example", "score_metrics"],
        cwd=ROOT,
        check=True,
    )
    return True


def write_scores(path: Path, scores) -> str:
    path.write_text("".join(repr(float(s)) + "\n" for s in scores))
    return str(path)


def run_metrics(tmp_path: Path, *args: str) -> dict:
    out = subprocess.run(
        [CARGO, "run", "-q", "--release", "-p", "btp", "--example", "score_metrics", "--", *args],
        cwd=ROOT,
        check=False,
        capture_output=True,
        text=True,
    )
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout)


def verification(tmp_path: Path, genuine, impostor, levels: int | None = None) -> dict:
    args = [
        "--genuine",
        write_scores(tmp_path / "genuine.txt", genuine),
        "--impostor",
        write_scores(tmp_path / "impostor.txt", impostor),
        "--targets",
        ",".join(repr(t) for t in TARGETS),
    ]
    if levels is not None:
        args += ["--levels", str(levels)]
    return run_metrics(tmp_path, *args)


# --------------------------------------------------------------------------
# Score sets


def continuous(seed: int, n_gen: int, n_imp: int, mu_gen: float, mu_imp: float, sd: float):
    rng = np.random.default_rng(seed)
    return rng.normal(mu_gen, sd, n_gen), rng.normal(mu_imp, sd, n_imp)


def discrete(seed: int, n_gen: int, n_imp: int, bits: int, p_gen: float, p_imp: float):
    """Protected-template-like scores k/bits, with many ties."""
    rng = np.random.default_rng(seed)
    gen = rng.binomial(bits, p_gen, n_gen) / bits
    imp = rng.binomial(bits, p_imp, n_imp) / bits
    return gen, imp


SCORE_SETS = {
    "normal_separated": continuous(0, 2000, 20000, 0.7, 0.3, 0.1),
    "normal_overlapping": continuous(1, 500, 5000, 0.55, 0.45, 0.15),
    "normal_negative": continuous(2, 300, 3000, -1.0, -2.5, 1.0),
    "discrete_64": discrete(3, 3000, 30000, 64, 0.8, 0.5),
    "discrete_16_overlap": discrete(4, 1000, 8000, 16, 0.6, 0.5),
    "sklearn_docstring": (np.array([0.35, 0.8]), np.array([0.1, 0.4])),
    "perfect_separation": (np.array([3.0, 4.0, 5.0]), np.array([1.0, 2.0])),
    "impostor_holds_max": (np.array([1.0, 2.0, 2.5]), np.array([0.0, 3.0, 2.0])),
    "genuine_below_all": (np.array([0.1, 0.2]), np.array([0.5, 0.6, 0.7])),
    "ties_across_classes": (np.array([0.5, 0.5, 0.75, 1.0]), np.array([0.25, 0.5, 0.5, 0.75])),
    "single_each": (np.array([0.9]), np.array([0.1])),
}
DISCRETE_LEVELS = {"discrete_64": 64, "discrete_16_overlap": 16, "ties_across_classes": 4}


def labels(genuine, impostor):
    y_true = np.r_[np.ones(len(genuine)), np.zeros(len(impostor))]
    y_score = np.r_[genuine, impostor]
    return y_true, y_score


# --------------------------------------------------------------------------
# Independent references


def reference_threshold_at_fmr(impostor, target):
    """The documented rule, by brute force: smallest impostor score whose FMR
    is <= target, else the next double above the largest impostor score."""
    imp = np.asarray(impostor)
    n = len(imp)
    for v in np.unique(imp):
        fmr = np.count_nonzero(imp >= v) / n
        if fmr <= target:
            return float(v), fmr
    t = float(np.nextafter(imp.max(), np.inf))
    return t, np.count_nonzero(imp >= t) / n


def reference_unlinkability(mated, nonmated, n_bins, omega, value_range=None):
    """Port of evaluateUnlinkability.py v2.0 (dasec/unlinkability-metric),
    computation part verbatim; `value_range` replaces the min/max of the
    scores when given (the Rust API's explicit range)."""
    mated_scores = np.asarray(mated, dtype=np.float64)
    non_mated_scores = np.asarray(nonmated, dtype=np.float64)
    if value_range is None:
        lo = min([min(mated_scores), min(non_mated_scores)])
        hi = max([max(mated_scores), max(non_mated_scores)])
    else:
        lo, hi = value_range
    bin_edges = np.linspace(lo, hi, num=n_bins + 1, endpoint=True)
    bin_centers = (bin_edges[1:] + bin_edges[:-1]) / 2
    y1 = np.histogram(mated_scores, bins=bin_edges, density=True)[0]
    y2 = np.histogram(non_mated_scores, bins=bin_edges, density=True)[0]
    with np.errstate(divide="ignore", invalid="ignore"):
        lr = np.divide(y1, y2)
        d = 2 * (omega * lr / (1 + omega * lr)) - 1
    d[omega * lr <= 1] = 0
    d[y2 == 0] = 1
    d[y1 == 0] = 0
    trapezoid = getattr(np, "trapezoid", None) or np.trapz
    d_sys = trapezoid(x=bin_centers, y=d * y1)
    return float(d_sys), d, bin_centers, bin_edges


def binomial_cdf_mp(x: int, n: int, p) -> mpmath.mpf:
    p = mpmath.mpf(p)
    return mpmath.fsum(mpmath.binomial(n, k) * p**k * (1 - p) ** (n - k) for k in range(x + 1))


def clopper_pearson_mp(x: int, n: int, confidence: float):
    """50-digit Clopper-Pearson bounds from exact binomial sums (small x)."""
    mpmath.mp.dps = 50
    half = (1 - mpmath.mpf(repr(confidence))) / 2

    def bisect(f, lo, hi):
        f_lo = f(lo)
        for _ in range(400):
            mid = (lo + hi) / 2
            f_mid = f(mid)
            if (f_mid < 0) == (f_lo < 0):
                lo, f_lo = mid, f_mid
            else:
                hi = mid
            if hi - lo < mpmath.mpf(10) ** -40 * hi:
                break
        return (lo + hi) / 2

    lo = 0 if x == 0 else bisect(lambda p: (1 - binomial_cdf_mp(x - 1, n, p)) - half, mpmath.mpf(0), mpmath.mpf(x) / n)
    hi = 1 if x == n else bisect(lambda p: half - binomial_cdf_mp(x, n, p), mpmath.mpf(x) / n, mpmath.mpf(1))
    return float(lo), float(hi)


# --------------------------------------------------------------------------
# Verification metrics


@pytest.mark.parametrize("name", sorted(SCORE_SETS))
def test_det_matches_sklearn_exactly(built, tmp_path, name):
    genuine, impostor = SCORE_SETS[name]
    out = verification(tmp_path, genuine, impostor)
    fpr, fnr, thresholds = det_curve(*labels(genuine, impostor))
    np.testing.assert_array_equal(np.array(out["det"]["thresholds"]), thresholds)
    np.testing.assert_array_equal(np.array(out["det"]["fmr"]), fpr)
    np.testing.assert_array_equal(np.array(out["det"]["fnmr"]), fnr)


@pytest.mark.parametrize("name", sorted(SCORE_SETS))
def test_roc_matches_sklearn(built, tmp_path, name):
    genuine, impostor = SCORE_SETS[name]
    out = verification(tmp_path, genuine, impostor)
    fpr, tpr, thresholds = roc_curve(*labels(genuine, impostor), drop_intermediate=False)
    np.testing.assert_array_equal(np.array(out["roc"]["thresholds"]), thresholds)
    np.testing.assert_array_equal(np.array(out["roc"]["fmr"]), fpr)
    np.testing.assert_allclose(np.array(out["roc"]["fnmr"]), 1.0 - tpr, rtol=0, atol=1e-15)


@pytest.mark.parametrize("name", sorted(SCORE_SETS))
def test_eer_matches_pyeer_exactly(built, tmp_path, name):
    genuine, impostor = SCORE_SETS[name]
    out = verification(tmp_path, genuine, impostor)
    thresholds, fmr, fnmr = calculate_roc(list(genuine), list(impostor), ds_scores=False)
    index, _, _, eer = get_eer_values(fmr, fnmr)
    assert out["eer"]["eer"] == eer
    assert out["eer"]["threshold"] == thresholds[index]
    assert out["eer"]["fmr"] == fmr[index]
    assert out["eer"]["fnmr"] == fnmr[index]


def test_eer_when_curves_never_cross_at_an_observed_score(built, tmp_path):
    """Documented deviation: pyeer warns and returns EER 1 when FMR > FNMR
    at every observed score; btp appends next_up(max) and applies FVC2000."""
    genuine, impostor = np.array([1.0, 1.0]), np.array([1.0, 1.0, 1.0])
    out = verification(tmp_path, genuine, impostor)
    thresholds, fmr, fnmr = calculate_roc(list(genuine), list(impostor), ds_scores=False)
    with warnings.catch_warnings(record=True):
        warnings.simplefilter("always")
        assert get_eer_values(fmr, fnmr)[3] == 1
    assert (out["eer"]["eer"], out["eer"]["threshold"]) == (0.5, 1.0)


@pytest.mark.parametrize("name", sorted(SCORE_SETS))
def test_operating_points(built, tmp_path, name):
    genuine, impostor = SCORE_SETS[name]
    out = verification(tmp_path, genuine, impostor)
    y_true, y_score = labels(genuine, impostor)
    fpr, tpr, roc_thresholds = roc_curve(y_true, y_score, drop_intermediate=False)
    for op, th in zip(out["fnmr_at_fmr"], out["threshold_at_fmr"]):
        target = op["target"]
        want_t, want_fmr = reference_threshold_at_fmr(impostor, target)
        assert th["threshold"] == want_t and th["fmr"] == want_fmr
        assert op["threshold"] == want_t and op["fmr"] == want_fmr
        assert op["fmr"] <= target
        assert op["fnmr"] == np.count_nonzero(genuine < want_t) / len(genuine)
        # scikit-learn: the smallest ROC threshold with fpr <= target reaches
        # the same FMR (FMR only changes at impostor scores), and its FNMR is
        # no larger (it may sit on a genuine score below ours).
        ok = fpr <= target
        k = np.flatnonzero(ok)[np.argmin(roc_thresholds[ok])]
        assert fpr[k] == op["fmr"]
        assert 1.0 - tpr[k] <= op["fnmr"] + 1e-15
        if roc_thresholds[k] == op["threshold"]:
            assert abs((1.0 - tpr[k]) - op["fnmr"]) <= 1e-15


@pytest.mark.parametrize("name", sorted(DISCRETE_LEVELS))
def test_histogram_path_is_identical(built, tmp_path, name):
    genuine, impostor = SCORE_SETS[name]
    out = verification(tmp_path, genuine, impostor, levels=DISCRETE_LEVELS[name])
    hist = out["histogram"]
    for key in ("det", "roc", "eer", "fnmr_at_fmr", "threshold_at_fmr"):
        assert hist[key] == out[key], key


def test_rejects_nan_with_its_index(built, tmp_path):
    impostor = [0.1, 0.2, float("nan")]
    out = subprocess.run(
        [CARGO, "run", "-q", "--release", "-p", "btp", "--example", "score_metrics", "--",
         "--genuine", write_scores(tmp_path / "g.txt", [0.5]),
         "--impostor", write_scores(tmp_path / "i.txt", impostor)],
        cwd=ROOT, capture_output=True, text=True, check=False,
    )
    assert out.returncode == 2
    assert "impostor: invalid scores: the scores contain NaN at index 2" in out.stderr


# --------------------------------------------------------------------------
# Clopper-Pearson

CP_SCIPY_CASES = [
    (0, 10, 0.95), (10, 10, 0.95), (5, 100, 0.95), (1, 10, 0.999), (3, 7, 0.9),
    (50, 100, 0.95), (1, 1000, 0.95), (37, 10000, 0.99), (999, 1000, 0.9),
    (123, 4567, 0.95), (4000, 100000, 0.99), (500000000, 1000000000, 0.95),
]
CP_LARGE_CASES = [
    (1, 10**6, 0.95), (12, 10**7, 0.95), (1, 10**9, 0.95), (3, 10**9, 0.9),
    (40, 10**9, 0.99), (2, 10**8, 0.999),
]


def cp_args(cases):
    args = []
    for x, n, c in cases:
        args += ["--cp", f"{x},{n},{c!r}"]
    return args


def test_clopper_pearson_matches_scipy(built, tmp_path):
    out = run_metrics(tmp_path, *cp_args(CP_SCIPY_CASES))["clopper_pearson"]
    for item, (x, n, c) in zip(out, CP_SCIPY_CASES):
        alpha = 1 - c
        lo = 0.0 if x == 0 else stats.beta.ppf(alpha / 2, x, n - x + 1)
        hi = 1.0 if x == n else stats.beta.ppf(1 - alpha / 2, x + 1, n - x)
        assert item["lo"] == pytest.approx(lo, rel=1e-12, abs=0)
        assert item["hi"] == pytest.approx(hi, rel=1e-12, abs=0)
        # binomtest solves the same equations with brentq at its default
        # tolerance (about 1e-11 absolute), hence the looser comparison.
        ci = stats.binomtest(x, n).proportion_ci(confidence_level=c, method="exact")
        assert item["lo"] == pytest.approx(ci.low, rel=1e-8, abs=1e-11)
        assert item["hi"] == pytest.approx(ci.high, rel=1e-8, abs=1e-11)


def test_clopper_pearson_large_trials_against_50_digit_reference(built, tmp_path):
    """scipy's Beta quantile loses up to ~1e-8 relative for the upper bound
    with 1e9 trials; a 50-digit binomial-sum reference decides instead."""
    out = run_metrics(tmp_path, *cp_args(CP_LARGE_CASES))["clopper_pearson"]
    for item, (x, n, c) in zip(out, CP_LARGE_CASES):
        lo, hi = clopper_pearson_mp(x, n, c)
        assert item["lo"] == pytest.approx(lo, rel=1e-12, abs=0)
        assert item["hi"] == pytest.approx(hi, rel=1e-12, abs=0)
        alpha = 1 - c
        assert item["hi"] == pytest.approx(stats.beta.isf(alpha / 2, x + 1, n - x), rel=1e-7)


# --------------------------------------------------------------------------
# Unlinkability

UNLINK_CASES = {
    "overlapping_normals": (continuous(10, 3000, 30000, 0.6, 0.5, 0.1), 100, 1.0, None),
    "separated_normals": (continuous(11, 2000, 2000, 0.9, 0.2, 0.05), 100, 1.0, None),
    "same_distribution": (continuous(12, 5000, 5000, 0.5, 0.5, 0.1), 50, 1.0, None),
    "discrete_on_edges": (discrete(13, 2000, 20000, 32, 0.55, 0.5), 64, 1.0, None),
    "omega_and_range": (continuous(14, 1000, 10000, 0.55, 0.5, 0.1), 30, 3.0, (0.0, 1.0)),
}


@pytest.mark.parametrize("name", sorted(UNLINK_CASES))
def test_unlinkability_matches_reference(built, tmp_path, name):
    (mated, nonmated), bins, omega, value_range = UNLINK_CASES[name]
    args = [
        "--mated", write_scores(tmp_path / "m.txt", mated),
        "--nonmated", write_scores(tmp_path / "n.txt", nonmated),
        "--bins", str(bins), "--omega", repr(omega),
    ]
    if value_range is not None:
        args += ["--range", f"{value_range[0]!r},{value_range[1]!r}"]
    out = run_metrics(tmp_path, *args)["unlinkability"]
    d_sys, d, centres, edges = reference_unlinkability(mated, nonmated, bins, omega, value_range)
    np.testing.assert_array_equal(np.array(out["bin_edges"]), edges)
    np.testing.assert_array_equal(np.array(out["bin_centres"]), centres)
    np.testing.assert_array_equal(np.array(out["d_local"]), d)
    assert out["d_sys"] == pytest.approx(d_sys, rel=1e-12, abs=1e-15)
    assert 0.0 <= out["d_sys"] <= 1.0
