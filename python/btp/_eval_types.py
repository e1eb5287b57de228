"""Result types of :mod:`btp.eval` (re-exported there; their public name is
``btp.eval.X``, which is also what they pickle as).

Named tuples and frozen dataclasses: they print, compare, unpack and pickle
without the native module, which builds them from its table of result
classes (python/src/results.rs; ``python/tests/test_results.py`` checks the
fields agree). Each has ``to_records()`` (a list of dicts, one per row, no
dependency) and ``to_frame()`` (a pandas DataFrame of the same rows; pandas
is the optional extra ``btp[pandas]``), from :class:`btp._tables.Table`:
one row of the fields unless the class says otherwise. Reprs of results
that hold arrays show their size and ends only (:class:`ShortTable`).

A named tuple here is a class over a functional ``NamedTuple`` (its
fields), so that it can take the table methods from a base class, which
the class syntax of ``NamedTuple`` forbids.
"""

from __future__ import annotations

import numbers
from dataclasses import dataclass
from typing import Any, Dict, List, NamedTuple, Optional, Tuple

import numpy as np
import numpy.typing as npt

from btp._labels import param_error
from btp._tables import Records, ShortTable, Table, columnar, row

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


class _ErrorCurve(
    ShortTable,
    NamedTuple("_ErrorCurve", [("fmr", FloatArray), ("fnmr", FloatArray), ("thresholds", FloatArray)]),
):
    """FMR and FNMR over thresholds: :class:`DetCurve` and :class:`RocCurve`.
    Rows of ``to_records()``: ``threshold, fmr, fnmr``."""

    __slots__ = ()
    _columns = ("threshold", "fmr", "fnmr")

    def to_records(self) -> Records:
        return columnar(dict(threshold=self.thresholds, fmr=self.fmr, fnmr=self.fnmr))


class DetCurve(_ErrorCurve):
    """DET curve, thresholds increasing (scikit-learn's ``det_curve``).
    Rows of ``to_records()``: ``threshold, fmr, fnmr``."""

    __slots__ = ()


class RocCurve(_ErrorCurve):
    """ROC as FMR/FNMR, thresholds decreasing from ``inf`` (``roc_curve``).
    Rows of ``to_records()``: ``threshold, fmr, fnmr``."""

    __slots__ = ()


class Eer(Table, NamedTuple("Eer", [("eer", float), ("threshold", float), ("fmr", float), ("fnmr", float)])):
    """Equal error rate, the threshold where it was taken, and the FMR and
    FNMR at that threshold (the EER is their mean or the FVC2000 choice
    between two thresholds; see the core's ``eval::eer``).

    Four fields since btp 0.1: ``e, t = eer(...)`` (two targets) no longer
    unpacks; use ``e, t, *_ = eer(...)``, or ``r.eer`` and ``r.threshold``,
    or ``r[0]`` and ``r[1]``, which are unchanged."""

    __slots__ = ()


class FnmrAtFmr(Table, NamedTuple("FnmrAtFmr", [("fnmr", float), ("threshold", float), ("achieved_fmr", float)])):
    """FNMR at the smallest threshold whose FMR is at most the target."""

    __slots__ = ()


class FnmrAtFmrs(
    ShortTable,
    NamedTuple(
        "FnmrAtFmrs",
        [("target_fmr", FloatArray), ("fnmr", FloatArray), ("threshold", FloatArray), ("achieved_fmr", FloatArray)],
    ),
):
    """:class:`FnmrAtFmr` at several targets: arrays aligned with
    ``target_fmr`` (the targets as given). Rows of ``to_records()``: one per
    target."""

    __slots__ = ()
    _columns = ("target_fmr", "fnmr", "threshold", "achieved_fmr")

    def at(self, i: int) -> FnmrAtFmr:
        """The :class:`FnmrAtFmr` of target ``i`` (an integer index, from the
        end if negative; :class:`btp.InvalidParameterError` otherwise)."""
        n = len(self.fnmr)
        if isinstance(i, (bool, np.bool_)) or not isinstance(i, numbers.Integral) or not -n <= i < n:
            raise param_error("i", f"must be an integer index of one of the {n} targets")
        return FnmrAtFmr(float(self.fnmr[i]), float(self.threshold[i]), float(self.achieved_fmr[i]))

    def to_records(self) -> Records:
        return columnar(self._asdict())


class OperatingPoint(
    Table,
    NamedTuple(
        "OperatingPoint",
        [
            ("threshold", float),
            ("fmr", float),
            ("fnmr", float),
            ("false_matches", int),
            ("impostors", int),
            ("false_non_matches", int),
            ("genuines", int),
        ],
    ),
):
    """Error rates and counts at one threshold."""

    __slots__ = ()


class FnirAtFpir(Table, NamedTuple("FnirAtFpir", [("fnir", float), ("threshold", float), ("achieved_fpir", float)])):
    """FNIR at the threshold that gives FPIR at most the target."""

    __slots__ = ()


class IdentificationPoint(
    Table,
    NamedTuple(
        "IdentificationPoint",
        [
            ("threshold", float),
            ("rank", int),
            ("fnir", float),
            ("fpir", float),
            ("misses", int),
            ("mated", int),
            ("false_positives", int),
            ("nonmated", int),
        ],
    ),
):
    """FNIR and FPIR with their counts at one threshold and rank."""

    __slots__ = ()


