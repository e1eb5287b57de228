"""The encrypted store from Python: a full round trip in a temporary
directory, and each of its error paths."""

from __future__ import annotations

import json
import pickle
import sqlite3
import time
from datetime import datetime, timedelta, timezone

import numpy as np
import pytest

import btp

ACT = {"actor": "officer-7", "reason": "test case 1"}


@pytest.fixture
def purposes(scheme):
    return [
        btp.Purpose("border", scheme, "gate-A", 0.25, timedelta(days=30)),
        btp.Purpose("visa", scheme, "consulate", 0.25, timedelta(days=365), transform_version=2),
    ]


@pytest.fixture
def store(tmp_path, mk, purposes):
    with btp.Store.create(tmp_path / "store.db", mk, purposes) as s:
        yield s


def test_purpose(purposes, scheme):
    p = purposes[1]
    assert (p.name, p.application, p.threshold, p.transform_version) == ("visa", "consulate", 0.25, 2)
    assert p.max_retention == timedelta(days=365) and p.scheme == scheme
    back = pickle.loads(pickle.dumps(p))
    assert (back.name, back.max_retention, back.scheme) == (p.name, p.max_retention, p.scheme)
    with pytest.raises(btp.InvalidParameterError, match="threshold"):
        btp.Purpose("x", scheme, "a", 1.5, 60)
    with pytest.raises(btp.InvalidParameterError, match="max_retention"):
        btp.Purpose("x", scheme, "a", 0.5, 0)


def test_round_trip(store, population, prot, mk, purposes, tmp_path):
    x, labels = population
    subjects = [f"P-{s}" for s in range(10)]
    records = {}
    for s in range(10):
        records[s] = store.enroll(subjects[s], x[4 * s], "border", retention=timedelta(days=7), **ACT)
    store.enroll(subjects[0], x[1], "visa", **ACT)
    assert store.record_counts() == {"border": 10, "visa": 1}

    v = store.verify(subjects[3], x[4 * 3 + 1], "border", **ACT)
    assert isinstance(v, btp.Verification) and v.decision.matched and v.record == records[3]
    assert not store.verify(subjects[3], x[4 * 5 + 1], "border", **ACT).decision.matched

    ident = store.identify(x[4 * 6 + 2], "border", k=3, **ACT)
    assert ident.candidates[0].subject == subjects[6] and ident.candidates[0].record == records[6]
    assert ident.threshold == 0.25
    seq = store.review(ident, "confirmed", record=records[6], reviewer="supervisor", **ACT)
    assert store.review(ident.event, "rejected", reviewer="second look", **ACT) == seq + 1

    # Templates made outside the store are accepted when they are of its key.
    outside = btp.Protector(purposes[0].scheme, mk, "gate-A")
    assert store.verify(subjects[6], outside.protect(x[4 * 6 + 3]), "border", **ACT).decision.matched

    case = store.retain_probe("case-42", x[7], "border", retention=3600, **ACT)
    name, t = store.retained_probe(case)
    assert name == "case-42" and isinstance(t, btp.Template)

    hold = store.hold(subject=subjects[2], **ACT)
    with pytest.raises(btp.HeldError, match=f"hold {hold}"):
        store.erase(subjects[2], **ACT)
    store.release(hold, **ACT)
    erased = store.erase(subjects[2], **ACT)
    assert erased.erased == {"border": [records[2]]}
    with pytest.raises(btp.NotFoundError):
        store.verify(subjects[2], x[9], "border", **ACT)

    # Sweep with an explicit clock: in 8 days the border records expired.
    held = store.hold(record=records[4], **ACT)
    later = datetime.now(timezone.utc) + timedelta(days=8)
    report = store.sweep(now=later)
    assert isinstance(report, btp.SweepReport)
    assert sorted(report.deleted["border"]) == sorted(r for s, r in records.items() if s not in (2, 4)) + [case]
    assert report.held == 1 and report.total == 9
    assert abs(report.now - later) < timedelta(seconds=1)
    assert store.sweep().total == 0  # nothing expired now
    store.release(held, **ACT)

    rotations = store.rotate_key()
    assert {r.purpose for r in rotations} == {"border", "visa"}
    assert all(r.new_version == r.old_version + 1 for r in rotations)
    assert store.verify(subjects[0], x[2], "visa", **ACT).decision.matched  # readable after rotation

    stats = store.stats()
    border = next(a for a in stats.activity if a.purpose == "border")
    assert border.counts["enroll"] == 10 and border.counts["verify"] >= 3
    assert border.swept_records == 9 and border.erased_records == 1
    assert stats.live == {"border": 1, "visa": 1}

    audit = store.verify_audit()
    head = store.audit_head()
    assert audit.head == head and audit.events == head.seq
    store.check_audit_head(head)
    enrolments = store.audit_events(action="enroll")
    assert len(enrolments) == 11 and all(e.actor == "officer-7" for e in enrolments)
    e = enrolments[0]
    assert e.time.tzinfo is not None and e.records == [records[0]] and len(e.subjects[0]) == 32
    assert "P-0" not in repr(e)  # subjects are keyed hashes
    assert store.audit_events(subject_hash=e.subjects[0], action="enroll")[0].records == [records[0]]
    assert len(store.audit_events(limit=3)) == 3
    assert store.audit_events(after_seq=head.seq - 1) == [store.audit_events()[-1]]
    path = tmp_path / "audit.jsonl"
    n = store.export_audit(path)
    assert n == audit.events and json.loads(path.read_text().splitlines()[0])["seq"] == 1
    # Never over an existing file: not the export, not the store itself.
    before = path.read_bytes()
    with pytest.raises(btp.StoreIOError, match="already exists"):
        store.export_audit(path)
    assert path.read_bytes() == before
    with pytest.raises(btp.StoreIOError, match="already exists"):
        store.export_audit(tmp_path / "store.db")
    store.check_integrity()
    store.check_integrity()
    store.checkpoint()
    assert len(store.store_id) == 16 and [p.name for p in store.purposes] == ["border", "visa"]


