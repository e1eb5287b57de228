"""Seeded synthetic identities (the core's ``btp::synthetic``): clustered
feature vectors for tests, demos and notebooks when no real data may be used.

Sample ``j`` of subject ``s`` is ``mu + b_s + e_sj``: a population mean with
entries N(0, offset^2) (real embeddings are far from centred, which centring
undoes), a subject effect N(0, between^2) and sample noise N(0, within^2).
``within / between`` sets the difficulty. A seed gives the same data on every
platform.
"""

from __future__ import annotations

from typing import Tuple

import numpy as np
import numpy.typing as npt

from btp import _native

__all__ = ["population"]


def population(
    subjects: int = 100,
    samples: int = 5,
    dim: int = 128,
    *,
    offset: float = 2.0,
    between: float = 1.0,
    within: float = 1.2,
    seed: int = 1,
) -> Tuple[npt.NDArray[np.float32], npt.NDArray[np.uint32]]:
    """``(X, labels)``: ``subjects * samples`` rows of ``dim`` ``float32``
    features, subject ``s``'s rows consecutive and labelled ``s``.

    The defaults give an unprotected (cosine, centred) EER of about 1%,
    close to dlib embeddings of the ORL faces.
    """
    return _native.synthetic_population(
        int(subjects), int(samples), int(dim), float(offset), float(between), float(within), int(seed)
    )
