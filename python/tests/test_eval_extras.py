"""The notebook conveniences of btp.eval and btp.plot (issue 13): the EER's
FMR and FNMR, several FMR targets at once, pair indices from split_scores,
linkage scores across two applications, DET axes that follow the data."""

from __future__ import annotations

import numpy as np
import pytest

import btp
from btp import eval as ev


def scores(seed=0, n_gen=500, n_imp=5000):
    rng = np.random.default_rng(seed)
    return rng.normal(0.7, 0.1, n_gen), rng.normal(0.3, 0.1, n_imp)


def test_eer_reports_fmr_and_fnmr_at_its_threshold():
    g, i = scores()
    r = ev.eer(g, i)
    assert r._fields == ("eer", "threshold", "fmr", "fnmr")
    assert (r.fmr, r.fnmr) == (np.mean(i >= r.threshold), np.mean(g < r.threshold))
    assert r.eer == (r.fmr + r.fnmr) / 2
    e, t, *_ = r  # the documented unpacking
    assert (e, t) == (r[0], r[1]) == (r.eer, r.threshold)


def test_fnmr_at_several_fmr_targets():
    g, i = scores(1)
    targets = [1e-3, 0.01, 0.1, 0.5]
    many = ev.fnmr_at_fmr(g, i, targets)
    assert isinstance(many, ev.FnmrAtFmrs)
    assert many.target_fmr.tolist() == targets
    for k, target in enumerate(targets):
        one = ev.fnmr_at_fmr(g, i, target)
        assert many.at(k) == one
        assert (many.fnmr[k], many.threshold[k], many.achieved_fmr[k]) == tuple(one)
    assert ev.fnmr_at_fmr(g, i, np.array(targets)).fnmr.tolist() == many.fnmr.tolist()
    assert len(ev.fnmr_at_fmr(g, i, []).fnmr) == 0
    with pytest.raises(btp.InvalidParameterError, match="target_fmr"):
        ev.fnmr_at_fmr(g, i, [0.1, 1.5])
    with pytest.raises(btp.DimensionError):
        ev.fnmr_at_fmr(g, i, [[0.1]])
    with pytest.raises(btp.InvalidParameterError):
        ev.fnmr_at_fmr(g, i, ["0.1"])
    assert isinstance(ev.fnmr_at_fmr(g, i, np.float32(0.01)), ev.FnmrAtFmr)


def test_split_scores_gives_the_pairs():
    rng = np.random.default_rng(2)
    s = rng.random((6, 6))
    labels = np.array(["a", "a", "b", "b", "b", "c"])
    out = ev.split_scores(s, labels, return_indices=True)
    assert isinstance(out, ev.SplitScores)
    g, i = ev.split_scores(s, labels)
    np.testing.assert_array_equal(out.genuine, g)
    np.testing.assert_array_equal(out.impostor, i)
    assert out.genuine_pairs.dtype == np.int64 and out.genuine_pairs.shape == (4, 2)
    # Every pair indexes its own score, above the diagonal, labels as split.
    for values, pairs, same in ((out.genuine, out.genuine_pairs, True), (out.impostor, out.impostor_pairs, False)):
        np.testing.assert_array_equal(s[pairs[:, 0], pairs[:, 1]], values)
        assert (pairs[:, 0] < pairs[:, 1]).all()
        assert ((labels[pairs[:, 0]] == labels[pairs[:, 1]]) == same).all()
    assert len(out.genuine) + len(out.impostor) == 15
    # Per-pair groups without a loop.
    groups = np.array(["f", "m", "f", "m", "m", "f"])
    per_pair = groups[out.impostor_pairs[:, 0]]
    assert len(per_pair) == len(out.impostor)
    # Rows against columns.
    cross = ev.split_scores(s[:2], [1, 2], [1, 1, 2, 3, 2, 1], return_indices=True)
    np.testing.assert_array_equal(s[:2][cross.genuine_pairs[:, 0], cross.genuine_pairs[:, 1]], cross.genuine)
    assert cross.genuine_pairs.tolist() == [[0, 0], [0, 1], [0, 5], [1, 2], [1, 4]]


