"""Result and description types of btp.

Plain named tuples and frozen dataclasses: they print, compare, unpack and
pickle without the native module. The native module builds them from its
table of result classes (python/src/results.rs), so their field names and
order are part of its contract (``python/tests/test_results.py`` checks the
two agree). Nothing here holds a key or a feature vector. A named tuple
here is a class over a functional ``NamedTuple`` (its fields), so that it
takes ``to_records``/``to_frame`` (and the short repr) from
:class:`btp._tables.Table` rather than repeating them.

Every result converts to a table: ``to_records()`` (a list of dicts, one per
row; no dependency) and ``to_frame()`` (a pandas DataFrame of the same rows;
pandas is the optional extra ``btp[pandas]``); :func:`btp.to_frame` makes one
table of several (e.g. ``store.audit_events(...)``). Reprs shorten long
lists and dicts to their first items and a count.
"""

from __future__ import annotations

import dataclasses
import numbers
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, Dict, List, NamedTuple, Optional

import numpy as np
import numpy.typing as npt

from btp._labels import param_error
from btp._tables import Records, ShortTable, Table, row

if TYPE_CHECKING:  # pragma: no cover
    from btp._native import Gallery, MasterKey, Protector

__all__ = [
    "Decision",
    "Candidate",
    "ProtectorDescription",
    "GalleryDescription",
    "Verification",
    "StoreCandidate",
    "Identification",
    "ErasureReport",
    "SweepReport",
    "Rotation",
    "PurposeActivity",
    "StoreStats",
    "AuditHead",
    "AuditReport",
    "AuditEvent",
    "PruneReport",
]


class Decision(Table, NamedTuple("Decision", [("score", float), ("threshold", float), ("matched", bool)])):
    """A 1:1 decision: ``matched`` iff ``score >= threshold``."""

    __slots__ = ()


class Candidate(Table, NamedTuple("Candidate", [("id", int), ("score", float)])):
    """One entry of a search result."""

    __slots__ = ()


@dataclass(frozen=True)
class ProtectorDescription:
    """Everything that makes a :class:`btp.Protector` except the key.

    Pickling a protector gives its description; ``open(mk)`` makes the
    protector again (``KeyMismatchError`` if ``mk`` is another key). Use it
    to ship a protector to worker processes that hold the key.
    """

    scheme: bytes
    """Canonical scheme parameters (``Scheme.to_bytes()``)."""
    application: str
    version: int
    subject: Optional[bytes]
    fingerprint: Optional[str] = None
    """Hex fingerprint of the key it was made with; checked on open."""

    def open(self, mk: MasterKey) -> Protector:
        """The protector of this description under ``mk``."""
        from btp._native import Protector

        return Protector.reopen(self, mk)

    def __repr__(self) -> str:
        return (
            f"ProtectorDescription(application={self.application!r}, version={self.version}, "
            f"key {self.fingerprint})"
        )


@dataclass(frozen=True, eq=False)
class GalleryDescription:
    """A :class:`btp.Gallery` without the key: its protector's description,
    the ids (``int64``) and the packed codes (``uint64``, one row per id).

    Pickling a gallery gives its description; ``open(mk)`` rebuilds the
    gallery. ``split(n)`` cuts it into ``n`` shards for ``n`` workers, whose
    results :func:`btp.merge_results` combines. The codes are protected
    templates: still personal data, ship them only where they may go.
    """

    protector: ProtectorDescription
    ids: npt.NDArray[np.int64]
    codes: npt.NDArray[np.uint64]

    def open(self, mk: MasterKey) -> Gallery:
        """The gallery of this description under ``mk``."""
        from btp._native import Gallery

        return Gallery.reopen(self, mk)

    def split(self, n: int) -> List[GalleryDescription]:
        """``n`` descriptions of disjoint, nearly equal shards (``n`` an
        integer from 1 to the number of templates or 65536, whichever is
        larger; :class:`btp.InvalidParameterError` otherwise: every shard is
        an object, and ``split(10**9)`` would build a billion). Shards past
        the number of templates are empty."""
        most = max(len(self.ids), 65536)
        if isinstance(n, (bool, np.bool_)) or not isinstance(n, numbers.Integral) or not 1 <= n <= most:
            raise param_error("n", f"must be an integer in 1..={most} (the templates, or 65536)")
        parts = np.array_split(np.arange(len(self.ids)), n)
        return [
            dataclasses.replace(self, ids=self.ids[p], codes=self.codes[p]) for p in parts
        ]

    def __len__(self) -> int:
        return len(self.ids)

    def __repr__(self) -> str:
        return f"GalleryDescription({len(self.ids)} templates, {self.protector!r})"


# --------------------------------------------------------------------------
# Store results


class Verification(
    Table,
    NamedTuple(
        "Verification",
        [
            ("decision", Decision),
            ("record", int),
            ("event", int),
        ],
    ),
):
    """Outcome of ``Store.verify``: the best live record's decision."""

    __slots__ = ()

    def to_records(self) -> Records:
        """One row: ``score, threshold, matched, record, event``."""
        return [dict(row(self.decision), record=self.record, event=self.event)]


class StoreCandidate(
    Table,
    NamedTuple(
        "StoreCandidate",
        [
            ("subject", str),
            ("record", int),
            ("score", float),
        ],
    ),
):
    """One candidate of ``Store.identify``."""

    __slots__ = ()


