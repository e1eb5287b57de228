"""Bad input from Python never aborts, never half-commits and never escapes
`btp.BtpError` (issue 13): the store's create/open split, all-or-nothing
batch enrolment, sizes and integers from callers, codes that carry their
origin, and galleries keyed by strings."""

from __future__ import annotations

import pickle
from datetime import timedelta

import numpy as np
import pytest

import btp

ACT = {"actor": "officer-7", "reason": "test case 1"}


@pytest.fixture
def purposes(scheme):
    return [btp.Purpose("border", scheme, "gate-A", 0.25, timedelta(days=30))]


def counts(store):
    return len(store.audit_events()), sum(store.record_counts().values())


# --------------------------------------------------------------------------
# The store


def test_open_never_creates_and_create_never_opens(tmp_path, mk, purposes, population):
    x, _ = population
    path = tmp_path / "s.db"
    with pytest.raises(btp.NotFoundError):
        btp.Store.open(path, mk, purposes)
    assert not path.exists()
    with btp.Store.create(path, mk, purposes) as s:
        s.enroll_batch([f"p{i}" for i in range(30)], x[:120:4], "border", **ACT)
    with pytest.raises(btp.StoreIOError, match="already exists"):
        btp.Store.create(path, mk, purposes)
    with btp.Store.open(path, mk) as s:
        assert sum(s.record_counts().values()) == 30
    # A store file emptied (or truncated to nothing) is not a new store.
    path.write_bytes(b"")
    for open_ in (lambda: btp.Store.open(path, mk, purposes), lambda: btp.Store.open(path, mk)):
        with pytest.raises(btp.NotAStoreError):
            open_()
    assert path.stat().st_size == 0
    with pytest.raises(btp.StoreIOError):
        btp.Store.create(path, mk, purposes)


def test_a_closed_store_raises_a_btp_error(tmp_path, mk, purposes, population):
    s = btp.Store.create(tmp_path / "s.db", mk, purposes)
    s.close()
    for call in (lambda: s.stats(), lambda: s.verify_audit(), lambda: s.now):
        with pytest.raises(btp.StoreClosedError) as e:
            call()
        assert isinstance(e.value, btp.BtpError) and isinstance(e.value, ValueError)


def test_options_and_integers_are_checked_not_overflowed(tmp_path, mk, purposes, population):
    x, _ = population
    path = tmp_path / "s.db"
    for kw, name in [
        ({"busy_timeout": 1e300}, "busy_timeout"),
        ({"busy_timeout": -1.0}, "busy_timeout"),
        ({"batch_size": 0}, "batch_size"),
        ({"batch_size": -1}, "batch_size"),
        ({"max_encryptions_per_key": 2**64}, "max_encryptions_per_key"),
    ]:
        with pytest.raises(btp.InvalidParameterError, match=name):
            btp.Store.create(path, mk, purposes, **kw)
        assert not path.exists()
    with btp.Store.create(path, mk, purposes) as s:
        s.enroll("alice", x[0], "border", **ACT)
        before = counts(s)
        for call, name in [
            (lambda: s.identify(x[1], "border", k=-1, **ACT), "k"),
            (lambda: s.identify(x[1], "border", k=0, **ACT), "k"),
            (lambda: s.identify(x[1], "border", k=2**64, **ACT), "k"),
            (lambda: s.audit_events(limit=-1), "limit"),
            (lambda: s.audit_events(after_seq=-1), "after_seq"),
            (lambda: s.review(-1, "rejected", reviewer="r", **ACT), "identification"),
            (lambda: s.hold(record=-5, **ACT), "record"),
            (lambda: s.release(2**70, **ACT), "hold"),
            (lambda: s.retained_probe(-1), "record"),
        ]:
            with pytest.raises(btp.InvalidParameterError, match=name):
                call()
        with pytest.raises(TypeError):
            s.review(object(), "rejected", reviewer="r", **ACT)
        assert counts(s) == before


