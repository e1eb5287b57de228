"""Result types of :mod:`btp.eval` (re-exported there; their public name is
``btp.eval.X``, which is also what they pickle as).

Named tuples and frozen dataclasses: they print, compare, unpack and pickle
without the native module. Each has ``to_records()`` (a list of dicts, one
per row, no dependency) and ``to_frame()`` (a pandas DataFrame of the same
rows; pandas is the optional extra ``btp[pandas]``). Reprs of results that
hold arrays show their size and ends only.
"""

from __future__ import annotations

import numbers
from dataclasses import dataclass
from typing import Any, Dict, List, NamedTuple, Optional, Tuple

import numpy as np
import numpy.typing as npt

from btp._labels import param_error
from btp._tables import Records, columnar, fields_repr, frame, row

__all__ = [
    "DetCurve",
    "RocCurve",
    "Eer",
    "FnmrAtFmr",
    "FnmrAtFmrs",
    "OperatingPoint",
    "FnirAtFpir",
    "IdentificationPoint",
    "IdentificationCurve",
    "Unlinkability",
    "UnlinkabilityDetails",
    "SplitScores",
    "LinkageScores",
    "RateEstimate",
    "GroupRates",
    "Disparity",
    "Differentials",
    "ScenarioReport",
    "ProtectionReport",
]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]


class DetCurve(NamedTuple):
    """DET curve, thresholds increasing (scikit-learn's ``det_curve``).
    Rows of ``to_records()``: ``threshold, fmr, fnmr``."""

    fmr: FloatArray
    fnmr: FloatArray
    thresholds: FloatArray

    def to_records(self) -> Records:
        return columnar(dict(threshold=self.thresholds, fmr=self.fmr, fnmr=self.fnmr))

    def to_frame(self) -> Any:
        return frame(self.to_records(), ["threshold", "fmr", "fnmr"])

    def __repr__(self) -> str:
        return fields_repr(self, self._fields)


class RocCurve(NamedTuple):
    """ROC as FMR/FNMR, thresholds decreasing from ``inf`` (``roc_curve``).
    Rows of ``to_records()``: ``threshold, fmr, fnmr``."""

    fmr: FloatArray
    fnmr: FloatArray
    thresholds: FloatArray

    def to_records(self) -> Records:
        return columnar(dict(threshold=self.thresholds, fmr=self.fmr, fnmr=self.fnmr))

    def to_frame(self) -> Any:
        return frame(self.to_records(), ["threshold", "fmr", "fnmr"])

    def __repr__(self) -> str:
        return fields_repr(self, self._fields)


class Eer(NamedTuple):
    """Equal error rate, the threshold where it was taken, and the FMR and
    FNMR at that threshold (the EER is their mean or the FVC2000 choice
    between two thresholds; see the core's ``eval::eer``).

    Four fields since btp 0.1: ``e, t = eer(...)`` (two targets) no longer
    unpacks; use ``e, t, *_ = eer(...)``, or ``r.eer`` and ``r.threshold``,
    or ``r[0]`` and ``r[1]``, which are unchanged."""

    eer: float
    threshold: float
    fmr: float
    fnmr: float

    def to_records(self) -> Records:
        return [row(self)]

    def to_frame(self) -> Any:
        return frame(self.to_records())


class FnmrAtFmr(NamedTuple):
    """FNMR at the smallest threshold whose FMR is at most the target."""

    fnmr: float
    threshold: float
    achieved_fmr: float

    def to_records(self) -> Records:
        return [row(self)]

    def to_frame(self) -> Any:
        return frame(self.to_records())


class FnmrAtFmrs(NamedTuple):
    """:class:`FnmrAtFmr` at several targets: arrays aligned with
    ``target_fmr`` (the targets as given). Rows of ``to_records()``: one per
    target."""

    target_fmr: FloatArray
    fnmr: FloatArray
    threshold: FloatArray
    achieved_fmr: FloatArray

    def at(self, i: int) -> FnmrAtFmr:
        """The :class:`FnmrAtFmr` of target ``i`` (an integer index, from the
        end if negative; :class:`btp.InvalidParameterError` otherwise)."""
        n = len(self.fnmr)
        if isinstance(i, (bool, np.bool_)) or not isinstance(i, numbers.Integral) or not -n <= i < n:
            raise param_error("i", f"must be an integer index of one of the {n} targets")
        return FnmrAtFmr(float(self.fnmr[i]), float(self.threshold[i]), float(self.achieved_fmr[i]))

    def to_records(self) -> Records:
        return columnar(self._asdict())

    def to_frame(self) -> Any:
        return frame(self.to_records(), list(self._fields))

    def __repr__(self) -> str:
        return fields_repr(self, self._fields)


