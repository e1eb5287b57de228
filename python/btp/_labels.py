"""Labels of any type as the ``uint32`` codes the native functions take
(private to :mod:`btp.eval`).

Labels are compared as Python compares them, never after a silent
conversion. So:

- a label array is 1-D (a 2-D array is refused, not flattened);
- numbers (``bool``, integers, floats) and strings (``str``) are both fine,
  but one set of labels may not mix them, and two sets compared with each
  other (rows and columns, probes and gallery) must be of the same family:
  numpy would turn ``[1, "1"]`` into the strings ``["1", "1"]`` and call
  them equal, where Python says ``1 != "1"``;
- ``None``, NaN and infinite labels are refused (a missing label is not a
  subject);
- integers of both signs beyond ``int64`` and floats beyond ``2**53`` are
  compared exactly or refused, never rounded to a common ``float64``.

Refusals are :class:`btp.InvalidParameterError` (a ``ValueError``) or
:class:`btp.DimensionError` naming the argument.
"""

from __future__ import annotations

import numbers
from typing import Any, List, Tuple

import numpy as np
import numpy.typing as npt

from btp import _native

Codes = npt.NDArray[np.uint32]

_FAMILY = {"b": "numbers", "i": "numbers", "u": "numbers", "f": "numbers", "U": "strings", "S": "bytes"}


def param_error(name: str, reason: str) -> _native.InvalidParameterError:
    """The error the core gives for a bad argument, for checks made here."""
    return _native.InvalidParameterError(f"invalid parameter `{name}`: {reason}")


def _object_labels(arr: npt.NDArray[Any], name: str) -> Tuple[npt.NDArray[Any], str]:
    """An object array of labels as a typed array and its family."""
    families = set()
    for i, v in enumerate(arr.tolist()):
        if isinstance(v, str):
            families.add("strings")
        elif isinstance(v, bytes):
            families.add("bytes")
        elif isinstance(v, numbers.Real):
            if not np.isfinite(float(v)):
                raise param_error(name, f"a label must not be NaN or infinite (element {i})")
            families.add("numbers")
        elif v is None:
            raise param_error(name, f"a label must not be None (element {i})")
        else:
            raise param_error(name, f"labels are numbers or strings, element {i} is a {type(v).__name__}")
        if len(families) > 1:
            raise param_error(
                name,
                f"labels mix {' and '.join(sorted(families))} (element {i}): "
                "such labels never compare equal; convert them to one type",
            )
    family = families.pop() if families else "numbers"
    if family == "strings":
        return arr.astype(str), family
    if family == "bytes":
        return arr.astype(bytes), family
    values = arr.tolist()
    if all(isinstance(v, numbers.Integral) for v in values) and values:
        lo, hi = min(values), max(values)
        if -(2**63) <= lo and hi < 2**63:
            return np.asarray(values, dtype=np.int64), family
        if 0 <= lo and hi < 2**64:
            return np.asarray(values, dtype=np.uint64), family
        return arr, family  # Python ints: np.unique compares them exactly
    return np.asarray(values, dtype=np.float64), family


def labels(a: Any, name: str) -> Tuple[npt.NDArray[Any], str]:
    """A checked 1-D label array and its family (numbers, strings, bytes)."""
    try:
        arr = np.asarray(a)
    except (TypeError, ValueError) as e:  # ragged nesting
        raise _native.DimensionError(f"`{name}` must be a 1-D array of labels") from e
    if arr.ndim != 1:
        raise _native.DimensionError(
            f"`{name}` must be a 1-D array of labels, got {arr.ndim} dimension(s)"
        )
    kind = arr.dtype.kind
    if kind in "US" and not isinstance(a, np.ndarray):
        # numpy turns [1, '1'] into two strings '1': look at the elements
        # as given, so that mixed families are refused, not merged.
        kind = "O"
        arr = np.asarray(a, dtype=object)
    if kind == "O":
        return _object_labels(arr, name)
    if kind not in _FAMILY:
        raise param_error(name, f"labels are numbers or strings, not dtype {arr.dtype}")
    if kind == "f" and not np.isfinite(arr).all():
        i = int(np.flatnonzero(~np.isfinite(arr))[0])
        raise param_error(name, f"a label must not be NaN or infinite (element {i})")
    return arr, _FAMILY[kind]


def _common(arrays: List[npt.NDArray[Any]], names: List[str]) -> npt.NDArray[Any]:
    """The arrays joined without changing any label's value (numpy alone
    would join int64 with uint64, or integers with floats, as float64)."""
    if len(arrays) == 1:
        return arrays[0]
    kinds = {a.dtype.kind for a in arrays}
    if "f" in kinds and kinds - {"f", "b"}:
        for a, n in zip(arrays, names):
            if a.dtype.kind in "iuO" and a.size and max(abs(int(a.min())), abs(int(a.max()))) > 2**53:
                raise param_error(
                    n, "integer labels beyond 2**53 cannot be compared exactly with float labels"
                )
        return np.concatenate([a.astype(np.float64) for a in arrays])
    if {"i", "u"} <= kinds:
        if all(a.dtype.kind != "u" or not a.size or int(a.max()) < 2**63 for a in arrays):
            return np.concatenate([a.astype(np.int64) for a in arrays])
        if all(a.dtype.kind != "i" or not a.size or int(a.min()) >= 0 for a in arrays):
            return np.concatenate([a.astype(np.uint64) for a in arrays])
        return np.concatenate([a.astype(object) for a in arrays])
    return np.concatenate(arrays)


def codes(*named: Tuple[str, Any]) -> Tuple[npt.NDArray[Any], List[Codes]]:
    """The distinct labels of several named label arrays, sorted, and each
    array's labels as ``uint32`` indices into them."""
    checked = [(n,) + labels(a, n) for n, a in named]
    first_name, _, first_family = checked[0]
    for n, _, family in checked[1:]:
        if family != first_family:
            raise param_error(
                n,
                f"labels are {family} but `{first_name}` holds {first_family}: "
                "they never compare equal; convert one side",
            )
    arrays = [a for _, a, _ in checked]
    joined = _common(arrays, [n for n, _, _ in checked])
    names, inverse = np.unique(joined, return_inverse=True)
    if len(names) > 2**32:
        raise param_error(first_name, "more than 2**32 distinct labels")
    flat = np.asarray(inverse, dtype=np.uint32).reshape(-1)
    bounds = np.cumsum([0] + [len(a) for a in arrays])
    return names, [flat[bounds[k] : bounds[k + 1]] for k in range(len(arrays))]


def flags(a: Any, name: str) -> npt.NDArray[np.uint8]:
    """Genuine flags as 0/1 ``uint8``: booleans, or numbers that are 0 or 1.
    Strings are refused (``"False"`` is not false), as are other numbers."""
    arr = np.asarray(a)
    if arr.ndim != 1:
        raise _native.DimensionError(
            f"`{name}` must be one flag per score, got {arr.ndim} dimension(s)"
        )
    if arr.dtype.kind == "O":
        if not all(isinstance(v, (bool, np.bool_)) for v in arr.tolist()):
            raise param_error(name, "flags are booleans (or 0/1); an element is of another type")
        arr = arr.astype(bool)
    if arr.dtype.kind == "b":
        return arr.astype(np.uint8)
    if arr.dtype.kind not in "iuf":
        raise param_error(name, f"flags are booleans (or 0/1), not dtype {arr.dtype}")
    bad = np.flatnonzero((arr != 0) & (arr != 1))
    if bad.size:
        raise param_error(name, f"flags are booleans (or 0/1); element {int(bad[0])} is neither")
    return arr.astype(np.uint8)
