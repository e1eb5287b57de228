"""Evaluation metrics of btp (the core's ``btp::eval``), for notebooks.

Conventions, as in the core:

- Scores are **similarities**: a comparison is accepted iff
  ``score >= threshold``. For distances, negate them.
- ``genuine`` (mated) scores compare two samples of one person, ``impostor``
  (non-mated) scores two people.
- ``FMR(t)`` = fraction of impostor scores ``>= t``; ``FNMR(t)`` = fraction
  of genuine scores ``< t``.
- Scores must be finite and non-empty (:class:`btp.InvalidScoresError`,
  also a ``ValueError``, names the input and index of the first bad value).

Score arrays are read as contiguous ``float64`` (others are converted once).
DET and ROC agree point for point with scikit-learn's ``det_curve`` and
``roc_curve``; the EER is the FVC2000 value that pyeer computes;
identification follows NIST FRVT (ties counted against the mate);
unlinkability is Gomez-Barrero et al. (IEEE TIFS 2018). Every function runs
without the GIL.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Dict, NamedTuple, Optional, Sequence, Tuple

import numpy as np
import numpy.typing as npt

from btp import _native

__all__ = [
    "DetCurve",
    "RocCurve",
    "Eer",
    "FnmrAtFmr",
    "OperatingPoint",
    "FnirAtFpir",
    "IdentificationPoint",
    "IdentificationCurve",
    "Unlinkability",
    "UnlinkabilityDetails",
    "RateEstimate",
    "GroupRates",
    "Disparity",
    "Differentials",
    "ScenarioReport",
    "ProtectionReport",
    "det",
    "roc",
    "eer",
    "fnmr_at_fmr",
    "threshold_at_fmr",
    "operating_point",
    "clopper_pearson",
    "split_scores",
    "mates",
    "cmc",
    "fnir_at_fpir",
    "identification_point",
    "fnir_fpir_curve",
    "differentials",
    "unlinkability",
    "unlinkability_details",
    "protection_report",
]

FloatArray = npt.NDArray[np.float64]
ArrayLike = npt.ArrayLike


def _scores(x: ArrayLike) -> FloatArray:
    return np.ascontiguousarray(x, dtype=np.float64).reshape(-1)


# --------------------------------------------------------------------------
# Result types


class DetCurve(NamedTuple):
    """DET curve, thresholds increasing (scikit-learn's ``det_curve``)."""

    fmr: FloatArray
    fnmr: FloatArray
    thresholds: FloatArray


class RocCurve(NamedTuple):
    """ROC as FMR/FNMR, thresholds decreasing from ``inf`` (``roc_curve``)."""

    fmr: FloatArray
    fnmr: FloatArray
    thresholds: FloatArray


class Eer(NamedTuple):
    """Equal error rate and the threshold where it was taken."""

    eer: float
    threshold: float


class FnmrAtFmr(NamedTuple):
    """FNMR at the smallest threshold whose FMR is at most the target."""

    fnmr: float
    threshold: float
    achieved_fmr: float


class OperatingPoint(NamedTuple):
    """Error rates and counts at one threshold."""

    threshold: float
    fmr: float
    fnmr: float
    false_matches: int
    impostors: int
    false_non_matches: int
    genuines: int


class FnirAtFpir(NamedTuple):
    """FNIR at the threshold that gives FPIR at most the target."""

    fnir: float
    threshold: float
    achieved_fpir: float


class IdentificationPoint(NamedTuple):
    """FNIR and FPIR with their counts at one threshold and rank."""

    threshold: float
    rank: int
    fnir: float
    fpir: float
    misses: int
    mated: int
    false_positives: int
    nonmated: int


class IdentificationCurve(NamedTuple):
    """FNIR/FPIR trade-off, thresholds increasing to ``inf``."""

    thresholds: FloatArray
    fpir: FloatArray
    fnir: FloatArray


class Unlinkability(NamedTuple):
    """Global ``D_sys`` and local ``D(s)`` linkage measures."""

    d_sys: float
    d_local: FloatArray
    bin_centres: FloatArray


class UnlinkabilityDetails(NamedTuple):
    """:class:`Unlinkability` with the histogram behind it (for plots)."""

    d_sys: float
    d_local: FloatArray
    bin_centres: FloatArray
    bin_edges: FloatArray
    mated_density: FloatArray
    nonmated_density: FloatArray


class RateEstimate(NamedTuple):
    """``errors / trials`` with a Clopper-Pearson interval (None if no trial)."""

    errors: int
    trials: int
    rate: Optional[float]
    interval: Optional[Tuple[float, float]]


class GroupRates(NamedTuple):
    """FMR and FNMR of one group."""

    fmr: RateEstimate
    fnmr: RateEstimate


class Disparity(NamedTuple):
    """Spread of one error rate across groups (see the core's docs for the
    zero-error and zero-trial cases)."""

    groups: int
    min: Optional[float]
    max: Optional[float]
    max_min_ratio: Optional[float]
    max_geomean_ratio: Optional[float]
    gini: Optional[float]


@dataclass(frozen=True)
class Differentials:
    """Per-group FMR/FNMR at one threshold and their spread (GARBE)."""

    threshold: float
    groups: Dict[Any, GroupRates]
    fmr: Disparity
    fnmr: Disparity
    garbe: Optional[float]
    garbe_alpha: float


@dataclass(frozen=True)
class ScenarioReport:
    """Verification accuracy of one scenario of the auditor protocol."""

    eer: float
    eer_threshold: float
    at_target_fmr: OperatingPoint
    genuine_pairs: int
    impostor_pairs: int
    genuine_mean: float
    impostor_mean: float


@dataclass(frozen=True)
class ProtectionReport:
    """The auditor protocol: unprotected (cosine) vs protected accuracy under
    per-subject keys (``normal``) and one stolen key (``stolen_key``), and
    cross-application unlinkability."""

    scheme: str
    code_len: int
    unprotected: ScenarioReport
    normal: ScenarioReport
    stolen_key: ScenarioReport
    unlinkability: Unlinkability
    mated_linkage_pairs: int
    nonmated_linkage_pairs: int

    @property
    def d_sys(self) -> float:
        """Global linkage ``D_sys`` across two applications (0 = unlinkable)."""
        return self.unlinkability.d_sys


# --------------------------------------------------------------------------
# Verification


def det(genuine: ArrayLike, impostor: ArrayLike) -> DetCurve:
    """DET curve ``(fmr, fnmr, thresholds)``, as scikit-learn's ``det_curve``."""
    return DetCurve(*_native.eval_det(_scores(genuine), _scores(impostor)))


def roc(genuine: ArrayLike, impostor: ArrayLike) -> RocCurve:
    """Full ROC ``(fmr, fnmr, thresholds)``, as ``roc_curve(drop_intermediate=False)``."""
    return RocCurve(*_native.eval_roc(_scores(genuine), _scores(impostor)))


def eer(genuine: ArrayLike, impostor: ArrayLike) -> Eer:
    """Equal error rate ``(eer, threshold)`` by the FVC2000 method (pyeer)."""
    e, t, _fmr, _fnmr = _native.eval_eer(_scores(genuine), _scores(impostor))
    return Eer(e, t)


def threshold_at_fmr(impostor: ArrayLike, fmr: float) -> float:
    """The smallest threshold whose FMR on ``impostor`` is at most ``fmr``."""
    t, _achieved = _native.eval_threshold_at_fmr(_scores(impostor), float(fmr))
    return float(t)


def fnmr_at_fmr(genuine: ArrayLike, impostor: ArrayLike, fmr: float) -> FnmrAtFmr:
    """``(fnmr, threshold, achieved_fmr)`` at the threshold of :func:`threshold_at_fmr`."""
    p = OperatingPoint(*_native.eval_fnmr_at_fmr(_scores(genuine), _scores(impostor), float(fmr)))
    return FnmrAtFmr(p.fnmr, p.threshold, p.fmr)


def operating_point(genuine: ArrayLike, impostor: ArrayLike, threshold: float) -> OperatingPoint:
    """FMR and FNMR with their counts at ``threshold``."""
    return OperatingPoint(
        *_native.eval_operating_point(_scores(genuine), _scores(impostor), float(threshold))
    )


def clopper_pearson(errors: int, trials: int, confidence: float = 0.95) -> Tuple[float, float]:
    """Exact binomial (Clopper-Pearson) interval of ``errors / trials``."""
    return _native.eval_clopper_pearson(int(errors), int(trials), float(confidence))


def _label_codes(*arrays: ArrayLike) -> Tuple[npt.NDArray[np.uint32], ...]:
    """Labels of any type (ints, strings) as shared ``uint32`` codes."""
    flat = [np.asarray(a).reshape(-1) for a in arrays]
    _, inverse = np.unique(np.concatenate(flat), return_inverse=True)
    codes: npt.NDArray[np.uint32] = np.asarray(inverse, dtype=np.uint32).reshape(-1)
    bounds = np.cumsum([0] + [len(a) for a in flat])
    return tuple(codes[bounds[k] : bounds[k + 1]] for k in range(len(flat)))


def split_scores(
    scores: ArrayLike, row_labels: ArrayLike, column_labels: Optional[ArrayLike] = None
) -> Tuple[FloatArray, FloatArray]:
    """``(genuine, impostor)`` scores of a labelled score matrix.

    With ``column_labels=None`` the matrix compares one set with itself
    (square, e.g. ``prot.scores(codes, codes)``): each unordered pair counts
    once and nobody is compared with themselves. Labels may be of any type.
    """
    m = np.ascontiguousarray(scores, dtype=np.float64)
    if column_labels is None:
        (rows,) = _label_codes(row_labels)
        return _native.eval_split_scores(m, rows, None)
    rows, cols = _label_codes(row_labels, column_labels)
    return _native.eval_split_scores(m, rows, cols)


def mates(probe_labels: ArrayLike, gallery_labels: ArrayLike) -> npt.NDArray[np.int64]:
    """For each probe, the gallery column with the same label, or -1: the
    ``mates`` argument of the identification metrics. One gallery entry per
    label."""
    p, g = _label_codes(probe_labels, gallery_labels)
    return _native.eval_mate_columns(p, g)


# --------------------------------------------------------------------------
# Identification


def _search(scores: ArrayLike, mates: ArrayLike) -> Tuple[FloatArray, npt.NDArray[np.int64]]:
    return (
        np.ascontiguousarray(scores, dtype=np.float64),
        np.ascontiguousarray(mates, dtype=np.int64).reshape(-1),
    )


def cmc(scores: ArrayLike, mates: ArrayLike, max_rank: Optional[int] = None) -> FloatArray:
    """Cumulative match characteristic: element ``k-1`` is the rank-``k``
    identification rate of the mated searches.

    ``scores`` is the ``(searches, gallery)`` similarity matrix, ``mates``
    the gallery column of each search's mate or -1 (see :func:`mates`).
    ``max_rank`` defaults to the gallery size.
    """
    s, m = _search(scores, mates)
    return _native.eval_cmc(s, m, int(max_rank if max_rank is not None else s.shape[-1]))


def fnir_at_fpir(scores: ArrayLike, mates: ArrayLike, fpir: float, rank: int = 1) -> FnirAtFpir:
    """``(fnir, threshold, achieved_fpir)`` at rank ``rank`` and the threshold
    that gives FPIR at most ``fpir`` (NIST FRVT definitions)."""
    s, m = _search(scores, mates)
    p = IdentificationPoint(*_native.eval_fnir_at_fpir(s, m, int(rank), float(fpir)))
    return FnirAtFpir(p.fnir, p.threshold, p.fpir)


def identification_point(
    scores: ArrayLike, mates: ArrayLike, threshold: float, rank: int = 1
) -> IdentificationPoint:
    """FNIR and FPIR with their counts at ``threshold`` and ``rank``."""
    s, m = _search(scores, mates)
    return IdentificationPoint(*_native.eval_identification_point(s, m, int(rank), float(threshold)))


def fnir_fpir_curve(scores: ArrayLike, mates: ArrayLike, rank: int = 1) -> IdentificationCurve:
    """The FNIR/FPIR trade-off at ``rank`` over every threshold."""
    s, m = _search(scores, mates)
    return IdentificationCurve(*_native.eval_fnir_fpir_curve(s, m, int(rank)))


# --------------------------------------------------------------------------
# Differentials


def differentials(
    scores: ArrayLike,
    labels_or_pairs: ArrayLike,
    groups: Sequence[Any] | ArrayLike,
    threshold: float,
    *,
    confidence: float = 0.95,
    garbe_alpha: float = 0.25,
) -> Differentials:
    """Per-group FMR and FNMR at one ``threshold``, with Clopper-Pearson
    intervals, max/min and max/geometric-mean ratios, Gini coefficients and
    GARBE (Howard et al. 2022).

    ``labels_or_pairs`` says which comparisons are genuine: a boolean (or
    0/1) array, one per score, or an ``(n, 2)`` array of the two subject
    labels of each comparison (genuine iff equal). ``groups`` gives each
    comparison's group (any labels); the result is keyed by them.
    """
    s = _scores(scores)
    lp = np.asarray(labels_or_pairs)
    if lp.ndim == 2:
        if lp.shape[1] != 2:
            raise _native.DimensionError(
                "labels_or_pairs must be one flag per score or an (n, 2) array of subject labels"
            )
        genuine = lp[:, 0] == lp[:, 1]
    else:
        genuine = lp.astype(bool)
    g = np.asarray(groups).reshape(-1)
    names, codes = np.unique(g, return_inverse=True)
    t, per_group, fmr, fnmr, garbe, alpha = _native.eval_differentials(
        s,
        np.ascontiguousarray(genuine, dtype=np.uint8).reshape(-1),
        codes.astype(np.uint32).reshape(-1),
        float(threshold),
        float(confidence),
        float(garbe_alpha),
    )
    return Differentials(
        threshold=t,
        groups={
            names[code].item(): GroupRates(RateEstimate(*r_fmr), RateEstimate(*r_fnmr))
            for code, r_fmr, r_fnmr in per_group
        },
        fmr=Disparity(*fmr),
        fnmr=Disparity(*fnmr),
        garbe=garbe,
        garbe_alpha=alpha,
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
    return UnlinkabilityDetails(
        *_native.eval_unlinkability(_scores(mated), _scores(nonmated), int(bins), range, float(omega))
    )


def unlinkability(
    mated: ArrayLike,
    nonmated: ArrayLike,
    bins: int = 100,
    omega: float = 1.0,
    range: Optional[Tuple[float, float]] = None,
) -> Unlinkability:
    """``(d_sys, d_local, bin_centres)`` of mated and non-mated linkage
    scores (Gomez-Barrero et al. 2018, as their reference code computes
    them). ``range`` defaults to the smallest and largest score; ``omega`` is
    the prior ratio P(mated)/P(non-mated)."""
    d = unlinkability_details(mated, nonmated, bins, omega, range)
    return Unlinkability(d.d_sys, d.d_local, d.bin_centres)


def _scenario(d: Dict[str, Any]) -> ScenarioReport:
    return ScenarioReport(
        eer=d["eer"],
        eer_threshold=d["eer_threshold"],
        at_target_fmr=OperatingPoint(*d["at_target_fmr"]),
        genuine_pairs=d["genuine_pairs"],
        impostor_pairs=d["impostor_pairs"],
        genuine_mean=d["genuine_mean"],
        impostor_mean=d["impostor_mean"],
    )


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
    which key, only on there being one).
    """
    key = mk if mk is not None else _native.MasterKey.generate()
    (codes,) = _label_codes(labels)
    d = _native.eval_protection_report(
        x,
        codes,
        scheme,
        key,
        application,
        int(version),
        float(target_fmr),
        int(bins),
        (float(range[0]), float(range[1])),
        float(omega),
        int(max_nonmated_linkage_pairs),
    )
    return ProtectionReport(
        scheme=d["scheme"],
        code_len=d["code_len"],
        unprotected=_scenario(d["unprotected"]),
        normal=_scenario(d["normal"]),
        stolen_key=_scenario(d["stolen_key"]),
        unlinkability=Unlinkability(*d["unlinkability"]),
        mated_linkage_pairs=d["mated_linkage_pairs"],
        nonmated_linkage_pairs=d["nonmated_linkage_pairs"],
    )