class OperatingPoint(NamedTuple):
    """Error rates and counts at one threshold."""

    threshold: float
    fmr: float
    fnmr: float
    false_matches: int
    impostors: int
    false_non_matches: int
    genuines: int

    def to_records(self) -> Records:
        return [row(self)]

    def to_frame(self) -> Any:
        return frame(self.to_records())


class FnirAtFpir(NamedTuple):
    """FNIR at the threshold that gives FPIR at most the target."""

    fnir: float
    threshold: float
    achieved_fpir: float

    def to_records(self) -> Records:
        return [row(self)]

    def to_frame(self) -> Any:
        return frame(self.to_records())


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

    def to_records(self) -> Records:
        return [row(self)]

    def to_frame(self) -> Any:
        return frame(self.to_records())


class IdentificationCurve(NamedTuple):
    """FNIR/FPIR trade-off, thresholds increasing to ``inf``. Rows of
    ``to_records()``: ``threshold, fpir, fnir``."""

    thresholds: FloatArray
    fpir: FloatArray
    fnir: FloatArray

    def to_records(self) -> Records:
        return columnar(dict(threshold=self.thresholds, fpir=self.fpir, fnir=self.fnir))

    def to_frame(self) -> Any:
        return frame(self.to_records(), ["threshold", "fpir", "fnir"])

    def __repr__(self) -> str:
        return fields_repr(self, self._fields)


class Unlinkability(NamedTuple):
    """Global ``D_sys`` and local ``D(s)`` linkage measures. Rows of
    ``to_records()``: one per bin, ``bin_centre, d_local, d_sys``."""

    d_sys: float
    d_local: FloatArray
    bin_centres: FloatArray

    def to_records(self) -> Records:
        return columnar(dict(bin_centre=self.bin_centres, d_local=self.d_local), d_sys=self.d_sys)

    def to_frame(self) -> Any:
        return frame(self.to_records(), ["d_sys", "bin_centre", "d_local"])

    def __repr__(self) -> str:
        return fields_repr(self, self._fields)


class UnlinkabilityDetails(NamedTuple):
    """:class:`Unlinkability` with the histogram behind it (for plots). Rows
    of ``to_records()``: one per bin, with its edges and both densities."""

    d_sys: float
    d_local: FloatArray
    bin_centres: FloatArray
    bin_edges: FloatArray
    mated_density: FloatArray
    nonmated_density: FloatArray

    def to_records(self) -> Records:
        return columnar(
            dict(
                bin_lo=self.bin_edges[:-1],
                bin_hi=self.bin_edges[1:],
                bin_centre=self.bin_centres,
                mated_density=self.mated_density,
                nonmated_density=self.nonmated_density,
                d_local=self.d_local,
            ),
            d_sys=self.d_sys,
        )

    def to_frame(self) -> Any:
        columns = ["d_sys", "bin_lo", "bin_hi", "bin_centre", "mated_density", "nonmated_density", "d_local"]
        return frame(self.to_records(), columns)

    def __repr__(self) -> str:
        return fields_repr(self, self._fields)


class SplitScores(NamedTuple):
    """Genuine and impostor scores of a labelled score matrix with the
    ``[row, column]`` of each (``(n, 2)`` ``int64``), from
    ``split_scores(..., return_indices=True)``. Rows of ``to_records()``:
    one per score, ``row, column, score, genuine``."""

    genuine: FloatArray
    impostor: FloatArray
    genuine_pairs: IntArray
    impostor_pairs: IntArray

    def to_records(self) -> Records:
        return columnar(
            dict(row=self.genuine_pairs[:, 0], column=self.genuine_pairs[:, 1], score=self.genuine),
            genuine=True,
        ) + columnar(
            dict(row=self.impostor_pairs[:, 0], column=self.impostor_pairs[:, 1], score=self.impostor),
            genuine=False,
        )

    def to_frame(self) -> Any:
        return frame(self.to_records(), ["genuine", "row", "column", "score"])

    def __repr__(self) -> str:
        return fields_repr(self, self._fields)


