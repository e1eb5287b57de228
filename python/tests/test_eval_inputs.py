"""btp.eval, btp.plot and btp.synthetic refuse what is ambiguous and never
abort, overflow or panic on a caller's size (issue 13, classes 1, 2, 7, 8).

Each test names the defect it pins: every one failed on the code before
(silently coerced, raised OverflowError, or aborted the interpreter). The
size tests run in a child interpreter, so that an abort is a failing test,
not a dead test run.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap

import numpy as np
import pytest

import btp
from btp import _native
from btp import eval as ev

G = np.array([0.9, 0.8, 0.85, 0.6])
I = np.array([0.1, 0.3, 0.2, 0.5, 0.4])


def raises(cls, fn, *args, match=None, **kwargs):
    with pytest.raises(cls, match=match) as info:
        fn(*args, **kwargs)
    assert isinstance(info.value, btp.BtpError), type(info.value)
    return info.value


def in_child(code: str) -> str:
    """Runs ``code`` in a fresh interpreter; it must exit normally."""
    out = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True, timeout=300
    )
    assert out.returncode == 0, f"exit {out.returncode}: {out.stderr[-2000:]}"
    return out.stdout


# --------------------------------------------------------------------------
# Class 8: silent coercions


def test_string_flags_are_not_truths():
    # 'False' was read as True (non-empty string) by astype(bool).
    scores = [0.9, 0.2, 0.8, 0.3]
    for flags in (["True", "False", "True", "False"], np.array(["1", "0", "1", "0"], dtype=object)):
        raise_ = raises(btp.InvalidParameterError, ev.differentials, scores, flags, ["a"] * 4, 0.5)
        assert "labels_or_pairs" in str(raise_)
    # 2 is not a flag either (it was "true").
    raises(btp.InvalidParameterError, ev.differentials, scores, [1, 0, 2, 0], ["a"] * 4, 0.5)
    raises(btp.InvalidParameterError, ev.differentials, scores, [1.0, 0.0, 0.5, 0.0], ["a"] * 4, 0.5)
    # Real flags, in every honest spelling, give one answer.
    want = ev.differentials(scores, [True, False, True, False], ["a"] * 4, 0.5)
    for flags in ([1, 0, 1, 0], np.array([1.0, 0.0, 1.0, 0.0]), np.array([True, False, True, False], dtype=object)):
        assert ev.differentials(scores, flags, ["a"] * 4, 0.5) == want
    # The native function refuses as well.
    raises(btp.InvalidParameterError, _native.eval.differentials, np.array(scores),
           np.array([1, 0, 2, 0]), np.zeros(4, np.uint32), ["a"], 0.5, 0.95, 0.25)


@pytest.mark.parametrize("fn, extra", [
    (ev.cmc, ()),
    (ev.fnir_at_fpir, (0.1,)),
    (ev.identification_point, (0.5,)),
    (ev.fnir_fpir_curve, ()),
])
def test_float_mates_are_not_truncated(fn, extra):
    # mates [0.7, 1.6, -1.0] became columns [0, 1, -1].
    scores = np.array([[0.9, 0.1], [0.2, 0.8], [0.3, 0.4]])
    e = raises(btp.InvalidParameterError, fn, scores, [0.7, 1.6, -1.0], *extra)
    assert "mates" in str(e)
    raises(btp.InvalidParameterError, fn, scores, [True, False, False], *extra)
    raises(btp.InvalidParameterError, fn, scores, ["0", "1", "-1"], *extra)
    fn(scores, np.array([0, 1, -1]), *extra)  # integers work


def test_mixed_label_types_are_not_collapsed_to_strings():
    s = np.array([[0.9, 0.1], [0.2, 0.8]])
    # Rows 1, 2 against columns "1", "2": numpy made them all strings and
    # found two genuine pairs; Python says 1 != "1".
    e = raises(btp.InvalidParameterError, ev.split_scores, s, [1, 2], ["1", "2"])
    assert "column_labels" in str(e)
    raises(btp.InvalidParameterError, ev.mates, ["1"], [1])
    # One array mixing them: [1, "1"] became ["1", "1"], one subject.
    e = raises(btp.InvalidParameterError, ev.split_scores, np.eye(2), np.array([1, "1"], dtype=object))
    assert "row_labels" in str(e) and "mix" in str(e)
    # The same as a plain list: np.asarray made it ["1", "1"] before the
    # check could see the types.
    e = raises(btp.InvalidParameterError, ev.split_scores, np.eye(4), [1, "1", 1, "1"])
    assert "row_labels" in str(e) and "mix" in str(e)
    raises(btp.InvalidParameterError, ev.differentials, [0.9, 0.2], [1, 0], [1, "1"], 0.5)
    g, i = ev.split_scores(np.eye(4), ["a", "b", "a", "b"])
    assert len(g) == 2 and len(i) == 4  # pairs i < j
    # Groups keep their own type; mixed ones are refused.
    d = ev.differentials([0.9, 0.2, 0.8, 0.3], [1, 0, 1, 0], [7, 7, 8, 8], 0.5)
    assert set(d.groups) == {7, 8} and all(type(k) is int for k in d.groups)
    raises(btp.InvalidParameterError, ev.differentials, [0.9, 0.2], [1, 0], np.array([1, "1"], dtype=object), 0.5)
    raises(btp.InvalidParameterError, ev.differentials, [0.9, 0.2], np.array([[1, "1"], ["1", 1]], dtype=object),
           ["g", "g"], 0.5)


def test_missing_labels_are_refused():
    s = np.eye(2)
    # NaN labels were merged by np.unique into one "subject".
    raises(btp.InvalidParameterError, ev.split_scores, s, [np.nan, np.nan], match="NaN")
    raises(btp.InvalidParameterError, ev.split_scores, s, np.array(["a", None], dtype=object), match="None")
    raises(btp.InvalidParameterError, ev.mates, [1.0], [np.inf])


def test_labels_are_compared_exactly():
    # int64 with float64 labels met as float64: 2**53 + 1 matched 2**53.
    raises(btp.InvalidParameterError, ev.mates, np.array([2**53 + 1]), np.array([float(2**53)]))
    assert ev.mates(np.array([3]), np.array([3.0, 2.5])).tolist() == [0]
    # int64 with uint64 met as float64: 2**62 matched 2**62 + 1.
    got = ev.mates(np.array([-1, 2**62], np.int64), np.array([2**62 + 1], np.uint64))
    assert got.tolist() == [-1, -1]
    assert ev.mates(np.array([5], np.int64), np.array([2**63 + 5, 5], np.uint64)).tolist() == [1]
    # Python ints beyond 64 bits are compared as Python compares them.
    big = np.array([2**70, 2**70 + 1], dtype=object)
    assert ev.mates(big[::-1], big).tolist() == [1, 0]


def test_label_and_score_arrays_are_not_flattened():
    # A 2-D score array was flattened into one list of scores.
    e = raises(btp.DimensionError, ev.eer, np.ones((3, 3)), I)
    assert "genuine" in str(e)
    raises(btp.DimensionError, ev.det, G, I.reshape(5, 1))
    raises(btp.DimensionError, ev.split_scores, np.eye(2), [[0], [1]])
    raises(btp.DimensionError, ev.eer, [[0.9], [0.8, 0.7]], I)  # ragged


def test_scores_that_are_not_numbers_are_refused():
    # Strings were parsed ("0.9" -> 0.9) and booleans counted as 0/1.
    e = raises(btp.InvalidParameterError, ev.eer, ["0.9", "0.8"], I)
    assert "genuine" in str(e)
    raises(btp.InvalidParameterError, ev.eer, G, [True, False])
    raises(btp.InvalidParameterError, ev.split_scores, np.array([["1", "0"], ["0", "1"]]), [0, 1])
    ev.eer(G.astype(np.float32), I.astype(np.int64))  # other real dtypes are fine


@pytest.mark.parametrize("call, name", [
    (lambda: ev.clopper_pearson(2.7, 10), "errors"),
    (lambda: ev.clopper_pearson(True, 10), "errors"),
    (lambda: ev.clopper_pearson("2", 10), "errors"),
    (lambda: ev.unlinkability(G, I, bins=10.9), "bins"),
    (lambda: ev.cmc(np.eye(3), [0, 1, 2], max_rank=2.0), "max_rank"),
    (lambda: ev.fnir_at_fpir(np.eye(3), [0, 1, -1], 0.1, rank=1.5), "rank"),
    (lambda: btp.synthetic.population(10.7), "subjects"),
    (lambda: btp.synthetic.population(seed=1.5), "seed"),
    (lambda: ev.threshold_at_fmr(I, "0.1"), "fmr"),
    (lambda: ev.operating_point(G, I, True), "threshold"),
    (lambda: ev.differentials(G, [1, 1, 1, 1], [0] * 4, "0.5"), "threshold"),
    (lambda: ev.unlinkability(G, I, omega="1"), "omega"),
    (lambda: ev.unlinkability(G, I, range=(0.0, "1")), "range"),
    (lambda: ev.unlinkability(G, I, range="01"), "range"),
])
def test_numbers_are_not_truncated_or_parsed(call, name):
    # int(2.7) == 2 and float("0.1") == 0.1 were applied silently.
    with pytest.raises(btp.InvalidParameterError, match=f"`{name}`"):
        call()


def test_plots_refuse_nan_and_bad_arguments():
    pytest.importorskip("matplotlib")
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    try:
        # NaN scores went into the histogram; a NaN threshold drew nothing.
        raises(btp.InvalidScoresError, btp.plot.score_histograms, [0.5, np.nan], [0.1], match="genuine")
        raises(btp.InvalidScoresError, btp.plot.score_histograms, [0.5], [], match="impostor")
        raises(btp.InvalidParameterError, btp.plot.score_histograms, [0.5], [0.1], threshold=np.nan)
        raises(btp.InvalidParameterError, btp.plot.score_histograms, [0.5], [0.1], threshold="0.5")
        raises(btp.InvalidParameterError, btp.plot.score_histograms, [0.5], [0.1], bins=2.5)
        raises(btp.InvalidScoresError, btp.plot.det, [0.5, np.inf], [0.1])
        raises(btp.InvalidParameterError, btp.plot.det, np.array([0.5, 0.6]))  # impostor forgotten
        raises(btp.InvalidParameterError, btp.plot.det, G, I, xlim=(0.5, 0.1))
        raises(btp.InvalidParameterError, btp.plot.det, G, I, ylim=(0.0, 0.5))
        raises(btp.InvalidParameterError, btp.plot.unlinkability, G, I, bins=-3)
    finally:
        plt.close("all")


# --------------------------------------------------------------------------
# Classes 1, 2, 7: sizes and integers from the caller


@pytest.mark.parametrize("call, name", [
    (lambda: ev.cmc(np.eye(3), [0, 1, 2], max_rank=-1), "max_rank"),
    (lambda: ev.fnir_at_fpir(np.eye(3), [0, 1, -1], 0.1, rank=-1), "rank"),
    (lambda: ev.identification_point(np.eye(3), [0, 1, -1], 0.5, rank=2**64), "rank"),
    (lambda: ev.fnir_fpir_curve(np.eye(3), [0, 1, -1], rank=-(2**80)), "rank"),
    (lambda: ev.unlinkability(G, I, bins=-1), "bins"),
    (lambda: ev.unlinkability(G, I, bins=2**64), "bins"),
    (lambda: ev.clopper_pearson(-1, 10), "errors"),
    (lambda: ev.clopper_pearson(1, 2**64), "trials"),
    (lambda: btp.synthetic.population(subjects=-1), "subjects"),
    (lambda: btp.synthetic.population(samples=-5), "samples"),
    (lambda: btp.synthetic.population(dim=-128), "dim"),
    (lambda: btp.synthetic.population(seed=-1), "seed"),
    (lambda: btp.synthetic.population(seed=2**64), "seed"),
])
def test_negative_and_huge_integers_name_the_argument(call, name):
    # These raised OverflowError ("can't convert negative int to unsigned").
    with pytest.raises(btp.InvalidParameterError, match=f"`{name}`") as info:
        call()
    assert not isinstance(info.value, OverflowError)


def test_protection_report_integers(population, scheme, mk):
    x, labels = population
    for kwargs, name in [
        (dict(version=2**32), "version"),
        (dict(version=-1), "version"),
        (dict(bins=-1), "bins"),
        (dict(bins=10**12), "bins"),
        (dict(max_nonmated_linkage_pairs=-1), "max_nonmated_linkage_pairs"),
        (dict(target_fmr="0.1"), "target_fmr"),
    ]:
        with pytest.raises(btp.InvalidParameterError, match=f"`{name}`"):
            ev.protection_report(x[:20], labels[:20], scheme, mk, **kwargs)


def test_caller_sizes_never_abort():
    # Each of these aborted the interpreter (allocation failure) or sized an
    # allocation from a typo.
    out = in_child(
        """
        import numpy as np, btp
        from btp import eval as ev
        s = np.array([[0.9, 0.1, 0.5], [0.2, 0.8, 0.5]])
        c = ev.cmc(s, [0, 1], max_rank=10**12)
        assert c.tolist() == [1.0, 1.0, 1.0], c
        assert ev.cmc(s, [0, 1], max_rank=2).tolist() == [1.0, 1.0]
        try:
            ev.unlinkability([0.5, 0.6], [0.1, 0.2], bins=10**12)
        except btp.InvalidParameterError as e:
            assert "`bins`" in str(e)
        else:
            raise AssertionError("bins=10**12 accepted")
        try:
            btp.synthetic.population(10**6, 10**3, 512)
        except btp.OutOfMemoryError as e:
            assert isinstance(e, MemoryError) and isinstance(e, btp.BtpError)
        else:
            raise AssertionError("a 2 TB population was generated")
        try:
            btp.synthetic.population(2**31, 2**31, 2**31)
        except btp.OutOfMemoryError:
            pass
        try:
            btp.synthetic.population(2**32 + 1, 1, 1)
        except btp.InvalidParameterError as e:
            assert "`subjects`" in str(e)
        print("survived")
        """
    )
    assert out.strip() == "survived"


def test_native_label_codes_are_range_checked():
    # astype(uint32) wrapped -1 to 4294967295 and 2**32 to 0.
    s = np.eye(2)
    raises(btp.InvalidParameterError, _native.eval.split_scores, s, np.array([-1, 0]), None)
    raises(btp.InvalidParameterError, _native.eval.mates, np.array([2**32]), np.array([0]))
    raises(btp.InvalidParameterError, _native.eval.split_scores, s, np.array([0.0, 1.0]), None)