class IdentificationCurve(
    ShortTable,
    NamedTuple("IdentificationCurve", [("thresholds", FloatArray), ("fpir", FloatArray), ("fnir", FloatArray)]),
):
    """FNIR/FPIR trade-off, thresholds increasing to ``inf``. Rows of
    ``to_records()``: ``threshold, fpir, fnir``."""

    __slots__ = ()
    _columns = ("threshold", "fpir", "fnir")

    def to_records(self) -> Records:
        return columnar(dict(threshold=self.thresholds, fpir=self.fpir, fnir=self.fnir))


class Unlinkability(
    ShortTable,
    NamedTuple("Unlinkability", [("d_sys", float), ("d_local", FloatArray), ("bin_centres", FloatArray)]),
):
    """Global ``D_sys`` and local ``D(s)`` linkage measures. Rows of
    ``to_records()``: one per bin, ``bin_centre, d_local, d_sys``."""

    __slots__ = ()
    _columns = ("d_sys", "bin_centre", "d_local")

    def to_records(self) -> Records:
        return columnar(dict(bin_centre=self.bin_centres, d_local=self.d_local), d_sys=self.d_sys)


class UnlinkabilityDetails(
    ShortTable,
    NamedTuple(
        "UnlinkabilityDetails",
        [
            ("d_sys", float),
            ("d_local", FloatArray),
            ("bin_centres", FloatArray),
            ("bin_edges", FloatArray),
            ("mated_density", FloatArray),
            ("nonmated_density", FloatArray),
        ],
    ),
):
    """:class:`Unlinkability` with the histogram behind it (for plots). Rows
    of ``to_records()``: one per bin, with its edges and both densities."""

    __slots__ = ()
    _columns = ("d_sys", "bin_lo", "bin_hi", "bin_centre", "mated_density", "nonmated_density", "d_local")

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


class SplitScores(
    ShortTable,
    NamedTuple(
        "SplitScores",
        [("genuine", FloatArray), ("impostor", FloatArray), ("genuine_pairs", IntArray), ("impostor_pairs", IntArray)],
    ),
):
    """Genuine and impostor scores of a labelled score matrix with the
    ``[row, column]`` of each (``(n, 2)`` ``int64``), from
    ``split_scores(..., return_indices=True)``. Rows of ``to_records()``:
    one per score, ``row, column, score, genuine``."""

    __slots__ = ()
    _columns = ("genuine", "row", "column", "score")

    def to_records(self) -> Records:
        return columnar(
            dict(row=self.genuine_pairs[:, 0], column=self.genuine_pairs[:, 1], score=self.genuine),
            genuine=True,
        ) + columnar(
            dict(row=self.impostor_pairs[:, 0], column=self.impostor_pairs[:, 1], score=self.impostor),
            genuine=False,
        )


class LinkageScores(ShortTable, NamedTuple("LinkageScores", [("mated", FloatArray), ("nonmated", FloatArray)])):
    """Mated and non-mated linkage scores across two applications: the
    input of :func:`btp.eval.unlinkability` (``unlinkability(*linkage)``).
    Rows of ``to_records()``: one per score, ``mated, score``."""

    __slots__ = ()
    _columns = ("mated", "score")

    def to_records(self) -> Records:
        return columnar(dict(score=self.mated), mated=True) + columnar(
            dict(score=self.nonmated), mated=False
        )


class RateEstimate(
    Table,
    NamedTuple(
        "RateEstimate",
        [("errors", int), ("trials", int), ("rate", Optional[float]), ("interval", Optional[Tuple[float, float]])],
    ),
):
    """``errors / trials`` with a Clopper-Pearson interval (None if no trial)."""

    __slots__ = ()


class GroupRates(Table, NamedTuple("GroupRates", [("fmr", RateEstimate), ("fnmr", RateEstimate)])):
    """FMR and FNMR of one group."""

    __slots__ = ()


class Disparity(
    Table,
    NamedTuple(
        "Disparity",
        [
            ("groups", int),
            ("min", Optional[float]),
            ("max", Optional[float]),
            ("max_min_ratio", Optional[float]),
            ("max_geomean_ratio", Optional[float]),
            ("gini", Optional[float]),
        ],
    ),
):
    """Spread of one error rate across groups (see the core's docs for the
    zero-error and zero-trial cases)."""

    __slots__ = ()


@dataclass(frozen=True)
class Differentials(Table):
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

    def __repr__(self) -> str:
        names = list(self.groups)
        shown = ", ".join(repr(g) for g in names[:8]) + (", ..." if len(names) > 8 else "")
        return (
            f"Differentials(threshold={self.threshold!r}, groups={len(names)} [{shown}], "
            f"fmr={self.fmr!r}, fnmr={self.fnmr!r}, garbe={self.garbe!r}, "
            f"garbe_alpha={self.garbe_alpha!r})"
        )


@dataclass(frozen=True)
class ScenarioReport(Table):
    """Verification accuracy of one scenario of the auditor protocol."""

    eer: float
    eer_threshold: float
    at_target_fmr: OperatingPoint
    genuine_pairs: int
    impostor_pairs: int
    genuine_mean: float
    impostor_mean: float


_SCENARIOS = ("unprotected", "normal", "stolen_key")


@dataclass(frozen=True)
class ProtectionReport(Table):
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
