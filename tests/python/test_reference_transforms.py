"""An independent reference of btp's transforms: IoM-GRP and IoM-URP (Jin,
Hwang, Lai, Kim, Teoh, "Ranking-based locality sensitive hashing-enabled
cancelable biometrics: Index-of-Max hashing", IEEE TIFS 13(2), 2018) and
BioHashing (Teoh, Ngo, Goh, "BioHashing: two factor authentication
featuring fingerprint data and tokenised random numbers", Pattern
Recognition 37(11), 2004), written here in numpy from the papers, and
checked against btp code for code on the same parameters.

The parameters (the secret Gaussian matrix, permutations, orthonormal
basis) come from ``btp.hazmat.expose_transform``; the preprocessing
(centring, L2) from the scheme. Two levels:

1. The papers' mathematics in ``float64``: every code element agrees,
   except where the two best projections of an IoM window (or a BioHash
   projection and 0) are closer than ``float32`` rounding can separate;
   each such disagreement is checked to be one, and they are rare.
2. The same with btp's documented arithmetic (``docs/decisions.md``:
   ``float32`` dot products in eight lanes in a fixed order; ties to the
   lowest index; bit 1 iff the projection is ``> 0``): every element of
   every code agrees, for single and batch protection.

The transforms' parameters are checked against the papers' distributions
too: Gaussian entries, permutations, an orthonormal basis.
"""

from __future__ import annotations

import numpy as np
import pytest

import btp
import btp.hazmat

MK = btp.MasterKey.from_bytes(bytes(range(32)))
EPS32 = 2.0**-24

# --------------------------------------------------------------------------
# The reference, from the papers


def preprocess(x: np.ndarray, centre, l2: bool) -> np.ndarray:
    """``x - centre``, then ``/ |x|``: the scheme's preprocessing, in the
    documented arithmetic (float32 subtraction; the squared norm summed in
    float64 in coordinate order; the scale applied in float64)."""
    y = np.array(x, dtype=np.float32)
    if centre is not None:
        y = y - centre.astype(np.float32)
    if not l2:
        return y
    sq = np.zeros(len(y), dtype=np.float64)
    for k in range(y.shape[1]):
        v = y[:, k].astype(np.float64)
        sq += v * v
    return (y.astype(np.float64) * (1.0 / np.sqrt(sq))[:, None]).astype(np.float32)


def dot8(x: np.ndarray, w: np.ndarray) -> np.ndarray:
    """All ``<w_j, x_i>`` in btp's float32 arithmetic: lane ``k mod 8``
    accumulates ``x[k] * w[k]`` in coordinate order, then
    ``((l0 + l4) + (l1 + l5)) + ((l2 + l6) + (l3 + l7))``."""
    n, dim = x.shape
    lanes = np.zeros((n, len(w), 8), dtype=np.float32)
    full = dim - dim % 8
    for c in range(0, full, 8):
        lanes += x[:, None, c : c + 8] * w[None, :, c : c + 8]
    r = dim - full
    if r:
        lanes[:, :, :r] += x[:, None, full:] * w[None, :, full:]
    l = [lanes[:, :, k] for k in range(8)]
    return ((l[0] + l[4]) + (l[1] + l[5])) + ((l[2] + l[6]) + (l[3] + l[7]))


def rounding_bound(x: np.ndarray, w: np.ndarray) -> np.ndarray:
    """A bound on |float32 dot - exact dot|: gamma_(dim/8 + 4) sum |w x|."""
    terms = np.abs(x.astype(np.float64)) @ np.abs(w.astype(np.float64)).T
    k = x.shape[1] // 8 + 4
    return 2 * k * EPS32 * terms


def iom_grp(x: np.ndarray, matrix: np.ndarray, exact: bool) -> np.ndarray:
    """IoM-GRP (Jin et al. 2018, Alg. 1): for each hash, the index of the
    largest of ``window`` Gaussian random projections."""
    hashes, window, dim = matrix.shape
    w = matrix.reshape(hashes * window, dim)
    p = dot8(x, w) if exact else x.astype(np.float64) @ w.astype(np.float64).T
    return p.reshape(len(x), hashes, window).argmax(axis=2).astype(np.uint8)