def test_linkage_scores_feed_unlinkability(population, scheme, mk):
    x, labels = population
    a = btp.Protector(scheme, mk, application="link-a")
    b = btp.Protector(scheme, mk, application="link-b")
    ca, cb = a.protect_batch(x), b.protect_batch(x)
    ls = ev.linkage_scores(ca, cb, labels, a, b)
    assert isinstance(ls, ev.LinkageScores)
    n, per = len(x), 4
    assert len(ls.mated) == 60 * per * (per - 1)
    assert len(ls.nonmated) == n * (n - per)
    # By hand for one mated and one non-mated pair (0 vs 1, 0 vs 4).
    e_a, e_b = a.unpack(ca), b.unpack(cb)
    assert ls.mated[0] == pytest.approx(np.mean(e_a[0] == e_b[1]))
    assert ls.nonmated[0] == pytest.approx(np.mean(e_a[0] == e_b[4]))
    u = ev.unlinkability(*ls)
    assert 0 <= u.d_sys < 0.2  # two applications' keys: nearly unlinkable
    same = ev.linkage_scores(ca, ca, labels, a, a)
    assert ev.unlinkability(*same).d_sys > u.d_sys  # one key: linkable
    few = ev.linkage_scores(ca, cb, labels, a, b, max_nonmated=1000)
    assert len(few.nonmated) <= 1000
    other = btp.Protector(btp.IoM(dim=128, hashes=256, window=8), mk, application="x")
    with pytest.raises(btp.SchemeMismatchError):
        ev.linkage_scores(ca, cb, labels, a, other)
    with pytest.raises(btp.InvalidParameterError, match="codes_a"):
        ev.linkage_scores(ca[:-1], cb, labels, a, b)
    with pytest.raises(btp.InvalidParameterError, match="max_nonmated"):
        ev.linkage_scores(ca, cb, labels, a, b, max_nonmated=-1)
    # Codes carry their key: b's codes are not a's.
    with pytest.raises(btp.KeyMismatchError):
        ev.linkage_scores(cb, ca, labels, a, b)


def test_cmc_is_clamped_to_the_gallery():
    s = np.array([[0.9, 0.1, 0.5], [0.2, 0.8, 0.5]])
    assert ev.cmc(s, [0, 1]).tolist() == [1.0, 1.0, 1.0]
    assert ev.cmc(s, [0, 1], max_rank=10**12).tolist() == [1.0, 1.0, 1.0]
    assert ev.cmc(s, [0, 1], max_rank=np.int64(2)).tolist() == [1.0, 1.0]
    with pytest.raises(btp.InvalidParameterError, match="max_rank"):
        ev.cmc(s, [0, 1], max_rank=0)


def test_det_axes_follow_the_data_or_the_limits():
    pytest.importorskip("matplotlib")
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from statistics import NormalDist

    probit = NormalDist().inv_cdf
    try:
        # 10^5 impostor scores reach FMR 1e-5: the x axis goes down to it
        # (it used to stop at 1e-4 whatever the data).
        g, i = scores(3, 2_000, 100_000)
        ax = btp.plot.det(g, i)
        lo, hi = ax.get_xlim()
        assert lo == pytest.approx(probit(1e-5)) and hi == pytest.approx(probit(0.5))
        assert ax.get_ylim()[0] == pytest.approx(probit(1e-4))  # 2,000 genuine: 5e-4 -> 1e-4
        # Few scores: a narrower range.
        ax = btp.plot.det(*scores(4, 50, 200))
        assert ax.get_xlim()[0] == pytest.approx(probit(1e-3))
        # Caller's limits win.
        ax = btp.plot.det(g, i, xlim=(1e-3, 0.2), ylim=(0.01, 0.9))
        assert ax.get_xlim() == pytest.approx((probit(1e-3), probit(0.2)))
        assert ax.get_ylim() == pytest.approx((probit(0.01), probit(0.9)))
        labels = [t.get_text() for t in ax.get_xticklabels()]
        assert labels[0] == "0.1" and "50" not in labels
    finally:
        plt.close("all")


def test_docstrings_state_the_constraints():
    assert "bits <= dim" in btp.BioHash.__doc__
    assert "window <= dim" in btp.IoM.__doc__ and "2 <= window <= 256" in btp.IoM.__doc__
    assert "2**20" in ev.unlinkability.__doc__
    assert "clamped" in ev.cmc.__doc__
