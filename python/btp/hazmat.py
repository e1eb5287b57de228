"""Hazardous materials: a protector's **secret transform**, as arrays.

.. danger::

   The arrays this module returns *are the secret*. With them anyone can
   compute every template of that key and application, link templates
   across databases, and recover much of a feature vector from its template
   (for BioHash, each bit is a half-space of the features). They must
   **never be stored, logged, printed, pickled, sent to another process or
   kept in a long-lived object**. numpy does not wipe them when they are
   freed: delete them as soon as the check they serve is done.

   Like ``cryptography.hazmat``, this exists for the few who must check
   btp against something else, not for applications. It is used by
   ``tests/python/test_reference_transforms.py`` (numpy re-implementations
   of IoM-GRP, IoM-URP and BioHashing from the papers, which must agree
   with btp code for code) and by the numpy peer of ``bench/run``.

Every code element follows from the material and the scheme's
preprocessing (``x' = x - centre``, then ``x' / |x'|`` if ``l2``; see
``btp::features``) with ``float32`` dot products in btp's fixed order
(eight lanes ``l = k mod 8`` summed separately in coordinate order, then
``((l0 + l4) + (l1 + l5)) + ((l2 + l6) + (l3 + l7))``):

- ``iom-grp``: ``matrix`` ``(hashes, window, dim)`` ``float32`` of standard
  normal coefficients; hash ``h`` is the first index of the largest
  ``<matrix[h, j], x'>`` (Jin et al., IEEE TIFS 2018).
- ``iom-urp``: ``permutations`` ``(hashes, order, window)`` ``uint32``, the
  first ``window`` entries of ``order`` random permutations of the
  coordinates per hash; hash ``h`` is the first index of the largest
  ``prod_p x'[permutations[h, p, j]]`` (products in ``float32`` in the
  order ``p = 0, 1, ...``).
- ``biohash``: ``basis`` ``(bits, dim)`` ``float32``, orthonormal rows
  (Gram-Schmidt of Gaussian rows, Teoh et al. 2004); bit ``i`` is 1 iff
  ``<basis[i], x'> > 0``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, NoReturn, Optional

import numpy as np
import numpy.typing as npt

from btp import _native

__all__ = ["Transform", "expose_transform"]


@dataclass(frozen=True, repr=False, eq=False)
class Transform:
    """A protector's secret transform (see the module warning). Exactly one
    of ``matrix``, ``permutations`` and ``basis`` is set, by ``kind``.
    Its repr shows shapes only, and it refuses to pickle."""

    kind: str
    dim: int
    centre: Optional[npt.NDArray[np.float32]]
    l2: bool
    matrix: Optional[npt.NDArray[np.float32]] = None
    permutations: Optional[npt.NDArray[np.uint32]] = None
    basis: Optional[npt.NDArray[np.float32]] = None

    @property
    def material(self) -> npt.NDArray[Any]:
        """The one secret array of this kind."""
        for a in (self.matrix, self.permutations, self.basis):
            if a is not None:
                return a
        raise AssertionError("a Transform holds one array")  # pragma: no cover

    def __repr__(self) -> str:
        shape = "x".join(str(n) for n in self.material.shape)
        centred = ", centred" if self.centre is not None else ""
        l2 = ", l2" if self.l2 else ""
        return f"<btp.hazmat.Transform {self.kind} {shape}{centred}{l2}: secret, never store or log>"

    def __reduce__(self) -> NoReturn:
        raise TypeError("a btp.hazmat.Transform is a secret transform and never pickles")


def expose_transform(protector: _native.Protector) -> Transform:
    """**Hazardous**: a copy of ``protector``'s secret transform and its
    preprocessing (see the module warning and the recipe above)."""
    kind, material = _native.hazmat.expose_transform(protector)
    scheme = protector.scheme
    arrays = {"iom-grp": "matrix", "iom-urp": "permutations", "biohash": "basis"}
    return Transform(
        kind=kind,
        dim=scheme.dim,
        centre=scheme.centre,
        l2=scheme.l2,
        **{arrays[kind]: material},
    )
