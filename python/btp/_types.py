"""Result and description types of btp.

Plain named tuples and frozen dataclasses: they print, compare, unpack and
pickle without the native module. The native module builds them (it imports
this module), so their field names and order are part of its contract.
Nothing here holds a key or a feature vector.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, Dict, List, NamedTuple, Optional

import numpy as np
import numpy.typing as npt

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


class Decision(NamedTuple):
    """A 1:1 decision: ``matched`` iff ``score >= threshold``."""

    score: float
    threshold: float
    matched: bool


class Candidate(NamedTuple):
    """One entry of a search result."""

    id: int
    score: float


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
        """``n`` descriptions of disjoint, nearly equal shards."""
        if n < 1:
            raise ValueError("n must be at least 1")
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


class Verification(NamedTuple):
    """Outcome of ``Store.verify``: the best live record's decision."""

    decision: Decision
    record: int
    event: int


class StoreCandidate(NamedTuple):
    """One candidate of ``Store.identify``."""

    subject: str
    record: int
    score: float


class Identification(NamedTuple):
    """Outcome of ``Store.identify``: a candidate list for human review."""

    candidates: List[StoreCandidate]
    threshold: float
    event: int


class ErasureReport(NamedTuple):
    """What ``Store.erase`` deleted, by purpose."""

    erased: Dict[str, List[int]]
    event: int
    checkpointed: bool


class SweepReport(NamedTuple):
    """What ``Store.sweep`` deleted, by purpose."""

    now: datetime
    deleted: Dict[str, List[int]]
    held: int
    event: int
    checkpointed: bool

    @property
    def total(self) -> int:
        """Number of records deleted."""
        return sum(len(v) for v in self.deleted.values())


class Rotation(NamedTuple):
    """One purpose's storage key rotation."""

    purpose: str
    old_version: int
    new_version: int
    reencrypted: int


class PurposeActivity(NamedTuple):
    """Audit activity of one purpose over a period."""

    purpose: str
    counts: Dict[str, int]
    swept_records: int
    erased_records: int


class StoreStats(NamedTuple):
    """Transparency figures of a store."""

    activity: List[PurposeActivity]
    live: Dict[str, int]


class AuditHead(NamedTuple):
    """The newest audit event's sequence number and MAC."""

    seq: int
    mac: bytes


class AuditReport(NamedTuple):
    """A verified audit chain."""

    events: int
    first_seq: Optional[int]
    head: Optional[AuditHead]
    pruned_through: Optional[int]


class AuditEvent(NamedTuple):
    """One audit event. ``subjects`` are keyed hashes, never subject ids."""

    seq: int
    time: datetime
    actor: str
    action: str
    purpose: Optional[str]
    reason: str
    records: List[int]
    subjects: List[bytes]
    outcome: str
    detail: Dict[str, Any]
    mac: bytes


class PruneReport(NamedTuple):
    """What ``Store.prune_audit`` did."""

    pruned: int
    pruned_through: Optional[int]