def test_reopen_and_wrong_key(tmp_path, mk, purposes, population):
    x, _ = population
    path = tmp_path / "s.db"
    with btp.Store.create(path, mk, purposes) as s:
        s.enroll("alice", x[0], "border", **ACT)
        sid = s.store_id
    with btp.Store.open(str(path), mk, purposes[:1]) as s:
        assert s.store_id == sid
        assert s.verify("alice", x[1], "border", **ACT).decision.matched
        with pytest.raises(btp.UnknownPurposeError, match="visa"):
            s.enroll("bob", x[4], "visa", **ACT)
        with pytest.raises(LookupError):
            s.identify(x[4], "nope", **ACT)
    with pytest.raises(btp.WrongKeyError, match="wrong master key"):
        btp.Store.open(path, btp.MasterKey.generate(), purposes)
    # Without purposes, the store serves what it holds.
    with btp.Store.open(path, mk) as s:
        assert [p.name for p in s.purposes] == ["border", "visa"]
    s.close()
    with pytest.raises(btp.StoreClosedError, match="closed"):
        s.verify("alice", x[1], "border", **ACT)
    assert s.closed and "closed" in repr(s)


def test_expired(store, population):
    x, _ = population
    store.enroll("carol", x[0], "border", expires_at=time.time() + 1, **ACT)
    time.sleep(2.05 - (time.time() % 1))  # past the next full second at least once
    with pytest.raises(btp.ExpiredError, match="expired"):
        store.verify("carol", x[1], "border", **ACT)
    assert store.identify(x[1], "border", threshold=0.0, **ACT).candidates == []
    # The log's own retention: events older than now go, the rest verifies.
    head = store.audit_head()
    pruned = store.prune_audit(store.now, **ACT)
    assert pruned.pruned >= 3 and pruned.pruned_through is not None
    report = store.verify_audit()
    assert report.pruned_through == pruned.pruned_through and report.head.seq == head.seq + 1
    with pytest.raises(btp.InvalidParameterError, match="future"):
        store.prune_audit(time.time() + 3600, **ACT)


def test_argument_errors(store, population, tmp_path, mk, purposes):
    x, _ = population
    with pytest.raises(btp.RetentionError):
        store.enroll("dave", x[0], "border", retention=timedelta(days=31), **ACT)
    with pytest.raises(btp.InvalidParameterError, match="naive"):
        store.enroll("dave", x[0], "border", expires_at=datetime.now(), **ACT)
    with pytest.raises(btp.InvalidParameterError, match="not both"):
        store.enroll("dave", x[0], "border", retention=60, expires_at=time.time() + 60, **ACT)
    with pytest.raises(btp.InvalidParameterError, match="actor"):
        store.enroll("dave", x[0], "border", actor=" ", reason="r")
    with pytest.raises(btp.DimensionError):
        store.enroll("dave", x[0][:10], "border", **ACT)
    with pytest.raises(btp.InvalidParameterError, match="record"):
        store.review(1, "confirmed", reviewer="r", **ACT)
    with pytest.raises(btp.InvalidParameterError, match="outcome"):
        store.review(1, "maybe", reviewer="r", **ACT)
    with pytest.raises(btp.NotFoundError, match="identification"):
        store.review(1, "rejected", reviewer="r", **ACT)
    with pytest.raises(btp.NotFoundError):
        store.release(999, **ACT)
    with pytest.raises(btp.InvalidParameterError, match="exactly one"):
        store.hold(**ACT)
    with pytest.raises(btp.InvalidParameterError, match="action"):
        store.audit_events(action="dance")
    with pytest.raises(TypeError, match="cannot be pickled"):
        pickle.dumps(store)
    other = btp.Protector(purposes[0].scheme, btp.MasterKey.generate(), "gate-A")
    with pytest.raises(btp.KeyMismatchError):
        store.enroll("dave", other.protect(x[0]), "border", **ACT)
    (tmp_path / "text.db").write_text("not a database, just text " * 100)
    with pytest.raises(btp.NotAStoreError):
        btp.Store.open(tmp_path / "text.db", mk, purposes)


def test_tampering_is_detected(tmp_path, mk, purposes, population):
    x, _ = population
    path = tmp_path / "t.db"
    with btp.Store.create(path, mk, purposes) as s:
        rid = s.enroll("erin", x[0], "border", **ACT)
        s.checkpoint()
    db = sqlite3.connect(path)
    db.execute("UPDATE records SET expires_at = expires_at + 1 WHERE id = ?", (rid,))
    db.execute("DROP TRIGGER audit_no_update")
    db.execute("UPDATE audit SET reason = 'edited' WHERE seq = 2")
    db.commit()
    db.close()
    with btp.Store.open(path, mk, purposes) as s:
        with pytest.raises(btp.IntegrityError, match=f"record {rid}"):
            s.verify("erin", x[1], "border", **ACT)
        with pytest.raises(btp.AuditBrokenError, match="sequence 2"):
            s.verify_audit()
