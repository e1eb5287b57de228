"""Schemes, protectors and templates: shapes, dtypes, copies, round trips."""

from __future__ import annotations

import copy
import pickle

import numpy as np
import pytest

import btp


def test_scheme_constructors_and_properties(population):
    x, _ = population
    g = btp.IoM(dim=128, hashes=512, window=16)
    assert (g.kind, g.dim, g.hashes, g.window, g.order, g.bits) == ("iom-grp", 128, 512, 16, None, None)
    assert (g.code_len, g.alphabet, g.words, g.l2, g.centre) == (512, 16, 32, False, None)
    u = btp.IoM(dim=128, hashes=512, window=16, method="urp", order=2)
    assert (u.kind, u.order) == ("iom-urp", 2)
    assert btp.IoM(128, method="urp").order == 2
    b = btp.BioHash(dim=128, bits=64)
    assert (b.kind, b.bits, b.alphabet, b.words, b.hashes) == ("biohash", 64, 2, 1, None)
    assert btp.BioHash(128).bits == 128
    c = btp.fit_centre(x)
    assert c.dtype == np.float32 and c.shape == (128,)
    np.testing.assert_allclose(c, x.astype(np.float64).mean(axis=0), rtol=1e-5, atol=1e-6)
    s = g.with_centring(c).with_l2()
    assert s == btp.IoM(128, 512, 16, centre=c, l2=True)
    assert s != g and s.id != g.id and hash(s) != hash(g)
    assert np.array_equal(s.centre, c) and s.l2
    assert not s.with_l2(False).l2
    assert "centred" in repr(s) and "l2" in repr(s)
    assert str(c[0])[:6] not in repr(s)  # the centre's values are not printed
    assert btp.Scheme.from_bytes(bytes(s)) == s
    assert pickle.loads(pickle.dumps(s)) == s


def test_protect_shapes_and_dtypes(prot, population, codes):
    x, _ = population
    assert codes.shape == (len(x), prot.words) and codes.dtype == np.uint64
    assert prot.words == 16 and prot.code_len == 256 and prot.dim == 128
    t = prot.protect(x[0])
    assert isinstance(t, btp.Template)
    assert np.array_equal(t.words, codes[0])
    assert prot.template(codes[0]) == t
    assert prot.templates(codes[:3]) == prot.protect_templates(x[:3])
    assert np.array_equal(prot.codes(prot.templates(codes[:3])), codes[:3])
    elements = prot.unpack(codes)
    assert elements.shape == (len(x), 256) and elements.dtype == np.uint8
    assert elements.max() < 16
    assert np.array_equal(elements[0], t.elements())
    assert (t.scheme, t.code_len, t.alphabet, t.fingerprint) == ("iom-grp", 256, 16, prot.fingerprint)
    assert t.params_id == prot.scheme.id
    # Lists and integer arrays are converted.
    assert prot.protect(x[0].tolist()) == t
    assert np.array_equal(prot.protect_batch(np.round(x[:2] * 100).astype(np.int32)).shape, (2, 16))
    assert prot.protect_batch(np.zeros((0, 128), np.float32)).shape == (0, 16)


def test_reads_in_place_only_what_it_can(population):
    x, _ = population
    assert btp._native._reads_in_place(x)
    assert btp._native._reads_in_place(x[0])
    assert not btp._native._reads_in_place(x.astype(np.float64))
    assert not btp._native._reads_in_place(x[:, ::2])
    assert not btp._native._reads_in_place(np.asfortranarray(x))
    assert not btp._native._reads_in_place(x.tolist())
    ro = x.copy()
    ro.flags.writeable = False
    assert btp._native._reads_in_place(ro)


def test_scores_match_compare(prot, codes):
    ts = prot.templates(codes[:5])
    m = prot.scores(codes[:5], codes[:7])
    assert m.shape == (5, 7) and m.dtype == np.float32
    for i in range(5):
        for j in range(5):
            assert m[i, j] == np.float32(prot.compare(ts[i], ts[j]))
    assert np.array_equal(prot.paired_scores(codes[:5], codes[1:6]), np.array([m[i, i + 1] for i in range(5)]))
    d = prot.verify(ts[0], ts[1], 0.2)
    assert isinstance(d, btp.Decision) and d == (m[0, 1], 0.2, m[0, 1] >= 0.2)
    score, threshold, matched = d
    assert matched == (score >= threshold)


def test_genuine_scores_beat_impostor_scores(prot, population, codes):
    _, labels = population
    genuine, impostor = btp.eval.split_scores(prot.scores(codes, codes), labels)
    assert len(genuine) == 60 * 6 and len(impostor) == 240 * 239 // 2 - 360
    assert genuine.mean() > impostor.mean() + 0.2
    assert btp.eval.eer(genuine, impostor).eer < 0.02


def test_renewal_and_subjects(scheme, mk, population):
    x, _ = population
    v1 = btp.Protector(scheme, mk, "app", version=1)
    v2 = btp.Protector(scheme, mk, "app", version=2)
    alice = btp.Protector(scheme, mk, "app", subject="alice")
    assert len({v1.fingerprint, v2.fingerprint, alice.fingerprint}) == 3
    assert alice.subject == b"alice" and v1.subject is None
    assert btp.Protector(scheme, mk, "app", subject=b"alice").fingerprint == alice.fingerprint
    a, b = v1.protect(x[0]), v2.protect(x[0])
    assert bytes(a) != bytes(b)
    with pytest.raises(btp.KeyMismatchError):
        v1.compare(a, b)


def test_templates_round_trip(prot, population):
    t = prot.protect(population[0][0])
    assert btp.Template.from_bytes(bytes(t)) == t
    assert pickle.loads(pickle.dumps(t)) == t
    assert copy.copy(t) == t
    assert len({t, btp.Template.from_bytes(bytes(t))}) == 1
    assert "Template(iom-grp, 256 elements" in repr(t)


def test_protector_pickles_to_a_description(prot, mk, population):
    x, _ = population
    d = pickle.loads(pickle.dumps(prot))
    assert isinstance(d, btp.ProtectorDescription)
    assert d == prot.describe()
    assert (d.application, d.version, d.subject, d.fingerprint) == ("tests", 1, None, prot.fingerprint)
    assert mk.expose_secret() not in pickle.dumps(prot)
    again = d.open(mk)
    assert again.fingerprint == prot.fingerprint
    assert again.protect(x[0]) == prot.protect(x[0])
    assert btp.Protector.reopen(d, mk).scheme == prot.scheme
    with pytest.raises(btp.KeyMismatchError):
        d.open(btp.MasterKey.generate())
