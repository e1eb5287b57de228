"""Every error path raises the right exception class with a clear message,
and no message carries a feature value or a key."""

from __future__ import annotations

import pickle
import re

import numpy as np
import pytest

import btp

# One class per btp::ErrorKind (core/src/error.rs), and its builtin extra.
KIND_CLASSES = {
    "InvalidKeyLengthError": ValueError,
    "RngError": None,
    "DimensionError": ValueError,
    "NonFiniteError": ValueError,
    "ZeroNormError": ValueError,
    "InvalidParameterError": ValueError,
    "KeyMismatchError": None,
    "SchemeMismatchError": None,
    "DecodeError": ValueError,
    "DuplicateIdError": ValueError,
    "NotFoundError": LookupError,
    "IntegrityError": None,
    "UnknownPurposeError": LookupError,
    "RetentionError": ValueError,
    "ExpiredError": None,
    "HeldError": None,
    "WrongKeyError": None,
    "NotAStoreError": None,
    "UnsupportedSchemaError": None,
    "KeyExhaustedError": None,
    "AuditBrokenError": None,
    "CorruptError": None,
    "BusyError": None,
    "StoreIOError": OSError,
    "DatabaseError": None,
    "InvalidScoresError": ValueError,
    "ExpiryInPastError": ValueError,
    "OutOfMemoryError": MemoryError,
}


def kinds_in_core(repo) -> list:
    """The variants of `pub enum ErrorKind` in the core's source."""
    src = (repo / "core" / "src" / "error.rs").read_text()
    body = src.split("pub enum ErrorKind {", 1)[1].split("\n}", 1)[0]
    return re.findall(r"^\s{4}([A-Z][A-Za-z]+),", body, re.M)


def test_one_class_per_core_error_kind(repo):
    assert len(kinds_in_core(repo)) == len(KIND_CLASSES) == 28
    for name, extra in KIND_CLASSES.items():
        cls = getattr(btp, name)
        assert issubclass(cls, btp.BtpError), name
        assert cls.__module__ == "btp"
        assert cls.__doc__
        if extra is not None:
            assert issubclass(cls, extra), name
        assert getattr(btp._native, name) is cls
        assert name in btp.__all__
    assert issubclass(btp.BtpError, Exception)
    assert not issubclass(btp.KeyMismatchError, ValueError)


def test_exceptions_pickle_and_keep_their_message():
    e = btp.DimensionError("wrong dimension: expected 128, got 5")
    back = pickle.loads(pickle.dumps(e))
    assert type(back) is btp.DimensionError and str(back) == str(e)


def raises(cls, fn, *args, match=None, **kwargs):
    with pytest.raises(cls, match=match) as info:
        fn(*args, **kwargs)
    assert type(info.value) is cls, type(info.value)
    return str(info.value)


SECRET = np.float32(123.456789)


def test_feature_errors(prot):
    x = np.full(128, SECRET, dtype=np.float32)
    assert "expected 128, got 5" in raises(btp.DimensionError, prot.protect, x[:5])
    raises(btp.DimensionError, prot.protect, np.zeros((2, 128), np.float32), match="shape")
    raises(btp.DimensionError, prot.protect_batch, x, match="shape")
    raises(btp.DimensionError, prot.protect_batch, np.zeros((3, 127), np.float32))
    bad = np.tile(x, (4, 1))
    bad[2, 7] = np.nan
    msg = raises(btp.NonFiniteError, prot.protect_batch, bad)
    assert "row 2" in msg and "index 7" in msg and "NaN" in msg
    inf = x.copy()
    inf[3] = np.inf
    assert "infinity" in raises(btp.NonFiniteError, prot.protect, inf)
    # After centring on the vector itself it has zero length.
    centred = btp.IoM(dim=4, hashes=8, window=4, centre=np.ones(4))
    p = btp.Protector(centred, btp.MasterKey.generate(), "z")
    raises(btp.ZeroNormError, p.protect, np.ones(4))
    raises(btp.InvalidParameterError, prot.protect, np.array(["a"] * 128))
    for e in (msg,):
        assert "123.45" not in e


def test_no_message_holds_a_feature_value_or_key(prot, mk):
    x = np.full(128, SECRET, dtype=np.float32)
    x[5] = np.nan
    messages = []
    for fn in (lambda: prot.protect(x), lambda: prot.protect_batch(np.stack([x, x]))):
        with pytest.raises(btp.BtpError) as info:
            fn()
        messages.append(str(info.value) + repr(info.value))
    key_hex = mk.expose_secret().hex()
    for m in messages + [repr(mk), repr(prot), repr(prot.protect(np.ones(128)))]:
        assert "123.4" not in m and key_hex not in m


def test_parameter_errors(population):
    raises(btp.InvalidParameterError, btp.IoM, 128, 512, 1, match="window")
    raises(btp.InvalidParameterError, btp.IoM, 128, method="xyz", match="method")
    raises(btp.InvalidParameterError, btp.IoM, 128, order=3, match="order")
    raises(btp.InvalidParameterError, btp.IoM, 8, 16, 16, "urp", match="window")
    raises(btp.InvalidParameterError, btp.BioHash, 128, 129, match="bits")
    raises(btp.InvalidParameterError, btp.IoM(16, 8, 4).with_centring, np.zeros(15), match="centre")
    raises(btp.InvalidParameterError, btp.Protector, btp.BioHash(16), btp.MasterKey.generate(), "")
    raises(btp.InvalidKeyLengthError, btp.MasterKey.from_bytes, b"short", match="32")
    with pytest.raises(TypeError):
        btp.MasterKey.from_bytes("a string")  # type: ignore[arg-type]


