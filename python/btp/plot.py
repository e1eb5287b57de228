"""Plots for evaluation reports: DET curves, score histograms, unlinkability.

matplotlib is an optional extra (``pip install "btp[plot]"``); it is
imported when a function is called. Each function draws on ``ax`` (a new
figure when None) and returns the axes; save with
``btp.plot.save(ax, "det.png")`` (or ``ax.figure.savefig``). Pass ``matplotlib.use("Agg")`` first on a
machine without a display. ``ax`` must be matplotlib axes (or None), titles
and labels ``str`` (``TypeError`` otherwise).
"""

from __future__ import annotations

import itertools
import math
import numbers
import os
from statistics import NormalDist
from typing import TYPE_CHECKING, Any, List, Optional, Sequence, Tuple, Union, cast

import numpy as np
import numpy.typing as npt

from btp import _labels, _native
from btp import eval as _eval

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.axes import Axes

__all__ = ["det", "score_histograms", "unlinkability", "save"]


def _pyplot() -> Any:
    try:
        import matplotlib.pyplot as plt
    except ImportError as e:  # pragma: no cover - exercised without matplotlib
        raise ImportError(
            'btp.plot needs matplotlib: pip install "btp[plot]" (or pip install matplotlib)'
        ) from e
    return plt


def _axes(ax: Optional[Axes]) -> Axes:
    """``ax``, checked to be matplotlib axes, or new axes on a new figure."""
    plt = _pyplot()
    if ax is not None:
        from matplotlib.axes import Axes as _Axes

        if not isinstance(ax, _Axes):
            raise TypeError(f"ax must be matplotlib axes (or None), not {type(ax).__name__}")
        return ax
    _fig, new = plt.subplots(figsize=(5.5, 4.5))
    return new  # type: ignore[no-any-return]


_NORMAL = NormalDist()
# Candidate ticks (rates); the axes show those inside their limits.
_TICKS = [1e-6, 1e-5, 1e-4, 1e-3, 0.01, 0.05, 0.2, 0.5, 0.8, 0.95, 0.99]
_FLOOR = 1e-6


def _probit(p: npt.ArrayLike) -> npt.NDArray[np.float64]:
    """Normal deviate of rates, clipped away from 0 and 1."""
    q = np.clip(np.asarray(p, dtype=np.float64), _FLOOR, 1 - _FLOOR)
    return np.array([_NORMAL.inv_cdf(float(v)) for v in q.reshape(-1)]).reshape(q.shape)


def _finite_real(v: Any) -> bool:
    """Whether ``v`` is a real number (not a bool) that a float64 holds
    finitely (an integer past it is not)."""
    if isinstance(v, (bool, np.bool_)) or not isinstance(v, numbers.Real):
        return False
    try:
        return math.isfinite(float(v))
    except OverflowError:
        return False


def _text(name: str, value: Any, optional: bool = True) -> None:
    """Checks a title or label: a ``str`` (or None where ``optional``) that
    is Unicode text (matplotlib fails on a lone surrogate only when it
    draws, in :func:`save`)."""
    if value is None and optional:
        return
    if not isinstance(value, str):
        kinds = "a str or None" if optional else "a str"
        raise TypeError(f"{name} must be {kinds}, not {type(value).__name__}")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise _labels.param_error(name, "is not Unicode text (it holds a lone surrogate)") from None


def _rate_limits(name: str, limits: Any) -> Tuple[float, float]:
    """A caller's ``(lo, hi)`` axis limits, as rates with ``0 < lo < hi < 1``."""
    try:
        values = list(itertools.islice(iter(limits), 3))
        ok = len(values) == 2 and not isinstance(limits, (str, bytes)) and all(
            isinstance(v, numbers.Real) and not isinstance(v, (bool, np.bool_)) for v in values
        )
        lo, hi = (float(v) for v in values) if ok else (0.0, 0.0)
        ok = ok and 0 < lo < hi < 1
    except (TypeError, ValueError, OverflowError):
        ok = False
    if not ok:
        raise _labels.param_error(name, "must be a pair (lo, hi) of rates with 0 < lo < hi < 1")
    return lo, hi


