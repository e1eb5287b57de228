"""Evaluation metrics of btp (the core's ``btp::eval``), for notebooks.

Conventions, as in the core:

- Scores are **similarities**: a comparison is accepted iff
  ``score >= threshold``. For distances, negate them.
- ``genuine`` (mated) scores compare two samples of one person, ``impostor``
  (non-mated) scores two people.
- ``FMR(t)`` = fraction of impostor scores ``>= t``; ``FNMR(t)`` = fraction
  of genuine scores ``< t``.
- Scores are 1-D arrays of real numbers (any float or integer dtype, read as
  ``float64``), finite and non-empty (:class:`btp.InvalidScoresError`, also
  a ``ValueError``, names the input and index of the first bad value). A 2-D
  array is refused, not flattened (a score matrix goes through
  :func:`split_scores`); booleans and strings are refused, not converted.
- Labels (subjects, groups) are numbers or strings, 1-D, compared as Python
  compares them: labels that mix numbers and strings, ``None`` or NaN are
  refused (:class:`btp.InvalidParameterError`), never turned into strings.
- Integer arguments (``max_rank``, ``rank``, ``bins``, ``errors``) are
  Python or numpy integers, real ones (``threshold``, ``fmr``) numbers; a
  bool, a string, a float for an integer or a value out of range is an
  :class:`btp.InvalidParameterError` naming the argument, never truncated.

DET and ROC agree point for point with scikit-learn's ``det_curve`` and
``roc_curve``; the EER is the FVC2000 value that pyeer computes;
identification follows NIST FRVT (ties counted against the mate);
unlinkability is Gomez-Barrero et al. (IEEE TIFS 2018). Every function runs
without the GIL.

Every result converts to a table: ``result.to_records()`` (a list of dicts)
and ``result.to_frame()`` (a pandas DataFrame; pandas is the optional extra
``btp[pandas]``). :func:`btp.to_frame` makes one table of several results.
"""

from __future__ import annotations

from typing import Any, Literal, Optional, Sequence, Tuple, Union, overload

import numpy as np
import numpy.typing as npt

from btp import _eval_types, _labels, _native
from btp._eval_types import *  # the result types: _eval_types.__all__
from btp._native import eval as _ev

__all__ = [
    "det",
    "roc",
    "eer",
    "fnmr_at_fmr",
    "threshold_at_fmr",
    "operating_point",
    "clopper_pearson",
    "split_scores",
    "mates",
    "linkage_scores",
    "cmc",
    "fnir_at_fpir",
    "identification_point",
    "fnir_fpir_curve",
    "differentials",
    "unlinkability",
    "unlinkability_details",
    "protection_report",
]
__all__ += _eval_types.__all__

FloatArray = npt.NDArray[np.float64]
ArrayLike = npt.ArrayLike


def _array(x: Any, name: str, *, subclass: bool = False) -> npt.NDArray[Any]:
    """``x`` as an array, as numpy reads it (no dtype is forced: the native
    module refuses what is not a number); a ragged nesting is a
    :class:`btp.DimensionError` naming ``name``, not numpy's ValueError.
    ``subclass`` keeps a :class:`btp.Codes` array (and its origin) as it is."""
    try:
        return np.asanyarray(x) if subclass else np.asarray(x)
    except ValueError as e:
        raise _native.DimensionError(f"`{name}` must be a rectangular array of numbers") from e


# --------------------------------------------------------------------------
# Verification


def det(genuine: ArrayLike, impostor: ArrayLike) -> DetCurve:
    """DET curve ``(fmr, fnmr, thresholds)``, as scikit-learn's ``det_curve``."""
    return _ev.det(_array(genuine, "genuine"), _array(impostor, "impostor"))


def roc(genuine: ArrayLike, impostor: ArrayLike) -> RocCurve:
    """Full ROC ``(fmr, fnmr, thresholds)``, as ``roc_curve(drop_intermediate=False)``."""
    return _ev.roc(_array(genuine, "genuine"), _array(impostor, "impostor"))


def eer(genuine: ArrayLike, impostor: ArrayLike) -> Eer:
    """Equal error rate ``(eer, threshold, fmr, fnmr)`` by the FVC2000
    method (pyeer), with the FMR and FNMR at that threshold.

    ``e, t, *_ = eer(g, i)`` unpacks the first two (the result had two
    fields before btp 0.1; see :class:`Eer`)."""
    return _ev.eer(_array(genuine, "genuine"), _array(impostor, "impostor"))


