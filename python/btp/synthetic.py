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

    ``subjects`` (at most ``2**32``), ``samples`` and ``dim`` are integers
    of at least 1, ``seed`` an integer in ``0..2**64``; the standard
    deviations are finite and ``>= 0``. Anything else (a float count, a
    negative seed) is an :class:`btp.InvalidParameterError` naming the
    argument, and a population too large for memory an
    :class:`btp.OutOfMemoryError` (a ``MemoryError``) raised before anything
    is generated.
    """
    return _native.synthetic.population(subjects, samples, dim, offset, between, within, seed)