class Identification(
    ShortTable,
    NamedTuple(
        "Identification",
        [
            ("candidates", List[StoreCandidate]),
            ("threshold", float),
            ("event", int),
        ],
    ),
):
    """Outcome of ``Store.identify``: a candidate list for human review."""

    __slots__ = ()
    _columns = ("subject", "record", "score", "threshold", "event")

    def to_records(self) -> Records:
        """One row per candidate: ``subject, record, score, threshold, event``."""
        return [dict(row(c), threshold=self.threshold, event=self.event) for c in self.candidates]


class ErasureReport(
    ShortTable,
    NamedTuple(
        "ErasureReport",
        [
            ("erased", Dict[str, List[int]]),
            ("event", int),
            ("checkpointed", bool),
        ],
    ),
):
    """What ``Store.erase`` deleted, by purpose."""

    __slots__ = ()
    _columns = ("purpose", "record", "event", "checkpointed")

    def to_records(self) -> Records:
        """One row per erased record: ``purpose, record, event, checkpointed``."""
        return [
            dict(purpose=p, record=r, event=self.event, checkpointed=self.checkpointed)
            for p, records in self.erased.items()
            for r in records
        ]


class SweepReport(
    ShortTable,
    NamedTuple(
        "SweepReport",
        [
            ("now", datetime),
            ("deleted", Dict[str, List[int]]),
            ("held", int),
            ("event", int),
            ("checkpointed", bool),
        ],
    ),
):
    """What ``Store.sweep`` deleted, by purpose."""

    __slots__ = ()
    _columns = ("now", "purpose", "record", "held", "event", "checkpointed")

    @property
    def total(self) -> int:
        """Number of records deleted."""
        return sum(len(v) for v in self.deleted.values())

    def to_records(self) -> Records:
        """One row per deleted record: ``now, purpose, record, held, event,
        checkpointed``."""
        return [
            dict(now=self.now, purpose=p, record=r, held=self.held, event=self.event,
                 checkpointed=self.checkpointed)
            for p, records in self.deleted.items()
            for r in records
        ]


class Rotation(
    Table,
    NamedTuple(
        "Rotation",
        [
            ("purpose", str),
            ("old_version", int),
            ("new_version", int),
            ("reencrypted", int),
        ],
    ),
):
    """One purpose's storage key rotation."""

    __slots__ = ()


class PurposeActivity(
    Table,
    NamedTuple(
        "PurposeActivity",
        [
            ("purpose", str),
            ("counts", Dict[str, int]),
            ("swept_records", int),
            ("erased_records", int),
        ],
    ),
):
    """Audit activity of one purpose over a period."""

    __slots__ = ()

    def to_records(self) -> Records:
        """One row: ``purpose, swept_records, erased_records`` and a column
        per action counted."""
        return [dict(purpose=self.purpose, swept_records=self.swept_records,
                     erased_records=self.erased_records, **self.counts)]


class StoreStats(
    ShortTable,
    NamedTuple(
        "StoreStats",
        [
            ("activity", List[PurposeActivity]),
            ("live", Dict[str, int]),
        ],
    ),
):
    """Transparency figures of a store."""

    __slots__ = ()

    def to_records(self) -> Records:
        """One row per purpose: ``purpose, live``, the purpose's activity
        (:meth:`PurposeActivity.to_records`) and 0 for actions it lacks."""
        activity = {a.purpose: a.to_records()[0] for a in self.activity}
        purposes = list(dict.fromkeys([*self.live, *activity]))
        actions = sorted({k for a in self.activity for k in a.counts})
        rows = []
        for p in purposes:
            r: Dict[str, Any] = dict(purpose=p, live=self.live.get(p, 0), swept_records=0, erased_records=0)
            r.update({k: 0 for k in actions})
            r.update(activity.get(p, {}))
            rows.append(r)
        return rows


class AuditHead(Table, NamedTuple("AuditHead", [("seq", int), ("mac", bytes)])):
    """The newest audit event's sequence number and MAC."""

    __slots__ = ()


class AuditReport(
    Table,
    NamedTuple(
        "AuditReport",
        [
            ("events", int),
            ("first_seq", Optional[int]),
            ("head", Optional[AuditHead]),
            ("pruned_through", Optional[int]),
        ],
    ),
):
    """A verified audit chain."""

    __slots__ = ()

    def to_records(self) -> Records:
        """One row: ``events, first_seq, head_seq, head_mac, pruned_through``
        (the head's fields None for an empty chain)."""
        head = self.head
        return [
            dict(
                events=self.events,
                first_seq=self.first_seq,
                head_seq=head.seq if head is not None else None,
                head_mac=head.mac if head is not None else None,
                pruned_through=self.pruned_through,
            )
        ]


class AuditEvent(
    ShortTable,
    NamedTuple(
        "AuditEvent",
        [
            ("seq", int),
            ("time", datetime),
            ("actor", str),
            ("action", str),
            ("purpose", Optional[str]),
            ("reason", str),
            ("records", List[int]),
            ("subjects", List[bytes]),
            ("outcome", str),
            ("detail", Dict[str, Any]),
            ("mac", bytes),
        ],
    ),
):
    """One audit event. ``subjects`` are keyed hashes, never subject ids."""

    __slots__ = ()

    def to_records(self) -> Records:
        """One row of the fields (``records``, ``subjects`` and ``detail``
        stay lists and a dict)."""
        return [row(self)]


class PruneReport(Table, NamedTuple("PruneReport", [("pruned", int), ("pruned_through", Optional[int])])):
    """What ``Store.prune_audit`` did."""

    __slots__ = ()
