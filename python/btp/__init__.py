"""btp: biometric template protection.

Cancellable templates (ISO/IEC 24745 style: irreversible, unlinkable,
renewable), 1:1 and 1:N matching in the protected domain, an AES-GCM
encrypted template store with purposes, expiry, holds, erasure, key rotation
and an audit chain, and the evaluation metrics an auditor needs.

>>> import btp, numpy as np
>>> mk = btp.MasterKey.generate()
>>> X, labels = btp.synthetic.population(subjects=20, samples=3)
>>> scheme = btp.IoM(dim=128, hashes=512, window=16).with_centring(btp.fit_centre(X))
>>> prot = btp.Protector(scheme, mk, application="gate-A")
>>> codes = prot.protect_batch(X)          # (60, 32) uint64, one row per template
>>> g = btp.Gallery(prot); g.add(np.arange(60), codes)
>>> g.search(X[0], k=1)[0].id
0

Arrays: ``float32`` C-contiguous feature arrays are read in place; other
dtypes (``float64``, integers) are converted to ``float32`` once. Packed
codes are ``uint64`` arrays of shape ``(n, words)``. Batch calls and searches
release the GIL and use every core.

Errors: every error is a :class:`BtpError`; bad input is also a
``ValueError`` (:class:`DimensionError`, :class:`NonFiniteError`,
:class:`InvalidParameterError`, ...), absent things a ``LookupError``.
Messages never contain feature values or keys.

Keys: a :class:`MasterKey` never prints or pickles. A :class:`Protector` or
:class:`Gallery` pickles to a description without the key, which a worker
holding the key reopens (``description.open(mk)``).

Tables: every evaluation result and store report has ``to_records()`` (a
list of dicts) and ``to_frame()`` (a pandas DataFrame; ``pip install
"btp[pandas]"``); :func:`to_frame` makes one table of several.

Submodules imported on demand, each with an optional dependency:
``btp.plot`` (matplotlib), ``btp.sklearn`` (scikit-learn: a transformer for
pipelines) and ``btp.hazmat`` (a protector's secret transform, for checking
an independent implementation; read its warning first).
"""

from __future__ import annotations

from typing import Any, Optional

from btp import _native, _types, eval, plot, synthetic
from btp._codes import Codes
from btp._native import *  # classes, exceptions, functions: _native.__all__
from btp._tables import to_frame
from btp._types import *  # results and descriptions: _types.__all__


def IoM(
    dim: int,
    hashes: int = 512,
    window: int = 16,
    method: str = "grp",
    order: Optional[int] = None,
    *,
    centre: Any = None,
    l2: bool = False,
) -> Scheme:
    """Index-of-Max hashing (Jin et al., IEEE TIFS 2018).

    ``method="grp"``: each of ``hashes`` indices is the argmax of ``window``
    Gaussian random projections. ``method="urp"``: the argmax over the first
    ``window`` entries of the product of ``order`` (default 2) random
    permutations. ``centre`` (see :func:`fit_centre`) and ``l2`` set the
    preprocessing, as ``with_centring`` and ``with_l2`` do.

    Constraints (:class:`InvalidParameterError` naming the argument
    otherwise): ``1 <= dim <= 65536``; ``1 <= hashes <= 65536``;
    ``2 <= window <= 256``, and for ``"urp"`` also ``window <= dim``;
    ``order`` only for ``"urp"``, ``1 <= order <= 16``; the transform holds
    at most ``2**26`` coefficients (``hashes * window * dim`` for ``"grp"``,
    ``hashes * order * window`` for ``"urp"``); ``centre`` has ``dim``
    finite values. Codes are ``hashes`` indices below ``window`` (4 bits
    each up to ``window=16``, 8 bits above).
    """
    return Scheme.iom(dim, hashes, window, method, order, centre=centre, l2=l2)


def BioHash(dim: int, bits: Optional[int] = None, *, centre: Any = None, l2: bool = False) -> Scheme:
    """BioHashing (Teoh et al. 2004) to ``bits`` bits (default ``dim``).

    Constraints (:class:`InvalidParameterError` naming the argument
    otherwise): ``1 <= dim <= 65536``; ``1 <= bits <= dim`` (the projections
    are orthonormalised, so there are at most ``dim`` of them);
    ``bits * dim <= 2**26``; ``centre`` has ``dim`` finite values. The
    threshold is 0, which suits centred features: fit a centre
    (:func:`fit_centre`) for raw embeddings.
    """
    return Scheme.biohash(dim, bits, centre=centre, l2=l2)


# The public names, each listed once where it is defined: here for what
# this module defines or gathers, `_native.__all__` for the native classes,
# exceptions and functions, `_types.__all__` for results and descriptions
# (python/tests/test_stubs.py checks the stubs against the runtime).
__all__ = [
    "IoM",
    "BioHash",
    "Codes",
    "to_frame",
    # submodules
    "eval",
    "plot",
    "synthetic",
]
__all__ += _native.__all__
__all__ += _types.__all__