def threshold_at_fmr(impostor: ArrayLike, fmr: float) -> float:
    """The smallest threshold whose FMR on ``impostor`` is at most ``fmr``
    (a rate in ``[0, 1]``)."""
    return _ev.threshold_at_fmr(_array(impostor, "impostor"), fmr)


@overload
def fnmr_at_fmr(genuine: ArrayLike, impostor: ArrayLike, fmr: float) -> FnmrAtFmr: ...
@overload
def fnmr_at_fmr(genuine: ArrayLike, impostor: ArrayLike, fmr: Sequence[float]) -> FnmrAtFmrs: ...
@overload
def fnmr_at_fmr(genuine: ArrayLike, impostor: ArrayLike, fmr: npt.NDArray[Any]) -> FnmrAtFmrs: ...
def fnmr_at_fmr(genuine: ArrayLike, impostor: ArrayLike, fmr: Any) -> Union[FnmrAtFmr, FnmrAtFmrs]:
    """``(fnmr, threshold, achieved_fmr)`` at the threshold of
    :func:`threshold_at_fmr`.

    ``fmr`` may be one target (a :class:`FnmrAtFmr`) or a sequence of
    targets (an :class:`FnmrAtFmrs` of arrays aligned with them, the scores
    sorted once): ``fnmr_at_fmr(g, i, [1e-4, 1e-3, 1e-2]).fnmr``.
    """
    genuine, impostor = _array(genuine, "genuine"), _array(impostor, "impostor")
    targets = _array(fmr, "fmr")
    if targets.ndim == 0:
        return _ev.fnmr_at_fmr(genuine, impostor, fmr)
    if targets.ndim != 1:
        raise _native.DimensionError(f"`fmr` must be one target or a 1-D sequence, got {targets.ndim} dimension(s)")
    if targets.dtype.kind not in "iuf":
        raise _labels.param_error("fmr", f"targets are real numbers, not dtype {targets.dtype}")
    return _ev.fnmr_at_fmrs(genuine, impostor, targets)


def operating_point(genuine: ArrayLike, impostor: ArrayLike, threshold: float) -> OperatingPoint:
    """FMR and FNMR with their counts at ``threshold``."""
    return _ev.operating_point(_array(genuine, "genuine"), _array(impostor, "impostor"), threshold)


def clopper_pearson(errors: int, trials: int, confidence: float = 0.95) -> Tuple[float, float]:
    """Exact binomial (Clopper-Pearson) interval of ``errors / trials``
    (``0 <= errors <= trials``, ``0 < confidence < 1``)."""
    return _ev.clopper_pearson(errors, trials, confidence)


@overload
def split_scores(
    scores: ArrayLike,
    row_labels: ArrayLike,
    column_labels: Optional[ArrayLike] = ...,
    *,
    return_indices: Literal[False] = ...,
) -> Tuple[FloatArray, FloatArray]: ...
@overload
def split_scores(
    scores: ArrayLike,
    row_labels: ArrayLike,
    column_labels: Optional[ArrayLike] = ...,
    *,
    return_indices: Literal[True],
) -> SplitScores: ...
def split_scores(
    scores: ArrayLike,
    row_labels: ArrayLike,
    column_labels: Optional[ArrayLike] = None,
    *,
    return_indices: bool = False,
) -> Union[Tuple[FloatArray, FloatArray], SplitScores]:
    """``(genuine, impostor)`` scores of a labelled score matrix, row-major.

    With ``column_labels=None`` the matrix compares one set with itself
    (square, e.g. ``prot.scores(codes, codes)``): each unordered pair counts
    once and nobody is compared with themselves. Labels may be numbers or
    strings (both sides of one kind, see the module docs).

    ``return_indices=True`` gives a :class:`SplitScores` that also holds the
    ``[row, column]`` of every score (``(n, 2)`` ``int64``), so per-pair
    metadata needs no loop: ``groups[s.genuine_pairs[:, 0]]``.
    """
    if not isinstance(return_indices, (bool, np.bool_)):
        raise _labels.param_error("return_indices", "must be True or False")
    if column_labels is None:
        _, (rows,) = _labels.codes(("row_labels", row_labels))
        cols = None
    else:
        _, (rows, cols) = _labels.codes(("row_labels", row_labels), ("column_labels", column_labels))
    m = _array(scores, "scores")
    if return_indices:
        return _ev.split_scores_with_pairs(m, rows, cols)
    return _ev.split_scores(m, rows, cols)


