"""Tables and short reprs for result types (private).

Every evaluation result and store report has ``to_records()`` (a list of
dicts, one per row: no dependency) and ``to_frame()`` (a pandas DataFrame
of the same rows). pandas is imported when ``to_frame`` is called, never by
``import btp``: it is the optional extra ``btp[pandas]``.

Reprs of results that hold arrays or long lists show their size and ends,
never every element, so that printing a report in a notebook fits on a
screen.

:class:`Table` gives a result class both methods once (one row of its
fields unless the class overrides ``to_records``), :class:`ShortTable` the
short repr as well.
"""

from __future__ import annotations

import importlib
from typing import Any, ClassVar, Dict, Iterable, List, Mapping, Optional, Sequence

import numpy as np

Records = List[Dict[str, Any]]

_PANDAS_HINT = (
    'to_frame() needs pandas: pip install "btp[pandas]" (or pip install pandas); '
    "to_records() gives the same rows as a list of dicts without it"
)


def frame(records: Records, columns: Optional[Sequence[str]] = None) -> Any:
    """A pandas DataFrame of ``records``; ``columns`` (default: the keys of
    the first record) also name the columns of an empty table."""
    try:
        pandas = importlib.import_module("pandas")
    except ImportError as e:
        raise ImportError(_PANDAS_HINT) from e
    if columns is None:
        columns = list(records[0]) if records else []
    return pandas.DataFrame.from_records(records, columns=list(columns))


def to_frame(items: Iterable[Any]) -> Any:
    """One DataFrame of the rows of several results (e.g. the events of
    ``Store.audit_events``, or one ``eer`` per scheme): each result's
    ``to_records()`` one after the other."""
    rows: Records = []
    for item in items:
        to_records = getattr(item, "to_records", None)
        if not callable(to_records):
            raise TypeError(f"to_frame takes btp results (with to_records()), not {type(item).__name__}")
        rows.extend(to_records())
    return frame(rows)


def field_names(obj: Any) -> Sequence[str]:
    """The field names of a named tuple or a dataclass, in order."""
    return obj._fields if hasattr(obj, "_fields") else list(obj.__dataclass_fields__)


def row(obj: Any, prefix: str = "") -> Dict[str, Any]:
    """The fields of a named tuple or dataclass as one flat row: nested
    results become ``prefix_field`` columns, an ``interval`` pair
    ``interval_lo`` and ``interval_hi``."""
    out: Dict[str, Any] = {}
    for name in field_names(obj):
        v = getattr(obj, name)
        key = prefix + name
        if hasattr(v, "_fields") or hasattr(v, "__dataclass_fields__"):
            out.update(row(v, key + "_"))
        elif name == "interval":
            lo, hi = v if v is not None else (None, None)
            out[key + "_lo"], out[key + "_hi"] = lo, hi
        else:
            out[key] = scalar(v)
    return out


def scalar(v: Any) -> Any:
    """numpy scalars as Python numbers (tables and JSON want them)."""
    return v.item() if isinstance(v, np.generic) else v


def columnar(columns: Mapping[str, Any], **constant: Any) -> Records:
    """Rows of equally long columns, plus constant fields in every row."""
    names = list(columns)
    values = [np.asarray(columns[n]).tolist() for n in names]
    n = len(values[0]) if values else 0
    return [dict(constant, **{k: v[i] for k, v in zip(names, values)}) for i in range(n)]


def short(v: Any, width: int = 4) -> str:
    """repr of ``v``, long arrays and lists shortened to their ends."""
    if isinstance(v, np.ndarray):
        if v.size <= 2 * width:
            return np.array2string(v, separator=", ", precision=4)
        flat = v.reshape(-1)
        return (
            f"array({v.size} x {v.dtype}: "
            f"{_items(flat[:width])}, ..., {_items(flat[-width:])})"
        )
    if isinstance(v, (list, tuple)) and len(v) > 2 * width:
        return f"[{_items(v[:width])}, ... ({len(v)} items)]"
    if isinstance(v, dict) and len(v) > 2 * width:
        head = ", ".join(f"{k!r}: {short(x)}" for k, x in list(v.items())[:width])
        return f"{{{head}, ... ({len(v)} keys)}}"
    if isinstance(v, dict):
        return "{" + ", ".join(f"{k!r}: {short(x)}" for k, x in v.items()) + "}"
    return repr(v)


def _items(xs: Any) -> str:
    return ", ".join(short(scalar(x)) for x in xs)


def fields_repr(obj: Any, names: Sequence[str]) -> str:
    """``Type(a=..., b=...)`` with every value shortened."""
    body = ", ".join(f"{n}={short(getattr(obj, n))}" for n in names)
    return f"{type(obj).__name__}({body})"


class Table:
    """``to_records()`` and ``to_frame()`` of a result (a base class of
    named tuples and dataclasses). By default a result is one row of its
    fields; a result of several rows overrides ``to_records`` and names its
    columns in ``_columns``, so that an empty table still has them."""

    __slots__ = ()
    _columns: ClassVar[Optional[Sequence[str]]] = None

    def to_records(self) -> Records:
        """One row of the fields."""
        return [row(self)]

    def to_frame(self) -> Any:
        """A pandas DataFrame of :meth:`to_records`."""
        return frame(self.to_records(), self._columns)


class ShortTable(Table):
    """A :class:`Table` whose repr shortens long arrays, lists and dicts."""

    __slots__ = ()

    def __repr__(self) -> str:
        return fields_repr(self, field_names(self))