def _data_limits(rates: List[npt.NDArray[np.float64]], eers: List[float]) -> Tuple[float, float]:
    """Axis limits that follow the data: from the decade at or below the
    smallest non-zero rate any curve reaches (at least 1e-6) to 0.5, or
    0.95 when an EER is above 0.4."""
    positive = [float(r[r > 0].min()) for r in rates if np.any(r > 0)]
    smallest = min(positive) if positive else 1e-3
    lo = max(_FLOOR, 10.0 ** math.floor(math.log10(smallest)))
    hi = 0.95 if max(eers, default=0.0) > 0.4 else 0.5
    return min(lo, 0.01), hi


def det(
    curves: Union[Sequence[Tuple[str, npt.ArrayLike, npt.ArrayLike]], npt.ArrayLike],
    impostor: Optional[npt.ArrayLike] = None,
    *,
    label: str = "scores",
    ax: Optional[Axes] = None,
    title: Optional[str] = "DET",
    xlim: Optional[Tuple[float, float]] = None,
    ylim: Optional[Tuple[float, float]] = None,
) -> Axes:
    """DET curves on normal-deviate axes (the ISO/IEC 19795 convention).

    ``det(genuine, impostor)`` draws one curve; ``det([(label, genuine,
    impostor), ...])`` draws several. The EER of each is marked and given in
    the legend. Scores are checked as :mod:`btp.eval` checks them (NaN,
    infinities, empty arrays are :class:`btp.InvalidScoresError`).

    The axes follow the data: each from the decade at or below the smallest
    non-zero FMR (x) or FNMR (y) of any curve (at least 1e-6, so 10,000
    impostor scores reach 1e-4) to 0.5 (0.95 if an EER exceeds 0.4).
    ``xlim`` and ``ylim`` set them instead, as rates ``(lo, hi)`` with
    ``0 < lo < hi < 1``.
    """
    _text("label", label, optional=False)
    _text("title", title)
    todo: List[Tuple[str, Any, Any]]
    if impostor is not None:
        todo = [(label, curves, impostor)]
    else:
        if isinstance(curves, np.ndarray) or not all(
            isinstance(c, (tuple, list)) and len(c) == 3 for c in cast(Sequence[Any], curves)
        ):
            raise _labels.param_error(
                "curves",
                "det(genuine, impostor) draws one curve, det([(label, genuine, impostor), ...]) several",
            )
        todo = [(str(n), g, i) for n, g, i in cast(Sequence[Tuple[str, Any, Any]], curves)]
        for name, _g, _i in todo:
            _text("curves", name, optional=False)
    x_limits = _rate_limits("xlim", xlim) if xlim is not None else None
    y_limits = _rate_limits("ylim", ylim) if ylim is not None else None
    drawn = [(name, _eval.det(g, i), _eval.eer(g, i)) for name, g, i in todo]
    eers = [e.eer for _, _, e in drawn]
    x_limits = x_limits or _data_limits([c.fmr for _, c, _ in drawn], eers)
    y_limits = y_limits or _data_limits([c.fnmr for _, c, _ in drawn], eers)
    ax = _axes(ax)
    for name, c, e in drawn:
        (line,) = ax.plot(_probit(c.fmr), _probit(c.fnmr), label=f"{name} (EER {100 * e.eer:.2f}%)")
        ax.plot(_probit(e.eer), _probit(e.eer), "o", color=line.get_color())
    for limits, set_ticks, set_lim in (
        (x_limits, ax.set_xticks, ax.set_xlim),
        (y_limits, ax.set_yticks, ax.set_ylim),
    ):
        ticks = [t for t in _TICKS if limits[0] <= t <= limits[1]]
        set_ticks(_probit(ticks), [f"{100 * t:g}" for t in ticks])
        set_lim(float(_probit(limits[0])), float(_probit(limits[1])))
    ax.set_xlabel("FMR (%)")
    ax.set_ylabel("FNMR (%)")
    ax.grid(True, alpha=0.3)
    ax.legend(loc="upper right")
    if title:
        ax.set_title(title)
    return ax