def mates(probe_labels: ArrayLike, gallery_labels: ArrayLike) -> npt.NDArray[np.int64]:
    """For each probe, the gallery column with the same label, or -1: the
    ``mates`` argument of the identification metrics. One gallery entry per
    label; both sides numbers, or both strings."""
    _, (p, g) = _labels.codes(("probe_labels", probe_labels), ("gallery_labels", gallery_labels))
    return _ev.mates(p, g)


def linkage_scores(
    codes_a: ArrayLike,
    codes_b: ArrayLike,
    labels: ArrayLike,
    prot_a: _native.Protector,
    prot_b: _native.Protector,
    *,
    max_nonmated: int = 2_000_000,
) -> LinkageScores:
    """Mated and non-mated linkage scores of the same samples under two
    applications (Gomez-Barrero et al. 2018), for :func:`unlinkability`.

    Row ``i`` of ``codes_a`` (``prot_a.protect_batch(X)``) and of ``codes_b``
    (``prot_b.protect_batch(X)``) is sample ``i`` of subject ``labels[i]``;
    the two protectors share the scheme (else ``SchemeMismatchError``) and
    differ in application or version. Mated: sample ``i`` under ``a``
    against another sample ``j != i`` of the same subject under ``b``;
    non-mated: against a sample of another subject, an evenly spaced
    subsample of at most ``max_nonmated`` pairs.

    >>> d_sys = btp.eval.unlinkability(*btp.eval.linkage_scores(ca, cb, y, a, b)).d_sys
    """
    _, (codes,) = _labels.codes(("labels", labels))
    a = _array(codes_a, "codes_a", subclass=True)
    b = _array(codes_b, "codes_b", subclass=True)
    return _ev.linkage_scores(prot_a, a, prot_b, b, codes, max_nonmated)


# --------------------------------------------------------------------------
# Identification
#
# ``scores`` is the ``(searches, gallery)`` similarity matrix (real numbers);
# ``mates`` the gallery column of each search's mate or -1, as integers (a
# float or bool array is refused, never truncated; see :func:`mates`).


def cmc(scores: ArrayLike, mates: ArrayLike, max_rank: Optional[int] = None) -> FloatArray:
    """Cumulative match characteristic: element ``k-1`` is the rank-``k``
    identification rate of the mated searches.

    ``max_rank`` (at least 1) defaults to the gallery size, and a larger one
    is clamped to it (every mate has a rank within the gallery, where the
    rate is 1): the curve has ``min(max_rank, gallery size)`` elements.
    """
    return _ev.cmc(_array(scores, "scores"), _array(mates, "mates"), max_rank)


def fnir_at_fpir(scores: ArrayLike, mates: ArrayLike, fpir: float, rank: int = 1) -> FnirAtFpir:
    """``(fnir, threshold, achieved_fpir)`` at rank ``rank`` (at least 1) and
    the threshold that gives FPIR at most ``fpir`` (a rate in ``[0, 1]``;
    NIST FRVT definitions)."""
    s, m = _array(scores, "scores"), _array(mates, "mates")
    return _ev.fnir_at_fpir(s, m, rank, fpir)


def identification_point(
    scores: ArrayLike, mates: ArrayLike, threshold: float, rank: int = 1
) -> IdentificationPoint:
    """FNIR and FPIR with their counts at ``threshold`` and ``rank``."""
    s, m = _array(scores, "scores"), _array(mates, "mates")
    return _ev.identification_point(s, m, rank, threshold)


def fnir_fpir_curve(scores: ArrayLike, mates: ArrayLike, rank: int = 1) -> IdentificationCurve:
    """The FNIR/FPIR trade-off at ``rank`` over every threshold."""
    s, m = _array(scores, "scores"), _array(mates, "mates")
    return _ev.fnir_fpir_curve(s, m, rank)


# --------------------------------------------------------------------------
# Differentials


