"""Fixtures of the Python tests of btp (python/tests).

python/tests holds the tests of the package itself; checks against outside
references (scikit-learn, pyeer, scipy, numpy re-implementations, valgrind)
are in tests/python (see tests/python/README.md). Both run by
`scripts/test-all` against the wheel installed in `.venv`; they need numpy,
pytest, scikit-learn, pyeer, matplotlib and mypy
(`tests/python/requirements.txt`).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import btp

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def repo() -> Path:
    return REPO


@pytest.fixture(scope="session")
def mk() -> btp.MasterKey:
    return btp.MasterKey.from_bytes(bytes(range(32)))


@pytest.fixture(scope="session")
def population():
    """60 subjects x 4 samples, easy enough that genuine and impostor
    protected scores barely overlap."""
    return btp.synthetic.population(subjects=60, samples=4, within=0.5, seed=3)


@pytest.fixture(scope="session")
def scheme(population) -> btp.Scheme:
    x, _ = population
    return btp.IoM(dim=128, hashes=256, window=16).with_centring(btp.fit_centre(x)).with_l2()


@pytest.fixture(scope="session")
def prot(scheme, mk) -> btp.Protector:
    return btp.Protector(scheme, mk, application="tests")


@pytest.fixture(scope="session")
def codes(prot, population) -> np.ndarray:
    return prot.protect_batch(population[0])