def test_nothing_is_written_before_every_value_is_checked(tmp_path, mk, purposes, population):
    x, _ = population
    with btp.Store.create(tmp_path / "s.db", mk, purposes) as s:
        s.enroll("alice", x[0], "border", retention=timedelta(days=1), **ACT)
        before = counts(s)
        # A sweep "now" past year 9999 used to delete, audit, then fail.
        with pytest.raises(btp.InvalidParameterError, match="now"):
            s.sweep(now=10**12)
        assert counts(s) == before
        with pytest.raises(btp.ExpiryInPastError, match=r"expiry 20\d\d-"):
            s.enroll("bob", x[4], "border", expires_at=1_000_000_000, **ACT)
        assert counts(s) == before


def test_purpose_limits_are_checked_when_made(scheme):
    with pytest.raises(btp.InvalidParameterError, match="max_retention"):
        btp.Purpose("p", scheme, "a", 0.3, timedelta.max)
    for v in (-1, 2**32):
        with pytest.raises(btp.InvalidParameterError, match="transform_version"):
            btp.Purpose("p", scheme, "a", 0.3, timedelta(days=1), transform_version=v)


def test_a_batch_enrolment_is_all_or_nothing(tmp_path, mk, purposes, population):
    x, _ = population
    rows = x[:200:4]  # 50 people, one sample each
    ids = [f"person-{i:03}" for i in range(50)]
    with btp.Store.create(tmp_path / "s.db", mk, purposes) as s:
        before = counts(s)
        bad = ids[:49] + ["x" * 70_000]
        with pytest.raises(btp.InvalidParameterError, match="row 49"):
            s.enroll_batch(bad, rows, "border", **ACT)
        twice = ids[:30] + [ids[3]] + ids[31:]
        with pytest.raises(btp.InvalidParameterError, match="row 30.*row 3"):
            s.enroll_batch(twice, rows, "border", **ACT)
        nan = rows.copy()
        nan[47, 5] = np.nan
        with pytest.raises(btp.NonFiniteError, match="row 47"):
            s.enroll_batch(ids, nan, "border", **ACT)
        with pytest.raises(btp.InvalidParameterError):
            s.enroll_batch(ids[:10], rows, "border", **ACT)
        with pytest.raises(TypeError):
            s.enroll_batch("person-000", rows[:1], "border", **ACT)
        assert counts(s) == before
        records = s.enroll_batch(ids, rows, "border", **ACT)
        assert records.dtype == np.int64 and len(records) == 50
        assert counts(s) == (before[0] + 50, 50)
        v = s.verify("person-007", x[29], "border", **ACT)
        assert v.record == records[7] and v.decision.matched


# --------------------------------------------------------------------------
# Galleries and protectors


def test_plain_integer_arrays_are_features_never_codes(prot, population):
    x, _ = population
    g = btp.Gallery(prot)
    raw = np.zeros((3, prot.words), dtype=np.uint64)
    # Shaped like codes, but not codes: taken as features of the wrong width.
    with pytest.raises(btp.DimensionError):
        g.add([1, 2, 3], raw.astype(np.int64))
    # uint64, the codes' type, is neither: codes that lost their origin
    # through numpy (concatenate) would otherwise be protected again.
    both = np.concatenate([prot.protect_batch(x[:2]), prot.protect_batch(x[2:3])])
    assert type(both) is np.ndarray
    for bad in (raw, both):
        with pytest.raises(btp.InvalidParameterError, match="as_codes"):
            g.add([1, 2, 3], bad)
        with pytest.raises(btp.InvalidParameterError, match="as_codes"):
            prot.protect_batch(bad)
    g.add([1, 2, 3], prot.as_codes(both))
    assert g.search(prot.as_codes(both[2]), k=1)[0].id == 3
    g.remove([1, 2, 3])
    # uint8 features are protected like any other dtype.
    u8 = np.clip(x[:3] * 20 + 128, 0, 255).astype(np.uint8)
    g.add([1, 2, 3], u8)
    assert np.array_equal(g.codes(), prot.protect_batch(u8.astype(np.float32)))
    assert g.search(u8[1], k=1)[0].id == 2


