"""Plots for evaluation reports: DET curves, score histograms, unlinkability.

matplotlib is an optional extra (``pip install "btp[plot]"``); it is
imported when a function is called. Each function draws on ``ax`` (a new
figure when None) and returns the axes; save with
``btp.plot.save(ax, "det.png")`` (or ``ax.figure.savefig``). Pass ``matplotlib.use("Agg")`` first on a
machine without a display.
"""

from __future__ import annotations

import os
from statistics import NormalDist
from typing import TYPE_CHECKING, Any, List, Optional, Sequence, Tuple, Union, cast

import numpy as np
import numpy.typing as npt

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
    if ax is not None:
        return ax
    _fig, new = _pyplot().subplots(figsize=(5.5, 4.5))
    return new  # type: ignore[no-any-return]


_NORMAL = NormalDist()
_TICKS = [0.0001, 0.001, 0.01, 0.05, 0.2, 0.5, 0.8, 0.95]


def _probit(p: npt.ArrayLike) -> npt.NDArray[np.float64]:
    """Normal deviate of rates, clipped away from 0 and 1."""
    q = np.clip(np.asarray(p, dtype=np.float64), 1e-6, 1 - 1e-6)
    return np.array([_NORMAL.inv_cdf(float(v)) for v in q.reshape(-1)]).reshape(q.shape)


def det(
    curves: Union[Sequence[Tuple[str, npt.ArrayLike, npt.ArrayLike]], npt.ArrayLike],
    impostor: Optional[npt.ArrayLike] = None,
    *,
    label: str = "scores",
    ax: Optional[Axes] = None,
    title: Optional[str] = "DET",
) -> Axes:
    """DET curves on normal-deviate axes (the ISO/IEC 19795 convention).

    ``det(genuine, impostor)`` draws one curve; ``det([(label, genuine,
    impostor), ...])`` draws several. The EER of each is marked and given in
    the legend.
    """
    todo: List[Tuple[str, Any, Any]]
    if impostor is not None:
        todo = [(label, curves, impostor)]
    else:
        todo = [(str(n), g, i) for n, g, i in cast(Sequence[Tuple[str, Any, Any]], curves)]
    ax = _axes(ax)
    for name, genuine, imp in todo:
        c = _eval.det(genuine, imp)
        e = _eval.eer(genuine, imp)
        (line,) = ax.plot(_probit(c.fmr), _probit(c.fnmr), label=f"{name} (EER {100 * e.eer:.2f}%)")
        ax.plot(_probit(e.eer), _probit(e.eer), "o", color=line.get_color())
    ticks = _probit(_TICKS)
    labels = [f"{100 * t:g}" for t in _TICKS]
    ax.set_xticks(ticks, labels)
    ax.set_yticks(ticks, labels)
    lo, hi = float(_probit(1e-4)), float(_probit(0.95))
    ax.set_xlim(lo, hi)
    ax.set_ylim(lo, hi)
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
    """Genuine and impostor score densities, with an optional threshold line."""
    ax = _axes(ax)
    g = np.asarray(genuine, dtype=np.float64).reshape(-1)
    i = np.asarray(impostor, dtype=np.float64).reshape(-1)
    lo = float(min(g.min(), i.min()))
    hi = float(max(g.max(), i.max()))
    edges = np.linspace(lo, hi if hi > lo else lo + 1.0, bins + 1).tolist()
    ax.hist(i, bins=edges, density=True, alpha=0.55, label=f"impostor ({len(i)})")
    ax.hist(g, bins=edges, density=True, alpha=0.55, label=f"genuine ({len(g)})")
    if threshold is not None:
        ax.axvline(threshold, color="k", linestyle="--", label=f"threshold {threshold:.3f}")
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
    al. (2018)."""
    ax = _axes(ax)
    u = _eval.unlinkability_details(mated, nonmated, bins=bins, omega=omega)
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
    """Saves the figure of ``ax`` (e.g. to a PNG file) and closes it."""
    fig: Any = getattr(ax.figure, "figure", None) or ax.figure  # a subfigure's root
    fig.savefig(path, dpi=dpi, bbox_inches="tight")
    _pyplot().close(fig)