def iom_urp(x: np.ndarray, permutations: np.ndarray, exact: bool) -> np.ndarray:
    """IoM-URP (Jin et al. 2018, Alg. 2): for each hash, ``order`` random
    permutations of the features multiplied element by element, and the
    index of the largest of the first ``window`` products."""
    dtype = np.float32 if exact else np.float64
    prod = np.ones((len(x),) + permutations[:, 0, :].shape, dtype=dtype)
    for p in range(permutations.shape[1]):
        prod = prod * x.astype(dtype)[:, permutations[:, p, :]]
    return prod.argmax(axis=2).astype(np.uint8)


def biohash(x: np.ndarray, basis: np.ndarray, exact: bool) -> np.ndarray:
    """BioHashing (Teoh et al. 2004): inner products with orthonormalised
    random vectors, thresholded at 0."""
    p = dot8(x, basis) if exact else x.astype(np.float64) @ basis.astype(np.float64).T
    return (p > 0).astype(np.uint8)


def reference(x: np.ndarray, t: btp.hazmat.Transform, exact: bool) -> np.ndarray:
    y = preprocess(x, t.centre, t.l2)
    if t.kind == "iom-grp":
        return iom_grp(y, t.matrix, exact)
    if t.kind == "iom-urp":
        return iom_urp(y, t.permutations, exact)
    return biohash(y, t.basis, exact)


# --------------------------------------------------------------------------

DIM = 128
TRAIN = btp.synthetic.population(subjects=40, samples=3, dim=DIM, seed=5)[0]
CENTRE = btp.fit_centre(TRAIN)
SCHEMES = {
    "grp": btp.IoM(DIM, 512, 16),
    "grp-centred-l2": btp.IoM(DIM, 256, 8, centre=CENTRE, l2=True),
    "grp-odd-dim": btp.IoM(37, 200, 5),
    "urp-2": btp.IoM(DIM, 512, 16, method="urp", order=2),
    "urp-3-centred": btp.IoM(DIM, 300, 32, method="urp", order=3, centre=CENTRE),
    "biohash": btp.BioHash(DIM, 128, centre=CENTRE),
    "biohash-64-l2": btp.BioHash(DIM, 64, centre=CENTRE, l2=True),
    "biohash-odd": btp.BioHash(37, 20),
}