def score_histograms(
    genuine: npt.ArrayLike,
    impostor: npt.ArrayLike,
    *,
    threshold: Optional[float] = None,
    bins: int = 50,
    ax: Optional[Axes] = None,
    title: Optional[str] = "Score distributions",
) -> Axes:
    """Genuine and impostor score densities, with an optional threshold line.

    Scores are checked as :mod:`btp.eval` checks them (1-D, real, finite,
    non-empty: :class:`btp.InvalidScoresError` otherwise); ``threshold`` is a
    finite number and ``bins`` an integer in ``1..=10**6``
    (:class:`btp.InvalidParameterError`)."""
    _text("title", title)
    genuine, impostor = _eval._array(genuine, "genuine"), _eval._array(impostor, "impostor")
    _native.eval.check_scores(genuine, "genuine")
    _native.eval.check_scores(impostor, "impostor")
    if isinstance(bins, bool) or not isinstance(bins, numbers.Integral) or not 1 <= int(bins) <= 10**6:
        raise _labels.param_error("bins", "must be an integer in 1..=1000000")
    if threshold is not None and not _finite_real(threshold):
        raise _labels.param_error("threshold", "must be a finite number (or None)")
    ax = _axes(ax)
    g = np.asarray(genuine, dtype=np.float64)
    i = np.asarray(impostor, dtype=np.float64)
    lo = float(min(g.min(), i.min()))
    hi = float(max(g.max(), i.max()))
    edges = np.linspace(lo, hi if hi > lo else lo + 1.0, int(bins) + 1).tolist()
    ax.hist(i, bins=edges, density=True, alpha=0.55, label=f"impostor ({len(i)})")
    ax.hist(g, bins=edges, density=True, alpha=0.55, label=f"genuine ({len(g)})")
    if threshold is not None:
        ax.axvline(float(threshold), color="k", linestyle="--", label=f"threshold {float(threshold):.3f}")
    ax.set_xlabel("similarity")
    ax.set_ylabel("density")
    ax.legend()
    if title:
        ax.set_title(title)
    return ax


def unlinkability(
    mated: npt.ArrayLike,
    nonmated: npt.ArrayLike,
    *,
    bins: int = 100,
    omega: float = 1.0,
    ax: Optional[Axes] = None,
    title: Optional[str] = "Unlinkability",
) -> Axes:
    """Mated and non-mated linkage score densities with the local measure
    ``D(s)`` (right axis) and ``D_sys`` in the title, as in Gomez-Barrero et
    al. (2018). Arguments are :func:`btp.eval.unlinkability`'s, checked
    there."""
    _text("title", title)
    u = _eval.unlinkability_details(mated, nonmated, bins=bins, omega=omega)
    ax = _axes(ax)
    width = np.diff(u.bin_edges)
    ax.bar(u.bin_centres, u.nonmated_density, width=width, alpha=0.55, label="non-mated")
    ax.bar(u.bin_centres, u.mated_density, width=width, alpha=0.55, label="mated")
    ax.set_xlabel("linkage score")
    ax.set_ylabel("density")
    right = ax.twinx()
    right.plot(u.bin_centres, u.d_local, color="k", label="D(s)")
    right.set_ylim(0, 1.05)
    right.set_ylabel("D(s)")
    ax.legend(loc="upper left")
    if title:
        ax.set_title(f"{title}: D_sys = {u.d_sys:.3f}")
    return ax


def save(ax: Axes, path: Union[str, "os.PathLike[str]"], *, dpi: int = 120) -> None:
    """Saves the figure of ``ax`` (e.g. to a PNG file) and closes it.

    ``ax`` is axes these functions returned; ``path`` a file name whose
    extension matplotlib writes (``.png`` if none); ``dpi`` a number in
    ``[10, 2400]`` (matplotlib cannot draw text much below 10). A path or format it cannot write is
    :class:`btp.InvalidParameterError`, a failed write
    :class:`btp.StoreIOError` (an ``OSError``)."""
    fig: Any = getattr(ax, "figure", None)
    if fig is None:
        raise TypeError(f"save takes the axes a btp.plot function returned, not {type(ax).__name__}")
    fig = getattr(fig, "figure", None) or fig  # a subfigure's root
    if (
        isinstance(dpi, (bool, np.bool_))
        or not isinstance(dpi, numbers.Real)
        or not 10 <= dpi <= 2400
    ):
        raise _labels.param_error("dpi", "must be a number in [10, 2400]")
    path = os.fspath(path)  # TypeError for what is not a path
    try:
        fig.savefig(path, dpi=float(dpi), bbox_inches="tight")
    except OSError as e:
        raise _native.StoreIOError(f"cannot write the figure: {e.strerror or type(e).__name__}") from None
    except ValueError as e:  # an unknown format, a NUL or a lone surrogate in the name
        raise _labels.param_error("path", f"cannot be written by matplotlib ({type(e).__name__})") from None
    _pyplot().close(fig)