def test_decode_errors(prot):
    t = prot.protect(np.ones(128))
    b = bytearray(bytes(t))
    raises(btp.DecodeError, btp.Template.from_bytes, b"", match="truncated")
    raises(btp.DecodeError, btp.Template.from_bytes, b"XXXX" + bytes(b[4:]), match="magic")
    b[40] ^= 1
    raises(btp.DecodeError, btp.Template.from_bytes, bytes(b), match="checksum")
    raises(btp.DecodeError, btp.Scheme.from_bytes, b"BTPP\x01", match="truncated")
    # Window 10: 4-bit elements 10..15 are outside the alphabet; 8 elements
    # leave padding bits in the one word.
    p10 = btp.Protector(btp.IoM(16, 8, 10), btp.MasterKey.generate(), "w")
    code = p10.protect_batch(np.ones((1, 16)))[0].copy()
    code[0] = np.uint64(2**64 - 1)
    raises(btp.DecodeError, p10.template, code, match="code")
    bad = np.tile(p10.protect_batch(np.ones((1, 16))), (3, 1))
    bad[1, 0] |= np.uint64(0xF)
    assert "row 1" in raises(btp.DecodeError, p10.scores, bad, bad)
    raises(btp.DimensionError, prot.template, prot.protect_batch(np.ones((1, 128)))[0][:-1], match="words")


def test_mismatches(prot, scheme, mk):
    x = np.ones(128)
    other_key = btp.Protector(scheme, btp.MasterKey.generate(), "tests")
    renewed = btp.Protector(scheme, mk, "tests", version=2)
    other_scheme = btp.Protector(btp.IoM(128, 256, 16), mk, "tests")
    t = prot.protect(x)
    for p in (other_key, renewed):
        assert "different keys" in raises(btp.KeyMismatchError, prot.compare, t, p.protect(x))
        raises(btp.KeyMismatchError, prot.verify, t, p.protect(x), 0.5)
        raises(btp.KeyMismatchError, t.similarity, p.protect(x))
    raises(btp.SchemeMismatchError, prot.compare, t, other_scheme.protect(x))
    g = btp.Gallery(prot)
    raises(btp.KeyMismatchError, g.add, 1, other_key.protect(x))
    raises(btp.KeyMismatchError, g.search, other_key.protect(x))
    raises(btp.KeyMismatchError, btp.Protector.reopen, prot.describe(), btp.MasterKey.generate())


def test_gallery_errors(prot, codes):
    g = btp.Gallery(prot)
    g.add([1, 2, 3], codes[:3])
    assert "id 2" in raises(btp.DuplicateIdError, g.add, [4, 2], codes[:2])
    assert len(g) == 3  # all or nothing
    msg = raises(btp.NotFoundError, g.remove, 9)
    assert "9" in msg
    with pytest.raises(LookupError):
        g.remove(9)
    raises(btp.InvalidParameterError, g.search, codes[0], k=0, match="k")
    raises(btp.InvalidParameterError, g.search, codes[0], threshold=1.5, match="threshold")
    raises(btp.InvalidParameterError, g.add, [-1], codes[:1], match="ids")
    raises(btp.InvalidParameterError, g.add, [7, 8], codes[:3], match="ids")
    raises(btp.InvalidParameterError, prot.verify, prot.template(codes[0]), prot.template(codes[1]), -0.1)
    raises(btp.InvalidParameterError, prot.paired_scores, codes[:2], codes[:3])


def test_score_errors():
    raises(btp.InvalidScoresError, btp.eval.eer, [], [0.1], match="genuine")
    msg = raises(btp.InvalidScoresError, btp.eval.det, [0.5, float("nan")], [0.1])
    assert "index 1" in msg
    raises(btp.InvalidScoresError, btp.eval.unlinkability, [0.5], [0.5])
    raises(btp.InvalidParameterError, btp.eval.threshold_at_fmr, [0.1], 2.0, match="target_fmr")
    raises(btp.InvalidParameterError, btp.eval.cmc, np.zeros((2, 3)), [0, 5])
    raises(btp.InvalidParameterError, btp.eval.cmc, np.zeros((2, 3)), [0])
    raises(btp.InvalidParameterError, btp.eval.mates, [1], [1, 1])
    raises(btp.InvalidScoresError, btp.eval.fnir_at_fpir, np.zeros((1, 3)), [0], 0.1)
    raises(btp.DimensionError, btp.eval.split_scores, np.zeros((2, 3)), [0, 1], match="shape")


def test_keys_never_print_or_pickle(mk):
    assert repr(mk) == "MasterKey(<redacted>)"
    assert mk.expose_secret().hex() not in str(mk)
    for f in (pickle.dumps, __import__("copy").copy, __import__("copy").deepcopy):
        with pytest.raises(TypeError, match="cannot be pickled"):
            f(mk)
