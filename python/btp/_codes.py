"""Packed protected codes that carry their origin.

A :class:`Codes` array is a ``uint64`` numpy array ``(n, words)`` (or
``(words,)``) that remembers which protector made it: the key
``fingerprint`` (hex; it identifies master key, application, version and
subject, and reveals only equality) and the scheme's ``params_id``.
:meth:`btp.Protector.protect_batch` and :meth:`btp.Gallery.codes` return
them; a :class:`btp.Gallery` takes packed codes only in this form, and
refuses codes of another key or scheme (``KeyMismatchError``,
``SchemeMismatchError``) instead of storing or matching them. Any other
numeric array given to a gallery is taken as feature vectors and protected,
except a plain ``uint64`` array (the codes' type), which is refused.

Codes read back from a file (``np.load``) or rebuilt by numpy
(``np.concatenate``, ``np.vstack`` return plain arrays) are plain arrays:
declare their origin with :meth:`btp.Protector.as_codes`, which checks
them and stamps the protector's origin.

Slices and copies keep the origin; arithmetic on codes is meaningless and
gives plain arrays only where numpy builds a new array without a source.
"""

from __future__ import annotations

from typing import Any, Optional, Tuple

import numpy as np
import numpy.typing as npt

from btp import _native
from btp._labels import param_error

__all__ = ["Codes"]


class Codes(np.ndarray):  # type: ignore[type-arg,unused-ignore]
    """``uint64`` packed codes with their origin (see the module docs)."""

    fingerprint: Optional[str]
    params_id: Optional[str]

    def __new__(
        cls, array: npt.ArrayLike, fingerprint: str, params_id: str
    ) -> "Codes":
        if not isinstance(fingerprint, str) or not isinstance(params_id, str):
            raise TypeError("a Codes array's fingerprint and params_id are str")
        try:
            a = np.asarray(array)
        except ValueError:
            raise _native.DimensionError("`array` must be a rectangular array of codes") from None
        # Integers only, none negative: numpy would truncate floats and
        # wrap negative numbers into codes silently.
        if (a.dtype.kind not in "ui" and a.size) or (a.dtype.kind == "i" and bool((a < 0).any())):
            raise param_error("array", "packed codes are non-negative integers (uint64)")
        obj = a.astype(np.uint64, copy=False).view(cls)
        obj.fingerprint = fingerprint
        obj.params_id = params_id
        return obj

    def __array_finalize__(self, obj: Any) -> None:
        self.fingerprint = getattr(obj, "fingerprint", None)
        self.params_id = getattr(obj, "params_id", None)

    def __array_wrap__(
        self, array: Any, context: Any = None, return_scalar: bool = False
    ) -> Any:
        # A ufunc's result (codes ^ codes, codes + 1) is not codes of anyone.
        out = np.asarray(array)
        return out[()] if return_scalar else out

    def __reduce__(self) -> Tuple[Any, ...]:
        # numpy pickles the data; the origin travels with it.
        reduced: Any = super().__reduce__()
        reconstruct, args, state = reduced
        return reconstruct, args, (state, self.fingerprint, self.params_id)

    def __setstate__(self, state: Any) -> None:
        array_state, self.fingerprint, self.params_id = state
        super().__setstate__(array_state)

    def __repr__(self) -> str:
        shape = "x".join(str(d) for d in self.shape)
        return f"Codes({shape} uint64, key {self.fingerprint}, params {self.params_id})"
