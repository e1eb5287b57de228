"""btp.sklearn.ProtectTransformer: scikit-learn's own estimator checks, a
grid search of IoM parameters in a Pipeline, and the key rules (a key is
shared by clones, never pickled)."""

from __future__ import annotations

import pickle

import numpy as np
import pytest

sklearn = pytest.importorskip("sklearn")

from sklearn.base import clone  # noqa: E402
from sklearn.model_selection import GridSearchCV  # noqa: E402
from sklearn.neighbors import KNeighborsClassifier  # noqa: E402
from sklearn.pipeline import Pipeline  # noqa: E402
from sklearn.utils.estimator_checks import parametrize_with_checks  # noqa: E402

import btp  # noqa: E402
from btp.sklearn import ProtectTransformer  # noqa: E402

# Every check applies; the tags (preserves_dtype = []) switch off the one
# that expects float outputs of float inputs: outputs are integer codes.
EXPECTED_FAILED: dict = {}


@parametrize_with_checks(
    [
        ProtectTransformer(),
        ProtectTransformer(scheme="biohash", l2=True),
        ProtectTransformer(scheme="iom-urp", window=2, order=3, output="elements"),
    ],
    expected_failed_checks=lambda est: EXPECTED_FAILED,
)
def test_sklearn_estimator_checks(estimator, check):
    check(estimator)


def test_transform_is_the_protector(population, mk):
    x, _ = population
    t = ProtectTransformer(mk, hashes=256, window=16, l2=True, application="tests").fit(x)
    scheme = btp.IoM(dim=128, hashes=256, window=16).with_centring(btp.fit_centre(x)).with_l2()
    prot = btp.Protector(scheme, mk, application="tests")
    np.testing.assert_array_equal(t.transform(x), prot.protect_batch(x))
    np.testing.assert_array_equal(t.centre_, btp.fit_centre(x))
    assert t.scheme_ == scheme and t.protector_.fingerprint == prot.fingerprint
    e = t.set_params(output="elements").fit(x).transform(x[:3])
    assert e.shape == (3, 256) and e.dtype == np.uint8
    assert list(t.get_feature_names_out())[:2] == ["protecttransformer0", "protecttransformer1"]


def test_grid_search_in_a_pipeline(population):
    x, labels = population
    pipe = Pipeline([
        ("protect", ProtectTransformer(output="elements", random_state=0)),
        ("knn", KNeighborsClassifier(n_neighbors=1, metric="hamming")),
    ])
    grid = GridSearchCV(pipe, {"protect__hashes": [32, 256], "protect__window": [4, 16]}, cv=2)
    grid.fit(x, labels)
    assert set(grid.best_params_) == {"protect__hashes", "protect__window"}
    assert grid.best_score_ > 0.8
    # More hashes identify better on these well separated people.
    scores = dict(zip(map(str, grid.cv_results_["params"]), grid.cv_results_["mean_test_score"]))
    assert scores[str({"protect__hashes": 256, "protect__window": 16})] >= scores[
        str({"protect__hashes": 32, "protect__window": 4})
    ]


def test_keys_are_shared_by_clones_and_never_pickled(population, mk):
    x, _ = population
    t = ProtectTransformer(mk)
    c = clone(t)
    assert c.key is mk and c.get_params()["window"] == 16
    assert "redacted" in repr(ProtectTransformer(mk)) or "MasterKey" in repr(ProtectTransformer(mk))
    with pytest.raises(TypeError):
        pickle.dumps(t.fit(x))
    # A fresh random key per fit: two fits, two keys; no pickle.
    fresh = ProtectTransformer()
    a = fresh.fit(x).transform(x[:2])
    b = fresh.fit(x).transform(x[:2])
    assert not np.array_equal(a, b)
    with pytest.raises(TypeError, match="random key"):
        pickle.dumps(fresh)
    # An integer random_state: a reproducible (not secret) key that pickles
    # by rebuilding the protector.
    seeded = ProtectTransformer(random_state=7).fit(x)
    again = pickle.loads(pickle.dumps(seeded))
    np.testing.assert_array_equal(again.transform(x[:5]), seeded.transform(x[:5]))
    assert not np.array_equal(ProtectTransformer(random_state=8).fit(x).transform(x[:5]), seeded.transform(x[:5]))


def test_bad_parameters_are_btp_errors(population):
    x, _ = population
    for params, name in [
        (dict(scheme="iom"), "scheme"),
        (dict(output="bits"), "output"),
        (dict(key="0" * 64), "key"),
        (dict(scheme="biohash", bits=129), "bits"),
        (dict(window=1), "window"),
    ]:
        with pytest.raises(btp.InvalidParameterError, match=name):
            ProtectTransformer(**params).fit(x)


def test_sklearn_stays_optional():
    import subprocess
    import sys

    out = subprocess.run(
        [sys.executable, "-c", "import sys; sys.modules['sklearn'] = None\nimport btp\n"
         "try:\n    import btp.sklearn\nexcept ImportError as e:\n    print('ImportError')"],
        capture_output=True, text=True, check=True,
    )
    assert out.stdout.strip() == "ImportError"