class LinkageScores(NamedTuple):
    """Mated and non-mated linkage scores across two applications: the
    input of :func:`btp.eval.unlinkability` (``unlinkability(*linkage)``).
    Rows of ``to_records()``: one per score, ``mated, score``."""

    mated: FloatArray
    nonmated: FloatArray

    def to_records(self) -> Records:
        return columnar(dict(score=self.mated), mated=True) + columnar(
            dict(score=self.nonmated), mated=False
        )

    def to_frame(self) -> Any:
        return frame(self.to_records(), ["mated", "score"])

    def __repr__(self) -> str:
        return fields_repr(self, self._fields)


class RateEstimate(NamedTuple):
    """``errors / trials`` with a Clopper-Pearson interval (None if no trial)."""

    errors: int
    trials: int
    rate: Optional[float]
    interval: Optional[Tuple[float, float]]

    def to_records(self) -> Records:
        return [row(self)]

    def to_frame(self) -> Any:
        return frame(self.to_records())


class GroupRates(NamedTuple):
    """FMR and FNMR of one group."""

    fmr: RateEstimate
    fnmr: RateEstimate

    def to_records(self) -> Records:
        return [row(self)]

    def to_frame(self) -> Any:
        return frame(self.to_records())


class Disparity(NamedTuple):
    """Spread of one error rate across groups (see the core's docs for the
    zero-error and zero-trial cases)."""

    groups: int
    min: Optional[float]
    max: Optional[float]
    max_min_ratio: Optional[float]
    max_geomean_ratio: Optional[float]
    gini: Optional[float]

    def to_records(self) -> Records:
        return [row(self)]

    def to_frame(self) -> Any:
        return frame(self.to_records())


@dataclass(frozen=True)
class Differentials:
    """Per-group FMR/FNMR at one threshold and their spread (GARBE). Rows of
    ``to_records()``: one per group (``group, threshold, fmr_errors, ...,
    fnmr_interval_hi``); the spreads are ``fmr`` and ``fnmr``."""

    threshold: float
    groups: Dict[Any, GroupRates]
    fmr: Disparity
    fnmr: Disparity
    garbe: Optional[float]
    garbe_alpha: float

    def to_records(self) -> Records:
        return [dict(group=g, threshold=self.threshold, **row(r)) for g, r in self.groups.items()]

    def to_frame(self) -> Any:
        return frame(self.to_records())

    def __repr__(self) -> str:
        names = list(self.groups)
        shown = ", ".join(repr(g) for g in names[:8]) + (", ..." if len(names) > 8 else "")
        return (
            f"Differentials(threshold={self.threshold!r}, groups={len(names)} [{shown}], "
            f"fmr={self.fmr!r}, fnmr={self.fnmr!r}, garbe={self.garbe!r}, "
            f"garbe_alpha={self.garbe_alpha!r})"
        )


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

    def to_records(self) -> Records:
        return [row(self)]

    def to_frame(self) -> Any:
        return frame(self.to_records())


_SCENARIOS = ("unprotected", "normal", "stolen_key")


@dataclass(frozen=True)
class ProtectionReport:
    """The auditor protocol: unprotected (cosine) vs protected accuracy under
    per-subject keys (``normal``) and one stolen key (``stolen_key``), and
    cross-application unlinkability. Rows of ``to_records()``: one per
    scenario, with the scheme, code length and ``d_sys``."""

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

    def to_records(self) -> Records:
        return [
            dict(scenario=name, scheme=self.scheme, code_len=self.code_len, **row(getattr(self, name)),
                 d_sys=self.d_sys)
            for name in _SCENARIOS
        ]

    def to_frame(self) -> Any:
        return frame(self.to_records())

    def __repr__(self) -> str:
        scenarios = ", ".join(
            f"{n}=(eer={getattr(self, n).eer:.4g}, fnmr@fmr={getattr(self, n).at_target_fmr.fnmr:.4g})"
            for n in _SCENARIOS
        )
        return (
            f"ProtectionReport(scheme={self.scheme!r}, code_len={self.code_len}, {scenarios}, "
            f"d_sys={self.d_sys:.4g}, linkage pairs={self.mated_linkage_pairs}+"
            f"{self.nonmated_linkage_pairs})"
        )


ALL: List[type] = [globals()[_name] for _name in __all__]
for _cls in ALL:
    # Their public home: reprs, docs and pickles say btp.eval.X.
    _cls.__module__ = "btp.eval"