def sample(dim: int, n: int, seed: int) -> np.ndarray:
    """Embedding-like rows: clustered around an offset, as real ones are."""
    if dim == DIM:
        return btp.synthetic.population(subjects=n // 4, samples=4, dim=dim, seed=seed)[0]
    rng = np.random.default_rng(seed)
    return (rng.standard_normal((n, dim)) + 0.5).astype(np.float32)


@pytest.fixture(scope="module", params=sorted(SCHEMES))
def case(request):
    scheme = SCHEMES[request.param]
    prot = btp.Protector(scheme, MK, application="reference")
    t = btp.hazmat.expose_transform(prot)
    x = sample(scheme.dim, 400, seed=len(request.param))
    return request.param, prot, t, x


def test_documented_arithmetic_agrees_code_for_code(case):
    name, prot, t, x = case
    want = reference(x, t, exact=True)
    batch = prot.unpack(prot.protect_batch(x))
    np.testing.assert_array_equal(batch, want, err_msg=name)
    for i in range(0, len(x), 7):  # single protection: btp's reference path
        np.testing.assert_array_equal(prot.protect(x[i]).elements(), want[i], err_msg=name)


def test_papers_mathematics_agrees_but_for_rounding_ties(case):
    name, prot, t, x = case
    got = prot.unpack(prot.protect_batch(x))
    want = reference(x, t, exact=False)
    differ = np.argwhere(got != want)
    # Every disagreement is a decision float32 cannot make: the float64
    # values of the two indices (or the projection and 0) are within the
    # rounding of a float32 dot product.
    y = preprocess(x, t.centre, t.l2)
    for i, h in differ:
        if t.kind == "iom-grp":
            w = t.matrix[h]
            p = y[i].astype(np.float64) @ w.astype(np.float64).T
            bound = rounding_bound(y[i : i + 1], w)[0]
            a, b = int(got[i, h]), int(want[i, h])
            assert abs(p[a] - p[b]) <= bound[a] + bound[b], (name, i, h)
        elif t.kind == "biohash":
            p = float(y[i].astype(np.float64) @ t.basis[h].astype(np.float64))
            assert abs(p) <= rounding_bound(y[i : i + 1], t.basis[h : h + 1])[0, 0], (name, i, h)
        else:
            prods = np.prod(y[i].astype(np.float64)[t.permutations[h]], axis=0)
            a, b = int(got[i, h]), int(want[i, h])
            assert abs(prods[a] - prods[b]) <= 8 * EPS32 * max(abs(prods[a]), abs(prods[b])), (name, i, h)
    assert len(differ) <= 1e-3 * got.size, (name, len(differ))


def test_ties_go_to_the_lowest_index():
    # All coordinates equal: every URP product ties, every hash is index 0.
    prot = btp.Protector(btp.IoM(16, 64, 8, method="urp", order=2), MK, application="reference")
    x = np.full((3, 16), 0.75, dtype=np.float32)
    assert not prot.unpack(prot.protect_batch(x)).any()
    t = btp.hazmat.expose_transform(prot)
    assert not reference(x, t, exact=True).any()


def test_parameters_follow_the_papers_distributions():
    grp = btp.hazmat.expose_transform(btp.Protector(btp.IoM(DIM, 512, 16), MK, application="dist"))
    m = grp.matrix.astype(np.float64).reshape(-1)
    assert grp.matrix.shape == (512, 16, DIM) and grp.matrix.dtype == np.float32
    # 10^6 standard normals: mean, variance and kurtosis within ~5 s.e.
    assert abs(m.mean()) < 5 / np.sqrt(m.size)
    assert abs(m.var() - 1) < 5 * np.sqrt(2 / m.size)
    assert abs((m**4).mean() / m.var() ** 2 - 3) < 5 * np.sqrt(24 / m.size)

    urp = btp.hazmat.expose_transform(
        btp.Protector(btp.IoM(DIM, 512, 16, method="urp", order=2), MK, application="dist")
    )
    p = urp.permutations
    assert p.shape == (512, 2, 16) and p.dtype == np.uint32 and int(p.max()) < DIM
    # Prefixes of permutations: no coordinate twice within one.
    assert all(len(set(r)) == 16 for r in p.reshape(-1, 16).tolist())
    # Uniform: each coordinate appears about 512 * 2 * 16 / 128 = 128 times.
    counts = np.bincount(p.reshape(-1), minlength=DIM)
    chi2 = ((counts - 128.0) ** 2 / 128.0).sum()
    assert chi2 < 127 + 5 * np.sqrt(2 * 127), chi2

    bio = btp.hazmat.expose_transform(btp.Protector(btp.BioHash(DIM, 128), MK, application="dist"))
    b = bio.basis.astype(np.float64)
    np.testing.assert_allclose(b @ b.T, np.eye(128), atol=1e-6)


def test_hazmat_material_is_marked_and_never_pickles():
    import pickle

    t = btp.hazmat.expose_transform(btp.Protector(btp.BioHash(8, 4), MK, application="h"))
    assert "secret" in repr(t) and "4x8" in repr(t)
    assert str(float(t.basis[0, 0]))[:6] not in repr(t)
    with pytest.raises(TypeError):
        pickle.dumps(t)
    # Another key, another transform; the same key, the same one.
    other = btp.hazmat.expose_transform(btp.Protector(btp.BioHash(8, 4), MK, application="h2"))
    again = btp.hazmat.expose_transform(btp.Protector(btp.BioHash(8, 4), MK, application="h"))
    assert not np.array_equal(t.basis, other.basis)
    np.testing.assert_array_equal(t.basis, again.basis)