def differentials(
    scores: ArrayLike,
    labels_or_pairs: ArrayLike,
    groups: Union[Sequence[Any], ArrayLike],
    threshold: float,
    *,
    confidence: float = 0.95,
    garbe_alpha: float = 0.25,
) -> Differentials:
    """Per-group FMR and FNMR at one ``threshold``, with Clopper-Pearson
    intervals, max/min and max/geometric-mean ratios, Gini coefficients and
    GARBE (Howard et al. 2022).

    ``labels_or_pairs`` says which comparisons are genuine: one flag per
    score (booleans, or numbers that are 0 or 1: a string such as
    ``"False"`` is refused, not read as true), or an ``(n, 2)`` array of the
    two subject labels of each comparison (genuine iff equal). ``groups``
    gives each comparison's group (numbers or strings, not both); the result
    is keyed by them, with their own type. ``0 < confidence < 1``,
    ``0 <= garbe_alpha <= 1``.
    """
    lp = _array(labels_or_pairs, "labels_or_pairs")
    if lp.ndim == 2:
        if lp.shape[1] != 2:
            raise _native.DimensionError(
                "labels_or_pairs must be one flag per score or an (n, 2) array of subject labels"
            )
        _, (a, b) = _labels.codes(("labels_or_pairs[:, 0]", lp[:, 0]), ("labels_or_pairs[:, 1]", lp[:, 1]))
        genuine = np.asarray(a == b, dtype=np.uint8)
    else:
        genuine = _labels.flags(lp, "labels_or_pairs")
    names, (codes,) = _labels.codes(("groups", groups))
    # names.tolist(): the labels as Python values (numpy scalars become
    # Python numbers and strings), the keys of the result.
    return _ev.differentials(
        _array(scores, "scores"), genuine, codes, names.tolist(), threshold, confidence, garbe_alpha
    )


# --------------------------------------------------------------------------
# Unlinkability and the auditor protocol


def unlinkability_details(
    mated: ArrayLike,
    nonmated: ArrayLike,
    bins: int = 100,
    omega: float = 1.0,
    range: Optional[Tuple[float, float]] = None,
) -> UnlinkabilityDetails:
    """:func:`unlinkability` with the bin edges and densities."""
    return _ev.unlinkability_details(_array(mated, "mated"), _array(nonmated, "nonmated"), bins, range, omega)


def unlinkability(
    mated: ArrayLike,
    nonmated: ArrayLike,
    bins: int = 100,
    omega: float = 1.0,
    range: Optional[Tuple[float, float]] = None,
) -> Unlinkability:
    """``(d_sys, d_local, bin_centres)`` of mated and non-mated linkage
    scores (Gomez-Barrero et al. 2018, as their reference code computes
    them; :func:`linkage_scores` builds them from two applications' codes).
    ``bins`` is in ``2..=2**20``; ``range`` ``(lo, hi)`` with ``lo < hi``
    defaults to the smallest and largest score; ``omega`` (positive) is the
    prior ratio P(mated)/P(non-mated)."""
    return _ev.unlinkability(_array(mated, "mated"), _array(nonmated, "nonmated"), bins, range, omega)


def protection_report(
    x: ArrayLike,
    labels: ArrayLike,
    scheme: _native.Scheme,
    mk: Optional[_native.MasterKey] = None,
    *,
    application: str = "audit",
    version: int = 1,
    target_fmr: float = 1e-3,
    bins: int = 100,
    range: Tuple[float, float] = (0.0, 1.0),
    omega: float = 1.0,
    max_nonmated_linkage_pairs: int = 2_000_000,
) -> ProtectionReport:
    """The auditor protocol of the core on labelled feature vectors ``x``
    ``(n, dim)``: unprotected (cosine after the scheme's preprocessing),
    normal (a key per subject) and stolen-key (one key) EER and FNMR at
    ``target_fmr``, and D_sys of two applications' templates.

    ``mk`` defaults to a fresh random key (the figures do not depend on
    which key, only on there being one). ``version`` is a ``u32``; ``bins``,
    ``range`` and ``omega`` are :func:`unlinkability`'s. Every pair of
    ``x`` is scored: memory grows as ``n**2`` (an
    :class:`btp.OutOfMemoryError` when it does not fit).
    """
    key = mk if mk is not None else _native.MasterKey.generate()
    _, (codes,) = _labels.codes(("labels", labels))
    return _ev.protection_report(
        _array(x, "x"),
        codes,
        scheme,
        key,
        application,
        version,
        target_fmr,
        bins,
        range,
        omega,
        max_nonmated_linkage_pairs,
    )