def test_codes_carry_their_origin(prot, scheme, mk, population):
    x, _ = population
    codes = prot.protect_batch(x[:5])
    assert isinstance(codes, btp.Codes) and codes.fingerprint == prot.fingerprint
    assert codes[1:3].fingerprint == prot.fingerprint
    assert pickle.loads(pickle.dumps(codes)).fingerprint == prot.fingerprint
    other_key = btp.Protector(scheme, mk, "tests", version=2)
    g = btp.Gallery(prot)
    with pytest.raises(btp.KeyMismatchError):
        g.add(range(5), other_key.protect_batch(x[:5]))
    other_scheme = btp.Protector(btp.IoM(dim=128, hashes=256, window=8), mk, "tests")
    with pytest.raises(btp.SchemeMismatchError):
        g.add(range(5), other_scheme.protect_batch(x[:5]))
    assert len(g) == 0
    # Codes read back from a file are declared with as_codes.
    plain = np.asarray(codes)
    g.add(range(5), prot.as_codes(plain))
    assert g.search(prot.as_codes(plain[2]), k=1)[0].id == 2
    with pytest.raises(btp.KeyMismatchError):
        prot.scores(codes, other_key.protect_batch(x[:5]))


def test_sizes_from_callers_are_checked(prot, population):
    x, _ = population
    codes = prot.protect_batch(x[:40])
    g = btp.Gallery(prot)
    g.add(np.arange(40), codes)
    ids, scores = g.search_batch(codes[:3], k=10**12)
    assert ids.shape == scores.shape == (3, 40)
    ids, _ = g.search_batch(codes[:3], k=2**63)
    assert ids.shape == (3, 40)
    assert len(g.search(codes[0], k=2**63)) == 40
    for k in (-1, 0, 2**64):
        with pytest.raises(btp.InvalidParameterError, match="k"):
            g.search(codes[0], k=k)
    with pytest.raises(btp.InvalidParameterError, match="threads"):
        g.threads = -1
    # A score matrix far larger than memory: a MemoryError, not an abort.
    b = np.broadcast_to(np.asarray(codes[:1]), (200_000, prot.words))
    big = prot.as_codes(np.ascontiguousarray(b))
    with pytest.raises(MemoryError):
        prot.scores(big, big)
    with pytest.raises(btp.OutOfMemoryError):
        prot.scores(big, big)


def test_scheme_and_protector_integers(scheme, mk):
    for kw in ({"dim": -5}, {"dim": 128, "hashes": -1}, {"dim": 128, "window": 2**40}):
        with pytest.raises(btp.InvalidParameterError):
            btp.IoM(**kw)
    with pytest.raises(btp.InvalidParameterError, match="bits"):
        btp.BioHash(dim=128, bits=-1)
    with pytest.raises(btp.InvalidParameterError, match="version"):
        btp.Protector(scheme, mk, "a", version=2**32)


def test_galleries_keyed_by_strings_give_back_what_was_put_in(prot, population):
    x, _ = population
    g = btp.Gallery(prot)
    names = [f"P-{i:07}" for i in range(12)]
    g.add(names, x[:48:4])
    assert "P-0000003" in g and "P-9" not in g and 3 not in g
    assert g.search(x[13], k=1)[0].id == "P-0000003"
    ids, scores = g.search_batch(x[[1, 13]], k=2)
    assert ids.dtype == object and ids[1, 0] == "P-0000003"
    ids, _ = g.search_batch(x[[1]], k=2, threshold=0.999)
    assert ids[0, -1] is None
    assert list(g.ids) == names
    with pytest.raises(btp.DuplicateIdError, match=r"ids\[1\]"):
        g.add(["new", "P-0000005"], x[:2])
    with pytest.raises(btp.InvalidParameterError, match="strings"):
        g.add([99], x[:1])
    assert len(g) == 12
    assert g.remove("P-0000003") == 1 and "P-0000003" not in g
    with pytest.raises(btp.NotFoundError) as e:
        g.remove("P-0000003")
    assert "P-0000003" not in str(e.value)
    again = pickle.loads(pickle.dumps(g.describe())).open(btp.MasterKey.from_bytes(bytes(range(32))))
    assert list(again.ids) == list(g.ids)
    ints = btp.Gallery(prot)
    ints.add([5], x[:1])
    with pytest.raises(btp.InvalidParameterError, match="integers"):
        ints.add(["a"], x[1:2])
